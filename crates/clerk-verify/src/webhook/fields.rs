//! Reading the members of Clerk's JSON without ever refusing the event over one.
//!
//! Svix retries a delivery answered with 400 for days, then disables the endpoint: if Clerk
//! dropped, renamed or retyped a member we read, refusing would stop every user's sync over a
//! member they may not even use. So a member that cannot be read is absent from the typed view
//! (`None`, or empty), its path is recorded in [`Event::unread`](super::Event::unread), and a
//! warning names it once per (event type, member) per process, under [`LOG_TARGET`]. The
//! warning holds the event type, the member's path and what was wrong: never a value.

use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// The log target of what the webhook module logs.
pub const LOG_TARGET: &str = "clerk_verify::webhook";

/// What Clerk's type for a member promises, which decides what counts as unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Always sent, never null (`created_at: number`): missing, null or mistyped is unread.
    Required,
    /// Always sent, may be null (`first_name: string | null`): null is the value "none";
    /// missing or mistyped is unread.
    Nullable,
    /// May be left out (`slug?: string`): missing and null are "none"; mistyped is unread.
    Optional,
}

/// Why a member was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Problem {
    Missing,
    Null,
    WrongType,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::Missing => "missing",
            Problem::Null => "null",
            Problem::WrongType => "of another JSON type",
        })
    }
}

/// Reads the members of one event, noting those it cannot read.
///
/// Paths are `'static` and come from the code, never from the payload, as does `event_type`
/// (one of the typed types, or [`OTHER_TYPES`]): the set of warnings already given is bounded
/// by the number of (type, path) pairs in this module's callers.
pub(super) struct Fields {
    event_type: &'static str,
    unread: Vec<&'static str>,
}

/// The `event_type` under which members of the envelope of untyped events are noted.
pub(super) const OTHER_TYPES: &str = "untyped";

impl Fields {
    pub(super) fn new(event_type: &'static str) -> Fields {
        Fields {
            event_type,
            unread: Vec::new(),
        }
    }

    /// The paths noted, in the order first noted.
    pub(super) fn into_unread(self) -> Vec<&'static str> {
        self.unread
    }

    /// Records that `path` could not be read, and warns once per (event type, path).
    pub(super) fn note(&mut self, path: &'static str, problem: Problem) {
        if !self.unread.contains(&path) {
            self.unread.push(path);
        }
        warn_once(self.event_type, path, problem);
    }

    /// The member `path` names (its last segment) in `object`: `Some` when present and not
    /// null, else `None`, noted if `shape` says it should have been there.
    fn member<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &'static str,
        shape: Shape,
    ) -> Option<&'v Value> {
        let key = path.rsplit('.').next().unwrap_or(path);
        match object.get(key) {
            None => {
                if shape != Shape::Optional {
                    self.note(path, Problem::Missing);
                }
                None
            }
            Some(Value::Null) => {
                if shape == Shape::Required {
                    self.note(path, Problem::Null);
                }
                None
            }
            Some(value) => Some(value),
        }
    }

    /// `read` applied to the member, noted as mistyped when it gives `None`.
    fn typed<'v, T>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &'static str,
        shape: Shape,
        read: impl FnOnce(&'v Value) -> Option<T>,
    ) -> Option<T> {
        let value = self.member(object, path, shape)?;
        let read = read(value);
        if read.is_none() {
            self.note(path, Problem::WrongType);
        }
        read
    }

    pub(super) fn string(
        &mut self,
        object: &Map<String, Value>,
        path: &'static str,
        shape: Shape,
    ) -> Option<String> {
        self.typed(object, path, shape, |v| v.as_str().map(str::to_owned))
    }

    /// An integer (Unix milliseconds, mostly); a fraction or one past `i64` is mistyped.
    pub(super) fn int(
        &mut self,
        object: &Map<String, Value>,
        path: &'static str,
        shape: Shape,
    ) -> Option<i64> {
        self.typed(object, path, shape, Value::as_i64)
    }

    /// A count: a non-negative integer.
    pub(super) fn count(
        &mut self,
        object: &Map<String, Value>,
        path: &'static str,
        shape: Shape,
    ) -> Option<u64> {
        self.typed(object, path, shape, Value::as_u64)
    }

    pub(super) fn boolean(
        &mut self,
        object: &Map<String, Value>,
        path: &'static str,
        shape: Shape,
    ) -> Option<bool> {
        self.typed(object, path, shape, Value::as_bool)
    }

    pub(super) fn object<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &'static str,
        shape: Shape,
    ) -> Option<&'v Map<String, Value>> {
        self.typed(object, path, shape, Value::as_object)
    }

    pub(super) fn array<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &'static str,
        shape: Shape,
    ) -> Option<&'v [Value]> {
        self.typed(object, path, shape, |v| v.as_array().map(Vec::as_slice))
    }

    /// A metadata object: empty when absent, null (as Clerk's SDK reads it) or unreadable.
    pub(super) fn metadata(
        &mut self,
        object: &Map<String, Value>,
        path: &'static str,
        shape: Shape,
    ) -> Map<String, Value> {
        self.object(object, path, shape)
            .cloned()
            .unwrap_or_default()
    }
}

/// The (event type, path) pairs already warned about. Both are `'static` strings from this
/// module's callers, so the set is bounded however many events arrive.
static WARNED: Mutex<BTreeSet<(&str, &str)>> = Mutex::new(BTreeSet::new());

fn warn_once(event_type: &'static str, path: &'static str, problem: Problem) {
    let first = WARNED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert((event_type, path));
    if first {
        log::warn!(
            target: LOG_TARGET,
            "webhook event {event_type}: {path} is {problem}, read as absent and the event \
             accepted (has Clerk changed its JSON? Event::raw keeps it as received); logged \
             once per event type and member"
        );
    }
}
