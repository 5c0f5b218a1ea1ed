//! Fault tolerance of the production backbone: the real `ghor project` binary on a real
//! nats-server and PostgreSQL, killed, raced and restored from backup. The projector's
//! checkpoint row is its only cursor and every batch is one transaction fenced on it, so
//! whatever happens to the process, the read model must end up equal to a fold of the
//! log, with every event archived exactly once.
//!
//! Each test has its own nats-server and fresh databases. Events go straight into the
//! log with `NatsLog::append` (what ingest does), in chunks, for speed.

use std::collections::BTreeMap;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use ghor_domain::{Event, Picture, RegionCode, Scope, Slug, Stamp};
use ghor_store::nats::{connect, NatsLog, StreamSettings};
use ghor_store::postgres::Postgres;
use ghor_store::testing::{NatsServer, TestDatabase};
use ghor_store::{Appended, EventLog, ReadModel};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::harness::BIN;

const SCOPE: Scope = Scope::Live;
const REGIONS: [&str; 3] = ["VR01", "VR02", "VR03"];
/// Locations in the scenario, spread evenly over the three regions.
const LOCATIONS: usize = 51;
/// Organisations; location `i` belongs to organisation `i % ORGANISATIONS`, which sits in
/// the same region (both are `i % 3`).
const ORGANISATIONS: usize = 12;
/// Events per `NatsLog::append` call (ingest's batch limit).
const CHUNK: usize = 500;
/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(5);

// ---- the scenario ----

/// A small deterministic generator (xorshift64*), so every run folds the same history.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn region(code: &str) -> RegionCode {
    RegionCode::try_from(code).unwrap_or_else(|e| panic!("region {code}: {e}"))
}

fn location_id(i: usize) -> String {
    format!("loc-{i:02}")
}

fn location_region(i: usize) -> &'static str {
    REGIONS[i % REGIONS.len()]
}

/// Every location of the scenario with its region.
fn locations() -> Vec<(Slug, RegionCode)> {
    (0..LOCATIONS).map(|i| (Slug::try_from(location_id(i)).expect("slug"), region(location_region(i)))).collect()
}

/// A client's CloudEvent, validated and accepted as ingest would: stamped with `region`,
/// received at `received`, observed at `time`.
fn accepted(
    source: &str,
    event_type: &str,
    subject: Option<&str>,
    data: Value,
    time: DateTime<Utc>,
    received: DateTime<Utc>,
    stamp_region: &str,
) -> Event {
    let stamp = Stamp { region: region(stamp_region), scope: SCOPE, actor: "faults-e2e".into(), received };
    ghor_store::testing::accepted(source, event_type, subject, data, time, stamp)
}

