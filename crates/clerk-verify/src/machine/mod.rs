//! Machine authentication: the tokens Clerk issues to scripts, agents and partner backends
//! beside session tokens, recognised, verified and reported as Clerk's SDK does (§5b of the
//! reference facts), with the bounds it lacks. In reading order:
//!
//! - `kind`: which kind a token is ([`kind_of`], Clerk's `getMachineTokenType`), and whether an
//!   opaque one can be Clerk's at all (after its prefix, 16 to 128 ASCII letters and digits);
//! - `jwt`: M2M and OAuth access tokens in JWT form, verified locally with the verifier's keys
//!   and the same strictness as session tokens;
//! - `api`: opaque tokens' verify endpoints on Clerk's Backend API, and what each answer means
//!   ([`parse_backend_response`]);
//! - `calls` (feature `remote`): those calls, bounded: an outage is a 503, never a sign-out;
//!   junk, repeats of refused tokens and floods are answered without a call; concurrent
//!   requests with one token share one call; calls in flight and waiting are bounded; an
//!   optional result cache;
//! - `auth`: [`MachineAuth`], what a handler gets.
//!
//! Which kinds a request may carry is [`crate::options::AcceptsToken`] (Clerk's
//! `acceptsToken`); request authentication (`crate::request`) reads machine tokens from the
//! `Authorization` header only and hands them here. [`crate::Verifier::verify_accepting`] does
//! it for one token.
//!
//! # Stricter or faster than Clerk's SDK
//!
//! - An opaque token whose shape cannot be Clerk's is refused without a call (`token-invalid`).
//! - A 2xx answer is read strictly: a resource without `id` and `subject`, or one of another
//!   shape, is `backend-api-unavailable` (503), never a sign-in; one that says `revoked` or
//!   `expired`, or whose `expiration` has passed on the verifier's clock, is `token-invalid`.
//! - The Backend API down, slow (past [`crate::options::MachineOptions::timeout`]), answering
//!   5xx or 429: `backend-api-unavailable` (503). Clerk's SDK throws to the application.
//! - A token the API refused is refused again without a call for a short time, concurrent
//!   requests with one token share one call, and calls are bounded in flight, in waiting and
//!   per second; beyond the bounds the answer is `backend-api-unavailable`, at once or after
//!   [`crate::options::MachineOptions::queue_wait`].
//! - The result cache, off by default, answers a verified opaque token from memory for a few
//!   seconds (never past its `expiration`): faster, at the price that **a revoked key stays
//!   usable for up to its TTL**.
//! - JWT forms: `aud` is checked when an audience is configured, and a token without `aud` is
//!   then refused (as for session tokens); a failed check is `token-verification-failed` as in
//!   Clerk's SDK, the exact cause in the message.

mod api;
mod auth;
#[cfg(feature = "remote")]
mod calls;
mod jwt;
mod kind;

pub use api::parse_backend_response;
pub use auth::MachineAuth;
pub use kind::{kind_of, MAX_OPAQUE_LEN, MIN_OPAQUE_LEN};

use crate::claims::Claims;
use crate::error::Error;
use crate::options::{AcceptsToken, TokenKind, VerifyOptions};
use crate::verify::Tokens;
use std::fmt;
use std::sync::Arc;

#[cfg(feature = "remote")]
use calls::{Flight, Opaque};

/// One token verified under an [`AcceptsToken`]: [`crate::Verifier::verify_accepting`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Verified {
    /// A session token, and its claims (as [`crate::Verifier::verify`] returns them).
    Session(Arc<Claims>),
    /// A machine token.
    Machine(MachineAuth),
}

impl Verified {
    /// Clerk's `tokenType`: `session_token`, `api_key`, `m2m_token` or `oauth_token`.
    pub fn token_type(&self) -> &'static str {
        match self {
            Verified::Session(_) => TokenKind::SessionToken.as_str(),
            Verified::Machine(m) => m.token_type(),
        }
    }
}

/// What machine authentication has done: Backend API calls by outcome, and what was answered
/// without one. [`crate::Verifier::machine_stats`]. All zero without the `remote` feature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MachineStats {
    /// Verify calls made to the Backend API.
    pub calls: u64,
    /// Calls that verified the token.
    pub verified: u64,
    /// Calls the API answered "not this token" (404 and the like, revoked, expired).
    pub refused: u64,
    /// Calls that failed: unreachable, too slow, 5xx or 429, an unexpected answer, the secret
    /// key refused.
    pub failed: u64,
    /// Requests that joined the call in flight for their token instead of making one.
    pub joined: u64,
    /// Tokens refused without a call: their shape cannot be Clerk's.
    pub malformed: u64,
    /// Tokens refused without a call: the API refused them a moment ago.
    pub refused_from_memory: u64,
    /// Tokens answered from the result cache.
    pub cache_hits: u64,
    /// Tokens answered `backend-api-unavailable` without a call: the bound on calls per
    /// second, in flight or waiting was reached.
    pub shed: u64,
    /// Refused tokens remembered now.
    pub refused_remembered: usize,
    /// Verified tokens in the result cache now.
    pub cached_results: usize,
    /// Calls running or waiting for a slot now.
    pub in_flight: usize,
}

