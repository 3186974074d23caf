//! How a refused request is answered: status, JSON body and headers, the same in every adapter.
//!
//! Adapters turn a [`Refusal`] into their framework's response type and add nothing of their
//! own, so actix-web, Rocket and warp cannot drift apart.

use crate::request::{Authentication, Forbidden, SignedOut};
use serde_json::json;

/// A refused request, ready to be rendered.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    status: u16,
    error: &'static str,
    reason: &'static str,
    message: String,
    challenge: Option<&'static str>,
    auth_status: &'static str,
}

impl Refusal {
    /// 401 for a missing or refused token, 503 when the key source is unavailable, 500 when the
    /// verifier is misconfigured.
    pub fn from_signed_out(s: &SignedOut) -> Refusal {
        let (status, error, challenge) = if s.keys_unavailable() {
            (503, "service_unavailable", None)
        } else if s.misconfigured() {
            (500, "internal_server_error", None)
        } else if s.token_sent() {
            (401, "unauthorized", Some("Bearer error=\"invalid_token\""))
        } else {
            (401, "unauthorized", Some("Bearer"))
        };
        Refusal {
            status,
            error,
            reason: s.reason(),
            message: s.message().to_owned(),
            challenge,
            auth_status: "signed-out",
        }
    }

    /// 403 for a signed-in user without the required role or permission.
    pub fn from_forbidden(f: &Forbidden) -> Refusal {
        Refusal {
            status: 403,
            error: "forbidden",
            reason: f.reason(),
            message: f.message().to_owned(),
            challenge: Some("Bearer error=\"insufficient_scope\""),
            auth_status: "signed-in",
        }
    }

    /// A server-side failure outside verification (e.g. no verifier configured, a cancelled
    /// task): 500 with your reason code.
    pub fn internal(reason: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status: 500,
            error: "internal_server_error",
            reason,
            message: message.into(),
            challenge: None,
            auth_status: "signed-out",
        }
    }

    /// HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body's `error` member: `unauthorized`, `forbidden`, `service_unavailable` or
    /// `internal_server_error`.
    pub fn error(&self) -> &'static str {
        self.error
    }

    /// The stable reason code (body `reason`, header `x-clerk-auth-reason`).
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The human-readable message (body `message`); never contains the token.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `WWW-Authenticate` value (RFC 6750), if the status calls for one.
    pub fn www_authenticate(&self) -> Option<&'static str> {
        self.challenge
    }

    /// Debug headers to set: `x-clerk-auth-status` always, `x-clerk-auth-reason` for signed-out
    /// refusals.
    pub fn debug_headers(&self) -> Vec<(&'static str, &'static str)> {
        let mut headers = vec![(crate::AUTH_STATUS_HEADER, self.auth_status)];
        if self.auth_status == "signed-out" {
            headers.push((crate::AUTH_REASON_HEADER, self.reason));
        }
        headers
    }

    /// `{"error":...,"reason":...,"message":...}`.
    pub fn json_body(&self) -> String {
        json!({"error": self.error, "reason": self.reason, "message": self.message}).to_string()
    }
}

impl std::fmt::Display for Refusal {
    /// `error (reason): message`, the form adapters log and show.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.error, self.reason, self.message)
    }
}

impl std::error::Error for Refusal {}

impl Authentication {
    /// The debug headers for a response to this request: `x-clerk-auth-status`, and
    /// `x-clerk-auth-reason` when signed out.
    pub fn debug_headers(&self) -> Vec<(&'static str, &'static str)> {
        match self {
            Authentication::SignedIn(_) => vec![(crate::AUTH_STATUS_HEADER, "signed-in")],
            Authentication::SignedOut(s) => vec![
                (crate::AUTH_STATUS_HEADER, "signed-out"),
                (crate::AUTH_REASON_HEADER, s.reason()),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, REASON_MISSING_ROLE};

    #[test]
    fn statuses() {
        let unavailable = SignedOut::from_error(Error::JwkRemoteFailedToLoad("down".into()));
        let r = Refusal::from_signed_out(&unavailable);
        assert_eq!(
            (r.status(), r.error(), r.www_authenticate()),
            (503, "service_unavailable", None)
        );
        let config = SignedOut::from_error(Error::SecretKeyInvalid);
        assert_eq!(Refusal::from_signed_out(&config).status(), 500);
        let expired = SignedOut::from_error(Error::TokenExpired { exp: 1, now: 2 });
        let r = Refusal::from_signed_out(&expired);
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.debug_headers()[1],
            ("x-clerk-auth-reason", "token-expired")
        );
        let f = Refusal::from_forbidden(&Forbidden::new(REASON_MISSING_ROLE, "needs admin"));
        assert_eq!((f.status(), f.debug_headers().len()), (403, 1));
        let body: serde_json::Value = serde_json::from_str(&f.json_body()).unwrap();
        assert_eq!(body["reason"], "missing-role");
    }
}
