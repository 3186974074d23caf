//! The one error type of the crate, with Clerk's stable reason codes.

use std::borrow::Cow;
use std::fmt;

/// Why a token was refused or a verifier could not be built.
///
/// Branch on [`Error::reason`] (a stable string, Clerk's code where Clerk has one) or on
/// [`Error::category`] (what an HTTP adapter should answer). The `Display` text says what to fix;
/// it never contains the token, a secret, or the list of key ids we hold.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The token is not a well-formed compact JWS, or its header is not acceptable
    /// (`typ`, `crit`, machine-token `cat`, size, duplicate members, bad base64 or JSON).
    /// Reason `token-invalid`.
    TokenInvalid(Cow<'static, str>),
    /// The header's `alg` is not one this verifier accepts for its key.
    /// Reason `token-invalid-algorithm`.
    TokenInvalidAlgorithm {
        /// The `alg` the token named, shortened and escaped for display.
        alg: String,
    },
    /// The signature does not verify under the selected key.
    /// Reason `token-invalid-signature`.
    TokenInvalidSignature,
    /// A claim has the wrong type (`sub` not a string, `exp` not a number, ...) or could not be
    /// decoded. Reason `token-verification-failed`.
    TokenVerificationFailed(Cow<'static, str>),
    /// `exp` is at or before `now - clock_skew`. Reason `token-expired`.
    TokenExpired {
        /// The token's `exp`, Unix seconds.
        exp: i64,
        /// The verifier's clock, Unix seconds.
        now: i64,
    },
    /// `nbf` is after `now + clock_skew`. Reason `token-not-active-yet`.
    TokenNotActiveYet {
        /// The token's `nbf`, Unix seconds.
        nbf: i64,
        /// The verifier's clock, Unix seconds.
        now: i64,
    },
    /// `iat` is after `now + clock_skew`. Reason `token-iat-in-the-future`.
    TokenIatInTheFuture {
        /// The token's `iat`, Unix seconds.
        iat: i64,
        /// The verifier's clock, Unix seconds.
        now: i64,
    },
    /// `azp` is missing or not one of the configured authorized parties.
    /// Reason `token-invalid-authorized-parties`.
    TokenInvalidAuthorizedParties {
        /// The token's `azp`, if it had one (shortened for display).
        azp: Option<String>,
    },
    /// `aud` does not contain any configured audience. Reason `token-invalid-audience`
    /// (ours and Clerk's Python SDK's; Clerk's JS SDK says `token-verification-failed`).
    TokenInvalidAudience,
    /// `iss` is missing or differs from the configured issuer. Reason `token-invalid-issuer` (ours:
    /// Clerk's JS SDK does not check `iss`).
    TokenInvalidIssuer,
    /// Request authentication only: the token's `cat` header names another category than a
    /// session (a JWT template or machine token). Reason `token-type-mismatch` (Clerk's).
    TokenTypeMismatch,
    /// The token's `kid` is missing or not in the key set (after a refetch, for remote keys).
    /// Reason `jwk-kid-mismatch`.
    JwkKidMismatch,
    /// A local key (PEM or JWKS document) was empty. Reason `jwk-local-missing`.
    JwkLocalMissing,
    /// Local key material could not be used: not RSA, too short, `use` not `sig`, malformed PEM.
    /// Reason `jwk-local-invalid` (ours).
    JwkLocalInvalid(Cow<'static, str>),
    /// No key source was configured. Reason `jwk-failed-to-resolve`.
    JwkFailedToResolve,
    /// The remote JWKS could not be loaded: network error, timeout, non-2xx status, oversized
    /// body, or an empty key set. Reason `jwk-remote-failed-to-load`.
    JwkRemoteFailedToLoad(Cow<'static, str>),
    /// The remote answered with something that is not a JWKS document, or none of its keys is
    /// usable. Reason `jwk-remote-invalid`.
    JwkRemoteInvalid(Cow<'static, str>),
    /// Reason `jwk-remote-missing`: defined by Clerk's SDK for a `kid` missing from the remote
    /// JWKS. Like Clerk's current SDK we report that case as [`Error::JwkKidMismatch`]; this
    /// variant is kept so the code stays reserved for the same meaning.
    JwkRemoteMissing,
    /// Clerk's Backend API refused the secret key (401/403). Reason `secret-key-invalid`.
    SecretKeyInvalid,
    /// A webhook delivery lacks the `svix-id`/`svix-timestamp`/`svix-signature` headers (or their
    /// `webhook-*` forms). Reason `webhook-missing-headers`.
    WebhookMissingHeaders,
    /// The webhook timestamp is not whole Unix seconds. Reason `webhook-invalid-timestamp`.
    WebhookInvalidTimestamp,
    /// The webhook timestamp is older than the tolerance (5 minutes by default). Reason
    /// `webhook-timestamp-too-old`.
    WebhookTimestampTooOld,
    /// The webhook timestamp is further ahead than the tolerance (5 minutes by default). Reason
    /// `webhook-timestamp-too-new`.
    WebhookTimestampTooNew,
    /// No `v1` webhook signature matches. Reason `webhook-invalid-signature`.
    WebhookInvalidSignature,
    /// The verified webhook body is not a Clerk event: not a JSON object with a string `type`,
    /// or, for an event type read into a struct, its `data` is not an object whose `id` is a
    /// non-empty string (a deleted object's `id` may be absent); also a body that could not be
    /// read. Any other member is read leniently, never this error
    /// (`webhook::Event::unread`). Reason `webhook-invalid-payload`.
    WebhookInvalidPayload(Cow<'static, str>),
    /// The webhook body is longer than the verifier's cap (`Webhook::max_body`, 1 MiB by
    /// default). Reason `webhook-body-too-large`.
    WebhookBodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The webhook signing secret is missing, or not `whsec_` followed by base64 (a
    /// configuration error, found when the verifier is built). Reason `webhook-invalid-secret`.
    WebhookInvalidSecret(Cow<'static, str>),
    /// The configuration is unusable (an option out of range, a malformed publishable key, an
    /// HS256 secret shorter than 32 bytes, ...). Reason `config-invalid` (ours).
    ConfigInvalid(Cow<'static, str>),
    /// A returning handshake was refused: forged, expired, already used, not a session-category
    /// token, or its nonce was refused by the Backend API. Nothing of it is applied. Reason
    /// `handshake-invalid` (ours).
    HandshakeInvalid(Cow<'static, str>),
    /// The Backend API could not be reached (or failed) to exchange a handshake nonce. Reason
    /// `handshake-failed` (ours); answer 503.
    HandshakeFailed(Cow<'static, str>),
    /// A machine token (API key, M2M or OAuth access token) was refused: it cannot be Clerk's
    /// (its shape), Clerk's Backend API does not know it (404), or it is revoked or expired.
    /// Reason `token-invalid` (Clerk's, as for a 404 from the API).
    MachineTokenInvalid(Cow<'static, str>),
    /// Request authentication: the token is of a kind the route does not accept (a machine
    /// token where sessions are expected, a session token on a machines-only route, an API key
    /// where only M2M tokens are). Reason `token-type-mismatch` (Clerk's).
    TokenKindNotAccepted {
        /// The token's kind, by Clerk's name (`api_key`, `session_token`, ...).
        kind: &'static str,
        /// What the route accepts (`api_key,m2m_token`, `any`, ...).
        accepted: String,
    },
    /// Clerk's Backend API could not judge an opaque machine token: unreachable, slower than
    /// the timeout, a 5xx or 429 answer, an answer that is not a verified token, or this
    /// verifier's bound on calls (in flight, waiting, per second) was reached. Never a
    /// sign-out. Reason `backend-api-unavailable` (ours); answer 503.
    BackendApiUnavailable(Cow<'static, str>),
}

/// What kind of failure an [`Error`] is, for mapping to a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// The request's token is not acceptable: answer 401.
    InvalidToken,
    /// What is needed to decide could not be obtained: the keys (key source down), or Clerk's
    /// Backend API's verdict on an opaque machine token. Answer 503.
    KeysUnavailable,
    /// The verifier is misconfigured: a server-side problem (500), not the caller's fault.
    Configuration,
    /// The request itself is malformed: a webhook delivery that is unsigned, forged, stale,
    /// oversized or not a Clerk event. Answer 400 (Svix retries the delivery).
    InvalidRequest,
}

impl Error {
    /// The stable reason code, e.g. `"token-expired"`. Clerk's code wherever Clerk has one.
    pub fn reason(&self) -> &'static str {
        use crate::reason as r;
        match self {
            Error::TokenInvalid(_) => r::TOKEN_INVALID,
            Error::TokenInvalidAlgorithm { .. } => r::TOKEN_INVALID_ALGORITHM,
            Error::TokenInvalidSignature => r::TOKEN_INVALID_SIGNATURE,
            Error::TokenVerificationFailed(_) => r::TOKEN_VERIFICATION_FAILED,
            Error::TokenExpired { .. } => r::TOKEN_EXPIRED,
            Error::TokenNotActiveYet { .. } => r::TOKEN_NOT_ACTIVE_YET,
            Error::TokenIatInTheFuture { .. } => r::TOKEN_IAT_IN_THE_FUTURE,
            Error::TokenInvalidAuthorizedParties { .. } => r::TOKEN_INVALID_AUTHORIZED_PARTIES,
            Error::TokenInvalidAudience => r::TOKEN_INVALID_AUDIENCE,
            Error::TokenInvalidIssuer => r::TOKEN_INVALID_ISSUER,
            Error::TokenTypeMismatch => r::TOKEN_TYPE_MISMATCH,
            Error::JwkKidMismatch => r::JWK_KID_MISMATCH,
            Error::JwkLocalMissing => r::JWK_LOCAL_MISSING,
            Error::JwkLocalInvalid(_) => r::JWK_LOCAL_INVALID,
            Error::JwkFailedToResolve => r::JWK_FAILED_TO_RESOLVE,
            Error::JwkRemoteFailedToLoad(_) => r::JWK_REMOTE_FAILED_TO_LOAD,
            Error::JwkRemoteInvalid(_) => r::JWK_REMOTE_INVALID,
            Error::JwkRemoteMissing => r::JWK_REMOTE_MISSING,
            Error::SecretKeyInvalid => r::SECRET_KEY_INVALID,
            Error::WebhookMissingHeaders => r::WEBHOOK_MISSING_HEADERS,
            Error::WebhookInvalidTimestamp => r::WEBHOOK_INVALID_TIMESTAMP,
            Error::WebhookTimestampTooOld => r::WEBHOOK_TIMESTAMP_TOO_OLD,
            Error::WebhookTimestampTooNew => r::WEBHOOK_TIMESTAMP_TOO_NEW,
            Error::WebhookInvalidSignature => r::WEBHOOK_INVALID_SIGNATURE,
            Error::WebhookInvalidPayload(_) => r::WEBHOOK_INVALID_PAYLOAD,
            Error::WebhookBodyTooLarge { .. } => r::WEBHOOK_BODY_TOO_LARGE,
            Error::WebhookInvalidSecret(_) => r::WEBHOOK_INVALID_SECRET,
            Error::ConfigInvalid(_) => r::CONFIG_INVALID,
            Error::HandshakeInvalid(_) => r::HANDSHAKE_INVALID,
            Error::HandshakeFailed(_) => r::HANDSHAKE_FAILED,
            Error::MachineTokenInvalid(_) => r::TOKEN_INVALID,
            Error::TokenKindNotAccepted { .. } => r::TOKEN_TYPE_MISMATCH,
            Error::BackendApiUnavailable(_) => r::BACKEND_API_UNAVAILABLE,
        }
    }

    /// Whether the token, the key source or the configuration is at fault.
    pub fn category(&self) -> Category {
        match self {
            Error::JwkRemoteFailedToLoad(_)
            | Error::JwkRemoteInvalid(_)
            | Error::HandshakeFailed(_)
            | Error::BackendApiUnavailable(_) => Category::KeysUnavailable,
            Error::JwkLocalMissing
            | Error::JwkLocalInvalid(_)
            | Error::JwkFailedToResolve
            | Error::SecretKeyInvalid
            | Error::ConfigInvalid(_)
            | Error::WebhookInvalidSecret(_) => Category::Configuration,
            Error::WebhookMissingHeaders
            | Error::WebhookInvalidTimestamp
            | Error::WebhookTimestampTooOld
            | Error::WebhookTimestampTooNew
            | Error::WebhookInvalidSignature
            | Error::WebhookInvalidPayload(_)
            | Error::WebhookBodyTooLarge { .. } => Category::InvalidRequest,
            _ => Category::InvalidToken,
        }
    }

    pub(crate) fn invalid(msg: &'static str) -> Self {
        Error::TokenInvalid(Cow::Borrowed(msg))
    }

    pub(crate) fn failed(msg: &'static str) -> Self {
        Error::TokenVerificationFailed(Cow::Borrowed(msg))
    }

    pub(crate) fn local_key(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::JwkLocalInvalid(msg.into())
    }

    pub(crate) fn config(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::ConfigInvalid(msg.into())
    }

    /// An algorithm name as attacker-supplied text: shortened and escaped so it is safe to log.
    pub(crate) fn bad_alg(alg: &str) -> Self {
        Error::TokenInvalidAlgorithm { alg: shorten(alg) }
    }
}

/// Cuts untrusted text to a loggable size; `Debug` escaping happens at display time.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The message and the reason, so that `fn main() -> Result<(), clerk_verify::Error>` (which
/// prints an error's `Debug`) says what to fix: `Error: no key source configured; set one of …
/// [jwk-failed-to-resolve]`. `{:#?}` gives the same as a struct.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("Error")
                .field("reason", &self.reason())
                .field("message", &self.to_string())
                .finish()
        } else {
            write!(f, "{self} [{}]", self.reason())
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TokenInvalid(why) => write!(
                f,
                "invalid session token: {why}; make sure this is a Clerk session token"
            ),
            Error::TokenInvalidAlgorithm { alg } => write!(
                f,
                "token algorithm {alg:?} is not accepted; Clerk session tokens use RS256 \
                 (allow RS384/RS512 in VerifyOptions::algorithms if your issuer uses them)"
            ),
            Error::TokenInvalidSignature => f.write_str(
                "token signature is invalid: it was not signed by the configured key \
                 (check that CLERK_JWT_KEY / the JWKS belongs to the Clerk instance that issued it)",
            ),
            Error::TokenVerificationFailed(why) => write!(f, "token verification failed: {why}"),
            Error::TokenExpired { exp, now } => write!(
                f,
                "token expired at {exp} (now {now}, Unix seconds); the client must fetch a fresh \
                 session token, or the server clock is wrong"
            ),
            Error::TokenNotActiveYet { nbf, now } => write!(
                f,
                "token is not valid before {nbf} (now {now}, Unix seconds); check the server \
                 clock or raise clock_skew"
            ),
            Error::TokenIatInTheFuture { iat, now } => write!(
                f,
                "token was issued in the future at {iat} (now {now}, Unix seconds); check the \
                 server clock or raise clock_skew"
            ),
            Error::TokenInvalidAuthorizedParties { azp: Some(azp) } => write!(
                f,
                "token authorized party (azp) {azp:?} is not one of the configured authorized \
                 parties; add that origin to authorized_parties if it is yours"
            ),
            Error::TokenInvalidAuthorizedParties { azp: None } => f.write_str(
                "token has no authorized party (azp) but authorized_parties is configured; \
                 set allow_missing_azp if you accept tokens minted without an Origin",
            ),
            Error::TokenInvalidAudience => {
                f.write_str("token audience (aud) does not include any configured audience")
            }
            Error::TokenInvalidIssuer => f.write_str(
                "token issuer (iss) does not match the configured issuer (your Clerk Frontend API URL)",
            ),
            Error::TokenTypeMismatch => f.write_str(
                "this token is not a session token (a machine-to-machine token, an OAuth access \
                 token, or a JWT template by its cat header); send the session token",
            ),
            Error::JwkKidMismatch => f.write_str(
                "no key matches the token's key id (kid); the token was issued by another Clerk \
                 instance, or the JWKS is stale",
            ),
            Error::JwkLocalMissing => f.write_str(
                "the local key is empty; set CLERK_JWT_KEY to the PEM public key from the Clerk \
                 Dashboard (API keys > JWT public key)",
            ),
            Error::JwkLocalInvalid(why) => write!(f, "the local key cannot be used: {why}"),
            Error::JwkFailedToResolve => f.write_str(
                "no key source configured; set one of CLERK_JWT_KEY (the PEM public key, \
                 networkless), CLERK_JWKS_URL, CLERK_SECRET_KEY or CLERK_PUBLISHABLE_KEY, or give \
                 the verifier a JWKS or PEM",
            ),
            Error::JwkRemoteFailedToLoad(why) => {
                write!(f, "failed to load the JWKS from the key source: {why}")
            }
            Error::JwkRemoteInvalid(why) => {
                write!(f, "the key source did not return a usable JWKS: {why}")
            }
            Error::JwkRemoteMissing => f.write_str(
                "no key in the remote JWKS matches the token's key id (kid), even after a refetch",
            ),
            Error::SecretKeyInvalid => f.write_str(
                "Clerk's Backend API refused the secret key; check CLERK_SECRET_KEY (and \
                 CLERK_API_URL) in the Clerk Dashboard, API keys",
            ),
            Error::WebhookMissingHeaders => f.write_str(
                "missing required webhook headers: svix-id, svix-timestamp and svix-signature",
            ),
            Error::WebhookInvalidTimestamp => {
                f.write_str("the webhook timestamp (svix-timestamp) is not whole Unix seconds")
            }
            Error::WebhookTimestampTooOld => f.write_str(
                "the webhook timestamp is older than the tolerance (5 minutes by default): a replay, or \
                 a wrong server clock",
            ),
            Error::WebhookTimestampTooNew => f.write_str(
                "the webhook timestamp is further ahead than the tolerance (5 minutes by default): \
                 check the server clock",
            ),
            Error::WebhookInvalidSignature => f.write_str(
                "no matching webhook signature: verify the raw request body (not re-serialised \
                 JSON) with the endpoint's CLERK_WEBHOOK_SIGNING_SECRET",
            ),
            Error::WebhookInvalidPayload(why) => {
                write!(f, "the webhook body is not a Clerk event: {why}")
            }
            Error::WebhookBodyTooLarge { limit } => write!(
                f,
                "the webhook body is larger than {limit} bytes (raise the verifier's max_body if \
                 your events are that large)"
            ),
            Error::WebhookInvalidSecret(why) => write!(
                f,
                "invalid webhook signing secret: {why}; copy the endpoint's signing secret \
                 (whsec_...) from the Clerk Dashboard into CLERK_WEBHOOK_SIGNING_SECRET"
            ),
            Error::ConfigInvalid(why) => write!(f, "invalid configuration: {why}"),
            Error::HandshakeInvalid(why) => write!(
                f,
                "the handshake was refused and nothing of it applied: {why}; the browser stays \
                 signed out until it signs in again"
            ),
            Error::HandshakeFailed(why) => {
                write!(f, "the handshake nonce could not be exchanged: {why}")
            }
            Error::MachineTokenInvalid(why) => write!(f, "invalid machine token: {why}"),
            Error::TokenKindNotAccepted { kind, accepted } => write!(
                f,
                "a token of kind {kind} is not accepted here (accepted: {accepted}); Clerk's kinds \
                 are session_token, api_key, m2m_token and oauth_token"
            ),
            Error::BackendApiUnavailable(why) => write!(
                f,
                "Clerk's Backend API could not verify the machine token: {why}"
            ),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_says_what_to_fix() {
        // What `fn main() -> Result<(), clerk_verify::Error>` prints after "Error: ".
        let shown = format!("{:?}", Error::JwkFailedToResolve);
        for variable in [
            "CLERK_JWT_KEY",
            "CLERK_JWKS_URL",
            "CLERK_SECRET_KEY",
            "CLERK_PUBLISHABLE_KEY",
        ] {
            assert!(shown.contains(variable), "{shown}");
        }
        assert!(shown.ends_with("[jwk-failed-to-resolve]"), "{shown}");
        let pretty = format!("{:#?}", Error::TokenExpired { exp: 1, now: 2 });
        assert!(pretty.contains("reason: \"token-expired\""), "{pretty}");
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        let s = "é".repeat(100);
        let out = shorten(&s);
        assert!(out.ends_with("..."));
        assert!(out.len() <= 64 + 3);
    }

    #[test]
    fn categories() {
        assert_eq!(
            Error::TokenInvalidSignature.category(),
            Category::InvalidToken
        );
        assert_eq!(
            Error::JwkRemoteFailedToLoad("x".into()).category(),
            Category::KeysUnavailable
        );
        assert_eq!(Error::SecretKeyInvalid.category(), Category::Configuration);
        assert_eq!(
            Error::BackendApiUnavailable("HTTP 502".into()).category(),
            Category::KeysUnavailable
        );
        let mismatch = Error::TokenKindNotAccepted {
            kind: "api_key",
            accepted: "session_token".into(),
        };
        assert_eq!(
            (mismatch.reason(), mismatch.category()),
            ("token-type-mismatch", Category::InvalidToken)
        );
        assert_eq!(
            Error::MachineTokenInvalid("revoked".into()).reason(),
            "token-invalid"
        );
        assert_eq!(
            Error::WebhookInvalidSignature.category(),
            Category::InvalidRequest
        );
        assert_eq!(
            Error::WebhookBodyTooLarge { limit: 1 }.category(),
            Category::InvalidRequest
        );
        assert_eq!(
            Error::WebhookInvalidSecret("empty".into()).category(),
            Category::Configuration
        );
    }
}
