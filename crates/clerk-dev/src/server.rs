//! [`JwksServer`]: a small real HTTP/1.1 server on 127.0.0.1 serving a JWKS, with
//! injectable faults; on request also Clerk's handshake endpoints ([`FrontendApi`]) and the
//! Backend API's machine-token verify endpoints ([`BackendApi`]). Only `std::net` and threads;
//! everything stops when it is dropped.

use crate::backend::BackendApi;
use crate::fault::Fault;
use crate::frontend::{FrontendApi, Reply};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Paths answered with the JWKS body.
const JWKS_PATHS: [&str; 3] = ["/.well-known/jwks.json", "/v1/jwks", "/jwks.json"];
/// The path that requires `Authorization: Bearer` when [`JwksServer::require_bearer`] is set.
const BACKEND_API_PATH: &str = "/v1/jwks";
/// Most connection threads alive at once; further connections get a 503.
const MAX_CONNECTIONS: usize = 256;
/// Largest accepted request head.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest accepted request body (the Backend API's session refresh and verify calls send a few
/// hundred bytes of JSON).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Total time a client gets to send its request head, and a response to be written.
const IO_DEADLINE: Duration = Duration::from_secs(5);
/// Socket timeout granularity: how often blocked I/O and waits look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Absolute cap on [`Fault::Hang`] and [`Fault::Delay`], even if the server is leaked.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// How long dropping the server waits for connection threads to finish.
const DROP_JOIN_DEADLINE: Duration = Duration::from_secs(2);

