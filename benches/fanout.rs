//! The live stream under load (issue 11): N websocket clients on one region's stream of a
//! real `ghor serve`, R single-event reports per second for T seconds, and, in the same
//! run, a bare tokio-tungstenite broadcast of the same delta frames to the same N clients
//! as the baseline. It measures only; it changes nothing in the server.
//!
//! ```text
//! CARGO_BUILD_JOBS=1 cargo bench --bench fanout --no-run
//! GHOR_BENCH_CLIENTS=1000 GHOR_BENCH_RATE=200 GHOR_BENCH_SECONDS=30 nice cargo bench --bench fanout
//! ```
//!
//! Settings (environment): `GHOR_BENCH_CLIENTS` (N, default 1000), `GHOR_BENCH_RATE`
//! (R reports per second, default 200), `GHOR_BENCH_SECONDS` (T, default 30),
//! `GHOR_BENCH_ROUNDS` (default 1; each round is a fresh server, data dir and database),
//! `GHOR_BENCH_MERGE` (`on`, the default, or `off`: the clients ask for every delta on its
//! own, `"merge": false`, as the issue's "merging off" ratio needs), `GHOR_BENCH_PIN`
//! (`off`, the default, or `on`: the server side, ghor and on production nats-server, on
//! the first core and this process's clients and institutions on the others, as when the
//! pages are on other machines; PostgreSQL stays where it runs) and
//! `GHOR_BENCH_BACKEND` (`embedded`, the default, or `production`: a `nats-server` from
//! `GHOR_NATS_SERVER` or the `PATH` and a fresh database on the PostgreSQL at
//! `GHOR_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`, as
//! `tests/run` provides them).
//!
//! Set-up per round: 40 locations in VR01 over 8 organisations, one institution token per
//! organisation (the reports are spread over them round-robin), and ⌈N/8⌉ ROT tokens of
//! VR01 (a token may hold 8 websockets), all made with `ghor token create`. Every client
//! trades its token for a ticket and subscribes to VR01 alone.
//!
//! Measured per round; the table ends with the medians over the rounds:
//! - **reports**: `POST /v1/events` → `201`, p50/p99/max; how many were answered on time
//!   (within [`LATE`]), late, refused (any other status, e.g. a 429), failed (no HTTP
//!   answer) or not answered within [`PATIENCE`]; the most in flight at once. The reports
//!   are sent open-loop at R per second: a slow answer does not slow the next report.
//! - **201 → delta**: for every client and every stored report, from the report's `201`
//!   (its receipt carries `seq`) to the client's receipt of the delta whose `(from, to]`
//!   holds that seq; p50/p99/max over all clients and reports. A delta that arrives
//!   before its report's `201` counts as 0 ms and is counted apart. Beside it, from the
//!   report's POST to the same delta.
//! - **delivery**: delta messages and bytes received by all clients together per second,
//!   from the first report until every client holds the last stored seq (the drain
//!   window), and how many reports a delta carried.
//! - **chains**: every client checks its chain as `tests/e2e/harness.rs` `Stream::apply`
//!   does (each delta's `from` is the previous message's `to`, same epoch, seqs never go
//!   back); counted as unbroken, restarted from an explicit snapshot, or broken.
//! - **memory**: the server's VmRSS (from `/proc/<pid>/status`) with no clients (after a few
//!   came and went: what grows with the first connections is not per client), with the N
//!   clients connected and idle (the difference per client in KiB), and under load (peak
//!   and at the end of the drain window).
//! - **CPU**: the server's and this process's, in % of one core, over the drain window;
//!   this machine's load average before the round. This process runs the clients (and the
//!   baseline's server), so a reader can see whether the clients were the bottleneck.
//! - **baseline**: a bare tokio-tungstenite server in this process that answers the hello
//!   with a small snapshot and broadcasts, through one `tokio::sync::broadcast`, the delta
//!   frames the first ghor client received (renumbered into one chain, so within a few
//!   bytes of the same size) to N fresh clients of the same code. Paced: exactly those
//!   frames, evenly over T seconds (the same bytes at the pace the reports came; frames/s
//!   over its own drain window, send → receipt p50/p99/max). Flat out: R·T frames cycled
//!   from them, as fast as it can (its capacity). "ghor / bare" compares delta messages
//!   per second; against flat out it says how much of the capacity ghor delivered.
//!
//! The clients are light tasks on this process's multi-threaded runtime; the institutions
//! post from a thread and runtime of their own. The clients read each
//! message's header (type, epoch, seq, from, to; the picture is skipped, not merged) and
//! note when each delta came. The harness raises its open-file limit (and so its
//! children's) as far as the hard limit allows; with a hard limit of 1024, run it after
//! `ulimit -n 65536` as root.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _};
use futures::{SinkExt, StreamExt};
use ghor_store::testing::{NatsServer, TestDatabase};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

const REGION: &str = "VR01";
const ORGANISATIONS: usize = 8;
const LOCATIONS_PER_ORGANISATION: usize = 5;
/// Websockets one token may hold (the server's default limit).
const CLIENTS_PER_TOKEN: usize = 8;
/// A report answered later than this is late.
const LATE: Duration = Duration::from_secs(1);
/// The longest the harness waits for one answer, for the clients to catch up after the
/// load, or for a set-up step.
const PATIENCE: Duration = Duration::from_secs(60);
/// Clients being set up (ticket, upgrade, hello) at once.
const CONNECTING_AT_ONCE: usize = 32;
/// How often the server's memory is read under load.
const MEMORY_EVERY: Duration = Duration::from_millis(250);
/// The poll interval of every wait for a condition.
const POLL: Duration = Duration::from_millis(20);
/// The open-file limit the harness asks for.
const OPEN_FILES: u64 = 65_536;

fn progress(line: impl AsRef<str>) {
    eprintln!("  {}", line.as_ref());
}

// ---------------------------------------------------------------------------------------
// Settings

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Embedded,
    Production,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    clients: usize,
    rate: u32,
    seconds: u32,
    rounds: usize,
    backend: Backend,
    /// Whether the clients take what they missed merged (the default) or every delta.
    merge: bool,
    /// Whether the clients take large messages gzip-compressed (the default, as the page
    /// does) or every message as JSON text.
    gzip: bool,
    /// Whether the server side runs on a core of its own, apart from the clients.
    pin: bool,
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().map_err(|_| anyhow!("{name}={value:?} is not a valid number")),
        Err(_) => Ok(default),
    }
}

