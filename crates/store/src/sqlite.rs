//! The embedded default: every port on one SQLite file through sqlx, with in-process
//! notification. One appender commits a round of appends at a time, so sequences are dense
//! and the watch channel only ever moves forward.
//!
//! Every write takes its turn on one connection, in the order they came: SQLite's own wait
//! for its write lock polls after 1, 2, 5, 10, 15, 20 ms and so on, and a report whose
//! append met the projector's commit waited that ladder out (report p99 16–21 ms against
//! 3–4 ms in turns, 200 reports/s). The WAL is folded back into the file after a projector's
//! commit, on a reader's connection, not in an append's commit: a report never waits for
//! the disk to sync.

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use ghor_domain::{Event, Picture, RegionCode, Scope, Slug};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tokio::sync::watch;
use uuid::Uuid;

use crate::coalesce::Coalescer;
use crate::ports::*;

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => StoreError::Unavailable(e.to_string()),
            e => StoreError::Internal(e.to_string()),
        }
    }
}

/// Connections for reading: WAL lets readers go side by side, and beside the writer.
const CONNECTIONS: u32 = 8;
/// How often at most the WAL is folded back into the file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// WAL pages after which the writer folds the WAL back itself: only when no projector
/// commits (which has it done every [`CHECKPOINT_EVERY`]), so that it cannot grow without end.
const WRITER_CHECKPOINT_PAGES: &str = "10000";

/// The embedded database: opens (or creates) the file and hands out the ports.
#[derive(Clone)]
pub struct Embedded {
    pool: SqlitePool,
    /// The one connection every write takes: appends, the projector's commits, tokens and
    /// the rest take turns, each woken as soon as the one before has committed.
    writer: SqlitePool,
    /// When the WAL was last folded back into the file.
    checkpointed: Arc<Mutex<Instant>>,
}

impl Embedded {
    /// Opens `dir/ghor.db`, creating the folder and the schema when missing.
    pub async fn open(dir: &Path) -> StoreResult<Embedded> {
        std::fs::create_dir_all(dir).map_err(|e| internal(format!("cannot create {}: {e}", dir.display())))?;
        let url = format!("sqlite://{}", dir.join("ghor.db").display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        // A connection to a file does not go stale: no ping (a round trip to the connection's
        // thread) before every use.
        let pool_of = |connections| SqlitePoolOptions::new().max_connections(connections).test_before_acquire(false);
        let pool = pool_of(CONNECTIONS).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.map_err(internal)?;
        let writer = pool_of(1).connect_with(options.pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)).await?;
        let checkpointed = Arc::new(Mutex::new(Instant::now()));
        Ok(Embedded { pool, writer, checkpointed })
    }

