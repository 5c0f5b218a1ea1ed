//! The websocket protocol of §6, over any sink and stream of websocket messages. The
//! client's first message presents its ticket and its filters (and optionally where to
//! resume); the server answers with a snapshot or the missing deltas, then chained deltas
//! and heartbeats. Never a silent gap.
//!
//! A session holds no queue of its own: it takes what happened since it last looked from
//! the gateway's shared history whenever the client can take more. A client that keeps up
//! gets each delta at once, one that is behind gets what it missed merged, and one behind
//! the whole history gets a snapshot with the reason. What is written for one client is
//! written once for every client alike ([`Written`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes};
use bytes::Bytes;
use chrono::Utc;
use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use ghor_domain::vocab::{Category, Dimension};
use ghor_domain::RegionCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;
use uuid::Uuid;

use super::focus::Focus;
use super::{Currency, Delta, Gateway, Subscription};
use crate::auth::Caller;
use crate::metrics::Metrics;
use crate::policy::{self, Action};
use crate::shutdown::Shutdown;
use ghor_domain::patch;

/// How long a client may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Heartbeat interval; clients treat 3 missed heartbeats as a dead connection.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// A client that cannot take a message within this time is disconnected.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings; every websocket client answers by itself (browsers too).
const PING: Duration = Duration::from_secs(5);
/// A client heard nothing from (no pong, no message) for this long is gone: its connection
/// is freed instead of waiting for TCP to notice, which can take many minutes.
const SILENT_AFTER: Duration = Duration::from_secs(15);
/// Messages from this size on go gzip-compressed to clients that asked for it: snapshots,
/// and what a client that fell behind missed. Not smaller: compressing deltas of 1 KiB and
/// up made them later, not sooner (1,000 clients on loopback: 201 → delta p99 140–280 ms
/// against 89–93 ms uncompressed).
pub const GZIP_FROM: usize = 8 * 1024;

/// The client's first message: its ticket, and what it follows.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    #[serde(rename = "type")]
    #[schemars(extend("const" = "hello"))]
    kind: String,
    ticket: String,
    #[serde(default)]
    regions: Option<Vec<RegionCode>>,
    #[serde(default)]
    resume: Option<Resume>,
    /// Only locations of these categories.
    #[serde(default)]
    categories: Option<BTreeSet<Category>>,
    /// Only these dimensions of each location.
    #[serde(default)]
    dimensions: Option<BTreeSet<Dimension>>,
    /// `gzip`: large messages come as binary frames holding the gzip of their JSON text.
    #[serde(default)]
    encoding: Encoding,
    /// `false`: every delta as it was folded, never merged with the next (for recorders;
    /// a client behind the whole history still gets a snapshot).
    #[serde(default = "merged_by_default")]
    merge: bool,
}

fn merged_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Encoding {
    #[default]
    Json,
    Gzip,
}

/// Where the client's picture stands: it gets what it misses since, or a snapshot.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Resume {
    epoch: Uuid,
    #[serde(deserialize_with = "ghor_domain::values::whole_number")]
    seq: u64,
}

/// The picture whole, of the regions followed, as the client may see them: after its
/// hello (`initial`), or when it cannot go on from where it stood (`epoch_changed`,
/// `resume_unavailable`, `lagged`).
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename = "snapshot")]
pub struct Snapshot<'a> {
    epoch: Uuid,
    seq: u64,
    #[schemars(with = "SnapshotReason")]
    reason: &'a str,
    scope: ghor_domain::Scope,
    #[schemars(with = "BTreeMap<RegionCode, ghor_domain::RegionView>")]
    regions: Map<String, Value>,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // a schema only: the reasons `snapshot` is called with
enum SnapshotReason {
    Initial,
    EpochChanged,
    ResumeUnavailable,
    Lagged,
}

