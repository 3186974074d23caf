//! Clerk's events, typed: what the body of a verified delivery says.
//!
//! The envelope is `{"type": "user.created", "object": "event", "data": {...}, "timestamp":
//! <ms>, "instance_id": "ins_..."}`. The `data` of the types an app acts on is parsed into a
//! struct ([`User`], [`Session`], [`Organization`], [`Deleted`]); every other type is kept as
//! JSON ([`EventData::Other`]), never refused, so a type Clerk adds tomorrow is acknowledged
//! rather than retried forever. Members we do not know are ignored; a member we know with the
//! wrong JSON type (or a required one missing) is [`Error::WebhookInvalidPayload`].

use crate::error::{shorten, Error};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A Clerk event, parsed from a verified delivery's body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// The event type, e.g. `user.created`, whatever it is.
    pub event_type: String,
    /// The payload: typed for the types listed on [`EventData`], JSON for the rest.
    pub data: EventData,
    /// The envelope's `timestamp`: when Clerk created the event, Unix **milliseconds**.
    pub timestamp: Option<i64>,
    /// The envelope's `instance_id`: the Clerk instance that sent it.
    pub instance_id: Option<String>,
    /// The whole envelope as received, for members the types here leave out
    /// (`raw["data"]["phone_numbers"]`, `raw["event_attributes"]`, ...).
    pub raw: Value,
}

/// The payload of an [`Event`], by type.
///
/// ```
/// use clerk_verify::webhook::{Event, EventData};
///
/// fn handle(event: &Event) {
///     match &event.data {
///         EventData::User(user) => println!("upsert {} <{:?}>", user.id, user.primary_email()),
///         EventData::UserDeleted(gone) => println!("delete {:?}", gone.id),
///         _ => println!("ignore {}", event.event_type),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventData {
    /// `user.created` and `user.updated`.
    User(User),
    /// `user.deleted`.
    UserDeleted(Deleted),
    /// `session.created`, `session.ended`, `session.removed`, `session.revoked` and
    /// `session.pending`.
    Session(Session),
    /// `organization.created` and `organization.updated`.
    Organization(Organization),
    /// `organization.deleted`.
    OrganizationDeleted(Deleted),
    /// Any other type (`email.created`, `organizationMembership.created`, a type added later,
    /// ...): its `data` as JSON (`null` when absent).
    Other(Value),
}

/// A Clerk user: the `data` of `user.created` and `user.updated` (Clerk's `UserJSON`, the
/// members an app keeps).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user id, `user_...`: the `sub` of their session tokens.
    pub id: String,
    /// Every email address of the user; see [`User::primary_email`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub email_addresses: Vec<EmailAddress>,
    /// The id (`idn_...`) of the primary entry of `email_addresses`.
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    /// The username, when the instance uses usernames.
    #[serde(default)]
    pub username: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Profile image URL.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Metadata the backend sets and the frontend can read (e.g. a membership tier).
    #[serde(default, deserialize_with = "null_as_default")]
    pub public_metadata: Map<String, Value>,
    /// Metadata only the backend sees.
    #[serde(default, deserialize_with = "null_as_default")]
    pub private_metadata: Map<String, Value>,
    /// Metadata the user can change from the frontend: never trust it for access decisions.
    #[serde(default, deserialize_with = "null_as_default")]
    pub unsafe_metadata: Map<String, Value>,
    /// Your own id for the user, if you set one.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last change, Unix milliseconds: compare it before overwriting what you stored, since
    /// deliveries may arrive out of order.
    pub updated_at: i64,
}

impl User {
    /// The entry of `email_addresses` whose id is `primary_email_address_id`.
    pub fn primary_email_address(&self) -> Option<&EmailAddress> {
        let primary = self.primary_email_address_id.as_deref()?;
        self.email_addresses.iter().find(|e| e.id == primary)
    }

    /// The primary email address, e.g. `"ada@example.com"`.
    pub fn primary_email(&self) -> Option<&str> {
        self.primary_email_address()
            .map(|e| e.email_address.as_str())
    }
}

/// One email address of a [`User`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct EmailAddress {
    /// The address id, `idn_...`.
    pub id: String,
    /// The address itself.
    pub email_address: String,
    /// How it was verified, if it was.
    #[serde(default)]
    pub verification: Option<Verification>,
}

impl EmailAddress {
    /// Whether Clerk reports the address as verified.
    pub fn is_verified(&self) -> bool {
        self.verification
            .as_ref()
            .is_some_and(|v| v.status.as_deref() == Some("verified"))
    }
}

/// The verification state of an [`EmailAddress`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Verification {
    /// `verified`, `unverified`, `expired`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// `email_code`, `email_link`, `oauth_google`, ...
    #[serde(default)]
    pub strategy: Option<String>,
}

