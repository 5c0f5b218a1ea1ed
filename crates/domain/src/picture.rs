//! The one pure fold: `Picture::apply(&mut self, &Event)`. No I/O, no clock, no failure
//! path. Every value is "newest (time, id) wins" and every set only grows, so the picture
//! does not depend on arrival order, and a repeated (source, id) changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{Event, Source};
use crate::payload::*;
use crate::values::{RegionCode, ShortText, Slug};
use crate::vocab::{Audience, Bron, Dimension, IncidentState, ThresholdKey};
use crate::warm::{about_uitvraag, note_delivery, AdviceState, Deliveries, Delivery, UitvraagState};

/// An observation: a value with its provenance (when observed, by whom, from which source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation<T> {
    pub time: DateTime<Utc>,
    pub id: Uuid,
    pub received: DateTime<Utc>,
    pub actor: String,
    pub bron: Bron,
    pub bevestigd: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prognose: Option<ShortText>,
    pub value: T,
}

impl<T> Observation<T> {
    fn of(event: &Event, value: T) -> Self {
        Observation {
            time: event.time,
            id: event.id,
            received: event.stamp.received,
            actor: event.stamp.actor.clone(),
            bron: event.bron,
            bevestigd: event.bevestigd,
            prognose: event.prognose.clone(),
            value,
        }
    }

    /// Which came first: the earliest (time, id), of two copies of one event the first received.
    fn precedes(&self, other: &Self) -> bool {
        (self.time, self.id, self.received) < (other.time, other.id, other.received)
    }

    /// Newest observation wins; between two copies of one event the first received stays.
    fn supersedes(&self, other: &Self) -> bool {
        (self.time, self.id, std::cmp::Reverse(self.received))
            > (other.time, other.id, std::cmp::Reverse(other.received))
    }
}

/// Puts `new` into `slot` when it is newer than what is there.
fn keep_newest<T>(slot: &mut Option<Observation<T>>, new: Observation<T>) {
    if slot.as_ref().is_none_or(|old| new.supersedes(old)) {
        *slot = Some(new);
    }
}

/// Puts `new` into `slot` when it came first (for what the first of counts: a closing, a
/// read receipt, an issued beeld).
pub(crate) fn keep_first<T>(slot: &mut Option<Observation<T>>, new: Observation<T>) {
    if slot.as_ref().is_none_or(|old| new.precedes(old)) {
        *slot = Some(new);
    }
}

fn keep_first_in<K: Ord, T>(map: &mut BTreeMap<K, Observation<T>>, key: K, new: Observation<T>) {
    if map.get(&key).is_none_or(|old| new.precedes(old)) {
        map.insert(key, new);
    }
}

pub(crate) fn keep_newest_in<K: Ord, T>(map: &mut BTreeMap<K, Observation<T>>, key: K, new: Observation<T>) {
    match map.get(&key) {
        Some(old) if !new.supersedes(old) => {}
        _ => {
            map.insert(key, new);
        }
    }
}

/// The state of the location an event's source names, if it is a location.
fn located<'a>(locations: &'a mut BTreeMap<Slug, LocationState>, source: &Source) -> Option<&'a mut LocationState> {
    match source {
        Source::Location(id) => locations.get_mut(id),
        Source::Region(_) => None,
    }
}

/// Everything known about one location.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LocationState {
    /// The region the events about it were stamped with; the registration's when known.
    pub region: Option<RegionCode>,
    pub info: Option<Observation<LocationInfo>>,
    /// Current observation per dimension and key.
    pub slots: BTreeMap<Dimension, BTreeMap<String, Observation<Status>>>,
    /// Observations withdrawn as mistaken.
    pub retracted: BTreeSet<Uuid>,
    pub overdue: Option<Observation<OverdueData>>,
    /// The newest message of its own system that ghor refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Observation<IntakeRejectedData>>,
    /// Outcomes of notifications to it per uitvraag they were about, the newest per
    /// notification: where one waits that reached the fold before its uitvraag's opening.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notices: BTreeMap<Slug, Deliveries>,
}

impl LocationState {
    pub fn region(&self) -> Option<RegionCode> {
        self.info.as_ref().map(|i| i.value.region).or(self.region)
    }

    /// Time of the newest observation, of any dimension.
    pub fn last_report(&self) -> Option<DateTime<Utc>> {
        self.slots.values().flat_map(|keys| keys.values()).map(|v| v.time).max()
    }

