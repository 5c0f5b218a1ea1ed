//! Floods and slow clients, from outside (issue 12): what a client that is slow on purpose,
//! or many clients at once, can cost ghor. A client that never finishes its headers or its
//! body is cut off in time; a flood of distinct tokens and of idle connections costs bounded
//! memory, the connection over the limit is told 503, and every idle connection is let go.

use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{wait_for_within, Backend, Ghor};

async fn connect(ghor: &Ghor) -> TcpStream {
    TcpStream::connect(ghor.url.trim_start_matches("http://")).await.expect("connect")
}

/// The server's resident memory in KiB.
fn rss_kib(ghor: &Ghor) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", ghor.pid().expect("running"))).expect("status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("a number of KiB")
}

/// A client that trickles its request headers in and never finishes them (slowloris) is
/// cut off once the header read timeout has passed; others are answered meanwhile.
#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let limit = ghor_server::Limits::default().header_read;
    let ghor = Ghor::start_on(Backend::Embedded).await;
    let mut slow = connect(&ghor).await;
    slow.write_all(b"POST /v1/events HTTP/1.1\r\nHost: ghor\r\nX-Slow: 1\r\n").await.expect("half the headers");
    let started = tokio::time::Instant::now();
    assert_eq!(ghor.get("rot", "/v1/picture").await.0, 200, "others are answered meanwhile");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(limit + Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server still held the connection {:?} after the headers began", started.elapsed());
    assert!(started.elapsed() + Duration::from_secs(1) >= limit, "not cut off before the timeout");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "closed, or told 408: {answer}");
}

/// A client that sends its headers and then its body a byte at a time, never finishing it,
/// is answered 408 once the body read limit has passed, however often it sends a byte.
#[tokio::test]
async fn a_body_that_never_finishes_is_answered_408_in_time() {
    let limit = Duration::from_secs(2);
    let ghor =
        Ghor::start_with_env(Backend::Embedded, &[("GHOR_BODY_READ_SECONDS", limit.as_secs().to_string())]).await;
    let (mut reader, mut writer) = connect(&ghor).await.into_split();
    let headers = format!(
        "POST /v1/events HTTP/1.1\r\nHost: ghor\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n",
        ghor.token("umcg")
    );
    writer.write_all(headers.as_bytes()).await.expect("headers");
    let started = tokio::time::Instant::now();
    let trickle = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(300));
        for byte in br#"{"specversion":"1.0","type":"#.iter().cycle() {
            every.tick().await;
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
    });
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(limit + Duration::from_secs(5), reader.read(&mut answer)).await;
    trickle.abort();
    let n = read.expect("answered before the body would have finished").expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "told 408: {answer}");
    assert!(answer.contains("body-too-slow") && answer.contains("application/problem+json"), "{answer}");
    assert!(
        started.elapsed() + Duration::from_millis(500) >= limit,
        "not cut off before the limit: {:?}",
        started.elapsed()
    );
}

