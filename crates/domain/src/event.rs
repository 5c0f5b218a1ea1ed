//! The CloudEvents 1.0 envelope (§4): parsing a client's submission strictly, stamping it
//! with the server-owned attributes, and reading a stored event back leniently.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{ErrorCode, FieldError, Refusal};
use crate::json::JsonError;
use crate::payload::{DecodeError, Payload, SourceKind, WireData};
use crate::values::{RegionCode, ShortText, Slug};
use crate::vocab::{Bron, Scope};

/// How far a report's `time` may lie after the server's clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(2);

/// Attributes a client may set.
const CLIENT_ATTRIBUTES: &[&str] = &[
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "bron",
    "bevestigd",
    "prognose",
    "data",
];
/// Attributes only the server sets.
const SERVER_ATTRIBUTES: &[&str] = &["region", "scope", "actor", "received"];

/// Who or what an event is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Source {
    Location(Slug),
    Region(RegionCode),
}

impl TryFrom<String> for Source {
    type Error = Refusal;
    fn try_from(s: String) -> Result<Self, Refusal> {
        if let Some(id) = s.strip_prefix("/locations/") {
            return Slug::try_from(id).map(Source::Location);
        }
        if let Some(code) = s.strip_prefix("/regions/") {
            return RegionCode::try_from(code).map(Source::Region);
        }
        Err(Refusal::new(ErrorCode::NotASource, format!("{s:?} is neither /locations/{{id}} nor /regions/{{VRxx}}")))
    }
}

impl From<Source> for String {
    fn from(s: Source) -> String {
        s.to_string()
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Location(id) => write!(f, "/locations/{id}"),
            Source::Region(r) => write!(f, "/regions/{r}"),
        }
    }
}

/// What the server adds to every event it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub region: RegionCode,
    pub scope: Scope,
    /// The token holder that wrote it.
    pub actor: String,
    pub received: DateTime<Utc>,
}

/// A client's event, validated but not yet accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub id: Uuid,
    pub source: Source,
    /// When observed; the receipt time when the client gave none.
    pub time: Option<DateTime<Utc>>,
    pub bron: Bron,
    pub bevestigd: bool,
    pub prognose: Option<ShortText>,
    pub payload: Payload,
}

/// An accepted event: what the log holds and the fold reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    pub source: Source,
    pub time: DateTime<Utc>,
    pub bron: Bron,
    pub bevestigd: bool,
    pub prognose: Option<ShortText>,
    pub stamp: Stamp,
    pub payload: Payload,
}

impl Submission {
    /// Parses a client's CloudEvent strictly. Server-owned and unknown attributes are
    /// refused; every error names its field.
    pub fn parse(value: Value) -> Result<Submission, FieldError> {
        let Value::Object(obj) = value else {
            return Err(FieldError::new("", ErrorCode::NotAnObject, "an event must be a JSON object"));
        };
        for name in obj.keys() {
            if SERVER_ATTRIBUTES.contains(&name.as_str()) {
                return Err(FieldError::new(name, ErrorCode::SetByServer, "is set by the server; leave it out"));
            }
            if !CLIENT_ATTRIBUTES.contains(&name.as_str()) {
                return Err(FieldError::new(
                    name,
                    ErrorCode::UnknownAttribute,
                    &format!("is not an attribute ghor accepts; use one of {}", CLIENT_ATTRIBUTES.join(", ")),
                )
                .with("allowed", CLIENT_ATTRIBUTES));
            }
        }
        let (id, source, time, bron, bevestigd, prognose, payload) = Envelope::of(&obj)?.common()?;
        Ok(Submission { id: id.unwrap_or_else(Uuid::now_v7), source, time, bron, bevestigd, prognose, payload })
    }

    /// Parses a client's CloudEvent from its bytes. A well-formed one is read straight into
    /// the envelope; anything else goes the way of [`Submission::parse`], which says what
    /// is wrong, field by field (the same checks decide in both ways).
    pub fn from_slice(bytes: &[u8]) -> Result<Submission, FieldError> {
        let fast = || {
            serde_json::from_slice::<ClientAttributesOnly>(bytes).ok()?;
            let envelope: Envelope = serde_json::from_slice(bytes).ok()?;
            envelope.common().ok()
        };
        match fast() {
            Some((id, source, time, bron, bevestigd, prognose, payload)) => {
                Ok(Submission { id: id.unwrap_or_else(Uuid::now_v7), source, time, bron, bevestigd, prognose, payload })
            }
            // Here, and only here, a key given twice is looked for: the typed envelope
            // and `data`'s types refuse one, so a well-formed event has none.
            None => match crate::json::from_slice(bytes) {
                Ok(value) => Submission::parse(value),
                Err(JsonError::DuplicateKey(e)) => Err(e),
                Err(JsonError::Syntax(e)) => {
                    Err(FieldError::new("", ErrorCode::NotJson, &format!("is not valid JSON: {e}")))
                }
            },
        }
    }

