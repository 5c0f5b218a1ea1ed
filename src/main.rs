//! `ghor`: the one binary. Parses the command line and calls the libraries.

mod audit;
mod client;
mod config;
mod demo;
mod rebuild;
mod registry;
mod replay;
mod sim;
mod telemetry;
mod uitvraag;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, CommandFactory, Parser, Subcommand};
use ghor_domain::{RegionCode, Role, Scope, Slug};
use ghor_server::auth::{issue, TokenRequest};
use ghor_server::{Backbone, Limits, Roles, Settings};
use ghor_store::nats::{IntakeSettings, StreamSettings};
use ghor_store::TokenStore;

/// Folding and serving are allocation-heavy (JSON values, small maps); mimalloc does that
/// work markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "ghor", version, about = "The live common operational picture of the Dutch medical crisis chain")]
struct Cli {
    /// A TOML file of settings (keys are the flags' names in snake case, see `ghor config
    /// example`); the environment and the flags win over it.
    #[arg(long, global = true, env = config::ENV)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process: embedded in --data-dir, or on --nats and --database.
    Serve(Serve),
    /// Run only ingest (HTTP events) against --nats and --database.
    Ingest(Role_),
    /// Run only the gateway (picture, websocket stream, page) against --nats and --database.
    Gateway(Role_),
    /// Run only the projector (log → read model) against --nats and --database.
    Project(Project),
    /// Run only the notifier (log → email and webhooks, outcomes back to the log) against
    /// --nats and --database.
    Notify(Notify),
    /// Serve the national picture (on --nats and --database of the national level): its log
    /// sources the --regions' logs over NATS leaf links (deploy/nats/national.conf); it
    /// folds, serves the picture, the stream and the page, and takes no reports.
    National(National),
    /// Create, list and revoke access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import the registry of locations.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Report plausible status changes to a running ghor, for exercises and load.
    Sim(Sim),
    /// Tamper evidence: the audit key, the signed tree heads, verification and proofs.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Ask an area (uitvraag), follow the answers and the call list, record calls, close.
    #[command(subcommand)]
    Uitvraag(uitvraag::Command),
    /// A region's picture at a past moment: as known then, or as observed (--observed).
    Replay(replay::Replay),
    /// Prepare an exercise.
    #[command(subcommand)]
    Oefening(OefeningCommand),
    /// The configuration file: check one, or write an example with every setting.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Name every mistake in a file by its line; list what it sets (secrets hidden).
    Check { file: PathBuf },
    /// Write a commented file with every setting, its meaning and its default.
    Example,
}

/// Where the data lives: the embedded store, or NATS JetStream and PostgreSQL.
#[derive(Args)]
#[command(next_help_heading = "Backbone")]
struct Backend {
    /// Where the embedded store keeps its file (when no --nats/--database is given).
    #[arg(long, env = "GHOR_DATA_DIR", default_value = "ghor-data")]
    data_dir: PathBuf,
    /// NATS server(s) for the production log, e.g. nats://n1:4222,nats://n2:4222.
    #[arg(long, env = "GHOR_NATS", requires = "database", hide_env_values = true)]
    nats: Option<String>,
    /// PostgreSQL for the read model, tokens and contacts, e.g. postgres://ghor@db/ghor.
    #[arg(long, env = "GHOR_DATABASE", requires = "nats", hide_env_values = true)]
    database: Option<String>,
    /// Replicas of each JetStream stream (3 on a production cluster).
    #[arg(long, env = "GHOR_REPLICAS", default_value_t = 1)]
    replicas: usize,
    /// Seconds in which JetStream drops a repeated event id itself.
    #[arg(long, env = "GHOR_DUPLICATE_WINDOW", default_value_t = 120)]
    duplicate_window: u64,
    /// Bytes each JetStream stream may hold; when full it refuses new events (ingest answers
    /// 503) and nothing is ever dropped. Set when the stream is created; default: no limit
    /// but the servers' store.
    #[arg(long, env = "GHOR_LOG_MAX_BYTES")]
    log_max_bytes: Option<u64>,
    /// An organisation whose systems publish in a NATS account of their own (see
    /// deploy/nats/accounts.conf); repeat it, or give a comma-separated list.
    #[arg(long = "intake-account", env = "GHOR_INTAKE_ACCOUNTS", value_delimiter = ',', value_parser = parse_slug)]
    intake_accounts: Vec<Slug>,
    /// The regions whose logs the log sources (`ghor national` only).
    #[arg(skip)]
    sourced_from: Vec<RegionCode>,
}