/// A machine token found in a request, classified, not yet verified. Never printed.
#[derive(Clone)]
pub(crate) struct MachineToken {
    text: String,
    kind: TokenKind,
    jwt: bool,
}

impl MachineToken {
    /// The token text.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it is a JWT (verified locally, with the verifier's keys).
    pub(crate) fn is_jwt(&self) -> bool {
        self.jwt
    }
}

impl fmt::Debug for MachineToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MachineToken")
            .field("kind", &self.kind)
            .field("jwt", &self.jwt)
            .field("len", &self.text.len())
            .finish()
    }
}

/// Where a token goes under an [`AcceptsToken`].
pub(crate) enum Route {
    /// To the session path (which refuses machine JWTs of kinds not looked for here).
    Session,
    /// To machine verification.
    Machine(MachineToken),
    /// Refused: its kind is not accepted (`token-type-mismatch`).
    NotAccepted(Error),
}

/// Which way `token` goes when `accepts` is what the route takes. Only the prefix is read
/// unless a machine kind with a JWT form is accepted (or sessions are not): then a JWT's
/// header and `sub` are peeked at, unverified, as Clerk does.
pub(crate) fn route(token: &str, accepts: AcceptsToken, max_len: usize) -> Route {
    let found = match kind::opaque_kind(token) {
        Some(kind) => Some((kind, false)),
        None if accepts.accepts_machine_jwts() || !accepts.accepts(TokenKind::SessionToken) => {
            kind::jwt_kind(token, max_len).map(|kind| (kind, true))
        }
        None => None,
    };
    match found {
        None if accepts.accepts(TokenKind::SessionToken) => Route::Session,
        None => Route::NotAccepted(not_accepted(TokenKind::SessionToken, accepts)),
        Some((kind, jwt)) if accepts.accepts(kind) => Route::Machine(MachineToken {
            text: token.to_owned(),
            kind,
            jwt,
        }),
        Some((kind, _)) => Route::NotAccepted(not_accepted(kind, accepts)),
    }
}

/// `token-type-mismatch` for a token of `kind` where `accepts` is what is taken.
pub(crate) fn not_accepted(kind: TokenKind, accepts: AcceptsToken) -> Error {
    Error::TokenKindNotAccepted {
        kind: kind.as_str(),
        accepted: accepts.to_string(),
    }
}

/// Machine verification of one verifier: the opaque tokens' calls and memories (JWT forms
/// need only the token path's keys).
pub(crate) struct Machines {
    #[cfg(feature = "remote")]
    opaque: Arc<Opaque>,
}

/// A wait for an opaque token's answer, without holding a thread when awaited.
pub(crate) enum MachineWait {
    /// Known at once (from memory, or why no call could be made).
    Answered(Result<MachineAuth, Error>),
    /// The call in flight for the token.
    #[cfg(feature = "remote")]
    Flight(Arc<Flight>),
}

impl MachineWait {
    /// The answer, awaited: the call's waker wakes the task (no runtime needed, no thread
    /// held); at most the queue wait, the timeout and [`crate::remote::KEY_WAIT_SLACK`].
    pub(crate) async fn answer(self) -> Result<MachineAuth, Error> {
        match self {
            MachineWait::Answered(answer) => answer,
            #[cfg(feature = "remote")]
            MachineWait::Flight(flight) => {
                flight.wait().await;
                flight.outcome()
            }
        }
    }
}

impl Machines {
    /// Building does no I/O and never fails: a missing or malformed secret key or API URL is
    /// the answer (500, `config-invalid`) to every opaque token, so that session users are not
    /// refused a verifier over a setting they do not use.
    pub(crate) fn new(opts: &VerifyOptions) -> Machines {
        #[cfg(not(feature = "remote"))]
        let _ = opts;
        Machines {
            #[cfg(feature = "remote")]
            opaque: Arc::new(Opaque::new(
                &opts.machine,
                opts.clock.clone(),
                opts.clock_skew,
            )),
        }
    }

    /// The answer without blocking, or `None`: a key must be fetched (JWT form) or the Backend
    /// API called (opaque).
    pub(crate) fn try_verify(
        &self,
        tokens: &Tokens,
        token: &MachineToken,
    ) -> Option<Result<MachineAuth, Error>> {
        if token.jwt {
            return jwt::try_verify(tokens, &token.text, token.kind);
        }
        #[cfg(feature = "remote")]
        {
            self.opaque.remembered(token.kind, &token.text)
        }
        #[cfg(not(feature = "remote"))]
        {
            Some(no_remote(token))
        }
    }

