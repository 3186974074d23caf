//! One JWKS fetch over HTTP(S) with ureq: timeouts, a body cap, status and error mapping to
//! Clerk's reasons; the two Backend API calls of page authentication (a handshake nonce
//! exchanged, a session refreshed); and the bare JSON `POST` the machine-token verify calls make
//! ([`HttpClient::post_json`]), whose answers their caller maps. The secret key goes into the
//! `Authorization` header and nowhere else.

use crate::error::Error;
use crate::keys::{parse_jwks, JwksProblem, KeySet};
use crate::remote::options::{RemoteOptions, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT};
use crate::remote::source::SecretKey;
use std::fmt;
use std::io::ErrorKind;
use std::time::Duration;
use ureq::Agent;

/// `User-Agent` of every request.
const USER_AGENT: &str = concat!("clerk-verify/", env!("CARGO_PKG_VERSION"));
/// `Clerk-API-Version` sent to the Backend API (`SUPPORTED_BAPI_VERSION` of `@clerk/backend`).
const CLERK_API_VERSION: &str = "2026-05-12";

/// An HTTP client for one key source.
pub(crate) struct HttpClient {
    agent: Agent,
    max_body: usize,
    max_keys: usize,
}

impl HttpClient {
    /// A client with `opts`' timeouts and body cap. Loopback sources never go through a proxy
    /// from the environment; others honour `HTTPS_PROXY`/`NO_PROXY` as ureq does.
    pub(crate) fn new(opts: &RemoteOptions, loopback: bool) -> HttpClient {
        let mut config = Agent::config_builder()
            .http_status_as_error(false)
            // A JWKS endpoint does not redirect; following one could leave https or the host.
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .accept("application/json")
            .timeout_global(Some(opts.timeout))
            .timeout_connect(Some(opts.connect_timeout))
            .timeout_per_read(Some(opts.read_timeout))
            .timeout_per_write(Some(opts.read_timeout));
        if loopback {
            config = config.proxy(None);
        }
        HttpClient {
            agent: config.build().into(),
            max_body: opts.max_body_bytes,
            max_keys: opts.max_keys,
        }
    }

    /// `GET url` and parse the JWKS. `bearer` is sent as `Authorization: Bearer` (with
    /// `Clerk-API-Version`) and turns a 401/403 into `secret-key-invalid`.
    pub(crate) fn fetch_jwks(
        &self,
        url: &str,
        bearer: Option<&SecretKey>,
    ) -> Result<KeySet, Error> {
        let body = self.get(url, bearer)?;
        parse_jwks(&body, self.max_keys)
            .map(KeySet::from_parsed)
            .map_err(|p| match p {
                // Clerk's SDK: an empty key set is a failure to load.
                JwksProblem::Empty => load_error(url, "the JWKS has no keys"),
                p => {
                    Error::JwkRemoteInvalid(format!("GET {}: {}", shown(url), p.describe()).into())
                }
            })
    }

    fn get(&self, url: &str, bearer: Option<&SecretKey>) -> Result<Vec<u8>, Error> {
        let mut request = self.agent.get(url);
        if let Some(sk) = bearer {
            request = request
                .header("Authorization", format!("Bearer {}", sk.expose()))
                .header("Clerk-API-Version", CLERK_API_VERSION);
        }
        let mut response = request
            .call()
            .map_err(|e| load_error(url, transport(&e, self.max_body)))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => {}
            401 | 403 if bearer.is_some() => return Err(Error::SecretKeyInvalid),
            300..=399 => {
                return Err(load_error(
                    url,
                    format!("HTTP {status} redirect, not followed; configure the final URL"),
                ))
            }
            _ => return Err(load_error(url, format!("HTTP {status}"))),
        }
        let limit = self.max_body as u64;
        if let Some(len) = response.body().content_length().filter(|&len| len > limit) {
            return Err(load_error(url, too_large(Some(len), self.max_body)));
        }
        response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| load_error(url, transport(&e, self.max_body)))
    }
}

