//! What an adapter keeps for one request: its answers (verified once however many extractors
//! ask) and the cookies a refreshed session sends back ([`CookieSlot`]).

use crate::options::AcceptsToken;
#[cfg(doc)]
use crate::request::Step;
use crate::request::{Authentication, PageRequest};
use crate::verifier::Verifier;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Everything an adapter keeps for one request, so that its token is verified once however
/// many extractors, guards and middleware ask: an adapter puts one in the request (its
/// extensions, its local cache), and every extractor of the request asks it first.
///
/// - [`Answers::authenticate_session`]: the session extractors' answer (the verifier's default
///   kinds), which a requiring middleware shares;
/// - [`Answers::authenticate`]: the answer for a set of kinds ([`AcceptsToken`]), for the
///   machine and "a session or a machine" extractors: the same request may be a machine to one
///   extractor and `token-type-mismatch` to another, and an opaque token goes to Clerk's
///   Backend API once per set;
/// - [`Answers::authenticate_page`]: a page's, kept apart because API extractors must never
///   see a handshake, and computed once because a returning handshake is good for one use;
/// - [`Answers::deliver_cookies`]: the [`CookieSlot`] of a middleware that writes a refreshed
///   session's cookies into the page's response;
/// - [`Answers::debug_headers`]: for that middleware, the headers of the answer to report.
///
/// Each answer is computed on the adapter's runtime as [`Step::finish`] does (inline from
/// memory; an opaque token's Backend API call awaited without holding a thread; a key fetch
/// or a handshake's nonce exchange on `spawn_blocking`). Two extractors that finish together
/// (as actix polls a handler's) both get the first answer kept. Clones share the answers.
/// `Debug` names the kinds and reasons, never a token.
///
/// ```
/// use clerk_verify::adapter::{self, Answers};
/// use clerk_verify::options::AcceptsToken;
/// # use clerk_verify::{Verifier, VerifyOptions};
/// # let key = clerk_dev::fixtures::rsa2048();
/// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let m2m = clerk_dev::TokenBuilder::m2m("mch_1", clerk_dev::now_unix()).sign(key);
/// let header = format!("Bearer {m2m}");
/// let answers = Answers::new(); // one per request
/// let accepts = AcceptsToken::MACHINES;
/// # rt.block_on(async {
/// // An extractor: the kept answer, else the request's, finished and kept.
/// let authorization = Some(header.as_bytes());
/// let spawn = tokio::task::spawn_blocking;
/// let answer = answers.authenticate(&verifier, accepts, authorization, [], spawn).await;
/// assert_eq!(adapter::machine(answer).unwrap().subject(), "mch_1");
/// // A session extractor of the same request: an M2M token is no session.
/// let session = answers.authenticate_session(&verifier, authorization, [], spawn).await;
/// assert_eq!(session.reason(), "token-type-mismatch");
/// # });
/// assert!(answers.get(accepts).is_some());
/// assert!(answers.get(AcceptsToken::API_KEY).is_none());
/// // The session extractors' answer is the one a middleware reports.
/// let debug = answers.debug_headers().unwrap();
/// assert_eq!(debug[0], ("x-clerk-auth-status", "signed-out"));
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Answers(Arc<Kept>);

#[derive(Default)]
struct Kept {
    session: OnceLock<Authentication>,
    accepting: Mutex<Vec<(AcceptsToken, Authentication)>>,
    page: OnceLock<(PageRequest, Authentication)>,
    cookies: OnceLock<CookieSlot>,
}

impl Answers {
    /// No answers yet: one for a new request.
    pub fn new() -> Answers {
        Answers::default()
    }

