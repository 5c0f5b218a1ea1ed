//! The production read model, token and contact stores on PostgreSQL through sqlx (the
//! production log beside it is NATS JetStream). A projector batch is ONE transaction,
//! fenced by locking its scope's checkpoint row.

use std::collections::HashSet;
use std::hash::Hash;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ghor_domain::{Picture, RegionCode, Scope, Slug};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::ports::*;

/// Connections per process: the projectors (one per scope) plus the gateway's readers.
const MAX_CONNECTIONS: u32 = 16;
/// How long a caller waits for a connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> StoreResult<T> {
    serde_json::from_str(json).map_err(internal)
}

/// The passwords in a `postgres://user:password@host/db?password=...` URL, so no message
/// built from a connection error can repeat them.
fn passwords_of(url: &str) -> Vec<&str> {
    let mut found = Vec::new();
    if let Some((_, rest)) = url.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            found.extend(userinfo.split_once(':').map(|(_, password)| password));
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        found.extend(query.split(['&', '#']).filter_map(|pair| pair.strip_prefix("password=")));
    }
    found.retain(|p| !p.is_empty());
    found
}

/// Where the options point, without the password: `user@host:port/database`.
fn target(options: &PgConnectOptions) -> String {
    let database = options.get_database().map(|d| format!("/{d}")).unwrap_or_default();
    let place = match options.get_socket() {
        Some(socket) => format!("{} (socket {})", options.get_host(), socket.display()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    format!("{}@{place}{database}", options.get_username())
}

/// Keeps the last occurrence per key: one row may be upserted only once per statement.
fn last_per_key<T, K: Hash + Eq>(items: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
    let mut seen = HashSet::with_capacity(items.len());
    let mut out: Vec<&T> = items.iter().rev().filter(|item| seen.insert(key(item))).collect();
    out.reverse();
    out
}

/// The PostgreSQL stores: the read model (views, quarantine, snapshots, archive), tokens
/// and contacts, on one pool.
#[derive(Clone)]
pub struct Postgres {
    pool: PgPool,
}

impl Postgres {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the
    /// schema up to date. Errors name the host, never the password.
    pub async fn connect(url: &str) -> StoreResult<Postgres> {
        let scrub = |message: String| passwords_of(url).into_iter().fold(message, |m, p| m.replace(p, "***"));
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(scrub(format!("invalid PostgreSQL URL: {e}"))))?;
        let target = target(&options);
        // No ping before each use (a round trip per query): a connection the server closed
        // fails its query, is dropped from the pool, and the caller retries as for any
        // store failure.
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| {
                let reason = match e {
                    sqlx::Error::PoolTimedOut => {
                        format!("no connection within {}s (is it running and reachable?)", ACQUIRE_TIMEOUT.as_secs())
                    }
                    e => e.to_string(),
                };
                StoreError::Unavailable(scrub(format!("cannot connect to PostgreSQL at {target}: {reason}")))
            })?;
        // Migrations take an advisory lock: replicas starting together migrate once.
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Internal(scrub(format!("cannot migrate PostgreSQL at {target}: {e}"))))?;
        Ok(Postgres { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl ReadModel for Postgres {
    async fn location_history(&self, scope: Scope, location: &Slug, limit: usize) -> StoreResult<(u64, Vec<LogEntry>)> {
        // The archive reaches the projector's checkpoint (it is written in the same
        // transaction); one snapshot of both.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
        let upto: Option<i64> = sqlx::query_scalar("SELECT seq FROM checkpoints WHERE scope = $1")
            .bind(scope.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, body::text FROM archive WHERE scope = $1 AND source = $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(scope.as_str())
        .bind(format!("/locations/{location}"))
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let entries =
            rows.into_iter().map(|(seq, body)| LogEntry { seq: seq as u64, body: body.into(), trace: None }).collect();
        Ok((upto.unwrap_or(0) as u64, entries))
    }

    async fn checkpoint(&self, scope: Scope) -> StoreResult<u64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM checkpoints WHERE scope = $1")
            .bind(scope.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0) as u64)
    }

    async fn commit(&self, scope: Scope, epoch: Uuid, batch: &ProjectionBatch) -> StoreResult<()> {
        let s = scope.as_str();
        let upto = batch.upto as i64;
        let mut tx = self.pool.begin().await?;

        // Ensure the checkpoint row exists, then lock it: a second projector committing
        // at the same time waits here and then finds the checkpoint moved.
        sqlx::query("INSERT INTO checkpoints (scope, epoch, seq) VALUES ($1, $2, 0) ON CONFLICT (scope) DO NOTHING")
            .bind(s)
            .bind(epoch)
            .execute(&mut *tx)
            .await?;
        let found: i64 = sqlx::query_scalar("SELECT seq FROM checkpoints WHERE scope = $1 FOR UPDATE")
            .bind(s)
            .fetch_one(&mut *tx)
            .await?;
        let found = found as u64;
        if found != batch.after {
            // Nothing of the batch is written; a failed rollback is rolled back by the
            // server when the connection goes, so the fence is what the caller needs.
            let _ = tx.rollback().await;
            return Err(StoreError::Fenced { expected: batch.after, found });
        }

        let regions = last_per_key(&batch.regions, |(region, _)| *region);
        if !regions.is_empty() {
            let codes: Vec<String> = regions.iter().map(|(region, _)| region.to_string()).collect();
            let views: Vec<&str> = regions.iter().map(|(_, view)| view.as_str()).collect();
            sqlx::query(
                "INSERT INTO read_regions (scope, region, view, seq)
                 SELECT $1, r.region, r.view::jsonb, $4 FROM UNNEST($2::text[], $3::text[]) AS r (region, view)
                 ON CONFLICT (scope, region) DO UPDATE SET view = excluded.view, seq = excluded.seq",
            )
            .bind(s)
            .bind(codes)
            .bind(views)
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        }

        let locations = last_per_key(&batch.locations, |(id, _, _)| id.clone());
        if !locations.is_empty() {
            let ids: Vec<&str> = locations.iter().map(|(id, _, _)| id.as_str()).collect();
            let codes: Vec<String> = locations.iter().map(|(_, region, _)| region.to_string()).collect();
            let views: Vec<&str> = locations.iter().map(|(_, _, view)| view.as_str()).collect();
            sqlx::query(
                "INSERT INTO read_locations (scope, location, region, view, seq)
                 SELECT $1, l.location, l.region, l.view::jsonb, $5
                 FROM UNNEST($2::text[], $3::text[], $4::text[]) AS l (location, region, view)
                 ON CONFLICT (scope, location) DO UPDATE
                 SET region = excluded.region, view = excluded.view, seq = excluded.seq",
            )
            .bind(s)
            .bind(ids)
            .bind(codes)
            .bind(views)
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        }

        if !batch.quarantined.is_empty() {
            let q = &batch.quarantined;
            let seqs: Vec<i64> = q.iter().map(|q| q.seq as i64).collect();
            let locations: Vec<Option<&str>> = q.iter().map(|q| q.location.as_ref().map(Slug::as_str)).collect();
            let reasons: Vec<&str> = q.iter().map(|q| q.reason.as_str()).collect();
            let bodies: Vec<String> = q.iter().map(|q| q.body.to_string()).collect();
            sqlx::query(
                "INSERT INTO quarantine (scope, seq, location, reason, body)
                 SELECT $1, q.seq, q.location, q.reason, q.body::jsonb
                 FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[]) AS q (seq, location, reason, body)
                 ON CONFLICT DO NOTHING",
            )
            .bind(s)
            .bind(seqs)
            .bind(locations)
            .bind(reasons)
            .bind(bodies)
            .execute(&mut *tx)
            .await?;
        }

        if !batch.archive.is_empty() {
            let a = &batch.archive;
            let seqs: Vec<i64> = a.iter().map(|a| a.seq as i64).collect();
            let sources: Vec<&str> = a.iter().map(|a| a.source.as_str()).collect();
            let ids: Vec<Uuid> = a.iter().map(|a| a.id).collect();
            let types: Vec<&str> = a.iter().map(|a| a.event_type.as_str()).collect();
            let regions: Vec<String> = a.iter().map(|a| a.region.to_string()).collect();
            let times: Vec<DateTime<Utc>> = a.iter().map(|a| a.time).collect();
            let received: Vec<DateTime<Utc>> = a.iter().map(|a| a.received).collect();
            let bodies: Vec<&str> = a.iter().map(|a| std::str::from_utf8(&a.body).unwrap_or("null")).collect();
            // Unique on (scope, source, id): an event that reached the log twice (in this
            // batch or an earlier one) is archived once, at its first sequence.
            sqlx::query(
                "INSERT INTO archive (scope, seq, source, id, type, region, time, received, body)
                 SELECT $1, a.seq, a.source, a.id, a.type, a.region, a.time, a.received, a.body::jsonb
                 FROM UNNEST($2::bigint[], $3::text[], $4::uuid[], $5::text[], $6::text[],
                             $7::timestamptz[], $8::timestamptz[], $9::text[])
                      AS a (seq, source, id, type, region, time, received, body)
                 ORDER BY a.seq
                 ON CONFLICT (scope, source, id) DO NOTHING",
            )
            .bind(s)
            .bind(seqs)
            .bind(sources)
            .bind(ids)
            .bind(types)
            .bind(regions)
            .bind(times)
            .bind(received)
            .bind(bodies)
            .execute(&mut *tx)
            .await?;
        }

        if let Some(picture) = &batch.snapshot {
            let json = serde_json::to_string(picture.as_ref()).map_err(internal)?;
            sqlx::query(
                "INSERT INTO snapshots (scope, epoch, seq, picture) VALUES ($1, $2, $3, $4::jsonb)
                 ON CONFLICT (scope, epoch, seq) DO UPDATE SET picture = excluded.picture",
            )
            .bind(s)
            .bind(epoch)
            .bind(upto)
            .bind(json)
            .execute(&mut *tx)
            .await?;
            // Keep the newest of this epoch. Snapshots of another epoch can never be
            // started from again (sequences are only comparable within one epoch), and
            // ranking them by sequence beside this epoch's would prune the wrong ones.
            sqlx::query(
                "DELETE FROM snapshots WHERE scope = $1 AND (epoch <> $2 OR seq NOT IN
                 (SELECT seq FROM snapshots WHERE scope = $1 AND epoch = $2 ORDER BY seq DESC LIMIT $3))",
            )
            .bind(s)
            .bind(epoch)
            .bind(SNAPSHOTS_KEPT)
            .execute(&mut *tx)
            .await?;
        }

        sqlx::query("UPDATE checkpoints SET epoch = $2, seq = $3 WHERE scope = $1")
            .bind(s)
            .bind(epoch)
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn snapshot(&self, scope: Scope, epoch: Uuid, upto: u64) -> StoreResult<Option<(u64, Picture)>> {
        let row = sqlx::query(
            "SELECT seq, picture::text AS picture FROM snapshots WHERE scope = $1 AND epoch = $2 AND seq <= $3
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(scope.as_str())
        .bind(epoch)
        .bind(i64::try_from(upto).unwrap_or(i64::MAX))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((row.get::<i64, _>("seq") as u64, parse(row.get::<&str, _>("picture"))?))).transpose()
    }

    async fn region(&self, scope: Scope, region: RegionCode) -> StoreResult<Option<Value>> {
        let view: Option<String> =
            sqlx::query_scalar("SELECT view::text FROM read_regions WHERE scope = $1 AND region = $2")
                .bind(scope.as_str())
                .bind(region.to_string())
                .fetch_optional(&self.pool)
                .await?;
        view.map(|v| parse(&v)).transpose()
    }

    async fn location(&self, scope: Scope, id: &Slug) -> StoreResult<Option<Value>> {
        let view: Option<String> =
            sqlx::query_scalar("SELECT view::text FROM read_locations WHERE scope = $1 AND location = $2")
                .bind(scope.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        view.map(|v| parse(&v)).transpose()
    }

    async fn quarantine(&self, scope: Scope, limit: usize) -> StoreResult<Vec<Quarantined>> {
        let rows = sqlx::query(
            "SELECT seq, location, reason, body::text AS body FROM quarantine WHERE scope = $1
             ORDER BY seq DESC LIMIT $2",
        )
        .bind(scope.as_str())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Quarantined {
                    seq: row.get::<i64, _>("seq") as u64,
                    location: row.get::<Option<String>, _>("location").and_then(|l| Slug::try_from(l).ok()),
                    reason: row.get("reason"),
                    body: parse(row.get::<&str, _>("body"))?,
                })
            })
            .collect()
    }

    async fn reset(&self, scope: Scope) -> StoreResult<()> {
        let s = scope.as_str();
        let mut tx = self.pool.begin().await?;
        // Lock the checkpoint first, as a commit does: a projector committing now either
        // finishes before the reset or waits and then finds the checkpoint at 0.
        sqlx::query("SELECT seq FROM checkpoints WHERE scope = $1 FOR UPDATE").bind(s).fetch_optional(&mut *tx).await?;
        for table in ["read_regions", "read_locations", "quarantine", "snapshots", "archive"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE scope = $1")).bind(s).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE checkpoints SET seq = 0 WHERE scope = $1").bind(s).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_archived(&self, scope: Scope, keys: &[(String, Uuid)]) -> StoreResult<Vec<Option<u64>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let (sources, ids): (Vec<String>, Vec<Uuid>) = keys.iter().cloned().unzip();
        let rows: Vec<(String, Uuid, i64)> = sqlx::query_as(
            "SELECT a.source, a.id, a.seq FROM archive a
             JOIN UNNEST($2::text[], $3::uuid[]) AS k(source, id) ON a.source = k.source AND a.id = k.id
             WHERE a.scope = $1",
        )
        .bind(scope.as_str())
        .bind(&sources)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let found: std::collections::HashMap<(String, Uuid), u64> =
            rows.into_iter().map(|(s, i, q)| ((s, i), q as u64)).collect();
        Ok(keys.iter().map(|k| found.get(k).copied()).collect())
    }

    async fn archived(&self, scope: Scope, source: &str, id: Uuid) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM archive WHERE scope = $1 AND source = $2 AND id = $3")
            .bind(scope.as_str())
            .bind(source)
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }
}

