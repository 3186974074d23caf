//! The page filters over real HTTP on 127.0.0.1: warp's server on its own runtime thread, the
//! dev issuer's JWKS and Frontend API, and a client that keeps cookies and follows redirects
//! (`clerk_dev::Browser`). Clerk's handshake refreshes an expired session, a signed-out browser
//! is sent to sign in, and a forged handshake is refused.

use clerk_dev::pages::{check_pages, DevInstance};
use clerk_dev::Browser;
use clerk_verify::request::HandshakeOptions;
use clerk_verify::{Auth, Verifier, VerifyOptions};
use clerk_warp::{handle_rejection, page, require_sign_in};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;
use warp::Filter;

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
    fn start(instance: &DevInstance, sign_in_url: Option<String>) -> App {
        // Bound first: the verifier's authorized party is the app's own origin.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let mut handshake = HandshakeOptions::default();
        if let Some(url) = sign_in_url {
            handshake = handshake.sign_in_url(url);
        }
        // Keys from the issuer's JWKS URL: the first verification goes through the blocking pool.
        let verifier = Verifier::from_jwks_url(
            &instance.server.jwks_url(),
            VerifyOptions::default()
                .publishable_key(instance.publishable_key())
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

#[test]
fn the_page_contract() {
    let instance = DevInstance::start();
    let app = App::start(&instance, Some(instance.sign_in_url()));
    check_pages(&instance, &app.base);
}

#[test]
fn without_a_sign_in_url_a_signed_out_browser_gets_401() {
    let instance = DevInstance::start();
    let app = App::start(&instance, None);
    let reply = Browser::new()
        .get(&format!("{}/dashboard", app.base))
        .unwrap();
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.json()["error"], "unauthorized");
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));
}
