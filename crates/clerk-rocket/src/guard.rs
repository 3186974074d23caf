//! The request guards, each with what is Rocket's own about it (the core's macros write what
//! every adapter shares); `answer.rs` answers them.

clerk_verify::adapter_auth! {
    /// A request guard, refused with a [`ClerkError`](crate::ClerkError) that [`catchers()`]
    /// render. On OPTIONS requests (CORS preflights) it never authenticates: it forwards.
    ///
    /// For routes that also serve signed-out visitors take [`OptionalAuth`], not
    /// `Option<ClerkAuth>`: Rocket turns every failure of the inner guard into `None`, so
    /// `Option<ClerkAuth>` would also treat a key-source outage as "signed out".
    ///
    /// [`catchers()`]: crate::catchers
    pub struct ClerkAuth;
}

clerk_verify::adapter_optional! {
    /// A request guard (the crate's example has one). On OPTIONS requests it never
    /// authenticates: `None`.
    pub struct OptionalAuth;
}

clerk_verify::adapter_require! {
    /// A request guard, as [`ClerkAuth`]; on OPTIONS requests it forwards. The crate's example
    /// has one.
    pub struct Require;
}

clerk_verify::adapter_machine! {
    /// A request guard; OPTIONS requests (CORS preflights) forward.
    ///
    /// ```no_run
    /// use clerk_rocket::{ApiKeys, ClerkMachine, ClerkPrincipal, RequireScope, Scope};
    /// use rocket::{get, post};
    ///
    /// #[get("/api/export")]
    /// fn export(key: ClerkMachine<ApiKeys>) -> String {
    ///     format!("export for {} {:?}", key.subject(), key.scopes())
    /// }
    ///
    /// struct WriteInvoices;
    /// impl Scope for WriteInvoices {
    ///     const SCOPE: &'static str = "write:invoices";
    /// }
    ///
    /// #[post("/invoices")]
    /// fn create(caller: RequireScope<WriteInvoices>) -> String {
    ///     format!("created by {} ({})", caller.subject(), caller.token_type())
    /// }
    ///
    /// #[get("/whoami")]
    /// fn whoami(caller: ClerkPrincipal) -> String {
    ///     format!("{} {}", caller.token_type(), caller.subject())
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

clerk_verify::adapter_pages! {
    /// A request guard; its redirects are answered by the [`catchers()`], which must be
    /// registered. A session refreshed through the Backend API (`__refresh`, `CLERK_SECRET_KEY`)
    /// is signed in on this very request with the [`ClerkFairing`](crate::ClerkFairing), which
    /// sets the new cookies; without it, after a 307.
    ///
    /// ```no_run
    /// use clerk_rocket::{ClerkPage, HandshakeOptions, RequireSignIn, Verifier, VerifyOptions};
    /// use rocket::{get, routes};
    ///
    /// #[get("/")]
    /// fn home(page: ClerkPage) -> String {
    ///     format!("Hello, {}", page.as_ref().map_or("stranger", |user| user.user_id()))
    /// }
    ///
    /// /// Signed out: a 307 to the sign-in page, with `redirect_url` back to /dashboard.
    /// #[get("/dashboard")]
    /// fn dashboard(user: RequireSignIn) -> String {
    ///     format!("{}'s dashboard", user.user_id())
    /// }
    ///
    /// // What `Verifier::from_env()` makes of CLERK_PUBLISHABLE_KEY and CLERK_SIGN_IN_URL:
    /// let sign_in = HandshakeOptions::default().sign_in_url("https://accounts.example.com/sign-in");
    /// let options = VerifyOptions::default()
    ///     .publishable_key("pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk")
    ///     .handshake(sign_in);
    /// # let jwks = clerk_dev::fixtures::rsa2048().jwks_json();
    /// let rocket = rocket::build()
    ///     .manage(Verifier::from_jwks(&jwks, options)?)
    ///     .register("/", clerk_rocket::catchers())
    ///     .mount("/", routes![home, dashboard]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`catchers()`]: crate::catchers
    pub struct ClerkPage;
    /// A request guard; as for [`ClerkPage`], [`catchers()`] answer the redirects, and
    /// [`ClerkPage`]'s example has both.
    ///
    /// [`catchers()`]: crate::catchers
    pub struct RequireSignIn;
}
