//! `Webhook` against deliveries signed by Svix's own Python library (`clerk_dev::webhooks`):
//! every verdict as the fixture expects, the typed events, our `sign` agreeing with Svix's,
//! and events whose JSON Clerk changed (members missing, null, retyped): accepted, the member
//! absent and listed, one warning per event type and member.

use clerk_dev::webhooks::{fixtures, SignedDelivery};
use clerk_verify::webhook::{Event, EventData, LOG_TARGET};
use clerk_verify::{Clock, Webhook};
use log::{Level, LevelFilter, Log, Metadata, Record};
use serde_json::{json, Value};
use std::sync::{Mutex, Once};
use std::time::{Duration, UNIX_EPOCH};

/// Every record logged by this test binary (the logger is global to it).
struct Capture(Mutex<Vec<(Level, String, String)>>);

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        self.0.lock().unwrap().push((
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
        ));
    }
    fn flush(&self) {}
}

static LOG: Capture = Capture(Mutex::new(Vec::new()));

/// The messages logged so far under the webhook target that contain every one of `words`.
fn logged(words: &[&str]) -> Vec<(Level, String)> {
    LOG.0
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, target, m)| target == LOG_TARGET && words.iter().all(|w| m.contains(w)))
        .map(|(level, _, m)| (*level, m.clone()))
        .collect()
}

fn hook() -> Webhook {
    // Before any event is parsed, so that no warning goes unseen.
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&LOG).unwrap();
        log::set_max_level(LevelFilter::Trace);
    });
    let f = fixtures();
    Webhook::new(&f.secret).unwrap().clock(Clock::fixed(
        UNIX_EPOCH + Duration::from_secs(f.signed_at as u64),
    ))
}

fn verify(d: &SignedDelivery) -> Result<clerk_verify::webhook::Delivery, clerk_verify::Error> {
    // Header names as an HTTP server hands them over: compared case-insensitively.
    hook().verify_event(|name| d.header(name), d.body.as_bytes())
}

#[test]
fn every_fixture_gets_its_verdict() {
    let f = fixtures();
    assert!(f.deliveries.len() >= 20);
    for d in &f.deliveries {
        match (verify(d), d.expected_type()) {
            (Ok(delivery), Some(event_type)) => {
                assert_eq!(delivery.event.event_type, event_type, "{}", d.name);
                let id = d.header("svix-id").or(d.header("webhook-id")).unwrap();
                assert_eq!(delivery.id, id, "{}", d.name);
                let mut unread = delivery.event.unread.clone();
                unread.sort_unstable();
                assert_eq!(unread, d.expected_unread(), "{}", d.name);
            }
            (Err(e), None) => {
                assert_eq!(Some(e.reason()), d.expected_reason(), "{}: {e}", d.name);
                assert_eq!(e.category(), clerk_verify::Category::InvalidRequest);
                assert!(!e.to_string().contains(&f.secret[6..]), "{}", d.name);
            }
            (got, _) => panic!("{}: expected {}, got {got:?}", d.name, d.expect),
        }
    }
}

#[test]
fn our_signatures_are_svix_signatures() {
    let f = fixtures();
    let hook = hook();
    let mut checked = 0;
    for d in &f.deliveries {
        let (Some(id), Some(ts), Some(sig)) = (
            d.header("svix-id"),
            d.header("svix-timestamp"),
            d.header("svix-signature"),
        ) else {
            continue;
        };
        let (Ok(ts), false) = (ts.parse::<i64>(), sig.contains(' ')) else {
            continue;
        };
        if d.expected_reason() == Some("webhook-invalid-signature") {
            continue;
        }
        assert_eq!(hook.sign(id, ts, d.body.as_bytes()), sig, "{}", d.name);
        checked += 1;
    }
    assert!(checked >= 12, "{checked}");
}

