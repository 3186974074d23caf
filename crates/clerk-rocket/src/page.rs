//! The page guards [`ClerkPage`] and [`RequireSignIn`], for server-rendered pages with Clerk's
//! handshake; their `FromRequest` is in `guard.rs`, with every guard's.

clerk_verify::adapter_pages! {
    /// A request guard. A session refreshed through the Backend API (`__refresh`) is signed in
    /// on this very request with the [`ClerkFairing`](crate::ClerkFairing), which sets the new
    /// cookies; without it, after a 307. Handshakes also need [`VerifyOptions::handshake`]
    /// (set by [`Verifier::from_env`] with `CLERK_PUBLISHABLE_KEY`). The redirects are answered
    /// by [`catchers()`], which must be registered.
    ///
    /// ```
    /// use clerk_rocket::{ClerkPage, HandshakeOptions, RequireSignIn, Verifier, VerifyOptions};
    /// use rocket::http::Status;
    /// use rocket::local::blocking::Client;
    /// use rocket::{get, routes};
    ///
    /// #[get("/")]
    /// fn home(page: ClerkPage) -> String {
    ///     format!("Hello, {}", page.as_ref().map_or("stranger", |user| user.user_id()))
    /// }
    ///
    /// #[get("/dashboard")]
    /// fn dashboard(user: RequireSignIn) -> String {
    ///     format!("{}'s dashboard", user.user_id())
    /// }
    ///
    /// # let jwks = clerk_dev::fixtures::rsa2048().jwks_json();
    /// // pk_test_ for fond-koala-12.clerk.accounts.dev; in production `Verifier::from_env()`.
    /// let pk = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";
    /// let sign_in = HandshakeOptions::default().sign_in_url("https://accounts.example.com/sign-in");
    /// let options = VerifyOptions::default().publishable_key(pk).handshake(sign_in);
    /// let rocket = rocket::build()
    ///     .manage(Verifier::from_jwks(&jwks, options)?)
    ///     .register("/", clerk_rocket::catchers())
    ///     .mount("/", routes![home, dashboard]);
    /// let client = Client::untracked(rocket)?;
    ///
    /// let home = client.get("/").dispatch();
    /// assert!(home.into_string().unwrap().contains("stranger"));
    /// let dashboard = client.get("/dashboard").dispatch();
    /// assert_eq!(dashboard.status(), Status::TemporaryRedirect);
    /// assert_eq!(
    ///     dashboard.headers().get_one("location"),
    ///     Some("https://accounts.example.com/sign-in?redirect_url=http%3A%2F%2Flocalhost%2Fdashboard"),
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`VerifyOptions::handshake`]: crate::VerifyOptions::handshake
    /// [`Verifier::from_env`]: crate::Verifier::from_env
    /// [`catchers()`]: crate::catchers
    pub struct ClerkPage;
    /// A request guard; as for [`ClerkPage`], [`catchers()`] answer the redirects, and
    /// [`ClerkPage`]'s example has both.
    ///
    /// [`catchers()`]: crate::catchers
    pub struct RequireSignIn;
}
