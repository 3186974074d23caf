//! Judging a found session token as Clerk's `authenticateRequest()` does: the token path's
//! verdict (sessions only), then the request's own rules: a token older than `__client_uat` is
//! stale, a pending session is signed out unless accepted.

use crate::claims::Claims;
use crate::error::Error;
use crate::reason;
use crate::request::credentials::{self, SessionToken};
use crate::request::{Auth, Authentication, Authenticator, SignedOut};
use std::sync::Arc;

impl Authenticator {
    /// Finds the session token in a request, as Clerk does: the `Authorization` header first
    /// (`Bearer <token>` with any capitalisation of the scheme, or a bare value with no scheme),
    /// then the `__session` cookie (or `__session_<suffix>` when a publishable key is configured
    /// and Clerk's rules pick the suffixed cookies). A header token wins outright.
    ///
    /// A cookie token needs the `__client_uat` cookie Clerk sets beside it: without it, or with
    /// `__client_uat=0` (Clerk signed the browser out), the request is signed out
    /// (`session-token-but-no-client-uat`); a `__client_uat` without a session cookie is
    /// `client-uat-but-no-session-token`.
    ///
    /// `cookie` is the raw `Cookie` header (join several with `"; "`). `Err` is the signed-out
    /// state for a request with no usable token.
    pub(crate) fn find_token(
        &self,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<SessionToken, Authentication> {
        credentials::find(self, authorization, cookie).map_err(Authentication::SignedOut)
    }

    /// Authenticates a found token without blocking. `None`: the key is not cached; call
    /// [`Verifier::authenticate`] where blocking is allowed (e.g. `spawn_blocking`).
    pub(crate) fn try_authenticate(&self, token: &SessionToken) -> Option<Authentication> {
        self.tokens
            .try_verify_as(&token.token, true)
            .map(|r| self.conclude(r, token))
    }

    /// Authenticates a found token, fetching keys if needed (may block).
    pub(crate) fn authenticate(&self, token: &SessionToken) -> Authentication {
        self.conclude(self.tokens.verify_as(&token.token, true), token)
    }

    /// Both steps, for blocking code: [`Verifier::find_token`] then [`Verifier::authenticate`].
    ///
    /// ```
    /// # use clerk_verify::{Verifier, VerifyOptions, Authentication};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let now = clerk_dev::now_unix();
    /// # let token = clerk_dev::TokenBuilder::session("user_1", now).sign(key);
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// let header = format!("Bearer {token}");
    /// match verifier.authenticate_request(Some(&header), None) {
    ///     Authentication::SignedIn(auth) => assert_eq!(auth.user_id(), "user_1"),
    ///     other => panic!("{}", other.reason()),
    /// }
    /// // A browser sends the cookie pair Clerk sets: `__session` and `__client_uat`.
    /// let cookie = format!("__session={token}; __client_uat={}", now - 30);
    /// assert!(verifier.authenticate_request(None, Some(&cookie)).auth().is_some());
    /// let anonymous = verifier.authenticate_request(None, Some("theme=dark"));
    /// assert_eq!(anonymous.reason(), "session-token-and-uat-missing");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub(crate) fn authenticate_request(
        &self,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Authentication {
        let accepts = self.tokens.options().accepts_token;
        self.authenticate_accepting(accepts, authorization, cookie)
    }

    fn conclude(&self, result: Result<Arc<Claims>, Error>, token: &SessionToken) -> Authentication {
        let claims = match result {
            Ok(claims) => claims,
            Err(e) => return Authentication::SignedOut(SignedOut::from_error(e)),
        };
        if let (Some(uat), Some(iat)) = (token.client_uat, claims.iat) {
            if iat < uat {
                return Authentication::SignedOut(SignedOut::new(
                    reason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT,
                    "the __session token was issued before the client's last sign-in change \
                     (__client_uat): it is stale, and the browser must fetch a fresh one",
                    true,
                ));
            }
        }
        if claims.is_pending() && !self.tokens.options().accept_pending_sessions {
            return Authentication::SignedOut(SignedOut::new(
                reason::SESSION_PENDING,
                "the session is pending (sts) and pending sessions are treated as signed out",
                true,
            ));
        }
        Authentication::SignedIn(Auth::new(claims, token.carrier))
    }
}
