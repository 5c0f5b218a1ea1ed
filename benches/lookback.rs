//! Looking back over a long log (issue 13): the picture as known and as observed at random
//! moments of a 1,000,000-event log, and the steps of a time slider, beside the time of a
//! full fold of the same log (the ratio is the figure).
//!
//! ```text
//! cargo bench --bench lookback
//! GHOR_BENCH_EVENTS=200000 cargo bench --bench lookback    # a shorter run
//! GHOR_BENCH_BACKEND=production cargo bench --bench lookback
//! ```
//!
//! Settings (environment): `GHOR_BENCH_EVENTS` (default 1,000,000), `GHOR_BENCH_MOMENTS`
//! (random moments per clock, default 20), `GHOR_BENCH_SNAPSHOT_EVERY` (the projector's
//! snapshot interval, default 10,000 as `ghor serve`'s), `GHOR_BENCH_BACKEND` (`embedded`,
//! the default, or `production`: a `nats-server` from `GHOR_NATS_SERVER` or the `PATH` and
//! a fresh database on the PostgreSQL at `GHOR_TEST_DATABASE_URL`).
//!
//! The log: 2,000 locations of 400 organisations in one region, registered first, then
//! reports over seven days (beds, power, an incident now and then), received in order with
//! a few seconds' jitter; 5 % observed up to six hours before they arrived (late reports).
//! The projector folds it into the read model with its snapshots, the look-back index
//! reads it, and then, in this process as a gateway would:
//! - **full fold**: the whole log read and folded from scratch (the baseline);
//! - **as known at T / as observed at T**: `Lookback::at` for random T over the seven
//!   days, each from its own start (p50/p95/max);
//! - **slider step**: from a random moment, 30 steps of one minute forward, each answered
//!   as a page's slider asks (p50/p95/max over the steps).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use ghor_domain::{Event, Picture, RegionCode, Scope, Stamp};
use ghor_server::gateway::lookback::{fold_entries, Clock, Lookback, Unanswered};
use ghor_server::metrics::Metrics;
use ghor_server::supervise::Tasks;
use ghor_store::testing::{accepted, Mix, NatsServer, TestDatabase};
use ghor_store::{EventLog, ReadModel};
use serde_json::{json, Value};

const REGION: &str = "VR01";
const LOCATIONS: usize = 2000;
const ORGANISATIONS: usize = 400;
/// Appended at once.
const APPEND_BATCH: usize = 1000;
const SLIDER_STEPS: usize = 30;
const SLIDER_RUNS: usize = 3;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) => v.parse().map_err(|_| anyhow::anyhow!("{name}={v:?} is not a valid number")),
        Err(_) => Ok(default),
    }
}

fn stored(
    source: &str,
    event_type: &str,
    subject: Option<&str>,
    data: Value,
    time: DateTime<Utc>,
    received: DateTime<Utc>,
) -> anyhow::Result<Event> {
    let stamp = Stamp { region: RegionCode::try_from(REGION)?, scope: Scope::Live, actor: "bench".into(), received };
    Ok(accepted(source, event_type, subject, data, time, stamp))
}

