//! Structured logs on standard error: one `key=value` line per record, through the `log`
//! facade (so the core's warnings about the key source land in the same stream).
//!
//! `ts=2025-01-02T03:04:05.678Z level=info target=clerk_verify::serve event=auth status=200 …`
//!
//! Records of [`TARGET`] are already `key=value` pairs built with [`Line`]; any other record's
//! text becomes one quoted `msg=` value. Nothing here ever sees a token: the server logs
//! identifiers (user, session, organization), reasons and the path without its query.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// The target of the server's own records, whose text is `key=value` pairs.
pub const TARGET: &str = "clerk_verify::serve";

/// Longest value written; longer ones (a huge forwarded path) are cut, marked with `…`.
const MAX_VALUE_CHARS: usize = 256;

/// Installs the logger at `level` (`off`, `error`, `warn`, `info`, `debug`).
pub fn init(level: &str) {
    let filter = match level {
        "off" => LevelFilter::Off,
        "error" => LevelFilter::Error,
        "warn" => LevelFilter::Warn,
        "debug" => LevelFilter::Debug,
        _ => LevelFilter::Info,
    };
    // Only fails if a logger is already set, which `serve` never does twice.
    static LOGGER: Stderr = Stderr;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(filter);
    }
}

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = format!(
            "ts={} level={} target={} ",
            timestamp(SystemTime::now()),
            level_name(record.level()),
            record.target()
        );
        if record.target() == TARGET {
            let _ = write!(line, "{}", record.args());
        } else {
            line.push_str("msg=");
            line.push_str(&value(&record.args().to_string()));
        }
        line.push('\n');
        // One write per line, so lines from several threads never interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    }
}

/// `key=value` pairs, values quoted and escaped when they need it.
#[derive(Debug, Default)]
pub struct Line(String);

impl Line {
    /// A line starting with `event=<event>`.
    pub fn event(event: &str) -> Line {
        Line(format!("event={event}"))
    }

    /// Adds `key=value`.
    pub fn kv(mut self, key: &str, v: impl std::fmt::Display) -> Line {
        let v = v.to_string();
        let _ = write!(self.0, " {key}={}", value(&v));
        self
    }

    /// Adds `key=value` when there is a value.
    pub fn opt(self, key: &str, v: Option<impl std::fmt::Display>) -> Line {
        match v {
            Some(v) => self.kv(key, v),
            None => self,
        }
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value as written: bare when it is plain, else in double quotes with `"`, `\` and control
/// characters escaped; cut at [`MAX_VALUE_CHARS`].
fn value(v: &str) -> Cow<'_, str> {
    let plain = !v.is_empty()
        && v.len() <= MAX_VALUE_CHARS
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'=');
    if plain {
        return Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len().min(MAX_VALUE_CHARS) + 2);
    out.push('"');
    for (i, c) in v.chars().enumerate() {
        if i == MAX_VALUE_CHARS {
            out.push('…');
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// RFC 3339 UTC with milliseconds, e.g. `2025-01-02T03:04:05.678Z`.
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn values_are_escaped_and_bounded() {
        assert_eq!(value("user_1"), "user_1");
        assert_eq!(value("org:admin"), "org:admin");
        assert_eq!(value(""), "\"\"");
        assert_eq!(value("a b"), "\"a b\"");
        assert_eq!(value("a=b"), "\"a=b\"");
        assert_eq!(value("x\"y\\z\n\u{1}"), "\"x\\\"y\\\\z\\n\\u{1}\"");
        let long = "p".repeat(1000);
        let cut = value(&long);
        assert_eq!(cut.chars().count(), MAX_VALUE_CHARS + 3);
        assert!(cut.ends_with("…\""));
        let line = Line::event("auth")
            .kv("status", 401)
            .kv("path", "/a b")
            .opt("user", None::<&str>)
            .opt("org", Some("org_1"));
        assert_eq!(
            line.to_string(),
            "event=auth status=401 path=\"/a b\" org=org_1"
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00.000Z");
    }
}
