//! `clerk-verify verify --accepts-token` and `clerk-verify dev` for machine tokens, run as
//! outside tests run them: the built binary against the dev issuer's fake Backend API on
//! 127.0.0.1 (in this process, or `dev serve` as its own process).

mod command;

use clerk_dev::{fixtures, BackendApi, Fault, JwksServer, OpaqueToken, TokenBuilder};
use command::{cli, json_lines as lines, stdout as text, Dir};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "sk_test_cliMachineSECRET";
const MACHINE_SECRET: &str = "ak_cliMachineSECRETm2m";

/// The fixture key's JWKS and a Backend API that wants both secret keys.
struct Issuer {
    server: JwksServer,
    api: Arc<BackendApi>,
    dir: Dir,
    jwks: String,
    machine_secret_file: String,
}

fn issuer(name: &str) -> Issuer {
    let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let api = server.serve_backend_api(
        BackendApi::new()
            .secret_key(SECRET)
            .machine_secret_key(MACHINE_SECRET),
    );
    let dir = Dir::new(name);
    let jwks = dir.file("jwks.json", fixtures::rsa2048().jwks_json());
    let machine_secret_file = dir.file("msk", format!("{MACHINE_SECRET}\n"));
    Issuer {
        server,
        api,
        dir,
        jwks,
        machine_secret_file,
    }
}

impl Issuer {
    /// `verify --jwks <file> --accepts-token <accepts> --api-url <server>` with the secret keys
    /// from the environment and the machine secret key's file, `extra` flags, `input` on stdin.
    fn verify(&self, accepts: &str, extra: &[&str], input: &str) -> Output {
        let url = self.server.url();
        let mut args = vec![
            "verify",
            "--jwks",
            &self.jwks,
            "--accepts-token",
            accepts,
            "--api-url",
            &url,
            "--machine-secret-key-file",
            &self.machine_secret_file,
        ];
        args.extend(extra);
        cli(
            &args,
            Some(input.as_bytes()),
            &[("CLERK_SECRET_KEY", SECRET)],
        )
    }
}

fn now() -> i64 {
    clerk_dev::now_unix()
}

