//! Strict JSON for untrusted token parts: objects only, no duplicate member names, bounded nesting.
//!
//! `serde_json` keeps the last of two equal member names, so `{"sub":"a","sub":"b"}` would mean
//! different things to different parsers. We refuse such documents outright.
//!
//! Two ways to read a document under the same rules: [`parse_object`] builds a `Map` (tools,
//! `Claims::as_json`), while [`read_members`] hands each top-level member to a [`Members`]
//! reader that keeps only what it needs, borrowing strings from the input: the verification
//! path reads a header and a payload that way, in one pass and without building any map. Both go
//! through the same visitors in the same order, so they accept, refuse and classify alike.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
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

/// A reader of a top-level object's members, for [`read_members`].
pub(crate) trait Members<'de> {
    /// The slot (below 64) of a member this reader keeps, `None` for any other member.
    fn slot(name: &str) -> Option<usize>;
    /// Reads the value of the member in `slot` from `map` (exactly one `next_value_seed`).
    /// `depth` is the depth of the object the member is in, for the value's own nesting.
    fn read<A: MapAccess<'de>>(
        &mut self,
        slot: usize,
        map: &mut A,
        depth: usize,
    ) -> Result<(), A::Error>;
}

/// Parses `bytes` as one JSON object under the strict rules above, handing the members `M`
/// knows to `members` and checking (not keeping) all the others.
pub(crate) fn read_members<'de, M: Members<'de>>(
    bytes: &'de [u8],
    members: &mut M,
) -> Result<(), JsonError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => read_members_text(text, members),
        // The byte reader refuses it where it always did (inside a string, or as a syntax error).
        Err(_) => read_with(serde_json::Deserializer::from_slice(bytes), members),
    }
}

/// [`read_members`] for text already known to be UTF-8: serde_json then skips its own UTF-8
/// check of every string. Same grammar, same answers.
pub(crate) fn read_members_text<'de, M: Members<'de>>(
    text: &'de str,
    members: &mut M,
) -> Result<(), JsonError> {
    read_with(serde_json::Deserializer::from_str(text), members)
}

fn read_with<'de, R: serde_json::de::Read<'de>, M: Members<'de>>(
    mut de: serde_json::Deserializer<R>,
    members: &mut M,
) -> Result<(), JsonError> {
    let is_object = Top { members }
        .deserialize(&mut de)
        .map_err(|e| classify(&e))?;
    de.end().map_err(|_| JsonError::Syntax)?;
    if is_object {
        Ok(())
    } else {
        Err(JsonError::NotAnObject)
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

/// The depth of a container opened inside one at `depth`, or the too-deep error.
fn nested<E: de::Error>(depth: usize) -> Result<usize, E> {
    if depth + 1 > MAX_DEPTH {
        return Err(E::custom(TOO_DEEP));
    }
    Ok(depth + 1)
}

fn duplicate<E: de::Error>() -> E {
    E::custom(DUPLICATE)
}

/// A JSON number as `serde_json::Number` holds it (without its `arbitrary_precision`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Pos(u64),
    Neg(i64),
    Float(f64),
}

impl Num {
    /// As `serde_json::Number::from(i64)`: non-negative values are `Pos`.
    fn from_i64(v: i64) -> Num {
        if v < 0 {
            Num::Neg(v)
        } else {
            Num::Pos(v as u64)
        }
    }

    /// `serde_json::Number::as_u64`.
    pub(crate) fn as_u64(self) -> Option<u64> {
        match self {
            Num::Pos(v) => Some(v),
            _ => None,
        }
    }

    /// `serde_json::Number::as_i64`.
    pub(crate) fn as_i64(self) -> Option<i64> {
        match self {
            Num::Pos(v) => i64::try_from(v).ok(),
            Num::Neg(v) => Some(v),
            Num::Float(_) => None,
        }
    }

    /// `serde_json::Number::as_f64`.
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Pos(v) => v as f64,
            Num::Neg(v) => v as f64,
            Num::Float(v) => v,
        }
    }
}

/// A member's value as a reader keeps it: scalars in full (strings borrowed from the input
/// unless they had escapes), containers only by kind (their contents checked, not kept).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'de> {
    Null,
    Bool,
    Num(Num),
    Str(Cow<'de, str>),
    Array,
    Object,
}

impl<'de> Scalar<'de> {
    /// The value at `depth` (the depth of the container it is in).
    pub(crate) fn read<A: MapAccess<'de>>(map: &mut A, depth: usize) -> Result<Self, A::Error> {
        map.next_value_seed(ScalarSeed { depth })
    }
}

