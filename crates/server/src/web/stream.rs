//! The websocket edge: trading a bearer token for a ticket, upgrading `/v1/stream` into a
//! [`crate::gateway::session`] once the client's hello presents a valid ticket, and ending
//! with a close frame whenever the server ends the session.

use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::Utc;
use futures::{SinkExt, StreamExt};

use super::AppState;
use crate::auth::{still_valid, Caller, ConnectionSlot, Full, TICKET_LIFETIME};
use crate::gateway::session::{self, Close, Ended, Refusal};
use crate::gateway::Gateway;
use crate::problem::Problem;

/// A one-time ticket for the live stream: its hello presents it (a page's websocket
/// cannot send an Authorization header).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Ticket {
    ticket: String,
    /// Seconds it stays valid.
    expires_in: u64,
}

pub async fn ticket(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Ticket>, Problem> {
    state.gateway(caller.scope())?;
    let ticket = state.tickets.issue(&caller).await?;
    Ok(Json(Ticket { ticket, expires_in: TICKET_LIFETIME.as_secs() }))
}

/// What a new stream is told when the server takes no more (`--max-connections`).
const SERVER_FULL: &str = "This server has as many streams open as it takes; try again shortly, or another gateway.";
/// Seconds a refused client waits before it tries again.
const FULL_RETRY_AFTER: u64 = 5;

/// How long a client gets to take the close frame.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// What a client sends is small (a hello, now and then a pong): a read buffer of its size,
/// not the 128 KiB default, which every connection would hold and zero on every read.
const READ_BUFFER: usize = 4 * 1024;

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, Problem> {
    let ws = ws.map_err(|e| {
        let detail = format!("{} Open /v1/stream as a websocket (see asyncapi.json).", e.body_text());
        Problem::new(e.status(), "not-a-websocket", "This is the live stream's websocket", detail)
    })?;
    if state.connections.total() >= state.limits.connections {
        state.metrics.websocket_ends.with_label_values(&["server_full"]).inc();
        return Err(Problem::unavailable(SERVER_FULL, FULL_RETRY_AFTER));
    }
    let sessions = state.sessions.clone();
    Ok(ws.max_message_size(64 * 1024).read_buffer_size(READ_BUFFER).on_upgrade(move |socket| {
        // On threads of their own: however many pages are open, a report and its answer
        // never wait in the same queue as their sessions.
        sessions.track_future(async move {
            match fanout() {
                Some(runtime) => drop(runtime.spawn(serve(state, socket)).await),
                None => serve(state, socket).await,
            }
        })
    }))
}

/// The runtime the websocket sessions run on, apart from the one that takes reports; none
/// (and the sessions share the one runtime) when its threads cannot be started. Its
/// threads yield to the rest when the cores are busy (nice 9): a report is answered first,
/// and pages that fall behind meanwhile catch up with what they missed merged.
fn fanout() -> Option<&'static tokio::runtime::Runtime> {
    static FANOUT: std::sync::OnceLock<Option<tokio::runtime::Runtime>> = std::sync::OnceLock::new();
    FANOUT
        .get_or_init(|| {
            let threads = std::thread::available_parallelism().map_or(2, usize::from);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("ghor-fanout")
                .on_thread_start(yield_to_ingest)
                .enable_all()
                .build();
            runtime
                .inspect_err(|e| tracing::error!(error = %e, "no threads of their own for the websocket sessions"))
                .ok()
        })
        .as_ref()
}

/// Lowers the calling thread's priority to nice 9 (on this scale 23 of 99); lowering one's
/// own priority needs no privilege. Not SCHED_IDLE: it kept a report's p99 with 1,000 pages
/// open within 1.2 times that with one, but starved the pages whenever anything else on the
/// core was busy (`201` → delta p99 3.3 s on production with nats-server on ghor's core).
fn yield_to_ingest() {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    let lower = ThreadPriorityValue::try_from(23u8).map(ThreadPriority::Crossplatform);
    if let Err(e) =
        lower.map_err(|e| e.to_owned()).and_then(|p| set_current_thread_priority(p).map_err(|e| e.to_string()))
    {
        tracing::warn!(error = %e, "the websocket sessions run at the same priority as the reports");
    }
}

async fn serve(state: Arc<AppState>, socket: WebSocket) {
    let (mut tx, stream) = socket.split();
    // Everything the client sends until it closes; a read error ends it alike.
    let mut rx = Box::pin(
        stream
            .take_while(|m| std::future::ready(matches!(m, Ok(m) if !matches!(m, Message::Close(_)))))
            .filter_map(|m| std::future::ready(m.ok())),
    );
    let ended = match session::hello(&mut rx, &mut tx).await {
        Ok(hello) => match admit(&state, &hello).await {
            Ok((caller, slot, gateway)) => {
                state.metrics.websocket_clients.inc();
                let (stop, token_ended) = (state.shutdown.clone(), slot.ended());
                let ended = session::run(gateway, caller, &hello, &mut tx, rx, stop, token_ended).await;
                state.metrics.websocket_clients.dec();
                ended
            }
            Err(refusal) => {
                let _ = tx.send(refusal.message).await;
                state.metrics.websocket_messages.with_label_values(&["error"]).inc();
                Ended::ByServer(refusal.close)
            }
        },
        Err(None) => Ended::ByClient,
        Err(Some(close)) => {
            state.metrics.websocket_messages.with_label_values(&["error"]).inc();
            Ended::ByServer(close)
        }
    };
    state.metrics.websocket_ends.with_label_values(&[ended.why()]).inc();
    if let Ended::ByServer(close) = ended {
        self::close(&mut tx, close).await;
    }
}

/// The caller a hello's ticket admits, its connection slot and its scope's gateway; or why not.
async fn admit(state: &AppState, hello: &str) -> Result<(Caller, ConnectionSlot, Arc<Gateway>), Refusal> {
    let ticket = session::ticket(hello)?;
    let token = state.tickets.redeem(&ticket).await.map_err(|e| {
        tracing::warn!(error = %e, "cannot take a ticket");
        session::refuse(500, "Tickets unavailable", "The token store cannot be reached; reconnect in a moment.")
    })?;
    // A ticket is only as good as its token is now: revoked since, and it opens nothing.
    let caller = still_valid(&*state.backbone.tokens, token.ok_or_else(session::invalid_ticket)?, Utc::now())
        .await
        .map_err(|reason| session::refuse(401, "Token no longer valid", &reason))?;
    let (per_token, total) = (state.limits.websockets_per_token, state.limits.connections);
    let slot =
        state.connections.acquire(&caller.token, per_token, total, state.backbone.tokens.clone()).map_err(|full| {
            match full {
                Full::Token => session::refuse(
                    429,
                    "Too many connections",
                    &format!("This token already has {per_token} open streams; close one first."),
                ),
                Full::Server => {
                    let refusal = session::refuse(503, "Server full", SERVER_FULL);
                    Refusal { close: Close { why: "server_full", ..refusal.close }, ..refusal }
                }
            }
        })?;
    let gateway = state
        .gateway(caller.scope())
        .map_err(|_| session::refuse(500, "No gateway", "This server does not serve the ticket's scope."))?
        .clone();
    Ok((caller, slot, gateway))
}

/// Sends the close frame of a session the server ends, giving up on a client that does not
/// take it: the connection is freed either way.
async fn close<S: futures::Sink<Message> + Unpin>(sink: &mut S, Close { code, reason, .. }: Close) {
    let frame = Message::Close(Some(CloseFrame { code, reason: reason.into() }));
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(frame)).await;
}
