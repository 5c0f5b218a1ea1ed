//! RFC 9457 problem details: the one error shape every caller sees. A caller's mistake
//! names the field and the reason (quoting what was sent only briefly); a server fault is
//! opaque to the caller and logged.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ghor_domain::error::{brief, ErrorCode, MAX_REASON_CHARS};
use ghor_domain::FieldError;
use serde::Serialize;

/// An answer that is not the one asked for, as `application/problem+json` (RFC 9457):
/// `type` the stable code, `errors` each field the caller got wrong.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3).
    #[serde(skip)]
    pub challenge: Option<Challenge>,
}

/// The `WWW-Authenticate` challenge of a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// How to authenticate at all.
    Bearer,
    /// A bearer token was presented but is unknown, revoked or expired.
    InvalidToken,
}

impl Challenge {
    fn header(self) -> &'static str {
        match self {
            Challenge::Bearer => r#"Bearer realm="ghor""#,
            Challenge::InvalidToken => r#"Bearer realm="ghor", error="invalid_token""#,
        }
    }
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://ghor.example/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            // A detail may quote what the caller sent; a field error's already is brief.
            detail: brief(&detail.into(), DETAIL_CHARS),
            errors: Vec::new(),
            retry_after: None,
            challenge: None,
        }
    }

    /// The problem's stable code: the last part of its `type`.
    pub fn code(&self) -> &str {
        self.kind.rsplit('/').next().unwrap_or(&self.kind)
    }

    /// The caller sent something ghor cannot accept; `error` says which field and why.
    pub fn invalid(error: FieldError) -> Problem {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-event",
            "The event is not valid",
            error.to_string(),
        );
        p.errors.push(error);
        p
    }

    /// A query parameter ghor cannot read; `error` says which and why.
    pub fn invalid_parameter(error: FieldError) -> Problem {
        let mut p = Problem::bad_request("invalid-parameter", error.to_string());
        p.errors.push(error);
        p
    }

    pub fn bad_request(kind: &str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, kind, "The request cannot be read", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        let mut p = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Not signed in", detail);
        p.challenge = Some(Challenge::Bearer);
        p
    }

    /// The (source, id) is already stored with other content: events are immutable.
    pub fn conflict(field: &str, detail: impl Into<String>) -> Problem {
        let detail = detail.into();
        let mut p = Problem::new(StatusCode::CONFLICT, "conflict", "Already stored with other content", detail.clone());
        p.errors.push(FieldError::new(field, ErrorCode::Conflict, &detail));
        p
    }

    /// The body was sent as a media type this endpoint does not read.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Problem {
        let detail = detail.into();
        let mut p = Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail.clone(),
        );
        p.errors.push(FieldError::new("Content-Type", ErrorCode::UnsupportedMediaType, &detail));
        p
    }

    pub fn forbidden(field: Option<&str>, detail: impl Into<String>) -> Problem {
        let detail = detail.into();
        let mut p = Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed for this token", detail.clone());
        if let Some(f) = field {
            p.errors.push(FieldError::new(f, ErrorCode::Forbidden, &detail));
        }
        p
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn too_many(detail: impl Into<String>, retry_after: u64) -> Problem {
        let mut p = Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests", detail);
        p.retry_after = Some(retry_after);
        p
    }

    pub fn unavailable(detail: impl Into<String>, retry_after: u64) -> Problem {
        let mut p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Try again shortly", detail);
        p.retry_after = Some(retry_after);
        p
    }

    /// Parses JSON that arrived at an edge (an HTTP body, a NATS message): malformed JSON
    /// is a problem that says where, a key given twice in one object one that names it.
    pub fn from_json(bytes: &[u8]) -> Result<serde_json::Value, Problem> {
        ghor_domain::json::from_slice(bytes).map_err(|e| match e {
            ghor_domain::json::JsonError::DuplicateKey(error) => Problem::invalid(error),
            ghor_domain::json::JsonError::Syntax(e) => Problem::bad_request(
                "malformed-json",
                format!("The body is not valid JSON: {e} (line {}, column {}).", e.line(), e.column()),
            ),
        })
    }

    /// A fault of ours: logged in full here, opaque to the caller.
    pub fn internal(error: impl std::fmt::Display) -> Problem {
        let incident = uuid::Uuid::new_v4();
        tracing::error!(%incident, error = %error, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            format!("Something went wrong on our side (reference {incident}). Nothing you sent was lost if you retry with the same id."),
        )
    }
}

/// The longest detail: a field error's path and reason, with room to spare.
const DETAIL_CHARS: usize = MAX_REASON_CHARS + 200;

impl From<ghor_store::StoreError> for Problem {
    fn from(e: ghor_store::StoreError) -> Problem {
        match e {
            ghor_store::StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "store unavailable");
                Problem::unavailable(
                    "The event log is slow or unreachable. Retry with the same id: a retry is never stored twice.",
                    2,
                )
            }
            ghor_store::StoreError::ReadOnly(why) => {
                Problem::new(StatusCode::CONFLICT, "read-only", "This picture takes no changes", why)
            }
            e => Problem::internal(e),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a problem cannot be written as JSON; answering with a bare one");
            br#"{"type":"about:blank","title":"Internal error","status":500}"#.to_vec()
        });
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(s) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(challenge) = self.challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge.header()));
        }
        response
    }
}
