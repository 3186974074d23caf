//! `clerk-verify dev ...`: a local issuer so users can test Clerk-protected services in CI
//! without a Clerk account: make a key, mint tokens with it, serve its JWKS.

use crate::args::{Args, Usage};
use clerk_dev::{DevKey, JwksServer, TokenBuilder};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const HELP: &str = "\
clerk-verify dev keygen [--out-dir DIR] [--bits 2048]
    writes DIR/dev-key.pem (private key), DIR/dev-key.pub.pem and DIR/jwks.json
clerk-verify dev mint --key FILE --sub USER_ID [--azp URL] [--iss URL] [--sid SID]
    [--ttl SECONDS] [--claim NAME=VALUE]... [--now UNIX_SECONDS]
    prints a session token signed with the private key (VALUE is JSON if it parses, else a string)
clerk-verify dev serve --port N (--key FILE | --jwks FILE)
    serves the JWKS on http://127.0.0.1:N/.well-known/jwks.json (also /v1/jwks) until killed

Development keys only: never use them for anything real.";

/// Runs `dev <sub>`; `Ok(code)` is the exit status.
pub fn run(mut args: Vec<String>) -> Result<i32, Usage> {
    if args.is_empty() {
        return Err(Usage(HELP.into()));
    }
    let sub = args.remove(0);
    match sub.as_str() {
        "keygen" => keygen(args),
        "mint" => mint(args),
        "serve" => serve(args),
        "--help" | "-h" | "help" => Err(Usage(HELP.into())),
        other => Err(Usage(format!("unknown dev command {other:?}\n\n{HELP}"))),
    }
}

/// The kid is derived from the key itself, so keygen, mint and serve agree without a state file.
fn load_key(path: &str) -> Result<DevKey, Usage> {
    let pem =
        std::fs::read_to_string(path).map_err(|e| Usage(format!("cannot read {path}: {e}")))?;
    let probe = DevKey::from_private_pem(&pem, "probe")
        .map_err(|e| Usage(format!("{path} is not an RSA private key: {e}")))?;
    let n = probe.public_jwk()["n"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tail = &n[n.len().saturating_sub(16)..];
    DevKey::from_private_pem(&pem, format!("ins_dev_{tail}")).map_err(Usage)
}

fn keygen(args: Vec<String>) -> Result<i32, Usage> {
    let mut a = Args::new(args);
    let mut dir = PathBuf::from(".");
    let mut bits = 2048u32;
    while let Some((flag, inline)) = a.next_flag() {
        match flag.as_str() {
            "--out-dir" => dir = PathBuf::from(a.value(&flag, inline)?),
            "--bits" => {
                let v = a.value(&flag, inline)?;
                bits = match v.parse() {
                    Ok(b @ (2048 | 3072 | 4096)) => b,
                    _ => return Err(Usage("--bits takes 2048, 3072 or 4096".into())),
                };
            }
            other => return Err(Usage(format!("unknown option {other}\n\n{HELP}"))),
        }
    }
    no_positionals(a)?;
    std::fs::create_dir_all(&dir)
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
    let key = load_key(&key_path.to_string_lossy())?;
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

fn mint(args: Vec<String>) -> Result<i32, Usage> {
    let mut a = Args::new(args);
    let mut key = None;
    let mut sub = None;
    let mut ttl = 60i64;
    let mut now = clerk_dev::now_unix();
    let mut claims: Vec<(String, Value)> = Vec::new();
    while let Some((flag, inline)) = a.next_flag() {
        match flag.as_str() {
            "--key" => key = Some(a.value(&flag, inline)?),
            "--sub" => sub = Some(a.value(&flag, inline)?),
            "--azp" => claims.push(("azp".into(), a.value(&flag, inline)?.into())),
            "--iss" => claims.push(("iss".into(), a.value(&flag, inline)?.into())),
            "--sid" => claims.push(("sid".into(), a.value(&flag, inline)?.into())),
            "--ttl" => {
                let v = a.value(&flag, inline)?;
                ttl = v
                    .parse()
                    .map_err(|_| Usage(format!("--ttl takes whole seconds, not {v:?}")))?;
            }
            "--now" => {
                let v = a.value(&flag, inline)?;
                now = v
                    .parse()
                    .map_err(|_| Usage(format!("--now takes whole Unix seconds, not {v:?}")))?;
            }
            "--claim" => {
                let v = a.value(&flag, inline)?;
                let (name, value) = v
                    .split_once('=')
                    .ok_or_else(|| Usage(format!("--claim takes NAME=VALUE, not {v:?}")))?;
                let value =
                    serde_json::from_str(value).unwrap_or_else(|_| Value::from(value.to_owned()));
                claims.push((name.to_owned(), value));
            }
            other => return Err(Usage(format!("unknown option {other}\n\n{HELP}"))),
        }
    }
    no_positionals(a)?;
    let key = load_key(&key.ok_or_else(|| Usage(format!("--key is required\n\n{HELP}")))?)?;
    let sub = sub.ok_or_else(|| Usage(format!("--sub is required\n\n{HELP}")))?;
    // A Clerk-shaped session token; azp only when asked for, as backend-minted Clerk tokens.
    let mut builder = TokenBuilder::session(&sub, now)
        .remove_claim("azp")
        .claim("exp", now + ttl);
    for (name, value) in claims {
        builder = builder.claim(&name, value);
    }
    println!("{}", builder.sign(&key));
    Ok(0)
}

fn serve(args: Vec<String>) -> Result<i32, Usage> {
    let mut a = Args::new(args);
    let mut port = None;
    let mut jwks = None;
    while let Some((flag, inline)) = a.next_flag() {
        match flag.as_str() {
            "--port" => {
                let v = a.value(&flag, inline)?;
                port = Some(
                    v.parse::<u16>()
                        .map_err(|_| Usage(format!("--port takes a port number, not {v:?}")))?,
                );
            }
            "--key" => jwks = Some(load_key(&a.value(&flag, inline)?)?.jwks_json()),
            "--jwks" => {
                let path = a.value(&flag, inline)?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Usage(format!("cannot read {path}: {e}")))?;
                clerk_verify::KeySet::from_jwks(&text)
                    .map_err(|e| Usage(format!("{path}: {e}")))?;
                jwks = Some(text);
            }
            other => return Err(Usage(format!("unknown option {other}\n\n{HELP}"))),
        }
    }
    no_positionals(a)?;
    let port = port.ok_or_else(|| Usage(format!("--port is required\n\n{HELP}")))?;
    let jwks = jwks.ok_or_else(|| Usage(format!("give --key FILE or --jwks FILE\n\n{HELP}")))?;
    let server = JwksServer::start_on_with(port, jwks)
        .map_err(|e| Usage(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    println!("serving {}", server.jwks_url());
    println!("(also {}/v1/jwks); Ctrl-C to stop", server.url());
    loop {
        std::thread::park();
    }
}

fn no_positionals(a: Args) -> Result<(), Usage> {
    match a.positionals().first() {
        Some(p) => Err(Usage(format!("unexpected argument {p:?}\n\n{HELP}"))),
        None => Ok(()),
    }
}
