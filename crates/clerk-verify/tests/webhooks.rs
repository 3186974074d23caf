//! `Webhook` against deliveries signed by Svix's own Python library (`clerk_dev::webhooks`):
//! every verdict as the fixture expects, the typed events, and our `sign` agreeing with Svix's.

use clerk_dev::webhooks::{fixtures, SignedDelivery};
use clerk_verify::webhook::EventData;
use clerk_verify::{Clock, Webhook};
use std::time::{Duration, UNIX_EPOCH};

fn hook() -> Webhook {
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
    assert_eq!(ada.updated_at, f.signed_at * 1000 - 1000);
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
        (Some("user_2ada"), true)
    );
    let EventData::Session(session) = verify(f.delivery("session-revoked")).unwrap().event.data
    else {
        panic!()
    };
    assert_eq!(session.user_id, "user_2ada");
    assert_eq!(session.status.as_deref(), Some("revoked"));
    let EventData::Organization(acme) = verify(f.delivery("organization-created"))
        .unwrap()
        .event
        .data
    else {
        panic!()
    };
    assert_eq!(
        (acme.name.as_str(), acme.slug.as_deref()),
        ("Acme", Some("acme"))
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
