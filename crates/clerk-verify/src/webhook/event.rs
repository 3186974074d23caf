//! Clerk's events, typed: what the body of a verified delivery says.
//!
//! The envelope is `{"type": "user.created", "object": "event", "data": {...}, "timestamp":
//! <ms>, "instance_id": "ins_..."}`. The `data` of the types an app acts on is read into a
//! struct ([`User`], [`Session`], [`Organization`], [`Deleted`]); every other type is kept as
//! JSON ([`EventData::Other`]), never refused, so a type Clerk adds tomorrow is acknowledged
//! rather than retried forever.
//!
//! # When Clerk's JSON changes
//!
//! Only what identifies the event is required: a string `type`, and for the typed types a
//! `data` object whose `id` is a non-empty string (for [`Deleted`] objects, whose `id` Clerk's
//! type marks optional, an `id` may be absent but, when present, is a non-empty string).
//! Anything else is [`Error::WebhookInvalidPayload`].
//!
//! Every other member the types here read is read leniently: missing, `null` where Clerk never
//! sends null, of another JSON type, or renamed, it is absent (`None`; an empty list or map for
//! `email_addresses` and metadata) and its path is listed in [`Event::unread`]; a warning names
//! it once per (event type, member) per process under the target [`LOG_TARGET`], without any
//! value. Members we do not know are ignored; [`Event::raw`] keeps the whole JSON.

use super::fields::{Fields, Problem, Shape, OTHER_TYPES};
use crate::error::Error;
use serde_json::{Map, Value};

pub use super::fields::LOG_TARGET;

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
    /// The members the typed view could not read, by path from the envelope
    /// (`"data.created_at"`, `"data.email_addresses[].verification"`, `"timestamp"`): each is
    /// absent from the typed view although Clerk's type says it is there (or of another JSON
    /// type). Empty for every event Clerk sends today. Use it to keep what you stored rather
    /// than overwrite it with "none" ([`Event::is_unread`]).
    pub unread: Vec<&'static str>,
}

impl Event {
    /// Whether the member at `path` (as listed in [`Event::unread`]) could not be read: its
    /// `None` means "unknown", not "none".
    ///
    /// ```
    /// # use clerk_verify::{Clock, Webhook};
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # let hook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?
    /// #     .clock(Clock::fixed(UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
    /// use clerk_verify::webhook::EventData;
    ///
    /// // A session.created whose `data` has no `created_at`: accepted, the member absent.
    /// let body = br#"{"type":"session.created","data":{"id":"sess_1","user_id":"user_1",
    ///     "client_id":"client_1","status":"active","last_active_at":1,"expire_at":2,
    ///     "abandon_at":3,"updated_at":1}}"#;
    /// # let signature = hook.sign("msg_1", 1_700_000_000, body);
    /// # let headers = [("svix-id", "msg_1"), ("svix-timestamp", "1700000000"),
    /// #     ("svix-signature", signature.as_str())];
    /// # let header = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    /// let event = hook.verify_event(header, body)?.event;
    /// let EventData::Session(session) = &event.data else { unreachable!() };
    /// assert_eq!((session.id.as_str(), session.created_at), ("sess_1", None));
    /// assert!(event.is_unread("data.created_at"));
    /// assert_eq!(event.unread, ["data.created_at"]);
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn is_unread(&self, path: &str) -> bool {
        self.unread.contains(&path)
    }
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
/// members an app keeps). Apart from `id`, a member that cannot be read is `None` (or empty)
/// and listed in [`Event::unread`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct User {
    /// The user id, `user_...`: the `sub` of their session tokens.
    pub id: String,
    /// Every email address of the user; see [`User::primary_email`]. Empty when Clerk sent
    /// none, or the list could not be read (`data.email_addresses` is then in
    /// [`Event::unread`]); an entry that is not an object is left out.
    pub email_addresses: Vec<EmailAddress>,
    /// The id (`idn_...`) of the primary entry of `email_addresses`.
    pub primary_email_address_id: Option<String>,
    /// The username, when the instance uses usernames.
    pub username: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Profile image URL.
    pub image_url: Option<String>,
    /// Metadata the backend sets and the frontend can read (e.g. a membership tier); empty
    /// when `null` or unreadable.
    pub public_metadata: Map<String, Value>,
    /// Metadata only the backend sees; empty when `null` or unreadable.
    pub private_metadata: Map<String, Value>,
    /// Metadata the user can change from the frontend: never trust it for access decisions.
    pub unsafe_metadata: Map<String, Value>,
    /// Your own id for the user, if you set one.
    pub external_id: Option<String>,
    /// Creation time, Unix milliseconds.
    pub created_at: Option<i64>,
    /// Last change, Unix milliseconds: compare it before overwriting what you stored, since
    /// deliveries may arrive out of order (and decide what an update without it does).
    pub updated_at: Option<i64>,
}