/// What changed from `from` to `to` (exclusive, inclusive): per region a JSON merge patch
/// (RFC 7396) of the view the client holds. Applied in order, the chain is unbroken: each
/// delta's `from` is the `to` of the one before (or the snapshot's `seq`).
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename = "delta")]
pub struct DeltaMessage {
    epoch: Uuid,
    from: u64,
    to: u64,
    #[schemars(with = "BTreeMap<RegionCode, serde_json::Map<String, Value>>")]
    changes: Value,
}

/// The chain goes on: the client is complete up to `seq` (every 10 s without a delta).
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename = "heartbeat")]
pub struct Heartbeat {
    epoch: Uuid,
    seq: u64,
    time: chrono::DateTime<Utc>,
}

/// Whether the picture follows the log: `current: false` with `since` when the gateway has
/// not heard from the log since then.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename = "status")]
pub struct Status {
    current: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<chrono::DateTime<Utc>>,
}

/// Why the server ends the session; the close frame follows.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename = "error")]
pub struct Error<'a> {
    status: u16,
    title: &'a str,
    detail: &'a str,
}

/// One client: who, what it follows, and whether it takes large messages compressed.
struct Client {
    caller: Caller,
    subscription: Subscription,
    gzip: bool,
}

/// A message written once for every client alike: its text, and for clients that take
/// gzip, when it is large, compressed once.
#[derive(Debug)]
pub struct Written {
    text: Utf8Bytes,
    gzip: OnceLock<Option<Bytes>>,
}

impl Written {
    fn new(text: String) -> Arc<Written> {
        Arc::new(Written { text: text.into(), gzip: OnceLock::new() })
    }

    /// The frame for a client: binary gzip when it asked and the message is large.
    fn frame(&self, gzip: bool) -> Message {
        if gzip && self.text.len() >= GZIP_FROM {
            if let Some(compressed) = self.gzip.get_or_init(|| compress(self.text.as_bytes())) {
                return Message::Binary(compressed.clone());
            }
        }
        Message::Text(self.text.clone())
    }
}

/// A message's text gzip-compressed, as clients that ask for gzip get it.
pub fn compress(text: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(text.len() / 4), flate2::Compression::default());
    encoder.write_all(text).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// One delta as one subscription sees it, worked out once: its changes, to merge with
/// others, and written as JSON; and the message for the first of its clients to take it on
/// its own, chained from where that client's chain ended (`from`). A client whose chain
/// ends elsewhere (an earlier delta held nothing for it) gets the same changes chained from
/// there.
#[derive(Debug)]
pub struct Seen {
    /// An object: region code → merge patch.
    patch: Value,
    changes: Box<str>,
    message: OnceLock<(u64, Arc<Written>)>,
}

/// The heartbeat carries the chain on: the client is complete up to `seq`.
fn heartbeat(epoch: Uuid, seq: u64) -> Message {
    text(&Heartbeat { epoch, seq, time: Utc::now() })
}

/// A message as a text frame. What it holds is JSON already (values, strings, numbers), so
/// writing it cannot fail.
fn text(message: &impl Serialize) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

/// Whether the picture the client holds follows the log: `current: false` with `since`
/// when the gateway has not heard from the log since then (the page then says the picture
/// is not current instead of "live"; the deltas resume where they stopped).
fn status(currency: Currency) -> Message {
    text(&match currency {
        Currency::Current => Status { current: true, since: None },
        Currency::NotCurrent { since } => Status { current: false, since: Some(since) },
    })
}

/// An error message; the server closes after sending it.
pub fn error(status: u16, title: &str, detail: &str) -> Message {
    text(&Error { status, title, detail })
}

/// How the server ends a session: the code and reason of the close frame that the edge
/// sends last (RFC 6455 §7.4), so that a client sees why instead of an abrupt 1006; and
/// why, as `ghor_websocket_ends_total` counts it (one of [`crate::metrics::SESSION_ENDS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
    pub why: &'static str,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The client closed, or its connection failed.
    ByClient,
    /// The client did not take a message within [`SEND_TIMEOUT`].
    SendFailed,
    /// The server ended it; the close frame to send.
    ByServer(Close),
}

