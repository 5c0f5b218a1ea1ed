//! The domain as data for the page: per status dimension its key vocabulary, the event
//! types it is reported with and their fields (kind, whether required, limits, labels);
//! the catalogue of error messages; and what a state looks like. All of it is derived from
//! the declarations themselves — the `event_types!` table, the data types' JSON Schemas
//! and their `field_labels!`, the error codes, the vocabularies — so the page knows no
//! field, limit, event type or message of its own.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ErrorCode;
use crate::event_type::{EventData, Key};
use crate::payload::EventType;
use crate::values::ShortText;
use crate::vocab::{Dimension, Lang, State};

/// A display text in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Labels {
    pub nl: &'static str,
    pub en: &'static str,
}

/// One field of an event type's `data`, as a form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: &'static str,
    /// `count`, `percent`, `text` (one line), `longtext`, `bool`, `datetime`, `identifier`,
    /// or the name of the vocabulary its value is from (e.g. `FunctionStatus`).
    pub kind: String,
    pub required: bool,
    /// The largest value a number may have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// The most characters a text may have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    pub label: Labels,
    /// The keys the field may be given for, where not every key (e.g. an ICT cause).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

/// An event type's key and fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventFields {
    /// The vocabulary of its key; `identifier` for a key named freely; none without a key.
    pub key: Option<&'static str>,
    pub fields: Vec<Field>,
}

/// The kind of a key named freely (a help request's reference).
pub const IDENTIFIER: &str = "identifier";

/// The key vocabulary of `K`, each value with its wire name.
type KeyValues<K> = Option<(&'static str, Vec<(K, String)>)>;

/// The vocabulary of a key type with every value's wire name; used by `event_types!`.
pub fn key_values<K: Key>() -> KeyValues<K> {
    K::vocabulary().map(|(name, values)| {
        (
            name,
            values
                .into_iter()
                .map(|k| {
                    let wire = k.subject();
                    (k, wire)
                })
                .collect(),
        )
    })
}

/// The fields of data type `D` (with key values `keys`, if from a vocabulary), from its
/// JSON Schema and its labels, in the order of its labels.
pub fn event_fields<D: EventData<K> + JsonSchema, K>(keyed: bool, keys: KeyValues<K>) -> EventFields {
    let mut defs = Map::new();
    let schema = crate::schema::part::<D>(&mut defs);
    let properties = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let fields = D::FIELD_LABELS
        .iter()
        .map(|label| {
            let property = properties.and_then(|p| p.get(label.name)).unwrap_or(&Value::Null);
            let (kind, max, max_length) = kind_of(property, &defs);
            let applies: Option<Vec<String>> = keys.as_ref().and_then(|(_, values)| {
                let applies: Vec<String> =
                    values.iter().filter(|(k, _)| D::applies(label.name, k)).map(|(_, w)| w.clone()).collect();
                (applies.len() < values.len()).then_some(applies)
            });
            Field {
                name: label.name,
                kind,
                required: required.contains(&label.name),
                max,
                max_length,
                label: Labels { nl: label.nl, en: label.en },
                keys: applies,
            }
        })
        .collect();
    let key = match keys {
        Some((name, _)) => Some(name),
        None if keyed => Some(IDENTIFIER),
        None => None,
    };
    EventFields { key, fields }
}

/// The kind of one property of a schema, and its largest value or length.
fn kind_of(property: &Value, defs: &Map<String, Value>) -> (String, Option<u64>, Option<u64>) {
    // An optional field is `anyOf: [its schema, null]`.
    let schema = property
        .get("anyOf")
        .and_then(Value::as_array)
        .and_then(|any| any.iter().find(|s| s.get("type").and_then(Value::as_str) != Some("null")))
        .unwrap_or(property);
    let number = |def: &Value, name: &str| def.get(name).and_then(Value::as_u64);
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
        let def = defs.get(name).unwrap_or(&Value::Null);
        return match name {
            "Count" => ("count".into(), number(def, "maximum"), None),
            "Percent" => ("percent".into(), number(def, "maximum"), None),
            "Slug" => (IDENTIFIER.into(), None, None),
            _ if def.get("maxLength").is_some() => {
                let max = number(def, "maxLength");
                let kind = if max.is_some_and(|m| m <= ShortText::MAX as u64) { "text" } else { "longtext" };
                (kind.into(), None, max)
            }
            _ if def.get("enum").is_some() => (name.to_owned(), None, None),
            _ => ("other".into(), None, None),
        };
    }
    // An optional plain value is `type: [its type, "null"]`.
    let of_type = match schema.get("type") {
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        other => other.and_then(Value::as_str),
    };
    let kind = match (of_type, schema.get("format").and_then(Value::as_str)) {
        (Some("boolean"), _) => "bool",
        (Some("string"), Some("date-time")) => "datetime",
        _ => "other",
    };
    (kind.into(), None, None)
}

/// One way a dimension is reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The wire `type`.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub verb: &'static str,
    pub label: Labels,
    pub fields: Vec<Field>,
}

/// A status dimension as the page shows and reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DimensionData {
    pub name: Dimension,
    pub label: Labels,
    /// The vocabulary of its key; `identifier` for a key named freely; none without a key.
    pub key: Option<&'static str>,
    pub reports: Vec<Report>,
}

