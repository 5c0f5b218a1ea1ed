//! What a caller may see of a region's view (§7): every location, its own organisation's,
//! or aggregates only, and beside those, of other locations the dimensions their
//! organisation agreed to share with the caller's audience (other institutions,
//! ketenpartners, bestuur), named, and last reported as far as those dimensions say. Which of these a
//! caller gets is [`crate::policy::visibility`]'s word (from the role table); this applies
//! it alike to views and to patches of them. When an agreement changes, a patch carries
//! each of the organisation's locations whole, as the caller may see it now.
//!
//! Aggregates shown to those who see no locations never name one: the location behind a
//! minimum is left out, and a figure over fewer locations than the region's
//! `aggregate_min_locations` threshold (a total over one location is that location's
//! figure) is replaced by a marker, `{"withheld": true, "reason": "fewer_than_3_locations"}`.
//! A patch that touches such a figure carries it whole, as the caller may see it now, so
//! that a figure turning withheld (or shown again) replaces what the client holds. The
//! level of a withheld figure is withheld too (it would tell the figure's side of a
//! threshold): absent from `totals.levels`, which a patch then carries whole.

use std::borrow::Cow;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use ghor_domain::view::Totals;
use ghor_domain::vocab::{Audience, Dimension, ThresholdKey};
use ghor_domain::{Picture, RegionCode, RegionView, Slug};
use serde_json::{json, Map, Value};

use super::Folded;

/// The fields of [`Totals`] that are figures over locations, maps of them by key.
const FIGURES: [&str; 5] = ["beds", "treatment_places", "casualty_reception", "min_supply_days", "relocation"];
/// The fields of [`Totals`] that are one figure over locations.
const SINGLE_FIGURES: [&str; 1] = ["unfilled_shifts_24h"];
/// The fields of [`Totals`] that count locations by what they reported. Over fewer
/// reporting locations than the threshold they say what those few reported, so they are
/// withheld alike, count by count.
const COUNTS: [&str; 6] = [
    "acute_function_stops",
    "states",
    "supplies_under_line",
    "on_backup_power",
    "utilities_down",
    "open_help_requests",
];
/// Every field a figure can hold, shown or withheld: a patch that replaces a figure removes
/// those its new form does not have.
const FIGURE_FIELDS: [&str; 10] =
    ["free", "operational", "occupied", "surge_24h", "days", "location", "need", "capacity", "withheld", "reason"];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Location level.
    Full,
    /// Totals, region-wide alerts and incidents; the locations of `own` organisation whole;
    /// of every other location the dimensions its organisation agreed to share with
    /// `audience`, and nothing else of it.
    Agreed { own: Option<Slug>, audience: Option<Audience> },
}

/// What a location's view says beside its dimensions that one who sees it by agreement
/// does not see: whether it is late, and what of its own system was refused, say
/// something of every dimension.
const NOT_SHARED: [&str; 2] = ["overdue_since", "rejected"];

impl Visibility {
    /// May this caller see the detail of a location of `organisation`?
    pub fn sees_organisation(&self, organisation: &Slug) -> bool {
        match self {
            Visibility::Full => true,
            Visibility::Agreed { own, .. } => own.as_ref() == Some(organisation),
        }
    }

    /// May this caller see this location's detail, whole?
    pub fn sees_location(&self, picture: &Picture, location: &str) -> bool {
        match self {
            Visibility::Full => true,
            Visibility::Agreed { own: None, .. } => false,
            Visibility::Agreed { own: Some(_), .. } => Slug::try_from(location)
                .ok()
                .and_then(|id| picture.locations.get(&id))
                .and_then(|l| l.info.as_ref())
                .is_some_and(|i| self.sees_organisation(&i.value.organisation)),
        }
    }

    /// The dimensions of a location this caller sees by its organisation's agreement (of a
    /// location it sees whole: none, it needs no agreement).
    pub fn shared(&self, picture: &Picture, location: &str) -> BTreeSet<Dimension> {
        match (self, Slug::try_from(location)) {
            (Visibility::Agreed { audience: Some(audience), .. }, Ok(id)) if !self.sees_location(picture, location) => {
                picture.shared_with(&id, *audience)
            }
            _ => BTreeSet::new(),
        }
    }

    /// May this caller see this alert? Alert ids are `location/dimension/key`,
    /// `location/what`, or start with the region code for the region's own.
    pub fn sees_alert(&self, picture: &Picture, id: &str) -> bool {
        let mut parts = id.split('/');
        let owner = parts.next().unwrap_or_default();
        owner.starts_with("VR")
            || self.sees_location(picture, owner)
            || Dimension::parse(parts.next().unwrap_or_default())
                .is_some_and(|d| self.shared(picture, owner).contains(&d))
    }

