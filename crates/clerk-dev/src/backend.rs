//! [`BackendApi`]: Clerk's Backend API verify endpoints for opaque machine tokens, emulated on
//! the dev issuer's [`crate::JwksServer`], so that API keys, M2M tokens and OAuth access tokens
//! can be tested without a Clerk account:
//!
//! - `POST /api_keys/verify` `{"secret": "ak_…"}`;
//! - `POST /m2m_tokens/verify` `{"token": "mt_…"}`;
//! - `POST /oauth_applications/access_tokens/verify` `{"access_token": "oat_…"}`;
//!
//! (no `/v1`, as Clerk's SDK calls them), each with `Authorization: Bearer <secret key>`.
//! A token it minted (and did not revoke, and that has not expired) is answered 200 with
//! Clerk's resource in snake_case; any other token 404 (Clerk's `resource_not_found`); a wrong
//! or missing bearer 401 (`clerk_key_invalid`); a body without the token 400.
//!
//! Tokens are minted in the process ([`BackendApi::mint`]) or, for `clerk-verify dev mint` and
//! `dev serve` running as separate processes, through a store file ([`store_minted`],
//! [`store_revoked`], [`BackendApi::store`]) that the API reads at every call.

use crate::fault::Fault;
use crate::mint::now_unix;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The three verify paths and the body member of each.
const ENDPOINTS: [(&str, &str, &str); 3] = [
    ("/api_keys/verify", "secret", "api_key"),
    ("/m2m_tokens/verify", "token", "m2m_token"),
    (
        "/oauth_applications/access_tokens/verify",
        "access_token",
        "oauth_token",
    ),
];
/// Random characters after the prefix of a minted token.
const SECRET_LEN: usize = 32;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    now_unix().saturating_mul(1000)
}

/// An opaque machine token and the resource it stands for, as Clerk's Backend API describes
/// it. Built with [`OpaqueToken::api_key`], [`OpaqueToken::m2m`] or [`OpaqueToken::oauth`]
/// (each draws a random token, `ak_`/`mt_`/`oat_` + 32 letters and digits), then minted by a
/// [`BackendApi`].
///
/// ```
/// use clerk_dev::OpaqueToken;
/// let key = OpaqueToken::api_key("user_1").name("ci").scopes(["read"]);
/// assert!(key.secret().starts_with("ak_"));
/// assert_eq!(key.secret().len(), 3 + 32);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use = "OpaqueToken methods return the updated token"]
pub struct OpaqueToken {
    kind: &'static str,
    secret: String,
    id: String,
    subject: String,
    scopes: Vec<String>,
    claims: Option<Map<String, Value>>,
    name: Option<String>,
    client_id: Option<String>,
    /// Unix milliseconds; `None`: never.
    expiration: Option<i64>,
    revoked: bool,
    created_at: i64,
}

impl OpaqueToken {
    fn new(kind: &'static str, prefix: &str, subject: &str) -> OpaqueToken {
        OpaqueToken {
            kind,
            secret: format!("{prefix}{}", random_alphanumeric(SECRET_LEN)),
            id: format!("{prefix}{}", random_alphanumeric(24)),
            subject: subject.to_owned(),
            scopes: Vec::new(),
            claims: None,
            name: None,
            client_id: None,
            expiration: None,
            revoked: false,
            created_at: now_ms(),
        }
    }

    /// An API key acting for `subject` (`user_…` or `org_…`), named `dev key`, no scopes,
    /// never expiring.
    pub fn api_key(subject: &str) -> OpaqueToken {
        OpaqueToken::new("api_key", "ak_", subject).name("dev key")
    }

    /// A machine-to-machine token of the machine `machine_id` (`mch_…`), no scopes, expiring
    /// in an hour.
    pub fn m2m(machine_id: &str) -> OpaqueToken {
        OpaqueToken::new("m2m_token", "mt_", machine_id).expires_in(Duration::from_secs(3600))
    }

    /// An OAuth access token for `user_id`, issued to the OAuth application `client_id`, no
    /// scopes, expiring in an hour.
    pub fn oauth(user_id: &str, client_id: &str) -> OpaqueToken {
        let mut token =
            OpaqueToken::new("oauth_token", "oat_", user_id).expires_in(Duration::from_secs(3600));
        token.client_id = Some(client_id.to_owned());
        token
    }

    /// The token itself, what a client sends as `Authorization: Bearer`.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Its kind, by Clerk's name (`api_key`, `m2m_token`, `oauth_token`).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The resource's `id` (not the token).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Uses exactly this token text (e.g. one of a shape Clerk never issues).
    pub fn with_secret(mut self, secret: impl Into<String>) -> OpaqueToken {
        self.secret = secret.into();
        self
    }

