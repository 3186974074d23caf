//! `ClerkPage` and `RequireSignIn` over real HTTP on 127.0.0.1: Rocket's server, a client that
//! keeps cookies and follows redirects (`clerk_dev::Browser`), and the dev issuer's Frontend
//! API, which refreshes sessions through Clerk's handshake; and the flows that need the app
//! configured for them (clerk-dev's contracts): a refresh through the Backend API, the
//! organization the path names, a satellite and its primary, a development instance.

use clerk_dev::pages::{
    check_pages, check_pages_development, check_pages_organizations, check_pages_refresh,
    check_pages_satellite, CookieDelivery, DevInstance,
};
use clerk_dev::{fixtures, Browser};
use clerk_rocket::{ClerkAuth, ClerkFairing, ClerkPage, RequireSignIn};
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Verifier, VerifyOptions};
use rocket::response::content::RawHtml;
use rocket::{get, routes};

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

/// A verifier with the dev instance's keys and publishable key, and its sign-in page if asked.
fn verifier(instance: &DevInstance, sign_in: bool) -> Verifier {
    let mut handshake = HandshakeOptions::default();
    if sign_in {
        handshake = handshake.sign_in_url(instance.sign_in_url());
    }
    Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default()
            .publishable_key(instance.publishable_key())
            .handshake(handshake),
    )
    .unwrap()
}

mod support;

use support::Served;

/// The app for `verifier`, served.
fn serve(verifier: Verifier) -> Served {
    Served::launch(
        support::loopback()
            .manage(verifier)
            .attach(ClerkFairing::default())
            .register("/", clerk_rocket::catchers())
            .mount("/", routes![home, dashboard, me]),
    )
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
fn the_handshake_redirects_carry_location_cache_control_and_every_cookie() {
    let instance = DevInstance::start();
    let app = serve(verifier(&instance, true));
    let mut browser = instance.returning_browser(&app.base, "user_hops");
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
fn the_page_contract() {
    let instance = DevInstance::start();
    let app = serve(verifier(&instance, true));
    check_pages(&instance, &app.base);
}

#[test]
fn without_a_sign_in_url_a_page_requiring_sign_in_is_401() {
    let instance = DevInstance::start();
    let app = serve(verifier(&instance, false));
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
    let instance = DevInstance::start();
    let app = serve(verifier(&instance, true));
    let mut navigation = instance.returning_browser(&app.base, "user_api");
    let reply = navigation.get(&format!("{}/api/me", app.base)).unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.json()["reason"], "token-expired");
    assert_eq!(instance.fapi.handshakes(), 0);
}

#[get("/orgs/<_slug>")]
fn organization(_slug: &str, user: RequireSignIn) -> RawHtml<String> {
    let active = user.org().and_then(|o| o.slug.clone()).unwrap_or_default();
    RawHtml(format!("<p>Active organization: <code>{active}</code></p>"))
}

/// The contract's routes (and `/orgs/<slug>`) on `port` (0: any), for a verifier of
/// `instance` whose page options are `handshake` (with the instance's sign-in page unless they
/// name one), with the [`ClerkFairing`].
fn serve_flows(instance: &DevInstance, port: u16, handshake: HandshakeOptions) -> Served {
    serve_flows_with(instance, port, handshake, true)
}

/// [`serve_flows`], without the fairing unless `fairing`.
fn serve_flows_with(
    instance: &DevInstance,
    port: u16,
    handshake: HandshakeOptions,
    fairing: bool,
) -> Served {
    let handshake = match handshake.sign_in_url {
        Some(_) => handshake,
        None => handshake.sign_in_url(instance.sign_in_url()),
    };
    let verifier = Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default()
            .publishable_key(instance.publishable_key())
            .handshake(handshake),
    )
    .unwrap();
    let rocket = support::loopback_on(port)
        .manage(verifier)
        .register("/", clerk_rocket::catchers())
        .mount("/", routes![home, dashboard, me, organization, cached]);
    Served::launch(match fairing {
        true => rocket.attach(ClerkFairing::default()),
        false => rocket,
    })
}