#[test]
fn typed_events_from_svix_signed_bodies() {
    let f = fixtures();
    let EventData::User(ada) = verify(f.delivery("user-created")).unwrap().event.data else {
        panic!()
    };
    assert_eq!(ada.id, "user_2ada");
    assert_eq!(ada.primary_email(), Some("ada@example.com"));
    assert_eq!(ada.email_addresses.len(), 2);
    assert_eq!(
        (ada.first_name.as_deref(), ada.last_name.as_deref()),
        (Some("Ada"), Some("Lovelace"))
    );
    assert_eq!(
        ada.image_url.as_deref(),
        Some("https://img.clerk.com/ada.png")
    );
    assert_eq!(ada.public_metadata["tier"], "premium");
    assert_eq!(ada.private_metadata["stripe_customer"], "cus_1");
    assert!(ada.unsafe_metadata.is_empty());
    assert_eq!(ada.updated_at, Some(f.signed_at * 1000 - 1000));
    assert!(ada.created_at < ada.updated_at);

    let updated = verify(f.delivery("user-updated")).unwrap();
    assert_eq!(updated.event.timestamp, Some(f.signed_at * 1000));
    assert_eq!(updated.event.instance_id.as_deref(), Some("ins_2fixture"));
    assert_eq!(
        updated.event.raw["event_attributes"]["http_request"]["user_agent"],
        "fixture"
    );
    let EventData::User(augusta) = updated.event.data else {
        panic!()
    };
    assert_eq!(augusta.public_metadata["tier"], "basic");
    let EventData::User(zoe) = verify(f.delivery("unicode-names")).unwrap().event.data else {
        panic!()
    };
    assert_eq!(zoe.last_name.as_deref(), Some("Ōkubo 大久保"));

    let EventData::UserDeleted(gone) = verify(f.delivery("user-deleted")).unwrap().event.data
    else {
        panic!()
    };
    assert_eq!(
        (gone.id.as_deref(), gone.deleted),
        (Some("user_2ada"), Some(true))
    );
    let EventData::Session(session) = verify(f.delivery("session-revoked")).unwrap().event.data
    else {
        panic!()
    };
    assert_eq!(session.user_id.as_deref(), Some("user_2ada"));
    assert_eq!(session.status.as_deref(), Some("revoked"));
    let EventData::Organization(acme) = verify(f.delivery("organization-created"))
        .unwrap()
        .event
        .data
    else {
        panic!()
    };
    assert_eq!(
        (acme.name.as_deref(), acme.slug.as_deref()),
        (Some("Acme"), Some("acme"))
    );
    assert_eq!(acme.members_count, Some(3));
    assert!(matches!(
        verify(f.delivery("organization-deleted"))
            .unwrap()
            .event
            .data,
        EventData::OrganizationDeleted(_)
    ));
    let EventData::Other(email) = verify(f.delivery("email-created")).unwrap().event.data else {
        panic!()
    };
    assert_eq!(email["to_email_address"], "ada@example.com");
}

#[test]
fn the_cap_and_the_tolerance_apply_to_svix_deliveries() {
    let f = fixtures();
    let d = f.delivery("user-created");
    let capped = hook().max_body(d.body.len() - 1);
    let e = capped
        .verify_event(|n| d.header(n), d.body.as_bytes())
        .unwrap_err();
    assert_eq!(e.reason(), "webhook-body-too-large");
    assert!(hook()
        .max_body(d.body.len())
        .verify_event(|n| d.header(n), d.body.as_bytes())
        .is_ok());
    // The stale delivery passes with a wider tolerance; a narrower one refuses the edge case.
    let stale = f.delivery("stale");
    let wide = hook().tolerance(Duration::from_secs(400));
    assert!(wide
        .verify(|n| stale.header(n), stale.body.as_bytes())
        .is_ok());
    let edge = f.delivery("tolerance-edge");
    let narrow = hook().tolerance(Duration::from_secs(299));
    assert_eq!(
        narrow
            .verify(|n| edge.header(n), edge.body.as_bytes())
            .unwrap_err()
            .reason(),
        "webhook-timestamp-too-old"
    );
    // Another endpoint's secret refuses every delivery.
    let other = Webhook::new(&f.other_secret).unwrap().clock(Clock::fixed(
        UNIX_EPOCH + Duration::from_secs(f.signed_at as u64),
    ));
    assert_eq!(
        other
            .verify(|n| d.header(n), d.body.as_bytes())
            .unwrap_err()
            .reason(),
        "webhook-invalid-signature"
    );
}

