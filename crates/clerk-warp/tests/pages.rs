//! The page filters over real HTTP on 127.0.0.1: warp's server on its own runtime thread, the
//! dev issuer's JWKS and Frontend API, and a client that keeps cookies and follows redirects
//! (`clerk_dev::Browser`). Clerk's handshake refreshes an expired session, a signed-out browser
//! is sent to sign in, and a forged handshake is refused; and the flows that need the app
//! configured for them (clerk-dev's contracts): a refresh through the Backend API, the
//! organization the path names, a satellite and its primary, a development instance.

use clerk_dev::pages::{
    check_pages, check_pages_development, check_pages_organizations, check_pages_refresh,
    check_pages_satellite, CookieDelivery, DevInstance,
};
use clerk_dev::Browser;
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Auth, Verifier, VerifyOptions};
use clerk_warp::{handle_rejection, page, require_sign_in};
use warp::Filter;

mod support;

use support::Served as App;

/// The app: `/` serves everyone, `/dashboard` requires sign-in.
fn start(instance: &DevInstance, sign_in_url: Option<String>) -> App {
    let mut handshake = HandshakeOptions::default();
    if let Some(url) = sign_in_url {
        handshake = handshake.sign_in_url(url);
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    start_on(instance, listener, handshake)
}

/// The app on `listener`, reached as `origin` (bound first: the verifier's authorized party is
/// the app's own origin), with `/orgs/{slug}` showing the active organization's slug.
fn start_at(
    instance: &DevInstance,
    listener: std::net::TcpListener,
    origin: String,
    handshake: HandshakeOptions,
) -> App {
    App::start_on(listener, move |_| {
        // Keys from the issuer's JWKS URL: the first verification goes through the blocking pool.
        let verifier = Verifier::from_jwks_url(
            &instance.server.jwks_url(),
            VerifyOptions::default()
                .publishable_key(instance.publishable_key())
                .authorized_parties([origin])
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
            .and(require_sign_in(verifier.clone()))
            .map(|user: Auth| {
                warp::reply::html(format!("<h1>{}'s dashboard</h1>", user.user_id()))
            });
        let organization = warp::path!("orgs" / String)
            .and(warp::get())
            .and(require_sign_in(verifier))
            .map(|_slug: String, user: Auth| {
                let active = user.org().and_then(|o| o.slug.clone()).unwrap_or_default();
                warp::reply::html(format!("<p>Active organization: <code>{active}</code></p>"))
            });
        home.or(dashboard)
            .or(organization)
            .recover(handle_rejection)
    })
}

fn start_on(
    instance: &DevInstance,
    listener: std::net::TcpListener,
    handshake: HandshakeOptions,
) -> App {
    let origin = format!("http://{}", listener.local_addr().unwrap());
    start_at(instance, listener, origin, handshake)
}

/// [`start_on`] for one of the flows, with the instance's sign-in page unless `handshake` names
/// one.
fn flows_app(instance: &DevInstance, handshake: HandshakeOptions) -> App {
    let handshake = match handshake.sign_in_url {
        Some(_) => handshake,
        None => handshake.sign_in_url(instance.sign_in_url()),
    };
    start_on(instance, bound(), handshake)
}

fn bound() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

#[test]
fn the_refresh_contract() {
    let instance = DevInstance::start();
    let options = HandshakeOptions::default()
        .secret_key("sk_test_warp")
        .api_url(instance.server.url());
    let app = flows_app(&instance, options);
    check_pages_refresh(&instance, &app.base, CookieDelivery::OneRedirect);
}

#[test]
fn the_organization_contract() {
    let instance = DevInstance::start();
    let app = flows_app(
        &instance,
        HandshakeOptions::default().organization_patterns(["/orgs/:slug"]),
    );
    check_pages_organizations(&instance, &app.base);
}

#[test]
fn the_development_contract() {
    let instance = DevInstance::development();
    let app = flows_app(&instance, HandshakeOptions::default());
    check_pages_development(&instance, &app.base);
}

#[test]
fn the_satellite_contracts() {
    for instance in [DevInstance::start(), DevInstance::development()] {
        let (primary, satellite) = (bound(), bound());
        let satellite_base = format!(
            "http://localhost:{}",
            satellite.local_addr().unwrap().port()
        );
        let primary = start_on(
            &instance,
            primary,
            HandshakeOptions::default()
                .sign_in_url(instance.sign_in_url())
                .allowed_redirect_origins([satellite_base.clone()]),
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
            false => options
                .proxy_url(instance.server.url())
                .sign_in_url(instance.sign_in_url()),
        };
        let _satellite = start_at(&instance, satellite, satellite_base.clone(), options);
        check_pages_satellite(&instance, &primary.base, &satellite_base);
    }
}

#[test]
fn the_page_contract() {
    let instance = DevInstance::start();
    let app = start(&instance, Some(instance.sign_in_url()));
    check_pages(&instance, &app.base);
}

#[test]
fn without_a_sign_in_url_a_signed_out_browser_gets_401() {
    let instance = DevInstance::start();
    let app = start(&instance, None);
    let reply = Browser::new()
        .get(&format!("{}/dashboard", app.base))
        .unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.json()["error"], "unauthorized");
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));
}
