//! Refreshing an expired session without the Frontend API, as `request.ts`'s `attemptRefresh`:
//! a `GET` whose cookie token expired and that carries the instance's `__refresh` cookie asks
//! the Backend API (`POST {api_url}/v1/sessions/{sid}/refresh`, secret key) for new cookies,
//! verifies the new session token, and signs the user in on this request. Any failure falls
//! back to Clerk's handshake, with the refresh's reason in the handshake's; an outage never
//! signs anyone out.
//!
//! The new cookies must reach the browser. A caller that adds [`crate::request::Auth::set_cookies`]
//! to its response says so ([`PageRequest::delivers_cookies`]) and gets the user at once;
//! otherwise the answer is one 307 back to the same URL setting them
//! (`session-token-refreshed`), counted by Clerk's loop counter.
//!
//! A refresh is a Backend API call on the instance's quota, so, stricter than Clerk, it is
//! made only for a token that verified in every respect but its age (its signature, issuer
//! and authorized party: a stranger cannot make one up), whose `sid` is Clerk's shape, for a
//! refresh token the Backend API has not refused already (refusals are remembered for 10
//! minutes), and at most `max_session_refreshes_per_second` times per second.

use super::Pages;
use crate::error::{Category, Error};
use crate::reason;
use crate::request::cookies::{
    cookie_pair, handshake_cookies, peek_claim, Cookies, SESSION_COOKIE,
};
use crate::request::credentials::TokenCarrier;
use crate::request::page::PageRequest;
use crate::request::{Auth, Authentication, Authenticator, Io, SignedOut};

/// What a refresh attempt decided.
pub(super) enum Refreshed {
    /// Signed in (or the 307 that delivers the cookies), or a server fault to answer.
    Done(Authentication),
    /// Not refreshed: Clerk's handshake takes over, with this reason.
    Fallback(&'static str),
}

impl Authenticator {
    /// Refreshes the expired cookie `token` with the `__refresh` cookie `refresh_token`;
    /// `None` when `io` forbids the call it needs.
    pub(super) fn refresh(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        token: &str,
        refresh_token: &str,
        io: Io,
    ) -> Option<Refreshed> {
        let Some(secret) = pages.secret_key.as_deref() else {
            return Some(Refreshed::Fallback(
                reason::SESSION_TOKEN_EXPIRED_REFRESH_MISSING_API_CLIENT,
            ));
        };
        let sid = peek_claim(token, "sid").and_then(|v| v.as_str().map(str::to_owned));
        let Some(sid) = sid.filter(|s| is_session_id(s)) else {
            return Some(Refreshed::Fallback(
                reason::SESSION_TOKEN_EXPIRED_REFRESH_MISSING_SID,
            ));
        };
        let now = self.now();
        // The pair, as remembered when refused (a new refresh token is a new question).
        let asked = format!("{sid}\n{refresh_token}");
        if pages.refused_refreshes.contains(&asked, now) {
            return Some(Refreshed::Fallback(
                reason::SESSION_TOKEN_EXPIRED_REFRESH_UNEXPECTED_BAPI_ERROR,
            ));
        }
        if io == Io::Never {
            return None;
        }
        if !pages.refreshes.take() {
            log::warn!(
                target: "clerk_verify::handshake",
                "more session refreshes than max_session_refreshes_per_second: the handshake \
                 refreshes this one"
            );
            return Some(Refreshed::Fallback(
                reason::SESSION_TOKEN_EXPIRED_REFRESH_RATE_LIMITED,
            ));
        }
        let body = serde_json::json!({
            "format": "cookie",
            "expired_token": token,
            "refresh_token": refresh_token,
            "request_origin": page.origin(),
            "request_headers": request_headers(page),
        });
        let suffixed = self.picks_suffixed(jar);
        let cookies = match call(pages, secret, &sid, suffixed, &body) {
            Ok(cookies) => cookies,
            Err(e) => {
                let reason = match &e {
                    Error::HandshakeInvalid(_) => {
                        pages.refused_refreshes.remember(
                            &asked,
                            now + super::REFUSED_REFRESH_MEMORY_SECS,
                            now,
                        );
                        reason::SESSION_TOKEN_EXPIRED_REFRESH_UNEXPECTED_BAPI_ERROR
                    }
                    Error::SecretKeyInvalid => {
                        log::error!(
                            target: "clerk_verify::handshake",
                            "the Backend API refused the secret key (CLERK_SECRET_KEY) for a \
                             session refresh"
                        );
                        reason::SESSION_TOKEN_EXPIRED_REFRESH_UNEXPECTED_BAPI_ERROR
                    }
                    _ => reason::SESSION_TOKEN_EXPIRED_REFRESH_FETCH_ERROR,
                };
                log::info!(
                    target: "clerk_verify::handshake",
                    "session refresh failed ({e}): the handshake takes over"
                );
                return Some(Refreshed::Fallback(reason));
            }
        };
        Some(self.signed_in_refreshed(pages, page, jar, token, cookies))
    }

