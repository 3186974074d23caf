//! Shared fixtures for tests of server-rendered pages: [`DevInstance`], a whole dev Clerk
//! instance on 127.0.0.1 (JWKS, Frontend API handshake, Backend API nonce exchange and session
//! refresh, sign-in page), and the contracts every adapter's page routes meet, run over real
//! HTTP with a [`Browser`]: [`check_pages`] for any app, and one function per flow that needs
//! the app configured for it ([`check_pages_refresh`], [`check_pages_organizations`],
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
/// that clears it, then `/dashboard` is the user's. Panics (a test failure) otherwise.
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
}
