//! The HTTP edge (axum): routes, shared state, the caller extractor with its rate limit,
//! the security headers of every answer, and reading JSON bodies (of the media types an
//! endpoint reads) into problem+json errors instead of axum's plain-text ones.

mod api;
mod exchange;
mod faults;
mod federation;
pub mod listen;
mod oefening;
pub mod openapi;
mod page;
mod reports;
pub mod signin;
mod stream;
pub mod subscriptions;
mod timeline;
mod warm;
pub mod webhooks;

use std::collections::BTreeMap;
use std::sync::Arc;

use aide::axum::routing::{delete, get, post};
use aide::axum::ApiRouter;
use aide::openapi::OpenApi;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::header::{self, AUTHORIZATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use chrono::Utc;
use ghor_domain::{RegionCode, Scope};
use ghor_store::trace;
use tower_http::classify::ServerErrorsFailureClass;

use crate::auth::{authenticate, Caller, Connections, RateLimiter, Tickets, TokenLookup};
use crate::gateway::Gateway;
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::problem::{Challenge, Problem};
use crate::security;
use crate::shutdown::Shutdown;
use crate::{Backbone, Limits, Roles};

/// Everything a request handler may touch.
pub struct AppState {
    pub backbone: Backbone,
    /// The process's supervised tasks (readiness shows how they fare).
    pub tasks: crate::supervise::Tasks,
    pub ingest: Arc<Ingest>,
    pub gateways: BTreeMap<Scope, Arc<Gateway>>,
    pub tokens: TokenLookup,
    pub tickets: Tickets,
    pub rate: RateLimiter,
    pub connections: Connections,
    /// Open websocket sessions, so that stopping waits for their close frames (axum does
    /// not track upgraded connections).
    pub sessions: tokio_util::task::TaskTracker,
    pub limits: Limits,
    pub metrics: Metrics,
    pub shutdown: Shutdown,
    /// Signing in with the region's identity provider, when configured.
    pub signin: Option<signin::SignIn>,
}

impl AppState {
    /// The regions whose logs feed the scope's picture: at the national level; empty at a
    /// region's ghor.
    pub fn linked_regions(&self, scope: Scope) -> &[RegionCode] {
        self.backbone.logs.get(&scope).map_or(&[], |log| log.sourced_from())
    }

    /// Whether the scope's picture takes no changes: the national level's.
    pub fn read_only(&self, scope: Scope) -> bool {
        !self.linked_regions(scope).is_empty()
    }

    pub fn gateway(&self, scope: Scope) -> Result<&Arc<Gateway>, Problem> {
        self.gateways.get(&scope).ok_or_else(|| Problem::internal(format!("no gateway for scope {scope}")))
    }
}

/// The routes of the roles this process runs, each with its part of the OpenAPI document
/// (`api`); health and readiness always; the fault switches only when `fault_injection` is
/// on (tests).
fn routes(limits: &Limits, roles: Roles, fault_injection: bool, api: &mut OpenApi) -> Router<Arc<AppState>> {
    let single = DefaultBodyLimit::max(limits.body_bytes);
    let batch = DefaultBodyLimit::max(limits.batch_bytes);
    openapi::prepare();
    let mut router = ApiRouter::new()
        .api_route("/healthz", get(page::healthz))
        .api_route("/readyz", get(page::readyz))
        .route("/v1/openapi.json", axum::routing::get(page::openapi))
        .api_route("/v1/vocabulary", get(page::vocabulary))
        .api_route("/v1/domain", get(page::domain))
        .api_route("/v1/me", get(api::me))
        .api_route("/v1/auth", get(signin::config));
    if roles.ingest {
        router = router
            .api_route("/v1/events", post(api::post_event).layer(single))
            .api_route("/v1/events/batch", post(api::post_batch).layer(batch))
            .api_route("/v1/exchange/have", post(exchange::have_import).layer(batch));
    }
    if roles.gateway {
        router = router
            .route("/", axum::routing::get(page::index))
            .route("/auth/login", axum::routing::get(signin::login))
            .route("/auth/callback", axum::routing::get(signin::callback))
            .route("/auth/logout", axum::routing::post(signin::logout))
            .route("/assets/{file}", axum::routing::get(page::asset))
            .api_route("/v1/picture", get(api::picture))
            .api_route("/v1/federation", get(federation::links))
            .api_route("/v1/picture/regions/{region}", get(api::region))
            .api_route("/v1/picture/regions/{region}/alerts", get(api::alert_feed))
            .api_route("/v1/picture/regions/{region}/beeld", get(reports::beeld))
            .api_route("/v1/picture/regions/{region}/have", get(exchange::have_export))
            .api_route("/v1/picture/regions/{region}/saner", get(exchange::saner_export))
            .api_route("/v1/picture/locations/{location}", get(api::location))
            .api_route("/v1/picture/locations/{location}/history", get(api::location_history))
            .api_route("/v1/picture/locations/{location}/timeline", get(timeline::json))
            .api_route("/v1/picture/locations/{location}/timeline.csv", get(timeline::csv))
            .api_route("/v1/registry/locations", get(api::registry_locations))
            .api_route("/v1/incidents", get(api::incidents))
            .api_route("/v1/incidents/{id}/evaluation", get(reports::evaluation))
            .api_route("/v1/uitvragen", get(warm::list))
            .api_route("/v1/uitvragen/{id}", get(warm::one))
            .api_route("/v1/registry/contacts", get(api::contacts_overview))
            .api_route("/v1/oefening/prepare", post(oefening::prepare))
            .api_route(
                "/v1/registry/locations/{location}/contacts",
                get(api::contacts).put(api::set_contacts).layer(single),
            )
            .api_route(
                "/v1/registry/organisations/{organisation}/webhooks",
                get(webhooks::get).put(webhooks::put).layer(single),
            )
            .api_route("/v1/subscriptions", get(subscriptions::list).post(subscriptions::create).layer(single))
            .api_route("/v1/subscriptions/{id}", delete(subscriptions::delete))
            .api_route("/v1/quarantine", get(api::quarantine))
            .api_route("/v1/tokens", post(api::create_token).get(api::list_tokens).layer(single))
            .api_route("/v1/tokens/{id}", delete(api::revoke_token))
            .api_route("/v1/stream/ticket", post(stream::ticket))
            .api_route("/v1/stream", get(stream::upgrade));
        if fault_injection {
            router = router.route("/v1/faults/gateway-follower", axum::routing::post(faults::stop_gateway_follower));
        }
    }
    router.finish_api(api)
}

/// The OpenAPI document of every endpoint ghor has (whichever roles a process runs).
pub fn openapi_document() -> OpenApi {
    let mut api = openapi::frame();
    let _only_the_document = routes(&Limits::default(), Roles::ALL, false, &mut api);
    api
}

/// The routes of the roles this process runs, answering its own OpenAPI document at
/// `/v1/openapi.json`, and `/metrics` when `with_metrics` (else see [`metrics_router`]).
pub fn router(state: Arc<AppState>, roles: Roles, fault_injection: bool, with_metrics: bool) -> Router {
    let body_read = state.limits.body_read;
    let mut api = openapi::frame();
    let mut router = routes(&state.limits, roles, fault_injection, &mut api);
    if with_metrics {
        router = router.route("/metrics", axum::routing::get(page::metrics));
    }
    router
        .layer(axum::Extension(Arc::new(api)))
        .fallback(page::not_found)
        .method_not_allowed_fallback(page::method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::map_request(move |request| listen::body_deadline(body_read, request)))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(security::watch))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span).on_failure(log_failure))
}

