//! The page flow, as `@clerk/backend`'s `request.ts` runs it for a page: a returning handshake
//! first (completed, or refused: in the query it is the answer, in a cookie it is set aside and
//! cleared), then the multi-domain and dev browser redirects (`sync`), then the page judged by
//! its credentials: an expired session refreshed (`refresh`) or sent through a handshake, a
//! valid one through the primary's cross-origin sync or the organization the path names
//! (`orgs`).

use super::refresh::Refreshed;
use super::sync::Seen;
use super::{Handshake, Pages};
use crate::error::{Category, Error};
use crate::reason;
use crate::request::cookies::{
    cookie_pair, expired, handshake_cookies, peek_claim, CookieRules, Cookies, CLIENT_UAT_COOKIE,
    DEV_BROWSER_COOKIE, HANDSHAKE_NONCE_PARAM, HANDSHAKE_PARAM, REFRESH_COOKIE, SESSION_COOKIE,
};
use crate::request::credentials::{bearer_token, peek_is_session, TokenCarrier};
use crate::request::page::{without_params, PageRequest};
use crate::request::{Authentication, Authenticator, Io, SignedOut};
use serde_json::Value;

/// What a request's returning handshake (if any) decides.
enum Completion {
    /// None came back.
    Absent,
    /// Deciding needs I/O that the caller forbids.
    NeedsIo,
    /// The answer: the way back to the page, or a refusal.
    Done(Authentication),
    /// These handshake cookies were refused: judge the page without them, and clear them.
    Stray(Vec<&'static str>),
}

impl Authenticator {
    /// [`crate::Verifier::authenticate_page`].
    pub(crate) fn authenticate_page(&self, page: &PageRequest) -> Authentication {
        self.page_flow(page, Io::Allowed)
            .unwrap_or_else(Authentication::unfinished)
    }

    /// [`crate::Verifier::sign_in_redirect`].
    pub(crate) fn sign_in_redirect(&self, page: &PageRequest) -> Option<String> {
        let pages = self.pages.as_ref()?;
        let jar = Cookies::parse(page.cookie.as_deref().unwrap_or(""));
        let dev_browser = pages.dev_browser(page, &jar, self.picks_suffixed(&jar));
        pages.sign_in_redirect(page, dev_browser.as_deref())
    }

    /// The page flow; `None` when `io` is [`Io::Never`] and the answer needs I/O.
    pub(crate) fn page_flow(&self, page: &PageRequest, io: Io) -> Option<Authentication> {
        // A header token: the header flow, as for an API request, with the handshake for the
        // time-based refusals of a navigation.
        let header_token = page.authorization.as_deref().and_then(bearer_token);
        let cookie = page.cookie.as_deref().unwrap_or("");
        let jar = Cookies::parse(cookie);
        let mut stray = Vec::new();
        let mut before = None;
        if let (None, Some(pages)) = (header_token, self.pages.as_ref()) {
            match self.complete(pages, page, &jar, io) {
                Completion::Absent => {}
                Completion::NeedsIo => return None,
                Completion::Done(done) => return Some(done),
                Completion::Stray(names) => stray = names,
            }
            before = pages.before_judging(page, &self.seen(&jar));
        }
        let judged = match before {
            Some(redirect) => redirect,
            None => self.judge_page(page, cookie, &jar, io)?,
        };
        match self.pages.as_ref() {
            Some(pages) if !stray.is_empty() => Some(pages.clear_stray(page, &jar, judged, &stray)),
            _ => Some(judged),
        }
    }

