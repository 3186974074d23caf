//! Shared fixtures for tests of server-rendered pages: [`DevInstance`], a whole dev Clerk
//! instance on 127.0.0.1 (JWKS, Frontend API handshake, Backend API nonce exchange and session
//! refresh, sign-in page), and the contracts every adapter's page routes meet, run over real
//! HTTP with a [`Browser`]: [`check_pages`] for any app, and one function per flow that needs
//! the app configured for it ([`check_pages_refresh`] as the app delivers cookies
//! ([`CookieDelivery`]), [`check_pages_organizations`],
//! [`check_pages_satellite`], [`check_pages_development`]).

use crate::browser::Browser;
use crate::frontend::FrontendApi;
use crate::mint::{cookie_suffix, now_unix, publishable_key, TokenBuilder};
use crate::server::JwksServer;
use crate::{fixtures, HttpReply};
use std::sync::Arc;

/// A dev Clerk instance: [`JwksServer`] serving the fixture key's JWKS and the
/// [`FrontendApi`], signing with [`fixtures::rsa2048`]. A production instance (`pk_live_`)
/// unless made with [`DevInstance::development`]. Stops when dropped.
#[derive(Debug)]
pub struct DevInstance {
    /// The server (JWKS, handshake endpoints, sign-in page).
    pub server: JwksServer,
    /// Its Frontend API, to count handshakes, revoke sessions or force answers.
    pub fapi: Arc<FrontendApi>,
    live: bool,
}

impl DevInstance {
    /// A production instance whose nonce exchange and refresh accept any bearer secret and that
    /// redirects only to loopback origins (apps on 127.0.0.1 or localhost).
    pub fn start() -> DevInstance {
        DevInstance::start_with(FrontendApi::new(fixtures::rsa2048().clone()))
    }

    /// A production instance with a configured [`FrontendApi`] (e.g. a required secret key).
    pub fn start_with(fapi: FrontendApi) -> DevInstance {
        DevInstance::launch(fapi, true)
    }

    /// A development instance (`pk_test_`): its pages go through Clerk's dev browser flows.
    pub fn development() -> DevInstance {
        DevInstance::development_with(FrontendApi::new(fixtures::rsa2048().clone()))
    }

    /// A development instance with a configured [`FrontendApi`].
    pub fn development_with(fapi: FrontendApi) -> DevInstance {
        DevInstance::launch(fapi, false)
    }

    fn launch(fapi: FrontendApi, live: bool) -> DevInstance {
        let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
        let pk = publishable_key(&format!("127.0.0.1:{}", server.port()), live);
        let fapi = server.serve_frontend_api(fapi.cookie_suffix(cookie_suffix(&pk)));
        DevInstance { server, fapi, live }
    }

    /// Whether this is a development instance.
    pub fn is_development(&self) -> bool {
        !self.live
    }

    /// The publishable key naming this instance's Frontend API (`127.0.0.1:<port>`).
    pub fn publishable_key(&self) -> String {
        publishable_key(&format!("127.0.0.1:{}", self.server.port()), self.live)
    }

    /// The suffix of this instance's cookies (`__refresh_<suffix>`).
    pub fn cookie_suffix(&self) -> String {
        cookie_suffix(&self.publishable_key())
    }

    /// Its sign-in page, for `CLERK_SIGN_IN_URL`.
    pub fn sign_in_url(&self) -> String {
        format!("{}/dev/sign-in", self.server.url())
    }

    /// A session token of this instance (its `iss` is the host the publishable key names) for
    /// `user`, issued at `iat`, authorized for `azp` (the app's origin).
    pub fn session(&self, user: &str, iat: i64, azp: &str) -> String {
        TokenBuilder::session(user, iat)
            .claim("iss", self.server.url())
            .claim("azp", azp)
            .claim("sid", format!("sess_{user}"))
            .sign(fixtures::rsa2048())
    }

    /// A browser back after two minutes away: its `__session` cookie (for the app at
    /// `app_base`) has expired, its `__client_uat` says signed in.
    pub fn returning_browser(&self, app_base: &str, user: &str) -> Browser {
        let then = now_unix() - 120;
        let mut browser = Browser::new();
        browser.set_cookie("__session", &self.session(user, then, app_base));
        browser.set_cookie("__client_uat", &then.to_string());
        browser
    }

