//! The routes: `/auth` (and Envoy's `/ext-authz/…`), `/healthz`, `/readyz`, `/metrics`.
//!
//! `/auth` first establishes which request it is asked about ([`forwarded`]: the proxy's
//! headers, never a client's copies), then runs one request of the core's shared flow:
//! `Verifier::authenticate_headers_accepting` on the forwarded `Authorization` and `Cookie`
//! headers with the kinds of token the location accepts, `Step::finish` when a key must be
//! fetched or an opaque machine token verified by Clerk's Backend API (requests await the one
//! fetch or call in flight without a thread each, so a slow API holds no request but those
//! that wait for it), then the location's [`Policy`]; refusals are the core's [`Refusal`]s, so
//! the status, body and headers are those of every adapter. The identity headers of a 200 are
//! [`identity`]'s.

use crate::serve::forwarded::{self, Check, Forwarded, Proxy, Route};
use crate::serve::identity;
use crate::serve::keys::Readiness;
use crate::serve::logging::{Line, TARGET};
use crate::serve::metrics::{Metrics, Outcome};
use crate::serve::policy::{self, Location};
use clerk_verify::machine::kind_of;
use clerk_verify::options::{AcceptsToken, TokenKind};
use clerk_verify::request::{Policy, Principal, AUTH_REASON_HEADER, AUTH_STATUS_HEADER};
use clerk_verify::{adapter, reason, Authentication, Refusal, Verifier};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// The forward-auth check.
const AUTH_PATH: &str = "/auth";
/// Envoy's `ext_authz` HTTP service appends the client's path (and query) to its
/// `path_prefix`: the check is the same as `/auth`'s, but the query is the client's, never a
/// policy.
const EXT_AUTHZ_PREFIX: &str = "/ext-authz";

/// What every request handler shares.
pub struct State {
    pub verifier: Verifier,
    pub allow_unauthenticated: bool,
    /// Whose headers describe the forwarded request.
    pub proxy: Proxy,
    pub metrics: Arc<Metrics>,
    pub readiness: Arc<Readiness>,
}

/// Answers one request.
pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<String>, Infallible> {
    let path = req.uri().path();
    let answer = if path == AUTH_PATH {
        let location = policy::from_query(req.uri().query());
        auth(&state, &req, Route::Auth, location).await
    } else if path
        .strip_prefix(EXT_AUTHZ_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    {
        // The client's path and query, as Envoy appended them to the prefix.
        let uri = req
            .uri()
            .path_and_query()
            .and_then(|pq| pq.as_str().strip_prefix(EXT_AUTHZ_PREFIX))
            .filter(|rest| rest.starts_with('/'));
        auth(
            &state,
            &req,
            Route::ExtAuthz { uri },
            Ok(Location::default()),
        )
        .await
    } else if !matches!(*req.method(), Method::GET | Method::HEAD) {
        plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
    } else {
        match path {
            "/healthz" => plain(StatusCode::OK, "ok\n"),
            "/readyz" if state.readiness.is_ready() => plain(StatusCode::OK, "ready\n"),
            "/readyz" => plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the keys are not loaded\n",
            ),
            "/metrics" => {
                let machines = state.verifier.machine_stats();
                let mut r = plain(StatusCode::OK, state.metrics.render(&machines));
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                r
            }
            _ => plain(StatusCode::NOT_FOUND, "not found\n"),
        }
    };
    Ok(answer)
}