/// What a `POST` got: the status and the body (read under the cap), or why there is none, in
/// words that name neither the request's headers nor its body.
pub(crate) type Posted = Result<(u16, Vec<u8>), String>;

impl HttpClient {
    /// `POST url` with a JSON `body`, `Authorization: Bearer <bearer>` and Clerk's
    /// `Clerk-API-Version`, as the Backend API's verify endpoints take it. Any status is an
    /// answer (the caller maps it); the body of a 2xx is read under the cap, others' bodies
    /// are dropped.
    pub(crate) fn post_json(&self, url: &str, bearer: &SecretKey, body: &[u8]) -> Posted {
        let mut response = self
            .agent
            .post(url)
            .header("Authorization", format!("Bearer {}", bearer.expose()))
            .header("Clerk-API-Version", CLERK_API_VERSION)
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(|e| transport(&e, self.max_body))?;
        let status = response.status().as_u16();
        if !(200..=299).contains(&status) {
            return Ok((status, Vec::new()));
        }
        let limit = self.max_body as u64;
        if let Some(len) = response.body().content_length().filter(|&len| len > limit) {
            return Err(too_large(Some(len), self.max_body));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| transport(&e, self.max_body))?;
        Ok((status, body))
    }
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("max_body", &self.max_body)
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}

/// A client for one Backend API call of page authentication, bounded by `timeout`.
fn backend_client(api_url: &str, timeout: Duration) -> Result<HttpClient, Error> {
    let checked = crate::remote::source::check_url(api_url, "api_url (CLERK_API_URL)")?;
    let opts = RemoteOptions::default()
        .timeout(timeout)
        .connect_timeout(timeout.min(DEFAULT_CONNECT_TIMEOUT))
        .read_timeout(timeout.min(DEFAULT_READ_TIMEOUT));
    Ok(HttpClient::new(&opts, checked.loopback))
}

/// Most bytes of a Backend API answer of page authentication (a list of cookies).
const MAX_BACKEND_ANSWER: usize = 64 * 1024;

/// Exchanges a handshake nonce with the Backend API (`GET /v1/clients/handshake_payload`, with
/// the secret key), as current Clerk SDKs do, for the cookie directives it stands for. The
/// Backend API answers a nonce once; any 4xx means it is forged, expired or used.
pub(crate) fn handshake_payload(
    api_url: &str,
    secret_key: &str,
    nonce: &str,
    timeout: Duration,
) -> Result<Vec<String>, Error> {
    let client = backend_client(api_url, timeout)?;
    let secret = SecretKey::new(secret_key)?;
    let base = api_url.trim_end_matches('/');
    let url = format!(
        "{base}/v1/clients/handshake_payload?nonce={}",
        form_urlencoded::byte_serialize(nonce.as_bytes()).collect::<String>()
    );
    let failed =
        |what: String| Error::HandshakeFailed(format!("GET {}: {what}", shown(&url)).into());
    let response = client
        .agent
        .get(&url)
        .header("Authorization", format!("Bearer {}", secret.expose()))
        .header("Clerk-API-Version", CLERK_API_VERSION)
        .call();
    #[derive(serde::Deserialize)]
    struct Payload {
        directives: Vec<String>,
    }
    let payload: Payload = backend_answer(
        response,
        client.max_body,
        &failed,
        "the Backend API refused the handshake nonce",
        "a handshake payload",
    )?;
    Ok(payload.directives)
}

