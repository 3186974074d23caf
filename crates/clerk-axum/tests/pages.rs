//! The page extractors ([`ClerkPage`], [`RequireSignIn`]) through a real axum server on
//! 127.0.0.1, against the dev issuer's Frontend API, driven by `clerk_dev::Browser` (it keeps
//! cookies and follows redirects): Clerk's handshake refreshes an expired session, a
//! signed-out browser is sent to sign in, forged handshakes are refused, and API routes beside
//! the pages never redirect.

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use clerk_axum::{ClerkAuth, ClerkPage, RequireSignIn};
use clerk_dev::{fixtures, now_unix, Browser, FrontendApi, JwksServer, TokenBuilder};
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Verifier, VerifyOptions};
use std::future::IntoFuture;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

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

    /// A verifier for the app at `base`, over the issuer's JWKS (fetched on the blocking pool),
    /// with the handshake and, if given, a sign-in page.
    fn verifier(&self, base: &str, sign_in_url: Option<String>) -> Verifier {
        let mut handshake = HandshakeOptions::default();
        if let Some(url) = sign_in_url {
            handshake = handshake.sign_in_url(url);
        }
        let pk = clerk_dev::publishable_key(&format!("127.0.0.1:{}", self.server.port()), false);
        Verifier::from_jwks_url(
            &self.server.jwks_url(),
            VerifyOptions::default()
                .publishable_key(pk)
                .authorized_parties([base])
                .handshake(handshake),
        )
        .unwrap()
    }

    /// A session token of this instance for `user`, issued at `iat`, for the app at `base`.
    fn session(&self, user: &str, iat: i64, base: &str) -> String {
        TokenBuilder::session(user, iat)
            .claim("iss", self.server.url())
            .claim("azp", base)
            .claim("sid", format!("sess_{user}"))
            .sign(fixtures::rsa2048())
    }
}

async fn home(page: ClerkPage) -> Html<String> {
    Html(match page.as_ref() {
        Some(user) => format!("<p>Signed in as <code>{}</code></p>", user.user_id()),
        None => "<p>You are signed out</p>".to_owned(),
    })
}

async fn dashboard(user: RequireSignIn) -> Html<String> {
    Html(format!(
        "<h1>Dashboard of <code>{}</code></h1>",
        user.user_id()
    ))
}

async fn me(auth: ClerkAuth) -> String {
    auth.user_id().to_owned()
}

fn routes() -> Router<Verifier> {
    Router::new()
        .route("/", get(home))
        .route("/dashboard", get(dashboard))
        .route("/api/me", get(me))
}

/// The app (also nested under `/app`) served on 127.0.0.1 by `axum::serve`, on a runtime of
/// its own; stopped and joined on drop.
struct App {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl App {
    /// Binds first: the verifier's authorized party is the app's own origin.
    fn start(verifier: impl FnOnce(&str) -> Verifier) -> App {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .merge(routes())
            .nest("/app", routes())
            .with_state(verifier(&base));
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    served = axum::serve(listener, app).into_future() => served.unwrap(),
                    _ = stopped => {}
                }
            });
        });
        App {
            base,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A browser holding `user`'s session cookie, issued two minutes ago: expired.
fn returning_browser(issuer: &Issuer, app: &App, user: &str) -> Browser {
    let then = now_unix() - 120;
    let mut browser = Browser::new();
    browser.set_cookie("__session", &issuer.session(user, then, &app.base));
    browser.set_cookie("__client_uat", &then.to_string());
    browser
}

fn form_encoded(url: &str) -> String {
    url.replace(':', "%3A").replace('/', "%2F")
}

#[test]
fn an_expired_session_is_refreshed_through_one_handshake() {
    let issuer = Issuer::start();
    let app = App::start(|base| issuer.verifier(base, Some(issuer.sign_in_url())));
    let mut browser = returning_browser(&issuer, &app, "user_back");
    let visit = browser.navigate(&app.url("/?tab=1")).unwrap();
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
    assert_eq!(visit.url(), app.url("/?tab=1"));
    // The browser now holds a fresh session: the next visits go straight in.
    let again = browser.navigate(&app.url("/dashboard")).unwrap();
    assert_eq!(again.hops.len(), 1, "{:?}", again.hops);
    assert!(again
        .page
        .body
        .contains("Dashboard of <code>user_back</code>"));
    assert_eq!(issuer.fapi.handshakes(), 1);
}

#[test]
fn every_cookie_of_a_handshake_is_its_own_header() {
    let issuer = Issuer::start();
    let app = App::start(|base| issuer.verifier(base, None));
    let mut browser = returning_browser(&issuer, &app, "user_cookies");
    let set_cookies = |reply: &clerk_dev::HttpReply| -> Vec<String> {
        reply
            .headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.clone())
            .collect()
    };
    let start = browser.get(&app.url("/app/dashboard")).unwrap();
    assert_eq!(start.status, 307);
    assert_eq!(start.header("cache-control"), Some("no-store"));
    assert_eq!(start.header("x-clerk-auth-status"), Some("handshake"));
    let to_fapi = start.header("location").unwrap();
    assert!(
        to_fapi.starts_with(&format!("{}/v1/client/handshake?", issuer.server.url())),
        "{to_fapi}"
    );
    // Under `nest`, the way back is the whole path.
    assert!(
        to_fapi.contains(&format!(
            "redirect_url={}",
            form_encoded(&app.url("/app/dashboard"))
        )),
        "{to_fapi}"
    );
    assert_eq!(set_cookies(&start).len(), 1, "the redirect-loop counter");
    let back = browser.get(to_fapi).unwrap();
    assert_eq!(back.status, 307);
    let done = browser.get(back.header("location").unwrap()).unwrap();
    assert_eq!(done.status, 307);
    assert_eq!(
        done.header("location"),
        Some(app.url("/app/dashboard").as_str())
    );
    let cookies = set_cookies(&done);
    assert!(
        cookies.iter().any(|c| c.starts_with("__session="))
            && cookies.iter().any(|c| c.starts_with("__client_uat=")),
        "{cookies:?}"
    );
    let page = browser.get(&app.url("/app/dashboard")).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("user_cookies"));
}

