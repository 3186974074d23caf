//! `ClerkPage` and `RequireSignIn` over real HTTP on 127.0.0.1: Rocket's server, a client that
//! keeps cookies and follows redirects (`clerk_dev::Browser`), and the dev issuer's Frontend
//! API, which refreshes sessions through Clerk's handshake.

use clerk_dev::{fixtures, now_unix, Browser, FrontendApi, JwksServer, TokenBuilder};
use clerk_rocket::{ClerkAuth, ClerkFairing, ClerkPage, RequireSignIn};
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Verifier, VerifyOptions};
use rocket::fairing::AdHoc;
use rocket::response::content::RawHtml;
use rocket::{get, routes, Shutdown};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

#[get("/")]
fn home(page: ClerkPage) -> RawHtml<String> {
    RawHtml(match page.as_ref() {
        Some(user) => format!("<p>Signed in as <code>{}</code></p>", user.user_id()),
        None => "<p id=\"signed-out\">You are signed out.</p>".to_owned(),
    })
}

#[get("/dashboard")]
fn dashboard(user: RequireSignIn) -> RawHtml<String> {
    RawHtml(format!(
        "<h1>Dashboard of <code>{}</code></h1>",
        user.user_id()
    ))
}

/// An API route beside the pages: never a handshake, never a redirect.
#[get("/api/me")]
fn me(auth: ClerkAuth) -> String {
    auth.user_id().to_owned()
}

/// The dev issuer: JWKS, the Frontend API's handshake, a sign-in page.
struct Issuer {
    server: JwksServer,
    fapi: Arc<FrontendApi>,
}

impl Issuer {
    fn start() -> Issuer {
        let key = fixtures::rsa2048();
        let server = JwksServer::start_with(key.jwks_json());
        let fapi = server.serve_frontend_api(FrontendApi::new(key.clone()));
        Issuer { server, fapi }
    }

    fn sign_in_url(&self) -> String {
        format!("{}/dev/sign-in", self.server.url())
    }

    fn verifier(&self, sign_in: bool) -> Verifier {
        let pk = clerk_dev::publishable_key(&format!("127.0.0.1:{}", self.server.port()), false);
        let mut handshake = HandshakeOptions::default();
        if sign_in {
            handshake = handshake.sign_in_url(self.sign_in_url());
        }
        Verifier::from_jwks(
            &fixtures::rsa2048().jwks_json(),
            VerifyOptions::default()
                .publishable_key(pk)
                .handshake(handshake),
        )
        .unwrap()
    }

    /// A session token of this instance for `user`, issued at `iat`.
    fn session(&self, user: &str, iat: i64) -> String {
        TokenBuilder::session(user, iat)
            .claim("iss", self.server.url())
            .claim("sid", format!("sess_{user}"))
            .sign(fixtures::rsa2048())
    }

    /// A browser back after two minutes: its session token has expired.
    fn returning_browser(&self, user: &str) -> Browser {
        let then = now_unix() - 120;
        let mut browser = Browser::new();
        browser.set_cookie("__session", &self.session(user, then));
        browser.set_cookie("__client_uat", &then.to_string());
        browser
    }
}

