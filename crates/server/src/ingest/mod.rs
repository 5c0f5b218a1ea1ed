//! Ingest: the only writer of the log. Validates a client's event strictly, asks the
//! policy whether the token may write it, stamps it (region, scope, actor, received) and
//! appends it, idempotent on (source, id): the same report again is a duplicate, another
//! one under a stored (source, id) a conflict. Answers only after the log has the event.

pub mod intake;
pub mod registrations;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ghor_domain::error::ErrorCode;
use ghor_domain::payload::{IntakeRejectedData, LocationInfo, Payload};
use ghor_domain::values::{LongText, ShortText};
use ghor_domain::vocab::Bron;
use ghor_domain::{Event, FieldError, RegionCode, Scope, Slug, Source, Stamp, Submission};
use ghor_store::{Appended, EventLog, ReadModel, StoreError};
use serde::Serialize;

use crate::auth::Caller;
use crate::metrics::Metrics;
use crate::policy::{self, Action};
use crate::problem::Problem;
use ghor_store::coalesce::Coalescer;
use registrations::Registrations;

/// What happened to one accepted event.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Receipt {
    pub id: uuid::Uuid,
    pub source: String,
    #[serde(flatten)]
    pub appended: Appended,
}

/// Ingest of one scope or the other, by the caller's token.
pub struct Ingest {
    logs: BTreeMap<Scope, Arc<dyn EventLog>>,
    /// Locations, their organisation and region, as the fold has them.
    registries: BTreeMap<Scope, Arc<dyn Registrations>>,
    /// The archive remembers every event beyond the log's duplicate window; concurrent
    /// requests consult it together.
    archives: BTreeMap<Scope, Coalescer<(String, uuid::Uuid), Option<u64>>>,
    /// Counts every outcome and times every append, whichever edge the events came by.
    metrics: Metrics,
}

impl Ingest {
    pub fn new(
        logs: BTreeMap<Scope, Arc<dyn EventLog>>,
        registries: BTreeMap<Scope, Arc<dyn Registrations>>,
        read_model: Arc<dyn ReadModel>,
        metrics: Metrics,
    ) -> Self {
        let archive = |scope: Scope| {
            let read_model = read_model.clone();
            Coalescer::new(move |keys: Vec<(String, uuid::Uuid)>| {
                let read_model = read_model.clone();
                async move { read_model.find_archived(scope, &keys).await }
            })
        };
        let archives = logs.keys().map(|scope| (*scope, archive(*scope))).collect();
        Ingest { logs, registries, archives, metrics }
    }

    /// Validates, authorises and appends one event.
    pub async fn submit(
        &self,
        caller: &Caller,
        submission: Result<Submission, FieldError>,
        now: DateTime<Utc>,
    ) -> Result<Receipt, Problem> {
        let mut results = self.submit_batch(caller, vec![submission], now).await;
        results.pop().unwrap_or_else(|| Err(Problem::internal("empty batch result")))
    }

