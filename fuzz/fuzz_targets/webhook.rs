//! Webhook verification (Svix / Standard Webhooks): arbitrary headers and body must never
//! panic; an acceptance must be backed by a correct HMAC under a fresh timestamp (checked here
//! with ring directly); a delivery signed with `Webhook::sign` must verify; and the typed events
//! of a correctly signed delivery follow the rules: an event is refused
//! (`webhook-invalid-payload`) only when a typed type's `data.id` is not a non-empty string;
//! otherwise it parses into its variant (primary email resolved), every known member that is
//! missing or wrongly typed is absent and listed in `Event::unread`, unknown members are
//! ignored, unknown types are kept as JSON.

#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clerk_verify::webhook::{EventData, WEBHOOK_TOLERANCE};
use clerk_verify::Webhook;
use clerk_verify_fuzz::NOW;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// Svix's published example secret.
const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

#[derive(Arbitrary, Debug)]
enum Name {
    SvixId,
    SvixTimestamp,
    SvixSignature,
    WebhookId,
    WebhookTimestamp,
    WebhookSignature,
    Other(String),
}

impl Name {
    fn as_str(&self) -> &str {
        match self {
            Name::SvixId => "svix-id",
            Name::SvixTimestamp => "svix-timestamp",
            Name::SvixSignature => "svix-signature",
            Name::WebhookId => "webhook-id",
            Name::WebhookTimestamp => "webhook-timestamp",
            Name::WebhookSignature => "webhook-signature",
            Name::Other(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Raw headers, first match wins.
    headers: Vec<(Name, String)>,
    body: Vec<u8>,
    /// Seconds from `NOW` for the delivery this target signs itself.
    ts_offset: i16,
    id: String,
    /// Extra `v1,` / other entries around the good signature.
    before: Vec<String>,
    after: Vec<String>,
    unbranded: bool,
    /// Also try a verifier for an arbitrary secret.
    secret: Option<String>,
    /// A Clerk event built from parts, signed correctly.
    event: EventInput,
}

/// Which event type the built delivery claims.
#[derive(Arbitrary, Debug)]
enum Kind {
    UserCreated,
    UserUpdated,
    UserDeleted,
    SessionCreated,
    SessionRevoked,
    OrganizationCreated,
    OrganizationDeleted,
    Other(String),
}

/// A member's value: well typed or not, or absent.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
enum Field {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    Missing,
}

impl Field {
    fn json(&self) -> Option<Value> {
        match self {
            Field::Str(s) => Some(Value::from(s.as_str())),
            Field::Int(i) => Some(Value::from(*i)),
            Field::Bool(b) => Some(Value::from(*b)),
            Field::Null => Some(Value::Null),
            Field::Missing => None,
        }
    }
    /// Fits a required string member.
    fn is_str(&self) -> bool {
        matches!(self, Field::Str(_))
    }
    /// Fits a `string | null` member.
    fn nullable_str(&self) -> bool {
        matches!(self, Field::Str(_) | Field::Null)
    }
    /// Fits a required integer member.
    fn is_int(&self) -> bool {
        matches!(self, Field::Int(_))
    }
}

#[derive(Arbitrary, Debug)]
struct EventInput {
    kind: Kind,
    id: Field,
    /// `first_name` of a user, `name` of an organization, `user_id` of a session.
    name: Field,
    email: Field,
    primary: bool,
    tier: Field,
    created_at: Field,
    updated_at: Field,
    /// A member no type knows (its name gets a prefix no Clerk member has).
    extra: (String, Field),
    envelope_timestamp: Field,
}

fn hook() -> &'static (Webhook, ring::hmac::Key) {
    static H: OnceLock<(Webhook, ring::hmac::Key)> = OnceLock::new();
    H.get_or_init(|| {
        let raw = STANDARD.decode(&SECRET[6..]).expect("base64 secret");
        (
            Webhook::new(SECRET).expect("valid secret"),
            ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &raw),
        )
    })
}

fuzz_target!(|input: Input| {
    let (hook, key) = hook();
    let now = clerk_verify_fuzz::now();
    let tolerance = WEBHOOK_TOLERANCE.as_secs() as i64;

    // 1. Arbitrary headers.
    let get = |name: &str| {
        input
            .headers
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, v)| v.as_str())
    };
    if hook.verify_at(get, &input.body, now).is_ok() {
        // Some (id, timestamp) among the headers given, and some `v1,` entry, must carry the
        // right HMAC, with the timestamp inside the tolerance.
        let values = |names: [&str; 2]| -> Vec<&str> {
            input
                .headers
                .iter()
                .filter(|(n, _)| names.contains(&n.as_str()))
                .map(|(_, v)| v.trim())
                .collect()
        };
        let ids = values(["svix-id", "webhook-id"]);
        let stamps = values(["svix-timestamp", "webhook-timestamp"]);
        let tags: Vec<Vec<u8>> = values(["svix-signature", "webhook-signature"])
            .iter()
            .flat_map(|v| v.split(' '))
            .filter_map(|e| e.strip_prefix("v1,"))
            .filter_map(|b| STANDARD.decode(b).ok())
            .collect();
        let backed = ids.iter().any(|id| {
            stamps.iter().any(|ts| {
                let fresh = ts
                    .parse::<i64>()
                    .is_ok_and(|t| (t - NOW).abs() <= tolerance);
                let msg = [id.as_bytes(), b".", ts.as_bytes(), b".", &input.body].concat();
                fresh
                    && tags
                        .iter()
                        .any(|t| ring::hmac::verify(key, &msg, t).is_ok())
            })
        });
        assert!(
            backed,
            "accepted a delivery without a valid signature: {input:?}"
        );
    }

