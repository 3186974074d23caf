//! Every reason code this project answers with, in one place.
//!
//! A reason is the stable, machine-readable half of a refusal: [`crate::Error::reason`], the
//! `reason` member of a refused request's JSON body and the `x-clerk-auth-reason` header. Clerk's
//! own codes keep Clerk's spelling; the ones marked *ours* exist only here. Every adapter, the
//! CLI and the README's table use these constants, and a test checks that the table lists each
//! code in [`ALL`].
//!
//! ```
//! use clerk_verify::reason;
//! # let verifier = clerk_verify::Verifier::from_jwks(
//! #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default())?;
//! let e = verifier.verify("not a token").unwrap_err();
//! assert_eq!(e.reason(), reason::TOKEN_INVALID);
//! # Ok::<(), clerk_verify::Error>(())
//! ```

// Token refused (401).

/// Not a well-formed compact JWS, or an unacceptable header (Clerk's).
pub const TOKEN_INVALID: &str = "token-invalid";
/// The `alg` is not one the verifier accepts for its key (Clerk's).
pub const TOKEN_INVALID_ALGORITHM: &str = "token-invalid-algorithm";
/// The signature does not verify (Clerk's).
pub const TOKEN_INVALID_SIGNATURE: &str = "token-invalid-signature";
/// A claim has the wrong type (Clerk's).
pub const TOKEN_VERIFICATION_FAILED: &str = "token-verification-failed";
/// `exp` has passed (Clerk's).
pub const TOKEN_EXPIRED: &str = "token-expired";
/// `nbf` is in the future (Clerk's).
pub const TOKEN_NOT_ACTIVE_YET: &str = "token-not-active-yet";
/// `iat` is in the future (Clerk's).
pub const TOKEN_IAT_IN_THE_FUTURE: &str = "token-iat-in-the-future";
/// `azp` is missing or not an authorized party (Clerk's).
pub const TOKEN_INVALID_AUTHORIZED_PARTIES: &str = "token-invalid-authorized-parties";
/// `aud` has no configured audience (Clerk's Python SDK; ours in Rust).
pub const TOKEN_INVALID_AUDIENCE: &str = "token-invalid-audience";
/// `iss` differs from the configured issuer (ours).
pub const TOKEN_INVALID_ISSUER: &str = "token-invalid-issuer";
/// No key with the token's `kid` (Clerk's).
pub const JWK_KID_MISMATCH: &str = "jwk-kid-mismatch";

// Request authentication: signed out (401).

/// The request carries no session token (Clerk's).
pub const SESSION_TOKEN_AND_UAT_MISSING: &str = "session-token-and-uat-missing";
/// A `__session` cookie without a signed-in `__client_uat` cookie (Clerk's).
pub const SESSION_TOKEN_BUT_NO_CLIENT_UAT: &str = "session-token-but-no-client-uat";
/// A signed-in `__client_uat` cookie without a `__session` cookie (Clerk's).
pub const CLIENT_UAT_BUT_NO_SESSION_TOKEN: &str = "client-uat-but-no-session-token";
/// The cookie token was issued before the client last changed (`iat < __client_uat`) (Clerk's).
pub const SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT: &str = "session-token-iat-before-client-uat";
/// The token's `cat` header names another category than a session (Clerk's).
pub const TOKEN_TYPE_MISMATCH: &str = "token-type-mismatch";
/// The session is `pending` and pending sessions are not accepted (ours).
pub const SESSION_PENDING: &str = "session-pending";
/// The route accepts only machine tokens and the request has no `Authorization` token
/// (machine tokens are never read from cookies) (ours).
pub const MACHINE_TOKEN_MISSING: &str = "machine-token-missing";

// Page requests only (`Verifier::authenticate_page`): a handshake through Clerk's Frontend API
// (307), or signed out when the request is not a document navigation.

/// The cookie token has expired and was not refreshed: there is no `__refresh` cookie (Clerk's
/// `session-token-expired-refresh-non-eligible-no-refresh-cookie`).
pub const SESSION_TOKEN_EXPIRED_REFRESH_NO_COOKIE: &str =
    "session-token-expired-refresh-non-eligible-no-refresh-cookie";
