//! `clerk-verify verify`: one JSON line per token, exit 0 (all valid), 1 (any invalid), 2 (usage).
//!
//! Output is buffered and flushed whenever the next read of standard input could block, so a
//! pipe of many tokens costs one write per batch while a person typing tokens sees each answer
//! at once. Batches are verified on `--jobs` threads; the output keeps the input's order.

use crate::args::VerifyArgs;
use crate::{verifier, Usage};
use clerk_verify::machine::{kind_of, MachineAuth, Verified};
use clerk_verify::options::AcceptsToken;
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
    let accepts = a
        .machines
        .accepts_token
        .unwrap_or(AcceptsToken::SESSION_TOKEN);
    let machine = verifier::machine_options(&a.key, &a.fetching, &a.machines, &env)?;
    // --api-url is also where opaque machine tokens are verified: with keys from elsewhere (a
    // PEM, a JWKS), it names only that.
    let mut fetching = a.fetching.clone();
    let machine_key = machine.secret_key.is_some() || machine.machine_secret_key.is_some();
    if accepts.accepts_machines() && machine_key && !verifier::keys_from_secret_key(&a.key, &env) {
        fetching.api_url = None;
    }
    let verifier = verifier::build(
        &a.key,
        &fetching,
        verifier::remote_options(&a.fetching),
        verifier::options(&a.rules).machine(machine),
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
            let line = answer(&verifier, accepts, Ok(token));
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
            if jobs <= 1 {
                // One thread: each line read into one buffer, its answer written straight out.
                let (mut buf, mut text) = (Vec::new(), String::new());
                while let Some(line) =
                    read_line_into(&mut input, &mut buf, MAX_LINE, TOO_LONG).map_err(read_err)?
                {
                    text.clear();
                    let token = line.map_err(|why| Error::TokenInvalid(why.into()));
                    tally.count_reason(answer_into(&verifier, accepts, token, &mut text));
                    out.write_all(text.as_bytes())
                        .and_then(|()| out.write_all(b"\n"))
                        .map_err(write_err)?;
                    if input.buffer().is_empty() {
                        // The next read may block: whoever feeds us may be waiting for this.
                        out.flush().map_err(write_err)?;
                    }
                }
                out.flush().map_err(write_err)?;
                if a.summary {
                    eprint!("{}", tally.report());
                }
                return Ok(if tally.invalid == 0 { 0 } else { 1 });
            }
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
                for line in answers(&verifier, accepts, &batch, jobs) {
                    tally.count(&line);
                    out.write_all(line.text.as_bytes())
                        .and_then(|()| out.write_all(b"\n"))
                        .map_err(write_err)?;
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

fn answer(verifier: &Verifier, accepts: AcceptsToken, token: Result<&str, Error>) -> Answer {
    let mut text = String::new();
    let reason = answer_into(verifier, accepts, token, &mut text);
    Answer { text, reason }
}

/// Writes the result line for `token` into `out`; the reason if it is invalid. A session token
/// takes exactly the path `Verifier::verify` takes (only its first bytes are looked at to rule
/// out an opaque machine token), so accepting sessions alone costs what it always did.
fn answer_into(
    verifier: &Verifier,
    accepts: AcceptsToken,
    token: Result<&str, Error>,
    out: &mut String,
) -> Option<&'static str> {
    let token = match token {
        Ok(token) => token,
        Err(e) => {
            push_invalid_line(out, &e, None);
            return Some(e.reason());
        }
    };
    match verifier.verify_accepting(token, accepts) {
        Ok(Verified::Session(claims)) => {
            push_valid_line(out, &claims);
            None
        }
        Ok(Verified::Machine(machine)) => {
            push_machine_line(out, &machine);
            None
        }
        Ok(other) => {
            let e = Error::TokenInvalid(
                format!("a {} is not supported here", other.token_type()).into(),
            );
            push_invalid_line(out, &e, Some(other.token_type()));
            Some(e.reason())
        }
        Err(e) => {
            // The kind the token looks like (read unverified), for the reader of the line.
            push_invalid_line(out, &e, Some(kind_of(token).as_str()));
            Some(e.reason())
        }
    }
}

/// The answers for `lines`, in order, on up to `jobs` threads.
fn answers(verifier: &Verifier, accepts: AcceptsToken, lines: &[Line], jobs: usize) -> Vec<Answer> {
    let one = |line: &Line| match line {
        Line::Text(t) => answer(verifier, accepts, Ok(t)),
        Line::Invalid(why) => answer(verifier, accepts, Err(Error::TokenInvalid((*why).into()))),
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
        self.count_reason(answer.reason);
    }

    fn count_reason(&mut self, reason: Option<&'static str>) {
        match reason {
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

#[cfg(test)]
fn valid_line(claims: &Claims) -> String {
    let mut line = String::new();
    push_valid_line(&mut line, claims);
    line
}

fn push_valid_line(line: &mut String, claims: &Claims) {
    // Written by hand so the member order is the documented one whatever serde_json's features,
    // and so that a line costs little next to the verification itself.
    line.reserve(claims.json_text().len() + 192);
    line.push_str("{\"valid\":true,\"sub\":");
    push_json_str(line, Some(claims.user_id()));
    line.push_str(",\"sid\":");
    push_json_str(line, claims.session_id());
    line.push_str(",\"azp\":");
    push_json_str(line, claims.azp.as_deref());
    line.push_str(",\"org_id\":");
    push_json_str(line, claims.org_id());
    line.push_str(",\"claims\":");
    push_claims(line, claims);
    line.push_str(",\"token_type\":\"session_token\"}");
}

/// A verified machine token's line: `valid`, `token_type`, Clerk's fields in snake_case, then
/// the kind's own (`name`, `user_id`, `org_id` for an API key; `machine_id` for an M2M token;
/// `user_id`, `client_id` for an OAuth access token), `null` when absent.
fn push_machine_line(line: &mut String, m: &MachineAuth) {
    line.push_str("{\"valid\":true,\"token_type\":");
    push_json_str(line, Some(m.token_type()));
    line.push_str(",\"id\":");
    push_json_str(line, Some(m.id()));
    line.push_str(",\"subject\":");
    push_json_str(line, Some(m.subject()));
    line.push_str(",\"scopes\":[");
    for (i, scope) in m.scopes().iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_json_str(line, Some(scope));
    }
    line.push_str("],\"claims\":");
    match m.claims() {
        Some(claims) => {
            line.push_str(&serde_json::to_string(claims).unwrap_or_else(|_| "{}".into()))
        }
        None => line.push_str("null"),
    }
    let own: &[(&str, Option<&str>)] = match m.token_type() {
        "api_key" => &[
            ("name", m.name()),
            ("user_id", m.user_id()),
            ("org_id", m.org_id()),
        ],
        "m2m_token" => &[("machine_id", m.machine_id())],
        _ => &[("user_id", m.user_id()), ("client_id", m.client_id())],
    };
    for (name, value) in own {
        line.push_str(",\"");
        line.push_str(name);
        line.push_str("\":");
        push_json_str(line, *value);
    }
    line.push('}');
}

/// `v` as a JSON string (or `null`), escaped exactly as serde_json does.
fn push_json_str(out: &mut String, v: Option<&str>) {
    match v {
        None => out.push_str("null"),
        // Nothing serde_json would escape: `"`, `\` and control characters.
        Some(s) if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Some(s) => out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "null".into())),
    }
}

/// The claims as serde_json writes `Claims::as_json()`. When the verified payload text is
/// already exactly that (compact, no escapes, integers only, and a map that keeps the token's
/// member order), it is copied as it is: no map is built for the line.
fn push_claims(out: &mut String, claims: &Claims) {
    let json = claims.json_text();
    if map_keeps_order() && is_serde_json_form(json) {
        out.push_str(json);
    } else {
        out.push_str(&serde_json::to_string(claims.as_json()).unwrap_or_else(|_| "{}".into()));
    }
}

/// Whether serde_json's `Map` keeps insertion order (its `preserve_order` feature), so that
/// serialising a parsed object writes its members in the text's order.
fn map_keeps_order() -> bool {
    static KEEPS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KEEPS.get_or_init(|| {
        let mut map = serde_json::Map::new();
        map.insert("b".into(), serde_json::Value::Null);
        map.insert("a".into(), serde_json::Value::Null);
        map.keys().next().map(String::as_str) == Some("b")
    })
}

/// Whether `json` (valid JSON) is what serde_json writes for the value it parses to: no
/// whitespace outside strings, no escape sequences (so strings hold nothing serde_json would
/// escape), and numbers only as integers in canonical form that fit 64 bits.
fn is_serde_json_form(json: &str) -> bool {
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // To the closing quote; an escape anywhere means serde_json may write it
                // otherwise. Eight bytes at a time while none is a quote or a backslash.
                i += 1;
                while let Some(chunk) = bytes.get(i..i + 8) {
                    let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                    if has_byte(word, b'"') || has_byte(word, b'\\') {
                        break;
                    }
                    i += 8;
                }
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        return false;
                    }
                    i += 1;
                }
                i += 1;
            }
            b' ' | b'\t' | b'\n' | b'\r' => return false,
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let number = &json[start..i];
                let digits = number.strip_prefix('-').unwrap_or(number);
                let canonical = !digits.is_empty()
                    && digits.len() <= 18
                    && digits.bytes().all(|d| d.is_ascii_digit())
                    && (digits == "0" || !digits.starts_with('0'))
                    && number != "-0";
                if !canonical {
                    return false;
                }
            }
            _ => i += 1,
        }
    }
    true
}