impl Settings {
    fn from_env() -> anyhow::Result<Settings> {
        let backend = match std::env::var("GHOR_BENCH_BACKEND").as_deref().unwrap_or("embedded") {
            "embedded" => Backend::Embedded,
            "production" => Backend::Production,
            other => bail!("GHOR_BENCH_BACKEND={other:?}: expected embedded or production"),
        };
        let merge = match std::env::var("GHOR_BENCH_MERGE").as_deref().unwrap_or("on") {
            "on" => true,
            "off" => false,
            other => bail!("GHOR_BENCH_MERGE={other:?}: expected on or off"),
        };
        let gzip = match std::env::var("GHOR_BENCH_ENCODING").as_deref().unwrap_or("gzip") {
            "gzip" => true,
            "json" => false,
            other => bail!("GHOR_BENCH_ENCODING={other:?}: expected gzip or json"),
        };
        let pin = match std::env::var("GHOR_BENCH_PIN").as_deref().unwrap_or("off") {
            "on" => true,
            "off" => false,
            other => bail!("GHOR_BENCH_PIN={other:?}: expected on or off"),
        };
        let settings = Settings {
            clients: setting("GHOR_BENCH_CLIENTS", 1000)?,
            rate: setting("GHOR_BENCH_RATE", 200)?,
            seconds: setting("GHOR_BENCH_SECONDS", 30)?,
            rounds: setting("GHOR_BENCH_ROUNDS", 1)?,
            backend,
            merge,
            gzip,
            pin,
        };
        ensure!(
            settings.clients > 0 && settings.rate > 0 && settings.seconds > 0 && settings.rounds > 0,
            "GHOR_BENCH_CLIENTS, _RATE, _SECONDS and _ROUNDS must be at least 1"
        );
        Ok(settings)
    }

    fn reports(&self) -> usize {
        self.rate as usize * self.seconds as usize
    }

    fn viewer_tokens(&self) -> usize {
        self.clients.div_ceil(CLIENTS_PER_TOKEN)
    }
}

// ---------------------------------------------------------------------------------------
// The server under test

/// A `ghor` command without the caller's `GHOR_*` settings (they would point it elsewhere).
fn ghor_command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GHOR_") {
            command.env_remove(key);
        }
    }
    command
}

fn location(organisation: usize, n: usize) -> String {
    format!("bench-{organisation}-{n}")
}

fn organisation(k: usize) -> String {
    format!("bench-org-{k}")
}

/// A running `ghor serve` with its registry and tokens; killed when dropped.
struct Ghor {
    url: String,
    pid: u32,
    http: reqwest::Client,
    /// Registers the locations.
    netwerk: String,
    /// One per organisation; they post the reports.
    institutions: Vec<String>,
    /// ROT tokens of VR01, one per [`CLIENTS_PER_TOKEN`] clients.
    viewers: Vec<String>,
    merge: bool,
    gzip: bool,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
    _nats: Option<NatsServer>,
    _database: Option<TestDatabase>,
}

impl Ghor {
    async fn start(settings: &Settings) -> anyhow::Result<Ghor> {
        let dir = tempfile::tempdir()?;
        let (nats, database) = match settings.backend {
            Backend::Embedded => (None, None),
            Backend::Production => (Some(NatsServer::start()), Some(TestDatabase::create().await)),
        };
        let mut store = vec!["--data-dir".to_owned(), dir.path().display().to_string()];
        if let Some(db) = &database {
            store.extend(["--database".to_owned(), db.url.clone()]);
        }
        let token = |args: Vec<String>| {
            let store = store.clone();
            async move {
                let out = ghor_command().args(["token", "create"]).args(&args).args(&store).output().await?;
                ensure!(out.status.success(), "ghor token create {args:?}: {}", String::from_utf8_lossy(&out.stderr));
                Ok::<_, anyhow::Error>(String::from_utf8(out.stdout)?.trim().to_owned())
            }
        };
        let strings = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        let netwerk =
            token(strings(&["--role", "netwerkfunctionaris", "--name", "bench netwerk", "--region", REGION])).await?;
        let mut institutions = Vec::new();
        for k in 0..ORGANISATIONS {
            let name = format!("bench institution {k}");
            let org = organisation(k);
            institutions.push(
                token(strings(&["--role", "institution", "--name", &name, "--region", REGION, "--organisation", &org]))
                    .await?,
            );
        }
        let mut viewers = Vec::new();
        for k in 0..settings.viewer_tokens() {
            let name = format!("bench ROT {k}");
            viewers.push(token(strings(&["--role", "rot", "--name", &name, "--region", REGION])).await?);
        }

        let mut serve = ghor_command();
        serve.args(["serve", "--listen", "127.0.0.1:0", "--overdue-every", "3600"]).args(&store);
        // Each institution token may post its share of the rate (the default limit is 50/s).
        let share = settings.rate.div_ceil(ORGANISATIONS as u32) * 2;
        serve.args(["--rate-per-second", &share.max(50).to_string()]);
        if let Some(nats) = &nats {
            serve.args(["--nats", &nats.url]);
        }
        let mut child = serve
            // The 503s of `/readyz` before it is ready are expected; every other status is counted.
            .env("GHOR_LOG", "warn,tower_http::trace::on_failure=off")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("start ghor serve")?;
        let pid = child.id().context("ghor serve exited at once")?;
        let mut lines = BufReader::new(child.stdout.take().context("ghor's stdout")?).lines();
        let line = tokio::time::timeout(PATIENCE, lines.next_line())
            .await
            .context("ghor serve did not say where it listens in time")??
            .ok_or_else(|| anyhow!("ghor serve exited before it listened"))?;
        let url = line.strip_prefix("ghor listening on ").ok_or_else(|| anyhow!("unexpected first line: {line}"))?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let ghor = Ghor {
            url: url.to_owned(),
            pid,
            http: reqwest::Client::new(),
            netwerk,
            institutions,
            viewers,
            merge: settings.merge,
            gzip: settings.gzip,
            _child: child,
            _dir: dir,
            _nats: nats,
            _database: database,
        };
        ghor.until_ready().await?;
        ghor.register().await?;
        Ok(ghor)
    }