    /// A browser signed in through the sign-in page as `user`, for the app at `app_base`,
    /// with `query` added to the sign-in request (e.g. `&expired=1`, `&org_id=…`): it has the
    /// session cookies, the issuer's client cookie and dev browser token, and (the instance
    /// knows its cookie suffix) a refresh token. It has not visited the app yet.
    pub fn signed_in_browser(&self, app_base: &str, user: &str, query: &str) -> Browser {
        let mut browser = Browser::new();
        let url = format!(
            "{}?user_id={user}{query}&redirect_url={}",
            self.sign_in_url(),
            form_encoded(&format!("{app_base}/"))
        );
        let reply = browser.get(&url).expect("the sign-in page answers");
        assert_eq!(reply.status, 307, "sign-in: {}", reply.body);
        browser
    }

    /// A session token of this instance signed with another key under this key's `kid`: it
    /// looks genuine and verifies nowhere.
    pub fn forged_session(&self, user: &str, iat: i64, azp: &str) -> String {
        TokenBuilder::session(user, iat)
            .claim("iss", self.server.url())
            .claim("azp", azp)
            .claim("sid", format!("sess_{user}"))
            .header("kid", fixtures::rsa2048().kid())
            .sign(fixtures::rsa2048_b())
    }

    /// A handshake token signed with another key than the instance's, carrying a session for
    /// `user` (also forged) for `app_base`.
    pub fn forged_handshake(&self, app_base: &str, user: &str) -> String {
        let now = now_unix();
        let session = TokenBuilder::session(user, now)
            .claim("iss", self.server.url())
            .claim("azp", app_base)
            .sign(fixtures::rsa2048_b());
        TokenBuilder::empty()
            .claim(
                "handshake",
                vec![
                    format!("__session={session}; Path=/"),
                    format!("__client_uat={now}; Path=/"),
                ],
            )
            .claim("exp", now + 60)
            .sign(fixtures::rsa2048_b())
    }
}

/// `url` as a form-encoded query value, as a `redirect_url` is sent.
pub fn form_encoded(url: &str) -> String {
    form_urlencoded::byte_serialize(url.as_bytes()).collect()
}

