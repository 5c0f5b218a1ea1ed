//! Tamper evidence from outside (issue 12): ghor, started with an audit key, signs tree
//! heads over the log; `ghor audit verify` finds the archive as it was signed, and names
//! the event when one is altered, removed, or two are swapped in the database behind
//! ghor's back; an inclusion proof and a consistency proof check out with a verifier
//! written apart from ghor (`tests/support/verify_proof.py`, Python's hashlib).

use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::faults::sql;
use crate::harness::{wait_for, Backend, Ghor, BIN};

/// Runs `ghor audit ARGS` on the database (a PostgreSQL URL, or an embedded store's
/// directory; none: ""); its exit code, standard output and error.
async fn audit(database: &str, args: &[&str]) -> (i32, String, String) {
    let on = match database {
        "" => Vec::new(),
        url if url.starts_with("postgres") => vec!["--database", url],
        dir => vec!["--data-dir", dir],
    };
    let out =
        Command::new(BIN).arg("audit").args(args).args(on).env("NO_COLOR", "1").output().await.expect("run ghor audit");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// Checks a proof with the independent verifier: whether it holds.
async fn independently(proof: &str) -> bool {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/verify_proof.py");
    let mut child =
        Command::new("python3").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("python3");
    child.stdin.take().expect("stdin").write_all(proof.as_bytes()).await.expect("write the proof");
    let out = child.wait_with_output().await.expect("the verifier");
    out.status.success()
}

/// The sizes of the signed tree heads.
async fn head_sizes(database: &str) -> Vec<u64> {
    let (code, out, err) = audit(database, &["heads"]).await;
    assert_eq!(code, 0, "{err}");
    out.lines().map(|l| serde_json::from_str::<Value>(l).expect("a head")["size"].as_u64().expect("size")).collect()
}

/// Reports until the log reaches past `seq`; waits for a signed head that covers it.
async fn reported_and_signed(ghor: &Ghor, database: &str, reports: u32) -> Vec<Value> {
    let mut receipts = Vec::new();
    for occupied in 0..reports {
        receipts.push(ghor.report_beds("umcg", "umcg", 40, occupied).await);
    }
    let last = receipts.last().and_then(|r| r["seq"].as_u64()).expect("seq");
    wait_for(async || head_sizes(database).await.last().is_some_and(|s| *s >= last)).await;
    receipts
}

/// A new audit key: its secret and public key, as `ghor audit keygen` prints them.
async fn keygen() -> (String, String) {
    let (code, keys, err) = audit("", &["keygen"]).await;
    assert_eq!(code, 0, "{err}");
    let secret = keys.lines().find_map(|l| l.strip_prefix("GHOR_AUDIT_KEY=")).expect("the secret").to_owned();
    let public = keys.lines().find_map(|l| l.strip_prefix("public key: ")).expect("the public key").to_owned();
    (secret, public)
}

/// ghor on `backend`, signing a tree head every second with a new key; and the key.
async fn signing(backend: Backend) -> (Ghor, String, String) {
    let (secret, public) = keygen().await;
    let settings = [("GHOR_AUDIT_KEY", secret.clone()), ("GHOR_TREE_HEAD_EVERY", "1".to_owned())];
    (Ghor::start_with_env(backend, &settings).await, secret, public)
}

#[tokio::test]
async fn on_the_embedded_default_too_the_log_is_signed_proved_and_an_altered_event_named() {
    let (ghor, _, public) = signing(Backend::Embedded).await;
    let dir = ghor.dir.path().display().to_string();
    let receipts = reported_and_signed(&ghor, &dir, 5).await;
    let (code, out, err) = audit(&dir, &["verify", "--public-key", &public]).await;
    assert_eq!(code, 0, "{out}{err}");
    let (source, id) = (receipts[1]["source"].as_str().expect("source"), receipts[1]["id"].as_str().expect("id"));
    let (code, proof, err) = audit(&dir, &["prove", source, id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(independently(&proof).await, "the inclusion proof holds: {proof}");

    // The embedded log is its own archive: alter an event in the SQLite file.
    let seq = receipts[3]["seq"].as_u64().expect("seq");
    let alter = format!(
        r#"UPDATE events SET body = replace(body, '"occupied":3', '"occupied":39') WHERE scope = 'live' AND seq = {seq}"#
    );
    let sqlite = "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute(sys.argv[2]); db.commit(); print(db.total_changes)";
    let db = ghor.dir.path().join("ghor.db").display().to_string();
    let out = Command::new("python3").args(["-c", sqlite, &db, &alter]).output().await.expect("python3");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "{}", String::from_utf8_lossy(&out.stderr));
    let (code, out, err) = audit(&dir, &["verify"]).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(&format!("event {seq} was altered")), "{err}");
}

#[tokio::test]
async fn the_archive_is_verified_against_signed_heads_and_tampering_is_named() {
    let (ghor, secret, public) = signing(Backend::Production).await;
    let database = ghor.database.as_ref().expect("production").url.clone();
    let database = database.as_str();

    let first = reported_and_signed(&ghor, database, 6).await;
    let receipts = reported_and_signed(&ghor, database, 6).await;
    let (code, out, err) = audit(database, &["verify", "--public-key", &public]).await;
    assert_eq!(code, 0, "an untouched archive verifies: {out}{err}");
    assert!(out.contains("holds what was signed"), "{out}");

    // Proofs a third party checks with nothing but the published head.
    let (source, id) = (first[2]["source"].as_str().expect("source"), first[2]["id"].as_str().expect("id"));
    let (code, proof, err) = audit(database, &["prove", source, id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(independently(&proof).await, "the inclusion proof holds: {proof}");
    let mut forged: Value = serde_json::from_str(&proof).expect("json");
    forged["leaf"] = Value::String(forged["leaf"].as_str().expect("leaf").replace("\"occupied\":2", "\"occupied\":3"));
    assert!(!independently(&forged.to_string()).await, "an altered event does not prove: {forged}");
    let sizes = head_sizes(database).await;
    let (m, n) = (sizes[0].to_string(), sizes[sizes.len() - 1].to_string());
    let (code, proof, err) = audit(database, &["consistency", &m, &n]).await;
    assert_eq!(code, 0, "{err}");
    assert!(independently(&proof).await, "the consistency proof of {m} and {n} holds: {proof}");

    // Tampering behind ghor's back, each undone before the next.
    let seq = receipts[3]["seq"].as_u64().expect("seq");
    let row = format!("scope = 'live' AND seq = {seq}");
    let tampered = async |what: &str, change: String, undo: String, named: String| {
        sql(database, &change).await;
        let (code, out, err) = audit(database, &["verify"]).await;
        assert_eq!(code, 1, "{what}: verify fails: {out}{err}");
        assert!(err.contains(&named), "{what}: verify names it ({named}): {err}");
        sql(database, &undo).await;
        let (code, out, err) = audit(database, &["verify"]).await;
        assert_eq!(code, 0, "{what}, undone: verifies again: {out}{err}");
    };
    tampered(
        "an event altered",
        format!(
            "CREATE TABLE saved AS SELECT * FROM archive WHERE {row};
             UPDATE archive SET body = jsonb_set(body, '{{data,occupied}}', '39') WHERE {row}"
        ),
        format!("UPDATE archive SET body = (SELECT body FROM saved) WHERE {row}; DROP TABLE saved"),
        format!("event {seq} was altered"),
    )
    .await;
    tampered(
        "an event removed",
        format!("CREATE TABLE saved AS SELECT * FROM archive WHERE {row}; DELETE FROM archive WHERE {row}"),
        "INSERT INTO archive SELECT * FROM saved; DROP TABLE saved".to_owned(),
        format!("event {seq} is missing"),
    )
    .await;
    let swap = |a: u64, b: u64| {
        format!(
            "UPDATE archive SET seq = -1 WHERE scope = 'live' AND seq = {a};
             UPDATE archive SET seq = {a} WHERE scope = 'live' AND seq = {b};
             UPDATE archive SET seq = {b} WHERE scope = 'live' AND seq = -1"
        )
    };
    tampered("two events swapped", swap(seq, seq + 1), swap(seq, seq + 1), format!("event {seq} is out of place"))
        .await;

    // Heads signed by another key are not the deployment's.
    let (_, other) = keygen().await;
    let (code, _, err) = audit(database, &["verify", "--public-key", &other]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not signed by the audit key"), "{err}");
    // And the key is never in ghor's output or its tree heads.
    let (_, heads, _) = audit(database, &["heads"]).await;
    assert!(!heads.contains(&secret), "{heads}");
}

#[tokio::test]
async fn after_the_signing_key_is_rotated_the_archive_verifies_with_both_public_keys() {
    let (mut ghor, _, old) = signing(Backend::Embedded).await;
    let dir = ghor.dir.path().display().to_string();
    reported_and_signed(&ghor, &dir, 3).await;

    // The runbook's rotation: a new key in the secret store, the process restarted.
    let (secret, new) = keygen().await;
    ghor.terminate().await;
    ghor.env.retain(|(k, _)| k != "GHOR_AUDIT_KEY");
    ghor.env.push(("GHOR_AUDIT_KEY".to_owned(), secret));
    ghor.start_again().await;
    reported_and_signed(&ghor, &dir, 3).await;

    let (code, out, err) = audit(&dir, &["verify", "--public-key", &old]).await;
    assert_eq!(code, 1, "the heads after the rotation are not the old key's: {out}{err}");
    let (code, out, err) = audit(&dir, &["verify", "--public-key", &new]).await;
    assert_eq!(code, 1, "the heads before it are not the new key's: {out}{err}");
    let (code, out, err) = audit(&dir, &["verify", "--public-key", &old, "--public-key", &new]).await;
    assert_eq!(code, 0, "with both keys the whole archive verifies: {out}{err}");
    assert!(out.contains("holds what was signed"), "{out}");
}
