//! The production event log on NATS JetStream: one stream per scope over
//! `ghor.<scope>.ev.<region>.<entity>.<dimension>`, declared once and verified at every
//! start (a mismatch is an error, never a silent recreate). Appends publish with
//! `Nats-Msg-Id` = `source|id` and pipeline their acks; readers follow with an ordered
//! consumer. The stream's creation identifies the epoch.
//!
//! The national level's log is the same stream, sourced: it has no subjects of its own and
//! takes every region's stream through the region's JetStream domain (the region's code in
//! lower case) over a leaf link, each source with its own position, so a cut link loses and
//! doubles nothing when it comes back.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::context::{Context, PublishError, PublishErrorKind};
use async_nats::jetstream::stream::{
    Config, DiscardPolicy, External, LastRawMessageErrorKind, Source as StreamSource, StorageType, Stream,
};
use async_nats::HeaderMap;
use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use ghor_domain::{Event, RegionCode, Scope, Slug, Source};
use tokio::sync::{watch, Mutex, Semaphore};
use uuid::Uuid;

use crate::ports::*;

/// Namespace of epochs derived from a stream's name and creation time.
const EPOCH_NAMESPACE: Uuid = Uuid::from_u128(0x6768_6f72_0000_4000_8000_0000_0000_0003);
/// Publishes awaiting their ack, over all appends of one log.
const IN_FLIGHT: usize = 4096;
/// JetStream's "duplicate message id is in process": another publish of the same id has not
/// been confirmed yet. Asked again after a pause, it answers with that publish's outcome.
const IN_PROCESS: &str = "error code 10158";
const IN_PROCESS_RETRIES: usize = 20;
const IN_PROCESS_PAUSE: Duration = Duration::from_millis(50);
/// The subjects' dimension of location registrations (`Payload::family`).
const REGISTRATION_FAMILY: &str = "location";
/// How long a read waits for entries the log says it has.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Cursors kept between reads (a few readers per process, each reading on from its own).
const MAX_CURSORS: usize = 8;
/// Readers placed anew within one read after going back, before the read gives up.
const MAX_REWINDS: usize = 3;

/// How the canonical streams are declared.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// 3 in production (a 3-node cluster); 1 for a single server.
    pub replicas: usize,
    /// The window in which JetStream itself drops a repeated `Nats-Msg-Id`.
    pub duplicate_window: Duration,
    /// Largest stream size in bytes; `-1` for no limit (new events are refused when full).
    pub max_bytes: i64,
    /// How long a publish may wait for its ack before the outcome counts as unknown.
    pub ack_timeout: Duration,
    /// The regions whose streams this one sources: set at the national level, whose stream
    /// then takes no appends of its own.
    pub sourced_from: Vec<RegionCode>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            max_bytes: -1,
            ack_timeout: Duration::from_secs(5),
            sourced_from: Vec::new(),
        }
    }
}

pub fn stream_name(scope: Scope) -> String {
    format!("GHOR_{}", scope.as_str().to_uppercase())
}

/// The subject an event is published on: `ghor.<scope>.ev.<region>.<entity>.<dimension>`.
pub fn subject(event: &Event) -> String {
    let entity = match &event.source {
        Source::Location(id) => id.to_string(),
        Source::Region(_) => "_region".to_owned(),
    };
    format!("ghor.{}.ev.{}.{entity}.{}", event.stamp.scope, event.stamp.region, event.payload.family())
}

/// The JetStream API of a region's domain, as seen over the leaf link. A region's domain is
/// its code in lower case (`vr01`; deploy/nats/region.conf's NATS_DOMAIN).
fn domain_api(region: RegionCode) -> String {
    format!("$JS.{}.API", region.to_string().to_lowercase())
}

