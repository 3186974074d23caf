//! Two instances of `membership-app` on one PostgreSQL, as behind a load balancer: Svix may hand
//! the same delivery to either, twice, late, and at the same time as the other.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Starts two instances on `store` at the same time (both migrate at start-up).
fn two_instances(store: &Store, jwks_url: &str) -> (App, App) {
    std::thread::scope(|s| {
        let a = s.spawn(|| App::start(store, jwks_url));
        let b = s.spawn(|| App::start(store, jwks_url));
        (a.join().unwrap(), b.join().unwrap())
    })
}

#[test]
fn two_instances_apply_each_event_once() {
    let Some(pg) = Postgres::start("instances") else {
        return;
    };
    let store = Store::postgres(&pg);
    let jwks = JwksServer::start_with(keys::rsa2048().jwks_json());
    let (a, b) = two_instances(&store, &jwks.jwks_url());
    let instances = [&a, &b];

    // Every delivery four times, twice to each instance, all shuffled (so a user's updates and
    // deletion arrive in any order, and one delivery's copies side by side), sent by 12 threads.
    let story = history("m", 40, 4);
    let mut sends: Vec<(usize, &str, &Value)> = story
        .deliveries
        .iter()
        .flat_map(|(id, event)| (0..4).map(move |copy| (copy % 2, id.as_str(), event)))
        .collect();
    shuffle(&mut sends, 0x5eed_1234_abcd_ef01);
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<(String, u16, String)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..12 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(instance, id, event)) = sends.get(i) else {
                    break;
                };
                let r = instances[instance].deliver(id, event);
                let status = serde_json::from_str::<Value>(&r.body)
                    .ok()
                    .and_then(|v| v["status"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                answers
                    .lock()
                    .unwrap()
                    .push((id.to_owned(), r.status, status));
            });
        }
    });
    let answers = answers.into_inner().unwrap();
    assert_eq!(answers.len(), story.deliveries.len() * 4);

    // Each answered 200; each delivery's copies: one did something, three were duplicates.
    let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, code, status) in &answers {
        assert_eq!(*code, 200, "{id}: {status}");
        by_id.entry(id).or_default().push(status);
    }
    let mut outcomes = BTreeMap::new();
    for (id, statuses) in &by_id {
        let first: Vec<&&str> = statuses.iter().filter(|s| **s != "duplicate").collect();
        assert_eq!(first.len(), 1, "{id} was applied {statuses:?}");
        assert!(
            ["applied", "stale", "ignored"].contains(first[0]),
            "{id}: {statuses:?}"
        );
        outcomes.insert(id.to_string(), first[0].to_string());
    }
    // The deletions and the ignored events did what they do whatever the order.
    for (id, outcome) in &outcomes {
        if id.ends_with("_deleted") {
            assert_eq!(outcome, "applied", "{id}");
        }
        if id.ends_with("_session") {
            assert_eq!(outcome, "ignored", "{id}");
        }
    }

    // The tables: one row per delivery with the outcome its one non-duplicate answer gave, and
    // each user as their newest event left them (or deleted).
    let recorded = pg.query("SELECT svix_id, outcome FROM webhook_deliveries ORDER BY svix_id");
    let want: String = outcomes
        .iter()
        .map(|(id, outcome)| format!("{id}|{outcome}\n"))
        .collect();
    assert_eq!(recorded, want);
    assert_eq!(
        pg.query("SELECT id, email, first_name, last_name, tier FROM users ORDER BY id"),
        story.users_table()
    );
    let deleted: Vec<&String> = story
        .expected
        .iter()
        .filter(|(_, u)| u.is_none())
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        pg.query("SELECT id FROM deleted_users ORDER BY id"),
        deleted
            .iter()
            .map(|id| format!("{id}\n"))
            .collect::<String>()
    );
    story.check_through(&a);
    story.check_through(&b);

    // A change answered 2xx by one instance is what the other reads next.
    let ada = token("user_ada");
    for step in 0..10i64 {
        let (writer, reader) = if step % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let first = format!("Ada{step}");
        let tier = ["free", "basic", "premium"][step as usize % 3];
        let event = user_event(
            if step == 0 {
                "user.created"
            } else {
                "user.updated"
            },
            "user_ada",
            "ada@example.com",
            &first,
            Some(tier),
            1_800_000_000_000 + step,
        );
        let r = writer
            .deliver(&format!("msg_ada_{step}"), &event)
            .expect(200);
        assert_eq!(r.json()["status"], "applied");
        let me = reader
            .call("GET", "/users/me", Some(&ada), None)
            .expect(200)
            .json();
        assert_eq!(
            (me["first_name"].as_str(), me["tier"].as_str()),
            (Some(&*first), Some(tier))
        );
    }
    // Articles too: written on one, read and changed on the other.
    let body = json!({ "title": "Shared", "content": "one database", "tier": "free" });
    let made = a
        .call("POST", "/articles", Some(&ada), Some(body))
        .expect(201)
        .json();
    let path = format!("/articles/{}", made["id"]);
    assert_eq!(b.call("GET", &path, None, None).expect(200).json(), made);
    b.call("DELETE", &path, Some(&ada), None).expect(204);
    a.call("GET", &path, None, None).refused(404, "not-found");
}