/// The contract of page routes, checked over HTTP against the app at `app_base`, which
/// verifies with `instance`'s keys and publishable key, authorizes its own origin, has
/// `CLERK_SIGN_IN_URL` set to [`DevInstance::sign_in_url`], and serves:
///
/// - `GET /`: a page for everyone, whose body contains the user id when signed in;
/// - `GET /dashboard`: a page that requires sign-in, whose body contains the user id.
///
/// Checked: an expired session cookie goes through exactly one handshake (page, Frontend
/// API, page with the handshake, page) and ends on `/` with the user id, the next visit going
/// straight in; a signed-out browser gets `/` (200) without an id, and a 307 from `/dashboard`
/// to the sign-in page with `redirect_url`, `Cache-Control: no-store` and
/// `x-clerk-auth-status: signed-out`, and the sign-in page brings it back signed in; a forged
/// handshake renders `/` signed out and sets no cookie; a refused handshake *cookie* next to
/// a valid session (garbage, a forged token, a made-up nonce: what a sibling app on the
/// parent domain, or an attacker tossing cookies, leaves there) costs one 307 back to the page
/// that clears it, then `/dashboard` is the user's. A navigation from another site (a foreign
/// `Referer`, `Sec-Fetch-Site: cross-site`) with a valid session goes through one handshake
/// (Clerk's cross-origin sync) and ends on the page signed in; a navigation from the app
/// itself, a script's `fetch()` and a forged session never do. Panics (a test failure)
/// otherwise.
pub fn check_pages(instance: &DevInstance, app_base: &str) {
    let handshakes = instance.fapi.handshakes();

    // An expired cookie is refreshed through one handshake.
    let mut browser = instance.returning_browser(app_base, "user_back");
    let expired = browser.cookie("__session").map(str::to_owned);
    let visit = browser.navigate(&format!("{app_base}/?tab=1")).unwrap();
    let statuses: Vec<u16> = visit.hops.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [307, 307, 307, 200], "{:?}", visit.hops);
    assert!(visit.page.body.contains("user_back"), "{}", visit.page.body);
    assert_eq!(visit.count("/v1/client/handshake"), 1);
    assert_eq!(visit.url(), format!("{app_base}/?tab=1"));
    let to_fapi = visit.hops[0].location.as_deref().unwrap_or("");
    let fapi = format!("{}/v1/client/handshake?", instance.server.url());
    assert!(to_fapi.starts_with(&fapi), "{to_fapi}");
    assert!(visit.hops[2].url.contains("__clerk_handshake="));
    assert_ne!(browser.cookie("__session").map(str::to_owned), expired);
    let again = browser.navigate(app_base).unwrap();
    assert_eq!(again.hops.len(), 1, "{:?}", again.hops);
    assert!(again.page.body.contains("user_back"));
    assert_eq!(instance.fapi.handshakes(), handshakes + 1);

    // A signed-out browser: served by `/`, sent to sign in by `/dashboard`, and back.
    let mut browser = Browser::new();
    let home = browser.navigate(app_base).unwrap();
    assert_eq!(
        (home.hops.len(), home.page.status),
        (1, 200),
        "{:?}",
        home.hops
    );
    assert!(!home.page.body.contains("user_"), "{}", home.page.body);
    let dashboard = format!("{app_base}/dashboard");
    let reply: HttpReply = browser.get(&dashboard).unwrap();
    assert_eq!(reply.status, 307, "{}", reply.body);
    let sign_in = format!(
        "{}?redirect_url={}",
        instance.sign_in_url(),
        form_encoded(&dashboard)
    );
    assert_eq!(reply.header("location"), Some(sign_in.as_str()));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));
    let visit = browser
        .navigate(&format!("{sign_in}&user_id=user_new"))
        .unwrap();
    assert_eq!((visit.url(), visit.page.status), (dashboard.as_str(), 200));
    assert!(visit.page.body.contains("user_new"), "{}", visit.page.body);

    // A forged handshake applies nothing.
    let mut browser = Browser::new();
    let forged = instance.forged_handshake(app_base, "user_admin");
    let reply = browser
        .get(&format!("{app_base}/?__clerk_handshake={forged}"))
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!reply.body.contains("user_admin"), "{}", reply.body);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(browser.cookie("__session"), None);

    // A refused handshake cookie never signs a valid session out, and is cleared.
    let now = now_unix();
    let session = instance.session("user_stray", now, app_base);
    let dashboard = format!("{app_base}/dashboard");
    for (name, value) in [
        ("__clerk_handshake", "garbage".to_owned()),
        ("__clerk_handshake", forged.clone()),
        (
            "__clerk_handshake_nonce",
            "nonce_2vYVmadeUpButWellShaped".to_owned(),
        ),
    ] {
        let mut browser = Browser::new();
        browser.set_cookie("__session", &session);
        browser.set_cookie("__client_uat", &(now - 5).to_string());
        browser.set_cookie(name, &value);
        let visit = browser.navigate(&dashboard).unwrap();
        let statuses: Vec<u16> = visit.hops.iter().map(|h| h.status).collect();
        assert_eq!(statuses, [307, 200], "{name}: {:?}", visit.hops);
        assert_eq!(visit.hops[0].location.as_deref(), Some(dashboard.as_str()));
        assert!(
            visit.page.body.contains("user_stray"),
            "{}",
            visit.page.body
        );
        assert_eq!(browser.cookie(name), None, "{name} was not cleared");
        let again = browser.navigate(&dashboard).unwrap();
        assert_eq!(again.hops.len(), 1, "{:?}", again.hops);
        assert!(again.page.body.contains("user_stray"));
    }

    check_cross_origin_sync(instance, app_base);
}

