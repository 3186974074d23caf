//! The test JWKS server, exercised with a tiny std `TcpStream` client.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use clerk_dev::{fixtures, Fault, JwksServer};

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn send(port: u16, path: &str, extra_headers: &[(&str, &str)]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: test\r\n");
    for (n, v) in extra_headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> std::io::Result<Response> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad response");
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| bad())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(bad)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    Ok(Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

#[test]
fn serves_jwks_on_all_paths_and_counts_hits() {
    let server = JwksServer::start();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        server.jwks_url(),
        format!("http://127.0.0.1:{}/.well-known/jwks.json", server.port())
    );
    let jwks = fixtures::rsa2048().jwks_json();
    server.set_jwks(jwks.clone());
    assert_eq!(server.hits(), 0);
    for path in ["/.well-known/jwks.json", "/v1/jwks", "/jwks.json?x=1"] {
        let r = send(server.port(), path, &[]).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, jwks.as_bytes());
        assert_eq!(
            r.header("content-length"),
            Some(jwks.len().to_string().as_str())
        );
        assert_eq!(r.header("connection"), Some("close"));
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    assert_eq!(server.hits(), 3);
    let r = send(server.port(), "/other", &[]).unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(server.hits(), 3);
    server.reset_hits();
    assert_eq!(server.hits(), 0);

    let headers = server.last_request_headers();
    assert!(headers.contains(&("user-agent".to_owned(), "test".to_owned())));
    assert!(headers.iter().any(|(n, _)| n == "host"));
}

#[test]
fn bearer_required_on_backend_path() {
    let server = JwksServer::start_with(r#"{"keys":[]}"#);
    server.require_bearer(Some("sk_test_abc".to_owned()));
    let r = send(server.port(), "/v1/jwks", &[]).unwrap();
    assert_eq!(r.status, 401);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["errors"][0]["code"], "clerk_key_invalid");
    let r = send(
        server.port(),
        "/v1/jwks",
        &[("Authorization", "Bearer wrong")],
    )
    .unwrap();
    assert_eq!(r.status, 401);
    let r = send(
        server.port(),
        "/v1/jwks",
        &[("Authorization", "Bearer sk_test_abc")],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, br#"{"keys":[]}"#);
    assert_eq!(
        server
            .last_request_headers()
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.as_str()),
        Some("Bearer sk_test_abc")
    );
    // The public path is not protected.
    assert_eq!(
        send(server.port(), "/.well-known/jwks.json", &[])
            .unwrap()
            .status,
        200
    );
    server.require_bearer(None);
    assert_eq!(send(server.port(), "/v1/jwks", &[]).unwrap().status, 200);
    assert_eq!(server.hits(), 5);
}

#[test]
fn status_garbage_body_and_close_faults() {
    let server = JwksServer::start();
    server.set_fault(Fault::Status(500));
    let r = send(server.port(), "/.well-known/jwks.json", &[]).unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );

    server.set_fault(Fault::Garbage);
    let r = send(server.port(), "/.well-known/jwks.json", &[]).unwrap();
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());

    server.set_fault(Fault::Body("{\"keys\":7}".to_owned()));
    let r = send(server.port(), "/.well-known/jwks.json", &[]).unwrap();
    assert_eq!(r.body, b"{\"keys\":7}");

    server.set_fault(Fault::CloseImmediately);
    let r = send(server.port(), "/.well-known/jwks.json", &[]);
    assert!(r.is_err(), "no response expected");

    server.set_fault(Fault::None);
    assert_eq!(send(server.port(), "/jwks.json", &[]).unwrap().status, 200);
    assert_eq!(server.hits(), 5);
}

#[test]
fn huge_delivers_exact_size() {
    let server = JwksServer::start();
    let size = 3 * 1024 * 1024 + 17;
    server.set_fault(Fault::Huge(size));
    let r = send(server.port(), "/.well-known/jwks.json", &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), size);
    assert_eq!(r.header("content-length"), Some(size.to_string().as_str()));
    assert!(r.body.starts_with(br#"{"keys":[{"kty":"RSA""#));

    server.set_fault(Fault::Huge(5));
    let r = send(server.port(), "/.well-known/jwks.json", &[]).unwrap();
    assert_eq!(r.body, br#"{"key"#);
}

#[test]
fn delay_answers_late() {
    let server = JwksServer::start_with("{}");
    server.set_fault(Fault::Delay(Duration::from_millis(300)));
    let t = Instant::now();
    let r = send(server.port(), "/.well-known/jwks.json", &[]).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.body, b"{}");
}

#[test]
fn hang_is_dropped_promptly() {
    let server = JwksServer::start();
    server.set_fault(Fault::Hang);
    let port = server.port();
    let client = std::thread::spawn(move || {
        let t = Instant::now();
        let r = send(port, "/.well-known/jwks.json", &[]);
        (
            r.is_err() || r.map(|r| r.body.is_empty()).unwrap_or(true),
            t.elapsed(),
        )
    });
    // Also a connected client that never sends anything.
    let _idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.hits() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.hits(), 1);
    std::thread::sleep(Duration::from_millis(200));

    let t = Instant::now();
    drop(server);
    let drop_time = t.elapsed();
    assert!(
        drop_time < Duration::from_secs(1),
        "drop took {drop_time:?}"
    );

    let (no_response, waited) = client.join().unwrap();
    assert!(no_response);
    assert!(waited < Duration::from_secs(5));
    // The port is closed afterwards.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn concurrent_clients() {
    let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    server.set_fault(Fault::Delay(Duration::from_millis(200)));
    let port = server.port();
    let t = Instant::now();
    let clients: Vec<_> = (0..16)
        .map(|_| std::thread::spawn(move || send(port, "/v1/jwks", &[]).unwrap().status))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), 200);
    }
    // Served in parallel, not one after the other.
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(server.hits(), 16);
}

#[test]
fn start_on_busy_port_fails() {
    let server = JwksServer::start();
    assert!(JwksServer::start_on(server.port()).is_err());
}

#[test]
fn oversized_and_malformed_requests() {
    let server = JwksServer::start();
    let big = "x".repeat(20 * 1024);
    let r = send(server.port(), "/.well-known/jwks.json", &[("X-Big", &big)]);
    // Either a 431 or a reset while we were still writing; never a JWKS.
    if let Ok(r) = r {
        assert_eq!(r.status, 431);
    }
    let mut s = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    s.write_all(b"garbage\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    assert_eq!(parse(&raw).unwrap().status, 400);
    assert_eq!(server.hits(), 0);
}
