//! The websocket edge: trading a bearer token for a ticket, upgrading `/v1/stream` into a
//! [`crate::gateway::session`] once the client's hello presents a valid ticket, and ending
//! with a close frame whenever the server ends the session.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

use super::AppState;
use crate::auth::{still_valid, Caller, ConnectionSlot, Full, TICKET_LIFETIME};
use crate::gateway::session::{self, Close, Refusal};
use crate::gateway::Gateway;
use crate::problem::Problem;

pub async fn ticket(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Value>, Problem> {
    state.gateway(caller.scope())?;
    let ticket = state.tickets.issue(caller);
    Ok(Json(json!({ "ticket": ticket, "expires_in": TICKET_LIFETIME.as_secs() })))
}

/// What a new stream is told when the server takes no more (`--max-connections`).
const SERVER_FULL: &str = "This server has as many streams open as it takes; try again shortly, or another gateway.";
/// Seconds a refused client waits before it tries again.
const FULL_RETRY_AFTER: u64 = 5;

/// What a client sends is small (a hello, now and then a pong): a read buffer of its size,
/// not the 128 KiB default, which every connection would hold and zero on every read.
const READ_BUFFER: usize = 4 * 1024;

pub async fn upgrade(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    if state.connections.total() >= state.limits.connections {
        return Problem::unavailable(SERVER_FULL, FULL_RETRY_AFTER).into_response();
    }
    let sessions = state.sessions.clone();
    ws.max_message_size(64 * 1024).read_buffer_size(READ_BUFFER).on_upgrade(move |socket| {
        // On threads of their own: however many pages are open, a report and its answer
        // never wait in the same queue as their sessions.
        sessions.track_future(async move {
            match fanout() {
                Some(runtime) => drop(runtime.spawn(serve(state, socket)).await),
                None => serve(state, socket).await,
            }
        })
    })
}

/// The runtime the websocket sessions run on, apart from the one that takes reports; none
/// (and the sessions share the one runtime) when its threads cannot be started.
fn fanout() -> Option<&'static tokio::runtime::Runtime> {
    static FANOUT: std::sync::OnceLock<Option<tokio::runtime::Runtime>> = std::sync::OnceLock::new();
    FANOUT
        .get_or_init(|| {
            let threads = std::thread::available_parallelism().map_or(2, usize::from);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("ghor-fanout")
                .enable_all()
                .build();
            runtime
                .inspect_err(|e| tracing::error!(error = %e, "no threads of their own for the websocket sessions"))
                .ok()
        })
        .as_ref()
}

async fn serve(state: Arc<AppState>, socket: WebSocket) {
    let (sink, stream) = socket.split();
    // The session speaks text; `close` reaches past this adapter for the close frame.
    let mut tx = sink.with(|text: String| std::future::ready(Ok::<_, axum::Error>(Message::Text(text.into()))));
    let mut rx = Box::pin(
        stream
            .filter_map(|m| async move {
                match m {
                    Ok(Message::Text(t)) => Some(t.to_string()),
                    Ok(Message::Close(_)) | Err(_) => Some(String::from("\u{0}close")),
                    _ => None,
                }
            })
            .take_while(|t| std::future::ready(t != "\u{0}close")),
    );
    let hello = match session::hello(&mut rx, &mut tx).await {
        Ok(hello) => hello,
        Err(how) => return close(tx.get_mut(), how).await,
    };
    let admitted = admit(&state, &hello).await;
    let (caller, slot, gateway) = match admitted {
        Ok(x) => x,
        Err(refusal) => {
            let _ = tx.send(refusal.message).await;
            return close(tx.get_mut(), Some(refusal.close)).await;
        }
    };
    state.metrics.websocket_clients.inc();
    let how = session::run(gateway, caller, &hello, &mut tx, rx, state.shutdown.clone(), slot.ended()).await;
    state.metrics.websocket_clients.dec();
    close(tx.get_mut(), how).await;
}

/// The caller a hello's ticket admits, its connection slot and its scope's gateway; or why not.
async fn admit(state: &AppState, hello: &str) -> Result<(Caller, ConnectionSlot, Arc<Gateway>), Refusal> {
    let caller = session::admit(hello, |ticket| state.tickets.redeem(ticket))?;
    // A ticket is only as good as its token is now: revoked since, and it opens nothing.
    let caller = still_valid(&*state.backbone.tokens, caller, Utc::now())
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
                Full::Server => session::refuse(503, "Server full", SERVER_FULL),
            }
        })?;
    let gateway = state
        .gateway(caller.scope())
        .map_err(|_| session::refuse(500, "No gateway", "This server does not serve the ticket's scope."))?
        .clone();
    Ok((caller, slot, gateway))
}

/// Sends the close frame of a session the server ends (none when the client went away).
async fn close<S: futures::Sink<Message> + Unpin>(sink: &mut S, how: Option<Close>) {
    if let Some(Close { code, reason }) = how {
        let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    }
}
