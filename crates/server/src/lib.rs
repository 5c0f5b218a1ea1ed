//! ghor's running parts, wired by the one `ghor` binary. The modules follow the data's
//! way through the system: ingest → the log (`ghor_store`) → [`reader`] → projector and
//! gateway → web.
//!
//! # Layout
//! - [`ingest`]: validate, authorise, stamp and append: the only writer of the log; also
//!   what institution systems publish on NATS ([`ingest::intake`]) and the registrations
//!   ingest checks reports against ([`ingest::registrations`]).
//! - [`reader`]: reading the log ahead of a fold, from the point every folder starts at.
//! - [`projector`]: fold the log into the read model, fenced on its checkpoint.
//! - [`gateway`]: fold the log in memory and stream snapshot + chained deltas.
//! - [`web`]: the axum edge: API, websocket, the live page.
//! - [`report`]: documents made from the picture (the beeld) as HTML, PDF and Markdown.
//! - [`notify`]: the notifier: from its own checkpoint, events → email and signed
//!   webhooks, outcomes written back as events.
//! - [`scheduler`]: what ghor writes itself (default thresholds, overdue reports,
//!   reminder rounds of uitvragen).
//! - [`supervise`]: every long-running task held, watched and restarted with backoff.
//! - [`policy`]: who may do what (§7), the one place that says so.
//! - [`contract`]: the contracts as documents (`proto/`): schemas, OpenAPI, AsyncAPI.
//! - [`auth`], [`problem`], [`metrics`], [`shutdown`], [`coalesce`]: plumbing.

pub mod exchange;
pub mod gateway;
pub mod ingest;
pub mod notify;
pub mod projector;
pub mod reader;
pub mod report;
pub mod web;

pub mod audit;
pub mod auth;
pub mod contract;
pub mod metrics;
pub mod policy;
pub mod problem;
pub mod scheduler;
pub mod security;
pub mod shutdown;
pub mod supervise;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ghor_domain::Scope;
use ghor_store::nats::{Intake, IntakeSettings, NatsLog, StreamSettings};
use ghor_store::postgres::Postgres;
use ghor_store::{AuditStore, ContactStore, Embedded, EventLog, NotifyStore, ReadModel, StoreError, TokenStore};
use tokio::net::TcpListener;

use crate::gateway::Gateway;
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::supervise::Tasks;
use crate::web::AppState;

/// The ports a running ghor uses: one log per scope and the stores.
#[derive(Clone)]
pub struct Backbone {
    pub logs: BTreeMap<Scope, Arc<dyn EventLog>>,
    pub read_model: Arc<dyn ReadModel>,
    pub tokens: Arc<dyn TokenStore>,
    pub contacts: Arc<dyn ContactStore>,
    /// The notifier's cursor and the webhook endpoints of organisations.
    pub notify: Arc<dyn NotifyStore>,
    /// Intake streams of institution systems publishing on NATS (production only).
    pub intakes: BTreeMap<Scope, Arc<Intake>>,
    /// The leaf hashes and signed tree heads over the log (tamper evidence).
    pub audit: Arc<dyn AuditStore>,
}

impl Backbone {
    /// The embedded default: everything in `dir/ghor.db`.
    pub async fn embedded(dir: &Path) -> anyhow::Result<Backbone> {
        let db = Embedded::open(dir).await?;
        let mut logs: BTreeMap<Scope, Arc<dyn EventLog>> = BTreeMap::new();
        for scope in Scope::ALL {
            logs.insert(*scope, db.log(*scope).await?);
        }
        Ok(Backbone::on(logs, Arc::new(db), BTreeMap::new()))
    }

    /// The production backbone: JetStream streams as the logs, PostgreSQL for the rest.
    pub async fn production(
        nats_url: &str,
        database_url: &str,
        streams: &StreamSettings,
        intake: &IntakeSettings,
    ) -> anyhow::Result<Backbone> {
        let client = ghor_store::nats::connect(nats_url).await?;
        let mut logs: BTreeMap<Scope, Arc<dyn EventLog>> = BTreeMap::new();
        let mut intakes = BTreeMap::new();
        for scope in Scope::ALL {
            logs.insert(*scope, NatsLog::open(client.clone(), *scope, streams).await?);
            // Institutions report to their region; the national level takes no intake.
            if streams.sourced_from.is_empty() {
                intakes.insert(*scope, Arc::new(Intake::open(client.clone(), *scope, intake).await?));
            }
        }
        Ok(Backbone::on(logs, Arc::new(Postgres::connect(database_url).await?), intakes))
    }

    /// These logs, with one database for every other store.
    fn on<D>(logs: BTreeMap<Scope, Arc<dyn EventLog>>, db: Arc<D>, intakes: BTreeMap<Scope, Arc<Intake>>) -> Backbone
    where
        D: ReadModel + TokenStore + ContactStore + NotifyStore + AuditStore,
    {
        Backbone {
            logs,
            read_model: db.clone(),
            tokens: db.clone(),
            contacts: db.clone(),
            notify: db.clone(),
            audit: db,
            intakes,
        }
    }
}