/// A deleted object: the `data` of `user.deleted` and `organization.deleted` (Clerk's
/// `DeletedObjectJSON`: not the object, only what identifies it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Deleted {
    /// The id of what was deleted. Clerk's type marks it optional: handle its absence.
    #[serde(default)]
    pub id: Option<String>,
    /// `true`.
    #[serde(default)]
    pub deleted: bool,
    /// An organization's slug.
    #[serde(default)]
    pub slug: Option<String>,
    /// A user's `external_id`.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// A session: the `data` of `session.*` events (Clerk's `SessionJSON`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// The session id, `sess_...`: the `sid` of its tokens.
    pub id: String,
    /// Whose session it is.
    pub user_id: String,
    /// The client (browser or device) it lives on.
    #[serde(default)]
    pub client_id: Option<String>,
    /// `active`, `ended`, `removed`, `revoked`, `pending`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// The organization last active in it.
    #[serde(default)]
    pub last_active_organization_id: Option<String>,
    /// Last activity, Unix milliseconds.
    #[serde(default)]
    pub last_active_at: Option<i64>,
    /// When it expires, Unix milliseconds.
    #[serde(default)]
    pub expire_at: Option<i64>,
    /// When it is abandoned if inactive, Unix milliseconds.
    #[serde(default)]
    pub abandon_at: Option<i64>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

/// An organization: the `data` of `organization.created` and `organization.updated` (Clerk's
/// `OrganizationJSON`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// The organization id, `org_...`: the `org_id` of its members' tokens.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL slug (absent when the instance disables slugs).
    #[serde(default)]
    pub slug: Option<String>,
    /// Logo URL.
    #[serde(default)]
    pub image_url: Option<String>,
    /// The user who created it.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Number of members, when Clerk includes it.
    #[serde(default)]
    pub members_count: Option<u64>,
    /// Membership cap (0: unlimited).
    #[serde(default)]
    pub max_allowed_memberships: Option<u64>,
    /// Metadata the backend sets and members can read.
    #[serde(default, deserialize_with = "null_as_default")]
    pub public_metadata: Map<String, Value>,
    /// Metadata only the backend sees.
    #[serde(default, deserialize_with = "null_as_default")]
    pub private_metadata: Map<String, Value>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

/// `null` reads as the empty value, as Clerk's SDK treats absent metadata.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// Parses a (verified) body into an [`Event`].
pub(crate) fn parse(body: &[u8]) -> Result<Event, Error> {
    let raw: Value = serde_json::from_slice(body).map_err(|_| invalid("the body is not JSON"))?;
    let envelope = raw
        .as_object()
        .ok_or_else(|| invalid("the body is not a JSON object"))?;
    let event_type = envelope
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("it has no string \"type\""))?
        .to_owned();
    let timestamp = match envelope.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| invalid("its \"timestamp\" is not an integer"))?,
        ),
    };
    let instance_id = match envelope.get("instance_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .ok_or_else(|| invalid("its \"instance_id\" is not a string"))?
                .to_owned(),
        ),
    };
    let data = envelope.get("data").unwrap_or(&Value::Null);
    let data = match event_type.as_str() {
        "user.created" | "user.updated" => EventData::User(typed(data, &event_type)?),
        "user.deleted" => EventData::UserDeleted(typed(data, &event_type)?),
        "session.created" | "session.ended" | "session.removed" | "session.revoked"
        | "session.pending" => EventData::Session(typed(data, &event_type)?),
        "organization.created" | "organization.updated" => {
            EventData::Organization(typed(data, &event_type)?)
        }
        "organization.deleted" => EventData::OrganizationDeleted(typed(data, &event_type)?),
        _ => EventData::Other(data.clone()),
    };
    Ok(Event {
        event_type,
        data,
        timestamp,
        instance_id,
        raw,
    })
}

fn typed<T: DeserializeOwned>(data: &Value, event_type: &str) -> Result<T, Error> {
    T::deserialize(data).map_err(|e| {
        // serde's text for a wrong type quotes the value (an email, a name): keep it out of
        // messages and logs. "missing field `x`" names no value and helps.
        let e = e.to_string();
        let hint = if e.starts_with("missing field") {
            e
        } else {
            "a known member has the wrong JSON type".to_owned()
        };
        Error::WebhookInvalidPayload(
            format!(
                "the data of a {:?} event does not have Clerk's shape ({hint})",
                shorten(event_type)
            )
            .into(),
        )
    })
}

