//! The contracts in `proto/` are the code's: the JSON Schema of every event type and of the
//! picture's view, the OpenAPI document of the HTTP API and the AsyncAPI document of the
//! live stream and the NATS subjects, each as the code generates it now.
//!
//! After a deliberate contract change, regenerate them with
//! `GHOR_BLESS=1 cargo test -p ghor-server --test proto`.

use std::path::Path;

#[test]
fn the_documents_in_proto_match_the_code() {
    let proto = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto"));
    let generated = ghor_server::contract::documents();
    let bless = std::env::var("GHOR_BLESS").is_ok_and(|v| v == "1");
    let mut drift = Vec::new();
    for (path, text) in &generated {
        let file = proto.join(path);
        let on_disk = std::fs::read_to_string(&file).ok();
        if on_disk.as_deref() == Some(text.as_str()) {
            continue;
        }
        if bless {
            std::fs::create_dir_all(file.parent().expect("documents live in a folder")).expect("can create it");
            std::fs::write(&file, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        } else {
            drift.push(if on_disk.is_some() { format!("{path} (differs)") } else { format!("{path} (missing)") });
        }
    }
    assert!(
        drift.is_empty(),
        "proto/ is out of date with the code; regenerate with GHOR_BLESS=1 cargo test -p ghor-server --test proto:\n  {}",
        drift.join("\n  ")
    );

    // Files in proto/ that the code no longer produces.
    let known: Vec<&str> = generated.iter().map(|(p, _)| p.as_str()).collect();
    let mut stale = Vec::new();
    for folder in ["", "events", "stream"] {
        let Ok(entries) = std::fs::read_dir(proto.join(folder)) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if folder.is_empty() { name } else { format!("{folder}/{name}") };
            if rel.ends_with(".json") && !known.contains(&rel.as_str()) {
                stale.push(rel);
            }
        }
    }
    assert!(stale.is_empty(), "documents in proto/ that the code no longer generates; remove them: {stale:?}");
}
