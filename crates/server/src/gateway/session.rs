//! The websocket protocol of §6, generic over any sink and stream of text messages so it
//! can be tested with channels. The client's first message presents its ticket and its
//! filters (and optionally where to resume); the server answers with a snapshot or the
//! missing deltas, then chained deltas and heartbeats. Never a silent gap.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::{Sink, SinkExt, Stream, StreamExt};
use ghor_domain::RegionCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::patch;
use super::visibility::Visibility;
use super::{Currency, Delta, Gateway};
use crate::auth::Caller;
use crate::policy::{self, Action};
use crate::shutdown::Shutdown;

/// How long a client may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Heartbeat interval; clients treat 3 missed heartbeats as a dead connection.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// A client that cannot take a message within this time is disconnected.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hello {
    #[serde(rename = "type")]
    kind: String,
    ticket: String,
    #[serde(default)]
    regions: Option<Vec<RegionCode>>,
    #[serde(default)]
    resume: Option<Resume>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resume {
    epoch: Uuid,
    seq: u64,
}

/// One client's subscription: which regions, seen how.
struct Client {
    caller: Caller,
    regions: Vec<RegionCode>,
    visibility: Visibility,
}

/// The heartbeat carries the chain on: the client is complete up to `seq`.
fn heartbeat(epoch: Uuid, seq: u64) -> String {
    json!({ "type": "heartbeat", "epoch": epoch, "seq": seq, "time": Utc::now() }).to_string()
}

/// Whether the picture the client holds follows the log: `current: false` with `since`
/// when the gateway has not heard from the log since then (the page then says the picture
/// is not current instead of "live"; the deltas resume where they stopped).
fn status(currency: Currency) -> String {
    match currency {
        Currency::Current => json!({ "type": "status", "current": true }),
        Currency::NotCurrent { since } => json!({ "type": "status", "current": false, "since": since }),
    }
    .to_string()
}

/// An error message; the server closes after sending it.
pub fn error(status: u16, title: &str, detail: &str) -> String {
    json!({ "type": "error", "status": status, "title": title, "detail": detail }).to_string()
}

/// How the server ends a session: the code and reason of the close frame that the edge
/// sends last (RFC 6455 §7.4), so that a client sees why instead of an abrupt 1006.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

/// A session refused or ended by the server: the error message, then the close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub close: Close,
}

/// An [`error`] message and the close frame that follows it, its code after the status.
pub fn refuse(status: u16, title: &str, detail: &str) -> Refusal {
    let code = match status {
        400 => 1002,       // protocol error: not a hello
        429 => 1013,       // try again later
        503 => 1001,       // going away
        500..=599 => 1011, // internal error
        _ => 1008,         // policy violation: no hello in time, no valid ticket, not allowed
    };
    Refusal { message: error(status, title, detail), close: Close { code, reason: title.to_owned() } }
}

/// Waits for the client's first message; tells a silent client why it is dropped (and
/// returns how to close), or returns `Err(None)` when the client went away.
pub async fn hello<S, R>(rx: &mut R, tx: &mut S) -> Result<String, Option<Close>>
where
    S: Sink<String> + Unpin,
    R: Stream<Item = String> + Unpin,
{
    match tokio::time::timeout(HELLO_TIMEOUT, rx.next()).await {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(None),
        Err(_) => {
            let refusal = refuse(408, "No hello", "Send {\"type\":\"hello\",\"ticket\":...} first, within 10 seconds.");
            let _ = tx.send(refusal.message).await;
            Err(Some(refusal.close))
        }
    }
}

fn parse_hello(hello: &str) -> Result<Hello, Refusal> {
    let hello: Hello = serde_json::from_str(hello).map_err(|e| {
        let e = ghor_domain::error::brief(&e.to_string(), ghor_domain::error::MAX_REASON_CHARS);
        refuse(400, "Bad hello", &format!("The first message must be {{\"type\":\"hello\",\"ticket\":...}}: {e}"))
    })?;
    if hello.kind != "hello" {
        return Err(refuse(400, "Bad hello", "The first message must have \"type\": \"hello\"."));
    }
    Ok(hello)
}