#[test]
fn the_issues_events_lack_created_at_and_are_accepted() {
    let f = fixtures();
    let d = verify(f.delivery("session-created-without-created-at")).unwrap();
    assert_eq!(d.event.event_type, "session.created");
    let EventData::Session(session) = &d.event.data else {
        panic!("{:?}", d.event.data)
    };
    assert_eq!(session.id, "sess_2fixture");
    assert_eq!(session.created_at, None);
    assert_eq!(session.user_id.as_deref(), Some("user_2ada"));
    assert_eq!(session.updated_at, Some(f.signed_at * 1000 - 5000));
    assert_eq!(d.event.unread, ["data.created_at"]);

    let d = verify(f.delivery("organization-created-without-created-at")).unwrap();
    let EventData::Organization(acme) = &d.event.data else {
        panic!("{:?}", d.event.data)
    };
    assert_eq!(
        (acme.id.as_str(), acme.name.as_deref(), acme.created_at),
        ("org_2acme", Some("Acme"), None)
    );
    assert!(d.event.is_unread("data.created_at"));
}

#[test]
fn changed_events_keep_what_can_be_read_and_the_raw_json() {
    let f = fixtures();
    let event = |name: &str| verify(f.delivery(name)).unwrap().event;

    let e = event("user-created-without-email-addresses");
    let EventData::User(ada) = &e.data else {
        panic!("{:?}", e.data)
    };
    assert!(ada.email_addresses.is_empty());
    assert_eq!(ada.primary_email(), None);
    assert_eq!(ada.primary_email_address_id.as_deref(), Some("idn_primary"));
    assert_eq!(ada.public_metadata["tier"], "premium");

    let e = event("user-updated-without-updated-at");
    let EventData::User(augusta) = &e.data else {
        panic!("{:?}", e.data)
    };
    assert_eq!(
        (augusta.updated_at, augusta.first_name.as_deref()),
        (None, Some("Augusta"))
    );

    let e = event("user-email-entries-damaged");
    let EventData::User(ada) = &e.data else {
        panic!("{:?}", e.data)
    };
    assert_eq!(ada.email_addresses.len(), 1);
    assert_eq!(
        ada.primary_email_address().unwrap().id.as_deref(),
        Some("idn_primary")
    );
    assert_eq!(ada.primary_email(), None);
    assert_eq!(
        e.raw["data"]["email_addresses"][1]["address"],
        "ada@example.com"
    );

    let e = event("session-without-user-id");
    let EventData::Session(s) = &e.data else {
        panic!("{:?}", e.data)
    };
    assert_eq!(
        (
            s.id.as_str(),
            s.user_id.as_deref(),
            s.status.as_deref(),
            s.expire_at
        ),
        ("sess_2fixture", None, None, None)
    );
    assert_eq!(s.client_id.as_deref(), Some("client_2fixture"));

    let e = event("organization-renamed-name");
    let EventData::Organization(o) = &e.data else {
        panic!("{:?}", e.data)
    };
    assert_eq!(
        (o.name.as_deref(), o.members_count, o.updated_at),
        (None, None, None)
    );
    assert_eq!(o.slug.as_deref(), Some("acme"));
    assert_eq!(e.raw["data"]["display_name"], "Acme");

    let e = event("user-deleted-without-deleted");
    assert!(matches!(&e.data, EventData::UserDeleted(d)
        if d.id.as_deref() == Some("user_2ada") && d.deleted.is_none()));

    let e = event("envelope-mistyped");
    assert_eq!((e.timestamp, e.instance_id.as_deref()), (None, None));
    assert!(matches!(&e.data, EventData::Session(s) if s.created_at.is_some()));
    assert_eq!(e.raw["timestamp"], "now");
}

/// How Clerk's types (clerk/javascript `JSON.ts`) declare a member.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// `name: T`: always there, never null.
    Required,
    /// `name: T | null`.
    Nullable,
    /// `name?: T`.
    Optional,
}

