//! How a refused request is answered: status, JSON body and headers, the same in every adapter.
//!
//! Adapters turn a [`Refusal`] into their framework's response type and add nothing of their
//! own, so actix-web, axum, Rocket and warp cannot drift apart.

use crate::claims::Reverification;
use crate::error::{Category, Error};
use crate::reason;
use crate::request::{Forbidden, Handshake, SignedOut, AUTH_REASON_HEADER, AUTH_STATUS_HEADER};

/// What a client is told when the key source is down: the detail is for operators (logs and
/// `RemoteOptions::on_fetch_error`), not for whoever sent the request.
const UNAVAILABLE_MESSAGE: &str =
    "authentication is temporarily unavailable: the session could not be checked; try again shortly";
/// What a client is told when the verifier is misconfigured.
const MISCONFIGURED_MESSAGE: &str = "authentication is not configured correctly on this server";

/// A refused request, ready to be rendered: the response every Clerk adapter (and `serve`)
/// gives, JSON `{"error": "...", "reason": "<code>", "message": "..."}` with the status, a
/// `WWW-Authenticate` challenge on 401 and 403 (RFC 6750), and Clerk's `x-clerk-auth-status` /
/// `x-clerk-auth-reason` debug headers ([`Refusal::response_headers`] lists them in order).
///
/// | status | `error` | `WWW-Authenticate` | when |
/// |---|---|---|---|
/// | 401 | `unauthorized` | `Bearer`, or `Bearer error="invalid_token"` when a token was sent | no token, or the token was refused (`reason` is Clerk's code) |
/// | 403 | `forbidden` | `Bearer error="insufficient_scope"` | signed in, but a role, permission, organization, feature, plan or reverification requirement failed |
/// | 400 | `bad_request` | none | a webhook delivery that is unsigned, forged, stale, oversized or not a Clerk event (no debug headers); a gateway request whose forwarded headers disagree |
/// | 503 | `service_unavailable` | none | the key source is down (`jwk-remote-failed-to-load`, ...), or the verification task did not complete |
/// | 500 | `internal_server_error` | none | the verifier is misconfigured or missing |
/// | 307 | `redirect` | none | page routes only: Clerk's handshake, or the sign-in page; `Location`, `Cache-Control: no-store` and any `Set-Cookie` |
///
/// The message says what to fix; it never contains the token. For 500 and 503 it is generic:
/// the cause goes to the log ([`Refusal::detail`]). A 403 `reverification-error` also carries
/// Clerk's reverification hint after those three members, as Clerk's
/// `reverificationErrorResponse` sends it: `"clerk_error": {"type": "forbidden", "reason":
/// "reverification-error", "metadata": {"reverification": "strict"}}` (a custom level:
/// `{"level": "second_factor", "afterMinutes": 30}`), which Clerk's frontend
/// (`useReverification()`) answers by asking the user to verify again.
///
/// ```
/// # use clerk_verify::{Verifier, VerifyOptions, Refusal, Authentication};
/// # let v = Verifier::from_jwks(&clerk_dev::fixtures::rsa2048().jwks_json(), VerifyOptions::default())?;
/// let Authentication::SignedOut(out) = v.authenticate_request(Some("Bearer nope"), None) else {
///     unreachable!()
/// };
/// let refusal = Refusal::from_signed_out(&out);
/// assert_eq!(refusal.status(), 401);
/// assert_eq!(refusal.www_authenticate(), Some("Bearer error=\"invalid_token\""));
/// assert!(refusal.json_body().contains("\"reason\":\"token-invalid\""));
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Refusal {
    /// One of the table's statuses; the body's `error` follows from it ([`Refusal::error`]).
    status: u16,
    reason: &'static str,
    /// For the client. (Boxed strings keep a `Refusal`, carried in every adapter's `Err`, small.)
    message: Box<str>,
    /// For the operator's log: equal to `message` except for 500 and 503.
    detail: Box<str>,
    challenge: Option<&'static str>,
    /// `x-clerk-auth-status`, for refusals of session authentication only.
    auth_status: Option<&'static str>,
    /// A redirect's `location`, `cache-control` and `set-cookie` headers.
    headers: Box<[(&'static str, String)]>,
    /// A 403 that asks the user to verify again: Clerk's hint goes in the body.
    reverification: Option<Reverification>,
}

impl Refusal {
    /// 401 for a missing or refused token, 503 when the key source is unavailable, 500 when the
    /// verifier is misconfigured. A 503 or 500 carries a generic [`Refusal::message`]; the
    /// cause (URL, network or TLS detail, variable names) stays in [`Refusal::detail`].
    pub fn from_signed_out(s: &SignedOut) -> Refusal {
        let (status, challenge, message) = if s.keys_unavailable() {
            (503, None, UNAVAILABLE_MESSAGE)
        } else if s.misconfigured() {
            (500, None, MISCONFIGURED_MESSAGE)
        } else if s.token_sent() {
            (401, Some("Bearer error=\"invalid_token\""), s.message())
        } else {
            (401, Some("Bearer"), s.message())
        };
        Refusal {
            status,
            reason: s.reason(),
            message: message.into(),
            detail: s.message().into(),
            challenge,
            auth_status: Some("signed-out"),
            headers: Box::default(),
            reverification: None,
        }
    }

    /// A refused webhook delivery: 400 `bad_request` with the [`Error`]'s reason and message
    /// (unsigned, forged, stale, oversized, not a Clerk event), no `WWW-Authenticate` and no
    /// session debug headers. An error of another category (a bad secret reaching a request)
    /// is a 500 with a generic message, the cause in [`Refusal::detail`].
    ///
    /// ```
    /// use clerk_verify::{Error, Refusal};
    /// let refusal = Refusal::from_webhook(&Error::WebhookInvalidSignature);
    /// assert_eq!(refusal.status(), 400);
    /// assert_eq!(refusal.www_authenticate(), None);
    /// assert!(refusal.json_body().contains("\"reason\":\"webhook-invalid-signature\""));
    /// ```
    pub fn from_webhook(e: &Error) -> Refusal {
        if e.category() != Category::InvalidRequest {
            let mut refusal = Refusal::internal(e.reason(), e.to_string());
            refusal.auth_status = None;
            return refusal;
        }
        let message = e.to_string();
        Refusal {
            status: 400,
            reason: e.reason(),
            detail: message.clone().into(),
            message: message.into(),
            challenge: None,
            auth_status: None,
            headers: Box::default(),
            reverification: None,
        }
    }

    /// 403 for a signed-in user without what the route requires; with Clerk's reverification
    /// hint in the body for [`Forbidden::reverification`].
    pub fn from_forbidden(f: &Forbidden) -> Refusal {
        Refusal {
            status: 403,
            reason: f.reason(),
            message: f.message().into(),
            detail: f.message().into(),
            challenge: Some("Bearer error=\"insufficient_scope\""),
            auth_status: Some("signed-in"),
            headers: Box::default(),
            reverification: f.missing_reverification(),
        }
    }

    /// A request that cannot be judged as sent, outside verification (e.g. a gateway's forwarded
    /// headers that disagree): 400 `bad_request` with your reason code and `message`, for the
    /// client as for the log, so it must not hold a token or a secret. No `WWW-Authenticate`
    /// (no credential would help); the debug headers say signed out, with the reason.
    ///
    /// ```
    /// use clerk_verify::{reason, Refusal};
    /// let refusal = Refusal::bad_request(
    ///     reason::FORWARDED_HEADERS_INVALID,
    ///     "X-Original-Method and X-Forwarded-Method disagree",
    /// );
    /// assert_eq!((refusal.status(), refusal.error()), (400, "bad_request"));
    /// assert_eq!(refusal.www_authenticate(), None);
    /// assert!(refusal.json_body().contains("\"reason\":\"forwarded-headers-invalid\""));
    /// ```
    pub fn bad_request(reason: &'static str, message: impl Into<String>) -> Refusal {
        let message: Box<str> = message.into().into();
        Refusal {
            status: 400,
            reason,
            detail: message.clone(),
            message,
            challenge: None,
            auth_status: Some("signed-out"),
            headers: Box::default(),
            reverification: None,
        }
    }

    /// A server-side failure outside verification (e.g. no verifier configured): 500 with your
    /// reason code. The client sees a generic message; `detail` is for the log.
    pub fn internal(reason: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal {
            status: 500,
            reason,
            message: MISCONFIGURED_MESSAGE.into(),
            detail: detail.into().into(),
            challenge: None,
            auth_status: Some("signed-out"),
            headers: Box::default(),
            reverification: None,
        }
    }

    /// The same refusal, telling the client `message` (instead of a generic 500 message).
    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Refusal {
        self.message = message.into().into_boxed_str();
        self
    }

    /// A page request's handshake ([`crate::Authentication::Handshake`]): a 307 with its
    /// `location`, `cache-control: no-store` and `set-cookie` headers.
    pub fn from_handshake(h: &Handshake) -> Refusal {
        // The client sees where the redirect goes and why, not only that it is one.
        let message = match h.reason() {
            reason::HANDSHAKE_COMPLETE => "the session was refreshed: back to the page",
            reason::SESSION_TOKEN_REFRESHED => {
                "the session was refreshed through Clerk's Backend API: back to the page with \
                 its new cookies"
            }
            reason::HANDSHAKE_INVALID => "a refused handshake cookie is cleared: back to the page",
            reason::SATELLITE_NEEDS_SYNCING => {
                "syncing this satellite's session with the primary domain"
            }
            reason::PRIMARY_RESPONDS_TO_SYNCING => "back to the satellite that asked to sync",
            reason::DEV_BROWSER_SYNC => "the development browser is kept: back to the page",
            reason::DEV_BROWSER_MISSING => {
                "getting a development browser from Clerk's Frontend API"
            }
            reason::ACTIVE_ORGANIZATION_MISMATCH => {
                "activating the organization this URL names through Clerk's Frontend API"
            }
            _ => "refreshing the session through Clerk's Frontend API",
        };
        Refusal {
            status: 307,
            reason: h.reason(),
            message: message.into(),
            detail: message.into(),
            challenge: None,
            auth_status: Some("handshake"),
            headers: h
                .headers()
                .iter()
                .filter(|(name, _)| !name.starts_with("x-clerk-auth-"))
                .cloned()
                .collect(),
            reverification: None,
        }
    }

    /// A signed-out browser on a page that requires sign-in: a 307 to `location` (see
    /// [`crate::Verifier::sign_in_redirect`]), with the signed-out reason in the debug headers.
    pub fn sign_in_redirect(s: &SignedOut, location: String) -> Refusal {
        let message = "sign in to see this page";
        Refusal {
            status: 307,
            reason: s.reason(),
            message: message.into(),
            detail: format!("{message}: {}", s.message()).into(),
            challenge: None,
            auth_status: Some("signed-out"),
            headers: Box::new([
                ("location", location),
                ("cache-control", "no-store".to_owned()),
            ]),
            reverification: None,
        }
    }

    /// HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body's `error` member: `unauthorized`, `forbidden`, `bad_request`,
    /// `service_unavailable`, `internal_server_error`, or `redirect` (307).
    pub fn error(&self) -> &'static str {
        match self.status {
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            503 => "service_unavailable",
            307 => "redirect",
            _ => "internal_server_error",
        }
    }

    /// The stable reason code (body `reason`, header `x-clerk-auth-reason`).
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The human-readable message for the client (body `message`); never contains the token.
    /// Generic for 500 and 503.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The full cause, for logs: the same as [`Refusal::message`] except for 500 and 503,
    /// where it names what failed (never the token or a secret).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The `WWW-Authenticate` value (RFC 6750), if the status calls for one.
    pub fn www_authenticate(&self) -> Option<&'static str> {
        self.challenge
    }

    /// Debug headers to set: `x-clerk-auth-status` for refusals of session authentication,
    /// with `x-clerk-auth-reason` when signed out; none for a webhook delivery.
    pub fn debug_headers(&self) -> Vec<(&'static str, &'static str)> {
        match self.auth_status {
            None => Vec::new(),
            Some(status @ ("signed-out" | "handshake")) => vec![
                (AUTH_STATUS_HEADER, status),
                (AUTH_REASON_HEADER, self.reason),
            ],
            Some(status) => vec![(AUTH_STATUS_HEADER, status)],
        }
    }

    /// Further headers to send, in order (names lower case): a redirect's `location`,
    /// `cache-control` and `set-cookie`s (several `set-cookie`s must each be sent). Empty for
    /// anything but a redirect.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// The verification a 403 `reverification-error` asks for (its hint is in the body).
    pub fn reverification(&self) -> Option<Reverification> {
        self.reverification
    }

    /// `{"error":...,"reason":...,"message":...}`, in that order; for a 403
    /// `reverification-error`, Clerk's `"clerk_error"` hint after them.
    pub fn json_body(&self) -> String {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            error: &'a str,
            reason: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            clerk_error: Option<ClerkError>,
        }
        /// Clerk's `reverificationError(config)`, member for member.
        #[derive(serde::Serialize)]
        struct ClerkError {
            #[serde(rename = "type")]
            kind: &'static str,
            reason: &'static str,
            metadata: Metadata,
        }
        #[derive(serde::Serialize)]
        struct Metadata {
            reverification: Hint,
        }
        /// A preset by its name, a custom level as Clerk's object.
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum Hint {
            Preset(&'static str),
            Custom {
                level: &'static str,
                #[serde(rename = "afterMinutes")]
                after_minutes: u32,
            },
        }
        let clerk_error = self.reverification.map(|r| ClerkError {
            kind: "forbidden",
            reason: crate::reason::REVERIFICATION_ERROR,
            metadata: Metadata {
                reverification: match r.preset() {
                    Some(name) => Hint::Preset(name),
                    None => Hint::Custom {
                        level: r.level().as_str(),
                        after_minutes: r.after_minutes(),
                    },
                },
            },
        });
        let body = Body {
            error: self.error(),
            reason: self.reason,
            message: &self.message,
            clerk_error,
        };
        // Strings and a number cannot fail to serialise.
        serde_json::to_string(&body).unwrap_or_default()
    }

    /// Every header of the response, in order (names lower case), for an adapter to append as
    /// they come: `content-type: application/json`, the `WWW-Authenticate` challenge, the
    /// [`Refusal::debug_headers`] (a custom reason that is no valid header value is left out),
    /// then [`Refusal::headers`] (a redirect's `location`, `cache-control`, each `set-cookie`).
    pub fn response_headers(&self) -> Vec<(&'static str, &str)> {
        let mut all = vec![("content-type", "application/json")];
        if let Some(challenge) = self.challenge {
            all.push(("www-authenticate", challenge));
        }
        all.extend(
            self.debug_headers()
                .into_iter()
                .filter(|(_, value)| is_header_value(value)),
        );
        all.extend(
            self.headers
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        );
        all
    }
}

