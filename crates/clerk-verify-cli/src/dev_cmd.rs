//! `clerk-verify dev ...`: a local issuer so users can test Clerk-protected services in CI
//! without a Clerk account: make a key, mint tokens with it (sessions, and machine tokens:
//! opaque ones are recorded in a store file beside the key), serve its JWKS and the Backend
//! API's verify endpoints for those tokens, and sign webhook deliveries as Clerk would.

use crate::args::{DevCommand, MintArgs, RevokeArgs, ServeFrontend, ServeKeys, SignWebhookArgs};
use crate::verifier::read_text;
use crate::Usage;
use clerk_dev::{
    publishable_key, store_minted, store_revoked, BackendApi, DevKey, FrontendApi, JwksServer,
    OpaqueToken, TokenBuilder,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The store file's name beside the key.
const STORE_FILE: &str = "machine-tokens.jsonl";

/// Runs `dev <sub>`; `Ok(code)` is the exit status.
pub fn run(command: DevCommand) -> Result<u8, Usage> {
    match command {
        DevCommand::Keygen { out_dir, bits } => keygen(&out_dir, bits),
        DevCommand::Mint(args) => mint(args),
        DevCommand::Revoke(args) => revoke(args),
        DevCommand::SignWebhook(args) => sign_webhook(args),
        DevCommand::Serve {
            port,
            keys,
            frontend,
            store,
        } => serve(port, keys, &frontend, store),
    }
}

/// The machine tokens' store: `store`, else the file beside `key`.
fn store_path(store: Option<PathBuf>, key: Option<&Path>) -> Option<PathBuf> {
    store.or_else(|| {
        key.map(|k| {
            let dir = k.parent().filter(|d| !d.as_os_str().is_empty());
            dir.unwrap_or(Path::new(".")).join(STORE_FILE)
        })
    })
}

/// The kid is derived from the key itself, so keygen, mint and serve agree without a state file.
fn load_key(path: &Path) -> Result<DevKey, Usage> {
    let pem = read_text(path)?;
    let probe = DevKey::from_private_pem(&pem, "probe")
        .map_err(|e| Usage(format!("{} is not an RSA private key: {e}", path.display())))?;
    let n = probe.public_jwk()["n"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tail = &n[n.len().saturating_sub(16)..];
    DevKey::from_private_pem(&pem, format!("ins_dev_{tail}")).map_err(Usage)
}

fn keygen(dir: &Path, bits: u32) -> Result<u8, Usage> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Usage(format!("cannot create {}: {e}", dir.display())))?;
    let key_path = dir.join("dev-key.pem");
    if key_path.exists() {
        return Err(Usage(format!(
            "{} exists; remove it or choose another --out-dir",
            key_path.display()
        )));
    }
    let generated = DevKey::generate(bits, "probe");
    write(&key_path, &generated.private_pem())?;
    let key = load_key(&key_path)?;
    write(&dir.join("dev-key.pub.pem"), &key.public_pem())?;
    write(&dir.join("jwks.json"), &key.jwks_json())?;
    println!("private key: {}", key_path.display());
    println!("public key:  {}", dir.join("dev-key.pub.pem").display());
    println!("JWKS:        {}", dir.join("jwks.json").display());
    println!("kid:         {}", key.kid());
    Ok(0)
}

fn write(path: &Path, content: &str) -> Result<(), Usage> {
    std::fs::write(path, content)
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))
}