impl Ended {
    /// Why, as `ghor_websocket_ends_total` counts it.
    pub fn why(&self) -> &'static str {
        match self {
            Ended::ByClient => "client_closed",
            Ended::SendFailed => "send_failed",
            Ended::ByServer(close) => close.why,
        }
    }
}

/// A session refused or ended by the server: the error message, then the close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: Message,
    pub close: Close,
}

/// An [`error`] message and the close frame that follows it, its code after the status.
pub fn refuse(status: u16, title: &str, detail: &str) -> Refusal {
    let (code, why) = match status {
        400 => (1002, "bad_hello"),          // protocol error: not a hello
        429 => (1013, "over_limit"),         // try again later
        503 => (1001, "server_stopping"),    // going away
        500..=599 => (1011, "server_error"), // internal error
        // Policy violation: no hello in time, no valid ticket, not allowed.
        408 => (1008, "silent"),
        401 => (1008, "unauthorised"),
        _ => (1008, "forbidden"),
    };
    Refusal { message: error(status, title, detail), close: Close { code, reason: title.to_owned(), why } }
}

/// Waits for the client's first text message; tells a silent client why it is dropped (and
/// returns how to close), or returns `Err(None)` when the client went away.
pub async fn hello<S, R>(rx: &mut R, tx: &mut S) -> Result<String, Option<Close>>
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Message> + Unpin,
{
    let first_text = async {
        loop {
            match rx.next().await {
                Some(Message::Text(text)) => return Some(text.to_string()),
                Some(_) => continue, // pings and pongs; a binary hello is not one
                None => return None,
            }
        }
    };
    match tokio::time::timeout(HELLO_TIMEOUT, first_text).await {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(None),
        Err(_) => {
            let refusal = refuse(408, "No hello", "Send {\"type\":\"hello\",\"ticket\":...} first, within 10 seconds.");
            let _ = send(tx, refusal.message).await;
            Err(Some(refusal.close))
        }
    }
}

fn parse_hello(hello: &str) -> Result<Hello, Refusal> {
    let hello: Hello =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(hello)).map_err(|e| {
            // Named by where it went wrong, so that `categories[0]` says which value is unknown.
            let at = match e.path().to_string() {
                path if path == "." => String::new(),
                path => format!("`{path}`: "),
            };
            let e = ghor_domain::error::brief(&e.into_inner().to_string(), ghor_domain::error::MAX_REASON_CHARS);
            refuse(
                400,
                "Bad hello",
                &format!("The first message must be {{\"type\":\"hello\",\"ticket\":...}}: {at}{e}"),
            )
        })?;
    if hello.kind != "hello" {
        return Err(refuse(400, "Bad hello", "The first message must have \"type\": \"hello\"."));
    }
    Ok(hello)
}

/// The ticket a hello presents.
pub fn ticket(hello: &str) -> Result<String, Refusal> {
    parse_hello(hello).map(|hello| hello.ticket)
}

/// What a client is told whose ticket opens nothing.
pub fn invalid_ticket() -> Refusal {
    refuse(401, "Invalid ticket", "The ticket is unknown, used or expired; get a new one with POST /v1/stream/ticket.")
}