impl Backend {
    async fn open(&self) -> anyhow::Result<Backbone> {
        match (&self.nats, &self.database) {
            (Some(nats), Some(database)) => {
                let streams = StreamSettings {
                    replicas: self.replicas,
                    duplicate_window: std::time::Duration::from_secs(self.duplicate_window),
                    max_bytes: self.log_max_bytes.and_then(|max| i64::try_from(max).ok()).unwrap_or(-1),
                    sourced_from: self.sourced_from.clone(),
                    ..StreamSettings::default()
                };
                let intake = IntakeSettings {
                    accounts: self.intake_accounts.iter().map(|o| o.as_str().to_owned()).collect(),
                    ..IntakeSettings::default()
                };
                // NATS and PostgreSQL may be starting beside this process, or electing leaders:
                // wait for them a while, saying so, rather than exit at once.
                let started = std::time::Instant::now();
                let mut pause = std::time::Duration::from_millis(500);
                loop {
                    match Backbone::production(nats, database, &streams, &intake).await {
                        Err(e) if unavailable(&e) && started.elapsed() < STARTUP_PATIENCE => {
                            tracing::warn!(error = %e, "the backbone does not answer yet; trying again in {pause:?}");
                            tokio::time::sleep(pause).await;
                            pause = (pause * 2).min(std::time::Duration::from_secs(10));
                        }
                        opened => return opened,
                    }
                }
            }
            _ => Backbone::embedded(&self.data_dir)
                .await
                .with_context(|| format!("cannot open the embedded store in {}", self.data_dir.display())),
        }
    }

    fn production(&self) -> anyhow::Result<()> {
        if self.nats.is_none() {
            anyhow::bail!(
                "the separate roles run on the production backbone: give --nats and --database (or use `ghor serve`)"
            );
        }
        Ok(())
    }
}

/// How long a process waits at start for NATS and PostgreSQL to answer.
const STARTUP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

/// Whether opening the backbone failed only because a part of it did not answer (yet).
fn unavailable(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<ghor_store::StoreError>(), Some(ghor_store::StoreError::Unavailable(_)))
}

/// Where tokens are kept: the embedded store, or PostgreSQL.
#[derive(Args)]
struct Tokens {
    #[arg(long, env = "GHOR_DATA_DIR", default_value = "ghor-data")]
    data_dir: PathBuf,
    /// PostgreSQL of a production ghor.
    #[arg(long, env = "GHOR_DATABASE", hide_env_values = true)]
    database: Option<String>,
}

impl Tokens {
    async fn open(&self) -> anyhow::Result<Box<dyn TokenStore>> {
        Ok(match &self.database {
            Some(url) => Box::new(ghor_store::postgres::Postgres::connect(url).await?),
            None => Box::new(ghor_store::Embedded::open(&self.data_dir).await?),
        })
    }
}

/// What one caller, and all of them together, may ask of this server.
#[derive(Args)]
#[command(next_help_heading = "Limits")]
struct LimitArgs {
    /// Requests per second per token, on average.
    #[arg(long, env = "GHOR_RATE_PER_SECOND", default_value_t = Limits::default().rate_per_second)]
    rate_per_second: f64,
    /// Requests a token may send at once above its rate.
    #[arg(long, env = "GHOR_RATE_BURST", default_value_t = Limits::default().rate_burst)]
    rate_burst: f64,
    /// Live streams (open pages) per token.
    #[arg(long, env = "GHOR_WEBSOCKETS_PER_TOKEN", default_value_t = Limits::default().websockets_per_token)]
    websockets_per_token: usize,
    /// Live streams over all tokens; more are refused with 503 and Retry-After.
    #[arg(long, env = "GHOR_MAX_CONNECTIONS", default_value_t = Limits::default().connections)]
    max_connections: usize,
    /// Seconds a request's body may take to arrive whole.
    #[arg(
        long,
        env = "GHOR_BODY_READ_SECONDS",
        default_value_t = Limits::default().body_read.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    body_read_seconds: u64,
    /// Seconds a client may take to send a request's headers, and a connection may sit idle.
    #[arg(
        long,
        env = "GHOR_HEADER_READ_SECONDS",
        default_value_t = Limits::default().header_read.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    header_read_seconds: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            rate_per_second: self.rate_per_second,
            rate_burst: self.rate_burst,
            websockets_per_token: self.websockets_per_token,
            connections: self.max_connections,
            body_read: std::time::Duration::from_secs(self.body_read_seconds),
            header_read: std::time::Duration::from_secs(self.header_read_seconds),
            ..Limits::default()
        }
    }
}

