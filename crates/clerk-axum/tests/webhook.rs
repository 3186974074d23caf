//! `ClerkWebhook` over real HTTP on 127.0.0.1: axum's server, deliveries signed by Svix's own
//! Python library (`clerk_dev::webhooks`), sent by a raw HTTP/1.1 client.

use axum::extract::FromRef;
use axum::routing;
use axum::{Json, Router};
use clerk_axum::ClerkWebhook;
use clerk_dev::webhooks::{check_endpoint, fixtures};
use clerk_verify::webhook::EventData;
use clerk_verify::{Clock, Webhook};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

const PATH: &str = "/webhooks/clerk";

/// What the handler received, echoed so the tests see the typed event.
async fn receive(delivery: ClerkWebhook) -> Json<Value> {
    let subject = match &delivery.event.data {
        EventData::User(u) => json!({ "user": u.id, "email": u.primary_email() }),
        EventData::UserDeleted(d) => json!({ "deleted": d.id }),
        EventData::Session(s) => json!({ "session": s.id, "user": s.user_id }),
        EventData::Organization(o) => json!({ "organization": o.id, "name": o.name }),
        EventData::OrganizationDeleted(d) => json!({ "deleted": d.id }),
        EventData::Other(data) => json!({ "other": data }),
        _ => json!(null),
    };
    Json(json!({
        "id": delivery.id,
        "type": delivery.event.event_type,
        "unread": delivery.event.unread,
        "subject": subject,
    }))
}

/// An app state holding the `Webhook` among other things, as real apps do (with axum's
/// `macros` feature, `#[derive(FromRef)]` writes the impl below).
#[derive(Clone)]
struct AppState {
    hook: Webhook,
    #[allow(dead_code)] // Stands for the rest of a real app's state.
    name: &'static str,
}

impl FromRef<AppState> for Webhook {
    fn from_ref(state: &AppState) -> Webhook {
        state.hook.clone()
    }
}

mod support;

use support::Served;

/// Starts the app for `clerk_dev::webhooks::check_endpoint`, the `Webhook` in a state struct
/// as real apps hold it.
fn start(max_body: Option<usize>) -> (SocketAddr, Served) {
    let f = fixtures();
    let mut hook = Webhook::new(&f.secret).unwrap().clock(Clock::fixed(
        UNIX_EPOCH + Duration::from_secs(f.signed_at as u64),
    ));
    if let Some(max) = max_body {
        hook = hook.max_body(max);
    }
    let state = AppState {
        hook,
        name: "membership",
    };
    let served = Served::start(
        Router::new()
            .route(PATH, routing::post(receive))
            .with_state(state),
    );
    (served.addr, served)
}

#[test]
fn the_endpoint_keeps_the_webhook_contract() {
    check_endpoint(PATH, start);
}
