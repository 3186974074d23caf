//! `ClerkWebhook` over real HTTP on 127.0.0.1: actix-web's server, deliveries signed by Svix's
//! own Python library (`clerk_dev::webhooks`), sent by a raw HTTP/1.1 client.

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use clerk_actix::ClerkWebhook;
use clerk_dev::post_delivery;
use clerk_dev::webhooks::{check_endpoint, fixtures};
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
        EventData::Organization(o) => json!({ "organization": o.id, "name": o.name }),
        EventData::OrganizationDeleted(d) => json!({ "deleted": d.id }),
        EventData::Other(data) => json!({ "other": data }),
        _ => json!(null),
    };
    HttpResponse::Ok().json(json!({
        "id": delivery.id,
        "type": delivery.event.event_type,
        "unread": delivery.event.unread,
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

/// Starts the app for `clerk_dev::webhooks::check_endpoint`.
fn start(max_body: Option<usize>) -> (SocketAddr, Served) {
    let f = fixtures();
    let mut hook = Webhook::new(&f.secret).unwrap().clock(Clock::fixed(
        UNIX_EPOCH + Duration::from_secs(f.signed_at as u64),
    ));
    if let Some(max) = max_body {
        hook = hook.max_body(max);
    }
    let served = Served::start(Some(hook));
    (served.addr, served)
}

#[test]
fn the_endpoint_keeps_the_webhook_contract() {
    check_endpoint(PATH, start);
}

#[test]
fn an_app_without_a_webhook_answers_500() {
    let served = Served::start(None);
    let r = post_delivery(served.addr, PATH, fixtures().delivery("user-created")).unwrap();
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.json()["reason"], "verifier-missing");
}