impl User {
    /// The entry of `email_addresses` whose id is `primary_email_address_id`.
    pub fn primary_email_address(&self) -> Option<&EmailAddress> {
        let primary = self.primary_email_address_id.as_deref()?;
        self.email_addresses
            .iter()
            .find(|e| e.id.as_deref() == Some(primary))
    }

    /// The primary email address, e.g. `"ada@example.com"`.
    pub fn primary_email(&self) -> Option<&str> {
        self.primary_email_address()?.email_address.as_deref()
    }

    fn read(id: String, data: &Map<String, Value>, f: &mut Fields) -> User {
        use Shape::*;
        let email_addresses = match f.array(data, "data.email_addresses", Required) {
            Some(list) => list
                .iter()
                .filter_map(|entry| EmailAddress::read(entry, f))
                .collect(),
            None => Vec::new(),
        };
        User {
            id,
            email_addresses,
            primary_email_address_id: f.string(data, "data.primary_email_address_id", Nullable),
            username: f.string(data, "data.username", Nullable),
            first_name: f.string(data, "data.first_name", Nullable),
            last_name: f.string(data, "data.last_name", Nullable),
            image_url: f.string(data, "data.image_url", Required),
            public_metadata: f.metadata(data, "data.public_metadata", Nullable),
            private_metadata: f.metadata(data, "data.private_metadata", Nullable),
            unsafe_metadata: f.metadata(data, "data.unsafe_metadata", Nullable),
            external_id: f.string(data, "data.external_id", Nullable),
            created_at: f.int(data, "data.created_at", Required),
            updated_at: f.int(data, "data.updated_at", Required),
        }
    }
}

/// One email address of a [`User`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EmailAddress {
    /// The address id, `idn_...`.
    pub id: Option<String>,
    /// The address itself.
    pub email_address: Option<String>,
    /// How it was verified, if it was.
    pub verification: Option<Verification>,
}

impl EmailAddress {
    /// Whether Clerk reports the address as verified.
    pub fn is_verified(&self) -> bool {
        self.verification
            .as_ref()
            .is_some_and(|v| v.status.as_deref() == Some("verified"))
    }

    fn read(entry: &Value, f: &mut Fields) -> Option<EmailAddress> {
        use Shape::*;
        let Some(entry) = entry.as_object() else {
            f.note("data.email_addresses[]", Problem::WrongType);
            return None;
        };
        Some(EmailAddress {
            id: f.string(entry, "data.email_addresses[].id", Required),
            email_address: f.string(entry, "data.email_addresses[].email_address", Required),
            verification: f
                .object(entry, "data.email_addresses[].verification", Nullable)
                .map(|v| Verification {
                    status: f.string(v, "data.email_addresses[].verification.status", Required),
                    strategy: f.string(v, "data.email_addresses[].verification.strategy", Required),
                }),
        })
    }
}

/// The verification state of an [`EmailAddress`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Verification {
    /// `verified`, `unverified`, `expired`, ...
    pub status: Option<String>,
    /// `email_code`, `email_link`, `oauth_google`, ...
    pub strategy: Option<String>,
}

/// A deleted object: the `data` of `user.deleted` and `organization.deleted` (Clerk's
/// `DeletedObjectJSON`: not the object, only what identifies it).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Deleted {
    /// The id of what was deleted. Clerk's type marks it optional: handle its absence. When
    /// present it is a non-empty string (anything else refuses the event).
    pub id: Option<String>,
    /// `Some(true)`; `None` when it could not be read.
    pub deleted: Option<bool>,
    /// An organization's slug.
    pub slug: Option<String>,
    /// A user's `external_id`.
    pub external_id: Option<String>,
}

