//! [`ClerkError`]: the one rejection type. What a refusal says is the core's
//! [`Refusal`](clerk_verify::Refusal); this file only hands it to actix-web.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_actix::rejection";

clerk_verify::adapter_refusal! {
    /// Answered as an actix-web [`ResponseError`]:
    ///
    /// ```
    /// use actix_web::ResponseError;
    /// let e = clerk_actix::ClerkError::forbidden("plan-missing", "this route needs the pro plan");
    /// assert_eq!(e.status_code(), 403);
    /// assert_eq!(e.reason(), "plan-missing");
    /// ```
    pub struct ClerkError;
}

impl ClerkError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl ResponseError for ClerkError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let refusal = self.refusal();
        let status = refusal.status();
        log::debug!(target: LOG_TARGET_REJECTION, "refused with {status}: {refusal}");
        let mut res = HttpResponse::build(self.status());
        // Appended, not inserted: each of a redirect's cookies is its own `set-cookie`.
        for (name, value) in refusal.response_headers() {
            if let Ok(value) = HeaderValue::from_str(value) {
                res.append_header((HeaderName::from_static(name), value));
            }
        }
        res.body(refusal.json_body())
    }
}