/// Signing in with the region's identity provider (OpenID Connect).
#[derive(Args)]
#[command(next_help_heading = "Sign-in")]
struct OidcArgs {
    /// The identity provider's issuer URL; people then sign in there (authorization code
    /// with PKCE), its `ghor_role`, `ghor_regions`, `ghor_national` and `ghor_organisation`
    /// claims saying what they may do. Needs --public-url for the redirect back.
    #[arg(long, env = "GHOR_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret"])]
    oidc_issuer: Option<String>,
    /// ghor's client id at the identity provider.
    #[arg(long, env = "GHOR_OIDC_CLIENT_ID")]
    oidc_client_id: Option<String>,
    /// ghor's client secret at the identity provider.
    #[arg(long, env = "GHOR_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// The claim that lists someone's groups at the identity provider.
    #[arg(long, env = "GHOR_OIDC_GROUPS_CLAIM", default_value = "groups")]
    oidc_groups_claim: String,
    /// The rights of a group's members when the provider sends no `ghor` claims:
    /// GROUP=ROLE:VR01,VR02 (GROUP=admin:national; GROUP=institution:VR01:organisation).
    /// Repeat it (in GHOR_OIDC_GROUPS: separated by `;`); of the groups someone is in, the
    /// one given first counts.
    #[arg(long = "oidc-group", env = "GHOR_OIDC_GROUPS", value_delimiter = ';', value_parser = clap::value_parser!(GroupRights))]
    oidc_groups: Vec<GroupRights>,
}

use ghor_server::web::signin::GroupRights;

impl OidcArgs {
    fn settings(&self) -> Option<ghor_server::web::signin::OidcSettings> {
        Some(ghor_server::web::signin::OidcSettings {
            issuer: self.oidc_issuer.clone()?,
            client_id: self.oidc_client_id.clone()?,
            client_secret: self.oidc_client_secret.clone()?.into(),
            groups_claim: self.oidc_groups_claim.clone(),
            groups: self.oidc_groups.clone(),
        })
    }
}

