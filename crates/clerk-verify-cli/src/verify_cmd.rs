//! `clerk-verify verify`: one JSON line per token, exit 0 (all valid), 1 (any invalid), 2 (usage).

use crate::args::{Args, Usage};
use clerk_verify::{
    Claims, Clock, Error, JwksSource, RemoteKeys, RemoteOptions, Verifier, VerifyOptions,
};
use serde_json::Value;
use std::io::{self, BufRead, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const HELP: &str = "\
clerk-verify verify (--jwks FILE|URL | --pem FILE | --hs256-secret-file FILE
                     | --publishable-key PK | --secret-key SK [--api-url URL])
    [--authorized-party URL]... [--audience AUD]... [--issuer ISS]
    [--clock-skew-ms N] [--now UNIX_SECONDS] [--fetch-timeout-ms N] [--] [TOKEN]

Verifies TOKEN, or each line of standard input, and prints one JSON object per token:
  {\"valid\":true,\"sub\":...,\"sid\":...,\"azp\":...,\"org_id\":...,\"claims\":{...}}
  {\"valid\":false,\"reason\":\"<code>\",\"message\":\"...\"}
Exit status: 0 all valid, 1 any invalid, 2 usage or configuration error.
Without a key flag the key comes from CLERK_JWT_KEY, else CLERK_JWKS_URL, else
CLERK_SECRET_KEY (with CLERK_API_URL), else CLERK_PUBLISHABLE_KEY.
--jwks takes a file, or an https:// (or loopback http://) URL fetched once and cached.
A key source that cannot be reached gives {\"valid\":false,\"reason\":\"jwk-remote-failed-to-load\",...}
per token after at most --fetch-timeout-ms (default 5000).
--authorized-party repeats and also takes a comma-separated list.
--hs256-secret-file: the file's bytes are the secret (one trailing newline is dropped).";

/// Where the keys come from, as given on the command line.
enum KeySource {
    JwksFile(String),
    JwksUrl(String),
    PemFile(String),
    Hs256SecretFile(String),
    PublishableKey(String),
    SecretKey(String),
}

struct Config {
    keys: Option<KeySource>,
    api_url: Option<String>,
    remote: RemoteOptions,
    opts: VerifyOptions,
    token: Option<String>,
}

/// Runs the subcommand; `Err` is a usage or configuration problem (exit 2).
pub fn run(args: Vec<String>) -> Result<i32, Usage> {
    let config = parse(args)?;
    let verifier = build_verifier(config.keys, config.api_url, config.remote, config.opts)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut all_valid = true;
    let mut emit = |token: Result<&str, Error>| -> Result<(), Usage> {
        let line = match token.and_then(|t| verifier.verify(t)) {
            Ok(claims) => valid_line(&claims),
            Err(e) => {
                all_valid = false;
                invalid_line(&e)
            }
        };
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| Usage(format!("cannot write to standard output: {e}")))
    };
    match &config.token {
        Some(token) => emit(Ok(token))?,
        None => {
            let stdin = io::stdin();
            let mut input = stdin.lock();
            while let Some(line) = read_line(&mut input)
                .map_err(|e| Usage(format!("cannot read standard input: {e}")))?
            {
                match line {
                    Line::Text(t) => emit(Ok(&t))?,
                    Line::Invalid(why) => emit(Err(Error::TokenInvalid(why.into())))?,
                }
            }
        }
    }
    Ok(if all_valid { 0 } else { 1 })
}

fn parse(args: Vec<String>) -> Result<Config, Usage> {
    let mut a = Args::new(args);
    let mut keys = None;
    let mut api_url = None;
    let mut remote = RemoteOptions::default();
    let mut opts = VerifyOptions::default();
    let mut parties = Vec::new();
    let mut audience = Vec::new();
    let set_key = |keys: &mut Option<KeySource>, k: KeySource| {
        if keys.is_some() {
            return Err(Usage(
                "give only one of --jwks, --pem, --hs256-secret-file, --publishable-key and --secret-key"
                    .into(),
            ));
        }
        *keys = Some(k);
        Ok(())
    };
    while let Some((flag, inline)) = a.next_flag() {
        match flag.as_str() {
            "--jwks" => {
                let v = a.value(&flag, inline)?;
                let is_url = v.starts_with("https://") || v.starts_with("http://");
                set_key(
                    &mut keys,
                    if is_url {
                        KeySource::JwksUrl(v)
                    } else {
                        KeySource::JwksFile(v)
                    },
                )?;
            }
            "--publishable-key" => {
                let v = a.value(&flag, inline)?;
                set_key(&mut keys, KeySource::PublishableKey(v))?;
            }
            "--secret-key" => {
                let v = a.value(&flag, inline)?;
                set_key(&mut keys, KeySource::SecretKey(v))?;
            }
            "--api-url" => api_url = Some(a.value(&flag, inline)?),
            "--fetch-timeout-ms" => {
                let v = a.value(&flag, inline)?;
                let ms: u64 = v.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| {
                    Usage(format!(
                        "--fetch-timeout-ms takes positive milliseconds, not {v:?}"
                    ))
                })?;
                let t = Duration::from_millis(ms);
                remote = remote.timeout(t).connect_timeout(t).read_timeout(t);
            }
            "--pem" => {
                let v = a.value(&flag, inline)?;
                set_key(&mut keys, KeySource::PemFile(v))?;
            }
            "--hs256-secret-file" => {
                let v = a.value(&flag, inline)?;
                set_key(&mut keys, KeySource::Hs256SecretFile(v))?;
            }
            "--authorized-party" => {
                parties.extend(clerk_verify::split_list(&a.value(&flag, inline)?));
            }
            "--audience" => audience.push(a.value(&flag, inline)?),
            "--issuer" => opts = opts.issuer(a.value(&flag, inline)?),
            "--clock-skew-ms" => {
                let v = a.value(&flag, inline)?;
                let ms: u64 = v.parse().map_err(|_| {
                    Usage(format!(
                        "--clock-skew-ms takes whole milliseconds, not {v:?}"
                    ))
                })?;
                opts = opts.clock_skew(Duration::from_millis(ms));
            }
            "--now" => {
                let v = a.value(&flag, inline)?;
                opts = opts.clock(Clock::fixed(parse_unix_seconds(&v)?));
            }
            "--help" | "-h" => return Err(Usage(HELP.into())),
            other => return Err(Usage(format!("unknown option {other}\n\n{HELP}"))),
        }
    }
    opts = opts.authorized_parties(parties).audience(audience);
    let mut positionals = a.positionals();
    if positionals.len() > 1 {
        return Err(Usage(format!(
            "expected at most one TOKEN argument, got {}",
            positionals.len()
        )));
    }
    if api_url.is_some() && !matches!(keys, Some(KeySource::SecretKey(_)) | None) {
        return Err(Usage("--api-url goes with --secret-key".into()));
    }
    Ok(Config {
        keys,
        api_url,
        remote,
        opts,
        token: positionals.pop(),
    })
}

fn parse_unix_seconds(v: &str) -> Result<SystemTime, Usage> {
    let bad = || Usage(format!("--now takes Unix seconds, not {v:?}"));
    let secs: f64 = v.parse().map_err(|_| bad())?;
    if !secs.is_finite() || secs.abs() > 1e15 {
        return Err(bad());
    }
    let d = Duration::from_secs_f64(secs.abs());
    Ok(if secs >= 0.0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    })
}