    /// Each item on its own: valid ones are appended (in one go), invalid ones get their
    /// own problem. Results are in the order given.
    pub async fn submit_batch(
        &self,
        caller: &Caller,
        submissions: Vec<Result<Submission, FieldError>>,
        now: DateTime<Utc>,
    ) -> Vec<Result<Receipt, Problem>> {
        let scope = caller.scope();
        let (Some(log), Some(registry)) = (self.logs.get(&scope), self.registries.get(&scope)) else {
            return submissions.iter().map(|_| Err(Problem::internal(format!("no log for scope {scope}")))).collect();
        };
        let mut results: Vec<Option<Result<Receipt, Problem>>> = Vec::with_capacity(submissions.len());
        // Each accepted event with whether its client gave its time (see `Event::same_report`).
        let mut accepted: Vec<(usize, Event, bool)> = Vec::new();
        // A batch tends to report on a few locations many times: look each up once.
        let mut registrations = HashMap::new();
        for (i, submission) in submissions.into_iter().enumerate() {
            match accept(caller, &**registry, &mut registrations, submission, now).await {
                Ok((event, time_given)) => {
                    accepted.push((i, event, time_given));
                    results.push(None);
                }
                Err(p) => results.push(Some(Err(p))),
            }
        }
        // Already archived (a retry after the log's duplicate window): a duplicate, not stored.
        let keys: Vec<(String, uuid::Uuid)> = accepted.iter().map(|(_, e, _)| (e.source.to_string(), e.id)).collect();
        let window = log.duplicate_window();
        let ask: Vec<bool> = accepted.iter().map(|(_, e, _)| may_be_archived(e.id, window, now)).collect();
        let asked: Vec<_> = keys.iter().zip(&ask).filter(|(_, ask)| **ask).map(|(key, _)| key.clone()).collect();
        let lookup = match self.archives.get(&scope) {
            Some(archive) => archive.get(asked).await,
            None => Err(StoreError::Internal(format!("no archive for scope {scope}"))),
        };
        let mut found = lookup
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot consult the archive; relying on the log's duplicate window");
                Vec::new()
            })
            .into_iter();
        let archived = ask.iter().map(|ask| if *ask { found.next().flatten() } else { None });
        let (mut fresh, mut events, mut repeats) = (Vec::new(), Vec::new(), Vec::new());
        for (((i, event, time_given), (source, id)), seq) in accepted.into_iter().zip(keys).zip(archived) {
            match seq {
                Some(seq) => repeats.push((i, id, source, event, time_given, seq)),
                None => {
                    fresh.push((i, id, source, time_given));
                    events.push(event);
                }
            }
        }
        let appended = if events.is_empty() { Vec::new() } else { self.append(&**log, &events).await };
        for ((i, id, source, time_given), (outcome, event)) in fresh.into_iter().zip(appended.into_iter().zip(events)) {
            let registry = matches!(event.payload.family(), "organisation" | "location");
            if registry && matches!(outcome, Ok(Appended::Stored { .. })) {
                crate::security::registry_changed(caller, event.payload.event_type(), &source);
            }
            match outcome {
                Ok(Appended::Duplicate { seq }) => repeats.push((i, id, source, event, time_given, seq)),
                outcome => {
                    results[i] = Some(outcome.map(|appended| Receipt { id, source, appended }).map_err(Problem::from))
                }
            }
        }
        for (i, id, source, event, time_given, seq) in repeats {
            let appended = repeated(&**log, &event, time_given, seq).await;
            results[i] = Some(appended.map(|appended| Receipt { id, source, appended }));
        }
        let results: Vec<_> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Problem::internal("the log gave no outcome"))))
            .collect();
        self.count(&results);
        results
    }

    /// Appends, timed.
    async fn append(&self, log: &dyn EventLog, events: &[Event]) -> Vec<Result<Appended, StoreError>> {
        let started = std::time::Instant::now();
        let appended = log.append(events).await;
        let seconds = started.elapsed().as_secs_f64();
        self.metrics.append_seconds.with_label_values(&[log.scope().as_str()]).observe(seconds);
        appended
    }

    /// Counts each outcome, and each refusal by the stable code of the first thing wrong
    /// (a field's error code, else the problem's type).
    fn count(&self, results: &[Result<Receipt, Problem>]) {
        for result in results {
            self.metrics.ingest_events.with_label_values(&[outcome(result)]).inc();
            if let Err(problem) = result {
                let reason = problem.errors.first().map_or_else(|| problem.code(), |e| e.code.as_str());
                self.metrics.ingest_rejections.with_label_values(&[reason]).inc();
            }
        }
    }

    /// Records on `location` that its system's message `intake_seq` was refused, and why.
    /// Idempotent per intake message. Only for a location of the caller's organisation.
    pub async fn record_rejection(
        &self,
        caller: &Caller,
        location: &str,
        intake_seq: u64,
        refused: &Problem,
    ) -> Result<(), Problem> {
        let scope = caller.scope();
        let (Some(log), Some(registry)) = (self.logs.get(&scope), self.registries.get(&scope)) else {
            return Err(Problem::internal(format!("no log for scope {scope}")));
        };
        let id = Slug::try_from(location).map_err(|r| Problem::invalid(r.at("source")))?;
        let info = registry.location(&id).await.ok_or_else(|| Problem::not_found(format!("no location {location}")))?;
        // Recorded as the system's own report on the location: allowed where that would be.
        let report =
            Action::Report { location: &id, region: info.region, organisation: &info.organisation, bron: Bron::Api };
        policy::decide(caller, &report)?;
        let error = refused.errors.first();
        let field = error.and_then(|e| ShortText::try_from(e.field.clone()).ok());
        // The reason is ours, but may quote what was sent: it is checked like any text.
        let reason = error.map_or(refused.detail.clone(), |e| e.reason.clone());
        let reason = LongText::try_from(reason.chars().take(1000).collect::<String>())
            .or_else(|_| LongText::try_from(refused.title.clone()))
            .map_err(Problem::internal)?;
        let now = Utc::now();
        let event = Event {
            id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("intake|{scope}|{intake_seq}").as_bytes()),
            source: Source::Location(id),
            time: now,
            bron: Bron::Api,
            bevestigd: true,
            prognose: None,
            stamp: Stamp { region: info.region, scope, actor: caller.token.name.clone(), received: now },
            payload: Payload::IntakeRejected(IntakeRejectedData { field, reason, intake_seq }),
        };
        self.append(&**log, &[event]).await.remove(0).map(|_| ()).map_err(Problem::from)
    }
}