/// Rocket's server on its own thread and runtime, shut down and joined on drop.
struct Served {
    base: String,
    shutdown: Shutdown,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    fn start(verifier: Verifier) -> Served {
        let (tx, rx) = mpsc::channel();
        let figment = rocket::Config::figment()
            .merge(("address", "127.0.0.1"))
            .merge(("port", 0))
            .merge(("log_level", "off"))
            .merge(("shutdown.grace", 0))
            .merge(("shutdown.mercy", 0))
            .merge(("shutdown.ctrlc", false));
        let rocket = rocket::custom(figment)
            .manage(verifier)
            .attach(ClerkFairing::default())
            .register("/", clerk_rocket::catchers())
            .mount("/", routes![home, dashboard, me])
            .attach(AdHoc::on_liftoff("report", move |rocket| {
                let report = (rocket.config().port, rocket.shutdown());
                Box::pin(async move {
                    let _ = tx.send(report);
                })
            }));
        let thread = std::thread::spawn(move || {
            let _ = rocket::execute(rocket.launch());
        });
        let (port, shutdown) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_ne!(port, 0, "Rocket reports the port it bound");
        Served {
            base: format!("http://127.0.0.1:{port}"),
            shutdown,
            thread: Some(thread),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn set_cookies(reply: &clerk_dev::HttpReply) -> Vec<&str> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn an_expired_session_is_refreshed_through_one_handshake() {
    let issuer = Issuer::start();
    let app = Served::start(issuer.verifier(true));
    let mut browser = issuer.returning_browser("user_back");
    let old_session = browser.cookie("__session").unwrap().to_owned();
    let visit = browser.navigate(&format!("{}/", app.base)).unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert!(
        visit
            .page
            .body
            .contains("Signed in as <code>user_back</code>"),
        "{}",
        visit.page.body
    );
    // page → Frontend API → page with the handshake → the page again, without it.
    let statuses: Vec<u16> = visit.hops.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [307, 307, 307, 200], "{:?}", visit.hops);
    assert_eq!(visit.count("/v1/client/handshake"), 1);
    assert_eq!(visit.url(), format!("{}/", app.base));
    let to_fapi = visit.hops[0].location.as_deref().unwrap();
    assert!(to_fapi.starts_with(&format!("{}/v1/client/handshake?", issuer.server.url())));
    assert_ne!(browser.cookie("__session"), Some(old_session.as_str()));
    // The browser holds a fresh session: the next visit goes straight in.
    let again = browser
        .navigate(&format!("{}/dashboard", app.base))
        .unwrap();
    assert_eq!(again.hops.len(), 1, "{:?}", again.hops);
    assert!(again
        .page
        .body
        .contains("Dashboard of <code>user_back</code>"));
    assert_eq!(issuer.fapi.handshakes(), 1);
}

#[test]
fn the_handshake_redirects_carry_location_cache_control_and_every_cookie() {
    let issuer = Issuer::start();
    let app = Served::start(issuer.verifier(true));
    let mut browser = issuer.returning_browser("user_hops");
    // The start: to the Frontend API, with Clerk's redirect-loop counter.
    let start = browser.get(&format!("{}/", app.base)).unwrap();
    assert_eq!(start.status, 307, "{}", start.body);
    assert_eq!(start.header("cache-control"), Some("no-store"));
    assert_eq!(start.header("x-clerk-auth-status"), Some("handshake"));
    let counter = set_cookies(&start);
    assert_eq!(counter.len(), 1, "{counter:?}");
    assert!(counter[0].starts_with("__clerk_redirect_count=1;"));
    let to_fapi = start.header("location").unwrap().to_owned();
    let back = browser.get(&to_fapi).unwrap();
    assert_eq!(back.status, 307);
    // The completion: back to the page, setting the session cookies, each in its own header.
    let completion = browser.get(back.header("location").unwrap()).unwrap();
    assert_eq!(completion.status, 307, "{}", completion.body);
    assert_eq!(
        completion.header("location"),
        Some(format!("{}/", app.base).as_str())
    );
    assert_eq!(completion.header("cache-control"), Some("no-store"));
    let cookies = set_cookies(&completion);
    for name in ["__session=", "__client_uat="] {
        assert!(
            cookies.iter().any(|c| c.starts_with(name)),
            "{name} in {cookies:?}"
        );
    }
    let page = browser.get(&format!("{}/", app.base)).unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("user_hops"), "{}", page.body);
}

#[test]
fn a_signed_out_browser_is_sent_to_sign_in() {
    let issuer = Issuer::start();
    let app = Served::start(issuer.verifier(true));
    let mut browser = Browser::new();
    let dash = format!("{}/dashboard", app.base);
    let first = browser.get(&dash).unwrap();
    assert_eq!(first.status, 307, "{}", first.body);
    let encoded = dash.replace(':', "%3A").replace('/', "%2F");
    let location = first.header("location").unwrap();
    assert_eq!(
        location,
        format!("{}?redirect_url={encoded}", issuer.sign_in_url())
    );
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert_eq!(first.header("x-clerk-auth-status"), Some("signed-out"));
    // The home page serves signed-out visitors.
    let home = browser.navigate(&format!("{}/", app.base)).unwrap();
    assert_eq!(home.hops.len(), 1, "{:?}", home.hops);
    assert_eq!(home.page.status, 200);
    assert!(home.page.body.contains("You are signed out"));
    // The dev issuer's sign-in page signs the browser in and sends it back.
    let visit = browser
        .navigate(&format!("{location}&user_id=user_new"))
        .unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert_eq!(visit.url(), dash);
    assert!(visit
        .page
        .body
        .contains("Dashboard of <code>user_new</code>"));
    assert_eq!(issuer.fapi.handshakes(), 0);
}

#[test]
fn a_forged_handshake_is_refused() {
    let issuer = Issuer::start();
    let app = Served::start(issuer.verifier(true));
    let now = now_unix();
    let forged_session = TokenBuilder::session("user_admin", now)
        .claim("iss", issuer.server.url())
        .sign(fixtures::rsa2048_b());
    let forged = TokenBuilder::empty()
        .claim(
            "handshake",
            vec![
                format!("__session={forged_session}; Path=/"),
                format!("__client_uat={now}; Path=/"),
            ],
        )
        .claim("exp", now + 60)
        .sign(fixtures::rsa2048_b());
    let mut browser = Browser::new();
    let reply = browser
        .get(&format!("{}/?__clerk_handshake={forged}", app.base))
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("You are signed out"));
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(browser.cookie("__session"), None);
}

#[test]
fn without_a_sign_in_url_a_page_requiring_sign_in_is_401() {
    let issuer = Issuer::start();
    let app = Served::start(issuer.verifier(false));
    let reply = Browser::new()
        .get(&format!("{}/dashboard", app.base))
        .unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert_eq!(reply.json()["reason"], "session-token-and-uat-missing");
}

#[test]
fn api_routes_never_get_a_handshake() {
    let issuer = Issuer::start();
    let app = Served::start(issuer.verifier(true));
    let mut navigation = issuer.returning_browser("user_api");
    let reply = navigation.get(&format!("{}/api/me", app.base)).unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.json()["reason"], "token-expired");
    assert_eq!(issuer.fapi.handshakes(), 0);
}