/// Where Prometheus scrapes, apart from the public port.
#[derive(Args)]
#[command(next_help_heading = "Metrics")]
struct MetricsArgs {
    /// Serve /metrics on this address alone (e.g. 0.0.0.0:9090 inside the cluster) instead
    /// of on --listen, so the public port does not expose it.
    #[arg(long, env = "GHOR_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

#[derive(Args)]
struct Role_ {
    #[arg(long, env = "GHOR_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where the page is as browsers reach it (the gateway's sign-in returns there).
    #[arg(long, env = "GHOR_PUBLIC_URL")]
    public_url: Option<String>,
    #[arg(long, env = "GHOR_OVERDUE_EVERY", default_value_t = 60)]
    overdue_every: u64,
    #[command(flatten)]
    backend: Backend,
    #[command(flatten)]
    metrics: MetricsArgs,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    oidc: OidcArgs,
}

#[derive(Args)]
struct National {
    /// The regions the national picture takes in, each from its JetStream domain (the code
    /// in lower case): repeat it, or give a comma-separated list (VR01,VR02).
    #[arg(long = "regions", env = "GHOR_NATIONAL_REGIONS", value_delimiter = ',', value_parser = parse_region, required = true)]
    regions: Vec<RegionCode>,
    #[command(flatten)]
    role: Role_,
}

#[derive(Args)]
struct Project {
    /// Address for /healthz, /readyz and /metrics.
    #[arg(long, env = "GHOR_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Rebuild the read model of a scope from sequence 1, with progress, then exit.
    #[arg(long, value_parser = parse_scope)]
    rebuild: Option<Scope>,
    /// Events between snapshots of the whole picture: a restart folds at most this many, and
    /// looking back at a moment folds at most this many after the nearest snapshot.
    #[arg(long, env = "GHOR_SNAPSHOT_EVERY", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    snapshot_every: u64,
    #[command(flatten)]
    backend: Backend,
    #[command(flatten)]
    metrics: MetricsArgs,
    #[command(flatten)]
    signing: audit::Signing,
}

/// How notifications leave ghor.
#[derive(Args)]
#[command(next_help_heading = "Notifications")]
struct NotifyArgs {
    /// Where the page is as browsers reach it: the deep links in notifications point there,
    /// and the identity provider sends people back there (default: `serve`'s own address;
    /// http://localhost:8080 for `ghor notify`).
    #[arg(long, env = "GHOR_PUBLIC_URL")]
    public_url: Option<String>,
    /// The SMTP relay: smtp://host:25 (plain, a local relay), smtp://host:587?tls=required
    /// (STARTTLS), smtps://host:465 (TLS); user:password@host when it wants a login.
    /// Without it no email is sent (webhooks still are).
    #[arg(long, env = "GHOR_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of the emails.
    #[arg(long, env = "GHOR_SMTP_FROM", default_value = "ghor@localhost")]
    smtp_from: String,
    /// After this many unanswered reminders of an uitvraag the vervanger gets them too.
    #[arg(long, env = "GHOR_NOTIFY_ESCALATE_AFTER", default_value_t = 2)]
    notify_escalate_after: u32,
    /// Seconds a notification is retried (with exponential backoff) before it is given up.
    #[arg(long, env = "GHOR_NOTIFY_GIVE_UP", default_value_t = 3600)]
    notify_give_up: u64,
    /// Milliseconds before the first retry; it doubles up to five minutes.
    #[arg(long, env = "GHOR_NOTIFY_BACKOFF_MS", default_value_t = 1000)]
    notify_backoff_ms: u64,
    /// Notifications being sent at once.
    #[arg(long, env = "GHOR_NOTIFY_CONCURRENCY", default_value_t = 32)]
    notify_concurrency: usize,
}

impl NotifyArgs {
    fn settings(&self, default_public_url: &str) -> ghor_server::notify::NotifySettings {
        ghor_server::notify::NotifySettings {
            public_url: self.public_url.clone().unwrap_or_else(|| default_public_url.to_owned()),
            // Empty (a deployment's unset secret, `GHOR_SMTP_URL=`) is none.
            smtp_url: self.smtp_url.clone().filter(|url| !url.is_empty()).map(Into::into),
            smtp_from: self.smtp_from.clone(),
            escalate_after: self.notify_escalate_after,
            give_up: std::time::Duration::from_secs(self.notify_give_up),
            first_backoff: std::time::Duration::from_millis(self.notify_backoff_ms.max(1)),
            concurrency: self.notify_concurrency.max(1),
            ..Default::default()
        }
    }
}

#[derive(Args)]
struct Notify {
    /// Address for /healthz, /readyz and /metrics.
    #[arg(long, env = "GHOR_LISTEN", default_value = "127.0.0.1:8082")]
    listen: SocketAddr,
    #[command(flatten)]
    backend: Backend,
    #[command(flatten)]
    metrics: MetricsArgs,
    #[command(flatten)]
    notify: NotifyArgs,
}

#[derive(Args)]
struct Serve {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, env = "GHOR_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Load the demo registry (northern hospitals and synthetic care locations) and run
    /// the simulator; prints the page's address with a viewer token.
    #[arg(long)]
    demo: bool,
    /// Simulated changes per second in demo mode.
    #[arg(long, env = "GHOR_SIM_RATE", default_value_t = 2.0)]
    sim_rate: f64,
    /// With --demo: the simulator leaves alone every value a person reported (on a page,
    /// by phone through the informatiemanager, by API), so a scenario can be played through.
    #[arg(long, requires = "demo")]
    scenario: bool,
    /// Seconds between overdue checks.
    #[arg(long, env = "GHOR_OVERDUE_EVERY", default_value_t = 60)]
    overdue_every: u64,
    /// Events between snapshots of the whole picture: a restart folds at most this many, and
    /// looking back at a moment folds at most this many after the nearest snapshot.
    #[arg(long, env = "GHOR_SNAPSHOT_EVERY", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    snapshot_every: u64,
    /// Test-only: mount the admin switches that break parts on purpose.
    #[arg(long, env = "GHOR_FAULT_INJECTION", hide = true)]
    fault_injection: bool,
    #[command(flatten)]
    backend: Backend,
    #[command(flatten)]
    metrics: MetricsArgs,
    #[command(flatten)]
    notify: NotifyArgs,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    signing: audit::Signing,
    #[command(flatten)]
    oidc: OidcArgs,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (shown once; only its hash is kept).
    Create {
        #[command(flatten)]
        store: Tokens,
        /// institution, informatiemanager, netwerkfunctionaris, oto, rot, ketenpartner, bestuur or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The holder's name, recorded as actor on what it writes.
        #[arg(long)]
        name: String,
        /// A region it may act in (repeat for several); one at least, unless --national.
        #[arg(long = "region", value_parser = parse_region)]
        regions: Vec<RegionCode>,
        /// Every region, instead of naming them with --region.
        #[arg(long, conflicts_with = "regions")]
        national: bool,
        /// For institution tokens: the organisation it reports for.
        #[arg(long, value_parser = parse_slug)]
        organisation: Option<Slug>,
        /// live or oefening.
        #[arg(long, value_parser = parse_scope, default_value = "live")]
        scope: Scope,
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        store: Tokens,
    },
    /// Revoke a token by its id.
    Revoke {
        #[command(flatten)]
        store: Tokens,
        id: uuid::Uuid,
    },
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Register the locations of a CSV file through a running ghor's API.
    /// Needs a netwerkfunctionaris or admin token.
    Import {
        file: PathBuf,
        #[command(flatten)]
        server: client::Remote,
    },
}

#[derive(Subcommand)]
enum OefeningCommand {
    /// Copy the live registry of the token's regions (organisations and locations; not the
    /// contacts) into the exercise scope. Safe to repeat: what the exercise holds is kept.
    /// Needs an OTO token (exercise scope).
    Prepare {
        #[command(flatten)]
        server: client::Remote,
    },
}

#[derive(Args)]
struct Sim {
    /// Changes per second.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Leave alone every value someone else reported (see `serve --scenario`).
    #[arg(long)]
    scenario: bool,
    /// An informatiemanager (or oto) token: reports on behalf of the locations it may see.
    #[command(flatten)]
    server: client::Remote,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role; use one of {}", Role::expected()))
}
fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::parse(s).ok_or_else(|| format!("unknown scope; use one of {}", Scope::expected()))
}
fn parse_region(s: &str) -> Result<RegionCode, String> {
    RegionCode::try_from(s).map_err(String::from)
}
fn parse_slug(s: &str) -> Result<Slug, String> {
    Slug::try_from(s).map_err(String::from)
}

