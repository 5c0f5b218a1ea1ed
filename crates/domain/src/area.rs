//! An area (§3.2, §3.7): where an incident happens, and whom an uitvraag or a
//! handelingsperspectief addresses. Which locations it holds is decided here alone, from a
//! location's registration (its region, municipality, point, category and type), so every
//! node and every replay that folds the same registry agrees.
//!
//! *Where*: the drawn shapes (a circle, a polygon) when one is given, a location inside any
//! of them; else the municipalities when named; else the regions (none named: the region
//! the area is given in). *Which*: when categories or types are named, only locations of
//! those.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};
use crate::payload::LocationInfo;
use crate::values::{Point, RegionCode, ShortText};
use crate::vocab::{Category, LocationType};

/// The most corners a drawn polygon may have.
pub const MAX_POLYGON_POINTS: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Regions it covers; none named means the region that gives the area.
    #[serde(default)]
    pub regions: Vec<RegionCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub municipalities: Vec<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circle: Option<Circle>,
    /// A shape drawn on the map: its corners in order (the last joins the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 500))]
    pub polygon: Option<Vec<Point>>,
    /// Only locations of these categories (all when none are named).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    /// Only locations of these types (all when none are named).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<LocationType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Circle {
    pub center: Point,
    #[schemars(range(min = 0.1, max = 200.0))]
    #[serde(serialize_with = "crate::values::finite")]
    pub radius_km: f64,
}

impl Area {
    /// Whether the location registered as `info` lies in this area, given in `region`.
    pub fn holds(&self, region: RegionCode, info: &LocationInfo) -> bool {
        let category = info.location_type.category();
        let which = (self.categories.is_empty() || self.categories.contains(&category))
            && (self.types.is_empty() || self.types.contains(&info.location_type));
        which && self.covers(region, info)
    }

    fn covers(&self, region: RegionCode, info: &LocationInfo) -> bool {
        if self.is_drawn() {
            let in_circle = self.circle.as_ref().is_some_and(|c| c.center.distance_km(&info.point) <= c.radius_km);
            return in_circle || self.polygon.as_deref().is_some_and(|corners| inside(corners, &info.point));
        }
        if !self.municipalities.is_empty() {
            let municipality = info.municipality.as_ref().map(ShortText::as_str);
            return self.municipalities.iter().any(|m| Some(m.as_str()) == municipality);
        }
        self.named_regions(region).any(|r| r == info.region)
    }

    /// Whether it is drawn on the map (a circle or a polygon), and so may reach any region.
    pub fn is_drawn(&self) -> bool {
        self.circle.is_some() || self.polygon.is_some()
    }

    /// The regions it names: the one it is given in, and those listed.
    pub fn named_regions(&self, region: RegionCode) -> impl Iterator<Item = RegionCode> + '_ {
        std::iter::once(region).chain(self.regions.iter().copied())
    }

    /// Refuses shapes that cannot be drawn on a map of the Netherlands; `at` is the area's
    /// path in the event (e.g. `data.area`).
    pub fn check(&self, at: &str) -> Result<(), FieldError> {
        if let Some(c) = &self.circle {
            c.center.check().map_err(|r| r.at(&format!("{at}.circle.center")))?;
            if !(0.1..=200.0).contains(&c.radius_km) {
                let e = FieldError::new(
                    &format!("{at}.circle.radius_km"),
                    ErrorCode::OutOfRange,
                    "must lie between 0.1 and 200 km",
                );
                return Err(e.with("min", 0.1).with("max", 200));
            }
        }
        if let Some(corners) = &self.polygon {
            if !(3..=MAX_POLYGON_POINTS).contains(&corners.len()) {
                let e =
                    FieldError::new(&format!("{at}.polygon"), ErrorCode::OutOfRange, "a polygon has 3 to 500 corners");
                return Err(e.with("min", 3).with("max", MAX_POLYGON_POINTS));
            }
            for (i, corner) in corners.iter().enumerate() {
                corner.check().map_err(|r| r.at(&format!("{at}.polygon[{i}]")))?;
            }
        }
        Ok(())
    }
}

