//! What an event says: the typed `data` of every event type, and the mapping between the
//! CloudEvents wire form (`type`, `subject`, `data`) and [`Payload`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use uuid::Uuid;

use crate::area::Area;
use crate::error::{ErrorCode, FieldError};
use crate::event_type::{event_types, field, field_labels, EventData, FieldLabel};
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

impl BedsData {
    /// Operational beds not occupied: what the region's totals add up as free.
    pub fn free(&self) -> u32 {
        self.operational.get().saturating_sub(self.occupied.get())
    }
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

/// How prepared a location is for a crisis, reported in the cold phase (§3.8): whether its
/// crisiscoördinator is trained, when its crisis plan was last revised and when it last
/// exercised it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreparednessData {
    pub trained_coordinator: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_revised: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exercise: Option<DateTime<Utc>>,
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
    Preparedness {
        data: PreparednessData,
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
        /// Opened, updated or closed, with what each says.
        #[serde(flatten)]
        change: HelpChange,
    },
    Note {
        data: NoteData,
    },
    NotAffected {
        data: NotAffectedData,
    },
}

/// What a help request event says: the request as opened or updated, or why it was closed.
/// Kept in the picture in the form `{"status", "data", "closed"}` that snapshots hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "HelpWire", try_from = "HelpWire")]
pub enum HelpChange {
    Opened(HelpRequestData),
    Updated(HelpRequestData),
    Closed(HelpClosedData),
}

impl HelpChange {
    pub fn status(&self) -> HelpStatus {
        match self {
            HelpChange::Opened(_) => HelpStatus::Open,
            HelpChange::Updated(_) => HelpStatus::InBehandeling,
            HelpChange::Closed(_) => HelpStatus::Gesloten,
        }
    }
    /// What is asked, while the request is open.
    pub fn request(&self) -> Option<&HelpRequestData> {
        match self {
            HelpChange::Opened(d) | HelpChange::Updated(d) => Some(d),
            HelpChange::Closed(_) => None,
        }
    }
}

/// The stored form of [`HelpChange`].
#[derive(Serialize, Deserialize)]
struct HelpWire {
    status: HelpStatus,
    data: Option<HelpRequestData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closed: Option<HelpClosedData>,
}

impl From<HelpChange> for HelpWire {
    fn from(change: HelpChange) -> Self {
        let status = change.status();
        match change {
            HelpChange::Opened(d) | HelpChange::Updated(d) => HelpWire { status, data: Some(d), closed: None },
            HelpChange::Closed(c) => HelpWire { status, data: None, closed: Some(c) },
        }
    }
}

impl TryFrom<HelpWire> for HelpChange {
    type Error = String;
    fn try_from(w: HelpWire) -> Result<Self, String> {
        match (w.status, w.data) {
            (HelpStatus::Open, Some(d)) => Ok(HelpChange::Opened(d)),
            (HelpStatus::InBehandeling, Some(d)) => Ok(HelpChange::Updated(d)),
            (HelpStatus::Gesloten, _) => Ok(HelpChange::Closed(w.closed.unwrap_or(HelpClosedData { reason: None }))),
            (_, None) => Err("an open help request carries its data".into()),
        }
    }
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
            Status::Preparedness { .. } => Dimension::Preparedness,
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
            Status::Judgement { .. }
            | Status::Facility { .. }
            | Status::SelfSufficiency { .. }
            | Status::HomeCare { .. }
            | Status::Note { .. }
            | Status::NotAffected { .. }
            | Status::Preparedness { .. } => NO_KEY.to_owned(),
        }
    }

    /// The wire `data` of this observation. (Observations hold no floating-point number
    /// and no map, so this does not fail in practice; it says so if it ever does.)
    pub fn data_json(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(StatusData(self))
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
            Status::HelpRequest { change: HelpChange::Opened(data) | HelpChange::Updated(data), .. } => {
                data.serialize(s)
            }
            Status::HelpRequest { change: HelpChange::Closed(closed), .. } => closed.serialize(s),
            Status::Note { data } => data.serialize(s),
            Status::NotAffected { data } => data.serialize(s),
            Status::Preparedness { data } => data.serialize(s),
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

/// What an organisation agreed to share of its locations in a region (seed 004: "welke
/// informatie wel en niet gedeeld mag worden"), recorded by the region's
/// netwerkfunctionaris. Per audience, the dimensions it may see at location level; an
/// audience not named sees the region's aggregates only. Each agreement replaces the last.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementData {
    pub location_level: BTreeMap<Audience, BTreeSet<Dimension>>,
    /// The covenant or arrangement it rests on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentData {
    pub name: ShortText,
    pub state: IncidentState,
    /// GRIP level as decided by the competent authority; 0 for none.
    #[schemars(range(max = 5))]
    #[serde(deserialize_with = "crate::values::whole_number")]
    pub grip: u8,
    pub area: Area,
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

// ---- the warm phase: uitvraag and handelingsperspectief (§3.7) ----

/// One dimension an uitvraag asks for, and which of its keys (every key when none named).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Asked {
    pub dimension: Dimension,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<ShortText>,
}