/// Which parts of ghor a process runs; `serve` runs them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// Takes events over HTTP (and from the intake streams) and appends them.
    pub ingest: bool,
    /// Serves the picture: reads, the websocket stream, the page, tokens and contacts.
    pub gateway: bool,
    /// Folds the log into the read model.
    pub projector: bool,
    /// Sends the notifications the log calls for.
    pub notifier: bool,
}

impl Roles {
    pub const ALL: Roles = Roles { ingest: true, gateway: true, projector: true, notifier: true };
    pub const NONE: Roles = Roles { ingest: false, gateway: false, projector: false, notifier: false };
}

/// Limits on everything a caller can send.
#[derive(Debug, Clone)]
pub struct Limits {
    pub body_bytes: usize,
    pub batch_bytes: usize,
    pub batch_items: usize,
    pub rate_per_second: f64,
    pub rate_burst: f64,
    pub websockets_per_token: usize,
    /// Streams open at once over all tokens; more are refused with 503 and Retry-After.
    pub connections: usize,
    /// How long a request's body may take to arrive whole.
    pub body_read: Duration,
    /// How long a client may take to send a request's headers, and how long a connection may
    /// sit idle between requests.
    pub header_read: Duration,
}

impl Limits {
    /// Connections open at once for plain requests (a stream, once upgraded, counts under
    /// [`Limits::connections`] alone): as many as streams, and 1,024 more.
    pub fn tcp_connections(&self) -> usize {
        self.connections + 1024
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 64 * 1024,
            batch_bytes: 1024 * 1024,
            batch_items: 500,
            rate_per_second: 50.0,
            rate_burst: 200.0,
            websockets_per_token: 8,
            connections: 10_000,
            body_read: Duration::from_secs(30),
            header_read: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: Limits,
    /// How often the overdue scheduler looks.
    pub overdue_every: Duration,
    /// Events between projector snapshots.
    pub snapshot_every: u64,
    pub roles: Roles,
    /// Test-only switches that break parts on purpose (`POST /v1/faults/...`, admin only).
    pub fault_injection: bool,
    /// How the notifier sends (when this process runs it).
    pub notify: notify::NotifySettings,
    /// The audit key and how often a tree head is signed (where the projector runs); none:
    /// no tree heads.
    pub tree_heads: Option<(audit::AuditKey, Duration)>,
    /// The identity provider people sign in with (where the gateway runs); none: tokens only.
    pub oidc: Option<web::signin::OidcSettings>,
    /// Where `/metrics` is served apart from the public port; none: on the public port.
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limits: Limits::default(),
            overdue_every: Duration::from_secs(60),
            snapshot_every: 10_000,
            roles: Roles::ALL,
            fault_injection: false,
            notify: notify::NotifySettings::default(),
            tree_heads: None,
            oidc: None,
            metrics_listen: None,
        }
    }
}

/// A started server: where it listens, its state and its supervised tasks (for the binary
/// and the tests).
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when apart from `addr`.
    pub metrics_addr: Option<SocketAddr>,
    pub state: Arc<AppState>,
    pub tasks: Tasks,
    http: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// After shutdown was triggered: waits, at most `within`, for the HTTP server to finish
    /// the requests in flight (appends included), for websocket sessions to send their
    /// close frames, and for every task to stop. Returns what was still running then.
    pub async fn stopped(self, within: Duration) -> Vec<&'static str> {
        let deadline = tokio::time::Instant::now() + within;
        let mut late = Vec::new();
        if tokio::time::timeout_at(deadline, futures::future::join_all(self.http)).await.is_err() {
            late.push("http");
        }
        self.state.sessions.close();
        if tokio::time::timeout_at(deadline, self.state.sessions.wait()).await.is_err() {
            late.push("websocket sessions");
        }
        late.extend(self.tasks.join(deadline.saturating_duration_since(tokio::time::Instant::now())).await);
        late
    }
}

/// How long a starting process waits for its log to take the default thresholds.
const SEED_PATIENCE: Duration = Duration::from_secs(60);