    // 2. A delivery we sign ourselves: accepted iff fresh (and the id has no surrounding
    //    whitespace or is empty, which the header lookup trims away).
    let ts = NOW + i64::from(input.ts_offset);
    let good = hook.sign(&input.id, ts, &input.body);
    let expected_tag = ring::hmac::sign(
        key,
        &[
            input.id.as_bytes(),
            b".",
            ts.to_string().as_bytes(),
            b".",
            &input.body,
        ]
        .concat(),
    );
    assert_eq!(
        good,
        format!("v1,{}", STANDARD.encode(expected_tag.as_ref()))
    );
    let mut entries: Vec<&str> = input
        .before
        .iter()
        .take(4)
        .map(String::as_str)
        .filter(|e| !e.contains(' '))
        .collect();
    entries.push(&good);
    entries.extend(
        input
            .after
            .iter()
            .take(4)
            .map(String::as_str)
            .filter(|e| !e.contains(' ')),
    );
    let sig_header = entries.join(" ");
    let ts_text = ts.to_string();
    let prefix = if input.unbranded { "webhook" } else { "svix" };
    let headers = [
        (format!("{prefix}-id"), input.id.as_str()),
        (format!("{prefix}-timestamp"), ts_text.as_str()),
        (format!("{prefix}-signature"), sig_header.as_str()),
    ];
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, v)| *v)
    };
    let result = hook.verify_at(get, &input.body, now);
    let fresh = (ts - NOW).abs() <= tolerance;
    let id_ok = !input.id.is_empty() && input.id.trim() == input.id;
    let sig_ok = sig_header.trim() == sig_header;
    if fresh && id_ok && sig_ok {
        assert!(
            result.is_ok(),
            "a correctly signed delivery was refused: {result:?}"
        );
    }
    if !fresh {
        assert!(result.is_err());
    }

    // 4. Typed events of a correctly signed delivery.
    typed_events(hook, &input.event, now);

    // 3. Arbitrary secrets never panic.
    if let Some(secret) = &input.secret {
        if let Ok(other) = Webhook::new(secret) {
            let _ = other.sign(&input.id, ts, &input.body);
            let _ = other.verify_at(get, &input.body, now);
        }
    }
});

