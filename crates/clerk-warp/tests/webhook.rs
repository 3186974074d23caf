//! The `webhook` filter over real HTTP on 127.0.0.1: warp's server on its own runtime thread,
//! deliveries signed by Svix's own Python library (`clerk_dev::webhooks`), sent by a raw
//! HTTP/1.1 client.

use clerk_dev::webhooks::{check_endpoint, fixtures};
use clerk_verify::webhook::{Delivery, EventData};
use clerk_verify::{Clock, Webhook};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, UNIX_EPOCH};
use tokio::sync::oneshot;
use warp::Filter;

const PATH: &str = "/webhooks/clerk";

/// warp's server on its own thread and runtime, stopped and joined on drop.
struct Served {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
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

/// Starts the app for `clerk_dev::webhooks::check_endpoint`.
fn start(max_body: Option<usize>) -> (SocketAddr, Served) {
    let f = fixtures();
    let mut hook = Webhook::new(&f.secret).unwrap().clock(Clock::fixed(
        UNIX_EPOCH + Duration::from_secs(f.signed_at as u64),
    ));
    if let Some(max) = max_body {
        hook = hook.max_body(max);
    }
    let routes = warp::path!("webhooks" / "clerk")
        .and(warp::post())
        .and(clerk_warp::webhook(hook))
        .map(|delivery: Delivery| {
            let subject = match &delivery.event.data {
                EventData::User(u) => json!({ "user": u.id, "email": u.primary_email() }),
                EventData::Session(s) => json!({ "session": s.id, "user": s.user_id }),
                EventData::Organization(o) => json!({ "organization": o.id, "name": o.name }),
                EventData::Other(data) => json!({ "other": data }),
                _ => json!(null),
            };
            warp::reply::json(&json!({
                "id": delivery.id,
                "type": delivery.event.event_type,
                "subject": subject,
            }))
        })
        .recover(clerk_warp::handle_rejection);
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
                warp::serve(routes)
                    .incoming(listener)
                    .graceful(async {
                        let _ = stopped.await;
                    })
                    .run()
                    .await;
            })
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    (
        addr,
        Served {
            stop: Some(stop),
            thread: Some(thread),
        },
    )
}

#[test]
fn the_filter_keeps_the_webhook_contract() {
    check_endpoint(PATH, start);
}