fn declared(scope: Scope, settings: &StreamSettings) -> Config {
    let sources: Vec<StreamSource> = settings
        .sourced_from
        .iter()
        .map(|region| StreamSource {
            name: stream_name(scope),
            external: Some(External { api_prefix: domain_api(*region), delivery_prefix: None }),
            // A region speaks for its own region only: whatever else its log holds (the
            // defaults it seeds for every region) stays there.
            filter_subject: Some(format!("ghor.{scope}.ev.{region}.>")),
            ..Default::default()
        })
        .collect();
    // A region's stream takes its scope's subjects; the national one only what it sources.
    let subjects = if sources.is_empty() { vec![format!("ghor.{scope}.ev.>")] } else { Vec::new() };
    Config {
        name: stream_name(scope),
        subjects,
        sources: (!sources.is_empty()).then_some(sources),
        storage: StorageType::File,
        deny_delete: true,
        deny_purge: true,
        max_age: Duration::ZERO,
        max_bytes: settings.max_bytes,
        discard: DiscardPolicy::New,
        num_replicas: settings.replicas,
        duplicate_window: settings.duplicate_window,
        allow_direct: true,
        ..Default::default()
    }
}

/// What differs between the stream found and the one ghor declares.
fn mismatches(found: &Config, wanted: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |name: &str, found: String, wanted: String| {
        if found != wanted {
            out.push(format!("{name} is {found} but ghor needs {wanted}"));
        }
    };
    check("subjects", format!("{:?}", found.subjects), format!("{:?}", wanted.subjects));
    check("storage", format!("{:?}", found.storage), format!("{:?}", wanted.storage));
    check("deny_delete", found.deny_delete.to_string(), wanted.deny_delete.to_string());
    check("deny_purge", found.deny_purge.to_string(), wanted.deny_purge.to_string());
    check("max_age", format!("{:?}", found.max_age), format!("{:?}", wanted.max_age));
    check("discard", format!("{:?}", found.discard), format!("{:?}", wanted.discard));
    check("replicas", found.num_replicas.to_string(), wanted.num_replicas.to_string());
    check("duplicate_window", format!("{:?}", found.duplicate_window), format!("{:?}", wanted.duplicate_window));
    check("max_bytes", found.max_bytes.to_string(), wanted.max_bytes.to_string());
    out
}

/// The domains' APIs a stream sources with their filters, in order: which regions it takes.
fn sourced_apis(config: &Config) -> Vec<String> {
    let mut apis: Vec<String> = config
        .sources
        .iter()
        .flatten()
        .filter_map(|source| {
            let filter = source.filter_subject.as_deref().unwrap_or(">");
            source.external.as_ref().map(|e| format!("{} {filter}", e.api_prefix))
        })
        .collect();
    apis.sort();
    apis
}

/// What the stream's own API says of its sources (the client library's info leaves out
/// which domain each comes from).
#[derive(serde::Deserialize)]
struct SourcesInfo {
    #[serde(default)]
    sources: Vec<SourceState>,
}

#[derive(serde::Deserialize)]
struct SourceState {
    external: Option<External>,
    #[serde(default)]
    lag: u64,
    /// Nanoseconds since the source was last heard from; negative when never.
    #[serde(default = "never")]
    active: i64,
}

fn never() -> i64 {
    -1
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("{what}: {e}"))
}

/// Connects to NATS. The URL may list several servers, comma-separated, and carry a user
/// and password (`nats://ghor:secret@n1:4222,nats://n2:4222`); they are never logged.
pub async fn connect(url: &str) -> StoreResult<async_nats::Client> {
    let (credentials, servers) = split_credentials(url);
    let options = match credentials {
        Some((user, password)) => async_nats::ConnectOptions::with_user_and_password(user, password),
        None => async_nats::ConnectOptions::new(),
    };
    options
        .name("ghor")
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .connect(servers.as_slice())
        .await
        .map_err(|e| unavailable(&format!("cannot connect to NATS at {}", servers.join(",")), e))
}

/// Takes `user:password@` out of every server of a NATS URL and lists the servers.
fn split_credentials(url: &str) -> (Option<(String, String)>, Vec<String>) {
    let mut credentials = None;
    let servers: Vec<String> = url
        .split(',')
        .map(|server| {
            let (scheme, rest) = server.trim().split_once("://").unwrap_or(("nats", server.trim()));
            match rest.rsplit_once('@') {
                Some((userinfo, host)) => {
                    if let Some((user, password)) = userinfo.split_once(':') {
                        credentials.get_or_insert((user.to_owned(), password.to_owned()));
                    }
                    format!("{scheme}://{host}")
                }
                None => format!("{scheme}://{rest}"),
            }
        })
        .collect();
    (credentials, servers)
}

#[cfg(test)]
mod tests {
    use super::split_credentials;