/// The cookie token has expired; a `__refresh` cookie came with it, but no secret key is
/// configured to refresh it through the Backend API, so the handshake refreshes it (Clerk's
/// code for a refresh without an API client).
pub const SESSION_TOKEN_EXPIRED_REFRESH_MISSING_API_CLIENT: &str =
    "session-token-expired-refresh-missing-api-client";
/// The cookie token has expired and the refresh through the Backend API failed for an answer
/// that is not a session: a refusal (4xx), or a body we cannot read (Clerk's).
pub const SESSION_TOKEN_EXPIRED_REFRESH_UNEXPECTED_BAPI_ERROR: &str =
    "session-token-expired-refresh-unexpected-bapi-error";
/// The cookie token has expired and the Backend API could not be reached to refresh it
/// (timeout, connection, 5xx) (Clerk's).
pub const SESSION_TOKEN_EXPIRED_REFRESH_FETCH_ERROR: &str =
    "session-token-expired-refresh-fetch-error";
/// The cookie token has expired; the Backend API refreshed it, but the new token does not
/// verify here (Clerk's).
pub const SESSION_TOKEN_EXPIRED_REFRESH_INVALID_SESSION_TOKEN: &str =
    "session-token-expired-refresh-invalid-session-token";
/// The cookie token has expired and has no `sid` to refresh (Clerk's).
pub const SESSION_TOKEN_EXPIRED_REFRESH_MISSING_SID: &str =
    "session-token-expired-refresh-expired-session-token-missing-sid-claim";
/// The cookie token has expired; refreshing it would pass the verifier's
/// `max_session_refreshes_per_second` (ours).
pub const SESSION_TOKEN_EXPIRED_REFRESH_RATE_LIMITED: &str =
    "session-token-expired-refresh-rate-limited";
/// The session was refreshed through the Backend API: back to the same page (307) setting the
/// new cookies, for a caller that cannot add them to its own response (ours).
pub const SESSION_TOKEN_REFRESHED: &str = "session-token-refreshed";
/// The cookie token's `nbf` is in the future (Clerk's).
pub const SESSION_TOKEN_NBF: &str = "session-token-nbf";
/// The cookie token's `iat` is in the future (Clerk's).
pub const SESSION_TOKEN_IAT_IN_THE_FUTURE: &str = "session-token-iat-in-the-future";
/// The handshake's result was applied: back to the page with the refreshed cookies (ours).
pub const HANDSHAKE_COMPLETE: &str = "handshake-complete";
/// A returning handshake was refused: forged, expired, replayed or not for this instance (ours).
pub const HANDSHAKE_INVALID: &str = "handshake-invalid";
/// The Backend API could not exchange the handshake nonce (ours; 503).
pub const HANDSHAKE_FAILED: &str = "handshake-failed";
/// A satellite's first visit (or its return from the primary's sign-in page): it syncs its
/// session from the primary domain (Clerk's).
pub const SATELLITE_NEEDS_SYNCING: &str = "satellite-needs-syncing";
/// A development primary answers a satellite's sync request: back to the satellite with its
/// dev browser token (Clerk's).
pub const PRIMARY_RESPONDS_TO_SYNCING: &str = "primary-responds-to-syncing";
/// A navigation from another site to the primary domain with a valid session: a handshake
/// picks up a session changed elsewhere (Clerk's).
pub const PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC: &str = "primary-domain-cross-origin-sync";
/// A development instance's navigation without a dev browser cookie (Clerk's).
pub const DEV_BROWSER_MISSING: &str = "dev-browser-missing";
/// A development instance's navigation with a dev browser token in the query (Clerk's).
pub const DEV_BROWSER_SYNC: &str = "dev-browser-sync";
/// The page's path names another organization than the session's active one (Clerk's).
pub const ACTIVE_ORGANIZATION_MISMATCH: &str = "active-organization-mismatch";
/// Clerk's Backend API could not verify an opaque machine token: unreachable, too slow, 5xx or
/// 429, an unexpected answer, or the verifier's bound on calls reached (ours; 503).
pub const BACKEND_API_UNAVAILABLE: &str = "backend-api-unavailable";