/// The span of one request: tower-http's (at DEBUG) unless spans are exported; then at
/// INFO, in the caller's trace when it sends a `traceparent`, so that the events it
/// appends carry the trace on through the log.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    use tower_http::trace::MakeSpan;
    if !trace::enabled() {
        return tower_http::trace::DefaultMakeSpan::new().make_span(request);
    }
    let span = tracing::info_span!("request", method = %request.method(), path = %request.uri().path());
    trace::follow(&span, request.headers().get(trace::HEADER).and_then(|v| v.to_str().ok()));
    span
}

/// `/metrics` alone, for an address of its own.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new().route("/metrics", axum::routing::get(page::metrics)).with_state(state)
}

/// A 503 says "not now, retry after" (warming up, a log without a leader): expected, and
/// logged as such; any other server failure is an error.
fn log_failure(failure: ServerErrorsFailureClass, latency: std::time::Duration, _: &tracing::Span) {
    let ms = latency.as_millis();
    match failure {
        ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE) => {
            tracing::debug!(latency_ms = ms, "answered 503: not available yet")
        }
        ServerErrorsFailureClass::StatusCode(status) => tracing::error!(%status, latency_ms = ms, "server failure"),
        ServerErrorsFailureClass::Error(error) => tracing::error!(%error, latency_ms = ms, "server failure"),
    }
}

