//! Clerk's Backend API verify endpoints for opaque machine tokens (§5b.3 of the reference
//! facts), as Clerk's SDK calls them: `POST {api_url}/<path>` (no `/v1`), a JSON body naming
//! the token, `Authorization: Bearer <secret key>` (the machine secret key first for `mt_`),
//! `Clerk-API-Version`; and what an answer means:
//!
//! | answer | result | reason |
//! |---|---|---|
//! | 2xx, the resource, not revoked nor expired | verified | |
//! | 2xx, revoked or expired | refused (ours: Clerk's SDK does not look) | `token-invalid` |
//! | 400, 404, 410, 422 | refused | `token-invalid` |
//! | 401, 403 | the secret key is wrong (500) | `secret-key-invalid` |
//! | 408, 429, 5xx, 3xx, anything else, no answer, too slow | outage (503), never a sign-out | `backend-api-unavailable` |
//! | 2xx that is not the resource | outage (503) | `backend-api-unavailable` |
//!
//! The answer parser ([`parse_backend_response`]) is public for fuzzing; the call itself needs
//! the `remote` feature.

use crate::error::Error;
use crate::machine::auth::{Fields, MachineAuth};
use crate::options::TokenKind;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The verify endpoint of an opaque token of `kind`: its path (no `/v1`, as Clerk's SDK's
/// `skipApiVersionInUrl`) and the body member that carries the token.
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) fn endpoint(kind: TokenKind) -> (&'static str, &'static str) {
    match kind {
        TokenKind::M2mToken => ("/m2m_tokens/verify", "token"),
        TokenKind::OauthToken => ("/oauth_applications/access_tokens/verify", "access_token"),
        _ => ("/api_keys/verify", "secret"),
    }
}

/// The error for an answer of `status` other than 2xx.
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) fn status_error(kind: TokenKind, status: u16) -> Error {
    match status {
        401 | 403 => Error::SecretKeyInvalid,
        400 | 404 | 410 | 422 => Error::MachineTokenInvalid(Cow::Owned(format!(
            "Clerk's Backend API does not know this {kind} (HTTP {status}): it does not exist, \
             or it was revoked or has expired"
        ))),
        _ => unavailable(format!("HTTP {status}")),
    }
}

/// The outage error.
pub(crate) fn unavailable(why: impl Into<Cow<'static, str>>) -> Error {
    Error::BackendApiUnavailable(why.into())
}

/// Reads a 2xx answer of the Backend API's verify endpoint for an opaque token of `kind`
/// (`api_key`, `m2m_token` or `oauth_token`): Clerk's resource, snake_case, as
/// [`MachineAuth`]. Strict where it matters and lenient elsewhere:
///
/// - a JSON object with a non-empty string `id` and `subject`, or the answer is not a verified
///   token: `backend-api-unavailable` (an API or proxy problem, never a sign-in nor a
///   sign-out);
/// - `scopes` an array of strings (absent or `null`: none); `claims` an object or `null`;
///   `name`, `client_id` strings or `null`; `expiration` a whole number of Unix milliseconds
///   or `null`; `revoked`, `expired` booleans or `null`: another type is the same error;
/// - `revoked: true` or `expired: true`: `token-invalid` (stricter than Clerk's SDK, which does
///   not look at them); whether `expiration` has passed is the caller's check (its clock);
/// - any other member is ignored.
///
/// ```
/// use clerk_verify::machine::parse_backend_response;
/// use clerk_verify::options::TokenKind;
///
/// let body = br#"{"object":"api_key","id":"ak_id_1","name":"ci","subject":"user_1",
///     "scopes":["read"],"claims":null,"revoked":false,"expired":false,"expiration":null}"#;
/// let key = parse_backend_response(TokenKind::ApiKey, body)?;
/// assert_eq!((key.subject(), key.user_id(), key.name()), ("user_1", Some("user_1"), Some("ci")));
/// let revoked = br#"{"id":"ak_id_1","subject":"user_1","revoked":true}"#;
/// assert_eq!(parse_backend_response(TokenKind::ApiKey, revoked).unwrap_err().reason(), "token-invalid");
/// # Ok::<(), clerk_verify::Error>(())
/// ```
pub fn parse_backend_response(kind: TokenKind, body: &[u8]) -> Result<MachineAuth, Error> {
    let not_verified = |why: &str| {
        unavailable(format!(
            "the answer is not a verified {kind} ({why}); is CLERK_API_URL Clerk's Backend API?"
        ))
    };
    if !kind.is_machine() {
        return Err(not_verified(
            "session tokens are not verified by the Backend API",
        ));
    }
    let Ok(Value::Object(mut resource)) = serde_json::from_slice::<Value>(body) else {
        return Err(not_verified("not a JSON object"));
    };
    let mut text = |name: &str| -> Result<Option<String>, Error> {
        match resource.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(not_verified(&format!("{name} is not a string"))),
        }
    };
    let id = text("id")?.filter(|s| !s.is_empty());
    let subject = text("subject")?.filter(|s| !s.is_empty());
    let name = text("name")?;
    let client_id = text("client_id")?;
    let (Some(id), Some(subject)) = (id, subject) else {
        return Err(not_verified("no id or subject"));
    };
    let flag = |name: &str| match resource.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(not_verified(&format!("{name} is not a boolean"))),
    };
    if flag("revoked")? {
        return Err(Error::MachineTokenInvalid(Cow::Owned(format!(
            "this {kind} has been revoked"
        ))));
    }
    if flag("expired")? {
        return Err(Error::MachineTokenInvalid(Cow::Owned(format!(
            "this {kind} has expired"
        ))));
    }
    let scopes = match resource.remove("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(not_verified("scopes is not an array of strings")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(not_verified("scopes is not an array of strings")),
    };
    let claims = match resource.remove("claims") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map).filter(|m: &Map<String, Value>| !m.is_empty()),
        Some(_) => return Err(not_verified("claims is not an object")),
    };
    let expiration = match resource.get("expiration") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| not_verified("expiration is not whole milliseconds"))?,
        ),
    };
    Ok(MachineAuth::new(Fields {
        kind,
        jwt: false,
        id,
        subject,
        scopes,
        // Clerk's OAuth access token resource has no claims.
        claims: claims.filter(|_| kind != TokenKind::OauthToken),
        name: name.filter(|_| kind == TokenKind::ApiKey),
        client_id: client_id.filter(|_| kind == TokenKind::OauthToken),
        expiration,
    }))
}