impl Asked {
    /// Whether an observation of `dimension` and `key` answers this.
    pub fn answered_by(&self, dimension: Dimension, key: &str) -> bool {
        self.dimension == dimension && (self.keys.is_empty() || self.keys.iter().any(|k| k.as_str() == key))
    }
}

/// The most dimensions one uitvraag asks for.
pub const MAX_ASKED: usize = 18;

/// An uitvraag: the informatiemanager asks the locations of an area for these dimensions by
/// a deadline. Which locations it addresses the fold decides when it reaches this event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UitvraagData {
    pub title: ShortText,
    /// What the informatiemanager wants to know, in their own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<LongText>,
    pub area: Area,
    #[schemars(length(min = 1, max = 18))]
    pub asked: Vec<Asked>,
    pub deadline: DateTime<Utc>,
    /// Minutes between reminders to those who have not answered; none: no reminders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 5, max = 1440))]
    pub renotify_minutes: Option<Count>,
    /// The incident it is part of, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Slug>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UitvraagClosedData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ShortText>,
}

/// The informatiemanager called a location that had not answered an uitvraag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallData {
    pub location: Slug,
    pub outcome: CallOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<ShortText>,
}

/// Advice to the institutions of an area: what they are advised to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandelingsperspectiefData {
    pub title: ShortText,
    pub text: LongText,
    pub urgency: Urgency,
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Slug>,
}

/// A location confirms it has read a handelingsperspectief ("gelezen").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadData {}

/// The scheduler's word that a round of reminders of an uitvraag is due: while it is open
/// and before its deadline, every `renotify_minutes` after its opening. Round `n` is due at
/// the opening plus `n` intervals; its id derives from (uitvraag, round), so every node and
/// restart writes it once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderDueData {
    /// 1 for the first reminder.
    pub round: Count,
    pub due: DateTime<Utc>,
}

/// The informatiemanager issued the beeld of a region: the situational report for the ROT
/// and the bestuur of the picture as known at `at`. Recorded so that "since the previous
/// beeld" is defined, and so that every issued beeld can be produced again as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BeeldData {
    /// The moment it describes, as known then.
    pub at: DateTime<Utc>,
    /// What the informatiemanager makes of it (the duiding), shown above the figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<LongText>,
    /// The incident it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Slug>,
}