/// Whether any of the eight bytes of `word` is `byte` (the classic zero-byte test).
fn has_byte(word: u64, byte: u8) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = word ^ (LOW * u64::from(byte));
    x.wrapping_sub(LOW) & !x & HIGH != 0
}

/// An invalid token's line; `token_type` is the kind the token looks like (`null` for a line
/// that is not text).
fn push_invalid_line(out: &mut String, e: &Error, token_type: Option<&str>) {
    out.push_str("{\"valid\":false,\"reason\":");
    push_json_str(out, Some(e.reason()));
    out.push_str(",\"message\":");
    push_json_str(out, Some(&e.to_string()));
    out.push_str(",\"token_type\":");
    push_json_str(out, token_type);
    out.push('}');
}

/// Longest stdin line read as a token; longer lines are reported invalid without being kept.
const MAX_LINE: u64 = 1024 * 1024;
/// What a line over [`MAX_LINE`] is reported as.
const TOO_LONG: &str = "the line is too long to be a token";

pub(crate) enum Line {
    Text(String),
    Invalid(&'static str),
}

/// One token per line: `\n` ends a line, one `\r` before it is dropped, nothing else is trimmed.
pub(crate) fn read_line(input: &mut impl BufRead) -> io::Result<Option<Line>> {
    read_capped_line(input, MAX_LINE, TOO_LONG)
}

/// [`read_line`] with another cap, and what to say about a line over it.
pub(crate) fn read_capped_line(
    input: &mut impl BufRead,
    max: u64,
    too_long: &'static str,
) -> io::Result<Option<Line>> {
    let mut buf = Vec::new();
    Ok(
        read_line_into(input, &mut buf, max, too_long)?.map(|line| match line {
            Ok(text) => Line::Text(text.to_owned()),
            Err(why) => Line::Invalid(why),
        }),
    )
}

/// `Read::take(input, max).read_until(b'\n', buf)`, with a SIMD search for the newline:
/// appends up to and including the next `\n` (or `max` bytes, or to the end) and returns how
/// many bytes it appended.
fn read_until_newline(input: &mut impl BufRead, buf: &mut Vec<u8>, max: u64) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let room = max as usize - total;
        let window = &available[..available.len().min(room)];
        if window.is_empty() {
            return Ok(total);
        }
        let (take, ended) = match memchr::memchr(b'\n', window) {
            Some(at) => (at + 1, true),
            None => (window.len(), false),
        };
        buf.extend_from_slice(&window[..take]);
        input.consume(take);
        total += take;
        if ended || total == max as usize {
            return Ok(total);
        }
    }
}

