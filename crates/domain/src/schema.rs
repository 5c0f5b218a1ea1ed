//! JSON Schemas of every event type and of the picture's view, generated from the Rust
//! types into `proto/`. A test fails when the checked-in files drift from the code.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::payload::*;
use crate::view::RegionView;
use crate::vocab::*;

/// Every generated schema as (path under `proto/`, pretty JSON with a final newline).
pub fn all() -> Vec<(String, String)> {
    let mut files: Vec<(String, Value)> =
        EVENT_TYPES.iter().map(|t| (format!("events/{t}.json"), event_schema(t))).collect();
    files.push((
        "stream/region-view.json".into(),
        root::<RegionView>("https://ghor.example/proto/stream/region-view.json"),
    ));
    files.into_iter().map(|(path, v)| (path, serde_json::to_string_pretty(&v).unwrap_or_default() + "\n")).collect()
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
fn part<T: JsonSchema>(defs: &mut Map<String, Value>) -> Value {
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

fn slug_schema() -> Value {
    json!({ "type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$" })
}

/// The CloudEvent a client sends for `event_type`.
pub fn event_schema(event_type: &str) -> Value {
    let stem = event_type.strip_prefix(TYPE_PREFIX).and_then(|s| s.strip_suffix(".v1")).unwrap_or_default();
    let mut defs = Map::new();
    let d = &mut defs;
    let (data, subject): (Value, Option<Value>) = match stem {
        "judgement.reported" => (part::<JudgementData>(d), None),
        "beds.reported" => (part::<BedsData>(d), Some(part::<BedType>(d))),
        "treatment_places.reported" => (part::<TreatmentPlacesData>(d), Some(part::<TreatmentPlace>(d))),
        "casualty_reception.reported" => (part::<CasualtyReceptionData>(d), Some(part::<Triage>(d))),
        "acute_function.reported" => (part::<AcuteFunctionData>(d), Some(part::<AcuteFunction>(d))),
        "facility.reported" => (part::<FacilityData>(d), None),
        "supplies.reported" => (part::<SuppliesData>(d), Some(part::<Supply>(d))),
        "utility.reported" => (part::<UtilityData>(d), Some(part::<Utility>(d))),
        "staffing.reported" => (part::<StaffingData>(d), Some(part::<StaffRole>(d))),
        "disbalance.reported" => (part::<DisbalanceData>(d), Some(part::<Disbalance>(d))),
        "self_sufficiency.reported" => (part::<SelfSufficiencyData>(d), None),
        "home_care.reported" => (part::<HomeCareData>(d), None),
        "receiving_capacity.reported" => (part::<ReceivingCapacityData>(d), Some(part::<CareType>(d))),
        "relocation_need.reported" => (part::<RelocationNeedData>(d), Some(part::<CareType>(d))),
        "help_request.opened" | "help_request.updated" => (part::<HelpRequestData>(d), Some(slug_schema())),
        "help_request.closed" => (part::<HelpClosedData>(d), Some(slug_schema())),
        "note.reported" => (part::<NoteData>(d), None),
        "not_affected.reported" => (part::<NotAffectedData>(d), None),
        "observation.retracted" => (part::<RetractedData>(d), None),
        "report.overdue" => (part::<OverdueData>(d), None),
        "intake.rejected" => (part::<IntakeRejectedData>(d), None),
        "location.registered" => (part::<LocationInfo>(d), None),
        "organisation.registered" => (part::<OrganisationInfo>(d), Some(slug_schema())),
        "incident.opened" | "incident.updated" => (part::<IncidentData>(d), Some(slug_schema())),
        "threshold.set" => (part::<ThresholdData>(d), Some(part::<ThresholdKey>(d))),
        "alert.acknowledged" => (part::<AcknowledgedData>(d), Some(json!({ "type": "string", "maxLength": 200 }))),
        _ => (json!(false), None),
    };
    let region_wide = matches!(stem.split('.').next(), Some("organisation" | "incident" | "threshold" | "alert"));
    let source = if region_wide {
        json!({ "type": "string", "pattern": "^/regions/VR(0[1-9]|1[0-9]|2[0-5])$" })
    } else {
        json!({ "type": "string", "pattern": "^/locations/[a-z0-9][a-z0-9-]{0,63}$" })
    };
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
        "prognose": { "type": "string", "maxLength": 200 },
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
