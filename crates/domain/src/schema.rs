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
    // A set a client sends may name an item twice (serde reads it once): not `uniqueItems`.
    let accepts_repeats = schemars::transform::RecursiveTransform(|schema: &mut schemars::Schema| {
        schema.remove("uniqueItems");
    });
    SchemaSettings::draft2020_12().with_transform(accepts_repeats).into_generator()
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

/// Any event a client sends: one of the event types, each by its name among the shared
/// schemas of the document being generated (OpenAPI's `components/schemas`).
pub struct AnyEvent;

impl JsonSchema for AnyEvent {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Event".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> schemars::Schema {
        let path = generator.settings().definitions_path.to_string();
        let mut one_of = Vec::new();
        for event_type in EventType::ALL {
            let mut schema = event_schema(*event_type);
            let defs = schema.as_object_mut().and_then(|o| {
                o.remove("$schema");
                o.remove("$id");
                o.remove("$defs")
            });
            let definitions = generator.definitions_mut();
            if let Some(Value::Object(defs)) = defs {
                for (name, mut def) in defs {
                    rebase_refs(&mut def, &path);
                    definitions.insert(name, def);
                }
            }
            rebase_refs(&mut schema, &path);
            definitions.insert(event_type.name().to_owned(), schema);
            one_of.push(json!({ "$ref": format!("{path}{}", event_type.name()) }));
        }
        schemars::json_schema!({ "oneOf": one_of })
    }
}

/// Points a schema's references to its own `$defs` at `path` instead.
fn rebase_refs(schema: &mut Value, path: &str) {
    match schema {
        Value::Object(o) => {
            for (key, v) in o.iter_mut() {
                match v {
                    Value::String(r) if key == "$ref" => {
                        if let Some(name) = r.strip_prefix("#/$defs/") {
                            *r = format!("{path}{name}");
                        }
                    }
                    v => rebase_refs(v, path),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| rebase_refs(v, path)),
        _ => {}
    }
}
