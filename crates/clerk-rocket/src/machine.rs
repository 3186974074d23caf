//! Machine tokens (API keys, M2M and OAuth access tokens): the guards [`ClerkMachine`],
//! [`RequireMachine`] ([`RequireScope`]) and [`ClerkPrincipal`] (a session or a machine). Each
//! request is verified once per set of accepted kinds, kept in its local cache.

use crate::cache::machine_guard;
use crate::error::ClerkError;
use clerk_verify::adapter;
use clerk_verify::options::{Accepts, AcceptsToken};
use clerk_verify::request::MachineRequirement;
use rocket::request::{self, FromRequest, Request};

clerk_verify::adapter_machine! {
    /// A verified machine token of a kind `K` accepts, from the `Authorization` header only:
    /// API keys, M2M and OAuth access tokens, opaque or JWT (all three kinds by default;
    /// [`ApiKeys`](crate::ApiKeys), [`M2mTokens`](crate::M2mTokens),
    /// [`OauthTokens`](crate::OauthTokens) name one). Dereferences to
    /// [`MachineAuth`](crate::MachineAuth). Fails as the session guards do
    /// ([`clerk_verify::adapter::machine`]): 401 `machine-token-missing`, `token-type-mismatch`
    /// (a session token too), `token-invalid`, ...; 503 `backend-api-unavailable` when Clerk's
    /// Backend API cannot answer in time; 500 without a valid secret key (`CLERK_SECRET_KEY`).
    /// An opaque token's Backend API call is awaited without holding an executor thread, once
    /// per request and set of kinds. OPTIONS requests forward.
    ///
    /// ```no_run
    /// use clerk_rocket::{ApiKeys, ClerkMachine, ClerkPrincipal, Principal, RequireScope, Scope};
    /// use rocket::serde::json::{json, Value};
    /// use rocket::{get, post};
    ///
    /// #[get("/api/machine")]
    /// fn machine(machine: ClerkMachine) -> Value {
    ///     json!({
    ///         "tokenType": machine.token_type(),
    ///         "subject": machine.subject(),
    ///         "scopes": machine.scopes(),
    ///     })
    /// }
    ///
    /// #[get("/api/export")]
    /// fn export(key: ClerkMachine<ApiKeys>) -> String {
    ///     format!("export for {}", key.subject())
    /// }
    ///
    /// struct WriteInvoices;
    /// impl Scope for WriteInvoices {
    ///     const SCOPE: &'static str = "write:invoices";
    /// }
    ///
    /// #[post("/invoices")]
    /// fn create(caller: RequireScope<WriteInvoices>) -> String {
    ///     format!("created by {}", caller.subject())
    /// }
    ///
    /// #[get("/whoami")]
    /// fn whoami(caller: ClerkPrincipal) -> String {
    ///     match &*caller {
    ///         Principal::Session(user) => format!("user {}", user.user_id()),
    ///         Principal::Machine(m) => format!("{} {}", m.token_type(), m.subject()),
    ///         _ => "someone else".to_owned(),
    ///     }
    /// }
    /// ```
    pub struct ClerkMachine;
}

#[rocket::async_trait]
impl<'r, K: Accepts> FromRequest<'r> for ClerkMachine<K> {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        machine_guard(req, K::ACCEPTS, |a| {
            adapter::machine(a).map(ClerkMachine::new)
        })
        .await
    }
}

clerk_verify::adapter_machine_require! {
    /// A machine token of a kind `K` accepts (all three by default) that meets the
    /// [`MachineRequirement`] `R`: fails as [`ClerkMachine`], then 403 with `R`'s reason.
    /// [`RequireScope<S>`](RequireScope) names the usual one, a [`Scope`](crate::Scope) granted to
    /// the token (403 `missing-scope`); `RequireScope<S, M2mTokens>` takes M2M tokens only.
    /// Dereferences to [`MachineAuth`](crate::MachineAuth). [`ClerkMachine`]'s example has one.
    pub struct RequireMachine;
}

#[rocket::async_trait]
impl<'r, R: MachineRequirement, K: Accepts> FromRequest<'r> for RequireMachine<R, K> {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        machine_guard(req, K::ACCEPTS, |a| {
            adapter::machine_required::<R>(a).map(RequireMachine::new)
        })
        .await
    }
}

clerk_verify::adapter_principal! {
    /// A signed-in user or a machine (`acceptsToken: 'any'`): a session token (header or
    /// cookie, with Clerk's rules) or a machine token of any kind (header only). Fails as
    /// [`ClerkAuth`](crate::ClerkAuth) does (401, 503, 500; forwards OPTIONS). Dereferences to
    /// [`Principal`](crate::Principal): `token_type()`, `subject()`, `session()`, `machine()`;
    /// [`Policy::check_principal`](crate::Policy::check_principal) checks roles for sessions
    /// and scopes for machines. [`ClerkMachine`]'s example has one.
    pub struct ClerkPrincipal;
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClerkPrincipal {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        machine_guard(req, AcceptsToken::ANY, |a| {
            adapter::session_or_machine(a).map(ClerkPrincipal)
        })
        .await
    }
}