/// `total` events: every organisation and location registered first, then status reports
/// of several dimensions over all locations (some observed a while before they arrived,
/// so not every later report wins), with now and then a retraction of an earlier report.
fn scenario(total: usize, seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let start = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).single().expect("time");
    let mut events = Vec::with_capacity(total);
    let mut reports: Vec<Vec<uuid::Uuid>> = vec![Vec::new(); LOCATIONS];
    let at = |n: usize| start + chrono::Duration::seconds(n as i64);
    for o in 0..ORGANISATIONS {
        let r = REGIONS[o % REGIONS.len()];
        events.push(accepted(
            &format!("/regions/{r}"),
            "nl.ghor.organisation.registered.v1",
            Some(&format!("org-{o:02}")),
            json!({ "name": format!("Organisatie {o}") }),
            at(events.len()),
            at(events.len()),
            r,
        ));
    }
    const TYPES: &[&str] = &["ziekenhuis", "verpleeg_verzorgingshuis", "huisartsenpost", "ggz", "gehandicaptenzorg"];
    for i in 0..LOCATIONS {
        let r = location_region(i);
        let n = events.len();
        events.push(accepted(
            &format!("/locations/{}", location_id(i)),
            "nl.ghor.location.registered.v1",
            None,
            json!({
                "name": format!("Locatie {i}"),
                "organisation": format!("org-{:02}", i % ORGANISATIONS),
                "type": TYPES[i % TYPES.len()],
                "region": r,
                "point": { "lat": 51.0 + (i as f64) * 0.05, "lon": 4.0 + (i as f64) * 0.04 },
            }),
            at(n),
            at(n),
            r,
        ));
    }
    while events.len() < total {
        let n = events.len();
        let i = rng.below(LOCATIONS as u64) as usize;
        let r = location_region(i);
        let source = format!("/locations/{}", location_id(i));
        let received = at(n);
        // Most reports are fresh; some were observed up to 15 minutes before they arrived.
        let time =
            if rng.below(4) == 0 { received - chrono::Duration::seconds(rng.below(900) as i64) } else { received };
        let event = if rng.below(200) == 0 && !reports[i].is_empty() {
            let id = reports[i][rng.below(reports[i].len() as u64) as usize];
            accepted(
                &source,
                "nl.ghor.observation.retracted.v1",
                None,
                json!({ "event_id": id, "reason": "verkeerd ingevoerd" }),
                time,
                received,
                r,
            )
        } else {
            let (event_type, subject, data) = match rng.below(7) {
                0 => {
                    let operational = 5 + rng.below(40);
                    let occupied = rng.below(operational + 1);
                    (
                        "beds",
                        Some(rng.pick(&["ic", "klinisch", "mc", "isolatie"])),
                        json!({ "operational": operational, "occupied": occupied }),
                    )
                }
                1 => (
                    "supplies",
                    Some(rng.pick(&["ffp2", "zuurstof", "handschoenen", "kritieke_medicatie"])),
                    json!({ "on_hand": rng.below(5000), "daily_use": rng.below(500), "can_obtain_more": rng.below(2) == 0 }),
                ),
                2 => {
                    let key = rng.pick(&["stroom", "water", "ict_zorgsystemen", "telefonie"]);
                    let status = rng.pick(&["normaal", "normaal", "verstoord", "uitgevallen"]);
                    let mut data = json!({ "status": status, "on_backup": status != "normaal" && rng.below(2) == 0 });
                    if status != "normaal" && (key == "ict_zorgsystemen" || key == "telefonie") {
                        data["cause"] = json!(rng.pick(&["storing", "cyberincident", "onbekend"]));
                    }
                    ("utility", Some(key), data)
                }
                3 => (
                    "staffing",
                    Some(rng.pick(&["verpleegkundige", "ic_verpleegkundige", "arts"])),
                    json!({ "unfilled_shifts_24h": rng.below(12), "critical": rng.below(10) == 0 }),
                ),
                4 => ("judgement", None, json!({ "care_next_24h": rng.pick(&["ja", "ja", "met_moeite", "nee"]) })),
                5 => (
                    "facility",
                    None,
                    json!({ "status": rng.pick(&["normaal", "normaal", "deels_gesloten", "binnen_blijven"]) }),
                ),
                _ => (
                    "treatment_places",
                    Some(rng.pick(&["seh_behandelplek", "ok"])),
                    json!({ "operational": rng.below(30), "in_use": rng.below(30) }),
                ),
            };
            let event =
                accepted(&source, &format!("nl.ghor.{event_type}.reported.v1"), subject, data, time, received, r);
            reports[i].push(event.id);
            event
        };
        events.push(event);
    }
    events
}

// ---- the log ----

async fn open_log(nats: &NatsServer) -> Arc<NatsLog> {
    NatsLog::open(connect(&nats.url).await.expect("connect to nats"), SCOPE, &StreamSettings::default())
        .await
        .expect("open the live stream")
}

/// Appends `events` to a log that already holds `before` entries, in chunks, and checks
/// that each is stored at the next sequence. Returns the last sequence.
async fn append_all(log: &dyn EventLog, events: &[Event], before: u64) -> u64 {
    let started = Instant::now();
    let mut expected = before;
    for chunk in events.chunks(CHUNK) {
        for result in log.append(chunk).await {
            expected += 1;
            match result {
                Ok(Appended::Stored { seq }) if seq == expected => {}
                other => panic!("appending the scenario: event {expected} came back as {other:?}"),
            }
        }
    }
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "appended {} events in {took:.1} s ({:.0} per second); the log ends at {expected}",
        events.len(),
        events.len() as f64 / took.max(0.001)
    );
    expected
}

/// Folds the log from sequence 1 to `upto`, as the projector would, checking that each
/// entry is the scenario's event at that position. Also returns the pictures at every
/// thousandth sequence (where the projector's snapshots usually fall).
async fn fold_log(log: &dyn EventLog, events: &[Event], upto: u64) -> Folded {
    let started = Instant::now();
    let mut picture = Picture::default();
    let mut captured = BTreeMap::new();
    let mut seq = 0;
    while seq < upto {
        let entries = log.read(seq, 1000).await.expect("read the log");
        assert!(!entries.is_empty(), "the log ends at {seq}, before {upto}");
        for entry in entries.into_iter().take_while(|e| e.seq <= upto) {
            assert_eq!(entry.seq, seq + 1, "the log is dense");
            let event = Event::from_stored(&entry.body).expect("stored events decode");
            assert_eq!(event.id, events[(entry.seq - 1) as usize].id, "the log holds the scenario in order");
            picture.apply(&event);
            seq = entry.seq;
            if seq % 1000 == 0 {
                captured.insert(seq, picture.clone());
            }
        }
    }
    eprintln!("folded the log up to {upto} in the test in {:.1} s", started.elapsed().as_secs_f64());
    Folded { picture, at: captured }
}