impl Deleted {
    fn read(id: Option<String>, data: &Map<String, Value>, f: &mut Fields) -> Deleted {
        use Shape::*;
        Deleted {
            id,
            deleted: f.boolean(data, "data.deleted", Required),
            slug: f.string(data, "data.slug", Optional),
            external_id: f.string(data, "data.external_id", Optional),
        }
    }
}

/// A session: the `data` of `session.*` events (Clerk's `SessionJSON`). Apart from `id`, a
/// member that cannot be read is `None` and listed in [`Event::unread`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Session {
    /// The session id, `sess_...`: the `sid` of its tokens.
    pub id: String,
    /// Whose session it is.
    pub user_id: Option<String>,
    /// The client (browser or device) it lives on.
    pub client_id: Option<String>,
    /// `active`, `ended`, `removed`, `revoked`, `pending`, ...
    pub status: Option<String>,
    /// The organization last active in it.
    pub last_active_organization_id: Option<String>,
    /// Last activity, Unix milliseconds.
    pub last_active_at: Option<i64>,
    /// When it expires, Unix milliseconds.
    pub expire_at: Option<i64>,
    /// When it is abandoned if inactive, Unix milliseconds.
    pub abandon_at: Option<i64>,
    /// Creation time, Unix milliseconds.
    pub created_at: Option<i64>,
    /// Last change, Unix milliseconds.
    pub updated_at: Option<i64>,
}

impl Session {
    fn read(id: String, data: &Map<String, Value>, f: &mut Fields) -> Session {
        use Shape::*;
        Session {
            id,
            user_id: f.string(data, "data.user_id", Required),
            client_id: f.string(data, "data.client_id", Required),
            status: f.string(data, "data.status", Required),
            last_active_organization_id: f.string(
                data,
                "data.last_active_organization_id",
                Optional,
            ),
            last_active_at: f.int(data, "data.last_active_at", Required),
            expire_at: f.int(data, "data.expire_at", Required),
            abandon_at: f.int(data, "data.abandon_at", Required),
            created_at: f.int(data, "data.created_at", Required),
            updated_at: f.int(data, "data.updated_at", Required),
        }
    }
}

/// An organization: the `data` of `organization.created` and `organization.updated` (Clerk's
/// `OrganizationJSON`). Apart from `id`, a member that cannot be read is `None` (or empty) and
/// listed in [`Event::unread`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Organization {
    /// The organization id, `org_...`: the `org_id` of its members' tokens.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// URL slug (absent when the instance disables slugs).
    pub slug: Option<String>,
    /// Logo URL.
    pub image_url: Option<String>,
    /// The user who created it.
    pub created_by: Option<String>,
    /// Number of members, when Clerk includes it.
    pub members_count: Option<u64>,
    /// Membership cap (0: unlimited).
    pub max_allowed_memberships: Option<u64>,
    /// Metadata the backend sets and members can read; empty when `null` or unreadable.
    pub public_metadata: Map<String, Value>,
    /// Metadata only the backend sees; empty when absent or unreadable.
    pub private_metadata: Map<String, Value>,
    /// Creation time, Unix milliseconds.
    pub created_at: Option<i64>,
    /// Last change, Unix milliseconds.
    pub updated_at: Option<i64>,
}

impl Organization {
    fn read(id: String, data: &Map<String, Value>, f: &mut Fields) -> Organization {
        use Shape::*;
        Organization {
            id,
            name: f.string(data, "data.name", Required),
            slug: f.string(data, "data.slug", Optional),
            image_url: f.string(data, "data.image_url", Optional),
            created_by: f.string(data, "data.created_by", Optional),
            members_count: f.count(data, "data.members_count", Optional),
            max_allowed_memberships: f.count(data, "data.max_allowed_memberships", Required),
            public_metadata: f.metadata(data, "data.public_metadata", Nullable),
            private_metadata: f.metadata(data, "data.private_metadata", Optional),
            created_at: f.int(data, "data.created_at", Required),
            updated_at: f.int(data, "data.updated_at", Required),
        }
    }
}

/// The typed event types, each with the variant its `data` is read into.
#[derive(Debug, Clone, Copy)]
enum Family {
    User,
    UserDeleted,
    Session,
    Organization,
    OrganizationDeleted,
}

