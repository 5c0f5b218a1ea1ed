//! Declare once, derive the rest, for event types: the `event_types!` macro turns one
//! declaration per type (wire name parts and version, older versions with their upcast,
//! labels, source kind, key type, data type, and the payload it is) into the
//! [`EventType`](crate::payload::EventType) enum and everything that follows from it:
//! wire names, decoding, encoding, the subject family, source kinds and the schema mapping.
//! The traits here are what a key or a data type brings to such a declaration.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ErrorCode;
use crate::payload::DecodeError;
use crate::values::{ShortText, Slug};

/// Which kind of `source` an event type needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `/locations/{id}`.
    Location,
    /// `/regions/{VRxx}`: region-wide events.
    Region,
}

/// A type that can be an event's `subject` (its key).
pub trait Key: Sized {
    /// Reads the subject; its absence and a wrong value are named as the `subject` field.
    fn from_subject(subject: Option<&str>) -> Result<Self, DecodeError>;
    /// The wire `subject`.
    fn subject(&self) -> String;
    /// JSON Schema of the subject; shared definitions go into `defs`.
    fn subject_schema(defs: &mut Map<String, Value>) -> Value;
    /// The vocabulary the key is one value of (its name and every value), or `None` for a
    /// key named freely (an identifier).
    fn vocabulary() -> Option<(&'static str, Vec<Self>)> {
        None
    }
}

/// A field's label in both languages, declared next to its data type with
/// [`field_labels!`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLabel {
    pub name: &'static str,
    pub nl: &'static str,
    pub en: &'static str,
}

/// The labels of every field of a data type, in the order the form shows them:
/// `field_labels!(BedsData { operational: "nl", "en"; ... })`. It does not compile unless
/// it names every field of the type and nothing else.
macro_rules! field_labels {
    ($T:ident { $($f:ident: $nl:literal, $en:literal;)+ }) => {{
        #[allow(dead_code)]
        fn every_field_named(d: &$T) {
            let $T { $($f: _),+ } = d;
        }
        &[$($crate::event_type::FieldLabel { name: stringify!($f), nl: $nl, en: $en }),+]
    }};
}

/// A type that can be an event's `data`, with the checks across its fields (and its key,
/// `K`, `()` for types without one) that its serde form cannot say.
pub trait EventData<K = ()>: Serialize + DeserializeOwned + JsonSchema {
    /// The labels of its fields, for the form that reports it (status observations).
    const FIELD_LABELS: &'static [FieldLabel] = &[];
    fn check(&self, _key: &K) -> Result<(), DecodeError> {
        Ok(())
    }
    /// Whether `field` may be given for `key`; [`EventData::check`] refuses it where not,
    /// and the page leaves it out of the form.
    fn applies(_field: &str, _key: &K) -> bool {
        true
    }
}

/// Reads the `data` of an older version of an event type as the current version's. The
/// declaration lists `older: [N => OldData]`; decoding a `.vN` event parses `OldData`
/// strictly and upcasts it, so the fold and every reader only ever see the current type.
pub trait Upcast<Old>: Sized {
    fn upcast(old: Old) -> Result<Self, DecodeError>;
}

/// Subjects that name an object by its slug (help requests, incidents, organisations).
impl Key for Slug {
    fn from_subject(subject: Option<&str>) -> Result<Self, DecodeError> {
        let s = subject.ok_or_else(|| {
            field("subject", ErrorCode::Required, "names the object this event is about and is required for this type")
        })?;
        Slug::try_from(s).map_err(|r| DecodeError::Invalid(r.at("subject")))
    }
    fn subject(&self) -> String {
        self.to_string()
    }
    fn subject_schema(defs: &mut Map<String, Value>) -> Value {
        crate::schema::part::<Slug>(defs)
    }
}

/// The subject of an acknowledgement: the alert's id.
impl Key for ShortText {
    fn from_subject(subject: Option<&str>) -> Result<Self, DecodeError> {
        let alert =
            subject.ok_or_else(|| field("subject", ErrorCode::Required, "names the alert being acknowledged"))?;
        ShortText::try_from(alert.to_owned()).map_err(|r| DecodeError::Invalid(r.at("subject")))
    }
    fn subject(&self) -> String {
        self.as_str().to_owned()
    }
    fn subject_schema(defs: &mut Map<String, Value>) -> Value {
        crate::schema::part::<ShortText>(defs)
    }
}