/// A fold of the log, with pictures along the way.
struct Folded {
    picture: Picture,
    at: BTreeMap<u64, Picture>,
}

// ---- ghor processes ----

/// A `ghor` child process (killed when dropped) whose standard error is kept and echoed.
struct Process {
    name: String,
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Process {
    fn spawn(name: &str, args: &[String]) -> Process {
        let mut child = Command::new(BIN)
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN} for {name}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (pipe, keep, label) = (child.stderr.take().expect("stderr"), stderr.clone(), name.to_owned());
        tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[{label}] {line}");
                let mut kept = keep.lock().expect("stderr buffer");
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        Process { name: name.to_owned(), child, stderr }
    }

    /// `ghor project` on this backbone, with its health port on a free port.
    fn projector(name: &str, nats: &str, database: &str) -> Process {
        Process::spawn(name, &project_args(nats, database, &["--listen", "127.0.0.1:0"]))
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr buffer").clone()
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Panics with its standard error when it has exited.
    fn assert_running(&mut self, while_: &str) {
        if let Some(status) = self.exited() {
            panic!("{} exited ({status}) while {while_}; its stderr:\n{}", self.name, self.stderr());
        }
    }

    /// SIGKILL, as the kernel's OOM killer or a lost node would.
    async fn kill9(&mut self) {
        self.child.start_kill().expect("send SIGKILL");
        self.child.wait().await.expect("wait for the killed process");
    }
}

fn project_args(nats: &str, database: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> =
        ["project", "--nats", nats, "--database", database].iter().map(|s| (*s).to_owned()).collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// Waits until the checkpoint is at least `target`, failing early when every projector
/// feeding it has exited. Returns the checkpoint.
async fn await_checkpoint(pg: &Postgres, target: u64, projectors: &mut [&mut Process], within: Duration) -> u64 {
    let started = Instant::now();
    loop {
        let checkpoint = pg.checkpoint(SCOPE).await.expect("checkpoint");
        if checkpoint >= target {
            eprintln!("checkpoint {checkpoint} (wanted {target}) after {:.1} s", started.elapsed().as_secs_f64());
            return checkpoint;
        }
        if projectors.iter_mut().all(|p| p.exited().is_some()) {
            let logs: Vec<String> = projectors.iter().map(|p| format!("{}:\n{}", p.name, p.stderr())).collect();
            panic!("every projector exited with the checkpoint at {checkpoint} of {target}:\n{}", logs.join("\n"));
        }
        assert!(started.elapsed() < within, "the checkpoint is at {checkpoint}, not {target}, after {within:?}");
        tokio::time::sleep(POLL).await;
    }
}

// ---- the read model ----

/// Runs one SQL query with psql; the rows, `|`-separated.
pub(crate) async fn sql(database: &str, query: &str) -> String {
    let out = Command::new("psql")
        .args([database, "-XtAq", "-v", "ON_ERROR_STOP=1", "-c", query])
        .output()
        .await
        .expect("run psql");
    assert!(out.status.success(), "psql {query:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
}

/// Where two JSON values first differ, as a path and the two values there.
fn difference(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).find_map(|k| {
            let path = format!("{path}.{k}");
            match (x.get(k), y.get(k)) {
                (Some(u), Some(v)) => difference(&path, u, v),
                (u, v) => Some(format!("{path}: {} vs {}", show(u), show(v))),
            }
        }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (u, v))| difference(&format!("{path}[{i}]"), u, v))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), Value::to_string)
}

pub(crate) fn assert_same(what: &str, found: Option<Value>, wanted: Option<Value>) {
    if found != wanted {
        let why = match (&found, &wanted) {
            (Some(f), Some(w)) => difference("", f, w).unwrap_or_else(|| "(no difference found)".into()),
            _ => format!("{} vs {}", show(found.as_ref()), show(wanted.as_ref())),
        };
        panic!("{what} differs (read model vs expected): {why}");
    }
}

