//! The page extractors ([`ClerkPage`], [`RequireSignIn`]) on a real actix-web server on
//! 127.0.0.1, against the dev issuer's Backend API: a session refreshed with `__refresh` is
//! signed in on the same response under [`ClerkMiddleware`], by one 307 without it (clerk-dev's
//! refresh contract, both ways), and the handler's own headers meet the refreshed cookies.
//! pages-app (examples/tests/pages.rs) runs every other page contract on this adapter.

use actix_web::dev::ServerHandle;
use actix_web::middleware::Condition;
use actix_web::{web, App, HttpResponse, HttpServer};
use clerk_actix::{ClerkMiddleware, ClerkPage, RequireSignIn};
use clerk_dev::pages::{check_pages_refresh, CookieDelivery, DevInstance};
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Verifier, VerifyOptions};
use std::net::TcpListener;
use std::thread::JoinHandle;

async fn home(page: ClerkPage) -> HttpResponse {
    HttpResponse::Ok().body(match page.as_ref() {
        Some(user) => format!("<p>Signed in as <code>{}</code></p>", user.user_id()),
        None => "<p>You are signed out</p>".to_owned(),
    })
}

async fn dashboard(user: RequireSignIn) -> HttpResponse {
    HttpResponse::Ok().body(format!("<h1>Dashboard of {}</h1>", user.user_id()))
}

/// A page that may be cached ten minutes, and sets a cookie of its own.
async fn cached(page: ClerkPage) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=600"))
        .append_header(("set-cookie", "theme=dark"))
        .body(page.as_ref().map_or("nobody", |u| u.user_id()).to_owned())
}

/// An actix-web server on its own thread and runtime, stopped and joined on drop.
struct Served {
    base: String,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The pages for a verifier that refreshes sessions through `instance`'s Backend API, under
/// one [`ClerkMiddleware`] per `middlewares` (0: none).
fn serve(instance: &DevInstance, middlewares: usize) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let verifier = Verifier::from_jwks_url(
        &instance.server.jwks_url(),
        VerifyOptions::default()
            .publishable_key(instance.publishable_key())
            .authorized_parties([base.clone()])
            .handshake(
                HandshakeOptions::default()
                    .sign_in_url(instance.sign_in_url())
                    .secret_key("sk_test_actix")
                    .api_url(instance.server.url()),
            ),
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let clerk = |n| Condition::new(middlewares >= n, ClerkMiddleware::new());
                App::new()
                    .app_data(web::Data::new(verifier.clone()))
                    .wrap(clerk(1))
                    .wrap(clerk(2))
                    .route("/", web::get().to(home))
                    .route("/dashboard", web::get().to(dashboard))
                    .route("/cached", web::get().to(cached))
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
            tx.send(server.handle()).unwrap();
            let _ = server.await;
        });
    });
    Served {
        base,
        handle: rx.recv().unwrap(),
        thread: Some(thread),
    }
}

#[test]
fn the_refresh_contract_under_the_middleware_sets_the_cookies_on_the_page() {
    let instance = DevInstance::start();
    let app = serve(&instance, 1);
    check_pages_refresh(&instance, &app.base, CookieDelivery::SameResponse);
}

#[test]
fn the_refresh_contract_without_the_middleware_sets_the_cookies_by_a_redirect() {
    let instance = DevInstance::start();
    let app = serve(&instance, 0);
    check_pages_refresh(&instance, &app.base, CookieDelivery::OneRedirect);
}

/// The handler's caching and cookie meet the refreshed session's: its cookie stays, no cache
/// may keep the answer, and two nested middlewares write the cookies once.
#[test]
fn the_refreshed_cookies_join_the_handlers_and_no_cache_keeps_them() {
    let instance = DevInstance::start();
    let app = serve(&instance, 2);
    let mut browser = instance.signed_in_browser(&app.base, "user_cached", "&expired=1");
    let url = format!("{}/cached", app.base);
    let reply = browser.get(&url).unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, "user_cached"));
    let headers = |name: &str| -> Vec<&str> {
        let found = reply.headers.iter().filter(|(n, _)| n == name);
        found.map(|(_, v)| v.as_str()).collect()
    };
    assert_eq!(headers("cache-control"), ["no-store"]);
    let cookies = headers("set-cookie");
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert!(cookies.contains(&"theme=dark"), "{cookies:?}");
    for name in ["__session=", "__client_uat="] {
        assert!(cookies.iter().any(|c| c.starts_with(name)), "{cookies:?}");
    }
    // Signed in now: the handler's answer as it made it.
    let again = browser.get(&url).unwrap();
    assert_eq!(again.header("cache-control"), Some("public, max-age=600"));
    assert_eq!(instance.fapi.refreshes(), 1);
}
