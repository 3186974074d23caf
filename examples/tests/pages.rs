//! `pages-app`, the server-rendered seed app, driven over real HTTP on 127.0.0.1 by a client
//! that keeps cookies and follows redirects (`clerk_dev::Browser`), against the dev issuer's
//! Frontend and Backend APIs: Clerk's handshake refreshes an expired session, a signed-out
//! browser is sent to sign in, forged handshakes are refused, and redirect loops stop at
//! Clerk's limit; the Backend API refreshes a session with `__refresh`; the path activates an
//! organization; a satellite (on `localhost`, another site) syncs from its primary; a
//! development instance sets up its dev browser. Then in a real headless Chromium.

mod support;

use clerk_dev::pages::{
    check_pages, check_pages_development, check_pages_organizations, check_pages_refresh,
    check_pages_satellite, form_encoded, CookieDelivery, DevInstance,
};
use clerk_dev::{fixtures, Browser, FrontendApi};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{free_port, Killed};

const BIN: &str = env!("CARGO_BIN_EXE_pages-app");

fn issuer(secret: Option<&str>) -> DevInstance {
    let mut fapi = FrontendApi::new(fixtures::rsa2048().clone());
    if let Some(secret) = secret {
        fapi = fapi.secret_key(secret);
    }
    DevInstance::start_with(fapi)
}

struct PagesApp {
    _child: Killed,
    base: String,
}

impl PagesApp {
    fn start(issuer: &DevInstance, extra: &[(&str, String)]) -> PagesApp {
        PagesApp::start_at("127.0.0.1", free_port(), issuer, extra)
    }

