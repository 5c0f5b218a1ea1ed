//! The warm phase under load (issue 9): an uitvraag to 2,000 locations, each with two
//! crisiscoördinator contacts (email) and a webhook of its own organisation, on a real
//! `ghor serve` (the embedded default) with a real SMTP server (aiosmtpd, as `tests/run`
//! installs it) and a webhook receiver in this process. Run `cargo bench --bench warm`
//! (`GHOR_BENCH_ROUNDS=n`, default 3; each round is a fresh server).
//!
//! Measured per round, medians over the rounds:
//! - **handover**: from the moment the uitvraag is stored (its `201`) until the last of the
//!   6,000 notifications (4,000 emails, 2,000 webhooks) is handed to the SMTP server and
//!   the receiver, as notifications per second. Aim: within 30 s.
//! - **banner**: from the same moment until each of 50 connected institution pages (one
//!   websocket each, its own token) receives the uitvraag, p50 and p99. Aim: p99 ≤ 1 s.
//! - **report path**: the latency of a status report (`POST /v1/events`, 20 per second from
//!   another institution) while the notifications go out, beside the same in the 5 s
//!   before the uitvraag: p50 and p99, and their ratio (aim: unchanged, 1.0).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context as _};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

const LOCATIONS: usize = 2_000;
const PAGES: usize = 50;
/// Tokens of the netwerkfunctionaris the set-up is spread over (each token has a rate limit).
const SETUP_TOKENS: usize = 20;
const EMAILS: usize = 2 * LOCATIONS;
const WEBHOOKS: usize = LOCATIONS;
const PATIENCE: Duration = Duration::from_secs(300);

fn progress(line: impl AsRef<str>) {
    eprintln!("  {}", line.as_ref());
}