    /// The scopes granted.
    pub fn scopes<I, S>(mut self, scopes: I) -> OpaqueToken
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Custom claims (an object; API keys and M2M tokens).
    pub fn claims(mut self, claims: Value) -> OpaqueToken {
        self.claims = claims.as_object().cloned();
        self
    }

    /// An API key's name.
    pub fn name(mut self, name: impl Into<String>) -> OpaqueToken {
        self.name = Some(name.into());
        self
    }

    /// Expires this long from now.
    pub fn expires_in(self, ttl: Duration) -> OpaqueToken {
        let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.expires_at(now_ms().saturating_add(ms))
    }

    /// Expires at this instant, Unix milliseconds (in the past: already expired).
    pub fn expires_at(mut self, unix_ms: i64) -> OpaqueToken {
        self.expiration = Some(unix_ms);
        self
    }

    /// Never expires.
    pub fn never_expires(mut self) -> OpaqueToken {
        self.expiration = None;
        self
    }

    fn expired(&self) -> bool {
        self.expiration.is_some_and(|ms| ms <= now_ms())
    }

    /// Clerk's resource, snake_case, as the verify endpoint answers it.
    pub fn resource(&self) -> Value {
        let common = json!({
            "id": self.id,
            "subject": self.subject,
            "scopes": self.scopes,
            "revoked": self.revoked,
            "revocation_reason": if self.revoked { Value::from("revoked in the dev issuer") } else { Value::Null },
            "expired": self.expired(),
            "expiration": self.expiration,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        });
        let mut resource = common.as_object().cloned().unwrap_or_default();
        let mut add = |name: &str, value: Value| {
            resource.insert(name.to_owned(), value);
        };
        match self.kind {
            "api_key" => {
                add("object", "api_key".into());
                add("type", "api_key".into());
                add("name", self.name.clone().into());
                add(
                    "claims",
                    self.claims.clone().map_or(Value::Null, Value::Object),
                );
                add("description", Value::Null);
                add("created_by", Value::Null);
                add("last_used_at", Value::Null);
            }
            "m2m_token" => {
                add("object", "machine_to_machine_token".into());
                add(
                    "claims",
                    self.claims.clone().map_or(Value::Null, Value::Object),
                );
            }
            _ => {
                add("object", "oauth_access_token".into());
                add("type", "oauth_token".into());
                add("client_id", self.client_id.clone().into());
                add("aud", Value::Null);
                add("act", Value::Null);
            }
        }
        Value::Object(resource)
    }

    /// One line of a store file.
    fn to_line(&self) -> String {
        json!({ "mint": {
            "kind": self.kind, "secret": self.secret, "id": self.id, "subject": self.subject,
            "scopes": self.scopes, "claims": self.claims, "name": self.name,
            "client_id": self.client_id, "expiration": self.expiration,
            "created_at": self.created_at,
        }})
        .to_string()
    }

    fn from_line(v: &Value) -> Option<OpaqueToken> {
        let m = v.get("mint")?;
        let text = |name: &str| m.get(name).and_then(Value::as_str).map(str::to_owned);
        let kind = match m.get("kind")?.as_str()? {
            "api_key" => "api_key",
            "m2m_token" => "m2m_token",
            "oauth_token" => "oauth_token",
            _ => return None,
        };
        Some(OpaqueToken {
            kind,
            secret: text("secret")?,
            id: text("id")?,
            subject: text("subject")?,
            scopes: m
                .get("scopes")?
                .as_array()?
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            claims: m.get("claims").and_then(Value::as_object).cloned(),
            name: text("name"),
            client_id: text("client_id"),
            expiration: m.get("expiration").and_then(Value::as_i64),
            revoked: false,
            created_at: m.get("created_at").and_then(Value::as_i64).unwrap_or(0),
        })
    }
}

/// Appends `token` to the store file at `path` (created if missing), for a [`BackendApi`] in
/// another process reading it ([`BackendApi::store`]).
///
/// # Errors
/// When the file cannot be written.
pub fn store_minted(path: &Path, token: &OpaqueToken) -> io::Result<()> {
    append_line(path, &token.to_line())
}

/// Records in the store file at `path` that `token` is revoked.
///
/// # Errors
/// When the file cannot be written.
pub fn store_revoked(path: &Path, token: &str) -> io::Result<()> {
    append_line(path, &json!({ "revoke": token }).to_string())
}

fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(format!("{line}\n").as_bytes())
}

