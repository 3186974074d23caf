//! The `webhook` filter over real HTTP on 127.0.0.1: warp's server on its own runtime thread,
//! deliveries signed by Svix's own Python library (`clerk_dev::webhooks`), sent by a raw
//! HTTP/1.1 client.

use clerk_dev::webhooks::{check_endpoint, fixtures};
use clerk_verify::webhook::{Delivery, EventData};
use clerk_verify::{Clock, Webhook};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};
use warp::Filter;

const PATH: &str = "/webhooks/clerk";

mod support;

use support::Served;

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
                "unread": delivery.event.unread,
                "subject": subject,
            }))
        })
        .recover(clerk_warp::handle_rejection);
    let served = Served::start_with(|_| routes);
    (served.addr, served)
}

#[test]
fn the_filter_keeps_the_webhook_contract() {
    check_endpoint(PATH, start);
}