/// The views a fold of the log gives: per region, and per location.
fn expected_views(picture: &Picture) -> (BTreeMap<RegionCode, Value>, BTreeMap<Slug, Value>) {
    let mut regions = BTreeMap::new();
    let mut locations = BTreeMap::new();
    for code in REGIONS {
        let view = picture.region_view(region(code));
        for (id, location) in &view.locations {
            locations.insert(id.clone(), serde_json::to_value(location).expect("json"));
        }
        // A region's row holds no locations: they have rows of their own.
        let mut row = serde_json::to_value(&view).expect("json");
        row.as_object_mut().expect("object").remove("locations");
        regions.insert(region(code), row);
    }
    (regions, locations)
}

/// The read model equals the views of `picture`: every region, every location, nothing
/// else, nothing quarantined.
async fn assert_read_model_is(label: &str, pg: &Postgres, database: &str, picture: &Picture) {
    let (regions, views) = expected_views(picture);
    assert_eq!(views.len(), LOCATIONS, "the fold knows every location");
    for (code, view) in &regions {
        assert_same(
            &format!("{label}: region {code}"),
            pg.region(SCOPE, *code).await.expect("region"),
            Some(view.clone()),
        );
    }
    for (id, _) in locations() {
        assert_same(
            &format!("{label}: location {id}"),
            pg.location(SCOPE, &id).await.expect("location"),
            views.get(&id).cloned(),
        );
    }
    let counts = sql(
        database,
        "SELECT (SELECT count(*) FROM read_regions WHERE scope = 'live') || '|' ||
                (SELECT count(*) FROM read_locations WHERE scope = 'live')",
    )
    .await;
    assert_eq!(counts, format!("{}|{LOCATIONS}", REGIONS.len()), "{label}: region and location rows");
    let quarantined = pg.quarantine(SCOPE, 10).await.expect("quarantine");
    assert!(quarantined.is_empty(), "{label}: nothing of a valid log is quarantined, found {quarantined:?}");
}

/// Two read models hold the same views.
async fn assert_same_read_models(label: &str, a: &Postgres, b: &Postgres) {
    for code in REGIONS {
        let code = region(code);
        let found = a.region(SCOPE, code).await.expect("region");
        assert!(found.is_some(), "{label}: region {code} has a view");
        assert_same(&format!("{label}: region {code}"), found, b.region(SCOPE, code).await.expect("region"));
    }
    for (id, _) in locations() {
        let found = a.location(SCOPE, &id).await.expect("location");
        assert!(found.is_some(), "{label}: location {id} has a view");
        assert_same(&format!("{label}: location {id}"), found, b.location(SCOPE, &id).await.expect("location"));
    }
}

/// The archive holds each of the `last` events exactly once, at its own sequence (all
/// rows compared); the sampled ones are also asked through the port.
async fn assert_archived_once(
    label: &str,
    pg: &Postgres,
    database: &str,
    events: &[Event],
    last: u64,
    samples: &[u64],
) {
    let summary = sql(
        database,
        "SELECT count(*) || '|' || count(DISTINCT seq) || '|' || count(DISTINCT (source, id)) || '|' ||
                coalesce(min(seq), 0) || '|' || coalesce(max(seq), 0)
         FROM archive WHERE scope = 'live'",
    )
    .await;
    assert_eq!(
        summary,
        format!("{last}|{last}|{last}|1|{last}"),
        "{label}: the archive (rows | sequences | events | first | last) holds every event once"
    );
    for &seq in samples {
        let event = &events[(seq - 1) as usize];
        let source = event.source.to_string();
        assert_eq!(
            pg.archived(SCOPE, &source, event.id).await.expect("archived"),
            1,
            "{label}: event {seq} ({source} {}) is archived once",
            event.id
        );
    }
    // Every row at its own sequence: nothing shifted, nothing archived from a replayed batch.
    let rows = sql(database, "SELECT seq || '|' || id FROM archive WHERE scope = 'live' ORDER BY seq").await;
    let mismatch =
        rows.lines().zip(events).enumerate().find(|(i, (row, event))| *row != format!("{}|{}", i + 1, event.id));
    if let Some((i, (row, event))) = mismatch {
        panic!("{label}: the archive holds {row:?} where the log holds event {} at {}", event.id, i + 1);
    }
}

/// The newest snapshot of a read model: (sequence, picture).
async fn newest_snapshot(label: &str, pg: &Postgres, log: &dyn EventLog) -> (u64, Picture) {
    pg.snapshot(SCOPE, log.epoch(), u64::MAX)
        .await
        .expect("snapshot")
        .unwrap_or_else(|| panic!("{label}: the projector wrote no snapshot"))
}

