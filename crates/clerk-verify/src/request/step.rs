//! The one flow every async adapter runs: read the two headers, answer at once when the key is
//! in memory; otherwise wait for the key source's fetch without holding a thread, when the source
//! offers a [`crate::KeyWait`], and hand the rest to the runtime's blocking pool only when it does
//! not (or for other I/O: a handshake nonce exchange, a session refresh), with a safe answer if
//! that task never completes. An opaque machine token waits for its Backend API call the same
//! way, without a thread (the call runs on one of its own, shared by every request with that
//! token).

use crate::keys::Learnt;
use crate::machine::MachineToken;
use crate::options::{AcceptsToken, TokenKind};
use crate::request::machine::{concluded, Found};
use crate::request::{Authentication, Authenticator, Io, PageRequest, SessionToken};
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// Most waits for keys of one request: a page may need two keys (the handshake token's and its
/// new session token's), though after one wait any key still missing is answered from it.
const MAX_WAITS: usize = 3;

/// How far authentication got without blocking: [`crate::Verifier::authenticate_headers`].
#[derive(Debug)]
#[must_use = "a `Step::Blocking` still has to be run"]
// Exhaustive on purpose: an answer is either here or needs blocking; there is no third state
// for an adapter's match to miss.
#[allow(clippy::exhaustive_enums)]
pub enum Step {
    /// The answer, reached without I/O (the usual case: the key is cached).
    Done(Authentication),
    /// The key must be fetched (or the Backend API asked about an opaque machine token): run
    /// [`Blocking::run`] where blocking is allowed, or better [`Step::finish`].
    Blocking(Blocking),
}

/// The blocking remainder of an authentication: verification with a key fetch (for a page,
/// also a handshake nonce exchange or a session refresh; for an opaque machine token, the
/// Backend API's verdict).
pub struct Blocking {
    auth: Arc<Authenticator>,
    work: Work,
}

#[derive(Debug)]
enum Work {
    Token(SessionToken),
    /// With the `kid` its non-blocking run missed in memory (`None`: it needs other I/O).
    Page(Box<PageRequest>, Option<Option<String>>),
    /// A machine token: a JWT's key, or an opaque token's call.
    Machine(MachineToken),
}

impl Blocking {
    /// Verifies the token, fetching keys (may block on network I/O, bounded by the remote
    /// options' timeout). Call it on a blocking thread (`spawn_blocking`, `web::block`).
    pub fn run(self) -> Authentication {
        match self.work {
            Work::Token(token) => self.auth.authenticate(&token),
            Work::Page(page, _) => self.auth.authenticate_page(&page),
            Work::Machine(token) => self.auth.authenticate_machine(&token),
        }
    }

    /// The answer without blocking, if memory (and what `learnt` holds) has it, and the `kid`
    /// this run missed.
    fn try_run(&self, learnt: &mut Learnt) -> (Option<Authentication>, Option<Option<String>>) {
        learnt.run(|| match &self.work {
            Work::Token(token) => self.auth.try_authenticate(token),
            Work::Page(page, _) => self.auth.page_flow(page, Io::Never),
            Work::Machine(token) => self.auth.try_authenticate_machine(token),
        })
    }

    /// Waits for the keys the request misses without holding a thread, as long as the key
    /// source offers a wait, and answers; `Err(self)` when the rest must block. An opaque
    /// machine token waits for its Backend API call the same way (the call runs on a thread
    /// of its own, shared by every request with the token).
    async fn wait_for_keys(self) -> Result<Authentication, Blocking> {
        // What the first non-blocking run missed: a token's only lookup is its own kid's.
        let mut missed = match &self.work {
            Work::Token(token) => self.auth.tokens.token_kid(token.as_str()),
            Work::Page(_, missed) => missed.clone(),
            Work::Machine(token) if token.is_jwt() => self.auth.tokens.token_kid(token.as_str()),
            Work::Machine(token) => {
                let wait = self.auth.machines.begin(token);
                return Ok(concluded(wait.answer().await));
            }
        };
        let mut learnt = Learnt::default();
        for _ in 0..MAX_WAITS {
            // Nothing missed in memory: the I/O left is not a key's.
            let Some(kid) = missed else { break };
            let now = self.auth.tokens.options().clock.now();
            let Some(mut wait) = self.auth.tokens.keys().prefetch(kid.as_deref(), now) else {
                break;
            };
            (&mut wait).await;
            learnt.learn(kid, &wait);
            let (done, next) = self.try_run(&mut learnt);
            if let Some(done) = done {
                return Ok(done);
            }
            missed = next;
        }
        Err(self)
    }
}

impl fmt::Debug for Blocking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking")
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

