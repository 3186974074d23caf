//! Machine tokens (API keys, M2M and OAuth access tokens): [`ClerkMachine`], [`RequireMachine`]
//! ([`RequireScope`]) and [`ClerkPrincipal`] (a session or a machine), on
//! [`authenticate_accepting`], which verifies a request once per set of accepted kinds.

use crate::error::ClerkError;
use crate::extract::verifier;
use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, COOKIE};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use clerk_verify::adapter::{self, Answers};
use clerk_verify::options::{Accepts, AcceptsToken};
use clerk_verify::request::MachineRequirement;
use clerk_verify::{Authentication, Refusal};
use futures_util::future::LocalBoxFuture;

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
    /// use actix_web::{get, post, HttpResponse};
    /// use clerk_actix::{ApiKeys, ClerkMachine, ClerkPrincipal, Principal, RequireScope, Scope};
    ///
    /// #[get("/api/machine")]
    /// async fn machine(machine: ClerkMachine) -> HttpResponse {
    ///     HttpResponse::Ok().json(serde_json::json!({
    ///         "tokenType": machine.token_type(),
    ///         "subject": machine.subject(),
    ///         "scopes": machine.scopes(),
    ///     }))
    /// }
    ///
    /// #[get("/api/export")]
    /// async fn export(key: ClerkMachine<ApiKeys>) -> String {
    ///     format!("export for {}", key.subject())
    /// }
    ///
    /// struct WriteInvoices;
    /// impl Scope for WriteInvoices {
    ///     const SCOPE: &'static str = "write:invoices";
    /// }
    ///
    /// #[post("/invoices")]
    /// async fn create(caller: RequireScope<WriteInvoices>) -> String {
    ///     format!("created by {}", caller.subject())
    /// }
    ///
    /// #[get("/whoami")]
    /// async fn whoami(caller: ClerkPrincipal) -> String {
    ///     match &*caller {
    ///         Principal::Session(user) => format!("user {}", user.user_id()),
    ///         Principal::Machine(m) => format!("{} {}", m.token_type(), m.subject()),
    ///         _ => "someone else".to_owned(),
    ///     }
    /// }
    /// ```
    pub struct ClerkMachine;
}

impl<K: Accepts> FromRequest for ClerkMachine<K> {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<ClerkMachine<K>, ClerkError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, K::ACCEPTS, |a| {
            adapter::machine(a).map(ClerkMachine::new)
        })
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

impl<R: MachineRequirement, K: Accepts> FromRequest for RequireMachine<R, K> {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<RequireMachine<R, K>, ClerkError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, K::ACCEPTS, |a| {
            adapter::machine_required::<R>(a).map(RequireMachine::new)
        })
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

impl FromRequest for ClerkPrincipal {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<ClerkPrincipal, ClerkError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, AcceptsToken::ANY, |a| {
            adapter::session_or_machine(a).map(ClerkPrincipal)
        })
    }
}

/// An extractor's future: the request's answer for `accepts`, turned into the extractor by
/// `finish` (one of [`clerk_verify::adapter`]'s functions).
fn extract<T: 'static>(
    req: &HttpRequest,
    accepts: AcceptsToken,
    finish: impl FnOnce(Authentication) -> Result<T, Refusal> + 'static,
) -> LocalBoxFuture<'static, Result<T, ClerkError>> {
    let req = req.clone();
    Box::pin(async move { Ok(finish(authenticate_accepting(&req, accepts).await?)?) })
}

/// Authenticates the request for a route that accepts the kinds `accepts` names, once per set
/// of kinds: the first call verifies (inline from memory; an opaque token's Backend API call
/// or a key fetch awaited without holding an executor thread, [`clerk_verify::request::Step`])
/// and keeps the answer in the request's extensions ([`Answers`]); later calls with the same
/// set get it (extractors polled together share the Backend API call). The
/// [`Verifier`](crate::Verifier) is found as for [`crate::authenticate`]. Use it to write
/// extractors of your own.
pub async fn authenticate_accepting(
    req: &HttpRequest,
    accepts: AcceptsToken,
) -> Result<Authentication, ClerkError> {
    let verifier = verifier(req)?;
    let authorization = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
    let cookies = req.headers().get_all(COOKIE).map(|v| v.as_bytes());
    let answers = answers(req);
    Ok(answers
        .authenticate(verifier, accepts, authorization, cookies, web::block)
        .await)
}

/// The request's [`Answers`], put in by the first to ask ([`crate::ClerkMiddleware`] reads them
/// after the handler, for the debug headers).
fn answers(req: &HttpRequest) -> Answers {
    let mut extensions = req.extensions_mut();
    if let Some(answers) = extensions.get::<Answers>() {
        return answers.clone();
    }
    let answers = Answers::new();
    extensions.insert(answers.clone());
    answers
}
