//! Machine tokens (API keys, M2M and OAuth access tokens): [`ClerkMachine`], [`RequireMachine`]
//! ([`RequireScope`]) and [`ClerkPrincipal`] (a session or a machine), on
//! [`authenticate_accepting`], which verifies a request once per set of accepted kinds.

use crate::extract::{answers, verifier};
use crate::rejection::ClerkRejection;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use clerk_verify::adapter;
use clerk_verify::options::{Accepts, AcceptsToken};
use clerk_verify::request::MachineRequirement;
use clerk_verify::Authentication;

clerk_verify::adapter_machine! {
    /// A verified machine token of a kind `K` accepts, from the `Authorization` header only:
    /// API keys, M2M and OAuth access tokens, opaque or JWT (all three kinds by default;
    /// [`ApiKeys`](crate::ApiKeys), [`M2mTokens`](crate::M2mTokens),
    /// [`OauthTokens`](crate::OauthTokens) name one). Dereferences to
    /// [`MachineAuth`](crate::MachineAuth). Refused as the session extractors are
    /// ([`clerk_verify::adapter::machine`]): 401 `machine-token-missing`, `token-type-mismatch`
    /// (a session token too), `token-invalid`, ...; 503 `backend-api-unavailable` when Clerk's
    /// Backend API cannot answer in time; 500 without a valid secret key (`CLERK_SECRET_KEY`).
    /// An opaque token's Backend API call is awaited without holding an executor thread, once
    /// per request and set of kinds ([`authenticate_accepting`]).
    ///
    /// ```
    /// use axum::{routing::{get, post}, Json, Router};
    /// use clerk_axum::{ApiKeys, ClerkLayer, ClerkMachine, ClerkPrincipal, Principal, RequireScope, Scope};
    /// # let verifier = clerk_axum::Verifier::from_jwks(
    /// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
    ///
    /// async fn machine(machine: ClerkMachine) -> Json<serde_json::Value> {
    ///     Json(serde_json::json!({
    ///         "tokenType": machine.token_type(),
    ///         "subject": machine.subject(),
    ///         "scopes": machine.scopes(),
    ///     }))
    /// }
    ///
    /// async fn export(key: ClerkMachine<ApiKeys>) -> String {
    ///     format!("export for {}", key.subject())
    /// }
    ///
    /// struct WriteInvoices;
    /// impl Scope for WriteInvoices {
    ///     const SCOPE: &'static str = "write:invoices";
    /// }
    ///
    /// async fn create(caller: RequireScope<WriteInvoices>) -> String {
    ///     format!("created by {}", caller.subject())
    /// }
    ///
    /// async fn whoami(caller: ClerkPrincipal) -> String {
    ///     match &*caller {
    ///         Principal::Session(user) => format!("user {}", user.user_id()),
    ///         Principal::Machine(m) => format!("{} {}", m.token_type(), m.subject()),
    ///         _ => "someone else".to_owned(),
    ///     }
    /// }
    ///
    /// let app: Router = Router::new()
    ///     .route("/api/machine", get(machine))
    ///     .route("/api/export", get(export))
    ///     .route("/invoices", post(create))
    ///     .route("/whoami", get(whoami))
    ///     .layer(ClerkLayer::new(verifier));
    /// ```
    pub struct ClerkMachine;
}

impl<K: Accepts, S: Send + Sync + 'static> FromRequestParts<S> for ClerkMachine<K> {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let answer = authenticate_accepting(parts, state, K::ACCEPTS).await?;
        Ok(ClerkMachine::new(adapter::machine(answer)?))
    }
}

clerk_verify::adapter_machine_require! {
    /// A machine token of a kind `K` accepts (all three by default) that meets the
    /// [`MachineRequirement`] `R`: refused as [`ClerkMachine`], then 403 with `R`'s reason.
    /// [`RequireScope<S>`](RequireScope) names the usual one, a [`Scope`](crate::Scope) granted to
    /// the token (403 `missing-scope`); `RequireScope<S, M2mTokens>` takes M2M tokens only.
    /// Dereferences to [`MachineAuth`](crate::MachineAuth). [`ClerkMachine`]'s example has one.
    pub struct RequireMachine;
}

impl<R: MachineRequirement, K: Accepts, S: Send + Sync + 'static> FromRequestParts<S>
    for RequireMachine<R, K>
{
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let answer = authenticate_accepting(parts, state, K::ACCEPTS).await?;
        Ok(RequireMachine::new(adapter::machine_required::<R>(answer)?))
    }
}

clerk_verify::adapter_principal! {
    /// A signed-in user or a machine (`acceptsToken: 'any'`): a session token (header or
    /// cookie, with Clerk's rules) or a machine token of any kind (header only). Refused as
    /// [`crate::ClerkAuth`] is (401, 503, 500). Dereferences to
    /// [`Principal`](crate::Principal): `token_type()`, `subject()`, `session()`, `machine()`;
    /// [`Policy::check_principal`](crate::Policy::check_principal) checks roles for sessions
    /// and scopes for machines. [`ClerkMachine`]'s example has one.
    pub struct ClerkPrincipal;
}

impl<S: Send + Sync + 'static> FromRequestParts<S> for ClerkPrincipal {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let answer = authenticate_accepting(parts, state, AcceptsToken::ANY).await?;
        Ok(ClerkPrincipal(adapter::session_or_machine(answer)?))
    }
}

/// Authenticates the request for a route that accepts the kinds `accepts` names, once per set
/// of kinds: the first call verifies (inline from memory; an opaque token's Backend API call
/// or a key fetch awaited without holding an executor thread, [`clerk_verify::request::Step`])
/// and keeps the answer in the request's extensions ([`Answers`]); later calls with the same
/// set get it. The [`Verifier`](crate::Verifier) is found as for [`crate::authenticate`]. Use
/// it to write extractors of your own.
pub async fn authenticate_accepting<S: Send + Sync + 'static>(
    parts: &mut Parts,
    state: &S,
    accepts: AcceptsToken,
) -> Result<Authentication, ClerkRejection> {
    let answers = answers(parts);
    let verifier = verifier(parts, state)?;
    let authorization = parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes());
    let cookies = parts.headers.get_all(COOKIE).iter().map(|v| v.as_bytes());
    let spawn = tokio::task::spawn_blocking;
    Ok(answers
        .authenticate(verifier, accepts, authorization, cookies, spawn)
        .await)
}