/// 5,000 distinct made-up tokens and 5,000 distinct real ones, then 5,000 connections that
/// send nothing: the server's memory stays bounded, the connection over its limit is told
/// 503 with Retry-After at once, and within the header read timeout every idle connection
/// is let go and the server answers as before.
#[tokio::test]
async fn a_flood_of_tokens_and_idle_connections_costs_bounded_memory() {
    const TOKENS: usize = 5_000;
    const IDLE: usize = 5_000;
    // Streams + 1,024 for plain requests: room for exactly `IDLE` connections.
    let streams = (IDLE - 1024).to_string();
    // Every idle connection must still be held when the one over the limit comes: opening
    // them all can take longer than the default 10 s on a busy machine.
    let header_read = Duration::from_secs(30);
    let mut ghor = Ghor::start_with_env(
        Backend::Embedded,
        &[("GHOR_MAX_CONNECTIONS", streams), ("GHOR_HEADER_READ_SECONDS", header_read.as_secs().to_string())],
    )
    .await;
    // No connection kept open between requests, the harness's that set ghor up neither: the
    // idle ones below are all this test's.
    ghor.http = reqwest::Client::new();
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    let me = |token: String| {
        let request = http.get(format!("{}/v1/me", ghor.url)).bearer_auth(token).send();
        async move { request.await.map_or(0, |r| r.status().as_u16()) }
    };
    for _ in 0..20 {
        assert_eq!(me(ghor.token("rot").to_owned()).await, 200);
    }
    let at_rest = rss_kib(&ghor);

    let store = ghor.stores().await.tokens;
    let mut real = Vec::with_capacity(TOKENS);
    for i in 0..TOKENS {
        let secret = format!("ghor_flood_{}", uuid::Uuid::new_v4().simple());
        let now = chrono::Utc::now();
        let info = ghor_store::TokenInfo {
            id: uuid::Uuid::new_v4(),
            name: format!("flood {i}"),
            role: ghor_domain::Role::Rot,
            regions: vec![ghor_domain::RegionCode::try_from("VR01").expect("region")],
            organisation: None,
            scope: ghor_domain::Scope::Live,
            created: now,
            expires: now + chrono::Duration::hours(1),
            revoked: false,
        };
        store.insert(&info, &ghor_server::auth::hash(&secret)).await.expect("a token stored");
        real.push(secret);
    }
    let made_up = (0..TOKENS).map(|_| format!("ghor_madeup_{}", uuid::Uuid::new_v4().simple()));
    let answers: Vec<(bool, u16)> =
        futures::stream::iter(real.into_iter().map(|t| (true, t)).chain(made_up.map(|t| (false, t))))
            .map(|(real, token)| {
                let answer = me(token);
                async move { (real, answer.await) }
            })
            .buffer_unordered(64)
            .collect()
            .await;
    let wrong: Vec<_> = answers.iter().filter(|(real, status)| *status != if *real { 200 } else { 401 }).collect();
    assert!(wrong.is_empty(), "real tokens 200, made-up ones 401: {} were not, e.g. {:?}", wrong.len(), wrong.first());
    let after_tokens = rss_kib(&ghor);

    // Opened side by side: one by one they would take longer than the header read timeout.
    let opening = tokio::time::Instant::now();
    let mut idle: Vec<TcpStream> =
        futures::stream::iter(0..IDLE).map(|_| connect(&ghor)).buffer_unordered(64).collect().await;
    // The connection over the limit: told at once, without a byte sent.
    assert!(opening.elapsed() < header_read, "{IDLE} connections took {:?} to open", opening.elapsed());
    let mut over = connect(&ghor).await;
    let mut told = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), over.read_to_end(&mut told))
        .await
        .expect("told at once")
        .expect("read");
    let told = String::from_utf8_lossy(&told);
    assert!(told.starts_with("HTTP/1.1 503") && told.contains("Retry-After: 5"), "{told}");
    assert!(told.contains("application/problem+json"), "{told}");
    let with_idle = rss_kib(&ghor);

    // Every idle connection is let go within the header read timeout, and requests are
    // answered again.
    let deadline = header_read + Duration::from_secs(10);
    let closed = futures::stream::iter(idle.iter_mut())
        .map(|c| async move {
            let mut byte = [0; 1];
            matches!(tokio::time::timeout(deadline, c.read(&mut byte)).await, Ok(Ok(0) | Err(_)))
        })
        .buffer_unordered(IDLE)
        .filter(|closed| std::future::ready(*closed))
        .count()
        .await;
    assert_eq!(closed, IDLE, "every idle connection let go within {deadline:?}");
    wait_for_within(Duration::from_secs(10), "requests answered again", async || {
        me(ghor.token("rot").to_owned()).await == 200
    })
    .await;

    let (tokens_kib, idle_kib) = (after_tokens.saturating_sub(at_rest), with_idle.saturating_sub(after_tokens));
    eprintln!(
        "flood: at rest {at_rest} KiB; {} distinct tokens +{tokens_kib} KiB; {IDLE} idle connections +{idle_kib} KiB ({:.1} KiB each)",
        2 * TOKENS,
        idle_kib as f64 / IDLE as f64
    );
    assert!(tokens_kib < 32 * 1024, "{} distinct tokens cost {tokens_kib} KiB", 2 * TOKENS);
    assert!(idle_kib < IDLE as u64 * 16, "{IDLE} idle connections cost {idle_kib} KiB");
}