    /// Trims a view of `region` (or a merge patch of one) in place; `st` is the folded
    /// state the region's current totals are taken from.
    pub fn filter(&self, st: &Folded, region: RegionCode, view: &mut Value) {
        self.filter_view(&st.picture, || st.region_view(region), view);
    }

    /// Trims a region's view (or a merge patch of one) in place: `picture` holds the
    /// registrations and agreements that decide (the present ones, also for a view of the
    /// past), `current` gives the whole view the patched one becomes, whose totals are shown.
    pub fn filter_view<'v>(&self, picture: &Picture, current: impl Fn() -> Cow<'v, RegionView>, view: &mut Value) {
        if *self == Visibility::Full {
            return;
        }
        let Some(obj) = view.as_object_mut() else {
            return;
        };
        let whole = obj.contains_key("region");
        if let Some(Value::Object(locations)) = obj.get_mut("locations") {
            let current = (!whole).then(&current);
            locations.retain(|id, location| {
                if self.sees_location(picture, id) || location.is_null() {
                    return true;
                }
                let shared = self.shared(picture, id);
                let changed = current.is_some() && location.get("shared").is_some();
                if shared.is_empty() {
                    // No longer shared with this caller: gone from what it sees.
                    *location = Value::Null;
                    return changed;
                }
                let full = match &current {
                    None => location.clone(),
                    Some(current) => {
                        let now = Slug::try_from(id.as_str()).ok().and_then(|id| current.locations.get(&id));
                        match now.map(serde_json::to_value) {
                            Some(Ok(full)) => full,
                            _ => return false,
                        }
                    }
                };
                let part = match (changed, whole) {
                    // The agreement changed: what the caller sees of it now, whole.
                    (true, _) => {
                        *location = full.clone();
                        Part::Replacing
                    }
                    (false, true) => Part::Whole,
                    (false, false) => Part::Patch,
                };
                shared_part(location, &full, &shared, part);
                true
            });
        }
        if let Some(Value::Object(alerts)) = obj.get_mut("alerts") {
            alerts.retain(|id, _| self.sees_alert(picture, id));
        }
        if let Some(Value::Object(incidents)) = obj.get_mut("incidents") {
            // Who in an area has not reported names locations: only those the caller sees.
            for incident in incidents.values_mut() {
                if let Some(Value::Array(silent)) = incident.get_mut("not_reported") {
                    silent.retain(|id| id.as_str().is_some_and(|id| self.sees_location(picture, id)));
                }
            }
        }
        if let Some(Value::Object(entries)) = obj.get_mut("uitvragen") {
            self.filter_warm(picture, entries, |id| picture.uitvragen.get(id).map(|u| &u.addressed));
        }
        if let Some(Value::Object(entries)) = obj.get_mut("handelingsperspectieven") {
            self.filter_warm(picture, entries, |id| picture.handelingsperspectieven.get(id).map(|a| &a.addressed));
        }
        if !whole && !obj.contains_key("totals") && !obj.contains_key("thresholds") {
            return;
        }
        let current = current();
        let shown = aggregate_totals(&current.totals, current.thresholds.get(&ThresholdKey::AggregateMinLocations));
        if whole {
            obj.insert("totals".into(), shown);
            return;
        }
        // A patch: every figure it touches, or whose count or threshold it changes, whole.
        let every = obj.contains_key("thresholds");
        let totals = obj.entry("totals").or_insert_with(|| json!({}));
        if let Some(totals) = totals.as_object_mut() {
            complete_patch(totals, &shown, every);
            complete_levels(totals, &shown, &current.totals, every);
        }
        if totals.as_object().is_some_and(Map::is_empty) {
            obj.remove("totals");
        }
    }
}

impl Visibility {
    /// Uitvragen or handelingsperspectieven (`entries`, by id, whom each addresses given by
    /// `addressed`): only those addressing a location the caller sees, with those locations
    /// alone, and no counts (they would say how the others answered).
    fn filter_warm<'p>(
        &self,
        picture: &'p Picture,
        entries: &mut Map<String, Value>,
        addressed: impl Fn(&Slug) -> Option<&'p BTreeSet<Slug>>,
    ) {
        entries.retain(|id, _| {
            let addressed = Slug::try_from(id.as_str()).ok().and_then(|id| addressed(&id));
            addressed.is_some_and(|a| a.iter().any(|l| self.sees_location(picture, l.as_str())))
        });
        for entry in entries.values_mut().filter_map(Value::as_object_mut) {
            entry.remove("counts");
            if let Some(Value::Object(locations)) = entry.get_mut("locations") {
                locations.retain(|id, _| self.sees_location(picture, id));
            }
        }
    }
}

