//! The ports of §5: the event log, the read model, and the mutable stores that stay out of
//! the log (tokens; contacts, which are personal data; the notifier's cursor, webhook
//! endpoints with their secrets, and subscriptions to alerts with their channels). Ingest, projector and
//! gateway talk only to these traits, so the embedded and the production backends plug
//! in beside each other.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::BoxStream;
use ghor_domain::vocab::{ContactRole, SubscriptionKind};
use ghor_domain::{Event, Picture, RegionCode, Role, Scope, Slug};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

/// What went wrong in a store, by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend is slow or unreachable: try again later with the same ids.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Another writer moved the checkpoint: this projector is fenced out.
    #[error("fenced: checkpoint is at {found}, expected {expected}")]
    Fenced { expected: u64, found: u64 },
    /// This log takes no appends (the national level's, which the regions' logs feed).
    #[error("read-only log: {0}")]
    ReadOnly(String),
    /// Anything else; logged in full, never shown to a caller.
    #[error("store failure: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The outcome of appending one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Appended {
    Stored {
        seq: u64,
    },
    /// The same (source, id) is already in the log at `seq`; nothing was stored.
    Duplicate {
        seq: u64,
    },
}

impl Appended {
    pub fn seq(self) -> u64 {
        match self {
            Appended::Stored { seq } | Appended::Duplicate { seq } => seq,
        }
    }
}

/// One entry of the log: its sequence and the stored CloudEvent as the log holds it (JSON
/// bytes), decoded by the reader.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub seq: u64,
    pub body: Bytes,
    /// The `traceparent` the append carried ([`crate::trace`]), where the log keeps one.
    pub trace: Option<String>,
}

impl LogEntry {
    /// The body as a JSON value.
    pub fn json(&self) -> Value {
        stored_json(&self.body)
    }
}

/// A stored body as a JSON value; one that is not JSON (no ingest writes one) as a string.
pub fn stored_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// How much a log holds, and how much it may hold (`None`: no limit but the disk). A
/// JetStream stream refuses new events when full (`discard: new`): ingest then answers 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub limit: Option<u64>,
}

/// A region's log as the national log that sources it last heard from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub region: RegionCode,
    /// Events the region holds that the national log has not yet.
    pub lag: u64,
    /// How long ago the national level last heard from the region (`None`: never).
    pub last_contact: Option<std::time::Duration>,
}

/// The append-only log of one scope: the truth every view is folded from.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    fn scope(&self) -> Scope;
    /// Identity of this log's history (the stream's creation id); sequences are only
    /// comparable within one epoch.
    fn epoch(&self) -> Uuid;
    /// Appends each event, idempotent on (source, id); one result per event, in order.
    async fn append(&self, events: &[Event]) -> Vec<StoreResult<Appended>>;
    /// How long the log itself refuses a repeated (source, id): for ever (`None`), or only
    /// within this window (JetStream's duplicate window; after it, the archive knows).
    fn duplicate_window(&self) -> Option<std::time::Duration>;
    /// Up to `max` entries with sequence > `after`, in sequence order.
    async fn read(&self, after: u64, max: usize) -> StoreResult<Vec<LogEntry>>;
    /// Sequence of the newest entry (0 when empty).
    async fn last_seq(&self) -> StoreResult<u64>;
    /// Sequence of the newest entry, asked of the log itself now: an error when it cannot be
    /// reached. Readers probe with it while nothing is appended, so that a log that went
    /// away (or a notification that stalled) does not pass for a quiet one.
    async fn probe(&self) -> StoreResult<u64>;
    /// Sequence of the oldest entry still held (1 for a log that never lost any).
    async fn first_seq(&self) -> StoreResult<u64>;
    /// How much the log holds and may hold, asked of the log now.
    async fn usage(&self) -> StoreResult<Usage>;
    /// The regions whose logs feed this one: the national level's log, which takes no
    /// appends of its own. Empty for a region's log.
    fn sourced_from(&self) -> &[RegionCode] {
        &[]
    }
    /// How current each region in [`EventLog::sourced_from`] is, asked of the log now.
    async fn links(&self) -> StoreResult<Vec<Link>> {
        Ok(Vec::new())
    }
    /// Changes to the newest sequence; readers then `read` in order (never a broadcast of
    /// events, which could reorder).
    fn watch(&self) -> watch::Receiver<u64>;
    /// The registrations of locations (`location.registered`) after `after`, in sequence
    /// order, as they are appended: an endless stream that an error ends. The registry of
    /// an ingest-only process follows these, not the whole log.
    async fn registrations(&self, after: u64) -> StoreResult<BoxStream<'static, StoreResult<LogEntry>>>;
    /// Up to `max` entries that `filter` selects with sequence > `after`, in sequence
    /// order, as far as the log reaches now; empty when there are no more. The log is
    /// indexed for these (subjects on JetStream, columns on SQLite): nothing is scanned.
    async fn read_filtered(&self, filter: Filter<'_>, after: u64, max: usize) -> StoreResult<Vec<LogEntry>>;
    /// The sequence of the newest registration of `location`, if it was ever registered.
    async fn newest_registration(&self, location: &Slug) -> StoreResult<Option<u64>>;
}