/// One report's outcome: its `status` in a batch answer, and what the metrics count.
pub fn outcome(result: &Result<Receipt, Problem>) -> &'static str {
    match result {
        Ok(Receipt { appended: Appended::Stored { .. }, .. }) => "stored",
        Ok(Receipt { appended: Appended::Duplicate { .. }, .. }) => "duplicate",
        Err(_) => "rejected",
    }
}

/// The answer to an event whose (source, id) the log or the archive already holds at
/// `seq`: a duplicate when it says what the stored one says, else a conflict (events are
/// immutable; a correction is a new observation with an id of its own).
async fn repeated(log: &dyn EventLog, event: &Event, time_given: bool, seq: u64) -> Result<Appended, Problem> {
    let stored = log.read(seq.saturating_sub(1), 1).await?;
    match stored.first() {
        Some(entry) if entry.seq == seq => {
            if event.same_report(&entry.body, time_given) {
                Ok(Appended::Duplicate { seq })
            } else {
                Err(Problem::conflict(
                    "id",
                    format!(
                        "An event with id {} from {} is already stored (seq {seq}) with other content. \
                         Events are never overwritten: send a correction as a new event with a new id.",
                        event.id, event.source
                    ),
                ))
            }
        }
        // Past the log's retention the archive's word that it is stored stands.
        _ => {
            tracing::warn!(seq, "a repeated event is no longer in the log; its content is not compared");
            Ok(Appended::Duplicate { seq })
        }
    }
}

/// Room for the clocks involved: ghor's, the NATS server's, and that of whoever minted an id.
const CLOCK_SLACK: Duration = Duration::from_secs(30);

/// Whether an event may already be in the archive beyond the log's own memory of ids:
/// never when the log refuses every repeat itself (`window` is `None`), and not when its id
/// is a UUIDv7 minted so recently that any earlier attempt is still inside the window. (An
/// id from a clock running ahead by more than the slack is checked as any other.)
fn may_be_archived(id: uuid::Uuid, window: Option<Duration>, now: DateTime<Utc>) -> bool {
    let Some(window) = window else { return false };
    let minted = id.get_timestamp().filter(|_| id.get_version_num() == 7).and_then(|t| {
        let (secs, nanos) = t.to_unix();
        DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
    });
    let (Some(minted), Ok(window), Ok(slack)) =
        (minted, chrono::Duration::from_std(window), chrono::Duration::from_std(CLOCK_SLACK))
    else {
        return true;
    };
    !(minted > now - window + slack && minted <= now + slack)
}

/// Validates, authorises and stamps one submission, saying whether its client gave its
/// time; `registrations` remembers the locations looked up so far.
async fn accept(
    caller: &Caller,
    registry: &dyn Registrations,
    registrations: &mut HashMap<Slug, Option<LocationInfo>>,
    submission: Result<Submission, FieldError>,
    now: DateTime<Utc>,
) -> Result<(Event, bool), Problem> {
    let submission = submission.map_err(Problem::invalid)?;
    let time_given = submission.time.is_some();
    let registered = match &submission.source {
        Source::Location(id) => {
            if !registrations.contains_key(id) {
                registrations.insert(id.clone(), registry.location(id).await);
            }
            registrations.get(id).and_then(Option::as_ref)
        }
        Source::Region(_) => None,
    };
    let region = authorise(caller, &submission, registered)?;
    let stamp = Stamp { region, scope: caller.scope(), actor: caller.token.name.clone(), received: now };
    submission.accept(stamp).map(|event| (event, time_given)).map_err(Problem::invalid)
}