/// A subject that is one value of a closed vocabulary (implemented by `vocabulary!`).
pub(crate) fn vocabulary_key<K: DeserializeOwned>(subject: Option<&str>) -> Result<K, DecodeError> {
    let s = subject.ok_or_else(|| {
        field("subject", ErrorCode::Required, "names the key this observation is about and is required for this type")
    })?;
    serde_json::from_value(Value::String(s.to_owned()))
        .map_err(|e| DecodeError::Invalid(crate::FieldError::from_serde("subject", &e.to_string())))
}

pub(crate) fn field(path: &str, code: ErrorCode, reason: &str) -> DecodeError {
    DecodeError::Invalid(crate::FieldError::new(path, code, reason))
}

/// Reads a wire `type` (`nl.ghor.<family>.<verb>.v<N>`): the declared type of its stem
/// and the version to read it at. A version above the current one is
/// [`DecodeError::NewerVersion`] (held back, not refused for good); a version written oddly
/// (`v01`, `v+1`) or one no longer read is not a type ghor knows.
pub(crate) fn wire_type<T>(
    event_type: &str,
    declared: impl Fn(&str) -> Option<(T, u32, &'static [u32])>,
) -> Result<(T, u32), DecodeError> {
    let unknown = || {
        let reason = format!("{event_type:?} is not an event type ghor knows; see proto/ for the list");
        field("type", ErrorCode::UnknownEventType, &reason)
    };
    let name = event_type.strip_prefix(crate::payload::TYPE_PREFIX).ok_or_else(unknown)?;
    let (stem, version) = name.rsplit_once(".v").ok_or_else(unknown)?;
    if version.is_empty() || version.starts_with('0') || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unknown());
    }
    let version: u32 = version.parse().map_err(|_| unknown())?;
    let (kind, current, older) = declared(stem).ok_or_else(unknown)?;
    if version > current {
        return Err(DecodeError::NewerVersion(event_type.to_owned()));
    }
    if version != current && !older.contains(&version) {
        return Err(unknown());
    }
    Ok((kind, version))
}

/// Per-declaration pieces that depend on whether the type has a key.
macro_rules! __event_key {
    (type,) => {
        ()
    };
    (type, $K:ty) => {
        $K
    };
    (keyed,) => {
        false
    };
    (keyed, $K:ty) => {
        true
    };
    (parse, $subject:ident,) => {
        ()
    };
    (parse, $subject:ident, $K:ty) => {
        <$K as $crate::event_type::Key>::from_subject($subject)?
    };
    (subject, $key:ident,) => {
        None
    };
    (subject, $key:ident, $K:ty) => {
        Some(<$K as $crate::event_type::Key>::subject($key))
    };
    (schema, $defs:ident,) => {
        None
    };
    (schema, $defs:ident, $K:ty) => {
        Some(<$K as $crate::event_type::Key>::subject_schema($defs))
    };
    (describe, $D:ty,) => {
        $crate::describe::event_fields::<$D, ()>(false, None)
    };
    (describe, $D:ty, $K:ty) => {
        $crate::describe::event_fields::<$D, $K>(true, $crate::describe::key_values::<$K>())
    };
}

