//! What a region's picture looks like to the people who watch it: locations with a state
//! per dimension, the chain's totals, active alerts and incidents. A pure function of the
//! [`Picture`] (no clock), so gateways diff it into deltas; staleness is added when read.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::area::Area;
use crate::payload::*;
use crate::picture::{LocationState, Observation, Picture, Touched};
use crate::rules::{worst, Rules, Verdict};
use crate::values::{Point, RegionCode, Slug};
use crate::vocab::*;
use crate::warm::{AdviceView, UitvraagView};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegionView {
    pub region: RegionCode,
    pub name: String,
    pub totals: Totals,
    pub locations: BTreeMap<Slug, LocationView>,
    /// Active alerts by id: `{location}/{dimension}/{key}`, `{location}/report_overdue`,
    /// or `{region}/...` for the region's own.
    pub alerts: BTreeMap<String, Alert>,
    pub incidents: BTreeMap<Slug, IncidentView>,
    pub thresholds: BTreeMap<ThresholdKey, u32>,
    /// Uitvragen asked by the region or addressing its locations, with its locations only.
    #[serde(default)]
    pub uitvragen: BTreeMap<Slug, UitvraagView>,
    /// Handelingsperspectieven published by the region or addressing its locations.
    #[serde(default)]
    pub handelingsperspectieven: BTreeMap<Slug, AdviceView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LocationView {
    pub name: String,
    pub organisation: Slug,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_name: Option<String>,
    pub category: Category,
    #[serde(rename = "type")]
    pub location_type: LocationType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    pub point: Point,
    /// Active incidents whose area holds this location (it is then in the warm phase).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<Slug>,
    /// Minutes between reports expected now (warm inside an incident area, else cold).
    pub interval_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_report: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_since: Option<DateTime<Utc>>,
    /// A message of its own system that ghor refused, until a valid report follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Rejected>,
    pub dimensions: BTreeMap<Dimension, DimensionView>,
    /// What its organisation agreed to share of it at location level, per audience (those
    /// not named see aggregates only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shared: BTreeMap<Audience, BTreeSet<Dimension>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rejected {
    pub time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DimensionView {
    /// The worst state of its values; absent for information only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    pub values: BTreeMap<String, ValueView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ValueView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// The region's threshold this value crossed to get its state, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdKey>,
    /// When observed.
    pub time: DateTime<Utc>,
    pub received: DateTime<Utc>,
    pub id: uuid::Uuid,
    pub actor: String,
    pub bron: Bron,
    pub bevestigd: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prognose: Option<String>,
    /// Withdrawn by its reporter as mistaken; shown as unknown until a new report.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retracted: bool,
    pub data: Value,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Capacity {
    pub free: u32,
    pub operational: u32,
    pub occupied: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub surge_24h: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SupplyMinimum {
    pub days: f64,
    /// The location with the fewest days; not named to one who sees no locations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Slug>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NeedAndCapacity {
    pub need: u32,
    pub capacity: u32,
}

/// The chain's totals for a region: capacity, not the single worst location.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Totals {
    pub locations: u32,
    pub reporting: u32,
    pub not_reporting: u32,
    #[schemars(with = "BTreeMap<BedType, OrWithheld<Capacity>>")]
    pub beds: BTreeMap<BedType, Capacity>,
    #[schemars(with = "BTreeMap<TreatmentPlace, OrWithheld<Capacity>>")]
    pub treatment_places: BTreeMap<TreatmentPlace, Capacity>,
    #[schemars(with = "BTreeMap<Triage, OrWithheld<u32>>")]
    pub casualty_reception: BTreeMap<Triage, u32>,
    #[schemars(with = "BTreeMap<AcuteFunction, OrWithheld<u32>>")]
    pub acute_function_stops: BTreeMap<AcuteFunction, u32>,
    /// Locations per state, per dimension.
    #[schemars(with = "BTreeMap<Dimension, BTreeMap<State, OrWithheld<u32>>>")]
    pub states: BTreeMap<Dimension, BTreeMap<State, u32>>,
    #[schemars(with = "BTreeMap<Supply, OrWithheld<SupplyMinimum>>")]
    pub min_supply_days: BTreeMap<Supply, SupplyMinimum>,
    /// How many locations each figure is over, by `{field}/{key}` (`beds/ic`,
    /// `min_supply_days/ffp2`, `unfilled_shifts_24h`): a figure over fewer locations than
    /// the `aggregate_min_locations` threshold names them, and is withheld from those who
    /// see no locations.
    #[serde(default)]
    pub contributors: BTreeMap<String, u32>,
    #[schemars(with = "OrWithheld<u32>")]
    pub supplies_under_line: u32,
    #[schemars(with = "OrWithheld<u32>")]
    pub on_backup_power: u32,
    #[schemars(with = "OrWithheld<u32>")]
    pub utilities_down: u32,
    #[schemars(with = "OrWithheld<u32>")]
    pub unfilled_shifts_24h: u32,
    #[schemars(with = "OrWithheld<u32>")]
    pub open_help_requests: u32,
    #[schemars(with = "BTreeMap<CareType, OrWithheld<NeedAndCapacity>>")]
    pub relocation: BTreeMap<CareType, NeedAndCapacity>,
    pub active_incidents: u32,
    pub max_grip: u8,
    /// The level of each headline figure, by the name `contributors` uses (`beds/ic`,
    /// `relocation`, `not_reporting`, …), decided by the region's rules
    /// ([`Rules::totals_levels`]): the page shows these and computes none.
    #[serde(default)]
    pub levels: BTreeMap<String, State>,
}

/// A figure of the totals, or in its place the marker that withholds it from one who sees
/// no locations, when fewer locations than the region's minimum are behind it (§7): the
/// shape a figure has in a view, as the schemas say.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a schema only
enum OrWithheld<T> {
    Figure(T),
    Withheld {
        #[schemars(extend("const" = true))]
        withheld: bool,
        /// `fewer_than_{n}_locations`.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alert {
    pub state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Slug>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The region's threshold the value crossed, when one decided it (the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdKey>,
    /// Since when the condition holds (observation time).
    pub since: DateTime<Utc>,
    pub acknowledged: bool,
    /// Who acknowledged it, and when, once someone has since it began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentView {
    pub name: String,
    pub state: IncidentState,
    pub grip: u8,
    pub reported_by: RegionCode,
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handelingsperspectief: Option<String>,
    pub time: DateTime<Utc>,
    /// When it was first observed active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened: Option<DateTime<Utc>>,
    /// While active: the region's locations in its area that have not reported since it
    /// opened, the ones to call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_reported: Vec<Slug>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// What the views of one region are computed with.
struct Context<'a> {
    region: RegionCode,
    rules: Rules,
    /// Incidents active anywhere: an area may reach across region borders.
    active: Vec<(&'a Slug, &'a Observation<(RegionCode, IncidentData)>)>,
}

impl Picture {
    fn context(&self, region: RegionCode) -> Context<'_> {
        let active = self.incidents.iter().filter(|(_, i)| i.value.1.state == IncidentState::Actief).collect();
        Context { region, rules: Rules::for_region(self, region), active }
    }

    /// The view of one region.
    pub fn region_view(&self, region: RegionCode) -> RegionView {
        let context = self.context(region);
        let locations = self
            .locations
            .iter()
            .filter(|(_, l)| l.region() == Some(region))
            .filter_map(|(id, l)| Some((id.clone(), self.location_view(l, &l.info.as_ref()?.value, &context))))
            .collect();
        let mut view = RegionView {
            region,
            name: region.info().name.clone(),
            totals: Totals::default(),
            locations,
            alerts: BTreeMap::new(),
            incidents: BTreeMap::new(),
            thresholds: BTreeMap::new(),
            uitvragen: BTreeMap::new(),
            handelingsperspectieven: BTreeMap::new(),
        };
        self.summarise(&context, &mut view);
        self.warm_phase(&mut view);
        view
    }

    /// Brings `view` up to date after only the views of `locations` (of its region) may
    /// have changed: those are recomputed, the region's totals and alerts summed again, and
    /// where those locations stand with its uitvragen and handelingsperspectieven.
    pub fn refresh_view<'a>(&self, view: &mut RegionView, locations: impl IntoIterator<Item = &'a Slug>) {
        let context = self.context(view.region);
        let locations: Vec<&Slug> = locations.into_iter().collect();
        for (id, u) in view.uitvragen.iter_mut() {
            if let Some(state) = self.uitvragen.get(id) {
                state.refresh_view(u, locations.iter().copied());
            }
        }
        for (id, a) in view.handelingsperspectieven.iter_mut() {
            if let Some(state) = self.handelingsperspectieven.get(id) {
                state.refresh_view(a, locations.iter().copied());
            }
        }
        for id in locations {
            let current = self
                .locations
                .get(id)
                .filter(|l| l.region() == Some(view.region))
                .and_then(|l| Some(self.location_view(l, &l.info.as_ref()?.value, &context)));
            match current {
                Some(v) => view.locations.insert(id.clone(), v),
                None => view.locations.remove(id),
            };
        }
        self.summarise(&context, view);
    }

    /// Alerts, incidents, totals and thresholds of a region from its locations' views.
    fn summarise(&self, context: &Context, view: &mut RegionView) {
        let region = context.region;
        let mut alerts = BTreeMap::new();
        for (id, location) in &view.locations {
            for (dim, d) in &location.dimensions {
                for (key, v) in &d.values {
                    if v.state == Some(State::Kritiek) {
                        let alert_id = format!("{id}/{dim}/{key}");
                        let mut alert = self.alert(&alert_id, Some(id), Some(*dim), Some(key), State::Kritiek, v.time);
                        alert.threshold = v.threshold;
                        alerts.insert(alert_id, alert);
                    }
                }
            }
            if let Some(since) = location.overdue_since {
                let alert_id = format!("{id}/report_overdue");
                alerts.insert(alert_id.clone(), self.alert(&alert_id, Some(id), None, None, State::Aandacht, since));
            }
            if let Some(rejected) = &location.rejected {
                let alert_id = format!("{id}/intake_rejected");
                alerts.insert(
                    alert_id.clone(),
                    self.alert(&alert_id, Some(id), None, None, State::Aandacht, rejected.time),
                );
            }
        }
        let regional: Vec<(&Slug, &LocationState)> =
            view.locations.keys().filter_map(|id| Some((id, self.locations.get(id)?))).collect();
        let incidents: BTreeMap<Slug, IncidentView> = self
            .incidents
            .iter()
            .filter(|(_, i)| {
                let (by, data) = &i.value;
                data.area.named_regions(*by).any(|r| r == region)
                    || regional
                        .iter()
                        .any(|(_, l)| l.info.as_ref().is_some_and(|info| data.area.holds(*by, &info.value)))
            })
            .map(|(id, i)| {
                let (by, d) = &i.value;
                let opened = self.incidents_opened.get(id).copied();
                let not_reported = match opened {
                    Some(opened) if d.state == IncidentState::Actief => view
                        .locations
                        .iter()
                        .filter(|(_, l)| l.incidents.contains(id) && l.last_report.is_none_or(|t| t < opened))
                        .map(|(slug, _)| slug.clone())
                        .collect(),
                    _ => Vec::new(),
                };
                let view = IncidentView {
                    name: d.name.as_str().to_owned(),
                    state: d.state,
                    grip: d.grip,
                    reported_by: *by,
                    area: d.area.clone(),
                    theme: d.theme,
                    handelingsperspectief: d.handelingsperspectief.as_ref().map(|h| h.as_str().to_owned()),
                    time: i.time,
                    opened,
                    not_reported,
                };
                (id.clone(), view)
            })
            .collect();
        let mut totals = totals(&regional, &view.locations, &incidents);
        totals.levels = context.rules.totals_levels(&totals);
        // The region's IC capacity at its critical level is an alert of the region itself.
        if totals.levels.get("beds/ic") == Some(&State::Kritiek) {
            let since = view
                .locations
                .values()
                .filter_map(|l| l.dimensions.get(&Dimension::Beds)?.values.get("ic"))
                .map(|v| v.time)
                .max();
            if let Some(since) = since {
                let id = format!("{region}/beds/ic");
                let mut alert = self.alert(&id, None, Some(Dimension::Beds), Some(&"ic".into()), State::Kritiek, since);
                alert.threshold = Some(ThresholdKey::RegionIcFreeCritical);
                alerts.insert(id, alert);
            }
        }
        view.totals = totals;
        view.alerts = alerts;
        view.incidents = incidents;
        view.thresholds = ThresholdKey::ALL.iter().map(|k| (*k, context.rules.get(*k))).collect();
    }

    /// The uitvragen and handelingsperspectieven asked by the region or addressing its
    /// locations, each with the region's locations only.
    fn warm_phase(&self, view: &mut RegionView) {
        let region = view.region;
        let in_region = |id: &Slug| self.locations.get(id).and_then(LocationState::region) == Some(region);
        let concerns = |by: RegionCode, addressed: &BTreeSet<Slug>| by == region || addressed.iter().any(in_region);
        view.uitvragen = self
            .uitvragen
            .iter()
            .filter(|(_, u)| concerns(u.region, &u.addressed))
            .map(|(id, u)| (id.clone(), u.view(in_region)))
            .collect();
        view.handelingsperspectieven = self
            .handelingsperspectieven
            .iter()
            .filter(|(_, a)| concerns(a.region, &a.addressed))
            .map(|(id, a)| (id.clone(), a.view(in_region)))
            .collect();
    }

    /// An alert, acknowledged when an acknowledgement came after `since`.
    fn alert(
        &self,
        alert_id: &str,
        location: Option<&Slug>,
        dimension: Option<Dimension>,
        key: Option<&String>,
        state: State,
        since: DateTime<Utc>,
    ) -> Alert {
        let acknowledgement = self.acknowledgements.get(alert_id).filter(|a| a.time >= since);
        Alert {
            state,
            location: location.cloned(),
            dimension,
            key: key.cloned(),
            threshold: None,
            since,
            acknowledged: acknowledgement.is_some(),
            acknowledged_by: acknowledgement.map(|a| a.actor.clone()),
            acknowledged_at: acknowledgement.map(|a| a.time),
        }
    }

    fn location_view(&self, loc: &LocationState, info: &LocationInfo, context: &Context) -> LocationView {
        let rules = &context.rules;
        let incidents: Vec<Slug> = context
            .active
            .iter()
            .filter(|(_, i)| i.value.1.area.holds(i.value.0, info))
            .map(|(id, _)| (*id).clone())
            .collect();
        let interval =
            if incidents.is_empty() { info.report_interval_cold_minutes } else { info.report_interval_warm_minutes };
        let dimensions = loc
            .slots
            .iter()
            .map(|(dim, keys)| {
                let values: BTreeMap<String, ValueView> = keys
                    .iter()
                    .map(|(key, v)| {
                        let retracted = loc.retracted.contains(&v.id);
                        let data = v.value.data_json();
                        // Data that cannot be shown is unknown, and says why, never `null`.
                        let verdict = if retracted || data.is_err() {
                            Some(Verdict { state: State::Onbekend, threshold: None })
                        } else {
                            rules.judge(&v.value)
                        };
                        let data = data.unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
                        let view = ValueView {
                            state: verdict.map(|v| v.state),
                            threshold: verdict.and_then(|v| v.threshold),
                            time: v.time,
                            received: v.received,
                            id: v.id,
                            actor: v.actor.clone(),
                            bron: v.bron,
                            bevestigd: v.bevestigd,
                            prognose: v.prognose.as_ref().map(|p| p.as_str().to_owned()),
                            retracted,
                            data,
                        };
                        (key.clone(), view)
                    })
                    .collect();
                let state = worst(values.values().filter_map(|v| v.state));
                (*dim, DimensionView { state, values })
            })
            .collect();
        LocationView {
            name: info.name.as_str().to_owned(),
            organisation: info.organisation.clone(),
            organisation_name: self.organisations.get(&info.organisation).map(|o| o.value.name.as_str().to_owned()),
            category: info.location_type.category(),
            location_type: info.location_type,
            municipality: info.municipality.as_ref().map(|m| m.as_str().to_owned()),
            point: info.point,
            incidents,
            interval_minutes: interval.get(),
            last_report: loc.last_report(),
            overdue_since: loc.overdue_since(),
            rejected: loc.open_rejection().map(|r| Rejected {
                time: r.time,
                field: r.value.field.as_ref().map(|f| f.as_str().to_owned()),
                reason: r.value.reason.as_str().to_owned(),
            }),
            dimensions,
            shared: self
                .agreement(info.region, &info.organisation)
                .map(|a| a.location_level.clone())
                .unwrap_or_default(),
        }
    }
}

fn totals(
    regional: &[(&Slug, &LocationState)],
    views: &BTreeMap<Slug, LocationView>,
    incidents: &BTreeMap<Slug, IncidentView>,
) -> Totals {
    let mut t = Totals { locations: views.len() as u32, ..Totals::default() };
    for (id, view) in views {
        t.reporting += u32::from(view.last_report.is_some());
        // Overdue, or silent since an incident around it opened: both are to be called.
        let silent = view.incidents.iter().any(|i| incidents.get(i).is_some_and(|i| i.not_reported.contains(id)));
        t.not_reporting += u32::from(view.overdue_since.is_some() || silent);
        for (dim, d) in &view.dimensions {
            if let Some(s) = d.state {
                *t.states.entry(*dim).or_default().entry(s).or_default() += 1;
            }
        }
        t.supplies_under_line +=
            u32::from(view.dimensions.get(&Dimension::Supplies).is_some_and(|d| d.state == Some(State::Kritiek)));
    }
    for &(id, loc) in regional {
        let mut utility_down = false;
        // The figures this location adds to, each counted once.
        let mut figures = BTreeSet::new();
        let current = loc.slots.values().flat_map(|keys| keys.values()).filter(|v| !loc.retracted.contains(&v.id));
        for v in current {
            if let Some(figure) = figure_of(&v.value) {
                figures.insert(figure);
            }
            match &v.value {
                Status::Beds { key, data } => {
                    let c = t.beds.entry(*key).or_default();
                    c.operational += data.operational.get();
                    c.occupied += data.occupied.get();
                    c.free += data.free();
                    c.surge_24h += data.surge_24h.map_or(0, |s| s.get());
                }
                Status::TreatmentPlaces { key, data } => {
                    let c = t.treatment_places.entry(*key).or_default();
                    c.operational += data.operational.get();
                    c.occupied += data.in_use.get();
                    c.free += data.operational.get().saturating_sub(data.in_use.get());
                }
                Status::CasualtyReception { key, data } => {
                    *t.casualty_reception.entry(*key).or_default() += data.capacity.get()
                }
                Status::AcuteFunction { key, data } if data.status == FunctionStatus::Stop => {
                    *t.acute_function_stops.entry(*key).or_default() += 1
                }
                Status::Supplies { key, data } => {
                    if let Some(days) = data.days() {
                        let days = (days * 10.0).floor() / 10.0;
                        let m =
                            t.min_supply_days.entry(*key).or_insert(SupplyMinimum { days, location: Some(id.clone()) });
                        if days < m.days {
                            *m = SupplyMinimum { days, location: Some(id.clone()) };
                        }
                    }
                }
                Status::Utility { key, data } => {
                    utility_down |= data.status == UtilityStatus::Uitgevallen;
                    if *key == Utility::Stroom && data.on_backup {
                        t.on_backup_power += 1;
                    }
                }
                Status::Staffing { data, .. } => t.unfilled_shifts_24h += data.unfilled_shifts_24h.get(),
                Status::HelpRequest { change, .. } if change.status() != HelpStatus::Gesloten => {
                    t.open_help_requests += 1
                }
                Status::ReceivingCapacity { key, data } => {
                    t.relocation.entry(*key).or_default().capacity += data.clients.get()
                }
                Status::RelocationNeed { key, data } => t.relocation.entry(*key).or_default().need += data.total(),
                _ => {}
            }
        }
        t.utilities_down += u32::from(utility_down);
        for figure in figures {
            *t.contributors.entry(figure).or_default() += 1;
        }
    }
    for i in incidents.values().filter(|i| matches!(i.state, IncidentState::Dreiging | IncidentState::Actief)) {
        t.active_incidents += 1;
        t.max_grip = t.max_grip.max(i.grip);
    }
    t
}

/// The figure of [`Totals`] a status adds to, as [`Totals::contributors`] names it.
fn figure_of(status: &Status) -> Option<String> {
    let name = |field: &str, key: &dyn std::fmt::Display| format!("{field}/{key}");
    match status {
        Status::Beds { key, .. } => Some(name("beds", key)),
        Status::TreatmentPlaces { key, .. } => Some(name("treatment_places", key)),
        Status::CasualtyReception { key, .. } => Some(name("casualty_reception", key)),
        Status::Supplies { key, data } => data.days().map(|_| name("min_supply_days", key)),
        Status::Staffing { .. } => Some("unfilled_shifts_24h".to_owned()),
        Status::ReceivingCapacity { key, .. } | Status::RelocationNeed { key, .. } => Some(name("relocation", key)),
        _ => None,
    }
}

/// Every region's view, kept current as the picture changes: only what the folded events
/// touched is computed again. Always equal to [`Picture::region_view`] of each region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Views(BTreeMap<RegionCode, RegionView>);

/// What changed in one region's view: all of it, or the views of some locations (and with
/// them the region's totals and alerts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changed {
    pub whole: bool,
    pub locations: BTreeSet<Slug>,
}

impl Views {
    pub fn of(picture: &Picture) -> Views {
        Views(picture.regions().into_iter().map(|r| (r, picture.region_view(r))).collect())
    }

    pub fn get(&self, region: RegionCode) -> Option<&RegionView> {
        self.0.get(&region)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&RegionCode, &RegionView)> {
        self.0.iter()
    }

    /// Brings the views up to date with `picture` after folding in what noted `touched`.
    pub fn update(&mut self, picture: &Picture, touched: &Touched) -> BTreeMap<RegionCode, Changed> {
        let mut changed: BTreeMap<RegionCode, Changed> = BTreeMap::new();
        for region in &touched.regions {
            changed.entry(*region).or_default().whole = true;
        }
        for id in &touched.locations {
            if let Some(region) = picture.locations.get(id).and_then(LocationState::region) {
                let c = changed.entry(region).or_default();
                c.whole |= !self.0.contains_key(&region);
                if !c.whole {
                    c.locations.insert(id.clone());
                }
            }
        }
        for (region, c) in &mut changed {
            match self.0.get_mut(region) {
                Some(view) if !c.whole => picture.refresh_view(view, &c.locations),
                _ => {
                    c.locations.clear();
                    self.0.insert(*region, picture.region_view(*region));
                }
            }
        }
        changed
    }
}

/// How old each value is at `now`, and whether it is older than the location's interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Staleness {
    pub now: DateTime<Utc>,
    pub locations: BTreeMap<Slug, LocationStaleness>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LocationStaleness {
    /// Seconds since the newest report; absent when it never reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<i64>,
    /// Dimensions whose oldest value is older than the expected interval (shown `verouderd`).
    pub stale: Vec<Dimension>,
    /// Age in seconds of each dimension's oldest value.
    pub dimension_age_seconds: BTreeMap<Dimension, i64>,
}

impl RegionView {
    /// Staleness depends on the clock, so it is computed here, when read, never folded.
    pub fn staleness(&self, now: DateTime<Utc>) -> Staleness {
        let locations = self
            .locations
            .iter()
            .map(|(id, l)| {
                let limit = i64::from(l.interval_minutes) * 60;
                let dimension_age_seconds: BTreeMap<Dimension, i64> = l
                    .dimensions
                    .iter()
                    .filter_map(|(d, v)| Some((*d, (now - v.values.values().map(|v| v.time).min()?).num_seconds())))
                    .collect();
                let stale = dimension_age_seconds.iter().filter(|(_, age)| **age > limit).map(|(d, _)| *d).collect();
                let age_seconds = l.last_report.map(|t| (now - t).num_seconds());
                (id.clone(), LocationStaleness { age_seconds, stale, dimension_age_seconds })
            })
            .collect();
        Staleness { now, locations }
    }
}
