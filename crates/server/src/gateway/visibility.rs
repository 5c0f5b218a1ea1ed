//! What a caller may see of a region's view (§7): ROT and GHOR roles the locations,
//! ketenpartner and bestuur aggregates only, an institution its own locations and the
//! chain in aggregate. Applied alike to views and to patches of them.

use ghor_domain::{Picture, Role, Slug};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Location level.
    Full,
    /// Totals, region-wide alerts and incidents only.
    Aggregate,
    /// Aggregates plus the locations of this organisation.
    Organisation(Slug),
}

impl Visibility {
    pub fn of(role: Role, organisation: Option<&Slug>) -> Visibility {
        match role {
            Role::Informatiemanager | Role::Netwerkfunctionaris | Role::Oto | Role::Rot | Role::Admin => {
                Visibility::Full
            }
            Role::Ketenpartner | Role::Bestuur => Visibility::Aggregate,
            Role::Institution => organisation.map_or(Visibility::Aggregate, |o| Visibility::Organisation(o.clone())),
        }
    }

    /// May this caller see this location's detail?
    pub fn sees_location(&self, picture: &Picture, location: &str) -> bool {
        match self {
            Visibility::Full => true,
            Visibility::Aggregate => false,
            Visibility::Organisation(org) => Slug::try_from(location)
                .ok()
                .and_then(|id| picture.locations.get(&id))
                .and_then(|l| l.info.as_ref())
                .is_some_and(|i| &i.value.organisation == org),
        }
    }

    /// Trims a region view (or a merge patch of one) in place.
    pub fn filter(&self, picture: &Picture, view: &mut Value) {
        if *self == Visibility::Full {
            return;
        }
        let Some(obj) = view.as_object_mut() else {
            return;
        };
        if let Some(Value::Object(locations)) = obj.get_mut("locations") {
            locations.retain(|id, _| self.sees_location(picture, id));
        }
        if let Some(Value::Object(alerts)) = obj.get_mut("alerts") {
            // Alert ids start with the location id, or with the region code for the region's own.
            alerts.retain(|id, _| {
                let owner = id.split('/').next().unwrap_or_default();
                owner.starts_with("VR") || self.sees_location(picture, owner)
            });
        }
    }
}