/// The caller whose ticket the hello presents. `redeem` turns a ticket into its caller.
pub fn admit(hello: &str, redeem: impl FnOnce(&str) -> Option<Caller>) -> Result<Caller, Refusal> {
    let hello = parse_hello(hello)?;
    redeem(&hello.ticket).ok_or_else(|| {
        refuse(
            401,
            "Invalid ticket",
            "The ticket is unknown, used or expired; get a new one with POST /v1/stream/ticket.",
        )
    })
}

/// Runs one admitted session to its end; says how to close when the server ends it
/// (`None`: the client went away or stopped taking messages). `ended` resolves, with the
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
) -> Option<Close>
where
    S: Sink<String> + Unpin,
    R: Stream<Item = String> + Unpin,
{
    tokio::pin!(ended);
    let (client, resume) = match subscription(&gateway, caller, hello) {
        Ok(c) => c,
        Err(refusal) => {
            let _ = tx.send(refusal.message).await;
            return Some(refusal.close);
        }
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
            Some((seq, missing)) => Ok(chained(&client, &st, seq, &missing).0),
            None => {
                let reason = match resume {
                    None => "initial",
                    Some(r) if r.epoch != st.epoch => "epoch_changed",
                    Some(_) => "resume_unavailable",
                };
                snapshot(&client, &st, reason).map(|m| vec![m])
            }
        };
        (first, st.seq)
    };
    let first = match first {
        Ok(messages) => messages,
        Err(refusal) => {
            let _ = tx.send(refusal.message).await;
            return Some(refusal.close);
        }
    };
    for message in first {
        if !send(&mut tx, message).await {
            return None;
        }
    }
    // Then tell it at once that it is complete up to `last`: a resume that missed nothing
    // would otherwise hear nothing until the first heartbeat. From here on, `sent_upto` is
    // where the client's chain ends; `last` is how far this session has looked (deltas with
    // nothing for this client move only `last`).
    let mut sent_upto = last;
    if !send(&mut tx, heartbeat(gateway.epoch(), last)).await {
        return None;
    }
    // And whether what it holds follows the log, now and whenever that changes.
    let mut currency = gateway.currency();
    let now = *currency.borrow_and_update();
    if !send(&mut tx, status(now)).await {
        return None;
    }

    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await;
    loop {
        tokio::select! {
            moved = positions.changed() => {
                if moved.is_err() { return None; }
                // Whatever happened since `last`, merged; a client slower than the whole
                // history gets a fresh snapshot and its chain restarts there.
                let messages = {
                    let st = gateway.state();
                    let messages = match st.deltas_since(last) {
                        Some(pending) => {
                            let (messages, upto) = chained(&client, &st, sent_upto, &pending);
                            sent_upto = upto;
                            Ok(messages)
                        }
                        None => {
                            sent_upto = st.seq;
                            snapshot(&client, &st, "lagged").map(|m| vec![m])
                        }
                    };
                    last = st.seq;
                    messages
                };
                let messages = match messages {
                    Ok(messages) => messages,
                    Err(refusal) => {
                        let _ = tx.send(refusal.message).await;
                        return Some(refusal.close);
                    }
                };
                for message in messages {
                    if !send(&mut tx, message).await { return None; }
                }
            }
            changed = currency.changed() => {
                if changed.is_err() { return None; }
                let now = *currency.borrow_and_update();
                if !send(&mut tx, status(now)).await { return None; }
            }
            _ = beat.tick() => {
                sent_upto = last;
                if !send(&mut tx, heartbeat(gateway.epoch(), last)).await { return None; }
            }
            incoming = rx.next() => {
                incoming.as_ref()?;
            }
            reason = &mut ended => {
                let refusal = refuse(401, "Token no longer valid", &reason);
                let _ = tx.send(refusal.message).await;
                return Some(refusal.close);
            }
            _ = shutdown.recv() => {
                let refusal = refuse(503, "Server stopping", "Reconnect with resume; nothing will be missed.");
                let _ = tx.send(refusal.message).await;
                return Some(refusal.close);
            }
        }
    }
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
    let visibility = caller.visibility();
    Ok((Client { caller, regions, visibility }, hello.resume))
}

