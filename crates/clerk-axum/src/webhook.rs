//! [`ClerkWebhook`]: the extractor of a Clerk webhook endpoint. Reading the raw body under the
//! cap is this file's; every rule about the delivery is [`clerk_verify::Webhook`]'s.

use crate::rejection::ClerkRejection;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use clerk_verify::webhook::Delivery;
use clerk_verify::{Error, Refusal, Webhook};
use futures_util::StreamExt;
use std::ops::Deref;

/// A verified Clerk webhook delivery: the extractor reads the raw body (up to the
/// [`Webhook`]'s cap, 1 MiB by default), checks the Svix signature and timestamp, and parses
/// the typed event. Anything else is answered 400 with
/// `{"error":"bad_request","reason":"webhook-…","message":"…"}` (Svix retries it), never 500.
/// Dereferences to [`Delivery`]: `id` (the `svix-id`, to deduplicate on) and `event`.
///
/// The [`Webhook`] comes from the router state (`Webhook: FromRef<S>`: the state is the
/// `Webhook`, or a struct deriving `FromRef` with a `Webhook` field), so a router whose state
/// lacks one does not compile, and [`Webhook::from_env`] fails at start-up when
/// `CLERK_WEBHOOK_SIGNING_SECRET` is missing or malformed.
///
/// ```no_run
/// use axum::routing::post;
/// use axum::Router;
/// use clerk_axum::ClerkWebhook;
/// use clerk_verify::webhook::EventData;
/// use clerk_verify::Webhook;
///
/// async fn clerk_events(delivery: ClerkWebhook) -> &'static str {
///     match &delivery.event.data {
///         EventData::User(user) => println!("{} is {:?}", user.id, user.primary_email()),
///         EventData::UserDeleted(gone) => println!("{:?} left", gone.id),
///         _ => {}
///     }
///     "ok"
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let hook = Webhook::from_env()?; // CLERK_WEBHOOK_SIGNING_SECRET
///     let app = Router::new()
///         .route("/webhooks/clerk", post(clerk_events))
///         .with_state(hook);
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
///     axum::serve(listener, app).await?;
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

impl<S> FromRequest<S> for ClerkWebhook
where
    S: Send + Sync,
    Webhook: FromRef<S>,
{
    type Rejection = ClerkRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let hook = Webhook::from_ref(state);
        let refuse = |e: Error| ClerkRejection::from(Refusal::from_webhook(&e));
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(len) = declared {
            hook.check_body_len(len).map_err(refuse)?;
        }
        // The declared length is within the cap here, so it bounds the allocation too.
        let mut raw = Vec::with_capacity(declared.unwrap_or(0) as usize);
        let mut frames = body.into_data_stream();
        while let Some(chunk) = frames.next().await {
            let chunk = chunk.map_err(|_| {
                refuse(Error::WebhookInvalidPayload(
                    "the request body could not be read".into(),
                ))
            })?;
            hook.check_body_len((raw.len() + chunk.len()) as u64)
                .map_err(refuse)?;
            raw.extend_from_slice(&chunk);
        }
        hook.verify_event(|name| parts.headers.get(name)?.to_str().ok(), &raw)
            .map(ClerkWebhook)
            .map_err(refuse)
    }
}
