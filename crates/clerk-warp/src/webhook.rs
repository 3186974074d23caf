//! [`webhook`]: the filter of a Clerk webhook endpoint, which streams the raw body into the
//! core's [`WebhookBody`]; no rule about a delivery is this file's.

use crate::rejection::reject;
use clerk_verify::adapter::WebhookBody;
use clerk_verify::webhook::Delivery;
use clerk_verify::{Refusal, Webhook};
use futures_util::{pin_mut, StreamExt};
use std::sync::Arc;
use warp::http::header::{HeaderMap, CONTENT_LENGTH};
use warp::reject::Rejection;
use warp::{Buf, Filter, Stream};

/// A verified Clerk webhook delivery ([`Delivery`]: `id`, the `svix-id` to deduplicate on, and
/// `event`), read under the [`Webhook`]'s cap and checked by [`WebhookBody`]; anything else is
/// a 400 [`ClerkRejection`](crate::ClerkRejection), never 500. Build the [`Webhook`] at start-up
/// ([`Webhook::from_env`]: `CLERK_WEBHOOK_SIGNING_SECRET`), which fails on a bad secret.
///
/// ```no_run
/// use clerk_warp::{handle_rejection, webhook, Delivery, EventData, Webhook};
/// use warp::Filter;
///
/// let events = warp::path!("webhooks" / "clerk")
///     .and(warp::post())
///     .and(webhook(Webhook::from_env()?))
///     .map(|delivery: Delivery| {
///         if let EventData::User(user) = &delivery.event.data {
///             println!("{} is {:?}", user.id, user.primary_email());
///         }
///         warp::http::StatusCode::NO_CONTENT
///     })
///     .recover(handle_rejection);
/// # Ok::<(), clerk_warp::Error>(())
/// ```
pub fn webhook(hook: Webhook) -> impl Filter<Extract = (Delivery,), Error = Rejection> + Clone {
    let hook = Arc::new(hook);
    warp::header::headers_cloned()
        .and(warp::body::stream())
        .and_then(move |headers: HeaderMap, body| {
            let hook = Arc::clone(&hook);
            async move { receive(&hook, &headers, body).await.map_err(reject) }
        })
}

async fn receive(
    hook: &Webhook,
    headers: &HeaderMap,
    body: impl Stream<Item = Result<impl Buf, warp::Error>>,
) -> Result<Delivery, Refusal> {
    let declared = headers.get(CONTENT_LENGTH);
    let mut raw = WebhookBody::new(hook, declared.and_then(|v| v.to_str().ok()?.parse().ok()))?;
    pin_mut!(body);
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| WebhookBody::unreadable())?;
        // A `Buf` may come in several slices.
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let n = part.len();
            raw.push(part)?;
            chunk.advance(n);
        }
    }
    raw.verify(|name| headers.get(name)?.to_str().ok())
}
