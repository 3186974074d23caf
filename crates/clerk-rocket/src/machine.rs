//! The machine-token guards (API keys, M2M and OAuth access tokens): [`ClerkMachine`],
//! [`RequireMachine`] ([`RequireScope`](crate::RequireScope)) and [`ClerkPrincipal`].

clerk_verify::adapter_machine! {
    /// A request guard; OPTIONS requests (CORS preflights) forward.
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

clerk_verify::adapter_machine_require! {
    /// A request guard, as [`ClerkMachine`], whose example has one; OPTIONS requests forward.
    pub struct RequireMachine;
}

clerk_verify::adapter_principal! {
    /// A request guard; OPTIONS requests forward. [`ClerkMachine`]'s example has one.
    pub struct ClerkPrincipal;
}