/// Clerk's cross-origin sync on the primary: a navigation from another site with a valid
/// session goes through one handshake, and nothing else does.
fn check_cross_origin_sync(instance: &DevInstance, app_base: &str) {
    let elsewhere = "https://elsewhere.example/page";
    let dashboard = format!("{app_base}/dashboard");
    let now = now_unix();
    let signed_in = |user: &str| {
        let mut browser = Browser::new();
        browser.set_cookie("__session", &instance.session(user, now, app_base));
        browser.set_cookie("__client_uat", &(now - 5).to_string());
        browser
    };
    let handshakes = instance.fapi.handshakes();
    let mut browser = signed_in("user_elsewhere");
    let visit = browser.navigate_from(elsewhere, &dashboard).unwrap();
    let statuses: Vec<u16> = visit.hops.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [307, 307, 307, 200], "{:?}", visit.hops);
    let to_fapi = visit.hops[0].location.as_deref().unwrap_or("");
    assert!(
        to_fapi.contains("__clerk_hs_reason=primary-domain-cross-origin-sync"),
        "{to_fapi}"
    );
    assert!(
        visit.page.body.contains("user_elsewhere"),
        "{}",
        visit.page.body
    );
    assert_eq!(visit.url(), dashboard);
    assert_eq!(instance.fapi.handshakes(), handshakes + 1);
    // From the app itself, or a script's fetch() from another site: no handshake.
    let mut browser = signed_in("user_elsewhere");
    let visit = browser
        .navigate_from(&format!("{app_base}/"), &dashboard)
        .unwrap();
    assert_eq!(visit.hops.len(), 1, "{:?}", visit.hops);
    let mut script = Browser::fetch_client();
    script.set_cookie(
        "__session",
        &instance.session("user_elsewhere", now, app_base),
    );
    script.set_cookie("__client_uat", &(now - 5).to_string());
    let reply = script
        .get_with(
            &format!("{app_base}/"),
            &[("Referer", elsewhere), ("Sec-Fetch-Site", "cross-site")],
        )
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("user_elsewhere"), "{}", reply.body);
    // A forged session from another site is refused, never sent to be "synced".
    let mut forger = Browser::new();
    forger.set_cookie(
        "__session",
        &instance.forged_session("user_admin", now, app_base),
    );
    forger.set_cookie("__client_uat", &(now - 5).to_string());
    let visit = forger
        .navigate_from(elsewhere, &format!("{app_base}/"))
        .unwrap();
    assert_eq!(visit.hops.len(), 1, "{:?}", visit.hops);
    assert!(
        !visit.page.body.contains("user_admin"),
        "{}",
        visit.page.body
    );
    assert_eq!(instance.fapi.handshakes(), handshakes + 1);
}

/// How an app hands the cookies of a session refreshed through the Backend API to the browser,
/// as [`check_pages_refresh`] checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieDelivery {
    /// On the page's own response, no redirect: the adapter's middleware (axum's `ClerkLayer`,
    /// actix's `ClerkMiddleware`, Rocket's `ClerkFairing`) writes `Auth::set_cookies`.
    SameResponse,
    /// By one 307 back to the same URL that sets them: an app without that middleware (warp).
    OneRedirect,
}