/// [`read_capped_line`] into `buf` (cleared first): the line's text, or why it cannot be a
/// token.
fn read_line_into<'b>(
    input: &mut impl BufRead,
    buf: &'b mut Vec<u8>,
    max: u64,
    too_long: &'static str,
) -> io::Result<Option<Result<&'b str, &'static str>>> {
    buf.clear();
    let n = read_until_newline(input, buf, max)?;
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
        return Ok(Some(Err(too_long)));
    }
    if buf.ends_with(b"\n") {
        buf.pop();
        if buf.ends_with(b"\r") {
            buf.pop();
        }
    }
    Ok(Some(
        std::str::from_utf8(buf).map_err(|_| "the token is not ASCII text"),
    ))
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

    /// The line's `claims` as the code before the fast path wrote them.
    fn reference_claims(claims: &Claims) -> String {
        serde_json::to_string(claims.as_json()).unwrap()
    }

    #[test]
    fn claims_are_written_as_serde_json_writes_them() {
        let key = clerk_dev::fixtures::rsa2048();
        let verifier =
            Verifier::from_jwks(&key.jwks_json(), clerk_verify::VerifyOptions::default()).unwrap();
        let now = clerk_dev::now_unix();
        let exp = now + 600;
        let payloads = [
            format!(
                r#"{{"sub":"user_1","exp":{exp},"o":{{"id":"org_1","per":"a,b"}},"n":[1,-2,0,true,null]}}"#
            ),
            format!(r#"{{ "sub" : "user_1", "exp" : {exp} }}"#),
            format!(r#"{{"sub":"user_\u0031","exp":{exp},"html":"a<b>&\/"}}"#),
            format!(
                r#"{{"sub":"u","exp":{exp}.0,"f":1.50,"e":1e3,"z":-0,"big":123456789012345678901}}"#
            ),
            format!(r#"{{"z":1,"a":{{"y":2,"b":3}},"sub":"ü 😀","exp":{exp}}}"#),
            format!(
                r#"{{"sub":"a_long_user_id_0123456789","exp":{exp},"l":"abcdefghijklmnopq\u0041z"}}"#
            ),
            format!(
                r#"{{"sub":"a_long_user_id_0123456789","exp":{exp},"l":"abcdefghijklmnopqrstuvwxyz","n":12}}"#
            ),
            format!(r#"{{"sub":"u","exp":{exp},"l":"abcdefgh","m":"abcdefg\"h"}}"#),
        ];
        for payload in payloads {
            let token = clerk_dev::TokenBuilder::empty()
                .raw_payload(&payload)
                .sign(key);
            let claims = verifier.verify(&token).unwrap();
            let mut fast = String::new();
            push_claims(&mut fast, &claims);
            assert_eq!(fast, reference_claims(&claims), "{payload}");
            let line: serde_json::Value = serde_json::from_str(&valid_line(&claims)).unwrap();
            assert_eq!(line["sub"], claims.user_id());
        }
        for s in ["plain", "quote\"", "back\\slash", "ctl\u{1}", "ü", "\u{7f}"] {
            let mut out = String::new();
            push_json_str(&mut out, Some(s));
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
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
        let serial = answers(&verifier, AcceptsToken::ANY, &batch, 1);
        let parallel = answers(&verifier, AcceptsToken::ANY, &batch, 4);
        assert_eq!(serial.len(), 300);
        for (i, (a, b)) in serial.iter().zip(&parallel).enumerate() {
            assert_eq!(a.text, b.text, "line {i}");
        }
        assert!(parallel[3].text.contains("\"sub\":\"user_3\""));
    }
}
