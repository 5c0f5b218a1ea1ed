//! The state rules of §3.4: what each reported value means, as a label and colour.
//! Absolute numbers, days of supply, backup hours and the location's own judgement;
//! a scheduled stop is not an alert. Thresholds come from the picture (events).

use std::collections::BTreeMap;

use crate::payload::Status;
use crate::picture::Picture;
use crate::values::RegionCode;
use crate::vocab::*;

/// The thresholds in force in one region.
#[derive(Debug, Clone)]
pub struct Rules(BTreeMap<ThresholdKey, u32>);

impl Rules {
    pub fn for_region(picture: &Picture, region: RegionCode) -> Rules {
        Rules(ThresholdKey::ALL.iter().map(|k| (*k, picture.threshold(region, *k))).collect())
    }

    pub fn get(&self, key: ThresholdKey) -> u32 {
        self.0.get(&key).copied().unwrap_or_else(|| key.default_value())
    }

    /// The state one observation resolves to; `None` for what is information only (notes).
    pub fn state(&self, status: &Status) -> Option<State> {
        use State::*;
        let t = |k| self.get(k);
        let below = |value: u32, critical: ThresholdKey, attention: ThresholdKey| {
            if value < t(critical) {
                Kritiek
            } else if value < t(attention) {
                Aandacht
            } else {
                Goed
            }
        };
        let state = match status {
            Status::Judgement { data } => match data.care_next_24h {
                Judgement::Ja => Goed,
                Judgement::MetMoeite => Aandacht,
                Judgement::Nee => Kritiek,
            },
            Status::Beds { data, .. } => {
                let free = data.operational.get().saturating_sub(data.occupied.get());
                if data.operational.get() == 0 {
                    Goed // no such beds in operation: nothing to run out of
                } else if free <= t(ThresholdKey::BedsFreeCritical) {
                    Kritiek
                } else if free <= t(ThresholdKey::BedsFreeAttention) {
                    Aandacht
                } else {
                    Goed
                }
            }
            Status::TreatmentPlaces { data, .. } => {
                if data.operational.get() > 0 && data.in_use >= data.operational {
                    Aandacht
                } else {
                    Goed
                }
            }
            Status::CasualtyReception { .. } | Status::ReceivingCapacity { .. } => Goed,
            Status::AcuteFunction { data, .. } => match data.status {
                FunctionStatus::Open => Goed,
                FunctionStatus::Gepland => Aandacht,
                FunctionStatus::Stop => Kritiek,
            },
            Status::Facility { data } => match data.status {
                FacilityStatus::Normaal => Goed,
                FacilityStatus::DeelsGesloten
                | FacilityStatus::EvacuatieVoorbereid
                | FacilityStatus::Terugkeer
                | FacilityStatus::BinnenBlijven => Aandacht,
                FacilityStatus::Ontruimd
                | FacilityStatus::Evacuerend
                | FacilityStatus::Geevacueerd
                | FacilityStatus::Gesloten => Kritiek,
            },
            Status::Supplies { data, .. } => match data.days() {
                None => Goed,
                Some(days) if days < f64::from(t(ThresholdKey::SupplyDaysCritical)) => Kritiek,
                Some(days) if days < f64::from(t(ThresholdKey::SupplyDaysAttention)) => Aandacht,
                Some(_) => Goed,
            },
            Status::Utility { data, .. } => match data.status {
                UtilityStatus::Normaal => Goed,
                UtilityStatus::Verstoord => Aandacht,
                UtilityStatus::Uitgevallen if data.on_backup => {
                    let hours = data.backup_hours_left.map_or(0, |h| h.get());
                    if hours < t(ThresholdKey::BackupHoursCritical) {
                        Kritiek
                    } else {
                        Aandacht
                    }
                }
                UtilityStatus::Uitgevallen => Kritiek,
            },
            Status::Staffing { data, .. } => {
                if data.critical || data.unfilled_shifts_24h.get() >= t(ThresholdKey::UnfilledShiftsCritical) {
                    Kritiek
                } else if data.unfilled_shifts_24h.get() > 0 {
                    Aandacht
                } else {
                    Goed
                }
            }
            Status::Disbalance { data, .. } => match data.level {
                DisbalanceLevel::NietGetroffen => Goed,
                DisbalanceLevel::Zelfredzaam => Aandacht,
                DisbalanceLevel::KetenhulpNodig | DisbalanceLevel::Kantelpunt => Kritiek,
            },
            Status::SelfSufficiency { data } => below(
                data.hours.get(),
                ThresholdKey::SelfSufficiencyHoursCritical,
                ThresholdKey::SelfSufficiencyHoursAttention,
            ),
            Status::HomeCare { data } => {
                if data.visits_at_risk.get() >= t(ThresholdKey::VisitsAtRiskCritical) {
                    Kritiek
                } else if data.visits_at_risk.get() > 0 {
                    Aandacht
                } else {
                    Goed
                }
            }
            Status::RelocationNeed { data, .. } => {
                if data.total() > 0 {
                    Aandacht
                } else {
                    Goed
                }
            }
            Status::HelpRequest { change, .. } => match change.request().map(|d| d.urgency) {
                None => Goed,
                Some(Urgency::Hoog | Urgency::ZeerHoog) => Kritiek,
                _ => Aandacht,
            },
            Status::NotAffected { .. } => Goed,
            Status::Note { .. } => return None,
        };
        Some(state)
    }
}

/// The worst of several states.
pub fn worst(states: impl IntoIterator<Item = State>) -> Option<State> {
    states.into_iter().max_by_key(|s| s.severity())
}
