//! [`ClerkWebhook`]: the data guard of a Clerk webhook endpoint. Reading Rocket's body stream
//! is this file's; the cap and every rule about the delivery are the core's
//! ([`WebhookBody`], [`clerk_verify::Webhook`]).

use crate::cache::outcome;
use crate::error::{ClerkError, LOG_TARGET};
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
    /// A verified Clerk webhook delivery: a data guard that reads the raw body (up to the
    /// [`Webhook`]'s cap, 1 MiB by default), checks the Svix signature and timestamp, and
    /// parses the typed event. Anything else fails with a 400 [`ClerkError`]
    /// (`{"error":"bad_request","reason":"webhook-…","message":"…"}`, rendered by
    /// [`catchers()`](crate::catchers); Svix retries it), never 500. Dereferences to
    /// [`Delivery`]: `id` (the `svix-id`, to deduplicate on) and `event`.
    ///
    /// The [`Webhook`] is managed state, built at start-up with [`Webhook::from_env`]
    /// (`CLERK_WEBHOOK_SIGNING_SECRET`), which fails when the secret is missing or malformed.
    /// The guard is a [`Sentinel`]: a Rocket with a route using it but no managed `Webhook`
    /// does not launch.
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
        if rocket.state::<Webhook>().is_some() {
            return false;
        }
        log::error!(
            target: LOG_TARGET,
            "clerk_rocket: launching with a route that uses `ClerkWebhook`, but no \
             `clerk_verify::Webhook` is managed; {FIX}"
        );
        true
    }
}
