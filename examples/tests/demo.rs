//! The README's first command: the `demo` binary prints a token and curl commands, and the
//! printed token works against the app it started; so does the machine command it prints.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{agent, free_port, Killed};

fn get(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let agent = agent();
    let mut req = agent.get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = req.call().unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().read_to_string().unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    (status, json)
}

#[test]
fn demo_prints_a_working_token() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cannot start the demo");
    let stdout = child.stdout.take().unwrap();
    let demo = Killed(child);

    // Read stdout on a thread so that waiting for the token line is bounded in time.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = Vec::new();
    let token = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let token = line.strip_prefix("export TOKEN=").map(str::to_owned);
                printed.push(line);
                if let Some(token) = token {
                    break token;
                }
            }
            Err(e) => panic!("no `export TOKEN=` line within 60 s ({e}); printed: {printed:#?}"),
        }
    };
    assert_eq!(token.split('.').count(), 3, "{token}");
    // The curl commands follow the token line.
    let base = format!("http://127.0.0.1:{port}");
    let mut after = Vec::new();
    while after.len() < 3 {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => after.push(line),
            Err(e) => panic!("curl lines missing ({e}): {after:#?}"),
        }
    }
    assert_eq!(
        after[0],
        format!("curl -i {base}/clerk-jwt -H \"Authorization: Bearer $TOKEN\"")
    );
    assert_eq!(
        after[1],
        format!("curl -i {base}/get-gated -H \"Authorization: Bearer $TOKEN\"")
    );
    assert!(
        after[2].starts_with(&format!("curl -i {base}/get-gated ")),
        "{}",
        after[2]
    );

    let (status, body) = get(&format!("{base}/clerk-jwt"), Some(&token));
    assert_eq!(
        (status, body),
        (200, serde_json::json!({"userId": "user_demo"}))
    );
    let (status, body) = get(&format!("{base}/get-gated"), Some(&token));
    assert_eq!((status, body), (200, serde_json::json!({"foo": "bar"})));
    let (status, body) = get(&format!("{base}/get-gated"), None);
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["reason"], "session-token-and-uat-missing");

    // The machine command: `curl -i <base>/api/machine -H "Authorization: Bearer mt_…"`, done
    // as printed.
    let prefix = format!("curl -i {base}/api/machine -H \"Authorization: Bearer ");
    let machine = loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix(&prefix) {
                    break rest.strip_suffix('"').expect("a closing quote").to_owned();
                }
                after.push(line);
            }
            Err(e) => panic!("no machine curl line ({e}): {after:#?}"),
        }
    };
    assert!(machine.starts_with("mt_"), "{machine}");
    let (status, body) = get(&format!("{base}/api/machine"), Some(&machine));
    assert_eq!(
        (status, body),
        (
            200,
            serde_json::json!({"tokenType": "m2m_token", "subject": "mch_demo", "scopes": ["read"]})
        )
    );
    // The session token is not a machine's.
    let (status, body) = get(&format!("{base}/api/machine"), Some(&token));
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("token-type-mismatch"))
    );
    drop(demo);
}