use Shape::{Nullable, Optional, Required};

const USER: &[(&str, Shape)] = &[
    ("email_addresses", Required),
    ("primary_email_address_id", Nullable),
    ("username", Nullable),
    ("first_name", Nullable),
    ("last_name", Nullable),
    ("image_url", Required),
    ("public_metadata", Nullable),
    ("private_metadata", Nullable),
    ("unsafe_metadata", Nullable),
    ("external_id", Nullable),
    ("created_at", Required),
    ("updated_at", Required),
];

const SESSION: &[(&str, Shape)] = &[
    ("user_id", Required),
    ("client_id", Required),
    ("status", Required),
    ("last_active_organization_id", Optional),
    ("last_active_at", Required),
    ("expire_at", Required),
    ("abandon_at", Required),
    ("created_at", Required),
    ("updated_at", Required),
];

const ORGANIZATION: &[(&str, Shape)] = &[
    ("name", Required),
    ("slug", Optional),
    ("image_url", Optional),
    ("created_by", Optional),
    ("members_count", Optional),
    ("max_allowed_memberships", Required),
    ("public_metadata", Nullable),
    ("private_metadata", Optional),
    ("created_at", Required),
    ("updated_at", Required),
];

const DELETED: &[(&str, Shape)] = &[
    ("deleted", Required),
    ("slug", Optional),
    ("external_id", Optional),
];

/// Which typed members hold a value (lists and maps: a non-empty one).
fn present(data: &EventData) -> Vec<(&'static str, bool)> {
    match data {
        EventData::User(u) => vec![
            ("email_addresses", !u.email_addresses.is_empty()),
            (
                "primary_email_address_id",
                u.primary_email_address_id.is_some(),
            ),
            ("username", u.username.is_some()),
            ("first_name", u.first_name.is_some()),
            ("last_name", u.last_name.is_some()),
            ("image_url", u.image_url.is_some()),
            ("public_metadata", !u.public_metadata.is_empty()),
            ("private_metadata", !u.private_metadata.is_empty()),
            ("unsafe_metadata", !u.unsafe_metadata.is_empty()),
            ("external_id", u.external_id.is_some()),
            ("created_at", u.created_at.is_some()),
            ("updated_at", u.updated_at.is_some()),
        ],
        EventData::Session(s) => vec![
            ("user_id", s.user_id.is_some()),
            ("client_id", s.client_id.is_some()),
            ("status", s.status.is_some()),
            (
                "last_active_organization_id",
                s.last_active_organization_id.is_some(),
            ),
            ("last_active_at", s.last_active_at.is_some()),
            ("expire_at", s.expire_at.is_some()),
            ("abandon_at", s.abandon_at.is_some()),
            ("created_at", s.created_at.is_some()),
            ("updated_at", s.updated_at.is_some()),
        ],
        EventData::Organization(o) => vec![
            ("name", o.name.is_some()),
            ("slug", o.slug.is_some()),
            ("image_url", o.image_url.is_some()),
            ("created_by", o.created_by.is_some()),
            ("members_count", o.members_count.is_some()),
            (
                "max_allowed_memberships",
                o.max_allowed_memberships.is_some(),
            ),
            ("public_metadata", !o.public_metadata.is_empty()),
            ("private_metadata", !o.private_metadata.is_empty()),
            ("created_at", o.created_at.is_some()),
            ("updated_at", o.updated_at.is_some()),
        ],
        EventData::UserDeleted(d) | EventData::OrganizationDeleted(d) => vec![
            ("deleted", d.deleted.is_some()),
            ("slug", d.slug.is_some()),
            ("external_id", d.external_id.is_some()),
        ],
        other => panic!("not typed: {other:?}"),
    }
}