/// The decision for one forwarded request. `location` is `Err` when the location's query is
/// malformed: a configuration error, answered 500 whoever asks.
async fn auth(
    state: &State,
    req: &Request<Incoming>,
    route: Route<'_>,
    location: Result<Location, String>,
) -> Response<String> {
    let started = Instant::now();
    let headers = req.headers();
    let check = Check {
        route,
        method: req.method().as_str(),
        headers,
    };
    let facts = forwarded::judge(state.proxy, &check);
    // The kinds of token this location accepts: its query's, else the server's.
    let location = location.and_then(|l| {
        let accepts = l.accepts(state.verifier.options().accepts_token)?;
        Ok((l.policy, accepts))
    });
    let accepts = location
        .as_ref()
        .map_or(AcceptsToken::SESSION_TOKEN, |(_, a)| *a);
    let decision = match (location, &facts) {
        (Err(detail), _) => Decision::Refused(Refusal::internal(reason::CONFIG_INVALID, detail)),
        // Headers that disagree on the request, or that this proxy would not send: refused
        // before anything else, a preflight included.
        (_, Err(invalid)) => Decision::Refused(invalid.refusal()),
        // A CORS preflight carries no credentials: let it through to the service's CORS
        // handling, with no identity.
        (Ok(_), Ok(facts)) if facts.is_preflight(headers) => Decision::Preflight,
        (Ok((policy, accepts)), Ok(_)) => {
            let step = state.verifier.authenticate_headers_accepting(
                accepts,
                headers
                    .get(hyper::header::AUTHORIZATION)
                    .map(HeaderValue::as_bytes),
                headers
                    .get_all(hyper::header::COOKIE)
                    .iter()
                    .map(HeaderValue::as_bytes),
            );
            let authentication = step.finish(tokio::task::spawn_blocking).await;
            decide(
                authentication,
                &policy,
                state.allow_unauthenticated,
                accepts.accepts_machines(),
            )
        }
    };
    let (outcome, reason) = decision.outcome();
    let took = started.elapsed();
    state.metrics.request(outcome, reason, took);
    // Machine tokens are counted by kind where a location accepts them (elsewhere the token
    // is not even looked at for its kind: sessions-only locations cost what they always did).
    if accepts.accepts_machines() && !matches!(decision, Decision::Preflight) {
        if let Some(kind) = machine_kind(headers) {
            state.metrics.machine_request(kind, outcome, reason);
        }
    }
    log_decision(req, facts.as_ref().ok(), &decision, outcome, took);
    decision.into_response()
}