/// The `n`th event of the log that starts at `start` and spans `span`.
fn event(
    n: usize,
    total: usize,
    start: DateTime<Utc>,
    span: chrono::Duration,
    random: &mut Mix,
) -> anyhow::Result<Event> {
    let region = format!("/regions/{REGION}");
    let registrations = ORGANISATIONS + LOCATIONS;
    if n < ORGANISATIONS {
        let data = json!({ "name": format!("Organisatie {n}") });
        return stored(&region, "nl.ghor.organisation.registered.v1", Some(&format!("org-{n}")), data, start, start);
    }
    if n < registrations {
        let l = n - ORGANISATIONS;
        let data = json!({
            "name": format!("Locatie {l}"), "organisation": format!("org-{}", l % ORGANISATIONS),
            "type": if l.is_multiple_of(20) { "ziekenhuis" } else { "verpleeg_verzorgingshuis" }, "region": REGION,
            "point": { "lat": 53.0 + (l % 50) as f64 / 100.0, "lon": 6.0 + (l / 50) as f64 / 100.0 },
        });
        return stored(&format!("/locations/loc-{l}"), "nl.ghor.location.registered.v1", None, data, start, start);
    }
    let share = (n - registrations) as f64 / (total - registrations) as f64;
    let jitter = chrono::Duration::milliseconds(random.below(4000) as i64);
    let received = start + chrono::Duration::milliseconds((span.num_milliseconds() as f64 * share) as i64) + jitter;
    let late = if random.below(100) < 5 { random.below(6 * 3600) } else { random.below(60) };
    let time = received - chrono::Duration::seconds(late as i64);
    let source = format!("/locations/loc-{}", random.below(LOCATIONS as u64));
    match random.below(100) {
        0 => {
            let state = if random.below(2) == 0 { "actief" } else { "afgeschaald" };
            let data = json!({ "name": "Stroomstoring", "state": state, "grip": random.below(4), "area": { "regions": [REGION] } });
            stored(&region, "nl.ghor.incident.opened.v1", Some("bench-incident"), data, time, received)
        }
        1..=40 => {
            let status = ["normaal", "verstoord", "uitgevallen"][random.below(3) as usize];
            let data = json!({ "status": status, "on_backup": status != "normaal" });
            stored(&source, "nl.ghor.utility.reported.v1", Some("stroom"), data, time, received)
        }
        _ => {
            let subject = if random.below(2) == 0 { "ic" } else { "ccu" };
            let data = json!({ "operational": 40, "occupied": random.below(41) });
            stored(&source, "nl.ghor.beds.reported.v1", Some(subject), data, time, received)
        }
    }
}

struct Backbone {
    log: Arc<dyn EventLog>,
    read_model: Arc<dyn ReadModel>,
    _dir: tempfile::TempDir,
    _nats: Option<NatsServer>,
    _database: Option<TestDatabase>,
}

async fn backbone(production: bool) -> anyhow::Result<Backbone> {
    let dir = tempfile::tempdir()?;
    if production {
        let nats = NatsServer::start();
        let database = TestDatabase::create().await;
        let backbone = ghor_server::Backbone::production(
            &nats.url,
            &database.url,
            &ghor_store::nats::StreamSettings::default(),
            &ghor_store::nats::IntakeSettings::default(),
        )
        .await?;
        let log = backbone.logs.get(&Scope::Live).context("no live log")?.clone();
        return Ok(Backbone {
            log,
            read_model: backbone.read_model,
            _dir: dir,
            _nats: Some(nats),
            _database: Some(database),
        });
    }
    let backbone = ghor_server::Backbone::embedded(dir.path()).await?;
    let log = backbone.logs.get(&Scope::Live).context("no live log")?.clone();
    Ok(Backbone { log, read_model: backbone.read_model, _dir: dir, _nats: None, _database: None })
}

fn progress(line: impl AsRef<str>) {
    eprintln!("  {}", line.as_ref());
}

/// Median, 95th percentile and maximum of durations, in ms.
fn spread(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95), at(1.0))
}