fn build_verifier(
    keys: Option<KeySource>,
    api_url: Option<String>,
    remote: RemoteOptions,
    opts: VerifyOptions,
) -> Result<Verifier, Usage> {
    let config_err = |what: &str, e: Error| Usage(format!("{what}: {e} (reason {})", e.reason()));
    let remote_verifier = |source: Result<JwksSource, Error>, what: &str| {
        source
            .and_then(|s| RemoteKeys::new(s, remote.clone()))
            .and_then(|k| Verifier::new(k, opts.clone()))
            .map_err(|e| config_err(what, e))
    };
    match keys {
        Some(KeySource::JwksFile(path)) => Verifier::from_jwks(&read_text(&path)?, opts)
            .map_err(|e| config_err(&format!("--jwks {path}"), e)),
        Some(KeySource::JwksUrl(url)) => remote_verifier(JwksSource::url(&url), "--jwks"),
        Some(KeySource::PublishableKey(pk)) => {
            remote_verifier(JwksSource::publishable_key(&pk), "--publishable-key")
        }
        Some(KeySource::SecretKey(sk)) => remote_verifier(
            JwksSource::secret_key(&sk, api_url.as_deref()),
            "--secret-key",
        ),
        Some(KeySource::PemFile(path)) => Verifier::from_pem(&read_text(&path)?, opts)
            .map_err(|e| config_err(&format!("--pem {path}"), e)),
        Some(KeySource::Hs256SecretFile(path)) => {
            let mut secret =
                std::fs::read(&path).map_err(|e| Usage(format!("cannot read {path}: {e}")))?;
            if secret.ends_with(b"\n") {
                secret.pop();
                if secret.ends_with(b"\r") {
                    secret.pop();
                }
            }
            Verifier::from_hs256_secret(&secret, opts)
                .map_err(|e| config_err(&format!("--hs256-secret-file {path}"), e))
        }
        None => {
            // Only the key source comes from the environment; every option is a flag.
            let get = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
            if let Some(pem) = get(clerk_verify::ENV_JWT_KEY) {
                return Verifier::from_pem(&pem, opts).map_err(|e| config_err("CLERK_JWT_KEY", e));
            }
            match JwksSource::from_lookup(get) {
                Ok(Some(source)) => remote_verifier(Ok(source), "environment"),
                Ok(None) => Err(Usage(format!(
                    "no key given: pass a key flag or set CLERK_JWT_KEY, CLERK_SECRET_KEY or \
                     CLERK_PUBLISHABLE_KEY\n\n{HELP}"
                ))),
                Err(e) => Err(config_err("environment", e)),
            }
        }
    }
}