#[cfg(feature = "remote")]
pub(crate) use call::Api;

#[cfg(feature = "remote")]
mod call {
    use super::{endpoint, parse_backend_response, status_error, unavailable};
    use crate::error::Error;
    use crate::machine::auth::MachineAuth;
    use crate::options::{MachineOptions, TokenKind};
    use crate::remote::{check_url, HttpClient, RemoteOptions, SecretKey, DEFAULT_API_URL};
    use std::fmt;

    /// The verify calls of one verifier: its HTTP client, the Backend API's URL and the keys.
    pub(crate) struct Api {
        client: HttpClient,
        base: String,
        secret_key: Option<SecretKey>,
        machine_secret_key: Option<SecretKey>,
    }

    impl Api {
        /// Checks the URL and the keys' shapes; does no I/O. Without any key, or with a
        /// malformed one, `config-invalid` (answered 500 to every opaque token).
        pub(crate) fn new(opts: &MachineOptions) -> Result<Api, Error> {
            let key = |value: &Option<String>, what: &str| {
                value
                    .as_deref()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| {
                        SecretKey::new(v).map_err(|e| match e {
                            Error::ConfigInvalid(why) => Error::config(format!("{what}: {why}")),
                            e => e,
                        })
                    })
                    .transpose()
            };
            let secret_key = key(&opts.secret_key, "CLERK_SECRET_KEY")?;
            let machine_secret_key = key(&opts.machine_secret_key, "CLERK_MACHINE_SECRET_KEY")?;
            if secret_key.is_none() && machine_secret_key.is_none() {
                return Err(Error::config(
                    "opaque machine tokens are verified by Clerk's Backend API, which needs \
                     the secret key: set CLERK_SECRET_KEY (or CLERK_MACHINE_SECRET_KEY for \
                     M2M tokens)",
                ));
            }
            let base = opts
                .api_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .unwrap_or(DEFAULT_API_URL)
                .trim_end_matches('/')
                .to_owned();
            let checked = check_url(&base, "the Backend API URL (CLERK_API_URL)")?;
            if base.contains(['?', '#']) {
                return Err(Error::config(
                    "the Backend API URL (CLERK_API_URL) must not contain a query or a fragment",
                ));
            }
            let mut remote = RemoteOptions::default()
                .timeout(opts.timeout)
                .connect_timeout(opts.connect_timeout)
                .read_timeout(opts.timeout);
            remote.max_body_bytes = opts.max_response_bytes;
            Ok(Api {
                client: HttpClient::new(&remote, checked.loopback),
                base,
                secret_key,
                machine_secret_key,
            })
        }

