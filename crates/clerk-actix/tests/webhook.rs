//! `ClerkWebhook` over real HTTP on 127.0.0.1: actix-web's server, deliveries signed by Svix's
//! own Python library (`clerk_dev::webhooks`), sent by a raw HTTP/1.1 client.

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use clerk_actix::ClerkWebhook;
use clerk_dev::webhooks::fixtures;
use clerk_dev::{chunked, post, post_delivery};
use clerk_verify::webhook::EventData;
use clerk_verify::{Clock, Webhook};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, UNIX_EPOCH};

const PATH: &str = "/webhooks/clerk";

/// What the handler received, echoed so the tests see the typed event.
async fn receive(delivery: ClerkWebhook) -> HttpResponse {
    let subject = match &delivery.event.data {
        EventData::User(u) => json!({ "user": u.id, "email": u.primary_email() }),
        EventData::UserDeleted(d) => json!({ "deleted": d.id }),
        EventData::Session(s) => json!({ "session": s.id, "user": s.user_id }),
        EventData::Organization(o) => json!({ "organization": o.id }),
        EventData::OrganizationDeleted(d) => json!({ "deleted": d.id }),
        EventData::Other(data) => json!({ "other": data }),
        _ => json!(null),
    };
    HttpResponse::Ok().json(json!({
        "id": delivery.id,
        "type": delivery.event.event_type,
        "subject": subject,
    }))
}

/// actix-web's server on its own thread, stopped and joined on drop.
struct Served {
    addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    fn start(hook: Option<Webhook>) -> Served {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let hook = hook.clone();
                    App::new()
                        .configure(|cfg| {
                            if let Some(hook) = hook {
                                cfg.app_data(web::Data::new(hook));
                            }
                        })
                        .route(PATH, web::post().to(receive))
                })
                .workers(1)
                .bind(("127.0.0.1", 0))
                .unwrap();
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).unwrap();
                let _ = server.await;
            })
        });
        let (addr, handle) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        Served {
            addr,
            handle,
            thread: Some(thread),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
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
    let served = Served::start(Some(hook()));
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
fn the_handler_gets_the_typed_event() {
    let served = Served::start(Some(hook()));
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

#[test]
fn bodies_over_the_cap_are_refused_before_and_while_reading() {
    let d = fixtures().delivery("user-created");
    let served = Served::start(Some(hook().max_body(1024)));
    assert!(d.body.len() > 1024);
    // A declared Content-Length over the cap.
    let r = post_delivery(served.addr, PATH, d).unwrap();
    assert_bad_request(&r, "webhook-body-too-large");
    // No length declared: the running total while reading.
    let mut headers: Vec<(&str, &str)> = d
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
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
    let served = Served::start(Some(hook()));
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
    let served = Served::start(Some(hook()));
    let d = fixtures().delivery("user-created");
    let headers: Vec<(&str, &str)> = d
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let r = post(served.addr, PATH, &headers, &vec![b' '; 1024 * 1024 + 1]).unwrap();
    assert_bad_request(&r, "webhook-body-too-large");
    // Exactly 1 MiB is read and judged on its signature.
    let r = post(served.addr, PATH, &headers, &vec![b' '; 1024 * 1024]).unwrap();
    assert_bad_request(&r, "webhook-invalid-signature");
}

#[test]
fn an_app_without_a_webhook_answers_500() {
    let served = Served::start(None);
    let r = post_delivery(served.addr, PATH, fixtures().delivery("user-created")).unwrap();
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.json()["reason"], "verifier-missing");
}