impl std::fmt::Debug for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A redirect's location and cookies carry session tokens: name the headers only.
        let headers: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Refusal")
            .field("status", &self.status)
            .field("error", &self.error())
            .field("reason", &self.reason)
            .field("message", &self.message)
            .field("detail", &self.detail)
            .field("challenge", &self.challenge)
            .field("auth_status", &self.auth_status)
            .field("headers", &headers)
            .field("reverification", &self.reverification)
            .finish()
    }
}

/// Whether `value` can be sent as a header value: visible ASCII and spaces, not empty.
pub(crate) fn is_header_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

impl std::fmt::Display for Refusal {
    /// `error (reason): detail`, the form adapters log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.error(), self.reason, self.detail)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_a_redirects_cookies() {
        let out = SignedOut::from_error(Error::TokenExpired { exp: 1, now: 2 });
        let r = Refusal::sign_in_redirect(&out, "https://a.example/?t=secret-token".into());
        let shown = format!("{r:?}");
        assert!(!shown.contains("secret-token"), "{shown}");
        assert!(shown.contains("location"), "{shown}");
    }
    use crate::error::Error;
    use crate::reason::MISSING_ROLE;

    #[test]
    fn statuses() {
        let unavailable = SignedOut::from_error(Error::JwkRemoteFailedToLoad(
            "GET https://clerk.example.com/.well-known/jwks.json: TLS error".into(),
        ));
        let r = Refusal::from_signed_out(&unavailable);
        assert_eq!(
            (r.status(), r.error(), r.www_authenticate()),
            (503, "service_unavailable", None)
        );
        // The client gets a generic message; the log gets the cause.
        assert!(
            !r.json_body().contains("clerk.example.com"),
            "{}",
            r.json_body()
        );
        assert!(!r.json_body().contains("TLS"));
        assert!(r.detail().contains("clerk.example.com") && r.to_string().contains("TLS"));
        let config = SignedOut::from_error(Error::SecretKeyInvalid);
        assert_eq!(Refusal::from_signed_out(&config).status(), 500);
        let expired = SignedOut::from_error(Error::TokenExpired { exp: 1, now: 2 });
        let r = Refusal::from_signed_out(&expired);
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.debug_headers()[1],
            ("x-clerk-auth-reason", "token-expired")
        );
        let f = Refusal::from_forbidden(&Forbidden::new(MISSING_ROLE, "needs admin"));
        assert_eq!((f.status(), f.debug_headers().len()), (403, 1));
        let body: serde_json::Value = serde_json::from_str(&f.json_body()).unwrap();
        assert_eq!(body["reason"], "missing-role");
    }

    #[test]
    fn a_reverification_refusal_carries_clerks_hint() {
        let r = Refusal::from_forbidden(&Forbidden::reverification(Reverification::StrictMfa));
        assert_eq!((r.status(), r.reason()), (403, "reverification-error"));
        assert_eq!(r.reverification(), Some(Reverification::StrictMfa));
        let body = r.json_body();
        // Our three members first, then Clerk's, exactly as `reverificationError('strict_mfa')`.
        assert!(
            body.starts_with(r#"{"error":"forbidden","reason":"reverification-error","message":"#),
            "{body}"
        );
        assert!(
            body.ends_with(
                r#","clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict_mfa"}}}"#
            ),
            "{body}"
        );
        let custom = Reverification::Custom {
            level: crate::claims::VerificationLevel::FirstFactor,
            after_minutes: 30,
        };
        let r = Refusal::from_forbidden(&Forbidden::reverification(custom));
        let body: serde_json::Value = serde_json::from_str(&r.json_body()).unwrap();
        assert_eq!(
            body["clerk_error"]["metadata"]["reverification"],
            serde_json::json!({"level": "first_factor", "afterMinutes": 30})
        );
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("first_factor within 30 minutes"));
        // Other refusals carry no hint.
        let plain = Refusal::from_forbidden(&Forbidden::new(MISSING_ROLE, "needs admin"));
        assert!(!plain.json_body().contains("clerk_error"));
        assert_eq!(plain.reverification(), None);
    }

    #[test]
    fn webhooks_are_bad_requests() {
        for e in [
            Error::WebhookMissingHeaders,
            Error::WebhookTimestampTooOld,
            Error::WebhookInvalidSignature,
            Error::WebhookInvalidPayload("the body is not JSON".into()),
            Error::WebhookBodyTooLarge { limit: 10 },
        ] {
            let r = Refusal::from_webhook(&e);
            assert_eq!((r.status(), r.error()), (400, "bad_request"), "{e:?}");
            assert_eq!((r.www_authenticate(), r.debug_headers()), (None, vec![]));
            let body: serde_json::Value = serde_json::from_str(&r.json_body()).unwrap();
            assert_eq!(body["reason"], e.reason());
            assert_eq!(body["message"], e.to_string());
        }
        let r = Refusal::from_webhook(&Error::WebhookInvalidSecret("it is empty".into()));
        assert_eq!((r.status(), r.reason()), (500, "webhook-invalid-secret"));
        assert!(!r.message().contains("empty") && r.detail().contains("empty"));
        assert!(r.debug_headers().is_empty());
    }

    #[test]
    fn bad_requests_say_why_without_a_challenge() {
        let r = Refusal::bad_request(
            crate::reason::FORWARDED_HEADERS_INVALID,
            "X-Forwarded-Uri is repeated",
        );
        assert_eq!(
            (r.status(), r.error(), r.www_authenticate()),
            (400, "bad_request", None)
        );
        assert_eq!(
            (r.message(), r.detail()),
            ("X-Forwarded-Uri is repeated", "X-Forwarded-Uri is repeated")
        );
        assert_eq!(
            r.debug_headers(),
            [
                (AUTH_STATUS_HEADER, "signed-out"),
                (AUTH_REASON_HEADER, "forwarded-headers-invalid")
            ]
        );
        let body: serde_json::Value = serde_json::from_str(&r.json_body()).unwrap();
        assert_eq!(body["error"], "bad_request");
        assert_eq!(body["message"], "X-Forwarded-Uri is repeated");
    }
}
