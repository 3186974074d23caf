//! [`webhook`]: the filter of a Clerk webhook endpoint. It streams the raw body into the core's
//! [`WebhookBody`], which holds it under the cap and verifies it; no rule about a delivery is
//! this file's.

use crate::rejection::ClerkRejection;
use clerk_verify::adapter::WebhookBody;
use clerk_verify::webhook::Delivery;
use clerk_verify::{Refusal, Webhook};
use futures_util::{pin_mut, StreamExt};
use std::sync::Arc;
use warp::http::header::{HeaderMap, CONTENT_LENGTH};
use warp::reject::Rejection;
use warp::{Buf, Filter, Stream};

/// A verified Clerk webhook delivery: reads the raw body (up to the [`Webhook`]'s cap, 1 MiB
/// by default), checks the Svix signature and timestamp, and extracts the typed event as a
/// [`Delivery`] (`id`, the `svix-id` to deduplicate on, and `event`). Anything else is a
/// [`ClerkRejection`] that [`handle_rejection`](crate::handle_rejection) answers 400
/// `{"error":"bad_request","reason":"webhook-…","message":"…"}` (Svix retries it), never 500.
///
/// The filter takes the [`Webhook`] itself, built at start-up with [`Webhook::from_env`]
/// (`CLERK_WEBHOOK_SIGNING_SECRET`), which fails when the secret is missing or malformed.
///
/// ```no_run
/// use clerk_warp::{Delivery, EventData, Webhook};
/// use warp::Filter;
///
/// #[tokio::main]
/// async fn main() -> Result<(), clerk_warp::Error> {
///     let hook = Webhook::from_env()?;
///     let events = warp::path!("webhooks" / "clerk")
///         .and(warp::post())
///         .and(clerk_warp::webhook(hook))
///         .map(|delivery: Delivery| {
///             if let EventData::User(user) = &delivery.event.data {
///                 println!("{} is {:?}", user.id, user.primary_email());
///             }
///             warp::http::StatusCode::NO_CONTENT
///         })
///         .recover(clerk_warp::handle_rejection);
///     warp::serve(events).run(([127, 0, 0, 1], 3000)).await;
///     Ok(())
/// }
/// ```
pub fn webhook(hook: Webhook) -> impl Filter<Extract = (Delivery,), Error = Rejection> + Clone {
    let hook = Arc::new(hook);
    warp::header::headers_cloned()
        .and(warp::body::stream())
        .and_then(move |headers: HeaderMap, body| {
            let hook = Arc::clone(&hook);
            async move {
                receive(&hook, &headers, body)
                    .await
                    .map_err(|refusal| warp::reject::custom(ClerkRejection::from(refusal)))
            }
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
