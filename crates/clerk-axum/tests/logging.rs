//! What the adapter logs: refusals at debug level under `clerk_axum::rejection`, a missing
//! verifier at error level under `clerk_verify::adapter` (the core's `verifier_missing`) with
//! axum's fix, the cause of a 503 for the operator, and never the token. One test: the logger
//! is global to this test binary.

use axum::routing::get;
use axum::Router;
use clerk_axum::{ClerkAuth, ClerkLayer};
use clerk_dev::{fixtures, now_unix, TokenBuilder};
use clerk_verify::testing::Unavailable;
use clerk_verify::{Verifier, VerifyOptions};
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::sync::Mutex;
use tower::ServiceExt;

struct Captured {
    level: Level,
    target: String,
    message: String,
}

struct Capture(Mutex<Vec<Captured>>);

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        self.0.lock().unwrap().push(Captured {
            level: record.level(),
            target: record.target().to_owned(),
            message: record.args().to_string(),
        });
    }
    fn flush(&self) {}
}

static LOG: Capture = Capture(Mutex::new(Vec::new()));

async fn me(auth: ClerkAuth) -> String {
    auth.user_id().to_owned()
}

/// One GET through `app` (in-process: what is logged does not depend on the transport).
async fn status_of(app: Router, token: &str) -> u16 {
    let req = axum::http::Request::get("/me")
        .header("Authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.oneshot(req).await.unwrap().status().as_u16()
}

fn take() -> Vec<Captured> {
    std::mem::take(&mut *LOG.0.lock().unwrap())
}

#[tokio::test]
async fn refusals_are_logged_without_the_token() {
    log::set_logger(&LOG).unwrap();
    log::set_max_level(LevelFilter::Trace);
    let verifier =
        Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), VerifyOptions::default()).unwrap();
    let expired = TokenBuilder::session("user_1", now_unix() - 3600).sign(fixtures::rsa2048());
    let good = TokenBuilder::session("user_1", now_unix()).sign(fixtures::rsa2048());

    // A refused token: one debug line with the reason.
    let app = Router::new()
        .route("/me", get(me))
        .layer(ClerkLayer::new(verifier));
    assert_eq!(status_of(app.clone(), &expired).await, 401);
    let lines = take();
    let refused: Vec<_> = lines
        .iter()
        .filter(|l| l.target == "clerk_axum::rejection")
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", messages(&lines));
    assert_eq!(refused[0].level, Level::Debug);
    assert!(
        refused[0].message.contains("token-expired"),
        "{}",
        refused[0].message
    );
    assert!(lines.iter().all(|l| !l.message.contains(&expired)));
    // A signed-in request logs nothing of ours.
    assert_eq!(status_of(app, &good).await, 200);
    assert!(take().iter().all(|l| !l.target.starts_with("clerk_axum")));

    // No verifier anywhere: an error line that says how to fix it.
    let bare = Router::new().route("/me", get(me));
    assert_eq!(status_of(bare, &good).await, 500);
    let lines = take();
    let errors: Vec<_> = lines
        .iter()
        .filter(|l| l.target == clerk_verify::adapter::LOG_TARGET && l.level == Level::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", messages(&lines));
    for fix in [
        "ClerkLayer::new(verifier)",
        "Extension(verifier)",
        ".with_state(verifier)",
    ] {
        assert!(errors[0].message.contains(fix), "{}", errors[0].message);
    }
    assert!(lines.iter().all(|l| !l.message.contains(&good)));

    // The key source is down: the client gets a generic 503, the log gets the cause.
    let down = Router::new().route("/me", get(me)).layer(ClerkLayer::new(
        Verifier::new(Unavailable, VerifyOptions::default()).unwrap(),
    ));
    assert_eq!(status_of(down, &good).await, 503);
    let lines = take();
    assert!(
        lines.iter().any(|l| l.target == "clerk_axum::rejection"
            && l.message.contains("jwk-remote-failed-to-load")
            && l.message.contains("connection refused")),
        "{:?}",
        messages(&lines)
    );
    assert!(lines.iter().all(|l| !l.message.contains(&good)));
}

fn messages(lines: &[Captured]) -> Vec<String> {
    lines
        .iter()
        .map(|l| format!("{} {}: {}", l.level, l.target, l.message))
        .collect()
}
