//! The command line, declared with clap. Flags, JSON lines and exit codes are a contract that
//! outside tests drive: every flag here keeps its spelling and meaning; add, never rename.

use crate::groups::{unix_seconds, Fetching, KeySource, Machines, Rules};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::SystemTime;

/// Exit status of a usage or configuration error (and of a token refused by `verify` is 1).
pub const USAGE_EXIT: u8 = 2;

const KEY_ENV_HELP: &str = "\
Key source, when no key flag is given (first one set wins):
  CLERK_JWT_KEY          PEM public key (networkless)
  CLERK_JWKS_URL         a JWKS URL
  CLERK_SECRET_KEY       Clerk's Backend API JWKS (with --api-url, else CLERK_API_URL)
  CLERK_PUBLISHABLE_KEY  the Frontend API's public JWKS
Machine tokens (--accepts-token api_key, m2m_token, oauth_token or any): opaque ones are verified
by Clerk's Backend API with the secret key (--secret-key, --secret-key-file, else CLERK_SECRET_KEY;
M2M tokens: --machine-secret-key-file, else CLERK_MACHINE_SECRET_KEY, first) at --api-url, else
CLERK_API_URL, else https://api.clerk.com; JWT forms locally, with the keys above.
Result lines:
  {\"valid\":true,\"sub\":…,\"sid\":…,\"azp\":…,\"org_id\":…,\"claims\":{…},\"token_type\":\"session_token\"}
  {\"valid\":true,\"token_type\":\"api_key\",\"id\":…,\"subject\":…,\"scopes\":[…],\"claims\":{…}|null,
   and the kind's own: \"name\",\"user_id\",\"org_id\" (api_key), \"machine_id\" (m2m_token),
   \"user_id\",\"client_id\" (oauth_token)}
  {\"valid\":false,\"reason\":…,\"message\":…,\"token_type\":… (the kind the token looks like)}
Prefer the environment or --secret-key-file for secrets, and standard input for tokens: command
lines are visible to other users of the machine (ps).";

/// Verify Clerk session tokens from the shell, and run a local issuer for tests.
#[derive(Debug, Parser)]
#[command(name = "clerk-verify", version, propagate_version = true)]
#[command(arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify tokens (session tokens; with --accepts-token, machine tokens too): one JSON line
    /// per token; exit 0 all valid, 1 any invalid, 2 usage.
    Verify(VerifyArgs),
    /// Decode a token WITHOUT verifying it (like jwt.io, offline): header, claims, times, the
    /// organization, and what `verify` would refuse.
    Inspect(InspectArgs),
    /// Verify Clerk webhook deliveries: one JSON line in, one out; exit 0 all valid, 1 any
    /// invalid, 2 usage.
    Webhook(WebhookArgs),
    /// A local issuer for tests without a Clerk account: keygen, mint, serve, sign-webhook.
    #[command(subcommand)]
    Dev(DevCommand),
    /// A forward-auth server for nginx, Traefik, Caddy and Envoy: GET /auth answers 200 with
    /// the user's X-Clerk-* headers, or 401/403/503.
    Serve(crate::serve::ServeArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
#[command(after_help = KEY_ENV_HELP)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub key: KeySource,
    #[command(flatten)]
    pub fetching: Fetching,
    #[command(flatten)]
    pub rules: Rules,
    #[command(flatten)]
    pub machines: Machines,
    /// Verify on this many threads, keeping the output in input order [default: the number of
    /// cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// At the end, print a tally of the results by reason on standard error.
    #[arg(long)]
    pub summary: bool,
    /// The token; without it, each line of standard input is one token.
    #[arg(value_name = "TOKEN", allow_hyphen_values = false)]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub rules: Rules,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The token; without it, the first line of standard input.
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
}

const WEBHOOK_HELP: &str = "\
Input, one delivery per line of standard input (header names in any case):
  {\"headers\":{\"svix-id\":\"msg_…\",\"svix-timestamp\":\"1700000000\",\"svix-signature\":\"v1,…\"},\"body\":\"<raw body>\"}
Output, one line each:
  {\"valid\":true,\"type\":\"user.created\",\"id\":\"msg_…\"}
  {\"valid\":true,\"type\":\"session.created\",\"id\":\"msg_…\",\"unread\":[\"data.created_at\"]}
    (valid; Clerk's JSON lacked or retyped these members, absent from the typed event)
  {\"valid\":false,\"reason\":\"webhook-invalid-signature\",\"message\":\"…\"}
Without --secret or --secret-file, the secret is CLERK_WEBHOOK_SIGNING_SECRET.";

/// The webhook signing secret (one of these, else `CLERK_WEBHOOK_SIGNING_SECRET`).
#[derive(Debug, Clone, Args)]
#[group(id = "webhook_secret", multiple = false)]
pub struct WebhookSecret {
    /// The endpoint's signing secret (whsec_…). Visible in `ps`: prefer --secret-file or
    /// CLERK_WEBHOOK_SIGNING_SECRET.
    #[arg(long, value_name = "WHSEC")]
    pub secret: Option<String>,
    /// A file holding the signing secret (surrounding whitespace ignored).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = WEBHOOK_HELP)]
pub struct WebhookArgs {
    #[command(flatten)]
    pub secret: WebhookSecret,
    /// Judge the timestamps as of this instant instead of the clock.
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true, value_parser = unix_seconds)]
    pub now: Option<SystemTime>,
    /// How far a delivery's svix-timestamp may be from now, either way, in seconds.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub tolerance_s: u64,
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Write DIR/dev-key.pem (private key), DIR/dev-key.pub.pem and DIR/jwks.json.
    Keygen {
        /// Where to write the files.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out_dir: PathBuf,
        /// RSA modulus size: 2048, 3072 or 4096.
        #[arg(long, default_value = "2048", value_parser = rsa_bits())]
        bits: u32,
    },
    /// Print a token of the dev issuer: a session token signed with a dev key (never use dev
    /// keys for anything real), or with --kind a machine token (API key, M2M or OAuth access
    /// token), opaque (recorded for `dev serve`'s Backend API) or in JWT form.
    Mint(MintArgs),
    /// Revoke an opaque machine token minted with `dev mint`: `dev serve`'s Backend API
    /// answers it 404 from now on.
    Revoke(RevokeArgs),
    /// Sign a webhook body as Clerk (Svix) would, to test your endpoint without Clerk: prints
    /// the svix-* headers, a curl command (--url) or a `clerk-verify webhook` line (--json).
    SignWebhook(SignWebhookArgs),
    /// Serve a JWKS on http://127.0.0.1:PORT/.well-known/jwks.json (also /v1/jwks) until killed.
    ///
    /// With --key it also answers Clerk's handshake for server-rendered pages and has a sign-in
    /// page; both send browsers back only to loopback origins (127.0.0.0/8, [::1], localhost)
    /// and to those given with --allow-redirect-origin. It also answers the Backend API's
    /// verify endpoints for the opaque machine tokens `dev mint --kind` recorded (POST
    /// /api_keys/verify, /m2m_tokens/verify, /oauth_applications/access_tokens/verify, any
    /// bearer), with revocation (`dev revoke`) and expiry.
    Serve {
        /// The port on 127.0.0.1.
        #[arg(long)]
        port: u16,
        #[command(flatten)]
        keys: ServeKeys,
        #[command(flatten)]
        frontend: ServeFrontend,
        /// The machine tokens' store file [default: machine-tokens.jsonl beside --key; none
        /// with --jwks].
        #[arg(long, value_name = "FILE")]
        store: Option<PathBuf>,
    },
}

/// How `dev serve --key` plays Clerk's Frontend API.
#[derive(Debug, Args)]
pub struct ServeFrontend {
    /// Also redirect browsers to this origin (scheme://host[:port], e.g.
    /// https://app.example.test) after a handshake or a sign-in, and authorize its sessions
    /// for it (azp). Loopback origins are always allowed. Repeat it for several apps.
    #[arg(long, value_name = "ORIGIN", conflicts_with = "jwks")]
    pub allow_redirect_origin: Vec<String>,
    /// A handshake renews a session only from a token of this issuer that expired less than
    /// this long ago; an older one signs the browser out.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = clerk_dev::FrontendApi::DEFAULT_SESSION_LIFETIME.as_secs(),
        conflicts_with = "jwks"
    )]
    pub session_lifetime_secs: u64,
}

/// `dev mint --kind`'s values (Clerk's names).
pub const MINT_KINDS: [&str; 4] = ["session_token", "api_key", "m2m_token", "oauth_token"];

#[derive(Debug, Args)]
pub struct MintArgs {
    /// The private key written by `dev keygen` (its directory holds the machine tokens' store
    /// file unless --store says otherwise).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The subject (`sub`): a user id (`user_…`) for a session or an OAuth access token, a user
    /// or an organization (`org_…`) for an API key, a machine (`mch_…`) for an M2M token.
    #[arg(long, value_name = "USER_ID")]
    pub sub: String,
    /// The kind of token (Clerk's names).
    #[arg(long, value_name = "KIND", default_value = "session_token", value_parser = PossibleValuesParser::new(MINT_KINDS))]
    pub kind: String,
    /// A machine token's form: opaque (recorded in the store file, which `dev serve`'s Backend
    /// API reads) or jwt (signed with --key, verified locally; M2M and OAuth access tokens
    /// only: API keys are always opaque).
    #[arg(long, value_name = "FORM", default_value = "opaque", value_parser = PossibleValuesParser::new(["opaque", "jwt"]))]
    pub format: String,
    /// A scope granted to a machine token; repeat it.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// An API key's name [default: dev key].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// An OAuth access token's application (`client_id`) [default: oauth_app_test].
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Where opaque machine tokens are recorded [default: machine-tokens.jsonl beside --key].
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// The authorized party (`azp`); none by default, as for backend-minted tokens.
    #[arg(long, value_name = "URL")]
    pub azp: Option<String>,
    /// The issuer (`iss`).
    #[arg(long, value_name = "URL")]
    pub iss: Option<String>,
    /// The session id (`sid`).
    #[arg(long, value_name = "SID")]
    pub sid: Option<String>,
    /// Lifetime in seconds (`exp` = now + ttl) [default: 60 for a session token, 3600 for an
    /// M2M or OAuth access token; an API key never expires unless given].
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub ttl: Option<i64>,
    /// Any claim, NAME=VALUE; VALUE is JSON if it parses, else a string. Repeat it.
    #[arg(long, value_name = "NAME=VALUE")]
    pub claim: Vec<String>,
    /// Mint as of this instant (iat, nbf, exp follow).
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    pub now: Option<i64>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The private key `dev mint` used (its directory holds the store file).
    #[arg(long, value_name = "FILE", required_unless_present = "store")]
    pub key: Option<PathBuf>,
    /// The store file, when not beside the key.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// The opaque token to revoke (ak_…, mt_…, oat_…).
    #[arg(value_name = "TOKEN")]
    pub token: String,
}

#[derive(Debug, Args)]
pub struct SignWebhookArgs {
    #[command(flatten)]
    pub secret: WebhookSecret,
    /// The message id (svix-id) [default: a random msg_…]. Reuse one to test replays.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// The signing time (svix-timestamp), Unix seconds [default: now].
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub timestamp: Option<i64>,
    /// The raw body to sign: a file, or - for standard input [default: standard input]. Signed
    /// byte for byte, trailing newline included.
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
    /// Print a curl command that POSTs the signed delivery to this URL.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Print the delivery as one input line of `clerk-verify webhook`.
    #[arg(long, conflicts_with = "url")]
    pub json: bool,
}

#[derive(Debug, Args)]
#[group(id = "serve_keys", required = true, multiple = false)]
pub struct ServeKeys {
    /// Serve the public half of this private key (from `dev keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Serve this JWKS file as is.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
}

fn rsa_bits() -> impl TypedValueParser<Value = u32> {
    PossibleValuesParser::new(["2048", "3072", "4096"]).map(|bits| {
        bits.parse::<u32>()
            .expect("the possible values are numbers")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