fn read_text(path: &str) -> Result<String, Usage> {
    std::fs::read_to_string(path).map_err(|e| Usage(format!("cannot read {path}: {e}")))
}

fn valid_line(claims: &Claims) -> String {
    // Written by hand so the member order is the documented one whatever serde_json's features.
    let s = |v: Option<&str>| serde_json::to_string(&v).unwrap_or_else(|_| "null".into());
    let all = serde_json::to_string(&Value::Object(claims.as_json().clone()))
        .unwrap_or_else(|_| "{}".into());
    format!(
        "{{\"valid\":true,\"sub\":{},\"sid\":{},\"azp\":{},\"org_id\":{},\"claims\":{}}}",
        s(Some(claims.user_id())),
        s(claims.session_id()),
        s(claims.azp.as_deref()),
        s(claims.org_id()),
        all
    )
}

fn invalid_line(e: &Error) -> String {
    format!(
        "{{\"valid\":false,\"reason\":{},\"message\":{}}}",
        Value::from(e.reason()),
        Value::from(e.to_string())
    )
}

/// Longest stdin line read as a token; longer lines are reported invalid without being kept.
const MAX_LINE: u64 = 1024 * 1024;

enum Line {
    Text(String),
    Invalid(&'static str),
}

/// One token per line: `\n` ends a line, one `\r` before it is dropped, nothing else is trimmed.
fn read_line(input: &mut impl BufRead) -> io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let n = Read::take(&mut *input, MAX_LINE).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if !buf.ends_with(b"\n") && n as u64 == MAX_LINE {
        // Skip the rest of the overlong line.
        let mut sink = Vec::new();
        loop {
            sink.clear();
            let m = Read::take(&mut *input, MAX_LINE).read_until(b'\n', &mut sink)?;
            if m == 0 || sink.ends_with(b"\n") {
                break;
            }
        }
        return Ok(Some(Line::Invalid("the line is too long to be a token")));
    }
    if buf.ends_with(b"\n") {
        buf.pop();
        if buf.ends_with(b"\r") {
            buf.pop();
        }
    }
    Ok(Some(match String::from_utf8(buf) {
        Ok(t) => Line::Text(t),
        Err(_) => Line::Invalid("the token is not ASCII text"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut r = io::Cursor::new(input.to_vec());
        let mut out = Vec::new();
        while let Some(l) = read_line(&mut r).unwrap() {
            out.push(match l {
                Line::Text(t) => t,
                Line::Invalid(w) => format!("!{w}"),
            });
        }
        out
    }

    #[test]
    fn line_splitting() {
        assert_eq!(lines(b"a\nb\r\nc"), ["a", "b", "c"]);
        assert_eq!(lines(b"a\n\nb\n"), ["a", "", "b"]);
        assert_eq!(lines(b" a \r\r\n"), [" a \r"]);
        assert!(lines(b"").is_empty());
        assert!(lines(&[0xff, b'\n'])[0].starts_with('!'));
    }

    #[test]
    fn now_parsing() {
        assert_eq!(
            parse_unix_seconds("1700000000").unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert!(parse_unix_seconds("soon").is_err());
        assert!(parse_unix_seconds("inf").is_err());
    }
}