    /// The log of one scope, created with a fresh epoch the first time.
    pub async fn log(&self, scope: Scope) -> StoreResult<Arc<SqliteLog>> {
        let fresh = Uuid::new_v4().to_string();
        sqlx::query("INSERT INTO log_epoch (scope, epoch) VALUES (?, ?) ON CONFLICT (scope) DO NOTHING")
            .bind(scope.as_str())
            .bind(&fresh)
            .execute(&self.writer)
            .await?;
        let epoch: String = sqlx::query_scalar("SELECT epoch FROM log_epoch WHERE scope = ?")
            .bind(scope.as_str())
            .fetch_one(&self.pool)
            .await?;
        let epoch = Uuid::parse_str(&epoch).map_err(internal)?;
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE scope = ?")
            .bind(scope.as_str())
            .fetch_one(&self.pool)
            .await?;
        let notify = Arc::new(watch::channel(last as u64).0);
        let (pool, sender) = (self.writer.clone(), notify.clone());
        // On a task of its own: a caller that goes away (an HTTP client hanging up) must not
        // drop the transaction halfway.
        let appender = Coalescer::new(move |events: Vec<Event>| {
            let (pool, notify) = (pool.clone(), sender.clone());
            async move { Ok(append(&pool, scope, &notify, &events).await) }
        });
        Ok(Arc::new(SqliteLog { pool: self.pool.clone(), scope, epoch, appender, notify }))
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Folds the WAL back into the file, at most every [`CHECKPOINT_EVERY`]: PASSIVE, on a
    /// reader's connection, so that the writer goes on meanwhile. A fold that fails is logged
    /// and tried again next time; what was committed stays committed.
    async fn fold_wal_back(&self) {
        {
            let mut last = self.checkpointed.lock().unwrap_or_else(|poison| poison.into_inner());
            if last.elapsed() < CHECKPOINT_EVERY {
                return;
            }
            *last = Instant::now();
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.pool).await {
            tracing::warn!(error = %e, "the WAL could not be folded back into the file; trying again after the next commit");
        }
    }
}

/// The embedded event log of one scope.
pub struct SqliteLog {
    pool: SqlitePool,
    scope: Scope,
    epoch: Uuid,
    /// Appends one round at a time, each in one transaction: dense sequences, notifications
    /// in order, and many reporters' events committed together.
    appender: Coalescer<Event, StoreResult<Appended>>,
    notify: Arc<watch::Sender<u64>>,
}

/// Appends `events` in one transaction; run by the log's appender only, one at a time.
async fn append(
    pool: &SqlitePool,
    scope: Scope,
    notify: &watch::Sender<u64>,
    events: &[Event],
) -> Vec<StoreResult<Appended>> {
    let result: StoreResult<Vec<StoreResult<Appended>>> = async {
        // IMMEDIATE: take the write lock before reading the last sequence, so a
        // concurrent read-model commit cannot invalidate the read (SQLITE_BUSY_SNAPSHOT).
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE scope = ?")
            .bind(scope.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            // An event that cannot be written fails alone, never as an empty body.
            let body = match event.to_text() {
                Ok(body) => body,
                Err(e) => {
                    out.push(Err(internal(e)));
                    continue;
                }
            };
            let (source, id) = (event.source.to_string(), event.id.to_string());
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM events WHERE scope = ? AND source = ? AND id = ?")
                    .bind(scope.as_str())
                    .bind(&source)
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(seq) = existing {
                out.push(Ok(Appended::Duplicate { seq: seq as u64 }));
                continue;
            }
            last += 1;
            sqlx::query("INSERT INTO events (scope, seq, source, id, body) VALUES (?, ?, ?, ?, ?)")
                .bind(scope.as_str())
                .bind(last)
                .bind(&source)
                .bind(&id)
                .bind(body)
                .execute(&mut *tx)
                .await?;
            out.push(Ok(Appended::Stored { seq: last as u64 }));
        }
        tx.commit().await?;
        notify.send_if_modified(|seq| {
            let moved = *seq != last as u64;
            *seq = last as u64;
            moved
        });
        Ok(out)
    }
    .await;
    match result {
        Ok(out) => out,
        Err(e) => {
            let message = e.to_string();
            events
                .iter()
                .map(|_| {
                    Err(match &e {
                        StoreError::Unavailable(_) => StoreError::Unavailable(message.clone()),
                        _ => StoreError::Internal(message.clone()),
                    })
                })
                .collect()
        }
    }
}

#[async_trait]
impl EventLog for SqliteLog {
    fn scope(&self) -> Scope {
        self.scope
    }

    fn epoch(&self) -> Uuid {
        self.epoch
    }

    async fn append(&self, events: &[Event]) -> Vec<StoreResult<Appended>> {
        match self.appender.get(events.to_vec()).await {
            Ok(appended) => appended,
            Err(e) => events.iter().map(|_| Err(internal(&e))).collect(),
        }
    }

    fn duplicate_window(&self) -> Option<Duration> {
        None // every (source, id) is unique in the table
    }