/// The snapshot equals the fold of the log up to its sequence.
async fn assert_snapshot_is_a_fold(
    label: &str,
    snapshot: &(u64, Picture),
    folded: &Folded,
    log: &dyn EventLog,
    events: &[Event],
) {
    let (seq, picture) = snapshot;
    let fold = match folded.at.get(seq) {
        Some(fold) => fold.clone(),
        None => fold_log(log, events, *seq).await.picture,
    };
    assert!(*picture == fold, "{label}: the snapshot at {seq} is not the fold of the log up to {seq}");
}

/// `count` sequences spread over 1..=last, the last one, and `around` ± `width`.
fn samples(last: u64, count: u64, around: u64, width: u64) -> Vec<u64> {
    let mut s: Vec<u64> = (0..count).map(|i| 1 + i * last / count).collect();
    s.push(last);
    s.extend(around.saturating_sub(width).max(1)..=(around + width).min(last));
    s.sort_unstable();
    s.dedup();
    s
}

/// The scenario, timed.
fn generate(total: usize, seed: u64) -> Arc<Vec<Event>> {
    let started = Instant::now();
    let events = scenario(total, seed);
    eprintln!("built {total} events in {:.1} s", started.elapsed().as_secs_f64());
    Arc::new(events)
}

/// Runs `ghor project --rebuild live` to its end: (status, stderr, seconds).
async fn rebuild(nats: String, database: String) -> (ExitStatus, String, f64) {
    let started = Instant::now();
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        Command::new(BIN)
            .args(project_args(&nats, &database, &["--rebuild", "live"]))
            .env("NO_COLOR", "1")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the rebuild finishes within 300 s")
    .expect("run ghor project --rebuild");
    let progress = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status, progress, started.elapsed().as_secs_f64())
}

/// Whether a projector was fenced out: it exited or said so.
fn fenced(p: &mut Process) -> bool {
    let said = p.stderr();
    p.exited().is_some() || said.contains("fenced") || said.contains("another projector")
}

/// Waits until exactly one of two projectors on one database is fenced out; true when
/// it is `a`.
async fn await_one_fenced(a: &mut Process, b: &mut Process) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !fenced(a) && !fenced(b) {
        assert!(
            Instant::now() < deadline,
            "neither projector was fenced out, yet both projected the same log into one database.\nA:\n{}\nB:\n{}",
            a.stderr(),
            b.stderr()
        );
        tokio::time::sleep(POLL).await;
    }
    assert!(
        a.exited().is_none() || b.exited().is_none(),
        "both projectors exited, yet the checkpoint reached the end.\nA:\n{}\nB:\n{}",
        a.stderr(),
        b.stderr()
    );
    fenced(a)
}

// ---- the tests ----