fn invalid(why: &'static str) -> Error {
    Error::WebhookInvalidPayload(why.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(value: Value) -> Result<Event, &'static str> {
        parse(value.to_string().as_bytes()).map_err(|e| e.reason())
    }

    fn user(extra: Value) -> Value {
        let mut data = json!({
            "id": "user_1",
            "object": "user",
            "email_addresses": [
                {"id": "idn_2", "object": "email_address", "email_address": "two@example.com",
                 "verification": null},
                {"id": "idn_1", "object": "email_address", "email_address": "one@example.com",
                 "verification": {"status": "verified", "strategy": "email_code"}}
            ],
            "primary_email_address_id": "idn_1",
            "first_name": "Ada",
            "last_name": null,
            "public_metadata": {"tier": "premium"},
            "private_metadata": null,
            "created_at": 1700000000000i64,
            "updated_at": 1700000001000i64,
            "two_factor_enabled": false
        });
        for (k, v) in extra.as_object().unwrap() {
            data[k] = v.clone();
        }
        json!({"type": "user.created", "object": "event", "data": data,
               "timestamp": 1700000002000i64, "instance_id": "ins_1"})
    }

    #[test]
    fn users_with_the_primary_email_resolved() {
        let e = event(user(json!({}))).unwrap();
        assert_eq!(e.event_type, "user.created");
        assert_eq!(
            (e.timestamp, e.instance_id.as_deref()),
            (Some(1700000002000), Some("ins_1"))
        );
        let EventData::User(u) = &e.data else {
            panic!("{:?}", e.data)
        };
        assert_eq!(u.primary_email(), Some("one@example.com"));
        assert!(u.primary_email_address().unwrap().is_verified());
        assert!(!u.email_addresses[0].is_verified());
        assert_eq!(u.public_metadata["tier"], "premium");
        assert!(u.private_metadata.is_empty() && u.unsafe_metadata.is_empty());
        assert_eq!(
            (u.first_name.as_deref(), u.last_name.as_deref()),
            (Some("Ada"), None)
        );
        assert_eq!(u.updated_at, 1700000001000);
        assert_eq!(e.raw["data"]["two_factor_enabled"], false);

        let no_primary = event(user(json!({"primary_email_address_id": "idn_9"}))).unwrap();
        let EventData::User(u) = no_primary.data else {
            panic!()
        };
        assert_eq!(u.primary_email(), None);
    }

    #[test]
    fn wrongly_typed_known_members_are_refused_without_their_value() {
        for bad in [
            json!({"first_name": 42}),
            json!({"updated_at": "yesterday"}),
            json!({"email_addresses": {"id": "x"}}),
            json!({"public_metadata": ["tier"]}),
            json!({"id": null}),
            json!({"primary_email_address_id": "secret@example.com", "first_name": ["secret@example.com"]}),
        ] {
            let body = user(bad.clone()).to_string();
            let e = parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.reason(), "webhook-invalid-payload", "{bad}");
            assert!(!e.to_string().contains("secret@"), "{e}");
        }
        let mut missing = user(json!({}));
        missing["data"]
            .as_object_mut()
            .unwrap()
            .remove("updated_at");
        let e = parse(missing.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("missing field `updated_at`"), "{e}");
    }

    #[test]
    fn the_other_types() {
        let deleted = event(json!({"type": "user.deleted", "data": {"id": "user_1", "deleted": true, "object": "user"}})).unwrap();
        assert_eq!(
            deleted.data,
            EventData::UserDeleted(Deleted {
                id: Some("user_1".into()),
                deleted: true,
                slug: None,
                external_id: None
            })
        );
        let session = event(json!({"type": "session.revoked", "data": {
            "id": "sess_1", "user_id": "user_1", "status": "revoked", "client_id": "client_1",
            "created_at": 1, "updated_at": 2, "actor": null}}))
        .unwrap();
        assert!(
            matches!(&session.data, EventData::Session(s) if s.status.as_deref() == Some("revoked"))
        );
        let org = event(json!({"type": "organization.updated", "data": {
            "id": "org_1", "name": "Acme", "slug": "acme", "members_count": 3,
            "public_metadata": {}, "created_at": 1, "updated_at": 2}}))
        .unwrap();
        assert!(
            matches!(&org.data, EventData::Organization(o) if o.slug.as_deref() == Some("acme"))
        );
        let gone = event(
            json!({"type": "organization.deleted", "data": {"id": "org_1", "deleted": true}}),
        )
        .unwrap();
        assert!(matches!(gone.data, EventData::OrganizationDeleted(_)));
        // Unknown types are kept, whatever their data.
        let other =
            event(json!({"type": "email.created", "data": {"to_email_address": 5}})).unwrap();
        assert_eq!(other.data, EventData::Other(json!({"to_email_address": 5})));
        let bare = event(json!({"type": "whatever.happened"})).unwrap();
        assert_eq!(bare.data, EventData::Other(Value::Null));
        // A known type without data is not Clerk's shape.
        assert_eq!(
            event(json!({"type": "user.deleted"})).unwrap_err(),
            "webhook-invalid-payload"
        );
    }

    #[test]
    fn envelopes() {
        for bad in [
            &b"not json"[..],
            b"[]",
            b"{}",
            br#"{"type": 5}"#,
            br#"{"type": "x", "timestamp": "soon"}"#,
            br#"{"type": "x", "instance_id": 5}"#,
            b"",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.reason(), "webhook-invalid-payload");
        }
        let deep = format!(
            "{{\"type\":\"x\",\"data\":{}{}}}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(parse(deep.as_bytes()).is_err());
    }
}
