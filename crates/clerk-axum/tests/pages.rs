//! The page extractors ([`ClerkPage`], [`RequireSignIn`]) through a real axum server on
//! 127.0.0.1, against the dev issuer's Frontend API, driven by `clerk_dev::Browser` (it keeps
//! cookies and follows redirects): Clerk's handshake refreshes an expired session, a
//! signed-out browser is sent to sign in, forged handshakes are refused, and API routes beside
//! the pages never redirect; and the flows that need the app configured for them (clerk-dev's
//! contracts): a refresh through the Backend API, the organization the path names, a satellite
//! and its primary, a development instance.

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use clerk_axum::{ClerkAuth, ClerkLayer, ClerkPage, RequireSignIn};
use clerk_dev::pages::{
    check_pages, check_pages_development, check_pages_organizations, check_pages_refresh,
    check_pages_satellite, form_encoded, CookieDelivery, DevInstance,
};
use clerk_dev::Browser;
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Verifier, VerifyOptions};

/// A verifier for the app at `base`, over the dev instance's JWKS (fetched on the blocking
/// pool), with the handshake and, if given, a sign-in page.
fn verifier(instance: &DevInstance, base: &str, sign_in_url: Option<String>) -> Verifier {
    let mut handshake = HandshakeOptions::default();
    if let Some(url) = sign_in_url {
        handshake = handshake.sign_in_url(url);
    }
    Verifier::from_jwks_url(
        &instance.server.jwks_url(),
        VerifyOptions::default()
            .publishable_key(instance.publishable_key())
            .authorized_parties([base])
            .handshake(handshake),
    )
    .unwrap()
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

mod support;

use support::Served as App;

/// The app, also nested under `/app`, for a verifier built for its origin.
fn start(verifier: impl FnOnce(&str) -> Verifier) -> App {
    App::start_with(|base| {
        Router::new()
            .merge(routes())
            .nest("/app", routes())
            .with_state(verifier(base))
    })
}

#[test]
fn every_cookie_of_a_handshake_is_its_own_header() {
    let instance = DevInstance::start();
    let app = start(|base| verifier(&instance, base, None));
    let mut browser = instance.returning_browser(&app.base, "user_cookies");
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
        to_fapi.starts_with(&format!("{}/v1/client/handshake?", instance.server.url())),
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
fn the_page_contract() {
    let instance = DevInstance::start();
    let app = start(|base| verifier(&instance, base, Some(instance.sign_in_url())));
    check_pages(&instance, &app.base);
}

#[test]
fn a_signed_out_browser_is_sent_to_sign_in_and_back() {
    let instance = DevInstance::start();
    let app = start(|base| verifier(&instance, base, Some(instance.sign_in_url())));
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
                    instance.sign_in_url(),
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
        instance.sign_in_url(),
        form_encoded(&dash)
    );
    let visit = browser.navigate(&sign_in).unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert_eq!(visit.url(), dash);
    assert!(visit
        .page
        .body
        .contains("Dashboard of <code>user_new</code>"));
    assert_eq!(instance.fapi.handshakes(), 0);
}

#[test]
fn api_routes_beside_the_pages_never_redirect() {
    let instance = DevInstance::start();
    let app = start(|base| verifier(&instance, base, Some(instance.sign_in_url())));
    // A document navigation with an expired cookie: the API answers as any API does.
    let mut browser = instance.returning_browser(&app.base, "user_api");
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
    assert_eq!(instance.fapi.handshakes(), 0);
}

#[test]
fn without_a_sign_in_url_a_required_page_answers_401() {
    let instance = DevInstance::start();
    let app = start(|base| verifier(&instance, base, None));
    let mut browser = Browser::new();
    let reply = browser.get(&app.url("/dashboard")).unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.json()["error"], "unauthorized");
    let home = browser.get(&app.url("/")).unwrap();
    assert_eq!(home.status, 200);
    assert!(home.body.contains("You are signed out"));
}

async fn organization(user: RequireSignIn) -> Html<String> {
    let active = user.org().and_then(|o| o.slug.clone()).unwrap_or_default();
    Html(format!("<p>Active organization: <code>{active}</code></p>"))
}

/// The contract's routes (and `/orgs/{slug}`) for a verifier of `instance` whose page options
/// are `handshake`, served on `listener` and reached as `http://<host>:<port>`; the verifier is
/// the router's state.
fn flows_app(
    instance: &DevInstance,
    listener: std::net::TcpListener,
    host: &str,
    handshake: HandshakeOptions,
) -> (App, String) {
    flows_app_with(instance, listener, host, handshake, false)
}

/// [`flows_app`], with the verifier given by a [`ClerkLayer`] when `layer`.
fn flows_app_with(
    instance: &DevInstance,
    listener: std::net::TcpListener,
    host: &str,
    handshake: HandshakeOptions,
    layer: bool,
) -> (App, String) {
    let base = format!("http://{host}:{}", listener.local_addr().unwrap().port());
    let origin = base.clone();
    let handshake = match handshake.sign_in_url {
        Some(_) => handshake,
        None => handshake.sign_in_url(instance.sign_in_url()),
    };
    let app = App::start_on(listener, move |_| {
        let verifier = Verifier::from_jwks_url(
            &instance.server.jwks_url(),
            VerifyOptions::default()
                .publishable_key(instance.publishable_key())
                .authorized_parties([origin])
                .handshake(handshake),
        )
        .unwrap();
        let routes = routes().route("/orgs/{slug}", get(organization));
        match layer {
            true => routes
                .with_state(verifier.clone())
                .layer(ClerkLayer::new(verifier)),
            false => routes.with_state(verifier),
        }
    });
    (app, base)
}

