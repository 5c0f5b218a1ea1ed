//! The state rules of §3.4: what each reported value means, as a label and colour.
//! Absolute numbers, days of supply, backup hours and the location's own judgement;
//! a scheduled stop is not an alert. Thresholds come from the picture (events). The same
//! holds for a region's totals: every level a headline figure shows is decided here.

use std::collections::BTreeMap;

use crate::payload::Status;
use crate::picture::Picture;
use crate::values::RegionCode;
use crate::view::Totals;
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
        self.judge(status).map(|j| j.state)
    }

    /// The state one observation resolves to, with the threshold that put it there when one
    /// did (the rule an alert names); `None` for what is information only (notes).
    pub fn judge(&self, status: &Status) -> Option<Verdict> {
        use State::*;
        let t = |k| self.get(k);
        let by = |state: State| Verdict { state, threshold: None };
        // At or above a threshold the state it names, else the next one down.
        let at_least = |value: u32, steps: &[(ThresholdKey, State)]| {
            steps.iter().find(|(k, _)| value >= t(*k)).map_or(by(Goed), |(k, s)| Verdict::over(*s, *k))
        };
        let below = |value: u32, critical: ThresholdKey, attention: ThresholdKey| {
            if value < t(critical) {
                Verdict::over(Kritiek, critical)
            } else if value < t(attention) {
                Verdict::over(Aandacht, attention)
            } else {
                by(Goed)
            }
        };
        let judged = match status {
            Status::Judgement { data } => by(match data.care_next_24h {
                Judgement::Ja => Goed,
                Judgement::MetMoeite => Aandacht,
                Judgement::Nee => Kritiek,
            }),
            Status::Beds { data, .. } => {
                let free = data.free();
                if data.operational.get() == 0 {
                    by(Goed) // no such beds in operation: nothing to run out of
                } else if free <= t(ThresholdKey::BedsFreeCritical) {
                    Verdict::over(Kritiek, ThresholdKey::BedsFreeCritical)
                } else if free <= t(ThresholdKey::BedsFreeAttention) {
                    Verdict::over(Aandacht, ThresholdKey::BedsFreeAttention)
                } else {
                    by(Goed)
                }
            }
            Status::TreatmentPlaces { data, .. } => {
                by(if data.operational.get() > 0 && data.in_use >= data.operational { Aandacht } else { Goed })
            }
            Status::CasualtyReception { .. } | Status::ReceivingCapacity { .. } => by(Goed),
            Status::AcuteFunction { data, .. } => by(match data.status {
                FunctionStatus::Open => Goed,
                FunctionStatus::Gepland => Aandacht,
                FunctionStatus::Stop => Kritiek,
            }),
            Status::Facility { data } => by(match data.status {
                FacilityStatus::Normaal => Goed,
                FacilityStatus::DeelsGesloten
                | FacilityStatus::EvacuatieVoorbereid
                | FacilityStatus::Terugkeer
                | FacilityStatus::BinnenBlijven => Aandacht,
                FacilityStatus::Ontruimd
                | FacilityStatus::Evacuerend
                | FacilityStatus::Geevacueerd
                | FacilityStatus::Gesloten => Kritiek,
            }),
            Status::Supplies { data, .. } => match data.days() {
                None => by(Goed),
                Some(days) if days < f64::from(t(ThresholdKey::SupplyDaysCritical)) => {
                    Verdict::over(Kritiek, ThresholdKey::SupplyDaysCritical)
                }
                Some(days) if days < f64::from(t(ThresholdKey::SupplyDaysAttention)) => {
                    Verdict::over(Aandacht, ThresholdKey::SupplyDaysAttention)
                }
                Some(_) => by(Goed),
            },
            Status::Utility { data, .. } => match data.status {
                UtilityStatus::Normaal => by(Goed),
                UtilityStatus::Verstoord => by(Aandacht),
                UtilityStatus::Uitgevallen if data.on_backup => {
                    let hours = data.backup_hours_left.map_or(0, |h| h.get());
                    if hours < t(ThresholdKey::BackupHoursCritical) {
                        Verdict::over(Kritiek, ThresholdKey::BackupHoursCritical)
                    } else {
                        by(Aandacht)
                    }
                }
                UtilityStatus::Uitgevallen => by(Kritiek),
            },
            // Graded by size: one open shift is ordinary life, a fifth of the staff away is
            // not; the coordinator's own "critical now" outranks both.
            Status::Staffing { data, .. } => {
                let shifts = at_least(
                    data.unfilled_shifts_24h.get(),
                    &[
                        (ThresholdKey::UnfilledShiftsCritical, Kritiek),
                        (ThresholdKey::UnfilledShiftsAttention, Aandacht),
                    ],
                );
                let absence = data.absence_percent.map_or(by(Goed), |p| {
                    at_least(
                        p.get(),
                        &[
                            (ThresholdKey::AbsencePercentCritical, Kritiek),
                            (ThresholdKey::AbsencePercentAttention, Aandacht),
                        ],
                    )
                });
                if data.critical {
                    by(Kritiek)
                } else {
                    [shifts, absence].into_iter().max_by_key(|j| j.state.severity()).unwrap_or(by(Goed))
                }
            }
            Status::Disbalance { data, .. } => by(match data.level {
                DisbalanceLevel::NietGetroffen => Goed,
                DisbalanceLevel::Zelfredzaam => Aandacht,
                DisbalanceLevel::KetenhulpNodig | DisbalanceLevel::Kantelpunt => Kritiek,
            }),
            Status::SelfSufficiency { data } => below(
                data.hours.get(),
                ThresholdKey::SelfSufficiencyHoursCritical,
                ThresholdKey::SelfSufficiencyHoursAttention,
            ),
            Status::HomeCare { data } => {
                let at_risk = data.visits_at_risk.get();
                if at_risk >= t(ThresholdKey::VisitsAtRiskCritical) {
                    Verdict::over(Kritiek, ThresholdKey::VisitsAtRiskCritical)
                } else {
                    by(if at_risk > 0 { Aandacht } else { Goed })
                }
            }
            Status::RelocationNeed { data, .. } => by(if data.total() > 0 { Aandacht } else { Goed }),
            // A request for help asks for attention; only the reporter's "zeer hoog" makes it
            // critical, so the red list keeps its meaning.
            Status::HelpRequest { change, .. } => by(match change.request().map(|d| d.urgency) {
                None => Goed,
                Some(Urgency::ZeerHoog) => Kritiek,
                _ => Aandacht,
            }),
            Status::NotAffected { .. } => by(Goed),
            // A coordinator who has not been trained is the gap a crisis finds first.
            Status::Preparedness { data } => by(if data.trained_coordinator { Goed } else { Aandacht }),
            Status::Note { .. } => return None,
        };
        Some(judged)
    }
}

