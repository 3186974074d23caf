//! [`ClerkError`]: the one refusal type. What a refusal says (status, body, headers) is the
//! core's [`Refusal`](clerk_verify::Refusal), so that every Clerk adapter answers alike; this file only hands it to
//! Rocket as a [`Responder`].

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use std::io::Cursor;

/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_rocket::rejection";
/// Log target of an app's set-up mistakes (error level).
pub(crate) const LOG_TARGET: &str = "clerk_rocket";

clerk_verify::adapter_refusal! {
    /// Why a Clerk guard refused a request: the guards' `Error` type and a [`Responder`], with
    /// the status, body and headers every Clerk adapter gives (the table is on [`Refusal`](clerk_verify::Refusal)). A
    /// page guard's redirect (307) also carries its `Location`, `Cache-Control: no-store` and
    /// every `Set-Cookie` of Clerk's handshake. In debug builds a `verifier-missing` 500 says how
    /// to manage a verifier.
    ///
    /// ```
    /// let e = clerk_rocket::ClerkError::forbidden("plan-missing", "this route needs the pro plan");
    /// assert_eq!(e.status().code, 403);
    /// assert_eq!(e.reason(), "plan-missing");
    /// ```
    pub struct ClerkError;
}

impl ClerkError {
    /// The HTTP status: 400, 401, 403, 500 or 503, or 307 for a page guard's redirect.
    pub fn status(&self) -> Status {
        Status::new(self.refusal().status())
    }

    /// The status a failing guard hands Rocket, which picks the catcher by it. Rocket's
    /// catchers only take error statuses, so a redirect travels as a 401 (the visitor is not
    /// signed in, yet) and the 401 catcher answers with the redirect: without the catchers a
    /// page is refused, never redirected to nowhere.
    pub(crate) fn guard_status(&self) -> Status {
        match self.status() {
            status if status.class().is_redirection() => Status::Unauthorized,
            status => status,
        }
    }
}

impl<'r> Responder<'r, 'static> for ClerkError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let refusal = self.refusal();
        log::debug!(
            target: LOG_TARGET_REJECTION,
            "clerk_rocket: refused with {}: {refusal}",
            refusal.status()
        );
        let body = refusal.json_body();
        let mut res = Response::build();
        res.status(self.status())
            .sized_body(body.len(), Cursor::new(body));
        // Adjoined, not set: a handshake may carry several cookies, each its own `Set-Cookie`.
        for (name, value) in refusal.response_headers() {
            if is_header_value(value) {
                res.raw_header_adjoin(name, value.to_owned());
            }
        }
        Ok(res.finalize())
    }
}

/// Whether hyper will send `value`: it refuses the whole response over one bad header value.
pub(crate) fn is_header_value(value: &str) -> bool {
    !value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f)
}