    /// A batch's items: a JSON array of events, each kept as its own bytes to be read by
    /// [`Submission::from_slice`]; `None` when the bytes are not a JSON array.
    pub fn batch_items(bytes: &[u8]) -> Option<Vec<&serde_json::value::RawValue>> {
        serde_json::from_slice(bytes).ok()
    }

    /// Accepts the submission: adds the server's stamp and checks `time` against receipt.
    pub fn accept(self, stamp: Stamp) -> Result<Event, FieldError> {
        let time = self.time.unwrap_or(stamp.received);
        if time > stamp.received + MAX_CLOCK_SKEW {
            let ahead = (time - stamp.received).num_minutes();
            return Err(FieldError::new(
                "time",
                ErrorCode::InTheFuture,
                &format!(
                    "lies {ahead} minutes after the server's clock ({}); an observation cannot come from the future. \
                     The usual cause is local time sent as UTC: send the offset too, e.g. 2026-11-22T15:05:00+01:00",
                    stamp.received.format("%Y-%m-%dT%H:%M:%SZ")
                ),
            )
            .with("minutes", ahead));
        }
        if let Payload::BeeldIssued { data, .. } = &self.payload {
            if data.at > time {
                return Err(FieldError::new(
                    "data.at",
                    ErrorCode::InTheFuture,
                    "lies after the moment the beeld is issued (time): a beeld describes a moment that has passed",
                ));
            }
        }
        Ok(Event {
            id: self.id,
            source: self.source,
            time,
            bron: self.bron,
            bevestigd: self.bevestigd,
            prognose: self.prognose,
            stamp,
            payload: self.payload,
        })
    }
}

type Common = (Option<Uuid>, Source, Option<DateTime<Utc>>, Bron, bool, Option<ShortText>, Payload);

/// An event as it is stored: written by [`Event::to_bytes`], read by [`Event::from_stored`].
#[derive(Serialize)]
struct Stored<'a> {
    specversion: &'static str,
    id: Uuid,
    #[serde(serialize_with = "as_text")]
    source: &'a Source,
    #[serde(rename = "type")]
    event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    time: String,
    datacontenttype: &'static str,
    bron: &'static str,
    bevestigd: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    prognose: Option<&'a str>,
    region: RegionCode,
    scope: &'static str,
    actor: &'a str,
    received: String,
    data: crate::payload::PayloadData<'a>,
}

/// Writes a value as the JSON string its `Display` gives, without an intermediate `String`.
fn as_text<S: serde::Serializer>(value: &impl std::fmt::Display, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Deserialises only from a JSON object whose attributes are all ones a client may send,
/// none of them `null` (which the typed envelope would take for absent).
struct ClientAttributesOnly;

impl<'de> Deserialize<'de> for ClientAttributesOnly {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Attributes;
        impl<'de> serde::de::Visitor<'de> for Attributes {
            type Value = ClientAttributesOnly;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a CloudEvent")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use serde::de::{Error, IgnoredAny};
                while let Some(name) = map.next_key::<&str>()? {
                    if !CLIENT_ATTRIBUTES.contains(&name) {
                        return Err(A::Error::custom("not a client attribute"));
                    }
                    if map.next_value::<Option<IgnoredAny>>()?.is_none() {
                        return Err(A::Error::custom("null"));
                    }
                }
                Ok(ClientAttributesOnly)
            }
        }
        deserializer.deserialize_map(Attributes)
    }
}

/// The envelope's attributes as read, before they are checked: from a client's JSON object
/// (with a field error for each wrongly typed one) or straight from a stored event's bytes.
#[derive(Debug, Default, Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    specversion: Option<Cow<'a, str>>,
    #[serde(borrow)]
    datacontenttype: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    bron: Option<Cow<'a, str>>,
    bevestigd: Option<bool>,
    #[serde(borrow)]
    prognose: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "raw_data")]
    data: Option<WireData<'a>>,
    // The server's stamp, on stored events.
    #[serde(borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(borrow)]
    scope: Option<Cow<'a, str>>,
    #[serde(borrow)]
    actor: Option<Cow<'a, str>>,
    #[serde(borrow)]
    received: Option<Cow<'a, str>>,
}

