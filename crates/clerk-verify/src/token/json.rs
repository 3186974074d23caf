//! Strict JSON for untrusted token parts: objects only, no duplicate member names, bounded nesting.
//!
//! `serde_json` keeps the last of two equal member names, so `{"sub":"a","sub":"b"}` would mean
//! different things to different parsers. We refuse such documents outright.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Deepest nesting accepted inside a header or payload (the top-level object is depth 1).
pub(crate) const MAX_DEPTH: usize = 16;

/// Why a document was refused (kept coarse on purpose: the caller turns it into `token-invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonError {
    Syntax,
    NotAnObject,
    DuplicateMember,
    TooDeep,
}

impl JsonError {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            JsonError::Syntax => "not valid JSON",
            JsonError::NotAnObject => "not a JSON object",
            JsonError::DuplicateMember => "duplicate member name",
            JsonError::TooDeep => "nested too deeply",
        }
    }
}

/// Parses `bytes` as one JSON object under the strict rules above.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict { depth: 0 }
        .deserialize(&mut de)
        .map_err(|e| classify(&e))?;
    de.end().map_err(|_| JsonError::Syntax)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::NotAnObject),
    }
}

// The visitor can only report errors as strings; these markers carry the kind back out.
const DUPLICATE: &str = "\u{0}duplicate";
const TOO_DEEP: &str = "\u{0}too-deep";

fn classify(e: &serde_json::Error) -> JsonError {
    let text = e.to_string();
    if text.starts_with(DUPLICATE) {
        JsonError::DuplicateMember
    } else if text.starts_with(TOO_DEEP) {
        JsonError::TooDeep
    } else {
        JsonError::Syntax
    }
}

struct Strict {
    depth: usize,
}

impl Strict {
    fn nested<E: de::Error>(&self) -> Result<Strict, E> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(E::custom(TOO_DEEP));
        }
        Ok(Strict {
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
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
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
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
        let inner = self.nested()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict { depth: inner.depth })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Strict { depth: inner.depth })?;
            if out.insert(key, value).is_some() {
                return Err(de::Error::custom(DUPLICATE));
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_objects() {
        let m = parse_object(br#"{"a":1,"b":[1,{"c":null}],"d":1.5}"#).unwrap();
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert_eq!(
            parse_object(br#"{"a":1,"a":2}"#),
            Err(JsonError::DuplicateMember)
        );
        assert_eq!(
            parse_object(br#"{"o":{"x":1,"x":1}}"#),
            Err(JsonError::DuplicateMember)
        );
    }

    #[test]
    fn escaped_duplicates_are_duplicates() {
        // "\u0061" is "a": the decoded names collide.
        assert_eq!(
            parse_object(br#"{"a":1,"\u0061":2}"#),
            Err(JsonError::DuplicateMember)
        );
    }

    #[test]
    fn rejects_non_objects_and_trailing_data() {
        assert_eq!(parse_object(b"[1]"), Err(JsonError::NotAnObject));
        assert_eq!(parse_object(b"\"s\""), Err(JsonError::NotAnObject));
        assert_eq!(parse_object(b"{} {}"), Err(JsonError::Syntax));
        assert_eq!(parse_object(b"{"), Err(JsonError::Syntax));
        assert_eq!(parse_object(b""), Err(JsonError::Syntax));
    }

    #[test]
    fn bounds_nesting() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(parse_object(format!(r#"{{"a":{ok}}}"#).as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(
            parse_object(format!(r#"{{"a":{deep}}}"#).as_bytes()),
            Err(JsonError::TooDeep)
        );
        // Far past serde_json's own recursion limit: still a clean error, no stack overflow.
        let huge = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_object(format!(r#"{{"a":{huge}}}"#).as_bytes()).is_err());
    }
}