    /// The refused intake message, while no valid report has been received after it. (By
    /// receipt, not observation: a report observed before the refusal but sent after it
    /// still shows the institution's system works again.)
    pub fn open_rejection(&self) -> Option<&Observation<IntakeRejectedData>> {
        let last_received = self.slots.values().flat_map(|keys| keys.values()).map(|v| v.received).max();
        self.rejected.as_ref().filter(|r| last_received.is_none_or(|last| last <= r.received))
    }

    /// The start of the missed slot, when the location is overdue now.
    pub fn overdue_since(&self) -> Option<DateTime<Utc>> {
        let due = self.overdue.as_ref()?.value.due;
        (self.last_report().is_none_or(|last| last < due)).then_some(due)
    }
}

/// What folding events may have changed in the region views.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Touched {
    /// Regions where any location's view may have changed.
    pub regions: BTreeSet<RegionCode>,
    /// Locations whose own view may have changed (and with it their region's totals and alerts).
    pub locations: BTreeSet<Slug>,
}

impl Touched {
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty() && self.locations.is_empty()
    }

    /// Adds what `other` touched.
    pub fn extend(&mut self, other: Touched) {
        self.regions.extend(other.regions);
        self.locations.extend(other.locations);
    }
}

/// The common operational picture: the fold of the log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Picture {
    pub locations: BTreeMap<Slug, LocationState>,
    pub organisations: BTreeMap<Slug, Observation<OrganisationInfo>>,
    /// What each organisation agreed to share of its locations in a region.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub agreements: BTreeMap<RegionCode, BTreeMap<Slug, Observation<AgreementData>>>,
    /// Incidents with the region that reported them.
    pub incidents: BTreeMap<Slug, Observation<(RegionCode, IncidentData)>>,
    /// When each incident was first observed active: the earliest such observation, so
    /// the order events arrive in does not change it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub incidents_opened: BTreeMap<Slug, DateTime<Utc>>,
    pub thresholds: BTreeMap<RegionCode, BTreeMap<ThresholdKey, Observation<u32>>>,
    /// Newest acknowledgement per alert id.
    pub acknowledgements: BTreeMap<String, Observation<()>>,
    #[serde(default)]
    pub uitvragen: BTreeMap<Slug, UitvraagState>,
    #[serde(default)]
    pub handelingsperspectieven: BTreeMap<Slug, AdviceState>,
    /// Per uitvraag, the rounds of reminders the scheduler said were due, with when: a set
    /// that only grows, so the scheduler writes each round once.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reminders: BTreeMap<Slug, BTreeMap<u32, DateTime<Utc>>>,
    /// The beelden issued per region; the first issuing of an id holds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub beelden: BTreeMap<RegionCode, BTreeMap<Slug, Observation<BeeldData>>>,
}

