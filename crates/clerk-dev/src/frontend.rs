//! [`FrontendApi`]: the parts of Clerk's Frontend and Backend APIs that server-rendered pages
//! use, emulated on the dev issuer's [`crate::JwksServer`], so pages can be tested offline, in a
//! real browser too:
//!
//! - `GET /v1/client/handshake?redirect_url=…[&__session=…][&format=nonce][&__clerk_db_jwt=…]
//!   [&organization_id=…]` (Frontend API): finds the browser's session and sends the browser
//!   back to `redirect_url` with fresh cookies in a signed handshake token
//!   (`__clerk_handshake`) or, with `format=nonce`, a one-time nonce
//!   (`__clerk_handshake_nonce`). The session is the browser's *client*'s (see below) or, for a
//!   browser without one, the one the expired or stale token the app passes along names, when
//!   that token is one of this issuer's and expired less than a session lifetime ago (see
//!   [`FrontendApi::session_lifetime`]); otherwise (no token, another issuer's, too old,
//!   revoked) the browser gets signed-out cookies. `organization_id` (an id or a slug, empty for
//!   the personal account) activates that organization if the user is a member
//!   ([`FrontendApi::add_membership`]), and leaves the session's otherwise;
//! - `GET /v1/clients/handshake_payload?nonce=…` (Backend API, bearer secret): the nonce's
//!   cookie directives, once;
//! - `POST /v1/sessions/{sid}/refresh` (Backend API, bearer secret, Clerk's `refreshSession`
//!   with `format: "cookie"`): new session cookies for an expired token of the session and the
//!   session's refresh token (`__refresh_<suffix>`, set by the sign-in page when the cookie
//!   suffix is known: [`FrontendApi::cookie_suffix`]);
//! - `GET /dev/sign-in?user_id=…&redirect_url=…[&expired=1][&org_id=…&org_slug=…]`
//!   `[&org_role=…]` (ours): signs a browser in by setting `__session`, `__client_uat` (and
//!   `__refresh_<suffix>`, `__clerk_db_jwt`) on this host (cookies ignore ports, so an app on
//!   another 127.0.0.1 port sees them) and sends it to `redirect_url` (or, without one, to
//!   `sign_in_fallback_redirect_url`); `expired=1` sets a session token that expired a minute
//!   ago, the state a handshake or a refresh repairs; a `__clerk_db_jwt` it knows (a development
//!   app's sign-in redirect passes it) gets the session and goes back in the URL, so that an app
//!   on another host has the Frontend API set its cookies (`dev-browser-sync`). Without
//!   `user_id` it shows a small sign-in form.
//!
//! A browser's **client** is what Clerk's Frontend API keeps of it: here an id, in the
//! `__client` cookie on the issuer's host (production instances), and the same id as the dev
//! browser token `__clerk_db_jwt` (development instances, whose Frontend API cannot rely on its
//! own cookies). The sign-in page binds the new session to the browser's client; a handshake of a
//! development flow (`__clerk_db_jwt` given, or `dev-browser-missing`) finds the client by its
//! dev browser token, making one when it has none, and sets `__clerk_db_jwt` on the app. That is
//! how a satellite syncs: its handshake finds the session the primary's client holds.
//!
//! Every redirecting endpoint goes only to loopback origins and to the origins allowed with
//! [`FrontendApi::allow_redirect_origin`]; any other `redirect_url` (or none) is answered 400
//! with a plain-text reason, never a redirect.

use crate::jws::b64url_decode;
use crate::keys::DevKey;
use crate::mint::{now_unix, TokenBuilder};
use crate::redirect::{RedirectPolicy, Refusal, Target};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Lifetime of a nonce and of a handshake token, in seconds.
const HANDSHAKE_TTL: i64 = 60;
/// Lifetime of the session tokens it mints (Clerk's: 60 s).
const SESSION_TTL: i64 = 60;
/// How far in the future a renewed token's `iat` may be (clock differences between machines).
const CLOCK_SKEW: i64 = 5;
/// Most nonces kept at once, and most clients and refresh tokens.
const MAX_NONCES: usize = 10_000;
const MAX_CLIENTS: usize = 10_000;
/// Lifetime of a refresh token, in seconds.
const REFRESH_TTL: i64 = 7 * 24 * 3600;
/// The Frontend API's own cookie naming the browser's client (production instances).
const CLIENT_COOKIE: &str = "__client";