/// Asks the policy whether `caller` may write `submission` (see [`crate::policy`]), from
/// its token and the location's registration; returns the region to stamp.
pub fn authorise(
    caller: &Caller,
    submission: &Submission,
    registered: Option<&LocationInfo>,
) -> Result<RegionCode, Problem> {
    let bron = submission.bron;
    let event_type = submission.payload.event_type();
    let (action, region) = match (&submission.payload, &submission.source) {
        (Payload::ReportOverdue(_), _) => {
            (Action::WriteOwnEvent { event_type: "report_overdue", writer: "ghor's own scheduler" }, None)
        }
        (Payload::IntakeRejected(_), _) => {
            (Action::WriteOwnEvent { event_type: "intake_rejected", writer: "ghor's ingest" }, None)
        }
        (Payload::UitvraagReminderDue { .. }, _) => {
            (Action::WriteOwnEvent { event_type: "uitvraag.reminder_due", writer: "ghor's own scheduler" }, None)
        }
        (Payload::Notification { .. }, _) => {
            (Action::WriteOwnEvent { event_type: "notification", writer: "ghor's notifier" }, None)
        }
        (Payload::LocationRegistered(info), Source::Location(_)) => (
            Action::RegisterLocation { region: info.region, registered_in: registered.map(|old| old.region), bron },
            Some(info.region),
        ),
        (
            Payload::Status(_) | Payload::Retracted(_) | Payload::HandelingsperspectiefRead { .. },
            Source::Location(id),
        ) => {
            let Some(info) = registered else {
                return Err(Problem::invalid(FieldError::new(
                    "source",
                    ErrorCode::NotRegistered,
                    &format!("/locations/{id} is not a registered location; the GHOR registers locations first"),
                )));
            };
            (
                Action::Report { location: id, region: info.region, organisation: &info.organisation, bron },
                Some(info.region),
            )
        }
        (payload, Source::Region(region)) => {
            let region = *region;
            let action = match payload {
                Payload::OrganisationRegistered { .. } => Action::RegisterOrganisation { region, bron },
                Payload::AgreementRecorded { .. } => Action::RecordAgreement { region, bron },
                Payload::Incident { .. } => Action::ManageIncidents { region, bron },
                Payload::AlertAcknowledged { .. } => Action::Acknowledge { region, bron },
                Payload::ThresholdSet { .. } => Action::SetThreshold { region, bron },
                Payload::UitvraagOpened { .. }
                | Payload::UitvraagClosed { .. }
                | Payload::CallRecorded { .. }
                | Payload::HandelingsperspectiefPublished { .. }
                | Payload::BeeldIssued { .. } => Action::AskAndAdvise { region, bron },
                // Parsing already refused the other types with a region as source.
                _ => return Err(Problem::forbidden(Some("source"), format!("no client writes {event_type} events"))),
            };
            (action, Some(region))
        }
        // Parsing already refused a source of the wrong kind.
        (_, source) => {
            return Err(Problem::forbidden(
                Some("source"),
                format!("{source} is not a valid source for this event type"),
            ))
        }
    };
    policy::decide(caller, &action)?;
    region.ok_or_else(|| Problem::internal("the policy allowed an event ghor writes itself"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted_at(t: DateTime<Utc>) -> uuid::Uuid {
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, t.timestamp() as u64, t.timestamp_subsec_nanos());
        uuid::Uuid::new_v7(ts)
    }

    #[test]
    fn only_ids_that_may_be_older_than_the_duplicate_window_are_looked_up_in_the_archive() {
        let now = Utc::now();
        let window = Some(Duration::from_secs(120));
        let ago = |s: i64| minted_at(now - chrono::Duration::seconds(s));
        assert!(!may_be_archived(ago(5), window, now), "minted just now: any first attempt is in the window");
        assert!(!may_be_archived(ago(-20), window, now), "a clock a little ahead");
        assert!(may_be_archived(ago(-120), window, now), "a clock far ahead proves nothing");
        assert!(may_be_archived(ago(100), window, now), "too near the window's edge for the slack");
        assert!(may_be_archived(ago(3600), window, now), "an hour old");
        assert!(may_be_archived(uuid::Uuid::new_v4(), window, now), "a random id carries no time");
        assert!(may_be_archived(ago(5), Some(Duration::from_secs(1)), now), "a window shorter than the slack");
        assert!(!may_be_archived(ago(3600), None, now), "a log that refuses every repeat itself");
    }
}
