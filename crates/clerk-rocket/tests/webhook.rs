//! `ClerkWebhook` over real HTTP on 127.0.0.1: Rocket's server, deliveries signed by Svix's own
//! Python library (`clerk_dev::webhooks`), sent by a raw HTTP/1.1 client.

use clerk_dev::webhooks::{check_endpoint, fixtures};
use clerk_rocket::{ClerkError, ClerkWebhook};
use clerk_verify::webhook::EventData;
use clerk_verify::{Clock, Webhook};
use rocket::data::{self, Data, FromData};
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use rocket::request::Request;
use rocket::serde::json::{json, Value};
use rocket::{post, routes};
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

const PATH: &str = "/webhooks/clerk";

/// What the handler received, echoed so the tests see the typed event.
#[post("/webhooks/clerk", data = "<delivery>")]
fn receive(delivery: ClerkWebhook) -> Value {
    let subject = match &delivery.event.data {
        EventData::User(u) => json!({ "user": u.id, "email": u.primary_email() }),
        EventData::Session(s) => json!({ "session": s.id, "user": s.user_id }),
        EventData::Organization(o) => json!({ "organization": o.id, "name": o.name }),
        EventData::Other(data) => json!({ "other": data }),
        _ => json!(null),
    };
    json!({
        "id": delivery.id,
        "type": delivery.event.event_type,
        "unread": delivery.event.unread,
        "subject": subject,
    })
}

mod support;

use support::Served;

/// The app for `hook`, served.
fn serve(hook: Webhook) -> Served {
    Served::launch(
        support::loopback()
            .manage(hook)
            .register("/", clerk_rocket::catchers())
            .mount("/", routes![receive]),
    )
}

fn hook() -> Webhook {
    let f = fixtures();
    Webhook::new(&f.secret).unwrap().clock(Clock::fixed(
        UNIX_EPOCH + Duration::from_secs(f.signed_at as u64),
    ))
}

/// Starts the app for `clerk_dev::webhooks::check_endpoint`.
fn start(max_body: Option<usize>) -> (SocketAddr, Served) {
    let hook = match max_body {
        Some(max) => hook().max_body(max),
        None => hook(),
    };
    let served = serve(hook);
    (served.addr, served)
}

#[test]
fn the_endpoint_keeps_the_webhook_contract() {
    check_endpoint(PATH, start);
}

/// A route with the guard on a Rocket that manages no `Webhook` does not launch.
#[rocket::async_test]
async fn a_missing_webhook_stops_the_launch() {
    let rocket = rocket::build()
        .register("/", clerk_rocket::catchers())
        .mount("/", routes![receive]);
    let e = Client::untracked(rocket).await.unwrap_err();
    // Reading the kind marks Rocket's error as handled (it panics on drop otherwise).
    match e.kind() {
        rocket::error::ErrorKind::SentinelAborts(aborts) => {
            assert!(aborts[0].type_name.ends_with("ClerkWebhook"), "{aborts:?}")
        }
        other => panic!("{other:?}"),
    }
    let rocket = rocket::build()
        .manage(hook())
        .register("/", clerk_rocket::catchers())
        .mount("/", routes![receive]);
    assert!(Client::untracked(rocket).await.is_ok());
}

/// A data guard of the app's own around `ClerkWebhook`: not a `Sentinel`, so a Rocket without a
/// managed `Webhook` launches and the guard's run-time answer shows.
struct Wrapped(ClerkWebhook);

#[rocket::async_trait]
impl<'r> FromData<'r> for Wrapped {
    type Error = ClerkError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        ClerkWebhook::from_data(req, data).await.map(Wrapped)
    }
}

#[post("/wrapped", data = "<delivery>")]
fn wrapped(delivery: Wrapped) -> String {
    delivery.0.id.clone()
}

/// Past the sentinel, a missing `Webhook` is a 500 `verifier-missing` (never a delivery); how to
/// fix it is in the log, and in debug builds in the message too.
#[rocket::async_test]
async fn a_missing_webhook_past_the_sentinel_is_500() {
    let rocket = rocket::build()
        .register("/", clerk_rocket::catchers())
        .mount("/", routes![wrapped]);
    let client = Client::untracked(rocket).await.expect("no sentinel");
    let r = client.post("/wrapped").body("{}").dispatch().await;
    assert_eq!(r.status(), Status::InternalServerError);
    let body: Value = r.into_json().await.expect("a JSON body");
    assert_eq!(body["error"], "internal_server_error");
    assert_eq!(body["reason"], "verifier-missing");
    let names_the_fix = body["message"]
        .as_str()
        .is_some_and(|m| m.contains("Webhook::from_env"));
    assert_eq!(names_the_fix, cfg!(debug_assertions), "{body}");
}
