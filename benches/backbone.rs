//! Backbone benchmarks, each ghor part beside its raw baseline in the same run (HTTP ingest vs raw JetStream publish, gateway catch-up vs a raw ordered consumer, projector vs a bare multi-row insert); run `cargo bench --bench backbone` (`-- --quick` or GHOR_BENCH_QUICK=1 for a short check), with nats-server and PostgreSQL as tests/run provides them.
//!
//! Needs `nats-server` (from `GHOR_NATS_SERVER` or the `PATH`), PostgreSQL (at
//! `GHOR_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`) and
//! `psql`, exactly as `tests/run` installs them:
//!
//! ```text
//! export GHOR_NATS_SERVER=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/nats-server
//! cargo bench --bench backbone
//! ```
//!
//! 1. **HTTP ingest**: a real `ghor serve` on the production backbone (nats-server and
//!    PostgreSQL); 16 keep-alive clients post beds reports for registered locations, one
//!    per request (`/v1/events`) and in batches of 100 (`/v1/events/batch`). Baseline: the
//!    stored CloudEvents of the same reports published raw to a separate stream on the
//!    same nats-server (async publish of all, then await the acks, with `Nats-Msg-Id`).
//! 2. **Gateway catch-up**: K events appended with `NatsLog::append`; then
//!    `Gateway::start` on an empty read model until `caught_up(K)`. Baseline: a raw
//!    ordered consumer receiving the same K messages from the same stream.
//! 3. **Projector**: `projector::run` from an empty database until its checkpoint is K.
//!    Baseline: the same archive rows inserted bare (multi-row `INSERT … VALUES`, 1000
//!    rows per transaction, through `psql`) into a plain table in a fresh database.
//!
//! Every measurement is repeated (ghor and baseline interleaved, against the same servers
//! and payloads) and the medians are compared; `GHOR_BENCH_ROUNDS=n` sets the rounds,
//! `GHOR_BENCH_ONLY=ingest|serve|replay` runs one part.
//! Before each measurement the system is let settle (the serving ghor's projector caught
//! up, and `VACUUM (ANALYZE)` when the PostgreSQL runs without autovacuum, as CI
//! configurations do), so one round's leftovers do not slow the next. The bench client
//! runs on the same machine as nats-server, PostgreSQL and ghor: on a small machine they
//! all share the cores, as in a single-node deployment. Diagnostics without a baseline
//! (`NatsLog::read` alone, archive-only commits, …) show where ghor's time goes.
//!
//! Institution tokens carry a rate limit (50 requests per second, bursts of 200): the
//! bench spreads its reports over 128 organisations, each with its own token (issued with
//! `ghor_server::auth::issue`, as `ghor token create` does), so the limit is not what is
//! measured (a 429 is counted and reported). The bare insert goes through `psql` because
//! the root package has no sqlx dev-dependency.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _};
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::stream::{Config as StreamConfig, DiscardPolicy, StorageType};
use async_nats::HeaderMap;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use ghor_domain::{Event, RegionCode, Role, Scope, Slug, Stamp, Submission};
use ghor_server::auth::{issue, TokenRequest};
use ghor_server::gateway::Gateway;
use ghor_store::nats::{NatsLog, StreamSettings};
use ghor_store::postgres::Postgres;
use ghor_store::testing::{NatsServer, TestDatabase};
use ghor_store::{Appended, Archived, EventLog, ProjectionBatch, ReadModel};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The gateway and projector measured in this process allocate as they do in `ghor`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Organisations, each with its own institution token, and their locations.
const ORGS: usize = 128;
const LOCATIONS_PER_ORG: usize = 4;
const REGIONS: [&str; 5] = ["VR01", "VR02", "VR03", "VR04", "VR05"];
const BED_KINDS: [&str; 3] = ["ic", "klinisch", "mc"];
/// Events per HTTP batch, per `NatsLog::append` chunk, and per baseline transaction.
const BATCH: usize = 100;
const CHUNK: usize = 1000;
/// The stream the raw publish baseline writes to, beside ghor's own.
const RAW_STREAM: &str = "BENCH_RAW";
const GHOR_STREAM: &str = "GHOR_LIVE";
/// No single wait in the bench may take longer.
const PATIENCE: Duration = Duration::from_secs(600);

/// How much work one run does.
#[derive(Debug, Clone)]
struct Plan {
    quick: bool,
    /// Rounds of the ingest benchmark.
    rounds: usize,
    /// Rounds of the catch-up and projector benchmarks (each reads all K events).
    replay_rounds: usize,
    /// Concurrent HTTP clients.
    clients: usize,
    /// Events per round of single-event ingest.
    singles: usize,
    /// Events per round of batch ingest (and of the raw publish).
    batched: usize,
    /// Events in the stream the gateway and projector replay.
    k: usize,
}

impl Plan {
    fn from_env() -> Plan {
        let quick = std::env::args().any(|a| a == "--quick")
            || std::env::var("GHOR_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut plan = if quick {
            Plan { quick, rounds: 2, replay_rounds: 2, clients: 16, singles: 1_000, batched: 5_000, k: 10_000 }
        } else {
            Plan { quick, rounds: 5, replay_rounds: 3, clients: 16, singles: 4_000, batched: 40_000, k: 100_000 }
        };
        if let Some(n) = std::env::var("GHOR_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0) {
            plan.rounds = n;
            plan.replay_rounds = n;
        }
        plan
    }
}