/// 100 000 events; the projector is killed with SIGKILL mid-stream (past 30 000) and
/// restarted. Its read model must equal a rebuild of the same log into a fresh database
/// and a fold in the test, and archive every event once, including the batch it had in
/// flight. The rebuild and the test's fold run beside the kill and restart, to save time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_projector_mid_stream_loses_and_doubles_nothing() {
    const TOTAL: usize = 100_000;
    const KILL_AFTER: u64 = 30_000;
    let started = Instant::now();
    let nats = NatsServer::start();
    let (db1, db2) = (TestDatabase::create().await, TestDatabase::create().await);
    let log = open_log(&nats).await;
    let events = generate(TOTAL, 1);
    let last = append_all(&*log, &events, 0).await;
    assert_eq!(last, TOTAL as u64);

    // The rebuild of the same log into a second database, and the test's own fold of it,
    // run beside the kill and restart on the first.
    let rebuilding = tokio::spawn(rebuild(nats.url.clone(), db2.url.clone()));
    let folding = tokio::spawn({
        let (log, events) = (log.clone(), events.clone());
        async move { fold_log(&*log, &events, last).await }
    });

    let pg1 = Postgres::connect(&db1.url).await.expect("connect DB1");
    let mut first = Process::projector("projector", &nats.url, &db1.url);
    let projecting = Instant::now();
    await_checkpoint(&pg1, KILL_AFTER, &mut [&mut first], Duration::from_secs(300)).await;
    first.kill9().await;
    let at_kill = pg1.checkpoint(SCOPE).await.expect("checkpoint");
    let rate = at_kill as f64 / projecting.elapsed().as_secs_f64();
    eprintln!("kill -9 with the checkpoint at {at_kill} ({rate:.0} events per second so far)");
    assert!(
        (KILL_AFTER..last).contains(&at_kill),
        "the projector must be killed mid-stream, but its checkpoint was at {at_kill} of {last}"
    );

    let mut second = Process::projector("projector (restarted)", &nats.url, &db1.url);
    let resumed = Instant::now();
    assert_eq!(await_checkpoint(&pg1, last, &mut [&mut second], Duration::from_secs(300)).await, last);
    eprintln!(
        "the restarted projector caught up {} events in {:.1} s",
        last - at_kill,
        resumed.elapsed().as_secs_f64()
    );
    second.assert_running("idle at the end of the log");
    second.kill9().await;

    let (status, progress, took) = rebuilding.await.expect("the rebuild task");
    eprintln!("[rebuild] {}", progress.trim_end().replace('\n', "\n[rebuild] "));
    assert!(status.success(), "ghor project --rebuild live failed ({status}):\n{progress}");
    eprintln!("rebuilt {last} events into DB2 in {took:.1} s");
    assert!(
        progress.contains(&format!("rebuilding the live read model from sequence 1 to {last}")),
        "the rebuild says what it does:\n{progress}"
    );
    assert!(
        progress.lines().any(|l| l.starts_with("rebuilt ") && l.contains(&format!("/{last} events"))),
        "the rebuild shows its progress:\n{progress}"
    );
    assert!(
        progress.contains(&format!("rebuilt up to sequence {last}")),
        "the rebuild says when it is done:\n{progress}"
    );
    let pg2 = Postgres::connect(&db2.url).await.expect("connect DB2");
    assert_eq!(pg2.checkpoint(SCOPE).await.expect("checkpoint"), last);

    let folded = folding.await.expect("the fold task");
    assert_read_model_is("DB1 (killed and restarted)", &pg1, &db1.url, &folded.picture).await;
    assert_read_model_is("DB2 (rebuilt)", &pg2, &db2.url, &folded.picture).await;
    assert_same_read_models("DB1 vs DB2", &pg1, &pg2).await;
    // ~200 events across the log, those around the kill, and the edges of the batch the
    // killed projector had in flight (up to 1000 events after its checkpoint).
    let mut sampled = samples(last, 150, at_kill, 25);
    sampled.extend([at_kill + 999, at_kill + 1000, at_kill + 1001].iter().filter(|s| **s <= last));
    assert_archived_once("DB1", &pg1, &db1.url, &events, last, &sampled).await;
    assert_archived_once("DB2", &pg2, &db2.url, &events, last, &sampled).await;
    for (label, pg) in [("DB1", &pg1), ("DB2", &pg2)] {
        let snapshot = newest_snapshot(label, pg, &*log).await;
        assert_snapshot_is_a_fold(label, &snapshot, &folded, &*log, &events).await;
    }
    eprintln!("killing_the_projector_mid_stream: {:.1} s in all", started.elapsed().as_secs_f64());
}

/// Two projectors started at once on one fresh database: one is fenced out, the other
/// projects everything, and nothing is applied or archived twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_projectors_started_at_once_apply_nothing_twice() {
    const TOTAL: usize = 20_000;
    let started = Instant::now();
    let nats = NatsServer::start();
    let db = TestDatabase::create().await;
    let log = open_log(&nats).await;
    let events = generate(TOTAL, 2);
    let last = append_all(&*log, &events, 0).await;
    let folding = tokio::spawn({
        let (log, events) = (log.clone(), events.clone());
        async move { fold_log(&*log, &events, last).await }
    });

    // Both start on a fresh database at once: both migrate, both find checkpoint 0.
    let mut a = Process::projector("projector A", &nats.url, &db.url);
    let mut b = Process::projector("projector B", &nats.url, &db.url);
    let pg = Postgres::connect(&db.url).await.expect("connect");
    assert_eq!(await_checkpoint(&pg, last, &mut [&mut a, &mut b], Duration::from_secs(120)).await, last);

    // At least one found the checkpoint moved under it and stood by; a standby that
    // tries again may in turn fence the other: fencing, not luck, keeps it exact.
    let a_lost = await_one_fenced(&mut a, &mut b).await;
    let (loser, winner) = if a_lost { (&mut a, &mut b) } else { (&mut b, &mut a) };
    eprintln!("{} was fenced out; {} projected", loser.name, winner.name);
    let said = loser.stderr();
    assert!(
        said.contains("another projector moved the checkpoint"),
        "the fenced projector says why it stands by:\n{said}"
    );
    winner.assert_running("projecting");
    loser.assert_running("standing by");

    let folded = folding.await.expect("the fold task");
    assert_read_model_is("DB (two projectors)", &pg, &db.url, &folded.picture).await;
    assert_archived_once("DB (two projectors)", &pg, &db.url, &events, last, &samples(last, 200, 1000, 20)).await;
    let snapshot = newest_snapshot("DB", &pg, &*log).await;
    assert_snapshot_is_a_fold("DB (two projectors)", &snapshot, &folded, &*log, &events).await;
    eprintln!("two_projectors_started_at_once: {:.1} s in all", started.elapsed().as_secs_f64());
}

