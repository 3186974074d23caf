//! [`ClerkWebhook`]: the data guard of a Clerk webhook endpoint. Reading the raw body under the
//! cap is this file's; every rule about the delivery is [`clerk_verify::Webhook`]'s.

use crate::cache::record;
use crate::error::{ClerkError, LOG_TARGET};
use clerk_verify::webhook::Delivery;
use clerk_verify::{reason, Error, Refusal, Webhook};
use rocket::data::{self, ByteUnit, Data, FromData};
use rocket::outcome::Outcome;
use rocket::request::Request;
use rocket::{Ignite, Rocket, Sentinel};
use std::ops::Deref;

/// A verified Clerk webhook delivery: a data guard that reads the raw body (up to the
/// [`Webhook`]'s cap, 1 MiB by default), checks the Svix signature and timestamp, and parses
/// the typed event. Anything else fails with a 400 [`ClerkError`]
/// (`{"error":"bad_request","reason":"webhook-…","message":"…"}`, rendered by
/// [`catchers()`](crate::catchers); Svix retries it), never 500. Dereferences to
/// [`Delivery`]: `id` (the `svix-id`, to deduplicate on) and `event`.
///
/// The [`Webhook`] is managed state, built at start-up with [`Webhook::from_env`]
/// (`CLERK_WEBHOOK_SIGNING_SECRET`), which fails when the secret is missing or malformed. The
/// guard is a [`Sentinel`]: a Rocket with a route using it but no managed `Webhook` does not
/// launch.
///
/// ```no_run
/// use clerk_rocket::ClerkWebhook;
/// use clerk_verify::webhook::EventData;
/// use clerk_verify::Webhook;
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
/// #[rocket::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let _ = rocket::build()
///         .manage(Webhook::from_env()?)
///         .register("/", clerk_rocket::catchers())
///         .mount("/", routes![clerk_events])
///         .launch()
///         .await?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClerkWebhook(pub Delivery);

impl ClerkWebhook {
    /// The [`Delivery`] inside.
    pub fn into_inner(self) -> Delivery {
        self.0
    }
}

impl Deref for ClerkWebhook {
    type Target = Delivery;

    fn deref(&self) -> &Delivery {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for ClerkWebhook {
    type Error = ClerkError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let Some(hook) = req.rocket().state::<Webhook>() else {
            log::error!(
                target: LOG_TARGET,
                "clerk_rocket: no clerk_verify::Webhook is managed; call \
                 `rocket.manage(Webhook::from_env()?)`"
            );
            let refusal = Refusal::internal(
                reason::VERIFIER_MISSING,
                "no clerk_verify::Webhook is managed",
            );
            return fail(req, refusal);
        };
        let declared = req
            .headers()
            .get_one("Content-Length")
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(len) = declared {
            if let Err(e) = hook.check_body_len(len) {
                return fail(req, Refusal::from_webhook(&e));
            }
        }
        let limit = ByteUnit::from(hook.max_body_len());
        let body = match data.open(limit).into_bytes().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => {
                let e = Error::WebhookBodyTooLarge {
                    limit: hook.max_body_len(),
                };
                return fail(req, Refusal::from_webhook(&e));
            }
            Err(_) => {
                let e = Error::WebhookInvalidPayload("the request body could not be read".into());
                return fail(req, Refusal::from_webhook(&e));
            }
        };
        let headers = req.headers();
        match hook.verify_event(|name| headers.get_one(name), &body) {
            Ok(delivery) => Outcome::Success(ClerkWebhook(delivery)),
            Err(e) => fail(req, Refusal::from_webhook(&e)),
        }
    }
}

/// Records the refusal for the catchers and fails the guard with it.
fn fail<'r>(req: &'r Request<'_>, refusal: Refusal) -> data::Outcome<'r, ClerkWebhook> {
    let error = ClerkError::from(refusal);
    record(req, error.clone());
    Outcome::Error((error.status(), error))
}

impl Sentinel for ClerkWebhook {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<Webhook>().is_some() {
            return false;
        }
        log::error!(
            target: LOG_TARGET,
            "clerk_rocket: launching with a route that uses `ClerkWebhook`, but no \
             `clerk_verify::Webhook` is managed; call `rocket.manage(Webhook::from_env()?)`"
        );
        true
    }
}
