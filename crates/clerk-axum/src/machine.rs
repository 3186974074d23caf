//! The machine-token extractors: [`ClerkMachine`], [`RequireMachine`] ([`RequireScope`]) and
//! [`ClerkPrincipal`] (a session or a machine).

use crate::extract::{authenticate_accepting, from_request_parts};
use clerk_verify::adapter;
use clerk_verify::options::{Accepts, AcceptsToken};
use clerk_verify::request::MachineRequirement;

clerk_verify::adapter_machine! {
    /// ```
    /// use axum::{routing::{get, post}, Router};
    /// use clerk_axum::{ApiKeys, ClerkLayer, ClerkMachine, ClerkPrincipal, Principal, RequireScope, Scope};
    /// # let verifier = clerk_axum::Verifier::from_jwks(
    /// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
    ///
    /// async fn machine(machine: ClerkMachine) -> String {
    ///     format!("{} {} {:?}", machine.token_type(), machine.subject(), machine.scopes())
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

from_request_parts!([K: Accepts] ClerkMachine<K>, |parts, state| {
    let answer = authenticate_accepting(parts, state, K::ACCEPTS).await?;
    ClerkMachine::new(adapter::machine(answer)?)
});

clerk_verify::adapter_machine_require! {
    /// [`ClerkMachine`]'s example has one.
    pub struct RequireMachine;
}

from_request_parts!(
    [R: MachineRequirement, K: Accepts] RequireMachine<R, K>,
    |parts, state| {
        let answer = authenticate_accepting(parts, state, K::ACCEPTS).await?;
        RequireMachine::new(adapter::machine_required::<R>(answer)?)
    }
);

clerk_verify::adapter_principal! {
    /// [`ClerkMachine`]'s example has one.
    pub struct ClerkPrincipal;
}

from_request_parts!([] ClerkPrincipal, |parts, state| {
    let answer = authenticate_accepting(parts, state, AcceptsToken::ANY).await?;
    ClerkPrincipal(adapter::session_or_machine(answer)?)
});
