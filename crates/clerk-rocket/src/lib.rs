//! [Clerk](https://clerk.com) session authentication for [Rocket](https://rocket.rs) 0.5, on
//! [`clerk_verify`].
//!
//! The pieces, each in Rocket's own idiom:
//!
//! - [`ClerkAuth`]: a request guard for routes that need a signed-in user. It dereferences to
//!   the verified [`Auth`]. A signed-out request fails the guard with 401 (503 when the key
//!   source is down, 500 when the verifier is misconfigured).
//! - `Option<ClerkAuth>`: optional authentication. Rocket's blanket `Option` guard turns any
//!   failure into `None`, so a missing or bad token (or a key source that is down) never fails
//!   the request.
//! - [`RequireRole`] / [`RequirePermission`]: guards for an organization role or permission,
//!   named by a marker type implementing [`Role`] / [`Permission`]. Signed out gives 401 first;
//!   signed in without the role or permission gives 403. For checks decided at run time, call
//!   [`ClerkAuth::require_role`] / [`ClerkAuth::require_permission`] in the handler and return
//!   the [`ClerkError`] (a [`Responder`]).
//! - [`catchers()`]: catchers for 401, 403, 500 and 503 that answer a Clerk refusal as every
//!   Clerk adapter does (the core's [`clerk_verify::Refusal`]): a JSON body
//!   (`{"error":"unauthorized","reason":"token-expired","message":"…"}`), a `WWW-Authenticate`
//!   challenge on 401 (`Bearer`, with `error="invalid_token"` when a token was sent) and 403
//!   (`Bearer error="insufficient_scope"`), RFC 6750, and the debug headers. Rocket guards cannot
//!   write a response body themselves, so a failing guard stores its [`ClerkError`] in the
//!   request-local cache and these catchers render it. Errors of other origins get Rocket's
//!   default catcher, unchanged.
//! - [`ClerkFairing`]: adds Clerk's debug headers `x-clerk-auth-status` and `x-clerk-auth-reason`
//!   to every response of a request whose authentication ran, optional routes included (OPTIONS
//!   requests are never authenticated).
//!
//! The [`Verifier`] is managed state: `rocket.manage(verifier)`. A route using one of these guards
//! on a Rocket that manages no `Verifier` stops the launch (the guards are [`Sentinel`]s, as
//! `&State<T>` is).
//!
//! Authentication runs at most once per request, however many of these guards a route uses: the
//! result is kept in the request-local cache. It never blocks an executor thread: the verifier is
//! first asked without I/O ([`Verifier::try_authenticate`]); only when the key is not cached does
//! the verification (and its JWKS fetch) run on Rocket's blocking pool.
//!
//! Every token rule (where the token comes from, which cookie wins, what signed-in means) lives in
//! [`clerk_verify`]; this crate only reads the `Authorization` and `Cookie` headers and maps the
//! result to Rocket's types. Refusals are logged with the `log` crate at debug level under the
//! target `clerk_rocket::rejection` when they are answered (reason code and message), server-side
//! problems at error level under `clerk_rocket`; the token is never logged nor echoed.
//!
//! ```no_run
//! use clerk_rocket::{Auth, ClerkAuth, ClerkFairing, RequireRole, Role, Verifier};
//! use rocket::serde::json::{json, Value};
//! use rocket::{get, routes};
//!
//! /// Needs a signed-in user: 401 otherwise.
//! #[get("/me")]
//! fn me(auth: ClerkAuth) -> Value {
//!     json!({ "userId": auth.user_id(), "orgId": auth.org().map(|o| o.id.as_str()) })
//! }
//!
//! /// Signed in or not: never refused.
//! #[get("/hello")]
//! fn hello(auth: Option<ClerkAuth>) -> String {
//!     match auth {
//!         Some(auth) => format!("hello {}", auth.user_id()),
//!         None => "hello stranger".to_owned(),
//!     }
//! }
//!
//! /// The organization role `org:admin`.
//! struct Admin;
//! impl Role for Admin {
//!     const ROLE: &'static str = "org:admin";
//! }
//!
//! /// 401 when signed out, 403 without the role.
//! #[get("/admin")]
//! fn admin(admin: RequireRole<Admin>) -> String {
//!     let auth: &Auth = &admin;
//!     format!("welcome, admin {}", auth.user_id())
//! }
//!
//! #[rocket::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // CLERK_JWT_KEY, CLERK_SECRET_KEY, CLERK_JWKS_URL, CLERK_AUTHORIZED_PARTIES, ...
//!     let verifier = Verifier::from_env()?;
//!     let _ = rocket::build()
//!         .manage(verifier)
//!         .attach(ClerkFairing::default())
//!         .register("/", clerk_rocket::catchers())
//!         .mount("/", routes![me, hello, admin])
//!         .launch()
//!         .await?;
//!     Ok(())
//! }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use clerk_verify::{Authentication, Error, Forbidden, Refusal, SignedOut, AUTH_REASON_HEADER};
use rocket::catcher::{BoxFuture, Catcher};
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{ContentType, Header, Method, Status};
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use rocket::{Build, Ignite, Rocket, Sentinel};
use std::borrow::Cow;
use std::fmt;
use std::io::Cursor;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