/// Runs one admitted session to its end and says how it ended. `ended` resolves, with the
/// reason, when the caller's token stops being valid (revoked, expired): the session then
/// ends with a 401.
pub async fn run<S, R>(
    gateway: Arc<Gateway>,
    caller: Caller,
    hello: &str,
    mut tx: S,
    mut rx: R,
    mut shutdown: Shutdown,
    ended: impl std::future::Future<Output = String>,
) -> Ended
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Message> + Unpin,
{
    tokio::pin!(ended);
    let metrics = &gateway.metrics;
    let (client, resume) = match subscription(&gateway, caller, hello) {
        Ok(c) => c,
        Err(refusal) => return refused(&mut tx, metrics, refusal).await,
    };
    let _connected = gateway.connected();
    if let Some(r) = resume {
        // A client that resumes ahead of this gateway waits for it to catch up.
        if r.epoch == gateway.epoch() && r.seq > gateway.state().seq {
            gateway.caught_up(r.seq, Duration::from_secs(10)).await;
        }
    }

    // What the client is missing: the deltas since its resume point (merged where they can
    // be), or a snapshot with the reason.
    let mut positions = gateway.positions();
    let (first, mut last) = {
        let st = gateway.state();
        let missing = resume.filter(|r| r.epoch == st.epoch).and_then(|r| Some((r.seq, st.deltas_since(r.seq)?)));
        let first = match missing {
            Some((seq, missing)) => Ok((chained(&client, &st, seq, &missing), Sent::Deltas { received: None })),
            None => {
                let reason = match resume {
                    None => "initial",
                    Some(r) if r.epoch != st.epoch => "epoch_changed",
                    Some(_) => "resume_unavailable",
                };
                snapshot(&client, &st, reason)
                    .map(|m| (Next::Ready((Arc::new(vec![m]), st.seq)), Sent::Snapshot(reason)))
            }
        };
        (first, st.seq)
    };
    let (first, sent) = match first {
        Ok((next, sent)) => (next.written().0, sent),
        Err(refusal) => return refused(&mut tx, metrics, refusal).await,
    };
    if !send_all(&mut tx, first.iter().map(|m| m.frame(client.gzip))).await {
        return Ended::SendFailed;
    }
    sent.count(metrics, first.len());
    // Then tell it at once that it is complete up to `last`: a resume that missed nothing
    // would otherwise hear nothing until the first heartbeat. From here on, `sent_upto` is
    // where the client's chain ends; `last` is how far this session has looked (deltas with
    // nothing for this client move only `last`).
    let mut sent_upto = last;
    if !send_one(&mut tx, metrics, "heartbeat", heartbeat(gateway.epoch(), last)).await {
        return Ended::SendFailed;
    }
    // And whether what it holds follows the log, now and whenever that changes.
    let mut currency = gateway.currency();
    let now = *currency.borrow_and_update();
    if !send_one(&mut tx, metrics, "status", status(now)).await {
        return Ended::SendFailed;
    }

    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await;
    let mut ping = tokio::time::interval(PING);
    ping.tick().await;
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            moved = positions.changed() => {
                if moved.is_err() {
                    return refused(&mut tx, metrics, refuse(503, "Server stopping", "Reconnect with resume.")).await;
                }
                // Whatever happened since `last`, merged; a client slower than the whole
                // history gets a fresh snapshot and its chain restarts there.
                let next = {
                    let st = gateway.state();
                    let next = match st.deltas_since(last) {
                        Some(pending) => {
                            let received = pending.iter().filter_map(|d| d.received).min();
                            Ok((chained(&client, &st, sent_upto, &pending), Sent::Deltas { received }))
                        }
                        None => snapshot(&client, &st, "lagged")
                            .map(|m| (Next::Ready((Arc::new(vec![m]), st.seq)), Sent::Snapshot("lagged"))),
                    };
                    last = st.seq;
                    next
                };
                let (messages, sent) = match next {
                    Ok((next, sent)) => {
                        let (messages, upto) = next.written();
                        sent_upto = upto;
                        (messages, sent)
                    }
                    Err(refusal) => return refused(&mut tx, metrics, refusal).await,
                };
                if !send_all(&mut tx, messages.iter().map(|m| m.frame(client.gzip))).await {
                    return Ended::SendFailed;
                }
                sent.count(metrics, messages.len());
            }
            changed = currency.changed() => {
                if changed.is_err() {
                    return refused(&mut tx, metrics, refuse(503, "Server stopping", "Reconnect with resume.")).await;
                }
                let now = *currency.borrow_and_update();
                if !send_one(&mut tx, metrics, "status", status(now)).await { return Ended::SendFailed; }
            }
            _ = beat.tick() => {
                sent_upto = last;
                if !send_one(&mut tx, metrics, "heartbeat", heartbeat(gateway.epoch(), last)).await {
                    return Ended::SendFailed;
                }
            }
            _ = ping.tick() => {
                // A pong that arrived while this session was busy sending counts as heard.
                while let Some(incoming) = rx.next().now_or_never() {
                    if incoming.is_none() { return Ended::ByClient; }
                    heard = Instant::now();
                }
                if heard.elapsed() >= SILENT_AFTER {
                    let detail = format!("Nothing heard from this client for {} s; reconnect with resume.", SILENT_AFTER.as_secs());
                    return refused(&mut tx, metrics, refuse(408, "Client silent", &detail)).await;
                }
                if !send(&mut tx, Message::Ping(Bytes::new())).await { return Ended::SendFailed; }
            }
            incoming = rx.next() => {
                if incoming.is_none() { return Ended::ByClient; }
                heard = Instant::now();
            }
            reason = &mut ended => {
                return refused(&mut tx, metrics, refuse(401, "Token no longer valid", &reason)).await;
            }
            _ = shutdown.recv() => {
                let refusal = refuse(503, "Server stopping", "Reconnect with resume; nothing will be missed.");
                return refused(&mut tx, metrics, refusal).await;
            }
        }
    }
}

