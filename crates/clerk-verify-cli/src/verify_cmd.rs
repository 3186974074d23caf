//! `clerk-verify verify`: one JSON line per token, exit 0 (all valid), 1 (any invalid), 2 (usage).
//!
//! Output is buffered and flushed whenever the next read of standard input could block, so a
//! pipe of many tokens costs one write per batch while a person typing tokens sees each answer
//! at once. Batches are verified on `--jobs` threads; the output keeps the input's order.

use crate::args::VerifyArgs;
use crate::{verifier, Usage};
use clerk_verify::{Claims, Error, Verifier};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};

/// Most lines verified as one batch (bounds memory and the delay before the first answers).
const MAX_BATCH: usize = 4096;
/// Below this many tokens a batch is verified on the calling thread.
const PARALLEL_FROM: usize = 64;

/// Runs the subcommand; `Err` is a usage or configuration problem (exit 2).
pub fn run(a: VerifyArgs) -> Result<u8, Usage> {
    let env = |name: &str| std::env::var(name).ok();
    let verifier = verifier::build(
        &a.key,
        &a.fetching,
        verifier::remote_options(&a.fetching),
        verifier::options(&a.rules),
        &env,
    )?;
    let jobs = a.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let mut tally = Tally::default();
    let write_err = |e: io::Error| Usage(format!("cannot write to standard output: {e}"));
    match &a.token {
        Some(token) => {
            let line = answer(&verifier, Ok(token));
            tally.count(&line);
            writeln!(out, "{}", line.text).map_err(write_err)?;
        }
        None => {
            let stdin = io::stdin();
            if stdin.is_terminal() {
                eprintln!(
                    "clerk-verify: waiting for tokens on standard input, one per line \
                     (Ctrl-D to finish)"
                );
            }
            let mut input = BufReader::with_capacity(256 * 1024, stdin.lock());
            let read_err = |e: io::Error| Usage(format!("cannot read standard input: {e}"));
            let mut batch = Vec::new();
            loop {
                batch.clear();
                match read_line(&mut input).map_err(read_err)? {
                    Some(line) => batch.push(line),
                    None => break,
                }
                // Take what is already buffered, without waiting for more.
                while batch.len() < MAX_BATCH && !input.buffer().is_empty() {
                    match read_line(&mut input).map_err(read_err)? {
                        Some(line) => batch.push(line),
                        None => break,
                    }
                }
                for line in answers(&verifier, &batch, jobs) {
                    tally.count(&line);
                    writeln!(out, "{}", line.text).map_err(write_err)?;
                }
                if input.buffer().is_empty() {
                    // The next read may block: whoever feeds us may be waiting for these.
                    out.flush().map_err(write_err)?;
                }
            }
        }
    }
    out.flush().map_err(write_err)?;
    if a.summary {
        eprint!("{}", tally.report());
    }
    Ok(if tally.invalid == 0 { 0 } else { 1 })
}

/// One result line and, for an invalid token, its reason.
struct Answer {
    text: String,
    reason: Option<&'static str>,
}

fn answer(verifier: &Verifier, token: Result<&str, Error>) -> Answer {
    match token.and_then(|t| verifier.verify(t)) {
        Ok(claims) => Answer {
            text: valid_line(&claims),
            reason: None,
        },
        Err(e) => Answer {
            text: invalid_line(&e),
            reason: Some(e.reason()),
        },
    }
}

/// The answers for `lines`, in order, on up to `jobs` threads.
fn answers(verifier: &Verifier, lines: &[Line], jobs: usize) -> Vec<Answer> {
    let one = |line: &Line| match line {
        Line::Text(t) => answer(verifier, Ok(t)),
        Line::Invalid(why) => answer(verifier, Err(Error::TokenInvalid((*why).into()))),
    };
    if jobs <= 1 || lines.len() < PARALLEL_FROM {
        return lines.iter().map(one).collect();
    }
    let chunk = lines.len().div_ceil(jobs);
    std::thread::scope(|s| {
        let workers: Vec<_> = lines
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a verification thread panicked"))
            .collect()
    })
}

/// Results by reason, for `--summary`.
#[derive(Default)]
struct Tally {
    valid: usize,
    invalid: usize,
    by_reason: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn count(&mut self, answer: &Answer) {
        match answer.reason {
            None => self.valid += 1,
            Some(reason) => {
                self.invalid += 1;
                *self.by_reason.entry(reason).or_default() += 1;
            }
        }
    }

    fn report(&self) -> String {
        let mut s = format!(
            "clerk-verify: {} tokens: {} valid, {} invalid\n",
            self.valid + self.invalid,
            self.valid,
            self.invalid
        );
        for (reason, n) in &self.by_reason {
            s.push_str(&format!("  {n:>8}  {reason}\n"));
        }
        s
    }
}

fn valid_line(claims: &Claims) -> String {
    // Written by hand so the member order is the documented one whatever serde_json's features.
    let s = |v: Option<&str>| serde_json::to_string(&v).unwrap_or_else(|_| "null".into());
    let all = serde_json::to_string(claims.as_json()).unwrap_or_else(|_| "{}".into());
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
        serde_json::Value::from(e.reason()),
        serde_json::Value::from(e.to_string())
    )
}

/// Longest stdin line read as a token; longer lines are reported invalid without being kept.
const MAX_LINE: u64 = 1024 * 1024;

pub(crate) enum Line {
    Text(String),
    Invalid(&'static str),
}

/// One token per line: `\n` ends a line, one `\r` before it is dropped, nothing else is trimmed.
pub(crate) fn read_line(input: &mut impl BufRead) -> io::Result<Option<Line>> {
    read_capped_line(input, MAX_LINE, "the line is too long to be a token")
}

/// [`read_line`] with another cap, and what to say about a line over it.
pub(crate) fn read_capped_line(
    input: &mut impl BufRead,
    max: u64,
    too_long: &'static str,
) -> io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let n = Read::take(&mut *input, max).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if !buf.ends_with(b"\n") && n as u64 == max {
        // Skip the rest of the overlong line.
        let mut sink = Vec::new();
        loop {
            sink.clear();
            let m = Read::take(&mut *input, max).read_until(b'\n', &mut sink)?;
            if m == 0 || sink.ends_with(b"\n") {
                break;
            }
        }
        return Ok(Some(Line::Invalid(too_long)));
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
    fn parallel_answers_keep_the_input_order() {
        let key = clerk_dev::fixtures::rsa2048();
        let verifier =
            Verifier::from_jwks(&key.jwks_json(), clerk_verify::VerifyOptions::default()).unwrap();
        let now = clerk_dev::now_unix();
        let batch: Vec<Line> = (0..300)
            .map(|i| match i % 3 {
                0 => Line::Text(
                    clerk_dev::TokenBuilder::session(&format!("user_{i}"), now).sign(key),
                ),
                1 => Line::Text(format!("garbage{i}")),
                _ => Line::Invalid("the token is not ASCII text"),
            })
            .collect();
        let serial = answers(&verifier, &batch, 1);
        let parallel = answers(&verifier, &batch, 4);
        assert_eq!(serial.len(), 300);
        for (i, (a, b)) in serial.iter().zip(&parallel).enumerate() {
            assert_eq!(a.text, b.text, "line {i}");
        }
        assert!(parallel[3].text.contains("\"sub\":\"user_3\""));
    }
}