const TYPED: &[(&str, Family)] = &[
    ("user.created", Family::User),
    ("user.updated", Family::User),
    ("user.deleted", Family::UserDeleted),
    ("session.created", Family::Session),
    ("session.ended", Family::Session),
    ("session.removed", Family::Session),
    ("session.revoked", Family::Session),
    ("session.pending", Family::Session),
    ("organization.created", Family::Organization),
    ("organization.updated", Family::Organization),
    ("organization.deleted", Family::OrganizationDeleted),
];

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
    // The type as a `'static` name (for the warnings), with its variant.
    let typed = TYPED.iter().find(|(name, _)| *name == event_type);
    let mut f = Fields::new(typed.map_or(OTHER_TYPES, |(name, _)| name));
    let timestamp = f.int(envelope, "timestamp", Shape::Optional);
    let instance_id = f.string(envelope, "instance_id", Shape::Optional);
    let data = match typed {
        None => EventData::Other(envelope.get("data").cloned().unwrap_or(Value::Null)),
        Some(&(name, family)) => {
            let data = envelope
                .get("data")
                .and_then(Value::as_object)
                .ok_or_else(|| bad_data(name, "is not a JSON object"))?;
            let no_id = || bad_data(name, "has no \"id\" that is a non-empty string");
            let id = match data.get("id") {
                Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
                None | Some(Value::Null) => None,
                Some(_) => return Err(no_id()),
            };
            // Only a deleted object may leave its id out (Clerk's type marks it optional).
            let required = |id: Option<String>| id.ok_or_else(no_id);
            match family {
                Family::User => EventData::User(User::read(required(id)?, data, &mut f)),
                Family::Session => EventData::Session(Session::read(required(id)?, data, &mut f)),
                Family::Organization => {
                    EventData::Organization(Organization::read(required(id)?, data, &mut f))
                }
                Family::UserDeleted => EventData::UserDeleted(Deleted::read(id, data, &mut f)),
                Family::OrganizationDeleted => {
                    EventData::OrganizationDeleted(Deleted::read(id, data, &mut f))
                }
            }
        }
    };
    Ok(Event {
        event_type,
        data,
        timestamp,
        instance_id,
        unread: f.into_unread(),
        raw,
    })
}