    /// The page judged by its credentials (a returning handshake aside): signed in, signed
    /// out, or the start of a handshake; `None` when `io` forbids the I/O it needs.
    fn judge_page(
        &self,
        page: &PageRequest,
        cookie: &str,
        jar: &Cookies<'_>,
        io: Io,
    ) -> Option<Authentication> {
        let pages = self
            .pages
            .as_ref()
            .filter(|_| page.is_document_navigation());
        let token = match self.find_token(page.authorization.as_deref(), Some(cookie)) {
            Ok(token) => token,
            Err(signed_out) => {
                // Cookies that disagree: the Frontend API sorts them out.
                let reason = signed_out.reason();
                let start = matches!(
                    reason,
                    reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT
                        | reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN
                );
                if let (true, Some(pages)) = (start, pages) {
                    let suffixed = self.picks_suffixed(jar);
                    let session = self.cookie_session(jar);
                    return Some(pages.start(page, jar, reason, session.as_deref(), suffixed));
                }
                return Some(signed_out);
            }
        };
        let from_cookie = token.carrier() == TokenCarrier::Cookie;
        // Clerk checks `iat` against `__client_uat` before verifying: a stale token is
        // refreshed whether or not it would verify.
        if let (true, Some(pages), Some(uat)) = (from_cookie, pages, token.client_uat) {
            let iat = peek_claim(token.as_str(), "iat").and_then(|v| v.as_f64());
            if iat.is_some_and(|iat| iat < uat as f64) && peek_is_session(token.as_str()) {
                let suffixed = self.picks_suffixed(jar);
                let reason = reason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT;
                return Some(pages.start(page, jar, reason, Some(token.as_str()), suffixed));
            }
        }
        let done = match io {
            Io::Never => self.try_authenticate(&token)?,
            Io::Allowed => self.authenticate(&token),
        };
        if let (Authentication::SignedIn(auth), true, Some(pages)) = (&done, from_cookie, pages) {
            let suffixed = self.picks_suffixed(jar);
            let session = token.as_str();
            let redirect = pages
                .cross_origin_sync(page, jar, session, suffixed)
                .or_else(|| pages.organization_sync(page, jar, auth, session, suffixed));
            return Some(redirect.unwrap_or(done));
        }
        let Authentication::SignedOut(out) = &done else {
            return Some(done);
        };
        let expired = matches!(out.error(), Some(Error::TokenExpired { .. }));
        let mut refresh_reason = None;
        if let (true, true, Some(any_pages)) = (expired, from_cookie, self.pages.as_ref()) {
            let refresh_cookie = jar
                .get(&any_pages.cookies.suffixed(REFRESH_COOKIE))
                .filter(|v| !v.is_empty());
            // Only where the new cookies can reach the browser: a caller that sends them, or
            // a navigation that a 307 can carry them to.
            let deliverable =
                page.method == "GET" && (page.delivers_cookies || page.is_document_navigation());
            refresh_reason = Some(reason::SESSION_TOKEN_EXPIRED_REFRESH_NO_COOKIE);
            if let (Some(refresh), true) = (refresh_cookie, deliverable) {
                match self.refresh(any_pages, page, jar, token.as_str(), refresh, io)? {
                    Refreshed::Done(done) => return Some(done),
                    Refreshed::Fallback(reason) => refresh_reason = Some(reason),
                }
            }
        }
        let Some(pages) = pages else {
            return Some(done);
        };
        let handshake_reason = match out.error() {
            Some(Error::TokenExpired { .. }) => {
                refresh_reason.unwrap_or(reason::SESSION_TOKEN_EXPIRED_REFRESH_NO_COOKIE)
            }
            Some(Error::TokenNotActiveYet { .. }) => reason::SESSION_TOKEN_NBF,
            Some(Error::TokenIatInTheFuture { .. }) => reason::SESSION_TOKEN_IAT_IN_THE_FUTURE,
            _ => return Some(done),
        };
        let suffixed = from_cookie && self.picks_suffixed(jar);
        Some(pages.start(page, jar, handshake_reason, Some(token.as_str()), suffixed))
    }

    /// A returning handshake, from the query (where Clerk's development instances put it) or
    /// from a cookie (production). A refused one in the query is the answer; a refused cookie
    /// may be a sibling app's on the parent domain, or one planted there, so it is set aside
    /// ([`Completion::Stray`]) and the page judged as if it were absent, as Clerk does in
    /// production. Only the refusals that are the handshake's fault are set aside: an outage
    /// stays an outage.
    fn complete(&self, pages: &Pages, page: &PageRequest, jar: &Cookies<'_>, io: Io) -> Completion {
        let present = |v: Option<String>| v.filter(|v| !v.is_empty());
        let in_query = (
            present(page.query_param(HANDSHAKE_NONCE_PARAM)),
            present(page.query_param(HANDSHAKE_PARAM)),
        );
        let from_query = in_query.0.is_some() || in_query.1.is_some();
        let (nonce, token) = if from_query {
            in_query
        } else {
            let cookie = |name| present(jar.get(name).map(str::to_owned));
            (cookie(HANDSHAKE_NONCE_PARAM), cookie(HANDSHAKE_PARAM))
        };
        let result = match (nonce, token) {
            (None, None) => return Completion::Absent,
            (Some(nonce), _) => self.complete_nonce(pages, page, jar, io, &nonce),
            (None, Some(token)) => self.complete_token(pages, page, jar, io, token),
        };
        match result {
            None => Completion::NeedsIo,
            Some(Ok(done)) => Completion::Done(done),
            Some(Err(e)) if from_query || e.category() != Category::InvalidToken => {
                Completion::Done(refused(e))
            }
            Some(Err(e)) => {
                log::info!(
                    target: "clerk_verify::handshake",
                    "a handshake cookie was refused ({e}); the page is judged by its session \
                     cookies"
                );
                let names = [HANDSHAKE_PARAM, HANDSHAKE_NONCE_PARAM]
                    .into_iter()
                    .filter(|name| jar.get(name).is_some())
                    .collect();
                Completion::Stray(names)
            }
        }
    }

