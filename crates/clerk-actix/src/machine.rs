//! Machine tokens: [`ClerkMachine`], [`RequireMachine`] ([`RequireScope`]) and [`ClerkPrincipal`]
//! (a session or a machine), on [`authenticate_accepting`] (one answer per set of kinds).

use crate::error::ClerkError;
use crate::extract::{answers, token, verifier};
use actix_web::{web, HttpRequest};
use clerk_verify::adapter;
use clerk_verify::options::{Accepts, AcceptsToken};
use clerk_verify::request::MachineRequirement;
use clerk_verify::Authentication;

clerk_verify::adapter_machine! {
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

from_request! {
    [K: Accepts] ClerkMachine<K> => |req| {
        adapter::machine(authenticate_accepting(&req, K::ACCEPTS).await?).map(ClerkMachine::new)
    };
}

clerk_verify::adapter_machine_require! {
    /// [`ClerkMachine`]'s example has one ([`RequireScope`]).
    pub struct RequireMachine;
}

from_request! {
    [R: MachineRequirement, K: Accepts] RequireMachine<R, K> => |req| {
        let answer = authenticate_accepting(&req, K::ACCEPTS).await?;
        adapter::machine_required::<R>(answer).map(RequireMachine::new)
    };
}

clerk_verify::adapter_principal! {
    /// [`ClerkMachine`]'s example has one.
    pub struct ClerkPrincipal;
}

from_request! {
    [] ClerkPrincipal => |req| {
        let answer = authenticate_accepting(&req, AcceptsToken::ANY).await?;
        adapter::session_or_machine(answer).map(ClerkPrincipal)
    };
}

/// As [`crate::authenticate`], for a route that accepts the kinds `accepts` names: one answer
/// per set of kinds (an opaque token's Backend API call awaited without holding an executor
/// thread). Use it to write extractors of your own.
pub async fn authenticate_accepting(
    req: &HttpRequest,
    accepts: AcceptsToken,
) -> Result<Authentication, ClerkError> {
    let (verifier, (authorization, cookies)) = (verifier(req)?, token(req));
    Ok(answers(req)
        .authenticate(verifier, accepts, authorization, cookies, web::block)
        .await)
}