impl Visibility {
    /// Trims a region's staleness (`{"locations": {id: ...}}`) alike: of a location seen by
    /// agreement only the shared dimensions' ages, not when it last reported at all.
    pub fn filter_staleness(&self, picture: &Picture, staleness: &mut Value) {
        let Some(Value::Object(locations)) = staleness.get_mut("locations") else { return };
        locations.retain(|id, location| {
            if self.sees_location(picture, id) {
                return true;
            }
            let shared = self.shared(picture, id);
            let Some(obj) = location.as_object_mut().filter(|_| !shared.is_empty()) else { return false };
            obj.remove("age_seconds");
            let is_shared = |d: &Value| d.as_str().and_then(Dimension::parse).is_some_and(|d| shared.contains(&d));
            if let Some(Value::Array(stale)) = obj.get_mut("stale") {
                stale.retain(is_shared);
            }
            if let Some(Value::Object(ages)) = obj.get_mut("dimension_age_seconds") {
                ages.retain(|d, _| is_shared(&Value::from(d.as_str())));
            }
            true
        });
    }
}

/// What [`shared_part`] trims: a location's view, a patch of one, or a patch that replaces
/// what a client holds of it (removing all it may no longer see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Whole,
    Patch,
    Replacing,
}

/// Trims a location's view (or a patch of one) to the `shared` dimensions and what names
/// the location. When it last reported is told as far as the shared dimensions say (from
/// `full`, the location's whole view now), never from the others.
pub fn shared_part(location: &mut Value, full: &Value, shared: &BTreeSet<Dimension>, part: Part) {
    let Some(obj) = location.as_object_mut() else { return };
    for field in NOT_SHARED {
        if part == Part::Replacing {
            obj.insert(field.into(), Value::Null);
        } else {
            obj.remove(field);
        }
    }
    let mut touched = false;
    if let Some(Value::Object(dimensions)) = obj.get_mut("dimensions") {
        dimensions.retain(|d, _| Dimension::parse(d).is_some_and(|d| shared.contains(&d)));
        touched = !dimensions.is_empty();
        if part == Part::Replacing {
            for d in Dimension::ALL.iter().filter(|d| !shared.contains(d)) {
                dimensions.insert(d.as_str().to_owned(), Value::Null);
            }
        }
    }
    obj.remove("last_report");
    if part != Part::Patch || touched {
        match (newest_report(full, shared), part) {
            (Some(newest), _) => {
                obj.insert("last_report".into(), json!(newest));
            }
            (None, Part::Whole) => {}
            (None, _) => {
                obj.insert("last_report".into(), Value::Null);
            }
        }
    }
}

/// The time of the newest value of the `shared` dimensions in a location's view.
fn newest_report(full: &Value, shared: &BTreeSet<Dimension>) -> Option<DateTime<Utc>> {
    shared
        .iter()
        .filter_map(|d| full["dimensions"][d.as_str()]["values"].as_object())
        .flat_map(|values| values.values())
        .filter_map(|v| v["time"].as_str()?.parse::<DateTime<Utc>>().ok())
        .max()
}

/// The totals as a caller who sees no locations may see them.
fn aggregate_totals(totals: &Totals, min: Option<&u32>) -> Value {
    let min = min.copied().unwrap_or_else(|| ThresholdKey::AggregateMinLocations.default_value());
    let mut shown = serde_json::to_value(totals).unwrap_or_else(|_| json!({}));
    let withheld = json!({ "withheld": true, "reason": format!("fewer_than_{min}_locations") });
    // A figure over no location (nothing reported) names none.
    let few = |figure: &str| (1..min).contains(&totals.contributors.get(figure).copied().unwrap_or(0));
    for field in FIGURES {
        if let Some(Value::Object(figures)) = shown.get_mut(field) {
            for (key, value) in figures.iter_mut() {
                if few(&format!("{field}/{key}")) {
                    *value = withheld.clone();
                } else if let Some(v) = value.as_object_mut() {
                    v.remove("location");
                }
            }
        }
    }
    for field in SINGLE_FIGURES {
        if few(field) {
            shown[field] = withheld.clone();
        }
    }
    let few_reporting = few_reporting(totals, min);
    if few_reporting {
        for field in COUNTS {
            if let Some(counts) = shown.get_mut(field) {
                withhold_counts(counts, &withheld);
            }
        }
    }
    // A level is named like its figure; `relocation`'s is over every care type's figure.
    let withheld_level = |level: &str| {
        few(level)
            || (few_reporting && COUNTS.contains(&level))
            || (level == "relocation" && totals.contributors.keys().any(|f| f.starts_with("relocation/") && few(f)))
    };
    if let Some(Value::Object(levels)) = shown.get_mut("levels") {
        levels.retain(|level, _| !withheld_level(level));
    }
    shown
}

/// Whether fewer locations report than the region's minimum (none reporting counts nothing).
fn few_reporting(totals: &Totals, min: u32) -> bool {
    (1..min).contains(&totals.reporting)
}