/// The `ghor` that `cargo bench` built beside this bench.
fn ghor_binary() -> anyhow::Result<PathBuf> {
    Ok(PathBuf::from(env!("CARGO_BIN_EXE_ghor")))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn location(n: usize) -> String {
    format!("bench-{n:04}")
}

/// The locations lie in a grid over Groningen (VR01) and Fryslân (VR02).
fn registration(n: usize) -> Value {
    let region = if n.is_multiple_of(2) { "VR01" } else { "VR02" };
    let (lat, lon) =
        (52.9 + (n % 40) as f64 * 0.01, if n.is_multiple_of(2) { 6.3 } else { 5.7 } + (n / 40) as f64 * 0.005);
    json!({
        "specversion": "1.0", "id": uuid::Uuid::now_v7().to_string(), "source": format!("/locations/{}", location(n)),
        "type": "nl.ghor.location.registered.v1", "time": chrono::Utc::now().to_rfc3339(),
        "data": { "name": format!("Zorglocatie {n}"), "organisation": location(n), "type": "verpleeg_verzorgingshuis",
                  "region": region, "point": { "lat": lat, "lon": lon } },
    })
}

/// One round's server, SMTP sink and receiver.
struct Round {
    url: String,
    http: reqwest::Client,
    tokens: Tokens,
    _ghor: tokio::process::Child,
    _smtp: tokio::process::Child,
    mail_dir: tempfile::TempDir,
    hooks: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

struct Tokens {
    im: String,
    netwerk: Vec<String>,
    /// One per page, then the reporting institution's.
    institutions: Vec<String>,
}

async fn cli(bin: &PathBuf, dir: &std::path::Path, args: &[&str]) -> anyhow::Result<String> {
    let out = tokio::process::Command::new(bin).args(args).arg("--data-dir").arg(dir).output().await?;
    ensure!(out.status.success(), "ghor {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

impl Round {
    async fn start(bin: &PathBuf) -> anyhow::Result<Round> {
        let dir = tempfile::tempdir()?;
        let token = |args: Vec<String>| {
            let dir = dir.path().to_owned();
            async move {
                let mut all = vec!["token".to_owned(), "create".to_owned()];
                all.extend(args);
                let refs: Vec<&str> = all.iter().map(String::as_str).collect();
                cli(bin, &dir, &refs).await
            }
        };
        let regions = || ["--region", "VR01", "--region", "VR02"].map(String::from).to_vec();
        let im = token(
            [vec!["--role".into(), "informatiemanager".into(), "--name".into(), "IM bench".into()], regions()].concat(),
        )
        .await?;
        let mut netwerk = Vec::new();
        for i in 0..SETUP_TOKENS {
            let args = vec!["--role".into(), "netwerkfunctionaris".into(), "--name".into(), format!("netwerk {i}")];
            netwerk.push(token([args, regions()].concat()).await?);
        }
        let mut institutions = Vec::new();
        for n in (0..PAGES).chain([LOCATIONS - 1]) {
            let region = if n.is_multiple_of(2) { "VR01" } else { "VR02" };
            let args =
                ["--role", "institution", "--name", &location(n), "--organisation", &location(n), "--region", region];
            institutions.push(token(args.iter().map(|s| (*s).to_owned()).collect()).await?);
        }

        let mail_dir = tempfile::tempdir()?;
        let smtp_port = free_port()?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut smtp = tokio::process::Command::new("python3")
            .arg(script)
            .arg(smtp_port.to_string())
            .arg(mail_dir.path())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("start aiosmtpd (tests/run installs it)")?;
        let mut lines = BufReader::new(smtp.stdout.take().context("stdout")?).lines();
        ensure!(lines.next_line().await?.as_deref() == Some("ready"), "aiosmtpd did not start");

        let hooks = Arc::new(AtomicUsize::new(0));
        let counted = hooks.clone();
        let app = axum::Router::new().fallback(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            async { axum::http::StatusCode::NO_CONTENT }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let hook_url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut ghor = tokio::process::Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--overdue-every", "3600"])
            .arg("--data-dir")
            .arg(dir.path())
            .env("GHOR_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
            .env("GHOR_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut out = BufReader::new(ghor.stdout.take().context("stdout")?).lines();
        let line = out.next_line().await?.ok_or_else(|| anyhow!("ghor exited before it listened"))?;
        let url = line.strip_prefix("ghor listening on ").ok_or_else(|| anyhow!("unexpected: {line}"))?.to_owned();
        tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
        let round = Round {
            url,
            http: reqwest::Client::new(),
            tokens: Tokens { im, netwerk, institutions },
            _ghor: ghor,
            _smtp: smtp,
            mail_dir,
            hooks,
            _dir: dir,
        };
        round.set_up(&hook_url).await?;
        Ok(round)
    }

    /// One request; a `429` (each token's rate limit) is waited out and sent again.
    async fn send(&self, method: reqwest::Method, token: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.url);
        let mut r = self.http.request(method.clone(), &url).bearer_auth(token).json(body).send().await?;
        while r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(Duration::from_millis(200)).await;
            r = self.http.request(method.clone(), &url).bearer_auth(token).json(body).send().await?;
        }
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "{path}: {status}: {body}");
        Ok(body)
    }

    /// The registry, two emailed crisiscoördinators per location and a webhook per
    /// organisation, spread over the set-up tokens.
    async fn set_up(&self, hook_url: &str) -> anyhow::Result<()> {
        let registrations: Vec<Value> = (0..LOCATIONS).map(registration).collect();
        for chunk in registrations.chunks(500) {
            let answer =
                self.send(reqwest::Method::POST, &self.tokens.netwerk[0], "/v1/events/batch", &json!(chunk)).await?;
            ensure!(
                answer["results"].as_array().is_some_and(|r| r.iter().all(|r| r["status"] != "rejected")),
                "{answer}"
            );
        }
        // The picture follows the log: wait until it holds the whole registry.
        let deadline = Instant::now() + PATIENCE;
        loop {
            let registry = self
                .send(reqwest::Method::GET, &self.tokens.netwerk[0], "/v1/registry/locations", &Value::Null)
                .await?;
            if registry["locations"].as_array().map_or(0, Vec::len) >= LOCATIONS {
                break;
            }
            ensure!(Instant::now() < deadline, "the registry never reached the picture");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let secret = format!("whsec_{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]));
        futures::stream::iter(0..LOCATIONS)
            .map(|n| {
                let token = &self.tokens.netwerk[n % SETUP_TOKENS];
                let contacts = json!({ "contacts": [
                    { "role": "crisiscoordinator", "name": "Eerste", "phone_24_7": "+31 50 000 0001", "email": format!("een@{}.test", location(n)), "verified_on": "2026-10-01" },
                    { "role": "crisiscoordinator", "name": "Tweede", "phone_24_7": "+31 50 000 0002", "email": format!("twee@{}.test", location(n)), "verified_on": "2026-10-01" },
                ] });
                let hooks = json!({ "webhooks": [{ "url": format!("{hook_url}/{}", location(n)), "secret": secret }] });
                async move {
                    self.send(reqwest::Method::PUT, token, &format!("/v1/registry/locations/{}/contacts", location(n)), &contacts).await?;
                    self.send(reqwest::Method::PUT, token, &format!("/v1/registry/organisations/{}/webhooks", location(n)), &hooks).await
                }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(())
    }

    fn emails(&self) -> usize {
        std::fs::read_dir(self.mail_dir.path())
            .map(|d| d.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "json")).count())
            .unwrap_or(0)
    }

    /// A page of one institution: waits for its snapshot, then notes when a message first
    /// names `id`. Returns a handle that yields that moment.
    async fn page(
        &self,
        token: &str,
        region: &str,
        id: &str,
    ) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<Instant>>> {
        let ticket = self.send(reqwest::Method::POST, token, "/v1/stream/ticket", &json!({})).await?;
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("{}/v1/stream", self.url.replace("http://", "ws://"))).await?;
        let hello = json!({ "type": "hello", "ticket": ticket["ticket"], "regions": [region] });
        ws.send(Message::Text(hello.to_string().into())).await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.contains("\"snapshot\"") => break,
                Some(Ok(_)) => {}
                other => return Err(anyhow!("the page's stream ended before its snapshot: {other:?}")),
            }
        }
        let needle = format!("\"{id}\"");
        Ok(tokio::spawn(async move {
            while let Some(message) = ws.next().await {
                if let Message::Text(t) = message? {
                    if t.contains(&needle) {
                        return Ok(Instant::now());
                    }
                }
            }
            Err(anyhow!("the page's stream ended before the uitvraag came"))
        }))
    }
}

/// Percentile `p` (0–100) of `values`, in the unit they are in.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[((p / 100.0) * (v.len() - 1) as f64).round() as usize]
}

struct Measured {
    handover_s: f64,
    banner_p50_ms: f64,
    banner_p99_ms: f64,
    report_before: (f64, f64),
    report_during: (f64, f64),
}

/// Posts a status report every 50 ms until `stop`, returning (when sent, latency in ms).
fn reporter(round: &Round, stop: Arc<std::sync::atomic::AtomicBool>) -> tokio::task::JoinHandle<Vec<(Instant, f64)>> {
    let (http, url) = (round.http.clone(), round.url.clone());
    let token = round.tokens.institutions[PAGES].clone();
    tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let mut n = 0u32;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            n += 1;
            let report = json!({
                "specversion": "1.0", "id": uuid::Uuid::now_v7().to_string(), "source": format!("/locations/{}", location(LOCATIONS - 1)),
                "type": "nl.ghor.beds.reported.v1", "subject": "vvt_somatisch", "time": chrono::Utc::now().to_rfc3339(),
                "data": { "operational": 40, "occupied": n % 40 },
            });
            let sent = Instant::now();
            let ok = http
                .post(format!("{url}/v1/events"))
                .bearer_auth(&token)
                .json(&report)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                seen.push((sent, sent.elapsed().as_secs_f64() * 1000.0));
            }
        }
        seen
    })
}