/// The contract of page routes on an app that refreshes sessions through the Backend API:
/// [`check_pages`]'s app with `CLERK_SECRET_KEY` (any value: the dev issuer takes any bearer
/// unless told otherwise) and `CLERK_API_URL` set to the instance's URL, that delivers the new
/// cookies as `delivery` says.
///
/// Checked: a browser whose session expired and that has the `__refresh` cookie the sign-in
/// page set is signed in with one Backend API call and no Frontend API, on `/dashboard` (a page
/// requiring sign-in) and on `/` (a page for everyone): with [`CookieDelivery::SameResponse`],
/// its very first request answers 200 signed in with a `Set-Cookie` for `__session` and one for
/// `__client_uat` and `Cache-Control: no-store`, no redirect; with
/// [`CookieDelivery::OneRedirect`], one 307 back to the same URL carries them, then the page.
/// The next visit goes straight in and sets no cookie. A made-up refresh token costs one
/// Backend API call, then Clerk's handshake signs the browser in as before; the same made-up
/// token again costs no call. Another session's refresh token is refused the same way. A forged
/// session token never reaches the Backend API (it is refused as any forged token). A script's
/// `fetch()` of a page is refreshed where the response delivers the cookies, and never
/// otherwise (a 307 cannot carry them to a script): no call, signed out. Panics (a test
/// failure) otherwise.
pub fn check_pages_refresh(instance: &DevInstance, app_base: &str, delivery: CookieDelivery) {
    let dashboard = format!("{app_base}/dashboard");
    let refresh = format!("__refresh_{}", instance.cookie_suffix());
    let handshakes = instance.fapi.handshakes();

    for (user, url) in [
        ("user_refresh", dashboard.clone()),
        ("user_refresh_home", format!("{app_base}/")),
    ] {
        let refreshes = instance.fapi.refreshes();
        let mut browser = instance.signed_in_browser(app_base, user, "&expired=1");
        let expired = browser.cookie("__session").map(str::to_owned);
        assert!(
            browser.cookie(&refresh).is_some(),
            "the sign-in page sets {refresh}"
        );
        // One request at a time, to see the answer that sets the cookies.
        let first = browser.get(&url).unwrap();
        assert_sets_session_cookies(&first);
        let page = match delivery {
            CookieDelivery::SameResponse => first,
            CookieDelivery::OneRedirect => {
                assert_eq!(first.status, 307, "{}", first.body);
                assert_eq!(first.header("location"), Some(url.as_str()));
                browser.get(&url).unwrap()
            }
        };
        assert_eq!(page.status, 200, "refreshed in place: {}", page.body);
        assert!(page.body.contains(user), "{}", page.body);
        assert_eq!(
            instance.fapi.handshakes(),
            handshakes,
            "no Frontend API round trip"
        );
        assert_eq!(instance.fapi.refreshes(), refreshes + 1);
        assert_ne!(browser.cookie("__session").map(str::to_owned), expired);
        let again = browser.navigate(&url).unwrap();
        assert_eq!(again.hops.len(), 1, "{:?}", again.hops);
        assert!(again.page.body.contains(user));
        assert_eq!(again.page.header("set-cookie"), None, "nothing to refresh");
        assert_eq!(instance.fapi.refreshes(), refreshes + 1);
    }

    // A made-up refresh token: refused by the Backend API, the handshake signs the user in.
    let forged_refresh = |user: &str, token: &str| {
        let mut browser = instance.returning_browser(app_base, user);
        browser.set_cookie(&refresh, token);
        browser
    };
    let calls = instance.fapi.refreshes();
    let visit = forged_refresh("user_rt", "rt_madeup")
        .navigate(&dashboard)
        .unwrap();
    assert_eq!(visit.count("/v1/client/handshake"), 1, "{:?}", visit.hops);
    assert!(visit.page.body.contains("user_rt"), "{}", visit.page.body);
    let to_fapi = visit.hops[0].location.as_deref().unwrap_or("");
    assert!(
        to_fapi.contains("__clerk_hs_reason=session-token-expired-refresh-unexpected-bapi-error"),
        "{to_fapi}"
    );
    assert_eq!(instance.fapi.refreshes(), calls + 1);
    // Replayed: the Backend API is not asked again.
    let visit = forged_refresh("user_rt", "rt_madeup")
        .navigate(&dashboard)
        .unwrap();
    assert!(visit.page.body.contains("user_rt"), "{}", visit.page.body);
    assert_eq!(instance.fapi.refreshes(), calls + 1);
    // Another session's refresh token.
    let other = instance.signed_in_browser(app_base, "user_other", "&expired=1");
    let theirs = other.cookie(&refresh).unwrap().to_owned();
    let visit = forged_refresh("user_mine", &theirs)
        .navigate(&dashboard)
        .unwrap();
    assert!(visit.page.body.contains("user_mine"), "{}", visit.page.body);
    assert_eq!(visit.count("/v1/client/handshake"), 1, "{:?}", visit.hops);
    assert_eq!(instance.fapi.refreshes(), calls + 2);

    // No call for a session token that does not verify.
    let then = now_unix() - 120;
    let mut forger = Browser::new();
    forger.set_cookie(
        "__session",
        &instance.forged_session("user_refresh", then, app_base),
    );
    forger.set_cookie("__client_uat", &then.to_string());
    forger.set_cookie(&refresh, &theirs);
    let home = forger.navigate(&format!("{app_base}/")).unwrap();
    assert_eq!(
        (home.hops.len(), home.page.status),
        (1, 200),
        "{:?}",
        home.hops
    );
    assert!(
        !home.page.body.contains("user_refresh"),
        "{}",
        home.page.body
    );
    assert_eq!(home.page.header("set-cookie"), None);
    assert_eq!(instance.fapi.refreshes(), calls + 2);

    // A script's fetch() with its own genuine refresh token: refreshed only where the
    // response itself can set the cookies.
    let genuine = instance.signed_in_browser(app_base, "user_script", "&expired=1");
    let mut script = Browser::fetch_client();
    for name in ["__session", "__client_uat", refresh.as_str()] {
        script.set_cookie(name, genuine.cookie(name).unwrap());
    }
    let reply = script.get(&format!("{app_base}/")).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    match delivery {
        CookieDelivery::SameResponse => {
            assert!(reply.body.contains("user_script"), "{}", reply.body);
            assert_sets_session_cookies(&reply);
            assert_eq!(instance.fapi.refreshes(), calls + 3);
        }
        CookieDelivery::OneRedirect => {
            assert!(!reply.body.contains("user_script"), "{}", reply.body);
            assert_eq!(reply.header("set-cookie"), None);
            assert_eq!(instance.fapi.refreshes(), calls + 2);
        }
    }
    // The three refused refreshes went through the handshake; nothing else did.
    assert_eq!(instance.fapi.handshakes(), handshakes + 3);
}