fn refreshing(instance: &DevInstance) -> HandshakeOptions {
    HandshakeOptions::default()
        .secret_key("sk_test_rocket")
        .api_url(instance.server.url())
}

#[test]
fn the_refresh_contract_with_the_fairing_sets_the_cookies_on_the_page() {
    let instance = DevInstance::start();
    let app = serve_flows(&instance, 0, refreshing(&instance));
    check_pages_refresh(&instance, &app.base, CookieDelivery::SameResponse);
}

#[test]
fn the_refresh_contract_without_the_fairing_sets_the_cookies_by_a_redirect() {
    let instance = DevInstance::start();
    let app = serve_flows_with(&instance, 0, refreshing(&instance), false);
    check_pages_refresh(&instance, &app.base, CookieDelivery::OneRedirect);
}

/// A page that says how long it may be cached.
#[derive(rocket::Responder)]
struct Cached {
    body: String,
    cache: rocket::http::Header<'static>,
}

/// A page that may be cached ten minutes, and sets a cookie of its own.
#[get("/cached")]
fn cached(page: ClerkPage, jar: &rocket::http::CookieJar<'_>) -> Cached {
    jar.add(rocket::http::Cookie::new("theme", "dark"));
    Cached {
        body: page.as_ref().map_or("nobody", |u| u.user_id()).to_owned(),
        cache: rocket::http::Header::new("Cache-Control", "public, max-age=600"),
    }
}

/// The handler's caching meets the refreshed session's cookies: no cache may keep them, and
/// Rocket's own cookies stay.
#[test]
fn the_refreshed_cookies_join_the_handlers_and_no_cache_keeps_them() {
    let instance = DevInstance::start();
    let app = serve_flows(&instance, 0, refreshing(&instance));
    let mut browser = instance.signed_in_browser(&app.base, "user_cached", "&expired=1");
    let reply = browser.get(&format!("{}/cached", app.base)).unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, "user_cached"));
    let cache: Vec<&str> = reply
        .headers
        .iter()
        .filter(|(n, _)| n == "cache-control")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cache, ["no-store"]);
    let cookies = set_cookies(&reply);
    assert!(
        cookies.iter().any(|c| c.starts_with("__session="))
            && cookies.iter().any(|c| c.starts_with("__client_uat=")),
        "{cookies:?}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("theme=dark")),
        "{cookies:?}"
    );
    let again = browser.get(&format!("{}/cached", app.base)).unwrap();
    assert_eq!(again.header("cache-control"), Some("public, max-age=600"));
    assert!(
        set_cookies(&again).iter().all(|c| c.starts_with("theme=")),
        "{:?}",
        set_cookies(&again)
    );
    assert_eq!(instance.fapi.refreshes(), 1);
}

#[test]
fn the_organization_contract() {
    let instance = DevInstance::start();
    let options = HandshakeOptions::default().organization_patterns(["/orgs/:slug"]);
    let app = serve_flows(&instance, 0, options);
    check_pages_organizations(&instance, &app.base);
}

#[test]
fn the_development_contract() {
    let instance = DevInstance::development();
    let app = serve_flows(&instance, 0, HandshakeOptions::default());
    check_pages_development(&instance, &app.base);
}

/// A port that was free a moment ago (Rocket binds it itself).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_satellite_contracts() {
    for instance in [DevInstance::start(), DevInstance::development()] {
        let satellite_port = free_port();
        let satellite_base = format!("http://localhost:{satellite_port}");
        let primary = serve_flows(
            &instance,
            0,
            HandshakeOptions::default().allowed_redirect_origins([satellite_base.clone()]),
        );
        let options = HandshakeOptions::default()
            .is_satellite(true)
            .satellite_auto_sync(true);
        // A development satellite syncs through the primary's pages, a production one through
        // its Frontend API (here the dev issuer, as its proxy).
        let options = match instance.is_development() {
            true => options
                .domain("localhost")
                .sign_in_url(format!("{}/", primary.base)),
            false => options.proxy_url(instance.server.url()),
        };
        let _satellite = serve_flows(&instance, satellite_port, options);
        check_pages_satellite(&instance, &primary.base, &satellite_base);
    }
}
