//! Clerk webhooks: Svix / Standard Webhooks signatures (HMAC-SHA256 over `id.timestamp.body`),
//! then the event, typed.
//!
//! - here: [`Webhook`], the signing secret and the rules (body cap, timestamp tolerance,
//!   signature), and [`Delivery`], what a verified request carries;
//! - `event`: [`Event`] and its typed [`EventData`] ([`User`], [`Session`], [`Organization`],
//!   [`Deleted`], or JSON for any other type);
//! - `fields`: how their members are read, so that a member Clerk drops or changes is absent
//!   (and logged once) rather than a refused delivery.
//!
//! Verify the **raw** request body, byte for byte: re-serialised JSON never matches. Every
//! failure is an [`Error`] of [`Category::InvalidRequest`](crate::Category::InvalidRequest),
//! which adapters answer with 400 ([`crate::Refusal::from_webhook`]); Svix then retries.

use crate::crypto::HmacKey;
use crate::error::Error;
use crate::options::{unix_millis, Clock};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::fmt;
use std::time::{Duration, SystemTime};

mod event;
mod fields;

pub use event::{
    Deleted, EmailAddress, Event, EventData, Organization, Session, User, Verification, LOG_TARGET,
};

/// How far a webhook's timestamp may be from now, either way, by default (Svix's 5 minutes).
pub const WEBHOOK_TOLERANCE: Duration = Duration::from_secs(300);

/// The largest body verified by default: 1 MiB (Clerk's events are a few KiB).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Most `v1,` signatures looked at in one header (a few appear while a secret rotates).
const MAX_SIGNATURES: usize = 16;

/// A webhook signing secret and the rules a delivery must meet: at most
/// [`max_body`](Webhook::max_body) bytes, a timestamp within the
/// [`tolerance`](Webhook::tolerance) of the [`clock`](Webhook::clock), and a `v1` signature by
/// the secret.
///
/// ```
/// use clerk_verify::webhook::EventData;
/// use clerk_verify::{Clock, Webhook};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let hook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// # let hook = hook.clock(Clock::fixed(UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
/// let body = br#"{"type":"user.deleted","object":"event","data":{"id":"user_1","deleted":true}}"#;
/// # let signature = hook.sign("msg_1", 1_700_000_000, body);
/// // In a handler, the request's headers and raw body.
/// let headers = [
///     ("svix-id", "msg_1"),
///     ("svix-timestamp", "1700000000"),
///     ("svix-signature", signature.as_str()),
/// ];
/// let header = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
/// let delivery = hook.verify_event(header, body)?;
/// assert_eq!(delivery.id, "msg_1"); // deduplicate on it: Svix may deliver twice
/// match delivery.event.data {
///     EventData::UserDeleted(gone) => assert_eq!(gone.id.as_deref(), Some("user_1")),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone)]
pub struct Webhook {
    key: HmacKey,
    tolerance: Duration,
    max_body: usize,
    clock: Clock,
}

/// A verified delivery: the Svix message id and timestamp, and the event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// `svix-id` (or `webhook-id`): the message id, the same on every retry of one event.
    /// Svix may deliver a message more than once: record it and ignore a repeat.
    pub id: String,
    /// `svix-timestamp`: when this attempt was signed, Unix seconds.
    pub timestamp: i64,
    /// The event the body carries.
    pub event: Event,
}

impl Webhook {
    /// A verifier for `secret`: `whsec_` + standard base64, as the Clerk Dashboard shows it
    /// (the prefix may be left out, as Svix's libraries allow). Anything else is
    /// `webhook-invalid-secret`. Defaults: 5-minute tolerance, 1 MiB body cap, system clock.
    pub fn new(secret: &str) -> Result<Webhook, Error> {
        let secret = secret.trim();
        let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
        let bytes = STANDARD.decode(b64).map_err(|_| {
            Error::WebhookInvalidSecret("it is not whsec_ followed by base64".into())
        })?;
        if bytes.is_empty() {
            return Err(Error::WebhookInvalidSecret("it is empty".into()));
        }
        Ok(Webhook {
            key: HmacKey::new(&bytes),
            tolerance: WEBHOOK_TOLERANCE,
            max_body: DEFAULT_MAX_BODY,
            clock: Clock::system(),
        })
    }

    /// How far the `svix-timestamp` may be from the clock, either way (default 5 minutes).
    pub fn tolerance(mut self, tolerance: Duration) -> Webhook {
        self.tolerance = tolerance;
        self
    }

    /// The largest body accepted, in bytes (default [`DEFAULT_MAX_BODY`], 1 MiB); a longer one
    /// is `webhook-body-too-large`. Adapters stop reading past it.
    pub fn max_body(mut self, bytes: usize) -> Webhook {
        self.max_body = bytes;
        self
    }

