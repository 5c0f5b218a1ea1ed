//! What an event says: the typed `data` of every event type, and the mapping between the
//! CloudEvents wire form (`type`, `subject`, `data`) and [`Payload`].

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use uuid::Uuid;

use crate::error::FieldError;
use crate::json::JsonError;
use crate::values::{Count, LongText, Percent, Point, RegionCode, ShortText, Slug};
use crate::vocab::*;

/// Prefix of every event type name.
pub const TYPE_PREFIX: &str = "nl.ghor.";

// ---- status observations (§3.3) ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgementData {
    /// Can the location deliver the care of the next 24 hours.
    pub care_next_24h: Judgement,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BedsData {
    /// Staffed beds that can be used now.
    pub operational: Count,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical: Option<Count>,
    pub occupied: Count,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupied_infectious: Option<Count>,
    /// Extra beds that can be opened within 24 hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surge_24h: Option<Count>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentPlacesData {
    pub operational: Count,
    pub in_use: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CasualtyReceptionData {
    /// Casualties of this triage class the location can take in now.
    pub capacity: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcuteFunctionData {
    pub status: FunctionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityData {
    pub status: FacilityStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppliesData {
    pub on_hand: Count,
    /// Use per day; with `on_hand` it gives the days of supply.
    pub daily_use: Count,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_obtain_more: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reusing: Option<bool>,
}

impl SuppliesData {
    /// Days the stock lasts at the reported use; `None` when nothing is used.
    pub fn days(&self) -> Option<f64> {
        (self.daily_use.get() > 0).then(|| f64::from(self.on_hand.get()) / f64::from(self.daily_use.get()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UtilityData {
    pub status: UtilityStatus,
    /// Running on a backup (e.g. noodaggregaat).
    #[serde(default)]
    pub on_backup: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_hours_left: Option<Count>,
    /// For ICT utilities: what caused the disruption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<IctCause>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffingData {
    pub unfilled_shifts_24h: Count,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfilled_shifts_72h: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absence_percent: Option<Percent>,
    /// The shortage is critical now.
    #[serde(default)]
    pub critical: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisbalanceData {
    pub level: DisbalanceLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfSufficiencyData {
    /// Hours the location expects to stay self-reliant.
    pub hours: Count,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limiting_factor: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeCareData {
    pub clients: Count,
    pub electricity_dependent: Count,
    pub visits_at_risk: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceivingCapacityData {
    /// Clients of this care type the location can take in.
    pub clients: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelocationNeedData {
    pub lopend: Count,
    pub rolstoel: Count,
    pub liggend: Count,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed_by: Option<DateTime<Utc>>,
}

impl RelocationNeedData {
    pub fn total(&self) -> u32 {
        self.lopend.get() + self.rolstoel.get() + self.liggend.get()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpRequestData {
    pub category: HelpCategory,
    pub urgency: Urgency,
    pub text: LongText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpClosedData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteData {
    pub text: LongText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotAffectedData {
    /// The uitvraag this answers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uitvraag: Option<Slug>,
}

/// One observation of one dimension (and key) of one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Status {
    Judgement {
        data: JudgementData,
    },
    Beds {
        key: BedType,
        data: BedsData,
    },
    TreatmentPlaces {
        key: TreatmentPlace,
        data: TreatmentPlacesData,
    },
    CasualtyReception {
        key: Triage,
        data: CasualtyReceptionData,
    },
    AcuteFunction {
        key: AcuteFunction,
        data: AcuteFunctionData,
    },
    Facility {
        data: FacilityData,
    },
    Supplies {
        key: Supply,
        data: SuppliesData,
    },
    Utility {
        key: Utility,
        data: UtilityData,
    },
    Staffing {
        key: StaffRole,
        data: StaffingData,
    },
    Disbalance {
        key: Disbalance,
        data: DisbalanceData,
    },
    SelfSufficiency {
        data: SelfSufficiencyData,
    },
    HomeCare {
        data: HomeCareData,
    },
    ReceivingCapacity {
        key: CareType,
        data: ReceivingCapacityData,
    },
    RelocationNeed {
        key: CareType,
        data: RelocationNeedData,
    },
    HelpRequest {
        key: Slug,
        status: HelpStatus,
        /// What is asked; absent once closed.
        data: Option<HelpRequestData>,
        /// Why it was closed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        closed: Option<HelpClosedData>,
    },
    Note {
        data: NoteData,
    },
    NotAffected {
        data: NotAffectedData,
    },
}

/// Key of a dimension without keys.
pub const NO_KEY: &str = "-";

impl Status {
    pub fn dimension(&self) -> Dimension {
        match self {
            Status::Judgement { .. } => Dimension::Judgement,
            Status::Beds { .. } => Dimension::Beds,
            Status::TreatmentPlaces { .. } => Dimension::TreatmentPlaces,
            Status::CasualtyReception { .. } => Dimension::CasualtyReception,
            Status::AcuteFunction { .. } => Dimension::AcuteFunction,
            Status::Facility { .. } => Dimension::Facility,
            Status::Supplies { .. } => Dimension::Supplies,
            Status::Utility { .. } => Dimension::Utility,
            Status::Staffing { .. } => Dimension::Staffing,
            Status::Disbalance { .. } => Dimension::Disbalance,
            Status::SelfSufficiency { .. } => Dimension::SelfSufficiency,
            Status::HomeCare { .. } => Dimension::HomeCare,
            Status::ReceivingCapacity { .. } => Dimension::ReceivingCapacity,
            Status::RelocationNeed { .. } => Dimension::RelocationNeed,
            Status::HelpRequest { .. } => Dimension::HelpRequest,
            Status::Note { .. } => Dimension::Note,
            Status::NotAffected { .. } => Dimension::NotAffected,
        }
    }

    /// The dimension key this observation is about (`-` for dimensions without keys).
    pub fn key(&self) -> String {
        match self {
            Status::Beds { key, .. } => key.as_str().to_owned(),
            Status::TreatmentPlaces { key, .. } => key.as_str().to_owned(),
            Status::CasualtyReception { key, .. } => key.as_str().to_owned(),
            Status::AcuteFunction { key, .. } => key.as_str().to_owned(),
            Status::Supplies { key, .. } => key.as_str().to_owned(),
            Status::Utility { key, .. } => key.as_str().to_owned(),
            Status::Staffing { key, .. } => key.as_str().to_owned(),
            Status::Disbalance { key, .. } => key.as_str().to_owned(),
            Status::ReceivingCapacity { key, .. } | Status::RelocationNeed { key, .. } => key.as_str().to_owned(),
            Status::HelpRequest { key, .. } => key.as_str().to_owned(),
            _ => NO_KEY.to_owned(),
        }
    }

    /// The wire `data` of this observation.
    pub fn data_json(&self) -> Value {
        serde_json::to_value(StatusData(self)).unwrap_or(Value::Null)
    }
}

/// An observation's wire `data`, serialised straight from it.
struct StatusData<'a>(&'a Status);

impl Serialize for StatusData<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Status::Judgement { data } => data.serialize(s),
            Status::Beds { data, .. } => data.serialize(s),
            Status::TreatmentPlaces { data, .. } => data.serialize(s),
            Status::CasualtyReception { data, .. } => data.serialize(s),
            Status::AcuteFunction { data, .. } => data.serialize(s),
            Status::Facility { data } => data.serialize(s),
            Status::Supplies { data, .. } => data.serialize(s),
            Status::Utility { data, .. } => data.serialize(s),
            Status::Staffing { data, .. } => data.serialize(s),
            Status::Disbalance { data, .. } => data.serialize(s),
            Status::SelfSufficiency { data } => data.serialize(s),
            Status::HomeCare { data } => data.serialize(s),
            Status::ReceivingCapacity { data, .. } => data.serialize(s),
            Status::RelocationNeed { data, .. } => data.serialize(s),
            Status::HelpRequest { closed: Some(closed), .. } => closed.serialize(s),
            Status::HelpRequest { data, .. } => data.serialize(s),
            Status::Note { data } => data.serialize(s),
            Status::NotAffected { data } => data.serialize(s),
        }
    }
}

/// A payload's wire `data`; see [`Payload::data`].
pub struct PayloadData<'a>(&'a Payload);

impl Serialize for PayloadData<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Payload::Status(status) => StatusData(status).serialize(s),
            Payload::Retracted(d) => d.serialize(s),
            Payload::ReportOverdue(d) => d.serialize(s),
            Payload::IntakeRejected(d) => d.serialize(s),
            Payload::LocationRegistered(d) => d.serialize(s),
            Payload::OrganisationRegistered { info, .. } => info.serialize(s),
            Payload::Incident { data, .. } => data.serialize(s),
            Payload::ThresholdSet { data, .. } => data.serialize(s),
            Payload::AlertAcknowledged { data, .. } => data.serialize(s),
        }
    }
}

// ---- registry, incidents, thresholds, alerts, overdue ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInfo {
    pub name: ShortText,
    pub organisation: Slug,
    #[serde(rename = "type")]
    pub location_type: LocationType,
    pub region: RegionCode,
    /// ROAZ region, the second geography of acute care.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roaz: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<ShortText>,
    pub point: Point,
    /// Minutes between reports expected in the cold phase.
    #[serde(default = "default_cold_interval")]
    pub report_interval_cold_minutes: Count,
    /// Minutes between reports expected while inside an active incident's area.
    #[serde(default = "default_warm_interval")]
    pub report_interval_warm_minutes: Count,
}

fn default_cold_interval() -> Count {
    Count::new(24 * 60).unwrap_or_default()
}
fn default_warm_interval() -> Count {
    Count::new(120).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInfo {
    pub name: ShortText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentArea {
    /// Regions the incident affects; empty means the region that reports it.
    #[serde(default)]
    pub regions: Vec<RegionCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub municipalities: Vec<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circle: Option<Circle>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Circle {
    pub center: Point,
    #[schemars(range(min = 0.1, max = 200.0))]
    pub radius_km: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentData {
    pub name: ShortText,
    pub state: IncidentState,
    /// GRIP level as decided by the competent authority; 0 for none.
    #[schemars(range(max = 5))]
    pub grip: u8,
    pub area: IncidentArea,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
    /// Advice to the institutions (handelingsperspectief).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handelingsperspectief: Option<LongText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdData {
    #[schemars(range(max = 100000))]
    pub value: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgedData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetractedData {
    /// Id of the mistaken observation of the same location.
    pub event_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ShortText>,
}

/// ghor refused what a location's own system published on NATS. Only the reason goes into
/// the log (the refused body could hold anything); the body stays in the intake stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeRejectedData {
    /// The field that was wrong, as in an HTTP problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<ShortText>,
    pub reason: LongText,
    /// Where the refused message still lies in the intake stream.
    pub intake_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverdueData {
    /// Start of the interval slot in which no report came.
    pub due: DateTime<Utc>,
    pub interval_minutes: Count,
}

/// Everything an event can say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    Status(Status),
    Retracted(RetractedData),
    ReportOverdue(OverdueData),
    IntakeRejected(IntakeRejectedData),
    LocationRegistered(LocationInfo),
    OrganisationRegistered { organisation: Slug, info: OrganisationInfo },
    Incident { incident: Slug, opened: bool, data: IncidentData },
    ThresholdSet { key: ThresholdKey, data: ThresholdData },
    AlertAcknowledged { alert: ShortText, data: AcknowledgedData },
}

/// Which kind of `source` an event type needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Location,
    Region,
}

impl Payload {
    pub fn source_kind(&self) -> SourceKind {
        match self {
            Payload::Status(_)
            | Payload::Retracted(_)
            | Payload::ReportOverdue(_)
            | Payload::IntakeRejected(_)
            | Payload::LocationRegistered(_) => SourceKind::Location,
            _ => SourceKind::Region,
        }
    }

    /// The wire `type`, `subject` and `data`.
    pub fn encode(&self) -> (String, Option<String>, Value) {
        (self.event_type(), self.subject(), serde_json::to_value(self.data()).unwrap_or(Value::Null))
    }

    /// The wire `type`, e.g. `nl.ghor.beds.reported.v1`.
    pub fn event_type(&self) -> String {
        let (family, verb) = self.type_parts();
        format!("{TYPE_PREFIX}{family}.{verb}.v1")
    }

    /// What the wire type is about: the status dimension, or e.g. `location`, `incident`
    /// (the event's dimension in the log's subjects).
    pub fn family(&self) -> &'static str {
        self.type_parts().0
    }

    fn type_parts(&self) -> (&'static str, &'static str) {
        match self {
            Payload::Status(status) => {
                let verb = match status {
                    Status::HelpRequest { status: HelpStatus::Open, .. } => "opened",
                    Status::HelpRequest { status: HelpStatus::InBehandeling, .. } => "updated",
                    Status::HelpRequest { status: HelpStatus::Gesloten, .. } => "closed",
                    _ => "reported",
                };
                (status.dimension().as_str(), verb)
            }
            Payload::Retracted(_) => ("observation", "retracted"),
            Payload::ReportOverdue(_) => ("report", "overdue"),
            Payload::IntakeRejected(_) => ("intake", "rejected"),
            Payload::LocationRegistered(_) => ("location", "registered"),
            Payload::OrganisationRegistered { .. } => ("organisation", "registered"),
            Payload::Incident { opened: true, .. } => ("incident", "opened"),
            Payload::Incident { opened: false, .. } => ("incident", "updated"),
            Payload::ThresholdSet { .. } => ("threshold", "set"),
            Payload::AlertAcknowledged { .. } => ("alert", "acknowledged"),
        }
    }

    /// The wire `subject`: the key the event is about, where its type has one.
    pub fn subject(&self) -> Option<String> {
        match self {
            Payload::Status(status) => Some(status.key()).filter(|key| key != NO_KEY),
            Payload::OrganisationRegistered { organisation, .. } => Some(organisation.to_string()),
            Payload::Incident { incident, .. } => Some(incident.to_string()),
            Payload::ThresholdSet { key, .. } => Some(key.as_str().to_owned()),
            Payload::AlertAcknowledged { alert, .. } => Some(alert.as_str().to_owned()),
            _ => None,
        }
    }

    /// The wire `data`, serialised straight from the payload.
    pub fn data(&self) -> PayloadData<'_> {
        PayloadData(self)
    }

    /// Decodes the wire `type`, `subject` and `data`; errors name the offending field.
    pub fn decode<'d>(
        event_type: &str,
        subject: Option<&str>,
        data: impl Into<WireData<'d>>,
    ) -> Result<Payload, DecodeError> {
        let data = data.into();
        let name = event_type.strip_prefix(TYPE_PREFIX).ok_or_else(|| unknown_type(event_type))?;
        let (stem, version) = name.rsplit_once(".v").ok_or_else(|| unknown_type(event_type))?;
        if version.is_empty() || version.starts_with('0') || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unknown_type(event_type));
        }
        let version: u32 = version.parse().map_err(|_| unknown_type(event_type))?;
        if !EVENT_TYPES.iter().any(|t| t.strip_prefix(TYPE_PREFIX).and_then(|s| s.strip_suffix(".v1")) == Some(stem)) {
            return Err(unknown_type(event_type));
        }
        if version != 1 {
            return Err(DecodeError::NewerVersion(event_type.to_owned()));
        }
        const KEYLESS: &[&str] = &[
            "judgement.reported",
            "facility.reported",
            "self_sufficiency.reported",
            "home_care.reported",
            "note.reported",
            "not_affected.reported",
            "observation.retracted",
            "report.overdue",
            "intake.rejected",
            "location.registered",
        ];
        if subject.is_some() && KEYLESS.contains(&stem) {
            return Err(field("subject", "this event type has no key; leave subject out"));
        }
        let status = |s: Status| Ok(Payload::Status(s));
        match stem {
            "judgement.reported" => status(Status::Judgement { data: data.parse()? }),
            "beds.reported" => status(Status::Beds { key: key(subject)?, data: beds(data.parse()?)? }),
            "treatment_places.reported" => status(Status::TreatmentPlaces { key: key(subject)?, data: data.parse()? }),
            "casualty_reception.reported" => {
                status(Status::CasualtyReception { key: key(subject)?, data: data.parse()? })
            }
            "acute_function.reported" => status(Status::AcuteFunction { key: key(subject)?, data: data.parse()? }),
            "facility.reported" => status(Status::Facility { data: data.parse()? }),
            "supplies.reported" => status(Status::Supplies { key: key(subject)?, data: data.parse()? }),
            "utility.reported" => {
                let key: Utility = key(subject)?;
                let data: UtilityData = data.parse()?;
                if data.cause.is_some() && !key.is_ict() {
                    return Err(field("data.cause", "a cause is given for ICT utilities only"));
                }
                status(Status::Utility { key, data })
            }
            "staffing.reported" => status(Status::Staffing { key: key(subject)?, data: data.parse()? }),
            "disbalance.reported" => status(Status::Disbalance { key: key(subject)?, data: data.parse()? }),
            "self_sufficiency.reported" => status(Status::SelfSufficiency { data: data.parse()? }),
            "home_care.reported" => {
                let data: HomeCareData = data.parse()?;
                if data.electricity_dependent > data.clients {
                    return Err(field("data.electricity_dependent", "is more than the number of clients"));
                }
                status(Status::HomeCare { data })
            }
            "receiving_capacity.reported" => {
                status(Status::ReceivingCapacity { key: key(subject)?, data: data.parse()? })
            }
            "relocation_need.reported" => status(Status::RelocationNeed { key: key(subject)?, data: data.parse()? }),
            "help_request.opened" | "help_request.updated" => status(Status::HelpRequest {
                key: slug(subject)?,
                status: if stem.ends_with("opened") { HelpStatus::Open } else { HelpStatus::InBehandeling },
                data: Some(data.parse()?),
                closed: None,
            }),
            "help_request.closed" => status(Status::HelpRequest {
                key: slug(subject)?,
                status: HelpStatus::Gesloten,
                data: None,
                closed: Some(data.parse()?),
            }),
            "note.reported" => status(Status::Note { data: data.parse()? }),
            "not_affected.reported" => status(Status::NotAffected { data: data.parse()? }),
            "observation.retracted" => Ok(Payload::Retracted(data.parse()?)),
            "report.overdue" => Ok(Payload::ReportOverdue(data.parse()?)),
            "intake.rejected" => Ok(Payload::IntakeRejected(data.parse()?)),
            "location.registered" => {
                let info: LocationInfo = data.parse()?;
                info.point.check().map_err(|r| field("data.point", &r))?;
                Ok(Payload::LocationRegistered(info))
            }
            "organisation.registered" => {
                Ok(Payload::OrganisationRegistered { organisation: slug(subject)?, info: data.parse()? })
            }
            "incident.opened" | "incident.updated" => {
                let data: IncidentData = data.parse()?;
                if data.grip > 5 {
                    return Err(field("data.grip", "GRIP levels run from 0 (none) to 5"));
                }
                if let Some(c) = &data.area.circle {
                    c.center.check().map_err(|r| field("data.area.circle.center", &r))?;
                    if !(0.1..=200.0).contains(&c.radius_km) {
                        return Err(field("data.area.circle.radius_km", "must lie between 0.1 and 200 km"));
                    }
                }
                Ok(Payload::Incident { incident: slug(subject)?, opened: stem.ends_with("opened"), data })
            }
            "threshold.set" => Ok(Payload::ThresholdSet { key: key(subject)?, data: data.parse()? }),
            "alert.acknowledged" => {
                let alert = subject.ok_or_else(|| field("subject", "names the alert being acknowledged"))?;
                let alert = ShortText::try_from(alert.to_owned()).map_err(|r| field("subject", &r))?;
                Ok(Payload::AlertAcknowledged { alert, data: data.parse()? })
            }
            _ => Err(unknown_type(event_type)),
        }
    }
}

/// Every event type ghor knows, at its current version.
pub const EVENT_TYPES: &[&str] = &[
    "nl.ghor.judgement.reported.v1",
    "nl.ghor.beds.reported.v1",
    "nl.ghor.treatment_places.reported.v1",
    "nl.ghor.casualty_reception.reported.v1",
    "nl.ghor.acute_function.reported.v1",
    "nl.ghor.facility.reported.v1",
    "nl.ghor.supplies.reported.v1",
    "nl.ghor.utility.reported.v1",
    "nl.ghor.staffing.reported.v1",
    "nl.ghor.disbalance.reported.v1",
    "nl.ghor.self_sufficiency.reported.v1",
    "nl.ghor.home_care.reported.v1",
    "nl.ghor.receiving_capacity.reported.v1",
    "nl.ghor.relocation_need.reported.v1",
    "nl.ghor.help_request.opened.v1",
    "nl.ghor.help_request.updated.v1",
    "nl.ghor.help_request.closed.v1",
    "nl.ghor.note.reported.v1",
    "nl.ghor.not_affected.reported.v1",
    "nl.ghor.observation.retracted.v1",
    "nl.ghor.report.overdue.v1",
    "nl.ghor.intake.rejected.v1",
    "nl.ghor.location.registered.v1",
    "nl.ghor.organisation.registered.v1",
    "nl.ghor.incident.opened.v1",
    "nl.ghor.incident.updated.v1",
    "nl.ghor.threshold.set.v1",
    "nl.ghor.alert.acknowledged.v1",
];

/// Why a wire event could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// The caller's mistake, with the field it concerns.
    Invalid(FieldError),
    /// A known event at a version this build does not know yet: hold it back, do not quarantine.
    NewerVersion(String),
}

impl From<FieldError> for DecodeError {
    fn from(e: FieldError) -> Self {
        DecodeError::Invalid(e)
    }
}

fn field(path: &str, reason: &str) -> DecodeError {
    DecodeError::Invalid(FieldError::new(path, reason))
}

fn unknown_type(t: &str) -> DecodeError {
    field("type", &format!("{t:?} is not an event type ghor knows; see proto/ for the list"))
}

/// Parses `data` into its typed form; the error names the path inside `data`.
/// The wire `data` as read: a JSON value, or its JSON text, read straight into its type.
#[derive(Debug, Clone, Copy)]
pub enum WireData<'a> {
    Value(&'a Value),
    Raw(&'a RawValue),
}

impl<'a> From<&'a Value> for WireData<'a> {
    fn from(value: &'a Value) -> Self {
        WireData::Value(value)
    }
}

impl<'a> From<&'a RawValue> for WireData<'a> {
    fn from(raw: &'a RawValue) -> Self {
        WireData::Raw(raw)
    }
}

impl WireData<'_> {
    fn parse<T: DeserializeOwned>(self) -> Result<T, DecodeError> {
        match self {
            WireData::Value(value) => parse(value),
            WireData::Raw(raw) => {
                let typed = raw.get().trim_start().starts_with('{').then(|| serde_json::from_str(raw.get()).ok());
                match typed.flatten() {
                    Some(t) => Ok(t),
                    // The value's way words what is wrong; a key given twice (which the
                    // typed way refuses too) is named here.
                    None => match crate::json::from_str(raw.get(), "data") {
                        Ok(value) => parse(&value),
                        Err(JsonError::DuplicateKey(e)) => Err(DecodeError::Invalid(e)),
                        Err(JsonError::Syntax(_)) => parse(&Value::Null),
                    },
                }
            }
        }
    }
}

fn parse<T: DeserializeOwned>(data: &Value) -> Result<T, DecodeError> {
    if !data.is_object() {
        return Err(field("data", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(data).map_err(|e| {
        // The path already ends at an unknown field; a missing one is named in the message.
        let mut path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let reason = inner.split(" at line ").next().unwrap_or(&inner).to_owned();
        if let Some(missing) = reason.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            path = if path == "." { missing.to_owned() } else { format!("{path}.{missing}") };
        }
        let path = if path == "." { "data".to_owned() } else { format!("data.{path}") };
        let reason = if reason.starts_with("unknown field") {
            "is not a field of this event type (no patient-level data is accepted)".to_owned()
        } else if reason.starts_with("missing field") {
            "is required".to_owned()
        } else {
            reason
        };
        DecodeError::Invalid(FieldError::new(&path, &reason))
    })
}

fn key<K: DeserializeOwned>(subject: Option<&str>) -> Result<K, DecodeError> {
    let s = subject
        .ok_or_else(|| field("subject", "names the key this observation is about and is required for this type"))?;
    serde_json::from_value(Value::String(s.to_owned())).map_err(|e| {
        let msg = e.to_string();
        field("subject", msg.split(" at line ").next().unwrap_or(&msg))
    })
}

fn slug(subject: Option<&str>) -> Result<Slug, DecodeError> {
    let s = subject
        .ok_or_else(|| field("subject", "names the object this event is about and is required for this type"))?;
    Slug::try_from(s).map_err(|r| field("subject", &r))
}

fn beds(data: BedsData) -> Result<BedsData, DecodeError> {
    if data.occupied_infectious.is_some_and(|i| i > data.occupied) {
        return Err(field("data.occupied_infectious", "is more than the occupied beds"));
    }
    if data.physical.is_some_and(|p| data.operational > p) {
        return Err(field("data.operational", "is more than the physical beds"));
    }
    Ok(data)
}