/// `reply` sets the new `__session` and `__client_uat` (plain or suffixed), each in its own
/// header, and may be stored by no cache.
fn assert_sets_session_cookies(reply: &HttpReply) {
    let cookies: Vec<&str> = reply
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    for name in ["__session", "__client_uat"] {
        let set = cookies.iter().any(|c| {
            c.split_once('=').is_some_and(|(n, v)| {
                (n == name || n.starts_with(&format!("{name}_"))) && !v.starts_with(';')
            })
        });
        assert!(set, "a Set-Cookie for {name}: {cookies:?}");
    }
    let cache: Vec<&str> = reply
        .headers
        .iter()
        .filter(|(n, _)| n == "cache-control")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cache, ["no-store"], "cookies no cache may keep");
}

/// The contract of page routes on an app with organization sync: [`check_pages`]'s app whose
/// organization patterns include `/orgs/:slug` (`CLERK_ORGANIZATION_PATTERNS=/orgs/:slug`) and
/// that serves `GET /orgs/<slug>`, a page requiring sign-in whose body shows the active
/// organization's slug (and not the path's).
///
/// Checked: a user of organizations `acme` (active) and `other` opening `/orgs/other` goes
/// through one handshake that activates it (`active-organization-mismatch`); the page then
/// shows `other`, and the next visit goes straight in. `/orgs/stranger`, an organization the
/// user is not a member of, costs Clerk's three handshakes, then the page shows the active
/// organization (not `stranger`). A script's `fetch()` never gets a handshake. Panics (a test
/// failure) otherwise.
pub fn check_pages_organizations(instance: &DevInstance, app_base: &str) {
    let user = "user_orgs";
    instance
        .fapi
        .add_membership(user, "org_other", "other", "org:member");
    let mut browser = instance.signed_in_browser(
        app_base,
        user,
        "&org_id=org_acme&org_slug=acme&org_role=org:admin",
    );
    let acme = browser.navigate(&format!("{app_base}/orgs/acme")).unwrap();
    assert_eq!(acme.hops.len(), 1, "{:?}", acme.hops);
    assert!(acme.page.body.contains("acme"), "{}", acme.page.body);

    let handshakes = instance.fapi.handshakes();
    let other = format!("{app_base}/orgs/other");
    let visit = browser.navigate(&other).unwrap();
    let statuses: Vec<u16> = visit.hops.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [307, 307, 307, 200], "{:?}", visit.hops);
    let to_fapi = visit.hops[0].location.as_deref().unwrap_or("");
    assert!(
        to_fapi.contains("__clerk_hs_reason=active-organization-mismatch")
            && to_fapi.contains("organization_id=other"),
        "{to_fapi}"
    );
    assert_eq!(visit.url(), other);
    assert!(
        visit.page.body.contains("other") && !visit.page.body.contains("acme"),
        "{}",
        visit.page.body
    );
    assert_eq!(instance.fapi.handshakes(), handshakes + 1);
    let again = browser.navigate(&other).unwrap();
    assert_eq!(again.hops.len(), 1, "{:?}", again.hops);

    // Not a member: Clerk's loop limit, then the page with the active organization. (A new
    // browser: the loop counter of the handshake above lives two seconds.)
    let mut browser = instance.signed_in_browser(
        app_base,
        user,
        "&org_id=org_other&org_slug=other&org_role=org:member",
    );
    let visit = browser
        .navigate(&format!("{app_base}/orgs/stranger"))
        .unwrap();
    assert_eq!(visit.count("/v1/client/handshake"), 3, "{:?}", visit.hops);
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert!(
        visit.page.body.contains("other") && !visit.page.body.contains("stranger"),
        "{}",
        visit.page.body
    );

    // A script is never redirected.
    let mut script = Browser::fetch_client();
    let now = now_unix();
    script.set_cookie("__session", &instance.session(user, now, app_base));
    script.set_cookie("__client_uat", &(now - 5).to_string());
    let reply = script.get(&format!("{app_base}/orgs/acme")).unwrap();
    assert_ne!(reply.status, 307, "{}", reply.body);
}

