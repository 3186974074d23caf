//! Which credential a request carries when a route accepts more than session tokens (Clerk's
//! `acceptsToken`): machine tokens come from the `Authorization` header only, never from
//! cookies; a token of a kind the route does not accept is `token-type-mismatch`; a route that
//! takes only machines and gets no header token is `machine-token-missing`. What is found goes
//! to the session path (`authenticate`) or to machine verification (`crate::machine`).

use crate::error::Error;
use crate::machine::{route, MachineAuth, MachineToken, Route};
use crate::options::{AcceptsToken, TokenKind};
use crate::reason;
use crate::request::credentials::{bearer_token, SessionToken, TokenCarrier};
use crate::request::{Authentication, Authenticator, SignedOut};

/// A request's credential, found, not yet verified.
pub(crate) enum Found {
    Session(SessionToken),
    Machine(MachineToken),
}

impl Authenticator {
    /// The credential of a request when the route accepts `accepts`, or the signed-out answer
    /// when it has none that could be accepted. With sessions accepted, as
    /// [`Authenticator::find_token`], then a header token is routed by its kind; without, the
    /// `Authorization` header's token alone (cookies are not read).
    pub(crate) fn find_accepted(
        &self,
        accepts: AcceptsToken,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Found, Authentication> {
        let max_len = self.tokens.options().max_token_len;
        if !accepts.accepts(TokenKind::SessionToken) {
            let Some(token) = authorization.and_then(bearer_token) else {
                return Err(Authentication::SignedOut(machine_token_missing(accepts)));
            };
            return match route(token, accepts, max_len) {
                Route::Machine(machine) => Ok(Found::Machine(machine)),
                Route::NotAccepted(e) => Err(refused(e)),
                // Not reached: without sessions accepted every token is routed by its kind.
                Route::Session => Err(refused(crate::machine::not_accepted(
                    TokenKind::SessionToken,
                    accepts,
                ))),
            };
        }
        let token = self.find_token(authorization, cookie)?;
        // A header token the verified-token cache holds is a session token (nothing else
        // enters it): where machine JWTs are accepted too, no reading its payload for the kind.
        let cached =
            || accepts.accepts_machine_jwts() && self.tokens.holds_session(&token.token, true);
        if token.carrier == TokenCarrier::Header && !cached() {
            // Only the prefix is read for a route that takes sessions alone: the default path
            // stays as fast as it was.
            match route(&token.token, accepts, max_len) {
                Route::Session => {}
                Route::Machine(machine) => return Ok(Found::Machine(machine)),
                Route::NotAccepted(e) => return Err(refused(e)),
            }
        }
        Ok(Found::Session(token))
    }

    /// Both steps, for blocking code: [`Authenticator::find_accepted`], then the session path
    /// or machine verification (may block).
    pub(crate) fn authenticate_accepting(
        &self,
        accepts: AcceptsToken,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Authentication {
        match self.find_accepted(accepts, authorization, cookie) {
            Ok(Found::Session(token)) => self.authenticate(&token),
            Ok(Found::Machine(machine)) => self.authenticate_machine(&machine),
            Err(answer) => answer,
        }
    }

    /// A machine token's answer without blocking; `None`: it needs a key fetch or a call.
    pub(crate) fn try_authenticate_machine(&self, token: &MachineToken) -> Option<Authentication> {
        self.machines.try_verify(&self.tokens, token).map(concluded)
    }

    /// A machine token's answer (may block).
    pub(crate) fn authenticate_machine(&self, token: &MachineToken) -> Authentication {
        concluded(self.machines.verify(&self.tokens, token))
    }
}

/// The authentication a machine verification concludes.
pub(crate) fn concluded(result: Result<MachineAuth, Error>) -> Authentication {
    match result {
        Ok(machine) => Authentication::Machine(machine),
        Err(e) => refused(e),
    }
}

fn refused(e: Error) -> Authentication {
    Authentication::SignedOut(SignedOut::from_error(e))
}

fn machine_token_missing(accepts: AcceptsToken) -> SignedOut {
    SignedOut::new(
        reason::MACHINE_TOKEN_MISSING,
        format!(
            "no machine token: this route accepts {accepts}, sent as Authorization: Bearer \
             <token> (never as a cookie)"
        ),
        false,
    )
}