/// A real HTTP/1.1 JWKS server on `127.0.0.1` for tests.
///
/// `GET /.well-known/jwks.json`, `GET /v1/jwks` and `GET /jwks.json` return the body
/// set with [`set_jwks`](Self::set_jwks) (initially `{"keys":[]}`) as
/// `application/json`; other paths get 404, other methods 405. Every response has
/// `Connection: close` and a `Content-Length`.
///
/// Each connection is handled on its own thread (at most 256 at once). Dropping the
/// server stops accepting, makes every connection thread finish promptly (even
/// [`Fault::Hang`] ones) and joins them within a bounded time.
///
/// ```
/// use clerk_dev::{fixtures, JwksServer};
///
/// let server = JwksServer::start();
/// server.set_jwks(fixtures::rsa2048().jwks_json());
/// assert!(server.jwks_url().starts_with("http://127.0.0.1:"));
/// ```
#[derive(Debug)]
pub struct JwksServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    jwks: Mutex<String>,
    fault: Mutex<Fault>,
    bearer: Mutex<Option<String>>,
    last_headers: Mutex<Vec<(String, String)>>,
    frontend: Mutex<Option<Arc<FrontendApi>>>,
    backend: Mutex<Option<Arc<BackendApi>>>,
    hits: AtomicUsize,
    active: AtomicUsize,
    stop: AtomicBool,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl JwksServer {
    /// Starts a server on `127.0.0.1` on an ephemeral port.
    ///
    /// # Panics
    /// If the socket cannot be bound.
    pub fn start() -> JwksServer {
        Self::start_on(0).expect("JwksServer: cannot bind 127.0.0.1:0")
    }

    /// Starts a server serving `jwks` (shortcut for [`start`](Self::start) + [`set_jwks`](Self::set_jwks)).
    pub fn start_with(jwks: impl Into<String>) -> JwksServer {
        Self::start_on_with(0, jwks).expect("JwksServer: cannot bind 127.0.0.1:0")
    }

    /// Starts a server on `127.0.0.1:port` (`0` for an ephemeral port).
    ///
    /// # Errors
    /// If the port cannot be bound (e.g. it is in use) or the thread cannot be spawned.
    pub fn start_on(port: u16) -> io::Result<JwksServer> {
        Self::start_on_with(port, r#"{"keys":[]}"#)
    }

    /// Starts a server on `127.0.0.1:port` serving `jwks` from its very first request.
    ///
    /// # Errors
    /// As [`start_on`](Self::start_on).
    pub fn start_on_with(port: u16, jwks: impl Into<String>) -> io::Result<JwksServer> {
        let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            jwks: Mutex::new(jwks.into()),
            fault: Mutex::new(Fault::None),
            bearer: Mutex::new(None),
            last_headers: Mutex::new(Vec::new()),
            frontend: Mutex::new(None),
            backend: Mutex::new(None),
            hits: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("clerk-dev-jwks-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(JwksServer {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        })
    }

    /// Base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `url() + "/.well-known/jwks.json"`.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.url())
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Sets the body served for the JWKS paths.
    pub fn set_jwks(&self, json: impl Into<String>) {
        *lock(&self.shared.jwks) = json.into();
    }

    /// Sets the fault applied to subsequent JWKS requests ([`Fault::None`] to heal).
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.shared.fault) = fault;
    }

    /// With `Some(secret)`, `GET /v1/jwks` (Clerk's Backend API path) requires the
    /// header `Authorization: Bearer <secret>` and otherwise gets `401` with a Clerk-style
    /// `{"errors":[{"code":"clerk_key_invalid",...}]}` body. `None` removes the requirement.
    pub fn require_bearer(&self, secret: Option<String>) {
        *lock(&self.shared.bearer) = secret;
    }

    /// Serves Clerk's handshake endpoints too (see [`FrontendApi`]), signing with its key;
    /// returns it, to revoke sessions and count handshakes.
    pub fn serve_frontend_api(&self, fapi: FrontendApi) -> Arc<FrontendApi> {
        let fapi = Arc::new(fapi);
        *lock(&self.shared.frontend) = Some(Arc::clone(&fapi));
        fapi
    }

    /// Serves the Backend API's machine-token verify endpoints too (see [`BackendApi`]);
    /// returns it, to mint and revoke tokens, count calls and inject faults. Point a verifier
    /// at it with [`url`](Self::url) as the API URL (`CLERK_API_URL`).
    pub fn serve_backend_api(&self, api: BackendApi) -> Arc<BackendApi> {
        let api = Arc::new(api);
        *lock(&self.shared.backend) = Some(Arc::clone(&api));
        api
    }

    /// Number of JWKS requests received (any JWKS path, counted as soon as the
    /// request head is read, whatever the response).
    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }

    /// Resets [`hits`](Self::hits) to 0.
    pub fn reset_hits(&self) {
        self.shared.hits.store(0, Ordering::SeqCst);
    }

    /// Headers of the last request received (any path), names lower-cased, values trimmed,
    /// in the order sent. Empty before the first request.
    pub fn last_request_headers(&self) -> Vec<(String, String)> {
        lock(&self.shared.last_headers).clone()
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the accept thread sees the stop flag.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(handle) = self.accept_thread.take() {
            if woke {
                // Bounded: the accept thread joins its connections with a deadline.
                let _ = handle.join();
            }
            // If the wake-up failed the accept thread is detached; it exits on the
            // next connection attempt and holds nothing but the listener.
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut handlers: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let accepted = listener.accept();
        if shared.stopping() {
            break;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // E.g. out of file descriptors: back off instead of spinning.
                thread::sleep(POLL);
                continue;
            }
        };
        handlers.retain(|h| !h.is_finished());
        if shared.active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            refuse_busy(stream);
            continue;
        }
        shared.active.fetch_add(1, Ordering::SeqCst);
        let conn_shared = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name("clerk-dev-jwks-conn".to_owned())
            .spawn(move || {
                let _guard = ActiveGuard(&conn_shared.active);
                // Client misbehaviour (resets, timeouts) is not the server's problem.
                let _ = handle_connection(stream, &conn_shared);
            });
        match spawned {
            Ok(h) => handlers.push(h),
            Err(_) => {
                shared.active.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
    drop(listener);
    let deadline = Instant::now() + DROP_JOIN_DEADLINE;
    while !handlers.iter().all(JoinHandle::is_finished) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    for h in handlers {
        if h.is_finished() {
            let _ = h.join();
        }
        // Unfinished ones are detached; they poll the stop flag and end on their own.
    }
}

struct ActiveGuard<'a>(&'a AtomicUsize);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn refuse_busy(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let _ = stream.write_all(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
}

/// A parsed request: its head, and its body when it declared a `Content-Length`.
struct Request {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

enum HeadError {
    TooLarge,
    BodyTooLarge,
    Malformed,
    Io,
}

fn handle_connection(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(POLL))?;
    stream.set_write_timeout(Some(POLL))?;
    let _ = stream.set_nodelay(true);
    let deadline = Instant::now() + IO_DEADLINE;

    let request = match read_head(&mut stream, shared, deadline) {
        Ok(r) => r,
        Err(HeadError::TooLarge) => {
            let body = error_body("request_too_large", "request head too large");
            return respond(
                &mut stream,
                shared,
                431,
                "application/json",
                body.as_bytes(),
            );
        }
        Err(HeadError::BodyTooLarge) => {
            let body = error_body("request_too_large", "request body too large");
            return respond(
                &mut stream,
                shared,
                413,
                "application/json",
                body.as_bytes(),
            );
        }
        Err(HeadError::Malformed) => {
            let body = error_body("bad_request", "malformed request");
            return respond(
                &mut stream,
                shared,
                400,
                "application/json",
                body.as_bytes(),
            );
        }
        Err(HeadError::Io) => return Ok(()),
    };
    *lock(&shared.last_headers) = request.headers.clone();

    let frontend = lock(&shared.frontend).clone();
    if let Some(fapi) = frontend {
        let base = format!("http://{}", stream.local_addr()?);
        let reply = fapi.handle(
            &base,
            &request.method,
            &request.path,
            &request.query,
            &request.headers,
            &request.body,
        );
        if let Some(reply) = reply {
            return respond_reply(&mut stream, shared, reply);
        }
    }

    let backend = lock(&shared.backend).clone();
    if let Some(api) = backend.filter(|api| api.take(&request.path)) {
        return with_fault(&mut stream, shared, api.fault(), |stream| {
            let answer = api.answer(
                &request.method,
                &request.path,
                &request.headers,
                &request.body,
            );
            respond(
                stream,
                shared,
                answer.status,
                "application/json",
                answer.body.as_bytes(),
            )
        });
    }

    if !JWKS_PATHS.contains(&request.path.as_str()) {
        let body = error_body("resource_not_found", "not found");
        return respond(
            &mut stream,
            shared,
            404,
            "application/json",
            body.as_bytes(),
        );
    }
    shared.hits.fetch_add(1, Ordering::SeqCst);
    if request.method != "GET" {
        let body = error_body("method_not_allowed", "method not allowed");
        return respond(
            &mut stream,
            shared,
            405,
            "application/json",
            body.as_bytes(),
        );
    }

    let fault = lock(&shared.fault).clone();
    with_fault(&mut stream, shared, fault, |stream| {
        serve_jwks(stream, shared, &request)
    })
}

/// Answers with `normal`, or as `fault` says instead.
fn with_fault(
    stream: &mut TcpStream,
    shared: &Shared,
    fault: Fault,
    normal: impl FnOnce(&mut TcpStream) -> io::Result<()>,
) -> io::Result<()> {
    match fault {
        Fault::None => normal(stream),
        Fault::Delay(d) => {
            if wait_or_stop(shared, d.min(MAX_WAIT)) {
                return Ok(());
            }
            normal(stream)
        }
        Fault::Status(code) => {
            let body = error_body("injected_fault", &format!("injected status {code}"));
            respond(stream, shared, code, "application/json", body.as_bytes())
        }
        Fault::Hang => {
            wait_or_stop(shared, MAX_WAIT);
            Ok(())
        }
        Fault::Garbage => respond(
            stream,
            shared,
            200,
            "application/json",
            b"<html><body>502 Bad Gateway -- this is not JSON</body></html>",
        ),
        Fault::Body(body) => respond(stream, shared, 200, "application/json", body.as_bytes()),
        Fault::Huge(len) => serve_huge(stream, shared, len),
        Fault::CloseImmediately => {
            let _ = stream.shutdown(Shutdown::Both);
            Ok(())
        }
    }
}

fn serve_jwks(stream: &mut TcpStream, shared: &Shared, request: &Request) -> io::Result<()> {
    let required = lock(&shared.bearer).clone();
    if let (Some(secret), BACKEND_API_PATH) = (required, request.path.as_str()) {
        let expected = format!("Bearer {secret}");
        if request.header("authorization") != Some(expected.as_str()) {
            let body = error_body(
                "clerk_key_invalid",
                "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
            );
            return respond(stream, shared, 401, "application/json", body.as_bytes());
        }
    }
    let body = lock(&shared.jwks).clone();
    respond(stream, shared, 200, "application/json", body.as_bytes())
}

/// Start of the [`Fault::Huge`] body; the rest is `A`s (an endless modulus).
const HUGE_PREFIX: &[u8] = br#"{"keys":[{"kty":"RSA","kid":"huge","use":"sig","alg":"RS256","n":""#;

fn serve_huge(stream: &mut TcpStream, shared: &Shared, len: usize) -> io::Result<()> {
    let head = response_head(200, "application/json", len);
    let deadline = Instant::now() + MAX_WAIT;
    write_all_polling(stream, shared, head.as_bytes(), deadline)?;
    let mut chunk = vec![b'A'; 16 * 1024];
    let prefix_len = HUGE_PREFIX.len().min(len);
    chunk[..prefix_len].copy_from_slice(&HUGE_PREFIX[..prefix_len]);
    let mut sent = 0;
    while sent < len {
        let n = (len - sent).min(chunk.len());
        write_all_polling(stream, shared, &chunk[..n], deadline)?;
        if sent == 0 {
            chunk[..prefix_len].fill(b'A');
        }
        sent += n;
    }
    finish(stream, shared)
}

/// Reads the request head (up to `\r\n\r\n`) and a `Content-Length` body, bounded in size
/// and time.
fn read_head(
    stream: &mut TcpStream,
    shared: &Shared,
    deadline: Instant,
) -> Result<Request, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        if shared.stopping() || Instant::now() >= deadline {
            return Err(HeadError::Io);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Io),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Io),
        }
    };
    if head_end > MAX_HEAD_BYTES {
        return Err(HeadError::TooLarge);
    }
    let text = std::str::from_utf8(&buf[..head_end]).map_err(|_| HeadError::Malformed)?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().ok_or(HeadError::Malformed)?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Err(HeadError::Malformed);
    }
    let without_fragment = target.split('#').next().unwrap_or(target);
    let (path, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HeadError::Malformed)?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    // One length, and no chunked bodies: an ambiguous body is a malformed request.
    let mut lengths = headers.iter().filter(|(n, _)| n == "content-length");
    let declared = match (lengths.next(), lengths.next()) {
        (None, _) => 0,
        (Some((_, v)), None) => v.parse::<usize>().map_err(|_| HeadError::Malformed)?,
        (Some(_), Some(_)) => return Err(HeadError::Malformed),
    };
    if headers.iter().any(|(n, _)| n == "transfer-encoding") {
        return Err(HeadError::Malformed);
    }
    if declared > MAX_BODY_BYTES {
        return Err(HeadError::BodyTooLarge);
    }
    let (method, path, query) = (method.to_owned(), path.to_owned(), query.to_owned());
    let mut body = buf.split_off(head_end + 4);
    while body.len() < declared {
        if shared.stopping() || Instant::now() >= deadline {
            return Err(HeadError::Io);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Io),
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Io),
        }
    }
    body.truncate(declared);
    Ok(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Sleeps up to `d` in short steps; returns `true` if the server is stopping.
fn wait_or_stop(shared: &Shared, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if shared.stopping() {
            return true;
        }
        let now = Instant::now();
        if now >= end {
            return false;
        }
        thread::sleep((end - now).min(POLL));
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        303 => "See Other",
        307 => "Temporary Redirect",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "errors": [{ "code": code, "message": message }] }).to_string()
}