    async fn until_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        while self.http.get(format!("{}/readyz", self.url)).send().await.map(|r| r.status().as_u16()).ok() != Some(200)
        {
            ensure!(Instant::now() < deadline, "ghor serve did not become ready within {PATIENCE:?}");
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    /// The organisations and their locations in VR01; returns once the picture holds them.
    async fn register(&self) -> anyhow::Result<()> {
        let mut events = Vec::new();
        for k in 0..ORGANISATIONS {
            events.push(cloud_event(
                &format!("/regions/{REGION}"),
                "nl.ghor.organisation.registered.v1",
                Some(&organisation(k)),
                json!({ "name": format!("Bench organisatie {k}") }),
            ));
            for n in 0..LOCATIONS_PER_ORGANISATION {
                let point = json!({ "lat": 53.0 + k as f64 * 0.03, "lon": 6.3 + n as f64 * 0.05 });
                events.push(cloud_event(
                    &format!("/locations/{}", location(k, n)),
                    "nl.ghor.location.registered.v1",
                    None,
                    json!({ "name": format!("Bench locatie {k}-{n}"), "organisation": organisation(k),
                            "type": "ziekenhuis", "region": REGION, "point": point }),
                ));
            }
        }
        let response = self
            .http
            .post(format!("{}/v1/events/batch", self.url))
            .bearer_auth(&self.netwerk)
            .json(&events)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "registering the locations: {status}: {body}");
        let results = body["results"].as_array().ok_or_else(|| anyhow!("no results: {body}"))?;
        ensure!(results.iter().all(|r| r["status"] != "rejected"), "a registration was rejected: {body}");
        let last = results.iter().filter_map(|r| r["seq"].as_u64()).max();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let picture: Value = self
                .http
                .get(format!("{}/v1/picture", self.url))
                .bearer_auth(&self.netwerk)
                .send()
                .await?
                .json()
                .await?;
            if picture["seq"].as_u64() >= last {
                return Ok(());
            }
            ensure!(Instant::now() < deadline, "the registry never reached the picture");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the server holds no websocket client (its `ghor_websocket_clients`).
    async fn until_no_clients(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let metrics = self.http.get(format!("{}/metrics", self.url)).send().await?.text().await?;
            let open = metrics
                .lines()
                .find_map(|l| l.strip_prefix("ghor_websocket_clients "))
                .and_then(|v| v.trim().parse::<f64>().ok());
            if open == Some(0.0) {
                return Ok(());
            }
            ensure!(Instant::now() < deadline, "the server still holds {open:?} websocket clients");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stream_url(&self) -> String {
        format!("{}/v1/stream", self.url.replace("http://", "ws://"))
    }

    /// A stream client's websocket: ticket, upgrade, hello for VR01.
    async fn open(&self, token: &str) -> anyhow::Result<Ws> {
        let response =
            self.http.post(format!("{}/v1/stream/ticket", self.url)).bearer_auth(token).json(&json!({})).send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "POST /v1/stream/ticket: {status}: {body}");
        let (mut ws, _) = tokio_tungstenite::connect_async(self.stream_url()).await.context("websocket upgrade")?;
        let encoding = if self.gzip { "gzip" } else { "json" };
        let hello = json!({ "type": "hello", "ticket": body["ticket"], "regions": [REGION], "merge": self.merge, "encoding": encoding });
        ws.send(Message::text(hello.to_string())).await?;
        Ok(ws)
    }
}

fn cloud_event(source: &str, event_type: &str, subject: Option<&str>, data: Value) -> Value {
    let mut e = json!({
        "specversion": "1.0", "id": uuid::Uuid::now_v7().to_string(), "source": source,
        "type": event_type, "time": chrono::Utc::now().to_rfc3339(), "data": data,
    });
    if let Some(s) = subject {
        e["subject"] = json!(s);
    }
    e
}

/// The `n`th report: IC beds of one location; consecutive reports of a location differ.
fn report(n: usize) -> (usize, Value) {
    let k = n % ORGANISATIONS;
    let loc = (n / ORGANISATIONS) % LOCATIONS_PER_ORGANISATION;
    let occupied = (n / (ORGANISATIONS * LOCATIONS_PER_ORGANISATION)) % 41;
    let event = cloud_event(
        &format!("/locations/{}", location(k, loc)),
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 40, "occupied": occupied }),
    );
    (k, event)
}

// ---------------------------------------------------------------------------------------
// /proc

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or_else(|| anyhow!("no VmRSS for {pid}"))?;
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).ok_or_else(|| anyhow!("unreadable: {line}"))
}

/// Clock ticks per second, as `/proc/<pid>/stat` counts CPU time.
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds of a process (`self` or a pid), all its threads together.
fn cpu_seconds(pid: &str, ticks: f64) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("").split_whitespace().collect();
    // After the command's name: state is field 3, utime 14 and stime 15.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    match (field(14), field(15)) {
        (Some(user), Some(system)) => Ok((user + system) / ticks),
        _ => bail!("unreadable /proc/{pid}/stat"),
    }
}

/// CPU seconds of each thread of a process, by thread id, with the thread's name.
fn thread_cpu(pid: u32, ticks: f64) -> BTreeMap<u32, (String, f64)> {
    let mut threads = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return threads };
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else { continue };
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default().trim().to_owned();
        if let Ok(seconds) = cpu_seconds(&format!("{pid}/task/{tid}"), ticks) {
            threads.insert(tid, (name, seconds));
        }
    }
    threads
}

/// Where a process's CPU went between two [`thread_cpu`] readings: % of a core by thread
/// name (threads of one pool share a name), busiest first.
fn cpu_by_thread_name(
    before: &BTreeMap<u32, (String, f64)>,
    after: &BTreeMap<u32, (String, f64)>,
    wall_s: f64,
) -> Vec<(String, f64)> {
    let mut by_name: BTreeMap<String, f64> = BTreeMap::new();
    for (tid, (name, seconds)) in after {
        let start = before.get(tid).map_or(0.0, |(_, s)| *s);
        *by_name.entry(name.clone()).or_insert(0.0) += (seconds - start) / wall_s * 100.0;
    }
    let mut names: Vec<(String, f64)> = by_name.into_iter().filter(|(_, pct)| *pct >= 0.5).collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1));
    names
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

/// Reads a process's VmRSS every [`MEMORY_EVERY`] until the sender says stop.
fn sample_memory(pid: u32) -> (watch::Sender<bool>, JoinHandle<Vec<u64>>) {
    let (stop, mut stopped) = watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut every = tokio::time::interval(MEMORY_EVERY);
        loop {
            tokio::select! {
                _ = every.tick() => samples.extend(rss_kib(pid).ok()),
                _ = stopped.changed() => return samples,
            }
        }
    });
    (stop, sampler)
}

/// CPU use between two moments, in % of one core.
struct CpuMeter {
    ticks: f64,
    started: Instant,
    server: Option<(u32, f64)>,
    harness: f64,
}

impl CpuMeter {
    fn start(server: Option<u32>, ticks: f64) -> CpuMeter {
        CpuMeter {
            ticks,
            started: Instant::now(),
            server: server.map(|pid| (pid, cpu_seconds(&pid.to_string(), ticks).unwrap_or(f64::NAN))),
            harness: cpu_seconds("self", ticks).unwrap_or(f64::NAN),
        }
    }

    /// (server, harness) in % of one core since the start.
    fn read(&self) -> (f64, f64) {
        let wall = self.started.elapsed().as_secs_f64();
        let server = self.server.map_or(f64::NAN, |(pid, before)| {
            (cpu_seconds(&pid.to_string(), self.ticks).unwrap_or(f64::NAN) - before) / wall * 100.0
        });
        let harness = (cpu_seconds("self", self.ticks).unwrap_or(f64::NAN) - self.harness) / wall * 100.0;
        (server, harness)
    }
}

// ---------------------------------------------------------------------------------------
// The clients

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Microseconds since the round's clock started (a round lasts far less than 71 minutes).
fn micros(clock: Instant) -> u32 {
    clock.elapsed().as_micros() as u32
}

/// The header of a stream message: all a client needs to check its chain. The picture and
/// the changes are skipped, not parsed into values.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    epoch: Option<&'a str>,
    seq: Option<u64>,
    from: Option<u64>,
    to: Option<u64>,
    #[serde(borrow)]
    reason: Option<&'a str>,
}