/// A small deterministic generator (splitmix64): every run reports about the same places.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ---------------------------------------------------------------------------------------
// The registry and the reports
// ---------------------------------------------------------------------------------------

fn org_slug(org: usize) -> String {
    format!("org-{org:03}")
}

fn region_name(org: usize) -> &'static str {
    REGIONS[org % REGIONS.len()]
}

fn region_of(org: usize) -> RegionCode {
    RegionCode::try_from(region_name(org)).expect("bench region is valid")
}

fn location_slug(location: usize) -> String {
    format!("zh-{:03}-{}", location / LOCATIONS_PER_ORG, location % LOCATIONS_PER_ORG)
}

fn org_of(location: usize) -> usize {
    location / LOCATIONS_PER_ORG
}

fn client_event(source: &str, event_type: &str, subject: Option<&str>, time: DateTime<Utc>, data: Value) -> Value {
    let mut e = json!({
        "specversion": "1.0",
        "id": uuid::Uuid::now_v7().to_string(),
        "source": source,
        "type": event_type,
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    });
    if let Some(s) = subject {
        e["subject"] = json!(s);
    }
    e
}

/// The organisations and their locations, as a netwerkfunctionaris registers them.
fn registrations() -> Vec<Value> {
    let now = Utc::now();
    let mut events = Vec::with_capacity(ORGS * (1 + LOCATIONS_PER_ORG));
    for org in 0..ORGS {
        events.push(client_event(
            &format!("/regions/{}", region_name(org)),
            "nl.ghor.organisation.registered.v1",
            Some(&org_slug(org)),
            now,
            json!({ "name": format!("Zorgorganisatie {org}") }),
        ));
        for n in 0..LOCATIONS_PER_ORG {
            let location = org * LOCATIONS_PER_ORG + n;
            events.push(client_event(
                &format!("/locations/{}", location_slug(location)),
                "nl.ghor.location.registered.v1",
                None,
                now,
                json!({
                    "name": format!("Ziekenhuis {org} locatie {n}"),
                    "organisation": org_slug(org),
                    "type": "ziekenhuis",
                    "region": region_name(org),
                    "municipality": "Groningen",
                    "point": { "lat": 52.0 + (location % 100) as f64 / 100.0, "lon": 5.0 + (location / 100) as f64 / 10.0 },
                }),
            ));
        }
    }
    events
}

/// A beds report about `location` with a fresh UUIDv7 and a time of (about) now.
fn beds_report(mix: &mut Mix, location: usize, now: DateTime<Utc>) -> Value {
    let operational = 10 + mix.below(50);
    client_event(
        &format!("/locations/{}", location_slug(location)),
        "nl.ghor.beds.reported.v1",
        Some(BED_KINDS[mix.below(BED_KINDS.len())]),
        now - chrono::Duration::seconds(mix.below(600) as i64),
        json!({
            "operational": operational,
            "physical": operational + mix.below(10),
            "occupied": mix.below(operational + 1),
            "surge_24h": mix.below(5),
        }),
    )
}

/// What ingest makes of a client's event: the event as the log stores it.
fn accepted(client: &Value, region: RegionCode, actor: &str, received: DateTime<Utc>) -> Event {
    Submission::parse(client.clone())
        .and_then(|s| s.accept(Stamp { region, scope: Scope::Live, actor: actor.to_owned(), received }))
        .unwrap_or_else(|e| panic!("bench event is invalid: {e:?}: {client}"))
}

fn institution_name(org: usize) -> String {
    format!("ZIS {}", org_slug(org))
}

/// One raw JetStream message: subject, `Nats-Msg-Id`, the stored CloudEvent.
struct RawMessage {
    subject: String,
    msg_id: String,
    body: Vec<u8>,
}

fn raw_message(event: &Event) -> RawMessage {
    let ghor_subject = ghor_store::nats::subject(event);
    RawMessage {
        subject: ghor_subject.replacen("ghor.live.ev.", "bench.raw.", 1),
        msg_id: event.dedup_key(),
        body: event.to_bytes().expect("bench events serialise"),
    }
}