/// What became of one notification to one receiver (§3.7): the subject is the
/// notification's id (the email's Message-ID, the webhook's `webhook-id`), the source the
/// location it was about. Never an address, a phone number or a URL: personal data and
/// secrets stay out of the log; the contact's role and the channel say enough.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationData {
    /// The id of the event that called for the notification.
    pub cause: Uuid,
    pub kind: NotificationKind,
    /// The uitvraag or handelingsperspectief it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<Slug>,
    pub channel: Channel,
    /// Whom it was for, by function (emails); none for a webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_role: Option<ContactRole>,
    /// The attempt this outcome is of, 1 for the first.
    pub attempt: Count,
    /// Why it failed or was given up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ShortText>,
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
    AgreementRecorded { organisation: Slug, data: AgreementData },
    Incident { incident: Slug, opened: bool, data: IncidentData },
    ThresholdSet { key: ThresholdKey, data: ThresholdData },
    AlertAcknowledged { alert: ShortText, data: AcknowledgedData },
    UitvraagOpened { uitvraag: Slug, data: UitvraagData },
    UitvraagClosed { uitvraag: Slug, data: UitvraagClosedData },
    CallRecorded { uitvraag: Slug, data: CallData },
    HandelingsperspectiefPublished { advice: Slug, data: HandelingsperspectiefData },
    HandelingsperspectiefRead { advice: Slug, data: ReadData },
    UitvraagReminderDue { uitvraag: Slug, data: ReminderDueData },
    Notification { notification: Slug, state: DeliveryState, data: NotificationData },
    BeeldIssued { beeld: Slug, data: BeeldData },
}

pub use crate::event_type::SourceKind;

impl Payload {
    pub fn source_kind(&self) -> SourceKind {
        self.kind().source_kind()
    }

    /// The wire `type`, e.g. `nl.ghor.beds.reported.v1`.
    pub fn event_type(&self) -> &'static str {
        self.kind().name()
    }

    /// What the wire type is about: the status dimension, or e.g. `location`, `incident`
    /// (the event's dimension in the log's subjects).
    pub fn family(&self) -> &'static str {
        self.kind().family()
    }

    /// The wire `data`, serialised straight from the payload.
    pub fn data(&self) -> PayloadData<'_> {
        PayloadData(self)
    }
}

// ---- every event type, declared once ----

