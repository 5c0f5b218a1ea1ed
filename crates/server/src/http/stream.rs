//! The websocket edge: trading a bearer token for a ticket, upgrading `/v1/stream` into a
//! [`crate::gateway::session`] once the client's hello presents a valid ticket, and ending
//! with a close frame whenever the server ends the session.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

use super::AppState;
use crate::auth::{Caller, TICKET_LIFETIME};
use crate::gateway::session::{self, Close};
use crate::problem::Problem;

pub async fn ticket(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Value>, Problem> {
    state.gateway(caller.scope())?;
    let ticket = state.tickets.issue(caller);
    Ok(Json(json!({ "ticket": ticket, "expires_in": TICKET_LIFETIME.as_secs() })))
}

pub async fn upgrade(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    let sessions = state.sessions.clone();
    ws.max_message_size(64 * 1024).on_upgrade(move |socket| sessions.track_future(serve(state, socket)))
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
    let limit = state.limits.websockets_per_token;
    let admitted = session::admit(&hello, |ticket| state.tickets.redeem(ticket)).and_then(|caller| {
        let slot = state.connections.acquire(caller.token.id, limit).ok_or_else(|| {
            session::refuse(
                429,
                "Too many connections",
                &format!("This token already has {limit} open streams; close one first."),
            )
        })?;
        Ok((caller, slot))
    });
    let (caller, _slot) = match admitted {
        Ok(x) => x,
        Err(refusal) => {
            let _ = tx.send(refusal.message).await;
            return close(tx.get_mut(), Some(refusal.close)).await;
        }
    };
    let Ok(gateway) = state.gateway(caller.scope()).cloned() else {
        let refusal = session::refuse(500, "No gateway", "This server does not serve the ticket's scope.");
        let _ = tx.send(refusal.message).await;
        return close(tx.get_mut(), Some(refusal.close)).await;
    };
    state.metrics.websocket_clients.inc();
    let how = session::run(gateway, caller, &hello, &mut tx, rx, state.shutdown.clone()).await;
    state.metrics.websocket_clients.dec();
    close(tx.get_mut(), how).await;
}

/// Sends the close frame of a session the server ends (none when the client went away).
async fn close<S: futures::Sink<Message> + Unpin>(sink: &mut S, how: Option<Close>) {
    if let Some(Close { code, reason }) = how {
        let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    }
}
