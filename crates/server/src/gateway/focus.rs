//! What a client asked to see of the regions it follows (§6): location categories and
//! dimensions, say a national bed board that wants the hospitals' beds alone. A focus only
//! narrows what the caller's [`super::visibility::Visibility`] already allows, and applies
//! alike to views and to patches of them. What is over the whole region (totals,
//! incidents, the warm phase's questions) passes whole: a total stays the region's.

use std::collections::BTreeSet;

use ghor_domain::vocab::{Category, Dimension};
use ghor_domain::{Picture, Slug};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Focus {
    /// Only locations of these categories (and their alerts).
    #[serde(default)]
    pub categories: Option<BTreeSet<Category>>,
    /// Only these dimensions of each location (and their alerts).
    #[serde(default)]
    pub dimensions: Option<BTreeSet<Dimension>>,
}

impl Focus {
    /// Why this focus cannot be followed: an empty list would show nothing at all.
    pub fn problem(&self) -> Option<&'static str> {
        match (&self.categories, &self.dimensions) {
            (Some(c), _) if c.is_empty() => Some("categories"),
            (_, Some(d)) if d.is_empty() => Some("dimensions"),
            _ => None,
        }
    }

    fn sees_location(&self, picture: &Picture, location: &str) -> bool {
        let Some(categories) = &self.categories else { return true };
        Slug::try_from(location)
            .ok()
            .and_then(|id| picture.locations.get(&id))
            .and_then(|l| l.info.as_ref())
            .is_some_and(|i| categories.contains(&i.value.location_type.category()))
    }

    /// Whether the part of a location named `part` (a dimension, or something about the
    /// location as a whole such as `report_overdue`) is in focus.
    fn sees_part(&self, part: &str) -> bool {
        match (&self.dimensions, Dimension::parse(part)) {
            (Some(dimensions), Some(d)) => dimensions.contains(&d),
            _ => true,
        }
    }

    /// Trims a region's view (or a merge patch of one) in place.
    pub fn filter(&self, picture: &Picture, view: &mut Value) {
        if self.categories.is_none() && self.dimensions.is_none() {
            return;
        }
        let Some(obj) = view.as_object_mut() else { return };
        if let Some(Value::Object(locations)) = obj.get_mut("locations") {
            locations.retain(|id, _| self.sees_location(picture, id));
            for location in locations.values_mut() {
                if let Some(Value::Object(dimensions)) = location.get_mut("dimensions") {
                    dimensions.retain(|d, _| self.sees_part(d));
                }
            }
        }
        if let Some(Value::Object(alerts)) = obj.get_mut("alerts") {
            // Alert ids are `location/dimension/key`, `location/what`, or the region's own.
            alerts.retain(|id, _| {
                let mut parts = id.split('/');
                let owner = parts.next().unwrap_or_default();
                let part = parts.next().unwrap_or_default();
                owner.starts_with("VR") || (self.sees_location(picture, owner) && self.sees_part(part))
            });
        }
        if let Some(Value::Object(incidents)) = obj.get_mut("incidents") {
            for incident in incidents.values_mut() {
                if let Some(Value::Array(silent)) = incident.get_mut("not_reported") {
                    silent.retain(|id| id.as_str().is_some_and(|id| self.sees_location(picture, id)));
                }
            }
        }
    }
}
