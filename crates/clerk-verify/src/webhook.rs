//! Clerk webhooks: Svix / Standard Webhooks signatures (HMAC-SHA256 over `id.timestamp.body`).
//!
//! Verify the **raw** request body, byte for byte: re-serialised JSON never matches.

use crate::crypto::HmacKey;
use crate::error::Error;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use std::fmt;
use std::time::{Duration, SystemTime};

/// `CLERK_WEBHOOK_SIGNING_SECRET`: the `whsec_...` secret from the Clerk Dashboard.
pub const ENV_WEBHOOK_SECRET: &str = "CLERK_WEBHOOK_SIGNING_SECRET";

/// How far a webhook's timestamp may be from now, either way (Svix's 5 minutes).
pub const WEBHOOK_TOLERANCE: Duration = Duration::from_secs(300);

/// Most `v1,` signatures looked at in one header (a few appear while a secret rotates).
const MAX_SIGNATURES: usize = 16;

/// A webhook signing secret, ready to verify deliveries.
///
/// ```
/// use clerk_verify::Webhook;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// // Svix's published test vector.
/// let hook = Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
/// let body = br#"{"email":"test@example.com","username":"test_user"}"#;
/// let headers = [
///     ("svix-id", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"),
///     ("svix-timestamp", "1649367553"),
///     ("svix-signature", "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="),
/// ];
/// let get = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
/// let at = UNIX_EPOCH + Duration::from_secs(1649367553);
/// hook.verify_at(get, body, at)?;
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone)]
pub struct Webhook {
    key: HmacKey,
}

/// A verified Clerk webhook event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event type, e.g. `user.created`.
    pub event_type: String,
    /// The event payload (a user, a session, ...).
    pub data: Value,
    /// The whole envelope as received.
    pub raw: Value,
}