/// What every answer tells a browser: no sniffing a type other than the one sent, no
/// referrer leaving the page, never inside a frame (clickjacking).
const SECURITY_HEADERS: &[(header::HeaderName, &str)] = &[
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Caller, Problem> {
        // A bearer token, or a page's session (signed in with the identity provider).
        let session = signin::cookie(&parts.headers, signin::SESSION).map(|secret| format!("Bearer {secret}"));
        let header = parts.headers.get(AUTHORIZATION).and_then(|h| h.to_str().ok());
        let by_cookie = header.is_none() && session.is_some();
        let header = header.or(session.as_deref());
        if by_cookie && !parts.method.is_safe() {
            signin::check_csrf(&parts.headers)?;
        }
        let caller = authenticate(&state.tokens, header, Utc::now()).await.map_err(|mut problem| {
            // RFC 6750 §3.1: a bearer token was presented, and it is no (longer a) good one.
            if problem.challenge.is_some() && header.is_some_and(|h| h.starts_with("Bearer ")) {
                problem.challenge = Some(Challenge::InvalidToken);
            }
            if problem.status == 401 {
                security::authentication_failed(parts.method.as_str(), parts.uri.path(), &problem.detail);
            }
            problem
        })?;
        if let Some(who) = parts.extensions.get::<security::Who>() {
            who.known(&caller);
        }
        state.rate.take(caller.token.id, 1.0).map_err(|wait| {
            Problem::too_many(
                format!(
                    "This token sent more than {} requests per second; wait {wait} s.",
                    state.limits.rate_per_second
                ),
                wait,
            )
        })?;
        Ok(caller)
    }
}

/// Reads a body; an oversized one becomes problem+json.
pub fn body_bytes(body: Result<axum::body::Bytes, BytesRejection>, limit: usize) -> Result<axum::body::Bytes, Problem> {
    body.map_err(|e| match e {
        // Not the length limit: the body stopped coming (see `listen::body_deadline`).
        BytesRejection::FailedToBufferBody(FailedToBufferBody::UnknownBodyError(_)) => Problem::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "body-too-slow",
            "The body did not arrive in time",
            "The request's body did not arrive whole in time. Send it again (with the same ids: nothing is stored twice).",
        ),
        BytesRejection::FailedToBufferBody(_) => Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "The body is too large",
            format!("The body is larger than {limit} bytes. Send fewer events per request."),
        ),
        e => Problem::bad_request("unreadable-body", e.body_text()),
    })
}

/// Plain JSON.
pub const JSON: &[&str] = &["application/json"];
/// One event: plain JSON or a CloudEvent in structured mode.
pub const EVENT: &[&str] = &["application/json", "application/cloudevents+json"];
/// Events: also a CloudEvents batch.
pub const EVENT_BATCH: &[&str] =
    &["application/json", "application/cloudevents+json", "application/cloudevents-batch+json"];

/// Checks that the body is sent as one of the `accepted` media types (parameters such as
/// `charset` aside): a body sent as anything else was not meant as what it would be read as.
pub fn media_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), Problem> {
    let sent = headers.get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()));
    let essence = sent.as_deref().map(|s| s.split(';').next().unwrap_or_default().trim());
    if essence.is_some_and(|e| accepted.iter().any(|a| a.eq_ignore_ascii_case(e))) {
        return Ok(());
    }
    let sent = match &sent {
        Some(s) => format!("was sent as {}", ghor_domain::error::quote(s)),
        None => "was sent without a Content-Type header".to_owned(),
    };
    let (first, others) = accepted.split_first().unwrap_or((&"application/json", &[]));
    let others = if others.is_empty() { String::new() } else { format!(" (or {})", others.join(", ")) };
    Err(Problem::unsupported_media_type(format!(
        "The body {sent}; send it with the header `Content-Type: {first}`{others}."
    )))
}
