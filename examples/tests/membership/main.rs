//! `membership-app`, the real binary on 127.0.0.1, on each backend: a temporary SQLite file and
//! a throwaway PostgreSQL (`support::postgres`); a real local JWKS server for session tokens,
//! and webhook deliveries signed with the endpoint's secret. Here the whole story, from
//! sign-up to deletion, across a restart; in `instances` several instances on one PostgreSQL,
//! and in `faults` the database going away and coming back.

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod instances;

use clerk_dev::webhooks::fixtures;
use clerk_dev::{fixtures as keys, JwksServer, TokenBuilder};
use clerk_verify::Webhook;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::postgres::Postgres;
use support::{agent, free_port, Killed};

const BIN: &str = env!("CARGO_BIN_EXE_membership-app");
const ORIGIN: &str = "http://localhost:3000";

/// Where an app keeps its data.
#[derive(Debug, Clone)]
enum Store {
    /// `DATABASE_PATH`.
    Sqlite(PathBuf),
    /// `DATABASE_URL`.
    Postgres(String),
}

impl Store {
    fn sqlite(dir: &TempDir) -> Store {
        Store::Sqlite(dir.0.join("membership.db"))
    }

    fn postgres(pg: &Postgres) -> Store {
        Store::Postgres(pg.url())
    }
}

/// The running binary, killed (SIGKILL: no graceful shutdown) on drop.
struct App {
    child: Killed,
    base: String,
}

impl App {
    fn start(store: &Store, jwks_url: &str) -> App {
        App::spawn(store, jwks_url, Stdio::null())
    }

    /// The app with its standard error (its log) written to `log`.
    fn start_logging(store: &Store, jwks_url: &str, log: &Path) -> App {
        App::spawn(store, jwks_url, std::fs::File::create(log).unwrap().into())
    }