    /// The session extractors' answer: the one kept, else the request's (its raw
    /// `Authorization` and `Cookie` header values) authenticated with
    /// [`Verifier::authenticate_headers`], finished with `spawn_blocking` and kept.
    pub async fn authenticate_session<'h, S, F, E>(
        &self,
        verifier: &Verifier,
        authorization: Option<&'h [u8]>,
        cookies: impl IntoIterator<Item = &'h [u8]>,
        spawn_blocking: S,
    ) -> Authentication
    where
        S: FnOnce(Box<dyn FnOnce() -> Authentication + Send + 'static>) -> F,
        F: Future<Output = Result<Authentication, E>>,
        E: std::fmt::Display,
    {
        if let Some(known) = self.session() {
            return known.clone();
        }
        let step = verifier.authenticate_headers(authorization, cookies);
        let answer = step.finish(spawn_blocking).await;
        self.0.session.get_or_init(|| answer).clone()
    }

    /// The session extractors' answer, if one of them computed it.
    pub fn session(&self) -> Option<&Authentication> {
        self.0.session.get()
    }

    /// The answer kept for the kinds `accepts`, if an extractor of the request computed it.
    pub fn get(&self, accepts: AcceptsToken) -> Option<Authentication> {
        let kept = self.accepting();
        kept.iter()
            .find(|(set, _)| *set == accepts)
            .map(|(_, answer)| answer.clone())
    }

    /// Keeps `authentication` as the answer for `accepts`, unless one is kept already (two
    /// extractors polled together): the kept answer, which every extractor of the request then
    /// gets.
    fn keep(&self, accepts: AcceptsToken, authentication: Authentication) -> Authentication {
        let mut kept = self.accepting();
        if let Some((_, known)) = kept.iter().find(|(set, _)| *set == accepts) {
            return known.clone();
        }
        kept.push((accepts, authentication.clone()));
        authentication
    }

    /// The answer for the kinds `accepts`: the one kept, else the request's (its raw
    /// `Authorization` and `Cookie` header values) authenticated with
    /// [`Verifier::authenticate_headers_accepting`], finished with `spawn_blocking`, and kept
    /// (unless another extractor of the request kept one meanwhile: then that one).
    pub async fn authenticate<'h, S, F, E>(
        &self,
        verifier: &Verifier,
        accepts: AcceptsToken,
        authorization: Option<&'h [u8]>,
        cookies: impl IntoIterator<Item = &'h [u8]>,
        spawn_blocking: S,
    ) -> Authentication
    where
        S: FnOnce(Box<dyn FnOnce() -> Authentication + Send + 'static>) -> F,
        F: Future<Output = Result<Authentication, E>>,
        E: std::fmt::Display,
    {
        if let Some(known) = self.get(accepts) {
            return known;
        }
        let step = verifier.authenticate_headers_accepting(accepts, authorization, cookies);
        let answer = step.finish(spawn_blocking).await;
        self.keep(accepts, answer)
    }

    /// A page extractor's request and answer: the ones kept, else `page` authenticated with
    /// [`Verifier::authenticate_page_step`] (told it [`PageRequest::delivers_cookies`] when a
    /// middleware took a [`CookieSlot`], which then gets the answer's cookies), finished with
    /// `spawn_blocking` and kept.
    pub async fn authenticate_page<S, F, E>(
        &self,
        verifier: &Verifier,
        page: PageRequest,
        spawn_blocking: S,
    ) -> (PageRequest, Authentication)
    where
        S: FnOnce(Box<dyn FnOnce() -> Authentication + Send + 'static>) -> F,
        F: Future<Output = Result<Authentication, E>>,
        E: std::fmt::Display,
    {
        if let Some(known) = self.0.page.get() {
            return known.clone();
        }
        let cookies = self.0.cookies.get();
        let page = page.delivers_cookies(cookies.is_some());
        let step = verifier.authenticate_page_step(page.clone());
        let answer = step.finish(spawn_blocking).await;
        if let Some(slot) = cookies {
            slot.fill(&answer);
        }
        self.0.page.get_or_init(|| (page, answer)).clone()
    }

    /// For a middleware, before the handler runs: a new [`CookieSlot`] to write into the
    /// response afterwards, or `None` when an outer middleware took it already (that one
    /// writes).
    pub fn deliver_cookies(&self) -> Option<CookieSlot> {
        let mut created = None;
        self.0.cookies.get_or_init(|| {
            let slot = CookieSlot::new();
            created = Some(slot.clone());
            slot
        });
        created
    }

    /// The [`CookieSlot`] a middleware took, if any.
    pub fn cookie_slot(&self) -> Option<&CookieSlot> {
        self.0.cookies.get()
    }

    /// The debug headers for the response ([`Authentication::debug_headers`]): the session
    /// extractors' answer, else the first kept for a set of kinds; `None` when no extractor
    /// asked.
    pub fn debug_headers(&self) -> Option<Vec<(&'static str, &'static str)>> {
        if let Some(session) = self.session() {
            return Some(session.debug_headers());
        }
        let kept = self.accepting();
        kept.first().map(|(_, answer)| answer.debug_headers())
    }

    fn accepting(&self) -> std::sync::MutexGuard<'_, Vec<(AcceptsToken, Authentication)>> {
        self.0
            .accepting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.accepting();
        let mut list = f.debug_list();
        if let Some(session) = self.session() {
            list.entry(&("session", session.reason()));
        }
        for (accepts, answer) in kept.iter() {
            list.entry(&(accepts, answer.reason()));
        }
        if let Some((_, page)) = self.0.page.get() {
            list.entry(&("page", page.reason()));
        }
        list.finish()
    }
}