    #[test]
    fn credentials_come_out_of_the_url() {
        let (c, s) = split_credentials("nats://ghor:s3cret@n1:4222,nats://n2:4222");
        assert_eq!(c, Some(("ghor".to_owned(), "s3cret".to_owned())));
        assert_eq!(s, ["nats://n1:4222", "nats://n2:4222"]);
        assert_eq!(split_credentials("nats://127.0.0.1:4222"), (None, vec!["nats://127.0.0.1:4222".to_owned()]));
    }
}

/// The JetStream log of one scope.
pub struct NatsLog {
    js: Context,
    stream: Stream,
    scope: Scope,
    epoch: Uuid,
    notify: watch::Sender<u64>,
    /// Readers' cursors between reads, by the sequence each reads next, most recently used
    /// last: each reader of the log (gateway, projector, history) finds its own where it
    /// left it, instead of all sharing one that every other reader moves.
    cursors: Mutex<Vec<(u64, Ordered)>>,
    /// Acks the appends may await at once (see `append`).
    in_flight: Semaphore,
    /// The stream's window for repeated `Nats-Msg-Id`s.
    duplicate_window: Duration,
    /// Follows the stream's tail into `notify`, from the first time a reader needs it (a
    /// process that only appends never reads the log back); held, and started again
    /// should it ever end.
    tail: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    me: std::sync::Weak<NatsLog>,
    ack_timeout: Duration,
    /// The regions whose streams this one sources (the national level): no appends then.
    sourced_from: Vec<RegionCode>,
}

impl NatsLog {
    /// Creates the scope's stream, or verifies the one that exists; then follows it.
    pub async fn open(
        client: async_nats::Client,
        scope: Scope,
        settings: &StreamSettings,
    ) -> StoreResult<Arc<NatsLog>> {
        let js = async_nats::jetstream::ContextBuilder::new()
            .timeout(settings.ack_timeout)
            .max_ack_inflight(IN_FLIGHT)
            .build(client);
        let wanted = declared(scope, settings);
        let mut stream = match js.get_stream(&wanted.name).await {
            Ok(stream) => stream,
            Err(_) => js
                .get_or_create_stream(wanted.clone())
                .await
                .map_err(|e| unavailable(&format!("cannot create stream {}", wanted.name), e))?,
        };
        let info = stream.info().await.map_err(|e| unavailable("cannot read the stream's state", e))?.clone();
        // Which regions the national stream sources is the one thing ghor changes itself: a
        // region is added (or left out) by starting the national ghor with its list.
        let info = if sourced_apis(&info.config) == sourced_apis(&wanted) || info.config.subjects != wanted.subjects {
            info
        } else {
            tracing::info!(stream = %wanted.name, regions = ?settings.sourced_from, "the national stream now sources these regions");
            js.update_stream(&wanted)
                .await
                .map_err(|e| unavailable(&format!("cannot update stream {}", wanted.name), e))?
        };
        let mut problems = mismatches(&info.config, &wanted);
        if sourced_apis(&info.config) != sourced_apis(&wanted) {
            problems.push(format!(
                "it sources {:?} but ghor needs {:?}",
                sourced_apis(&info.config),
                sourced_apis(&wanted)
            ));
        }
        if !problems.is_empty() {
            return Err(StoreError::Internal(format!(
                "stream {} exists with another configuration: {}. ghor never recreates a stream; change it with `nats stream edit` or fix ghor's settings",
                wanted.name,
                problems.join("; ")
            )));
        }
        let epoch = Uuid::new_v5(
            &EPOCH_NAMESPACE,
            format!("{}|{}", wanted.name, info.created.unix_timestamp_nanos()).as_bytes(),
        );
        let (notify, _) = watch::channel(info.state.last_sequence);
        let log = Arc::new_cyclic(|me| NatsLog {
            js,
            stream,
            scope,
            epoch,
            notify,
            cursors: Mutex::new(Vec::new()),
            in_flight: Semaphore::new(IN_FLIGHT),
            duplicate_window: info.config.duplicate_window,
            tail: std::sync::Mutex::new(None),
            me: me.clone(),
            ack_timeout: settings.ack_timeout,
            sourced_from: settings.sourced_from.clone(),
        });
        Ok(log)
    }