/// The snapshot message for this client; a refusal when a view cannot be written (logged
/// where it failed), so that no client is ever sent a `null` picture.
fn snapshot(client: &Client, st: &super::Folded, reason: &str) -> Result<String, Refusal> {
    let mut regions = Map::new();
    for r in &client.regions {
        let mut view = st.region_json(*r).map_err(|e| {
            tracing::error!(region = %r, error = %e, "a view cannot be written as JSON; the snapshot is refused");
            refuse(500, "Picture unavailable", "The server could not write the picture; reconnect in a moment.")
        })?;
        client.visibility.filter(st, *r, &mut view);
        regions.insert(r.to_string(), view);
    }
    Ok(json!({
        "type": "snapshot",
        "epoch": st.epoch,
        "seq": st.seq,
        "reason": reason,
        "scope": client.caller.scope(),
        "regions": regions,
    })
    .to_string())
}

/// The deltas as messages for this client, chained from `from`: consecutive deltas are
/// merged into one message while merge patches can say so. Returns the messages and
/// where the client's chain then ends (`from` when nothing concerned it). A client that
/// keeps up gets one delta at a time, written once for every client that sees it alike.
fn chained(client: &Client, st: &super::Folded, from: u64, deltas: &[Arc<Delta>]) -> (Vec<String>, u64) {
    let epoch = st.epoch;
    if let [d] = deltas {
        return match shared(client, st, d) {
            Some(changes) => (vec![delta_message(epoch, from, d.to, &changes)], d.to),
            None => (Vec::new(), from),
        };
    }
    let mut messages = Vec::new();
    let mut start = from;
    let mut merged: Map<String, Value> = Map::new();
    let mut end = from;
    for d in deltas {
        let changes = seen_by(client, st, d);
        if changes.is_empty() {
            end = d.to;
            continue;
        }
        let fits = changes.iter().all(|(r, p)| merged.get(r).is_none_or(|m| patch::composable(m, p)));
        if !fits {
            messages.push(delta_message(epoch, start, end, &Value::Object(std::mem::take(&mut merged)).to_string()));
            start = end;
        }
        for (r, p) in changes {
            match merged.get_mut(&r) {
                Some(m) => patch::compose(m, &p),
                None => {
                    merged.insert(r, p);
                }
            }
        }
        end = d.to;
    }
    if merged.is_empty() {
        return (messages, start);
    }
    messages.push(delta_message(epoch, start, end, &Value::Object(merged).to_string()));
    (messages, end)
}

/// A delta's changes as this client's subscription sees them.
fn seen_by(client: &Client, st: &super::Folded, d: &Delta) -> Map<String, Value> {
    let mut changes = Map::new();
    for r in &client.regions {
        if let Some(p) = d.changes.get(r) {
            let mut p = p.clone();
            client.visibility.filter(st, *r, &mut p);
            if p.as_object().is_none_or(|o| !o.is_empty()) {
                changes.insert(r.to_string(), p);
            }
        }
    }
    changes
}

/// [`seen_by`] written as JSON, once per subscription and delta.
fn shared(client: &Client, st: &super::Folded, d: &Delta) -> Option<Arc<str>> {
    let key = (client.regions.clone(), client.visibility.clone());
    let mut seen_as = d.seen_as.lock().unwrap_or_else(|poison| poison.into_inner());
    seen_as
        .entry(key)
        .or_insert_with(|| {
            let changes = seen_by(client, st, d);
            (!changes.is_empty()).then(|| Value::Object(changes).to_string().into())
        })
        .clone()
}

/// A delta message around changes already written as JSON.
fn delta_message(epoch: Uuid, from: u64, to: u64, changes: &str) -> String {
    format!(r#"{{"type":"delta","epoch":"{epoch}","from":{from},"to":{to},"changes":{changes}}}"#)
}

async fn send<S: Sink<String> + Unpin>(tx: &mut S, message: String) -> bool {
    matches!(tokio::time::timeout(SEND_TIMEOUT, tx.send(message)).await, Ok(Ok(())))
}
