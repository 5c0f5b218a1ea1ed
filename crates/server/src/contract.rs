//! The contracts as documents, as `proto/` holds them: the JSON Schema of every event type
//! and of the picture's view (`ghor_domain::schema`), the OpenAPI document of the HTTP API
//! ([`crate::web::openapi`]), and here the AsyncAPI 3.1 document of the live stream's
//! messages (`gateway::session`) and of the NATS subjects (`ghor_store::nats`). Every
//! schema in them comes from the Rust types the code reads and writes.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::gateway::session::{DeltaMessage, Error, Heartbeat, Hello, Snapshot, Status};
use ghor_domain::schema::AnyEvent;
use ghor_domain::vocab::{Bron, Scope};
use ghor_domain::{EventType, RegionCode};

/// Every contract document as (path under `proto/`, pretty JSON with a final newline).
pub fn documents() -> Vec<(String, String)> {
    let mut documents = ghor_domain::schema::all();
    let openapi = serde_json::to_value(crate::web::openapi_document()).unwrap_or_default();
    documents.push(("openapi.json".into(), format!("{openapi:#}\n")));
    documents.push(("asyncapi.json".into(), format!("{:#}\n", asyncapi())));
    documents
}

/// The AsyncAPI 3.1 document: the websocket `/v1/stream` and the NATS subjects.
pub fn asyncapi() -> Value {
    let mut generator =
        SchemaSettings::draft2020_12().with(|s| s.definitions_path = "#/components/schemas/".into()).into_generator();
    let mut messages = Map::new();
    let mut message = |name: &str, summary: &str, schema: Value| {
        messages.insert(
            name.to_owned(),
            json!({ "name": name, "summary": summary, "contentType": "application/json", "payload": schema }),
        );
        json!({ "$ref": format!("#/components/messages/{name}") })
    };
    let stream = [
        message(
            "hello",
            "The client's first message: its ticket and what it follows.",
            schema::<Hello>(&mut generator),
        ),
        message("snapshot", "The picture whole, of the regions followed.", schema::<Snapshot>(&mut generator)),
        message(
            "delta",
            "What changed since the previous message: merge patches per region.",
            schema::<DeltaMessage>(&mut generator),
        ),
        message("heartbeat", "The chain goes on: complete up to seq.", schema::<Heartbeat>(&mut generator)),
        message("status", "Whether the picture follows the log.", schema::<Status>(&mut generator)),
        message("error", "Why the server ends the session; the close frame follows.", schema::<Error>(&mut generator)),
    ];
    let [hello, snapshot, delta, heartbeat, status, error] = stream;
    let sent_event = message(
        "event",
        "An event as a client sends it (the CloudEvent of POST /v1/events).",
        schema::<AnyEvent>(&mut generator),
    );
    let stored_event = message(
        "stored_event",
        "An event as the log holds it: as sent, with what the server added.",
        stored_event(&mut generator),
    );
    let parameter = |description: &str, values: Option<Vec<String>>| match values {
        Some(values) => json!({ "description": description, "enum": values }),
        None => json!({ "description": description }),
    };
    let scopes: Vec<String> = Scope::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    let families: Vec<String> = EventType::ALL
        .iter()
        .map(|t| t.family().to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let followed: Vec<Value> = ["snapshot", "delta", "heartbeat", "status", "error"]
        .map(|m| json!({ "$ref": format!("#/channels/stream/messages/{m}") }))
        .into();
    json!({
        "asyncapi": "3.1.0",
        "info": {
            "title": "ghor: the live stream and the log",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The websocket a page follows the picture on, and the NATS subjects of the log \
                (JetStream stream GHOR_<SCOPE>) and of the intake institutions' systems publish on. \
                The HTTP API is in openapi.json beside this document.",
        },
        "servers": {
            "gateway": {
                "host": "localhost:8080",
                "protocol": "ws",
                "description": "A gateway: trade a bearer token for a ticket at POST /v1/stream/ticket, open \
                    /v1/stream, send hello within 10 s. The server pings every 5 s and closes a client silent for 15 s.",
            },
            "nats": { "host": "localhost:4222", "protocol": "nats", "description": "The NATS JetStream cluster." },
        },
        "channels": {
            "stream": {
                "address": "/v1/stream",
                "servers": [{ "$ref": "#/servers/gateway" }],
                "messages": { "hello": hello, "snapshot": snapshot, "delta": delta, "heartbeat": heartbeat, "status": status, "error": error },
            },
            "log": {
                "address": "ghor.{scope}.ev.{region}.{entity}.{family}",
                "description": "The log: every accepted event, once, in order (Nats-Msg-Id = source|id).",
                "servers": [{ "$ref": "#/servers/nats" }],
                "parameters": {
                    "scope": parameter("live or oefening (an exercise).", Some(scopes.clone())),
                    "region": parameter("The safety region, VR01 to VR25.", None),
                    "entity": parameter("The location's id, or _region for the region's own events.", None),
                    "family": parameter("What the event is about.", Some(families)),
                },
                "messages": { "stored_event": stored_event },
            },
            "intake": {
                "address": "ghor.{scope}.in.{organisation}.{location}",
                "description": "What an institution's system publishes straight onto NATS (in its own account); \
                    ingest checks it as it checks POST /v1/events and appends it to the log.",
                "servers": [{ "$ref": "#/servers/nats" }],
                "parameters": {
                    "scope": parameter("live or oefening (an exercise).", Some(scopes)),
                    "organisation": parameter("The organisation publishing.", None),
                    "location": parameter("The location it reports for.", None),
                },
                "messages": { "event": sent_event },
            },
        },
        "operations": {
            "sendHello": { "action": "receive", "channel": { "$ref": "#/channels/stream" }, "summary": "A client opens its session.", "messages": [{ "$ref": "#/channels/stream/messages/hello" }] },
            "followPicture": {
                "action": "send",
                "channel": { "$ref": "#/channels/stream" },
                "summary": "The gateway sends the picture, then its changes.",
                "messages": followed,
            },
            "appendToLog": { "action": "send", "channel": { "$ref": "#/channels/log" }, "summary": "Ingest appends each accepted event.", "messages": [{ "$ref": "#/channels/log/messages/stored_event" }] },
            "takeIntake": { "action": "receive", "channel": { "$ref": "#/channels/intake" }, "summary": "Ingest takes what institutions' systems publish.", "messages": [{ "$ref": "#/channels/intake/messages/event" }] },
        },
        "components": {
            "messages": messages,
            "schemas": generator.take_definitions(true),
        },
    })
}

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

/// An event as stored: the CloudEvent's attributes and what the server stamps on it.
fn stored_event(generator: &mut SchemaGenerator) -> Value {
    let types: Vec<&str> = EventType::ALL.iter().map(|t| t.name()).collect();
    json!({
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "bron", "bevestigd", "region", "scope", "actor", "received", "data"],
        "properties": {
            "specversion": { "const": "1.0" },
            "id": { "type": "string", "format": "uuid" },
            "source": { "type": "string" },
            "type": { "enum": types, "description": "Its data is as that type's schema in proto/events/ says." },
            "subject": { "type": "string" },
            "time": { "type": "string", "format": "date-time" },
            "datacontenttype": { "const": "application/json" },
            "bron": schema::<Bron>(generator),
            "bevestigd": { "type": "boolean" },
            "prognose": { "type": "string" },
            "region": schema::<RegionCode>(generator),
            "scope": schema::<Scope>(generator),
            "actor": { "type": "string", "description": "The holder of the token it came with." },
            "received": { "type": "string", "format": "date-time" },
            "data": { "type": "object" },
        },
    })
}
