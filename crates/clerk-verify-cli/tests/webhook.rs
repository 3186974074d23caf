//! `clerk-verify webhook` and `clerk-verify dev sign-webhook`, run as the built binary, against
//! the deliveries Svix's own Python library signed (`clerk_dev::webhooks`).

mod command;

use clerk_dev::webhooks::fixtures;
use command::{json_lines, stderr, stdout, Dir};
use serde_json::Value;
use std::process::{Command, Output};

fn cli(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    command::cli(args, Some(stdin), env)
}

fn all_lines() -> String {
    fixtures()
        .deliveries
        .iter()
        .map(|d| d.json_line() + "\n")
        .collect()
}

fn now_arg() -> String {
    fixtures().signed_at.to_string()
}

#[test]
fn every_svix_fixture_gets_its_line() {
    let f = fixtures();
    let out = cli(
        &["webhook", "--secret", &f.secret, "--now", &now_arg()],
        all_lines().as_bytes(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), f.deliveries.len());
    for (d, line) in f.deliveries.iter().zip(lines) {
        match d.expected_type() {
            Some(event_type) => {
                let id = d.header("svix-id").or(d.header("webhook-id")).unwrap();
                // The documented line, member for member; `unread` only when Clerk's JSON
                // changed.
                let expected = format!(r#"{{"valid":true,"type":"{event_type}","id":"{id}""#);
                let unread = d.expected_unread();
                if unread.is_empty() {
                    assert_eq!(line, format!("{expected}}}"), "{}", d.name);
                } else {
                    assert!(
                        line.starts_with(&format!("{expected},\"unread\":[")),
                        "{line}"
                    );
                    let v: Value = serde_json::from_str(line).unwrap();
                    let mut listed: Vec<&str> = v["unread"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_str().unwrap())
                        .collect();
                    listed.sort_unstable();
                    assert_eq!(listed, unread, "{}", d.name);
                }
            }
            None => {
                let v: Value = serde_json::from_str(line).unwrap();
                let reason = d.expected_reason().unwrap();
                assert!(
                    line.starts_with(&format!(
                        r#"{{"valid":false,"reason":"{reason}","message":"#
                    )),
                    "{}: {line}",
                    d.name
                );
                assert!(!v["message"].as_str().unwrap().is_empty());
                assert!(!line.contains(&f.secret[6..]));
            }
        }
    }
}

#[test]
fn events_whose_json_changed_are_valid() {
    // The issue's repro: a genuine-shaped session.created and organization.created without
    // `created_at`, then other members missing or of another type.
    let f = fixtures();
    let names = [
        "session-created-without-created-at",
        "organization-created-without-created-at",
        "user-updated-without-updated-at",
        "user-created-without-email-addresses",
        "session-without-user-id",
        "organization-renamed-name",
        "envelope-mistyped",
    ];
    let input: String = names
        .iter()
        .map(|n| f.delivery(n).json_line() + "\n")
        .collect();
    let out = cli(
        &["webhook", "--secret", &f.secret, "--now", &now_arg()],
        input.as_bytes(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..2],
        [
            r#"{"valid":true,"type":"session.created","id":"msg_fixture11","unread":["data.created_at"]}"#,
            r#"{"valid":true,"type":"organization.created","id":"msg_fixture12","unread":["data.created_at"]}"#,
        ]
    );
    for (name, v) in names.iter().zip(json_lines(&out)) {
        assert_eq!(v["valid"], true, "{name}");
        assert_eq!(v["type"], f.delivery(name).expected_type().unwrap());
        assert!(!v["unread"].as_array().unwrap().is_empty(), "{name}");
    }
    // Without a usable type or data.id, still invalid.
    for name in [
        "session-without-id",
        "organization-id-not-a-string",
        "no-type",
    ] {
        let out = cli(
            &["webhook", "--secret", &f.secret, "--now", &now_arg()],
            (f.delivery(name).json_line() + "\n").as_bytes(),
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(
            json_lines(&out)[0]["reason"],
            "webhook-invalid-payload",
            "{name}"
        );
    }
}

#[test]
fn exit_zero_when_all_are_valid_and_the_secret_from_a_file_or_the_environment() {
    let f = fixtures();
    let valid: String = f
        .deliveries
        .iter()
        .filter(|d| d.expected_type().is_some())
        .map(|d| d.json_line() + "\n")
        .collect();
    let dir = Dir::new("secret");
    let file = dir.file("secret", format!("{}\n", f.secret));
    let now = now_arg();
    for (args, env) in [
        (
            vec!["webhook", "--secret", &f.secret, "--now", &now],
            vec![],
        ),
        (
            vec!["webhook", "--secret-file", &file, "--now", &now],
            vec![],
        ),
        (
            vec!["webhook", "--now", &now],
            vec![("CLERK_WEBHOOK_SIGNING_SECRET", f.secret.as_str())],
        ),
    ] {
        let out = cli(&args, valid.as_bytes(), &env);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(json_lines(&out).iter().all(|v| v["valid"] == true));
    }
    // A flag beats the environment.
    let out = cli(
        &["webhook", "--secret", &f.other_secret, "--now", &now],
        valid.as_bytes(),
        &[("CLERK_WEBHOOK_SIGNING_SECRET", &f.secret)],
    );
    assert_eq!(out.status.code(), Some(1));
    let verdicts = json_lines(&out);
    let names = f.deliveries.iter().filter(|d| d.expected_type().is_some());
    for (d, v) in names.zip(&verdicts) {
        // The rotation fixture carries a signature by each secret.
        let expected = if d.name == "rotated-secret" {
            Value::Null
        } else {
            "webhook-invalid-signature".into()
        };
        assert_eq!(v["reason"], expected, "{}", d.name);
    }
}

#[test]
fn usage_errors_exit_2() {
    let f = fixtures();
    let line = f.delivery("user-created").json_line();
    let no_secret = cli(&["webhook"], line.as_bytes(), &[]);
    assert_eq!(no_secret.status.code(), Some(2));
    assert!(
        stderr(&no_secret).contains("CLERK_WEBHOOK_SIGNING_SECRET"),
        "{}",
        stderr(&no_secret)
    );
    assert!(no_secret.stdout.is_empty());
    let bad = cli(
        &["webhook", "--secret", "whsec_not base64!"],
        line.as_bytes(),
        &[],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("webhook-invalid-secret"),
        "{}",
        stderr(&bad)
    );
    assert!(
        !stderr(&bad).contains("not base64!"),
        "the secret is not echoed"
    );
    let both = cli(
        &[
            "webhook",
            "--secret",
            &f.secret,
            "--secret-file",
            "/dev/null",
        ],
        line.as_bytes(),
        &[],
    );
    assert_eq!(both.status.code(), Some(2));
    let tolerance = cli(
        &["webhook", "--secret", &f.secret, "--tolerance-s", "-1"],
        line.as_bytes(),
        &[],
    );
    assert_eq!(tolerance.status.code(), Some(2));
}

#[test]
fn the_clock_and_the_tolerance() {
    let f = fixtures();
    let input = format!(
        "{}\n{}\n",
        f.delivery("stale").json_line(),
        f.delivery("tolerance-edge").json_line()
    );
    let now = now_arg();
    let judge = |extra: &[&str]| {
        let mut args = vec!["webhook", "--secret", &f.secret];
        args.extend_from_slice(extra);
        let out = cli(&args, input.as_bytes(), &[]);
        json_lines(&out)
            .iter()
            .map(|v| v["reason"].as_str().unwrap_or("valid").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        judge(&["--now", &now]),
        ["webhook-timestamp-too-old", "valid"]
    );
    assert_eq!(
        judge(&["--now", &now, "--tolerance-s", "400"]),
        ["valid", "valid"]
    );
    assert_eq!(
        judge(&["--now", &now, "--tolerance-s", "299"]),
        ["webhook-timestamp-too-old", "webhook-timestamp-too-old"]
    );
    // Without --now, the system clock: the fixtures were signed in 2023.
    assert_eq!(
        judge(&[]),
        ["webhook-timestamp-too-old", "webhook-timestamp-too-old"]
    );
}

#[test]
fn malformed_lines_are_invalid_deliveries() {
    let f = fixtures();
    let input = format!(
        "not json\n{{\"headers\":{{}}}}\n\n{{\"body\":\"{{}}\"}}\n{}\n",
        f.delivery("user-created").json_line()
    );
    let out = cli(
        &["webhook", "--secret", &f.secret, "--now", &now_arg()],
        input.as_bytes(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let reasons: Vec<String> = json_lines(&out)
        .iter()
        .map(|v| v["reason"].as_str().unwrap_or("valid").to_owned())
        .collect();
    assert_eq!(
        reasons,
        [
            "webhook-invalid-payload",
            "webhook-invalid-payload",
            "webhook-invalid-payload",
            "webhook-missing-headers",
            "valid"
        ]
    );
}

#[test]
fn sign_webhook_matches_svix() {
    let f = fixtures();
    let dir = Dir::new("sign");
    for name in ["user-created", "unicode-names", "not-json"] {
        let d = f.delivery(name);
        let body = dir.file(name, &d.body);
        let out = cli(
            &[
                "dev",
                "sign-webhook",
                "--secret",
                &f.secret,
                "--id",
                d.header("svix-id").unwrap(),
                "--timestamp",
                d.header("svix-timestamp").unwrap(),
                "--body",
                &body,
            ],
            b"",
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let expected = format!(
            "svix-id: {}\nsvix-timestamp: {}\nsvix-signature: {}\n",
            d.header("svix-id").unwrap(),
            d.header("svix-timestamp").unwrap(),
            d.header("svix-signature").unwrap()
        );
        assert_eq!(stdout(&out), expected, "{name}");
    }
}

#[test]
fn sign_webhook_then_verify_round_trip() {
    let f = fixtures();
    let body = f.delivery("user-created").body.clone();
    let signed = cli(
        &["dev", "sign-webhook", "--json"],
        body.as_bytes(),
        &[("CLERK_WEBHOOK_SIGNING_SECRET", &f.secret)],
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let line = json_lines(&signed).remove(0);
    assert_eq!(line["body"], body.as_str());
    let id = line["headers"]["svix-id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("msg_") && id.len() == 36, "{id}");
    let ts: i64 = line["headers"]["svix-timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((ts - clerk_dev::now_unix()).abs() < 60);
    // Now, with the real clock.
    let out = cli(
        &["webhook", "--secret", &f.secret],
        format!("{line}\n").as_bytes(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        format!("{{\"valid\":true,\"type\":\"user.created\",\"id\":\"{id}\"}}\n")
    );
    // Each run gets its own id.
    let again = cli(
        &["dev", "sign-webhook", "--json", "--secret", &f.secret],
        body.as_bytes(),
        &[],
    );
    assert_ne!(json_lines(&again)[0]["headers"]["svix-id"], id.as_str());
}

#[test]
fn sign_webhook_prints_a_curl_command() {
    let f = fixtures();
    let body = "{\"type\":\"user.deleted\",\"data\":{\"id\":\"user_o'brien\"}}\n";
    let out = cli(
        &[
            "dev",
            "sign-webhook",
            "--secret",
            &f.secret,
            "--id",
            "msg_1",
            "--timestamp",
            "1700000000",
            "--url",
            "http://127.0.0.1:3000/webhooks/clerk",
        ],
        body.as_bytes(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let curl = stdout(&out);
    let signature = clerk_verify::Webhook::new(&f.secret).unwrap().sign(
        "msg_1",
        1_700_000_000,
        body.as_bytes(),
    );
    assert!(
        curl.starts_with(
            "curl -sS -X POST 'http://127.0.0.1:3000/webhooks/clerk' -H 'content-type: application/json' -H 'svix-id: msg_1' -H 'svix-timestamp: 1700000000'"
        ),
        "{curl}"
    );
    assert!(curl.contains(&format!("-H 'svix-signature: {signature}'")));
    // The shell gives the body back byte for byte, quote and newline included.
    let quoted = curl
        .trim_end_matches('\n')
        .split("--data-binary ")
        .nth(1)
        .unwrap();
    let echoed = Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' {quoted}"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(echoed.stdout).unwrap(), body);

    // A body file is referenced, not inlined.
    let dir = Dir::new("curl");
    let file = dir.file("body.json", body);
    let out = cli(
        &[
            "dev",
            "sign-webhook",
            "--secret",
            &f.secret,
            "--body",
            &file,
            "--url",
            "http://127.0.0.1:3000/webhooks/clerk",
        ],
        b"",
        &[],
    );
    assert!(
        stdout(&out)
            .trim_end()
            .ends_with(&format!("--data-binary '@{file}'")),
        "{}",
        stdout(&out)
    );
}