#[test]
fn every_kind_prints_its_documented_line() {
    let issuer = issuer("kinds");
    let key = OpaqueToken::api_key("user_1")
        .name("ci")
        .scopes(["read"])
        .claims(serde_json::json!({"team": "core"}));
    let key_id = key.id().to_owned();
    let key = issuer.api.mint(key);
    let org_key = issuer.api.mint(OpaqueToken::api_key("org_2"));
    let m2m = OpaqueToken::m2m("mch_1").scopes(["mch_peer"]);
    let m2m_id = m2m.id().to_owned();
    let m2m = issuer.api.mint(m2m);
    let oauth = issuer
        .api
        .mint(OpaqueToken::oauth("user_3", "app_1").scopes(["email", "profile"]));
    let m2m_jwt = TokenBuilder::m2m("mch_9", now())
        .claim("scopes", "read")
        .sign(fixtures::rsa2048());
    let oauth_jwt = TokenBuilder::oauth("user_4", now()).sign(fixtures::rsa2048());
    let session = TokenBuilder::session("user_5", now()).sign(fixtures::rsa2048());
    let input = [&key, &org_key, &m2m, &oauth, &m2m_jwt, &oauth_jwt, &session]
        .map(String::as_str)
        .join("\n");
    let out = issuer.verify("any", &[], &input);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = text(&out);
    let printed: Vec<&str> = text.lines().collect();
    assert_eq!(
        printed[0],
        format!(
            r#"{{"valid":true,"token_type":"api_key","id":"{key_id}","subject":"user_1","scopes":["read"],"claims":{{"team":"core"}},"name":"ci","user_id":"user_1","org_id":null}}"#
        )
    );
    assert!(
        printed[1].ends_with(r#""name":"dev key","user_id":null,"org_id":"org_2"}"#),
        "{}",
        printed[1]
    );
    assert_eq!(
        printed[2],
        format!(
            r#"{{"valid":true,"token_type":"m2m_token","id":"{m2m_id}","subject":"mch_1","scopes":["mch_peer"],"claims":null,"machine_id":"mch_1"}}"#
        )
    );
    let v = lines(&out);
    assert_eq!(v[3]["token_type"], "oauth_token");
    assert_eq!(
        (v[3]["user_id"].as_str(), v[3]["client_id"].as_str()),
        (Some("user_3"), Some("app_1"))
    );
    assert_eq!(v[3]["scopes"], serde_json::json!(["email", "profile"]));
    assert_eq!(v[3]["claims"], Value::Null);
    assert_eq!(
        (v[4]["token_type"].as_str(), v[4]["id"].as_str()),
        (Some("m2m_token"), Some("mt_jwt_test"))
    );
    assert_eq!(v[4]["scopes"], serde_json::json!(["read"]));
    assert_eq!(v[5]["client_id"], "oauth_app_test");
    // A session line keeps today's fields, in today's order, and gains token_type at the end.
    assert!(
        printed[6].starts_with(r#"{"valid":true,"sub":"user_5","sid":"#),
        "{}",
        printed[6]
    );
    assert!(printed[6].ends_with(r#","token_type":"session_token"}"#));
    assert_eq!(
        issuer.api.calls(),
        4,
        "JWT forms and sessions are verified locally"
    );
    assert_eq!(issuer.api.calls_for("m2m_token"), 1);
    // An M2M token's call goes with the machine secret key, from its file.
    let out = issuer.verify("m2m_token", &[], &m2m);
    assert_eq!(out.status.code(), Some(0));
    let sent = issuer.server.last_request_headers();
    assert!(sent.contains(&(
        "authorization".to_owned(),
        format!("Bearer {MACHINE_SECRET}")
    )));
    assert!(issuer.dir.0.exists());
}

#[test]
fn kinds_not_accepted_and_refused_tokens_say_why() {
    let issuer = issuer("refused");
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    let revoked = issuer.api.mint(OpaqueToken::m2m("mch_1"));
    issuer.api.revoke(&revoked);
    let expired = issuer
        .api
        .mint(OpaqueToken::oauth("user_1", "app").expires_at((now() - 60) * 1000));
    let forged = TokenBuilder::m2m("mch_1", now())
        .header("kid", fixtures::rsa2048().kid())
        .sign(fixtures::rsa2048_b());
    let old_jwt = TokenBuilder::oauth("user_1", now() - 7200).sign(fixtures::rsa2048());
    let input = [
        key.as_str(),
        &revoked,
        &expired,
        "ak_unknownTOKEN0123456789",
        "ak_not-one-of-Clerks",
        &forged,
        &old_jwt,
    ]
    .join("\n");
    let out = issuer.verify("api_key,m2m_token,oauth_token", &[], &input);
    assert_eq!(out.status.code(), Some(1));
    let v = lines(&out);
    let got: Vec<(&str, &str)> = v
        .iter()
        .map(|l| {
            (
                l["reason"].as_str().unwrap_or("ok"),
                l["token_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ok", "api_key"),
            ("token-invalid", "m2m_token"),
            ("token-invalid", "oauth_token"),
            ("token-invalid", "api_key"),
            ("token-invalid", "api_key"),
            ("token-verification-failed", "m2m_token"),
            ("token-verification-failed", "oauth_token"),
        ]
    );
    assert_eq!(
        issuer.api.calls(),
        4,
        "the malformed key was refused without a call"
    );

    // The default accepts session tokens only: machine tokens are a type mismatch, no call.
    let session = TokenBuilder::session("user_1", now()).sign(fixtures::rsa2048());
    let calls = issuer.api.calls();
    let out = cli(
        &["verify", "--jwks", &issuer.jwks],
        Some(format!("{key}\n{forged}\n{session}\nnot a token").as_bytes()),
        &[("CLERK_SECRET_KEY", SECRET)],
    );
    let v = lines(&out);
    assert_eq!(
        (v[0]["reason"].as_str(), v[0]["token_type"].as_str()),
        (Some("token-type-mismatch"), Some("api_key"))
    );
    assert_eq!(
        (v[1]["reason"].as_str(), v[1]["token_type"].as_str()),
        (Some("token-type-mismatch"), Some("m2m_token"))
    );
    assert_eq!(
        (v[2]["valid"].as_bool(), v[2]["token_type"].as_str()),
        (Some(true), Some("session_token"))
    );
    assert_eq!(
        (v[3]["reason"].as_str(), v[3]["token_type"].as_str()),
        (Some("token-invalid"), Some("session_token"))
    );
    // An invalid line keeps today's prefix.
    assert!(text(&out)
        .lines()
        .next()
        .unwrap()
        .starts_with(r#"{"valid":false,"reason":"token-type-mismatch","message":"#));
    // A session token where only machines are accepted.
    let out = issuer.verify("m2m_token", &[], &session);
    assert_eq!(lines(&out)[0]["reason"], "token-type-mismatch");
    assert_eq!(issuer.api.calls(), calls);
    // Messages never hold a token.
    assert!(!text(&out).contains(&session[..40]));
}

#[test]
fn an_outage_is_reported_as_one_and_bounded() {
    let issuer = issuer("outage");
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    issuer.api.set_fault(Fault::Status(502));
    let out = issuer.verify("api_key", &[], &key);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out)[0]["reason"], "backend-api-unavailable");
    // Slow: answered within the timeout, not the API's delay.
    issuer.api.set_fault(Fault::Delay(Duration::from_secs(10)));
    let start = Instant::now();
    let out = issuer.verify("api_key", &["--fetch-timeout-ms", "500"], &key);
    assert_eq!(lines(&out)[0]["reason"], "backend-api-unavailable");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // A wrong secret key is the configuration's fault.
    issuer.api.set_fault(Fault::None);
    let url = issuer.server.url();
    let out = cli(
        &[
            "verify",
            "--jwks",
            &issuer.jwks,
            "--accepts-token",
            "any",
            "--api-url",
            &url,
            &key,
        ],
        None,
        &[("CLERK_SECRET_KEY", "sk_test_wrong")],
    );
    assert_eq!(lines(&out)[0]["reason"], "secret-key-invalid");
    // No secret key at all: --api-url has nothing to go with (a usage error); without it, a
    // configuration error per token, and no call.
    let calls = issuer.api.calls();
    let args = ["verify", "--jwks", &issuer.jwks, "--accepts-token", "any"];
    let out = cli(&[&args[..], &["--api-url", &url, &key]].concat(), None, &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = cli(&[&args[..], &[key.as_str()]].concat(), None, &[]);
    assert_eq!(lines(&out)[0]["reason"], "config-invalid");
    assert_eq!(issuer.api.calls(), calls);
    // Down: nothing listens.
    drop(issuer.server);
    let out = cli(
        &[
            "verify",
            "--jwks",
            &issuer.jwks,
            "--accepts-token",
            "any",
            "--api-url",
            &url,
            &key,
        ],
        None,
        &[("CLERK_SECRET_KEY", SECRET)],
    );
    assert_eq!(lines(&out)[0]["reason"], "backend-api-unavailable");
}

#[test]
fn concurrent_lines_with_one_token_share_a_call_and_a_flood_is_bounded() {
    let issuer = issuer("flood");
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    issuer
        .api
        .set_fault(Fault::Delay(Duration::from_millis(500)));
    // 64 lines on 64 threads: all in flight together.
    let input = vec![key.as_str(); 64].join("\n");
    let out = issuer.verify("api_key", &["--jobs", "64"], &input);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(lines(&out).len(), 64);
    assert_eq!(issuer.api.calls(), 1);

    // A flood of made-up API keys: half cannot be Clerk's (no call); the rest are bounded by
    // the calls-per-second budget (100 by default).
    issuer.api.set_fault(Fault::None);
    issuer.api.reset_calls();
    let flood: Vec<String> = (0..1_000)
        .map(|i| {
            if i % 2 == 0 {
                format!("ak_{i}!")
            } else {
                format!("ak_madeUp{i:0>16}")
            }
        })
        .collect();
    let start = Instant::now();
    let out = issuer.verify("api_key", &["--jobs", "1"], &flood.join("\n"));
    let seconds = start.elapsed().as_secs() as usize + 1;
    let v = lines(&out);
    assert_eq!(v.len(), 1_000);
    let calls = issuer.api.calls();
    assert!(calls <= 100 * (1 + seconds), "{calls} calls in {seconds} s");
    let unavailable = v
        .iter()
        .filter(|l| l["reason"] == "backend-api-unavailable")
        .count();
    assert_eq!(
        calls + unavailable + 500,
        1_000,
        "every made-up key was called or shed"
    );
}

/// `clerk-verify dev serve --port 0 --key <key>`, killed (by its own handle) when dropped.
struct DevServe {
    child: Child,
    url: String,
}

impl DevServe {
    fn start(key: &str) -> DevServe {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clerk-verify"))
            .args(["dev", "serve", "--port", "0", "--key", key])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Up to its last line (or its end, should it stop), read on a thread so that a serve
        // that never prints it fails the test in 20 s instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut printed: Vec<String> = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let last = line.trim().starts_with("CLERK_SECRET_KEY=");
                printed.push(line);
                if last {
                    break;
                }
            }
            let _ = tx.send(printed);
        });
        let printed = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(printed) => printed,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("dev serve printed no CLERK_SECRET_KEY line within 20 s");
            }
        };
        let url = printed
            .iter()
            .find_map(|l| l.trim().strip_prefix("CLERK_API_URL="))
            .unwrap_or_else(|| panic!("{printed:?}"))
            .to_owned();
        // Scripts read the Frontend API's lines by position: they come first.
        assert!(
            printed[3].trim().starts_with("CLERK_PUBLISHABLE_KEY="),
            "{printed:?}"
        );
        DevServe { child, url }
    }
}

impl Drop for DevServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn dev_mints_serves_and_revokes_machine_tokens() {
    let d = Dir::new("dev");
    // As a user starts: a dev key and its JWKS.
    let out = cli(&["dev", "keygen", "--out-dir", &d.path("")], None, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (key, jwks) = (d.path("dev-key.pem"), d.path("jwks.json"));
    let serve = DevServe::start(&key);
    let mint = |args: &[&str]| {
        let mut all = vec!["dev", "mint", "--key", &key];
        all.extend(args);
        let out = cli(&all, None, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        text(&out).trim().to_owned()
    };
    let api_key = mint(&[
        "--kind", "api_key", "--sub", "user_1", "--scope", "read", "--name", "ci",
    ]);
    let m2m = mint(&[
        "--kind",
        "m2m_token",
        "--sub",
        "mch_1",
        "--scope",
        "a",
        "--scope",
        "b",
    ]);
    let oauth = mint(&[
        "--kind",
        "oauth_token",
        "--sub",
        "user_2",
        "--client-id",
        "app_9",
    ]);
    let m2m_jwt = mint(&[
        "--kind",
        "m2m_token",
        "--sub",
        "mch_2",
        "--format",
        "jwt",
        "--scope",
        "x",
    ]);
    let oauth_jwt = mint(&[
        "--kind",
        "oauth_token",
        "--sub",
        "user_3",
        "--format",
        "jwt",
    ]);
    let expired = mint(&["--kind", "api_key", "--sub", "user_1", "--ttl", "-60"]);
    let session = mint(&["--sub", "user_4"]);
    assert!(api_key.starts_with("ak_") && m2m.starts_with("mt_") && oauth.starts_with("oat_"));
    assert_eq!(m2m_jwt.split('.').count(), 3);
    assert!(std::path::Path::new(&d.path("machine-tokens.jsonl")).exists());

    let verify = |input: &str| {
        let out = cli(
            &[
                "verify",
                "--jwks",
                &jwks,
                "--accepts-token",
                "any",
                "--api-url",
                &serve.url,
            ],
            Some(input.as_bytes()),
            &[("CLERK_SECRET_KEY", "sk_test_anything")],
        );
        lines(&out)
    };
    let all = [
        &api_key, &m2m, &oauth, &m2m_jwt, &oauth_jwt, &expired, &session,
    ]
    .map(String::as_str)
    .join("\n");
    let v = verify(&all);
    let kinds: Vec<_> = v
        .iter()
        .map(|l| {
            (
                l["valid"].as_bool().unwrap(),
                l["token_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (true, "api_key"),
            (true, "m2m_token"),
            (true, "oauth_token"),
            (true, "m2m_token"),
            (true, "oauth_token"),
            (false, "api_key"),
            (true, "session_token"),
        ]
    );
    assert_eq!(
        (v[0]["name"].as_str(), v[0]["scopes"][0].as_str()),
        (Some("ci"), Some("read"))
    );
    assert_eq!(v[1]["scopes"], serde_json::json!(["a", "b"]));
    assert_eq!(v[2]["client_id"], "app_9");
    assert_eq!(v[3]["scopes"], serde_json::json!(["x"]));

    // Revoked: refused from then on.
    let out = cli(&["dev", "revoke", "--key", &key, &m2m], None, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(verify(&m2m)[0]["reason"], "token-invalid");

    // Usage errors.
    for args in [
        vec!["--kind", "api_key", "--sub", "user_1", "--format", "jwt"],
        vec!["--kind", "m2m_token", "--sub", "user_1"],
        vec!["--sub", "user_1", "--scope", "read"],
        vec!["--kind", "api_key", "--sub", "user_1", "--azp", "http://a"],
    ] {
        let mut all = vec!["dev", "mint", "--key", key.as_str()];
        all.extend(args.iter().copied());
        assert_eq!(cli(&all, None, &[]).status.code(), Some(2), "{args:?}");
    }
    assert_eq!(
        cli(&["dev", "revoke", "ak_x"], None, &[]).status.code(),
        Some(2)
    );
}
