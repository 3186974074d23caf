//! Runs the built `clerk-verify` binary exactly as external tests will.

mod command;

use clerk_dev::{fixtures, TokenBuilder};
use command::{cli, json_lines, stderr, stdout, Dir};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const NOW: i64 = 1_800_000_000;

fn token(sub: &str) -> String {
    TokenBuilder::session(sub, NOW).sign(fixtures::rsa2048())
}

const NOW_ARG: &str = "1800000000";

#[test]
fn valid_token_prints_documented_line() {
    let d = Dir::new("valid");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let t = TokenBuilder::session("user_1", NOW)
        .remove_claim("v")
        .claim("org_id", "org_9")
        .sign(fixtures::rsa2048());
    let out = cli(
        &["verify", "--jwks", &jwks, "--now", NOW_ARG, &t],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        text.starts_with("{\"valid\":true,\"sub\":\"user_1\",\"sid\":"),
        "{text}"
    );
    let v = &json_lines(&out)[0];
    assert_eq!(v["sid"], "sess_test123");
    assert_eq!(v["azp"], "http://localhost:3000");
    assert_eq!(v["org_id"], "org_9");
    assert_eq!(v["claims"]["sub"], "user_1");
    assert!(out.stderr.is_empty());
}

#[test]
fn invalid_token_exit_1_with_reason() {
    let d = Dir::new("invalid");
    let pem = d.file("key.pem", fixtures::rsa2048().public_pem());
    let expired = TokenBuilder::session("user_1", NOW - 3600).sign(fixtures::rsa2048());
    let out = cli(
        &["verify", "--pem", &pem, "--now", NOW_ARG, &expired],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = &json_lines(&out)[0];
    assert_eq!(v["valid"], false);
    assert_eq!(v["reason"], "token-expired");
    assert!(!v["message"].as_str().unwrap().contains(&expired));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text.starts_with("{\"valid\":false,\"reason\":\"token-expired\",\"message\":"));
}

#[test]
fn machine_tokens_are_not_sessions() {
    // Clerk's machine tokens in JWT form, signed by the instance's key: an M2M token by its
    // `sub` (no `cat`), the same with its `cat`, an OAuth access token by its `typ`.
    let d = Dir::new("machine");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let tokens = [
        token("mch_2vYVtestmachine"),
        TokenBuilder::session("mch_2vYVtestmachine", NOW)
            .header("cat", "cl_B7d4PD333AAA")
            .sign(fixtures::rsa2048()),
        TokenBuilder::session("user_1", NOW)
            .header("typ", "at+jwt")
            .sign(fixtures::rsa2048()),
    ];
    let input = tokens.join("\n");
    let out = cli(
        &["verify", "--jwks", &jwks, "--now", NOW_ARG],
        Some(input.as_bytes()),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_eq!(line["valid"], false, "{line}");
        assert_eq!(line["reason"], "token-type-mismatch", "{line}");
    }
}

#[test]
fn stdin_one_token_per_line() {
    let d = Dir::new("stdin");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let input = format!("{}\r\n{}\ngarbage\n{}", token("a"), token("b"), token("c"));
    let out = cli(
        &["verify", "--jwks", &jwks, "--now", NOW_ARG],
        Some(input.as_bytes()),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json_lines(&out);
    assert_eq!(v.len(), 4);
    assert_eq!(v[0]["sub"], "a");
    assert_eq!(v[1]["sub"], "b");
    assert_eq!(v[2]["reason"], "token-invalid");
    assert_eq!(v[3]["sub"], "c");

    let all_good = format!("{}\n{}\n", token("a"), token("b"));
    let out = cli(
        &["verify", "--jwks", &jwks, "--now", NOW_ARG],
        Some(all_good.as_bytes()),
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out).len(), 2);
}

#[test]
fn token_argument_is_not_trimmed() {
    let d = Dir::new("trim");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let padded = format!(" {} ", token("a"));
    let out = cli(
        &["verify", "--jwks", &jwks, "--now", NOW_ARG, "--", &padded],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_lines(&out)[0]["reason"], "token-invalid");
}

