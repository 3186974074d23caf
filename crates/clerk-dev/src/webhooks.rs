//! Clerk webhook deliveries signed by Svix's own Python library, for the tests of the core, the
//! adapters and the CLI: `fixtures/webhooks/deliveries.json`, written once by
//! `fixtures/webhooks/generate.py` (an implementation independent of ours) and checked in.
//!
//! Every delivery was signed at [`WebhookFixtures::signed_at`]: judge them with a clock fixed
//! there (`Webhook::clock`, or `--now` in the CLI).
//!
//! ```
//! let fixtures = clerk_dev::webhooks::fixtures();
//! let created = fixtures.delivery("user-created");
//! assert_eq!(created.header("svix-id"), Some("msg_fixture00"));
//! assert_eq!(created.expected_type(), Some("user.created"));
//! ```

use crate::client::{chunked, post, HttpReply};
use serde_json::Value;
use std::io;
use std::net::SocketAddr;
use std::sync::OnceLock;

/// The checked-in fixture set.
#[derive(Debug)]
pub struct WebhookFixtures {
    /// The endpoint's signing secret (`whsec_...`): test material only.
    pub secret: String,
    /// Another endpoint's secret, which signed the `other-secret` delivery.
    pub other_secret: String,
    /// When the deliveries were signed, Unix seconds.
    pub signed_at: i64,
    /// Every delivery, in the file's order.
    pub deliveries: Vec<SignedDelivery>,
}

/// One delivery: its headers and raw body, and the verdict a verifier must reach.
#[derive(Debug, Clone)]
pub struct SignedDelivery {
    /// A short name, e.g. `user-created`, `tampered-body`.
    pub name: String,
    /// The headers, names as sent (some mixed case).
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: String,
    /// `{"valid":true,"type":...}` (with `"unread":[...]` when Clerk's JSON has changed) or
    /// `{"valid":false,"reason":...}`.
    pub expect: Value,
}

impl WebhookFixtures {
    /// The delivery called `name`; panics if there is none (a typo in a test).
    pub fn delivery(&self, name: &str) -> &SignedDelivery {
        self.deliveries
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no webhook fixture named {name:?}"))
    }
}

impl SignedDelivery {
    /// A header's value, its name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The event type a verifier must report, or `None` if it must refuse the delivery.
    pub fn expected_type(&self) -> Option<&str> {
        (self.expect["valid"] == true)
            .then(|| self.expect["type"].as_str())
            .flatten()
    }

    /// For a valid delivery, the members the typed view must find unreadable
    /// (`clerk_verify::webhook::Event::unread`), sorted: empty for every genuine Clerk event.
    pub fn expected_unread(&self) -> Vec<&str> {
        let mut unread: Vec<&str> = self.expect["unread"]
            .as_array()
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        unread.sort_unstable();
        unread
    }

    /// The reason code a verifier must refuse it with, or `None` if it is valid.
    pub fn expected_reason(&self) -> Option<&str> {
        self.expect["reason"].as_str()
    }

    /// The delivery as one input line of `clerk-verify webhook`:
    /// `{"headers":{...},"body":"..."}`.
    pub fn json_line(&self) -> String {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), Value::from(v.as_str())))
            .collect();
        serde_json::json!({ "headers": headers, "body": self.body }).to_string()
    }
}

/// The fixture set, parsed once.
pub fn fixtures() -> &'static WebhookFixtures {
    static FIXTURES: OnceLock<WebhookFixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let doc: Value = serde_json::from_str(include_str!("../fixtures/webhooks/deliveries.json"))
            .expect("deliveries.json is JSON");
        let text = |v: &Value| v.as_str().expect("a string").to_owned();
        let deliveries = doc["deliveries"]
            .as_array()
            .expect("a deliveries array")
            .iter()
            .map(|d| SignedDelivery {
                name: text(&d["name"]),
                headers: d["headers"]
                    .as_object()
                    .expect("a headers object")
                    .iter()
                    .map(|(n, v)| (n.clone(), text(v)))
                    .collect(),
                body: text(&d["body"]),
                expect: d["expect"].clone(),
            })
            .collect();
        WebhookFixtures {
            secret: text(&doc["secret"]),
            other_secret: text(&doc["other_secret"]),
            signed_at: doc["signed_at"].as_i64().expect("signed_at"),
            deliveries,
        }
    })
}