    async fn read(&self, after: u64, max: usize) -> StoreResult<Vec<LogEntry>> {
        let rows = sqlx::query("SELECT seq, body FROM events WHERE scope = ? AND seq > ? ORDER BY seq LIMIT ?")
            .bind(self.scope.as_str())
            .bind(after as i64)
            .bind(max as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(entry).collect())
    }

    async fn last_seq(&self) -> StoreResult<u64> {
        Ok(*self.notify.borrow())
    }

    async fn probe(&self) -> StoreResult<u64> {
        // Only this process appends to the embedded log: what it notified is the log's end.
        self.last_seq().await
    }

    async fn first_seq(&self) -> StoreResult<u64> {
        Ok(1)
    }

    /// The whole file's size (both scopes share it); no limit but the disk.
    async fn usage(&self) -> StoreResult<Usage> {
        let pages: i64 =
            sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
                .fetch_one(&self.pool)
                .await?;
        Ok(Usage { bytes: pages.max(0) as u64, limit: None })
    }

    fn watch(&self) -> watch::Receiver<u64> {
        self.notify.subscribe()
    }

    async fn registrations(&self, after: u64) -> StoreResult<BoxStream<'static, StoreResult<LogEntry>>> {
        // The stored form is compact JSON (`Event::to_bytes`), so the type attribute reads
        // exactly so; a quote inside a string value would be escaped.
        let (pool, scope, appended) = (self.pool.clone(), self.scope, self.notify.subscribe());
        let batches = futures::stream::try_unfold((after, appended), move |(after, mut appended)| {
            let pool = pool.clone();
            async move {
                loop {
                    let rows = sqlx::query(
                        "SELECT seq, body FROM events WHERE scope = ? AND seq > ? AND body LIKE ? ORDER BY seq LIMIT 1000",
                    )
                    .bind(scope.as_str())
                    .bind(after as i64)
                    .bind(format!("%\"type\":\"{REGISTRATION_TYPE}\"%"))
                    .fetch_all(&pool)
                    .await?;
                    let entries: Vec<LogEntry> = rows.iter().map(entry).collect();
                    if let Some(last) = entries.last() {
                        let next = last.seq;
                        let entries = futures::stream::iter(entries.into_iter().map(Ok::<_, StoreError>));
                        return Ok::<_, StoreError>(Some((entries, (next, appended))));
                    }
                    let seen = *appended.borrow_and_update();
                    if appended.wait_for(|s| *s > seen).await.is_err() {
                        return Ok::<_, StoreError>(None);
                    }
                }
            }
        });
        Ok(batches.try_flatten().boxed())
    }

    async fn read_filtered(&self, filter: Filter<'_>, after: u64, max: usize) -> StoreResult<Vec<LogEntry>> {
        let (condition, value) = match filter {
            // The stored form is compact JSON with the type's family right after its prefix.
            Filter::Family(family) => ("body LIKE ?", format!("%\"type\":\"nl.ghor.{family}.%")),
            Filter::Location(location) => ("source = ?", format!("/locations/{location}")),
        };
        let sql =
            format!("SELECT seq, body FROM events WHERE scope = ? AND seq > ? AND {condition} ORDER BY seq LIMIT ?");
        let rows = sqlx::query(&sql)
            .bind(self.scope.as_str())
            .bind(after as i64)
            .bind(value)
            .bind(max as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(entry).collect())
    }

    async fn newest_registration(&self, location: &Slug) -> StoreResult<Option<u64>> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE scope = ? AND source = ? AND body LIKE ?")
                .bind(self.scope.as_str())
                .bind(format!("/locations/{location}"))
                .bind(format!("%\"type\":\"{REGISTRATION_TYPE}\"%"))
                .fetch_one(&self.pool)
                .await?;
        Ok(seq.map(|s| s as u64))
    }
}

fn entry(row: &sqlx::sqlite::SqliteRow) -> LogEntry {
    let body: String = row.get("body");
    LogEntry { seq: row.get::<i64, _>("seq") as u64, body: body.into(), trace: None }
}