/// The read model is backed up (pg_dump, online) at 10 000 events, the log grows to
/// 20 000, the database is lost and the backup restored: the projector resumes from the
/// restored checkpoint and converges on what the lost database held and on the fold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restored_from_an_older_backup_resumes_and_converges() {
    const HALF: usize = 10_000;
    let started = Instant::now();
    let nats = NatsServer::start();
    let db1 = TestDatabase::create().await;
    let log = open_log(&nats).await;
    let events = generate(2 * HALF, 3);
    let middle = append_all(&*log, &events[..HALF], 0).await;

    let pg1 = Postgres::connect(&db1.url).await.expect("connect DB1");
    let mut projector = Process::projector("projector on DB1", &nats.url, &db1.url);
    assert_eq!(await_checkpoint(&pg1, middle, &mut [&mut projector], Duration::from_secs(120)).await, middle);

    // An online backup while the projector runs, as a nightly pg_dump would take it.
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("db1.dump");
    let out = Command::new("pg_dump")
        .args(["-Fc", "--no-owner", "--no-acl", "-f"])
        .arg(&dump)
        .arg(&db1.url)
        .output()
        .await
        .expect("run pg_dump");
    assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));

    let last = append_all(&*log, &events[HALF..], middle).await;
    let folding = tokio::spawn({
        let (log, events) = (log.clone(), events.clone());
        async move { fold_log(&*log, &events, last).await }
    });
    assert_eq!(await_checkpoint(&pg1, last, &mut [&mut projector], Duration::from_secs(120)).await, last);
    projector.assert_running("idle at the end of the log");
    projector.kill9().await;

    // DB1 is lost; the backup is restored into a new database, behind the log.
    let db3 = TestDatabase::create().await;
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--no-acl", "--exit-on-error", "-d", &db3.url])
        .arg(&dump)
        .output()
        .await
        .expect("run pg_restore");
    assert!(out.status.success(), "pg_restore failed: {}", String::from_utf8_lossy(&out.stderr));
    let pg3 = Postgres::connect(&db3.url).await.expect("connect DB3");
    assert_eq!(pg3.checkpoint(SCOPE).await.expect("checkpoint"), middle, "the backup was taken at {middle}");

    let mut restored = Process::projector("projector on the restored DB3", &nats.url, &db3.url);
    let resumed = Instant::now();
    assert_eq!(await_checkpoint(&pg3, last, &mut [&mut restored], Duration::from_secs(120)).await, last);
    eprintln!("the restored database caught up {} events in {:.1} s", last - middle, resumed.elapsed().as_secs_f64());
    restored.assert_running("idle at the end of the log");

    let folded = folding.await.expect("the fold task");
    assert_read_model_is("DB3 (restored and resumed)", &pg3, &db3.url, &folded.picture).await;
    assert_read_model_is("DB1", &pg1, &db1.url, &folded.picture).await;
    assert_same_read_models("DB3 vs DB1", &pg3, &pg1).await;
    let sampled = samples(last, 200, middle, 25);
    assert_archived_once("DB3", &pg3, &db3.url, &events, last, &sampled).await;
    assert_archived_once("DB1", &pg1, &db1.url, &events, last, &sampled).await;
    let snapshot = newest_snapshot("DB3", &pg3, &*log).await;
    assert_snapshot_is_a_fold("DB3", &snapshot, &folded, &*log, &events).await;
    eprintln!("a_database_restored_from_an_older_backup: {:.1} s in all", started.elapsed().as_secs_f64());
}