/// Which entries [`EventLog::read_filtered`] reads.
#[derive(Debug, Clone, Copy)]
pub enum Filter<'a> {
    /// One family of event types, `nl.ghor.<family>.*` (e.g. `threshold`): for what ghor
    /// writes once ever, which it first looks for.
    Family(&'a str),
    /// The events a location sent (its source), for its history.
    Location(&'a Slug),
}

/// The wire type of the events [`EventLog::registrations`] yields.
pub const REGISTRATION_TYPE: &str = "nl.ghor.location.registered.v1";

/// One projector batch: everything it writes in ONE transaction.
#[derive(Debug, Clone, Default)]
pub struct ProjectionBatch {
    /// The checkpoint this batch continues from; the write is fenced on it.
    pub after: u64,
    /// The new checkpoint: the last sequence of the batch.
    pub upto: u64,
    /// Region views that changed, as JSON text.
    pub regions: Vec<(RegionCode, String)>,
    /// Location views that changed, with their region, as JSON text.
    pub locations: Vec<(Slug, RegionCode, String)>,
    /// Events of the batch that could not be folded, with the reason.
    pub quarantined: Vec<Quarantined>,
    /// Every folded event of the batch, for the archive (unique on source and id, so an
    /// event that reached the log twice is archived and counted once). The embedded
    /// backend needs none: its log is its archive.
    pub archive: Vec<Archived>,
    /// A full snapshot of the picture at `upto`, written now and then.
    pub snapshot: Option<Arc<Picture>>,
}

/// An event as the archive keeps it: queryable columns beside the stored CloudEvent.
#[derive(Debug, Clone)]
pub struct Archived {
    pub seq: u64,
    pub source: String,
    pub id: Uuid,
    pub event_type: String,
    pub region: RegionCode,
    pub time: DateTime<Utc>,
    pub received: DateTime<Utc>,
    /// The stored CloudEvent (JSON).
    pub body: Bytes,
}

impl Archived {
    /// The archive row of `event`, stored at `seq` as `body`.
    pub fn of(event: &Event, seq: u64, body: Bytes) -> Archived {
        Archived {
            seq,
            source: event.source.to_string(),
            id: event.id,
            event_type: event.payload.event_type().to_owned(),
            region: event.stamp.region,
            time: event.time,
            received: event.stamp.received,
            body,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Quarantined {
    pub seq: u64,
    pub location: Option<Slug>,
    pub reason: String,
    pub body: Value,
}

/// Snapshots kept per scope and epoch, newest first: a projector starts from the newest,
/// and looking back at any moment starts from the nearest one before it (one every
/// `snapshot_every` events, so 1,000 reach back over ten million events by default).
pub const SNAPSHOTS_KEPT: i64 = 1000;

/// The read model: the picture as others query it, the projector's checkpoint, snapshots.
#[async_trait]
pub trait ReadModel: Send + Sync + 'static {
    /// The projector's cursor: the last sequence folded into the read model.
    async fn checkpoint(&self, scope: Scope) -> StoreResult<u64>;
    /// Writes a batch atomically; `Fenced` when the checkpoint is no longer `batch.after`.
    async fn commit(&self, scope: Scope, epoch: Uuid, batch: &ProjectionBatch) -> StoreResult<()>;
    /// The newest snapshot at or before sequence `upto` (`u64::MAX`: the newest of all):
    /// (sequence, picture).
    async fn snapshot(&self, scope: Scope, epoch: Uuid, upto: u64) -> StoreResult<Option<(u64, Picture)>>;
    async fn region(&self, scope: Scope, region: RegionCode) -> StoreResult<Option<Value>>;
    async fn location(&self, scope: Scope, id: &Slug) -> StoreResult<Option<Value>>;
    async fn quarantine(&self, scope: Scope, limit: usize) -> StoreResult<Vec<Quarantined>>;
    /// Empties the scope's read model (views, quarantine, snapshots, archive) and sets its
    /// checkpoint to 0, so a rebuild starts from sequence 1 and any projector still
    /// writing from the old checkpoint is fenced out.
    async fn reset(&self, scope: Scope) -> StoreResult<()>;
    /// The newest `limit` events a location sent, newest first, as far as the archive
    /// reaches, and that sequence: a caller reads what came after from the log.
    async fn location_history(&self, scope: Scope, location: &Slug, limit: usize) -> StoreResult<(u64, Vec<LogEntry>)>;
    /// How often the archive holds the event (source, id): 0 or 1, never more.
    async fn archived(&self, scope: Scope, source: &str, id: Uuid) -> StoreResult<u64>;
    /// For each (source, id), the sequence it is archived at, if it is. Ingest asks this
    /// so that a retry after the log's duplicate window is still not stored twice.
    async fn find_archived(&self, scope: Scope, keys: &[(String, Uuid)]) -> StoreResult<Vec<Option<u64>>>;
}

/// A bearer token's holder and what it may do. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenInfo {
    pub id: Uuid,
    /// Who holds it (person or system), recorded as `actor` on what it writes.
    pub name: String,
    pub role: Role,
    /// Regions it may see or act in; empty means national (all regions).
    pub regions: Vec<RegionCode>,
    /// For institution tokens: the organisation whose locations it reports for.
    pub organisation: Option<Slug>,
    pub scope: Scope,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub revoked: bool,
}

/// Tokens, stored hashed.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    async fn insert(&self, info: &TokenInfo, secret_hash: &str) -> StoreResult<()>;
    /// The tokens with these secret hashes, one answer per hash, in order (concurrent
    /// requests are authenticated together).
    async fn by_hashes(&self, secret_hashes: &[String]) -> StoreResult<Vec<Option<TokenInfo>>>;
    /// The tokens with these ids, one answer per id, in order: what the gateway checks,
    /// once a second in one query, for the tokens of its open streams.
    async fn by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Option<TokenInfo>>>;
    async fn list(&self) -> StoreResult<Vec<TokenInfo>>;
    /// Revokes a token; false when there is no such token.
    async fn revoke(&self, id: Uuid) -> StoreResult<bool>;
    /// Keeps a websocket ticket (the hash of its secret) for `token` until `expires`, and
    /// lets go of the tickets that expired.
    async fn issue_ticket(&self, hash: &str, token: Uuid, expires: DateTime<Utc>) -> StoreResult<()>;
    /// Takes a ticket: the token it was issued for, once, if it has not expired by `now`.
    async fn redeem_ticket(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Uuid>>;
}

/// An email address as ghor takes one: no space or control character, a non-empty local
/// part, and a domain with a dot inside it.
pub const EMAIL_PATTERN: &str = r"^[^\s\x00-\x1f\x7f-\x9f]+@[^\s\x00-\x1f\x7f-\x9f@.][^\s\x00-\x1f\x7f-\x9f@]*\.[^\s\x00-\x1f\x7f-\x9f@]*[^\s\x00-\x1f\x7f-\x9f@.]$";

/// A functional contact of a location: personal data, visible to GHOR roles only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub role: ContactRole,
    #[schemars(length(min = 1, max = 100), regex(pattern = r"\S"))]
    pub name: String,
    /// Reachable day and night.
    #[schemars(length(min = 1, max = 40), regex(pattern = r"\S"))]
    pub phone_24_7: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub fallback: Option<String>,
    /// Where the notifier emails what concerns this role (an uitvraag, a reminder,
    /// handelingsperspectief); none: this contact gets no email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 254), regex(pattern = EMAIL_PATTERN))]
    pub email: Option<String>,
    /// When someone last checked this contact still holds.
    pub verified_on: NaiveDate,
}

/// The mutable registry of contacts (kept out of the log so the right to erasure holds),
/// per scope: an exercise never reads or writes the live contacts of a location.
#[async_trait]
pub trait ContactStore: Send + Sync + 'static {
    async fn contacts(&self, scope: Scope, location: &Slug) -> StoreResult<Vec<Contact>>;
    /// Replaces all contacts of a location in a scope. An empty list is the erasure (AVG
    /// art. 17): the location's row is deleted, not left holding an empty list.
    async fn set_contacts(&self, scope: Scope, location: &Slug, contacts: &[Contact]) -> StoreResult<()>;
    /// The locations of a scope that hold contacts: where personal data is kept, so an
    /// erasure can be checked to have left nothing behind.
    async fn holding_contacts(&self, scope: Scope) -> StoreResult<Vec<Slug>>;
}

