//! `clerk-verify webhook`: verify Clerk webhook deliveries given as JSON lines
//! (`{"headers":{...},"body":"..."}`), one answer line each; exit 0 (all valid), 1 (any
//! invalid), 2 (usage). A valid event with members the typed view could not read is still
//! valid; its line lists them (`"unread"`). Also where every subcommand gets its webhook secret.

use crate::args::{WebhookArgs, WebhookSecret};
use crate::verifier::read_text;
use crate::verify_cmd::{read_capped_line, Line};
use crate::Usage;
use clerk_verify::env::ENV_WEBHOOK_SECRET;
use clerk_verify::webhook::Delivery;
use clerk_verify::{Clock, Error, Webhook};
use serde_json::Value;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::time::Duration;

/// Longest input line: a 1 MiB body, JSON-escaped, with its headers.
const MAX_LINE: u64 = 8 * 1024 * 1024;

/// Runs the subcommand; `Err` is a usage or configuration problem (exit 2).
pub fn run(a: WebhookArgs) -> Result<u8, Usage> {
    let env = |name: &str| std::env::var(name).ok();
    let mut hook = webhook(&a.secret, &env)?.tolerance(Duration::from_secs(a.tolerance_s));
    if let Some(now) = a.now {
        hook = hook.clock(Clock::fixed(now));
    }
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!(
            "clerk-verify: waiting for deliveries on standard input, one JSON line each \
             (Ctrl-D to finish)"
        );
    }
    let mut input = BufReader::with_capacity(256 * 1024, stdin.lock());
    let mut out = BufWriter::new(io::stdout().lock());
    let read_err = |e: io::Error| Usage(format!("cannot read standard input: {e}"));
    let write_err = |e: io::Error| Usage(format!("cannot write to standard output: {e}"));
    let mut any_invalid = false;
    while let Some(line) =
        read_capped_line(&mut input, MAX_LINE, "the line is too long").map_err(read_err)?
    {
        let result = match line {
            Line::Text(text) => answer(&hook, &text),
            Line::Invalid(why) => Err(Error::WebhookInvalidPayload(why.into())),
        };
        let text = match result {
            Ok(d) => valid_line(&d),
            Err(e) => {
                any_invalid = true;
                invalid_line(&e)
            }
        };
        writeln!(out, "{text}").map_err(write_err)?;
        if input.buffer().is_empty() {
            // The next read may block: whoever feeds us may be waiting for this answer.
            out.flush().map_err(write_err)?;
        }
    }
    out.flush().map_err(write_err)?;
    Ok(if any_invalid { 1 } else { 0 })
}

/// The webhook verifier for `--secret`, `--secret-file`, else `CLERK_WEBHOOK_SIGNING_SECRET`.
pub fn webhook(
    secret: &WebhookSecret,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Webhook, Usage> {
    let (text, what) = match (&secret.secret, &secret.secret_file) {
        (Some(s), _) => (s.clone(), "--secret".to_owned()),
        (None, Some(path)) => (
            read_text(path)?,
            format!("--secret-file {}", path.display()),
        ),
        (None, None) => match env(ENV_WEBHOOK_SECRET).filter(|v| !v.trim().is_empty()) {
            Some(s) => (s, ENV_WEBHOOK_SECRET.to_owned()),
            None => {
                return Err(Usage(format!(
                    "no webhook secret: pass --secret or --secret-file, or set {ENV_WEBHOOK_SECRET}"
                )))
            }
        },
    };
    Webhook::new(text.trim()).map_err(|e| Usage(format!("{what}: {e} (reason {})", e.reason())))
}

/// Verifies one input line.
fn answer(hook: &Webhook, line: &str) -> Result<Delivery, Error> {
    let shape = || {
        Error::WebhookInvalidPayload(
            "the input line is not {\"headers\":{...},\"body\":\"<raw body>\"}".into(),
        )
    };
    let input: Value = serde_json::from_str(line).map_err(|_| shape())?;
    let body = input
        .get("body")
        .and_then(Value::as_str)
        .ok_or_else(shape)?;
    // HTTP header names are case-insensitive; the verifier asks in lower case.
    let headers: Vec<(String, &str)> = match input.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(name, value)| Some((name.to_ascii_lowercase(), value.as_str()?)))
            .collect(),
        Some(_) => return Err(shape()),
    };
    hook.verify_event(
        |name| headers.iter().find(|(n, _)| n == name).map(|(_, v)| *v),
        body.as_bytes(),
    )
}

fn valid_line(d: &Delivery) -> String {
    // Written by hand so the member order is the documented one. `unread` (the members the
    // typed view could not read: Clerk's JSON has changed) only when there are some, so the
    // line of every genuine event stays as it always was.
    let unread = match d.event.unread.as_slice() {
        [] => String::new(),
        paths => format!(",\"unread\":{}", Value::from(paths.to_vec())),
    };
    format!(
        "{{\"valid\":true,\"type\":{},\"id\":{}{unread}}}",
        Value::from(d.event.event_type.as_str()),
        Value::from(d.id.as_str())
    )
}

fn invalid_line(e: &Error) -> String {
    format!(
        "{{\"valid\":false,\"reason\":{},\"message\":{}}}",
        Value::from(e.reason()),
        Value::from(e.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_lines() {
        let hook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"type":"email.created","data":{}}"#;
        let ts = clerk_dev::now_unix();
        let sig = hook.sign("msg_1", ts, body.as_bytes());
        let line = serde_json::json!({
            "headers": {"SVIX-ID": "msg_1", "Svix-Timestamp": ts.to_string(), "svix-signature": sig},
            "body": body,
        });
        let d = answer(&hook, &line.to_string()).unwrap();
        assert_eq!(
            valid_line(&d),
            r#"{"valid":true,"type":"email.created","id":"msg_1"}"#
        );
        let body = r#"{"type":"user.deleted","data":{"id":"user_1","deleted":"yes"}}"#;
        let sig = hook.sign("msg_2", ts, body.as_bytes());
        let line = serde_json::json!({
            "headers": {"svix-id": "msg_2", "svix-timestamp": ts.to_string(), "svix-signature": sig},
            "body": body,
        });
        let d = answer(&hook, &line.to_string()).unwrap();
        assert_eq!(
            valid_line(&d),
            r#"{"valid":true,"type":"user.deleted","id":"msg_2","unread":["data.deleted"]}"#
        );
        for bad in [
            "",
            "[]",
            "{\"headers\":{}}",
            "{\"headers\":5,\"body\":\"\"}",
        ] {
            let e = answer(&hook, bad).unwrap_err();
            assert_eq!(e.reason(), "webhook-invalid-payload", "{bad}");
        }
        let e = answer(&hook, r#"{"body":"{}"}"#).unwrap_err();
        assert_eq!(e.reason(), "webhook-missing-headers");
        assert!(invalid_line(&e)
            .starts_with(r#"{"valid":false,"reason":"webhook-missing-headers","message":"#));
    }
}
