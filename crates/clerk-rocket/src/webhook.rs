//! [`ClerkWebhook`], the data guard of a Clerk webhook endpoint: reading Rocket's body stream;
//! the cap and every rule about the delivery are the core's ([`WebhookBody`]).

use crate::error::{outcome, ClerkError};
use crate::guard::lacks;
use clerk_verify::adapter::{self, WebhookBody};
use clerk_verify::webhook::Delivery;
use clerk_verify::Webhook;
use rocket::data::{self, ByteUnit, Data, FromData};
use rocket::request::Request;
use rocket::tokio::io::AsyncReadExt;
use rocket::{Ignite, Rocket, Sentinel};

/// How to give Rocket the webhook secret the guard looks for.
const FIX: &str = "call `rocket.manage(clerk_rocket::Webhook::from_env()?)`";
/// The size of one read from the body stream.
const CHUNK: usize = 16 * 1024;

clerk_verify::adapter_webhook! {
    /// A data guard, refused with a [`ClerkError`] rendered by [`catchers()`](crate::catchers).
    /// The [`Webhook`] is managed state; the guard is a [`Sentinel`]: a Rocket with a route
    /// using it but no managed `Webhook` does not launch.
    ///
    /// ```no_run
    /// use clerk_rocket::{ClerkWebhook, EventData, Webhook};
    /// use rocket::http::Status;
    /// use rocket::{post, routes};
    ///
    /// #[post("/webhooks/clerk", data = "<delivery>")]
    /// fn clerk_events(delivery: ClerkWebhook) -> Status {
    ///     if let EventData::User(user) = &delivery.event.data {
    ///         println!("{} is {:?}", user.id, user.primary_email());
    ///     }
    ///     Status::NoContent
    /// }
    ///
    /// fn app() -> Result<rocket::Rocket<rocket::Build>, clerk_rocket::clerk_verify::Error> {
    ///     Ok(rocket::build()
    ///         .manage(Webhook::from_env()?)
    ///         .register("/", clerk_rocket::catchers())
    ///         .mount("/", routes![clerk_events]))
    /// }
    /// ```
    pub struct ClerkWebhook;
}

#[rocket::async_trait]
impl<'r> FromData<'r> for ClerkWebhook {
    type Error = ClerkError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        outcome(req, receive(req, data).await.map(ClerkWebhook))
    }
}

/// Reads the body chunk by chunk into the core's [`WebhookBody`], which refuses it as soon as
/// it passes the cap, and verifies it.
async fn receive(req: &Request<'_>, data: Data<'_>) -> Result<Delivery, ClerkError> {
    let hook = req.rocket().state::<Webhook>();
    let hook = hook.ok_or_else(|| adapter::webhook_missing(FIX))?;
    let declared = req.headers().get_one("Content-Length");
    let mut body = WebhookBody::new(hook, declared.and_then(|v| v.parse().ok()))?;
    // One byte past the cap: a body that passes it reaches `push`, and is refused there.
    let mut stream = data.open(ByteUnit::from(hook.max_body_len().saturating_add(1)));
    let mut chunk = vec![0; CHUNK];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => body.push(&chunk[..n])?,
            Err(_) => return Err(WebhookBody::unreadable().into()),
        }
    }
    let headers = req.headers();
    Ok(body.verify(|name| headers.get_one(name))?)
}

impl Sentinel for ClerkWebhook {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        lacks::<Webhook>(rocket, "ClerkWebhook", "Webhook", FIX)
    }
}
