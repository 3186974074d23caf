//! `clerk-verify serve`'s flags. A fixed interface: reverse-proxy configurations and outside
//! tests drive these names; add, never rename.

use crate::groups::{Fetching, KeySource, Machines};
use crate::serve::forwarded::Proxy;
use clap::Args;
use std::net::SocketAddr;

const SERVE_HELP: &str = "\
Routes:
  /auth       the forward-auth check (any method): 200 with X-Clerk-User-Id, X-Clerk-Session-Id,
              X-Clerk-Org-Id, X-Clerk-Org-Role, X-Clerk-Org-Permissions, X-Clerk-Auth-Status;
              401, 403 or 503 otherwise. Per-location requirements in the query:
              ?role=org:admin  ?permission=org:invoices:read (repeatable)  ?org=required
              ?feature=reports  ?plan=o:pro (repeatable; o:/org:, u:/user: or either)
              ?reverification=strict (strict_mfa, strict, moderate, lax, or a level with
              minutes: first_factor:5, second_factor:30, multi_factor:10)
              Machine tokens (API keys, M2M and OAuth access tokens):
              ?accepts=api_key,m2m_token (this location's kinds instead of --accepts-token:
              session_token, api_key, m2m_token, oauth_token, a comma list, or any)
              ?scope=read:invoices (repeatable: every one granted, else 403 missing-scope)
              A machine's 200 carries X-Clerk-Token-Type, X-Clerk-Subject, X-Clerk-Scopes
              (space-separated, absent when none), X-Clerk-User-Id (an API key's user, an OAuth
              token's), X-Clerk-Org-Id (an API key's organization), X-Clerk-Auth-Status; a
              session's also X-Clerk-Token-Type: session_token where machines are accepted too.
  /ext-authz/...  the same check for Envoy's ext_authz (path_prefix), no query policy
  /healthz    200 while the process runs
  /readyz     200 once the keys are loaded
  /metrics    Prometheus text format

The forwarded request (its method, for CORS preflights; its URI and host, for the log) is read
from the headers the proxy named by --proxy sets, and every other header that carries the same
fact must agree with it; repeated, malformed or disagreeing ones are refused (400
forwarded-headers-invalid):
  nginx    X-Original-Method, X-Original-URI (docs/gateway.md's clerk-auth.conf)
  traefik  X-Forwarded-Method, X-Forwarded-Uri, X-Forwarded-Host, X-Forwarded-Proto
  caddy    the same as traefik
  envoy    /ext-authz/...'s own method, path and Host
  auto     whichever of them are present, which must all agree (the default)
A preflight (no token needed) is a forwarded OPTIONS with Origin and Access-Control-Request-Method.

Environment, when the matching flag is not given:
  Key source (first one set wins):
    CLERK_JWT_KEY           PEM public key (networkless)
    CLERK_JWKS_URL          a JWKS URL
    CLERK_FRONTEND_API_URL  the Frontend API (--frontend-api-url)
    CLERK_SECRET_KEY        Clerk's Backend API JWKS (with --api-url, else CLERK_API_URL)
    CLERK_PUBLISHABLE_KEY   the Frontend API's public JWKS
  CLERK_PUBLISHABLE_KEY also picks the suffixed __session cookie (as --publishable-key does).
  CLERK_AUTHORIZED_PARTIES  --authorized-party (comma list)
  CLERK_AUDIENCE            --audience (comma list)
  CLERK_ISSUER              --issuer
  CLERK_CLOCK_SKEW_MS       --clock-skew-ms
  CLERK_ACCEPTS_TOKEN       --accepts-token (default session_token)
  Opaque machine tokens (ak_…, mt_…, oat_…) are verified by Clerk's Backend API with the secret
  key (--secret-key, --secret-key-file, else CLERK_SECRET_KEY; M2M tokens with
  --machine-secret-key-file, else CLERK_MACHINE_SECRET_KEY, first) at --api-url, else
  CLERK_API_URL, else https://api.clerk.com, each call bounded by --fetch-timeout-ms; the API
  down or slow is 503 backend-api-unavailable. JWT forms are verified with the keys above.
  CLERK_TOKEN_CACHE_SIZE    verified tokens remembered (default 10000; 0 turns the cache off)
  CLERK_PROXY               --proxy

Stops on SIGTERM or Ctrl-C after the requests in flight are answered. Logs go to standard
error, one key=value line per decision; tokens and secrets are never logged.";

/// `clerk-verify serve`: a forward-auth server for nginx, Traefik, Caddy and Envoy.
#[derive(Debug, Args)]
#[command(after_help = SERVE_HELP)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free port, printed in the first log line).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub key: KeySource,
    /// Your Clerk Frontend API URL, e.g. https://clerk.example.com: keys from
    /// <URL>/.well-known/jwks.json [env: CLERK_FRONTEND_API_URL].
    #[arg(long, value_name = "URL", group = "key")]
    pub frontend_api_url: Option<String>,
    #[command(flatten)]
    pub fetching: Fetching,
    // --accepts-token (else CLERK_ACCEPTS_TOKEN) and --machine-secret-key-file.
    #[command(flatten)]
    pub machines: Machines,
    /// An allowed `azp` origin; repeat it, or give a comma-separated list
    /// [env: CLERK_AUTHORIZED_PARTIES].
    #[arg(long = "authorized-party", value_name = "URL")]
    pub authorized_parties: Vec<String>,
    /// An accepted audience; repeat it for several [env: CLERK_AUDIENCE].
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,
    /// The required `iss` (your Frontend API URL) [env: CLERK_ISSUER].
    #[arg(long, value_name = "ISS")]
    pub issuer: Option<String>,
    /// Tolerance for exp, nbf and iat [default: 5000] [env: CLERK_CLOCK_SKEW_MS].
    #[arg(long, value_name = "N")]
    pub clock_skew_ms: Option<u64>,
    /// Let requests without a valid session through: 200 with `X-Clerk-Auth-Status:
    /// signed-out` and no identity headers, where the location requires no role, permission or
    /// organization. A key source that is down is still 503.
    #[arg(long)]
    pub allow_unauthenticated: bool,
    /// The proxy in front, whose headers describe the forwarded request: with a name, only
    /// that proxy's are read (and must be there) [default: auto] [env: CLERK_PROXY].
    #[arg(long, value_name = "PROXY", value_enum)]
    pub proxy: Option<Proxy>,
    /// Least severe log level written.
    #[arg(
        long,
        value_name = "LEVEL",
        default_value = "info",
        value_parser = ["off", "error", "warn", "info", "debug"]
    )]
    pub log_level: String,
}