/// The cookies of a session refreshed on this request, on their way from a page extractor to
/// the response, which only an adapter's middleware (a layer, a fairing) can write.
///
/// A page extractor cannot touch the response, so the new cookies of a session refreshed
/// through the Backend API (an expired `__session` with a `__refresh` cookie) would reach the
/// browser by one 307 back to the same page. With a slot they come with the page itself:
///
/// 1. The middleware puts a new slot in the request (unless one is there already: an outer
///    middleware's, which then writes the response) before the handler runs.
/// 2. A page extractor that finds a slot builds its [`PageRequest`] with
///    [`PageRequest::delivers_cookies`]`(true)` and hands the page's [`Authentication`] to
///    [`CookieSlot::fill`]. Without a slot (no middleware), it says nothing and the 307 stays.
/// 3. The middleware [`CookieSlot::write`]s the handler's response.
///
/// Clones share the slot; the first fill is kept (every page extractor of a request sees the
/// same answer). `Debug` counts the cookies: they carry session tokens.
///
/// ```
/// use clerk_verify::adapter::CookieSlot;
/// # use clerk_verify::Authentication;
///
/// type Headers = Vec<(&'static str, String)>;
/// fn set(h: &mut Headers, name: &'static str, value: &str) {
///     h.retain(|(n, _)| *n != name);
///     h.push((name, value.to_owned()));
/// }
/// fn append(h: &mut Headers, name: &'static str, value: &str) {
///     h.push((name, value.to_owned()));
/// }
///
/// let slot = CookieSlot::new();
/// // The page extractor: a signed-out page has no cookies to deliver.
/// slot.fill(&Authentication::unfinished());
/// assert!(slot.is_empty());
/// // The middleware: nothing to write, the handler's headers stay as they are.
/// let mut headers: Headers = vec![("cache-control", "max-age=60".to_owned())];
/// slot.write(&mut headers, set, append);
/// assert_eq!(headers, [("cache-control", "max-age=60".to_owned())]);
/// ```
#[derive(Clone, Default)]
pub struct CookieSlot(Arc<OnceLock<Arc<[String]>>>);

impl CookieSlot {
    /// An empty slot, for the middleware to put in a request.
    pub fn new() -> CookieSlot {
        CookieSlot::default()
    }

    /// Keeps the `Set-Cookie` values of `authentication`, a page request's answer: those of a
    /// session refreshed on this request ([`Auth::set_cookies`](crate::Auth::set_cookies)), nothing
    /// otherwise. Only the first answer with cookies counts.
    pub fn fill(&self, authentication: &Authentication) {
        if let Some(auth) = authentication.auth() {
            if !auth.set_cookies().is_empty() {
                self.0.get_or_init(|| auth.set_cookies().into());
            }
        }
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.0.get().is_none()
    }

    /// Writes the kept cookies into the response's `headers`, if any: `set(headers, name,
    /// value)` replaces every header `name` with one (`cache-control: no-store`: a response
    /// that sets session cookies must be stored by no cache, shared or private, whatever the
    /// handler said); `append(headers, name, value)` adds one beside those of the same name
    /// (each `set-cookie` its own header, next to the handler's own cookies). Names are lower
    /// case; values are visible ASCII, spaces and tabs. Without cookies neither is called.
    pub fn write<H: ?Sized>(
        &self,
        headers: &mut H,
        set: impl Fn(&mut H, &'static str, &str),
        append: impl Fn(&mut H, &'static str, &str),
    ) {
        let Some(cookies) = self.0.get() else {
            return;
        };
        set(headers, "cache-control", "no-store");
        for cookie in cookies.iter() {
            append(headers, "set-cookie", cookie);
        }
    }
}

impl std::fmt::Debug for CookieSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.get().map_or(0, |c| c.len());
        write!(f, "CookieSlot([{n} cookies])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::VerifyOptions;
    use crate::request::Auth;

    #[test]
    fn a_cookie_slot_carries_a_refreshed_sessions_cookies_to_the_response() {
        use crate::request::TokenCarrier;
        let key = clerk_dev::fixtures::rsa2048();
        let v = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default()).unwrap();
        let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
        let signed_in = v.authenticate_request(Some(&format!("Bearer {token}")), None);
        let claims = v.verify(&token).unwrap();
        let refreshed = |value: &str| {
            let auth = Auth::new(claims.clone(), TokenCarrier::Cookie).with_cookies(vec![
                format!("__session={value}; Path=/"),
                "__client_uat=1700000000; Path=/".to_owned(),
            ]);
            Authentication::SignedIn(auth)
        };
        type Headers = Vec<(&'static str, String)>;
        let set = |h: &mut Headers, name: &'static str, value: &str| {
            h.retain(|(n, _)| *n != name);
            h.push((name, value.to_owned()));
        };
        let append = |h: &mut Headers, name: &'static str, value: &str| {
            h.push((name, value.to_owned()));
        };

        let slot = CookieSlot::new();
        let extractors = slot.clone();
        // A page signed in without a refresh has nothing to deliver.
        extractors.fill(&signed_in);
        assert!(slot.is_empty());
        extractors.fill(&refreshed("new"));
        // A second page extractor of the request: the first answer stays.
        extractors.fill(&refreshed("other"));
        assert_eq!(format!("{slot:?}"), "CookieSlot([2 cookies])");
        let mut headers: Headers = vec![
            ("cache-control", "public, max-age=600".to_owned()),
            ("set-cookie", "theme=dark".to_owned()),
        ];
        slot.write(&mut headers, set, append);
        assert_eq!(
            headers,
            [
                ("set-cookie", "theme=dark".to_owned()),
                ("cache-control", "no-store".to_owned()),
                ("set-cookie", "__session=new; Path=/".to_owned()),
                ("set-cookie", "__client_uat=1700000000; Path=/".to_owned()),
            ]
        );
    }