impl Picture {
    /// Folds one event in. Never fails: validation happened before the log. One arm per
    /// payload and no catch-all, so a new kind of event does not compile without its arm.
    pub fn apply(&mut self, event: &Event) {
        if let Source::Location(id) = &event.source {
            let loc = self.locations.entry(id.clone()).or_default();
            // The smallest stamped region, so that arrival order does not matter.
            loc.region = Some(loc.region.map_or(event.stamp.region, |r| r.min(event.stamp.region)));
        }
        // Ingest refuses a payload with the other kind of source than its type's; such an
        // event, should one be in the log, changes nothing below.
        let region = match &event.source {
            Source::Region(region) => Some(*region),
            Source::Location(_) => None,
        };
        match &event.payload {
            Payload::Status(status) => {
                if let Some(loc) = located(&mut self.locations, &event.source) {
                    let new = Observation::of(event, status.clone());
                    keep_newest_in(loc.slots.entry(status.dimension()).or_default(), status.key(), new);
                    if let Some(id) = event.location() {
                        for uitvraag in self.uitvragen.values_mut() {
                            uitvraag.note(id, status, event.time);
                        }
                    }
                }
            }
            Payload::Retracted(r) => {
                if let Some(loc) = located(&mut self.locations, &event.source) {
                    loc.retracted.insert(r.event_id);
                }
            }
            Payload::ReportOverdue(o) => {
                if let Some(loc) = located(&mut self.locations, &event.source) {
                    let mut new = Observation::of(event, o.clone());
                    new.time = o.due;
                    keep_newest(&mut loc.overdue, new);
                }
            }
            Payload::LocationRegistered(info) => {
                if let Some(loc) = located(&mut self.locations, &event.source) {
                    keep_newest(&mut loc.info, Observation::of(event, info.clone()))
                }
            }
            Payload::IntakeRejected(r) => {
                if let Some(loc) = located(&mut self.locations, &event.source) {
                    keep_newest(&mut loc.rejected, Observation::of(event, r.clone()))
                }
            }
            Payload::OrganisationRegistered { organisation, info } => {
                if region.is_some() {
                    keep_newest_in(&mut self.organisations, organisation.clone(), Observation::of(event, info.clone()))
                }
            }
            Payload::AgreementRecorded { organisation, data } => {
                if let Some(region) = region {
                    let agreements = self.agreements.entry(region).or_default();
                    keep_newest_in(agreements, organisation.clone(), Observation::of(event, data.clone()))
                }
            }
            Payload::Incident { incident, data, .. } => {
                if let Some(region) = region {
                    if data.state == IncidentState::Actief {
                        let opened = self.incidents_opened.entry(incident.clone()).or_insert(event.time);
                        *opened = (*opened).min(event.time);
                    }
                    keep_newest_in(
                        &mut self.incidents,
                        incident.clone(),
                        Observation::of(event, (region, data.clone())),
                    )
                }
            }
            Payload::ThresholdSet { key, data } => {
                if let Some(region) = region {
                    keep_newest_in(
                        self.thresholds.entry(region).or_default(),
                        *key,
                        Observation::of(event, data.value.get()),
                    )
                }
            }
            Payload::AlertAcknowledged { alert, .. } => {
                if region.is_some() {
                    keep_newest_in(&mut self.acknowledgements, alert.as_str().to_owned(), Observation::of(event, ()))
                }
            }
            // The first opening holds (see `warm`: whom it addresses is decided then).
            Payload::UitvraagOpened { uitvraag, data } => {
                if let Some(region) = region.filter(|_| !self.uitvragen.contains_key(uitvraag)) {
                    let opened = Observation::of(event, data.clone());
                    let state = UitvraagState::open(&self.locations, uitvraag.clone(), region, opened);
                    self.uitvragen.insert(uitvraag.clone(), state);
                }
            }
            Payload::UitvraagClosed { uitvraag, data } => {
                if let Some(u) = self.uitvragen.get_mut(uitvraag).filter(|_| region.is_some()) {
                    // The first closing freezes the result.
                    keep_first(&mut u.closed, Observation::of(event, data.clone()));
                }
            }
            Payload::CallRecorded { uitvraag, data } => {
                if let Some(u) = self.uitvragen.get_mut(uitvraag).filter(|_| region.is_some()) {
                    u.record_call(Observation::of(event, data.clone()));
                }
            }
            Payload::HandelingsperspectiefPublished { advice, data } => {
                if let Some(region) = region.filter(|_| !self.handelingsperspectieven.contains_key(advice)) {
                    let state = AdviceState::publish(&self.locations, region, Observation::of(event, data.clone()));
                    self.handelingsperspectieven.insert(advice.clone(), state);
                }
            }
            Payload::HandelingsperspectiefRead { advice, data } => {
                if let (Some(a), Some(id)) = (self.handelingsperspectieven.get_mut(advice), event.location()) {
                    a.mark_read(id, Observation::of(event, data.clone()));
                }
            }
            Payload::UitvraagReminderDue { uitvraag, data } => {
                if region.is_some() {
                    let due =
                        self.reminders.entry(uitvraag.clone()).or_default().entry(data.round.get()).or_insert(data.due);
                    *due = (*due).min(data.due);
                }
            }
            Payload::BeeldIssued { beeld, data } => {
                if let Some(region) = region {
                    let issued = self.beelden.entry(region).or_default();
                    keep_first_in(issued, beeld.clone(), Observation::of(event, data.clone()));
                }
            }
            // Outcomes about an uitvraag; those of other notifications (handelingsperspectief,
            // overdue reminders) are in the log for the record, not in the picture.
            Payload::Notification { notification, state, data } => {
                let about = data.about.as_ref().filter(|_| about_uitvraag(data.kind));
                if let (Some(about), Some(id), Some(loc)) =
                    (about, event.location(), located(&mut self.locations, &event.source))
                {
                    let outcome = Observation::of(event, Delivery::of(*state, data));
                    let waiting = loc.notices.entry(about.clone()).or_default();
                    note_delivery(waiting, notification.clone(), outcome.clone());
                    if let Some(u) = self.uitvragen.get_mut(about).filter(|u| u.addressed.contains(id)) {
                        note_delivery(u.deliveries.entry(id.clone()).or_default(), notification.clone(), outcome);
                    }
                }
            }
        }
    }