    /// The newest sequence, kept current from now on.
    fn following(&self) -> &watch::Sender<u64> {
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        if tail.as_ref().is_some_and(|t| t.is_finished()) {
            tracing::error!(stream = %stream_name(self.scope), "the log's tail follower ended; starting it again");
            *tail = None;
        }
        if tail.is_none() {
            *tail = Some(tokio::spawn(follow_tail(self.me.clone(), *self.notify.borrow())));
        }
        drop(tail);
        &self.notify
    }

    /// Whether the tail has been followed so far.
    fn followed(&self) -> bool {
        self.tail.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Every publish failure leaves the outcome unknown and a retry with the same id safe
    /// (the log drops the repeat): none is the caller's fault or a fault of ghor's own. A
    /// stream without a leader (an election, no quorum) answers "no stream found" or "no
    /// responders" for a few seconds; a full stream refuses until an operator acts.
    fn publish_error(&self, e: PublishError) -> StoreError {
        let text = e.to_string();
        if text.contains("maximum") {
            tracing::error!(stream = %stream_name(self.scope), error = %e, "the event log is full and refuses new events");
            return StoreError::Unavailable(format!("the event log is full: {e}"));
        }
        let expected = matches!(
            e.kind(),
            PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe | PublishErrorKind::MaxAckPending
        );
        if !expected && !text.contains(IN_PROCESS) {
            tracing::warn!(stream = %stream_name(self.scope), error = %e, "the log refused an append");
        }
        StoreError::Unavailable(format!(
            "the log did not confirm ({e}); the outcome is unknown, retry with the same id"
        ))
    }

    /// The cursor that reads `next` next: a parked one, or a new one placed there.
    async fn cursor_at(&self, next: u64) -> StoreResult<Ordered> {
        let parked = {
            let mut cursors = self.cursors.lock().await;
            cursors.iter().position(|(at, _)| *at == next).map(|i| cursors.remove(i).1)
        };
        match parked {
            Some(cursor) => Ok(cursor),
            None => self.consumer_from(next).await,
        }
    }

    /// Keeps a cursor for the read that continues at `next`; the least recently used goes
    /// when there are too many.
    async fn park(&self, next: u64, cursor: Ordered) {
        let mut cursors = self.cursors.lock().await;
        cursors.push((next, cursor));
        if cursors.len() > MAX_CURSORS {
            cursors.remove(0);
        }
    }

    async fn consumer_from(&self, start: u64) -> StoreResult<Ordered> {
        let consumer = self
            .stream
            .create_consumer(OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: start },
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable("cannot create a reader", e))?;
        consumer.messages().await.map_err(|e| unavailable("cannot start reading", e))
    }

    /// One try at appending `events`: every event published, then every ack collected.
    async fn append_once(&self, events: &[Event]) -> Vec<StoreResult<Appended>> {
        // Publish every event of the append, then collect the acks: one round trip, not one
        // per event. The append first takes all the acks it will wait for at once, so that
        // concurrent appends never each hold part of the client's in-flight acks while
        // waiting for the rest (they would wait on each other for good).
        let mut pending = Vec::with_capacity(events.len());
        let trace = crate::trace::current();
        for part in events.chunks(IN_FLIGHT) {
            let permits = tokio::time::timeout(self.ack_timeout, self.in_flight.acquire_many(part.len() as u32)).await;
            let Ok(Ok(_permits)) = permits else {
                let slow = || {
                    Err(StoreError::Unavailable("the log is slow to confirm appends; retry with the same ids".into()))
                };
                pending.extend(part.iter().map(|_| slow()));
                continue;
            };
            let mut published = Vec::with_capacity(part.len());
            for event in part {
                let mut headers = HeaderMap::new();
                headers.insert("Nats-Msg-Id", event.dedup_key().as_str());
                if let Some(traceparent) = &trace {
                    headers.insert(crate::trace::HEADER, traceparent.as_str());
                }
                // An event that cannot be written fails alone, never as an empty body.
                published.push(match event.to_bytes() {
                    Ok(body) => self
                        .js
                        .publish_with_headers(subject(event), headers, body.into())
                        .await
                        .map_err(|e| self.publish_error(e)),
                    Err(e) => Err(StoreError::Internal(e.to_string())),
                });
            }
            for publish in published {
                pending.push(match publish {
                    Ok(future) => future.await.map_err(|e| self.publish_error(e)),
                    Err(e) => Err(e),
                });
            }
        }
        let mut results = Vec::with_capacity(events.len());
        let mut newest = 0;
        for ack in pending {
            results.push(ack.map(|ack| {
                if ack.duplicate {
                    Appended::Duplicate { seq: ack.sequence }
                } else {
                    newest = newest.max(ack.sequence);
                    Appended::Stored { seq: ack.sequence }
                }
            }));
        }
        self.notify.send_if_modified(|seq| {
            let moved = *seq < newest;
            *seq = (*seq).max(newest);
            moved
        });
        results
    }
}