// ---------------------------------------------------------------------------------------
// Measuring and reporting
// ---------------------------------------------------------------------------------------

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn rate(events: usize, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn fmt_rate(r: f64) -> String {
    if !r.is_finite() {
        return "n/a".to_owned();
    }
    let n = r.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn fmt_rounds(values: &[f64]) -> String {
    values.iter().map(|v| fmt_rate(*v)).collect::<Vec<_>>().join(", ")
}

/// One line of the final table: ghor's figure beside its baseline.
struct Comparison {
    what: String,
    ghor: Vec<f64>,
    baseline_name: String,
    baseline: Vec<f64>,
    aim: Option<f64>,
}

/// A figure without a baseline, for finding where the time goes.
struct Diagnostic {
    what: String,
    values: Vec<f64>,
    unit: &'static str,
}

#[derive(Default)]
struct Report {
    comparisons: Vec<Comparison>,
    diagnostics: Vec<Diagnostic>,
    notes: Vec<String>,
}

impl Report {
    fn diagnostic(&mut self, what: impl Into<String>, values: Vec<f64>, unit: &'static str) {
        self.diagnostics.push(Diagnostic { what: what.into(), values, unit });
    }

    fn print(&self, plan: &Plan) {
        println!();
        println!(
            "== ghor backbone benchmarks{}: medians of {} ingest rounds and {} replay rounds, ratio = ghor / baseline ==",
            if plan.quick { " (quick)" } else { "" },
            plan.rounds,
            plan.replay_rounds
        );
        for c in &self.comparisons {
            let (g, b) = (median(&c.ghor), median(&c.baseline));
            let ratio = 100.0 * g / b;
            let aim = match c.aim {
                Some(aim) if ratio >= aim => format!(" (aim ≥ {aim:.0} %: met)"),
                Some(aim) => format!(" (aim ≥ {aim:.0} %: NOT met)"),
                None => String::new(),
            };
            println!(
                "{}: {} ev/s; {}: {} ev/s; ratio {:.1} %{aim}",
                c.what,
                fmt_rate(g),
                c.baseline_name,
                fmt_rate(b),
                ratio
            );
        }
        for c in &self.comparisons {
            println!(
                "   rounds of {}: [{}]; {}: [{}]",
                c.what,
                fmt_rounds(&c.ghor),
                c.baseline_name,
                fmt_rounds(&c.baseline)
            );
        }
        if !self.diagnostics.is_empty() {
            println!("-- diagnostics (no baseline) --");
            for d in &self.diagnostics {
                println!(
                    "{}: {} {} (rounds: [{}])",
                    d.what,
                    fmt_rate(median(&d.values)),
                    d.unit,
                    fmt_rounds(&d.values)
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for note in self.notes.iter().filter(|n| seen.insert(*n)) {
            println!("note: {note}");
        }
    }
}

fn progress(line: impl AsRef<str>) {
    eprintln!("  {}", line.as_ref());
    let _ = std::io::stderr().flush();
}

// ---------------------------------------------------------------------------------------
// The ghor binary
// ---------------------------------------------------------------------------------------

/// `target/release/ghor`, built by `cargo bench` beside this bench.
fn ghor_binary() -> anyhow::Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = option_env!("CARGO_BIN_EXE_ghor") {
        candidates.push(PathBuf::from(path));
    }
    if let Ok(exe) = std::env::current_exe() {
        // target/release/deps/backbone-<hash> → target/release/ghor
        for dir in exe.ancestors().skip(1).take(2) {
            candidates.push(dir.join("ghor"));
        }
    }
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    progress("the ghor binary is missing; running `cargo build --release --bin ghor`");
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["build", "--release", "--bin", "ghor"])
        .status()
        .context("cannot run cargo")?;
    ensure!(status.success(), "cargo build --release --bin ghor failed");
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        anyhow!("no ghor binary next to the bench (target/release/ghor): run `cargo build --release` first")
    })
}

/// A running `ghor serve`, killed when dropped.
struct Serve {
    url: String,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Serve {
    /// `role`: `serve` (every part in one process) or `ingest` (the ingest role alone).
    async fn start(bin: &PathBuf, role: &str, nats: &str, database: &str) -> anyhow::Result<Serve> {
        let dir = tempfile::tempdir()?;
        let mut child = tokio::process::Command::new(bin)
            .args([role, "--listen", "127.0.0.1:0", "--overdue-every", "3600", "--nats", nats, "--database", database])
            .arg("--data-dir")
            .arg(dir.path())
            .env("GHOR_LOG", std::env::var("GHOR_LOG").unwrap_or_else(|_| "warn".to_owned()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stdout = child.stdout.take().context("ghor's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .with_context(|| format!("ghor {role} did not start within 60 s"))??
            .with_context(|| format!("ghor {role} exited before it listened"))?;
        let url = line
            .strip_prefix("ghor listening on ")
            .ok_or_else(|| anyhow!("unexpected first line from ghor {role}: {line}"))?
            .to_owned();
        // Keep draining stdout so ghor never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Serve { url, child, _dir: dir })
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

// ---------------------------------------------------------------------------------------
// 1. HTTP ingest beside raw JetStream publish
// ---------------------------------------------------------------------------------------

/// What the server answered over one HTTP round.
#[derive(Debug, Default, Clone, Copy)]
struct Answers {
    stored: usize,
    limited: usize,
    failed: usize,
}

impl std::ops::AddAssign for Answers {
    fn add_assign(&mut self, o: Answers) {
        self.stored += o.stored;
        self.limited += o.limited;
        self.failed += o.failed;
    }
}

/// One request's worth of work: the token to use, the body, how many events it carries.
struct Request {
    token: usize,
    body: Vec<u8>,
    events: usize,
}

/// Posts every request, `clients` at a time, on one keep-alive client; returns the time
/// from the first request to the last answer.
async fn post_all(
    http: &reqwest::Client,
    url: String,
    tokens: &Arc<Vec<String>>,
    requests: Vec<Request>,
    clients: usize,
) -> anyhow::Result<(Duration, Answers)> {
    let mut shares: Vec<Vec<Request>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, r) in requests.into_iter().enumerate() {
        shares[i % clients].push(r);
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for share in shares {
        let (http, url, tokens) = (http.clone(), url.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let mut answers = Answers::default();
            for r in share {
                let response = http
                    .post(&url)
                    .bearer_auth(&tokens[r.token])
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(r.body)
                    .send()
                    .await;
                let Ok(response) = response else {
                    answers.failed += r.events;
                    continue;
                };
                let status = response.status().as_u16();
                let body = response.bytes().await.unwrap_or_default();
                match status {
                    200 | 201 => {
                        let rejected = count(&body, b"\"rejected\"");
                        answers.failed += rejected;
                        answers.stored += r.events - rejected.min(r.events);
                    }
                    429 => answers.limited += r.events,
                    _ => {
                        if answers.failed == 0 {
                            eprintln!("  unexpected answer {status}: {}", String::from_utf8_lossy(&body));
                        }
                        answers.failed += r.events;
                    }
                }
            }
            answers
        }));
    }
    let mut total = Answers::default();
    for t in tasks {
        total += t.await?;
    }
    Ok((started.elapsed(), total))
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Publishes every message (async, with `Nats-Msg-Id`), then awaits every ack.
async fn raw_publish(
    js: &async_nats::jetstream::Context,
    messages: Vec<RawMessage>,
) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let mut acks = Vec::with_capacity(messages.len());
    for m in messages {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", m.msg_id.as_str());
        acks.push(js.publish_with_headers(m.subject, headers, m.body.into()).await?);
    }
    let mut stored = 0;
    for ack in acks {
        if !ack.await?.duplicate {
            stored += 1;
        }
    }
    Ok((started.elapsed(), stored))
}

/// Waits until the serving ghor's projector has folded everything in its log, so the next
/// measurement does not compete with the previous one's backlog. Returns how long it took.
/// With `vacuum` (the database URL, when the server runs without autovacuum), it then
/// vacuums and analyses ghor's database, as autovacuum would between rounds: otherwise the
/// dead versions of the views the projector rewrites pile up and every round is slower
/// than the one before.
async fn settle(
    js: &async_nats::jetstream::Context,
    read_model: Option<&Postgres>,
    vacuum: Option<&str>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let last = js.get_stream(GHOR_STREAM).await?.info().await?.state.last_sequence;
        let checkpoint = match read_model {
            Some(read_model) => read_model.checkpoint(Scope::Live).await?,
            None => last,
        };
        if checkpoint >= last {
            let took = started.elapsed();
            if let Some(url) = vacuum {
                psql_query(url, "VACUUM (ANALYZE)").await?;
            }
            return Ok(took);
        }
        ensure!(started.elapsed() < PATIENCE, "ghor's projector did not catch up ({checkpoint} of {last})");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// One round's reports: single requests or batches, and the same events as raw messages.
fn ingest_work(mix: &mut Mix, events: usize, per_request: usize) -> (Vec<Request>, Vec<RawMessage>) {
    let now = Utc::now();
    let mut requests = Vec::with_capacity(events / per_request);
    let mut raw = Vec::with_capacity(events);
    let locations = ORGS * LOCATIONS_PER_ORG;
    for _ in 0..events / per_request {
        // An institution reports for its own locations only: a batch is one organisation's.
        let first = mix.below(locations);
        let org = org_of(first);
        let mut items = Vec::with_capacity(per_request);
        for i in 0..per_request {
            let location = if i == 0 { first } else { org * LOCATIONS_PER_ORG + mix.below(LOCATIONS_PER_ORG) };
            let event = beds_report(mix, location, now);
            raw.push(raw_message(&accepted(&event, region_of(org), &institution_name(org), now)));
            items.push(event);
        }
        let body = if per_request == 1 { items.pop().expect("one item") } else { Value::Array(items) };
        requests.push(Request {
            token: org,
            body: serde_json::to_vec(&body).expect("serialises"),
            events: per_request,
        });
    }
    (requests, raw)
}

/// HTTP ingest into `ghor ingest` (the role alone: what the aim is about) or `ghor serve`
/// (every part in one process, sharing the cores with its own projector and gateway).
async fn ingest_bench(plan: &Plan, bin: &PathBuf, role: &str, report: &mut Report) -> anyhow::Result<()> {
    let all_in_one = role == "serve";
    println!("== 1. HTTP ingest against `ghor {role}` (NATS + PostgreSQL) beside raw JetStream publish ==");
    let nats = NatsServer::start();
    let db = TestDatabase::create().await;
    let pg = Postgres::connect(&db.url).await?;
    let autovacuum = psql_query(&db.url, "SHOW autovacuum").await?.trim() == "on";
    let vacuum = (!autovacuum).then_some(db.url.as_str());
    if !autovacuum {
        report.notes.push(
            "this PostgreSQL runs with autovacuum = off: the bench runs VACUUM (ANALYZE) on ghor's database between ingest measurements, as autovacuum would"
                .into(),
        );
    }

    // Tokens, as `ghor token create` makes them: one netwerkfunctionaris, and one
    // institution token per organisation.
    let now = Utc::now();
    let regions: Vec<RegionCode> = (0..REGIONS.len()).map(region_of).collect();
    let request = |name: String, role, regions, organisation| TokenRequest {
        name,
        role,
        regions,
        organisation,
        scope: Scope::Live,
        national: false,
        valid_for: chrono::Duration::days(1),
    };
    let (netwerk, _) = issue(&pg, request("netwerk bench".into(), Role::Netwerkfunctionaris, regions, None), now)
        .await
        .map_err(|p| anyhow!("token: {}", p.detail))?;
    let mut institutions = Vec::with_capacity(ORGS);
    for org in 0..ORGS {
        let organisation = Slug::try_from(org_slug(org).as_str()).map_err(|e| anyhow!(e))?;
        let (secret, _) = issue(
            &pg,
            request(institution_name(org), Role::Institution, vec![region_of(org)], Some(organisation)),
            now,
        )
        .await
        .map_err(|p| anyhow!("token: {}", p.detail))?;
        institutions.push(secret);
    }
    let tokens = Arc::new(institutions);

    let serve = Serve::start(bin, role, &nats.url, &db.url).await?;
    progress(format!("ghor {role} on {} ({})", serve.url, bin.display()));
    // Only `ghor serve` projects: then each measurement waits for the previous backlog.
    let projector = all_in_one.then_some(&pg);
    let http =
        reqwest::Client::builder().pool_max_idle_per_host(plan.clients * 2).timeout(Duration::from_secs(60)).build()?;

    // The registry: every organisation and location, as the netwerkfunctionaris posts it.
    let regs = registrations();
    for chunk in regs.chunks(500) {
        let response = http
            .post(format!("{}/v1/events/batch", serve.url))
            .bearer_auth(&netwerk)
            .json(&Value::Array(chunk.to_vec()))
            .send()
            .await?;
        ensure!(response.status().as_u16() == 200, "registering failed: {}", response.text().await?);
        let body: Value = response.json().await?;
        let rejected = body["results"].as_array().map_or(0, |r| r.iter().filter(|r| r["status"] == "rejected").count());
        ensure!(rejected == 0, "registering: {rejected} rejected: {body}");
    }

    // The baseline's own stream on the same server, declared as ghor declares its own.
    // An unawaited publish holds one of the context's in-flight permits (5000 by default,
    // waiting when they run out): to publish a whole round before awaiting any ack, the
    // baseline's context allows a round's worth.
    let js = async_nats::jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(30))
        .max_ack_inflight(plan.batched + 1)
        .build(async_nats::connect(&nats.url).await?);
    js.create_stream(StreamConfig {
        name: RAW_STREAM.to_owned(),
        subjects: vec!["bench.raw.>".to_owned()],
        storage: StorageType::File,
        max_bytes: -1,
        discard: DiscardPolicy::New,
        num_replicas: 1,
        duplicate_window: Duration::from_secs(120),
        allow_direct: true,
        ..Default::default()
    })
    .await
    .map_err(|e| anyhow!("cannot create the baseline stream: {e}"))?;
    settle(&js, projector, vacuum).await?;
    progress(format!("registered {} organisations with {} locations", ORGS, ORGS * LOCATIONS_PER_ORG));

    let mut mix = Mix(0x6768_6f72);
    let (mut single, mut batched, mut raw, mut projected) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut answers, mut payload_bytes, mut payloads) = (Answers::default(), 0usize, 0usize);
    for round in 0..plan.rounds {
        // The round's reports, made up front: the raw publish sends the stored form of the
        // very reports the batch clients post.
        let (mut singles_work, _) = ingest_work(&mut mix, plan.singles, 1);
        let (mut batch_work, mut raw_work) = ingest_work(&mut mix, plan.batched, BATCH);
        let order: [u8; 3] = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
        for which in order {
            settle(&js, projector, vacuum).await?;
            match which {
                0 => {
                    let requests = std::mem::take(&mut singles_work);
                    let (took, a) =
                        post_all(&http, format!("{}/v1/events", serve.url), &tokens, requests, plan.clients).await?;
                    answers += a;
                    single.push(rate(a.stored, took));
                    progress(format!(
                        "round {}: http single  {:>9} ev/s ({a:?})",
                        round + 1,
                        fmt_rate(rate(a.stored, took))
                    ));
                }
                1 => {
                    let requests = std::mem::take(&mut batch_work);
                    let (took, a) =
                        post_all(&http, format!("{}/v1/events/batch", serve.url), &tokens, requests, plan.clients)
                            .await?;
                    answers += a;
                    batched.push(rate(a.stored, took));
                    progress(format!(
                        "round {}: http batch   {:>9} ev/s ({a:?})",
                        round + 1,
                        fmt_rate(rate(a.stored, took))
                    ));
                    // Until the serving ghor's own projector has the round in PostgreSQL too.
                    let behind = settle(&js, projector, vacuum).await?;
                    if all_in_one {
                        projected.push(rate(a.stored, took + behind));
                    }
                }
                _ => {
                    let messages = std::mem::take(&mut raw_work);
                    payload_bytes += messages.iter().map(|m| m.body.len()).sum::<usize>();
                    payloads += messages.len();
                    let n = messages.len();
                    let (took, stored) = tokio::time::timeout(PATIENCE, raw_publish(&js, messages))
                        .await
                        .context("raw publish did not finish")??;
                    ensure!(stored == n, "raw publish stored {stored} of {n}");
                    raw.push(rate(n, took));
                    progress(format!("round {}: raw publish  {:>9} ev/s", round + 1, fmt_rate(rate(n, took))));
                }
            }
        }
    }
    report.comparisons.push(Comparison {
        what: format!("http ingest single, ghor {role} ({} clients)", plan.clients),
        ghor: single,
        baseline_name: "raw JetStream publish".into(),
        baseline: raw.clone(),
        aim: None,
    });
    report.comparisons.push(Comparison {
        what: format!("http ingest batch of {BATCH}, ghor {role} ({} clients)", plan.clients),
        ghor: batched,
        baseline_name: "raw JetStream publish".into(),
        baseline: raw,
        aim: (!all_in_one).then_some(60.0),
    });
    if all_in_one {
        report.diagnostic(
            format!("http ingest batch of {BATCH} until the serving ghor has also projected it into PostgreSQL"),
            projected,
            "ev/s",
        );
    }
    report.notes.push(format!(
        "ingest into ghor {role}: stored CloudEvent of a beds report, {} bytes on average; {} institution tokens; HTTP answers over all rounds: {} stored, {} rate-limited (429), {} failed",
        payload_bytes / payloads.max(1),
        ORGS,
        answers.stored,
        answers.limited,
        answers.failed
    ));
    if answers.limited > 0 || answers.failed > 0 {
        report.notes.push("some HTTP requests were refused: the ingest figures are not clean".into());
    }
    serve.stop().await;
    pg.pool().close().await;
    drop(db);
    drop(nats);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2 and 3. Replaying one stream: gateway catch-up and projector
// ---------------------------------------------------------------------------------------

/// The K events of the replay stream: the registry first, then beds reports.
fn replay_events(k: usize) -> Vec<Event> {
    let now = Utc::now();
    let mut events: Vec<Event> = registrations()
        .iter()
        .map(|e| {
            let region = e["data"]["region"]
                .as_str()
                .or_else(|| e["source"].as_str().and_then(|s| s.strip_prefix("/regions/")))
                .and_then(|r| RegionCode::try_from(r).ok())
                .expect("registration names its region");
            accepted(e, region, "netwerk bench", now)
        })
        .collect();
    let mut mix = Mix(0x7265_706c_6179);
    while events.len() < k {
        let location = mix.below(ORGS * LOCATIONS_PER_ORG);
        let org = org_of(location);
        events.push(accepted(&beds_report(&mut mix, location, now), region_of(org), &institution_name(org), now));
    }
    events.truncate(k);
    events
}

async fn open_log(url: &str) -> anyhow::Result<Arc<NatsLog>> {
    let client = ghor_store::nats::connect(url).await?;
    Ok(NatsLog::open(client, Scope::Live, &StreamSettings::default()).await?)
}

async fn gateway_round(url: &str, read_model: Arc<dyn ReadModel>, k: u64) -> anyhow::Result<Duration> {
    let log: Arc<dyn EventLog> = open_log(url).await?;
    let (trigger, shutdown) = ghor_server::shutdown::channel();
    let started = Instant::now();
    let metrics = ghor_server::metrics::Metrics::new();
    let tasks = ghor_server::supervise::Tasks::new(metrics.task_restarts.clone(), shutdown.clone());
    let gateway = Gateway::start(log, read_model, &tasks, metrics, shutdown).await?;
    let reached = gateway.caught_up(k, PATIENCE).await;
    let took = started.elapsed();
    trigger.trigger();
    tasks.join(PATIENCE).await;
    ensure!(reached, "the gateway did not catch up with {k} events");
    ensure!(gateway.state().seq == k, "the gateway folded up to {} instead of {k}", gateway.state().seq);
    Ok(took)
}

async fn raw_consumer_round(url: &str, k: u64) -> anyhow::Result<Duration> {
    let js = async_nats::jetstream::new(async_nats::connect(url).await?);
    let started = Instant::now();
    let stream = js.get_stream(GHOR_STREAM).await?;
    let consumer = stream
        .create_consumer(OrderedConfig { deliver_policy: DeliverPolicy::All, ..Default::default() })
        .await
        .map_err(|e| anyhow!("ordered consumer: {e}"))?;
    let mut messages = consumer.messages().await.map_err(|e| anyhow!("ordered consumer: {e}"))?;
    let mut received = 0u64;
    while received < k {
        match tokio::time::timeout(Duration::from_secs(30), messages.next()).await {
            Ok(Some(Ok(_))) => received += 1,
            Ok(Some(Err(e))) => bail!("raw consumer: {e}"),
            Ok(None) | Err(_) => bail!("raw consumer stopped after {received} of {k}"),
        }
    }
    Ok(started.elapsed())
}

/// `NatsLog::read` alone (fetch and JSON parse, no fold): where the gateway's time goes.
async fn log_read_round(url: &str, k: u64) -> anyhow::Result<Duration> {
    let log = open_log(url).await?;
    let started = Instant::now();
    let mut after = 0;
    while after < k {
        let entries = log.read(after, CHUNK).await?;
        after = entries.last().map(|e| e.seq).context("empty read")?;
    }
    Ok(started.elapsed())
}

async fn projector_round(url: &str, k: u64) -> anyhow::Result<Duration> {
    let db = TestDatabase::create().await;
    let pg = Postgres::connect(&db.url).await?;
    let read_model: Arc<dyn ReadModel> = Arc::new(pg.clone());
    let log: Arc<dyn EventLog> = open_log(url).await?;
    let (trigger, shutdown) = ghor_server::shutdown::channel();
    let snapshot_every = ghor_server::Settings::default().snapshot_every;
    let started = Instant::now();
    let task = tokio::spawn(ghor_server::projector::run(log, read_model.clone(), snapshot_every, shutdown));
    loop {
        if read_model.checkpoint(Scope::Live).await? >= k {
            break;
        }
        ensure!(!task.is_finished(), "the projector stopped early");
        ensure!(started.elapsed() < PATIENCE, "the projector did not reach {k}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    trigger.trigger();
    let _ = task.await;
    let archived: i64 = {
        // The archive holds every event once: the projector did the whole job.
        let out = psql_query(&db.url, "SELECT count(*) FROM archive").await?;
        out.trim().parse().context("archive count")?
    };
    ensure!(archived as u64 == k, "the archive holds {archived} events, not {k}");
    pg.pool().close().await;
    drop(db);
    Ok(took)
}

/// ghor's own archive writes (`ReadModel::commit` of archive-only batches of 1000, no
/// fold, no views): what the projector's SQL costs beside the bare insert.
async fn commit_round(rows: &[Archived], epoch: uuid::Uuid) -> anyhow::Result<Duration> {
    let db = TestDatabase::create().await;
    let pg = Postgres::connect(&db.url).await?;
    let batches: Vec<ProjectionBatch> = rows
        .chunks(CHUNK)
        .map(|chunk| ProjectionBatch {
            after: chunk[0].seq - 1,
            upto: chunk[chunk.len() - 1].seq,
            archive: chunk.to_vec(),
            ..Default::default()
        })
        .collect();
    let started = Instant::now();
    for batch in &batches {
        pg.commit(Scope::Live, epoch, batch).await?;
    }
    let took = started.elapsed();
    pg.pool().close().await;
    drop(db);
    Ok(took)
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The baseline's script: `INSERT … VALUES` of 1000 rows per transaction.
fn bare_insert_script(rows: &[Archived]) -> Vec<u8> {
    let mut script = String::with_capacity(rows.len() * 700);
    for chunk in rows.chunks(CHUNK) {
        script.push_str("BEGIN;\nINSERT INTO archive (seq, source, id, type, region, time, received, body) VALUES\n");
        for (i, a) in chunk.iter().enumerate() {
            if i > 0 {
                script.push_str(",\n");
            }
            script.push_str(&format!(
                "({}, {}, '{}', {}, '{}', '{}', '{}', {}::jsonb)",
                a.seq,
                sql_text(&a.source),
                a.id,
                sql_text(&a.event_type),
                a.region,
                a.time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                a.received.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                sql_text(std::str::from_utf8(&a.body).unwrap_or("null")),
            ));
        }
        script.push_str(";\nCOMMIT;\n");
    }
    script.into_bytes()
}

/// Runs `script` through `psql` (stdin), stopping at the first error.
async fn psql_script(url: &str, script: &[u8]) -> anyhow::Result<()> {
    let mut child = tokio::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run psql (the bare-insert baseline needs it; tests/run installs it with PostgreSQL)")?;
    let mut stdin = child.stdin.take().context("psql stdin")?;
    let written = stdin.write_all(script).await;
    drop(stdin);
    let out = child.wait_with_output().await?;
    ensure!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
    written?;
    Ok(())
}

async fn psql_query(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = tokio::process::Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .await
        .context("cannot run psql")?;
    ensure!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn bare_insert_round(script: &[u8], k: u64) -> anyhow::Result<Duration> {
    let db = TestDatabase::create().await;
    psql_query(
        &db.url,
        "CREATE TABLE archive (seq BIGINT NOT NULL, source TEXT NOT NULL, id UUID NOT NULL, type TEXT NOT NULL,
         region TEXT NOT NULL, time TIMESTAMPTZ NOT NULL, received TIMESTAMPTZ NOT NULL, body JSONB NOT NULL)",
    )
    .await?;
    let started = Instant::now();
    psql_script(&db.url, script).await?;
    let took = started.elapsed();
    let n: u64 = psql_query(&db.url, "SELECT count(*) FROM archive").await?.trim().parse()?;
    ensure!(n == k, "the bare insert stored {n} rows, not {k}");
    drop(db);
    Ok(took)
}

async fn replay_bench(plan: &Plan, report: &mut Report) -> anyhow::Result<()> {
    let k = plan.k as u64;
    println!("== 2./3. replaying {k} events: gateway catch-up beside a raw ordered consumer, projector beside a bare insert ==");
    let nats = NatsServer::start();
    let log = open_log(&nats.url).await?;
    let events = replay_events(plan.k);

    let started = Instant::now();
    for chunk in events.chunks(CHUNK) {
        for outcome in log.append(chunk).await {
            ensure!(matches!(outcome, Ok(Appended::Stored { .. })), "append: {outcome:?}");
        }
    }
    let appended = started.elapsed();
    ensure!(log.last_seq().await? == k, "the stream holds {} events, not {k}", log.last_seq().await?);
    progress(format!(
        "appended {k} events with NatsLog::append in chunks of {CHUNK}: {} ev/s",
        fmt_rate(rate(plan.k, appended))
    ));
    report.diagnostic(
        format!("NatsLog::append, chunks of {CHUNK} (filling the replay stream, once)"),
        vec![rate(plan.k, appended)],
        "ev/s",
    );

    // The archive rows the projector writes, for the baselines.
    let rows: Vec<Archived> = events
        .iter()
        .enumerate()
        .map(|(i, e)| Archived::of(e, i as u64 + 1, e.to_bytes().expect("bench events serialise").into()))
        .collect();
    let script = bare_insert_script(&rows);
    let epoch = log.epoch();
    drop(events);

    // 2. Gateway catch-up; the read model is an empty PostgreSQL (no snapshot: from 0).
    let empty = TestDatabase::create().await;
    let empty_pg = Postgres::connect(&empty.url).await?;
    let read_model: Arc<dyn ReadModel> = Arc::new(empty_pg.clone());
    let (mut gateway, mut consumer, mut reads) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..plan.replay_rounds {
        let ghor_first = round % 2 == 0;
        for step in 0..2 {
            if (step == 0) == ghor_first {
                let took = gateway_round(&nats.url, read_model.clone(), k).await?;
                gateway.push(rate(plan.k, took));
                progress(format!("round {}: gateway catch-up {:>9} ev/s", round + 1, fmt_rate(rate(plan.k, took))));
            } else {
                let took = raw_consumer_round(&nats.url, k).await?;
                consumer.push(rate(plan.k, took));
                progress(format!("round {}: raw consumer     {:>9} ev/s", round + 1, fmt_rate(rate(plan.k, took))));
            }
        }
        let took = log_read_round(&nats.url, k).await?;
        reads.push(rate(plan.k, took));
        progress(format!("round {}: NatsLog::read    {:>9} ev/s", round + 1, fmt_rate(rate(plan.k, took))));
    }
    empty_pg.pool().close().await;
    drop(empty);
    report.comparisons.push(Comparison {
        what: format!("gateway catch-up ({k} events)"),
        ghor: gateway,
        baseline_name: "raw ordered consumer".into(),
        baseline: consumer,
        aim: Some(50.0),
    });
    report.diagnostic("NatsLog::read alone (fetch, no decode, no fold), batches of 1000", reads, "ev/s");

    // 3. Projector from an empty database; bare insert of the same rows.
    let (mut projector, mut bare, mut commits) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..plan.replay_rounds {
        let ghor_first = round % 2 == 0;
        for step in 0..2 {
            if (step == 0) == ghor_first {
                let took = projector_round(&nats.url, k).await?;
                projector.push(rate(plan.k, took));
                progress(format!("round {}: projector        {:>9} ev/s", round + 1, fmt_rate(rate(plan.k, took))));
            } else {
                let took = bare_insert_round(&script, k).await?;
                bare.push(rate(plan.k, took));
                progress(format!("round {}: bare insert      {:>9} ev/s", round + 1, fmt_rate(rate(plan.k, took))));
            }
        }
        let took = commit_round(&rows, epoch).await?;
        commits.push(rate(plan.k, took));
        progress(format!("round {}: archive commits  {:>9} ev/s", round + 1, fmt_rate(rate(plan.k, took))));
    }
    report.comparisons.push(Comparison {
        what: format!("projector into PostgreSQL ({k} events)"),
        ghor: projector,
        baseline_name: format!("bare multi-row insert ({CHUNK} rows per transaction, plain table)"),
        baseline: bare,
        aim: None,
    });
    report.diagnostic(
        "ReadModel::commit of archive-only batches of 1000 (ghor's archive SQL and indexes, no fold, no views)",
        commits,
        "ev/s",
    );
    drop(log);
    drop(nats);
    Ok(())
}

// ---------------------------------------------------------------------------------------

async fn run(plan: &Plan) -> anyhow::Result<Report> {
    let bin = ghor_binary()?;
    let mut report = Report::default();
    let only = std::env::var("GHOR_BENCH_ONLY").unwrap_or_default();
    let runs = |part: &str| only.is_empty() || only == part;
    if runs("ingest") {
        ingest_bench(plan, &bin, "ingest", &mut report).await?;
    }
    if runs("serve") {
        ingest_bench(plan, &bin, "serve", &mut report).await?;
    }
    if runs("replay") {
        replay_bench(plan, &mut report).await?;
    }
    Ok(report)
}

fn main() -> std::process::ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GHOR_LOG").unwrap_or_else(|_| "warn,sqlx=error".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let plan = Plan::from_env();
    println!(
        "ghor backbone benchmarks{}: {} clients, {} single and {} batched events per ingest round, {} ingest rounds; K = {} events, {} replay rounds; {} cores",
        if plan.quick { " (quick)" } else { "" },
        plan.clients,
        plan.singles,
        plan.batched,
        plan.rounds,
        plan.k,
        plan.replay_rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    match runtime.block_on(run(&plan)) {
        Ok(report) => {
            report.print(&plan);
            println!("(whole run: {:.0} s)", started.elapsed().as_secs_f64());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