/// What `/auth` answers.
enum Decision {
    /// The user or the machine, the policy met, and the identity headers.
    SignedIn(Principal, Policy, HeaderMap),
    /// Without a session, let through (`--allow-unauthenticated`); the reason is why.
    SignedOut(&'static str),
    Preflight,
    Refused(Refusal),
}

fn decide(
    authentication: Authentication,
    policy: &Policy,
    allow_unauthenticated: bool,
    machines_accepted: bool,
) -> Decision {
    // "No valid session" passes only where nothing more is required, and never when the server
    // is at fault (an outage is 503, not an anonymous user: `into_optional`'s rule).
    if let Authentication::SignedOut(out) = &authentication {
        if allow_unauthenticated && policy.is_empty() && !out.server_fault() {
            return Decision::SignedOut(out.reason());
        }
    }
    // A session or a machine, of a kind the location accepts (the core refused the others);
    // a session's requirements for a session, scopes for a machine.
    let checked = adapter::permitted(authentication, policy).and_then(|principal| {
        let headers = identity::headers(&principal, machines_accepted)?;
        Ok(Decision::SignedIn(principal, policy.clone(), headers))
    });
    checked.unwrap_or_else(Decision::Refused)
}

impl Decision {
    /// The `result` label and the reason (empty when there is none).
    fn outcome(&self) -> (Outcome, &'static str) {
        match self {
            Decision::SignedIn(..) => (Outcome::SignedIn, ""),
            Decision::SignedOut(reason) => (Outcome::SignedOut, reason),
            Decision::Preflight => (Outcome::Preflight, ""),
            Decision::Refused(r) => (Outcome::of_status(r.status()), r.reason()),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Decision::Refused(r) => {
                StatusCode::from_u16(r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            _ => StatusCode::OK,
        }
    }

    fn into_response(self) -> Response<String> {
        let status = self.status();
        let mut r = match self {
            Decision::SignedIn(_, _, headers) => {
                let mut r = Response::new(String::new());
                *r.headers_mut() = headers;
                r
            }
            Decision::SignedOut(reason) => {
                let mut r = Response::new(String::new());
                set(r.headers_mut(), AUTH_STATUS_HEADER, "signed-out");
                set(r.headers_mut(), AUTH_REASON_HEADER, reason);
                r
            }
            Decision::Preflight => {
                let mut r = Response::new(String::new());
                set(r.headers_mut(), AUTH_STATUS_HEADER, "signed-out");
                r
            }
            Decision::Refused(refusal) => refused(&refusal),
        };
        *r.status_mut() = status;
        no_store(r.headers_mut());
        r
    }
}

/// A refusal as the core renders it for every adapter.
fn refused(refusal: &Refusal) -> Response<String> {
    let mut r = Response::new(refusal.json_body());
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(challenge) = refusal.www_authenticate() {
        h.insert(
            hyper::header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    for (name, value) in refusal.debug_headers() {
        set(h, name, value);
    }
    r
}

fn plain(status: StatusCode, body: impl Into<String>) -> Response<String> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Answers about one request's credentials must never be cached by anything in between.
fn no_store(h: &mut HeaderMap) {
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
}

/// Sets a header whose name and value are our own constants (reason codes, statuses).
fn set(h: &mut HeaderMap, name: &'static str, value: &'static str) {
    h.insert(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    );
}

/// One line per decision: never the token, never the query (it may carry secrets). `facts` is
/// `None` when the forwarded headers were refused: the line then names the check request
/// itself.
fn log_decision(
    req: &Request<Incoming>,
    facts: Option<&Forwarded<'_>>,
    decision: &Decision,
    outcome: Outcome,
    took: std::time::Duration,
) {
    let method = facts.map_or(req.method().as_str(), |f| f.method);
    let path = facts
        .and_then(|f| f.uri)
        .unwrap_or_else(|| req.uri().path());
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut line = Line::event("auth")
        .kv("status", decision.status().as_u16())
        .kv("result", outcome.label())
        .kv("method", method)
        .kv("path", path);
    let level = match decision {
        Decision::SignedIn(Principal::Machine(machine), policy, _) => {
            // The kind and the subject; never the token.
            line = line
                .kv("token_type", machine.token_type())
                .kv("subject", machine.subject());
            if !policy.is_empty() {
                line = line.kv("policy", policy);
            }
            log::Level::Info
        }
        Decision::SignedIn(principal, policy, _) => {
            let auth = principal.session();
            line = line
                .kv("user", principal.subject())
                .opt("session", auth.and_then(|a| a.session_id()))
                .opt("org", auth.and_then(|a| a.org()).map(|o| &o.id));
            if !policy.is_empty() {
                line = line.kv("policy", policy);
            }
            log::Level::Info
        }
        Decision::SignedOut(reason) => {
            line = line.kv("reason", reason);
            log::Level::Info
        }
        Decision::Preflight => log::Level::Info,
        Decision::Refused(refusal) => {
            line = line.kv("reason", refusal.reason());
            // Operators need the cause of a 5xx, and of a 400 (a proxy configured otherwise
            // than documented, or a client forging headers); it never holds the token or a
            // secret.
            if refusal.status() >= 500 || refusal.status() == 400 {
                line = line.kv("detail", refusal.detail());
                log::Level::Warn
            } else {
                log::Level::Info
            }
        }
    };
    if let Some(host) = facts.and_then(|f| f.host) {
        line = line.kv("host", host);
    }
    line = line.kv("us", took.as_micros());
    log::log!(target: TARGET, level, "{line}");
}

/// The kind of machine token the request's `Authorization` header carries, for the metrics
/// only (the core decides what the token is): `Bearer <token>` in any case, or a bare token.
fn machine_kind(headers: &HeaderMap) -> Option<TokenKind> {
    let value = headers
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => value,
    };
    Some(kind_of(token)).filter(|k| k.is_machine())
}