event_types! {
    payload: Payload, kind: EventType, data: PayloadData, bind: (key, data);

    JudgementReported("judgement", "reported", 1) {
        label: "Eigen oordeel gemeld", "Own judgement reported",
        source: Location, data: JudgementData, older: [],
    } => { Payload::Status(Status::Judgement { data }) };
    BedsReported("beds", "reported", 1) {
        label: "Bedden gemeld", "Beds reported",
        source: Location, key: BedType, data: BedsData, older: [],
    } => { Payload::Status(Status::Beds { key, data }) };
    TreatmentPlacesReported("treatment_places", "reported", 1) {
        label: "Behandelplekken gemeld", "Treatment places reported",
        source: Location, key: TreatmentPlace, data: TreatmentPlacesData, older: [],
    } => { Payload::Status(Status::TreatmentPlaces { key, data }) };
    CasualtyReceptionReported("casualty_reception", "reported", 1) {
        label: "Gewondenspreiding gemeld", "Casualty reception reported",
        source: Location, key: Triage, data: CasualtyReceptionData, older: [],
    } => { Payload::Status(Status::CasualtyReception { key, data }) };
    AcuteFunctionReported("acute_function", "reported", 1) {
        label: "Acute functie gemeld", "Acute function reported",
        source: Location, key: AcuteFunction, data: AcuteFunctionData, older: [],
    } => { Payload::Status(Status::AcuteFunction { key, data }) };
    FacilityReported("facility", "reported", 1) {
        label: "Gebouwstatus gemeld", "Facility status reported",
        source: Location, data: FacilityData, older: [],
    } => { Payload::Status(Status::Facility { data }) };
    SuppliesReported("supplies", "reported", 1) {
        label: "Voorraad gemeld", "Supplies reported",
        source: Location, key: Supply, data: SuppliesData, older: [],
    } => { Payload::Status(Status::Supplies { key, data }) };
    UtilityReported("utility", "reported", 1) {
        label: "Nuts of ICT gemeld", "Utility or ICT reported",
        source: Location, key: Utility, data: UtilityData, older: [],
    } => { Payload::Status(Status::Utility { key, data }) };
    StaffingReported("staffing", "reported", 1) {
        label: "Personeel gemeld", "Staffing reported",
        source: Location, key: StaffRole, data: StaffingData, older: [],
    } => { Payload::Status(Status::Staffing { key, data }) };
    DisbalanceReported("disbalance", "reported", 1) {
        label: "Disbalans gemeld", "Disbalance reported",
        source: Location, key: Disbalance, data: DisbalanceData, older: [],
    } => { Payload::Status(Status::Disbalance { key, data }) };
    SelfSufficiencyReported("self_sufficiency", "reported", 1) {
        label: "Zelfredzaamheid gemeld", "Self-sufficiency reported",
        source: Location, data: SelfSufficiencyData, older: [],
    } => { Payload::Status(Status::SelfSufficiency { data }) };
    HomeCareReported("home_care", "reported", 1) {
        label: "Thuiszorg gemeld", "Home care reported",
        source: Location, data: HomeCareData, older: [],
    } => { Payload::Status(Status::HomeCare { data }) };
    ReceivingCapacityReported("receiving_capacity", "reported", 1) {
        label: "Opvangcapaciteit gemeld", "Receiving capacity reported",
        source: Location, key: CareType, data: ReceivingCapacityData, older: [],
    } => { Payload::Status(Status::ReceivingCapacity { key, data }) };
    RelocationNeedReported("relocation_need", "reported", 1) {
        label: "Verplaatsingsbehoefte gemeld", "Relocation need reported",
        source: Location, key: CareType, data: RelocationNeedData, older: [],
    } => { Payload::Status(Status::RelocationNeed { key, data }) };
    HelpRequestOpened("help_request", "opened", 1) {
        label: "Hulpvraag gesteld", "Help request opened",
        source: Location, key: Slug, data: HelpRequestData, older: [],
    } => { Payload::Status(Status::HelpRequest { key, change: HelpChange::Opened(data) }) };
    HelpRequestUpdated("help_request", "updated", 1) {
        label: "Hulpvraag bijgewerkt", "Help request updated",
        source: Location, key: Slug, data: HelpRequestData, older: [],
    } => { Payload::Status(Status::HelpRequest { key, change: HelpChange::Updated(data) }) };
    HelpRequestClosed("help_request", "closed", 1) {
        label: "Hulpvraag gesloten", "Help request closed",
        source: Location, key: Slug, data: HelpClosedData, older: [],
    } => { Payload::Status(Status::HelpRequest { key, change: HelpChange::Closed(data) }) };
    NoteReported("note", "reported", 1) {
        label: "Notitie", "Note",
        source: Location, data: NoteData, older: [],
    } => { Payload::Status(Status::Note { data }) };
    NotAffectedReported("not_affected", "reported", 1) {
        label: "Niet getroffen gemeld", "Not affected reported",
        source: Location, data: NotAffectedData, older: [],
    } => { Payload::Status(Status::NotAffected { data }) };
    PreparednessReported("preparedness", "reported", 1) {
        label: "Voorbereiding gemeld", "Preparedness reported",
        source: Location, data: PreparednessData, older: [],
    } => { Payload::Status(Status::Preparedness { data }) };
    ObservationRetracted("observation", "retracted", 1) {
        label: "Melding ingetrokken", "Observation retracted",
        source: Location, data: RetractedData, older: [],
    } => { Payload::Retracted(data) };
    ReportOverdue("report", "overdue", 1) {
        label: "Melding te laat", "Report overdue",
        source: Location, data: OverdueData, older: [],
    } => { Payload::ReportOverdue(data) };
    IntakeRejected("intake", "rejected", 1) {
        label: "Bericht geweigerd", "Message rejected",
        source: Location, data: IntakeRejectedData, older: [],
    } => { Payload::IntakeRejected(data) };
    LocationRegistered("location", "registered", 1) {
        label: "Locatie geregistreerd", "Location registered",
        source: Location, data: LocationInfo, older: [],
    } => { Payload::LocationRegistered(data) };
    OrganisationRegistered("organisation", "registered", 1) {
        label: "Organisatie geregistreerd", "Organisation registered",
        source: Region, key: Slug, data: OrganisationInfo, older: [],
    } => { Payload::OrganisationRegistered { organisation: key, info: data } };
    AgreementRecorded("agreement", "recorded", 1) {
        label: "Afspraak over delen vastgelegd", "Sharing agreement recorded",
        source: Region, key: Slug, data: AgreementData, older: [],
    } => { Payload::AgreementRecorded { organisation: key, data } };
    IncidentOpened("incident", "opened", 1) {
        label: "Incident geopend", "Incident opened",
        source: Region, key: Slug, data: IncidentData, older: [],
    } => { Payload::Incident { incident: key, opened: true, data } };
    IncidentUpdated("incident", "updated", 1) {
        label: "Incident bijgewerkt", "Incident updated",
        source: Region, key: Slug, data: IncidentData, older: [],
    } => { Payload::Incident { incident: key, opened: false, data } };
    ThresholdSet("threshold", "set", 1) {
        label: "Drempel ingesteld", "Threshold set",
        source: Region, key: ThresholdKey, data: ThresholdData, older: [],
    } => { Payload::ThresholdSet { key, data } };
    AlertAcknowledged("alert", "acknowledged", 1) {
        label: "Alarm bevestigd", "Alert acknowledged",
        source: Region, key: ShortText, data: AcknowledgedData, older: [],
    } => { Payload::AlertAcknowledged { alert: key, data } };
    UitvraagOpened("uitvraag", "opened", 1) {
        label: "Uitvraag geopend", "Enquiry opened",
        source: Region, key: Slug, data: UitvraagData, older: [],
    } => { Payload::UitvraagOpened { uitvraag: key, data } };
    UitvraagClosed("uitvraag", "closed", 1) {
        label: "Uitvraag gesloten", "Enquiry closed",
        source: Region, key: Slug, data: UitvraagClosedData, older: [],
    } => { Payload::UitvraagClosed { uitvraag: key, data } };
    CallRecorded("uitvraag_call", "recorded", 1) {
        label: "Belpoging vastgelegd", "Call recorded",
        source: Region, key: Slug, data: CallData, older: [],
    } => { Payload::CallRecorded { uitvraag: key, data } };
    HandelingsperspectiefPublished("handelingsperspectief", "published", 1) {
        label: "Handelingsperspectief gepubliceerd", "Advice published",
        source: Region, key: Slug, data: HandelingsperspectiefData, older: [],
    } => { Payload::HandelingsperspectiefPublished { advice: key, data } };
    HandelingsperspectiefRead("handelingsperspectief", "read", 1) {
        label: "Handelingsperspectief gelezen", "Advice read",
        source: Location, key: Slug, data: ReadData, older: [],
    } => { Payload::HandelingsperspectiefRead { advice: key, data } };
    UitvraagReminderDue("uitvraag", "reminder_due", 1) {
        label: "Herinnering uitvraag", "Enquiry reminder due",
        source: Region, key: Slug, data: ReminderDueData, older: [],
    } => { Payload::UitvraagReminderDue { uitvraag: key, data } };
    BeeldIssued("beeld", "issued", 1) {
        label: "Beeld uitgegeven", "Situation report issued",
        source: Region, key: Slug, data: BeeldData, older: [],
    } => { Payload::BeeldIssued { beeld: key, data } };
    NotificationDelivered("notification", "delivered", 1) {
        label: "Bericht afgeleverd", "Notification delivered",
        source: Location, key: Slug, data: NotificationData, older: [],
    } => { Payload::Notification { notification: key, state: DeliveryState::Afgeleverd, data } };
    NotificationFailed("notification", "failed", 1) {
        label: "Bericht mislukt", "Notification failed",
        source: Location, key: Slug, data: NotificationData, older: [],
    } => { Payload::Notification { notification: key, state: DeliveryState::Mislukt, data } };
    NotificationGivenUp("notification", "given_up", 1) {
        label: "Bericht niet afgeleverd", "Notification given up",
        source: Location, key: Slug, data: NotificationData, older: [],
    } => { Payload::Notification { notification: key, state: DeliveryState::Opgegeven, data } };
}