/// The trace context the message's append carried.
fn carried(message: &async_nats::Message) -> Option<String> {
    let value = message.headers.as_ref()?.get(crate::trace::HEADER)?;
    Some(value.as_str().to_owned())
}

/// Keeps the watch channel at the stream's newest sequence, whoever appended it.
async fn follow_tail(log: std::sync::Weak<NatsLog>, mut last: u64) {
    loop {
        let Some(strong) = log.upgrade() else { return };
        let consumer = strong
            .stream
            .create_consumer(OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: last + 1 },
                headers_only: true,
                ..Default::default()
            })
            .await;
        let mut messages = match consumer {
            Ok(c) => match c.messages().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "log tail: cannot read; retrying");
                    drop(strong);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "log tail: cannot create consumer; retrying");
                drop(strong);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let notify = strong.notify.clone();
        drop(strong);
        while let Some(message) = messages.next().await {
            match message {
                Ok(m) => {
                    if let Ok(info) = m.info() {
                        last = last.max(info.stream_sequence);
                        notify.send_if_modified(|seq| {
                            let moved = *seq < last;
                            *seq = (*seq).max(last);
                            moved
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "log tail interrupted; resuming");
                    break;
                }
            }
            if log.strong_count() == 0 {
                return;
            }
        }
    }
}

#[async_trait]
impl EventLog for NatsLog {
    fn scope(&self) -> Scope {
        self.scope
    }

    fn epoch(&self) -> Uuid {
        self.epoch
    }

    async fn append(&self, events: &[Event]) -> Vec<StoreResult<Appended>> {
        if !self.sourced_from.is_empty() {
            let refused = || {
                StoreError::ReadOnly(
                    "this is the national picture, fed by the regions' logs: it takes no reports or changes; send them to the region's ghor".into(),
                )
            };
            return events.iter().map(|_| Err(refused())).collect();
        }
        let mut results = self.append_once(events).await;
        // Another publish of the same event is still in flight (two processes seeding the
        // same defaults at once, a client's retry racing its first try): JetStream says so
        // instead of waiting, and asked again a moment later it answers "duplicate".
        for _ in 0..IN_PROCESS_RETRIES {
            let waiting: Vec<usize> = (0..results.len())
                .filter(|i| matches!(&results[*i], Err(StoreError::Unavailable(m)) if m.contains(IN_PROCESS)))
                .collect();
            if waiting.is_empty() {
                break;
            }
            tokio::time::sleep(IN_PROCESS_PAUSE).await;
            let again: Vec<Event> = waiting.iter().map(|i| events[*i].clone()).collect();
            for (i, result) in waiting.into_iter().zip(self.append_once(&again).await) {
                results[i] = result;
            }
        }
        results
    }

    fn duplicate_window(&self) -> Option<Duration> {
        Some(self.duplicate_window)
    }