#[test]
fn double_dash_allows_dash_tokens() {
    let d = Dir::new("dash");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let out = cli(&["verify", "--jwks", &jwks, "--", "--weird"], None, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_lines(&out)[0]["reason"], "token-invalid");
}

#[test]
fn authorized_parties_repeat_and_split() {
    let d = Dir::new("azp");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let t = token("a"); // azp http://localhost:3000
    let run = |parties: &[&str]| {
        let mut args = vec!["verify", "--jwks", &jwks, "--now", NOW_ARG];
        for p in parties {
            args.push("--authorized-party");
            args.push(p);
        }
        args.push(&t);
        let out = cli(&args, None, &[]);
        (out.status.code(), json_lines(&out)[0].clone())
    };
    assert_eq!(
        run(&["https://x.example"]).1["reason"],
        "token-invalid-authorized-parties"
    );
    assert_eq!(run(&["https://x.example,http://localhost:3000"]).0, Some(0));
    assert_eq!(
        run(&["https://x.example", "http://localhost:3000"]).0,
        Some(0)
    );
}

#[test]
fn audience_issuer_skew_and_now() {
    let d = Dir::new("opts");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let t = TokenBuilder::session("a", NOW)
        .claim("aud", "api")
        .sign(fixtures::rsa2048());
    let out = cli(
        &[
            "verify",
            "--jwks",
            &jwks,
            "--now",
            NOW_ARG,
            "--audience",
            "web",
            &t,
        ],
        None,
        &[],
    );
    assert_eq!(json_lines(&out)[0]["reason"], "token-invalid-audience");
    let out = cli(
        &[
            "verify",
            "--jwks",
            &jwks,
            "--now",
            NOW_ARG,
            "--audience",
            "web",
            "--audience",
            "api",
            &t,
        ],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let out = cli(
        &[
            "verify",
            "--jwks",
            &jwks,
            "--now",
            NOW_ARG,
            "--issuer",
            "https://other",
            &t,
        ],
        None,
        &[],
    );
    assert_eq!(json_lines(&out)[0]["reason"], "token-invalid-issuer");
    // exp = NOW + 60: 64 s later is inside the default 5 s skew, 66 s is not; skew 0 at +60.
    let at = |now: i64, extra: &[&str]| {
        let n = now.to_string();
        let mut args = vec!["verify", "--jwks", jwks.as_str(), "--now", n.as_str()];
        args.extend_from_slice(extra);
        args.push(&t);
        cli(&args, None, &[]).status.code()
    };
    assert_eq!(at(NOW + 64, &[]), Some(0));
    assert_eq!(at(NOW + 66, &[]), Some(1));
    assert_eq!(at(NOW + 60, &["--clock-skew-ms", "0"]), Some(1));
    assert_eq!(at(NOW + 59, &["--clock-skew-ms", "0"]), Some(0));
}

#[test]
fn hs256_secret_file() {
    let d = Dir::new("hs");
    let secret = d.file("secret", [fixtures::HS256_SECRET, b"\n"].concat());
    let t = TokenBuilder::session("a", NOW).sign_hs256(fixtures::HS256_SECRET);
    let out = cli(
        &[
            "verify",
            "--hs256-secret-file",
            &secret,
            "--now",
            NOW_ARG,
            &t,
        ],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let rs = token("a");
    let out = cli(
        &[
            "verify",
            "--hs256-secret-file",
            &secret,
            "--now",
            NOW_ARG,
            &rs,
        ],
        None,
        &[],
    );
    assert_eq!(json_lines(&out)[0]["reason"], "token-invalid-algorithm");
    let short = d.file("short", "too-short");
    let out = cli(&["verify", "--hs256-secret-file", &short, &t], None, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("too-short"));
}

#[test]
fn env_key_fallback() {
    let pem = fixtures::rsa2048().public_pem().replace('\n', "\\n");
    let out = cli(
        &["verify", "--now", NOW_ARG, &token("a")],
        None,
        &[("CLERK_JWT_KEY", &pem)],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn usage_errors_exit_2_without_json() {
    let d = Dir::new("usage");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let pem = d.file("key.pem", fixtures::rsa2048().public_pem());
    let weak = d.file("weak.pem", fixtures::rsa1024().public_pem());
    for args in [
        vec!["verify"],
        vec!["verify", "--jwks", &jwks, "--pem", &pem],
        vec!["verify", "--jwks"],
        vec!["verify", "--jwks", "/nonexistent/file.json"],
        vec!["verify", "--pem", &weak],
        vec!["verify", "--jwks", &jwks, "--bogus"],
        vec!["verify", "--jwks", &jwks, "--now", "soon"],
        vec!["verify", "--jwks", &jwks, "--clock-skew-ms", "-1"],
        vec!["verify", "--jwks", &jwks, "a", "b"],
        vec!["frobnicate"],
        vec![],
    ] {
        let out = cli(&args, Some(b""), &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn dev_keygen_mint_verify_round_trip() {
    let d = Dir::new("dev");
    let dir = d.0.to_string_lossy().into_owned();
    let out = cli(&["dev", "keygen", "--out-dir", &dir], None, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let key = format!("{dir}/dev-key.pem");
    let jwks = format!("{dir}/jwks.json");
    // A second keygen into the same place refuses to overwrite the key.
    assert_eq!(
        cli(&["dev", "keygen", "--out-dir", &dir], None, &[])
            .status
            .code(),
        Some(2)
    );

    let out = cli(
        &[
            "dev",
            "mint",
            "--key",
            &key,
            "--sub",
            "user_42",
            "--azp",
            "https://app.example",
            "--ttl",
            "120",
            "--claim",
            "org_id=org_1",
            "--claim",
            "n=5",
            "--now",
            NOW_ARG,
        ],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let verify = |now: i64| {
        let n = now.to_string();
        let out = cli(
            &[
                "verify",
                "--jwks",
                &jwks,
                "--authorized-party",
                "https://app.example",
                "--now",
                &n,
                &token,
            ],
            None,
            &[],
        );
        (out.status.code(), json_lines(&out)[0].clone())
    };
    let (code, v) = verify(NOW);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["sub"], "user_42");
    assert_eq!(v["claims"]["n"], 5);
    assert_eq!(v["claims"]["exp"], NOW + 120);
    assert_eq!(verify(NOW + 126).1["reason"], "token-expired");
    // The public PEM written by keygen verifies the same token.
    let pem = format!("{dir}/dev-key.pub.pem");
    let out = cli(
        &["verify", "--pem", &pem, "--now", NOW_ARG, &token],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    // Missing --sub is a usage error that names it.
    let out = cli(&["dev", "mint", "--key", &key], None, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--sub"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // A claim that starts like JSON and is not is refused, never minted as a string.
    for broken in [r#"o={"id":"org_1""#, "roles=[1,2"] {
        let out = cli(
            &[
                "dev", "mint", "--key", &key, "--sub", "u", "--claim", broken,
            ],
            None,
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "{broken}");
        assert!(stdout(&out).is_empty(), "{broken}");
        assert!(stderr(&out).contains("not valid JSON"), "{}", stderr(&out));
    }
    let out = cli(
        &[
            "dev",
            "mint",
            "--key",
            &key,
            "--sub",
            "u",
            "--claim",
            r#"o={"id":"org_1"}"#,
            "--claim",
            "s=plain",
        ],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let claims = claims_of(stdout(&out).trim());
    assert_eq!(claims["o"]["id"], "org_1");
    assert_eq!(claims["s"], "plain");
}

#[test]
fn dev_serve_serves_the_jwks() {
    use std::io::Read;
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = Dir::new("serve");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let mut child = Command::new(env!("CARGO_BIN_EXE_clerk-verify"))
        .args(["dev", "serve", "--port", &port.to_string(), "--jwks", &jwks])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = child.kill();
                panic!("dev serve did not listen: {e}");
            }
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(
            b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut response = String::new();
    let read = stream.read_to_string(&mut response);
    let _ = child.kill();
    let _ = child.wait();
    read.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    let served: Value = serde_json::from_str(body).unwrap();
    assert_eq!(served["keys"][0]["kid"], fixtures::rsa2048().kid());
}

/// `clerk-verify dev serve --port 0 --key <fixture key> <extra>`, killed when dropped, with
/// what it printed.
struct DevServe {
    child: std::process::Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    url: String,
    publishable_key: String,
    sign_in: String,
    /// The line saying where it redirects and how long sessions renew.
    policy: String,
    _dir: Dir,
}

impl DevServe {
    fn start(name: &str, extra: &[&str]) -> DevServe {
        use std::io::{BufRead, BufReader};

        let dir = Dir::new(name);
        let key = dir.file("dev-key.pem", fixtures::rsa2048().private_pem());
        let mut child = Command::new(env!("CARGO_BIN_EXE_clerk-verify"))
            .args(["dev", "serve", "--port", "0", "--key", &key])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut serve = DevServe {
            child,
            url: String::new(),
            publishable_key: String::new(),
            sign_in: String::new(),
            policy: String::new(),
            _dir: dir,
        };
        let printed: Vec<String> = BufReader::new(stdout)
            .lines()
            .take(6)
            .map(Result::unwrap)
            .collect();
        let field = |i: usize, prefix: &str| {
            printed[i]
                .trim()
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{printed:?}"))
                .to_owned()
        };
        serve.url = field(0, "serving ")
            .strip_suffix("/.well-known/jwks.json")
            .unwrap()
            .to_owned();
        serve.publishable_key = field(3, "CLERK_PUBLISHABLE_KEY=");
        serve.sign_in = field(4, "CLERK_SIGN_IN_URL=");
        serve.policy = printed[5].clone();
        serve
    }
}

impl Drop for DevServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn dev_serve_with_a_private_key_signs_browsers_in() {
    let serve = DevServe::start("serve-key", &[]);
    let mut browser = clerk_dev::Browser::new();
    let reply = browser
        .get(&format!(
            "{}?user_id=user_cli&redirect_url=http%3A%2F%2F127.0.0.1%3A9%2F",
            serve.sign_in
        ))
        .unwrap();
    let jwks = browser
        .get(&format!("{}/.well-known/jwks.json", serve.url))
        .unwrap()
        .body;
    assert_eq!(reply.status, 307);
    assert_eq!(reply.header("location"), Some("http://127.0.0.1:9/"));
    let token = browser.cookie("__session").expect("signed in").to_owned();
    let host = serve.url.strip_prefix("http://").unwrap();
    assert_eq!(
        serve.publishable_key,
        clerk_dev::publishable_key(host, false)
    );
    // The session it set verifies against the served key, for the app named by redirect_url.
    let verifier = clerk_verify::Verifier::from_jwks(
        &jwks,
        clerk_verify::VerifyOptions::default().authorized_parties(["http://127.0.0.1:9"]),
    )
    .unwrap();
    assert_eq!(verifier.verify(&token).unwrap().user_id(), "user_cli");
}

/// The claims of a JWT, unverified.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&clerk_dev::b64url_decode(payload).unwrap()).unwrap()
}

#[test]
fn dev_serve_redirects_only_to_allowed_origins_and_renews_only_recent_sessions() {
    use clerk_dev::pages::form_encoded;

    let serve = DevServe::start(
        "serve-policy",
        &[
            "--allow-redirect-origin",
            "https://app.example.test",
            "--session-lifetime-secs",
            "300",
        ],
    );
    assert!(
        serve
            .policy
            .contains("loopback origins, https://app.example.test")
            && serve.policy.contains("300 s"),
        "{}",
        serve.policy
    );
    let sign_in = |target: &str| {
        let mut browser = clerk_dev::Browser::new();
        let url = format!(
            "{}?user_id=user_cli&redirect_url={}",
            serve.sign_in,
            form_encoded(target)
        );
        let reply = browser.get(&url).unwrap();
        let session = browser.cookie("__session").map(claims_of);
        (reply, session)
    };
    let (reply, session) = sign_in("https://app.example.test/home");
    assert_eq!(reply.status, 307, "{}", reply.body);
    assert_eq!(
        reply.header("location"),
        Some("https://app.example.test/home")
    );
    assert_eq!(session.unwrap()["azp"], "https://app.example.test");
    for target in [
        "https://evil.example/",
        "http://127.0.0.1@evil.example/",
        "https://app.example.test:8443/",
        "//evil.example/",
    ] {
        let (reply, session) = sign_in(target);
        assert_eq!(reply.status, 400, "{target}");
        assert_eq!(reply.header("location"), None, "{target}");
        assert!(session.is_none(), "{target}");
    }
    let (reply, _) = sign_in("https://evil.example/");
    assert!(
        reply
            .body
            .contains("--allow-redirect-origin https://evil.example"),
        "{}",
        reply.body
    );

    // A handshake renews a token of this issuer that expired less than 300 s ago, only.
    let jwks = clerk_dev::Browser::new()
        .get(&format!("{}/.well-known/jwks.json", serve.url))
        .unwrap()
        .json();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let now = clerk_dev::now_unix();
    let renews = |iat: i64, iss: &str| {
        let token = TokenBuilder::session("user_cli", iat)
            .header("kid", kid.as_str())
            .claim("iss", iss)
            .sign(fixtures::rsa2048());
        let url = format!(
            "{}/v1/client/handshake?redirect_url={}&__session={token}",
            serve.url,
            form_encoded("http://localhost:3000/")
        );
        let reply = clerk_dev::Browser::new().get(&url).unwrap();
        assert_eq!(reply.status, 307, "{}", reply.body);
        let location = reply.header("location").unwrap();
        let handshake = location.split_once("__clerk_handshake=").unwrap().1;
        let directives = claims_of(handshake)["handshake"].clone();
        let session = directives[0].as_str().unwrap();
        assert!(session.starts_with("__session="), "{session}");
        !session.starts_with("__session=;")
    };
    assert!(renews(now - 200, &serve.url), "expired 140 s ago");
    assert!(!renews(now - 460, &serve.url), "expired 400 s ago");
    assert!(!renews(now, clerk_dev::TEST_ISSUER), "another issuer");
}

#[test]
fn dev_serve_refuses_bad_redirect_origins() {
    let d = Dir::new("serve-bad-origin");
    let key = d.file("dev-key.pem", fixtures::rsa2048().private_pem());
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    for args in [
        vec![
            "--key",
            &key,
            "--allow-redirect-origin",
            "https://app.example.test/x",
        ],
        vec!["--key", &key, "--allow-redirect-origin", "app.example.test"],
        vec![
            "--key",
            &key,
            "--allow-redirect-origin",
            "javascript:alert(1)",
        ],
        // Without the private key nothing redirects: the flags have nothing to configure.
        vec![
            "--jwks",
            &jwks,
            "--allow-redirect-origin",
            "https://app.example.test",
        ],
        vec!["--jwks", &jwks, "--session-lifetime-secs", "60"],
        vec!["--key", &key, "--session-lifetime-secs", "-1"],
    ] {
        let mut all = vec!["dev", "serve", "--port", "0"];
        all.extend(args.iter().copied());
        let out = cli(&all, None, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: it must not start serving");
    }
    let help = stdout(&cli(&["dev", "serve", "--help"], None, &[]));
    assert!(help.contains("--allow-redirect-origin <ORIGIN>"), "{help}");
    assert!(help.contains("--session-lifetime-secs <SECONDS>"), "{help}");
    assert!(help.contains("[default: 3600]"), "{help}");
}

mod remote {
    use super::*;
    use clerk_dev::{Fault, JwksServer};
    use std::time::{Duration, Instant};

    fn now_token(sub: &str) -> String {
        TokenBuilder::session(sub, clerk_dev::now_unix()).sign(fixtures::rsa2048())
    }

    #[test]
    fn jwks_url() {
        let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
        let input = format!("{}\n{}\n", now_token("a"), now_token("b"));
        let out = cli(
            &["verify", "--jwks", &server.jwks_url()],
            Some(input.as_bytes()),
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(json_lines(&out).len(), 2);
        // Fetched once for both tokens.
        assert_eq!(server.hits(), 1);
    }

    #[test]
    fn secret_key_with_api_url_and_env_fallback() {
        let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
        server.require_bearer(Some("sk_test_good".into()));
        let t = now_token("a");
        let url = server.url();
        let out = cli(
            &[
                "verify",
                "--secret-key",
                "sk_test_good",
                "--api-url",
                &url,
                &t,
            ],
            None,
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let out = cli(
            &[
                "verify",
                "--secret-key",
                "sk_test_bad",
                "--api-url",
                &url,
                &t,
            ],
            None,
            &[],
        );
        assert_eq!(out.status.code(), Some(1));
        let v = &json_lines(&out)[0];
        assert_eq!(v["reason"], "secret-key-invalid");
        assert!(!v["message"].as_str().unwrap().contains("sk_test_bad"));
        let env = [
            ("CLERK_SECRET_KEY", "sk_test_good"),
            ("CLERK_API_URL", url.as_str()),
        ];
        let out = cli(&["verify", &t], None, &env);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        // --api-url applies to a secret key from the environment, and beats CLERK_API_URL: the
        // secret never goes to the default host.
        for env in [
            &[("CLERK_SECRET_KEY", "sk_test_good")][..],
            &[
                ("CLERK_SECRET_KEY", "sk_test_good"),
                ("CLERK_API_URL", "http://127.0.0.1:1"),
            ][..],
        ] {
            let out = cli(
                &[
                    "verify",
                    "--api-url",
                    &url,
                    "--fetch-timeout-ms",
                    "2000",
                    &t,
                ],
                None,
                env,
            );
            assert_eq!(out.status.code(), Some(0), "{env:?}: {out:?}");
        }
        // With a key source from the environment that is not a secret key, --api-url is an error.
        let out = cli(
            &["verify", "--api-url", &url, &t],
            None,
            &[("CLERK_JWKS_URL", server.jwks_url().as_str())],
        );
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--api-url goes with a secret key"));
    }

    #[test]
    fn unreachable_key_source_is_per_token_and_bounded() {
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{closed}/.well-known/jwks.json");
        let input = format!("{}\n{}\n", now_token("a"), now_token("b"));
        let started = Instant::now();
        let out = cli(&["verify", "--jwks", &url], Some(input.as_bytes()), &[]);
        assert_eq!(out.status.code(), Some(1));
        let v = json_lines(&out);
        assert_eq!(v.len(), 2);
        for line in &v {
            assert_eq!(line["valid"], false);
            assert_eq!(line["reason"], "jwk-remote-failed-to-load");
        }
        assert!(started.elapsed() < Duration::from_secs(10));

        // A server that accepts and never answers: bounded by --fetch-timeout-ms.
        let hang = JwksServer::start();
        hang.set_fault(Fault::Hang);
        let started = Instant::now();
        let out = cli(
            &[
                "verify",
                "--jwks",
                &hang.jwks_url(),
                "--fetch-timeout-ms",
                "1000",
                &now_token("a"),
            ],
            None,
            &[],
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(json_lines(&out)[0]["reason"], "jwk-remote-failed-to-load");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn remote_configuration_errors_exit_2() {
        for args in [
            vec!["verify", "--publishable-key", "pk_test_not-base64!"],
            vec!["verify", "--jwks", "http://example.com/jwks.json"],
            vec!["verify", "--api-url", "http://127.0.0.1:1", "--pem", "x"],
            vec![
                "verify",
                "--jwks",
                "https://a/jwks",
                "--fetch-timeout-ms",
                "0",
            ],
        ] {
            let out = cli(&args, Some(b""), &[]);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
            assert!(out.stdout.is_empty());
        }
        let out = cli(
            &["verify", "--jwks", "https://a/x"],
            Some(b""),
            &[("CLERK_PUBLISHABLE_KEY", "nope")],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "an explicit key flag wins over the environment"
        );
    }
}

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    for args in [
        vec!["--help"],
        vec!["help"],
        vec!["verify", "--help"],
        vec!["inspect", "--help"],
        vec!["dev", "mint", "--help"],
    ] {
        let out = cli(&args, None, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
        assert!(out.stderr.is_empty(), "{args:?}");
    }
    let help = stdout(&cli(&["verify", "--help"], None, &[]));
    for env in [
        "CLERK_JWT_KEY",
        "CLERK_JWKS_URL",
        "CLERK_SECRET_KEY",
        "CLERK_PUBLISHABLE_KEY",
        "CLERK_API_URL",
    ] {
        assert!(help.contains(env), "verify --help does not name {env}");
    }
    let out = cli(&["--version"], None, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        format!("clerk-verify {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_are_one_line() {
    for args in [
        vec!["verify", "--jwks"],
        vec!["verify", "--bogus"],
        vec!["frobnicate"],
        vec!["verify", "--pem", "a", "--jwks", "b"],
        vec!["dev", "serve"],
    ] {
        let out = cli(&args, Some(b""), &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("clerk-verify: "), "{err}");
        if args == ["dev", "serve"] {
            assert!(
                err.contains("--key"),
                "the missing key source is named: {err}"
            );
        }
    }
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = cli(&["completions", shell], None, &[]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(script.contains("clerk-verify"), "{shell}");
        assert!(script.contains("authorized-party"), "{shell}");
    }
    assert_eq!(
        cli(&["completions", "tcsh"], None, &[]).status.code(),
        Some(2)
    );
}

#[test]
fn secret_key_file_keeps_the_secret_off_the_command_line() {
    use clerk_dev::JwksServer;
    let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    server.require_bearer(Some("sk_test_fromfile".into()));
    let d = Dir::new("skfile");
    let file = d.file("sk", "sk_test_fromfile\n");
    let t = TokenBuilder::session("a", clerk_dev::now_unix()).sign(fixtures::rsa2048());
    let url = server.url();
    let out = cli(
        &["verify", "--secret-key-file", &file, "--api-url", &url, &t],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = cli(
        &["verify", "--secret-key-file", "/nonexistent/sk", &t],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn summary_tallies_by_reason_on_stderr() {
    let d = Dir::new("summary");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let expired = TokenBuilder::session("b", NOW - 3600).sign(fixtures::rsa2048());
    let input = format!("{}\ngarbage\n{expired}\nnope\n{}\n", token("a"), token("c"));
    let out = cli(
        &["verify", "--jwks", &jwks, "--now", NOW_ARG, "--summary"],
        Some(input.as_bytes()),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_lines(&out).len(), 5);
    let err = stderr(&out);
    assert!(err.contains("5 tokens: 2 valid, 3 invalid"), "{err}");
    assert!(err.contains("2  token-invalid"), "{err}");
    assert!(err.contains("1  token-expired"), "{err}");
}

#[test]
fn many_tokens_on_several_jobs_keep_their_order() {
    let d = Dir::new("jobs");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let mut input = String::new();
    for i in 0..500 {
        if i % 7 == 3 {
            input.push_str("garbage\n");
        } else {
            input.push_str(&token(&format!("user_{i}")));
            input.push('\n');
        }
    }
    let mut outputs = Vec::new();
    for jobs in ["1", "3"] {
        let out = cli(
            &["verify", "--jwks", &jwks, "--now", NOW_ARG, "--jobs", jobs],
            Some(input.as_bytes()),
            &[],
        );
        assert_eq!(out.status.code(), Some(1));
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 500);
        for (i, line) in lines.iter().enumerate() {
            if i % 7 == 3 {
                assert_eq!(line["reason"], "token-invalid", "line {i}");
            } else {
                assert_eq!(line["sub"], format!("user_{i}"), "line {i}");
            }
        }
        outputs.push(out.stdout);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(
        cli(&["verify", "--jobs", "0", "x"], None, &[])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn each_answer_is_written_before_the_next_token_is_read() {
    // A program that feeds tokens one at a time and waits for each answer must not deadlock.
    use std::io::{BufRead, BufReader};
    let d = Dir::new("interactive");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let mut child = Command::new(env!("CARGO_BIN_EXE_clerk-verify"))
        .args(["verify", "--jwks", &jwks, "--now", NOW_ARG])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap());
    for i in 0..3 {
        writeln!(stdin, "{}", token(&format!("user_{i}"))).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        answers.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["sub"], format!("user_{i}"));
    }
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn inspect_decodes_without_verifying() {
    let t = TokenBuilder::session("user_9", NOW)
        .claim(
            "o",
            serde_json::json!({"id": "org_1", "rol": "admin", "per": "read", "fpm": "1"}),
        )
        .claim("fea", "o:invoices")
        .claim("azp", "https://evil.example")
        .sign(fixtures::rsa2048_b());
    let later = (NOW + 180).to_string();
    let out = cli(
        &[
            "inspect",
            "--now",
            &later,
            "--authorized-party",
            "https://app.example",
            &t,
        ],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.starts_with("UNVERIFIED"), "{text}");
    assert!(text.contains("user_9"));
    assert!(text.contains("2027-01-15 08:01:00 UTC"), "{text}");
    assert!(text.contains("expired 2 min ago"), "{text}");
    assert!(
        text.contains("org_1") && text.contains("org:admin"),
        "{text}"
    );
    assert!(text.contains("org:invoices:read"), "{text}");
    assert!(text.contains("token-invalid-authorized-parties"), "{text}");
    assert!(
        text.contains("token-expired") || text.contains("authorized"),
        "{text}"
    );
    // JSON, from standard input.
    let out = cli(
        &["inspect", "--json", "--now", NOW_ARG],
        Some(t.as_bytes()),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = &json_lines(&out)[0];
    assert_eq!(v["verified"], false);
    assert_eq!(v["claims"]["sub"], "user_9");
    assert_eq!(v["header"]["kid"], fixtures::rsa2048_b().kid());
    assert_eq!(v["org"]["permissions"][0], "org:invoices:read");
    assert_eq!(v["problems"].as_array().unwrap().len(), 0, "{v}");
    // Not a token: exit 1, still no trust implied.
    let out = cli(&["inspect", "--json", "nope"], None, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_lines(&out)[0]["reason"], "token-invalid");
}

#[test]
fn on_a_terminal_it_says_it_is_waiting_for_tokens() {
    // `script` (util-linux) runs the command on a pseudo-terminal, as a person typing would.
    let Ok(script) = which("script") else {
        if std::env::var_os("CI").is_some() {
            panic!("`script` (util-linux) is needed for the terminal test");
        }
        eprintln!("!!! skipping: no `script` (util-linux) to make a terminal");
        return;
    };
    let d = Dir::new("tty");
    let jwks = d.file("jwks.json", fixtures::rsa2048().jwks_json());
    let cmd = format!(
        "{} verify --jwks {jwks} --now {NOW_ARG}",
        env!("CARGO_BIN_EXE_clerk-verify")
    );
    // The terminal's input ends at once (Ctrl-D), so the command prints its notice and exits.
    let out = Command::new(script)
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("waiting for tokens"), "{shown:?}");
    // Not on a pipe: scripts reading the JSON lines never see it.
    let piped = cli(&["verify", "--jwks", &jwks], Some(b""), &[]);
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("waiting"));
}

fn which(program: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
        .ok_or(())
}
