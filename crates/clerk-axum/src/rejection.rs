//! [`ClerkRejection`]: the one rejection type. What a refusal says (status, body, headers) is
//! the core's [`Refusal`](clerk_verify::Refusal); this file only hands it to axum.

use axum::body::Body;
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_axum::rejection";

clerk_verify::adapter_refusal! {
    /// Why a request was refused: a [`Refusal`](clerk_verify::Refusal) of [`clerk_verify`]
    /// answered through axum's [`IntoResponse`], with the status, body and headers every Clerk
    /// adapter gives (the table is on [`Refusal`](clerk_verify::Refusal)); only a
    /// missing verifier says its fix, in debug builds. `ClerkRejection::forbidden` writes a guard
    /// of your own, and a [`Forbidden`](clerk_verify::request::Forbidden)
    /// (`auth.require_role("org:admin")?`) converts into a 403:
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use clerk_axum::ClerkRejection;
    ///
    /// let e = ClerkRejection::forbidden("plan-missing", "this route needs the pro plan");
    /// assert_eq!(e.reason(), "plan-missing");
    /// assert_eq!(e.into_response().status(), 403);
    /// ```
    pub struct ClerkRejection;
}

impl ClerkRejection {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for ClerkRejection {
    fn into_response(self) -> Response {
        let refusal = self.refusal();
        log::debug!(
            target: LOG_TARGET_REJECTION,
            "refused with {}: {refusal}",
            refusal.status()
        );
        let mut res = Response::new(Body::from(refusal.json_body()));
        *res.status_mut() = self.status();
        let headers = res.headers_mut();
        // Appended as the core lists them: each set-cookie of a redirect is its own header.
        for (name, value) in refusal.response_headers() {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        res
    }
}