/// The handshake endpoints of a dev issuer. Build one, then hand it to
/// [`crate::JwksServer::serve_frontend_api`].
///
/// It redirects browsers only to loopback origins (`127.0.0.0/8`, `[::1]`, `localhost`, any
/// port, http or https) and to those allowed with [`allow_redirect_origin`](Self::allow_redirect_origin),
/// and renews a session only from a token it could have minted itself (see
/// [`session_lifetime`](Self::session_lifetime)).
///
/// ```
/// use clerk_dev::{fixtures, FrontendApi, JwksServer};
/// use std::time::Duration;
///
/// let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
/// let fapi = FrontendApi::new(fixtures::rsa2048().clone())
///     .allow_redirect_origin("https://app.example.test")
///     .expect("an origin")
///     .session_lifetime(Duration::from_secs(600));
/// let fapi = server.serve_frontend_api(fapi);
/// assert_eq!(fapi.handshakes(), 0);
/// ```
#[derive(Debug)]
pub struct FrontendApi {
    key: DevKey,
    issuer: Mutex<Option<String>>,
    cookie_suffix: Option<String>,
    secret_key: Option<String>,
    redirects: RedirectPolicy,
    /// Seconds after its token's `exp` during which a session can still be renewed.
    session_lifetime: i64,
    nonces: Mutex<HashMap<String, (Vec<String>, i64)>>,
    revoked: Mutex<HashSet<String>>,
    /// Each browser's client (its id is also its dev browser token) and its session.
    clients: Mutex<HashMap<String, Option<Session>>>,
    /// Organizations each user belongs to.
    memberships: Mutex<HashMap<String, Vec<OrgClaim>>>,
    /// Refresh tokens, with their session id and expiry.
    refresh_tokens: Mutex<HashMap<String, (String, i64)>>,
    refreshes: AtomicUsize,
    /// The handshake answers with only this list of directives (tests of a broken instance).
    forced: Mutex<Option<Vec<String>>>,
    handshakes: AtomicUsize,
    exchanges: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A response from one of the endpoints: status, headers, body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

impl Reply {
    fn redirect(location: String, cookies: Vec<String>) -> Reply {
        let mut headers = vec![
            ("Location", location),
            ("Cache-Control", "no-store".to_owned()),
        ];
        headers.extend(cookies.into_iter().map(|c| ("Set-Cookie", c)));
        Reply {
            status: 307,
            headers,
            content_type: "text/plain",
            body: String::new(),
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "application/json",
            body: json!({ "errors": [{ "code": code, "message": message }] }).to_string(),
        }
    }

    /// A 400 a person reads in the browser that was sent here: what was wrong, in plain text.
    fn refused(message: &str) -> Reply {
        Reply {
            status: 400,
            headers: vec![
                ("Cache-Control", "no-store".to_owned()),
                ("X-Content-Type-Options", "nosniff".to_owned()),
            ],
            content_type: "text/plain; charset=utf-8",
            body: format!("Bad request (clerk-verify dev issuer): {message}.\n"),
        }
    }
}

/// What a renewed session keeps of the token that named it: the user, the session and the
/// organization as this issuer mints it (`o`: `id`, `rol`, `slg`). Everything
/// else (`azp`, times, `iss`, any other claim) is minted anew or dropped.
#[derive(Debug, Clone)]
struct Session {
    sub: String,
    sid: String,
    org: Option<OrgClaim>,
}

/// An organization as a session carries it, and a membership.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrgClaim {
    id: String,
    role: String,
    slug: Option<String>,
}

impl FrontendApi {
    /// How long after its last token expired a session can still be renewed by a handshake,
    /// unless set with [`session_lifetime`](Self::session_lifetime): one hour.
    pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(3600);

    /// Endpoints that sign with `key` (the key whose JWKS the server serves).
    pub fn new(key: DevKey) -> FrontendApi {
        FrontendApi {
            key,
            issuer: Mutex::new(None),
            cookie_suffix: None,
            secret_key: None,
            redirects: RedirectPolicy::default(),
            session_lifetime: secs(Self::DEFAULT_SESSION_LIFETIME),
            nonces: Mutex::new(HashMap::new()),
            revoked: Mutex::new(HashSet::new()),
            clients: Mutex::new(HashMap::new()),
            memberships: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            refreshes: AtomicUsize::new(0),
            forced: Mutex::new(None),
            handshakes: AtomicUsize::new(0),
            exchanges: AtomicUsize::new(0),
        }
    }