impl Step {
    /// Finishes the authentication: [`Step::Done`] at once. For [`Step::Blocking`], when the
    /// key source can fetch in the background ([`crate::KeyFetcher::prefetch`], as
    /// [`crate::remote::RemoteKeys`] does), it awaits that fetch without holding a thread (every
    /// request missing the same keys shares one fetch, and none waits longer than the fetch
    /// timeout plus [`crate::remote::KEY_WAIT_SLACK`]), then answers from memory. An opaque
    /// machine token's Backend API call is awaited the same way (one call per token, bounded by
    /// [`crate::options::MachineOptions`]: at most its queue wait, timeout and the slack).
    /// Otherwise, and for a handshake nonce exchange or a session refresh, the rest runs through
    /// `spawn_blocking` (the runtime's blocking pool). A task that does not complete (panicked,
    /// cancelled) gives [`Authentication::unfinished`] (503), logged at error level.
    ///
    /// ```
    /// # use clerk_verify::{Verifier, VerifyOptions};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// # let header = format!("Bearer {token}");
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let step = verifier.authenticate_headers(Some(header.as_bytes()), []);
    /// let authentication = step.finish(tokio::task::spawn_blocking).await;
    /// assert_eq!(authentication.auth().unwrap().user_id(), "user_1");
    /// # });
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub async fn finish<S, F, E>(self, spawn_blocking: S) -> Authentication
    where
        S: FnOnce(Box<dyn FnOnce() -> Authentication + Send + 'static>) -> F,
        F: Future<Output = Result<Authentication, E>>,
        E: fmt::Display,
    {
        match self {
            Step::Done(done) => done,
            Step::Blocking(blocking) => {
                let blocking = match blocking.wait_for_keys().await {
                    Ok(done) => return done,
                    Err(blocking) => blocking,
                };
                match spawn_blocking(Box::new(move || blocking.run())).await {
                    Ok(done) => done,
                    Err(e) => {
                        log::error!(
                            target: "clerk_verify",
                            "the verification task did not complete: {e}"
                        );
                        Authentication::unfinished()
                    }
                }
            }
        }
    }
}

impl Authenticator {
    /// [`crate::Verifier::authenticate_headers_accepting`] (and, with the verifier's default
    /// kinds, [`crate::Verifier::authenticate_headers`]).
    pub(crate) fn authenticate_headers<'h>(
        this: &Arc<Authenticator>,
        accepts: AcceptsToken,
        authorization: Option<&'h [u8]>,
        cookies: impl IntoIterator<Item = &'h [u8]>,
    ) -> Step {
        let authorization = authorization.map(String::from_utf8_lossy);
        // Machine tokens never come from cookies: a route for machines alone does not read them.
        let cookie = if accepts.accepts(TokenKind::SessionToken) {
            join_cookies(cookies)
        } else {
            None
        };
        let found = this.find_accepted(accepts, authorization.as_deref(), cookie.as_deref());
        let (done, work) = match found {
            Err(signed_out) => return Step::Done(signed_out),
            Ok(Found::Session(token)) => (this.try_authenticate(&token), Work::Token(token)),
            Ok(Found::Machine(token)) => {
                (this.try_authenticate_machine(&token), Work::Machine(token))
            }
        };
        match done {
            Some(done) => Step::Done(done),
            None => Step::Blocking(Blocking {
                auth: Arc::clone(this),
                work,
            }),
        }
    }

    /// [`crate::Verifier::authenticate_page_step`].
    pub(crate) fn authenticate_page_step(this: &Arc<Authenticator>, page: PageRequest) -> Step {
        // The run remembers the kid it missed, for Step::finish to wait for.
        match Learnt::default().run(|| this.page_flow(&page, Io::Never)) {
            (Some(done), _) => Step::Done(done),
            (None, missed) => Step::Blocking(Blocking {
                auth: Arc::clone(this),
                work: Work::Page(Box::new(page), missed),
            }),
        }
    }
}

/// All `Cookie` header values as one, without copying in the usual one-header case.
fn join_cookies<'h>(values: impl IntoIterator<Item = &'h [u8]>) -> Option<Cow<'h, str>> {
    let mut values = values.into_iter();
    let mut joined = String::from_utf8_lossy(values.next()?);
    for value in values {
        let joined = joined.to_mut();
        joined.push_str("; ");
        joined.push_str(&String::from_utf8_lossy(value));
    }
    Some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_join() {
        assert_eq!(join_cookies([]), None);
        let one = join_cookies([&b"a=1"[..]]).unwrap();
        assert!(matches!(one, Cow::Borrowed("a=1")));
        assert_eq!(
            join_cookies([&b"a=1"[..], b"b=\xff"]).unwrap(),
            "a=1; b=\u{fffd}"
        );
    }
}