/// Every event type ghor knows, at its current version.
pub const EVENT_TYPES: &[&str] = EventType::NAMES;

// ---- what each data type checks beyond its serde form ----

impl EventData for JudgementData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(JudgementData {
        care_next_24h: "Kan de locatie de zorg van de komende 24 uur leveren?", "Can the location deliver the care of the next 24 hours?";
        reason: "Toelichting", "Reason";
    });
}
impl EventData<BedType> for BedsData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(BedsData {
        operational: "Operationeel (bemand)", "Operational (staffed)";
        occupied: "Bezet", "Occupied";
        physical: "Fysiek aanwezig", "Physically present";
        occupied_infectious: "Bezet door infectieuze patiënten", "Occupied by infectious patients";
        surge_24h: "Extra te openen binnen 24 uur", "Extra within 24 hours";
    });
    fn check(&self, _: &BedType) -> Result<(), DecodeError> {
        if self.occupied_infectious.is_some_and(|i| i > self.occupied) {
            return Err(field(
                "data.occupied_infectious",
                ErrorCode::MoreThanOccupied,
                "is more than the occupied beds",
            ));
        }
        if self.physical.is_some_and(|p| self.operational > p) {
            return Err(field("data.operational", ErrorCode::MoreThanPhysical, "is more than the physical beds"));
        }
        Ok(())
    }
}
impl EventData<TreatmentPlace> for TreatmentPlacesData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(TreatmentPlacesData {
        operational: "Operationeel (bemand)", "Operational (staffed)";
        in_use: "In gebruik", "In use";
    });
}
impl EventData<Triage> for CasualtyReceptionData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(CasualtyReceptionData {
        capacity: "Nu op te nemen slachtoffers", "Casualties it can take in now";
    });
}
impl EventData<AcuteFunction> for AcuteFunctionData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(AcuteFunctionData {
        status: "Status", "Status";
        reason: "Toelichting", "Reason";
        expected_end: "Verwacht einde", "Expected end";
    });
}
impl EventData for FacilityData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(FacilityData {
        status: "Status", "Status";
        reason: "Toelichting", "Reason";
    });
}
impl EventData<Supply> for SuppliesData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(SuppliesData {
        on_hand: "Voorraad", "On hand";
        daily_use: "Verbruik per dag", "Use per day";
        can_obtain_more: "Kan meer verkrijgen", "Can obtain more";
        reusing: "Hergebruikt", "Reusing";
    });
}
impl EventData<Utility> for UtilityData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(UtilityData {
        status: "Status", "Status";
        on_backup: "Op noodvoorziening (bijv. noodaggregaat)", "On backup (e.g. generator)";
        backup_hours_left: "Uren noodvoorziening over", "Backup hours left";
        cause: "Oorzaak", "Cause";
    });
    fn check(&self, key: &Utility) -> Result<(), DecodeError> {
        if self.cause.is_some() && !Self::applies("cause", key) {
            return Err(field("data.cause", ErrorCode::CauseOnlyForIct, "a cause is given for ICT utilities only"));
        }
        Ok(())
    }
    fn applies(field: &str, key: &Utility) -> bool {
        field != "cause" || key.is_ict()
    }
}
impl EventData<StaffRole> for StaffingData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(StaffingData {
        unfilled_shifts_24h: "Open diensten komende 24 uur", "Unfilled shifts next 24 hours";
        unfilled_shifts_72h: "Open diensten komende 72 uur", "Unfilled shifts next 72 hours";
        absence_percent: "Uitval (%)", "Absence (%)";
        critical: "Tekort is nu kritiek", "Shortage is critical now";
    });
}
impl EventData<Disbalance> for DisbalanceData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(DisbalanceData {
        level: "Niveau", "Level";
        note: "Toelichting", "Note";
    });
}
impl EventData for SelfSufficiencyData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(SelfSufficiencyData {
        hours: "Uren zelfredzaam", "Hours self-sufficient";
        limiting_factor: "Beperkende factor", "Limiting factor";
    });
}
impl EventData for PreparednessData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(PreparednessData {
        trained_coordinator: "Crisiscoördinator getraind", "Crisis coordinator trained";
        plan_revised: "Crisisplan herzien op", "Crisis plan revised on";
        last_exercise: "Laatst geoefend op", "Last exercised on";
    });
}
impl EventData for HomeCareData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(HomeCareData {
        clients: "Cliënten", "Clients";
        electricity_dependent: "Waarvan stroomafhankelijk", "Of whom electricity-dependent";
        visits_at_risk: "Bezoeken in gevaar", "Visits at risk";
    });
    fn check(&self, _: &()) -> Result<(), DecodeError> {
        if self.electricity_dependent > self.clients {
            return Err(field(
                "data.electricity_dependent",
                ErrorCode::MoreThanClients,
                "is more than the number of clients",
            ));
        }
        Ok(())
    }
}
impl EventData<CareType> for ReceivingCapacityData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(ReceivingCapacityData {
        clients: "Op te nemen cliënten", "Clients it can take in";
    });
}
impl EventData<CareType> for RelocationNeedData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(RelocationNeedData {
        lopend: "Lopend", "Walking";
        rolstoel: "Rolstoel", "Wheelchair";
        liggend: "Liggend", "Lying";
        needed_by: "Nodig vóór", "Needed by";
    });
}
impl EventData<Slug> for HelpRequestData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(HelpRequestData {
        category: "Categorie", "Category";
        urgency: "Urgentie", "Urgency";
        text: "Tekst", "Text";
    });
}
impl EventData<Slug> for HelpClosedData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(HelpClosedData {
        reason: "Toelichting", "Reason";
    });
}
impl EventData for NoteData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(NoteData {
        text: "Tekst", "Text";
    });
}
impl EventData for NotAffectedData {
    const FIELD_LABELS: &'static [FieldLabel] = field_labels!(NotAffectedData {
        uitvraag: "Kenmerk uitvraag", "Enquiry reference";
    });
}
impl EventData for RetractedData {}
impl EventData for OverdueData {}
impl EventData for IntakeRejectedData {}
impl EventData for LocationInfo {
    fn check(&self, _: &()) -> Result<(), DecodeError> {
        self.point.check().map_err(|r| DecodeError::Invalid(r.at("data.point")))
    }
}
impl EventData<Slug> for OrganisationInfo {}
impl EventData<Slug> for AgreementData {}
impl EventData<Slug> for IncidentData {
    fn check(&self, _: &Slug) -> Result<(), DecodeError> {
        if self.grip > 5 {
            let e = FieldError::new("data.grip", ErrorCode::OutOfRange, "GRIP levels run from 0 (none) to 5");
            return Err(DecodeError::Invalid(e.with("min", 0).with("max", 5)));
        }
        self.area.check("data.area").map_err(DecodeError::Invalid)?;
        Ok(())
    }
}
impl EventData<Slug> for UitvraagData {
    fn check(&self, _: &Slug) -> Result<(), DecodeError> {
        self.area.check("data.area")?;
        if !(1..=MAX_ASKED).contains(&self.asked.len()) {
            let e = FieldError::new("data.asked", ErrorCode::OutOfRange, "asks for 1 to 18 dimensions");
            return Err(DecodeError::Invalid(e.with("min", 1).with("max", MAX_ASKED)));
        }
        for (i, asked) in self.asked.iter().enumerate() {
            if self.asked[..i].iter().any(|a| a.dimension == asked.dimension) {
                let reason = format!("asks for {} twice", asked.dimension);
                return Err(field(&format!("data.asked[{i}].dimension"), ErrorCode::AskedTwice, &reason));
            }
            let known = crate::describe::dimension_keys(asked.dimension);
            for (k, key) in asked.keys.iter().enumerate() {
                if let Some(known) = known.as_ref().filter(|known| !known.contains(&key.as_str())) {
                    let allowed = known.join(", ");
                    let reason = format!("is not a key of {}; one of: {allowed}", asked.dimension);
                    let e = FieldError::new(&format!("data.asked[{i}].keys[{k}]"), ErrorCode::NotInVocabulary, &reason);
                    return Err(DecodeError::Invalid(e.with("allowed", allowed)));
                }
            }
        }
        if let Some(minutes) = self.renotify_minutes.filter(|m| !(5..=1440).contains(&m.get())) {
            let reason = format!("{} minutes: reminders go every 5 to 1440 minutes", minutes.get());
            let e = FieldError::new("data.renotify_minutes", ErrorCode::OutOfRange, &reason);
            return Err(DecodeError::Invalid(e.with("min", 5).with("max", 1440)));
        }
        Ok(())
    }
}
impl EventData<Slug> for UitvraagClosedData {}
impl EventData<Slug> for CallData {}
impl EventData<Slug> for HandelingsperspectiefData {
    fn check(&self, _: &Slug) -> Result<(), DecodeError> {
        self.area.check("data.area").map_err(DecodeError::Invalid)
    }
}
impl EventData<Slug> for ReadData {}
impl EventData<Slug> for ReminderDueData {}
impl EventData<Slug> for BeeldData {}
impl EventData<Slug> for NotificationData {}
impl EventData<ThresholdKey> for ThresholdData {}
impl EventData<ShortText> for AcknowledgedData {}

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
    pub(crate) fn parse<T: DeserializeOwned>(self) -> Result<T, DecodeError> {
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
        return Err(field("data", ErrorCode::NotAnObject, "must be a JSON object"));
    }
    serde_path_to_error::deserialize(data).map_err(|e| {
        // The path already ends at an unknown field; a missing one is named in the message.
        let mut path = e.path().to_string();
        let message = e.into_inner().to_string();
        if let Some(missing) = message.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            path = if path == "." { missing.to_owned() } else { format!("{path}.{missing}") };
        }
        let path = if path == "." { "data".to_owned() } else { format!("data.{path}") };
        DecodeError::Invalid(FieldError::from_serde(&path, &message))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_help_request_keeps_the_form_snapshots_hold() {
        // As the picture's snapshots stored them before `HelpChange`.
        for stored in [
            json!({ "kind": "help_request", "key": "hv-1", "status": "open",
                    "data": { "category": "personeel", "urgency": "hoog", "text": "Twee IC-verpleegkundigen" } }),
            json!({ "kind": "help_request", "key": "hv-1", "status": "in_behandeling",
                    "data": { "category": "personeel", "urgency": "laag", "text": "Een nog" } }),
            json!({ "kind": "help_request", "key": "hv-1", "status": "gesloten", "data": null,
                    "closed": { "reason": "Geregeld" } }),
        ] {
            let status: Status = serde_json::from_value(stored.clone()).expect("reads the stored form");
            assert_eq!(serde_json::to_value(&status).ok(), Some(stored));
        }
        let open_without_data = json!({ "kind": "help_request", "key": "hv-1", "status": "open", "data": null });
        assert!(serde_json::from_value::<Status>(open_without_data).is_err());
    }
}
