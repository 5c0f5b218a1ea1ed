//! Fault runs with a recorded history (issue 12), as Jepsen checks a database. Writers
//! drive reports through ghor's HTTP API while faults are injected, and record every
//! report's outcome: accepted (with its seq), refused (a 4xx: certainly not stored) or
//! unknown (a 503, a timeout, a lost connection: perhaps stored). Afterwards the checker
//! compares the history with the log, the archive and the read model: every accepted event
//! is in each exactly once, at the seq its answer gave; no refused one is anywhere; an
//! unknown one is there at most once; nothing is there that no writer sent; and the read
//! model equals a clean fold of the log.
//!
//! Each run makes [`INJECTIONS`] faults, enough for CI on two cores; `GHOR_FAULTS=N` makes
//! N (the long run, see README.md). kill -9 leaves what a node wrote in the kernel's page
//! cache, so it cannot lose a write that was acknowledged but not yet synced to disk; that
//! takes a power cut: a virtual machine killed, or a filesystem that drops unsynced writes
//! (Jepsen's lazyfs).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghor_domain::{Event, Picture, Scope};
use ghor_store::postgres::Postgres;
use ghor_store::testing::{NatsCluster, PostgresServer, TestDatabase};
use ghor_store::{EventLog, ReadModel};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::faults::{assert_same, sql};
use crate::harness::{event, Backend, Ghor};

/// Faults per run in CI.
const INJECTIONS: usize = 10;
/// How long a request may take before its outcome counts as unknown.
const PATIENCE: Duration = Duration::from_secs(5);
/// How long the system may take to come back after the last fault.
const RECOVERY: Duration = Duration::from_secs(60);

fn injections() -> usize {
    std::env::var("GHOR_FAULTS").ok().and_then(|n| n.parse().ok()).unwrap_or(INJECTIONS)
}

/// A small deterministic generator, seeded from the clock and printed, so that a failing
/// run's schedule can be read back.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let seed = std::env::var("GHOR_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
        });
        eprintln!("fault schedule seed {seed} (GHOR_FAULT_SEED={seed} repeats it)");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from))
    }
}

// ---- the history ----

/// What a writer learnt of one event.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Accepted(u64),
    Refused(u16),
    Unknown(String),
}

/// Every event a writer sent, with the outcome of its last attempt and how many attempts
/// it took.
#[derive(Default)]
struct History(Mutex<BTreeMap<Uuid, (Outcome, u32)>>);

impl History {
    fn record(&self, id: Uuid, outcome: Outcome) {
        let mut ops = self.0.lock().expect("history");
        let entry = ops.entry(id).or_insert((outcome.clone(), 0));
        *entry = (outcome, entry.1 + 1);
    }

    fn ops(&self) -> BTreeMap<Uuid, (Outcome, u32)> {
        self.0.lock().expect("history").clone()
    }
}

/// The outcome of one HTTP answer to a single report.
async fn outcome_of(answer: Result<reqwest::Response, reqwest::Error>) -> Outcome {
    match answer {
        Err(e) => {
            let mut why = format!("no answer: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                why = format!("{why}: {s}");
                source = s.source();
            }
            Outcome::Unknown(why)
        }
        Ok(r) if r.status().as_u16() == 201 => match r.json::<Value>().await {
            Ok(body) => body["seq"]
                .as_u64()
                .map_or_else(|| Outcome::Unknown(format!("201 without seq: {body}")), Outcome::Accepted),
            Err(e) => Outcome::Unknown(format!("201, body lost: {e}")),
        },
        Ok(r) if r.status().is_client_error() => Outcome::Refused(r.status().as_u16()),
        Ok(r) => Outcome::Unknown(format!("{}", r.status())),
    }
}

/// One report of the run: a location, its institution's token.
const REPORTERS: [(&str, &str); 3] = [("umcg", "umcg"), ("martini", "martini"), ("mcl", "im2")];