/// The application's log on standard error (`GHOR_LOG` filters it), as text or, with
/// `GHOR_LOG_FORMAT=json` (production: a log collector reads it), as JSON lines; the
/// security audit log (target `security`) apart, as JSON lines appended to
/// `GHOR_SECURITY_LOG` when it is set; spans to an OTLP collector when one is configured
/// ([`telemetry`]).
fn logging() -> anyhow::Result<()> {
    use tracing_subscriber::filter::{filter_fn, Targets};
    use tracing_subscriber::prelude::*;
    let application = tracing_subscriber::EnvFilter::try_from_env("GHOR_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn,async_nats=warn".into());
    let apart = std::env::var_os("GHOR_SECURITY_LOG").filter(|p| !p.is_empty()).map(PathBuf::from);
    let security = match &apart {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("GHOR_SECURITY_LOG: cannot open {}", path.display()))?;
            let only = Targets::new().with_target(ghor_server::security::TARGET, tracing::Level::INFO);
            Some(tracing_subscriber::fmt::layer().json().with_writer(std::sync::Mutex::new(file)).with_filter(only))
        }
        None => None,
    };
    let kept_apart = apart.is_some();
    let json = match std::env::var("GHOR_LOG_FORMAT").unwrap_or_default().as_str() {
        "" | "text" => false,
        "json" => true,
        other => anyhow::bail!("GHOR_LOG_FORMAT is {other:?}; use text or json"),
    };
    let not_apart = filter_fn(move |m| !(kept_apart && m.target() == ghor_server::security::TARGET));
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let stderr = match json {
        true => stderr.json().with_filter(not_apart).with_filter(application).boxed(),
        false => stderr.with_filter(not_apart).with_filter(application).boxed(),
    };
    let spans = telemetry::tracer()?.map(|tracer| {
        let ours = Targets::new()
            .with_target("ghor", tracing::Level::INFO)
            .with_target("ghor_server", tracing::Level::INFO)
            .with_target("ghor_store", tracing::Level::INFO);
        tracing_opentelemetry::layer().with_tracer(tracer).with_filter(ours)
    });
    tracing_subscriber::registry().with(stderr).with(security).with(spans).init();
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if let Err(e) = logging() {
        eprintln!("error: {e:#}");
        return std::process::ExitCode::FAILURE;
    }
    let cli = match config::apply(&Cli::command(), std::env::args_os().collect()) {
        Ok(args) => Cli::try_parse_from(args).unwrap_or_else(|e| e.exit()),
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let outcome = run(cli).await;
    telemetry::flush();
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(s) => serve(s).await,
        Command::Ingest(r) => role(r, Roles { ingest: true, ..Roles::NONE }).await,
        Command::Gateway(r) => role(r, Roles { gateway: true, ..Roles::NONE }).await,
        Command::National(mut n) => {
            n.role.backend.sourced_from = n.regions;
            role(n.role, Roles { ingest: true, gateway: true, projector: true, notifier: false }).await
        }
        Command::Project(p) => project(p).await,
        Command::Notify(n) => notify(n).await,
        Command::Token(t) => token(t).await,
        Command::Uitvraag(u) => uitvraag::run(u).await,
        Command::Replay(r) => replay::run(r).await,
        Command::Audit(a) => audit::run(a).await,
        Command::Oefening(OefeningCommand::Prepare { server }) => {
            eprintln!("de registratie van de werkelijkheid overnemen in de oefening…");
            let done = server.client().post("/v1/oefening/prepare", &serde_json::json!({})).await?;
            println!(
                "Oefening voorbereid: {} organisaties en {} locaties overgenomen; {} stonden er al.",
                done["organisations"], done["locations"], done["already"]
            );
            Ok(())
        }
        Command::Config(ConfigCommand::Check { file }) => config::report(&Cli::command(), &file),
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::example(&Cli::command()));
            Ok(())
        }
        Command::Registry(RegistryCommand::Import { file, server }) => registry::import(&file, &server.client()).await,
        Command::Sim(s) => {
            let mut sim = sim::Simulator::new(s.server.client(), Default::default(), s.seed, s.scenario).await?;
            eprintln!("simulating {} locations at {} changes per second; Ctrl-C stops", sim.locations(), s.rate);
            sim.report_all().await?;
            sim.run(s.rate, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
            Ok(())
        }
    }
}