#[async_trait]
impl ReadModel for Embedded {
    async fn location_history(&self, scope: Scope, location: &Slug, limit: usize) -> StoreResult<(u64, Vec<LogEntry>)> {
        // The embedded log is its own archive: it reaches the newest event.
        let mut tx = self.pool.begin().await?;
        let upto: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE scope = ?")
            .bind(scope.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "SELECT seq, body FROM events WHERE scope = ? AND source = ? AND seq <= ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(scope.as_str())
        .bind(format!("/locations/{location}"))
        .bind(upto)
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((upto as u64, rows.iter().map(entry).collect()))
    }

    async fn checkpoint(&self, scope: Scope) -> StoreResult<u64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM checkpoints WHERE scope = ?")
            .bind(scope.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0) as u64)
    }

    async fn commit(&self, scope: Scope, epoch: Uuid, batch: &ProjectionBatch) -> StoreResult<()> {
        let s = scope.as_str();
        // BEGIN IMMEDIATE takes the write lock first: the SQLite form of locking the
        // checkpoint row, so a second projector waits and then finds the checkpoint moved.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM checkpoints WHERE scope = ?").bind(s).fetch_optional(&mut *tx).await?;
        let found = found.unwrap_or(0) as u64;
        if found != batch.after {
            return Err(StoreError::Fenced { expected: batch.after, found });
        }
        let upto = batch.upto as i64;
        for (region, view) in &batch.regions {
            sqlx::query(
                "INSERT INTO read_regions (scope, region, view, seq) VALUES (?, ?, ?, ?)
                 ON CONFLICT (scope, region) DO UPDATE SET view = excluded.view, seq = excluded.seq",
            )
            .bind(s)
            .bind(region.to_string())
            .bind(view.as_str())
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        }
        for (id, region, view) in &batch.locations {
            sqlx::query(
                "INSERT INTO read_locations (scope, location, region, view, seq) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (scope, location) DO UPDATE SET region = excluded.region, view = excluded.view, seq = excluded.seq",
            )
            .bind(s)
            .bind(id.as_str())
            .bind(region.to_string())
            .bind(view.as_str())
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        }
        for q in &batch.quarantined {
            sqlx::query("INSERT INTO quarantine (scope, seq, location, reason, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
                .bind(s)
                .bind(q.seq as i64)
                .bind(q.location.as_ref().map(Slug::as_str))
                .bind(&q.reason)
                .bind(q.body.to_string())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(picture) = &batch.snapshot {
            let json = serde_json::to_string(picture.as_ref()).map_err(internal)?;
            sqlx::query("INSERT OR REPLACE INTO snapshots (scope, epoch, seq, picture) VALUES (?, ?, ?, ?)")
                .bind(s)
                .bind(epoch.to_string())
                .bind(upto)
                .bind(json)
                .execute(&mut *tx)
                .await?;
            // Keep the newest of this epoch. Other epochs' snapshots can never be used again.
            sqlx::query(
                "DELETE FROM snapshots WHERE scope = ?1 AND (epoch <> ?2 OR seq NOT IN
                 (SELECT seq FROM snapshots WHERE scope = ?1 AND epoch = ?2 ORDER BY seq DESC LIMIT ?3))",
            )
            .bind(s)
            .bind(epoch.to_string())
            .bind(SNAPSHOTS_KEPT)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO checkpoints (scope, epoch, seq) VALUES (?, ?, ?)
             ON CONFLICT (scope) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq",
        )
        .bind(s)
        .bind(epoch.to_string())
        .bind(upto)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.fold_wal_back().await;
        Ok(())
    }

    async fn snapshot(&self, scope: Scope, epoch: Uuid, upto: u64) -> StoreResult<Option<(u64, Picture)>> {
        let row = sqlx::query(
            "SELECT seq, picture FROM snapshots WHERE scope = ? AND epoch = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(scope.as_str())
        .bind(epoch.to_string())
        .bind(i64::try_from(upto).unwrap_or(i64::MAX))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let picture: String = row.get("picture");
            let picture: Picture = serde_json::from_str(&picture).map_err(internal)?;
            Ok((row.get::<i64, _>("seq") as u64, picture))
        })
        .transpose()
    }

    async fn region(&self, scope: Scope, region: RegionCode) -> StoreResult<Option<Value>> {
        let view: Option<String> = sqlx::query_scalar("SELECT view FROM read_regions WHERE scope = ? AND region = ?")
            .bind(scope.as_str())
            .bind(region.to_string())
            .fetch_optional(&self.pool)
            .await?;
        view.map(|v| serde_json::from_str(&v).map_err(internal)).transpose()
    }

    async fn location(&self, scope: Scope, id: &Slug) -> StoreResult<Option<Value>> {
        let view: Option<String> =
            sqlx::query_scalar("SELECT view FROM read_locations WHERE scope = ? AND location = ?")
                .bind(scope.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        view.map(|v| serde_json::from_str(&v).map_err(internal)).transpose()
    }

    async fn reset(&self, scope: Scope) -> StoreResult<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        for table in ["read_regions", "read_locations", "quarantine", "snapshots"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE scope = ?")).bind(scope.as_str()).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE checkpoints SET seq = 0 WHERE scope = ?").bind(scope.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_archived(&self, scope: Scope, keys: &[(String, Uuid)]) -> StoreResult<Vec<Option<u64>>> {
        let mut out = Vec::with_capacity(keys.len());
        for (source, id) in keys {
            let seq: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM events WHERE scope = ? AND source = ? AND id = ?")
                    .bind(scope.as_str())
                    .bind(source)
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
            out.push(seq.map(|s| s as u64));
        }
        Ok(out)
    }

    /// The embedded log is its own archive, unique on (scope, source, id).
    async fn archived(&self, scope: Scope, source: &str, id: Uuid) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE scope = ? AND source = ? AND id = ?")
            .bind(scope.as_str())
            .bind(source)
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn quarantine(&self, scope: Scope, limit: usize) -> StoreResult<Vec<Quarantined>> {
        let rows =
            sqlx::query("SELECT seq, location, reason, body FROM quarantine WHERE scope = ? ORDER BY seq DESC LIMIT ?")
                .bind(scope.as_str())
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Quarantined {
                    seq: row.get::<i64, _>("seq") as u64,
                    location: row.get::<Option<String>, _>("location").and_then(|l| Slug::try_from(l).ok()),
                    reason: row.get("reason"),
                    body: serde_json::from_str(&row.get::<String, _>("body")).map_err(internal)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl TokenStore for Embedded {
    async fn insert(&self, info: &TokenInfo, secret_hash: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO tokens (id, hash, info) VALUES (?, ?, ?)")
            .bind(info.id.to_string())
            .bind(secret_hash)
            .bind(serde_json::to_string(info).map_err(internal)?)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn by_hashes(&self, secret_hashes: &[String]) -> StoreResult<Vec<Option<TokenInfo>>> {
        let mut found = Vec::with_capacity(secret_hashes.len());
        for hash in secret_hashes {
            let info: Option<String> = sqlx::query_scalar("SELECT info FROM tokens WHERE hash = ?")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
            found.push(info.map(|i| serde_json::from_str(&i).map_err(internal)).transpose()?);
        }
        Ok(found)
    }

    async fn by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Option<TokenInfo>>> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let info: Option<String> = sqlx::query_scalar("SELECT info FROM tokens WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
            found.push(info.map(|i| serde_json::from_str(&i).map_err(internal)).transpose()?);
        }
        Ok(found)
    }

    async fn list(&self) -> StoreResult<Vec<TokenInfo>> {
        let infos: Vec<String> =
            sqlx::query_scalar("SELECT info FROM tokens ORDER BY id").fetch_all(&self.pool).await?;
        infos.iter().map(|i| serde_json::from_str(i).map_err(internal)).collect()
    }

    async fn revoke(&self, id: Uuid) -> StoreResult<bool> {
        let info: Option<String> = sqlx::query_scalar("SELECT info FROM tokens WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let Some(info) = info else { return Ok(false) };
        let mut info: TokenInfo = serde_json::from_str(&info).map_err(internal)?;
        info.revoked = true;
        sqlx::query("UPDATE tokens SET info = ? WHERE id = ?")
            .bind(serde_json::to_string(&info).map_err(internal)?)
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(true)
    }

    async fn issue_ticket(&self, hash: &str, token: Uuid, expires: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("DELETE FROM tickets WHERE expires < ?").bind(Utc::now()).execute(&self.writer).await?;
        sqlx::query("INSERT INTO tickets (hash, token, expires) VALUES (?, ?, ?)")
            .bind(hash)
            .bind(token.to_string())
            .bind(expires)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn redeem_ticket(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Uuid>> {
        let taken: Option<(String, DateTime<Utc>)> =
            sqlx::query_as("DELETE FROM tickets WHERE hash = ? RETURNING token, expires")
                .bind(hash)
                .fetch_optional(&self.writer)
                .await?;
        let token = taken.filter(|(_, expires)| *expires > now).map(|(token, _)| Uuid::parse_str(&token));
        token.transpose().map_err(internal)
    }
}

#[async_trait]
impl ContactStore for Embedded {
    async fn contacts(&self, scope: Scope, location: &Slug) -> StoreResult<Vec<Contact>> {
        let c: Option<String> = sqlx::query_scalar("SELECT contacts FROM contacts WHERE scope = ? AND location = ?")
            .bind(scope.as_str())
            .bind(location.as_str())
            .fetch_optional(&self.pool)
            .await?;
        c.map_or(Ok(Vec::new()), |c| serde_json::from_str(&c).map_err(internal))
    }

    async fn set_contacts(&self, scope: Scope, location: &Slug, contacts: &[Contact]) -> StoreResult<()> {
        if contacts.is_empty() {
            // Erasure removes the row itself, not just its contents.
            sqlx::query("DELETE FROM contacts WHERE scope = ? AND location = ?")
                .bind(scope.as_str())
                .bind(location.as_str())
                .execute(&self.writer)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO contacts (scope, location, contacts) VALUES (?, ?, ?)
             ON CONFLICT (scope, location) DO UPDATE SET contacts = excluded.contacts",
        )
        .bind(scope.as_str())
        .bind(location.as_str())
        .bind(serde_json::to_string(contacts).map_err(internal)?)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn holding_contacts(&self, scope: Scope) -> StoreResult<Vec<Slug>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT location FROM contacts WHERE scope = ? ORDER BY location")
            .bind(scope.as_str())
            .fetch_all(&self.pool)
            .await?;
        ids.into_iter().map(|id| Slug::try_from(id).map_err(internal)).collect()
    }
}

#[async_trait]
impl NotifyStore for Embedded {
    async fn notifier_checkpoint(&self, scope: Scope) -> StoreResult<Option<(Uuid, u64)>> {
        let row = sqlx::query("SELECT epoch, seq FROM notifier_checkpoints WHERE scope = ?")
            .bind(scope.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let epoch = Uuid::parse_str(r.get::<&str, _>("epoch")).map_err(internal)?;
            Ok((epoch, r.get::<i64, _>("seq") as u64))
        })
        .transpose()
    }

    async fn set_notifier_checkpoint(
        &self,
        scope: Scope,
        epoch: Uuid,
        after: Option<u64>,
        upto: u64,
    ) -> StoreResult<()> {
        let s = scope.as_str();
        let Some(after) = after else {
            sqlx::query(
                "INSERT INTO notifier_checkpoints (scope, epoch, seq) VALUES (?, ?, ?)
                 ON CONFLICT (scope) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq",
            )
            .bind(s)
            .bind(epoch.to_string())
            .bind(upto as i64)
            .execute(&self.writer)
            .await?;
            return Ok(());
        };
        let moved = sqlx::query("UPDATE notifier_checkpoints SET epoch = ?, seq = ? WHERE scope = ? AND seq = ?")
            .bind(epoch.to_string())
            .bind(upto as i64)
            .bind(s)
            .bind(after as i64)
            .execute(&self.writer)
            .await?;
        if moved.rows_affected() == 0 {
            let found = self.notifier_checkpoint(scope).await?.map_or(0, |(_, seq)| seq);
            return Err(StoreError::Fenced { expected: after, found });
        }
        Ok(())
    }

    async fn webhooks(&self, scope: Scope, organisation: &Slug) -> StoreResult<Vec<Webhook>> {
        let w: Option<String> =
            sqlx::query_scalar("SELECT endpoints FROM webhooks WHERE scope = ? AND organisation = ?")
                .bind(scope.as_str())
                .bind(organisation.as_str())
                .fetch_optional(&self.pool)
                .await?;
        w.map_or(Ok(Vec::new()), |w| serde_json::from_str(&w).map_err(internal))
    }

    async fn set_webhooks(&self, scope: Scope, organisation: &Slug, webhooks: &[Webhook]) -> StoreResult<()> {
        if webhooks.is_empty() {
            sqlx::query("DELETE FROM webhooks WHERE scope = ? AND organisation = ?")
                .bind(scope.as_str())
                .bind(organisation.as_str())
                .execute(&self.writer)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO webhooks (scope, organisation, endpoints) VALUES (?, ?, ?)
             ON CONFLICT (scope, organisation) DO UPDATE SET endpoints = excluded.endpoints",
        )
        .bind(scope.as_str())
        .bind(organisation.as_str())
        .bind(serde_json::to_string(webhooks).map_err(internal)?)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
    async fn subscriptions(&self, scope: Scope) -> StoreResult<Vec<Subscription>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body FROM subscriptions WHERE scope = ?")
            .bind(scope.as_str())
            .fetch_all(&self.pool)
            .await?;
        oldest_first(rows)
    }

    async fn subscriptions_of(&self, scope: Scope, owner: Uuid) -> StoreResult<Vec<Subscription>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body FROM subscriptions WHERE scope = ? AND owner = ?")
            .bind(scope.as_str())
            .bind(owner.to_string())
            .fetch_all(&self.pool)
            .await?;
        oldest_first(rows)
    }

    async fn add_subscription(&self, scope: Scope, subscription: &Subscription, max: usize) -> StoreResult<bool> {
        // One statement: the count and the insert cannot be split by another writer.
        let added = sqlx::query(
            "INSERT INTO subscriptions (scope, id, owner, body)
             SELECT ?, ?, ?, ? WHERE (SELECT count(*) FROM subscriptions WHERE scope = ? AND owner = ?) < ?",
        )
        .bind(scope.as_str())
        .bind(subscription.id.to_string())
        .bind(subscription.owner.to_string())
        .bind(serde_json::to_string(subscription).map_err(internal)?)
        .bind(scope.as_str())
        .bind(subscription.owner.to_string())
        .bind(max as i64)
        .execute(&self.writer)
        .await?;
        Ok(added.rows_affected() == 1)
    }

    async fn remove_subscription(&self, scope: Scope, owner: Uuid, id: Uuid) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM subscriptions WHERE scope = ? AND owner = ? AND id = ?")
            .bind(scope.as_str())
            .bind(owner.to_string())
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(removed.rows_affected() == 1)
    }
}

/// Subscriptions as stored, oldest first (then by id).
fn oldest_first(rows: Vec<String>) -> StoreResult<Vec<Subscription>> {
    let mut found: Vec<Subscription> =
        rows.iter().map(|r| serde_json::from_str(r).map_err(internal)).collect::<StoreResult<_>>()?;
    found.sort_by_key(|s| (s.created, s.id));
    Ok(found)
}

#[async_trait]
impl AuditStore for Embedded {
    async fn archived_events(&self, scope: Scope, after: u64, max: usize) -> StoreResult<Vec<(u64, Value)>> {
        let rows = sqlx::query("SELECT seq, body FROM events WHERE scope = ? AND seq > ? ORDER BY seq LIMIT ?")
            .bind(scope.as_str())
            .bind(after as i64)
            .bind(max as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let body = serde_json::from_str(r.get::<&str, _>("body")).map_err(internal)?;
                Ok((r.get::<i64, _>("seq") as u64, body))
            })
            .collect()
    }

    async fn leaf_hashes(&self, scope: Scope) -> StoreResult<Vec<(u64, ghor_domain::merkle::Hash)>> {
        let rows = sqlx::query("SELECT seq, hash FROM audit_leaves WHERE scope = ? ORDER BY seq")
            .bind(scope.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|r| Ok((r.get::<i64, _>("seq") as u64, fixed("leaf hash", r.get("hash"))?))).collect()
    }

    async fn record_tree_head(
        &self,
        scope: Scope,
        leaves: &[(u64, ghor_domain::merkle::Hash)],
        head: &TreeHead,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        for (seq, hash) in leaves {
            sqlx::query("INSERT INTO audit_leaves (scope, seq, hash) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .bind(scope.as_str())
                .bind(*seq as i64)
                .bind(hash.to_vec())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO tree_heads (scope, size, root, time, public_key, signature) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(scope.as_str())
        .bind(head.size as i64)
        .bind(head.root.to_vec())
        .bind(head.time.to_rfc3339())
        .bind(head.public_key.to_vec())
        .bind(&head.signature)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tree_heads(&self, scope: Scope) -> StoreResult<Vec<TreeHead>> {
        let rows =
            sqlx::query("SELECT size, root, time, public_key, signature FROM tree_heads WHERE scope = ? ORDER BY size")
                .bind(scope.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| {
                let time = chrono::DateTime::parse_from_rfc3339(r.get::<&str, _>("time")).map_err(internal)?;
                Ok(TreeHead {
                    size: r.get::<i64, _>("size") as u64,
                    root: fixed("tree root", r.get("root"))?,
                    time: time.into(),
                    public_key: fixed("public key", r.get("public_key"))?,
                    signature: r.get("signature"),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// While the projector commits, the WAL is folded back into the file every second or
    /// so, not only when the writer's backstop of 10,000 pages is reached.
    #[tokio::test]
    async fn the_wal_is_folded_back_after_the_projectors_commits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Embedded::open(dir.path()).await.expect("open");
        let epoch = db.log(Scope::Live).await.expect("log").epoch();
        let file = dir.path().join("ghor.db");
        let size = || std::fs::metadata(&file).map_or(0, |m| m.len());
        let (before, views) = (size(), 2 << 20);
        let region = RegionCode::try_from("VR01").expect("region");
        let batch = |upto, regions| ProjectionBatch { after: upto - 1, upto, regions, ..Default::default() };
        db.commit(Scope::Live, epoch, &batch(1, vec![(region, "x".repeat(views))])).await.expect("commit");

        let deadline = Instant::now() + Duration::from_secs(10);
        let mut upto = 1;
        while size() < before + views as u64 {
            assert!(Instant::now() < deadline, "the views are still only in the WAL after 10 s of commits");
            tokio::time::sleep(Duration::from_millis(50)).await; // a projector's pace
            upto += 1;
            db.commit(Scope::Live, epoch, &batch(upto, Vec::new())).await.expect("commit");
        }
    }
}