    /// A returning nonce: checked for everything that needs no call, then exchanged with the
    /// Backend API (within the exchange budget).
    fn complete_nonce(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        io: Io,
        nonce: &str,
    ) -> Option<Result<Authentication, Error>> {
        let now = self.now();
        if let Err(e) = pages.nonce_precheck(page, nonce, now) {
            return Some(Err(e));
        }
        if io == Io::Never {
            return None;
        }
        let directives = match self.exchange_nonce(pages, nonce, now) {
            Ok(d) => d,
            Err(e) => return Some(Err(e)),
        };
        self.apply_directives(pages, page, jar, io, directives, None)
    }

    /// A returning handshake token: verified as strictly as a session token, with its own
    /// time rules, remembered against replays once everything has passed.
    fn complete_token(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        io: Io,
        token: String,
    ) -> Option<Result<Authentication, Error>> {
        let now = self.now();
        let payload = match io {
            Io::Never => self.tokens.try_verify_signed(&token)?,
            Io::Allowed => self.tokens.verify_signed(&token),
        };
        let payload = payload.map_err(|e| match e.category() {
            Category::InvalidToken => Error::HandshakeInvalid(format!("{e}").into()),
            _ => e,
        });
        match payload.and_then(|p| handshake_directives(pages, &p, now)) {
            Ok((directives, forget_at)) => {
                self.apply_directives(pages, page, jar, io, directives, Some((token, forget_at)))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// The way back to the page with a handshake's cookies, once the session token they carry
    /// verifies here (or the browser would only come back to another handshake). `remember`
    /// is a handshake token to remember against replays, only now that everything passed (so
    /// that a check redone on the blocking pool does not see its own first attempt).
    fn apply_directives(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        io: Io,
        directives: Vec<String>,
        remember: Option<(String, i64)>,
    ) -> Option<Result<Authentication, Error>> {
        let now = self.now();
        let accepted = handshake_cookies(&directives);
        let session = accepted.iter().find_map(|d| {
            let (name, value) = cookie_pair(d)?;
            (name.starts_with(SESSION_COOKIE) && !value.is_empty()).then(|| value.to_owned())
        });
        if let Some(session) = session {
            let verified = match io {
                Io::Never => self.tokens.try_verify_as(&session, true)?,
                Io::Allowed => self.tokens.verify_as(&session, true),
            };
            if let Err(e) = verified {
                if e.category() != Category::InvalidToken {
                    return Some(Ok(Authentication::SignedOut(SignedOut::from_error(e))));
                }
                return Some(Err(Error::HandshakeInvalid(
                    format!("the session token it carries is refused: {e}").into(),
                )));
            }
        }
        if let Some((token, forget_at)) = remember {
            if pages.replayed(&token, forget_at, now) {
                return Some(Err(Error::HandshakeInvalid(
                    "this handshake token was already used".into(),
                )));
            }
        }
        let mut cookies = accepted;
        for name in [HANDSHAKE_PARAM, HANDSHAKE_NONCE_PARAM] {
            let named = |d: &String| cookie_pair(d).is_some_and(|(n, _)| n == name);
            if jar.get(name).is_some() && !cookies.iter().any(named) {
                cookies.push(expired(name));
            }
        }
        let back = without_params(
            &page.url,
            &[
                HANDSHAKE_PARAM,
                HANDSHAKE_NONCE_PARAM,
                "__clerk_help",
                DEV_BROWSER_COOKIE,
            ],
        );
        Some(Ok(Authentication::Handshake(Handshake::new(
            reason::HANDSHAKE_COMPLETE,
            back,
            cookies,
        ))))
    }

    #[cfg(feature = "remote")]
    fn exchange_nonce(&self, pages: &Pages, nonce: &str, now: i64) -> Result<Vec<String>, Error> {
        let secret = pages.secret_key.as_deref().ok_or_else(|| {
            Error::HandshakeInvalid(
                "a handshake nonce arrived, but no secret key is configured to exchange it".into(),
            )
        })?;
        if !pages.exchanges.take() {
            log::warn!(
                target: "clerk_verify::handshake",
                "more handshake nonces than max_nonce_exchanges_per_second: answering 503 \
                 without asking the Backend API"
            );
            return Err(Error::HandshakeFailed(
                "more handshake nonce exchanges than this server allows per second \
                 (max_nonce_exchanges_per_second)"
                    .into(),
            ));
        }
        let directives =
            crate::remote::handshake_payload(&pages.api_url, secret, nonce, pages.backend_timeout)
                .inspect_err(|e| {
                    if let Error::HandshakeInvalid(_) = e {
                        pages.refused_nonces.remember(
                            nonce,
                            now + super::REFUSED_NONCE_MEMORY_SECS,
                            now,
                        );
                    }
                })?;
        // Remembered only once the Backend API accepted it: random nonces never enter.
        if pages.replayed(nonce, now + 3600, now) {
            return Err(Error::HandshakeInvalid(
                "this handshake nonce was already used".into(),
            ));
        }
        Ok(directives)
    }

    #[cfg(not(feature = "remote"))]
    fn exchange_nonce(&self, _: &Pages, _: &str, _: i64) -> Result<Vec<String>, Error> {
        Err(Error::HandshakeInvalid(
            "a handshake nonce arrived, but this build cannot exchange it (feature `remote`)"
                .into(),
        ))
    }

    /// The session cookie Clerk's rules pick, if any (valid or not).
    fn cookie_session(&self, jar: &Cookies<'_>) -> Option<String> {
        let name = CookieRules::choose(self.cookies.as_ref(), jar, self.now(), SESSION_COOKIE);
        jar.get(&name).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Whether Clerk's rules pick the suffixed cookies for this jar.
    pub(super) fn picks_suffixed(&self, jar: &Cookies<'_>) -> bool {
        CookieRules::picks_suffixed(self.cookies.as_ref(), jar, self.now())
    }

    /// The cookies as the sync flows read them.
    fn seen<'j, 'c>(&self, jar: &'j Cookies<'c>) -> Seen<'j, 'c> {
        let uat = CookieRules::choose(self.cookies.as_ref(), jar, self.now(), CLIENT_UAT_COOKIE);
        let active_client = jar
            .get(&uat)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .is_some_and(|uat| uat > 0);
        Seen {
            jar,
            session: self.cookie_session(jar),
            active_client,
            suffixed: self.picks_suffixed(jar),
        }
    }
}

fn refused(e: Error) -> Authentication {
    log::info!(target: "clerk_verify::handshake", "handshake refused: {e}");
    Authentication::SignedOut(SignedOut::from_error(e))
}

/// The directives of a verified handshake token after its own checks (a fresh `exp`/`iat`, a
/// list of strings), with the time until which it must be remembered against replays.
fn handshake_directives(
    pages: &Pages,
    payload: &serde_json::Map<String, Value>,
    now: i64,
) -> Result<(Vec<String>, i64), Error> {
    let invalid = |why: &'static str| Error::HandshakeInvalid(why.into());
    let time = |name: &str| payload.get(name).and_then(Value::as_f64);
    let max_age = pages.max_age.as_secs() as f64;
    let forget_at = match (time("exp"), time("iat")) {
        (Some(exp), _) if exp <= now as f64 => {
            return Err(invalid("the handshake token has expired"))
        }
        (Some(exp), _) => exp.min(now as f64 + max_age) as i64,
        (None, Some(iat)) if iat + max_age <= now as f64 => {
            return Err(invalid("the handshake token is too old (iat)"))
        }
        (None, Some(iat)) if iat > now as f64 + 60.0 => {
            return Err(invalid(
                "the handshake token was issued in the future (iat)",
            ))
        }
        (None, Some(iat)) => (iat + max_age) as i64,
        (None, None) => return Err(invalid("the handshake token has neither exp nor iat")),
    };
    let list = payload
        .get("handshake")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the handshake token has no `handshake` list of cookies"))?;
    let directives = list
        .iter()
        .map(|d| d.as_str().map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| invalid("the handshake list holds something that is not a string"))?;
    Ok((directives, forget_at))
}
