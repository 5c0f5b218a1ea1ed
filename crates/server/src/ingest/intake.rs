//! Institution systems that publish straight onto NATS. Ingest takes each message from the
//! scope's intake stream, checks it exactly as an HTTP report (the subject names the
//! organisation and the location), and appends it. A refused message is recorded on its
//! location as `intake.rejected` with the reason: the location shows as affected, the
//! projector quarantines it, and the messages after it go on.

use std::sync::Arc;

use chrono::Utc;
use futures::StreamExt;
use ghor_domain::error::ErrorCode;
use ghor_domain::{FieldError, Scope, Submission};
use ghor_store::nats::{Intake, IntakeMessage};
use ghor_store::StoreError;
use serde_json::Value;

use super::Ingest;
use crate::auth::Caller;
use crate::problem::Problem;
use crate::shutdown::Shutdown;

/// Takes the scope's intake messages until shutdown; fails when the intake stream cannot be
/// read (its supervisor starts it again; unacknowledged messages come again).
pub async fn run(
    ingest: Arc<Ingest>,
    intake: Arc<Intake>,
    scope: Scope,
    mut shutdown: Shutdown,
) -> Result<(), StoreError> {
    let messages = intake.messages().await?;
    tokio::pin!(messages);
    loop {
        let next = tokio::select! {
            m = messages.next() => m,
            _ = shutdown.recv() => return Ok(()),
        };
        match next {
            Some(Ok(Some(message))) => take(&ingest, scope, message).await,
            Some(Ok(None)) => {}
            Some(Err(e)) => return Err(e),
            None => return Err(StoreError::Unavailable("the intake stream ended".into())),
        }
    }
}

/// Stores one message, or records why it was refused; acks only when either is done.
async fn take(ingest: &Ingest, scope: Scope, message: IntakeMessage) {
    let caller = Caller::system(&message.organisation, scope);
    let expected_source = format!("/locations/{}", message.location);
    let outcome = match Problem::from_json(&message.payload) {
        Err(refused) => Err(refused),
        Ok(body) if body.get("source").and_then(Value::as_str) != Some(expected_source.as_str()) => {
            let reason = format!("must be {expected_source}, the location in the subject");
            let e = FieldError::new("source", ErrorCode::SourceMismatch, &reason).with("expected", expected_source);
            Err(Problem::invalid(e))
        }
        Ok(body) => ingest.submit(&caller, Submission::parse(body), Utc::now()).await.map(|_| ()),
    };
    let refused = match outcome {
        Ok(()) => return message.ack().await,
        Err(p) if p.status == 503 => return message.retry_later().await,
        Err(p) => p,
    };
    match ingest.record_rejection(&caller, &message.location, message.seq, &refused).await {
        Ok(()) => message.ack().await,
        Err(p) if p.status == 503 => message.retry_later().await,
        Err(p) => {
            tracing::warn!(%scope, seq = message.seq, organisation = %message.organisation, detail = %p.detail, "refused intake message cannot be recorded on a location; dropped");
            message.ack().await;
        }
    }
}