    #[test]
    fn answers_are_kept_per_set_of_kinds_and_the_first_stays() {
        use crate::options::AcceptsToken;
        let key = clerk_dev::fixtures::rsa2048();
        let v = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default()).unwrap();
        let m2m = clerk_dev::TokenBuilder::m2m("mch_1", clerk_dev::now_unix()).sign(key);
        let header = format!("Bearer {m2m}");
        let machine = || v.authenticate_request_accepting(AcceptsToken::ANY, Some(&header), None);

        let answers = Answers::new();
        assert!(answers.get(AcceptsToken::MACHINES).is_none());
        assert!(answers.debug_headers().is_none());
        // Two extractors finishing together: the first answer kept is every extractor's.
        let unfinished = answers.keep(AcceptsToken::MACHINES, Authentication::unfinished());
        let second = answers.keep(AcceptsToken::MACHINES, machine());
        assert_eq!(second.reason(), unfinished.reason());
        assert!(second.machine().is_none());
        // Another set of kinds is another answer.
        assert!(answers.get(AcceptsToken::ANY).is_none());
        answers.keep(AcceptsToken::ANY, machine());
        assert_eq!(
            answers
                .get(AcceptsToken::ANY)
                .unwrap()
                .machine()
                .unwrap()
                .subject(),
            "mch_1"
        );
        // Clones share the answers; the debug headers are the first answer's.
        let clone = answers.clone();
        assert_eq!(clone.debug_headers().unwrap().len(), 2);
        assert!(!format!("{answers:?}").contains(&m2m), "{answers:?}");
    }

    #[test]
    fn the_session_and_page_answers_are_computed_once_and_a_middleware_takes_the_slot_first() {
        use crate::request::PageRequest;
        let key = clerk_dev::fixtures::rsa2048();
        let v = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default()).unwrap();
        let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
        let header = format!("Bearer {token}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let spawn = tokio::task::spawn_blocking;

        let answers = Answers::new();
        assert!(answers.session().is_none() && answers.cookie_slot().is_none());
        // The outermost middleware takes the slot; an inner one leaves the writing to it.
        let slot = answers
            .deliver_cookies()
            .expect("the first middleware takes the slot");
        assert!(answers.deliver_cookies().is_none());
        assert!(answers.cookie_slot().is_some());
        rt.block_on(async {
            let first = answers.authenticate_session(&v, Some(header.as_bytes()), [], spawn);
            assert_eq!(first.await.auth().unwrap().user_id(), "user_1");
            // A later extractor gets the kept answer, whatever it hands over.
            let later = answers.authenticate_session(&v, None, [], spawn).await;
            assert_eq!(later.auth().unwrap().user_id(), "user_1");
            let page = PageRequest::new("GET", "http://localhost/").cookie("__session=junk");
            let (seen, first) = answers.authenticate_page(&v, page, spawn).await;
            assert!(first.auth().is_none());
            // The page learnt that a middleware delivers cookies.
            assert!(seen.delivers_cookies);
            let other = PageRequest::new("GET", "http://localhost/");
            let (_, again) = answers.authenticate_page(&v, other, spawn).await;
            assert_eq!(again.reason(), first.reason());
        });
        assert!(slot.is_empty());
        // The session extractors' answer is the one reported, before any machine answer.
        answers.keep(AcceptsToken::MACHINES, Authentication::unfinished());
        assert_eq!(
            answers.debug_headers().unwrap(),
            [("x-clerk-auth-status", "signed-in")]
        );
        let debug = format!("{answers:?}");
        assert!(
            debug.contains("session") && debug.contains("page"),
            "{debug}"
        );
        assert!(!debug.contains(&token), "{debug}");
    }
}
