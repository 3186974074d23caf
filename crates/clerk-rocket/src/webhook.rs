//! [`ClerkWebhook`], the data guard of a Clerk webhook endpoint: reading Rocket's body stream;
//! the cap and every rule about the delivery are the core's ([`WebhookBody`]).

use crate::answer::lacks;
use crate::error::{outcome, ClerkError};
use clerk_verify::adapter::{self, WebhookBody};
use clerk_verify::webhook::Delivery;
use clerk_verify::Webhook;
use rocket::data::{self, ByteUnit, Data, FromData};
use rocket::request::Request;
use rocket::{Ignite, Rocket, Sentinel};

/// How to give Rocket the webhook secret the guard looks for.
const FIX: &str = "call `rocket.manage(clerk_rocket::Webhook::from_env()?)`";

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
    /// let rocket = rocket::build()
    ///     .manage(Webhook::from_env()?)
    ///     .register("/", clerk_rocket::catchers())
    ///     .mount("/", routes![clerk_events]);
    /// # Ok::<(), clerk_rocket::clerk_verify::Error>(())
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

/// Reads the body, one byte past the cap at most, into the core's [`WebhookBody`], which refuses
/// it if it passes the cap, and verifies it.
async fn receive(req: &Request<'_>, data: Data<'_>) -> Result<Delivery, ClerkError> {
    let hook = req.rocket().state::<Webhook>();
    let hook = hook.ok_or_else(|| adapter::webhook_missing(FIX))?;
    let declared = req.headers().get_one("Content-Length");
    let mut body = WebhookBody::new(hook, declared.and_then(|v| v.parse().ok()))?;
    let capped = data.open(ByteUnit::from(hook.max_body_len().saturating_add(1)));
    let raw = capped.into_bytes().await;
    body.push(&raw.map_err(|_| WebhookBody::unreadable())?)?;
    let headers = req.headers();
    Ok(body.verify(|name| headers.get_one(name))?)
}

impl Sentinel for ClerkWebhook {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        lacks::<Webhook>(rocket, "ClerkWebhook", "Webhook", FIX)
    }
}
