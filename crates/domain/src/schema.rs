//! JSON Schemas of every event type and of the picture's view, generated from the Rust
//! types into `proto/`. A test fails when the checked-in files drift from the code.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::event_type::SourceKind;
use crate::payload::EventType;
use crate::values::{ShortText, REGION_PATTERN, SLUG_PATTERN};
use crate::view::RegionView;
use crate::vocab::Bron;

/// Every generated schema as (path under `proto/`, pretty JSON with a final newline).
pub fn all() -> Vec<(String, String)> {
    let mut files: Vec<(String, Value)> =
        EventType::ALL.iter().map(|t| (format!("events/{}.json", t.name()), event_schema(*t))).collect();
    files.push((
        "stream/region-view.json".into(),
        root::<RegionView>("https://ghor.example/proto/stream/region-view.json"),
    ));
    files.into_iter().map(|(path, v)| (path, format!("{v:#}\n"))).collect()
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12().into_generator()
}

fn root<T: JsonSchema>(id: &str) -> Value {
    let mut v = generator().into_root_schema_for::<T>().to_value();
    if let Some(o) = v.as_object_mut() {
        o.insert("$id".into(), id.into());
    }
    v
}

/// Schema of one part, with its `$defs` lifted out so references resolve at the root.
pub(crate) fn part<T: JsonSchema>(defs: &mut Map<String, Value>) -> Value {
    let mut v = generator().into_root_schema_for::<T>().to_value();
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        o.remove("title");
        if let Some(Value::Object(d)) = o.remove("$defs") {
            defs.extend(d);
        }
    }
    v
}

/// The CloudEvent a client sends for `event_type`.
pub fn event_schema(event_type: EventType) -> Value {
    let mut defs = Map::new();
    let d = &mut defs;
    let (data, subject) = event_type.schemas(d);
    // The patterns of the identifiers themselves, behind their path.
    let source = match event_type.source_kind() {
        SourceKind::Region => json!({ "type": "string", "pattern": format!("^/regions/{}", &REGION_PATTERN[1..]) }),
        SourceKind::Location => json!({ "type": "string", "pattern": format!("^/locations/{}", &SLUG_PATTERN[1..]) }),
    };
    let event_type = event_type.name();
    let mut required = vec!["specversion", "source", "type", "data"];
    let mut properties = json!({
        "specversion": { "const": "1.0" },
        "id": { "type": "string", "format": "uuid", "description": "UUIDv7; the key (source, id) makes a retry idempotent. Assigned by the server when absent." },
        "source": source,
        "type": { "const": event_type },
        "time": { "type": "string", "format": "date-time", "description": "When observed; at most 2 minutes after the server's clock." },
        "datacontenttype": { "const": "application/json" },
        "bron": part::<Bron>(d),
        "bevestigd": { "type": "boolean" },
        "prognose": part::<ShortText>(d),
        "data": data,
    });
    if let Some(s) = subject {
        required.push("subject");
        properties["subject"] = s;
    }
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://ghor.example/proto/events/{event_type}.json"),
        "title": event_type,
        "description": "CloudEvents 1.0 (structured JSON). The server adds region, scope, actor and received; a client must not send them.",
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    });
    if !defs.is_empty() {
        schema["$defs"] = Value::Object(defs);
    }
    schema
}