/// An endpoint of an organisation's own system that the notifier posts signed CloudEvents
/// to (Standard Webhooks). The secret signs them; it is kept here, never in the log, and
/// never answered once set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// An http or https URL with a host (and no password in it).
    #[schemars(length(max = 2000), regex(pattern = WEBHOOK_URL_PATTERN))]
    pub url: String,
    /// `whsec_` and the base64 of the key's bytes: 24 to 64 of them (Standard Webhooks).
    #[schemars(regex(pattern = WEBHOOK_SECRET_PATTERN))]
    pub secret: String,
}

/// The URLs a webhook takes, as a JSON Schema pattern.
pub const WEBHOOK_URL_PATTERN: &str =
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,4})?(?:[/?#]\S*)?$";
/// `whsec_` and canonical base64 of 24 to 64 bytes, as a JSON Schema pattern.
pub const WEBHOOK_SECRET_PATTERN: &str = r"^whsec_(?:(?:[A-Za-z0-9+/]{4}){8,20}(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?|(?:[A-Za-z0-9+/]{4}){21}(?:[A-Za-z0-9+/][AQgw]==)?)$";

/// A GHOR user's subscription to an alert kind in one region (issue 9), owned by the token
/// that made it; its channels are personal data and secrets, so it is kept beside the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    pub id: Uuid,
    /// The token that made it: only it lists and deletes it, and a revoked token's
    /// subscriptions are told nothing.
    pub owner: Uuid,
    pub region: RegionCode,
    pub kind: SubscriptionKind,
    /// The number the kind needs (`ic_free_below`: notify when the region's free IC beds
    /// fall below it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
    pub created: DateTime<Utc>,
}

/// What the notifier keeps beside the log: its cursor per scope, the webhook endpoints of
/// organisations per scope (an exercise posts only to the endpoints set up for it), and the
/// subscriptions to alerts per scope.
#[async_trait]
pub trait NotifyStore: Send + Sync + 'static {
    /// The notifier's cursor: every event up to it has had all its notifications delivered
    /// or given up. `None` before the notifier ever ran; with the log epoch it belongs to.
    async fn notifier_checkpoint(&self, scope: Scope) -> StoreResult<Option<(Uuid, u64)>>;
    /// Moves the cursor to `upto`: from `after`, or (`None`) wherever it was, when the
    /// notifier starts on a log it has no cursor in. `Fenced` when it is no longer at `after`.
    async fn set_notifier_checkpoint(
        &self,
        scope: Scope,
        epoch: Uuid,
        after: Option<u64>,
        upto: u64,
    ) -> StoreResult<()>;
    async fn webhooks(&self, scope: Scope, organisation: &Slug) -> StoreResult<Vec<Webhook>>;
    /// Replaces an organisation's endpoints in a scope; an empty list removes the row.
    async fn set_webhooks(&self, scope: Scope, organisation: &Slug, webhooks: &[Webhook]) -> StoreResult<()>;
    /// Every subscription of a scope, oldest first: what the notifier matches started
    /// conditions against.
    async fn subscriptions(&self, scope: Scope) -> StoreResult<Vec<Subscription>>;
    /// The subscriptions `owner` made in a scope, oldest first.
    async fn subscriptions_of(&self, scope: Scope, owner: Uuid) -> StoreResult<Vec<Subscription>>;
    /// Keeps a new subscription, unless its owner holds `max` in the scope already (false).
    async fn add_subscription(&self, scope: Scope, subscription: &Subscription, max: usize) -> StoreResult<bool>;
    /// Deletes `owner`'s subscription `id`; false when it has none by that id.
    async fn remove_subscription(&self, scope: Scope, owner: Uuid, id: Uuid) -> StoreResult<bool>;
}