/// What one client saw.
#[derive(Default)]
struct Seen {
    /// Each delta's `from`, `to` and arrival (µs on the round's clock).
    deltas: Vec<(u32, u32, u32)>,
    delta_bytes: u64,
    /// Reasons of the snapshots after the first: the chain restarted there, explicitly.
    restarts: Vec<String>,
    /// Why the client stopped before it was told to: the first break of its chain (a gap,
    /// a changed epoch, a seq that went back), an error message, or the end of the stream.
    broken: Option<String>,
    first_snapshot_bytes: usize,
    /// The delta frames themselves, when asked (one client records them for the baseline).
    frames: Vec<String>,
}

/// Where every client's chain stands, for the harness to wait on.
struct Positions {
    seqs: Vec<AtomicU64>,
    ready: AtomicUsize,
}

/// The chain a client holds, checked as `tests/e2e/harness.rs` `Stream::apply` checks it.
#[derive(Default)]
struct Chain {
    epoch: String,
    seq: u64,
}

impl Chain {
    /// Applies one message's header; `Err` on a broken chain.
    fn apply(&mut self, m: &Header, text: &str, arrived: u32, seen: &mut Seen) -> Result<(), String> {
        let same_epoch = |chain: &Chain| m.epoch == Some(chain.epoch.as_str());
        match m.kind {
            "snapshot" => {
                let seq = m.seq.ok_or("a snapshot without seq")?;
                if same_epoch(self) && seq < self.seq {
                    return Err(format!("a snapshot went back from {} to {seq}", self.seq));
                }
                if self.epoch.is_empty() {
                    seen.first_snapshot_bytes = text.len();
                } else {
                    seen.restarts.push(m.reason.unwrap_or("?").to_owned());
                }
                self.epoch = m.epoch.ok_or("a snapshot without epoch")?.to_owned();
                self.seq = seq;
            }
            "delta" | "heartbeat" if !same_epoch(self) => {
                return Err(format!("epoch changed without a snapshot: {}", brief(text)));
            }
            "delta" => {
                let (from, to) = (m.from.ok_or("a delta without from")?, m.to.ok_or("a delta without to")?);
                if from != self.seq {
                    return Err(format!("gap: the delta from {from} does not chain on {}", self.seq));
                }
                seen.deltas.push((from as u32, to as u32, arrived));
                seen.delta_bytes += text.len() as u64;
                self.seq = to;
            }
            "heartbeat" => {
                let seq = m.seq.ok_or("a heartbeat without seq")?;
                if seq < self.seq {
                    return Err(format!("a heartbeat went back from {} to {seq}", self.seq));
                }
                self.seq = seq;
            }
            "status" => {}
            _ => return Err(format!("the server said: {}", brief(text))),
        }
        Ok(())
    }
}

fn brief(text: &str) -> String {
    text.chars().take(300).collect()
}

fn gunzip(compressed: &[u8]) -> std::io::Result<String> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(compressed), &mut text)?;
    Ok(text)
}

/// A message as ghor sends it to a client that asked for gzip (or not): large ones
/// compressed as binary frames, by ghor's own encoder.
fn as_ghor_sends(text: String, gzip: bool) -> Message {
    use ghor_server::gateway::session::{compress, GZIP_FROM};
    match (gzip && text.len() >= GZIP_FROM).then(|| compress(text.as_bytes())).flatten() {
        Some(compressed) => Message::binary(compressed),
        None => Message::text(text),
    }
}

/// One client: reads, checks and notes messages until told to stop.
async fn listen<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    me: usize,
    positions: Arc<Positions>,
    clock: Instant,
    mut stop: watch::Receiver<bool>,
    record_frames: bool,
) -> Seen
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut seen = Seen::default();
    let mut chain = Chain::default();
    loop {
        let message = tokio::select! {
            _ = stop.changed() => break,
            message = ws.next() => message,
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text.to_string(),
            Some(Ok(Message::Binary(gzip))) => match gunzip(&gzip) {
                Ok(text) => text,
                Err(e) => {
                    seen.broken = Some(format!("a binary frame that is not gzip of text: {e}"));
                    break;
                }
            },
            Some(Ok(Message::Close(frame))) => {
                seen.broken = Some(format!("closed by the server: {frame:?}"));
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                seen.broken = Some(format!("websocket error: {e}"));
                break;
            }
            None => {
                seen.broken = Some("the stream ended".to_owned());
                break;
            }
        };
        let arrived = micros(clock);
        let first = chain.epoch.is_empty();
        let applied = serde_json::from_str::<Header>(&text)
            .map_err(|e| format!("not a stream message ({e}): {}", brief(&text)))
            .and_then(|header| chain.apply(&header, &text, arrived, &mut seen));
        if let Err(broken) = applied {
            seen.broken = Some(broken);
            break;
        }
        if record_frames && text.contains("\"type\":\"delta\"") {
            seen.frames.push(text);
        }
        positions.seqs[me].store(chain.seq, Ordering::Relaxed);
        if first && !chain.epoch.is_empty() {
            positions.ready.fetch_add(1, Ordering::Relaxed);
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
    seen
}

/// N clients listening, and how to stop them.
struct Clients {
    tasks: Vec<JoinHandle<Seen>>,
    positions: Arc<Positions>,
    stop: watch::Sender<bool>,
}

impl Clients {
    /// Opens `n` clients with `open` (a few at a time) and waits until each has its snapshot.
    /// The first client keeps its delta frames when `record_first`.
    async fn connect<F, Fut, S>(n: usize, clock: Instant, record_first: bool, open: F) -> anyhow::Result<Clients>
    where
        F: Fn(usize) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<tokio_tungstenite::WebSocketStream<S>>>,
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let positions =
            Arc::new(Positions { seqs: (0..n).map(|_| AtomicU64::new(0)).collect(), ready: AtomicUsize::new(0) });
        let (stop, stopped) = watch::channel(false);
        let tasks = futures::stream::iter(0..n)
            .map(|me| {
                let (opening, positions, stopped) = (open(me), positions.clone(), stopped.clone());
                async move {
                    let ws = opening.await.with_context(|| format!("client {me}"))?;
                    Ok::<_, anyhow::Error>(tokio::spawn(listen(
                        ws,
                        me,
                        positions,
                        clock,
                        stopped,
                        record_first && me == 0,
                    )))
                }
            })
            .buffered(CONNECTING_AT_ONCE)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()?;
        let clients = Clients { tasks, positions, stop };
        let deadline = Instant::now() + PATIENCE;
        while clients.positions.ready.load(Ordering::Relaxed) < n {
            if let Some(gone) = clients.tasks.iter().position(JoinHandle::is_finished) {
                let seen = clients.finish().await?;
                bail!("client {gone} ended before its snapshot: {:?}", seen[gone].broken);
            }
            ensure!(
                Instant::now() < deadline,
                "only {} of {n} clients had their snapshot within {PATIENCE:?}",
                clients.positions.ready.load(Ordering::Relaxed)
            );
            tokio::time::sleep(POLL).await;
        }
        Ok(clients)
    }

    /// Waits until every client that is still listening holds `seq`; false at the deadline.
    async fn until_at(&self, seq: u64, deadline: Instant) -> bool {
        loop {
            let behind = self
                .tasks
                .iter()
                .zip(&self.positions.seqs)
                .any(|(task, at)| !task.is_finished() && at.load(Ordering::Relaxed) < seq);
            if !behind {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn behind(&self, seq: u64) -> usize {
        self.positions.seqs.iter().filter(|at| at.load(Ordering::Relaxed) < seq).count()
    }

    async fn finish(self) -> anyhow::Result<Vec<Seen>> {
        let _ = self.stop.send(true);
        let mut seen = Vec::with_capacity(self.tasks.len());
        for task in self.tasks {
            seen.push(tokio::time::timeout(PATIENCE, task).await.context("a client did not stop in time")??);
        }
        Ok(seen)
    }
}

// ---------------------------------------------------------------------------------------
// Latency histogram

/// Microsecond latencies in log buckets of 1/64 of a power of two (under 1.6 % error), for
/// the hundreds of thousands to millions of client × report samples of a round.
#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Histogram {
    const LINEAR: u64 = 128;

    fn bucket(v: u64) -> usize {
        if v < Self::LINEAR {
            return v as usize;
        }
        let exponent = 63 - u64::from(v.leading_zeros());
        let mantissa = (v >> (exponent - 6)) - 64;
        (Self::LINEAR + (exponent - 7) * 64 + mantissa) as usize
    }

    /// The middle of a bucket.
    fn value(bucket: usize) -> f64 {
        let b = bucket as u64;
        if b < Self::LINEAR {
            return b as f64;
        }
        let (exponent, mantissa) = ((b - Self::LINEAR) / 64 + 7, (b - Self::LINEAR) % 64 + 64);
        let width = 1u64 << (exponent - 6);
        (mantissa * width) as f64 + width as f64 / 2.0
    }

    fn record(&mut self, micros: u64) {
        let b = Self::bucket(micros);
        if self.counts.len() <= b {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        self.total += 1;
        self.max = self.max.max(micros);
    }

    /// p50/p99/max in milliseconds.
    fn summary(&self) -> Spread {
        let at = |p: f64| {
            if self.total == 0 {
                return f64::NAN;
            }
            let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (b, count) in self.counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return Self::value(b).min(self.max as f64) / 1000.0;
                }
            }
            self.max as f64 / 1000.0
        };
        Spread { p50: at(50.0), p99: at(99.0), max: if self.total == 0 { f64::NAN } else { self.max as f64 / 1000.0 } }
    }
}

/// p50, p99 and max, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Spread {
    p50: f64,
    p99: f64,
    max: f64,
}

