//! The database going away under a running `membership-app`: every request that needs it is 503
//! (never 500, never a 401 or 403 that blames the caller) within a bound, the app serves again
//! by itself when the database returns, and Svix's retries apply what was not applied, once.
//! Then crashes in the middle of a burst of deliveries, of the database and of the app: what
//! was answered 2xx is kept, and what was not is applied once when retried.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const T: i64 = 1_800_000_000_000;

/// The answer to a request that needs the database while it is away.
#[track_caller]
fn unavailable(r: Reply) {
    let r = r.refused(503, "database-unavailable");
    assert_eq!(r.json()["error"], "service_unavailable");
    assert_eq!(r.retry_after.as_deref(), Some("5"));
    assert_eq!(r.www_authenticate, None);
}

#[test]
fn the_database_going_away_and_coming_back() {
    let Some(mut pg) = Postgres::start("faults") else {
        return;
    };
    let store = Store::postgres(&pg);
    let jwks = JwksServer::start_with(keys::rsa2048().jwks_json());
    let dir = TempDir::new("faults");
    let log = dir.0.join("stderr.log");
    let mut app = App::start_logging(&store, &jwks.jwks_url(), &log);
    let ada = token("user_ada");
    let ada_event = |kind: &str, tier: &str, at_ms: i64| {
        user_event(
            kind,
            "user_ada",
            "ada@example.com",
            "Ada",
            Some(tier),
            at_ms,
        )
    };
    app.deliver("msg_ada_1", &ada_event("user.created", "basic", T))
        .expect(200);
    app.deliver(
        "msg_carol_1",
        &user_event(
            "user.created",
            "user_carol",
            "c@example.com",
            "Carol",
            None,
            T,
        ),
    )
    .expect(200);
    let body = json!({ "title": "Free", "content": "for all", "tier": "free" });
    let free = app
        .call("POST", "/articles", Some(&ada), Some(body))
        .expect(201)
        .json();
    let free_path = format!("/articles/{}", free["id"]);

    // The database stops (a clean shutdown: it closes the pool's connections).
    pg.stop("fast");
    let gap = [
        ("msg_ada_2", ada_event("user.updated", "premium", T + 1)),
        (
            "msg_bob_1",
            user_event(
                "user.created",
                "user_bob",
                "bob@example.com",
                "Bob",
                Some("basic"),
                T,
            ),
        ),
        ("msg_carol_2", deleted_event("user_carol")),
    ];
    let started = Instant::now();
    std::thread::scope(|s| {
        for (id, event) in &gap {
            let app = &app;
            s.spawn(move || unavailable(app.deliver(id, event)));
        }
        let reads: [(&str, &str, Option<&str>, Option<Value>); 6] = [
            ("GET", "/users/me", Some(&ada), None),
            ("GET", &free_path, None, None),
            ("GET", &free_path, Some(&ada), None),
            ("GET", "/articles/accessible", None, None),
            (
                "POST",
                "/articles",
                Some(&ada),
                Some(json!({ "title": "t", "content": "c", "tier": "free" })),
            ),
            (
                "PUT",
                "/users/user_ada",
                Some(&ada),
                Some(json!({ "first_name": "A" })),
            ),
        ];
        for (method, path, token, body) in reads {
            let app = &app;
            s.spawn(move || unavailable(app.call(method, path, token, body)));
        }
    });
    // The pool's acquire timeout (3 s), well within the request bound (8 s), plus slack.
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "the gap's answers took {took:?}"
    );
    // What needs no database still answers as always.
    app.deliver_as(
        &fixtures().other_secret,
        "msg_x",
        clerk_dev::now_unix(),
        &gap[0].1,
    )
    .refused(400, "webhook-invalid-signature");
    app.call("GET", "/users/me", None, None)
        .refused(401, "session-token-and-uat-missing");

    // The database is back; the same app serves again, and Svix's retries apply the gap's
    // deliveries, once.
    pg.restart();
    for (id, event) in &gap {
        assert_eq!(
            app.deliver(id, event).expect(200).json()["status"],
            "applied",
            "{id}"
        );
        assert_eq!(
            app.deliver(id, event).expect(200).json()["status"],
            "duplicate",
            "{id}"
        );
    }
    assert_eq!(
        app.call("GET", "/users/me", Some(&ada), None)
            .expect(200)
            .json()["tier"],
        "premium"
    );
    assert_eq!(
        app.call("GET", "/users/me", Some(&token("user_bob")), None)
            .expect(200)
            .json()["tier"],
        "basic"
    );
    app.call("GET", "/users/me", Some(&token("user_carol")), None)
        .refused(401, "user-deleted");
    app.call("GET", &free_path, None, None).expect(200);
    assert_eq!(
        pg.query("SELECT svix_id, outcome FROM webhook_deliveries ORDER BY svix_id"),
        "msg_ada_1|applied\nmsg_ada_2|applied\nmsg_bob_1|applied\nmsg_carol_1|applied\nmsg_carol_2|applied\n"
    );

    // A burst of deliveries during which the database crashes (every process killed at once)
    // and stays away longer than a request waits; then one during which the app is killed.
    let db_crash = history("d", 10, 3);
    let failed = burst(&app, &db_crash, || {
        pg.stop("immediate");
        std::thread::sleep(Duration::from_secs(4));
        pg.restart();
    });
    assert!(failed > 0, "the crash should have failed some deliveries");
    let app_crash = history("k", 10, 3);
    let pid = app.child.0.id().to_string();
    let failed = burst(&app, &app_crash, || {
        let killed = Command::new("sh")
            .args(["-c", &format!("kill -KILL {pid}")])
            .status();
        assert!(killed.is_ok_and(|s| s.success()));
    });
    assert!(failed > 0, "the kill should have failed some deliveries");
    app = App::start_logging(&store, &jwks.jwks_url(), &dir.0.join("stderr-2.log"));
    // Svix retries what was not answered 2xx (and may retry what was, its answer lost).
    for story in [&db_crash, &app_crash] {
        for (id, event) in &story.deliveries {
            let r = app.deliver(id, event).expect(200);
            assert!(["applied", "stale", "ignored", "duplicate"]
                .contains(&r.json()["status"].as_str().unwrap()));
        }
        story.check_through(&app);
    }
    let recorded: usize = pg
        .query("SELECT COUNT(*) FROM webhook_deliveries WHERE svix_id LIKE 'msg_d_%' OR svix_id LIKE 'msg_k_%'")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        recorded,
        db_crash.deliveries.len() + app_crash.deliveries.len()
    );
    let users = pg.query(
        "SELECT id, email, first_name, last_name, tier FROM users
         WHERE id LIKE 'user_d%' OR id LIKE 'user_k%' ORDER BY id",
    );
    assert_eq!(
        users,
        format!("{}{}", db_crash.users_table(), app_crash.users_table())
    );

    // No 500 and no panic on the way: the app logged the outage as warnings only.
    drop(app);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("WARN membership: database unavailable"),
        "{text}"
    );
    assert!(
        !text.contains("ERROR") && !text.contains("panicked"),
        "{text}"
    );
}

/// Sends `story`'s deliveries in order from 4 threads, paced, while `crash` runs after the
/// first few; each delivery's answers so far are checked (at most one did something) and the
/// number that got no 2xx is returned.
fn burst(app: &App, story: &History, crash: impl FnOnce() + Send) -> usize {
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let sent = AtomicUsize::new(0);
    let applied: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((id, event)) = story.deliveries.get(i) else {
                    break;
                };
                match app.try_deliver(id, event) {
                    Ok(r) if r.status == 200 => {
                        if r.json()["status"] != "duplicate" {
                            *applied.lock().unwrap().entry(id.clone()).or_default() += 1;
                        }
                    }
                    Ok(r) => {
                        assert_eq!(r.status, 503, "{id}: {}", r.body);
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                sent.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(60));
            });
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while sent.load(Ordering::Relaxed) < 6 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        crash();
    });
    for (id, n) in applied.into_inner().unwrap() {
        assert_eq!(n, 1, "{id} applied {n} times");
    }
    failed.into_inner()
}