    async fn read(&self, after: u64, max: usize) -> StoreResult<Vec<LogEntry>> {
        let last = *self.following().borrow();
        let want = (last.saturating_sub(after) as usize).min(max);
        if want == 0 {
            return Ok(Vec::new());
        }
        let mut messages = self.cursor_at(after + 1).await?;
        let mut entries = Vec::with_capacity(want);
        let mut rewinds = 0;
        let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
        while entries.len() < want {
            let message = match tokio::time::timeout_at(deadline, messages.next()).await {
                Ok(Some(Ok(m))) => m,
                Ok(Some(Err(e))) => {
                    // The ordered consumer recreates itself after most errors; start over next time.
                    tracing::warn!(error = %e, "log read interrupted");
                    break;
                }
                Ok(None) | Err(_) => break,
            };
            let seq = message.info().map_err(|e| StoreError::Internal(e.to_string()))?.stream_sequence;
            let expected = entries.last().map_or(after + 1, |e: &LogEntry| e.seq + 1);
            if seq < expected {
                // A consumer that came back from an earlier sequence (an ordered consumer
                // recreated before its first message starts over at 1): never believed;
                // a new one is placed where this reader is.
                rewinds += 1;
                tracing::warn!(stream = %stream_name(self.scope), expected, got = seq, "a log reader went back; placing a new one");
                if rewinds > MAX_REWINDS {
                    break;
                }
                messages = self.consumer_from(expected).await?;
                continue;
            }
            // Decoded by the reader; one that is not an event is quarantined by the projector.
            entries.push(LogEntry { seq, body: message.payload.clone(), trace: carried(&message) });
        }
        if entries.is_empty() {
            return Err(StoreError::Unavailable(format!(
                "the log holds sequence {} but did not deliver it in time",
                after + 1
            )));
        }
        let next = entries.last().map_or(after + 1, |e| e.seq + 1);
        self.park(next, messages).await;
        Ok(entries)
    }

    async fn last_seq(&self) -> StoreResult<u64> {
        if !self.followed() {
            // Not followed so far: the stream itself knows.
            self.probe().await?;
        }
        Ok(*self.following().borrow())
    }

    async fn probe(&self) -> StoreResult<u64> {
        let mut stream = self.stream.clone();
        let info = stream.info().await.map_err(|e| unavailable("cannot read the stream's state", e))?;
        let last = info.state.last_sequence;
        // A tail that fell behind (its consumer being recreated) is overtaken here.
        self.notify.send_if_modified(|seq| std::mem::replace(seq, (*seq).max(last)) < last);
        Ok(last)
    }

    async fn first_seq(&self) -> StoreResult<u64> {
        let mut stream = self.stream.clone();
        let info = stream.info().await.map_err(|e| unavailable("cannot read the stream's state", e))?;
        Ok(info.state.first_sequence.max(1))
    }

    async fn usage(&self) -> StoreResult<Usage> {
        let mut stream = self.stream.clone();
        let info = stream.info().await.map_err(|e| unavailable("cannot read the stream's state", e))?;
        let limit = u64::try_from(info.config.max_bytes).ok().filter(|max| *max > 0);
        Ok(Usage { bytes: info.state.bytes, limit })
    }

    fn sourced_from(&self) -> &[RegionCode] {
        &self.sourced_from
    }

    async fn links(&self) -> StoreResult<Vec<Link>> {
        if self.sourced_from.is_empty() {
            return Ok(Vec::new());
        }
        let info: SourcesInfo = self
            .js
            .request(format!("STREAM.INFO.{}", stream_name(self.scope)), &serde_json::json!({}))
            .await
            .map_err(|e| unavailable("cannot read the national stream's sources", e))?;
        Ok(self
            .sourced_from
            .iter()
            .map(|region| {
                let state = info
                    .sources
                    .iter()
                    .find(|s| s.external.as_ref().is_some_and(|e| e.api_prefix == domain_api(*region)));
                Link {
                    region: *region,
                    lag: state.map_or(0, |s| s.lag),
                    last_contact: state.and_then(|s| u64::try_from(s.active).ok()).map(Duration::from_nanos),
                }
            })
            .collect())
    }

    fn watch(&self) -> watch::Receiver<u64> {
        self.following().subscribe()
    }

