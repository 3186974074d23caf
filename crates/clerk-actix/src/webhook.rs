//! [`ClerkWebhook`]: the extractor of a Clerk webhook endpoint. Handing the raw body over chunk
//! by chunk is this file's; the cap and every rule about the delivery are the core's.

use actix_web::http::header::CONTENT_LENGTH;
use clerk_verify::adapter::{self, WebhookBody};
use futures_util::StreamExt;

/// What an app without a [`Webhook`] is told to add (in the log; in the 500 in debug builds).
const WEBHOOK_FIX: &str = "add .app_data(web::Data::new(Webhook::from_env()?)) to the App";

clerk_verify::adapter_webhook! {
    /// The [`Webhook`](clerk_verify::Webhook) is app data (`web::Data<Webhook>` or a plain
    /// `Webhook`); in an app without one this extractor answers 500 `verifier-missing`.
    ///
    /// ```no_run
    /// use actix_web::{post, web, App, HttpResponse};
    /// use clerk_actix::{ClerkWebhook, EventData, Webhook};
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
    /// let hook = Webhook::from_env().expect("set CLERK_WEBHOOK_SIGNING_SECRET");
    /// let app = App::new().app_data(web::Data::new(hook)).service(clerk_events);
    /// # drop(app);
    /// ```
    pub struct ClerkWebhook;
}

from_request! {
    [] ClerkWebhook => |req, payload| {
        let hook = crate::app_data(&req).ok_or_else(|| adapter::webhook_missing(WEBHOOK_FIX))?;
        let declared = req.headers().get(CONTENT_LENGTH);
        let declared = declared.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let mut body = WebhookBody::new(hook, declared)?;
        while let Some(chunk) = payload.next().await {
            body.push(&chunk.map_err(|_| WebhookBody::unreadable())?)?;
        }
        let headers = req.headers();
        body.verify(|name| headers.get(name)?.to_str().ok()).map(ClerkWebhook)
    };
}