    /// The app listening on 127.0.0.1:`port`, reached by the browser as `http://<host>:<port>`
    /// (`localhost` is another site than `127.0.0.1`, with cookies of its own).
    fn start_at(host: &str, port: u16, issuer: &DevInstance, extra: &[(&str, String)]) -> PagesApp {
        let base = format!("http://{host}:{port}");
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("CLERK_JWKS_URL", issuer.server.jwks_url())
            .env("CLERK_PUBLISHABLE_KEY", issuer.publishable_key())
            .env("CLERK_SIGN_IN_URL", issuer.sign_in_url())
            .env("CLERK_AUTHORIZED_PARTIES", &base)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in extra {
            cmd.env(name, value);
        }
        let mut child = Killed(cmd.spawn().expect("pages-app starts"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.0.try_wait() {
                panic!("pages-app exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "pages-app did not listen in 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        PagesApp {
            _child: child,
            base,
        }
    }
}

#[test]
fn the_page_contract() {
    let issuer = issuer(None);
    let app = PagesApp::start(&issuer, &[]);
    check_pages(&issuer, &app.base);
}

#[test]
fn the_nonce_form_is_exchanged_with_the_backend_api() {
    let issuer = issuer(Some("sk_test_pages"));
    let app = PagesApp::start(
        &issuer,
        &[
            ("CLERK_SECRET_KEY", "sk_test_pages".to_owned()),
            ("CLERK_API_URL", issuer.server.url()),
        ],
    );
    let mut browser = issuer.returning_browser(&app.base, "user_nonce");
    let visit = browser
        .navigate(&format!("{}/dashboard", app.base))
        .unwrap();
    assert_eq!(visit.page.status, 200, "{:?}", visit.hops);
    assert!(visit.page.body.contains("user_nonce"));
    assert!(visit.hops[2].url.contains("__clerk_handshake_nonce="));
    assert_eq!(issuer.fapi.exchanges(), 1);
}

/// The app's variables for refreshing sessions through the dev issuer's Backend API.
fn refreshing(issuer: &DevInstance) -> Vec<(&'static str, String)> {
    vec![
        ("CLERK_SECRET_KEY", "sk_test_pages".to_owned()),
        ("CLERK_API_URL", issuer.server.url()),
    ]
}

#[test]
fn the_refresh_contract() {
    let issuer = DevInstance::start();
    let app = PagesApp::start(&issuer, &refreshing(&issuer));
    // pages-app has ClerkMiddleware: the page's own answer sets the cookies.
    check_pages_refresh(&issuer, &app.base, CookieDelivery::SameResponse);
}

#[test]
fn the_organization_contract() {
    let issuer = DevInstance::start();
    // pages-app's own pattern, /orgs/:slug, applies when CLERK_ORGANIZATION_PATTERNS is unset.
    let app = PagesApp::start(&issuer, &[]);
    check_pages_organizations(&issuer, &app.base);
}

/// A primary on 127.0.0.1 and its satellite on localhost, for `issuer`.
fn satellite_pair(issuer: &DevInstance) -> (PagesApp, PagesApp) {
    // Each needs the other's address: both ports are picked first.
    let primary_port = free_port();
    let satellite_port = free_port();
    let satellite_base = format!("http://localhost:{satellite_port}");
    let primary_base = format!("http://127.0.0.1:{primary_port}");
    let primary = PagesApp::start_at(
        "127.0.0.1",
        primary_port,
        issuer,
        &[("CLERK_ALLOWED_REDIRECT_ORIGINS", satellite_base.clone())],
    );
    let satellite = PagesApp::start_at(
        "localhost",
        satellite_port,
        issuer,
        &satellite_env(issuer, &format!("{primary_base}/")),
    );
    (primary, satellite)
}

fn satellite_env(issuer: &DevInstance, primary_sign_in: &str) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("CLERK_IS_SATELLITE", "true".to_owned()),
        ("CLERK_SATELLITE_AUTO_SYNC", "true".to_owned()),
    ];
    if issuer.is_development() {
        env.push(("CLERK_DOMAIN", "localhost".to_owned()));
        env.push(("CLERK_SIGN_IN_URL", primary_sign_in.to_owned()));
    } else {
        env.push(("CLERK_PROXY_URL", issuer.server.url()));
    }
    env
}

#[test]
fn a_production_satellite_syncs_through_its_frontend_api() {
    let issuer = DevInstance::start();
    let (primary, satellite) = satellite_pair(&issuer);
    check_pages_satellite(&issuer, &primary.base, &satellite.base);
}

#[test]
fn a_development_satellite_syncs_through_its_primary() {
    let issuer = DevInstance::development();
    let (primary, satellite) = satellite_pair(&issuer);
    check_pages_satellite(&issuer, &primary.base, &satellite.base);
}

#[test]
fn the_development_contract() {
    let issuer = DevInstance::development();
    let app = PagesApp::start(&issuer, &[]);
    check_pages_development(&issuer, &app.base);
}

#[test]
fn api_routes_and_scripts_never_get_a_handshake() {
    let issuer = issuer(None);
    let app = PagesApp::start(&issuer, &[]);
    let expired = issuer.returning_browser(&app.base, "user_api");
    for path in ["/api/me", "/"] {
        let mut script = Browser::fetch_client();
        script.set_cookie("__session", expired.cookie("__session").unwrap());
        script.set_cookie("__client_uat", expired.cookie("__client_uat").unwrap());
        let reply = script.get(&format!("{}{path}", app.base)).unwrap();
        assert_ne!(reply.status, 307, "{path}");
        assert_eq!(reply.header("location"), None, "{path}");
    }
    // The API route refuses the expired token as any API does.
    let mut navigation = expired.clone();
    let reply = navigation.get(&format!("{}/api/me", app.base)).unwrap();
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["reason"], "token-expired");
    assert_eq!(issuer.fapi.handshakes(), 0);
}

#[test]
fn replayed_handshakes_are_refused() {
    let issuer = issuer(None);
    let app = PagesApp::start(&issuer, &[]);
    // A genuine handshake token, taken from a browser's history and replayed elsewhere.
    let mut returning = issuer.returning_browser(&app.base, "user_replay");
    let visit = returning.navigate(&app.base).unwrap();
    assert!(visit.page.body.contains("user_replay"));
    let with_handshake = visit.hops[2].url.clone();
    let mut attacker = Browser::new();
    let replayed = attacker.get(&with_handshake).unwrap();
    assert_eq!(replayed.status, 200);
    assert!(replayed.body.contains("You are signed out"));
    assert_eq!(attacker.cookie("__session"), None);
}

#[test]
fn handshake_loops_stop_at_clerks_limit() {
    let issuer = issuer(None);
    let app = PagesApp::start(&issuer, &[]);
    // An instance that never refreshes anything (as when its keys do not match the app's).
    issuer.fapi.force_directives(Some(Vec::new()));
    let mut browser = issuer.returning_browser(&app.base, "user_loop");
    let visit = browser.navigate(&app.base).unwrap();
    assert_eq!(visit.count("/v1/client/handshake"), 3, "{:?}", visit.hops);
    assert_eq!(visit.page.status, 200);
    assert!(visit.page.body.contains("You are signed out"));
    assert_eq!(
        visit.page.header("x-clerk-auth-status"),
        None,
        "a page renders, it is not a refusal"
    );
}

/// Chromium from the distribution's packages; `.ci/run` installs it. Outside CI a machine
/// without it skips this test, loudly; in CI (`CI` set) it fails.
fn chromium() -> Option<&'static str> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if found.is_none() {
        let msg =
            "chromium is not installed (apt-get install chromium): the browser test cannot run";
        support::skip_unless_ci(msg);
    }
    found
}

