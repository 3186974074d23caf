//! `ClerkWebhook` over real HTTP on 127.0.0.1: axum's server, deliveries signed by Svix's own
//! Python library (`clerk_dev::webhooks`), sent by a raw HTTP/1.1 client.

use axum::extract::FromRef;
use axum::routing;
use axum::{Json, Router};
use clerk_axum::ClerkWebhook;
use clerk_dev::webhooks::fixtures;
use clerk_dev::{chunked, post, post_delivery};
use clerk_verify::webhook::EventData;
use clerk_verify::{Clock, Webhook};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, UNIX_EPOCH};
use tokio::sync::oneshot;

const PATH: &str = "/webhooks/clerk";

/// What the handler received, echoed so the tests see the typed event.
async fn receive(delivery: ClerkWebhook) -> Json<Value> {
    let subject = match &delivery.event.data {
        EventData::User(u) => json!({ "user": u.id, "email": u.primary_email() }),
        EventData::UserDeleted(d) => json!({ "deleted": d.id }),
        EventData::Session(s) => json!({ "session": s.id, "user": s.user_id }),
        EventData::Organization(o) => json!({ "organization": o.id }),
        EventData::OrganizationDeleted(d) => json!({ "deleted": d.id }),
        EventData::Other(data) => json!({ "other": data }),
        _ => json!(null),
    };
    Json(json!({
        "id": delivery.id,
        "type": delivery.event.event_type,
        "subject": subject,
    }))
}

/// An app state holding the `Webhook` among other things, as real apps do (with axum's
/// `macros` feature, `#[derive(FromRef)]` writes the impl below).
#[derive(Clone)]
struct AppState {
    hook: Webhook,
    name: &'static str,
}

impl FromRef<AppState> for Webhook {
    fn from_ref(state: &AppState) -> Webhook {
        state.hook.clone()
    }
}

/// axum's server on its own runtime thread, stopped and joined on drop.
struct Served {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    fn start(router: Router) -> Served {
        let (tx, rx) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    tx.send(listener.local_addr().unwrap()).unwrap();
                    axum::serve(listener, router)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                        .unwrap();
                })
        });
        let addr = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        Served {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn with_hook(hook: Webhook) -> Served {
        Served::start(
            Router::new()
                .route(PATH, routing::post(receive))
                .with_state(hook),
        )
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn hook() -> Webhook {
    let f = fixtures();
    Webhook::new(&f.secret).unwrap().clock(Clock::fixed(
        UNIX_EPOCH + Duration::from_secs(f.signed_at as u64),
    ))
}

fn assert_bad_request(r: &clerk_dev::HttpReply, reason: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["error"], "bad_request", "{}", r.body);
    assert_eq!(v["reason"], reason, "{}", r.body);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(r.header("x-clerk-auth-status"), None);
}

#[test]
fn every_svix_fixture_gets_its_answer() {
    let served = Served::with_hook(hook());
    for d in &fixtures().deliveries {
        let r = post_delivery(served.addr, PATH, d).unwrap();
        match d.expected_type() {
            Some(event_type) => {
                assert_eq!(r.status, 200, "{}: {}", d.name, r.body);
                let v = r.json();
                assert_eq!(v["type"], event_type, "{}", d.name);
                let id = d.header("svix-id").or(d.header("webhook-id"));
                assert_eq!(v["id"].as_str(), id, "{}", d.name);
            }
            None => assert_bad_request(&r, d.expected_reason().unwrap()),
        }
    }
}

#[test]
fn the_handler_gets_the_typed_event_from_a_state_struct() {
    let state = AppState {
        hook: hook(),
        name: "membership",
    };
    assert_eq!(state.name, "membership");
    let served = Served::start(
        Router::new()
            .route(PATH, routing::post(receive))
            .with_state(state),
    );
    let f = fixtures();
    let r = post_delivery(served.addr, PATH, f.delivery("user-created")).unwrap();
    assert_eq!(
        r.json()["subject"],
        json!({ "user": "user_2ada", "email": "ada@example.com" })
    );
    let r = post_delivery(served.addr, PATH, f.delivery("session-revoked")).unwrap();
    assert_eq!(
        r.json()["subject"],
        json!({ "session": "sess_2fixture", "user": "user_2ada" })
    );
    let r = post_delivery(served.addr, PATH, f.delivery("email-created")).unwrap();
    assert_eq!(r.json()["subject"]["other"]["id"], "ema_1");
}

fn headers_of(d: &clerk_dev::webhooks::SignedDelivery) -> Vec<(&str, &str)> {
    d.headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

#[test]
fn bodies_over_the_cap_are_refused_before_and_while_reading() {
    let d = fixtures().delivery("user-created");
    let served = Served::with_hook(hook().max_body(1024));
    assert!(d.body.len() > 1024);
    // A declared Content-Length over the cap.
    let r = post_delivery(served.addr, PATH, d).unwrap();
    assert_bad_request(&r, "webhook-body-too-large");
    // No length declared: the running total while reading.
    let mut headers = headers_of(d);
    headers.push(("Transfer-Encoding", "chunked"));
    let r = post(
        served.addr,
        PATH,
        &headers,
        &chunked(d.body.as_bytes(), 300),
    )
    .unwrap();
    assert_bad_request(&r, "webhook-body-too-large");
    // Under the cap, chunked, it verifies.
    let served = Served::with_hook(hook());
    let r = post(
        served.addr,
        PATH,
        &headers,
        &chunked(d.body.as_bytes(), 300),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn the_default_cap_is_one_mebibyte() {
    let served = Served::with_hook(hook());
    let headers = headers_of(fixtures().delivery("user-created"));
    let r = post(served.addr, PATH, &headers, &vec![b' '; 1024 * 1024 + 1]).unwrap();
    assert_bad_request(&r, "webhook-body-too-large");
    // Exactly 1 MiB is read and judged on its signature.
    let r = post(served.addr, PATH, &headers, &vec![b' '; 1024 * 1024]).unwrap();
    assert_bad_request(&r, "webhook-invalid-signature");
}