/// What a session sent: deltas (with when the oldest event in them was received: the push
/// delay is measured from it), or a snapshot with its reason.
enum Sent {
    Deltas { received: Option<chrono::DateTime<Utc>> },
    Snapshot(&'static str),
}

impl Sent {
    /// Counts `n` messages sent, and how long the oldest event in them took from ingest.
    fn count(self, metrics: &Metrics, n: usize) {
        match self {
            Sent::Deltas { received } => {
                metrics.websocket_messages.with_label_values(&["delta"]).inc_by(n as u64);
                if let Some(received) = received.filter(|_| n > 0) {
                    let delay = (Utc::now() - received).num_microseconds().unwrap_or(i64::MAX).max(0);
                    metrics.push_seconds.observe(delay as f64 / 1e6);
                }
            }
            Sent::Snapshot(reason) => {
                metrics.websocket_messages.with_label_values(&["snapshot"]).inc_by(n as u64);
                metrics.websocket_snapshots.with_label_values(&[reason]).inc();
            }
        }
    }
}

/// Sends a refusal's message and says how to close.
async fn refused<S: Sink<Message> + Unpin>(tx: &mut S, metrics: &Metrics, refusal: Refusal) -> Ended {
    send_one(tx, metrics, "error", refusal.message).await;
    Ended::ByServer(refusal.close)
}

/// Sends one message of this kind, counted when it went.
async fn send_one<S: Sink<Message> + Unpin>(tx: &mut S, metrics: &Metrics, kind: &str, message: Message) -> bool {
    let sent = send(tx, message).await;
    if sent {
        metrics.websocket_messages.with_label_values(&[kind]).inc();
    }
    sent
}

fn subscription(gateway: &Gateway, caller: Caller, hello: &str) -> Result<(Client, Option<Resume>), Refusal> {
    let hello = parse_hello(hello)?;
    if caller.scope() != gateway.scope() {
        return Err(refuse(403, "Wrong scope", "This ticket belongs to another scope."));
    }
    let regions = match hello.regions {
        Some(requested) if !requested.is_empty() => {
            for region in &requested {
                if let Err(denied) = policy::decide(&caller, &Action::ReadPicture { region: *region }) {
                    return Err(refuse(403, "Region not allowed", &denied.reason));
                }
            }
            requested
        }
        _ => caller.regions(),
    };
    let focus = Focus { categories: hello.categories, dimensions: hello.dimensions };
    if let Some(field) = focus.problem() {
        return Err(refuse(400, "Bad hello", &format!("`{field}` names nothing: name at least one, or leave it out.")));
    }
    let subscription = Subscription { regions, visibility: caller.visibility(), focus, merge: hello.merge };
    Ok((Client { caller, subscription, gzip: hello.encoding == Encoding::Gzip }, hello.resume))
}

/// The snapshot message for this client, written once per subscription, reason and
/// sequence; a refusal when a view cannot be written (logged where it failed), so that no
/// client is ever sent a `null` picture.
fn snapshot(client: &Client, st: &super::Folded, reason: &'static str) -> Result<Arc<Written>, Refusal> {
    let key = (client.subscription.clone(), reason);
    let written = st.snapshots.lock().unwrap_or_else(|poison| poison.into_inner()).get(&key).cloned();
    if let Some(written) = written {
        return Ok(written);
    }
    let mut regions = Map::new();
    for r in &client.subscription.regions {
        let mut view = st.region_json(*r).map_err(|e| {
            tracing::error!(region = %r, error = %e, "a view cannot be written as JSON; the snapshot is refused");
            refuse(500, "Picture unavailable", "The server could not write the picture; reconnect in a moment.")
        })?;
        narrow(&client.subscription, st, *r, &mut view);
        regions.insert(r.to_string(), view);
    }
    let snapshot = Snapshot { epoch: st.epoch, seq: st.seq, reason, scope: client.caller.scope(), regions };
    let written = Written::new(serde_json::to_string(&snapshot).unwrap_or_default());
    st.snapshots.lock().unwrap_or_else(|poison| poison.into_inner()).insert(key, written.clone());
    Ok(written)
}

/// A region's view or patch as the subscription may and wants to see it.
fn narrow(subscription: &Subscription, st: &super::Folded, region: RegionCode, view: &mut Value) {
    subscription.visibility.filter(st, region, view);
    subscription.focus.filter(&st.picture, view);
}

/// The deltas as messages for this client, chained from `from`: consecutive deltas are
/// merged into one message while merge patches can say so (unless the client asked for
/// each one). A client that keeps up gets one delta at a time, written once for every
/// client that sees it alike; clients that fell behind together get the same messages.
fn chained(client: &Client, st: &super::Folded, from: u64, deltas: &[Arc<Delta>]) -> Next {
    let (Some(first), true) = (deltas.first(), deltas.len() > 1 && client.subscription.merge) else {
        let (mut messages, mut upto) = (Vec::new(), from);
        for d in deltas {
            if let Some(message) = shared(client, st, upto, d) {
                messages.push(message);
                upto = d.to;
            }
        }
        return Next::Ready((Arc::new(messages), upto));
    };
    let key = (client.subscription.clone(), from, first.from);
    let slot = st.catch_ups.lock().unwrap_or_else(|poison| poison.into_inner()).entry(key).or_default().clone();
    let seen = deltas.iter().map(|d| (d.to, seen(client, st, d))).collect();
    Next::Merge { epoch: st.epoch, from, seen, slot }
}

/// Messages and where the chain then ends: what [`chained`] sends a client.
pub type CatchUp = (Arc<Vec<Arc<Written>>>, u64);

/// A catch-up worked out by the first of the clients that fell behind together, for all.
pub type Slot = Arc<OnceLock<CatchUp>>;

/// What a client is sent next. Merging what a client missed takes long, and the fold waits
/// for the state's lock meanwhile: it is done after the lock is released, from the deltas
/// as the client's subscription sees them, once for all clients that fell behind together.
enum Next {
    Ready(CatchUp),
    Merge { epoch: Uuid, from: u64, seen: Vec<(u64, Option<Arc<Seen>>)>, slot: Slot },
}

impl Next {
    fn written(self) -> CatchUp {
        match self {
            Next::Ready(catch_up) => catch_up,
            Next::Merge { epoch, from, seen, slot } => slot.get_or_init(|| merged(epoch, from, &seen)).clone(),
        }
    }
}

/// Deltas (where each ends, and what the client sees of it) merged into as few messages,
/// chained from `from`, as merge patches allow.
fn merged(epoch: Uuid, from: u64, deltas: &[(u64, Option<Arc<Seen>>)]) -> CatchUp {
    let mut messages = Vec::new();
    let (mut start, mut end) = (from, from);
    let mut merged: Map<String, Value> = Map::new();
    for (to, seen) in deltas {
        if let Some(Value::Object(changes)) = seen.as_ref().map(|seen| &seen.patch) {
            let fits = changes.iter().all(|(r, p)| merged.get(r).is_none_or(|m| patch::composable(m, p)));
            if !fits {
                let changes = Value::Object(std::mem::take(&mut merged)).to_string();
                messages.push(Written::new(delta_message(epoch, start, end, &changes)));
                start = end;
            }
            for (r, p) in changes {
                match merged.get_mut(r) {
                    Some(m) => patch::compose(m, p),
                    None => {
                        merged.insert(r.clone(), p.clone());
                    }
                }
            }
        }
        end = *to;
    }
    if merged.is_empty() {
        return (Arc::new(messages), start);
    }
    messages.push(Written::new(delta_message(epoch, start, end, &Value::Object(merged).to_string())));
    (Arc::new(messages), end)
}

/// A delta as this client's subscription sees it, worked out once per subscription;
/// `None` when there is nothing in it for them.
fn seen(client: &Client, st: &super::Folded, d: &Delta) -> Option<Arc<Seen>> {
    let mut seen_as = d.seen_as.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some(seen) = seen_as.get(&client.subscription) {
        return seen.clone();
    }
    let mut patch = Map::new();
    for r in &client.subscription.regions {
        if let Some(p) = d.changes.get(r) {
            let mut p = p.clone();
            narrow(&client.subscription, st, *r, &mut p);
            if p.as_object().is_none_or(|o| !o.is_empty()) {
                patch.insert(r.to_string(), p);
            }
        }
    }
    let seen = (!patch.is_empty()).then(|| {
        let patch = Value::Object(patch);
        Arc::new(Seen { changes: patch.to_string().into(), patch, message: OnceLock::new() })
    });
    seen_as.insert(client.subscription.clone(), seen.clone());
    seen
}

/// One delta as a message for this client, chained from `from`: written once for every
/// client of the subscription whose chain ends there too.
fn shared(client: &Client, st: &super::Folded, from: u64, d: &Delta) -> Option<Arc<Written>> {
    let seen = seen(client, st, d)?;
    let write = |from| Written::new(delta_message(st.epoch, from, d.to, &seen.changes));
    let (first_from, message) = seen.message.get_or_init(|| (from, write(from)));
    Some(if *first_from == from { message.clone() } else { write(from) })
}

/// A delta message around changes already written as JSON.
fn delta_message(epoch: Uuid, from: u64, to: u64, changes: &str) -> String {
    format!(r#"{{"type":"delta","epoch":"{epoch}","from":{from},"to":{to},"changes":{changes}}}"#)
}

async fn send<S: Sink<Message> + Unpin>(tx: &mut S, message: Message) -> bool {
    matches!(tokio::time::timeout(SEND_TIMEOUT, tx.send(message)).await, Ok(Ok(())))
}

/// Sends messages written out together (a client that takes every delta on its own and fell
/// behind gets many): each may take up to [`SEND_TIMEOUT`], and they go out in as few writes
/// as the socket's buffer allows.
async fn send_all<S: Sink<Message> + Unpin>(tx: &mut S, messages: impl Iterator<Item = Message>) -> bool {
    for message in messages {
        if !matches!(tokio::time::timeout(SEND_TIMEOUT, tx.feed(message)).await, Ok(Ok(()))) {
            return false;
        }
    }
    matches!(tokio::time::timeout(SEND_TIMEOUT, tx.flush()).await, Ok(Ok(())))
}