/// Refreshes a session through the Backend API (`POST /v1/sessions/{sid}/refresh`, with the
/// secret key), as Clerk's `refreshSession` with `format: "cookie"`: `body` carries the expired
/// token, the refresh token, the request's origin and headers. The answer is the cookies to
/// set. A 4xx is [`Error::HandshakeInvalid`] (the refresh token is refused: do not ask again),
/// 401/403 [`Error::SecretKeyInvalid`], anything else that is not a list of cookies
/// [`Error::HandshakeFailed`].
pub(crate) fn refresh_session(
    api_url: &str,
    secret_key: &str,
    session_id: &str,
    suffixed_cookies: bool,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<Vec<String>, Error> {
    let client = backend_client(api_url, timeout)?;
    let secret = SecretKey::new(secret_key)?;
    let base = api_url.trim_end_matches('/');
    let sid: String = form_urlencoded::byte_serialize(session_id.as_bytes()).collect();
    let url = format!("{base}/v1/sessions/{sid}/refresh?suffixed_cookies={suffixed_cookies}");
    let failed =
        |what: String| Error::HandshakeFailed(format!("POST {}: {what}", shown(&url)).into());
    let response = client
        .agent
        .post(&url)
        .header("Authorization", format!("Bearer {}", secret.expose()))
        .header("Clerk-API-Version", CLERK_API_VERSION)
        .header("Content-Type", "application/json")
        .send(body.to_string());
    #[derive(serde::Deserialize)]
    struct Cookies {
        cookies: Vec<String>,
    }
    let answer: Cookies = backend_answer(
        response,
        client.max_body,
        &failed,
        "the Backend API refused to refresh the session",
        "a list of cookies",
    )?;
    Ok(answer.cookies)
}

/// A page-authentication Backend API answer read as `T`: 401/403 is
/// [`Error::SecretKeyInvalid`], another 4xx [`Error::HandshakeInvalid`] (`refused`: do not ask
/// again), a transport failure, 5xx, an oversized body or one that is not `shape`, `failed`.
fn backend_answer<T: serde::de::DeserializeOwned>(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    max_body: usize,
    failed: &dyn Fn(String) -> Error,
    refused: &str,
    shape: &str,
) -> Result<T, Error> {
    let mut response = response.map_err(|e| failed(transport(&e, max_body)))?;
    match response.status().as_u16() {
        200..=299 => {}
        401 | 403 => return Err(Error::SecretKeyInvalid),
        status @ 400..=499 => {
            return Err(Error::HandshakeInvalid(
                format!("{refused} (HTTP {status})").into(),
            ))
        }
        status => return Err(failed(format!("HTTP {status}"))),
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BACKEND_ANSWER as u64)
        .read_to_vec()
        .map_err(|e| failed(transport(&e, MAX_BACKEND_ANSWER)))?;
    serde_json::from_slice(&body).map_err(|_| failed(format!("the answer is not {shape}")))
}

fn load_error(url: &str, what: impl fmt::Display) -> Error {
    Error::JwkRemoteFailedToLoad(format!("GET {}: {what}", shown(url)).into())
}

/// The URL as shown in errors: without its query, which might carry a token.
fn shown(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn too_large(len: Option<u64>, max: usize) -> String {
    match len {
        Some(len) => format!("the response is {len} bytes, more than the {max}-byte limit"),
        None => format!("the response is larger than the {max}-byte limit"),
    }
}

/// Words for a ureq error. Built from the variant, not from ureq's text, so nothing from the
/// request (headers) can leak into the message.
fn transport(e: &ureq::Error, max_body: usize) -> String {
    match e {
        ureq::Error::Timeout(which) => format!("timed out ({which} timeout)"),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                "connection reset by the server".to_owned()
            }
            ErrorKind::UnexpectedEof => "the server closed the connection early".to_owned(),
            ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out".to_owned(),
            kind => format!("network error ({kind})"),
        },
        ureq::Error::BodyExceedsLimit(_) => too_large(None, max_body),
        ureq::Error::Protocol(_) => "the server did not answer with valid HTTP".to_owned(),
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => {
            "redirect not followed; configure the final URL".to_owned()
        }
        ureq::Error::Tls(why) => format!("TLS error: {why}"),
        ureq::Error::Rustls(tls) => format!("TLS error: {tls}"),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => "invalid request URL".to_owned(),
        _ => "request failed".to_owned(),
    }
}