/// `data` read from bytes stays JSON text until its type is known (`null` too).
fn raw_data<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<WireData<'de>>, D::Error> {
    <&'de RawValue>::deserialize(d).map(|raw| Some(WireData::Raw(raw)))
}

impl<'a> Envelope<'a> {
    /// Takes the attributes from a JSON object; a wrongly typed one is named.
    fn of(obj: &'a Map<String, Value>) -> Result<Envelope<'a>, FieldError> {
        let text = |name: &str| match obj.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(Cow::Borrowed(s.as_str()))),
            Some(_) if name == "id" => Err(FieldError::new(name, ErrorCode::NotAUuid, "must be a UUID string")),
            Some(_) if name == "specversion" => {
                Err(FieldError::new(name, ErrorCode::WrongSpecversion, "must be \"1.0\" (CloudEvents 1.0)"))
            }
            Some(_) if name == "datacontenttype" => {
                Err(FieldError::new(name, ErrorCode::WrongContentType, "must be \"application/json\" when given"))
            }
            Some(_) => Err(FieldError::new(name, ErrorCode::NotAString, "must be a string")),
        };
        let bevestigd = match obj.get("bevestigd") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(FieldError::new("bevestigd", ErrorCode::NotABoolean, "must be true or false")),
        };
        Ok(Envelope {
            specversion: text("specversion")?,
            datacontenttype: text("datacontenttype")?,
            id: text("id")?,
            source: text("source")?,
            event_type: text("type")?,
            subject: text("subject")?,
            time: text("time")?,
            bron: text("bron")?,
            bevestigd,
            prognose: text("prognose")?,
            data: obj.get("data").map(WireData::Value),
            region: text("region")?,
            scope: text("scope")?,
            actor: text("actor")?,
            received: text("received")?,
        })
    }

    /// The attributes client and stored form share, checked.
    fn common(&self) -> Result<Common, FieldError> {
        let invalid = |e: DecodeError| match e {
            DecodeError::Invalid(f) => f,
            DecodeError::NewerVersion(t) => {
                let reason = format!("{t:?} is a newer version than this server knows; send version 1");
                FieldError::new("type", ErrorCode::NewerVersion, &reason)
            }
        };
        match self.specversion.as_deref() {
            Some("1.0") => {}
            Some(_) => {
                return Err(FieldError::new(
                    "specversion",
                    ErrorCode::WrongSpecversion,
                    "must be \"1.0\" (CloudEvents 1.0)",
                ))
            }
            None => return Err(FieldError::new("specversion", ErrorCode::Required, "is required and must be \"1.0\"")),
        }
        if self.datacontenttype.as_deref().is_some_and(|ct| ct != "application/json") {
            let reason = "must be \"application/json\" when given";
            return Err(FieldError::new("datacontenttype", ErrorCode::WrongContentType, reason));
        }
        let id = self
            .id
            .as_deref()
            .map(|s| {
                Uuid::parse_str(s)
                    .map_err(|_| FieldError::new("id", ErrorCode::NotAUuid, "must be a UUID (UUIDv7 preferred)"))
            })
            .transpose()?;
        let source =
            self.source.as_deref().ok_or_else(|| FieldError::new("source", ErrorCode::Required, "is required"))?;
        let source = Source::try_from(source.to_owned()).map_err(|r| r.at("source"))?;
        let event_type =
            self.event_type.as_deref().ok_or_else(|| FieldError::new("type", ErrorCode::Required, "is required"))?;
        let time = self
            .time
            .as_deref()
            .map(|t| {
                DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc)).map_err(|_| {
                    let reason = "must be an RFC 3339 timestamp with offset, e.g. 2026-11-22T14:05:00Z";
                    FieldError::new("time", ErrorCode::NotATimestamp, reason)
                })
            })
            .transpose()?;
        let bron = match self.bron.as_deref() {
            None => Bron::Api,
            Some(b) => Bron::parse(b).ok_or_else(|| {
                let reason = format!("must be one of {}", Bron::expected());
                let allowed: Vec<&str> = Bron::ALL.iter().map(|b| b.as_str()).collect();
                FieldError::new("bron", ErrorCode::NotInVocabulary, &reason).with("allowed", allowed)
            })?,
        };
        let prognose = self
            .prognose
            .as_deref()
            .map(|p| ShortText::try_from(p.to_owned()).map_err(|r| r.at("prognose")))
            .transpose()?;
        let data = self
            .data
            .ok_or_else(|| FieldError::new("data", ErrorCode::Required, "is required (an object, possibly empty)"))?;
        let payload = Payload::decode(event_type, self.subject.as_deref(), data).map_err(invalid)?;
        match (&source, payload.source_kind()) {
            (Source::Location(_), SourceKind::Location) | (Source::Region(_), SourceKind::Region) => {}
            (_, SourceKind::Location) => {
                let reason = "this event type is about a location: /locations/{id}";
                return Err(FieldError::new("source", ErrorCode::SourceMustBeLocation, reason));
            }
            (_, SourceKind::Region) => {
                let reason = "this event type is region-wide: /regions/{VRxx}";
                return Err(FieldError::new("source", ErrorCode::SourceMustBeRegion, reason));
            }
        }
        Ok((id, source, time, bron, self.bevestigd.unwrap_or(true), prognose, payload))
    }

    /// The server's stamp of a stored event.
    fn stamp(&self) -> Result<Stamp, DecodeError> {
        fn field<T>(value: &Option<Cow<str>>, name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, DecodeError> {
            value.as_deref().and_then(parse).ok_or_else(|| {
                DecodeError::Invalid(FieldError::new(
                    name,
                    ErrorCode::InvalidStamp,
                    "a stored event carries a valid server stamp",
                ))
            })
        }
        Ok(Stamp {
            region: field(&self.region, "region", |s| RegionCode::try_from(s).ok())?,
            scope: field(&self.scope, "scope", Scope::parse)?,
            actor: field(&self.actor, "actor", |s| Some(s.to_owned()))?,
            received: field(&self.received, "received", |s| {
                DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
            })?,
        })
    }
}

