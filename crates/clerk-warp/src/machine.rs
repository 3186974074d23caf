//! Machine tokens (API keys, M2M and OAuth access tokens): [`machine`], [`machine_accepting`],
//! [`require_machine`] / [`require_scope`], and [`principal`] (a session or a machine), on
//! [`authentication_accepting`]. What each answers is [`clerk_verify::adapter`]'s.

use crate::filter::finish;
use crate::rejection::{answer, ClerkRejection};
use clerk_verify::adapter;
use clerk_verify::options::AcceptsToken;
use clerk_verify::request::{Policy, Principal};
use clerk_verify::{Authentication, MachineAuth, Verifier};
use std::convert::Infallible;
use std::future::ready;
use std::sync::Arc;
use warp::http::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE};
use warp::reject::Rejection;
use warp::Filter;

/// [`crate::authentication`] for a route that accepts the kinds `accepts` names: a machine
/// token is read from the `Authorization` header only (cookies are read only when session
/// tokens are accepted), and a token of another kind is `token-type-mismatch`. Never rejects.
/// An opaque token's Backend API call is awaited without holding an executor thread, and
/// requests with the same token share one call. Warp keeps nothing per request: each Clerk
/// filter of a route verifies once, so give a route one of them.
pub fn authentication_accepting(
    verifier: Verifier,
    accepts: AcceptsToken,
) -> impl Filter<Extract = (Authentication,), Error = Infallible> + Clone {
    warp::header::headers_cloned().and_then(move |headers: HeaderMap| {
        let step = verifier.authenticate_headers_accepting(
            accepts,
            headers.get(AUTHORIZATION).map(HeaderValue::as_bytes),
            headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
        );
        finish(step)
    })
}

/// A verified machine token of any kind (API key, M2M token, OAuth access token; opaque or
/// JWT), or a [`ClerkRejection`] as for sessions: 401 (`machine-token-missing`,
/// `token-type-mismatch` for a session token, `token-invalid`, ...), 503
/// `backend-api-unavailable` when Clerk's Backend API cannot answer in time, 500 when the
/// secret key is missing or wrong ([`adapter::machine`]).
///
/// ```
/// use clerk_warp::{handle_rejection, machine, signed_in_headers, MachineAuth, Verifier};
/// use warp::Filter;
///
/// # fn routes(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// // CLERK_SECRET_KEY (and CLERK_MACHINE_SECRET_KEY) for opaque tokens.
/// warp::path!("api" / "machine")
///     .and(warp::get())
///     .and(machine(verifier))
///     .map(|machine: MachineAuth| {
///         warp::reply::json(&serde_json::json!({
///             "tokenType": machine.token_type(),
///             "subject": machine.subject(),
///             "scopes": machine.scopes(),
///         }))
///     })
///     .with(signed_in_headers())
///     .recover(handle_rejection)
/// # }
/// ```
pub fn machine(
    verifier: Verifier,
) -> impl Filter<Extract = (MachineAuth,), Error = Rejection> + Clone {
    machine_accepting(verifier, AcceptsToken::MACHINES)
}

/// [`machine`] for the kinds `accepts` names (e.g. `AcceptsToken::API_KEY`): any other kind
/// is 401 `token-type-mismatch`, without a Backend API call.
pub fn machine_accepting(
    verifier: Verifier,
    accepts: AcceptsToken,
) -> impl Filter<Extract = (MachineAuth,), Error = Rejection> + Clone {
    authentication_accepting(verifier, accepts)
        .and_then(|state: Authentication| ready(answer(state, adapter::machine)))
}

/// [`machine_accepting`] plus a [`Policy`] of scopes ([`Policy::scope`]): then 403
/// `missing-scope` for the first scope the token was not granted ([`Policy::check_machine`]).
pub fn require_machine(
    verifier: Verifier,
    accepts: AcceptsToken,
    policy: Policy,
) -> impl Filter<Extract = (MachineAuth,), Error = Rejection> + Clone {
    let policy = Arc::new(policy);
    machine_accepting(verifier, accepts).and_then(move |machine: MachineAuth| {
        let checked = policy.check_machine(&machine).map(|()| machine);
        ready(checked.map_err(|forbidden| warp::reject::custom(ClerkRejection::from(forbidden))))
    })
}

/// [`require_machine`] with any machine kind and the one scope `scope`: 403 `missing-scope`.
pub fn require_scope(
    verifier: Verifier,
    scope: impl Into<String>,
) -> impl Filter<Extract = (MachineAuth,), Error = Rejection> + Clone {
    require_machine(verifier, AcceptsToken::MACHINES, Policy::new().scope(scope))
}

/// A signed-in user or a machine of any kind (`acceptsToken: 'any'`), as a [`Principal`];
/// rejects as [`crate::clerk_auth`] does ([`adapter::session_or_machine`]).
pub fn principal(
    verifier: Verifier,
) -> impl Filter<Extract = (Principal,), Error = Rejection> + Clone {
    authentication_accepting(verifier, AcceptsToken::ANY)
        .and_then(|state: Authentication| ready(answer(state, adapter::session_or_machine)))
}
