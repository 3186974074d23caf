//! `clerk-verify inspect [TOKEN]`: what a token says, decoded WITHOUT verifying it (what jwt.io
//! does, offline), with its times as UTC dates, its organization, and what `verify` would
//! refuse. Exit 0 when it decodes, 1 when it does not, 2 for usage errors.

use crate::args::InspectArgs;
use crate::verify_cmd::{read_line, Line};
use crate::{verifier, Usage};
use clerk_verify::claims::Org;
use clerk_verify::dangerous::{self, Unverified};
use clerk_verify::Error;
use serde_json::{json, Map, Value};
use std::io::{self, BufReader};
use std::time::UNIX_EPOCH;

const BANNER: &str = "UNVERIFIED: decoded without checking the signature; anyone can make a \
                      token say this. Use `clerk-verify verify` to trust it.";

pub fn run(a: InspectArgs) -> Result<u8, Usage> {
    let token = match a.token {
        Some(t) => t,
        None => match read_line(&mut BufReader::new(io::stdin().lock()))
            .map_err(|e| Usage(format!("cannot read standard input: {e}")))?
        {
            Some(Line::Text(t)) => t,
            Some(Line::Invalid(why)) => return Err(Usage(why.into())),
            None => {
                return Err(Usage(
                    "no token: give TOKEN or one on standard input".into(),
                ))
            }
        },
    };
    let opts = verifier::options(&a.rules);
    let now = seconds(opts.clock.now());
    match dangerous::inspect(&token, &opts) {
        Ok(seen) if a.json => println!("{}", as_json(&seen)),
        Ok(seen) => print!("{}", as_text(&seen, now)),
        Err(e) if a.json => {
            println!(
                "{}",
                json!({"verified": false, "decoded": false, "reason": e.reason(), "message": e.to_string()})
            );
            return Ok(1);
        }
        Err(e) => {
            println!("{BANNER}\n\ncannot decode ({}): {e}", e.reason());
            return Ok(1);
        }
    }
    Ok(0)
}

fn as_json(seen: &Unverified) -> Value {
    let org = seen.claims.as_ref().ok().and_then(|c| c.org.as_ref());
    json!({
        "verified": false,
        "decoded": true,
        "header": seen.header,
        "claims": seen.payload,
        "org": org.map(org_json),
        "problems": seen.problems.iter().map(problem_json).collect::<Vec<_>>(),
    })
}

fn org_json(org: &Org) -> Value {
    json!({"id": org.id, "role": org.role, "slug": org.slug, "permissions": org.permissions})
}

fn problem_json(e: &Error) -> Value {
    json!({"reason": e.reason(), "message": e.to_string()})
}

fn as_text(seen: &Unverified, now: i64) -> String {
    let mut out = format!("{BANNER}\n\nheader\n");
    members(&mut out, &seen.header, now);
    out.push_str("\nclaims\n");
    members(&mut out, &seen.payload, now);
    if let Ok(claims) = &seen.claims {
        out.push_str("\norganization\n");
        match &claims.org {
            None => out.push_str("  none active\n"),
            Some(org) => {
                let format = if claims.version == Some(2) {
                    "v2"
                } else {
                    "v1"
                };
                out.push_str(&format!(
                    "  id           {} (from the {format} claims)\n",
                    org.id
                ));
                out.push_str(&format!(
                    "  role         {}\n",
                    org.role.as_deref().unwrap_or("-")
                ));
                out.push_str(&format!(
                    "  slug         {}\n",
                    org.slug.as_deref().unwrap_or("-")
                ));
                let perms = if org.permissions.is_empty() {
                    "-".to_owned()
                } else {
                    org.permissions.join(", ")
                };
                out.push_str(&format!("  permissions  {perms}\n"));
            }
        }
    }
    out.push_str("\nwhat verify would refuse (besides the key and signature, not checked here)\n");
    if seen.problems.is_empty() {
        out.push_str("  nothing\n");
    }
    for e in &seen.problems {
        out.push_str(&format!("  - {}: {e}\n", e.reason()));
    }
    out
}

/// `  name  value`, with time claims also as a UTC date and relative to now.
fn members(out: &mut String, map: &Map<String, Value>, now: i64) {
    let width = map.keys().map(String::len).max().unwrap_or(0).max(3);
    for (name, value) in map {
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let time = match (name.as_str(), value.as_f64()) {
            ("exp" | "nbf" | "iat", Some(t)) if t.is_finite() && t.abs() < 1e12 => {
                format!(
                    "  ({}, {})",
                    utc(t.floor() as i64),
                    relative(name, t.floor() as i64, now)
                )
            }
            _ => String::new(),
        };
        out.push_str(&format!("  {name:<width$}  {shown}{time}\n"));
    }
}

fn relative(claim: &str, t: i64, now: i64) -> String {
    let d = t - now;
    let span = span(d.unsigned_abs());
    match (claim, d >= 0) {
        ("exp", true) => format!("expires in {span}"),
        ("exp", false) => format!("expired {span} ago"),
        ("nbf", true) => format!("valid in {span}"),
        ("nbf", false) => format!("valid since {span} ago"),
        (_, true) => format!("in {span}"),
        (_, false) => format!("issued {span} ago"),
    }
}

fn span(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

/// `2023-11-14 22:13:20 UTC`: the civil date of Unix seconds (Howard Hinnant's algorithm).
fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn seconds(t: std::time::SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative("exp", 100, 280), "expired 3 min ago");
        assert_eq!(relative("exp", 160, 100), "expires in 60 s");
        assert_eq!(relative("iat", 100, 160), "issued 60 s ago");
        assert_eq!(relative("nbf", 10_000, 0), "valid in 2 h");
    }
}
