//! `ghor registry import`: locations from a CSV file (read by [`ghor_domain::registry`]),
//! registered through the HTTP API as events, with progress and a line per refused row.

use std::path::Path;

use anyhow::{bail, Context};
pub use ghor_domain::registry::{events, read_csv, Row};
use serde_json::Value;

use crate::client::Client;

const BATCH: usize = 100;

/// Imports a CSV file through the API; prints progress and every refused row.
pub async fn import(path: &Path, client: &Client) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows = read_csv(&text).map_err(|e| anyhow::anyhow!("{} is not a location CSV: {e}", path.display()))?;
    let events = events(&rows);
    let (stored, duplicate, refused) = post_all(client, &events, true).await?;
    eprintln!("{}: {stored} stored, {duplicate} already known, {refused} refused", path.display());
    if refused > 0 {
        bail!("{refused} rows were refused; fix them and import again (stored rows are not stored twice)");
    }
    Ok(())
}

/// Posts events in batches; returns (stored, duplicate, refused).
pub async fn post_all(
    client: &Client,
    events: &[(usize, Value)],
    progress: bool,
) -> anyhow::Result<(usize, usize, usize)> {
    let (mut stored, mut duplicate, mut refused) = (0, 0, 0);
    for (n, chunk) in events.chunks(BATCH).enumerate() {
        let body: Vec<Value> = chunk.iter().map(|(_, e)| e.clone()).collect();
        let answer = client.post("/v1/events/batch", &Value::Array(body)).await?;
        let results = answer["results"].as_array().cloned().unwrap_or_default();
        for (result, (line, _)) in results.iter().zip(chunk) {
            match result["status"].as_str() {
                Some("stored") => stored += 1,
                Some("duplicate") => duplicate += 1,
                _ => {
                    refused += 1;
                    eprintln!("line {line}: {}", result["problem"]["detail"].as_str().unwrap_or("refused"));
                }
            }
        }
        if progress {
            eprintln!("imported {}/{}", (n * BATCH + chunk.len()).min(events.len()), events.len());
        }
    }
    Ok((stored, duplicate, refused))
}
