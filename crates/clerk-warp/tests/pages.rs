//! The page filters over real HTTP on 127.0.0.1: warp's server on its own runtime thread, the
//! dev issuer's JWKS and Frontend API, and a client that keeps cookies and follows redirects
//! (`clerk_dev::Browser`). Clerk's handshake refreshes an expired session, a signed-out browser
//! is sent to sign in, and a forged handshake is refused.

use clerk_dev::{fixtures, now_unix, Browser, FrontendApi, JwksServer, TokenBuilder};
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Auth, Verifier, VerifyOptions};
use clerk_warp::{handle_rejection, page, require_sign_in};
use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;
use warp::Filter;

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

    /// A session token of this instance for `user`, issued at `iat`, for `app`.
    fn session(&self, user: &str, iat: i64, app: &str) -> String {
        TokenBuilder::session(user, iat)
            .claim("iss", self.server.url())
            .claim("azp", app)
            .claim("sid", format!("sess_{user}"))
            .sign(fixtures::rsa2048())
    }
}

/// The app: `/` serves everyone, `/dashboard` requires sign-in. warp's server runs on its own
/// thread and multi-threaded runtime (so the filters' futures must be `Send`), stopped and
/// joined on drop.
struct App {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
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

impl App {
    fn start(issuer: &Issuer, sign_in_url: Option<String>) -> App {
        // Bound first: the verifier's authorized party is the app's own origin.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let mut handshake = HandshakeOptions::default();
        if let Some(url) = sign_in_url {
            handshake = handshake.sign_in_url(url);
        }
        let pk = clerk_dev::publishable_key(&format!("127.0.0.1:{}", issuer.server.port()), false);
        // Keys from the issuer's JWKS URL: the first verification goes through the blocking pool.
        let verifier = Verifier::from_jwks_url(
            &issuer.server.jwks_url(),
            VerifyOptions::default()
                .publishable_key(&pk)
                .authorized_parties([base.as_str()])
                .handshake(handshake),
        )
        .unwrap();

        let home = warp::path::end()
            .and(warp::get())
            .and(page(verifier.clone()))
            .map(|user: Option<Auth>| match user {
                Some(user) => warp::reply::html(format!(
                    "<p>Signed in as <code id=\"user-id\">{}</code></p>",
                    user.user_id()
                )),
                None => {
                    warp::reply::html("<p id=\"signed-out\">You are signed out.</p>".to_owned())
                }
            });
        let dashboard = warp::path!("dashboard")
            .and(warp::get())
            .and(require_sign_in(verifier))
            .map(|user: Auth| {
                warp::reply::html(format!("<h1>{}'s dashboard</h1>", user.user_id()))
            });
        let routes = home.or(dashboard).recover(handle_rejection);

        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, is_ready) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    ready.send(()).unwrap();
                    warp::serve(routes)
                        .incoming(listener)
                        .graceful(async {
                            let _ = stopped.await;
                        })
                        .run()
                        .await;
                })
        });
        is_ready.recv_timeout(Duration::from_secs(30)).unwrap();
        App {
            base,
            stop: Some(stop),
            thread: Some(thread),
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

#[test]
fn an_expired_session_is_refreshed_through_one_handshake() {
    let issuer = Issuer::start();
    let app = App::start(&issuer, Some(issuer.sign_in_url()));
    let mut browser = returning_browser(&issuer, &app, "user_back");
    let expired = browser.cookie("__session").unwrap().to_owned();
    let old_uat = browser.cookie("__client_uat").unwrap().to_owned();

    let visit = browser.navigate(&format!("{}/?tab=1", app.base)).unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert!(
        visit
            .page
            .body
            .contains("Signed in as <code id=\"user-id\">user_back</code>"),
        "{}",
        visit.page.body
    );
    // page → Frontend API → page with the handshake → the page again, without it.
    let statuses: Vec<u16> = visit.hops.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [307, 307, 307, 200], "{:?}", visit.hops);
    assert_eq!(visit.count("/v1/client/handshake"), 1);
    assert_eq!(visit.url(), format!("{}/?tab=1", app.base));
    let to_fapi = visit.hops[0].location.as_deref().unwrap();
    assert!(
        to_fapi.starts_with(&format!("{}/v1/client/handshake?", issuer.server.url())),
        "{to_fapi}"
    );
    assert!(visit.hops[2].url.contains("__clerk_handshake="));
    // Both cookies of the completion landed, each from its own `Set-Cookie`.
    assert_ne!(browser.cookie("__session"), Some(expired.as_str()));
    assert_ne!(browser.cookie("__client_uat"), Some(old_uat.as_str()));
    // The next visit goes straight in.
    let again = browser.navigate(&app.base).unwrap();
    assert_eq!(again.hops.len(), 1, "{:?}", again.hops);
    assert!(again.page.body.contains("user_back"));
    assert_eq!(issuer.fapi.handshakes(), 1);
}

#[test]
fn a_signed_out_browser_is_sent_to_sign_in_and_the_home_page_serves_it() {
    let issuer = Issuer::start();
    let app = App::start(&issuer, Some(issuer.sign_in_url()));
    let mut browser = Browser::new();

    let dash = format!("{}/dashboard", app.base);
    let reply = browser.get(&dash).unwrap();
    assert_eq!(reply.status, 307, "{}", reply.body);
    let encoded = dash.replace(':', "%3A").replace('/', "%2F");
    assert_eq!(
        reply.header("location"),
        Some(format!("{}?redirect_url={encoded}", issuer.sign_in_url()).as_str())
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(reply.json()["error"], "redirect");

    let home = browser.navigate(&app.base).unwrap();
    assert_eq!(home.hops.len(), 1, "{:?}", home.hops);
    assert_eq!(home.page.status, 200);
    assert!(
        home.page.body.contains("You are signed out"),
        "{}",
        home.page.body
    );
    assert_eq!(home.page.header("x-clerk-auth-status"), None);
    assert_eq!(issuer.fapi.handshakes(), 0);
}

#[test]
fn a_forged_handshake_is_refused() {
    let issuer = Issuer::start();
    let app = App::start(&issuer, Some(issuer.sign_in_url()));
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
        .get(&format!("{}/?__clerk_handshake={forged}", app.base))
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("You are signed out"), "{}", reply.body);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(browser.cookie("__session"), None);
}

#[test]
fn without_a_sign_in_url_a_signed_out_browser_gets_401() {
    let issuer = Issuer::start();
    let app = App::start(&issuer, None);
    let reply = Browser::new()
        .get(&format!("{}/dashboard", app.base))
        .unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.json()["error"], "unauthorized");
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));
}