/// Reads one value into a [`Scalar`].
#[derive(Clone, Copy)]
pub(crate) struct ScalarSeed {
    pub(crate) depth: usize,
}

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarSeed {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Num(Num::from_i64(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Num(Num::Pos(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
        finite(v).map(|v| Scalar::Num(Num::Float(v)))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
        Skip { depth: self.depth }.visit_seq(seq)?;
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
        Skip { depth: self.depth }.visit_map(map)?;
        Ok(Scalar::Object)
    }
}

/// The scalar `visit_*` methods of a visitor whose value is `Option<Scalar>`: `Some` scalar,
/// exactly as [`ScalarSeed`] reads it.
macro_rules! scalars_through {
    ($seed:ident) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            $seed { depth: self.depth }.visit_bool(v).map(Some)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            $seed { depth: self.depth }.visit_i64(v).map(Some)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            $seed { depth: self.depth }.visit_u64(v).map(Some)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            $seed { depth: self.depth }.visit_f64(v).map(Some)
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            $seed { depth: self.depth }.visit_borrowed_str(v).map(Some)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            $seed { depth: self.depth }.visit_str(v).map(Some)
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            $seed { depth: self.depth }.visit_string(v).map(Some)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            $seed { depth: self.depth }.visit_unit().map(Some)
        }
    };
}

/// Reads one value, handing each element of an array to `each` as a [`Scalar`]; any other value
/// comes back whole (`Some`).
pub(crate) struct Elements<F> {
    pub(crate) depth: usize,
    pub(crate) each: F,
}

impl<'de, F: FnMut(Scalar<'de>)> DeserializeSeed<'de> for Elements<F> {
    type Value = Option<Scalar<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(Scalar<'de>)> Visitor<'de> for Elements<F> {
    type Value = Option<Scalar<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let depth = nested(self.depth)?;
        while let Some(element) = seq.next_element_seed(ScalarSeed { depth })? {
            (self.each)(element);
        }
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        ScalarSeed { depth: self.depth }.visit_map(map).map(Some)
    }
    scalars_through!(ScalarSeed);
}

/// Reads one value, handing each member of an object to `each` (name, value as a [`Scalar`]);
/// any other value comes back whole (`Some`).
pub(crate) struct Fields<F> {
    pub(crate) depth: usize,
    pub(crate) each: F,
}

impl<'de, F: FnMut(&str, Scalar<'de>)> DeserializeSeed<'de> for Fields<F> {
    type Value = Option<Scalar<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&str, Scalar<'de>)> Visitor<'de> for Fields<F> {
    type Value = Option<Scalar<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        ScalarSeed { depth: self.depth }.visit_seq(seq).map(Some)
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let depth = nested(self.depth)?;
        let mut names = Names::default();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            let value = map.next_value_seed(ScalarSeed { depth })?;
            (self.each)(&name, value);
            names.insert(name)?;
        }
        Ok(None)
    }
    scalars_through!(ScalarSeed);
}

/// Checks one value under the strict rules and keeps nothing of it.
#[derive(Clone, Copy)]
pub(crate) struct Skip {
    pub(crate) depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        finite(v).map(drop)
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let depth = nested(self.depth)?;
        while seq.next_element_seed(Skip { depth })?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let depth = nested(self.depth)?;
        let mut names = Names::default();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            map.next_value_seed(Skip { depth })?;
            names.insert(name)?;
        }
        Ok(())
    }
}

fn finite<E: de::Error>(v: f64) -> Result<f64, E> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(E::custom("non-finite number"))
    }
}

/// Reads a member name, borrowed from the input unless it had escapes.
pub(crate) struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// The member names of one object seen so far: a few inline (no allocation for the small
/// objects tokens are made of), the rest in a hash set (so a huge object costs linear time).
#[derive(Default)]
pub(crate) struct Names<'de> {
    inline: [Option<Cow<'de, str>>; INLINE_NAMES],
    len: usize,
    spilled: Option<HashSet<Cow<'de, str>>>,
}

const INLINE_NAMES: usize = 8;

impl<'de> Names<'de> {
    /// Records `name`; the duplicate error if it was seen before.
    pub(crate) fn insert<E: de::Error>(&mut self, name: Cow<'de, str>) -> Result<(), E> {
        let seen = &self.inline[..self.len];
        if seen.iter().flatten().any(|n| *n == name)
            || self.spilled.as_ref().is_some_and(|s| s.contains(&name))
        {
            return Err(duplicate());
        }
        if self.len < INLINE_NAMES {
            self.inline[self.len] = Some(name);
            self.len += 1;
        } else {
            self.spilled.get_or_insert_with(HashSet::new).insert(name);
        }
        Ok(())
    }
}

/// The top-level value for [`read_members`]: `true` for an object (whose members went to the
/// reader), `false` for anything else (checked all the same: nesting and duplicates first).
struct Top<'m, M> {
    members: &'m mut M,
}

impl<'de, M: Members<'de>> DeserializeSeed<'de> for Top<'_, M> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, M: Members<'de>> Visitor<'de> for Top<'_, M> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        finite(v).map(|_| false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        Skip { depth: 0 }.visit_seq(seq)?;
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let depth = nested(0)?;
        let mut known = 0u64;
        let mut others = Names::default();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            match M::slot(&name) {
                Some(slot) => {
                    self.members.read(slot, &mut map, depth)?;
                    if known & (1 << slot) != 0 {
                        return Err(duplicate());
                    }
                    known |= 1 << slot;
                }
                None => {
                    map.next_value_seed(Skip { depth })?;
                    others.insert(name)?;
                }
            }
        }
        Ok(true)
    }
}

/// Builds a `Value` under the strict rules (for [`parse_object`] and the members kept whole).
pub(crate) struct Strict {
    pub(crate) depth: usize,
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
        let depth = nested(self.depth)?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict { depth })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = nested(self.depth)?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Strict { depth })?;
            if out.insert(key, value).is_some() {
                return Err(duplicate());
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
