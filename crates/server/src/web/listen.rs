//! The HTTP server's accept loop: what axum's `serve` does, plus what it cannot be told,
//! against clients that are slow or many:
//! - a client must send its request headers within the deployment's header read limit (a
//!   slowloris client that trickles them in, or a connection left idle, holds nothing for
//!   long);
//! - a request's body must arrive whole within the deployment's body read limit
//!   ([`body_deadline`]);
//! - at most `max_connections` connections are open at once; the next is answered 503 with
//!   Retry-After and closed, so a flood costs a refusal, not memory;
//! - every connection gets TCP_NODELAY.
//!
//! On shutdown it stops accepting and lets each connection finish what it is answering.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use bytes::Bytes;
use http_body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::problem::Problem;
use crate::shutdown::Shutdown;

/// Seconds a client over the connection limit is asked to wait.
const FULL_RETRY: u64 = 5;

/// What a connection over the limit is told before it is closed: a whole HTTP answer,
/// written without reading its request.
fn full() -> &'static [u8] {
    static ANSWER: LazyLock<Vec<u8>> = LazyLock::new(|| {
        let problem = Problem::unavailable("This server has as many connections open as it takes.", FULL_RETRY);
        let body = serde_json::to_string(&problem).unwrap_or_default();
        format!(
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {FULL_RETRY}\r\nContent-Type: application/problem+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    });
    &ANSWER
}

/// Serves `app` on `listener` until `stop`, then until every connection has finished; a
/// connection must send each request's headers within `header_read`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    header_read: Duration,
    mut stop: Shutdown,
) {
    let (closing, _) = tokio::sync::watch::channel(());
    let open = Arc::new(Semaphore::new(max_connections));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors, mostly: wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.recv() => break,
        };
        // Without TCP_NODELAY a small delta written while the previous one is unacknowledged
        // waits for the client's delayed ACK: up to 40 ms on Linux.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set on a connection");
        }
        let Ok(place) = open.clone().try_acquire_owned() else {
            // Not awaited: a full server does not wait on a client that does not read.
            let _ = tcp.try_write(full());
            continue;
        };
        let (service, mut closing) = (TowerToHyperService::new(app.clone()), closing.subscribe());
        connections.spawn(async move {
            let _place = place;
            // hyper's header timer starts at the first byte: a connection that never sends
            // one would be held for ever.
            let mut first = [0; 1];
            if !matches!(tokio::time::timeout(header_read, tcp.peek(&mut first)).await, Ok(Ok(1..))) {
                return;
            }
            let mut builder = Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(header_read);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
            tokio::pin!(connection);
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(e) = served {
                            tracing::debug!(error = %e, "a connection ended");
                        }
                        break;
                    }
                    _ = closing.changed() => connection.as_mut().graceful_shutdown(),
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    let _ = closing.send(());
    while connections.join_next().await.is_some() {}
}

/// Middleware: the request's body must arrive whole within `limit` of its headers; a body
/// still coming after that fails to read ([`super::body_bytes`] answers 408).
pub async fn body_deadline(limit: Duration, request: Request) -> Request {
    request.map(|body| Body::new(Deadline { body, expires: Box::pin(tokio::time::sleep(limit)) }))
}

/// A body with a deadline for its last byte (not per read, which a client sending one byte
/// at a time would keep alive for ever).
struct Deadline {
    body: Body,
    expires: Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.expires.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTooSlow))));
        }
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The error of a body that did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the body did not arrive in time")]
pub struct BodyTooSlow;