/// The contract of a satellite and its primary: the primary at `primary_base` (on
/// `127.0.0.1`) is [`check_pages`]'s app; the satellite at `satellite_base` (on `localhost`,
/// another site for the browser) serves the same routes for the same instance with
/// `CLERK_IS_SATELLITE=true`, `CLERK_SATELLITE_AUTO_SYNC=true`, and, on a production instance,
/// `CLERK_PROXY_URL` set to the instance's URL (its Frontend API), on a development instance
/// `CLERK_DOMAIN` (any) and `CLERK_SIGN_IN_URL` set to the primary's `/`, while the primary has
/// `CLERK_ALLOWED_REDIRECT_ORIGINS` set to the satellite's origin.
///
/// Checked: a browser signed in on the primary opens the satellite and ends signed in there as
/// the same user (production: one handshake with the Frontend API; development: through the
/// primary, which hands over its dev browser, then one handshake), on the satellite's URL with
/// `__clerk_synced=true`; the next visit goes straight in. A browser signed in nowhere comes
/// back signed out, without a loop. On a development instance, the primary sends its dev
/// browser to no other origin, and a dev browser token planted in the satellite's URL names no
/// session. Panics (a test failure) otherwise.
pub fn check_pages_satellite(instance: &DevInstance, primary_base: &str, satellite_base: &str) {
    let user = "user_satellite";
    let mut browser = instance.signed_in_browser(primary_base, user, "");
    let home = browser.navigate(&format!("{primary_base}/")).unwrap();
    assert!(home.page.body.contains(user), "{:?}", home.hops);

    let handshakes = instance.fapi.handshakes();
    let visit = browser.navigate(&format!("{satellite_base}/")).unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert!(
        visit.page.body.contains(user),
        "{:?}\n{}",
        visit.hops,
        visit.page.body
    );
    assert_eq!(
        visit.url(),
        format!("{satellite_base}/?__clerk_synced=true")
    );
    assert_eq!(visit.count("/v1/client/handshake"), 1, "{:?}", visit.hops);
    let first = visit.hops[0].location.as_deref().unwrap_or("");
    if instance.is_development() {
        assert!(
            first.starts_with(&format!("{primary_base}/?__clerk_redirect_url=")),
            "{first}"
        );
        let back = visit.hops[1].location.as_deref().unwrap_or("");
        assert!(back.contains("__clerk_db_jwt=dvb_"), "{back}");
    } else {
        assert!(
            first.contains("__clerk_hs_reason=satellite-needs-syncing"),
            "{first}"
        );
    }
    assert!(browser.cookie_on("localhost", "__session").is_some());
    let again = browser.navigate(&format!("{satellite_base}/")).unwrap();
    assert_eq!(again.hops.len(), 1, "{:?}", again.hops);
    assert!(again.page.body.contains(user));
    assert_eq!(instance.fapi.handshakes(), handshakes + 1);

    // Signed in nowhere: signed out on the satellite, once.
    let mut stranger = Browser::new();
    let visit = stranger.navigate(&format!("{satellite_base}/")).unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert!(!visit.page.body.contains("user_"), "{}", visit.page.body);
    assert!(visit.hops.len() <= 6, "{:?}", visit.hops);

    if instance.is_development() {
        // The primary's dev browser goes to no origin it was not told about.
        let elsewhere = format!(
            "{primary_base}/?__clerk_redirect_url={}",
            form_encoded("http://localhost:1/")
        );
        let visit = browser.navigate(&elsewhere).unwrap();
        assert_eq!(visit.hops.len(), 1, "{:?}", visit.hops);
        assert!(visit.page.body.contains(user));
        // A dev browser token planted in the satellite's URL is nobody's session.
        let mut planted = Browser::new();
        let visit = planted
            .navigate(&format!(
                "{satellite_base}/?__clerk_synced=true&__clerk_db_jwt=dvb_planted"
            ))
            .unwrap();
        assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
        assert!(!visit.page.body.contains("user_"), "{}", visit.page.body);
        assert_ne!(
            planted.cookie_on("localhost", "__clerk_db_jwt"),
            Some("dvb_planted")
        );
    }
}