    /// Folds `event` in and notes what of the region views it may change.
    pub fn apply_noting(&mut self, event: &Event, touched: &mut Touched) {
        let region_before = self.region_of(event);
        let incident_before: Vec<RegionCode> = match &event.payload {
            Payload::Incident { incident, .. } => self
                .incidents
                .get(incident)
                .map(|i| std::iter::once(i.value.0).chain(i.value.1.area.regions.iter().copied()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        self.apply(event);
        let region = self.region_of(event);
        match (&event.source, &event.payload) {
            // Only the location's own view, its region's totals and alerts, and where it
            // stands with the uitvragen and handelingsperspectieven of its region (an
            // answer, a delivery, a "gelezen").
            (
                Source::Location(id),
                Payload::Status(_)
                | Payload::Retracted(_)
                | Payload::ReportOverdue(_)
                | Payload::IntakeRejected(_)
                | Payload::HandelingsperspectiefRead { .. }
                | Payload::Notification { .. },
            ) if region == region_before => {
                if !touched.locations.contains(id) {
                    touched.locations.insert(id.clone());
                }
            }
            // An area drawn as a circle or by municipality can reach into any region; an
            // acknowledgement names its alert, whichever region that is in.
            (
                _,
                Payload::AlertAcknowledged { .. }
                | Payload::UitvraagOpened { .. }
                | Payload::UitvraagClosed { .. }
                | Payload::CallRecorded { .. }
                | Payload::HandelingsperspectiefPublished { .. },
            ) => touched.regions.extend(self.regions()),
            (_, Payload::Incident { .. }) => {
                touched.regions.extend(self.regions());
                touched.regions.extend(incident_before);
            }
            // The organisation's name shows beside each of its locations, and what it
            // agreed to share is in each of their views.
            (
                _,
                Payload::OrganisationRegistered { organisation, .. } | Payload::AgreementRecorded { organisation, .. },
            ) => {
                touched.regions.insert(region);
                touched.regions.extend(
                    self.locations
                        .values()
                        .filter(|l| l.info.as_ref().is_some_and(|i| &i.value.organisation == organisation))
                        .filter_map(LocationState::region),
                )
            }
            // The scheduler's rounds of reminders and the beelden issued show in no view.
            (_, Payload::UitvraagReminderDue { .. } | Payload::BeeldIssued { .. }) => {}
            // Registrations (which may move a location) and thresholds; an observation
            // that moved its location's region; and how a notification about an uitvraag
            // went, which the uitvraag's view in the location's region shows.
            (
                _,
                Payload::LocationRegistered(_)
                | Payload::ThresholdSet { .. }
                | Payload::Status(_)
                | Payload::Retracted(_)
                | Payload::ReportOverdue(_)
                | Payload::IntakeRejected(_)
                | Payload::HandelingsperspectiefRead { .. }
                | Payload::Notification { .. },
            ) => touched.regions.extend([region_before, region, event.stamp.region]),
        }
    }

    /// The dimensions of `location` that `audience` may see at location level, as its
    /// organisation agreed for the region it lies in; empty without an agreement.
    pub fn shared_with(&self, location: &Slug, audience: Audience) -> BTreeSet<Dimension> {
        let Some(info) = self.locations.get(location).and_then(|l| l.info.as_ref()) else { return BTreeSet::new() };
        let agreement = self.agreement(info.value.region, &info.value.organisation);
        agreement.and_then(|a| a.location_level.get(&audience)).cloned().unwrap_or_default()
    }

    /// What `organisation` agreed to share of its locations in `region`.
    pub fn agreement(&self, region: RegionCode, organisation: &Slug) -> Option<&AgreementData> {
        self.agreements.get(&region).and_then(|a| a.get(organisation)).map(|a| &a.value)
    }

    /// The threshold in force in a region.
    pub fn threshold(&self, region: RegionCode, key: ThresholdKey) -> u32 {
        self.thresholds.get(&region).and_then(|t| t.get(&key)).map_or_else(|| key.default_value(), |v| v.value)
    }

    /// Regions that have anything in the picture.
    pub fn regions(&self) -> BTreeSet<RegionCode> {
        let mut r: BTreeSet<RegionCode> = self.locations.values().filter_map(LocationState::region).collect();
        r.extend(self.incidents.values().map(|i| i.value.0));
        r.extend(self.thresholds.keys().copied());
        r
    }

    /// The region an event lands in once folded (for change tracking).
    pub fn region_of(&self, event: &Event) -> RegionCode {
        event
            .location()
            .and_then(|id| self.locations.get(id))
            .and_then(LocationState::region)
            .unwrap_or(event.stamp.region)
    }
}
