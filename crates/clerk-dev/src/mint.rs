//! [`TokenBuilder`]: mints JWS compact tokens, well-formed or deliberately broken.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::jws::{b64url, signing_input};
use crate::keys::DevKey;

/// Issuer used by [`TokenBuilder::session`].
pub const TEST_ISSUER: &str = "https://clerk.example.test";
/// Authorized party (`azp`) used by [`TokenBuilder::session`].
pub const TEST_AZP: &str = "http://localhost:3000";
/// Session id (`sid`) used by [`TokenBuilder::session`].
pub const TEST_SID: &str = "sess_test123";
/// Clerk's machine-to-machine category, the `cat` header of [`TokenBuilder::m2m`].
pub const M2M_CATEGORY: &str = "cl_B7d4PD333AAA";
/// The OAuth application (`client_id`) of [`TokenBuilder::oauth`].
pub const TEST_OAUTH_CLIENT: &str = "oauth_app_test";

/// A publishable key for a Frontend API at `host` (e.g. `127.0.0.1:8080` for a dev issuer):
/// `pk_test_` (or `pk_live_` when `live`) + base64 of `host$`, as Clerk builds them.
///
/// ```
/// assert_eq!(
///     clerk_dev::publishable_key("fond-koala-12.clerk.accounts.dev", false),
///     "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk"
/// );
/// ```
pub fn publishable_key(host: &str, live: bool) -> String {
    use base64::engine::general_purpose::STANDARD;
    let prefix = if live { "pk_live_" } else { "pk_test_" };
    format!("{prefix}{}", STANDARD.encode(format!("{host}$")))
}

