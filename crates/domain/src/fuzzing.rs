//! What the fuzz targets in `fuzz/` check, one function per target: each takes the
//! fuzzer's bytes, runs what ghor runs on a caller's input, and panics when a property
//! fails. `cargo test` replays every case kept in `fuzz/regressions/` through them
//! (`tests/fuzz_regressions.rs`), so a crash once found stays fixed.

use chrono::{TimeZone, Utc};
use serde_json::Value;

use crate::event::{Event, Stamp, Submission};
use crate::{patch, registry, RegionCode, Scope};

/// An event as ingest reads it: parsed and validated strictly, and when accepted, written
/// as the log stores it and read back as the same event.
pub fn envelope(data: &[u8]) {
    let Ok(submission) = Submission::from_slice(data) else { return };
    let stamp = Stamp {
        region: RegionCode::try_from("VR01").expect("a region code"),
        scope: Scope::Live,
        actor: "fuzz".into(),
        received: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).single().expect("a time"),
    };
    let Ok(event) = submission.accept(stamp) else { return };
    let stored = event.to_bytes().expect("an accepted event can be stored");
    let back = Event::from_stored(&stored).expect("a stored event reads back");
    assert_eq!(back, event, "an event reads back as it was stored");
}

/// A batch as `POST /v1/events/batch` reads it: an array, each item read on its own.
pub fn batch(data: &[u8]) {
    for item in Submission::batch_items(data).unwrap_or_default() {
        let _ = Submission::from_slice(item.get().as_bytes());
    }
}

/// A registry CSV as `ghor registry import` reads it, and every event it makes read as
/// ingest reads a caller's event.
pub fn registry_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(rows) = registry::read_csv(text) else { return };
    for (_, event) in registry::events(&rows) {
        let _ = Submission::parse(event);
    }
}

/// Views never hold `null`: drops every `null` member, as a view would not have it.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect(),
        ),
        other => other,
    }
}

/// A JSON value decoded from the fuzzer's bytes, so that every input makes views (raw
/// bytes would mostly be invalid JSON): small trees over four keys, so that successive
/// values share, change and drop members.
fn view(bytes: &mut impl Iterator<Item = u8>, depth: u32) -> Value {
    const KEYS: [&str; 4] = ["a", "b", "c", "d"];
    let Some(b) = bytes.next() else { return Value::Null };
    let members = usize::from(b >> 5);
    match b % 5 {
        0 => Value::Bool(b & 0x80 != 0),
        1 => Value::from(b >> 3),
        2 => Value::from(["x", "y"][usize::from(b >> 7)]),
        3 if depth < 4 => Value::Array((0..members).map(|_| view(bytes, depth + 1)).collect()),
        4 if depth < 4 => Value::Object(
            (0..members)
                .map(|_| (KEYS[usize::from(bytes.next().unwrap_or(0) % 4)].to_owned(), view(bytes, depth + 1)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// Three successive views decoded from the bytes: the diff of two views applied to the
/// first gives the second, and two successive diffs composed (when they compose) applied
/// to the first give the third.
pub fn merge_patch(data: &[u8]) {
    let mut bytes = data.iter().copied();
    let [a, b, c] = [(); 3].map(|_| without_nulls(view(&mut bytes, 0)));
    let apply = |base: &Value, p: &Option<Value>| {
        let mut v = base.clone();
        if let Some(p) = p {
            patch::apply(&mut v, p);
        }
        v
    };
    let (ab, bc) = (patch::diff(&a, &b), patch::diff(&b, &c));
    assert_eq!(apply(&a, &ab), b, "the diff of a and b turns a into b");
    if let (Some(mut first), Some(second)) = (ab, bc) {
        if patch::composable(&first, &second) {
            patch::compose(&mut first, &second);
            assert_eq!(apply(&a, &Some(first)), c, "the composed diffs turn a into c");
        }
    }
}