impl Spread {
    fn of(values_ms: &[f64]) -> Spread {
        let mut v = values_ms.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |p: f64| {
            if v.is_empty() {
                f64::NAN
            } else {
                v[(((p / 100.0) * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
            }
        };
        Spread { p50: at(50.0), p99: at(99.0), max: at(100.0) }
    }
}

// ---------------------------------------------------------------------------------------
// The load

enum Outcome {
    Stored { seq: u64, answered: u32 },
    Refused(u16),
    Failed,
    TimedOut,
}

struct Report {
    sent: u32,
    outcome: Outcome,
}

/// Posts `settings.reports()` reports at `settings.rate` per second, open-loop; returns
/// every report's outcome and the most that were in flight at once. The institutions post
/// from a thread and runtime of their own, as they would from elsewhere: the clients' work
/// in this process neither delays the reports nor their timing.
async fn drive(ghor: &Ghor, settings: &Settings, clock: Instant) -> anyhow::Result<(Vec<Report>, usize)> {
    let (url, institutions) = (ghor.url.clone(), ghor.institutions.clone());
    let (rate, count) = (settings.rate, settings.reports());
    let (done, outcome) = tokio::sync::oneshot::channel();
    let pinned = settings.pin;
    std::thread::Builder::new().name("institutions".into()).spawn(move || {
        let posted = pinned
            .then(|| pin(Side::Clients))
            .transpose()
            .and_then(|_| tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Into::into))
            .and_then(|runtime| runtime.block_on(post_reports(&url, &institutions, rate, count, clock)));
        let _ = done.send(posted);
    })?;
    outcome.await?
}

async fn post_reports(
    url: &str,
    institutions: &[String],
    rate: u32,
    count: usize,
    clock: Instant,
) -> anyhow::Result<(Vec<Report>, usize)> {
    let http = reqwest::Client::new();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    let mut tasks = Vec::with_capacity(count);
    for n in 0..count {
        every.tick().await;
        let (k, event) = report(n);
        let request = http.post(format!("{url}/v1/events")).bearer_auth(&institutions[k]).json(&event);
        let (in_flight, most) = (in_flight.clone(), most.clone());
        tasks.push(tokio::spawn(async move {
            let sent = micros(clock);
            most.fetch_max(in_flight.fetch_add(1, Ordering::Relaxed) + 1, Ordering::Relaxed);
            let answer = tokio::time::timeout(PATIENCE, async {
                let response = request.send().await?;
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                Ok::<_, reqwest::Error>((status, body))
            })
            .await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            let answered = micros(clock);
            let outcome = match answer {
                Err(_) => Outcome::TimedOut,
                Ok(Err(_)) => Outcome::Failed,
                Ok(Ok((201, body))) => match body["seq"].as_u64() {
                    Some(seq) => Outcome::Stored { seq, answered },
                    None => Outcome::Failed,
                },
                Ok(Ok((status, _))) => Outcome::Refused(status),
            };
            Report { sent, outcome }
        }));
    }
    let mut reports = Vec::with_capacity(tasks.len());
    for task in tasks {
        reports.push(task.await?);
    }
    Ok((reports, most.load(Ordering::Relaxed)))
}

// ---------------------------------------------------------------------------------------
// The baseline: a bare tokio-tungstenite broadcast

const BARE_EPOCH: &str = "00000000-0000-7000-8000-000000000000";

/// `count` frames chained from 0 to `count`: the recorded ghor deltas in order, cycled.
fn bare_frames(recorded: &[String], count: usize, gzip: bool) -> anyhow::Result<Vec<Message>> {
    ensure!(!recorded.is_empty(), "the first ghor client received no delta to replay in the baseline");
    let mut frames = Vec::with_capacity(count);
    for (i, text) in recorded.iter().cycle().take(count).enumerate() {
        let mut delta: Value = serde_json::from_str(text)?;
        delta["epoch"] = json!(BARE_EPOCH);
        delta["from"] = json!(i);
        delta["to"] = json!(i + 1);
        frames.push(as_ghor_sends(delta.to_string(), gzip));
    }
    Ok(frames)
}

/// A bare server: each connection waits for its hello, gets a small snapshot at seq 0 and
/// then every frame of the broadcast. Returns its address.
async fn bare_server(frames: broadcast::Sender<Message>) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}", listener.local_addr()?);
    let snapshot =
        json!({ "type": "snapshot", "epoch": BARE_EPOCH, "seq": 0, "reason": "initial", "regions": { REGION: {} } });
    let snapshot = Message::text(snapshot.to_string());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (mut rx, snapshot) = (frames.subscribe(), snapshot.clone());
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(socket).await else { return };
                let (mut sink, mut incoming) = ws.split();
                if !matches!(incoming.next().await, Some(Ok(Message::Text(_)))) || sink.send(snapshot).await.is_err() {
                    return;
                }
                loop {
                    tokio::select! {
                        frame = rx.recv() => match frame {
                            Ok(frame) => if sink.send(frame).await.is_err() { return },
                            Err(_) => return, // lagged (the capacity holds every frame) or closed
                        },
                        message = incoming.next() => match message {
                            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                            Some(Ok(_)) => {}
                        },
                    }
                }
            });
        }
    });
    Ok(url)
}