    /// The answer, fetching keys or calling the Backend API if need be (may block: at most
    /// the key fetch's timeout, or the machine queue wait and timeout).
    pub(crate) fn verify(
        &self,
        tokens: &Tokens,
        token: &MachineToken,
    ) -> Result<MachineAuth, Error> {
        if token.jwt {
            return jwt::verify(tokens, &token.text, token.kind);
        }
        #[cfg(feature = "remote")]
        {
            self.opaque.verify(token.kind, &token.text)
        }
        #[cfg(not(feature = "remote"))]
        {
            no_remote(token)
        }
    }

    /// For an opaque token: the answer from memory, else the call in flight for it (joined or
    /// started), to await.
    pub(crate) fn begin(&self, token: &MachineToken) -> MachineWait {
        #[cfg(feature = "remote")]
        {
            if let Some(answer) = self.opaque.remembered(token.kind, &token.text) {
                return MachineWait::Answered(answer);
            }
            match self.opaque.begin(token.kind, &token.text) {
                Ok(flight) => MachineWait::Flight(flight),
                Err(e) => MachineWait::Answered(Err(e)),
            }
        }
        #[cfg(not(feature = "remote"))]
        {
            MachineWait::Answered(no_remote(token))
        }
    }

    pub(crate) fn stats(&self) -> MachineStats {
        #[cfg(feature = "remote")]
        {
            self.opaque.stats()
        }
        #[cfg(not(feature = "remote"))]
        {
            MachineStats::default()
        }
    }
}

/// Without `remote`, opaque tokens cannot be verified: junk is still refused as such.
#[cfg(not(feature = "remote"))]
fn no_remote(token: &MachineToken) -> Result<MachineAuth, Error> {
    kind::check_shape(&token.text, token.kind)?;
    Err(Error::config(format!(
        "verifying an opaque {} takes Clerk's Backend API: build clerk-verify with the `remote` \
         feature",
        token.kind
    )))
}

impl fmt::Debug for Machines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machines")
            .field("stats", &self.stats())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeySet;
    use clerk_dev::{fixtures, TokenBuilder};

    fn tokens() -> Tokens {
        let keys = KeySet::from_jwks(&fixtures::rsa2048().jwks_json()).unwrap();
        Tokens::new(Box::new(keys), VerifyOptions::default()).unwrap()
    }

    fn routed(token: &str, accepts: AcceptsToken) -> Result<Option<MachineToken>, &'static str> {
        match route(token, accepts, 16 * 1024) {
            Route::Session => Ok(None),
            Route::Machine(m) => Ok(Some(m)),
            Route::NotAccepted(e) => Err(e.reason()),
        }
    }

    #[test]
    fn routes_by_kind_reading_jwts_only_when_needed() {
        let key = fixtures::rsa2048();
        let now = clerk_dev::now_unix();
        let m2m = TokenBuilder::m2m("mch_1", now)
            .remove_header("cat")
            .sign(key);
        let session = TokenBuilder::session("user_1", now).sign(key);
        // Sessions only: an M2M JWT goes to the session path (which refuses it by its sub),
        // an opaque token is refused by its prefix.
        assert!(matches!(
            routed(&m2m, AcceptsToken::SESSION_TOKEN),
            Ok(None)
        ));
        assert_eq!(
            routed("ak_a1B2c3D4e5F6g7H8", AcceptsToken::SESSION_TOKEN).err(),
            Some("token-type-mismatch")
        );
        let m = routed(&m2m, AcceptsToken::ANY).unwrap().unwrap();
        assert!(m.is_jwt() && m.kind == TokenKind::M2mToken);
        assert!(format!("{m:?}").contains("len") && !format!("{m:?}").contains(&m2m));
        assert_eq!(
            routed(&session, AcceptsToken::MACHINES).err(),
            Some("token-type-mismatch")
        );
        assert!(matches!(routed(&session, AcceptsToken::ANY), Ok(None)));
    }

    #[test]
    fn jwt_forms_need_no_network_and_opaque_ones_do() {
        let tokens = tokens();
        let machines = Machines::new(tokens.options());
        let jwt = TokenBuilder::oauth("user_1", clerk_dev::now_unix()).sign(fixtures::rsa2048());
        let Route::Machine(m) = route(&jwt, AcceptsToken::ANY, 16 * 1024) else {
            panic!("an OAuth JWT")
        };
        let verified = machines.try_verify(&tokens, &m).unwrap().unwrap();
        assert_eq!(verified.client_id(), Some("oauth_app_test"));
        let Route::Machine(opaque) = route("ak_a1B2c3D4e5F6g7H8", AcceptsToken::ANY, 1024) else {
            panic!("an API key")
        };
        // With `remote` and no secret key, or without `remote`: a 500, never a sign-in.
        let answer = machines.try_verify(&tokens, &opaque).unwrap();
        assert_eq!(answer.unwrap_err().reason(), "config-invalid");
        let junk = MachineToken {
            text: "ak_x".into(),
            kind: TokenKind::ApiKey,
            jwt: false,
        };
        assert_eq!(
            machines.verify(&tokens, &junk).unwrap_err().reason(),
            "token-invalid"
        );
    }
}