async fn serve(s: Serve) -> anyhow::Result<()> {
    let backbone = s.backend.open().await?;
    let tokens = backbone.tokens.clone();
    // The deep links point at this server unless told otherwise (filled in once the
    // listener is bound, port 0 included).
    let settings = Settings {
        overdue_every: std::time::Duration::from_secs(s.overdue_every.max(1)),
        fault_injection: s.fault_injection,
        notify: s.notify.settings(""),
        limits: s.limits.limits(),
        tree_heads: s.signing.tree_heads()?,
        oidc: s.oidc.settings(),
        snapshot_every: s.snapshot_every,
        metrics_listen: s.metrics.metrics_listen,
        ..Settings::default()
    };
    run_until_stopped(s.listen, backbone, settings, |url, tasks| async move {
        if s.demo {
            demo::start(&url, &*tokens, s.sim_rate, s.scenario, tasks).await?;
        }
        Ok(())
    })
    .await
}

async fn role(r: Role_, roles: Roles) -> anyhow::Result<()> {
    r.backend.production()?;
    let settings = Settings {
        overdue_every: std::time::Duration::from_secs(r.overdue_every.max(1)),
        roles,
        limits: r.limits.limits(),
        notify: ghor_server::notify::NotifySettings {
            public_url: r.public_url.clone().unwrap_or_default(),
            ..Default::default()
        },
        oidc: r.oidc.settings(),
        metrics_listen: r.metrics.metrics_listen,
        ..Settings::default()
    };
    run_until_stopped(r.listen, r.backend.open().await?, settings, |_, _| async { Ok(()) }).await
}

async fn project(p: Project) -> anyhow::Result<()> {
    p.backend.production()?;
    let backbone = p.backend.open().await?;
    if let Some(scope) = p.rebuild {
        return rebuild::run(&backbone, scope).await;
    }
    let settings = Settings {
        roles: Roles { projector: true, ..Roles::NONE },
        tree_heads: p.signing.tree_heads()?,
        snapshot_every: p.snapshot_every,
        metrics_listen: p.metrics.metrics_listen,
        ..Settings::default()
    };
    run_until_stopped(p.listen, backbone, settings, |_, _| async { Ok(()) }).await
}