async fn measure(bin: &PathBuf, round_no: usize) -> anyhow::Result<Measured> {
    progress(format!("round {round_no}: setting up {LOCATIONS} locations, {EMAILS} contacts and {WEBHOOKS} webhooks"));
    let round = Round::start(bin).await?;
    let id = format!("bench-{round_no}");
    let mut pages = Vec::new();
    for (n, token) in round.tokens.institutions[..PAGES].iter().enumerate() {
        pages.push(round.page(token, if n % 2 == 0 { "VR01" } else { "VR02" }, &id).await?);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reports = reporter(&round, stop.clone());
    tokio::time::sleep(Duration::from_secs(5)).await; // the report path's baseline period
    progress(format!("round {round_no}: asking, with {PAGES} institution pages open"));
    let deadline = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let uitvraag = json!({
        "specversion": "1.0", "id": uuid::Uuid::now_v7().to_string(), "source": "/regions/VR01",
        "type": "nl.ghor.uitvraag.opened.v1", "subject": id, "time": chrono::Utc::now().to_rfc3339(),
        "data": { "title": "Bench", "area": { "regions": ["VR01", "VR02"] }, "asked": [{ "dimension": "utility" }], "deadline": deadline },
    });
    round.send(reqwest::Method::POST, &round.tokens.im, "/v1/events", &uitvraag).await?;
    let asked = Instant::now();
    let patience = asked + PATIENCE;
    let handed_over = loop {
        let (emails, hooks) = (round.emails(), round.hooks.load(Ordering::Relaxed));
        if emails >= EMAILS && hooks >= WEBHOOKS {
            break Instant::now();
        }
        ensure!(
            Instant::now() < patience,
            "only {emails} of {EMAILS} emails and {hooks} of {WEBHOOKS} webhooks handed over"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.store(true, Ordering::Relaxed);
    let mut banner = Vec::new();
    for page in pages {
        banner.push(page.await??.saturating_duration_since(asked).as_secs_f64() * 1000.0);
    }
    let reports = reports.await?;
    let before: Vec<f64> = reports.iter().filter(|(t, _)| *t < asked).map(|(_, ms)| *ms).collect();
    let during: Vec<f64> =
        reports.iter().filter(|(t, _)| *t >= asked && *t <= handed_over).map(|(_, ms)| *ms).collect();
    let m = Measured {
        handover_s: (handed_over - asked).as_secs_f64(),
        banner_p50_ms: percentile(&banner, 50.0),
        banner_p99_ms: percentile(&banner, 99.0),
        report_before: (percentile(&before, 50.0), percentile(&before, 99.0)),
        report_during: (percentile(&during, 50.0), percentile(&during, 99.0)),
    };
    progress(format!(
        "round {round_no}: {} notifications in {:.1} s ({:.0}/s); banner p50 {:.0} ms, p99 {:.0} ms; report p50/p99 {:.1}/{:.1} ms before, {:.1}/{:.1} ms during ({} reports)",
        EMAILS + WEBHOOKS, m.handover_s, (EMAILS + WEBHOOKS) as f64 / m.handover_s, m.banner_p50_ms, m.banner_p99_ms,
        m.report_before.0, m.report_before.1, m.report_during.0, m.report_during.1, during.len()
    ));
    Ok(m)
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    percentile(&values.collect::<Vec<_>>(), 50.0)
}

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` asks for the list of benchmarks
    }
    let rounds: usize = std::env::var("GHOR_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let bin = ghor_binary()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let all: Vec<Measured> = (1..=rounds).map(|r| runtime.block_on(measure(&bin, r))).collect::<anyhow::Result<_>>()?;
    let handover = median(all.iter().map(|m| m.handover_s));
    let (before50, during50) =
        (median(all.iter().map(|m| m.report_before.0)), median(all.iter().map(|m| m.report_during.0)));
    let (before99, during99) =
        (median(all.iter().map(|m| m.report_before.1)), median(all.iter().map(|m| m.report_during.1)));
    println!("\nwarm phase, medians of {rounds} rounds ({LOCATIONS} locations, {PAGES} pages open):");
    println!(
        "  {} notifications handed over in {handover:.1} s = {:.0} per second (aim: within 30 s, {:.2}× the aim's time)",
        EMAILS + WEBHOOKS,
        (EMAILS + WEBHOOKS) as f64 / handover,
        handover / 30.0
    );
    println!(
        "  banner on the institution pages: p50 {:.0} ms, p99 {:.0} ms (aim: p99 within 1000 ms)",
        median(all.iter().map(|m| m.banner_p50_ms)),
        median(all.iter().map(|m| m.banner_p99_ms))
    );
    println!(
        "  report path: p50 {during50:.1} ms during vs {before50:.1} ms before ({:.2}×), p99 {during99:.1} ms vs {before99:.1} ms ({:.2}×)",
        during50 / before50,
        during99 / before99
    );
    Ok(())
}
