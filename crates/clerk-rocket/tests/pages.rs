//! `ClerkPage` and `RequireSignIn` over real HTTP on 127.0.0.1: Rocket's server, a client that
//! keeps cookies and follows redirects (`clerk_dev::Browser`), and the dev issuer's Frontend
//! API, which refreshes sessions through Clerk's handshake.

use clerk_dev::pages::{check_pages, DevInstance};
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