    /// The clock timestamps are judged against (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Webhook {
        self.clock = clock;
        self
    }

    /// The body cap, in bytes.
    pub fn max_body_len(&self) -> usize {
        self.max_body
    }

    /// `Err(webhook-body-too-large)` when a body of `len` bytes is over the cap: for adapters,
    /// on the `Content-Length` before reading and on the running total while reading.
    pub fn check_body_len(&self, len: u64) -> Result<(), Error> {
        if len > self.max_body as u64 {
            return Err(Error::WebhookBodyTooLarge {
                limit: self.max_body,
            });
        }
        Ok(())
    }

    /// Verifies a delivery's signature as of the verifier's clock, without parsing the body.
    /// `header` looks up a request header by lower-case name.
    pub fn verify<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Result<(), Error> {
        self.verify_at(header, body, self.clock.now())
    }

    /// Verifies a delivery as of the verifier's clock and parses its [`Event`]: what a webhook
    /// handler calls with the request's headers and raw body.
    pub fn verify_event<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Result<Delivery, Error> {
        self.verify_event_at(header, body, self.clock.now())
    }

    /// [`Webhook::verify_event`] as of `now`.
    pub fn verify_event_at<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery, Error> {
        let (id, timestamp) = self.check(header, body, now)?;
        Ok(Delivery {
            id,
            timestamp,
            event: event::parse(body)?,
        })
    }

    /// Verifies a delivery's signature as of `now`, without parsing the body.
    ///
    /// Checks the body cap, then reads `svix-id`, `svix-timestamp`, `svix-signature` (falling
    /// back to the unbranded `webhook-*` names), checks the timestamp is within the tolerance
    /// of `now` **before** the signature, then accepts if any `v1,` signature matches
    /// (constant-time comparison).
    pub fn verify_at<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), Error> {
        self.check(header, body, now).map(drop)
    }

    /// The checks of [`Webhook::verify_at`]; the message id and timestamp on success.
    fn check<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(String, i64), Error> {
        self.check_body_len(body.len() as u64)?;
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
        let now_secs = unix_millis(now).div_euclid(1000) as i64;
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
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
            Ok((id.to_owned(), ts_secs))
        } else {
            Err(Error::WebhookInvalidSignature)
        }
    }

    /// The `svix-signature` value for a delivery (`v1,<base64>`), for tests and tools that send
    /// webhooks to your endpoint (`clerk-verify dev sign-webhook`).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        let tag = self
            .key
            .sign(&[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
        format!("v1,{}", STANDARD.encode(tag))
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("key", &"<secret>")
            .field("tolerance", &self.tolerance)
            .field("max_body", &self.max_body)
            .field("clock", &self.clock)
            .finish()
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
        for bad in [
            "whsec_",
            "",
            "  ",
            "whsec_not base64!",
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7o",
        ] {
            let e = Webhook::new(bad).unwrap_err();
            assert_eq!(e.reason(), "webhook-invalid-secret", "{bad:?}");
            assert_eq!(e.category(), crate::error::Category::Configuration);
        }
        // Without the prefix, as Svix's libraries accept it.
        assert!(Webhook::new(&SECRET[6..]).is_ok());
        let debug = format!("{:?}", Webhook::new(SECRET).unwrap());
        assert!(
            !debug.contains("C2FV") && debug.contains("<secret>"),
            "{debug}"
        );
    }

    #[test]
    fn body_cap_comes_first() {
        let hook = Webhook::new(SECRET).unwrap().max_body(BODY.len());
        let get = |n: &str| match n {
            "svix-id" => Some(ID),
            "svix-timestamp" => Some("1649367553"),
            "svix-signature" => Some(SIG),
            _ => None,
        };
        assert_eq!(hook.verify_at(get, BODY, at(TS)), Ok(()));
        let hook = hook.max_body(BODY.len() - 1);
        let e = hook.verify_at(get, BODY, at(TS)).unwrap_err();
        assert_eq!(
            e,
            Error::WebhookBodyTooLarge {
                limit: BODY.len() - 1
            }
        );
        assert_eq!(e.reason(), "webhook-body-too-large");
        // Before the headers are even looked at.
        assert_eq!(
            hook.verify_at(|_| None, BODY, at(TS)).unwrap_err().reason(),
            "webhook-body-too-large"
        );
        assert!(hook.check_body_len(BODY.len() as u64 - 1).is_ok());
    }

    #[test]
    fn tolerance_and_clock_are_options() {
        let hook = Webhook::new(SECRET)
            .unwrap()
            .tolerance(Duration::from_secs(10))
            .clock(Clock::fixed(at(TS + 11)));
        let h = std_headers(SIG);
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(
            hook.verify(get, BODY).unwrap_err().reason(),
            "webhook-timestamp-too-old"
        );
        let hook = hook.clock(Clock::fixed(at(TS + 10)));
        assert_eq!(hook.verify(get, BODY), Ok(()));
        // The test vector's body is JSON but no Clerk event.
        assert_eq!(
            hook.verify_event(get, BODY).unwrap_err().reason(),
            "webhook-invalid-payload"
        );
    }

    #[test]
    fn deliveries_carry_the_message_id() {
        let hook = Webhook::new(SECRET).unwrap();
        let body = br#"{"type":"email.created","object":"event","data":{"id":"ema_1"}}"#;
        let sig = hook.sign(ID, TS, body);
        let h = [
            ("webhook-id", format!(" {ID} ")),
            ("webhook-timestamp", TS.to_string()),
            ("webhook-signature", sig),
        ];
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        let d = hook.verify_event_at(get, body, at(TS)).unwrap();
        assert_eq!((d.id.as_str(), d.timestamp), (ID, TS));
        assert_eq!(d.event.event_type, "email.created");
    }
}