fn report(location: &str, n: u64) -> Value {
    let data = json!({ "operational": 100, "occupied": n % 100 });
    event(&format!("/locations/{location}"), "nl.ghor.beds.reported.v1", Some("ic"), data)
}

/// Writers, one per reporter, each sending a report every 25 ms (within its token's rate)
/// until `stop`; each report sent once, its outcome recorded.
fn writers(ghor: &Ghor, history: Arc<History>, stop: Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<()>> {
    REPORTERS
        .iter()
        .map(|(location, token)| {
            let (http, url, token) = (ghor.http.clone(), ghor.url.clone(), ghor.token(token).to_owned());
            let (history, stop, location) = (history.clone(), stop.clone(), *location);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(25));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    let body = report(location, n);
                    let id = body["id"].as_str().and_then(|s| s.parse().ok()).expect("the report's id");
                    let request = http.post(format!("{url}/v1/events")).bearer_auth(&token).json(&body);
                    history.record(id, outcome_of(request.timeout(PATIENCE).send().await).await);
                    n += 1;
                }
            })
        })
        .collect()
}

// ---- the checker ----

/// What the log, the archive and the read model hold, read after the faults.
struct Found {
    /// Per event id, the seqs the log holds it at.
    log: BTreeMap<Uuid, Vec<u64>>,
    /// Per event id, the seqs the archive holds it at.
    archive: BTreeMap<Uuid, Vec<u64>>,
}

/// The run's figures, and every way the stores disagree with the history.
#[derive(Default)]
struct Verdict {
    accepted: usize,
    refused: usize,
    unknown: usize,
    unknown_stored: usize,
    lost: usize,
    doubled: usize,
    violations: Vec<String>,
}

impl Verdict {
    fn show(&self, kind: &str, injections: &str) -> String {
        format!(
            "{kind}: {injections}; {} reports: {} accepted, {} refused, {} unknown ({} of them stored); lost {}, doubled {}",
            self.accepted + self.refused + self.unknown,
            self.accepted,
            self.refused,
            self.unknown,
            self.unknown_stored,
            self.lost,
            self.doubled
        )
    }
}

/// Compares the history with what was found.
fn check(history: &BTreeMap<Uuid, (Outcome, u32)>, found: &Found) -> Verdict {
    let mut v = Verdict::default();
    let none = Vec::new();
    for (id, (outcome, _)) in history {
        let (log, archive) = (found.log.get(id).unwrap_or(&none), found.archive.get(id).unwrap_or(&none));
        match outcome {
            Outcome::Accepted(seq) => {
                v.accepted += 1;
                if log.is_empty() || archive.is_empty() {
                    v.lost += 1;
                    v.violations
                        .push(format!("{id} accepted at {seq}: in the log at {log:?}, archived at {archive:?}"));
                } else if log.len() > 1 || archive.len() > 1 {
                    v.doubled += 1;
                    v.violations
                        .push(format!("{id} accepted at {seq}: in the log at {log:?}, archived at {archive:?}"));
                } else if log[0] != *seq || archive[0] != *seq {
                    v.violations
                        .push(format!("{id} accepted at {seq} but in the log at {log:?}, archived at {archive:?}"));
                }
            }
            Outcome::Refused(status) => {
                v.refused += 1;
                if !log.is_empty() || !archive.is_empty() {
                    v.violations
                        .push(format!("{id} refused ({status}) yet in the log at {log:?}, archived at {archive:?}"));
                }
            }
            Outcome::Unknown(why) => {
                v.unknown += 1;
                v.unknown_stored += usize::from(!log.is_empty());
                if log.len() > 1 || archive.len() > 1 || log != archive {
                    v.doubled += usize::from(log.len() > 1 || archive.len() > 1);
                    v.violations.push(format!("{id} unknown ({why}): in the log at {log:?}, archived at {archive:?}"));
                }
            }
        }
    }
    let invented = found.log.keys().chain(found.archive.keys()).filter(|id| !history.contains_key(id));
    for id in invented.collect::<std::collections::BTreeSet<_>>() {
        v.violations.push(format!("{id} is stored but no writer sent it"));
    }
    v
}

