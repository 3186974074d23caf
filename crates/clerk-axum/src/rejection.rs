//! [`ClerkRejection`]: the one rejection type. What a refusal says (status, body, headers) is
//! the core's [`Refusal`](clerk_verify::Refusal); this file only hands it to axum.

use axum::body::Body;
use axum::http::header::{HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

clerk_verify::adapter_refusal! {
    /// Answered through axum's [`IntoResponse`]:
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
            target: "clerk_axum::rejection",
            "refused with {}: {refusal}",
            refusal.status()
        );
        let mut res = Response::new(Body::from(refusal.json_body()));
        *res.status_mut() = self.status();
        let headers = res.headers_mut();
        // Appended as the core lists them: each set-cookie of a redirect is its own header.
        for (name, value) in refusal.response_headers() {
            append(headers, name, value);
        }
        res
    }
}

/// Replaces every header `name` with `value` (a value that is not a valid header is dropped).
pub(crate) fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    let _ = HeaderValue::from_str(value).map(|value| headers.insert(name, value));
}

/// Adds a header `name: value` beside those of the same name (an invalid value is dropped).
pub(crate) fn append(headers: &mut HeaderMap, name: &'static str, value: &str) {
    let _ = HeaderValue::from_str(value).map(|value| headers.append(name, value));
}