/// What every adapter's webhook endpoint must do, checked over HTTP, so the four adapters' tests
/// hold one contract instead of four copies of it.
///
/// `start(max_body)` starts the adapter's app on 127.0.0.1 and returns its address and a guard
/// that stops it when dropped. The app verifies deliveries at `path` with a `Webhook` for
/// [`WebhookFixtures::secret`] whose clock is fixed at [`WebhookFixtures::signed_at`], capped at
/// `max_body` bytes when given (the default cap otherwise), and its handler answers
/// `{"id": <svix-id>, "type": <event type>, "unread": <event.unread>, "subject": ...}` with
/// `subject`
/// `{"user": id, "email": primary email}` for user events,
/// `{"session": id, "user": user id}` for session events,
/// `{"organization": id, "name": name}` for organization events and `{"other": data}` for
/// untyped ones.
///
/// Checks: every fixture's verdict (the type, `svix-id` and unread members handed to the
/// handler, or 400 with the reason), the typed events, events whose JSON Clerk changed (a
/// member missing or retyped: 200, the member `null` in the subject), a body over the cap
/// refused from its `Content-Length` and while reading a chunked one, and the default cap of
/// 1 MiB.
pub fn check_endpoint<G>(path: &str, start: impl Fn(Option<usize>) -> (SocketAddr, G)) {
    let f = fixtures();
    let (addr, served) = start(None);
    for d in &f.deliveries {
        let r = post_delivery(addr, path, d).expect("the endpoint answers");
        match d.expected_type() {
            Some(event_type) => {
                assert_eq!(r.status, 200, "{}: {}", d.name, r.body);
                let v = r.json();
                assert_eq!(v["type"], event_type, "{}", d.name);
                let id = d.header("svix-id").or(d.header("webhook-id"));
                assert_eq!(v["id"].as_str(), id, "{}", d.name);
                let mut unread: Vec<&str> = v["unread"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{}: no unread list: {}", d.name, r.body))
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                unread.sort_unstable();
                assert_eq!(unread, d.expected_unread(), "{}", d.name);
            }
            None => assert_bad_request(&r, d.expected_reason().expect("a reason")),
        }
    }
    let subject = |name: &str| {
        post_delivery(addr, path, f.delivery(name))
            .expect("the endpoint answers")
            .json()["subject"]
            .clone()
    };
    let ada = serde_json::json!({ "user": "user_2ada", "email": "ada@example.com" });
    assert_eq!(subject("user-created"), ada);
    assert_eq!(subject("unicode-names"), ada);
    assert_eq!(
        subject("session-revoked"),
        serde_json::json!({ "session": "sess_2fixture", "user": "user_2ada" })
    );
    assert_eq!(
        subject("organization-created"),
        serde_json::json!({ "organization": "org_2acme", "name": "Acme" })
    );
    assert_eq!(subject("email-created")["other"]["id"], "ema_1");
    // Clerk changed its JSON: accepted, what could not be read is null, the rest is there.
    let session = serde_json::json!({ "session": "sess_2fixture", "user": "user_2ada" });
    assert_eq!(subject("session-created-without-created-at"), session);
    assert_eq!(
        subject("session-without-user-id"),
        serde_json::json!({ "session": "sess_2fixture", "user": null })
    );
    assert_eq!(
        subject("organization-created-without-created-at"),
        serde_json::json!({ "organization": "org_2acme", "name": "Acme" })
    );
    assert_eq!(
        subject("organization-renamed-name"),
        serde_json::json!({ "organization": "org_2acme", "name": null })
    );
    assert_eq!(subject("wrongly-typed-field"), ada);
    let no_email = serde_json::json!({ "user": "user_2ada", "email": null });
    assert_eq!(subject("user-created-without-email-addresses"), no_email);
    assert_eq!(subject("user-email-entries-damaged"), no_email);

    // The default cap is 1 MiB: one byte more is refused, exactly 1 MiB is read and judged.
    let d = f.delivery("user-created");
    let headers: Vec<(&str, &str)> = d
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let r = post(addr, path, &headers, &vec![b' '; 1024 * 1024 + 1]).expect("an answer");
    assert_bad_request(&r, "webhook-body-too-large");
    let r = post(addr, path, &headers, &vec![b' '; 1024 * 1024]).expect("an answer");
    assert_bad_request(&r, "webhook-invalid-signature");
    let mut chunked_headers = headers.clone();
    chunked_headers.push(("Transfer-Encoding", "chunked"));
    let framed = chunked(d.body.as_bytes(), 300);
    let r = post(addr, path, &chunked_headers, &framed).expect("an answer");
    assert_eq!(r.status, 200, "chunked under the cap: {}", r.body);
    drop(served);

    // A smaller cap: refused from the declared length, and while reading a chunked body.
    assert!(d.body.len() > 1024);
    let (addr, served) = start(Some(1024));
    assert_bad_request(
        &post_delivery(addr, path, d).expect("an answer"),
        "webhook-body-too-large",
    );
    let r = post(addr, path, &chunked_headers, &framed).expect("an answer");
    assert_bad_request(&r, "webhook-body-too-large");
    drop(served);
}

/// Asserts the 400 every adapter answers a refused delivery with: JSON
/// `{"error":"bad_request","reason":…,"message":…}`, no challenge, no `x-clerk-auth-*`.
pub fn assert_bad_request(r: &HttpReply, reason: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["error"], "bad_request", "{}", r.body);
    assert_eq!(v["reason"], reason, "{}", r.body);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(r.header("x-clerk-auth-status"), None);
}

/// POSTs a [`SignedDelivery`] (its headers and raw body, `Content-Type: application/json`).
pub fn post_delivery(
    addr: SocketAddr,
    path: &str,
    delivery: &SignedDelivery,
) -> io::Result<HttpReply> {
    let mut headers: Vec<(&str, &str)> = delivery
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    headers.push(("Content-Type", "application/json"));
    post(addr, path, &headers, delivery.body.as_bytes())
}
