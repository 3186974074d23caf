//! Webhook verification (Svix / Standard Webhooks): arbitrary headers and body must never
//! panic; an acceptance must be backed by a correct HMAC under a fresh timestamp (checked here
//! with ring directly); and a delivery signed with `Webhook::sign` must verify.

#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clerk_verify::{Webhook, webhook::WEBHOOK_TOLERANCE};
use clerk_verify_fuzz::NOW;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
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

    // 3. Arbitrary secrets never panic.
    if let Some(secret) = &input.secret {
        if let Ok(other) = Webhook::new(secret) {
            let _ = other.sign(&input.id, ts, &input.body);
            let _ = other.verify_at(get, &input.body, now);
        }
    }
});