pub use clerk_verify::{self, Auth, Verifier};
pub use clerk_verify::{REASON_MISSING_PERMISSION, REASON_MISSING_ROLE};

/// Reason code of a 500 when no [`Verifier`] is managed by the Rocket instance.
pub const REASON_VERIFIER_MISSING: &str = "verifier-not-managed";
/// Reason code of a 500 for an authentication state this version of the crate does not know (a
/// newer `clerk-verify`): never a signed-in user.
const REASON_INTERNAL: &str = "internal-error";

/// Name under which [`catchers()`] are registered (shown in Rocket's launch log).
const CATCHER_NAME: &str = "clerk_rocket::catchers";

/// Log target of server-side problems (error level).
const LOG_TARGET: &str = "clerk_rocket";
/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_rocket::rejection";

// ---------------------------------------------------------------------------------------------
// Per-request state
// ---------------------------------------------------------------------------------------------

/// What this crate keeps in a request's local cache.
#[derive(Default)]
struct RequestState {
    /// The authentication, computed once by the first guard that needs it. `Err` only when no
    /// verifier is managed.
    authentication: OnceLock<Result<Authentication, ClerkError>>,
    /// The refusal of the last guard that failed, for the catchers.
    rejection: Mutex<Option<ClerkError>>,
}

fn state<'r>(req: &'r Request<'_>) -> &'r RequestState {
    req.local_cache(RequestState::default)
}

/// Authenticates `req` once; later calls (other guards of the same request) get the cached result.
async fn authentication<'r>(req: &'r Request<'_>) -> &'r Result<Authentication, ClerkError> {
    let cached = &state(req).authentication;
    if let Some(done) = cached.get() {
        return done;
    }
    let result = authenticate(req).await;
    // Guards of one request run one after the other, so nothing else set it meanwhile; if
    // something did, the first result stays.
    cached.get_or_init(|| result)
}

/// Copies the two header values out of the request and lets the core decide.
async fn authenticate(req: &Request<'_>) -> Result<Authentication, ClerkError> {
    let Some(verifier) = req.rocket().state::<Verifier>() else {
        log::error!(
            target: LOG_TARGET,
            "clerk_rocket: no clerk_verify::Verifier is managed; call `rocket.manage(verifier)`"
        );
        return Err(ClerkError::verifier_missing());
    };
    let authorization = req.headers().get_one("Authorization");
    let cookies: Vec<&str> = req.headers().get("Cookie").collect();
    let cookie = if cookies.is_empty() {
        // No raw header: a local (test) request built with `LocalRequest::cookie`. The jar's
        // original cookies are the request's.
        let jar: Vec<String> = req
            .cookies()
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect();
        (!jar.is_empty()).then(|| jar.join("; "))
    } else {
        Some(cookies.join("; "))
    };
    let token = match verifier.find_token(authorization, cookie.as_deref()) {
        Ok(token) => token,
        Err(signed_out) => return Ok(signed_out),
    };
    if let Some(done) = verifier.try_authenticate(&token) {
        return Ok(done);
    }
    // The key is not in memory: the verifier may have to fetch it. Off the executor.
    let verifier = verifier.clone();
    match rocket::tokio::task::spawn_blocking(move || verifier.authenticate(&token)).await {
        Ok(done) => Ok(done),
        Err(e) => {
            log::error!(
                target: LOG_TARGET,
                "clerk_rocket: the verification task did not complete: {e}"
            );
            Ok(unfinished())
        }
    }
}

/// The signed-out state for a verification that did not complete (the task was cancelled or
/// panicked): the keys could not be had, so 503, never a panic.
fn unfinished() -> Authentication {
    Authentication::SignedOut(SignedOut::from_error(Error::JwkRemoteFailedToLoad(
        "the verification task did not complete".into(),
    )))
}