    fn spawn(store: &Store, jwks_url: &str, stderr: Stdio) -> App {
        let port = free_port();
        let (name, value) = match store {
            Store::Sqlite(path) => ("DATABASE_PATH", path.display().to_string()),
            Store::Postgres(url) => ("DATABASE_URL", url.clone()),
        };
        let child = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env(name, value)
            .env("CLERK_WEBHOOK_SIGNING_SECRET", &fixtures().secret)
            .env("CLERK_JWKS_URL", jwks_url)
            .env("CLERK_AUTHORIZED_PARTIES", ORIGIN)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start membership-app");
        let mut child = Killed(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.0.try_wait() {
                panic!("membership-app exited early: {status}");
            }
            assert!(Instant::now() < deadline, "membership-app did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        App {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(t) = token {
            headers.push(("authorization".into(), format!("Bearer {t}")));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        send(method, &format!("{}{path}", self.base), &headers, body)
    }

    /// POSTs `event` to the webhook endpoint as Svix would: signed with `secret` at `ts`.
    fn deliver_as(&self, secret: &str, id: &str, ts: i64, event: &Value) -> Reply {
        self.try_deliver_as(secret, id, ts, event)
            .unwrap_or_else(|e| panic!("delivery {id}: {e}"))
    }

    /// [`App::deliver`], with a connection failure (the app is down) as an error.
    fn try_deliver(&self, id: &str, event: &Value) -> Result<Reply, ureq::Error> {
        self.try_deliver_as(&fixtures().secret, id, clerk_dev::now_unix(), event)
    }

    fn try_deliver_as(
        &self,
        secret: &str,
        id: &str,
        ts: i64,
        event: &Value,
    ) -> Result<Reply, ureq::Error> {
        let body = event.to_string();
        let signature = Webhook::new(secret).unwrap().sign(id, ts, body.as_bytes());
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("svix-id".to_owned(), id.to_owned()),
            ("svix-timestamp".to_owned(), ts.to_string()),
            ("svix-signature".to_owned(), signature),
        ];
        try_send(
            "POST",
            &format!("{}/webhooks/clerk", self.base),
            &headers,
            body,
        )
    }

    fn deliver(&self, id: &str, event: &Value) -> Reply {
        self.deliver_as(&fixtures().secret, id, clerk_dev::now_unix(), event)
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    www_authenticate: Option<String>,
    retry_after: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
    #[track_caller]
    fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }
    #[track_caller]
    fn refused(self, status: u16, reason: &str) -> Reply {
        let r = self.expect(status);
        assert_eq!(r.json()["reason"], reason, "{}", r.body);
        r
    }
}

fn send(method: &str, url: &str, headers: &[(String, String)], body: String) -> Reply {
    try_send(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

fn try_send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: String,
) -> Result<Reply, ureq::Error> {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = agent().run(req.body(body).unwrap())?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (www_authenticate, retry_after) = (header("www-authenticate"), header("retry-after"));
    let body = resp.into_body().read_to_string().unwrap_or_default();
    Ok(Reply {
        status,
        www_authenticate,
        retry_after,
        body,
    })
}

fn token(sub: &str) -> String {
    TokenBuilder::session(sub, clerk_dev::now_unix()).sign(keys::rsa2048())
}

/// A `user.created` / `user.updated` event as Clerk sends it (trimmed).
fn user_event(
    kind: &str,
    id: &str,
    email: &str,
    first: &str,
    tier: Option<&str>,
    updated_at: i64,
) -> Value {
    let metadata = match tier {
        Some(t) => json!({ "tier": t }),
        None => json!({}),
    };
    json!({
        "type": kind,
        "object": "event",
        "data": {
            "id": id,
            "object": "user",
            "first_name": first,
            "last_name": "Tester",
            "primary_email_address_id": "idn_primary",
            "email_addresses": [
                { "id": "idn_other", "email_address": format!("old-{email}") },
                { "id": "idn_primary", "email_address": email }
            ],
            "public_metadata": metadata,
            "private_metadata": {},
            "unsafe_metadata": { "tier": "premium" },
            "created_at": 1_700_000_000_000i64,
            "updated_at": updated_at
        }
    })
}

fn deleted_event(id: &str) -> Value {
    json!({ "type": "user.deleted", "object": "event", "data": { "id": id, "object": "user", "deleted": true } })
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("membership-app-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn titles(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect()
}

#[test]
fn the_whole_story_on_sqlite() {
    let dir = TempDir::new("story");
    the_whole_story(&Store::sqlite(&dir));
}

#[test]
fn the_whole_story_on_postgres() {
    if let Some(pg) = Postgres::start("story") {
        the_whole_story(&Store::postgres(&pg));
    }
}

fn the_whole_story(db: &Store) {
    let jwks = JwksServer::start_with(keys::rsa2048().jwks_json());
    let app = App::start(db, &jwks.jwks_url());
    let (ada, bob, carol) = (token("user_ada"), token("user_bob"), token("user_carol"));
    const T: i64 = 1_800_000_000_000;

    // Sign-up: Clerk tells us about Ada, a premium member (public_metadata; the tier in
    // unsafe_metadata, which users control, is ignored for everyone below).
    let created = user_event(
        "user.created",
        "user_ada",
        "ada@example.com",
        "Ada",
        Some("premium"),
        T,
    );
    let r = app.deliver("msg_ada_1", &created).expect(200);
    assert_eq!(r.json()["status"], "applied");
    let me = app
        .call("GET", "/users/me", Some(&ada), None)
        .expect(200)
        .json();
    assert_eq!(
        me,
        json!({ "id": "user_ada", "email": "ada@example.com", "first_name": "Ada",
                "last_name": "Tester", "tier": "premium" })
    );

    // Replays by svix-id are acknowledged and change nothing, even with another body.
    let r = app.deliver("msg_ada_1", &created).expect(200);
    assert_eq!(r.json()["status"], "duplicate");
    let downgrade = user_event(
        "user.updated",
        "user_ada",
        "ada@example.com",
        "Ada",
        None,
        T + 5,
    );
    assert_eq!(
        app.deliver("msg_ada_1", &downgrade).expect(200).json()["status"],
        "duplicate"
    );
    // An update older than the stored one is acknowledged and ignored.
    let older = user_event(
        "user.updated",
        "user_ada",
        "ada@example.com",
        "Old Ada",
        None,
        T - 1,
    );
    assert_eq!(
        app.deliver("msg_ada_2", &older).expect(200).json()["status"],
        "stale"
    );
    assert_eq!(app.call("GET", "/users/me", Some(&ada), None).json(), me);

    // Forged (another endpoint's secret) and stale (signed 10 minutes ago) deliveries: 400,
    // nothing written, not even their svix-id (the genuine delivery with that id still applies).
    let renamed = user_event(
        "user.updated",
        "user_ada",
        "ada@example.com",
        "Augusta",
        Some("premium"),
        T + 1,
    );
    app.deliver_as(
        &fixtures().other_secret,
        "msg_ada_3",
        clerk_dev::now_unix(),
        &downgrade,
    )
    .refused(400, "webhook-invalid-signature");
    app.deliver_as(
        &fixtures().secret,
        "msg_ada_3",
        clerk_dev::now_unix() - 600,
        &downgrade,
    )
    .refused(400, "webhook-timestamp-too-old");
    let r = app
        .deliver_as(
            &fixtures().secret,
            "msg_ada_3",
            clerk_dev::now_unix() + 600,
            &downgrade,
        )
        .refused(400, "webhook-timestamp-too-new");
    assert_eq!(r.json()["error"], "bad_request");
    assert_eq!(r.www_authenticate, None);
    assert_eq!(
        app.call("GET", "/users/me", Some(&ada), None).json()["tier"],
        "premium"
    );
    assert_eq!(
        app.deliver("msg_ada_3", &renamed).expect(200).json()["status"],
        "applied"
    );
    assert_eq!(
        app.call("GET", "/users/me", Some(&ada), None).json()["first_name"],
        "Augusta"
    );
    // A delivery signed by Svix's own library in 2023 is stale today: 400, nothing written.
    let svix_signed = fixtures().delivery("user-created");
    let headers: Vec<(String, String)> = svix_signed.headers.clone();
    let r = send(
        "POST",
        &format!("{}/webhooks/clerk", app.base),
        &headers,
        svix_signed.body.clone(),
    );
    r.refused(400, "webhook-timestamp-too-old");
    let r = app
        .call("GET", "/users/me", Some(&token("user_2ada")), None)
        .expect(200);
    assert_eq!(
        r.json()["email"],
        Value::Null,
        "the stale delivery wrote nothing"
    );
    // Oversized and unsigned deliveries.
    let big = json!({ "type": "user.updated", "data": { "padding": "x".repeat(1024 * 1024) } });
    app.deliver("msg_big", &big)
        .refused(400, "webhook-body-too-large");
    send(
        "POST",
        &format!("{}/webhooks/clerk", app.base),
        &[],
        created.to_string(),
    )
    .refused(400, "webhook-missing-headers");

    // Bob signs in before Clerk's webhook arrives: a provisional free record, then filled in.
    let provisional = app
        .call("GET", "/users/me", Some(&bob), None)
        .expect(200)
        .json();
    assert_eq!(
        provisional,
        json!({ "id": "user_bob", "email": null, "first_name": null, "last_name": null, "tier": "free" })
    );
    let bob_created = user_event(
        "user.created",
        "user_bob",
        "bob@example.com",
        "Bob",
        Some("basic"),
        T,
    );
    app.deliver("msg_bob_1", &bob_created).expect(200);
    let bob_me = app.call("GET", "/users/me", Some(&bob), None).json();
    assert_eq!(
        (bob_me["email"].as_str(), bob_me["tier"].as_str()),
        (Some("bob@example.com"), Some("basic"))
    );
    app.deliver(
        "msg_carol_1",
        &user_event(
            "user.created",
            "user_carol",
            "carol@example.com",
            "Carol",
            None,
            T,
        ),
    )
    .expect(200);
    assert_eq!(
        app.call("GET", "/users/me", Some(&carol), None).json()["tier"],
        "free"
    );
    app.call("GET", "/users/me", None, None)
        .refused(401, "session-token-and-uat-missing");

    // Articles, one per tier, by Ada.
    let mut ids = Vec::new();
    for (title, tier) in [
        ("Free news", "free"),
        ("Basic guide", "basic"),
        ("Premium deep dive", "premium"),
    ] {
        let body = json!({ "title": title, "content": format!("{title} text"), "tier": tier });
        let a = app
            .call("POST", "/articles", Some(&ada), Some(body))
            .expect(201)
            .json();
        assert_eq!(
            (
                a["title"].as_str(),
                a["tier"].as_str(),
                a["author"].as_str()
            ),
            (Some(title), Some(tier), Some("user_ada"))
        );
        ids.push(a["id"].as_i64().unwrap());
    }
    let (free, basic, premium) = (ids[0], ids[1], ids[2]);
    let body = json!({ "title": "x", "content": "y", "tier": "free" });
    app.call("POST", "/articles", None, Some(body)).expect(401);
    let gold = json!({ "title": "x", "content": "y", "tier": "gold" });
    app.call("POST", "/articles", Some(&ada), Some(gold))
        .refused(400, "invalid-body");
    let untitled = json!({ "title": " ", "content": "y", "tier": "free" });
    app.call("POST", "/articles", Some(&ada), Some(untitled))
        .refused(400, "invalid-body");

    // Who reads what.
    let anonymous = app
        .call("GET", "/articles/accessible", None, None)
        .expect(200)
        .json();
    assert_eq!(
        anonymous,
        json!([{ "id": free, "title": "Free news", "tier": "free", "author": "user_ada" }])
    );
    let list = |t: &str| {
        titles(
            &app.call("GET", "/articles/accessible", Some(t), None)
                .expect(200)
                .json(),
        )
        .len()
    };
    assert_eq!((list(&carol), list(&bob), list(&ada)), (1, 2, 3));
    let read = |id: i64, t: Option<&str>| app.call("GET", &format!("/articles/{id}"), t, None);
    let r = read(free, None).expect(200).json();
    assert_eq!(r["content"], "Free news text");
    let r = read(basic, None).refused(401, "sign-in-required");
    assert_eq!(r.www_authenticate.as_deref(), Some("Bearer"));
    read(basic, Some(&carol)).refused(403, "tier-too-low");
    read(basic, Some(&bob)).expect(200);
    read(premium, Some(&bob)).refused(403, "tier-too-low");
    read(premium, Some(&ada)).expect(200);
    read(999_999, Some(&ada)).refused(404, "not-found");
    read(999_999, None).expect(404);
    // A bad token is anonymous on optional routes.
    read(basic, Some("not-a-token")).refused(401, "sign-in-required");

    // Carol upgrades: Clerk's user.updated raises her tier.
    let carol_up = user_event(
        "user.updated",
        "user_carol",
        "carol@example.com",
        "Carol",
        Some("premium"),
        T + 10,
    );
    app.deliver("msg_carol_2", &carol_up).expect(200);
    read(premium, Some(&carol)).expect(200);
    assert_eq!(list(&carol), 3);

    // Authorship: only Ada changes her articles.
    let edit = json!({ "title": "Free news, revised", "content": "new text", "tier": "free" });
    let path = format!("/articles/{free}");
    app.call("PUT", &path, Some(&bob), Some(edit.clone()))
        .refused(403, "not-owner");
    app.call("DELETE", &path, Some(&bob), None)
        .refused(403, "not-owner");
    app.call("PUT", &path, None, Some(edit.clone())).expect(401);
    let revised = app
        .call("PUT", &path, Some(&ada), Some(edit.clone()))
        .expect(200)
        .json();
    assert_eq!(
        (revised["title"].as_str(), revised["id"].as_i64()),
        (Some("Free news, revised"), Some(free))
    );
    app.call("PUT", "/articles/999999", Some(&ada), Some(edit))
        .refused(404, "not-found");
    app.call("DELETE", &format!("/articles/{basic}"), Some(&ada), None)
        .expect(204);
    read(basic, Some(&ada)).expect(404);
    app.call("DELETE", &format!("/articles/{basic}"), Some(&ada), None)
        .expect(404);

    // Profiles: the owner only.
    let names = json!({ "first_name": "Robert", "last_name": "B." });
    app.call("PUT", "/users/user_ada", Some(&bob), Some(names.clone()))
        .refused(403, "not-owner");
    app.call("PUT", "/users/user_nobody", Some(&bob), Some(names.clone()))
        .refused(404, "not-found");
    let bob_now = app
        .call("PUT", "/users/user_bob", Some(&bob), Some(names))
        .expect(200)
        .json();
    assert_eq!(
        (bob_now["first_name"].as_str(), bob_now["tier"].as_str()),
        (Some("Robert"), Some("basic"))
    );
    assert_eq!(
        app.call("GET", "/users/me", Some(&ada), None).json()["first_name"],
        "Augusta"
    );

    // Bob is deleted in Clerk: his still-valid token never brings him back.
    assert_eq!(
        app.deliver("msg_bob_2", &deleted_event("user_bob"))
            .expect(200)
            .json()["status"],
        "applied"
    );
    for _ in 0..2 {
        app.call("GET", "/users/me", Some(&bob), None)
            .refused(401, "user-deleted");
    }
    app.call("GET", "/articles/accessible", Some(&bob), None)
        .refused(401, "user-deleted");
    app.call("PUT", "/users/user_bob", Some(&ada), Some(json!({})))
        .refused(404, "not-found");
    let late = user_event(
        "user.updated",
        "user_bob",
        "bob@example.com",
        "Bob",
        Some("premium"),
        T + 99,
    );
    assert_eq!(
        app.deliver("msg_bob_3", &late).expect(200).json()["status"],
        "stale"
    );
    app.call("GET", "/users/me", Some(&bob), None)
        .refused(401, "user-deleted");
    // Other event types are acknowledged.
    let session = json!({ "type": "session.created", "data": { "id": "sess_1", "user_id": "user_ada", "created_at": 1, "updated_at": 1 } });
    assert_eq!(
        app.deliver("msg_session", &session).expect(200).json()["status"],
        "ignored"
    );

    // A kill (no graceful shutdown) and a restart on the same file keep everything.
    drop(app);
    let app = App::start(db, &jwks.jwks_url());
    assert_eq!(
        app.call("GET", "/users/me", Some(&ada), None)
            .expect(200)
            .json(),
        json!({ "id": "user_ada", "email": "ada@example.com", "first_name": "Augusta",
                "last_name": "Tester", "tier": "premium" })
    );
    assert_eq!(
        app.call("GET", "/users/me", Some(&carol), None).json()["tier"],
        "premium"
    );
    app.call("GET", "/users/me", Some(&bob), None)
        .refused(401, "user-deleted");
    let all = app
        .call("GET", "/articles/accessible", Some(&ada), None)
        .expect(200)
        .json();
    assert_eq!(titles(&all), ["Free news, revised", "Premium deep dive"]);
    assert_eq!(
        app.deliver("msg_ada_1", &created).expect(200).json()["status"],
        "duplicate"
    );
    let a = app.call(
        "POST",
        "/articles",
        Some(&carol),
        Some(json!({ "title": "After", "content": "", "tier": "basic" })),
    );
    assert!(a.expect(201).json()["id"].as_i64().unwrap() > premium);
}

/// `event` with the members `names` of its `data` removed.
fn without(mut event: Value, names: &[&str]) -> Value {
    let data = event["data"].as_object_mut().unwrap();
    for name in names {
        data.remove(*name);
    }
    event
}

/// `event` with the envelope's `timestamp` (ms) set.
fn at(mut event: Value, timestamp: i64) -> Value {
    event["timestamp"] = timestamp.into();
    event
}

#[test]
fn events_whose_json_changed_keep_the_sync_going_on_sqlite() {
    let dir = TempDir::new("changed");
    events_whose_json_changed_keep_the_sync_going(&Store::sqlite(&dir));
}

#[test]
fn events_whose_json_changed_keep_the_sync_going_on_postgres() {
    if let Some(pg) = Postgres::start("changed") {
        events_whose_json_changed_keep_the_sync_going(&Store::postgres(&pg));
    }
}

fn events_whose_json_changed_keep_the_sync_going(db: &Store) {
    let jwks = JwksServer::start_with(keys::rsa2048().jwks_json());
    let dir = TempDir::new("changed-log");
    let log = dir.0.join("stderr.log");
    let app = App::start_logging(db, &jwks.jwks_url(), &log);
    let (ada, bob) = (token("user_ada"), token("user_bob"));
    // Clerk's updated_at, and the envelope's timestamp a little after each change.
    const T: i64 = 1_800_000_000_000;
    const E: i64 = T + 500;
    let me = |t: &str| {
        app.call("GET", "/users/me", Some(t), None)
            .expect(200)
            .json()
    };
    let status =
        |id: &str, event: &Value| app.deliver(id, event).expect(200).json()["status"].clone();
    let ada_event = |kind: &str, first: &str, tier: &str, updated_at: i64| {
        user_event(
            kind,
            "user_ada",
            "ada@example.com",
            first,
            Some(tier),
            updated_at,
        )
    };

    // user.created without email_addresses: the user exists, the email unknown until told.
    let created = without(
        at(ada_event("user.created", "Ada", "premium", T), E),
        &["email_addresses"],
    );
    assert_eq!(status("msg_1", &created), "applied");
    assert_eq!(
        me(&ada),
        json!({ "id": "user_ada", "email": null, "first_name": "Ada", "last_name": "Tester",
                "tier": "premium" })
    );
    // user.updated without created_at (which the app does not use).
    let updated = without(
        at(ada_event("user.updated", "Ada", "premium", T + 10), E + 10),
        &["created_at"],
    );
    assert_eq!(status("msg_2", &updated), "applied");
    assert_eq!(me(&ada)["email"], "ada@example.com");

    // What cannot be read keeps what is stored: no email list, a first_name gone, metadata of
    // another type (so no tier change, neither up nor down); a null last_name still clears it.
    let mut partial = at(
        ada_event("user.updated", "Augusta", "basic", T + 20),
        E + 20,
    );
    partial["data"]["public_metadata"] = json!("basic");
    partial["data"]["last_name"] = Value::Null;
    let partial = without(partial, &["email_addresses", "first_name"]);
    assert_eq!(status("msg_3", &partial), "applied");
    assert_eq!(
        me(&ada),
        json!({ "id": "user_ada", "email": "ada@example.com", "first_name": "Ada",
                "last_name": null, "tier": "premium" })
    );

    // Without updated_at, the envelope's timestamp orders the update...
    let downgrade = without(
        at(ada_event("user.updated", "Augusta", "basic", 0), E + 30),
        &["updated_at"],
    );
    assert_eq!(status("msg_4", &downgrade), "applied");
    assert_eq!(
        (me(&ada)["first_name"].clone(), me(&ada)["tier"].clone()),
        (json!("Augusta"), json!("basic"))
    );
    // ... so a late event created before it is stale, though its updated_at is newer than any
    // stored (the downgrade is not undone).
    let late = without(
        at(ada_event("user.updated", "Old", "premium", T + 25), E + 25),
        &["email_addresses"],
    );
    assert_eq!(status("msg_5", &late), "stale");
    // An update with neither key cannot be ordered against a synced row: stale.
    let unordered = without(
        ada_event("user.updated", "Nobody", "premium", 0),
        &["updated_at"],
    );
    assert_eq!(status("msg_6", &unordered), "stale");
    assert_eq!(
        me(&ada),
        json!({ "id": "user_ada", "email": "ada@example.com", "first_name": "Augusta",
                "last_name": "Tester", "tier": "basic" })
    );
    // ... but it fills in a user Clerk has not told us about, even a provisional one.
    assert_eq!(me(&bob)["email"], Value::Null);
    let bob_created = without(
        user_event(
            "user.created",
            "user_bob",
            "bob@example.com",
            "Bob",
            Some("basic"),
            0,
        ),
        &["updated_at", "created_at"],
    );
    assert_eq!(status("msg_7", &bob_created), "applied");
    assert_eq!(
        me(&bob),
        json!({ "id": "user_bob", "email": "bob@example.com", "first_name": "Bob",
                "last_name": "Tester", "tier": "basic" })
    );

    // The events: a session.created and an organization.created without created_at
    // are acknowledged (the app does not act on those types), never refused.
    let session = json!({ "type": "session.created", "object": "event", "timestamp": E,
        "data": { "id": "sess_1", "object": "session", "user_id": "user_ada",
                  "client_id": "client_1", "status": "active", "last_active_at": E,
                  "expire_at": E, "abandon_at": E, "updated_at": E } });
    assert_eq!(status("msg_8", &session), "ignored");
    let organization = json!({ "type": "organization.created", "object": "event",
        "timestamp": E, "data": { "id": "org_1", "object": "organization", "name": "Acme",
                                  "slug": "acme", "max_allowed_memberships": 5,
                                  "public_metadata": {}, "updated_at": E } });
    assert_eq!(status("msg_9", &organization), "ignored");
    // A user.deleted without `deleted`: the id is what counts.
    let gone = without(deleted_event("user_bob"), &["deleted"]);
    assert_eq!(status("msg_10", &gone), "applied");
    app.call("GET", "/users/me", Some(&bob), None)
        .refused(401, "user-deleted");
    // Without an id there is nothing to apply: refused, Svix retries.
    let no_id = without(ada_event("user.updated", "Ada", "premium", T + 99), &["id"]);
    app.deliver("msg_11", &no_id)
        .refused(400, "webhook-invalid-payload");

    // Each unreadable member was logged once per event type, without values, though several
    // events lacked it.
    drop(app);
    let text = std::fs::read_to_string(&log).unwrap();
    let count = |needle: &str| text.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(count("WARN clerk_verify::webhook: webhook event user.updated: data.email_addresses is missing"), 1, "{text}");
    assert_eq!(
        count("webhook event user.updated: data.updated_at is missing"),
        1,
        "{text}"
    );
    assert_eq!(
        count("webhook event user.created: data.email_addresses is missing"),
        1,
        "{text}"
    );
    assert_eq!(
        count("webhook event session.created: data.created_at is missing"),
        1,
        "{text}"
    );
    assert_eq!(
        count("webhook event organization.created: data.created_at is missing"),
        1,
        "{text}"
    );
    assert_eq!(
        count("data.public_metadata is of another JSON type"),
        1,
        "{text}"
    );
    for value in [
        "ada@example.com",
        "Augusta",
        "Tester",
        "premium",
        "user_ada",
        &fixtures().secret[6..],
    ] {
        assert!(!text.contains(value), "{value} in {text}");
    }
}

#[test]
fn start_up_fails_without_a_webhook_secret() {
    let dir = TempDir::new("no-secret");
    let out = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", free_port().to_string())
        .env("DATABASE_PATH", dir.0.join("membership.db"))
        .env("CLERK_JWT_KEY", keys::rsa2048().public_pem())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("CLERK_WEBHOOK_SIGNING_SECRET"), "{stderr}");
    assert!(stderr.contains("webhook-invalid-secret"), "{stderr}");
    let out = Command::new(BIN)
        .env_clear()
        .env("PORT", free_port().to_string())
        .env("DATABASE_PATH", dir.0.join("membership.db"))
        .env("CLERK_JWT_KEY", keys::rsa2048().public_pem())
        .env("CLERK_WEBHOOK_SIGNING_SECRET", "whsec_not base64!")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("webhook-invalid-secret") && !stderr.contains("not base64!"),
        "{stderr}"
    );
}

/// Clerk's deliveries about a few users, and the rows they must leave.
struct History {
    /// `(svix-id, event)`, in the order Clerk made them.
    deliveries: Vec<(String, Value)>,
    /// Each user's `GET /users/me`, or `None` for a user Clerk deleted.
    expected: BTreeMap<String, Option<Value>>,
}

/// `users` users (ids `user_{tag}{n}`), each created, updated `updates` times (a new first name
/// and tier each time, Clerk's `updated_at` and the envelope's `timestamp` rising), one in four
/// then deleted, one in three also given a `session.created` the app ignores.
fn history(tag: &str, users: usize, updates: usize) -> History {
    const T: i64 = 1_800_000_000_000;
    const TIERS: [&str; 3] = ["free", "basic", "premium"];
    let mut deliveries = Vec::new();
    let mut expected = BTreeMap::new();
    for u in 0..users {
        let id = format!("user_{tag}{u}");
        let email = format!("{id}@example.com");
        let mut last = None;
        for step in 0..=updates {
            let kind = if step == 0 {
                "user.created"
            } else {
                "user.updated"
            };
            let first = format!("U{u}v{step}");
            let tier = TIERS[(u + step) % 3];
            let at_ms = T + step as i64 * 10;
            let event = at(
                user_event(kind, &id, &email, &first, Some(tier), at_ms),
                at_ms + 500,
            );
            deliveries.push((format!("msg_{tag}_{u}_{step}"), event));
            last = Some(json!({ "id": id, "email": email, "first_name": first,
                                "last_name": "Tester", "tier": tier }));
        }
        if u % 3 == 1 {
            let session = json!({ "type": "session.created", "object": "event",
                "data": { "id": format!("sess_{tag}{u}"), "object": "session", "user_id": id } });
            deliveries.push((format!("msg_{tag}_{u}_session"), session));
        }
        if u % 4 == 3 {
            deliveries.push((format!("msg_{tag}_{u}_deleted"), deleted_event(&id)));
            last = None;
        }
        expected.insert(id, last);
    }
    History {
        deliveries,
        expected,
    }
}

impl History {
    /// The `users` table it must leave, as psql prints it (`id|email|first|last|tier`).
    fn users_table(&self) -> String {
        self.expected
            .values()
            .flatten()
            .map(|u| {
                let f = |k: &str| u[k].as_str().unwrap().to_owned();
                format!(
                    "{}|{}|{}|{}|{}\n",
                    f("id"),
                    f("email"),
                    f("first_name"),
                    f("last_name"),
                    f("tier")
                )
            })
            .collect()
    }

    /// Each user's state seen through `app`: `GET /users/me` with their token.
    #[track_caller]
    fn check_through(&self, app: &App) {
        for (id, want) in &self.expected {
            let r = app.call("GET", "/users/me", Some(&token(id)), None);
            match want {
                Some(want) => assert_eq!(&r.expect(200).json(), want, "{id}"),
                None => {
                    r.refused(401, "user-deleted");
                }
            }
        }
    }
}

/// A small deterministic shuffle (xorshift), so that a failing order can be replayed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}