impl Event {
    /// The stored CloudEvent: the client's attributes plus the server's stamp.
    pub fn to_json(&self) -> Result<Value, EncodeError> {
        serde_json::to_value(self.stored()).map_err(|e| EncodeError::of(self, e))
    }

    /// The stored CloudEvent as the log keeps it (compact JSON). An event that cannot be
    /// written (a number JSON cannot hold) is an error, never an empty or `null` body.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        serde_json::to_vec(&self.stored()).map_err(|e| EncodeError::of(self, e))
    }

    /// [`Event::to_bytes`] as text, for stores that keep JSON as text.
    pub fn to_text(&self) -> Result<String, EncodeError> {
        serde_json::to_string(&self.stored()).map_err(|e| EncodeError::of(self, e))
    }

    fn stored(&self) -> Stored<'_> {
        Stored {
            specversion: "1.0",
            id: self.id,
            source: &self.source,
            event_type: self.payload.event_type(),
            subject: self.payload.subject(),
            time: rfc3339(self.time),
            datacontenttype: "application/json",
            bron: self.bron.as_str(),
            bevestigd: self.bevestigd,
            prognose: self.prognose.as_ref().map(|p| p.as_str()),
            region: self.stamp.region,
            scope: self.stamp.scope.as_str(),
            actor: &self.stamp.actor,
            received: rfc3339(self.stamp.received),
            data: self.payload.data(),
        }
    }

    /// Reads a stored event back (its JSON bytes, as the log holds them). Lenient where
    /// ingest was strict (no clock check), but an event of a newer version is reported as
    /// such so the reader can hold it back.
    pub fn from_stored(bytes: &[u8]) -> Result<Event, DecodeError> {
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
            let reason = format!("a stored event must be a JSON object: {e}");
            DecodeError::Invalid(FieldError::new("", ErrorCode::Malformed, &reason))
        })?;
        if let Some(t) = envelope.event_type.as_deref() {
            if let Err(DecodeError::NewerVersion(t)) = Payload::decode(t, None, &Value::Null).map(|_| ()) {
                return Err(DecodeError::NewerVersion(t));
            }
        }
        let stamp = envelope.stamp()?;
        let (id, source, time, bron, bevestigd, prognose, payload) = envelope.common().map_err(DecodeError::Invalid)?;
        let id = id.ok_or_else(|| {
            DecodeError::Invalid(FieldError::new("id", ErrorCode::Required, "a stored event has an id"))
        })?;
        Ok(Event { id, source, time: time.unwrap_or(stamp.received), bron, bevestigd, prognose, stamp, payload })
    }

    /// Whether `stored` (a stored event's bytes, with the same source and id) says what
    /// this event says: the same client attributes and data, whatever the server stamped.
    /// Compared as JSON, so it does not hang on how the stored text was laid out.
    /// `time_given`: whether this event's client sent its `time`; one that did not meant
    /// "at receipt", which a stored event whose time is its own receipt also says.
    pub fn same_report(&self, stored: &[u8], time_given: bool) -> bool {
        let client_part = |bytes: &[u8]| match serde_json::from_slice(bytes) {
            Ok(Value::Object(mut attributes)) => {
                let received = attributes.remove("received");
                attributes.retain(|name, _| !SERVER_ATTRIBUTES.contains(&name.as_str()));
                Some((attributes, received))
            }
            _ => None,
        };
        // An event that cannot be written says nothing a stored one could say.
        let Ok(mine) = self.to_bytes() else { return false };
        let (Some((mut mine, _)), Some((mut theirs, received))) = (client_part(&mine), client_part(stored)) else {
            return false;
        };
        if !time_given {
            if theirs.get("time") != received.as_ref() {
                return false;
            }
            mine.remove("time");
            theirs.remove("time");
        }
        mine == theirs
    }

    /// The location this event is about, if any.
    pub fn location(&self) -> Option<&Slug> {
        match &self.source {
            Source::Location(id) => Some(id),
            Source::Region(_) => None,
        }
    }

    /// The idempotency key: (source, id), as `source|id`.
    pub fn dedup_key(&self) -> String {
        format!("{}|{}", self.source, self.id)
    }
}

