//! A bounded load test of `membership-app`: two instances on one database, webhook deliveries
//! and authenticated reads at the same time for a fixed time, every answer checked. Run through
//! `benches/membership/run.sh`, which builds the release binary and gives this the database
//! (a SQLite file, then a throwaway PostgreSQL); results and conditions: docs/benchmarks.md.
//!
//! Environment: `MEMBERSHIP_APP` (the binary), `BACKEND` (a label), `DATABASE_URL` or
//! `DATABASE_PATH` (handed to both instances), `DURATION_S` (default 20), `WRITERS` (threads
//! sending deliveries, default 4), `READERS` (threads reading, default 8).
//!
//! Writer thread `w` owns users `load_w_*` and sends each an update after the other (Clerk's
//! `updated_at` rising), alternating instances, every fifth one sent again to the other instance
//! (it must answer `duplicate`). Readers ask `GET /users/me` and `GET /articles/accessible` with
//! those users' tokens, alternating instances. Any answer but the expected one (a 5xx, a lost
//! connection, a wrong status) fails the run, and at the end both instances must show each
//! user as their last delivery left them: nothing answered 2xx was lost.

use clerk_dev::webhooks::fixtures;
use clerk_dev::{fixtures as keys, now_unix, TokenBuilder};
use clerk_verify::Webhook;
use serde_json::{json, Value};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const USERS_PER_WRITER: usize = 16;

struct Instance {
    child: Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(bin: &str) -> Instance {
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("CLERK_WEBHOOK_SIGNING_SECRET", &fixtures().secret)
        .env("CLERK_JWT_KEY", keys::rsa2048().public_pem())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for name in ["DATABASE_URL", "DATABASE_PATH"] {
        if let Ok(v) = std::env::var(name) {
            cmd.env(name, v);
        }
    }
    let mut child = cmd.spawn().expect("start membership-app");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("membership-app exited: {status}");
        }
        assert!(Instant::now() < deadline, "membership-app did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Instance {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .max_idle_connections_per_host(64)
        .build()
        .into()
}

/// Status and body, or what went wrong on the way.
fn request(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: String,
) -> Result<(u16, String), String> {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = agent
        .run(req.body(body).unwrap())
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .read_to_string()
        .map_err(|e| format!("{method} {url}: reading the body: {e}"))?;
    Ok((status, body))
}

fn user_id(writer: usize, n: usize) -> String {
    format!("load_{writer}_{n}")
}

fn user_update(id: &str, version: i64) -> Value {
    let tier = ["free", "basic", "premium"][version as usize % 3];
    json!({
        "type": if version == 0 { "user.created" } else { "user.updated" },
        "object": "event",
        "timestamp": 1_800_000_000_000i64 + version,
        "data": {
            "id": id, "object": "user", "first_name": format!("v{version}"), "last_name": "Load",
            "username": null, "external_id": null, "image_url": "https://img.clerk.com/load",
            "primary_email_address_id": "idn_1",
            "email_addresses": [{ "id": "idn_1", "email_address": format!("{id}@example.com"),
                                  "verification": { "status": "verified", "strategy": "email_code" } }],
            "public_metadata": { "tier": tier },
            "private_metadata": {}, "unsafe_metadata": {},
            "created_at": 1_700_000_000_000i64, "updated_at": 1_800_000_000_000i64 + version
        }
    })
}

fn deliver(
    agent: &ureq::Agent,
    base: &str,
    svix_id: &str,
    event: &Value,
) -> Result<String, String> {
    let body = event.to_string();
    let ts = now_unix();
    let signature = Webhook::new(&fixtures().secret)
        .unwrap()
        .sign(svix_id, ts, body.as_bytes());
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("svix-id", svix_id.to_owned()),
        ("svix-timestamp", ts.to_string()),
        ("svix-signature", signature),
    ];
    let (status, body) = request(
        agent,
        "POST",
        &format!("{base}/webhooks/clerk"),
        &headers,
        body,
    )?;
    if status != 200 {
        return Err(format!("delivery {svix_id}: {status} {body}"));
    }
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    Ok(v["status"].as_str().unwrap_or_default().to_owned())
}

/// Latencies of one kind of request.
#[derive(Default)]
struct Sample(Vec<Duration>);