    /// The `iss` of the tokens it mints (default: the server's own URL). Only tokens with this
    /// `iss` renew a session.
    #[must_use]
    pub fn issuer(self, issuer: impl Into<String>) -> FrontendApi {
        *lock(&self.issuer) = Some(issuer.into());
        self
    }

    /// The cookie suffix of the app's publishable key ([`crate::cookie_suffix`]): for
    /// `suffixed_cookies=true` handshakes and refreshes, and the name of the refresh-token
    /// cookie the sign-in page sets (`__refresh_<suffix>`; without a suffix it sets none).
    #[must_use]
    pub fn cookie_suffix(mut self, suffix: impl Into<String>) -> FrontendApi {
        self.cookie_suffix = Some(suffix.into());
        self
    }

    /// The secret key the nonce exchange requires as `Authorization: Bearer` (default: any
    /// bearer is accepted).
    #[must_use]
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> FrontendApi {
        self.secret_key = Some(secret_key.into());
        self
    }

    /// Also redirects browsers to `origin` (and mints sessions whose `azp` is that origin), for
    /// an app that is not on a loopback address, e.g. `https://app.example.test`. Loopback
    /// origins are always allowed. Call it once per origin.
    ///
    /// # Errors
    /// A message when `origin` is not an `http://` or `https://` origin written canonically
    /// (lower-case host, no default port, no path, query, fragment or credentials).
    pub fn allow_redirect_origin(mut self, origin: &str) -> Result<FrontendApi, String> {
        self.redirects.allow(origin).map_err(|e| e.to_string())?;
        Ok(self)
    }

    /// How long after its token expired a session can still be renewed by a handshake
    /// (default [`DEFAULT_SESSION_LIFETIME`](Self::DEFAULT_SESSION_LIFETIME), whole seconds).
    ///
    /// A session is renewed only from a token that this issuer signed (its key and `kid`),
    /// whose `iss` is this issuer's, that has an `iat` (not in the future) and an `exp` less
    /// than this long ago, and a `sub` and `sid`; its session must not be revoked. Each
    /// renewal mints a 60-second token, so a browser that comes back within this lifetime
    /// stays signed in; one that stays away longer is signed out, as are tokens from another
    /// issuer or from long ago, whatever their claims.
    #[must_use]
    pub fn session_lifetime(mut self, lifetime: Duration) -> FrontendApi {
        self.session_lifetime = secs(lifetime);
        self
    }

    /// Revokes a session (by `sid`): its next handshake or refresh signs the browser out.
    pub fn revoke(&self, sid: &str) {
        lock(&self.revoked).insert(sid.to_owned());
    }

    /// Makes `user` a member of the organization `org_id` (slug `slug`) with `role` (e.g.
    /// `org:member`): a handshake with `organization_id=<org_id or slug>` may activate it. The
    /// sign-in page's `org_id` registers one too.
    pub fn add_membership(&self, user: &str, org_id: &str, slug: &str, role: &str) {
        let org = OrgClaim {
            id: org_id.to_owned(),
            role: role.to_owned(),
            slug: Some(slug.to_owned()),
        };
        let mut memberships = lock(&self.memberships);
        let orgs = memberships.entry(user.to_owned()).or_default();
        orgs.retain(|o| o.id != org.id);
        orgs.push(org);
    }

    /// From now on every handshake answers with exactly these directives (`None`: normal).
    /// Empty directives emulate an instance whose keys do not match the app's, which loops.
    pub fn force_directives(&self, directives: Option<Vec<String>>) {
        *lock(&self.forced) = directives;
    }

    /// Handshakes started so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    /// Nonces exchanged so far (successfully or not).
    pub fn exchanges(&self) -> usize {
        self.exchanges.load(Ordering::SeqCst)
    }