// Signed in, but not allowed (403).

/// The active organization role is not the required one (ours).
pub const MISSING_ROLE: &str = "missing-role";
/// The active organization lacks the required permission (ours).
pub const MISSING_PERMISSION: &str = "missing-permission";
/// No organization is active, but the route requires one (ours).
pub const MISSING_ORGANIZATION: &str = "missing-organization";
/// The session's `fea` claim lacks the required feature (ours).
pub const MISSING_FEATURE: &str = "missing-feature";
/// The session's `pla` claim lacks the required plan (ours).
pub const MISSING_PLAN: &str = "missing-plan";
/// The session's factors were not verified recently enough (`fva`): the body carries Clerk's
/// reverification hint (Clerk's `reverificationError` reason).
pub const REVERIFICATION_ERROR: &str = "reverification-error";
/// The machine token lacks a scope the route requires (ours).
pub const MISSING_SCOPE: &str = "missing-scope";

// Keys unavailable (503).

/// The remote JWKS could not be loaded (Clerk's).
pub const JWK_REMOTE_FAILED_TO_LOAD: &str = "jwk-remote-failed-to-load";
/// The remote answered something that is not a usable JWKS, or refused the key the token
/// names (Clerk's).
pub const JWK_REMOTE_INVALID: &str = "jwk-remote-invalid";
/// Reserved with Clerk's meaning (a `kid` missing from the remote JWKS); never produced: like
/// Clerk's current SDK we answer [`JWK_KID_MISMATCH`] (Clerk's).
pub const JWK_REMOTE_MISSING: &str = "jwk-remote-missing";

// Server misconfigured (500).

/// The local key is empty (Clerk's).
pub const JWK_LOCAL_MISSING: &str = "jwk-local-missing";
/// The local key cannot be used, or refuses the key the token names (ours).
pub const JWK_LOCAL_INVALID: &str = "jwk-local-invalid";
/// No key source is configured (Clerk's).
pub const JWK_FAILED_TO_RESOLVE: &str = "jwk-failed-to-resolve";
/// Clerk's Backend API refused the secret key (Clerk's).
pub const SECRET_KEY_INVALID: &str = "secret-key-invalid";
/// Contradictory or out-of-range configuration (ours).
pub const CONFIG_INVALID: &str = "config-invalid";
/// An adapter found no [`crate::Verifier`] (or, on a webhook route, no [`crate::Webhook`]) where
/// the app should have put it (ours).
pub const VERIFIER_MISSING: &str = "verifier-missing";
/// An adapter met an authentication state it does not know, e.g. from a newer clerk-verify
/// (ours). Never a signed-in user.
pub const INTERNAL_ERROR: &str = "internal-error";

// A gateway's forwarded request (400).

/// `clerk-verify serve` cannot tell which request it is asked about: a header that carries the
/// forwarded request's method, URI, host or scheme is missing (for the proxy named), repeated,
/// malformed, or disagrees with another one (ours).
pub const FORWARDED_HEADERS_INVALID: &str = "forwarded-headers-invalid";

// Webhooks (400).

/// A delivery lacks the `svix-*` (or `webhook-*`) headers (ours).
pub const WEBHOOK_MISSING_HEADERS: &str = "webhook-missing-headers";
/// The webhook timestamp is not whole Unix seconds (ours).
pub const WEBHOOK_INVALID_TIMESTAMP: &str = "webhook-invalid-timestamp";
/// The webhook timestamp is more than the tolerance old (ours).
pub const WEBHOOK_TIMESTAMP_TOO_OLD: &str = "webhook-timestamp-too-old";
/// The webhook timestamp is more than the tolerance ahead (ours).
pub const WEBHOOK_TIMESTAMP_TOO_NEW: &str = "webhook-timestamp-too-new";
/// No `v1` webhook signature matches (ours).
pub const WEBHOOK_INVALID_SIGNATURE: &str = "webhook-invalid-signature";
/// The verified body is not a Clerk event: no string `type`, or for a typed event type no
/// `data` object with a non-empty string `id` (ours). Other members never refuse an event.
pub const WEBHOOK_INVALID_PAYLOAD: &str = "webhook-invalid-payload";
/// The delivery's body is larger than the verifier's cap (ours).
pub const WEBHOOK_BODY_TOO_LARGE: &str = "webhook-body-too-large";

