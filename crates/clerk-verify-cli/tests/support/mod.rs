//! What the `serve` tests share: the real `clerk-verify serve` process, a raw HTTP/1.1 client,
//! an upstream that echoes the headers it receives, nginx (with docs/gateway.md's snippets) and
//! Caddy, the tokens and checks the proxy tests share, and the client-forged headers every proxy
//! test sends (`forgery`). Everything listens on 127.0.0.1, every wait is bounded, and every
//! process is killed when its handle drops.

#![allow(dead_code)]

pub mod forgery;

use clerk_dev::{fixtures, now_unix, TokenBuilder};
use serde_json::json;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Longest wait for a process to start or stop, or for a reply.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Every variable the server reads, removed so the machine's environment cannot interfere.
const CLERK_ENV: [&str; 13] = [
    "CLERK_JWT_KEY",
    "CLERK_JWKS_URL",
    "CLERK_FRONTEND_API_URL",
    "CLERK_SECRET_KEY",
    "CLERK_PUBLISHABLE_KEY",
    "CLERK_API_URL",
    "CLERK_AUTHORIZED_PARTIES",
    "CLERK_AUDIENCE",
    "CLERK_ISSUER",
    "CLERK_CLOCK_SKEW_MS",
    "CLERK_PROXY",
    "CLERK_ACCEPTS_TOKEN",
    "CLERK_MACHINE_SECRET_KEY",
];

/// A running `clerk-verify serve`, on a free port of 127.0.0.1.
pub struct Serve {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Serve {
    /// Starts `clerk-verify serve --listen 127.0.0.1:0 ARGS` and waits for its first log line.
    pub fn start(args: &[&str]) -> Serve {
        Serve::start_with_env(args, &[])
    }

    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_clerk-verify"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for name in CLERK_ENV {
            cmd.env_remove(name);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn clerk-verify serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        let reader = thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut serve = Serve {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            log,
            reader: Some(reader),
        };
        let start = Instant::now();
        loop {
            let log = serve.log();
            if let Some(addr) = log
                .lines()
                .find(|l| l.contains("event=listening"))
                .and_then(|l| l.split(" addr=").nth(1))
                .and_then(|rest| rest.split(' ').next())
            {
                serve.addr = addr.parse().unwrap();
                return serve;
            }
            if let Ok(Some(status)) = serve.child.try_wait() {
                panic!("clerk-verify serve exited with {status} before listening:\n{log}");
            }
            assert!(
                start.elapsed() < DEADLINE,
                "clerk-verify serve did not start:\n{log}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything it has written to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once `done` holds for it (lines reach us through a pipe and a reader thread, a
    /// moment after the response): waits at most `DEADLINE`, then returns it anyway.
    pub fn log_when(&self, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if done(&log) || start.elapsed() > DEADLINE {
                return log;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A request to the server.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.addr, method, path, headers)
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.request("GET", path, headers)
    }

    /// Polls `/readyz` until it answers 200, at most `DEADLINE`.
    pub fn wait_ready(&self) {
        let start = Instant::now();
        while self.get("/readyz", &[]).status != 200 {
            assert!(start.elapsed() < DEADLINE, "never ready:\n{}", self.log());
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -TERM failed");
    }

    /// Waits for the process to exit, at most `DEADLINE`.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return status;
            }
            assert!(start.elapsed() < DEADLINE, "did not exit:\n{}", self.log());
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header whose name starts with `prefix` (any case), lower-cased names.
    pub fn headers_starting(&self, prefix: &str) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().starts_with(prefix))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), read to the end. `Host`
/// is the address unless `headers` has one.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut s = TcpStream::connect_timeout(&addr, DEADLINE).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.set_write_timeout(Some(DEADLINE)).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    head.push_str("Connection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the reply");
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The upstream service behind the proxy: answers every request 200 with the headers it
/// received as its body, one `name: value` line each (names lower-cased), and counts requests.
pub struct Upstream {
    pub port: u16,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Upstream {
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, st) = (Arc::clone(&hits), Arc::clone(&stop));
        let thread = thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        h.fetch_add(1, Ordering::SeqCst);
                        let _ = echo(conn);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        Upstream {
            port,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn echo(mut conn: TcpStream) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let body: String = text
        .split("\r\n")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| format!("{}: {}\n", k.trim().to_ascii_lowercase(), v.trim()))
        .collect();
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(reply.as_bytes())
}

/// The upstream's echo of the headers it received: every value of `name`.
pub fn seen(reply: &Reply, name: &str) -> Vec<String> {
    reply
        .body
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .collect()
}

/// A token signed with the fixture key.
pub fn sign(b: TokenBuilder) -> String {
    b.sign(fixtures::rsa2048())
}

/// A member of org_1 with org:invoices:read (v2 claims) and the feature o:invoices.
pub fn member() -> String {
    sign(
        TokenBuilder::session("user_member", now_unix())
            .claim(
                "o",
                json!({"id": "org_1", "rol": "member", "per": "read", "fpm": "1"}),
            )
            .claim("fea", "o:invoices"),
    )
}

/// An admin of org_1.
pub fn admin() -> String {
    sign(
        TokenBuilder::session("user_admin", now_unix())
            .claim("o", json!({"id": "org_1", "rol": "admin"})),
    )
}

/// Asserts a request through a proxy went through to the upstream (one more hit) and returns
/// its echo.
pub fn passed(up: &Upstream, before: usize, r: Reply) -> Reply {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        up.hits(),
        before + 1,
        "the upstream was not reached once: {r:?}"
    );
    r
}

/// Asserts a request through a proxy was refused with `status` and the upstream never saw it.
pub fn refused(up: &Upstream, before: usize, r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(
        up.hits(),
        before,
        "a refused request reached the upstream: {r:?}"
    );
}

/// docs/gateway.md's identity snippet: copy `/auth`'s answer onto the proxied request,
/// overwriting whatever the client sent (an empty value removes the header).
pub const NGINX_IDENTITY_CONF: &str = "\
auth_request_set $clerk_user_id          $upstream_http_x_clerk_user_id;
auth_request_set $clerk_session_id       $upstream_http_x_clerk_session_id;
auth_request_set $clerk_org_id           $upstream_http_x_clerk_org_id;
auth_request_set $clerk_org_role         $upstream_http_x_clerk_org_role;
auth_request_set $clerk_org_permissions  $upstream_http_x_clerk_org_permissions;
auth_request_set $clerk_token_type       $upstream_http_x_clerk_token_type;
auth_request_set $clerk_subject          $upstream_http_x_clerk_subject;
auth_request_set $clerk_scopes           $upstream_http_x_clerk_scopes;
auth_request_set $clerk_auth_status      $upstream_http_x_clerk_auth_status;
auth_request_set $clerk_auth_reason      $upstream_http_x_clerk_auth_reason;
proxy_set_header X-Clerk-User-Id         $clerk_user_id;
proxy_set_header X-Clerk-Session-Id      $clerk_session_id;
proxy_set_header X-Clerk-Org-Id          $clerk_org_id;
proxy_set_header X-Clerk-Org-Role        $clerk_org_role;
proxy_set_header X-Clerk-Org-Permissions $clerk_org_permissions;
proxy_set_header X-Clerk-Token-Type      $clerk_token_type;
proxy_set_header X-Clerk-Subject         $clerk_subject;
proxy_set_header X-Clerk-Scopes          $clerk_scopes;
proxy_set_header X-Clerk-Auth-Status     $clerk_auth_status;
proxy_set_header X-Clerk-Auth-Reason     $clerk_auth_reason;
add_header X-Clerk-Auth-Reason $clerk_auth_reason always;
";

/// docs/gateway.md's auth location body: the subrequest without the body, with the original
/// method, URI, host and scheme, and without the client's copies of the other headers
/// `serve` reads.
pub const NGINX_AUTH_CONF: &str = "\
internal;
proxy_pass_request_body off;
proxy_set_header Content-Length \"\";
proxy_set_header X-Original-Method $request_method;
proxy_set_header X-Original-URI $request_uri;
proxy_set_header X-Forwarded-Host $host;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_set_header X-Forwarded-Method \"\";
proxy_set_header X-Forwarded-Uri \"\";
proxy_set_header X-Envoy-Original-Path \"\";
";

/// A `/auth` location of nginx: `/_clerk/NAME`, asking `serve` at `/auth` + `query`.
pub struct AuthLocation<'a> {
    pub name: &'a str,
    pub serve: SocketAddr,
    pub query: &'a str,
}