    /// Session refreshes asked for so far (successfully or not).
    pub fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }

    /// Handles `path` (with `query`), or `None` when it is not one of its endpoints.
    pub(crate) fn handle(
        &self,
        base_url: &str,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Option<Reply> {
        let refresh = path
            .strip_prefix("/v1/sessions/")
            .and_then(|rest| rest.strip_suffix("/refresh"));
        let known = matches!(
            path,
            "/v1/client/handshake" | "/v1/clients/handshake_payload" | "/dev/sign-in"
        );
        if !known && refresh.is_none() {
            return None;
        }
        let expected = if refresh.is_some() { "POST" } else { "GET" };
        if method != expected {
            return Some(Reply::error(
                405,
                "method_not_allowed",
                "method not allowed",
            ));
        }
        let params = Params::parse(query);
        Some(match (path, refresh) {
            (_, Some(sid)) => self.refresh(base_url, sid, &params, headers, body),
            ("/v1/client/handshake", _) => self.handshake(base_url, &params, headers),
            ("/v1/clients/handshake_payload", _) => self.exchange(&params, headers),
            _ => self.sign_in(base_url, &params, headers),
        })
    }

    fn issuer_for(&self, base_url: &str) -> String {
        lock(&self.issuer)
            .clone()
            .unwrap_or_else(|| base_url.to_owned())
    }

    /// The redirect target of a request, or the 400 that refuses it.
    fn target<'p>(&self, params: &'p Params) -> Result<Target<'p>, Reply> {
        let refused = |r: Refusal| Reply::refused(&r.to_string());
        if params.count("redirect_url") > 1 {
            return Err(refused(Refusal::Repeated));
        }
        let url = params
            .get("redirect_url")
            .ok_or_else(|| refused(Refusal::Missing))?;
        self.redirects.check(url).map_err(refused)
    }

    fn handshake(&self, base_url: &str, params: &Params, headers: &[(String, String)]) -> Reply {
        self.handshakes.fetch_add(1, Ordering::SeqCst);
        let back = match self.target(params) {
            Ok(back) => back,
            Err(reply) => return reply,
        };
        let repeatable = [
            "__session",
            "format",
            "suffixed_cookies",
            "__clerk_db_jwt",
            "organization_id",
            "__clerk_hs_reason",
        ];
        if let Some(name) = params.repeated(&repeatable) {
            return Reply::refused(&format!("{name} is given more than once"));
        }
        let suffix = match (params.get("suffixed_cookies"), &self.cookie_suffix) {
            (Some("true"), Some(suffix)) => Some(suffix.as_str()),
            _ => None,
        };
        let now = now_unix();
        // A development flow keys the browser by its dev browser token (an unknown one is a
        // new browser); any other handshake by this host's client cookie.
        let development = params.get("__clerk_db_jwt").is_some()
            || matches!(
                params.get("__clerk_hs_reason"),
                Some("dev-browser-missing" | "dev-browser-sync")
            );
        let known = |id: &str| lock(&self.clients).contains_key(id);
        let client = match development {
            true => params.get("__clerk_db_jwt").filter(|id| known(id)),
            false => cookie(headers, CLIENT_COOKIE).filter(|id| known(id)),
        }
        .map(str::to_owned);
        let client = match (client, development) {
            (Some(client), _) => Some(client),
            (None, true) => match self.new_client() {
                Some(client) => Some(client),
                None => return Reply::error(429, "too_many_requests", "too many clients"),
            },
            (None, false) => None,
        };
        let forced = lock(&self.forced).clone();
        let directives = match forced {
            Some(directives) => directives,
            None => {
                let held = client.as_deref().and_then(|c| self.client_session(c));
                let mut session = held.or_else(|| {
                    params
                        .get("__session")
                        .and_then(|t| self.renewable(base_url, t, now))
                });
                if let (Some(session), Some(wanted)) =
                    (session.as_mut(), params.get("organization_id"))
                {
                    self.activate(session, wanted);
                }
                if let Some(client) = &client {
                    lock(&self.clients).insert(client.clone(), session.clone());
                }
                let mut directives = match session {
                    Some(session) => {
                        let token = self.mint(base_url, &session, &back.origin, now);
                        session_directives(suffix, &token, now)
                    }
                    None => signed_out_directives(suffix),
                };
                if let (true, Some(client)) = (development, &client) {
                    directives.push(format!(
                        "{}={client}; Path=/; SameSite=Lax; Max-Age=315360000",
                        suffixed("__clerk_db_jwt", suffix)
                    ));
                }
                directives
            }
        };
        let (name, value) = if params.get("format") == Some("nonce") {
            let nonce = random_id("nonce");
            let mut nonces = lock(&self.nonces);
            nonces.retain(|_, (_, until)| *until > now);
            if nonces.len() >= MAX_NONCES {
                return Reply::error(429, "too_many_requests", "too many pending handshakes");
            }
            nonces.insert(nonce.clone(), (directives, now + HANDSHAKE_TTL));
            ("__clerk_handshake_nonce", nonce)
        } else {
            let token = TokenBuilder::empty()
                .header("typ", "JWT")
                // Unique, as every real handshake is: the app refuses one it has seen.
                .claim("jti", random_id("hs"))
                .claim("handshake", directives)
                .claim("iat", now)
                .claim("exp", now + HANDSHAKE_TTL)
                .sign(&self.key);
            ("__clerk_handshake", token)
        };
        Reply::redirect(with_param(back.url, name, &value), Vec::new())
    }

    /// A new client (its id is also its dev browser token), if there is room for one.
    fn new_client(&self) -> Option<String> {
        let mut clients = lock(&self.clients);
        if clients.len() >= MAX_CLIENTS {
            return None;
        }
        let id = random_id("dvb");
        clients.insert(id.clone(), None);
        Some(id)
    }

    /// The session a client holds, unless it was revoked since.
    fn client_session(&self, client: &str) -> Option<Session> {
        let session = lock(&self.clients).get(client).cloned().flatten()?;
        (!lock(&self.revoked).contains(&session.sid)).then_some(session)
    }

    /// Activates the organization `wanted` names (id or slug; empty: the personal account) if
    /// the session's user is a member; otherwise the session keeps its own.
    fn activate(&self, session: &mut Session, wanted: &str) {
        if wanted.is_empty() {
            session.org = None;
            return;
        }
        let memberships = lock(&self.memberships);
        let member = memberships.get(&session.sub).and_then(|orgs| {
            orgs.iter()
                .find(|o| o.id == wanted || o.slug.as_deref() == Some(wanted))
        });
        if let Some(org) = member {
            session.org = Some(org.clone());
        }
    }

    /// `POST /v1/sessions/{sid}/refresh`: the Backend API's session refresh, for an expired
    /// token of this issuer of session `sid`, its refresh token, and a `request_origin` this
    /// issuer may authorize (the new token's `azp`). Anything else is a 4xx.
    fn refresh(
        &self,
        base_url: &str,
        sid: &str,
        params: &Params,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Reply {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        if !self.authorized(headers) {
            return Reply::error(
                401,
                "clerk_key_invalid",
                "The provided Clerk Secret Key is invalid.",
            );
        }
        let invalid = |message: &str| Reply::error(400, "refresh_invalid", message);
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return invalid("the body is not a JSON object");
        };
        let text = |name: &str| body.get(name).and_then(Value::as_str);
        if text("format") != Some("cookie") {
            return invalid("format must be \"cookie\"");
        }
        let (Some(expired), Some(refresh), Some(origin)) = (
            text("expired_token"),
            text("refresh_token"),
            text("request_origin"),
        ) else {
            return invalid("expired_token, refresh_token and request_origin are required");
        };
        let now = now_unix();
        let bound = lock(&self.refresh_tokens)
            .get(refresh)
            .is_some_and(|(s, until)| s == sid && *until > now);
        if !bound {
            return invalid("the refresh token is not this session's, or has expired");
        }
        let Some(session) = self.renewable(base_url, expired, now) else {
            return invalid("the expired token is not a renewable session of this issuer");
        };
        if session.sid != sid {
            return invalid("the expired token is of another session");
        }
        let Ok(target) = self.redirects.check(origin) else {
            return invalid("request_origin is not an origin this issuer authorizes");
        };
        let suffix = match (params.get("suffixed_cookies"), &self.cookie_suffix) {
            (Some("true"), Some(suffix)) => Some(suffix.as_str()),
            _ => None,
        };
        let token = self.mint(base_url, &session, &target.origin, now);
        Reply {
            status: 200,
            headers: Vec::new(),
            content_type: "application/json",
            body: json!({
                "object": "cookies",
                "cookies": session_directives(suffix, &token, now),
            })
            .to_string(),
        }
    }

    /// Whether a Backend API request carries the secret key (any bearer when none is set).
    fn authorized(&self, headers: &[(String, String)]) -> bool {
        let bearer = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .and_then(|(_, v)| v.strip_prefix("Bearer "));
        match (&self.secret_key, bearer) {
            (Some(secret), Some(bearer)) => secret == bearer,
            (None, Some(bearer)) => !bearer.is_empty(),
            _ => false,
        }
    }

    fn exchange(&self, params: &Params, headers: &[(String, String)]) -> Reply {
        self.exchanges.fetch_add(1, Ordering::SeqCst);
        if !self.authorized(headers) {
            return Reply::error(
                401,
                "clerk_key_invalid",
                "The provided Clerk Secret Key is invalid.",
            );
        }
        let taken = params
            .get("nonce")
            .filter(|_| params.count("nonce") == 1)
            .and_then(|nonce| lock(&self.nonces).remove(nonce));
        match taken {
            Some((directives, until)) if until > now_unix() => Reply {
                status: 200,
                headers: Vec::new(),
                content_type: "application/json",
                body: json!({ "directives": directives }).to_string(),
            },
            _ => Reply::error(
                400,
                "invalid_nonce",
                "The nonce provided is invalid or has expired",
            ),
        }
    }

    fn sign_in(&self, base_url: &str, params: &Params, headers: &[(String, String)]) -> Reply {
        let repeatable = [
            "user_id",
            "expired",
            "__clerk_db_jwt",
            "org_id",
            "org_role",
            "org_slug",
            "sign_in_fallback_redirect_url",
        ];
        if let Some(name) = params.repeated(&repeatable) {
            return Reply::refused(&format!("{name} is given more than once"));
        }
        let user = params.get("user_id").filter(|u| is_id(u));
        // Clerk's hosted pages: `redirect_url` first, the fallback when there is none.
        let fallback = params.get("redirect_url").is_none()
            && params.get("sign_in_fallback_redirect_url").is_some();
        if user.is_none() && params.get("redirect_url").is_none() && !fallback {
            return sign_in_form(None);
        }
        let back = match fallback {
            true => self
                .redirects
                .check(params.get("sign_in_fallback_redirect_url").unwrap_or(""))
                .map_err(|r| Reply::refused(&r.to_string())),
            false => self.target(params),
        };
        let back = match back {
            Ok(back) => back,
            Err(reply) => return reply,
        };
        let Some(user) = user else {
            return sign_in_form(Some(back.url));
        };
        let now = now_unix();
        let iat = if params.get("expired") == Some("1") {
            now - 2 * SESSION_TTL
        } else {
            now
        };
        let org = params.get("org_id").filter(|o| is_id(o)).map(|org| {
            let role = params.get("org_role").filter(|r| is_id(r));
            OrgClaim {
                id: org.to_owned(),
                role: role.unwrap_or("org:member").to_owned(),
                slug: params
                    .get("org_slug")
                    .filter(|s| is_id(s))
                    .map(str::to_owned),
            }
        });
        if let Some(org) = &org {
            self.add_membership(
                user,
                &org.id,
                org.slug.as_deref().unwrap_or(&org.id),
                &org.role,
            );
        }
        let session = Session {
            sub: user.to_owned(),
            sid: random_id("sess"),
            org,
        };
        // The browser's client now holds this session: the dev browser a development app sent
        // along (Clerk's sign-in redirect passes it across origins), else this host's client
        // cookie, else a new one.
        let known = |id: &&str| lock(&self.clients).contains_key(*id);
        let dev_browser = params.get("__clerk_db_jwt").filter(known);
        let client = dev_browser
            .or_else(|| cookie(headers, CLIENT_COOKIE).filter(known))
            .map(str::to_owned)
            .or_else(|| self.new_client());
        let Some(client) = client else {
            return Reply::error(429, "too_many_requests", "too many clients");
        };
        lock(&self.clients).insert(client.clone(), Some(session.clone()));
        let token = self.mint(base_url, &session, &back.origin, iat);
        let mut cookies = session_directives(None, &token, iat);
        cookies.push(format!(
            "{CLIENT_COOKIE}={client}; Path=/; HttpOnly; SameSite=Lax; Max-Age=315360000"
        ));
        cookies.push(format!(
            "__clerk_db_jwt={client}; Path=/; SameSite=Lax; Max-Age=315360000"
        ));
        if let Some(suffix) = &self.cookie_suffix {
            let refresh = random_id("rt");
            let mut tokens = lock(&self.refresh_tokens);
            tokens.retain(|_, (_, until)| *until > now);
            if tokens.len() < MAX_NONCES {
                tokens.insert(refresh.clone(), (session.sid.clone(), now + REFRESH_TTL));
                cookies.push(format!(
                    "__refresh_{suffix}={refresh}; Path=/; HttpOnly; SameSite=Lax; \
                     Max-Age={REFRESH_TTL}"
                ));
            }
        }
        // An app on another host cannot see the cookies set here: with its dev browser, it
        // has the Frontend API set its session (`dev-browser-sync`).
        let back = match dev_browser {
            Some(db) => with_param(back.url, "__clerk_db_jwt", db),
            None => back.url.to_owned(),
        };
        Reply::redirect(back, cookies)
    }

    /// A session token for `session`, issued at `iat`, authorized for `azp` (an allowed
    /// origin).
    fn mint(&self, base_url: &str, session: &Session, azp: &str, iat: i64) -> String {
        let mut builder = TokenBuilder::session(&session.sub, iat)
            .claim("sid", session.sid.as_str())
            .claim("iss", self.issuer_for(base_url))
            .claim("azp", azp)
            .claim("exp", iat + SESSION_TTL);
        // The active organization as version 2 tokens carry it (`o`, the role without its
        // `org:` prefix).
        if let Some(org) = &session.org {
            let mut o = json!({
                "id": org.id,
                "rol": org.role.strip_prefix("org:").unwrap_or(&org.role),
            });
            if let Some(slug) = &org.slug {
                o["slg"] = json!(slug);
            }
            builder = builder.claim("o", o);
        }
        builder.sign(&self.key)
    }

    /// The session `token` names, if it may be renewed at `now` (the rules are on
    /// [`FrontendApi::session_lifetime`]); `None` signs the browser out.
    fn renewable(&self, base_url: &str, token: &str, now: i64) -> Option<Session> {
        let claims = self.own_claims(token)?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        let int = |name: &str| claims.get(name).and_then(Value::as_i64);
        if text("iss")? != self.issuer_for(base_url) {
            return None;
        }
        let (iat, exp) = (int("iat")?, int("exp")?);
        let expired_for = now.saturating_sub(exp);
        if iat > now.saturating_add(CLOCK_SKEW) || exp < iat || expired_for >= self.session_lifetime
        {
            return None;
        }
        let (sub, sid) = (
            text("sub").filter(|s| is_id(s))?,
            text("sid").filter(|s| is_id(s))?,
        );
        if lock(&self.revoked).contains(sid) {
            return None;
        }
        // The organization as this issuer mints it (`o` with `id`, `rol` and maybe `slg`; or,
        // from older tokens, `org_id` with `org_role`), or none; both forms at once are refused.
        let legacy = match (claims.get("org_id"), claims.get("org_role")) {
            (None, None) => None,
            (Some(Value::String(org)), Some(Value::String(role))) if is_id(org) && is_id(role) => {
                Some(OrgClaim {
                    id: org.clone(),
                    role: role.clone(),
                    slug: None,
                })
            }
            _ => return None,
        };
        let org = match (claims.get("o"), legacy) {
            (None, legacy) => legacy,
            (Some(Value::Object(o)), None) => {
                let field = |name: &str| o.get(name).and_then(Value::as_str).filter(|v| is_id(v));
                let slug = match o.get("slg") {
                    None => None,
                    Some(_) => Some(field("slg")?.to_owned()),
                };
                Some(OrgClaim {
                    id: field("id")?.to_owned(),
                    role: format!("org:{}", field("rol")?),
                    slug,
                })
            }
            _ => return None,
        };
        Some(Session {
            sub: sub.to_owned(),
            sid: sid.to_owned(),
            org,
        })
    }

    /// The claims of a token this issuer's key signed (expired or not); `None` for anything else.
    fn own_claims(&self, token: &str) -> Option<Map<String, Value>> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let head: Value = serde_json::from_slice(&b64url_decode(header)?).ok()?;
        if head.get("alg") != Some(&json!("RS256"))
            || head.get("kid") != Some(&json!(self.key.kid()))
        {
            return None;
        }
        // PKCS #1 v1.5 signatures are deterministic: signing the same input again gives the
        // same bytes exactly when the token is genuine.
        let input = format!("{header}.{payload}");
        if self.key.sign("RS256", input.as_bytes()) != b64url_decode(signature)? {
            return None;
        }
        serde_json::from_slice(&b64url_decode(payload)?).ok()
    }
}