/// What an observation means: its state, and the threshold it crossed to get there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub state: State,
    pub threshold: Option<ThresholdKey>,
}

impl Verdict {
    fn over(state: State, threshold: ThresholdKey) -> Verdict {
        Verdict { state, threshold: Some(threshold) }
    }
}

impl Rules {
    /// The level of each headline figure of a region's totals, by the name
    /// [`Totals::contributors`] gives the figure (`beds/ic`, `relocation`, …); a figure
    /// over nothing reported has none. The region's IC capacity is judged on its own
    /// threshold (`region_ic_free_critical`); the other figures say that something needs
    /// attention somewhere (a location on backup power, an open help request) or is
    /// critical somewhere (a utility down, supplies under the line, an acute function
    /// stopped), and relocation compares what is needed with what the region can take in.
    pub fn totals_levels(&self, t: &Totals) -> BTreeMap<String, State> {
        use State::*;
        let mut levels = BTreeMap::new();
        for (key, c) in t.beds.iter().filter(|(_, c)| c.operational > 0) {
            let level = if *key == BedType::Ic && c.free <= self.get(ThresholdKey::RegionIcFreeCritical) {
                Kritiek
            } else if c.free == 0 {
                Aandacht
            } else {
                Goed
            };
            levels.insert(format!("beds/{key}"), level);
        }
        let some = |n: u32, level: State| if n > 0 { level } else { Goed };
        let stops = t.acute_function_stops.values().sum();
        levels.insert("acute_function_stops".into(), some(stops, Kritiek));
        levels.insert("on_backup_power".into(), some(t.on_backup_power, Aandacht));
        levels.insert("utilities_down".into(), some(t.utilities_down, Kritiek));
        levels.insert("unfilled_shifts_24h".into(), some(t.unfilled_shifts_24h, Aandacht));
        levels.insert("supplies_under_line".into(), some(t.supplies_under_line, Kritiek));
        let need: u32 = t.relocation.values().map(|r| r.need).sum();
        let capacity: u32 = t.relocation.values().map(|r| r.capacity).sum();
        let relocation = if need > capacity { Kritiek } else { some(need, Aandacht) };
        levels.insert("relocation".into(), relocation);
        levels.insert("open_help_requests".into(), some(t.open_help_requests, Aandacht));
        levels.insert("not_reporting".into(), some(t.not_reporting, Aandacht));
        levels.insert("active_incidents".into(), some(t.active_incidents, Aandacht));
        levels
    }
}