/// Every status dimension, in display order, with the event types that report it.
pub fn dimensions() -> Vec<DimensionData> {
    Dimension::ALL
        .iter()
        .map(|d| {
            let types: Vec<EventType> = EventType::ALL.iter().copied().filter(|t| t.family() == d.as_str()).collect();
            let described: Vec<(EventType, EventFields)> = types.iter().map(|t| (*t, t.describe())).collect();
            DimensionData {
                name: *d,
                label: Labels { nl: d.label(Lang::Nl), en: d.label(Lang::En) },
                key: described.first().and_then(|(_, f)| f.key),
                reports: described
                    .into_iter()
                    .map(|(t, f)| Report {
                        event_type: t.name(),
                        verb: t.verb(),
                        label: Labels { nl: t.label(Lang::Nl), en: t.label(Lang::En) },
                        fields: f.fields,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The wire names of a dimension's keys, when they come from a vocabulary (none for a
/// dimension without keys or with keys named freely, such as help requests).
pub fn dimension_keys(dimension: Dimension) -> Option<Vec<&'static str>> {
    let family = EventType::ALL.iter().find(|t| t.family() == dimension.as_str())?;
    let vocabulary = family.describe().key?;
    let served = crate::vocab::served().into_iter().find(|v| v.name == vocabulary)?;
    Some(served.values.into_iter().map(|(wire, _, _)| wire).collect())
}

/// One code of the error catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The params an error of this code carries; the texts name them as `{param}`.
    pub params: &'static [&'static str],
    pub nl: &'static str,
    pub en: &'static str,
}

/// The error catalogue: every code's message in both languages.
pub fn errors() -> BTreeMap<ErrorCode, Message> {
    ErrorCode::ALL
        .iter()
        .map(|c| (*c, Message { params: c.params(), nl: c.message(Lang::Nl), en: c.message(Lang::En) }))
        .collect()
}

/// What the page shows a state with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Level {
    pub label: Labels,
    pub colour: &'static str,
    /// Higher is worse: the page sorts and picks the worst by it.
    pub severity: u8,
}

/// Every state with its colour and severity.
pub fn levels() -> BTreeMap<State, Level> {
    State::ALL
        .iter()
        .map(|s| {
            let label = Labels { nl: s.label(Lang::Nl), en: s.label(Lang::En) };
            (*s, Level { label, colour: s.colour(), severity: s.severity() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::vocab::served;

    /// The status dimensions' event types: those the form reports.
    fn status_types() -> Vec<EventType> {
        EventType::ALL.iter().copied().filter(|t| Dimension::parse(t.family()).is_some()).collect()
    }

    #[test]
    fn every_field_of_every_status_type_is_labelled_and_of_a_kind_the_page_shows() {
        let vocabularies: BTreeSet<&str> = served().iter().map(|v| v.name).collect();
        let shown = ["count", "percent", "text", "longtext", "bool", "datetime", IDENTIFIER];
        for t in status_types() {
            let mut defs = Map::new();
            let (data, _) = t.schemas(&mut defs);
            let properties: BTreeSet<&str> = data
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .collect();
            let described = t.describe();
            let fields: BTreeSet<&str> = described.fields.iter().map(|f| f.name).collect();
            assert_eq!(fields, properties, "{}: the labelled fields are the data's fields", t.name());
            for f in &described.fields {
                assert!(
                    shown.contains(&f.kind.as_str()) || vocabularies.contains(f.kind.as_str()),
                    "{}: {} is of kind {}, which the page cannot show",
                    t.name(),
                    f.name,
                    f.kind
                );
                assert!(
                    !f.label.nl.is_empty() && !f.label.en.is_empty() && f.label.nl != f.name,
                    "{}.{}",
                    t.name(),
                    f.name
                );
            }
            if let Some(key) = described.key.filter(|k| *k != IDENTIFIER) {
                assert!(vocabularies.contains(key), "{}: key vocabulary {key} is not served", t.name());
            }
        }
    }

    #[test]
    fn what_a_field_is_follows_its_declaration() {
        let beds = EventType::BedsReported.describe();
        let field = |name: &str| beds.fields.iter().find(|f| f.name == name).cloned();
        assert_eq!(beds.key, Some("BedType"));
        let operational = field("operational").expect("beds have operational");
        assert_eq!((operational.kind.as_str(), operational.required, operational.max), ("count", true, Some(100_000)));
        assert_eq!(field("physical").map(|f| f.required), Some(false));
        assert_eq!(beds.fields.first().map(|f| f.name), Some("operational"), "in the order of the labels");

        let note = EventType::NoteReported.describe();
        assert_eq!((note.key, note.fields[0].kind.as_str(), note.fields[0].max_length), (None, "longtext", Some(1000)));
        let acute = EventType::AcuteFunctionReported.describe();
        let kinds: Vec<&str> = acute.fields.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["FunctionStatus", "text", "datetime"]);
        assert_eq!(EventType::HelpRequestOpened.describe().key, Some(IDENTIFIER));

        // A cause only for the ICT utilities: what `UtilityData::check` refuses, the form leaves out.
        let utility = EventType::UtilityReported.describe();
        let cause = utility.fields.iter().find(|f| f.name == "cause").and_then(|f| f.keys.clone());
        let ict: Vec<String> =
            crate::vocab::Utility::ALL.iter().filter(|u| u.is_ict()).map(|u| u.as_str().to_owned()).collect();
        assert_eq!(cause, Some(ict));
        assert!(utility.fields.iter().filter(|f| f.name != "cause").all(|f| f.keys.is_none()));
    }

    #[test]
    fn every_dimension_is_reported_by_some_event_type() {
        for d in dimensions() {
            assert!(!d.reports.is_empty(), "{}: no event type reports it", d.name);
            assert!(d.reports.iter().all(|r| r.event_type.starts_with(crate::payload::TYPE_PREFIX)));
        }
    }
}