/// Whole seconds of `d`, as the claims count them.
fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The sign-in form; it asks where to go back to when it was not told.
fn sign_in_form(back: Option<&str>) -> Reply {
    let back = match back {
        Some(url) => format!(
            "<input type=hidden name=redirect_url value=\"{}\">",
            html_escape(url)
        ),
        None => "<p><label>Back to <input name=redirect_url size=40 \
                 value=\"http://localhost:3000/\"></label>"
            .to_owned(),
    };
    Reply {
        status: 200,
        headers: Vec::new(),
        content_type: "text/html; charset=utf-8",
        body: format!(
            "<!doctype html><title>Sign in (dev issuer)</title><h1>Sign in</h1>\
             <p>Development issuer: no password, pick a user id.</p>\
             <form method=get action=/dev/sign-in><p><label>User id \
             <input name=user_id value=user_dev></label>{back}\
             <p><button>Sign in</button></form>"
        ),
    }
}

/// `name`, or `name_<suffix>`.
fn suffixed(name: &str, suffix: Option<&str>) -> String {
    match suffix {
        Some(s) => format!("{name}_{s}"),
        None => name.to_owned(),
    }
}

/// A cookie's value in a request's `Cookie` headers (the first of that name).
fn cookie<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .filter(|(n, _)| n == "cookie")
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| n.trim() == name)
        .map(|(_, v)| v.trim())
}