/// The worst of several states.
pub fn worst(states: impl IntoIterator<Item = State>) -> Option<State> {
    states.into_iter().max_by_key(|s| s.severity())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{Capacity, NeedAndCapacity};

    fn rules(ic_critical: u32) -> Rules {
        Rules(BTreeMap::from([(ThresholdKey::RegionIcFreeCritical, ic_critical)]))
    }

    #[test]
    fn the_ic_tile_is_judged_on_the_regions_own_threshold() {
        let mut t = Totals::default();
        t.beds.insert(BedType::Ic, Capacity { free: 3, operational: 10, occupied: 7, surge_24h: 0 });
        t.beds.insert(BedType::Klinisch, Capacity { free: 0, operational: 40, occupied: 40, surge_24h: 0 });
        t.beds.insert(BedType::Mc, Capacity { free: 0, operational: 0, occupied: 0, surge_24h: 0 });
        assert_eq!(rules(3).totals_levels(&t).get("beds/ic"), Some(&State::Kritiek));
        assert_eq!(rules(2).totals_levels(&t).get("beds/ic"), Some(&State::Goed), "3 free is above a threshold of 2");
        let levels = rules(3).totals_levels(&t);
        assert_eq!(levels.get("beds/klinisch"), Some(&State::Aandacht), "no free ward bed");
        assert_eq!(levels.get("beds/mc"), None, "no such beds in operation: no level");
    }

    #[test]
    fn the_other_tiles_follow_their_figures() {
        let mut t = Totals::default();
        let calm = rules(3).totals_levels(&t);
        assert!(calm.values().all(|s| *s == State::Goed), "{calm:?}");
        t.on_backup_power = 1;
        t.utilities_down = 1;
        t.relocation.insert(CareType::Somatisch, NeedAndCapacity { need: 5, capacity: 8 });
        let levels = rules(3).totals_levels(&t);
        assert_eq!(levels.get("on_backup_power"), Some(&State::Aandacht));
        assert_eq!(levels.get("utilities_down"), Some(&State::Kritiek));
        assert_eq!(levels.get("relocation"), Some(&State::Aandacht), "a need the region can meet");
        t.relocation.insert(CareType::Ggz, NeedAndCapacity { need: 4, capacity: 0 });
        assert_eq!(rules(3).totals_levels(&t).get("relocation"), Some(&State::Kritiek), "9 to move, room for 8");
    }
}
