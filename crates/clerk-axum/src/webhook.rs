//! [`ClerkWebhook`]: hands a webhook body's frames to [`WebhookBody`], which keeps them under
//! the cap; every rule about the delivery is [`clerk_verify::Webhook`]'s.

use crate::rejection::ClerkRejection;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use clerk_verify::adapter::WebhookBody;
use clerk_verify::Webhook;
use futures_util::StreamExt;

clerk_verify::adapter_webhook! {
    /// The [`Webhook`] comes from the router state (`Webhook: FromRef<S>`: the state is the
    /// `Webhook`, or a struct deriving `FromRef` with a `Webhook` field), so a router whose state
    /// lacks one does not compile.
    ///
    /// ```no_run
    /// use axum::{routing::post, Router};
    /// use clerk_axum::{ClerkWebhook, EventData, Webhook};
    ///
    /// async fn clerk_events(delivery: ClerkWebhook) -> &'static str {
    ///     if let EventData::User(user) = &delivery.event.data {
    ///         println!("{} is {:?}", user.id, user.primary_email());
    ///     }
    ///     "ok"
    /// }
    ///
    /// let hook = Webhook::from_env()?; // CLERK_WEBHOOK_SIGNING_SECRET
    /// let app: Router = Router::new()
    ///     .route("/webhooks/clerk", post(clerk_events))
    ///     .with_state(hook);
    /// # Ok::<(), clerk_axum::clerk_verify::Error>(())
    /// ```
    pub struct ClerkWebhook;
}

impl<S> FromRequest<S> for ClerkWebhook
where
    S: Send + Sync,
    Webhook: FromRef<S>,
{
    type Rejection = ClerkRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let hook = Webhook::from_ref(state);
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let mut raw = WebhookBody::new(&hook, declared)?;
        let mut frames = body.into_data_stream();
        while let Some(chunk) = frames.next().await {
            raw.push(&chunk.map_err(|_| WebhookBody::unreadable())?)?;
        }
        let delivery = raw.verify(|name| parts.headers.get(name)?.to_str().ok())?;
        Ok(ClerkWebhook(delivery))
    }
}