fn session_directives(suffix: Option<&str>, token: &str, uat: i64) -> Vec<String> {
    let name = |n: &str| suffixed(n, suffix);
    vec![
        format!("{}={token}; Path=/; SameSite=Lax", name("__session")),
        format!(
            "{}={uat}; Path=/; SameSite=Lax; Max-Age=315360000",
            name("__client_uat")
        ),
    ]
}

fn signed_out_directives(suffix: Option<&str>) -> Vec<String> {
    let name = |n: &str| suffixed(n, suffix);
    vec![
        format!("{}=; Path=/; SameSite=Lax; Max-Age=0", name("__session")),
        format!(
            "{}=0; Path=/; SameSite=Lax; Max-Age=315360000",
            name("__client_uat")
        ),
    ]
}

/// A random id with a prefix, e.g. `sess_…`.
fn random_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}_{}",
        crate::jws::b64url(&bytes).replace(['-', '_'], "x")
    )
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-:".contains(&b))
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut out = format!("{base}{sep}{name}={value}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Decoded query parameters.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Params {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|(k, _)| k == name).count()
    }

    /// The first of `names` given more than once: two values for one fact are refused, never
    /// resolved by picking one.
    fn repeated<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names.iter().copied().find(|n| self.count(n) > 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip() {
        let url = with_param("http://a/p?x=1#f", "n", "a b&c=d/é");
        let query = url.split_once('?').unwrap().1.split('#').next().unwrap();
        let p = Params::parse(query);
        assert_eq!(p.get("x"), Some("1"));
        assert_eq!(p.get("n"), Some("a b&c=d/é"));
        assert_eq!(Params::parse("a=%zz%4").get("a"), Some("%zz%4"));
    }

    #[test]
    fn recognises_only_its_own_tokens() {
        let key = crate::fixtures::rsa2048().clone();
        let other = crate::fixtures::rsa3072().clone();
        let fapi = FrontendApi::new(key.clone());
        let mine = TokenBuilder::session("user_1", 1).sign(&key);
        let theirs = TokenBuilder::session("user_1", 1).sign(&other);
        assert_eq!(fapi.own_claims(&mine).unwrap()["sub"], "user_1");
        assert!(fapi.own_claims(&theirs).is_none());
        let tampered = mine.replace(
            mine.split('.').nth(1).unwrap(),
            &crate::jws::b64url(br#"{"sub":"admin"}"#),
        );
        assert!(fapi.own_claims(&tampered).is_none());
    }
}
