//! The filters of API routes: [`authentication_accepting`] reads the `Authorization` and
//! `Cookie` headers into the core; the others hand its state to [`clerk_verify::adapter`].

use crate::rejection::{answer, reject};
use clerk_verify::adapter;
use clerk_verify::claims::Reverification;
use clerk_verify::options::AcceptsToken;
use clerk_verify::request::{Policy, Principal};
use clerk_verify::{Auth, Authentication, MachineAuth, Verifier};
use std::convert::Infallible;
use std::future::ready;
use std::sync::Arc;
use warp::http::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE};
use warp::reject::Rejection;
use warp::Filter;

/// The request's authentication state, whatever it is; never rejects, not even during an
/// outage (a key source that is down is the signed-out state `jwk-remote-failed-to-load`).
///
/// How every Clerk filter verifies: the `Authorization` and `Cookie` headers go to
/// [`Verifier::authenticate_headers`], which decides everything; a token whose key is cached is
/// checked inline, one that needs I/O on tokio's blocking pool, so the executor never blocks.
/// warp keeps nothing per request: each Clerk filter verifies once, so give a route one.
pub fn authentication(
    verifier: Verifier,
) -> impl Filter<Extract = (Authentication,), Error = Infallible> + Clone {
    let accepts = verifier.options().accepts_token;
    authentication_accepting(verifier, accepts)
}

/// [`authentication`] for a route that accepts the kinds `accepts` names
/// ([`Verifier::authenticate_headers_accepting`]: a token of another kind is
/// `token-type-mismatch`); an opaque token's Backend API call holds no executor thread.
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
        // The future owns everything it needs, so it is `Send`.
        async move { Ok::<_, Infallible>(step.finish(tokio::task::spawn_blocking).await) }
    })
}

/// The state of a route that also serves signed-out visitors, for [`crate::with_auth_headers`].
/// Rejects only when the server is at fault (503, 500), so that an outage never silently turns
/// signed-in users into anonymous ones.
pub fn optional_authentication(
    verifier: Verifier,
) -> impl Filter<Extract = (Authentication,), Error = Rejection> + Clone {
    authentication(verifier)
        .and_then(|state: Authentication| ready(answer(state, adapter::optional_state)))
}

/// `Some(auth)` when signed in, `None` without a valid session ([`adapter::optional`]). The
/// reply gets no debug headers: for those, take [`optional_authentication`].
pub fn optional_auth(
    verifier: Verifier,
) -> impl Filter<Extract = (Option<Auth>,), Error = Rejection> + Clone {
    authentication(verifier)
        .and_then(|state: Authentication| ready(answer(state, adapter::optional)))
}

/// The signed-in [`Auth`] ([`adapter::signed_in`]). Put it after the route's path and method
/// filters, so that it only runs for requests the route would serve.
pub fn clerk_auth(verifier: Verifier) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    authentication(verifier)
        .and_then(|state: Authentication| ready(answer(state, adapter::signed_in)))
}

/// [`clerk_auth`] plus a [`Policy`] (roles, permissions, an active organization, features,
/// plans, a recent verification): then 403 for the first requirement missing ([`Policy::check`]).
pub fn require(
    verifier: Verifier,
    policy: Policy,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    let policy = Arc::new(policy);
    clerk_auth(verifier)
        .and_then(move |auth: Auth| ready(policy.check(&auth).map(|()| auth).map_err(reject)))
}

// [`require`] with the one requirement `Policy::new().$arg($arg)`.
macro_rules! require_one {
    ($($(#[doc = $doc:literal])+ $name:ident($arg:ident: $ty:ty);)+) => {$(
        $(#[doc = $doc])+
        pub fn $name(
            verifier: Verifier,
            $arg: $ty,
        ) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
            require(verifier, Policy::new().$arg($arg))
        }
    )+};
}

require_one! {
    /// [`require`] an organization role (e.g. `"org:admin"`): 403 `missing-role`.
    require_role(role: impl Into<String>);
    /// [`require`] a permission (e.g. `"org:invoices:read"`): 403 `missing-permission`.
    require_permission(permission: impl Into<String>);
    /// [`require`] a feature (`reports`, `o:reports`, `u:export`): 403 `missing-feature`.
    require_feature(feature: impl Into<String>);
    /// [`require`] a plan (`pro`, `o:pro`, `u:free`): 403 `missing-plan`.
    require_plan(plan: impl Into<String>);
    /// [`require`] a verification as recent as `reverification`: 403 `reverification-error`.
    require_reverification(reverification: Reverification);
}

/// A verified machine token of any kind (API key, M2M token, OAuth access token; opaque or
/// JWT), as [`adapter::machine`] decides (a session token is `token-type-mismatch`). [The
/// crate's example](crate) has one.
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
        ready(checked.map_err(reject))
    })
}

/// [`require_machine`] with any machine kind and the one scope `scope`: 403 `missing-scope`.
pub fn require_scope(
    verifier: Verifier,
    scope: impl Into<String>,
) -> impl Filter<Extract = (MachineAuth,), Error = Rejection> + Clone {
    require_machine(verifier, AcceptsToken::MACHINES, Policy::new().scope(scope))
}

/// A signed-in user or a machine of any kind (`acceptsToken: 'any'`), as a [`Principal`]
/// ([`adapter::session_or_machine`]).
pub fn principal(
    verifier: Verifier,
) -> impl Filter<Extract = (Principal,), Error = Rejection> + Clone {
    authentication_accepting(verifier, AcceptsToken::ANY)
        .and_then(|state: Authentication| ready(answer(state, adapter::session_or_machine)))
}