    async fn registrations(&self, after: u64) -> StoreResult<BoxStream<'static, StoreResult<LogEntry>>> {
        let consumer = self
            .stream
            .create_consumer(OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: after + 1 },
                filter_subject: format!("ghor.{}.ev.*.*.{REGISTRATION_FAMILY}", self.scope),
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable("cannot create a registry reader", e))?;
        let messages = consumer.messages().await.map_err(|e| unavailable("cannot start reading registrations", e))?;
        Ok(messages
            .map(|message| {
                let message = message.map_err(|e| unavailable("registrations interrupted", e))?;
                let seq = message.info().map_err(|e| StoreError::Internal(e.to_string()))?.stream_sequence;
                Ok(LogEntry { seq, body: message.payload.clone(), trace: carried(&message) })
            })
            .boxed())
    }

    async fn read_filtered(&self, filter: Filter<'_>, after: u64, max: usize) -> StoreResult<Vec<LogEntry>> {
        let subjects = match filter {
            Filter::Family(family) => format!("ghor.{}.ev.*.*.{family}", self.scope),
            Filter::Location(location) => format!("ghor.{}.ev.*.{location}.*", self.scope),
        };
        // The newest selected bounds the read: a filtered reader would otherwise wait for
        // more at the end.
        let last = match self.stream.get_last_raw_message_by_subject(&subjects).await {
            Ok(message) if message.sequence > after => message.sequence,
            Ok(_) => return Ok(Vec::new()),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => return Ok(Vec::new()),
            Err(e) => return Err(unavailable("cannot look up the newest of a filter", e)),
        };
        let consumer = self
            .stream
            .create_consumer(OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: after + 1 },
                filter_subject: subjects,
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable("cannot create a filtered reader", e))?;
        let mut messages = consumer.messages().await.map_err(|e| unavailable("cannot start a filtered read", e))?;
        let mut entries = Vec::new();
        let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
        while entries.len() < max && entries.last().is_none_or(|e: &LogEntry| e.seq < last) {
            let message = match tokio::time::timeout_at(deadline, messages.next()).await {
                Ok(Some(Ok(m))) => m,
                Ok(Some(Err(e))) => return Err(unavailable("a filtered read was interrupted", e)),
                Ok(None) | Err(_) => {
                    return Err(StoreError::Unavailable(format!("the log did not deliver {filter:?} in time")))
                }
            };
            let seq = message.info().map_err(|e| StoreError::Internal(e.to_string()))?.stream_sequence;
            if entries.last().is_none_or(|e: &LogEntry| seq > e.seq) && seq > after {
                entries.push(LogEntry { seq, body: message.payload.clone(), trace: carried(&message) });
            }
        }
        Ok(entries)
    }

    async fn newest_registration(&self, location: &Slug) -> StoreResult<Option<u64>> {
        let subject = format!("ghor.{}.ev.*.{location}.{REGISTRATION_FAMILY}", self.scope);
        match self.stream.get_last_raw_message_by_subject(&subject).await {
            Ok(message) => Ok(Some(message.sequence)),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(unavailable("cannot look up a registration", e)),
        }
    }
}

/// How the intake streams (institution systems publishing straight onto NATS) are declared.
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// Messages not taken by ingest within this age are dropped (the sender must resend).
    pub max_age: Duration,
    /// Largest intake stream in bytes; the oldest messages go first when full.
    pub max_bytes: i64,
    /// Largest single message.
    pub max_message_bytes: i32,
    /// Organisations whose systems publish in a NATS account of their own. In each, ghor
    /// declares an intake stream with the limits above, through the account's JetStream
    /// API imported as [`account_api_prefix`], and sources it into the scope's intake
    /// stream (delivered on [`account_deliver_prefix`]). `deploy/nats/accounts.conf` shows
    /// the exports and imports this needs.
    pub accounts: Vec<String>,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        IntakeSettings {
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_bytes: 1 << 30,
            max_message_bytes: 64 * 1024,
            accounts: Vec::new(),
        }
    }
}

/// The scope's intake stream, in ghor's account: what ingest reads.
pub fn intake_stream_name(scope: Scope) -> String {
    format!("GHOR_INTAKE_{}", scope.as_str().to_uppercase())
}

/// An organisation's intake stream, in its own account.
pub fn account_stream_name(scope: Scope, organisation: &str) -> String {
    format!("{}_{}", intake_stream_name(scope), organisation.to_uppercase())
}

/// Where ghor's account imports an organisation's JetStream API.
pub fn account_api_prefix(organisation: &str) -> String {
    format!("JS.{organisation}.API")
}

/// Where an organisation's account delivers what ghor's intake stream sources from it.
pub fn account_deliver_prefix(organisation: &str) -> String {
    format!("ghor.deliver.{organisation}")
}

/// A message an institution's system published on `ghor.<scope>.in.<organisation>.<location>`.
pub struct IntakeMessage {
    /// Its sequence in the intake stream.
    pub seq: u64,
    pub organisation: String,
    pub location: String,
    pub payload: Vec<u8>,
    message: async_nats::jetstream::Message,
}