/// An accepted event that cannot be written as JSON; it must not reach the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {key} ({event_type}) cannot be written as JSON: {reason}")]
pub struct EncodeError {
    /// The event's (source, id), as `source|id`.
    pub key: String,
    pub event_type: &'static str,
    pub reason: String,
}

impl EncodeError {
    fn of(event: &Event, e: serde_json::Error) -> Self {
        EncodeError { key: event.dedup_key(), event_type: event.payload.event_type(), reason: e.to_string() }
    }
}

/// RFC 3339 in UTC with the precision the value has.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::payload::Payload;

    fn incident_with_circle(radius_km: f64) -> Event {
        let submission = Submission::parse(json!({
            "specversion": "1.0", "id": "0193a7c2-5e18-7018-8018-1b2c3d4e0018", "source": "/regions/VR01",
            "type": "nl.ghor.incident.opened.v1", "subject": "storm", "time": "2026-11-22T09:30:00Z",
            "data": { "name": "Storm", "state": "actief", "grip": 2,
                      "area": { "circle": { "center": { "lat": 53.2, "lon": 6.5 }, "radius_km": 5.0 } } }
        }))
        .expect("a valid incident");
        let received = DateTime::parse_from_rfc3339("2026-11-22T09:31:00Z").expect("time").with_timezone(&Utc);
        let stamp = Stamp {
            region: RegionCode::try_from("VR01").expect("region"),
            scope: Scope::Live,
            actor: "test".into(),
            received,
        };
        let mut event = submission.accept(stamp).expect("accepted");
        if let Payload::Incident { data, .. } = &mut event.payload {
            if let Some(circle) = &mut data.area.circle {
                circle.radius_km = radius_km;
            }
        }
        event
    }

    #[test]
    fn an_event_that_cannot_be_written_is_an_error_not_an_empty_or_null_body() {
        // serde_json writes NaN as `null`, which would read back as no radius at all: a
        // poison event in the immutable log. Numbers JSON cannot hold are refused instead.
        for bad in [f64::NAN, f64::INFINITY] {
            let event = incident_with_circle(bad);
            let e = event.to_bytes().expect_err("a NaN radius cannot be written");
            assert_eq!(e.event_type, "nl.ghor.incident.opened.v1");
            assert!(e.key.ends_with("0193a7c2-5e18-7018-8018-1b2c3d4e0018"), "{e}");
            assert!(event.to_text().is_err() && event.to_json().is_err());
            assert!(!event.same_report(b"{}", true));
        }
        let good = incident_with_circle(5.0);
        let bytes = good.to_bytes().expect("a finite radius is written");
        assert_eq!(Event::from_stored(&bytes).ok(), Some(good.clone()));
        assert_eq!(good.to_text().ok().map(String::into_bytes), Some(bytes));
    }
}