struct Bare {
    paced_frames_per_s: f64,
    paced_mb_per_s: f64,
    paced_latency: Spread,
    paced_complete: bool,
    flood_frames_per_s: f64,
    flood_mb_per_s: f64,
    flood_complete: bool,
    harness_cpu: f64,
    broken: usize,
}

/// The same frames to the same number of fresh clients: paced over T seconds, then R·T of
/// them all at once.
async fn baseline(recorded: &[String], settings: &Settings, ticks: f64) -> anyhow::Result<Bare> {
    let (count, flat_out) = (recorded.len(), settings.reports());
    let frames = bare_frames(recorded, count + flat_out, settings.gzip)?;
    let (tx, _) = broadcast::channel((count + flat_out).next_power_of_two());
    let url = bare_server(tx.clone()).await?;
    let clock = Instant::now();
    let clients = Clients::connect(settings.clients, clock, false, |_| {
        let url = url.clone();
        async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
            ws.send(Message::text(json!({ "type": "hello", "ticket": "bare", "regions": [REGION] }).to_string()))
                .await?;
            Ok::<_, anyhow::Error>(ws)
        }
    })
    .await?;
    let cpu = CpuMeter::start(None, ticks);

    let mut sent = Vec::with_capacity(count);
    let mut every = tokio::time::interval(Duration::from_secs_f64(f64::from(settings.seconds) / count as f64));
    for frame in &frames[..count] {
        every.tick().await;
        sent.push(micros(clock));
        tx.send(frame.clone()).context("the bare server has no client")?;
    }
    let paced_complete = clients.until_at(count as u64, Instant::now() + PATIENCE).await;
    let paced_end = micros(clock);

    let flood_start = micros(clock);
    for frame in &frames[count..] {
        tx.send(frame.clone()).context("the bare server has no client")?;
    }
    let flood_complete = clients.until_at((count + flat_out) as u64, Instant::now() + PATIENCE).await;
    let flood_end = micros(clock);
    let (_, harness_cpu) = cpu.read();
    let seen = clients.finish().await?;

    let mut latency = Histogram::default();
    let (mut paced, mut flood) = ((0u64, 0u64), (0u64, 0u64));
    for client in &seen {
        for &(_, to, arrived) in &client.deltas {
            if (to as usize) <= count {
                latency.record(u64::from(arrived.saturating_sub(sent[to as usize - 1])));
                paced.0 += 1;
            } else {
                flood.0 += 1;
            }
        }
    }
    // Bytes by phase: every client got the same frames.
    let frame_bytes =
        |range: std::ops::Range<usize>| -> u64 { frames[range].iter().map(|f| f.len() as u64).sum::<u64>() };
    let clients_n = seen.len() as u64;
    paced.1 = frame_bytes(0..count) * clients_n;
    flood.1 = frame_bytes(count..count + flat_out) * clients_n;
    let paced_s = f64::from(paced_end - sent.first().copied().unwrap_or(0)) / 1e6;
    let flood_s = f64::from(flood_end - flood_start) / 1e6;
    Ok(Bare {
        paced_frames_per_s: paced.0 as f64 / paced_s,
        paced_mb_per_s: paced.1 as f64 / paced_s / 1e6,
        paced_latency: latency.summary(),
        paced_complete,
        flood_frames_per_s: flood.0 as f64 / flood_s,
        flood_mb_per_s: flood.1 as f64 / flood_s / 1e6,
        flood_complete,
        harness_cpu,
        broken: seen.iter().filter(|s| s.broken.is_some()).count(),
    })
}

// ---------------------------------------------------------------------------------------
// One round

struct Figures {
    reports: usize,
    on_time: usize,
    late: usize,
    refused: BTreeMap<u16, usize>,
    failed: usize,
    timed_out: usize,
    most_in_flight: usize,
    report: Spread,
    to_delta: Spread,
    delta_before_201: u64,
    post_to_delta: Spread,
    deliveries: u64,
    deliveries_expected: u64,
    window_s: f64,
    drained: bool,
    frames_per_s: f64,
    mb_per_s: f64,
    reports_per_delta: f64,
    snapshot_kb: f64,
    unbroken: usize,
    restarted: usize,
    restarts: BTreeMap<String, usize>,
    broken: Vec<String>,
    rss_none_mib: f64,
    rss_idle_mib: f64,
    per_idle_client_kib: f64,
    rss_load_peak_mib: f64,
    rss_load_end_mib: f64,
    server_cpu: f64,
    /// The server's CPU over the drain window by thread name, in % of a core.
    server_threads: Vec<(String, f64)>,
    harness_cpu: f64,
    load_before: String,
    bare: Bare,
}

