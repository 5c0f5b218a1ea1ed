//! `ghor serve --demo` as a newcomer runs it: the page and a live picture, with no set-up.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::harness::{BIN, DEADLINE};

#[tokio::test]
async fn the_demo_serves_a_live_picture_with_a_viewer_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = tokio::process::Command::new(BIN)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--sim-rate", "20"])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let page = loop {
        let line = tokio::time::timeout(DEADLINE * 4, lines.next_line())
            .await
            .expect("demo starts")
            .expect("read")
            .expect("line");
        if let Some(url) = line.strip_prefix("open the live picture: ") {
            break url.to_owned();
        }
    };
    let (base, token) = page.split_once("/#token=").expect("url with token fragment");
    let http = reqwest::Client::new();
    let html = http.get(format!("{base}/")).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("<html") && html.contains("ghor"), "the page is served");

    let picture: Value = http
        .get(format!("{base}/v1/picture"))
        .bearer_auth(token)
        .send()
        .await
        .expect("picture")
        .json()
        .await
        .expect("json");
    let groningen = &picture["regions"]["VR01"]["view"];
    assert!(groningen["locations"]["umcg"]["dimensions"]["beds"].is_object(), "the demo hospitals report: {groningen}");
    assert!(groningen["locations"].as_object().expect("locations").len() >= 8);
    assert!(
        picture["regions"]["VR01"]["staleness"]["locations"]["umcg"]["age_seconds"].is_i64(),
        "every value's age is served"
    );
    let _ = child.kill().await;
}