/// A signed tree head: the Merkle root (RFC 9162) of the first `size` archived events of a
/// scope, signed with the deployment's audit key at `time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: ghor_domain::merkle::Hash,
    pub time: DateTime<Utc>,
    /// The ed25519 public key that signed it.
    pub public_key: [u8; 32],
    /// The ed25519 signature.
    pub signature: Vec<u8>,
}

/// What tamper evidence keeps beside the archive: every archived event's leaf hash in log
/// order, and the signed tree heads over them.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Archived events after `after`, in log order, at most `max`: their seq and the stored
    /// event as JSON (the embedded backend's log is its archive).
    async fn archived_events(&self, scope: Scope, after: u64, max: usize) -> StoreResult<Vec<(u64, Value)>>;
    /// The leaf hashes recorded so far, in log order.
    async fn leaf_hashes(&self, scope: Scope) -> StoreResult<Vec<(u64, ghor_domain::merkle::Hash)>>;
    /// Records new leaf hashes and the tree head that covers them, together.
    async fn record_tree_head(
        &self,
        scope: Scope,
        leaves: &[(u64, ghor_domain::merkle::Hash)],
        head: &TreeHead,
    ) -> StoreResult<()>;
    /// Every tree head of a scope, smallest first.
    async fn tree_heads(&self, scope: Scope) -> StoreResult<Vec<TreeHead>>;
}

/// A stored hash or key: exactly 32 bytes, or the store is damaged.
pub(crate) fn fixed<const N: usize>(what: &str, bytes: Vec<u8>) -> StoreResult<[u8; N]> {
    let len = bytes.len();
    bytes.try_into().map_err(|_| StoreError::Internal(format!("a stored {what} has {len} bytes, not {N}")))
}
