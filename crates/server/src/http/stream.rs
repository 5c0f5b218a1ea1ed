//! The websocket edge: trading a bearer token for a ticket, and upgrading `/v1/stream`
//! into a [`crate::gateway::session`] once the client's hello presents a valid ticket.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

use super::AppState;
use crate::auth::{still_valid, Caller, TICKET_LIFETIME};
use crate::gateway::session;
use crate::problem::Problem;

pub async fn ticket(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Value>, Problem> {
    state.gateway(caller.scope())?;
    let ticket = state.tickets.issue(caller);
    Ok(Json(json!({ "ticket": ticket, "expires_in": TICKET_LIFETIME.as_secs() })))
}

pub async fn upgrade(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(64 * 1024).on_upgrade(move |socket| serve(state, socket))
}

async fn serve(state: Arc<AppState>, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let tx = Box::pin(sink.with(|text: String| async move { Ok::<_, axum::Error>(Message::Text(text.into())) }));
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
    let (mut tx, hello) = match session::hello(&mut rx, tx).await {
        Some(x) => x,
        None => return,
    };
    let limit = state.limits.websockets_per_token;
    let caller = match session::admit(&hello, |ticket| state.tickets.redeem(ticket)) {
        Ok(caller) => caller,
        Err(message) => {
            let _ = tx.send(message).await;
            return;
        }
    };
    // A ticket is only as good as its token is now: revoked since, and it opens nothing.
    let caller = match still_valid(&*state.backbone.tokens, caller, Utc::now()).await {
        Ok(caller) => caller,
        Err(reason) => {
            let _ = tx.send(session::error(401, "Token no longer valid", &reason)).await;
            return;
        }
    };
    let Some(slot) = state.connections.acquire(&caller.token, limit, state.backbone.tokens.clone()) else {
        let message = session::error(
            429,
            "Too many connections",
            &format!("This token already has {limit} open streams; close one first."),
        );
        let _ = tx.send(message).await;
        return;
    };
    let Ok(gateway) = state.gateway(caller.scope()).cloned() else {
        return;
    };
    state.metrics.websocket_clients.inc();
    session::run(gateway, caller, &hello, tx, rx, state.shutdown.clone(), slot.ended()).await;
    state.metrics.websocket_clients.dec();
}