/// nginx in front of `upstream` as docs/gateway.md configures it: for each `(prefix, name)` of
/// `protected`, `location PREFIX` asks `/_clerk/NAME` (one of `auths`) with `auth_request`,
/// copies the identity with the docs' snippet, and proxies to the upstream.
pub fn nginx_gateway(
    binary: &Path,
    name: &str,
    auths: &[AuthLocation<'_>],
    protected: &[(&str, &str)],
    upstream: u16,
) -> Nginx {
    let mut server = String::from("server {\n listen 127.0.0.1:PORT;\n");
    for a in auths {
        server.push_str(&format!(
            "location = /_clerk/{} {{ proxy_pass http://{}/auth{}; include DIR/clerk-auth.conf; }}\n",
            a.name, a.serve, a.query
        ));
    }
    for (prefix, auth) in protected {
        server.push_str(&format!(
            "location {prefix} {{ auth_request /_clerk/{auth}; include DIR/clerk-identity.conf; \
             proxy_pass http://127.0.0.1:{upstream}; }}\n"
        ));
    }
    server.push('}');
    Nginx::start(
        binary,
        name,
        &server,
        &[
            ("clerk-identity.conf", NGINX_IDENTITY_CONF),
            ("clerk-auth.conf", NGINX_AUTH_CONF),
        ],
    )
}

/// The nginx binary: `nginx` on the PATH, else Debian's `/usr/sbin/nginx`.
pub fn nginx_binary() -> Option<PathBuf> {
    binary("nginx", "/usr/sbin/nginx")
}

/// The Caddy binary: `caddy` on the PATH, else Debian's `/usr/bin/caddy`.
pub fn caddy_binary() -> Option<PathBuf> {
    binary("caddy", "/usr/bin/caddy")
}

fn binary(name: &str, fallback: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    on_path.or_else(|| {
        let fallback = Path::new(fallback);
        fallback.is_file().then(|| fallback.to_path_buf())
    })
}

/// A proxy test's binary, or `None` after a loud notice when it is missing outside CI. Under CI
/// (`CI` set) a missing proxy fails the test: the check through a real proxy must run there.
pub fn required_proxy(name: &str, found: Option<PathBuf>) -> Option<PathBuf> {
    if found.is_some() {
        return found;
    }
    let msg = format!(
        "{name} NOT FOUND: the gateway test through a real reverse proxy did NOT run. \
         Install it (apt-get install {name}; .ci/run does)."
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    // Straight to the process's standard error: `cargo test` captures `eprintln!` of a
    // passing test, and this notice must be seen.
    let bar = "!".repeat(80);
    let _ = writeln!(std::io::stderr(), "\n{bar}\n!!! SKIPPED: {msg}\n{bar}\n");
    None
}

/// nginx in the foreground, one process, everything under a temporary directory.
pub struct Nginx {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Nginx {
    /// Starts `binary` with an `http {}` block holding `server` (a `server {}` block that must
    /// listen on `127.0.0.1:PORT`, substituted here) and `files` written beside the config.
    pub fn start(binary: &Path, name: &str, server: &str, files: &[(&str, &str)]) -> Nginx {
        let dir = std::env::temp_dir().join(format!("clerk-nginx-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        for (file, content) in files {
            std::fs::write(dir.join(file), content.replace("DIR", &d.to_string())).unwrap();
        }
        let port = free_port();
        let conf = format!(
            "master_process off;\n\
             worker_processes 1;\n\
             error_log {d}/error.log info;\n\
             pid {d}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
               access_log {d}/access.log;\n\
               client_body_temp_path {d}/body;\n\
               proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n\
               uwsgi_temp_path {d}/uwsgi;\n\
               scgi_temp_path {d}/scgi;\n\
               {}\n\
             }}\n",
            server
                .replace("PORT", &port.to_string())
                .replace("DIR", &d.to_string())
        );
        std::fs::write(dir.join("nginx.conf"), &conf).unwrap();
        let child = Command::new(binary)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nginx");
        let mut nginx = Nginx { child, port, dir };
        let start = Instant::now();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = nginx.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!(
                    "nginx exited with {status}: {err}\n{}\nconfig:\n{conf}",
                    nginx.error_log()
                );
            }
            assert!(start.elapsed() < DEADLINE, "nginx did not start");
            thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    pub fn addr(&self) -> SocketAddr {
        format!("127.0.0.1:{}", self.port).parse().unwrap()
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.addr(), method, path, headers)
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Caddy in the foreground with a Caddyfile, its admin endpoint off, no automatic HTTPS, and
/// its home, data and config directories in a temporary directory.
pub struct Caddy {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Caddy {
    /// Starts `binary` on `site` (a Caddyfile site block whose address is `ADDR`, substituted
    /// here with `http://127.0.0.1:<free port>`), after a global block that keeps it off the
    /// network and out of the user's directories.
    pub fn start(binary: &Path, name: &str, site: &str) -> Caddy {
        let dir = std::env::temp_dir().join(format!("clerk-caddy-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["home", "data", "config"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let port = free_port();
        let d = dir.display();
        let caddyfile = format!(
            "{{\n\tadmin off\n\tauto_https off\n\tstorage file_system {d}/data\n}}\n\n{}",
            site.replace("ADDR", &format!("http://127.0.0.1:{port}"))
        );
        std::fs::write(dir.join("Caddyfile"), &caddyfile).unwrap();
        let log = std::fs::File::create(dir.join("caddy.log")).unwrap();
        let child = Command::new(binary)
            .arg("run")
            .arg("--config")
            .arg(dir.join("Caddyfile"))
            .args(["--adapter", "caddyfile"])
            .env("HOME", dir.join("home"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn caddy");
        let mut caddy = Caddy { child, port, dir };
        let start = Instant::now();
        let addr = caddy.addr();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = caddy.child.try_wait() {
                panic!(
                    "caddy exited with {status}:\n{}\nCaddyfile:\n{caddyfile}",
                    caddy.log()
                );
            }
            assert!(
                start.elapsed() < DEADLINE,
                "caddy did not start:\n{}",
                caddy.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
        caddy
    }

    pub fn addr(&self) -> SocketAddr {
        format!("127.0.0.1:{}", self.port).parse().unwrap()
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.addr(), method, path, headers)
    }

    /// What Caddy wrote (JSON lines).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("caddy.log")).unwrap_or_default()
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