/// deploy/README.md: "a second projector is fenced out, so running a standby is safe".
/// A standby is only worth running if the read model keeps up once the active projector
/// dies: either the fenced one resumes, or it exits so that its supervisor restarts it
/// (simulated here), and the restarted one resumes from the checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_standby_takes_over_when_the_active_projector_dies() {
    let nats = NatsServer::start();
    let db = TestDatabase::create().await;
    let log = open_log(&nats).await;
    let events = generate(6_000, 5);
    let middle = append_all(&*log, &events[..5_000], 0).await;
    let mut a = Process::projector("projector A", &nats.url, &db.url);
    let mut b = Process::projector("projector B", &nats.url, &db.url);
    let pg = Postgres::connect(&db.url).await.expect("connect");
    await_checkpoint(&pg, middle, &mut [&mut a, &mut b], Duration::from_secs(60)).await;
    let a_lost = await_one_fenced(&mut a, &mut b).await;
    let (mut standby, mut active) = if a_lost { (a, b) } else { (b, a) };
    active.kill9().await;
    let last = append_all(&*log, &events[5_000..], middle).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut restarted = None;
    loop {
        let checkpoint = pg.checkpoint(SCOPE).await.expect("checkpoint");
        if checkpoint == last {
            break;
        }
        // A supervisor restarts a projector that exited.
        if restarted.is_none() {
            if let Some(status) = standby.exited() {
                eprintln!("the fenced projector exited ({status}); restarting it as a supervisor would");
                restarted = Some(Process::projector("projector (restarted standby)", &nats.url, &db.url));
            }
        }
        let state = match (standby.exited(), &restarted) {
            (None, _) => "still running (so no supervisor restarts it)".to_owned(),
            (Some(status), Some(_)) => format!("exited ({status}) and was restarted, yet the restarted one"),
            (Some(status), None) => format!("exited ({status})"),
        };
        assert!(
            Instant::now() < deadline,
            "BUG (crates/server/src/lib.rs serve / projector::run): after {} was fenced out and the active projector \
             died, the read model stays at {checkpoint} of {last}: the fenced projector's task ended but its process \
             is {state} and it never resumes. A standby, or any projector running \
             during `ghor project --rebuild`, is dead weight. Its stderr:\n{}",
            standby.name,
            standby.stderr()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Not a fault, but what the tests above rest on: the read model equals the fold of the
/// log. A location's view also shows its organisation's name, the thresholds of its
/// region and the incidents around it, so region-wide events change it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_views_follow_region_wide_events() {
    let nats = NatsServer::start();
    let db = TestDatabase::create().await;
    let log = open_log(&nats).await;
    let mut events = scenario(2_000, 4);
    let t = Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).single().expect("time");
    events.extend([
        // org-00's locations are loc-00, loc-12, loc-24, loc-36, loc-48 (all VR01).
        accepted(
            "/regions/VR01",
            "nl.ghor.organisation.registered.v1",
            Some("org-00"),
            json!({ "name": "Nieuwe naam" }),
            t,
            t,
            "VR01",
        ),
        accepted(
            "/regions/VR01",
            "nl.ghor.threshold.set.v1",
            Some("supply_days_critical"),
            json!({ "value": 50 }),
            t,
            t,
            "VR01",
        ),
        accepted(
            "/regions/VR02",
            "nl.ghor.incident.opened.v1",
            Some("overstroming-vr02"),
            json!({ "name": "Overstroming", "state": "actief", "grip": 2, "area": { "regions": ["VR02"] } }),
            t,
            t,
            "VR02",
        ),
    ]);
    let last = append_all(&*log, &events, 0).await;
    let pg = Postgres::connect(&db.url).await.expect("connect");
    let mut projector = Process::projector("projector", &nats.url, &db.url);
    await_checkpoint(&pg, last, &mut [&mut projector], Duration::from_secs(60)).await;

    let folded = fold_log(&*log, &events, last).await;
    let (regions, views) = expected_views(&folded.picture);
    for (code, view) in &regions {
        assert_same(&format!("region {code}"), pg.region(SCOPE, *code).await.expect("region"), Some(view.clone()));
    }
    let mut stale = Vec::new();
    for (id, _) in locations() {
        let found = pg.location(SCOPE, &id).await.expect("location");
        let wanted = views.get(&id).cloned();
        if found != wanted {
            let why = match (&found, &wanted) {
                (Some(f), Some(w)) => difference("", f, w).unwrap_or_default(),
                _ => format!("{} vs {}", show(found.as_ref()), show(wanted.as_ref())),
            };
            stale.push(format!("{id}{why}"));
        }
    }
    assert!(
        stale.is_empty(),
        "BUG (crates/server/src/projector.rs, fold_batch): the projector rewrites a location's view only when the \
         batch holds an event of that location itself, so an organisation's new name, a region's threshold or an \
         incident leaves read_locations stale while read_regions is right. {} of {LOCATIONS} location views differ \
         from the fold (read model vs fold):\n{}",
        stale.len(),
        stale.join("\n")
    );
}