/// The cookie-name suffix Clerk derives from a publishable key (`getCookieSuffix`): the first
/// 8 characters of the base64 SHA-1 of the key, `+` → `-`, `/` → `_`. Suffixed cookies are
/// `<name>_<suffix>` (the refresh token's `__refresh_<suffix>` always is). Computed here with
/// RustCrypto's `sha1`, apart from the verifier's own code.
///
/// ```
/// let pk = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";
/// assert_eq!(clerk_dev::cookie_suffix(pk), "r_77EQdK");
/// ```
pub fn cookie_suffix(publishable_key: &str) -> String {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(publishable_key.as_bytes());
    base64::engine::general_purpose::STANDARD
        .encode(digest)
        .chars()
        .take(8)
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

/// Current time as whole seconds since the Unix epoch (negative before 1970).
pub fn now_unix() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Builds a JWT with full control of header and claims, including broken ones.
///
/// Header and claims are JSON objects kept in insertion order; setting an existing
/// member replaces its value in place. [`raw_header`](Self::raw_header) and
/// [`raw_payload`](Self::raw_payload) bypass JSON serialization entirely and take
/// precedence over the structured members.
///
/// ```
/// use clerk_dev::{fixtures, now_unix, TokenBuilder};
///
/// let token = TokenBuilder::session("user_123", now_unix())
///     .claim("org_id", "org_1")
///     .sign(fixtures::rsa2048());
/// assert_eq!(token.split('.').count(), 3);
/// ```
#[derive(Clone, Debug)]
#[must_use = "TokenBuilder methods return the updated builder"]
pub struct TokenBuilder {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    raw_header: Option<String>,
    raw_payload: Option<String>,
    /// `remove_header("kid")` was called: never add the key's kid automatically.
    kid_removed: bool,
    /// `alg` was set or removed by the caller: keep it as is in `sign_hs256` / `unsigned`.
    alg_explicit: bool,
}

impl TokenBuilder {
    /// A Clerk-like session token.
    ///
    /// Header `{"alg":"RS256","kid":<key kid>,"typ":"JWT"}` (the `kid` is filled in by
    /// [`sign`](Self::sign) unless set or removed explicitly), claims
    /// `{"sub":sub,"sid":"sess_test123","iss":"https://clerk.example.test",
    /// "azp":"http://localhost:3000","iat":now,"nbf":now-10,"exp":now+60,"v":2}`
    /// where `now` is `now_unix_secs`.
    pub fn session(sub: &str, now_unix_secs: i64) -> TokenBuilder {
        TokenBuilder::empty()
            .header_implicit("typ", "JWT")
            .claim("sub", sub)
            .claim("sid", TEST_SID)
            .claim("iss", TEST_ISSUER)
            .claim("azp", TEST_AZP)
            .claim("iat", now_unix_secs)
            .claim("nbf", now_unix_secs.saturating_sub(10))
            .claim("exp", now_unix_secs.saturating_add(60))
            .claim("v", 2)
    }

    /// A Clerk-like machine-to-machine token in JWT form (Clerk's `tokenFormat: "jwt"`).
    ///
    /// Header `{"alg":"RS256","kid":<key kid>,"typ":"JWT","cat":"cl_B7d4PD333AAA"}`, claims
    /// `{"iss":"https://clerk.example.test","sub":machine_id,"jti":"mt_jwt_test","iat":now,
    /// "nbf":now-10,"exp":now+3600}`. Add `scopes` (a space-separated string) or `aud` (the
    /// machines it may call) with [`claim`](Self::claim).
    pub fn m2m(machine_id: &str, now_unix_secs: i64) -> TokenBuilder {
        TokenBuilder::empty()
            .header_implicit("typ", "JWT")
            .header_implicit("cat", M2M_CATEGORY)
            .claim("iss", TEST_ISSUER)
            .claim("sub", machine_id)
            .claim("jti", "mt_jwt_test")
            .claim("iat", now_unix_secs)
            .claim("nbf", now_unix_secs.saturating_sub(10))
            .claim("exp", now_unix_secs.saturating_add(3600))
    }

    /// A Clerk-like OAuth access token in JWT form (RFC 9068).
    ///
    /// Header `{"alg":"RS256","kid":<key kid>,"typ":"at+jwt"}`, claims
    /// `{"iss":"https://clerk.example.test","sub":user_id,"client_id":"oauth_app_test",
    /// "jti":"oat_jwt_test","scp":[],"iat":now,"nbf":now-10,"exp":now+3600}`.
    pub fn oauth(user_id: &str, now_unix_secs: i64) -> TokenBuilder {
        TokenBuilder::empty()
            .header_implicit("typ", "at+jwt")
            .claim("iss", TEST_ISSUER)
            .claim("sub", user_id)
            .claim("client_id", TEST_OAUTH_CLIENT)
            .claim("jti", "oat_jwt_test")
            .claim("scp", Value::Array(Vec::new()))
            .claim("iat", now_unix_secs)
            .claim("nbf", now_unix_secs.saturating_sub(10))
            .claim("exp", now_unix_secs.saturating_add(3600))
    }

    /// A token with header `{"alg":"RS256"}` (plus the key's `kid` when signed with
    /// [`sign`](Self::sign)) and no claims at all.
    pub fn empty() -> TokenBuilder {
        let mut header = Map::new();
        header.insert("alg".to_owned(), Value::from("RS256"));
        TokenBuilder {
            header,
            claims: Map::new(),
            raw_header: None,
            raw_payload: None,
            kid_removed: false,
            alg_explicit: false,
        }
    }

    fn header_implicit(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.to_owned(), value.into());
        self
    }

    /// Sets (or overrides) header member `name`.
    ///
    /// Setting `"alg"` marks it explicit: [`sign_hs256`](Self::sign_hs256) and
    /// [`unsigned`](Self::unsigned) then keep it. Setting `"kid"` replaces the
    /// automatic key id.
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        match name {
            "alg" => self.alg_explicit = true,
            "kid" => self.kid_removed = false,
            _ => {}
        }
        self.header.insert(name.to_owned(), value.into());
        self
    }

    /// Removes header member `name`. Removing `"kid"` also disables the automatic
    /// key id; removing `"alg"` keeps it absent in every signing method.
    pub fn remove_header(mut self, name: &str) -> Self {
        match name {
            "alg" => self.alg_explicit = true,
            "kid" => self.kid_removed = true,
            _ => {}
        }
        self.header.shift_remove(name);
        self
    }

    /// Sets (or overrides) claim `name`.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Removes claim `name`.
    pub fn remove_claim(mut self, name: &str) -> Self {
        self.claims.shift_remove(name);
        self
    }

    /// Uses exactly this text as the header (e.g. with duplicate members or invalid JSON).
    /// No `kid` or `alg` is added to it by any signing method.
    pub fn raw_header(mut self, json: &str) -> Self {
        self.raw_header = Some(json.to_owned());
        self
    }

    /// Uses exactly this text as the payload (it does not have to be JSON).
    pub fn raw_payload(mut self, json: &str) -> Self {
        self.raw_payload = Some(json.to_owned());
        self
    }

    /// The header text as currently set: the raw header if any, else the JSON
    /// members. The automatic `kid` is not included (it is only known at signing).
    pub fn header_json(&self) -> String {
        match &self.raw_header {
            Some(raw) => raw.clone(),
            None => Value::Object(self.header.clone()).to_string(),
        }
    }

    /// The payload text: the raw payload if any, else the claims as JSON.
    pub fn payload_json(&self) -> String {
        match &self.raw_payload {
            Some(raw) => raw.clone(),
            None => Value::Object(self.claims.clone()).to_string(),
        }
    }

    /// Signs with `key` using the algorithm named by the header's `"alg"`
    /// (`RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`; signing by RustCrypto's `rsa`).
    ///
    /// Adds `"kid": key.kid()` right after `"alg"` unless the header already has a
    /// `kid`, `remove_header("kid")` was called, or a raw header is used.
    ///
    /// # Panics
    /// If the header's `alg` is missing or not one of the above; use
    /// [`sign_with_alg`](Self::sign_with_alg) to sign under a mismatching header.
    pub fn sign(&self, key: &DevKey) -> String {
        let header = self.header_text_for(Some(key), None);
        let alg = header_alg(&header).unwrap_or_else(|| {
            panic!("TokenBuilder::sign: header has no string \"alg\" (use sign_with_alg): {header}")
        });
        self.finish_rsa(key, &alg, &header)
    }

    /// Like [`sign`](Self::sign) (including the automatic `kid`), but signs with
    /// `alg` whatever the header says, e.g. a token whose header claims `"none"`
    /// or `"HS256"` but carries an RS256 signature.
    ///
    /// # Panics
    /// If `alg` is not one of those supported by [`DevKey::sign`].
    pub fn sign_with_alg(&self, key: &DevKey, alg: &str) -> String {
        let header = self.header_text_for(Some(key), None);
        self.finish_rsa(key, alg, &header)
    }

    fn finish_rsa(&self, key: &DevKey, alg: &str, header: &str) -> String {
        let input = signing_input(header.as_bytes(), self.payload_json().as_bytes());
        let sig = key.sign(alg, input.as_bytes());
        format!("{input}.{}", b64url(&sig))
    }

    /// Signs with HMAC-SHA256 under `secret` (RustCrypto's `hmac`; any secret length, short
    /// ones included, so tests can check the verifier refuses them).
    ///
    /// The header's `alg` becomes `"HS256"` unless it was set or removed explicitly
    /// with [`header`](Self::header)/[`remove_header`](Self::remove_header). No `kid`
    /// is added.
    pub fn sign_hs256(&self, secret: &[u8]) -> String {
        let header = self.header_text_for(None, Some("HS256"));
        let input = signing_input(header.as_bytes(), self.payload_json().as_bytes());
        let sig = hmac_sha256(secret, input.as_bytes());
        format!("{input}.{}", b64url(&sig))
    }

    /// An unsigned token `<header>.<payload>.` (empty signature).
    ///
    /// The header's `alg` becomes `"none"` unless it was set or removed explicitly
    /// (so `.header("alg", "RS256").unsigned()` gives an RS256 token without a
    /// signature). No `kid` is added.
    pub fn unsigned(&self) -> String {
        let header = self.header_text_for(None, Some("none"));
        format!(
            "{}.",
            signing_input(header.as_bytes(), self.payload_json().as_bytes())
        )
    }

    /// Header text used for signing: raw header as is, else the members with the
    /// automatic `kid` (if `key` is given) and the implicit `alg` replaced by
    /// `implicit_alg` (if given and `alg` is not explicit).
    fn header_text_for(&self, key: Option<&DevKey>, implicit_alg: Option<&str>) -> String {
        if let Some(raw) = &self.raw_header {
            return raw.clone();
        }
        let mut header = self.header.clone();
        if let (Some(alg), false) = (implicit_alg, self.alg_explicit) {
            header.insert("alg".to_owned(), Value::from(alg));
        }
        if let Some(key) = key {
            if !self.kid_removed && !header.contains_key("kid") {
                header = with_kid_after_alg(header, key.kid());
            }
        }
        Value::Object(header).to_string()
    }
}