fn typed_events(hook: &Webhook, e: &EventInput, now: std::time::SystemTime) {
    let mut data = Map::new();
    let mut put = |name: &str, field: &Field| {
        if let Some(v) = field.json() {
            data.insert(name.to_owned(), v);
        }
    };
    put("id", &e.id);
    put("created_at", &e.created_at);
    put("updated_at", &e.updated_at);
    put(&format!("x_{}", e.extra.0), &e.extra.1);
    // What the event is, whether it identifies something (the only reason to refuse it), and
    // the `data` members that must be listed as unread.
    let id = matches!(&e.id, Field::Str(s) if !s.is_empty());
    let times = |unread: &mut Vec<&'static str>| {
        if !e.created_at.is_int() {
            unread.push("data.created_at");
        }
        if !e.updated_at.is_int() {
            unread.push("data.updated_at");
        }
    };
    let mut unread: Vec<&'static str> = Vec::new();
    let (event_type, identified) = match &e.kind {
        Kind::UserCreated | Kind::UserUpdated => {
            put("first_name", &e.name);
            if let Some(email) = e.email.json() {
                let entry =
                    json!({ "id": "idn_1", "object": "email_address", "email_address": email });
                data.insert("email_addresses".into(), json!([entry]));
            }
            if e.primary {
                data.insert("primary_email_address_id".into(), "idn_1".into());
            }
            if let Some(tier) = e.tier.json() {
                data.insert("public_metadata".into(), json!({ "tier": tier }));
            }
            let kind = if matches!(e.kind, Kind::UserCreated) {
                "user.created"
            } else {
                "user.updated"
            };
            // Members Clerk always sends that the built data leaves out.
            unread.extend([
                "data.username",
                "data.last_name",
                "data.image_url",
                "data.private_metadata",
                "data.unsafe_metadata",
                "data.external_id",
            ]);
            // first_name is `string | null`.
            if !e.name.nullable_str() {
                unread.push("data.first_name");
            }
            if e.email == Field::Missing {
                unread.push("data.email_addresses");
            } else {
                // The entry has no `verification` (`object | null`, always sent).
                unread.push("data.email_addresses[].verification");
                if !e.email.is_str() {
                    unread.push("data.email_addresses[].email_address");
                }
            }
            if !e.primary {
                unread.push("data.primary_email_address_id");
            }
            if e.tier == Field::Missing {
                unread.push("data.public_metadata");
            }
            times(&mut unread);
            (kind.to_owned(), id)
        }
        Kind::UserDeleted | Kind::OrganizationDeleted => {
            data.insert("deleted".into(), true.into());
            let kind = if matches!(e.kind, Kind::UserDeleted) {
                "user.deleted"
            } else {
                "organization.deleted"
            };
            // created_at / updated_at are not members of a deleted object: ignored. Its id is
            // optional in Clerk's type.
            (
                kind.to_owned(),
                id || matches!(e.id, Field::Null | Field::Missing),
            )
        }
        Kind::SessionCreated | Kind::SessionRevoked => {
            put("user_id", &e.name);
            let kind = if matches!(e.kind, Kind::SessionCreated) {
                "session.created"
            } else {
                "session.revoked"
            };
            if !e.name.is_str() {
                unread.push("data.user_id");
            }
            unread.extend([
                "data.client_id",
                "data.status",
                "data.last_active_at",
                "data.expire_at",
                "data.abandon_at",
            ]);
            times(&mut unread);
            (kind.to_owned(), id)
        }
        Kind::OrganizationCreated => {
            put("name", &e.name);
            if !e.name.is_str() {
                unread.push("data.name");
            }
            unread.extend(["data.max_allowed_memberships", "data.public_metadata"]);
            times(&mut unread);
            ("organization.created".to_owned(), id)
        }
        Kind::Other(t) => (t.clone(), true),
    };
    let mut envelope =
        json!({ "type": event_type, "object": "event", "data": Value::Object(data.clone()) });
    if let Some(ts) = e.envelope_timestamp.json() {
        envelope["timestamp"] = ts;
    }
    // The envelope's timestamp is optional: only another type than an integer is unread.
    let envelope_unread = matches!(e.envelope_timestamp, Field::Str(_) | Field::Bool(_));
    let expected_timestamp = match e.envelope_timestamp {
        Field::Int(i) => Some(i),
        _ => None,
    };
    let body = envelope.to_string();
    let signature = hook.sign("msg_typed", NOW, body.as_bytes());
    let ts = NOW.to_string();
    let get = |name: &str| match name {
        "svix-id" => Some("msg_typed"),
        "svix-timestamp" => Some(ts.as_str()),
        "svix-signature" => Some(signature.as_str()),
        _ => None,
    };
    let result = hook.verify_event_at(get, body.as_bytes(), now);
    let known = [
        "user.created",
        "user.updated",
        "user.deleted",
        "session.created",
        "session.ended",
        "session.removed",
        "session.revoked",
        "session.pending",
        "organization.created",
        "organization.updated",
        "organization.deleted",
    ];
    if let Kind::Other(t) = &e.kind {
        if known.contains(&t.as_str()) {
            return; // the same as a typed kind, with data this arm did not shape
        }
        // Untyped: always accepted, whatever the data and the envelope's timestamp.
        let d = result.unwrap_or_else(|err| panic!("type {t:?} refused: {err:?}"));
        assert_eq!(d.event.event_type, *t);
        assert_eq!(d.event.data, EventData::Other(Value::Object(data)));
        assert_eq!(d.event.timestamp, expected_timestamp);
        assert_eq!(
            d.event.unread,
            envelope_unread.then_some("timestamp").as_slice()
        );
        return;
    }
    match result {
        Ok(d) => {
            assert!(
                identified,
                "accepted an event without an id: {e:?} -> {d:?}"
            );
            assert_eq!(d.id, "msg_typed");
            assert_eq!(d.event.event_type, event_type);
            assert_eq!(d.event.timestamp, expected_timestamp);
            // Exactly the members that could not be read are listed (an unknown one never).
            if envelope_unread {
                unread.push("timestamp");
            }
            let mut listed = d.event.unread.clone();
            listed.sort_unstable();
            unread.sort_unstable();
            assert_eq!(listed, unread, "{e:?}");
            match (&e.kind, &d.event.data) {
                (Kind::UserCreated | Kind::UserUpdated, EventData::User(u)) => {
                    let expected = match (&e.email, e.primary) {
                        (Field::Str(s), true) => Some(s.as_str()),
                        _ => None,
                    };
                    assert_eq!(u.primary_email(), expected);
                    if let Field::Str(id) = &e.id {
                        assert_eq!(&u.id, id);
                    }
                    assert_eq!(u.created_at.is_some(), e.created_at.is_int());
                }
                (Kind::SessionCreated | Kind::SessionRevoked, EventData::Session(s)) => {
                    assert_eq!(s.user_id.is_some(), e.name.is_str());
                    assert_eq!(s.updated_at.is_some(), e.updated_at.is_int());
                }
                (Kind::OrganizationCreated, EventData::Organization(o)) => {
                    assert_eq!(o.name.is_some(), e.name.is_str());
                }
                (Kind::UserDeleted, EventData::UserDeleted(_))
                | (Kind::OrganizationDeleted, EventData::OrganizationDeleted(_)) => {}
                (kind, data) => panic!("{kind:?} parsed as {data:?}"),
            }
        }
        Err(err) => {
            assert!(!identified, "refused an identified event: {e:?} -> {err:?}");
            assert_eq!(err.reason(), "webhook-invalid-payload");
        }
    }
}