impl IntakeMessage {
    /// Done with it: stored, or recorded as refused.
    pub async fn ack(&self) {
        if let Err(e) = self.message.ack().await {
            tracing::warn!(seq = self.seq, error = %e, "intake ack failed; the message will come again (and be deduplicated)");
        }
    }

    /// The log was unavailable: have it delivered again later.
    pub async fn retry_later(&self) {
        let delay = Some(Duration::from_secs(2));
        if let Err(e) = self.message.ack_with(async_nats::jetstream::AckKind::Nak(delay)).await {
            tracing::warn!(seq = self.seq, error = %e, "intake nak failed");
        }
    }
}

/// The intake stream of one scope and ingest's durable consumer of it.
pub struct Intake {
    consumer: async_nats::jetstream::consumer::PullConsumer,
}

impl Intake {
    /// Creates (or brings up to date) the intake stream over `ghor.<scope>.in.*.*`, the
    /// intake streams in the organisations' own accounts it sources from, and the consumer.
    pub async fn open(client: async_nats::Client, scope: Scope, settings: &IntakeSettings) -> StoreResult<Intake> {
        let limits = |name: String, subject: String| Config {
            name,
            subjects: vec![subject],
            storage: StorageType::File,
            max_age: settings.max_age,
            max_bytes: settings.max_bytes,
            max_message_size: settings.max_message_bytes,
            discard: DiscardPolicy::Old,
            ..Default::default()
        };
        let mut sources = Vec::new();
        for organisation in &settings.accounts {
            let api = account_api_prefix(organisation);
            let theirs = async_nats::jetstream::with_prefix(client.clone(), &api);
            // Only this organisation's subjects: what comes from its account is its own.
            let config = limits(account_stream_name(scope, organisation), format!("ghor.{scope}.in.{organisation}.*"));
            theirs.create_or_update_stream(config.clone()).await.map_err(|e| {
                unavailable(
                    &format!("cannot declare {} in the account of {organisation} (through {api})", config.name),
                    e,
                )
            })?;
            sources.push(async_nats::jetstream::stream::Source {
                name: config.name,
                external: Some(async_nats::jetstream::stream::External {
                    api_prefix: api,
                    delivery_prefix: Some(account_deliver_prefix(organisation)),
                }),
                ..Default::default()
            });
        }
        let js = async_nats::jetstream::new(client);
        let config = Config {
            sources: (!sources.is_empty()).then_some(sources),
            ..limits(intake_stream_name(scope), format!("ghor.{scope}.in.*.*"))
        };
        js.create_or_update_stream(config.clone())
            .await
            .map_err(|e| unavailable(&format!("cannot open intake stream {}", config.name), e))?;
        let stream =
            js.get_stream(&config.name).await.map_err(|e| unavailable(&format!("cannot open {}", config.name), e))?;
        let consumer = stream
            .get_or_create_consumer(
                "ghor-ingest",
                async_nats::jetstream::consumer::pull::Config {
                    durable_name: Some("ghor-ingest".into()),
                    ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| unavailable("cannot create the intake consumer", e))?;
        Ok(Intake { consumer })
    }

    /// The next intake message; `Ok(None)` when the subject cannot be attributed (acked and
    /// dropped, with a warning).
    pub async fn messages(&self) -> StoreResult<impl futures::Stream<Item = StoreResult<Option<IntakeMessage>>>> {
        let messages = self.consumer.messages().await.map_err(|e| unavailable("cannot read the intake stream", e))?;
        Ok(messages.then(|m| async move {
            let message = m.map_err(|e| unavailable("intake read interrupted", e))?;
            let seq = message.info().map_err(|e| StoreError::Internal(e.to_string()))?.stream_sequence;
            let tokens: Vec<&str> = message.subject.split('.').collect();
            let (organisation, location) = match tokens.as_slice() {
                [_, _, "in", organisation, location] => ((*organisation).to_owned(), (*location).to_owned()),
                _ => {
                    tracing::warn!(subject = %message.subject, "intake message on an unexpected subject; dropped");
                    let _ = message.ack().await;
                    return Ok(None);
                }
            };
            let payload = message.payload.to_vec();
            Ok(Some(IntakeMessage { seq, organisation, location, payload, message }))
        }))
    }
}