/// Inserts `kid` right after `alg` (or first if there is no `alg`), for a
/// Clerk-looking `{"alg":..,"kid":..,"typ":..}` header.
fn with_kid_after_alg(header: Map<String, Value>, kid: &str) -> Map<String, Value> {
    let mut out = Map::new();
    if !header.contains_key("alg") {
        out.insert("kid".to_owned(), Value::from(kid));
    }
    for (name, value) in header {
        let is_alg = name == "alg";
        out.insert(name, value);
        if is_alg {
            out.insert("kid".to_owned(), Value::from(kid));
        }
    }
    out
}

/// The header's `"alg"` if the header is a JSON object with a string `alg`
/// (the last one wins on duplicates, as serde_json parses).
fn header_alg(header: &str) -> Option<String> {
    let value: Value = serde_json::from_str(header).ok()?;
    value.get("alg")?.as_str().map(str::to_owned)
}

fn hmac_sha256(secret: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_goes_after_alg() {
        let mut h = Map::new();
        h.insert("alg".into(), "RS256".into());
        h.insert("typ".into(), "JWT".into());
        let out = Value::Object(with_kid_after_alg(h, "k1")).to_string();
        assert_eq!(out, r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
    }

    #[test]
    fn now_unix_is_recent() {
        assert!(now_unix() > 1_700_000_000);
    }
}
