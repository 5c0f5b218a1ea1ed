//! Each region's raised/cleared alert feed, kept by the gateway so that a page opened now
//! shows what happened before it opened: every change it folded since it started, with the
//! alerts active at its start listed as raised when they began.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use ghor_domain::view::Alert;
use ghor_domain::RegionCode;
use serde::Serialize;

/// How many changes a region's feed keeps.
const KEPT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Raised,
    Cleared,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FeedEntry {
    pub change: Change,
    /// Raised: since when the condition holds; cleared: when the gateway folded its end.
    pub at: DateTime<Utc>,
    pub id: String,
    pub alert: Alert,
}

#[derive(Debug, Default)]
pub struct AlertFeed {
    /// The alerts each region had at the last look.
    active: BTreeMap<RegionCode, BTreeMap<String, Alert>>,
    entries: BTreeMap<RegionCode, VecDeque<FeedEntry>>,
}

impl AlertFeed {
    /// Notes how `region`'s alerts stand now: an alert that is new (or began again) is
    /// raised, one that is gone is cleared at `now`.
    pub fn note(&mut self, region: RegionCode, alerts: &BTreeMap<String, Alert>, now: DateTime<Utc>) {
        let before = self.active.insert(region, alerts.clone()).unwrap_or_default();
        let entries = self.entries.entry(region).or_default();
        for (id, alert) in alerts {
            if before.get(id).is_none_or(|b| b.since != alert.since) {
                entries.push_back(FeedEntry {
                    change: Change::Raised,
                    at: alert.since,
                    id: id.clone(),
                    alert: alert.clone(),
                });
            }
        }
        for (id, alert) in before.into_iter().filter(|(id, _)| !alerts.contains_key(id)) {
            entries.push_back(FeedEntry { change: Change::Cleared, at: now, id, alert });
        }
        while entries.len() > KEPT {
            entries.pop_front();
        }
    }

    /// A region's feed, newest first.
    pub fn of(&self, region: RegionCode) -> Vec<&FeedEntry> {
        let mut entries: Vec<&FeedEntry> = self.entries.get(&region).into_iter().flatten().collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.at));
        entries
    }
}