/// The type of the writers' reports: after the run starts, no one else sends one.
const REPORT_TYPE: &str = "nl.ghor.beds.reported.v1";

/// A read of the log once the cluster has settled: just after the faults a reader may
/// still time out while the stream's leader is elected.
async fn settled<T, E: std::fmt::Debug, F: std::future::Future<Output = Result<T, E>>>(read: impl Fn() -> F) -> T {
    let deadline = tokio::time::Instant::now() + RECOVERY;
    loop {
        match read().await {
            Ok(value) => return value,
            Err(e) => {
                assert!(tokio::time::Instant::now() < deadline, "the log was not readable within {RECOVERY:?}: {e:?}")
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads the whole live log (checking it is dense: no seq missing): the seqs of each
/// report stored after `before`, the last seq, and the fold of it all.
async fn read_log(log: &dyn EventLog, before: u64) -> (BTreeMap<Uuid, Vec<u64>>, u64, Picture) {
    let last = settled(|| log.last_seq()).await;
    let (mut seqs, mut picture, mut at) = (BTreeMap::<Uuid, Vec<u64>>::new(), Picture::default(), 0);
    while at < last {
        let entries = settled(|| log.read(at, 1000)).await;
        assert!(!entries.is_empty(), "the log ends at {at}, before its last seq {last}");
        for entry in entries {
            assert_eq!(entry.seq, at + 1, "the log is dense");
            let event = Event::from_stored(&entry.body).expect("stored events decode");
            if entry.seq > before && entry.json()["type"] == REPORT_TYPE {
                seqs.entry(event.id).or_default().push(entry.seq);
            }
            picture.apply(&event);
            at = entry.seq;
        }
    }
    (seqs, last, picture)
}

/// Waits until the projector has folded `last`, then reads the seqs of each report the
/// archive holds after `before`.
async fn read_archive(database: &str, pg: &Postgres, before: u64, last: u64) -> BTreeMap<Uuid, Vec<u64>> {
    let deadline = tokio::time::Instant::now() + RECOVERY;
    while pg.checkpoint(Scope::Live).await.unwrap_or(0) < last {
        assert!(tokio::time::Instant::now() < deadline, "the projector did not reach {last} within {RECOVERY:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let query = format!(
        "SELECT seq || '|' || id FROM archive WHERE scope = 'live' AND seq > {before} AND type = '{REPORT_TYPE}' ORDER BY seq"
    );
    let mut archive = BTreeMap::<Uuid, Vec<u64>>::new();
    for row in sql(database, &query).await.lines() {
        let (seq, id) = row.split_once('|').expect("seq|id");
        archive.entry(id.parse().expect("uuid")).or_default().push(seq.parse().expect("seq"));
    }
    archive
}

/// The read model holds exactly the views of the fold: every region, every location.
async fn assert_read_model_is(label: &str, pg: &Postgres, picture: &Picture) {
    for region in picture.regions() {
        let view = picture.region_view(region);
        for (id, location) in &view.locations {
            let found = pg.location(Scope::Live, id).await.expect("location");
            assert_same(&format!("{label}: location {id}"), found, Some(serde_json::to_value(location).expect("json")));
        }
        let mut row = serde_json::to_value(&view).expect("json");
        row.as_object_mut().expect("object").remove("locations");
        assert_same(
            &format!("{label}: region {region}"),
            pg.region(Scope::Live, region).await.expect("region"),
            Some(row),
        );
    }
}

/// After the faults: waits until reports are accepted again, then checks the history
/// (of the reports sent after the log's seq `before`) against the log, the archive and the
/// read model; prints the figures and fails on any violation.
async fn verify(ghor: &Ghor, history: &History, before: u64, kind: &str, injections: &str) -> Verdict {
    let deadline = tokio::time::Instant::now() + RECOVERY;
    loop {
        let body = report("umcg", 0);
        let id = body["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
        let request = ghor.http.post(format!("{}/v1/events", ghor.url)).bearer_auth(ghor.token("umcg")).json(&body);
        let outcome = outcome_of(request.timeout(PATIENCE).send().await).await;
        history.record(id, outcome.clone());
        if matches!(outcome, Outcome::Accepted(_)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "reporting did not come back within {RECOVERY:?}: {outcome:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (log, last, picture) = read_log(&*ghor.log(Scope::Live).await, before).await;
    let database = &ghor.database.as_ref().expect("production").url;
    let pg = Postgres::connect(database).await.expect("postgres");
    let archive = read_archive(database, &pg, before, last).await;
    let verdict = check(&history.ops(), &Found { log, archive });
    eprintln!("{}", verdict.show(kind, injections));
    assert!(
        verdict.violations.is_empty(),
        "{kind}: {} violations, the first: {:#?}",
        verdict.violations.len(),
        &verdict.violations[..verdict.violations.len().min(10)]
    );
    assert!(verdict.accepted > 0, "{kind}: no report was accepted at all");
    assert_read_model_is(kind, &pg, &picture).await;
    verdict
}

// ---- the runs ----

/// kill -9 and pause (SIGSTOP) of a random node of a 3-node cluster (R3, every write
/// synced), one at a time, for one to three seconds each, while three institutions report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_nodes_killed_and_paused_during_ingest_lose_and_double_nothing() {
    let mut ghor = Ghor::start_on_cluster(NatsCluster::start(3)).await;
    assert_eq!(ghor.backend, Backend::Production);
    let before = ghor.log(Scope::Live).await.last_seq().await.expect("last seq");
    let (history, stop) = (Arc::new(History::default()), Arc::new(AtomicBool::new(false)));
    let writing = writers(&ghor, history.clone(), stop.clone());

    let (mut rng, total) = (Rng::seeded(), injections());
    let (mut kills, mut pauses) = (0, 0);
    for i in 0..total {
        let cluster = ghor.cluster.as_mut().expect("cluster");
        let node = format!("n{}", rng.below(cluster.nodes.len() as u64) + 1);
        let down = rng.millis(1_000, 3_000);
        let node = cluster.node(&node);
        if i % 2 == 0 {
            kills += 1;
            node.stop(); // SIGKILL
            tokio::time::sleep(down).await;
            tokio::task::block_in_place(|| node.start_again());
        } else {
            pauses += 1;
            node.pause();
            tokio::time::sleep(down).await;
            node.resume();
        }
        // The fault schedule: time between faults, not a wait for a condition.
        tokio::time::sleep(rng.millis(1_000, 3_000)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writing {
        w.await.expect("a writer");
    }
    let injections = format!("{total} injections ({kills} kill -9, {pauses} pause)");
    verify(&ghor, &history, before, "NATS node faults", &injections).await;
}

/// PostgreSQL (a server of the test's own) crashed (`pg_ctl stop -m immediate`: no
/// checkpoint, every connection cut) and started again, repeatedly, while institutions
/// report and the projector folds. Every report is accepted into the log meanwhile (the
/// tokens it has seen still admit while the token store is down); the projector
/// waits, resumes from its checkpoint, and the read model ends equal to a fold of the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_crashed_during_projection_loses_and_doubles_nothing() {
    let postgres = PostgresServer::start();
    let ghor = Ghor::start_on_database(TestDatabase::create_on(&postgres.admin_url).await).await;
    let before = ghor.log(Scope::Live).await.last_seq().await.expect("last seq");
    let (history, stop) = (Arc::new(History::default()), Arc::new(AtomicBool::new(false)));
    let writing = writers(&ghor, history.clone(), stop.clone());

    let (mut rng, total) = (Rng::seeded(), injections());
    for _ in 0..total {
        // The fault schedule: projection goes on for a while, then the database dies.
        tokio::time::sleep(rng.millis(500, 2_000)).await;
        tokio::task::block_in_place(|| postgres.crash());
        tokio::time::sleep(rng.millis(1_000, 3_000)).await;
        tokio::task::block_in_place(|| postgres.start_again());
    }
    stop.store(true, Ordering::Relaxed);
    for w in writing {
        w.await.expect("a writer");
    }
    let injections = format!("{total} injections (crash and restart)");
    let verdict = verify(&ghor, &history, before, "PostgreSQL crashed during projection", &injections).await;
    // Reporting needs the log, not the database: the tokens seen before still admit.
    let unknown: Vec<String> = history
        .ops()
        .into_values()
        .filter_map(|(outcome, _)| match outcome {
            Outcome::Unknown(why) => Some(why),
            _ => None,
        })
        .collect();
    // Before tokens were remembered, about 3 % were left unknown (refused while the token
    // store was down). A few still time out now and then (under investigation).
    assert!(
        verdict.refused == 0 && verdict.unknown * 100 <= verdict.accepted,
        "reports go on while PostgreSQL is down: {}; the unknown: {unknown:?}",
        verdict.show("PostgreSQL crashed during projection", &injections)
    );
}

/// While PostgreSQL is down the process stays ready (the picture and the stream go on for
/// the tokens it has seen), and its readiness says the database cannot be reached; then
/// that it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_says_the_database_is_down_without_taking_the_process_out() {
    let postgres = PostgresServer::start();
    let ghor = Ghor::start_on_database(TestDatabase::create_on(&postgres.admin_url).await).await;
    let readiness = async || -> (u16, Value) {
        let response = ghor.http.get(format!("{}/readyz", ghor.url)).send().await.expect("readyz");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    };
    assert_eq!(readiness().await.1["database"], "ok");
    tokio::task::block_in_place(|| postgres.crash());
    crate::harness::wait_for(async || {
        let (status, body) = readiness().await;
        status == 200 && body["database"] == "unreachable"
    })
    .await;
    let (status, _) = ghor.get("netwerk", "/v1/picture").await;
    assert_eq!(status, 200, "the picture is read on while the database is down");
    tokio::task::block_in_place(|| postgres.start_again());
    crate::harness::wait_for(async || readiness().await.1["database"] == "ok").await;
}

/// Events per batch in the ingest run: large, so that a kill often falls while the batch is
/// being appended.
const BATCH: usize = 200;

/// Sends `batch` to the ingest process at `url` until every event in it has a definite
/// outcome, each attempt with the same ids; records every attempt's outcome. Gives up on
/// the rest (left unknown) after [`RECOVERY`]. Returns how many events a retry found
/// already stored (answered `duplicate`): those the killed process had appended.
async fn send_until_definite(
    http: &reqwest::Client,
    url: &Mutex<String>,
    token: &str,
    batch: Vec<Value>,
    history: &History,
) -> usize {
    let (mut found_stored, mut retrying) = (0, false);
    let deadline = tokio::time::Instant::now() + RECOVERY;
    let mut open = batch;
    while !open.is_empty() && tokio::time::Instant::now() < deadline {
        let at = url.lock().expect("url").clone();
        let request = http.post(format!("{at}/v1/events/batch")).bearer_auth(token).json(&open);
        let id = |e: &Value| e["id"].as_str().and_then(|s| s.parse::<Uuid>().ok()).expect("id");
        let answer = request.timeout(PATIENCE).send().await;
        let results = match answer {
            Ok(r) if r.status().as_u16() == 200 => r.json::<Value>().await.ok(),
            Ok(r) if r.status().as_u16() == 429 => {
                // Over the token's rate: nothing of it was stored; send it again when allowed.
                let wait = r.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            Ok(r) if r.status().is_client_error() => {
                panic!("the whole batch was refused: {} {}", r.status(), r.text().await.unwrap_or_default())
            }
            _ => None,
        };
        let Some(results) = results else {
            // No answer: the process died with the batch in flight, or is not up yet.
            for e in &open {
                history.record(id(e), Outcome::Unknown("no answer to the batch".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            retrying = true;
            continue;
        };
        let mut retry = Vec::new();
        for (e, result) in open.into_iter().zip(results["results"].as_array().expect("results")) {
            let outcome = match (result["seq"].as_u64(), result["problem"]["status"].as_u64()) {
                (Some(seq), _) => Outcome::Accepted(seq),
                (None, Some(status)) if (400..500).contains(&status) => Outcome::Refused(status as u16),
                _ => Outcome::Unknown(format!("{result}")),
            };
            if matches!(outcome, Outcome::Unknown(_)) {
                retry.push(e.clone());
            }
            found_stored += usize::from(retrying && result["status"] == "duplicate");
            history.record(id(&e), outcome);
        }
        retrying = !retry.is_empty();
        open = retry;
    }
    found_stored
}

/// The ingest process (`ghor ingest`, apart from the projector and gateway) killed with
/// kill -9 again and again while batches are in flight; the client sends each batch whose
/// answer it lost again, with the same ids, to the process started in its place, until
/// every event has a definite answer. The log's duplicate window is production's (two
/// minutes), so a retry is dropped by the log itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_process_killed_mid_batch_stores_each_retried_event_once() {
    let settings = [
        ("GHOR_DUPLICATE_WINDOW", "120".to_owned()),
        // Room for batches back to back: this run is about a dying process, not the rate.
        ("GHOR_RATE_PER_SECOND", "2000".to_owned()),
        ("GHOR_RATE_BURST", "4000".to_owned()),
    ];
    let ghor = Ghor::start_with_env(Backend::Production, &settings).await;
    let before = ghor.log(Scope::Live).await.last_seq().await.expect("last seq");
    let (first, mut process) = ghor.spawn_role("ingest").await;
    let url = Arc::new(Mutex::new(first));
    let (history, stop) = (Arc::new(History::default()), Arc::new(AtomicBool::new(false)));
    let writer = {
        let (http, token, url, history, stop) =
            (ghor.http.clone(), ghor.token("im").to_owned(), url.clone(), history.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut n, mut found_stored) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                let batch = (0..BATCH as u64).map(|i| report(["umcg", "martini"][(i % 2) as usize], n + i)).collect();
                found_stored += send_until_definite(&http, &url, &token, batch, &history).await;
                n += BATCH as u64;
            }
            found_stored
        })
    };

    let (mut rng, total) = (Rng::seeded(), injections());
    for _ in 0..total {
        // The fault schedule: batches flow for a while, then the process dies under one.
        tokio::time::sleep(rng.millis(300, 1_200)).await;
        process.kill().await.expect("kill -9 the ingest process");
        let (again, started) = ghor.spawn_role("ingest").await;
        (*url.lock().expect("url"), process) = (again, started);
    }
    stop.store(true, Ordering::Relaxed);
    let found_stored = writer.await.expect("the writer");
    let retried = history.ops().values().filter(|(_, attempts)| *attempts > 1).count();
    let injections = format!(
        "{total} injections (kill -9); {retried} events sent again, {found_stored} of them already stored by the killed process"
    );
    verify(&ghor, &history, before, "ingest process killed mid-batch", &injections).await;
}

/// Pages streaming in the gateway run.
const PAGES: usize = 100;

/// One page: streams VR01 from a gateway that is up (its `i`th in the list), and when the
/// connection ends, resumes at another where it was, until it holds `target` (once set).
/// Every message goes through [`crate::harness::Stream::apply`], which fails on a broken
/// chain; returns the page (with the reasons of its snapshots) and how often it moved.
async fn page(
    ghor: Arc<Ghor>,
    i: usize,
    up: Arc<Mutex<Vec<String>>>,
    target: Arc<std::sync::atomic::AtomicU64>,
) -> (crate::harness::Stream, usize) {
    let mut held: Option<crate::harness::Stream> = None;
    let mut moves = 0;
    loop {
        let url = {
            let up = up.lock().expect("gateways");
            up[i % up.len()].clone()
        };
        let mut hello = json!({ "regions": ["VR01"] });
        if let Some(was) = held.as_ref().filter(|s| !s.epoch.is_empty()) {
            hello["resume"] = json!({ "epoch": was.epoch, "seq": was.seq });
        }
        let Ok(mut stream) = ghor.at(&url).try_stream_with("rot", hello).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        if let Some(was) = held.take() {
            (stream.regions, stream.snapshots) = (was.regions, was.snapshots);
            moves += 1;
        }
        while let Some(m) = stream.try_next().await {
            stream.apply(&m);
            let target = target.load(Ordering::Relaxed);
            if target > 0 && stream.seq >= target {
                return (stream, moves);
            }
        }
        held = Some(stream);
    }
}

/// A gateway killed with kill -9 while 100 pages stream from two, again and again (each
/// time the one that has been up longest, once the other is back): every page reconnects
/// to the one that is up and resumes where it was. Its chain is unbroken or restarts from
/// an explicit snapshot, and every page ends with the picture a fresh page gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_killed_while_pages_stream_break_no_chain() {
    let settings = [("GHOR_WEBSOCKETS_PER_TOKEN", (2 * PAGES).to_string())];
    let ghor = Arc::new(Ghor::start_with_env(Backend::Production, &settings).await);
    let mut gateways = vec![ghor.spawn_role("gateway").await, ghor.spawn_role("gateway").await];
    let up = Arc::new(Mutex::new(gateways.iter().map(|(url, _)| url.clone()).collect::<Vec<_>>()));
    let target = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pages: Vec<_> = (0..PAGES).map(|i| tokio::spawn(page(ghor.clone(), i, up.clone(), target.clone()))).collect();
    let (history, stop) = (Arc::new(History::default()), Arc::new(AtomicBool::new(false)));
    let writing = writers(&ghor, history.clone(), stop.clone());

    let (mut rng, total) = (Rng::seeded(), injections());
    for _ in 0..total {
        // The fault schedule: the pages stream for a while, then a gateway dies.
        tokio::time::sleep(rng.millis(1_000, 3_000)).await;
        let (url, mut process) = gateways.remove(0);
        up.lock().expect("gateways").retain(|u| *u != url);
        process.kill().await.expect("kill -9 a gateway");
        let (again, started) = ghor.spawn_role("gateway").await;
        up.lock().expect("gateways").push(again.clone());
        gateways.push((again, started));
    }
    stop.store(true, Ordering::Relaxed);
    for w in writing {
        w.await.expect("a writer");
    }
    let last = ghor.log(Scope::Live).await.last_seq().await.expect("last seq");
    target.store(last, Ordering::Relaxed);
    let mut fresh = ghor.at(&gateways[0].0).stream("rot", &["VR01"], None).await;
    while fresh.seq < last {
        let m = fresh.next().await;
        fresh.apply(&m);
    }
    let (mut moves, mut snapshots) = (0, BTreeMap::<String, usize>::new());
    for page in pages {
        let (mut page, moved) = page.await.expect("every page followed without a broken chain");
        // Both at the same seq (an event may have come after `last`).
        while page.seq != fresh.seq {
            let behind = if page.seq < fresh.seq { &mut page } else { &mut fresh };
            let m = behind.next().await;
            behind.apply(&m);
        }
        assert_eq!(page.regions, fresh.regions, "a page that moved holds what a fresh page holds");
        moves += moved;
        for reason in page.snapshots.iter().skip(1) {
            *snapshots.entry(reason.clone()).or_default() += 1;
        }
    }
    eprintln!(
        "gateway killed while {PAGES} pages stream: {total} injections (kill -9); {moves} reconnections, \
         {} of them resumed without a snapshot, snapshots after the first by reason: {snapshots:?}",
        moves - snapshots.values().sum::<usize>()
    );
}