/// Records `error` for the catchers and fails the guard with it.
fn refuse<S>(req: &Request<'_>, error: ClerkError) -> request::Outcome<S, ClerkError> {
    let mut slot = state(req)
        .rejection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *slot = Some(error.clone());
    Outcome::Error((error.status(), error))
}

/// Sets Clerk's debug headers as the core lists them, replacing any already set: a signed-in
/// state leaves no `x-clerk-auth-reason` behind.
fn set_debug_headers(res: &mut Response<'_>, debug: &[(&'static str, &'static str)]) {
    res.remove_header(AUTH_REASON_HEADER);
    for &(name, value) in debug {
        if !value.is_empty() {
            res.set_header(Header::new(name, value));
        }
    }
}

fn verifier_managed(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    if rocket.state::<Verifier>().is_some() {
        return true;
    }
    log::error!(
        target: LOG_TARGET,
        "clerk_rocket: launching with a route that uses `{guard}`, but no \
         `clerk_verify::Verifier` is managed; call `rocket.manage(verifier)`"
    );
    false
}

// ---------------------------------------------------------------------------------------------
// The error / responder
// ---------------------------------------------------------------------------------------------

/// Why a Clerk guard refused a request: the guards' `Error` type and a [`Responder`].
///
/// It holds the core's [`Refusal`] and renders only that, so the response is the one every Clerk
/// adapter gives: a JSON body `{"error": …, "reason": …, "message": …}` with the status,
///
/// | status | `error` | `WWW-Authenticate` | when |
/// |---|---|---|---|
/// | 401 | `unauthorized` | `Bearer`, or `Bearer error="invalid_token"` when a token was sent | signed out: no token, or a token that was refused (`reason` says why) |
/// | 403 | `forbidden` | `Bearer error="insufficient_scope"` | signed in without the required role or permission |
/// | 503 | `service_unavailable` | none | the key source could not be reached, or the verification task did not complete |
/// | 500 | `internal_server_error` | none | the verifier is misconfigured, or none is managed |
///
/// and the `x-clerk-auth-status` / `x-clerk-auth-reason` debug headers
/// ([`Refusal::debug_headers`]).
///
/// Neither the `Display` text nor the body ever contains the token.
#[derive(Clone)]
pub struct ClerkError {
    refusal: Refusal,
    signed_out: Option<Arc<SignedOut>>,
}

impl ClerkError {
    /// The refusal for a signed-out request: 401, or 503 / 500 for a key source that is down or
    /// a misconfigured verifier ([`Refusal::from_signed_out`]).
    pub fn signed_out(signed_out: SignedOut) -> ClerkError {
        ClerkError {
            refusal: Refusal::from_signed_out(&signed_out),
            signed_out: Some(Arc::new(signed_out)),
        }
    }

    /// 403 ([`REASON_MISSING_ROLE`]) for a signed-in user whose active organization lacks
    /// `role`. [`ClerkAuth::require_role`] and [`RequireRole`] decide with
    /// [`Auth::require_role`]; this is for refusing without an [`Auth`] at hand.
    pub fn missing_role(role: &str) -> ClerkError {
        Forbidden::new(
            REASON_MISSING_ROLE,
            format!("this route requires the organization role {role:?}"),
        )
        .into()
    }

    /// 403 ([`REASON_MISSING_PERMISSION`]) for a signed-in user whose active organization lacks
    /// `permission`. [`ClerkAuth::require_permission`] and [`RequirePermission`] decide with
    /// [`Auth::require_permission`]; this is for refusing without an [`Auth`] at hand.
    pub fn missing_permission(permission: &str) -> ClerkError {
        Forbidden::new(
            REASON_MISSING_PERMISSION,
            format!("this route requires the organization permission {permission:?}"),
        )
        .into()
    }

    fn verifier_missing() -> ClerkError {
        Refusal::internal(
            REASON_VERIFIER_MISSING,
            "no clerk_verify::Verifier is managed by this Rocket instance: call `.manage(verifier)`",
        )
        .into()
    }

    /// For a request that authentication left in a state other than signed in.
    fn from_authentication(authn: &Authentication) -> ClerkError {
        match authn {
            Authentication::SignedOut(s) => ClerkError::signed_out(s.clone()),
            // Authentication is non-exhaustive: whatever a future state is, it is not signed in.
            _ => Refusal::internal(
                REASON_INTERNAL,
                "unknown authentication state (is clerk-rocket older than clerk-verify?)",
            )
            .into(),
        }
    }

