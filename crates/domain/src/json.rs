//! Reading the JSON a caller sent into a [`Value`] as `serde_json` does, except that a key
//! repeated within one object is refused, by its path, instead of the last one silently
//! winning: what a caller meant by it cannot be known.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{ErrorCode, FieldError};

/// Why a caller's JSON could not be read.
#[derive(Debug)]
pub enum JsonError {
    /// Not JSON at all.
    Syntax(serde_json::Error),
    /// Valid JSON, but a key appears twice in one object; this names the key's path.
    DuplicateKey(FieldError),
}

/// Parses `bytes` as JSON, refusing repeated keys (see the module doc).
pub fn from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    read(&mut serde_json::Deserializer::from_slice(bytes), "")
}

/// Parses `text` as JSON found at `path` (e.g. `data`), refusing repeated keys.
pub fn from_str(text: &str, path: &str) -> Result<Value, JsonError> {
    read(&mut serde_json::Deserializer::from_str(text), path)
}

fn read<'de, R: serde_json::de::Read<'de>>(
    deserializer: &mut serde_json::Deserializer<R>,
    path: &str,
) -> Result<Value, JsonError> {
    let duplicate = Cell::new(None);
    let root = if path.is_empty() { Segment::Root } else { Segment::Key(path, &Segment::Root) };
    let value = Strict { at: &root, duplicate: &duplicate }.deserialize(&mut *deserializer);
    match (value, duplicate.take()) {
        (_, Some(path)) => Err(JsonError::DuplicateKey(FieldError::new(
            &path,
            ErrorCode::DuplicateKey,
            "appears more than once in the same object; send each key once",
        ))),
        (Ok(value), None) => deserializer.end().map(|()| value).map_err(JsonError::Syntax),
        (Err(e), None) => Err(JsonError::Syntax(e)),
    }
}

/// Where a value lies in the document; only turned into text for an error.
enum Segment<'a> {
    Root,
    Key(&'a str, &'a Segment<'a>),
    Index(usize, &'a Segment<'a>),
}

impl fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Root => Ok(()),
            Segment::Key(key, Segment::Root) => f.write_str(key),
            Segment::Key(key, parent) => write!(f, "{parent}.{key}"),
            Segment::Index(i, parent) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Builds a [`Value`] at `at`; a repeated key records its path in `duplicate` and fails.
struct Strict<'a> {
    at: &'a Segment<'a>,
    duplicate: &'a Cell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let at = Segment::Index(items.len(), self.at);
            match seq.next_element_seed(Strict { at: &at, duplicate: self.duplicate })? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = Segment::Key(&key, self.at);
            if object.contains_key(&key) {
                self.duplicate.set(Some(at.to_string()));
                return Err(A::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(Strict { at: &at, duplicate: self.duplicate })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str, path: &str) -> Option<String> {
        match from_str(text, path) {
            Err(JsonError::DuplicateKey(e)) => Some(e.field),
            _ => None,
        }
    }

    #[test]
    fn a_repeated_key_at_any_depth_is_named_by_its_path() {
        assert_eq!(duplicate(r#"{"a":1,"a":2}"#, ""), Some("a".into()));
        assert_eq!(duplicate(r#"{"data":{"x":[{"y":1},{"y":1,"y":2}]}}"#, ""), Some("data.x[1].y".into()));
        assert_eq!(duplicate(r#"{"operational":1,"operational":2}"#, "data"), Some("data.operational".into()));
        assert_eq!(duplicate(r#"{"a":{"b":1},"c":{"b":1}}"#, ""), None, "the same key in two objects is fine");
    }

    #[test]
    fn without_repeats_it_reads_what_serde_json_reads() {
        let text = r#"{"a":[1,-2,3.5,true,null,"x"],"b":{"c":{}}}"#;
        assert_eq!(from_slice(text.as_bytes()).ok(), serde_json::from_str::<Value>(text).ok());
        assert!(matches!(from_slice(b"{\"a\":1} x"), Err(JsonError::Syntax(_))), "trailing characters");
        assert!(matches!(from_slice(b"{\"a\":"), Err(JsonError::Syntax(_))));
    }
}