impl Sample {
    fn p(&self, q: f64) -> Duration {
        let mut v = self.0.clone();
        v.sort();
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` runs every bench target: without the script's environment, do nothing.
    let Ok(bin) = std::env::var("MEMBERSHIP_APP") else {
        eprintln!("membership: run through benches/membership/run.sh (MEMBERSHIP_APP unset)");
        return;
    };
    let backend = std::env::var("BACKEND").unwrap_or_else(|_| "?".into());
    let env_num = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let duration = Duration::from_secs(env_num("DURATION_S", 20));
    let writers = env_num("WRITERS", 4) as usize;
    let readers = env_num("READERS", 8) as usize;

    let instances = [start(&bin), start(&bin)];
    let bases: Vec<&str> = instances.iter().map(|i| i.base.as_str()).collect();
    let seed = agent();
    // Every user exists before the readers start (version 0), and an article per tier.
    for w in 0..writers {
        for n in 0..USERS_PER_WRITER {
            let id = user_id(w, n);
            let status = deliver(
                &seed,
                bases[0],
                &format!("msg_{id}_0"),
                &user_update(&id, 0),
            );
            assert_eq!(status.as_deref(), Ok("applied"), "{id}");
        }
    }
    let author = TokenBuilder::session(&user_id(0, 0), now_unix())
        .claim("exp", now_unix() + 3600)
        .sign(keys::rsa2048());
    for tier in ["free", "basic", "premium"] {
        let body = json!({ "title": format!("A {tier} article"), "content": "text", "tier": tier });
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("authorization", format!("Bearer {author}")),
        ];
        let (status, body) = request(
            &seed,
            "POST",
            &format!("{}/articles", bases[1]),
            &headers,
            body.to_string(),
        )
        .unwrap();
        assert_eq!(status, 201, "{body}");
    }

    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (deliveries, reads, last_versions) = std::thread::scope(|s| {
        let write_threads: Vec<_> = (0..writers)
            .map(|w| {
                let (bases, stop) = (&bases, &stop);
                s.spawn(move || {
                    let agent = agent();
                    let mut sample = Sample::default();
                    let mut versions = vec![0i64; USERS_PER_WRITER];
                    let mut k = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        let n = k % USERS_PER_WRITER;
                        versions[n] += 1;
                        let id = user_id(w, n);
                        let svix_id = format!("msg_{id}_{}", versions[n]);
                        let event = user_update(&id, versions[n]);
                        let t = Instant::now();
                        let status = deliver(&agent, bases[k % 2], &svix_id, &event)
                            .unwrap_or_else(|e| panic!("{e}"));
                        sample.0.push(t.elapsed());
                        assert_eq!(status, "applied", "{svix_id}");
                        if k.is_multiple_of(5) {
                            let t = Instant::now();
                            let again = deliver(&agent, bases[(k + 1) % 2], &svix_id, &event)
                                .unwrap_or_else(|e| panic!("{e}"));
                            sample.0.push(t.elapsed());
                            assert_eq!(again, "duplicate", "{svix_id}");
                        }
                        k += 1;
                    }
                    (sample, versions)
                })
            })
            .collect();
        let read_threads: Vec<_> = (0..readers)
            .map(|r| {
                let (bases, stop) = (&bases, &stop);
                s.spawn(move || {
                    let agent = agent();
                    let tokens: Vec<String> = (0..USERS_PER_WRITER)
                        .map(|n| {
                            TokenBuilder::session(&user_id(r % writers, n), now_unix())
                                .claim("exp", now_unix() + 3600)
                                .sign(keys::rsa2048())
                        })
                        .collect();
                    let mut sample = Sample::default();
                    let mut k = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        let path = if k.is_multiple_of(2) {
                            "/users/me"
                        } else {
                            "/articles/accessible"
                        };
                        let url = format!("{}{path}", bases[(k / 2) % 2]);
                        let headers = [(
                            "authorization",
                            format!("Bearer {}", tokens[k % tokens.len()]),
                        )];
                        let t = Instant::now();
                        let (status, body) = request(&agent, "GET", &url, &headers, String::new())
                            .unwrap_or_else(|e| panic!("{e}"));
                        sample.0.push(t.elapsed());
                        assert_eq!(status, 200, "GET {url}: {body}");
                        k += 1;
                    }
                    sample
                })
            })
            .collect();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        let mut deliveries = Sample::default();
        let mut last_versions = Vec::new();
        for t in write_threads {
            let (sample, versions) = t.join().expect("a writer failed");
            deliveries.0.extend(sample.0);
            last_versions.push(versions);
        }
        let mut reads = Sample::default();
        for t in read_threads {
            reads.0.extend(t.join().expect("a reader failed").0);
        }
        (deliveries, reads, last_versions)
    });
    let elapsed = started.elapsed().as_secs_f64();

    // Nothing answered 2xx was lost: each user is as their last delivery left them, on both.
    let check = agent();
    for (w, versions) in last_versions.iter().enumerate() {
        for (n, version) in versions.iter().enumerate() {
            let id = user_id(w, n);
            let token = TokenBuilder::session(&id, now_unix()).sign(keys::rsa2048());
            for base in &bases {
                let headers = [("authorization", format!("Bearer {token}"))];
                let (status, body) = request(
                    &check,
                    "GET",
                    &format!("{base}/users/me"),
                    &headers,
                    String::new(),
                )
                .unwrap();
                assert_eq!(status, 200, "{body}");
                let me: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(me["first_name"], format!("v{version}"), "{id} on {base}");
            }
        }
    }

    let rps = |s: &Sample| s.0.len() as f64 / elapsed;
    println!(
        "| {backend} | {:.0} | {} | {} | {:.0} | {} | {} | {} + {} |",
        rps(&deliveries),
        ms(deliveries.p(0.5)),
        ms(deliveries.p(0.99)),
        rps(&reads),
        ms(reads.p(0.5)),
        ms(reads.p(0.99)),
        deliveries.0.len(),
        reads.0.len(),
    );
}