#[async_trait]
impl TokenStore for Postgres {
    async fn insert(&self, info: &TokenInfo, secret_hash: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO tokens (id, hash, info) VALUES ($1, $2, $3::jsonb)")
            .bind(info.id)
            .bind(secret_hash)
            .bind(serde_json::to_string(info).map_err(internal)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn by_hashes(&self, secret_hashes: &[String]) -> StoreResult<Vec<Option<TokenInfo>>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT hash, info::text FROM tokens WHERE hash = ANY($1)")
            .bind(secret_hashes)
            .fetch_all(&self.pool)
            .await?;
        let found: std::collections::HashMap<String, String> = rows.into_iter().collect();
        secret_hashes.iter().map(|hash| found.get(hash).map(|i| parse(i)).transpose()).collect()
    }

    async fn by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Option<TokenInfo>>> {
        let rows: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, info::text FROM tokens WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        let found: std::collections::HashMap<Uuid, String> = rows.into_iter().collect();
        ids.iter().map(|id| found.get(id).map(|i| parse(i)).transpose()).collect()
    }

    async fn list(&self) -> StoreResult<Vec<TokenInfo>> {
        let infos: Vec<String> =
            sqlx::query_scalar("SELECT info::text FROM tokens ORDER BY id").fetch_all(&self.pool).await?;
        infos.iter().map(|i| parse(i)).collect()
    }

    async fn revoke(&self, id: Uuid) -> StoreResult<bool> {
        // Read, change and write back under a row lock, so a concurrent revoke or edit
        // cannot be lost; the JSON is changed through the type, not by field name.
        let mut tx = self.pool.begin().await?;
        let info: Option<String> = sqlx::query_scalar("SELECT info::text FROM tokens WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(info) = info else { return Ok(false) };
        let mut info: TokenInfo = parse(&info)?;
        info.revoked = true;
        sqlx::query("UPDATE tokens SET info = $2::jsonb WHERE id = $1")
            .bind(id)
            .bind(serde_json::to_string(&info).map_err(internal)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn issue_ticket(&self, hash: &str, token: Uuid, expires: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("DELETE FROM tickets WHERE expires < now()").execute(&self.pool).await?;
        sqlx::query("INSERT INTO tickets (hash, token, expires) VALUES ($1, $2, $3)")
            .bind(hash)
            .bind(token)
            .bind(expires)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn redeem_ticket(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Uuid>> {
        let taken: Option<(Uuid, DateTime<Utc>)> =
            sqlx::query_as("DELETE FROM tickets WHERE hash = $1 RETURNING token, expires")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(taken.filter(|(_, expires)| *expires > now).map(|(token, _)| token))
    }
}

#[async_trait]
impl ContactStore for Postgres {
    async fn contacts(&self, scope: Scope, location: &Slug) -> StoreResult<Vec<Contact>> {
        let c: Option<String> =
            sqlx::query_scalar("SELECT contacts::text FROM contacts WHERE scope = $1 AND location = $2")
                .bind(scope.as_str())
                .bind(location.as_str())
                .fetch_optional(&self.pool)
                .await?;
        c.map_or(Ok(Vec::new()), |c| parse(&c))
    }

    async fn set_contacts(&self, scope: Scope, location: &Slug, contacts: &[Contact]) -> StoreResult<()> {
        if contacts.is_empty() {
            // Erasure removes the row itself, not just its contents.
            sqlx::query("DELETE FROM contacts WHERE scope = $1 AND location = $2")
                .bind(scope.as_str())
                .bind(location.as_str())
                .execute(&self.pool)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO contacts (scope, location, contacts) VALUES ($1, $2, $3::jsonb)
             ON CONFLICT (scope, location) DO UPDATE SET contacts = excluded.contacts",
        )
        .bind(scope.as_str())
        .bind(location.as_str())
        .bind(serde_json::to_string(contacts).map_err(internal)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn holding_contacts(&self, scope: Scope) -> StoreResult<Vec<Slug>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT location FROM contacts WHERE scope = $1 ORDER BY location")
            .bind(scope.as_str())
            .fetch_all(&self.pool)
            .await?;
        ids.into_iter().map(|id| Slug::try_from(id).map_err(internal)).collect()
    }
}

#[async_trait]
impl NotifyStore for Postgres {
    async fn notifier_checkpoint(&self, scope: Scope) -> StoreResult<Option<(Uuid, u64)>> {
        let row = sqlx::query("SELECT epoch, seq FROM notifier_checkpoints WHERE scope = $1")
            .bind(scope.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get::<Uuid, _>("epoch"), r.get::<i64, _>("seq") as u64)))
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
                "INSERT INTO notifier_checkpoints (scope, epoch, seq) VALUES ($1, $2, $3)
                 ON CONFLICT (scope) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq",
            )
            .bind(s)
            .bind(epoch)
            .bind(upto as i64)
            .execute(&self.pool)
            .await?;
            return Ok(());
        };
        let moved = sqlx::query("UPDATE notifier_checkpoints SET epoch = $2, seq = $3 WHERE scope = $1 AND seq = $4")
            .bind(s)
            .bind(epoch)
            .bind(upto as i64)
            .bind(after as i64)
            .execute(&self.pool)
            .await?;
        if moved.rows_affected() == 0 {
            let found = self.notifier_checkpoint(scope).await?.map_or(0, |(_, seq)| seq);
            return Err(StoreError::Fenced { expected: after, found });
        }
        Ok(())
    }

    async fn webhooks(&self, scope: Scope, organisation: &Slug) -> StoreResult<Vec<Webhook>> {
        let w: Option<String> =
            sqlx::query_scalar("SELECT endpoints::text FROM webhooks WHERE scope = $1 AND organisation = $2")
                .bind(scope.as_str())
                .bind(organisation.as_str())
                .fetch_optional(&self.pool)
                .await?;
        w.map_or(Ok(Vec::new()), |w| parse(&w))
    }

    async fn set_webhooks(&self, scope: Scope, organisation: &Slug, webhooks: &[Webhook]) -> StoreResult<()> {
        if webhooks.is_empty() {
            sqlx::query("DELETE FROM webhooks WHERE scope = $1 AND organisation = $2")
                .bind(scope.as_str())
                .bind(organisation.as_str())
                .execute(&self.pool)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO webhooks (scope, organisation, endpoints) VALUES ($1, $2, $3::jsonb)
             ON CONFLICT (scope, organisation) DO UPDATE SET endpoints = excluded.endpoints",
        )
        .bind(scope.as_str())
        .bind(organisation.as_str())
        .bind(serde_json::to_string(webhooks).map_err(internal)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
    async fn subscriptions(&self, scope: Scope) -> StoreResult<Vec<Subscription>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body::text FROM subscriptions WHERE scope = $1")
            .bind(scope.as_str())
            .fetch_all(&self.pool)
            .await?;
        oldest_first(rows)
    }

    async fn subscriptions_of(&self, scope: Scope, owner: Uuid) -> StoreResult<Vec<Subscription>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT body::text FROM subscriptions WHERE scope = $1 AND owner = $2")
                .bind(scope.as_str())
                .bind(owner)
                .fetch_all(&self.pool)
                .await?;
        oldest_first(rows)
    }

    async fn add_subscription(&self, scope: Scope, subscription: &Subscription, max: usize) -> StoreResult<bool> {
        // The owner's other subscriptions are locked while counted, so two at once cannot
        // both pass the limit.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("subscriptions|{}|{}", scope.as_str(), subscription.owner))
            .execute(&mut *tx)
            .await?;
        let held: i64 = sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE scope = $1 AND owner = $2")
            .bind(scope.as_str())
            .bind(subscription.owner)
            .fetch_one(&mut *tx)
            .await?;
        if held >= max as i64 {
            return Ok(false);
        }
        sqlx::query("INSERT INTO subscriptions (scope, id, owner, body) VALUES ($1, $2, $3, $4::jsonb)")
            .bind(scope.as_str())
            .bind(subscription.id)
            .bind(subscription.owner)
            .bind(serde_json::to_string(subscription).map_err(internal)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn remove_subscription(&self, scope: Scope, owner: Uuid, id: Uuid) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM subscriptions WHERE scope = $1 AND owner = $2 AND id = $3")
            .bind(scope.as_str())
            .bind(owner)
            .bind(id)
            .execute(&self.pool)
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
impl AuditStore for Postgres {
    async fn archived_events(&self, scope: Scope, after: u64, max: usize) -> StoreResult<Vec<(u64, Value)>> {
        let rows = sqlx::query(
            "SELECT seq, body::text AS body FROM archive WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(scope.as_str())
        .bind(after as i64)
        .bind(max as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.get::<i64, _>("seq") as u64, parse(r.get::<&str, _>("body"))?))).collect()
    }

    async fn leaf_hashes(&self, scope: Scope) -> StoreResult<Vec<(u64, ghor_domain::merkle::Hash)>> {
        let rows = sqlx::query("SELECT seq, hash FROM audit_leaves WHERE scope = $1 ORDER BY seq")
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
        let mut tx = self.pool.begin().await?;
        for chunk in leaves.chunks(10_000) {
            let seqs: Vec<i64> = chunk.iter().map(|(seq, _)| *seq as i64).collect();
            let hashes: Vec<Vec<u8>> = chunk.iter().map(|(_, hash)| hash.to_vec()).collect();
            sqlx::query(
                "INSERT INTO audit_leaves (scope, seq, hash) SELECT $1, * FROM UNNEST($2::bigint[], $3::bytea[])
                 ON CONFLICT DO NOTHING",
            )
            .bind(scope.as_str())
            .bind(seqs)
            .bind(hashes)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO tree_heads (scope, size, root, time, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING",
        )
        .bind(scope.as_str())
        .bind(head.size as i64)
        .bind(head.root.to_vec())
        .bind(head.time)
        .bind(head.public_key.to_vec())
        .bind(&head.signature)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tree_heads(&self, scope: Scope) -> StoreResult<Vec<TreeHead>> {
        let rows = sqlx::query(
            "SELECT size, root, time, public_key, signature FROM tree_heads WHERE scope = $1 ORDER BY size",
        )
        .bind(scope.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(TreeHead {
                    size: r.get::<i64, _>("size") as u64,
                    root: fixed("tree root", r.get("root"))?,
                    time: r.get("time"),
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

    #[test]
    fn finds_the_passwords_to_hide() {
        assert_eq!(passwords_of("postgres://ghor:s3cret@db.example:5432/ghor"), vec!["s3cret"]);
        assert_eq!(passwords_of("postgres://ghor:p@ss@db.example/ghor"), vec!["p@ss"]);
        assert_eq!(passwords_of("postgres://db.example/ghor?user=x&password=hush"), vec!["hush"]);
        assert!(passwords_of("postgres://ghor@db.example/ghor").is_empty());
        assert!(passwords_of("not a url").is_empty());
    }

    #[test]
    fn keeps_the_last_view_per_key() {
        let items = [("a", 1), ("b", 2), ("a", 3)];
        let kept: Vec<_> = last_per_key(&items, |(k, _)| *k).into_iter().copied().collect();
        assert_eq!(kept, vec![("b", 2), ("a", 3)]);
    }
}