fn mint(a: MintArgs) -> Result<u8, Usage> {
    let now = a.now.unwrap_or_else(clerk_dev::now_unix);
    let mut custom: Vec<(String, Value)> = Vec::new();
    for c in &a.claim {
        let (name, value) = c
            .split_once('=')
            .ok_or_else(|| Usage(format!("--claim takes NAME=VALUE, not {c:?}")))?;
        // A value that looks like JSON must be JSON: a broken object silently minted as a
        // string claim would make the token mean something else than what was typed.
        let value = match serde_json::from_str(value) {
            Ok(json) => json,
            Err(e) if value.trim_start().starts_with(['{', '[']) => {
                return Err(Usage(format!(
                    "--claim {name}: the value starts like JSON but is not valid JSON ({e}); \
                     quote it for the shell, e.g. --claim '{name}={{\"id\":\"org_1\"}}'"
                )));
            }
            Err(_) => Value::from(value.to_owned()),
        };
        custom.push((name.to_owned(), value));
    }
    let session = a.kind == "session_token";
    let machine_flags = [
        ("--scope", !a.scopes.is_empty()),
        ("--name", a.name.is_some()),
        ("--client-id", a.client_id.is_some()),
        ("--store", a.store.is_some()),
    ];
    if let (true, Some((flag, _))) = (session, machine_flags.iter().find(|(_, set)| *set)) {
        return Err(Usage(format!("{flag} is for machine tokens (--kind)")));
    }
    if !session {
        let session_flags = [("--azp", a.azp.is_some()), ("--sid", a.sid.is_some())];
        if let Some((flag, _)) = session_flags.iter().find(|(_, set)| *set) {
            return Err(Usage(format!("{flag} is for session tokens")));
        }
        if a.kind == "m2m_token" && !a.sub.starts_with("mch_") {
            return Err(Usage(
                "--kind m2m_token takes a machine id (mch_…) as --sub".to_owned(),
            ));
        }
    }
    let key = load_key(&a.key)?;
    if !session && a.format == "opaque" {
        return mint_opaque(&a, now, custom);
    }
    let mut builder = match a.kind.as_str() {
        // A Clerk-shaped session token; azp only when asked for, as backend-minted tokens.
        "session_token" => TokenBuilder::session(&a.sub, now)
            .remove_claim("azp")
            .claim("exp", now + a.ttl.unwrap_or(60)),
        "m2m_token" => {
            let mut b = TokenBuilder::m2m(&a.sub, now).claim("exp", now + a.ttl.unwrap_or(3600));
            if !a.scopes.is_empty() {
                b = b.claim("scopes", a.scopes.join(" "));
            }
            b
        }
        "oauth_token" => TokenBuilder::oauth(&a.sub, now)
            .claim("exp", now + a.ttl.unwrap_or(3600))
            .claim("scp", Value::from(a.scopes.clone()))
            .claim(
                "client_id",
                a.client_id
                    .as_deref()
                    .unwrap_or(clerk_dev::TEST_OAUTH_CLIENT),
            ),
        _ => {
            return Err(Usage(
                "API keys are always opaque: drop --format jwt".to_owned(),
            ))
        }
    };
    for (name, value) in [("azp", &a.azp), ("iss", &a.iss), ("sid", &a.sid)] {
        if let Some(v) = value {
            builder = builder.claim(name, v.as_str());
        }
    }
    for (name, value) in custom {
        builder = builder.claim(&name, value);
    }
    println!("{}", builder.sign(&key));
    Ok(0)
}

/// An opaque machine token, recorded in the store file for `dev serve`'s Backend API.
fn mint_opaque(a: &MintArgs, now: i64, custom: Vec<(String, Value)>) -> Result<u8, Usage> {
    if a.iss.is_some() {
        return Err(Usage(
            "--iss is for tokens in JWT form (--format jwt)".to_owned(),
        ));
    }
    let mut token = match a.kind.as_str() {
        "api_key" => OpaqueToken::api_key(&a.sub),
        "m2m_token" => OpaqueToken::m2m(&a.sub),
        _ => OpaqueToken::oauth(
            &a.sub,
            a.client_id
                .as_deref()
                .unwrap_or(clerk_dev::TEST_OAUTH_CLIENT),
        ),
    }
    .scopes(a.scopes.iter().cloned());
    if let Some(name) = &a.name {
        token = token.name(name.as_str());
    }
    token = match a.ttl {
        Some(ttl) => token.expires_at(now.saturating_add(ttl).saturating_mul(1000)),
        None if a.kind == "api_key" => token.never_expires(),
        None => token.expires_at(now.saturating_add(3600).saturating_mul(1000)),
    };
    if !custom.is_empty() {
        token = token.claims(Value::Object(custom.into_iter().collect()));
    }
    let store = store_path(a.store.clone(), Some(&a.key)).unwrap_or_default();
    store_minted(&store, &token)
        .map_err(|e| Usage(format!("cannot write {}: {e}", store.display())))?;
    println!("{}", token.secret());
    Ok(0)
}

fn revoke(a: RevokeArgs) -> Result<u8, Usage> {
    let store = store_path(a.store, a.key.as_deref())
        .ok_or_else(|| Usage("give --key FILE or --store FILE".to_owned()))?;
    if !store.exists() {
        return Err(Usage(format!(
            "{} does not exist: no token was minted there",
            store.display()
        )));
    }
    store_revoked(&store, &a.token)
        .map_err(|e| Usage(format!("cannot write {}: {e}", store.display())))?;
    Ok(0)
}