/// Where a headless Chromium ended, and how it got there.
struct ChromiumVisit {
    /// The DOM it ended on.
    dom: String,
    /// Every URL its top-level navigations requested, in order, redirects included (from
    /// Chromium's own net log: what the browser did, not what a server says it answered).
    documents: Vec<String>,
}

/// Loads `start` in a headless Chromium with a fresh profile and returns the DOM it ends on.
fn chromium_dom(chromium: &str, start: &str) -> String {
    chromium_visit(chromium, start).dom
}

/// Loads `start` in a headless Chromium with a fresh profile, logging its network events.
fn chromium_visit(chromium: &str, start: &str) -> ChromiumVisit {
    let profile = std::env::temp_dir().join(format!(
        "clerk-pages-chromium-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let net_log = profile.join("net-log.json");
    let mut child = Killed(
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--virtual-time-budget=10000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--log-net-log={}", net_log.display()))
            .arg("--dump-dom")
            .arg(start)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.0.try_wait().unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "chromium did not finish in 90 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut dom = String::new();
    std::io::Read::read_to_string(child.0.stdout.as_mut().unwrap(), &mut dom).unwrap();
    let documents = documents_requested(&std::fs::read_to_string(&net_log).unwrap_or_default());
    let _ = std::fs::remove_dir_all(&profile);
    ChromiumVisit { dom, documents }
}

/// The URLs of the main-frame requests in a Chromium net log (`--log-net-log`), in order: one
/// `URL_REQUEST_START_JOB` per request, a redirect's next hop included.
fn documents_requested(net_log: &str) -> Vec<String> {
    let log: serde_json::Value =
        serde_json::from_str(net_log).expect("chromium wrote its net log as JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64();
    assert!(
        start_job.is_some(),
        "the net log names URL_REQUEST_START_JOB"
    );
    let events = log["events"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    events
        .iter()
        .filter(|e| e["type"].as_u64() == start_job && e["params"]["request_type"] == "main frame")
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_real_browser_with_an_expired_cookie_ends_on_the_greeting() {
    let Some(chromium) = chromium() else {
        return;
    };
    let issuer = issuer(None);
    let app = PagesApp::start(&issuer, &[]);
    // The dev issuer's sign-in page sets an expired session cookie on 127.0.0.1 (cookies
    // ignore ports, so the app sees it) and sends the browser to the app.
    let start = format!(
        "{}?user_id=user_chromium&expired=1&redirect_url={}",
        issuer.sign_in_url(),
        form_encoded(&format!("{}/", app.base))
    );
    let dom = chromium_dom(chromium, &start);
    assert!(
        dom.contains("Signed in as <code id=\"user-id\">user_chromium</code>"),
        "the browser did not end on the greeting:\n{dom}"
    );
    assert_eq!(
        issuer.fapi.handshakes(),
        1,
        "the expired cookie went through one handshake"
    );
}

/// Another app on the same host (cookies ignore ports) plants a bogus `__clerk_handshake`
/// cookie, as a sibling subdomain could on a parent domain; the browser then signs in and
/// opens the dashboard: it is signed in, not sent to sign in again.
#[test]
fn a_real_browser_with_a_planted_handshake_cookie_stays_signed_in() {
    let Some(chromium) = chromium() else {
        return;
    };
    let issuer = issuer(None);
    let app = PagesApp::start(&issuer, &[]);
    let sign_in = format!(
        "{}?user_id=user_planted&redirect_url={}",
        issuer.sign_in_url(),
        form_encoded(&format!("{}/dashboard", app.base))
    );
    let planter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let planted = format!("http://{}/", planter.local_addr().unwrap());
    let serving = std::thread::spawn(move || {
        // One answer: the cookie, then on to the sign-in page.
        let (mut stream, _) = planter.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = std::io::Read::read(&mut stream, &mut request);
        let answer = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nSet-Cookie: __clerk_handshake=garbage; Path=/\r\n\
             Location: {sign_in}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        std::io::Write::write_all(&mut stream, answer.as_bytes()).unwrap();
    });
    let dom = chromium_dom(chromium, &planted);
    serving.join().unwrap();
    assert!(
        dom.contains("<h1>Dashboard</h1>")
            && dom.contains("Signed in as <code id=\"user-id\">user_planted</code>"),
        "the planted handshake cookie kept the browser out:\n{dom}"
    );
}

/// A browser signed in on the primary (the dev issuer's sign-in page sets its cookies on
/// 127.0.0.1, the primary's host) opens the satellite on `localhost`, another site: a
/// development satellite sends it to the primary, which hands over its dev browser, and the
/// satellite's handshake with the Frontend API finds the session: signed in on the satellite.
#[test]
fn a_real_browser_syncs_a_satellite_from_its_primary() {
    let Some(chromium) = chromium() else {
        return;
    };
    let issuer = DevInstance::development();
    let (primary, satellite) = satellite_pair(&issuer);
    let start = format!(
        "{}?user_id=user_satellite&redirect_url={}",
        issuer.sign_in_url(),
        form_encoded(&format!("{}/", satellite.base))
    );
    let dom = chromium_dom(chromium, &start);
    assert!(
        dom.contains("Signed in as <code id=\"user-id\">user_satellite</code>"),
        "the satellite did not end signed in:\n{dom}"
    );
    assert_eq!(
        issuer.fapi.handshakes(),
        1,
        "one handshake with the Frontend API, after the primary's answer"
    );
    drop(primary);
}

/// An expired session with the `__refresh` cookie: the app refreshes it through the Backend
/// API and the browser ends on the greeting without going to the Frontend API, and without a
/// redirect: the page's own answer sets the new cookies (pages-app has `ClerkMiddleware`).
#[test]
fn a_real_browser_with_an_expired_session_is_refreshed_without_the_frontend_api() {
    let Some(chromium) = chromium() else {
        return;
    };
    let issuer = DevInstance::start();
    let app = PagesApp::start(&issuer, &refreshing(&issuer));
    let page = format!("{}/", app.base);
    let start = format!(
        "{}?user_id=user_refreshed&expired=1&redirect_url={}",
        issuer.sign_in_url(),
        form_encoded(&page)
    );
    let visit = chromium_visit(chromium, &start);
    assert!(
        visit
            .dom
            .contains("Signed in as <code id=\"user-id\">user_refreshed</code>"),
        "the browser did not end on the greeting:\n{}",
        visit.dom
    );
    assert_eq!(issuer.fapi.refreshes(), 1, "one Backend API refresh");
    assert_eq!(issuer.fapi.handshakes(), 0, "no Frontend API round trip");
    // The sign-in page's redirect to the app, then the page once: no redirect of the app's.
    assert_eq!(
        visit.documents,
        [start.as_str(), page.as_str()],
        "the navigation's requests"
    );
}

/// A member of `acme` (active) and `other` opens `/orgs/other`: the handshake activates it.
#[test]
fn a_real_browser_activates_the_organization_its_url_names() {
    let Some(chromium) = chromium() else {
        return;
    };
    let issuer = DevInstance::start();
    issuer
        .fapi
        .add_membership("user_member", "org_other", "other", "org:member");
    let app = PagesApp::start(&issuer, &[]);
    let start = format!(
        "{}?user_id=user_member&org_id=org_acme&org_slug=acme&redirect_url={}",
        issuer.sign_in_url(),
        form_encoded(&format!("{}/orgs/other", app.base))
    );
    let dom = chromium_dom(chromium, &start);
    assert!(
        dom.contains("Active organization: <code id=\"org-slug\">other</code>"),
        "the other organization is not active:\n{dom}"
    );
    assert_eq!(issuer.fapi.handshakes(), 1);
}
