//! `cargo run -p clerk-examples --no-default-features --features ring --bin demo`: the actix
//! seed app protected by Clerk session tokens, with no Clerk account. A development issuer runs in-process (a fresh
//! RSA key, its JWKS served on 127.0.0.1); the app fetches its keys from there as it would from
//! Clerk. The demo prints a token for `user_demo`, valid for an hour, and curl commands to try,
//! then one machine call: an opaque M2M token (`mt_…`) the dev issuer's Backend API (on the
//! same loopback server) answers for, sent to `GET /api/machine`. It serves until Ctrl-C. (Without `--no-default-features` it runs the same, but first
//! compiles the other seed apps' frameworks too.)
//!
//! Environment: `HOST` (default 127.0.0.1), `PORT` (default 3000), and the verifier options the
//! seed apps read (`CLERK_AUTHORIZED_PARTIES`, ...). Unlike the seed apps, the authorized parties
//! default to `http://localhost:3000` when `CLERK_AUTHORIZED_PARTIES` is unset, so the demo shows
//! the `azp` check; the token's `azp` is the first authorized party. The machine options
//! (secret key, API URL) are always the dev issuer's: its Backend API knows only what it minted.

use clerk_dev::{now_unix, BackendApi, DevKey, JwksServer, OpaqueToken, TokenBuilder, TEST_AZP};
use clerk_examples::actix_app;
use clerk_examples::config::{listen_addr_from_env, AppConfig};
use clerk_verify::options::MachineOptions;
use clerk_verify::{env::ENV_AUTHORIZED_PARTIES, Verifier, VerifyOptions};
use std::net::SocketAddr;

/// The demo user's id (`sub`).
const DEMO_USER: &str = "user_demo";
/// How long the printed token stays valid: long enough to paste.
const TOKEN_TTL_SECS: i64 = 3600;
/// The demo machine's id (the M2M token's `subject`).
const DEMO_MACHINE: &str = "mch_demo";
/// The secret key the in-process Backend API requires: it serves 127.0.0.1 only and knows
/// nothing but the demo's token.
const DEMO_SECRET_KEY: &str = "sk_test_clerkVerifyDemoLocalOnly";

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = listen_addr_from_env().unwrap_or_else(|e| fail(&e));
    let mut opts = VerifyOptions::from_env().unwrap_or_else(|e| fail(&e.to_string()));
    if std::env::var_os(ENV_AUTHORIZED_PARTIES).is_none() {
        opts = opts.authorized_parties([TEST_AZP]);
    }
    let azp = opts
        .authorized_parties
        .first()
        .map_or(TEST_AZP.to_owned(), String::clone);

    // The development issuer: a fresh key (no checked-in key is ever trusted by a running app)
    // and its JWKS on a loopback port.
    let key = DevKey::generate(2048, "ins_demo");
    let jwks = JwksServer::start_with(key.jwks_json());
    // Its Backend API, for opaque machine tokens.
    let api = jwks.serve_backend_api(BackendApi::new().secret_key(DEMO_SECRET_KEY));
    let machine = api.mint(
        OpaqueToken::m2m(DEMO_MACHINE)
            .scopes(["read"])
            .expires_in(std::time::Duration::from_secs(TOKEN_TTL_SECS as u64)),
    );
    let opts = opts.machine(
        MachineOptions::default()
            .secret_key(DEMO_SECRET_KEY)
            .api_url(jwks.url()),
    );
    let verifier =
        Verifier::from_jwks_url(&jwks.jwks_url(), opts).unwrap_or_else(|e| fail(&e.to_string()));

    let now = now_unix();
    let token = TokenBuilder::session(DEMO_USER, now)
        .claim("azp", azp.as_str())
        .claim("exp", now + TOKEN_TTL_SECS)
        .sign(&key);
    // Fetches the JWKS once (so the first request is fast) and checks that the environment's
    // options accept the demo token.
    if let Err(e) = verifier.verify(&token) {
        eprintln!(
            "demo: warning: the app will refuse the demo token ({}): {e}",
            e.reason()
        );
    }

    let (server, bound) = actix_app::server(AppConfig::new(addr, verifier))?;
    let base = format!("http://{}", loopback_if_unspecified(bound));
    println!("Clerk demo: the actix seed app on {base}, verifying tokens from a local dev issuer");
    println!("(JWKS at {}; authorized party {azp}).", jwks.jwks_url());
    println!();
    println!("Paste into another shell (the token is valid for one hour):");
    println!();
    println!("export TOKEN={token}");
    println!("curl -i {base}/clerk-jwt -H \"Authorization: Bearer $TOKEN\"");
    println!("curl -i {base}/get-gated -H \"Authorization: Bearer $TOKEN\"");
    println!("curl -i {base}/get-gated    # no token: 401");
    println!();
    println!("A machine (an M2M token, verified through the dev issuer's Backend API):");
    println!();
    println!("curl -i {base}/api/machine -H \"Authorization: Bearer {machine}\"");
    println!();
    println!("Ctrl-C stops the demo.");

    let served = server.await;
    drop(api);
    drop(jwks);
    served
}

/// Where curl should connect when the app listens on every interface.
fn loopback_if_unspecified(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => {
            SocketAddr::from(([127, 0, 0, 1], a.port()))
        }
        SocketAddr::V6(a) if a.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
        }
        other => other,
    }
}

fn fail(message: &str) -> ! {
    eprintln!("demo: {message}");
    std::process::exit(1)
}