/// The contract of page routes on a development instance: [`check_pages`]'s app with the
/// publishable key of a [`DevInstance::development`] instance.
///
/// Checked: a new browser gets its dev browser through one handshake (`dev-browser-missing`)
/// and the page, then goes straight in; sent to sign in from a page that requires it, it takes
/// its dev browser along and comes back to the page signed in; a browser signed in through the
/// sign-in page (which sets the dev browser) goes straight in; a dev browser token in the URL that is not the
/// browser's own is ignored; an expired session is refreshed through a handshake that passes
/// the browser's dev browser along. Panics (a test failure) otherwise.
pub fn check_pages_development(instance: &DevInstance, app_base: &str) {
    assert!(instance.is_development(), "a development instance");
    let mut browser = Browser::new();
    let visit = browser.navigate(&format!("{app_base}/")).unwrap();
    let statuses: Vec<u16> = visit.hops.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [307, 307, 307, 200], "{:?}", visit.hops);
    let to_fapi = visit.hops[0].location.as_deref().unwrap_or("");
    assert!(
        to_fapi.contains("__clerk_hs_reason=dev-browser-missing"),
        "{to_fapi}"
    );
    assert!(!visit.page.body.contains("user_"), "{}", visit.page.body);
    assert!(browser
        .cookie("__clerk_db_jwt")
        .is_some_and(|db| db.starts_with("dvb_")));
    let again = browser.navigate(&format!("{app_base}/")).unwrap();
    assert_eq!(again.hops.len(), 1, "{:?}", again.hops);

    // Sent to sign in, it takes its dev browser along, and comes back signed in with it.
    let dashboard = format!("{app_base}/dashboard");
    let reply = browser.get(&dashboard).unwrap();
    assert_eq!(reply.status, 307, "{}", reply.body);
    let sign_in = reply.header("location").unwrap_or("").to_owned();
    let db = browser.cookie("__clerk_db_jwt").unwrap_or("").to_owned();
    assert!(
        sign_in.starts_with(&instance.sign_in_url())
            && sign_in.contains(&format!("__clerk_db_jwt={db}")),
        "{sign_in}"
    );
    let visit = browser
        .navigate(&format!("{sign_in}&user_id=user_signing_in"))
        .unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert!(
        visit.page.body.contains("user_signing_in"),
        "{}",
        visit.page.body
    );
    assert_eq!(visit.url(), dashboard);
    assert_eq!(browser.cookie("__clerk_db_jwt"), Some(db.as_str()));

    let mut browser = instance.signed_in_browser(app_base, "user_dev", "");
    let db = browser.cookie("__clerk_db_jwt").map(str::to_owned);
    let visit = browser.navigate(&dashboard).unwrap();
    assert_eq!(visit.hops.len(), 1, "{:?}", visit.hops);
    assert!(visit.page.body.contains("user_dev"), "{}", visit.page.body);
    let visit = browser
        .navigate(&format!("{dashboard}?__clerk_db_jwt=dvb_planted"))
        .unwrap();
    assert_eq!(visit.hops.len(), 1, "{:?}", visit.hops);
    assert!(visit.page.body.contains("user_dev"), "{}", visit.page.body);
    assert_eq!(browser.cookie("__clerk_db_jwt").map(str::to_owned), db);

    let mut expired = instance.signed_in_browser(app_base, "user_dev_back", "&expired=1");
    let visit = expired.navigate(&dashboard).unwrap();
    assert_eq!(visit.count("/v1/client/handshake"), 1, "{:?}", visit.hops);
    let to_fapi = visit.hops[0].location.as_deref().unwrap_or("");
    assert!(to_fapi.contains("__clerk_db_jwt=dvb_"), "{to_fapi}");
    assert!(
        visit.page.body.contains("user_dev_back"),
        "{}",
        visit.page.body
    );
}
