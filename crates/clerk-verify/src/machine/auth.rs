//! [`MachineAuth`]: what a verified machine token tells a handler, with Clerk's fields.

use crate::options::TokenKind;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// A verified machine token: an API key, an M2M token or an OAuth access token, opaque or in
/// JWT form. Clerk's machine auth object (`tokenType`, `id`, `subject`, `scopes`, `claims`,
/// and `name` / `userId` / `orgId` / `clientId` / `machineId` where the kind has them).
///
/// Cheap to clone (shared). It does not keep the token itself (Clerk's `getToken()`): a
/// handler that must forward the credential has it from the request. `Debug` never prints a
/// token.
///
/// | kind | `subject` | adds |
/// |---|---|---|
/// | `api_key` | `user_…` or `org_…` | `name`, `claims`, `user_id` or `org_id` from the subject |
/// | `m2m_token` | `mch_…` | `claims`, `machine_id` (the subject) |
/// | `oauth_token` | `user_…` | `user_id` (the subject), `client_id` |
///
/// Machines have no session: [`MachineAuth::has_scope`] is their one permission check
/// (Clerk's `has()` is always false for them).
#[derive(Clone, PartialEq)]
pub struct MachineAuth(Arc<Fields>);

/// The fields, as the Backend API or the JWT said them.
#[derive(PartialEq)]
pub(crate) struct Fields {
    pub(crate) kind: TokenKind,
    pub(crate) jwt: bool,
    pub(crate) id: String,
    pub(crate) subject: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) claims: Option<Map<String, Value>>,
    pub(crate) name: Option<String>,
    pub(crate) client_id: Option<String>,
    /// Unix milliseconds, as Clerk's resources say it (`exp * 1000` for a JWT).
    pub(crate) expiration: Option<i64>,
}

impl MachineAuth {
    pub(crate) fn new(fields: Fields) -> MachineAuth {
        MachineAuth(Arc::new(fields))
    }

    /// The kind: [`TokenKind::ApiKey`], [`TokenKind::M2mToken`] or [`TokenKind::OauthToken`].
    pub fn kind(&self) -> TokenKind {
        self.0.kind
    }

    /// Clerk's `tokenType`: `api_key`, `m2m_token` or `oauth_token`.
    pub fn token_type(&self) -> &'static str {
        self.0.kind.as_str()
    }

    /// Whether the token was a JWT, verified locally (else opaque, verified by the Backend API).
    pub fn is_jwt(&self) -> bool {
        self.0.jwt
    }

    /// The token's id (`ak_…`'s resource id, `mt_…`, `oat_…`; a JWT's `jti`, empty without one).
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// Whom the token acts for: `user_…` / `org_…` (API key), `mch_…` (M2M), `user_…` (OAuth).
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The scopes granted, in the token's order.
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// Whether `scope` was granted (exact match).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.iter().any(|s| s == scope)
    }

    /// The custom claims (API keys, M2M tokens): the resource's `claims`, or a JWT's payload
    /// without its registered claims (`iss`, `sub`, `exp`, `nbf`, `iat`, `jti`); `None` when
    /// there are none, and for OAuth access tokens.
    pub fn claims(&self) -> Option<&Map<String, Value>> {
        self.0.claims.as_ref()
    }

    /// An API key's name.
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The user: an API key's `user_…` subject, an OAuth access token's subject.
    pub fn user_id(&self) -> Option<&str> {
        match self.0.kind {
            TokenKind::ApiKey if self.0.subject.starts_with("user_") => Some(&self.0.subject),
            TokenKind::OauthToken => Some(&self.0.subject),
            _ => None,
        }
    }

    /// The organization: an API key's `org_…` subject.
    pub fn org_id(&self) -> Option<&str> {
        match self.0.kind {
            TokenKind::ApiKey if self.0.subject.starts_with("org_") => Some(&self.0.subject),
            _ => None,
        }
    }

    /// The OAuth application (an OAuth access token's `client_id`).
    pub fn client_id(&self) -> Option<&str> {
        match self.0.kind {
            TokenKind::OauthToken => self.0.client_id.as_deref(),
            _ => None,
        }
    }

    /// The machine (an M2M token's subject, `mch_…`).
    pub fn machine_id(&self) -> Option<&str> {
        match self.0.kind {
            TokenKind::M2mToken => Some(&self.0.subject),
            _ => None,
        }
    }

    /// When the token expires, Unix milliseconds (`None`: never, as the API said).
    pub fn expiration(&self) -> Option<i64> {
        self.0.expiration
    }
}

impl fmt::Debug for MachineAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nothing here is the credential itself: the token is never kept.
        f.debug_struct("MachineAuth")
            .field("kind", &self.0.kind)
            .field("jwt", &self.0.jwt)
            .field("id", &self.0.id)
            .field("subject", &self.0.subject)
            .field("scopes", &self.0.scopes)
            .field("name", &self.0.name)
            .field("client_id", &self.0.client_id)
            .field("expiration", &self.0.expiration)
            .field("claims", &self.0.claims.as_ref().map(Map::len))
            .finish()
    }
}