/// Declares every event type once. Each declaration reads
///
/// ```text
/// /// doc
/// BedsReported("beds", "reported", 1) {
///     label: "Bedden gemeld", "Beds reported",
///     source: Location,
///     key: BedType,            // left out for a type without key (subject refused)
///     data: BedsData,
///     older: [],               // e.g. [1 => BedsDataV1]: versions read through `Upcast`
/// } => { Payload::Status(Status::Beds { key, data }) };
/// ```
///
/// The last part is the payload this type is, written with the two names given in
/// `bind:`; it is used both to build the payload when decoding and as the pattern that
/// recognises it when encoding. Since those patterns must cover the payload enum (the
/// compiler checks it), a payload variant without a declaration does not compile, nor does
/// a declaration without its payload; the fold's exhaustive match then asks for its arm.
macro_rules! event_types {
    (
        payload: $Payload:ident, kind: $Kind:ident, data: $PayloadData:ident, bind: ($key:ident, $data:ident);
        $(
            $(#[$meta:meta])*
            $V:ident($family:literal, $verb:literal, $ver:literal) {
                label: $nl:literal, $en:literal,
                source: $source:ident,
                $(key: $K:ty,)?
                data: $D:ty,
                older: [$($old:literal => $Old:ty),* $(,)?] $(,)?
            } => { $($shape:tt)+ };
        )+
    ) => {
        /// Every event type, one variant per wire type (at its current version).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $Kind {
            $($(#[$meta])* $V,)+
        }

        impl $Kind {
            /// Every event type, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$V),+];
            /// The wire names of every event type at its current version.
            pub const NAMES: &'static [&'static str] =
                &[$(concat!("nl.ghor.", $family, ".", $verb, ".v", $ver)),+];

            /// The wire `type` at the current version, e.g. `nl.ghor.beds.reported.v1`.
            pub const fn name(self) -> &'static str {
                match self { $(Self::$V => concat!("nl.ghor.", $family, ".", $verb, ".v", $ver)),+ }
            }
            /// What the type is about: the status dimension, or e.g. `location`, `incident`
            /// (the event's dimension in the log's subjects).
            pub const fn family(self) -> &'static str {
                match self { $(Self::$V => $family),+ }
            }
            pub const fn verb(self) -> &'static str {
                match self { $(Self::$V => $verb),+ }
            }
            /// `family.verb`: the name without prefix and version.
            pub const fn stem(self) -> &'static str {
                match self { $(Self::$V => concat!($family, ".", $verb)),+ }
            }
            /// The current version.
            pub const fn version(self) -> u32 {
                match self { $(Self::$V => $ver),+ }
            }
            /// Older versions that are still read (through their upcast).
            pub const fn older_versions(self) -> &'static [u32] {
                match self { $(Self::$V => &[$($old),*]),+ }
            }
            pub const fn source_kind(self) -> $crate::event_type::SourceKind {
                match self { $(Self::$V => $crate::event_type::SourceKind::$source),+ }
            }
            /// Whether the type has a key (`subject`); without one a subject is refused.
            pub const fn keyed(self) -> bool {
                match self { $(Self::$V => $crate::event_type::__event_key!(keyed, $($K)?)),+ }
            }
            pub const fn label(self, lang: $crate::vocab::Lang) -> &'static str {
                match (self, lang) {
                    $((Self::$V, $crate::vocab::Lang::Nl) => $nl, (Self::$V, $crate::vocab::Lang::En) => $en),+
                }
            }
            /// The type of a current wire name.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|t| t.name() == name)
            }
            /// What the page builds a form from: the key's vocabulary, and the `data`'s
            /// fields with their kind, limits and labels (see [`crate::describe`]).
            pub fn describe(self) -> $crate::describe::EventFields {
                match self {
                    $(Self::$V => $crate::event_type::__event_key!(describe, $D, $($K)?)),+
                }
            }
            /// JSON Schema of the `data` and, for a keyed type, of the `subject`.
            pub fn schemas(
                self,
                defs: &mut serde_json::Map<String, serde_json::Value>,
            ) -> (serde_json::Value, Option<serde_json::Value>) {
                match self {
                    $(Self::$V => ($crate::schema::part::<$D>(defs), $crate::event_type::__event_key!(schema, defs, $($K)?))),+
                }
            }
        }

        impl $Payload {
            /// The event type this payload is.
            #[allow(unused_variables)]
            #[deny(unreachable_patterns)]
            pub fn kind(&self) -> $Kind {
                match self { $($($shape)+ => $Kind::$V,)+ }
            }

            /// The wire `subject`: the key the event is about, where its type has one.
            #[allow(unused_variables)]
            pub fn subject(&self) -> Option<String> {
                match self { $($($shape)+ => $crate::event_type::__event_key!(subject, $key, $($K)?),)+ }
            }

            /// Decodes the wire `type`, `subject` and `data`; errors name the offending
            /// field. An older version's `data` is read as that version's type and upcast.
            pub fn decode<'d>(
                event_type: &str,
                subject: Option<&str>,
                data: impl Into<$crate::payload::WireData<'d>>,
            ) -> Result<$Payload, $crate::payload::DecodeError> {
                let wire = data.into();
                let (kind, version) = $crate::event_type::wire_type(event_type, |stem| {
                    $Kind::ALL.iter().copied().find(|t| t.stem() == stem).map(|t| (t, t.version(), t.older_versions()))
                })?;
                if subject.is_some() && !kind.keyed() {
                    return Err($crate::event_type::field(
                        "subject",
                        $crate::error::ErrorCode::NoKey,
                        "this event type has no key; leave subject out",
                    ));
                }
                match kind {
                    $($Kind::$V => {
                        let $key = $crate::event_type::__event_key!(parse, subject, $($K)?);
                        let $data: $D = match version {
                            $($old => <$D as $crate::event_type::Upcast<$Old>>::upcast(wire.parse::<$Old>()?)?,)*
                            _ => wire.parse::<$D>()?,
                        };
                        <$D as $crate::event_type::EventData<$crate::event_type::__event_key!(type, $($K)?)>>::check(&$data, &$key)?;
                        Ok($($shape)+)
                    })+
                }
            }
        }

        /// A payload's wire `data`, serialised straight from it.
        pub struct $PayloadData<'a>(&'a $Payload);

        impl serde::Serialize for $PayloadData<'_> {
            #[allow(unused_variables)]
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self.0 { $($($shape)+ => serde::Serialize::serialize($data, s),)+ }
            }
        }
    };
}

