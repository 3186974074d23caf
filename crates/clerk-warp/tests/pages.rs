//! The page filters over real HTTP on 127.0.0.1: warp's server on its own runtime thread, the
//! dev issuer's JWKS and Frontend API, and a client that keeps cookies and follows redirects
//! (`clerk_dev::Browser`). Clerk's handshake refreshes an expired session, a signed-out browser
//! is sent to sign in, and a forged handshake is refused.

use clerk_dev::pages::{check_pages, DevInstance};
use clerk_dev::Browser;
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Auth, Verifier, VerifyOptions};
use clerk_warp::{handle_rejection, page, require_sign_in};
use warp::Filter;

mod support;

use support::Served as App;

/// The app: `/` serves everyone, `/dashboard` requires sign-in.
fn start(instance: &DevInstance, sign_in_url: Option<String>) -> App {
    // Bound first: the verifier's authorized party is the app's own origin.
    App::start_with(|base| {
        let mut handshake = HandshakeOptions::default();
        if let Some(url) = sign_in_url {
            handshake = handshake.sign_in_url(url);
        }
        // Keys from the issuer's JWKS URL: the first verification goes through the blocking pool.
        let verifier = Verifier::from_jwks_url(
            &instance.server.jwks_url(),
            VerifyOptions::default()
                .publishable_key(instance.publishable_key())
                .authorized_parties([base])
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
        home.or(dashboard).recover(handle_rejection)
    })
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