fn serve(
    port: u16,
    keys: ServeKeys,
    frontend: &ServeFrontend,
    store: Option<PathBuf>,
) -> Result<u8, Usage> {
    let store = store_path(store, keys.key.as_deref());
    let (jwks, signer) = match (keys.key, keys.jwks) {
        (Some(key), _) => {
            let key = load_key(&key)?;
            (key.jwks_json(), Some(key))
        }
        (None, Some(path)) => {
            let text = read_text(&path)?;
            clerk_verify::KeySet::from_jwks(&text)
                .map_err(|e| Usage(format!("{}: {e}", path.display())))?;
            (text, None)
        }
        (None, None) => return Err(Usage("give --key FILE or --jwks FILE".into())),
    };
    // Checked before listening, so a bad origin is a usage error and not a half-started server.
    let fapi = signer.map(|key| frontend_api(key, frontend)).transpose()?;
    let server = JwksServer::start_on_with(port, jwks)
        .map_err(|e| Usage(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    println!("serving {}", server.jwks_url());
    println!("(also {}/v1/jwks); Ctrl-C to stop", server.url());
    // With the private key it can also sign: Clerk's handshake endpoints and a sign-in page,
    // for testing server-rendered pages (docs/pages.md).
    if let Some(fapi) = fapi {
        let host = format!("127.0.0.1:{}", server.port());
        let pk = publishable_key(&host, false);
        // The refresh cookie it sets is named after this key's suffix.
        server.serve_frontend_api(fapi.cookie_suffix(clerk_dev::cookie_suffix(&pk)));
        println!("Frontend API for page handshakes; point your app at it with:");
        println!("  CLERK_PUBLISHABLE_KEY={pk}");
        println!("  CLERK_SIGN_IN_URL={}/dev/sign-in", server.url());
        let mut origins = "loopback origins".to_owned();
        for origin in &frontend.allow_redirect_origin {
            origins.push_str(", ");
            origins.push_str(origin.trim_end_matches('/'));
        }
        println!(
            "It redirects browsers only to {origins}; a session renews up to {} s after its token expired.",
            frontend.session_lifetime_secs
        );
        println!(
            "Its Backend API refreshes sessions with __refresh: set CLERK_API_URL={} and any \
             CLERK_SECRET_KEY.",
            server.url()
        );
    }
    // After the Frontend API's lines, which scripts read by position.
    if let Some(store) = store {
        server.serve_backend_api(BackendApi::new().store(&store));
        println!(
            "Backend API for the machine tokens `dev mint --kind` records in {}; point your app \
             at it with:",
            store.display()
        );
        println!("  CLERK_API_URL={}", server.url());
        println!("  CLERK_SECRET_KEY=sk_test_… (any value: this API takes any bearer)");
    }
    loop {
        std::thread::park();
    }
}

/// The Frontend API of `dev serve --key`, as its flags configure it.
fn frontend_api(key: DevKey, flags: &ServeFrontend) -> Result<FrontendApi, Usage> {
    let mut fapi =
        FrontendApi::new(key).session_lifetime(Duration::from_secs(flags.session_lifetime_secs));
    for origin in &flags.allow_redirect_origin {
        fapi = fapi
            .allow_redirect_origin(origin)
            .map_err(|e| Usage(format!("--allow-redirect-origin {origin:?}: {e}")))?;
    }
    Ok(fapi)
}

fn sign_webhook(a: SignWebhookArgs) -> Result<u8, Usage> {
    let env = |name: &str| std::env::var(name).ok();
    let hook = crate::webhook_cmd::webhook(&a.secret, &env)?;
    let from_stdin = a.body.as_deref().is_none_or(|p| p == Path::new("-"));
    let bytes = if from_stdin {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .map_err(|e| Usage(format!("cannot read standard input: {e}")))?;
        bytes
    } else {
        let path = a.body.as_deref().unwrap_or(Path::new("-"));
        std::fs::read(path).map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?
    };
    let body = String::from_utf8(bytes)
        .map_err(|_| Usage("the body is not UTF-8 text (Clerk's events are JSON)".into()))?;
    let id = a.id.unwrap_or_else(random_message_id);
    let timestamp = a.timestamp.unwrap_or_else(clerk_dev::now_unix);
    let signature = hook.sign(&id, timestamp, body.as_bytes());
    let headers = [
        ("svix-id", id),
        ("svix-timestamp", timestamp.to_string()),
        ("svix-signature", signature),
    ];
    if a.json {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), Value::from(v.as_str())))
            .collect();
        println!(
            "{}",
            serde_json::json!({ "headers": headers, "body": body })
        );
    } else if let Some(url) = a.url {
        let mut curl = format!(
            "curl -sS -X POST {} -H 'content-type: application/json'",
            shell_quote(&url)
        );
        for (name, value) in &headers {
            curl.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
        }
        match a.body.as_deref().filter(|_| !from_stdin) {
            Some(path) => {
                let at = format!("@{}", path.display());
                curl.push_str(&format!(" --data-binary {}", shell_quote(&at)));
            }
            None => curl.push_str(&format!(" --data-binary {}", shell_quote(&body))),
        }
        println!("{curl}");
    } else {
        for (name, value) in &headers {
            println!("{name}: {value}");
        }
    }
    Ok(0)
}

/// A `msg_` id no other delivery of this run has: 128 bits from the standard library's
/// randomly seeded hasher (no RNG dependency for a test tool).
fn random_message_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    };
    format!("msg_{:016x}{:016x}", word(), word())
}

/// `s` as one POSIX shell word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
