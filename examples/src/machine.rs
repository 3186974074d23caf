//! `GET /api/machine`, the route every seed app gains for machine tokens: it accepts API keys,
//! M2M tokens and OAuth access tokens (opaque ones verified through Clerk's Backend API with
//! `CLERK_SECRET_KEY` / `CLERK_MACHINE_SECRET_KEY`, at `CLERK_API_URL`), and answers 200 with
//! [`MachineBody`]; a session token is 401 `token-type-mismatch`, a Backend API that cannot
//! answer 503 `backend-api-unavailable`. The body is one type so that the four apps cannot
//! drift apart.

use clerk_verify::MachineAuth;
use serde::Serialize;

/// The route's path.
pub const PATH: &str = "/api/machine";

/// `{"tokenType":"m2m_token","subject":"mch_…","scopes":["…"]}`, keys in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineBody {
    /// `api_key`, `m2m_token` or `oauth_token`.
    pub token_type: &'static str,
    /// Who the token acts for: `user_…`, `org_…` or `mch_…`.
    pub subject: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
}

impl From<&MachineAuth> for MachineBody {
    fn from(machine: &MachineAuth) -> MachineBody {
        MachineBody {
            token_type: machine.token_type(),
            subject: machine.subject().to_owned(),
            scopes: machine.scopes().to_vec(),
        }
    }
}