    /// The response status: 401, 403, 500 or 503.
    pub fn status(&self) -> Status {
        Status::new(self.refusal.status())
    }

    /// The stable reason code: the core's (e.g. `token-expired`, `session-token-and-uat-missing`,
    /// `jwk-remote-failed-to-load`), or [`REASON_MISSING_ROLE`], [`REASON_MISSING_PERMISSION`],
    /// [`REASON_VERIFIER_MISSING`], or `internal-error` for an authentication state this crate
    /// does not know (a newer `clerk-verify`).
    pub fn reason(&self) -> &'static str {
        self.refusal.reason()
    }

    /// What went wrong, in words (never contains the token).
    pub fn message(&self) -> &str {
        self.refusal.message()
    }

    /// The body's `error` member: `unauthorized`, `forbidden`, `service_unavailable` or
    /// `internal_server_error`.
    pub fn error_code(&self) -> &'static str {
        self.refusal.error()
    }

    /// Whether the request carried a token (a 401 then says `error="invalid_token"`; a 403 is
    /// always about a token that was sent and accepted).
    pub fn token_sent(&self) -> bool {
        match &self.signed_out {
            Some(s) => s.token_sent(),
            None => self.refusal.status() == Status::Forbidden.code,
        }
    }

    /// The core's signed-out state, when that is what this refusal is about.
    pub fn signed_out_state(&self) -> Option<&SignedOut> {
        self.signed_out.as_deref()
    }

    /// The core's [`Refusal`] this error renders.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }
}

impl From<Refusal> for ClerkError {
    fn from(refusal: Refusal) -> ClerkError {
        ClerkError {
            refusal,
            signed_out: None,
        }
    }
}

/// A 403, e.g. `auth.require_role("org:admin")?` on an [`Auth`].
impl From<Forbidden> for ClerkError {
    fn from(forbidden: Forbidden) -> ClerkError {
        Refusal::from_forbidden(&forbidden).into()
    }
}

impl fmt::Debug for ClerkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rocket logs a failed guard's error with `{:?}`: keep it to the code and reason.
        f.debug_struct("ClerkError")
            .field("status", &self.refusal.status())
            .field("reason", &self.refusal.reason())
            .finish()
    }
}

impl fmt::Display for ClerkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.refusal.error(),
            self.refusal.reason(),
            self.refusal.message()
        )
    }
}

impl std::error::Error for ClerkError {}

impl<'r> Responder<'r, 'static> for ClerkError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let refusal = &self.refusal;
        log::debug!(
            target: LOG_TARGET_REJECTION,
            "clerk_rocket: refused with {} ({}): {}",
            refusal.status(),
            refusal.reason(),
            refusal.message()
        );
        let body = refusal.json_body();
        let mut res = Response::build();
        res.status(self.status())
            .header(ContentType::JSON)
            .sized_body(body.len(), Cursor::new(body));
        if let Some(challenge) = refusal.www_authenticate() {
            res.raw_header("WWW-Authenticate", challenge);
        }
        let mut res = res.finalize();
        set_debug_headers(&mut res, &refusal.debug_headers());
        Ok(res)
    }
}

// ---------------------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------------------

/// Request guard: the request carries a valid Clerk session token. Dereferences to [`Auth`].
///
/// Fails with [`ClerkError`] (401, or 503 / 500; rendered by [`catchers()`]). Use
/// `Option<ClerkAuth>` for routes that serve signed-out requests too: Rocket maps every failure
/// of the inner guard to `None`. On OPTIONS requests (CORS preflights) it never authenticates and
/// forwards instead.
///
/// ```no_run
/// # use rocket::get;
/// use clerk_rocket::ClerkAuth;
///
/// #[get("/whoami")]
/// fn whoami(auth: ClerkAuth) -> String {
///     auth.user_id().to_owned()
/// }
/// ```
#[derive(Debug, Clone)]
pub struct ClerkAuth(Auth);

impl ClerkAuth {
    /// The verified session.
    pub fn auth(&self) -> &Auth {
        &self.0
    }

    /// Consumes the guard into the verified session.
    pub fn into_inner(self) -> Auth {
        self.0
    }

    /// `Ok` when the active organization role is `role`, else the 403 refusal to return from
    /// the handler ([`Auth::require_role`]).
    ///
    /// ```no_run
    /// # use rocket::get;
    /// use clerk_rocket::{ClerkAuth, ClerkError};
    ///
    /// #[get("/reports/<org>")]
    /// fn reports(org: &str, auth: ClerkAuth) -> Result<String, ClerkError> {
    ///     auth.require_role("org:admin")?;
    ///     Ok(format!("reports of {org}"))
    /// }
    /// ```
    pub fn require_role(&self, role: &str) -> Result<&Auth, ClerkError> {
        self.0.require_role(role)?;
        Ok(&self.0)
    }