async fn full_fold(log: &dyn EventLog) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let mut picture = Picture::default();
    let mut after = 0;
    loop {
        let entries = log.read(after, 1000).await?;
        let Some(last) = entries.last() else { break };
        after = last.seq;
        fold_entries(&mut picture, entries);
    }
    Ok((started.elapsed(), picture.locations.len()))
}

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` asks for the list of benchmarks
    }
    let total: usize = setting("GHOR_BENCH_EVENTS", 1_000_000)?;
    let moments: usize = setting("GHOR_BENCH_MOMENTS", 20)?;
    let snapshot_every: u64 = setting("GHOR_BENCH_SNAPSHOT_EVERY", 10_000)?;
    let production = match std::env::var("GHOR_BENCH_BACKEND").as_deref().unwrap_or("embedded") {
        "embedded" => false,
        "production" => true,
        other => anyhow::bail!("GHOR_BENCH_BACKEND={other:?}: expected embedded or production"),
    };
    anyhow::ensure!(
        total > ORGANISATIONS + LOCATIONS + 1000,
        "GHOR_BENCH_EVENTS must be more than {}",
        ORGANISATIONS + LOCATIONS + 1000
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let b = backbone(production).await?;
        let span = chrono::Duration::days(7);
        let start = Utc::now() - span - chrono::Duration::hours(1);
        let mut random = Mix(11);
        let building = Instant::now();
        for from in (0..total).step_by(APPEND_BATCH) {
            let events = (from..(from + APPEND_BATCH).min(total))
                .map(|n| event(n, total, start, span, &mut random))
                .collect::<anyhow::Result<Vec<_>>>()?;
            for appended in b.log.append(&events).await {
                appended.map_err(|e| anyhow::anyhow!("append: {e}"))?;
            }
            if from % 100_000 == 0 {
                progress(format!("appended {from} of {total} events"));
            }
        }
        progress(format!("log of {total} events built in {:.0} s", building.elapsed().as_secs_f64()));

        let (trigger, shutdown) = ghor_server::shutdown::channel();
        let tasks = Tasks::new(Metrics::new().task_restarts, shutdown.clone());
        let projecting = Instant::now();
        let (log, read_model, stop) = (b.log.clone(), b.read_model.clone(), shutdown.clone());
        tasks.spawn("projector", move || {
            ghor_server::projector::run(log.clone(), read_model.clone(), snapshot_every, stop.clone())
        });
        let last = b.log.last_seq().await?;
        while b.read_model.checkpoint(Scope::Live).await? < last {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        progress(format!(
            "projected with a snapshot every {snapshot_every} events in {:.0} s",
            projecting.elapsed().as_secs_f64()
        ));

        let indexing = Instant::now();
        let lookback = Lookback::start(b.log.clone(), b.read_model.clone(), &tasks, shutdown.clone());
        // Asked again while the index reads the log (as a page does after a 503).
        loop {
            match lookback.at(Utc::now(), Clock::Known).await {
                Ok(_) => break,
                Err(Unanswered::Indexing { indexed, last }) => progress(format!("indexed {indexed} of {last}")),
                Err(e) => anyhow::bail!("the look-back index did not answer: {e:?}"),
            }
        }
        let indexed = indexing.elapsed();
        progress(format!("indexed (and answered now) in {:.1} s", indexed.as_secs_f64()));

        let mut folds = Vec::new();
        for _ in 0..3 {
            let (took, locations) = full_fold(&*b.log).await?;
            anyhow::ensure!(locations >= LOCATIONS, "the full fold holds {locations} locations");
            folds.push(took.as_secs_f64() * 1000.0);
        }
        let (fold_ms, _, _) = spread(folds);
        progress(format!("full fold {fold_ms:.0} ms (median of 3)"));

        let moment = |random: &mut Mix| {
            start + chrono::Duration::milliseconds(random.below(span.num_milliseconds() as u64) as i64)
        };
        let mut figures = Vec::new();
        for clock in [Clock::Known, Clock::Observed] {
            let mut took = Vec::new();
            for _ in 0..moments {
                let at = moment(&mut random);
                let asked = Instant::now();
                lookback.at(at, clock).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
                took.push(asked.elapsed().as_secs_f64() * 1000.0);
            }
            figures.push((format!("{clock:?} at a random moment ({moments})").to_lowercase(), spread(took)));
        }
        for clock in [Clock::Known, Clock::Observed] {
            let mut took = Vec::new();
            for _ in 0..SLIDER_RUNS {
                let mut at = moment(&mut random);
                for _ in 0..SLIDER_STEPS {
                    at += chrono::Duration::minutes(1);
                    let asked = Instant::now();
                    lookback.at(at, clock).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
                    took.push(asked.elapsed().as_secs_f64() * 1000.0);
                }
            }
            figures.push((
                format!("{clock:?} slider step of 1 min ({})", SLIDER_RUNS * SLIDER_STEPS).to_lowercase(),
                spread(took),
            ));
        }
        trigger.trigger();
        drop(tasks);

        println!(
            "\nlook back over {total} events ({}; snapshot every {snapshot_every}); full fold {fold_ms:.0} ms\n",
            if production { "NATS JetStream and PostgreSQL" } else { "embedded SQLite" }
        );
        println!("| measured | p50 (ms) | p95 (ms) | max (ms) | p95 / full fold |");
        println!("|---|---|---|---|---|");
        for (what, (p50, p95, max)) in figures {
            println!("| {what} | {p50:.0} | {p95:.0} | {max:.0} | {:.3} |", p95 / fold_ms);
        }
        println!("\nindex read and first answer: {:.1} s", indexed.as_secs_f64());
        Ok(())
    })
}