async fn notify(n: Notify) -> anyhow::Result<()> {
    n.backend.production()?;
    let settings = Settings {
        roles: Roles { notifier: true, ..Roles::NONE },
        notify: n.notify.settings("http://localhost:8080"),
        metrics_listen: n.metrics.metrics_listen,
        ..Settings::default()
    };
    run_until_stopped(n.listen, n.backend.open().await?, settings, |_, _| async { Ok(()) }).await
}

/// How long stopping may take: requests in flight, close frames, tasks.
const STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Starts the server, runs `then` with its URL and tasks, and stops cleanly on SIGTERM
/// (systemd, Kubernetes) or Ctrl-C: appends in flight finish, websocket clients get a close
/// frame with the reason, every task ends.
async fn run_until_stopped<F, Fut>(
    listen: SocketAddr,
    backbone: Backbone,
    settings: Settings,
    then: F,
) -> anyhow::Result<()>
where
    F: FnOnce(String, ghor_server::supervise::Tasks) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; is the port in use?"))?;
    let (trigger, shutdown) = ghor_server::shutdown::channel();
    let mut settings = settings;
    if settings.notify.public_url.is_empty() {
        settings.notify.public_url = format!("http://{}", listener.local_addr()?);
    }
    let running = ghor_server::serve(listener, backbone, settings, shutdown).await?;
    let url = format!("http://{}", running.addr);
    // A line tests and scripts can wait for.
    println!("ghor listening on {url}");
    if let Some(metrics) = running.metrics_addr {
        tracing::info!("metrics at http://{metrics}/metrics");
    }
    then(url, running.tasks.clone()).await?;
    let signal = stop_signal().await?;
    eprintln!("{signal}: stopping");
    trigger.trigger();
    let late = running.stopped(STOP_WITHIN).await;
    if !late.is_empty() {
        tracing::warn!(?late, "stopped without waiting longer for these");
    }
    eprintln!("stopped");
    Ok(())
}

/// Waits for SIGTERM or Ctrl-C (SIGINT) and names it.
async fn stop_signal() -> anyhow::Result<&'static str> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            ctrl_c = tokio::signal::ctrl_c() => ctrl_c.map(|()| "Ctrl-C").context("cannot listen for Ctrl-C"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("cannot listen for Ctrl-C")?;
        Ok("Ctrl-C")
    }
}

async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { store, role, name, regions, national, organisation, scope, days } => {
            let request = TokenRequest {
                name,
                role,
                regions,
                national,
                organisation,
                scope,
                valid_for: chrono::Duration::days(days),
            };
            // Refused before the store is opened; the field named as the flag that sets it.
            request.check().map_err(|e| {
                let flag = match e.field.as_str() {
                    "regions" => "--region (or --national)",
                    "national" => "--national",
                    "valid_days" => "--days",
                    other => other,
                };
                anyhow::anyhow!("{flag}: {}", e.reason)
            })?;
            let store = store.open().await?;
            let (secret, info) = issue(&*store, request, Utc::now()).await.map_err(|p| anyhow::anyhow!(p.detail))?;
            ghor_server::security::token_issued(None, info.id, &info.name, info.role.as_str());
            eprintln!(
                "token {} for {} ({}) valid until {}",
                info.id,
                info.name,
                info.role,
                info.expires.format("%Y-%m-%d")
            );
            println!("{secret}");
            Ok(())
        }
        TokenCommand::List { store } => {
            let store = store.open().await?;
            for t in store.list().await? {
                let regions: Vec<String> = t.regions.iter().map(ToString::to_string).collect();
                let state = if t.revoked {
                    "revoked"
                } else if t.expires < Utc::now() {
                    "expired"
                } else {
                    "active"
                };
                println!("{}  {:<20} {:<12} {:<8} {:<16} {}", t.id, t.role, t.scope, state, regions.join(","), t.name);
            }
            Ok(())
        }
        TokenCommand::Revoke { store, id } => {
            let store = store.open().await?;
            if !store.revoke(id).await? {
                anyhow::bail!("there is no token {id}; `ghor token list` shows them");
            }
            ghor_server::security::token_revoked(None, id);
            eprintln!("revoked {id}");
            Ok(())
        }
    }
}