async fn measure(settings: &Settings, round: usize, ticks: f64) -> anyhow::Result<Figures> {
    let load_before = load_average();
    progress(format!(
        "round {round}: starting ghor ({:?}) with {} viewer tokens (load average {load_before})",
        settings.backend,
        settings.viewer_tokens()
    ));
    let ghor = Ghor::start(settings).await?;
    let viewers = ghor.viewers.clone();
    // What grows with the first connections (pools, buffers) is not per client: a few
    // clients come and go before the baseline is read.
    let warm_up = Clients::connect(settings.clients.min(CONNECTING_AT_ONCE), Instant::now(), false, |me| {
        ghor.open(&viewers[me / CLIENTS_PER_TOKEN])
    })
    .await?;
    warm_up.finish().await?;
    ghor.until_no_clients().await?;
    let rss_none = rss_kib(ghor.pid)?;
    let clock = Instant::now();
    progress(format!("round {round}: connecting {} clients", settings.clients));
    let clients =
        Clients::connect(settings.clients, clock, true, |me| ghor.open(&viewers[me / CLIENTS_PER_TOKEN])).await?;
    let rss_idle = rss_kib(ghor.pid)?;

    progress(format!(
        "round {round}: {} reports per second for {} s to {} clients",
        settings.rate, settings.seconds, settings.clients
    ));
    let (stop_sampling, sampler) = sample_memory(ghor.pid);
    let cpu = CpuMeter::start(Some(ghor.pid), ticks);
    let threads_before = thread_cpu(ghor.pid, ticks);
    let started = micros(clock);
    let (reports, most_in_flight) = drive(&ghor, settings, clock).await?;
    let last = reports
        .iter()
        .filter_map(|r| match r.outcome {
            Outcome::Stored { seq, .. } => Some(seq),
            _ => None,
        })
        .max()
        .ok_or_else(|| anyhow!("not one report was stored"))?;
    progress(format!("round {round}: reports settled; waiting for every client to hold seq {last}"));
    let drained = clients.until_at(last, Instant::now() + PATIENCE).await;
    let window_s = f64::from(micros(clock) - started) / 1e6;
    let (server_cpu, harness_cpu) = cpu.read();
    let server_threads = cpu_by_thread_name(&threads_before, &thread_cpu(ghor.pid, ticks), window_s);
    let rss_load_end = rss_kib(ghor.pid)?;
    let _ = stop_sampling.send(true);
    let samples = sampler.await?;
    if !drained {
        progress(format!("round {round}: {} clients still behind seq {last} after {PATIENCE:?}", clients.behind(last)));
    }
    let seen = clients.finish().await?;
    drop(ghor);

    // Reports.
    let mut figures_reports = (0, 0, BTreeMap::new(), 0, 0);
    let mut report_ms = Vec::new();
    let base = reports
        .iter()
        .filter_map(|r| match r.outcome {
            Outcome::Stored { seq, .. } => Some(seq),
            _ => None,
        })
        .min()
        .unwrap_or(0);
    let mut by_seq: Vec<Option<(u32, u32)>> = vec![None; (last - base + 1) as usize];
    for r in &reports {
        match r.outcome {
            Outcome::Stored { seq, answered } => {
                let took = Duration::from_micros(u64::from(answered - r.sent));
                report_ms.push(took.as_secs_f64() * 1000.0);
                if took <= LATE {
                    figures_reports.0 += 1;
                } else {
                    figures_reports.1 += 1;
                }
                by_seq[(seq - base) as usize] = Some((r.sent, answered));
            }
            Outcome::Refused(status) => *figures_reports.2.entry(status).or_insert(0) += 1,
            Outcome::Failed => figures_reports.3 += 1,
            Outcome::TimedOut => figures_reports.4 += 1,
        }
    }

    // Deliveries.
    let (mut to_delta, mut post_to_delta) = (Histogram::default(), Histogram::default());
    let (mut delta_before_201, mut deliveries, mut frames, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    for client in &seen {
        frames += client.deltas.len() as u64;
        bytes += client.delta_bytes;
        for &(from, to, arrived) in &client.deltas {
            for seq in u64::from(from) + 1..=u64::from(to) {
                let Some(Some((sent, answered))) = seq.checked_sub(base).and_then(|i| by_seq.get(i as usize)) else {
                    continue;
                };
                deliveries += 1;
                if arrived < *answered {
                    delta_before_201 += 1;
                }
                to_delta.record(u64::from(arrived.saturating_sub(*answered)));
                post_to_delta.record(u64::from(arrived.saturating_sub(*sent)));
            }
        }
    }
    let stored = (figures_reports.0 + figures_reports.1) as u64;
    let mut restarts = BTreeMap::new();
    for reason in seen.iter().flat_map(|s| &s.restarts) {
        *restarts.entry(reason.clone()).or_insert(0) += 1;
    }
    let broken: Vec<String> = seen.iter().filter_map(|s| s.broken.clone()).collect();
    let unbroken = seen.iter().filter(|s| s.broken.is_none() && s.restarts.is_empty()).count();
    let restarted = seen.iter().filter(|s| s.broken.is_none() && !s.restarts.is_empty()).count();
    let snapshot_kb = seen.first().map_or(f64::NAN, |s| s.first_snapshot_bytes as f64 / 1000.0);
    let recorded = seen.first().map(|s| s.frames.clone()).unwrap_or_default();
    drop(seen);

    progress(format!("round {round}: the bare broadcast of the same frames to {} clients", settings.clients));
    let bare = baseline(&recorded, settings, ticks).await?;

    let mib = |kib: u64| kib as f64 / 1024.0;
    Ok(Figures {
        reports: reports.len(),
        on_time: figures_reports.0,
        late: figures_reports.1,
        refused: figures_reports.2,
        failed: figures_reports.3,
        timed_out: figures_reports.4,
        most_in_flight,
        report: Spread::of(&report_ms),
        to_delta: to_delta.summary(),
        delta_before_201,
        post_to_delta: post_to_delta.summary(),
        deliveries,
        deliveries_expected: stored * settings.clients as u64,
        window_s,
        drained,
        frames_per_s: frames as f64 / window_s,
        mb_per_s: bytes as f64 / window_s / 1e6,
        reports_per_delta: deliveries as f64 / frames as f64,
        snapshot_kb,
        unbroken,
        restarted,
        restarts,
        broken,
        rss_none_mib: mib(rss_none),
        rss_idle_mib: mib(rss_idle),
        per_idle_client_kib: (rss_idle as f64 - rss_none as f64) / settings.clients as f64,
        rss_load_peak_mib: mib(samples.iter().copied().max().unwrap_or(rss_load_end).max(rss_load_end)),
        rss_load_end_mib: mib(rss_load_end),
        server_cpu,
        server_threads,
        harness_cpu,
        load_before,
        bare,
    })
}

// ---------------------------------------------------------------------------------------
// The table

/// One row: what it is, each round's value, how many decimals.
struct Row {
    figure: &'static str,
    values: Vec<f64>,
    decimals: usize,
}

fn rows(all: &[Figures]) -> Vec<Row> {
    let row =
        |figure, decimals, f: &dyn Fn(&Figures) -> f64| Row { figure, values: all.iter().map(f).collect(), decimals };
    vec![
        row("reports sent", 0, &|f| f.reports as f64),
        row("… answered 201 within 1 s", 0, &|f| f.on_time as f64),
        row("… answered 201 later (late)", 0, &|f| f.late as f64),
        row("… refused (other status)", 0, &|f| f.refused.values().sum::<usize>() as f64),
        row("… failed (no HTTP answer)", 0, &|f| f.failed as f64),
        row("… not answered within 60 s", 0, &|f| f.timed_out as f64),
        row("reports in flight at most", 0, &|f| f.most_in_flight as f64),
        row("report POST → 201 p50 (ms)", 1, &|f| f.report.p50),
        row("report POST → 201 p99 (ms)", 1, &|f| f.report.p99),
        row("report POST → 201 max (ms)", 1, &|f| f.report.max),
        row("201 → delta p50 (ms)", 1, &|f| f.to_delta.p50),
        row("201 → delta p99 (ms)", 1, &|f| f.to_delta.p99),
        row("201 → delta max (ms)", 1, &|f| f.to_delta.max),
        row("deltas that came before their 201 (%)", 1, &|f| 100.0 * f.delta_before_201 as f64 / f.deliveries as f64),
        row("POST → delta p50 (ms)", 1, &|f| f.post_to_delta.p50),
        row("POST → delta p99 (ms)", 1, &|f| f.post_to_delta.p99),
        row("POST → delta max (ms)", 1, &|f| f.post_to_delta.max),
        row("report deliveries measured (% of clients × stored)", 1, &|f| {
            100.0 * f.deliveries as f64 / f.deliveries_expected as f64
        }),
        row("drain window: first report → all clients hold the last (s)", 1, &|f| f.window_s),
        row("all clients caught up within 60 s after the last answer (1 = yes)", 0, &|f| {
            f64::from(u8::from(f.drained))
        }),
        row("delta messages delivered per second (all clients)", 0, &|f| f.frames_per_s),
        row("delta MB delivered per second", 2, &|f| f.mb_per_s),
        row("reports per delta message", 2, &|f| f.reports_per_delta),
        row("snapshot size (kB)", 1, &|f| f.snapshot_kb),
        row("clients with an unbroken chain", 0, &|f| f.unbroken as f64),
        row("clients restarted from an explicit snapshot", 0, &|f| f.restarted as f64),
        row("clients with a broken chain or ended early", 0, &|f| f.broken.len() as f64),
        row("server RSS, no clients (MiB)", 1, &|f| f.rss_none_mib),
        row("server RSS, clients idle (MiB)", 1, &|f| f.rss_idle_mib),
        row("server RSS per idle client (KiB)", 1, &|f| f.per_idle_client_kib),
        row("server RSS under load, peak (MiB)", 1, &|f| f.rss_load_peak_mib),
        row("server RSS at the end of the drain (MiB)", 1, &|f| f.rss_load_end_mib),
        row("server CPU over the drain window (% of a core)", 0, &|f| f.server_cpu),
        row("harness CPU over the drain window (% of a core)", 0, &|f| f.harness_cpu),
        row("bare broadcast, paced (ghor's frames over T s): delta messages per second", 0, &|f| {
            f.bare.paced_frames_per_s
        }),
        row("bare broadcast, paced: MB per second", 2, &|f| f.bare.paced_mb_per_s),
        row("bare broadcast, paced: send → receipt p50 (ms)", 1, &|f| f.bare.paced_latency.p50),
        row("bare broadcast, paced: send → receipt p99 (ms)", 1, &|f| f.bare.paced_latency.p99),
        row("bare broadcast, paced: send → receipt max (ms)", 1, &|f| f.bare.paced_latency.max),
        row("bare broadcast, flat out (R·T frames): delta messages per second", 0, &|f| f.bare.flood_frames_per_s),
        row("bare broadcast, flat out: MB per second", 2, &|f| f.bare.flood_mb_per_s),
        row("bare broadcast: harness CPU incl. its server (% of a core)", 0, &|f| f.bare.harness_cpu),
        row("ghor / bare paced, delta messages per second (%)", 1, &|f| {
            100.0 * f.frames_per_s / f.bare.paced_frames_per_s
        }),
        row("ghor / bare flat out, delta messages per second (%)", 1, &|f| {
            100.0 * f.frames_per_s / f.bare.flood_frames_per_s
        }),
        row("ghor / bare paced, bytes per second (%)", 1, &|f| 100.0 * f.mb_per_s / f.bare.paced_mb_per_s),
    ]
}

fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn print_table(settings: &Settings, all: &[Figures]) {
    println!(
        "\n### fan-out: {} clients on {REGION}, {} reports/s for {} s, {:?} backend, merging {}, {} round(s)\n",
        settings.clients,
        settings.rate,
        settings.seconds,
        settings.backend,
        if settings.merge { "on" } else { "off" },
        all.len()
    );
    let rounds: Vec<String> = (1..=all.len()).map(|r| format!("round {r}")).collect();
    println!("| figure | {} | median |", rounds.join(" | "));
    println!("|---|{}---:|", "---:|".repeat(all.len()));
    for row in rows(all) {
        let cells: Vec<String> = row.values.iter().map(|v| format!("{v:.*}", row.decimals)).collect();
        println!("| {} | {} | {:.*} |", row.figure, cells.join(" | "), row.decimals, median(&row.values));
    }
    println!();
    for (r, f) in all.iter().enumerate() {
        let r = r + 1;
        println!("round {r}: load average before {}", f.load_before);
        let threads: Vec<String> = f.server_threads.iter().map(|(name, pct)| format!("{name} {pct:.0} %")).collect();
        println!("round {r}: server CPU over the drain window by thread (% of a core): {}", threads.join(", "));
        if !f.refused.is_empty() {
            println!("round {r}: refused reports by status: {:?}", f.refused);
        }
        if !f.restarts.is_empty() {
            println!("round {r}: snapshots that restarted a chain, by reason: {:?}", f.restarts);
        }
        for broken in f.broken.iter().take(3) {
            println!("round {r}: a client stopped early: {broken}");
        }
        if !f.bare.paced_complete || !f.bare.flood_complete || f.bare.broken > 0 {
            println!(
                "round {r}: the bare broadcast was incomplete (paced caught up: {}, flat out caught up: {}, clients ended early: {})",
                f.bare.paced_complete, f.bare.flood_complete, f.bare.broken
            );
        }
    }
}

/// Which cores a thread may run on with `GHOR_BENCH_PIN=on`.
#[derive(Clone, Copy)]
enum Side {
    /// The first core: ghor and nats-server, started by the main thread, inherit it.
    Server,
    /// The other cores: the clients, the bare broadcast and the institutions.
    Clients,
}

/// The machine's cores (read before any thread is pinned: a pinned thread sees its own).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Keeps the calling thread, and the threads and processes it starts from now on, to its
/// side's cores.
fn pin(side: Side) -> anyhow::Result<()> {
    use rustix::thread::{sched_setaffinity, CpuSet};
    ensure!(cores() >= 2, "GHOR_BENCH_PIN=on needs at least 2 cores, this machine has {}", cores());
    let mut set = CpuSet::new();
    match side {
        Side::Server => set.set(0),
        Side::Clients => (1..cores()).for_each(|core| set.set(core)),
    }
    sched_setaffinity(None, &set).context("pin a thread to its cores")
}

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` asks for the list of benchmarks
    }
    let settings = Settings::from_env()?;
    let open_files = rlimit::increase_nofile_limit(OPEN_FILES).context("raise the open-file limit")?;
    let needed = 2 * settings.clients as u64 + 4 * settings.rate as u64 + 256;
    if open_files < needed {
        eprintln!(
            "warning: {open_files} open files allowed, about {needed} needed; run `ulimit -n {OPEN_FILES}` first (as root if the hard limit is lower)"
        );
    }
    let ticks = clock_ticks();
    let cores = cores();
    if settings.pin {
        pin(Side::Server)?;
    }
    let pinned = settings.pin;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if settings.pin { cores - 1 } else { cores })
        .on_thread_start(move || {
            if let Some(Err(e)) = pinned.then(|| pin(Side::Clients)) {
                eprintln!("warning: a client thread runs on any core: {e:#}");
            }
        })
        .enable_all()
        .build()?;
    let all: Vec<Figures> = (1..=settings.rounds)
        .map(|round| runtime.block_on(measure(&settings, round, ticks)))
        .collect::<anyhow::Result<_>>()?;
    print_table(&settings, &all);
    println!(
        "\n{} cores; open-file limit {open_files}; reports spread over {ORGANISATIONS} institution tokens, clients over {} ROT tokens.",
        cores,
        settings.viewer_tokens()
    );
    if settings.pin {
        println!("Pinned: ghor (and nats-server) on the first core, the clients and institutions on the others.");
    }
    Ok(())
}
