//! The limits of one gateway process on its streams (issue 11): per token, in all, and
//! against clients that stop answering. They hold per process, so these tests run on a
//! single server of each backbone; on a deployment each gateway holds them for itself.

/// The limits on streams are the deployment's (`GHOR_WEBSOCKETS_PER_TOKEN`,
/// `GHOR_MAX_CONNECTIONS`): a token over its own is told so and closed; a full server
/// answers the upgrade with 503 and when to retry, and takes the next page once one left.
#[tokio::test]
async fn stream_limits_are_set_per_deployment_and_a_full_server_says_when_to_retry() {
    use crate::harness::{wait_for, Ghor};
    let limits = [("GHOR_WEBSOCKETS_PER_TOKEN", "1".to_owned()), ("GHOR_MAX_CONNECTIONS", "2".to_owned())];
    let ghor = Ghor::start_with_env(super::BACKEND, &limits).await;
    let mut rot = ghor.stream("rot", &["VR01"], None).await;
    rot.until(|p| p["VR01"].is_object()).await;

    let mut second = ghor.stream("rot", &["VR01"], None).await;
    let refusal = second.until_closed().await.expect("a refusal before the close");
    assert_eq!(refusal["status"], 429, "{refusal}");
    assert_eq!(second.closed.as_ref().map(|(code, _)| *code), Some(1013));

    let mut im = ghor.stream("im", &["VR01"], None).await;
    im.until(|p| p["VR01"].is_object()).await;
    let ws_url = format!("{}/v1/stream", ghor.url.replace("http://", "ws://"));
    match tokio_tungstenite::connect_async(&ws_url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
            assert_eq!(answer.status(), 503);
            assert_eq!(answer.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
        }
        other => panic!("a full server let a third stream in: {:?}", other.map(|(_, r)| r.status())),
    }

    rot.close().await;
    wait_for(async || tokio_tungstenite::connect_async(&ws_url).await.is_ok()).await;
}

/// Heartbeats go both ways: the server pings, and a client that answers nothing (a page
/// whose network went away, here one that stopped reading) is let go within seconds, its
/// connection freed for the next.
#[tokio::test]
async fn a_client_that_answers_no_ping_is_freed_within_seconds() {
    use crate::harness::Ghor;
    let limits = [("GHOR_WEBSOCKETS_PER_TOKEN", "1".to_owned())];
    let ghor = Ghor::start_with_env(super::BACKEND, &limits).await;
    let mut silent = ghor.stream("rot", &["VR01"], None).await;
    silent.until(|p| p["VR01"].is_object()).await;
    let stopped = tokio::time::Instant::now();

    // While it holds the token's one stream, the next is refused; then it is let go.
    let deadline = stopped + std::time::Duration::from_secs(40);
    loop {
        let mut next = ghor.stream("rot", &["VR01"], None).await;
        let m = next.next().await;
        if m["type"] == "snapshot" {
            break;
        }
        assert_eq!(m["status"], 429, "{m}");
        assert!(tokio::time::Instant::now() < deadline, "a client that answers nothing was never let go");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let freed = stopped.elapsed();
    assert!(freed.as_secs() >= 10, "let go after {freed:?}: before it could have missed a ping");
    assert!(freed.as_secs() <= 25, "let go only after {freed:?}");
    eprintln!("a client that answered nothing was let go after {freed:?}");
}