fn response_head(code: u16, content_type: &str, len: usize) -> String {
    format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
        reason(code)
    )
}

fn respond(
    stream: &mut TcpStream,
    shared: &Shared,
    code: u16,
    content_type: &str,
    body: &[u8],
) -> io::Result<()> {
    // These statuses never carry a body.
    let body = if matches!(code, 100..=199 | 204 | 304) {
        &[][..]
    } else {
        body
    };
    let mut response = response_head(code, content_type, body.len()).into_bytes();
    response.extend_from_slice(body);
    write_all_polling(stream, shared, &response, Instant::now() + IO_DEADLINE)?;
    finish(stream, shared)
}

fn respond_reply(stream: &mut TcpStream, shared: &Shared, reply: Reply) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut response = head.into_bytes();
    response.extend_from_slice(reply.body.as_bytes());
    write_all_polling(stream, shared, &response, Instant::now() + IO_DEADLINE)?;
    finish(stream, shared)
}

/// `write_all` with short socket timeouts so a slow reader cannot keep the thread
/// past server drop or `deadline`.
fn write_all_polling(
    stream: &mut TcpStream,
    shared: &Shared,
    mut data: &[u8],
    deadline: Instant,
) -> io::Result<()> {
    while !data.is_empty() {
        if shared.stopping() || Instant::now() >= deadline {
            return Err(io::Error::new(ErrorKind::TimedOut, "write aborted"));
        }
        match stream.write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Half-closes and drains what the client still sends (briefly), so that closing
/// does not reset the connection before the client has read the response.
fn finish(stream: &mut TcpStream, shared: &Shared) -> io::Result<()> {
    stream.flush()?;
    stream.shutdown(Shutdown::Write)?;
    let end = Instant::now() + Duration::from_millis(250);
    let mut sink = [0u8; 1024];
    while Instant::now() < end && !shared.stopping() {
        match stream.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    Ok(())
}