/// Makes `patch` set every leaf of `now` (counts, or withheld markers) whole, keeping what
/// the patch already says of leaves `now` no longer has.
fn replace_leaves(patch: &mut Value, now: &Value) {
    match now {
        Value::Object(leaves) if !is_marker(now) => {
            if !patch.is_object() {
                *patch = json!({});
            }
            if let Value::Object(target) = patch {
                for (key, leaf) in leaves {
                    replace_leaves(target.entry(key.clone()).or_insert(Value::Null), leaf);
                }
            }
        }
        leaf => *patch = leaf.clone(),
    }
}

/// Whether `value` is the withheld marker (which replaces a count whole).
fn is_marker(value: &Value) -> bool {
    value.get("withheld").is_some()
}

/// Replaces every count in `value` (a number, or maps of them) by the `withheld` marker.
fn withhold_counts(value: &mut Value, withheld: &Value) {
    match value {
        Value::Number(_) => *value = withheld.clone(),
        Value::Object(map) => map.values_mut().for_each(|v| withhold_counts(v, withheld)),
        _ => {}
    }
}

/// A totals patch that touches levels or the counts of locations behind figures (or comes
/// with new thresholds: `every`) carries the levels whole, as the caller may see them: a level now withheld is `null`.
fn complete_levels(patch: &mut Map<String, Value>, shown: &Value, totals: &Totals, every: bool) {
    if !every
        && !patch.contains_key("levels")
        && !patch.contains_key("contributors")
        && !patch.contains_key("reporting")
    {
        return;
    }
    let mut levels: Map<String, Value> = totals.levels.keys().map(|k| (k.clone(), Value::Null)).collect();
    if let Some(Value::Object(removed)) = patch.get("levels") {
        levels.extend(removed.keys().map(|k| (k.clone(), Value::Null)));
    }
    if let Some(Value::Object(now)) = shown.get("levels") {
        levels.extend(now.clone());
    }
    patch.insert("levels".into(), Value::Object(levels));
}

/// Turns the figures a totals patch touches into whole replacements from `shown`: those it
/// changes, those whose count of locations it changes, and all of them when `every`.
fn complete_patch(patch: &mut Map<String, Value>, shown: &Value, every: bool) {
    let mut touched: Vec<(String, Option<String>)> = Vec::new();
    for field in FIGURES {
        match patch.get(field) {
            Some(Value::Object(figures)) => {
                touched.extend(figures.keys().map(|k| (field.to_owned(), Some(k.clone()))));
            }
            Some(_) => touched.push((field.to_owned(), None)),
            None => {}
        }
        if every {
            if let Some(Value::Object(figures)) = shown.get(field) {
                touched.extend(figures.keys().map(|k| (field.to_owned(), Some(k.clone()))));
            }
        }
    }
    for field in SINGLE_FIGURES {
        if every || patch.contains_key(field) {
            touched.push((field.to_owned(), None));
        }
    }
    // Counts turn withheld (or shown again) when the number of reporting locations crosses
    // the minimum, and a count that changes may be withheld: such counts are sent as the
    // caller may see them, leaf by leaf.
    let reporting = patch.contains_key("reporting");
    for field in COUNTS {
        if every || reporting || patch.contains_key(field) {
            let Some(now) = shown.get(field) else { continue };
            replace_leaves(patch.entry(field).or_insert(Value::Null), now);
        }
    }
    if let Some(Value::Object(counts)) = patch.get("contributors") {
        for figure in counts.keys() {
            match figure.split_once('/') {
                Some((field, key)) if shown.get(field).and_then(|f| f.get(key)).is_some() => {
                    touched.push((field.to_owned(), Some(key.to_owned())))
                }
                Some(_) => {}
                None => touched.push((figure.clone(), None)),
            }
        }
    }
    for (field, key) in touched {
        let now = match &key {
            Some(key) => shown.get(&field).and_then(|f| f.get(key)),
            None => shown.get(&field),
        };
        let Some(now) = now else {
            // Gone now: the patch's own `null` (if any) stands.
            continue;
        };
        let figure = key.is_some() || SINGLE_FIGURES.contains(&field.as_str());
        let replacement = match now {
            Value::Object(fields) if figure => {
                let mut whole: Map<String, Value> =
                    FIGURE_FIELDS.iter().map(|f| ((*f).to_owned(), Value::Null)).collect();
                whole.extend(fields.clone());
                Value::Object(whole)
            }
            other => other.clone(),
        };
        match key {
            Some(key) => {
                let figures = patch.entry(field).or_insert_with(|| json!({}));
                if !figures.is_object() {
                    *figures = json!({});
                }
                figures[key] = replacement;
            }
            None => {
                patch.insert(field, replacement);
            }
        }
    }
}