fn bound() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

#[test]
fn the_refresh_contract_behind_the_layer_sets_the_cookies_on_the_page() {
    let instance = DevInstance::start();
    let options = HandshakeOptions::default()
        .secret_key("sk_test_axum")
        .api_url(instance.server.url());
    let (_app, base) = flows_app_with(&instance, bound(), "127.0.0.1", options, true);
    check_pages_refresh(&instance, &base, CookieDelivery::SameResponse);
}

#[test]
fn the_refresh_contract_without_the_layer_sets_the_cookies_by_a_redirect() {
    let instance = DevInstance::start();
    let options = HandshakeOptions::default()
        .secret_key("sk_test_axum")
        .api_url(instance.server.url());
    let (_app, base) = flows_app(&instance, bound(), "127.0.0.1", options);
    check_pages_refresh(&instance, &base, CookieDelivery::OneRedirect);
}

async fn cached(page: ClerkPage) -> impl axum::response::IntoResponse {
    let who = page.as_ref().map_or("nobody", |u| u.user_id()).to_owned();
    (
        [
            ("cache-control", "public, max-age=600"),
            ("set-cookie", "theme=dark; Path=/"),
        ],
        Html(who),
    )
}

/// The handler's own caching and cookies meet the refreshed session's: its cookie stays, and
/// no cache may keep the answer. Two nested layers write the cookies once.
#[test]
fn the_refreshed_cookies_join_the_handlers_and_no_cache_keeps_them() {
    let instance = DevInstance::start();
    let app = App::start_with(|base| {
        let verifier = Verifier::from_jwks_url(
            &instance.server.jwks_url(),
            VerifyOptions::default()
                .publishable_key(instance.publishable_key())
                .authorized_parties([base])
                .handshake(
                    HandshakeOptions::default()
                        .secret_key("sk_test_axum")
                        .api_url(instance.server.url()),
                ),
        )
        .unwrap();
        Router::new()
            .route("/cached", get(cached))
            .layer(ClerkLayer::new(verifier.clone()))
            .layer(ClerkLayer::new(verifier))
    });
    let mut browser = instance.signed_in_browser(&app.base, "user_cached", "&expired=1");
    let reply = browser.get(&app.url("/cached")).unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, "user_cached"));
    let headers = |name: &str| -> Vec<&str> {
        let found = reply.headers.iter().filter(|(n, _)| n == name);
        found.map(|(_, v)| v.as_str()).collect()
    };
    assert_eq!(headers("cache-control"), ["no-store"]);
    let cookies = headers("set-cookie");
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert!(cookies.contains(&"theme=dark; Path=/"), "{cookies:?}");
    assert!(
        cookies.iter().any(|c| c.starts_with("__session=")),
        "{cookies:?}"
    );
    // Signed in now: the handler's answer as it made it.
    let again = browser.get(&app.url("/cached")).unwrap();
    assert_eq!(again.header("cache-control"), Some("public, max-age=600"));
    assert_eq!(instance.fapi.refreshes(), 1);
}

#[test]
fn the_organization_contract() {
    let instance = DevInstance::start();
    let options = HandshakeOptions::default().organization_patterns(["/orgs/:slug"]);
    let (_app, base) = flows_app(&instance, bound(), "127.0.0.1", options);
    check_pages_organizations(&instance, &base);
}

#[test]
fn the_development_contract() {
    let instance = DevInstance::development();
    let (_app, base) = flows_app(&instance, bound(), "127.0.0.1", HandshakeOptions::default());
    check_pages_development(&instance, &base);
}

#[test]
fn the_satellite_contracts() {
    for instance in [DevInstance::start(), DevInstance::development()] {
        let (primary, satellite) = (bound(), bound());
        let primary_base = format!("http://127.0.0.1:{}", primary.local_addr().unwrap().port());
        let satellite_origin = format!(
            "http://localhost:{}",
            satellite.local_addr().unwrap().port()
        );
        let options = HandshakeOptions::default()
            .is_satellite(true)
            .satellite_auto_sync(true);
        // A development satellite syncs through the primary's pages, a production one through
        // its Frontend API (here the dev issuer, as its proxy).
        let options = match instance.is_development() {
            true => options
                .domain("localhost")
                .sign_in_url(format!("{primary_base}/")),
            false => options.proxy_url(instance.server.url()),
        };
        let (_primary, primary_base_seen) = flows_app(
            &instance,
            primary,
            "127.0.0.1",
            HandshakeOptions::default().allowed_redirect_origins([satellite_origin]),
        );
        assert_eq!(primary_base_seen, primary_base);
        let (_satellite, satellite_base) = flows_app(&instance, satellite, "localhost", options);
        check_pages_satellite(&instance, &primary_base, &satellite_base);
    }
}