/// Refuses an event of a typed type whose `data` cannot identify anything.
fn bad_data(event_type: &'static str, why: &'static str) -> Error {
    Error::WebhookInvalidPayload(format!("the data of a {event_type:?} event {why}").into())
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

    /// A `user.created` with every member Clerk's `UserJSON` has (of those read), `extra` merged.
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
            "username": null,
            "first_name": "Ada",
            "last_name": null,
            "image_url": "https://img.clerk.com/ada.png",
            "public_metadata": {"tier": "premium"},
            "private_metadata": null,
            "unsafe_metadata": {},
            "external_id": null,
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
        assert_eq!(u.updated_at, Some(1700000001000));
        assert!(e.unread.is_empty(), "{:?}", e.unread);
        assert_eq!(e.raw["data"]["two_factor_enabled"], false);

        let no_primary = event(user(json!({"primary_email_address_id": "idn_9"}))).unwrap();
        let EventData::User(u) = no_primary.data else {
            panic!()
        };
        assert_eq!(u.primary_email(), None);
    }

    #[test]
    fn unreadable_members_are_absent_and_listed() {
        for (change, path) in [
            (json!({"first_name": 42}), "data.first_name"),
            (json!({"updated_at": "yesterday"}), "data.updated_at"),
            (json!({"created_at": null}), "data.created_at"),
            (json!({"created_at": 1.5}), "data.created_at"),
            (
                json!({"email_addresses": {"id": "x"}}),
                "data.email_addresses",
            ),
            (json!({"email_addresses": null}), "data.email_addresses"),
            (json!({"public_metadata": ["tier"]}), "data.public_metadata"),
            (
                json!({"primary_email_address_id": ["secret@example.com"]}),
                "data.primary_email_address_id",
            ),
        ] {
            let e = event(user(change.clone())).unwrap();
            assert_eq!(e.unread, [path], "{change}");
            assert!(e.is_unread(path) && !e.is_unread("data.id"));
        }
        let e = event(user(
            json!({"first_name": 42, "public_metadata": "premium"}),
        ))
        .unwrap();
        let EventData::User(u) = &e.data else {
            panic!("{:?}", e.data)
        };
        assert_eq!(
            (u.first_name.as_deref(), u.last_name.as_deref()),
            (None, None)
        );
        assert!(u.public_metadata.is_empty());
        // The rest is read as usual, and the JSON is all there.
        assert_eq!(u.primary_email(), Some("one@example.com"));
        assert_eq!(e.raw["data"]["first_name"], 42);
        // null where Clerk's type allows it is a value, not a problem.
        let e = event(user(json!({"last_name": null, "private_metadata": null}))).unwrap();
        assert!(e.unread.is_empty(), "{:?}", e.unread);

        for gone in ["created_at", "updated_at", "email_addresses", "first_name"] {
            let mut missing = user(json!({}));
            missing["data"].as_object_mut().unwrap().remove(gone);
            let e = event(missing).unwrap();
            assert_eq!(e.unread, [format!("data.{gone}")]);
        }
    }

    #[test]
    fn email_entries_are_read_one_member_at_a_time() {
        let e = event(user(json!({"email_addresses": [
            5,
            {"id": "idn_1", "email": "one@example.com", "verification": "verified"},
            {"id": "idn_2", "email_address": "two@example.com",
             "verification": {"state": "verified", "strategy": 3}},
        ]})))
        .unwrap();
        let EventData::User(u) = &e.data else {
            panic!("{:?}", e.data)
        };
        assert_eq!(u.email_addresses.len(), 2);
        // The primary entry is there, its address is not.
        assert_eq!(
            u.primary_email_address().unwrap().id.as_deref(),
            Some("idn_1")
        );
        assert_eq!(u.primary_email(), None);
        assert!(!u.email_addresses[0].is_verified() && !u.email_addresses[1].is_verified());
        assert_eq!(
            e.unread,
            [
                "data.email_addresses[]",
                "data.email_addresses[].email_address",
                "data.email_addresses[].verification",
                "data.email_addresses[].verification.status",
                "data.email_addresses[].verification.strategy",
            ]
        );
    }

    #[test]
    fn what_identifies_the_event_is_required() {
        for (event_type, data) in [
            ("user.created", json!({"first_name": "Ada"})),
            ("user.updated", json!({"id": null})),
            ("user.updated", json!({"id": ""})),
            ("session.created", json!({"id": 5, "user_id": "user_1"})),
            ("organization.created", json!({"id": ["org_1"]})),
            ("user.deleted", json!({"id": 7, "deleted": true})),
            ("organization.deleted", json!({"id": ""})),
            ("user.created", json!(["user_1"])),
            ("session.ended", json!("sess_1")),
        ] {
            let body = json!({"type": event_type, "data": data}).to_string();
            let e = parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.reason(), "webhook-invalid-payload", "{body}");
            assert!(e.to_string().contains(event_type), "{e}");
        }
        // A deleted object's id is optional in Clerk's type.
        let e = event(json!({"type": "user.deleted", "data": {"deleted": true}})).unwrap();
        assert!(matches!(&e.data, EventData::UserDeleted(d) if d.id.is_none()));
        assert!(e.unread.is_empty());
    }

    #[test]
    fn the_other_types() {
        let deleted = event(json!({"type": "user.deleted", "data": {"id": "user_1", "deleted": true, "object": "user"}})).unwrap();
        assert_eq!(
            deleted.data,
            EventData::UserDeleted(Deleted {
                id: Some("user_1".into()),
                deleted: Some(true),
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
            br#"{"data": {"id": "user_1"}}"#,
            b"",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.reason(), "webhook-invalid-payload");
        }
        // The envelope's other members are read leniently too, for every type.
        for event_type in ["x", "user.deleted"] {
            let body = json!({"type": event_type, "timestamp": "soon", "instance_id": 5,
                              "data": {"id": "user_1", "deleted": true}});
            let e = event(body).unwrap();
            assert_eq!((e.timestamp, e.instance_id), (None, None));
            assert_eq!(e.unread, ["timestamp", "instance_id"]);
        }
        let deep = format!(
            "{{\"type\":\"x\",\"data\":{}{}}}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(parse(deep.as_bytes()).is_err());
    }
}
