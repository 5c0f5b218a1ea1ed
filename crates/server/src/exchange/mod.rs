//! Exchange formats, so that institutions report once: the region's hospital status as an
//! OASIS EDXL-HAVE 2.0 document (out and in) and as HL7 FHIR R4 MeasureReports after the
//! SANER implementation guide (out). The mappings are documented in `docs/exchange.md`.

pub mod have;
pub mod saner;

use ghor_domain::view::{LocationView, ValueView};
use ghor_domain::vocab::{BedType, Dimension, TreatmentPlace};
use ghor_domain::Slug;

use crate::report::beeld::Shown;

/// A capacity ghor counts that another standard names: a bed type or a treatment place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Beds(BedType),
    Places(TreatmentPlace),
}

/// ghor's capacities with an EDXL-HAVE (1.0 `BedType`) bed type of the same meaning, in
/// both directions. The others (MC, CCU, cohort, VVT, ELV, hospice, kraam, dialysis) have
/// none and are not exchanged; nor are HAVE's `NurseryBeds`, `PediatricPsychiatric` and
/// `NegativeFlowIsolation` taken in (ghor's isolation beds do not say their airflow).
pub const HAVE_BED_TYPES: &[(Counted, &str)] = &[
    (Counted::Beds(BedType::Ic), "AdultICU"),
    (Counted::Beds(BedType::KinderIc), "PediatricICU"),
    (Counted::Beds(BedType::Nicu), "NeonatalICU"),
    (Counted::Beds(BedType::Klinisch), "MedicalSurgical"),
    (Counted::Beds(BedType::Kinderafdeling), "Pediatrics"),
    (Counted::Beds(BedType::Brandwonden), "Burn"),
    (Counted::Beds(BedType::GgzCrisis), "AdultPsychiatric"),
    (Counted::Beds(BedType::Isolatie), "OtherIsolation"),
    (Counted::Beds(BedType::Grz), "RehabLongTermCare"),
    (Counted::Places(TreatmentPlace::SehBehandelplek), "EmergencyDepartment"),
    (Counted::Places(TreatmentPlace::Ok), "OperatingRooms"),
];

/// The values of `dimension` of location `id` that the reader sees, not withdrawn, by key.
pub fn seen<'v>(
    id: &Slug,
    location: &'v LocationView,
    shown: &Shown,
    dimension: Dimension,
) -> impl Iterator<Item = (&'v String, &'v ValueView)> {
    let values = location.dimensions.get(&dimension).filter(|_| shown.sees(id, dimension));
    values.into_iter().flat_map(|d| d.values.iter()).filter(|(_, v)| !v.retracted)
}