/// Seeds the default thresholds, waiting out a log that does not answer yet (a stream
/// electing its leader while the cluster starts, or after a node was lost) instead of
/// exiting; safe to repeat, since it writes only what the log does not hold yet.
async fn seed_patiently(log: &dyn EventLog) -> Result<usize, StoreError> {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        match scheduler::seed_thresholds(log).await {
            Err(StoreError::Unavailable(e)) if started.elapsed() < SEED_PATIENCE => {
                tracing::warn!(scope = %log.scope(), error = %e, "the log does not take the default thresholds yet; trying again in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            seeded => return seeded,
        }
    }
}

/// Connections open at once on the metrics address: a few scrapers.
const METRICS_CONNECTIONS: usize = 64;

/// Starts the parts `settings.roles` names, for every scope, and the HTTP server on
/// `listener`, until `shutdown`. A gateway folds the whole log (and runs the overdue
/// scheduler, which decides from the whole picture); ingest without a gateway folds the
/// registrations alone. Every long-running task is supervised.
pub async fn serve(
    listener: TcpListener,
    backbone: Backbone,
    settings: Settings,
    shutdown: Shutdown,
) -> anyhow::Result<Running> {
    let roles = settings.roles;
    let metrics = Metrics::new();
    let tasks = Tasks::new(metrics.task_restarts.clone(), shutdown.clone());
    let mut gateways = BTreeMap::new();
    let mut registries: BTreeMap<Scope, Arc<dyn ingest::registrations::Registrations>> = BTreeMap::new();
    for (scope, log) in &backbone.logs {
        // The national level's log is fed by the regions' logs: they seed and decide what is
        // overdue (and notify: `ghor national` runs no notifier); it folds and serves.
        let national = !log.sourced_from().is_empty();
        if roles.ingest && !national {
            seed_patiently(&**log).await?;
        }
        if roles.projector {
            let (l, read_model, every, stop) =
                (log.clone(), backbone.read_model.clone(), settings.snapshot_every, shutdown.clone());
            tasks.spawn("projector", move || projector::run(l.clone(), read_model.clone(), every, stop.clone()));
            if let Some((key, every)) = &settings.tree_heads {
                let (scope, log, store, key, every, stop) =
                    (*scope, log.clone(), backbone.audit.clone(), key.clone(), *every, shutdown.clone());
                tasks.spawn("tree_heads", move || {
                    audit::sign_heads(scope, log.clone(), store.clone(), key.clone(), every, stop.clone())
                });
            }
        }
        if roles.notifier {
            let notifier = Arc::new(notify::Notifier::new(
                log.clone(),
                backbone.read_model.clone(),
                backbone.contacts.clone(),
                backbone.notify.clone(),
                backbone.tokens.clone(),
                settings.notify.clone(),
                metrics.notifications.clone(),
            )?);
            let stop = shutdown.clone();
            tasks.spawn("notifier", move || notifier.clone().run(stop.clone()));
        }
        if roles.gateway {
            let (read_model, pushes) = (backbone.read_model.clone(), metrics.clone());
            let gateway = Gateway::start(log.clone(), read_model, &tasks, pushes, shutdown.clone()).await?;
            if !national {
                // The scheduler decides from the whole picture, which the gateway holds.
                let (g, l, every, stop) = (gateway.clone(), log.clone(), settings.overdue_every, shutdown.clone());
                tasks.spawn("overdue_scheduler", move || scheduler::overdue(g.clone(), l.clone(), every, stop.clone()));
            }
            registries.insert(*scope, gateway.clone());
            gateways.insert(*scope, gateway);
        } else if roles.ingest {
            let registry = ingest::registrations::RegistrationFold::start(
                log.clone(),
                backbone.read_model.clone(),
                &tasks,
                shutdown.clone(),
            )
            .await?;
            registries.insert(*scope, registry);
        }
    }
    let ingest =
        Arc::new(ingest::Ingest::new(backbone.logs.clone(), registries, backbone.read_model.clone(), metrics.clone()));
    if roles.ingest {
        for (scope, intake) in &backbone.intakes {
            let (ingest, intake, scope, stop) = (ingest.clone(), intake.clone(), *scope, shutdown.clone());
            tasks.spawn("intake", move || ingest::intake::run(ingest.clone(), intake.clone(), scope, stop.clone()));
        }
    }
    let signin = match settings.oidc {
        Some(oidc) if roles.gateway => Some(web::signin::SignIn::new(oidc, &settings.notify.public_url)?),
        _ => None,
    };
    let state = Arc::new(AppState {
        tasks: tasks.clone(),
        ingest,
        tokens: auth::token_lookup(backbone.tokens.clone()),
        tickets: auth::Tickets::new(backbone.tokens.clone()),
        backbone,
        gateways,
        rate: auth::RateLimiter::new(settings.limits.rate_per_second, settings.limits.rate_burst),
        connections: Default::default(),
        sessions: Default::default(),
        limits: settings.limits,
        metrics,
        shutdown: shutdown.clone(),
        signin,
    });
    let addr = listener.local_addr()?;
    let metrics_listener = match settings.metrics_listen {
        Some(at) => Some(TcpListener::bind(at).await.with_context(|| format!("cannot serve metrics on {at}"))?),
        None => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(TcpListener::local_addr).transpose()?;
    let app = web::router(state.clone(), roles, settings.fault_injection, metrics_addr.is_none());
    let mut http = vec![tokio::spawn(web::listen::serve(
        listener,
        app,
        state.limits.tcp_connections(),
        state.limits.header_read,
        shutdown.clone(),
    ))];
    if let Some(listener) = metrics_listener {
        let scrapes = web::metrics_router(state.clone());
        http.push(tokio::spawn(web::listen::serve(
            listener,
            scrapes,
            METRICS_CONNECTIONS,
            state.limits.header_read,
            shutdown,
        )));
    }
    Ok(Running { addr, metrics_addr, state, tasks, http })
}
