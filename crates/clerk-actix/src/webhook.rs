//! [`ClerkWebhook`]: the extractor of a Clerk webhook endpoint. Reading the raw body under the
//! cap is this file's; every rule about the delivery is [`clerk_verify::Webhook`]'s.

use crate::error::{ClerkError, LOG_TARGET};
use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{web, FromRequest, HttpRequest};
use clerk_verify::webhook::Delivery;
use clerk_verify::{reason, Error, Refusal, Webhook};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use std::ops::Deref;

/// A verified Clerk webhook delivery: the extractor reads the raw body (up to the
/// [`Webhook`]'s cap, 1 MiB by default), checks the Svix signature and timestamp, and parses
/// the typed event. Anything else is answered 400 with
/// `{"error":"bad_request","reason":"webhook-…","message":"…"}` (Svix retries it), never 500.
/// Dereferences to [`Delivery`]: `id` (the `svix-id`, to deduplicate on) and `event`.
///
/// The [`Webhook`] is app data (`web::Data<Webhook>` or a plain `Webhook`), built at start-up
/// with [`Webhook::from_env`] (`CLERK_WEBHOOK_SIGNING_SECRET`), which fails when the secret is
/// missing or malformed. A route using this extractor in an app without one answers 500
/// `verifier-missing` and logs why at error level.
///
/// ```no_run
/// use actix_web::{post, web, App, HttpResponse, HttpServer};
/// use clerk_actix::ClerkWebhook;
/// use clerk_verify::webhook::EventData;
/// use clerk_verify::Webhook;
///
/// #[post("/webhooks/clerk")]
/// async fn clerk_events(delivery: ClerkWebhook) -> HttpResponse {
///     match &delivery.event.data {
///         EventData::User(user) => println!("{} is {:?}", user.id, user.primary_email()),
///         EventData::UserDeleted(gone) => println!("{:?} left", gone.id),
///         _ => {}
///     }
///     HttpResponse::NoContent().finish()
/// }
///
/// #[actix_web::main]
/// async fn main() -> std::io::Result<()> {
///     let hook = Webhook::from_env().expect("set CLERK_WEBHOOK_SIGNING_SECRET");
///     HttpServer::new(move || {
///         App::new()
///             .app_data(web::Data::new(hook.clone()))
///             .service(clerk_events)
///     })
///     .bind(("127.0.0.1", 3000))?
///     .run()
///     .await
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

impl FromRequest for ClerkWebhook {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<ClerkWebhook, ClerkError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let Some(hook) = webhook(&req) else {
                log::error!(
                    target: LOG_TARGET,
                    "no clerk_verify::Webhook in the app data: add \
                     .app_data(web::Data::new(Webhook::from_env()?))"
                );
                return Err(Refusal::internal(
                    reason::VERIFIER_MISSING,
                    "no clerk_verify::Webhook in the app data",
                )
                .into());
            };
            let refuse = |e: Error| ClerkError::from(Refusal::from_webhook(&e));
            let declared = req
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
            if let Some(len) = declared {
                hook.check_body_len(len).map_err(refuse)?;
            }
            let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    refuse(Error::WebhookInvalidPayload(
                        "the request body could not be read".into(),
                    ))
                })?;
                hook.check_body_len((body.len() + chunk.len()) as u64)
                    .map_err(refuse)?;
                body.extend_from_slice(&chunk);
            }
            let headers = req.headers();
            hook.verify_event(|name| headers.get(name)?.to_str().ok(), &body)
                .map(ClerkWebhook)
                .map_err(refuse)
        })
    }
}

fn webhook(req: &HttpRequest) -> Option<&Webhook> {
    req.app_data::<web::Data<Webhook>>()
        .map(|data| data.get_ref())
        .or_else(|| req.app_data::<Webhook>())
}