pub(crate) use {__event_key, event_types, field_labels};

#[cfg(test)]
#[allow(dead_code)] // the test table's derived items that these tests do not call
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;
    use crate::payload::EventType;
    use crate::vocab::{Dimension, Lang};

    /// A note as version 1 said it.
    #[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct NoteV1 {
        text: String,
    }

    /// Version 2 adds the language the note is in.
    #[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct NoteV2 {
        text: String,
        lang: String,
    }

    impl EventData for NoteV2 {}

    impl Upcast<NoteV1> for NoteV2 {
        fn upcast(old: NoteV1) -> Result<Self, DecodeError> {
            Ok(NoteV2 { text: old.text, lang: "nl".into() })
        }
    }

    #[derive(Debug, PartialEq)]
    enum TestPayload {
        Note { data: NoteV2 },
    }

    event_types! {
        payload: TestPayload, kind: TestType, data: TestData, bind: (key, data);
        NoteReported("note", "reported", 2) {
            label: "Notitie", "Note",
            source: Location, data: NoteV2, older: [1 => NoteV1],
        } => { TestPayload::Note { data } };
    }

    #[test]
    fn an_older_version_is_read_through_its_upcast_and_written_as_the_current_one() {
        let v1 = TestPayload::decode("nl.ghor.note.reported.v1", None, &json!({ "text": "Rustig" }));
        let note = TestPayload::Note { data: NoteV2 { text: "Rustig".into(), lang: "nl".into() } };
        assert_eq!(v1, Ok(TestPayload::Note { data: NoteV2 { text: "Rustig".into(), lang: "nl".into() } }));
        assert_eq!(note.kind().name(), "nl.ghor.note.reported.v2");
        assert_eq!(serde_json::to_value(TestData(&note)).ok(), Some(json!({ "text": "Rustig", "lang": "nl" })));
        assert_eq!(TestType::NAMES, &["nl.ghor.note.reported.v2"]);
        // The current version reads its own form; each version is read strictly.
        let v2 = TestPayload::decode("nl.ghor.note.reported.v2", None, &json!({ "text": "Rustig", "lang": "nl" }));
        assert_eq!(v2, Ok(note));
        let v1_with_v2_field =
            TestPayload::decode("nl.ghor.note.reported.v1", None, &json!({ "text": "Rustig", "lang": "nl" }));
        assert!(matches!(v1_with_v2_field, Err(DecodeError::Invalid(e)) if e.field == "data.lang"));
        assert!(matches!(
            TestPayload::decode("nl.ghor.note.reported.v3", None, &json!({})),
            Err(DecodeError::NewerVersion(t)) if t == "nl.ghor.note.reported.v3"
        ));
    }

    #[test]
    fn a_version_no_longer_read_is_not_a_known_type() {
        // Real types are all at version 1; a v0 or an unlisted older one is unknown.
        for t in ["nl.ghor.beds.reported.v0", "nl.ghor.beds.reported.v01"] {
            let e = crate::Payload::decode(t, Some("ic"), &json!({}));
            assert!(matches!(e, Err(DecodeError::Invalid(e)) if e.field == "type"), "{t}");
        }
    }

    #[test]
    fn every_event_type_has_a_unique_name_and_both_labels() {
        let mut names: Vec<&str> = EventType::ALL.iter().map(|t| t.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len(), "two declarations with one wire name");
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.name()), Some(*t));
            assert!(t.name().starts_with(crate::payload::TYPE_PREFIX));
            assert!(!t.label(Lang::Nl).is_empty() && !t.label(Lang::En).is_empty(), "{t:?}");
        }
    }

    #[test]
    fn an_observation_type_is_named_after_its_dimension() {
        // Status payloads live in the picture under their dimension; the wire family must
        // say the same, or the log's subjects and the page would disagree.
        for sample in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples")).into_iter().flatten() {
            let Ok(entry) = sample else { continue };
            let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
            let Ok(submission) = crate::Submission::parse(value) else { panic!("{:?} refused", entry.path()) };
            if let crate::Payload::Status(status) = &submission.payload {
                assert_eq!(submission.payload.family(), status.dimension().as_str());
                assert!(Dimension::parse(submission.payload.family()).is_some());
            }
        }
    }
}