/// `body` signed as `fixtures().secret` at `signed_at`, then verified.
fn sign_and_verify(body: &str) -> Result<Event, clerk_verify::Error> {
    let f = fixtures();
    let hook = hook();
    let signature = hook.sign("msg_changed", f.signed_at, body.as_bytes());
    let ts = f.signed_at.to_string();
    let header = |name: &str| match name {
        "svix-id" => Some("msg_changed"),
        "svix-timestamp" => Some(ts.as_str()),
        "svix-signature" => Some(signature.as_str()),
        _ => None,
    };
    hook.verify_event(header, body.as_bytes()).map(|d| d.event)
}

#[test]
fn every_typed_member_missing_null_or_retyped() {
    let f = fixtures();
    let mut checked = 0;
    for (fixture, members) in [
        ("user-created", USER),
        ("session-created", SESSION),
        ("organization-created", ORGANIZATION),
        ("user-deleted", DELETED),
        ("organization-deleted", DELETED),
    ] {
        let genuine: Value = serde_json::from_str(&f.delivery(fixture).body).unwrap();
        let baseline = verify(f.delivery(fixture)).unwrap().event;
        assert!(
            baseline.unread.is_empty(),
            "{fixture}: {:?}",
            baseline.unread
        );
        let baseline = present(&baseline.data);
        for &(member, shape) in members {
            let original = genuine["data"].get(member).cloned().unwrap_or(Value::Null);
            let retyped = if original.is_number() {
                json!("12")
            } else {
                json!(42)
            };
            for (change, value, listed) in [
                ("missing", None, shape != Optional),
                ("null", Some(Value::Null), shape == Required),
                ("retyped", Some(retyped), true),
            ] {
                let what = format!("{fixture}: {member} {change}");
                let mut body = genuine.clone();
                let data = body["data"].as_object_mut().unwrap();
                match value {
                    None => drop(data.remove(member)),
                    Some(v) => drop(data.insert(member.to_owned(), v)),
                }
                let event = sign_and_verify(&body.to_string())
                    .unwrap_or_else(|e| panic!("{what}: refused: {e}"));
                let expected: Vec<String> = if listed {
                    vec![format!("data.{member}")]
                } else {
                    Vec::new()
                };
                assert_eq!(event.unread, expected, "{what}");
                // That member is absent; every other one reads as in the genuine event.
                let mut expected = baseline.clone();
                expected
                    .iter_mut()
                    .filter(|(name, _)| *name == member)
                    .for_each(|(_, there)| *there = false);
                assert_eq!(present(&event.data), expected, "{what}");
                assert_eq!(event.raw, body, "{what}");
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        3 * (USER.len() + SESSION.len() + ORGANIZATION.len() + 2 * DELETED.len())
    );
}

#[test]
fn an_unreadable_member_is_logged_once_without_its_value() {
    let f = fixtures();
    let mut body: Value = serde_json::from_str(&f.delivery("organization-created").body).unwrap();
    body["type"] = "organization.updated".into();
    body["data"]["max_allowed_memberships"] = "five-hundred".into();
    for _ in 0..3 {
        let event = sign_and_verify(&body.to_string()).unwrap();
        assert_eq!(event.unread, ["data.max_allowed_memberships"]);
    }
    let lines = logged(&["organization.updated", "data.max_allowed_memberships"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let (level, message) = &lines[0];
    assert_eq!(*level, Level::Warn);
    assert!(message.contains("of another JSON type"), "{message}");
    for value in [
        "five-hundred",
        "Acme",
        "org_2acme",
        "user_2ada",
        &f.secret[6..],
    ] {
        assert!(!message.contains(value), "{message}");
    }
    // The same member of another event type has its own warning, also once.
    body["type"] = "organization.created".into();
    body["data"]
        .as_object_mut()
        .unwrap()
        .remove("max_allowed_memberships");
    for _ in 0..2 {
        sign_and_verify(&body.to_string()).unwrap();
    }
    let lines = logged(&["organization.created", "data.max_allowed_memberships"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        logged(&["organization.updated", "data.max_allowed_memberships"]).len(),
        1
    );
    // A genuine event is read whole: nothing to say.
    for name in ["user-created", "session-created", "organization-created"] {
        assert!(verify(f.delivery(name)).unwrap().event.unread.is_empty());
    }
}