    /// `Ok` when the active organization grants `permission`, else the 403 refusal to return
    /// from the handler ([`Auth::require_permission`]).
    pub fn require_permission(&self, permission: &str) -> Result<&Auth, ClerkError> {
        self.0.require_permission(permission)?;
        Ok(&self.0)
    }
}

impl Deref for ClerkAuth {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl From<ClerkAuth> for Auth {
    fn from(guard: ClerkAuth) -> Auth {
        guard.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClerkAuth {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        if req.method() == Method::Options {
            // Preflights are never authenticated (and never refused for a missing token).
            return Outcome::Forward(Status::Unauthorized);
        }
        match authentication(req).await {
            Ok(Authentication::SignedIn(auth)) => Outcome::Success(ClerkAuth(auth.clone())),
            Ok(other) => refuse(req, ClerkError::from_authentication(other)),
            Err(e) => refuse(req, e.clone()),
        }
    }
}

impl Sentinel for ClerkAuth {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "ClerkAuth")
    }
}

/// An organization role, for [`RequireRole`]: a marker type naming the role.
///
/// ```
/// struct Admin;
/// impl clerk_rocket::Role for Admin {
///     const ROLE: &'static str = "org:admin";
/// }
/// ```
pub trait Role: Send + Sync + 'static {
    /// The role, `org:`-prefixed as in Clerk's session tokens (e.g. `"org:admin"`).
    const ROLE: &'static str;
}

/// An organization permission, for [`RequirePermission`]: a marker type naming the permission.
///
/// ```
/// struct ReadInvoices;
/// impl clerk_rocket::Permission for ReadInvoices {
///     const PERMISSION: &'static str = "org:invoices:read";
/// }
/// ```
pub trait Permission: Send + Sync + 'static {
    /// The permission, as Clerk names it (e.g. `"org:invoices:read"`).
    const PERMISSION: &'static str;
}

/// Request guard: signed in (else 401, like [`ClerkAuth`]) with the organization role `R::ROLE`
/// (else 403 `missing-role`). Dereferences to [`Auth`].
///
/// ```no_run
/// # use rocket::get;
/// use clerk_rocket::{RequireRole, Role};
///
/// struct Admin;
/// impl Role for Admin {
///     const ROLE: &'static str = "org:admin";
/// }
///
/// #[get("/admin")]
/// fn admin(admin: RequireRole<Admin>) -> String {
///     format!("hello admin {}", admin.user_id())
/// }
/// ```
pub struct RequireRole<R: Role> {
    auth: ClerkAuth,
    role: PhantomData<fn() -> R>,
}

impl<R: Role> RequireRole<R> {
    /// The signed-in guard.
    pub fn into_inner(self) -> ClerkAuth {
        self.auth
    }
}

impl<R: Role> fmt::Debug for RequireRole<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireRole")
            .field("role", &R::ROLE)
            .field("auth", &self.auth)
            .finish()
    }
}

impl<R: Role> Deref for RequireRole<R> {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.auth
    }
}

#[rocket::async_trait]
impl<'r, R: Role> FromRequest<'r> for RequireRole<R> {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        let auth = try_outcome!(ClerkAuth::from_request(req).await);
        if let Err(refusal) = auth.require_role(R::ROLE) {
            return refuse(req, refusal);
        }
        Outcome::Success(RequireRole {
            auth,
            role: PhantomData,
        })
    }
}

impl<R: Role> Sentinel for RequireRole<R> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "RequireRole")
    }
}

/// Request guard: signed in (else 401, like [`ClerkAuth`]) with the organization permission
/// `P::PERMISSION` (else 403 `missing-permission`). Dereferences to [`Auth`].
///
/// ```no_run
/// # use rocket::get;
/// use clerk_rocket::{Permission, RequirePermission};
///
/// struct ReadInvoices;
/// impl Permission for ReadInvoices {
///     const PERMISSION: &'static str = "org:invoices:read";
/// }
///
/// #[get("/invoices")]
/// fn invoices(reader: RequirePermission<ReadInvoices>) -> String {
///     format!("invoices for {}", reader.user_id())
/// }
/// ```
pub struct RequirePermission<P: Permission> {
    auth: ClerkAuth,
    permission: PhantomData<fn() -> P>,
}