        /// One verify call for `token`, an opaque token of `kind`, and what its answer means.
        pub(crate) fn call(&self, kind: TokenKind, token: &str) -> Result<MachineAuth, Error> {
            let bearer = match kind {
                TokenKind::M2mToken => self
                    .machine_secret_key
                    .as_ref()
                    .or(self.secret_key.as_ref()),
                _ => self.secret_key.as_ref(),
            };
            let Some(bearer) = bearer else {
                return Err(Error::config(format!(
                    "verifying an {kind} needs the secret key (CLERK_SECRET_KEY); only the \
                     machine secret key is set, which Clerk takes for M2M tokens only"
                )));
            };
            let (path, member) = endpoint(kind);
            let url = format!("{}{path}", self.base);
            let mut body = serde_json::Map::new();
            body.insert(member.to_owned(), token.into());
            let body = serde_json::Value::Object(body).to_string();
            match self.client.post_json(&url, bearer, body.as_bytes()) {
                Err(why) => Err(unavailable(format!("POST {url}: {why}"))),
                Ok((200..=299, answer)) => parse_backend_response(kind, &answer),
                Ok((status, _)) => Err(match status_error(kind, status) {
                    Error::BackendApiUnavailable(why) => unavailable(format!("POST {url}: {why}")),
                    e => e,
                }),
            }
        }
    }

    impl fmt::Debug for Api {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Api")
                .field("base", &self.base)
                .field("secret_key", &self.secret_key)
                .field("machine_secret_key", &self.machine_secret_key)
                .finish_non_exhaustive()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(kind: TokenKind, body: &str) -> &'static str {
        match parse_backend_response(kind, body.as_bytes()) {
            Ok(_) => "ok",
            Err(e) => e.reason(),
        }
    }

    #[test]
    fn answers_are_read_strictly_where_it_matters() {
        let k = TokenKind::ApiKey;
        assert_eq!(reason(k, r#"{"id":"a","subject":"user_1"}"#), "ok");
        for outage in [
            "",
            "null",
            "[]",
            "<html>",
            r#"{"id":"a"}"#,
            r#"{"id":"","subject":"user_1"}"#,
            r#"{"id":5,"subject":"user_1"}"#,
            r#"{"id":"a","subject":"user_1","scopes":"read"}"#,
            r#"{"id":"a","subject":"user_1","scopes":["read",1]}"#,
            r#"{"id":"a","subject":"user_1","claims":[]}"#,
            r#"{"id":"a","subject":"user_1","revoked":"no"}"#,
            r#"{"id":"a","subject":"user_1","expiration":1.5}"#,
        ] {
            assert_eq!(reason(k, outage), "backend-api-unavailable", "{outage}");
        }
        for refused in [
            r#"{"id":"a","subject":"user_1","revoked":true}"#,
            r#"{"id":"a","subject":"user_1","expired":true}"#,
        ] {
            assert_eq!(reason(k, refused), "token-invalid", "{refused}");
        }
        assert_eq!(
            reason(TokenKind::SessionToken, r#"{"id":"a","subject":"user_1"}"#),
            "backend-api-unavailable"
        );
    }

    #[test]
    fn each_kind_keeps_its_own_fields() {
        let body = br#"{"id":"x","subject":"org_1","name":"n","client_id":"c",
                        "claims":{"a":1},"scopes":["s"],"expiration":1700000000000}"#;
        let key = parse_backend_response(TokenKind::ApiKey, body).unwrap();
        assert_eq!((key.org_id(), key.user_id()), (Some("org_1"), None));
        assert_eq!((key.name(), key.client_id()), (Some("n"), None));
        assert_eq!(key.claims().unwrap()["a"], 1);
        assert_eq!(key.expiration(), Some(1_700_000_000_000));
        let m2m = parse_backend_response(TokenKind::M2mToken, body).unwrap();
        assert_eq!((m2m.machine_id(), m2m.name()), (Some("org_1"), None));
        let oauth = parse_backend_response(TokenKind::OauthToken, body).unwrap();
        assert_eq!((oauth.client_id(), oauth.claims()), (Some("c"), None));
        assert!(oauth.has_scope("s") && !oauth.has_scope("S"));
    }

    #[test]
    fn statuses() {
        let r = |s| status_error(TokenKind::ApiKey, s).reason();
        assert_eq!(r(401), "secret-key-invalid");
        assert_eq!(r(403), "secret-key-invalid");
        assert_eq!(r(404), "token-invalid");
        assert_eq!(r(422), "token-invalid");
        for s in [301, 408, 429, 500, 502, 503, 418] {
            assert_eq!(r(s), "backend-api-unavailable", "{s}");
        }
        assert_eq!(
            endpoint(TokenKind::M2mToken),
            ("/m2m_tokens/verify", "token")
        );
        assert_eq!(
            endpoint(TokenKind::OauthToken),
            ("/oauth_applications/access_tokens/verify", "access_token")
        );
        assert_eq!(endpoint(TokenKind::ApiKey), ("/api_keys/verify", "secret"));
    }
}
