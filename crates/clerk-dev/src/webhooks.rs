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

use serde_json::Value;
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
    /// `{"valid":true,"type":...}` or `{"valid":false,"reason":...}`.
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