/// Whether `point` lies inside the polygon with these corners (ray casting, with longitude
/// and latitude as plane coordinates: at the scale of a region the difference from the
/// sphere is far below what anyone draws). A point on an edge may fall either way.
fn inside(corners: &[Point], point: &Point) -> bool {
    let mut inside = false;
    let mut previous = corners.len() - 1;
    for (i, a) in corners.iter().enumerate() {
        let b = &corners[previous];
        if (a.lat > point.lat) != (b.lat > point.lat)
            && point.lon < (b.lon - a.lon) * (point.lat - a.lat) / (b.lat - a.lat) + a.lon
        {
            inside = !inside;
        }
        previous = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn point(lat: f64, lon: f64) -> Point {
        Point { lat, lon }
    }

    fn location(lat: f64, lon: f64, kind: &str, region: &str, municipality: Option<&str>) -> LocationInfo {
        let json = serde_json::json!({
            "name": "Locatie", "organisation": "org", "type": kind, "region": region,
            "municipality": municipality, "point": { "lat": lat, "lon": lon },
        });
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn region(code: &str) -> RegionCode {
        RegionCode::try_from(code).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn area(json: serde_json::Value) -> Area {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    /// An L-shaped (concave) polygon: a point in the notch is outside.
    fn l_shape() -> Area {
        area(serde_json::json!({ "polygon": [
            { "lat": 53.0, "lon": 6.0 }, { "lat": 53.0, "lon": 7.0 }, { "lat": 53.2, "lon": 7.0 },
            { "lat": 53.2, "lon": 6.4 }, { "lat": 53.6, "lon": 6.4 }, { "lat": 53.6, "lon": 6.0 },
        ] }))
    }

    #[test]
    fn a_polygon_holds_what_lies_inside_it_and_not_its_notch() {
        let l = l_shape();
        let vr01 = region("VR01");
        assert!(l.holds(vr01, &location(53.1, 6.8, "ziekenhuis", "VR01", None)), "in the foot");
        assert!(l.holds(vr01, &location(53.5, 6.2, "ziekenhuis", "VR01", None)), "in the upright");
        assert!(!l.holds(vr01, &location(53.5, 6.8, "ziekenhuis", "VR01", None)), "in the notch");
        assert!(!l.holds(vr01, &location(52.5, 6.5, "ziekenhuis", "VR01", None)), "below it");
    }

    #[test]
    fn a_drawn_shape_reaches_across_regions_and_the_filters_narrow_it() {
        let circle = area(serde_json::json!({
            "circle": { "center": { "lat": 53.0, "lon": 6.0 }, "radius_km": 20.0 },
            "categories": ["care"],
        }));
        let vr01 = region("VR01");
        assert!(circle.holds(vr01, &location(53.05, 6.05, "verpleeg_verzorgingshuis", "VR03", None)), "another region");
        assert!(!circle.holds(vr01, &location(53.05, 6.05, "ziekenhuis", "VR01", None)), "not of the category");
        assert!(!circle.holds(vr01, &location(53.5, 6.05, "verpleeg_verzorgingshuis", "VR01", None)), "outside");
    }

    #[test]
    fn without_a_shape_municipalities_then_regions_decide() {
        let vr01 = region("VR01");
        let town = area(serde_json::json!({ "municipalities": ["Leek"], "types": ["huisartsenpost"] }));
        assert!(town.holds(vr01, &location(53.1, 6.4, "huisartsenpost", "VR01", Some("Leek"))));
        assert!(!town.holds(vr01, &location(53.1, 6.4, "huisartsenpost", "VR01", Some("Groningen"))));
        assert!(!town.holds(vr01, &location(53.1, 6.4, "ziekenhuis", "VR01", Some("Leek"))));
        let regions = area(serde_json::json!({ "regions": ["VR02"] }));
        assert!(regions.holds(vr01, &location(53.1, 6.4, "ziekenhuis", "VR01", None)), "the region it is given in");
        assert!(regions.holds(vr01, &location(53.1, 5.8, "ziekenhuis", "VR02", None)), "a region it names");
        assert!(!regions.holds(vr01, &location(52.9, 6.6, "ziekenhuis", "VR03", None)));
    }

    #[test]
    fn shapes_that_cannot_be_drawn_are_refused_naming_the_corner() {
        let two = area(serde_json::json!({ "polygon": [{ "lat": 53.0, "lon": 6.0 }, { "lat": 53.1, "lon": 6.1 }] }));
        assert_eq!(two.check("data.area").map_err(|e| e.field), Err("data.area.polygon".to_owned()));
        let abroad = area(serde_json::json!({ "polygon": [
            { "lat": 53.0, "lon": 6.0 }, { "lat": 48.0, "lon": 6.1 }, { "lat": 53.1, "lon": 6.2 },
        ] }));
        assert_eq!(abroad.check("data.area").map_err(|e| e.field), Err("data.area.polygon[1]".to_owned()));
        assert_eq!(l_shape().check("data.area"), Ok(()));
    }

    proptest! {
        /// For a rectangle drawn as a polygon (corners in either order), "inside" is
        /// exactly "between its edges", however the rectangle and the point fall.
        #[test]
        fn a_rectangle_holds_exactly_the_points_between_its_edges(
            south in 50.5f64..53.0, north_by in 0.01f64..1.0, west in 3.5f64..6.5, east_by in 0.01f64..0.9,
            lat in 50.0f64..54.0, lon in 3.0f64..7.5, clockwise in any::<bool>(),
        ) {
            let (north, east) = (south + north_by, west + east_by);
            let mut corners = vec![point(south, west), point(south, east), point(north, east), point(north, west)];
            if clockwise {
                corners.reverse();
            }
            let on_edge = [south, north].iter().any(|e| (lat - e).abs() < 1e-9) || [west, east].iter().any(|e| (lon - e).abs() < 1e-9);
            prop_assume!(!on_edge);
            let between = lat > south && lat < north && lon > west && lon < east;
            prop_assert_eq!(inside(&corners, &point(lat, lon)), between);
        }
    }
}