impl Webhook {
    /// A verifier for `secret` (`whsec_` + base64; the prefix is optional).
    pub fn new(secret: &str) -> Result<Webhook, Error> {
        let secret = secret.trim();
        let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| Error::config("the webhook secret is not whsec_ followed by base64"))?;
        if bytes.is_empty() {
            return Err(Error::config("the webhook secret is empty"));
        }
        Ok(Webhook {
            key: HmacKey::new(&bytes),
        })
    }

    /// A verifier for `CLERK_WEBHOOK_SIGNING_SECRET`.
    pub fn from_env() -> Result<Webhook, Error> {
        let secret = std::env::var(ENV_WEBHOOK_SECRET)
            .map_err(|_| Error::config(format!("{ENV_WEBHOOK_SECRET} is not set")))?;
        Webhook::new(&secret)
    }

    /// Verifies a delivery now. `header` looks up a request header by lower-case name.
    pub fn verify<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Result<(), Error> {
        self.verify_at(header, body, SystemTime::now())
    }

    /// Verifies a delivery and parses its envelope.
    pub fn verify_event<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Result<WebhookEvent, Error> {
        self.verify(header, body)?;
        parse_event(body)
    }

    /// Verifies a delivery as of `now`.
    ///
    /// Reads `svix-id`, `svix-timestamp`, `svix-signature` (falling back to the unbranded
    /// `webhook-*` names), checks the timestamp is within 5 minutes of `now` **before** the
    /// signature, then accepts if any `v1,` signature matches (constant-time comparison).
    pub fn verify_at<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), Error> {
        let get = |name: &str| {
            header(&format!("svix-{name}"))
                .or_else(|| header(&format!("webhook-{name}")))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let (Some(id), Some(ts), Some(sigs)) = (get("id"), get("timestamp"), get("signature"))
        else {
            return Err(Error::WebhookMissingHeaders);
        };
        let ts_secs: i64 = ts.parse().map_err(|_| Error::WebhookInvalidTimestamp)?;
        let now_secs = crate::options::unix_millis(now).div_euclid(1000) as i64;
        let tolerance = WEBHOOK_TOLERANCE.as_secs() as i64;
        if ts_secs.saturating_add(tolerance) < now_secs {
            return Err(Error::WebhookTimestampTooOld);
        }
        if ts_secs > now_secs.saturating_add(tolerance) {
            return Err(Error::WebhookTimestampTooNew);
        }
        let mut signed = Vec::with_capacity(id.len() + ts.len() + body.len() + 2);
        signed.extend_from_slice(id.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(ts.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(body);
        let matched = sigs
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .take(MAX_SIGNATURES)
            .filter_map(|b64| STANDARD.decode(b64).ok())
            .any(|tag| self.key.verify(&signed, &tag));
        if matched {
            Ok(())
        } else {
            Err(Error::WebhookInvalidSignature)
        }
    }

    /// The `svix-signature` value for a delivery (`v1,<base64>`), for tests and tools that send
    /// webhooks to your endpoint.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        let tag = self
            .key
            .sign(&[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
        format!("v1,{}", STANDARD.encode(tag))
    }
}

fn parse_event(body: &[u8]) -> Result<WebhookEvent, Error> {
    let raw: Value = serde_json::from_slice(body).map_err(|_| Error::WebhookInvalidPayload)?;
    let event_type = raw
        .get("type")
        .and_then(Value::as_str)
        .ok_or(Error::WebhookInvalidPayload)?
        .to_owned();
    let data = raw.get("data").cloned().unwrap_or(Value::Null);
    Ok(WebhookEvent {
        event_type,
        data,
        raw,
    })
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Webhook { key: <secret> }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TS: i64 = 1649367553;
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    }

    fn check(headers: &[(&str, &str)], body: &[u8], now: i64) -> Result<(), &'static str> {
        let get = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        Webhook::new(SECRET)
            .unwrap()
            .verify_at(get, body, at(now))
            .map_err(|e| e.reason())
    }

    fn std_headers(sig: &str) -> Vec<(&'static str, String)> {
        vec![
            ("svix-id", ID.to_owned()),
            ("svix-timestamp", TS.to_string()),
            ("svix-signature", sig.to_owned()),
        ]
    }

    fn run(h: &[(&'static str, String)], body: &[u8], now: i64) -> Result<(), &'static str> {
        let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        check(&refs, body, now)
    }

    #[test]
    fn svix_test_vector() {
        assert_eq!(Webhook::new(SECRET).unwrap().sign(ID, TS, BODY), SIG);
        assert_eq!(run(&std_headers(SIG), BODY, TS), Ok(()));
    }

    #[test]
    fn any_v1_signature_may_match() {
        let h = std_headers(&format!("v1a,xyz v1,AAAA v1,{}", &SIG[3..]));
        assert_eq!(run(&h, BODY, TS), Ok(()));
        let h = std_headers("v2,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        assert_eq!(run(&h, BODY, TS), Err("webhook-invalid-signature"));
    }

    #[test]
    fn unbranded_headers() {
        let h = [
            ("webhook-id", ID.to_owned()),
            ("webhook-timestamp", TS.to_string()),
            ("webhook-signature", SIG.to_owned()),
        ];
        assert_eq!(run(&h, BODY, TS), Ok(()));
    }

    #[test]
    fn body_must_be_exact() {
        let reserialised = br#"{"email": "test@example.com", "username": "test_user"}"#;
        assert_eq!(
            run(&std_headers(SIG), reserialised, TS),
            Err("webhook-invalid-signature")
        );
    }

    #[test]
    fn timestamp_window_checked_first() {
        let bad_sig = std_headers("v1,AAAA");
        assert_eq!(
            run(&bad_sig, BODY, TS + 301),
            Err("webhook-timestamp-too-old")
        );
        assert_eq!(
            run(&bad_sig, BODY, TS - 301),
            Err("webhook-timestamp-too-new")
        );
        assert_eq!(run(&std_headers(SIG), BODY, TS + 300), Ok(()));
        assert_eq!(run(&std_headers(SIG), BODY, TS - 300), Ok(()));
        let mut h = std_headers(SIG);
        h[1].1 = "1649367553.5".into();
        assert_eq!(run(&h, BODY, TS), Err("webhook-invalid-timestamp"));
    }

    #[test]
    fn missing_headers_and_bad_secrets() {
        assert_eq!(check(&[], BODY, TS), Err("webhook-missing-headers"));
        assert!(Webhook::new("whsec_").is_err());
        assert!(Webhook::new("whsec_not base64!").is_err());
        assert!(!format!("{:?}", Webhook::new(SECRET).unwrap()).contains("C2FV"));
    }

    #[test]
    fn events_parse() {
        let body = br#"{"type":"user.created","object":"event","data":{"id":"user_1"}}"#;
        let e = parse_event(body).unwrap();
        assert_eq!(e.event_type, "user.created");
        assert_eq!(e.data["id"], "user_1");
        assert!(parse_event(b"[]").is_err());
    }
}
