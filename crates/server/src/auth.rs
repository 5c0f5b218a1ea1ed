//! Who is calling (§7; what they may do is [`crate::policy`]'s word): bearer tokens (random, stored hashed,
//! expiring, revocable), short-lived single-use websocket tickets, and per-token rate limits.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ghor_domain::{RegionCode, Role, Scope, Slug};
use ghor_store::{StoreError, StoreResult, TokenInfo, TokenStore};
use governor::clock::Clock as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use uuid::Uuid;

use crate::gateway::visibility::Visibility;
use crate::policy;
use crate::problem::Problem;
use ghor_store::coalesce::Coalescer;

/// Prefix of every secret, so a leaked one is recognisable in logs and scanners.
const SECRET_PREFIX: &str = "ghor_";

/// An authenticated caller: what its token says, nothing more.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: TokenInfo,
}

impl Caller {
    pub fn role(&self) -> Role {
        self.token.role
    }

    /// The regions this caller may see: its own, or all 25.
    pub fn regions(&self) -> Vec<RegionCode> {
        if self.token.regions.is_empty() {
            ghor_domain::values::regions().iter().map(|r| r.code).collect()
        } else {
            self.token.regions.clone()
        }
    }

    /// What of a region's view it sees, as the policy says.
    pub fn visibility(&self) -> Visibility {
        crate::policy::visibility(self)
    }

    pub fn scope(&self) -> Scope {
        self.token.scope
    }

    /// An institution's own system publishing on NATS: the NATS account's permissions
    /// vouch for the organisation in the subject, as a token does over HTTP.
    pub fn system(organisation: &str, scope: Scope) -> Caller {
        let now = Utc::now();
        Caller {
            token: TokenInfo {
                id: Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("nats|{organisation}").as_bytes()),
                name: format!("{organisation} (NATS)"),
                role: Role::Institution,
                regions: Vec::new(),
                organisation: Slug::try_from(organisation).ok(),
                scope,
                created: now,
                expires: now + chrono::Duration::days(1),
                revoked: false,
            },
        }
    }
}

/// What a new token is for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    pub role: Role,
    /// The regions it may act in; none only when `national` says so.
    pub regions: Vec<RegionCode>,
    /// Every region: asked for explicitly, so that a forgotten region never widens a token.
    pub national: bool,
    pub organisation: Option<Slug>,
    pub scope: Scope,
    pub valid_for: chrono::Duration,
}

impl TokenRequest {
    /// Refuses combinations that make no sense, naming the field.
    pub fn check(&self) -> Result<(), ghor_domain::FieldError> {
        use ghor_domain::error::ErrorCode;
        use ghor_domain::FieldError;
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            let e = FieldError::new("name", ErrorCode::TextLength, "give the holder's name, 1 to 100 characters");
            return Err(e.with("min", 1).with("max", 100));
        }
        if self.regions.is_empty() && !self.national {
            return Err(FieldError::new(
                "regions",
                ErrorCode::RegionsRequired,
                "name the regions (VR01 to VR25) this token may act in, or ask for a national token explicitly",
            ));
        }
        if self.national && !self.regions.is_empty() {
            return Err(FieldError::new(
                "national",
                ErrorCode::NationalWithRegions,
                "a national token covers every region; name no regions with it",
            ));
        }
        let for_organisation = policy::acts_for_organisation(self.role);
        if for_organisation && self.organisation.is_none() {
            return Err(FieldError::new(
                "organisation",
                ErrorCode::OrganisationRequired,
                &format!("{} tokens report for one organisation; name it", self.role),
            ));
        }
        if !for_organisation && self.organisation.is_some() {
            return Err(FieldError::new(
                "organisation",
                ErrorCode::OrganisationNotAllowed,
                "only institution tokens belong to an organisation",
            ));
        }
        if let Some(scope) = policy::bound_scope(self.role).filter(|s| *s != self.scope) {
            let reason = format!("{} tokens work in the {scope} scope", self.role);
            return Err(FieldError::new("scope", ErrorCode::ScopeBound, &reason).with("scope", scope.as_str()));
        }
        if self.valid_for <= chrono::Duration::zero() || self.valid_for > chrono::Duration::days(800) {
            let e = FieldError::new("valid_days", ErrorCode::OutOfRange, "a token is valid for 1 to 800 days");
            return Err(e.with("min", 1).with("max", 800));
        }
        Ok(())
    }
}

