//! What ghor itself writes to the log: the default thresholds at start, `report_overdue`
//! when a location misses its reporting interval, and `uitvraag.reminder_due` when a round
//! of reminders of an open uitvraag is due. All are idempotent: their ids derive from what
//! they say, so a restart or a second node writes nothing new.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use ghor_domain::payload::{OverdueData, Payload, ReminderDueData, ThresholdData};
use ghor_domain::values::{regions, Count};
use ghor_domain::vocab::{Bron, ThresholdKey};
use ghor_domain::{Event, Source, Stamp};
use ghor_store::{EventLog, Filter, StoreError};
use uuid::Uuid;

use crate::gateway::Gateway;
use crate::shutdown::Shutdown;

/// The actor recorded on what ghor writes itself.
pub const SYSTEM_ACTOR: &str = "ghor";

/// Namespace of ghor's derived event ids.
pub(crate) const NAMESPACE: Uuid = Uuid::from_u128(0x6768_6f72_0000_4000_8000_0000_0000_0001);

pub(crate) fn system_event(
    id: &str,
    source: Source,
    time: DateTime<Utc>,
    region: ghor_domain::RegionCode,
    log: &dyn EventLog,
    payload: Payload,
) -> Event {
    Event {
        id: Uuid::new_v5(&NAMESPACE, id.as_bytes()),
        source,
        time,
        bron: Bron::Overig,
        bevestigd: true,
        prognose: None,
        stamp: Stamp { region, scope: log.scope(), actor: SYSTEM_ACTOR.into(), received: Utc::now() },
        payload,
    }
}

/// Records the default threshold of every region and key that the log has none of yet,
/// observed at a fixed moment long ago so that any threshold set later wins. Each is
/// written once per scope ever: a restart finds them in the log and writes nothing (the
/// log's own duplicate window is only minutes long). Returns how many were written.
pub async fn seed_thresholds(log: &dyn EventLog) -> Result<usize, StoreError> {
    let long_ago = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let mut defaults = Vec::new();
    for region in regions() {
        for key in ThresholdKey::ALL {
            let value = Count::new(key.default_value()).map_err(|r| StoreError::Internal(r.reason))?;
            let id = format!("threshold|{}|{key}|{value:?}", region.code);
            let payload = Payload::ThresholdSet { key: *key, data: ThresholdData { value } };
            defaults.push(system_event(&id, Source::Region(region.code), long_ago, region.code, log, payload));
        }
    }
    let Some(family) = defaults.first().map(|e| e.payload.family()) else {
        return Ok(0);
    };
    let mut recorded = BTreeSet::new();
    let mut after = 0;
    loop {
        let entries = log.read_filtered(Filter::Family(family), after, 1000).await?;
        let Some(last) = entries.last() else { break };
        after = last.seq;
        for entry in &entries {
            if let Ok(Event { payload: Payload::ThresholdSet { key, .. }, stamp, .. }) = Event::from_stored(&entry.body)
            {
                recorded.insert((stamp.region, key));
            }
        }
    }
    defaults.retain(|e| match &e.payload {
        Payload::ThresholdSet { key, .. } => !recorded.contains(&(e.stamp.region, *key)),
        _ => false,
    });
    for result in log.append(&defaults).await {
        result?;
    }
    if !defaults.is_empty() {
        tracing::info!(scope = %log.scope(), count = defaults.len(), "recorded default thresholds");
    }
    Ok(defaults.len())
}

/// Every `every`, appends `report_overdue` for each location past its interval and the
/// reminders of uitvragen that are due, until shutdown (what the log refuses is tried
/// again the next round).
pub async fn overdue(
    gateway: Arc<Gateway>,
    log: Arc<dyn EventLog>,
    every: Duration,
    mut shutdown: Shutdown,
) -> Result<(), StoreError> {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.recv() => return Ok(()),
        }
        let now = Utc::now();
        let mut events = due(&gateway, &*log, now);
        events.extend(reminders_due(&gateway, &*log, now));
        if events.is_empty() {
            continue;
        }
        for result in log.append(&events).await {
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not record overdue reports; retrying next round");
            }
        }
    }
}

/// The overdue events the picture calls for at `now` (already recorded ones included:
/// their ids repeat, so the log ignores them).
pub fn due(gateway: &Gateway, log: &dyn EventLog, now: DateTime<Utc>) -> Vec<Event> {
    let st = gateway.state();
    let mut events = Vec::new();
    for region in st.picture.regions() {
        let view = st.region_view(region);
        for (id, location) in &view.locations {
            let Some(state) = st.picture.locations.get(id) else {
                continue;
            };
            let Some(since) = location.last_report.or_else(|| state.info.as_ref().map(|i| i.time)) else {
                continue;
            };
            let interval = chrono::Duration::minutes(i64::from(location.interval_minutes));
            let due = since + interval;
            if due > now || location.overdue_since == Some(due) {
                continue;
            }
            let Ok(interval_minutes) = Count::new(location.interval_minutes) else {
                continue;
            };
            let payload = Payload::ReportOverdue(OverdueData { due, interval_minutes });
            let key = format!("overdue|{id}|{}", due.timestamp());
            events.push(system_event(&key, Source::Location(id.clone()), due, region, log, payload));
        }
    }
    events
}

/// The round of reminders each open uitvraag with a re-notify interval calls for at `now`:
/// round `n` is due `n` intervals after its opening, while that is before its deadline.
/// Only the newest due round is written, and only when the picture has no round from then
/// on: a ghor that was down for several intervals sends one reminder, not a burst. Its id
/// derives from (uitvraag, round), so a second node writes the same event.
pub fn reminders_due(gateway: &Gateway, log: &dyn EventLog, now: DateTime<Utc>) -> Vec<Event> {
    let st = gateway.state();
    let mut events = Vec::new();
    for (id, u) in &st.picture.uitvragen {
        let Some(minutes) = u.opened.value.renotify_minutes.map(|m| i64::from(m.get())).filter(|m| *m > 0) else {
            continue;
        };
        if u.closed.is_some() || now >= u.opened.value.deadline {
            continue;
        }
        let interval = chrono::Duration::minutes(minutes);
        let round = (now - u.opened.time).num_minutes().div_euclid(minutes);
        let due = u.opened.time + interval * round as i32;
        let recorded = st.picture.reminders.get(id).and_then(|r| r.keys().next_back()).copied().unwrap_or(0);
        let (Ok(round), true) = (u32::try_from(round), due < u.opened.value.deadline) else { continue };
        if round == 0 || round <= recorded {
            continue;
        }
        let Ok(count) = Count::new(round) else { continue };
        let payload =
            Payload::UitvraagReminderDue { uitvraag: id.clone(), data: ReminderDueData { round: count, due } };
        let key = format!("reminder|{id}|{round}");
        events.push(system_event(&key, Source::Region(u.region), due, u.region, log, payload));
    }
    events
}
