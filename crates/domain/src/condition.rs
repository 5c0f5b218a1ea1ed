//! The alert conditions a GHOR user may subscribe to (issue 9), as they hold in a region's
//! picture, and which of them folding an event *started*: held not before it, holds after.
//! Pure, like the fold: the notifier computes the conditions of a subscribed region before
//! and after each event and notifies the subscriptions of what started, so every replay
//! of the log starts the same conditions at the same events.

use std::collections::BTreeSet;

use crate::payload::Status;
use crate::picture::{LocationState, Picture};
use crate::values::{RegionCode, Slug};
use crate::vocab::{AcuteFunction, BedType, Dimension, FunctionStatus, SubscriptionKind, Utility, UtilityStatus};

/// What holds in one region, for each kind one may subscribe to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Free operational IC beds of the region, added up as its totals are (`Totals::beds`);
    /// none while no location reports IC beds.
    pub ic_free: Option<u32>,
    /// Locations whose SEH reports `stop`.
    pub seh_stop: BTreeSet<Slug>,
    /// Utilities reported `uitgevallen` and not on a backup, per location.
    pub utility_down: BTreeSet<(Slug, Utility)>,
    /// Locations that missed their reporting interval.
    pub overdue: BTreeSet<Slug>,
}

/// One condition that started: which kind, about which location (none: the region), and
/// an id that names the condition as the region view's alerts do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub kind: SubscriptionKind,
    pub location: Option<Slug>,
    /// `{location}/acute_function/seh`, `{location}/utility/{key}`,
    /// `{location}/report_overdue`, or `{region}/beds/ic` for the region's IC capacity.
    pub condition: String,
    /// For `ic_free_below`: the free IC beds now.
    pub ic_free: Option<u32>,
}

impl Conditions {
    /// The conditions of `region` in `picture` (retracted values count as not reported).
    pub fn of(picture: &Picture, region: RegionCode) -> Conditions {
        let mut c = Conditions::default();
        let regional = picture.locations.iter().filter(|(_, l)| l.region() == Some(region));
        for (id, loc) in regional {
            c.add(id, loc);
        }
        c
    }

    fn add(&mut self, id: &Slug, loc: &LocationState) {
        if loc.overdue_since().is_some() {
            self.overdue.insert(id.clone());
        }
        let current = loc.slots.values().flat_map(|keys| keys.values()).filter(|v| !loc.retracted.contains(&v.id));
        for v in current {
            match &v.value {
                Status::Beds { key: BedType::Ic, data } => *self.ic_free.get_or_insert(0) += data.free(),
                Status::AcuteFunction { key: AcuteFunction::Seh, data } if data.status == FunctionStatus::Stop => {
                    self.seh_stop.insert(id.clone());
                }
                Status::Utility { key, data } if data.status == UtilityStatus::Uitgevallen && !data.on_backup => {
                    self.utility_down.insert((id.clone(), *key));
                }
                _ => {}
            }
        }
    }

    /// The conditions of `kind` (with its `value`, for `ic_free_below`) that hold in
    /// `self` and did not in `before`.
    pub fn started_since(
        &self,
        before: &Conditions,
        region: RegionCode,
        kind: SubscriptionKind,
        value: Option<u32>,
    ) -> Vec<Started> {
        let at = |kind, location: &Slug, condition: String| Started {
            kind,
            location: Some(location.clone()),
            condition,
            ic_free: None,
        };
        match kind {
            SubscriptionKind::IcFreeBelow => {
                let below = |c: &Conditions| value.is_some_and(|n| c.ic_free.is_some_and(|free| free < n));
                if below(self) && !below(before) {
                    let condition = format!("{region}/{}/{}", Dimension::Beds, BedType::Ic);
                    vec![Started { kind, location: None, condition, ic_free: self.ic_free }]
                } else {
                    Vec::new()
                }
            }
            SubscriptionKind::SehStop => self
                .seh_stop
                .difference(&before.seh_stop)
                .map(|l| at(kind, l, format!("{l}/{}/{}", Dimension::AcuteFunction, AcuteFunction::Seh)))
                .collect(),
            SubscriptionKind::UtilityDownWithoutBackup => self
                .utility_down
                .difference(&before.utility_down)
                .map(|(l, u)| at(kind, l, format!("{l}/{}/{u}", Dimension::Utility)))
                .collect(),
            SubscriptionKind::ReportOverdue => {
                self.overdue.difference(&before.overdue).map(|l| at(kind, l, format!("{l}/report_overdue"))).collect()
            }
        }
    }
}
