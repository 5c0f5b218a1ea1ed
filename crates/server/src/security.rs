//! The security audit log (issue 12), apart from the application's log: who failed to
//! authenticate, who was refused what, which tokens were issued and revoked, who changed
//! the registry and who read contacts. One record per line under the tracing target
//! [`TARGET`], which the binary writes as JSON to a file of its own (`--security-log`).
//! Never a secret: a token by its id, name and role, never its value; contacts by their
//! location, never their details.

use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

use crate::auth::Caller;

/// The tracing target of every security record.
pub const TARGET: &str = "security";

/// Who made a request, once its token is known: filled in by the `Caller` extractor, read
/// by [`watch`] when the answer is a refusal.
#[derive(Clone, Default)]
pub struct Who(Arc<OnceLock<Caller>>);

impl Who {
    pub fn known(&self, caller: &Caller) {
        let _ = self.0.set(caller.clone());
    }
}

/// Records every request answered 403 with the caller that was refused.
pub async fn watch(mut request: Request, next: Next) -> Response {
    let who = Who::default();
    request.extensions_mut().insert(who.clone());
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    if response.status() == StatusCode::FORBIDDEN {
        match who.0.get() {
            Some(c) => tracing::info!(
                target: TARGET, kind = "denied", %method, path, token = %c.token.id,
                name = %c.token.name, role = %c.role(), scope = %c.scope()
            ),
            None => tracing::info!(target: TARGET, kind = "denied", %method, path),
        }
    }
    response
}

/// A request whose token was missing, malformed, unknown, revoked or expired.
pub fn authentication_failed(method: &str, path: &str, reason: &str) {
    tracing::info!(target: TARGET, kind = "authentication_failed", method, path, reason);
}

/// A token issued: by whom (`None`: on the command line, by the operator).
pub fn token_issued(by: Option<&Caller>, id: Uuid, name: &str, role: &str) {
    let by = by.map(|c| c.token.id.to_string());
    tracing::info!(target: TARGET, kind = "token_issued", token = %id, name, role, by = by.as_deref().unwrap_or("command line"));
}

/// A token revoked: by whom (`None`: on the command line).
pub fn token_revoked(by: Option<&Caller>, id: Uuid) {
    let by = by.map(|c| c.token.id.to_string());
    tracing::info!(target: TARGET, kind = "token_revoked", token = %id, by = by.as_deref().unwrap_or("command line"));
}

/// A registry fact stored (an organisation or location registered, contacts set).
pub fn registry_changed(by: &Caller, what: &str, subject: &str) {
    tracing::info!(
        target: TARGET, kind = "registry_changed", what, subject, token = %by.token.id, name = %by.token.name
    );
}

/// Contacts read: of a location, or the overview of a region's.
pub fn contacts_read(by: &Caller, of: &str) {
    tracing::info!(target: TARGET, kind = "contacts_read", of, token = %by.token.id, name = %by.token.name, role = %by.role());
}
