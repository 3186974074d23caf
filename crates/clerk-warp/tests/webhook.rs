//! The `webhook` filter over real HTTP on 127.0.0.1: warp's server on a multi-threaded runtime,
//! deliveries signed by Svix's own Python library (`clerk_dev::webhooks`), sent by a raw
//! HTTP/1.1 client on the blocking pool.

use clerk_dev::webhooks::{fixtures, SignedDelivery};
use clerk_dev::{chunked, post, HttpReply};
use clerk_verify::webhook::{Delivery, EventData};
use clerk_verify::{Clock, Webhook};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};
use tokio::task::JoinHandle;
use warp::Filter;

const PATH: &str = "/webhooks/clerk";

/// warp's server for the filter, aborted on drop.
struct Served {
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(hook: Webhook) -> Served {
    let routes = warp::path!("webhooks" / "clerk")
        .and(warp::post())
        .and(clerk_warp::webhook(hook))
        .map(|delivery: Delivery| {
            let subject = match &delivery.event.data {
                EventData::User(u) => json!({ "user": u.id, "email": u.primary_email() }),
                EventData::Organization(o) => json!({ "organization": o.id, "name": o.name }),
                _ => json!(null),
            };
            warp::reply::json(&json!({
                "id": delivery.id,
                "type": delivery.event.event_type,
                "subject": subject,
            }))
        })
        .recover(clerk_warp::handle_rejection);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(warp::serve(routes).incoming(listener).run());
    Served { addr, server }
}

/// POSTs on the blocking pool (the client is blocking std I/O).
async fn send(addr: SocketAddr, headers: Vec<(String, String)>, body: Vec<u8>) -> HttpReply {
    tokio::task::spawn_blocking(move || {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        post(addr, PATH, &headers, &body).unwrap()
    })
    .await
    .unwrap()
}

async fn deliver(addr: SocketAddr, d: &SignedDelivery) -> HttpReply {
    send(addr, d.headers.clone(), d.body.clone().into_bytes()).await
}

fn hook() -> Webhook {
    let f = fixtures();
    Webhook::new(&f.secret).unwrap().clock(Clock::fixed(
        UNIX_EPOCH + Duration::from_secs(f.signed_at as u64),
    ))
}

fn assert_bad_request(r: &HttpReply, reason: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["error"], "bad_request", "{}", r.body);
    assert_eq!(v["reason"], reason, "{}", r.body);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(r.header("x-clerk-auth-status"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_svix_fixture_gets_its_answer() {
    let served = serve(hook()).await;
    for d in &fixtures().deliveries {
        let r = deliver(served.addr, d).await;
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
    let f = fixtures();
    let r = deliver(served.addr, f.delivery("unicode-names")).await;
    assert_eq!(
        r.json()["subject"],
        json!({ "user": "user_2ada", "email": "ada@example.com" })
    );
    let r = deliver(served.addr, f.delivery("organization-created")).await;
    assert_eq!(
        r.json()["subject"],
        json!({ "organization": "org_2acme", "name": "Acme" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_cap_are_refused_before_and_while_reading() {
    let d = fixtures().delivery("user-created");
    assert!(d.body.len() > 1024);
    let capped = serve(hook().max_body(1024)).await;
    assert_bad_request(&deliver(capped.addr, d).await, "webhook-body-too-large");
    let mut headers = d.headers.clone();
    headers.push(("Transfer-Encoding".into(), "chunked".into()));
    let framed = chunked(d.body.as_bytes(), 300);
    let r = send(capped.addr, headers.clone(), framed.clone()).await;
    assert_bad_request(&r, "webhook-body-too-large");

    let served = serve(hook()).await;
    let r = send(served.addr, headers, framed).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(served.addr, d.headers.clone(), vec![b' '; 1024 * 1024 + 1]).await;
    assert_bad_request(&r, "webhook-body-too-large");
    let r = send(served.addr, d.headers.clone(), vec![b' '; 1024 * 1024]).await;
    assert_bad_request(&r, "webhook-invalid-signature");
}