impl<P: Permission> RequirePermission<P> {
    /// The signed-in guard.
    pub fn into_inner(self) -> ClerkAuth {
        self.auth
    }
}

impl<P: Permission> fmt::Debug for RequirePermission<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequirePermission")
            .field("permission", &P::PERMISSION)
            .field("auth", &self.auth)
            .finish()
    }
}

impl<P: Permission> Deref for RequirePermission<P> {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.auth
    }
}

#[rocket::async_trait]
impl<'r, P: Permission> FromRequest<'r> for RequirePermission<P> {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        let auth = try_outcome!(ClerkAuth::from_request(req).await);
        if let Err(refusal) = auth.require_permission(P::PERMISSION) {
            return refuse(req, refusal);
        }
        Outcome::Success(RequirePermission {
            auth,
            permission: PhantomData,
        })
    }
}

impl<P: Permission> Sentinel for RequirePermission<P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "RequirePermission")
    }
}

// ---------------------------------------------------------------------------------------------
// Catchers and fairing
// ---------------------------------------------------------------------------------------------

fn catch<'r>(status: Status, req: &'r Request<'_>) -> BoxFuture<'r> {
    let rejection = state(req)
        .rejection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
        .filter(|e| e.status() == status);
    Box::pin(async move {
        match rejection {
            Some(error) => error.respond_to(req),
            // Not ours: Rocket's default answer, as if these catchers were not registered.
            None => Catcher::default().handler.handle(status, req).await,
        }
    })
}

/// Catchers for 401, 403, 500 and 503 that render a Clerk guard's refusal ([`ClerkError`]): the
/// JSON body, the `WWW-Authenticate` challenge and the debug headers of its [`Refusal`]. Register them at the root:
/// `rocket.register("/", clerk_rocket::catchers())`.
///
/// An error of those statuses that no Clerk guard produced gets Rocket's default catcher. If the
/// app has its own catchers for these statuses, register these at a narrower base instead, or
/// call [`rejection`] from yours.
pub fn catchers() -> Vec<Catcher> {
    [401, 403, 500, 503]
        .into_iter()
        .map(|code| {
            let mut catcher = Catcher::new(code, catch);
            catcher.name = Some(Cow::Borrowed(CATCHER_NAME));
            catcher
        })
        .collect()
}

/// The refusal of the Clerk guard that failed this request, if any: for apps that write their
/// own catchers (`error.respond_to(req)` gives the standard response).
pub fn rejection(req: &Request<'_>) -> Option<ClerkError> {
    state(req)
        .rejection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// The result of this request's Clerk authentication, if a guard ran it.
pub fn authentication_of<'r>(req: &'r Request<'_>) -> Option<&'r Authentication> {
    state(req).authentication.get()?.as_ref().ok()
}

/// Fairing that adds Clerk's debug headers (`x-clerk-auth-status`, `x-clerk-auth-reason`, as
/// [`Authentication::debug_headers`] lists them: no reason when signed in) to the responses of
/// requests whose authentication ran: on success as on refusal, optional routes included.
/// OPTIONS requests are skipped. At ignite it warns when [`catchers()`] are not registered at
/// `/`.
///
/// ```no_run
/// # let verifier: clerk_rocket::Verifier = unimplemented!();
/// let rocket = rocket::build()
///     .manage(verifier)
///     .attach(clerk_rocket::ClerkFairing::default())
///     .register("/", clerk_rocket::catchers());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClerkFairing {
    _private: (),
}

impl ClerkFairing {
    /// The fairing.
    pub fn new() -> ClerkFairing {
        ClerkFairing::default()
    }
}

#[rocket::async_trait]
impl Fairing for ClerkFairing {
    fn info(&self) -> Info {
        Info {
            name: "Clerk auth debug headers",
            kind: Kind::Ignite | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let registered = rocket.catchers().any(|c| {
            c.name.as_deref() == Some(CATCHER_NAME) && c.code == Some(Status::Unauthorized.code)
        });
        if !registered {
            log::warn!(
                target: LOG_TARGET,
                "clerk_rocket: catchers are not registered; refusals will get Rocket's default \
                 bodies without WWW-Authenticate. Add `.register(\"/\", clerk_rocket::catchers())`"
            );
        }
        Ok(rocket)
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if req.method() == Method::Options {
            return;
        }
        if let Some(Ok(authn)) = state(req).authentication.get() {
            set_debug_headers(res, &authn.debug_headers());
        }
    }
}