    /// The user of a refresh's new session token, once it verifies here and is the expired
    /// token's user and session (a Backend API answer for anyone else is refused).
    fn signed_in_refreshed(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        expired: &str,
        cookies: Vec<String>,
    ) -> Refreshed {
        let invalid =
            || Refreshed::Fallback(reason::SESSION_TOKEN_EXPIRED_REFRESH_INVALID_SESSION_TOKEN);
        let cookies = handshake_cookies(&cookies);
        let session = cookies.iter().find_map(|d| {
            let (name, value) = cookie_pair(d)?;
            (name.starts_with(SESSION_COOKIE) && !value.is_empty()).then(|| value.to_owned())
        });
        let Some(session) = session else {
            return invalid();
        };
        let claims = match self.tokens.verify_as(&session, true) {
            Ok(claims) => claims,
            Err(e) if e.category() == Category::InvalidToken => {
                log::warn!(
                    target: "clerk_verify::handshake",
                    "the refreshed session token is refused: {e}"
                );
                return invalid();
            }
            Err(e) => return Refreshed::Done(Authentication::SignedOut(SignedOut::from_error(e))),
        };
        let same =
            |name: &str| peek_claim(expired, name).and_then(|v| v.as_str().map(str::to_owned));
        if same("sub").as_deref() != Some(claims.user_id())
            || same("sid").as_deref() != claims.session_id()
        {
            log::warn!(
                target: "clerk_verify::handshake",
                "the Backend API refreshed the session into another user's or session's token: \
                 refused"
            );
            return invalid();
        }
        if claims.is_pending() && !self.tokens.options().accept_pending_sessions {
            return Refreshed::Done(Authentication::SignedOut(SignedOut::new(
                reason::SESSION_PENDING,
                "the session is pending (sts) and pending sessions are treated as signed out",
                true,
            )));
        }
        let auth = Auth::new(claims, TokenCarrier::Cookie).with_cookies(cookies.clone());
        if page.delivers_cookies {
            return Refreshed::Done(Authentication::SignedIn(auth));
        }
        let reason = reason::SESSION_TOKEN_REFRESHED;
        match pages.redirect(jar, reason, page.url.clone(), cookies) {
            Some(redirect) => Refreshed::Done(redirect),
            // The cookies did not stick through three redirects: the user is still who the
            // new token says, for this request.
            None => Refreshed::Done(Authentication::SignedIn(auth)),
        }
    }
}

#[cfg(feature = "remote")]
fn call(
    pages: &Pages,
    secret: &str,
    sid: &str,
    suffixed: bool,
    body: &serde_json::Value,
) -> Result<Vec<String>, Error> {
    crate::remote::refresh_session(
        &pages.api_url,
        secret,
        sid,
        suffixed,
        body,
        pages.backend_timeout,
    )
}

#[cfg(not(feature = "remote"))]
fn call(_: &Pages, _: &str, _: &str, _: bool, _: &serde_json::Value) -> Result<Vec<String>, Error> {
    Err(Error::HandshakeFailed(
        "refreshing a session needs the `remote` feature (an HTTP client)".into(),
    ))
}

/// Clerk's session ids (`sess_…`): what may go into the refresh URL's path.
fn is_session_id(sid: &str) -> bool {
    (1..=128).contains(&sid.len())
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The request's headers as the refresh endpoint takes them (`{name: [value]}`), without its
/// credentials: Clerk's SDK sends every header, cookies included; the Backend API has the
/// tokens in the body already.
fn request_headers(page: &PageRequest) -> serde_json::Value {
    let host = crate::request::page::origin_of(&page.url)
        .split_once("://")
        .map(|(_, h)| h.to_owned());
    let pairs = [
        ("host", host),
        ("user-agent", page.user_agent.clone()),
        ("accept", page.accept.clone()),
        ("sec-fetch-dest", page.sec_fetch_dest.clone()),
        ("sec-fetch-site", page.sec_fetch_site.clone()),
        ("referer", page.referer.clone()),
    ];
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), serde_json::json!([value?]))))
        .collect();
    serde_json::Value::Object(map)
}