// Webhook configuration (a start-up error; 500 if it ever reached a request).

/// The webhook signing secret is missing or not `whsec_` + base64 (ours).
pub const WEBHOOK_INVALID_SECRET: &str = "webhook-invalid-secret";

/// Every code above, in the order of the README's table.
pub const ALL: &[&str] = &[
    TOKEN_INVALID,
    TOKEN_INVALID_ALGORITHM,
    TOKEN_INVALID_SIGNATURE,
    TOKEN_VERIFICATION_FAILED,
    TOKEN_EXPIRED,
    TOKEN_NOT_ACTIVE_YET,
    TOKEN_IAT_IN_THE_FUTURE,
    TOKEN_INVALID_AUTHORIZED_PARTIES,
    TOKEN_INVALID_AUDIENCE,
    TOKEN_INVALID_ISSUER,
    JWK_KID_MISMATCH,
    SESSION_TOKEN_AND_UAT_MISSING,
    SESSION_TOKEN_BUT_NO_CLIENT_UAT,
    CLIENT_UAT_BUT_NO_SESSION_TOKEN,
    SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT,
    TOKEN_TYPE_MISMATCH,
    SESSION_PENDING,
    MACHINE_TOKEN_MISSING,
    SESSION_TOKEN_EXPIRED_REFRESH_NO_COOKIE,
    SESSION_TOKEN_EXPIRED_REFRESH_MISSING_API_CLIENT,
    SESSION_TOKEN_EXPIRED_REFRESH_UNEXPECTED_BAPI_ERROR,
    SESSION_TOKEN_EXPIRED_REFRESH_FETCH_ERROR,
    SESSION_TOKEN_EXPIRED_REFRESH_INVALID_SESSION_TOKEN,
    SESSION_TOKEN_EXPIRED_REFRESH_MISSING_SID,
    SESSION_TOKEN_EXPIRED_REFRESH_RATE_LIMITED,
    SESSION_TOKEN_REFRESHED,
    SESSION_TOKEN_NBF,
    SESSION_TOKEN_IAT_IN_THE_FUTURE,
    HANDSHAKE_COMPLETE,
    HANDSHAKE_INVALID,
    SATELLITE_NEEDS_SYNCING,
    PRIMARY_RESPONDS_TO_SYNCING,
    PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC,
    DEV_BROWSER_MISSING,
    DEV_BROWSER_SYNC,
    ACTIVE_ORGANIZATION_MISMATCH,
    MISSING_ROLE,
    MISSING_PERMISSION,
    MISSING_ORGANIZATION,
    MISSING_FEATURE,
    MISSING_PLAN,
    REVERIFICATION_ERROR,
    MISSING_SCOPE,
    JWK_REMOTE_FAILED_TO_LOAD,
    JWK_REMOTE_INVALID,
    JWK_REMOTE_MISSING,
    HANDSHAKE_FAILED,
    BACKEND_API_UNAVAILABLE,
    JWK_LOCAL_MISSING,
    JWK_LOCAL_INVALID,
    JWK_FAILED_TO_RESOLVE,
    SECRET_KEY_INVALID,
    CONFIG_INVALID,
    VERIFIER_MISSING,
    INTERNAL_ERROR,
    FORWARDED_HEADERS_INVALID,
    WEBHOOK_MISSING_HEADERS,
    WEBHOOK_INVALID_TIMESTAMP,
    WEBHOOK_TIMESTAMP_TOO_OLD,
    WEBHOOK_TIMESTAMP_TOO_NEW,
    WEBHOOK_INVALID_SIGNATURE,
    WEBHOOK_INVALID_PAYLOAD,
    WEBHOOK_BODY_TOO_LARGE,
    WEBHOOK_INVALID_SECRET,
];

#[cfg(test)]
mod tests {
    use super::ALL;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ALL {
            assert!(seen.insert(code), "{code} listed twice");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{code}"
            );
        }
    }
}