#[test]
fn a_signed_out_browser_is_sent_to_sign_in_and_back() {
    let issuer = Issuer::start();
    let app = App::start(|base| issuer.verifier(base, Some(issuer.sign_in_url())));
    let mut browser = Browser::new();
    // The home page serves signed-out visitors.
    let home = browser.navigate(&app.url("/")).unwrap();
    assert_eq!(home.page.status, 200);
    assert_eq!(home.hops.len(), 1);
    assert!(home.page.body.contains("You are signed out"));
    // The dashboard redirects to the sign-in page, with the way back.
    for path in ["/dashboard", "/app/dashboard"] {
        let dash = app.url(path);
        let first = browser.get(&dash).unwrap();
        assert_eq!(first.status, 307, "{path}");
        assert_eq!(
            first.header("location"),
            Some(
                format!(
                    "{}?redirect_url={}",
                    issuer.sign_in_url(),
                    form_encoded(&dash)
                )
                .as_str()
            )
        );
        assert_eq!(first.header("cache-control"), Some("no-store"));
        assert_eq!(first.header("x-clerk-auth-status"), Some("signed-out"));
        assert_eq!(first.header("set-cookie"), None);
    }
    // The dev issuer's sign-in page signs the browser in and sends it back.
    let dash = app.url("/dashboard");
    let sign_in = format!(
        "{}?redirect_url={}&user_id=user_new",
        issuer.sign_in_url(),
        form_encoded(&dash)
    );
    let visit = browser.navigate(&sign_in).unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert_eq!(visit.url(), dash);
    assert!(visit
        .page
        .body
        .contains("Dashboard of <code>user_new</code>"));
    assert_eq!(issuer.fapi.handshakes(), 0);
}

#[test]
fn api_routes_beside_the_pages_never_redirect() {
    let issuer = Issuer::start();
    let app = App::start(|base| issuer.verifier(base, Some(issuer.sign_in_url())));
    // A document navigation with an expired cookie: the API answers as any API does.
    let mut browser = returning_browser(&issuer, &app, "user_api");
    let reply = browser.get(&app.url("/api/me")).unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.json()["reason"], "token-expired");
    let reply = Browser::new().get(&app.url("/api/me")).unwrap();
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("location"), None);
    // A script's fetch() of a page keeps the signed-out answer too.
    let mut script = Browser::fetch_client();
    script.set_cookie("__session", browser.cookie("__session").unwrap());
    script.set_cookie("__client_uat", browser.cookie("__client_uat").unwrap());
    let reply = script.get(&app.url("/")).unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("You are signed out"));
    assert_eq!(issuer.fapi.handshakes(), 0);
}

#[test]
fn a_forged_handshake_is_refused() {
    let issuer = Issuer::start();
    let app = App::start(|base| issuer.verifier(base, Some(issuer.sign_in_url())));
    let now = now_unix();
    let forged_session = TokenBuilder::session("user_admin", now)
        .claim("iss", issuer.server.url())
        .claim("azp", app.base.as_str())
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
        .get(&app.url(&format!("/?__clerk_handshake={forged}")))
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("You are signed out"));
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(browser.cookie("__session"), None);
}

#[test]
fn without_a_sign_in_url_a_required_page_answers_401() {
    let issuer = Issuer::start();
    let app = App::start(|base| issuer.verifier(base, None));
    let mut browser = Browser::new();
    let reply = browser.get(&app.url("/dashboard")).unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.json()["error"], "unauthorized");
    let home = browser.get(&app.url("/")).unwrap();
    assert_eq!(home.status, 200);
    assert!(home.body.contains("You are signed out"));
}