/// The verify endpoints of a dev issuer. Build one, then hand it to
/// [`crate::JwksServer::serve_backend_api`].
///
/// ```
/// use clerk_dev::{BackendApi, Fault, JwksServer, OpaqueToken};
///
/// let server = JwksServer::start();
/// let api = server.serve_backend_api(BackendApi::new().secret_key("sk_test_dev"));
/// let key = api.mint(OpaqueToken::api_key("user_1").scopes(["read"]));
/// assert!(key.starts_with("ak_"));
/// api.set_fault(Fault::Status(503)); // the API is down
/// assert_eq!(api.calls(), 0);
/// ```
#[derive(Debug, Default)]
pub struct BackendApi {
    secret_key: Option<String>,
    machine_secret_key: Option<String>,
    store: Option<PathBuf>,
    tokens: Mutex<HashMap<String, OpaqueToken>>,
    fault: Mutex<Fault>,
    calls: [AtomicUsize; 3],
}

/// A response: status and JSON body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl BackendApi {
    /// Endpoints that accept any bearer, with no tokens yet.
    pub fn new() -> BackendApi {
        BackendApi::default()
    }

    /// Requires `Authorization: Bearer <secret_key>` (M2M tokens: this or the machine secret
    /// key); anything else is 401 `clerk_key_invalid`.
    #[must_use]
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> BackendApi {
        self.secret_key = Some(secret_key.into());
        self
    }

    /// Also accepts `machine_secret_key` as the bearer of M2M tokens' verify calls.
    #[must_use]
    pub fn machine_secret_key(mut self, key: impl Into<String>) -> BackendApi {
        self.machine_secret_key = Some(key.into());
        self
    }

    /// Also knows the tokens minted into (and revoked in) the store file at `path`, read at
    /// every call (see [`store_minted`]).
    #[must_use]
    pub fn store(mut self, path: impl Into<PathBuf>) -> BackendApi {
        self.store = Some(path.into());
        self
    }

    /// Mints `token` here: its verify endpoint answers it from now on. Returns the token text.
    pub fn mint(&self, token: OpaqueToken) -> String {
        let secret = token.secret.clone();
        lock(&self.tokens).insert(secret.clone(), token);
        secret
    }

    /// Revokes a token minted here: it is answered 404 from now on. `false` if unknown.
    pub fn revoke(&self, token: &str) -> bool {
        match lock(&self.tokens).get_mut(token) {
            Some(t) => {
                t.revoked = true;
                true
            }
            None => false,
        }
    }

    /// The fault applied to the verify endpoints ([`Fault::None`] to heal): `Status(503)` for
    /// an API that fails, `Delay` for a slow one, `Hang` or `CloseImmediately` for one that is
    /// down (or drop the server).
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.fault) = fault;
    }

    pub(crate) fn fault(&self) -> Fault {
        lock(&self.fault).clone()
    }

    /// Verify calls received (any of the three endpoints, counted as soon as the request is
    /// read, whatever the answer).
    pub fn calls(&self) -> usize {
        self.calls.iter().map(|c| c.load(Ordering::SeqCst)).sum()
    }

    /// Verify calls received for one kind (`api_key`, `m2m_token`, `oauth_token`).
    pub fn calls_for(&self, kind: &str) -> usize {
        ENDPOINTS
            .iter()
            .position(|(_, _, k)| *k == kind)
            .map_or(0, |i| self.calls[i].load(Ordering::SeqCst))
    }

    /// Resets the call counters to 0.
    pub fn reset_calls(&self) {
        self.calls.iter().for_each(|c| c.store(0, Ordering::SeqCst));
    }

    /// Whether `path` is one of its endpoints; counts the call if so.
    pub(crate) fn take(&self, path: &str) -> bool {
        match ENDPOINTS.iter().position(|(p, _, _)| *p == path) {
            Some(i) => {
                self.calls[i].fetch_add(1, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// The answer to a verify call (the path is one of [`ENDPOINTS`]).
    pub(crate) fn answer(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Answer {
        let error = |status: u16, code: &str, message: &str| Answer {
            status,
            body: json!({ "errors": [{ "code": code, "message": message }] }).to_string(),
        };
        let Some((_, member, kind)) = ENDPOINTS.iter().find(|(p, _, _)| *p == path) else {
            return error(404, "resource_not_found", "not found");
        };
        if method != "POST" {
            return error(405, "method_not_allowed", "method not allowed");
        }
        let bearer = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .and_then(|(_, v)| v.strip_prefix("Bearer "))
            .filter(|b| !b.is_empty());
        if !self.bearer_ok(kind, bearer) {
            return error(
                401,
                "clerk_key_invalid",
                "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
            );
        }
        let token = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get(*member).and_then(Value::as_str).map(str::to_owned));
        let Some(token) = token else {
            return error(400, "form_param_missing", &format!("{member} is missing"));
        };
        let found = self.lookup(&token).filter(|t| t.kind == *kind);
        match found {
            Some(t) if t.revoked => error(404, "resource_not_found", "the token was revoked"),
            Some(t) if t.expired() => error(404, "resource_not_found", "the token has expired"),
            Some(t) => Answer {
                status: 200,
                body: t.resource().to_string(),
            },
            None => error(404, "resource_not_found", "no such token"),
        }
    }

    fn bearer_ok(&self, kind: &str, bearer: Option<&str>) -> bool {
        let Some(bearer) = bearer else {
            return false;
        };
        let mut allowed: Vec<&str> = self.secret_key.iter().map(String::as_str).collect();
        if kind == "m2m_token" {
            allowed.extend(self.machine_secret_key.as_deref());
        }
        allowed.is_empty() || allowed.contains(&bearer)
    }

    /// The token as this API knows it: minted here, or in the store file.
    fn lookup(&self, token: &str) -> Option<OpaqueToken> {
        let mut found = lock(&self.tokens).get(token).cloned();
        let Some(path) = &self.store else {
            return found;
        };
        // The file is small and written by `dev mint`: read it whole at every call.
        let Ok(text) = std::fs::read_to_string(path) else {
            return found;
        };
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if v.get("revoke").and_then(Value::as_str) == Some(token) {
                if let Some(t) = found.as_mut() {
                    t.revoked = true;
                }
            } else if let Some(t) = OpaqueToken::from_line(&v).filter(|t| t.secret == token) {
                found = Some(t);
            }
        }
        found
    }
}

fn random_alphanumeric(len: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(api: &BackendApi, path: &str, bearer: &str, body: &str) -> (u16, Value) {
        let headers = [("authorization".to_owned(), format!("Bearer {bearer}"))];
        let a = api.answer("POST", path, &headers, body.as_bytes());
        (a.status, serde_json::from_str(&a.body).unwrap())
    }

    #[test]
    fn answers_what_it_minted() {
        let api = BackendApi::new()
            .secret_key("sk_test_1")
            .machine_secret_key("ak_machine");
        let key = api.mint(OpaqueToken::api_key("org_1").scopes(["read"]));
        let body = format!(r#"{{"secret":"{key}"}}"#);
        let (status, v) = call(&api, "/api_keys/verify", "sk_test_1", &body);
        assert_eq!(status, 200);
        assert_eq!(
            (v["subject"].as_str(), v["scopes"][0].as_str()),
            (Some("org_1"), Some("read"))
        );
        assert_eq!(v["revoked"], false);
        // The machine secret key is for M2M tokens only.
        assert_eq!(call(&api, "/api_keys/verify", "ak_machine", &body).0, 401);
        // Another kind's endpoint does not know it.
        let wrong = format!(r#"{{"token":"{key}"}}"#);
        assert_eq!(call(&api, "/m2m_tokens/verify", "sk_test_1", &wrong).0, 404);
        let m2m = api.mint(OpaqueToken::m2m("mch_1"));
        let body = format!(r#"{{"token":"{m2m}"}}"#);
        assert_eq!(call(&api, "/m2m_tokens/verify", "ak_machine", &body).0, 200);
        assert!(api.revoke(&m2m));
        assert_eq!(call(&api, "/m2m_tokens/verify", "sk_test_1", &body).0, 404);
        let old = api.mint(OpaqueToken::oauth("user_1", "app").expires_at(1));
        let body = format!(r#"{{"access_token":"{old}"}}"#);
        let path = "/oauth_applications/access_tokens/verify";
        assert_eq!(call(&api, path, "sk_test_1", &body).0, 404);
        assert_eq!(call(&api, path, "sk_test_1", "{}").0, 400);
        assert_eq!(api.calls(), 0, "counted by the server, not here");
    }

    #[test]
    fn the_store_file_is_read_at_every_call() {
        let path = std::env::temp_dir().join(format!("clerk-dev-store-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let api = BackendApi::new().store(&path);
        let token = OpaqueToken::oauth("user_1", "app_1").scopes(["email"]);
        let body = format!(r#"{{"access_token":"{}"}}"#, token.secret());
        let path_ = "/oauth_applications/access_tokens/verify";
        assert_eq!(call(&api, path_, "sk", &body).0, 404);
        store_minted(&path, &token).unwrap();
        let (status, v) = call(&api, path_, "sk", &body);
        assert_eq!((status, v["client_id"].as_str()), (200, Some("app_1")));
        store_revoked(&path, token.secret()).unwrap();
        assert_eq!(call(&api, path_, "sk", &body).0, 404);
        std::fs::remove_file(&path).unwrap();
    }
}