/// Creates a token; returns the secret (shown once) and what was stored.
pub async fn issue(
    store: &dyn TokenStore,
    request: TokenRequest,
    now: DateTime<Utc>,
) -> Result<(String, TokenInfo), Problem> {
    request.check().map_err(Problem::invalid)?;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
    let info = TokenInfo {
        id: Uuid::new_v4(),
        name: request.name,
        role: request.role,
        regions: request.regions,
        organisation: request.organisation,
        scope: request.scope,
        created: now,
        expires: now + request.valid_for,
        revoked: false,
    };
    store.insert(&info, &hash(&secret)).await?;
    Ok((secret, info))
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Looks tokens up by their secret's hash, concurrent requests together, and remembers
/// the tokens it found: while the token store cannot be reached (PostgreSQL restarting),
/// a token it has seen still admits its holder, so institutions go on reporting into the
/// log. The store is asked first whenever it answers (within half a second, for a token
/// seen before), so a revocation counts at once; and while it is down no token can be
/// revoked anyway. Expiry is checked on every request.
pub struct TokenLookup {
    lookup: Coalescer<String, Option<TokenInfo>>,
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    tokens: HashMap<String, (TokenInfo, Instant)>,
    /// When the store last failed to answer: for a moment after, it is not asked again.
    failed: Option<Instant>,
}

/// Tokens remembered at most (a flood of real tokens forgets the oldest).
const KNOWN_MOST: usize = 100_000;
/// How long after a failure the store is not asked (a cut network would make each request
/// wait for the pool's timeout).
const RETRY_STORE_AFTER: Duration = Duration::from_secs(1);
/// How long a request with a token seen before waits for the store.
const STORE_PATIENCE: Duration = Duration::from_millis(500);

pub fn token_lookup(store: Arc<dyn TokenStore>) -> TokenLookup {
    let lookup = Coalescer::new(move |hashes: Vec<String>| {
        let store = store.clone();
        async move { store.by_hashes(&hashes).await }
    });
    TokenLookup { lookup, known: Mutex::default() }
}

impl TokenLookup {
    /// The token whose secret has this hash, if any.
    pub async fn get(&self, hash: String) -> ghor_store::StoreResult<Option<TokenInfo>> {
        let (remembered, recently_failed) = {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            let remembered = known.tokens.get(&hash).map(|(info, _)| info.clone());
            (remembered, known.failed.is_some_and(|at| at.elapsed() < RETRY_STORE_AFTER))
        };
        if let (Some(info), true) = (&remembered, recently_failed) {
            return Ok(Some(info.clone()));
        }
        let lookup = self.lookup.get(vec![hash.clone()]);
        let found = match &remembered {
            // A database that is restarting can take seconds to refuse; a token seen before
            // does not wait for it.
            Some(_) => tokio::time::timeout(STORE_PATIENCE, lookup)
                .await
                .unwrap_or_else(|_| Err(StoreError::Unavailable("the token store did not answer in time".into()))),
            None => lookup.await,
        }
        .map(|mut found| found.pop().flatten());
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        match found {
            Ok(found) => {
                known.failed = None;
                match &found {
                    Some(info) => {
                        if known.tokens.len() >= KNOWN_MOST {
                            forget_oldest(&mut known.tokens);
                        }
                        known.tokens.insert(hash, (info.clone(), Instant::now()));
                    }
                    None => {
                        known.tokens.remove(&hash);
                    }
                }
                Ok(found)
            }
            Err(e) => {
                if known.failed.is_none() {
                    tracing::warn!(error = %e, "the token store cannot be reached; admitting the tokens seen before");
                }
                known.failed = Some(Instant::now());
                remembered.map(Some).ok_or(e)
            }
        }
    }
}

/// Forgets the older half of the remembered tokens.
fn forget_oldest(tokens: &mut HashMap<String, (TokenInfo, Instant)>) {
    let mut seen: Vec<Instant> = tokens.values().map(|(_, at)| *at).collect();
    seen.sort_unstable();
    let median = seen[seen.len() / 2];
    tokens.retain(|_, (_, at)| *at >= median);
}

/// Checks an `Authorization` header value.
pub async fn authenticate(
    tokens: &TokenLookup,
    authorization: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Caller, Problem> {
    let header = authorization.ok_or_else(|| {
        Problem::unauthorized(
            "Send your token as `Authorization: Bearer <token>`. Ask your GHOR for one if you have none.",
        )
    })?;
    let secret = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|s| s.starts_with(SECRET_PREFIX))
        .ok_or_else(|| Problem::unauthorized("The Authorization header must read `Bearer ghor_…`."))?;
    let info = tokens.get(hash(secret)).await?.ok_or_else(|| {
        Problem::unauthorized("This token is not known. Check that it was copied whole, or ask for a new one.")
    })?;
    if let Some(reason) = invalid(&info, now) {
        return Err(Problem::unauthorized(reason));
    }
    Ok(Caller { token: info })
}

/// Why a token no longer admits its holder (revoked or expired), if it does not.
pub fn invalid(info: &TokenInfo, now: DateTime<Utc>) -> Option<String> {
    if info.revoked {
        return Some("This token has been revoked. Ask your GHOR for a new one.".into());
    }
    if info.expires <= now {
        return Some(format!(
            "This token expired at {}. Ask your GHOR for a new one.",
            info.expires.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    None
}

/// The caller as its token stands in the store now: a ticket is only as good as the token
/// it was taken with, so redeeming one asks the store again. Err: why not, for the client.
pub async fn still_valid(store: &dyn TokenStore, token: Uuid, now: DateTime<Utc>) -> Result<Caller, String> {
    let found = store.by_ids(&[token]).await.map_err(|e| {
        tracing::warn!(error = %e, "cannot check a ticket's token");
        String::from("The token store cannot be reached; try again shortly.")
    })?;
    let info = found.into_iter().next().flatten().ok_or_else(|| String::from("This token no longer exists."))?;
    match invalid(&info, now) {
        Some(reason) => Err(reason),
        None => Ok(Caller { token: info }),
    }
}

/// Single-use websocket tickets: a browser trades its bearer token for one, so that a
/// token never travels in a URL. They are kept (hashed) in the token store, so that any
/// gateway of a deployment takes a ticket another one issued (behind a load balancer the
/// ticket and the websocket seldom reach the same one).
pub struct Tickets {
    store: Arc<dyn TokenStore>,
}

pub const TICKET_LIFETIME: Duration = Duration::from_secs(30);

impl Tickets {
    pub fn new(store: Arc<dyn TokenStore>) -> Tickets {
        Tickets { store }
    }

    pub async fn issue(&self, caller: &Caller) -> StoreResult<String> {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let ticket = hex::encode(bytes);
        let expires = Utc::now() + TICKET_LIFETIME;
        self.store.issue_ticket(&hash(&ticket), caller.token.id, expires).await?;
        Ok(ticket)
    }

    /// The token a ticket was issued for, once, while it has not expired.
    pub async fn redeem(&self, ticket: &str) -> StoreResult<Option<Uuid>> {
        self.store.redeem_ticket(&hash(ticket), Utc::now()).await
    }
}

/// The rate limit per token (governor's GCRA): `rate` requests per second on average,
/// bursts up to `burst`. Counted in tenths of a request, so that a batch item costs a tenth.
/// Tokens not seen for longer than a full burst lasts are forgotten now and then, so the
/// limiter's memory follows the tokens in use, not every token ever seen.
pub struct RateLimiter {
    limiter: governor::DefaultKeyedRateLimiter<Uuid>,
    clock: governor::clock::DefaultClock,
    /// The most one request may cost: a whole burst.
    burst: NonZeroU32,
    /// Decisions since the last clean-up.
    since_clean: AtomicU32,
}

/// Tenths of a request per request.
const TENTHS: f64 = 10.0;
/// Decisions between two clean-ups of forgotten tokens.
const CLEAN_EVERY: u32 = 4096;

/// `requests` in tenths, at least one.
fn cells(requests: f64) -> NonZeroU32 {
    NonZeroU32::new((requests * TENTHS).ceil().clamp(1.0, f64::from(u32::MAX)) as u32).unwrap_or(NonZeroU32::MIN)
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> Self {
        let period = Duration::from_secs_f64(1.0 / (rate.max(0.001) * TENTHS));
        let burst = cells(burst);
        let quota = governor::Quota::with_period(period).unwrap_or(governor::Quota::per_second(NonZeroU32::MAX));
        RateLimiter {
            limiter: governor::RateLimiter::keyed(quota.allow_burst(burst)),
            clock: governor::clock::DefaultClock::default(),
            burst,
            since_clean: AtomicU32::new(0),
        }
    }

    /// Takes `cost` requests' worth (at most a whole burst); on refusal, the seconds to wait.
    pub fn take(&self, token: Uuid, cost: f64) -> Result<(), u64> {
        if self.since_clean.fetch_add(1, Ordering::Relaxed) >= CLEAN_EVERY {
            self.since_clean.store(0, Ordering::Relaxed);
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        match self.limiter.check_key_n(&token, cells(cost).min(self.burst)) {
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now()).as_secs_f64().ceil().max(1.0) as u64),
            _ => Ok(()),
        }
    }

    /// Tokens the limiter holds a state for.
    pub fn tokens(&self) -> usize {
        self.limiter.len()
    }
}

/// How often the tokens of open streams are checked against the token store.
pub const TOKEN_RECHECK: Duration = Duration::from_secs(1);

/// Open websocket connections per token, and the watch on those tokens: once a second one
/// query asks the token store (shared by every process, so a revocation by the CLI or
/// another gateway counts) how they stand, and ends the streams of a token that was
/// revoked, expired or removed.
#[derive(Default)]
pub struct Connections {
    open: Arc<Mutex<Open>>,
}

#[derive(Default)]
struct Open {
    tokens: HashMap<Uuid, Watched>,
    /// Streams open over all tokens.
    total: usize,
    /// Whether a watcher task runs; it stops by itself when no stream is open.
    watching: bool,
}

struct Watched {
    count: usize,
    /// The token as last read from the store.
    info: TokenInfo,
    /// Set to the reason once the token no longer admits its holder.
    ended: watch::Sender<Option<String>>,
}

/// A connection's place: released when dropped; says when its token stopped being valid.
pub struct ConnectionSlot {
    open: Arc<Mutex<Open>>,
    token: Uuid,
    ended: watch::Receiver<Option<String>>,
}

/// Why a stream was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// This token has as many streams open as it may.
    Token,
    /// The server has as many streams open as it takes.
    Server,
}

impl Connections {
    /// Streams open over all tokens.
    pub fn total(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// Takes a connection slot for `token` (at most `per_token` for it, `total` over all)
    /// and keeps its token under watch in `store` while any of its connections is open.
    pub fn acquire(
        &self,
        token: &TokenInfo,
        per_token: usize,
        total: usize,
        store: Arc<dyn TokenStore>,
    ) -> Result<ConnectionSlot, Full> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.total >= total {
            return Err(Full::Server);
        }
        let watched = open.tokens.entry(token.id).or_insert_with(|| Watched {
            count: 0,
            info: token.clone(),
            ended: watch::channel(None).0,
        });
        if watched.count >= per_token {
            return Err(Full::Token);
        }
        watched.count += 1;
        let ended = watched.ended.subscribe();
        open.total += 1;
        if !open.watching {
            open.watching = true;
            // Not kept: the task ends by itself once the last stream has closed, and the
            // next stream starts another.
            tokio::spawn(watch_tokens(self.open.clone(), store));
        }
        Ok(ConnectionSlot { open: self.open.clone(), token: token.id, ended })
    }
}

impl ConnectionSlot {
    /// Resolves, with the reason, once the token no longer admits its holder.
    pub fn ended(&self) -> impl std::future::Future<Output = String> + Send + 'static {
        let mut ended = self.ended.clone();
        async move {
            loop {
                if let Some(reason) = ended.borrow_and_update().clone() {
                    return reason;
                }
                if ended.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }
}

/// Checks the tokens of the open streams once every [`TOKEN_RECHECK`], all in one query;
/// ends when none is open. While the store cannot be reached the streams stay open (a
/// crisis picture should not go dark on a database hiccup) but expiry is still enforced.
async fn watch_tokens(open: Arc<Mutex<Open>>, store: Arc<dyn TokenStore>) {
    let mut tick = tokio::time::interval(TOKEN_RECHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let ids: Vec<Uuid> = {
            let mut open = open.lock().unwrap_or_else(|p| p.into_inner());
            if open.tokens.is_empty() {
                open.watching = false;
                return;
            }
            open.tokens.keys().copied().collect()
        };
        let found = store.by_ids(&ids).await;
        if let Err(e) = &found {
            tracing::warn!(error = %e, "cannot check the tokens of open streams; retrying");
        }
        let now = Utc::now();
        let mut open = open.lock().unwrap_or_else(|p| p.into_inner());
        for (i, id) in ids.iter().enumerate() {
            let Some(watched) = open.tokens.get_mut(id) else { continue };
            let reason = match found.as_ref().map(|f| f.get(i).cloned().flatten()) {
                Ok(None) => Some(String::from("This token no longer exists.")),
                Ok(Some(info)) => {
                    watched.info = info;
                    invalid(&watched.info, now)
                }
                Err(_) => invalid(&watched.info, now),
            };
            if reason.is_some() && watched.ended.borrow().is_none() {
                watched.ended.send_replace(reason);
            }
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(watched) = open.tokens.get_mut(&self.token) {
            watched.count = watched.count.saturating_sub(1);
            if watched.count == 0 {
                open.tokens.remove(&self.token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_its_burst_then_waits_and_a_batch_costs_a_tenth_per_item() {
        let limiter = RateLimiter::new(1.0, 3.0);
        let token = Uuid::new_v4();
        for _ in 0..3 {
            assert_eq!(limiter.take(token, 1.0), Ok(()));
        }
        assert_eq!(limiter.take(token, 1.0), Err(1), "the fourth waits a second");
        assert_eq!(limiter.take(Uuid::new_v4(), 1.0), Ok(()), "another token has its own");

        let batcher = Uuid::new_v4();
        assert_eq!(limiter.take(batcher, 25.0 / 10.0), Ok(()), "25 items cost 2.5 requests");
        assert!(limiter.take(batcher, 1.0).is_err(), "then half a request is left");
        assert!(limiter.take(Uuid::new_v4(), 500.0).is_ok(), "more than a burst costs a burst");
    }

    /// A flood of distinct tokens leaves no trace once each would be back at a full burst.
    #[test]
    fn the_limiter_forgets_tokens_it_no_longer_needs() {
        // A burst refills in a microsecond, so every token is forgotten almost at once.
        let limiter = RateLimiter::new(1e7, 1.0);
        for _ in 0..10_000 {
            limiter.take(Uuid::new_v4(), 1.0).expect("a fresh token passes");
        }
        assert!(limiter.tokens() <= CLEAN_EVERY as usize + 1, "{} held during the flood", limiter.tokens());
        let one = Uuid::new_v4();
        for _ in 0..=CLEAN_EVERY {
            let _ = limiter.take(one, 1.0);
        }
        assert!(limiter.tokens() <= 2, "{} tokens still held", limiter.tokens());
    }
}
