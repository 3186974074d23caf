//! The rest of Clerk's `authenticateRequest` for pages, through the public API, against the dev
//! issuer's Frontend and Backend APIs over real HTTP on 127.0.0.1: the primary's cross-origin
//! sync, satellites syncing from their primary (production and development), the development
//! instances' dev browser, organizations named by the path, sessions refreshed through the
//! Backend API with `__refresh`, and the sign-in redirect's extra parameters. The test plays
//! the app: it calls `authenticate_page` and applies what comes back, as an adapter would.

#![cfg(feature = "remote")]

mod page_support;

use clerk_dev::pages::DevInstance;
use clerk_dev::{fixtures, now_unix, Browser, TokenBuilder};
use clerk_verify::request::{HandshakeOptions, PageRequest, Step};
use clerk_verify::{Authentication, Verifier, VerifyOptions};
use page_support::{apply, navigate, set_cookies};
use std::time::{Duration, Instant};

const APP: &str = "http://127.0.0.1:3000";
const SATELLITE: &str = "http://localhost:3001";

fn verifier_for(i: &DevInstance, origin: &str, handshake: HandshakeOptions) -> Verifier {
    Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default()
            .publishable_key(i.publishable_key())
            .authorized_parties([origin])
            .handshake(handshake),
    )
    .unwrap()
}

fn verifier(i: &DevInstance, handshake: HandshakeOptions) -> Verifier {
    verifier_for(i, APP, handshake)
}

fn reply_cookies(reply: &clerk_dev::HttpReply) -> Vec<String> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect()
}

fn location(a: &Authentication) -> String {
    a.handshake()
        .unwrap_or_else(|| panic!("a redirect, not {} {}", a.status(), a.reason()))
        .location()
        .to_owned()
}

/// The Frontend API's redirect back to the app, as `browser` (with its cookies) follows it.
fn through_fapi(browser: &mut Browser, location: &str) -> String {
    let reply = browser.get(location).unwrap();
    assert_eq!(reply.status, 307, "{}", reply.body);
    reply.header("location").unwrap().to_owned()
}

/// A browser signed in with the dev sign-in page (for the app at `origin`): the browser (with
/// the issuer's own cookies) and the app's `Cookie` header.
fn signed_in(i: &DevInstance, origin: &str, query: &str) -> (Browser, String) {
    let mut browser = Browser::new();
    let url = format!(
        "{}?{query}&redirect_url={}",
        i.sign_in_url(),
        clerk_dev::pages::form_encoded(&format!("{origin}/"))
    );
    let reply = browser.get(&url).unwrap();
    assert_eq!(reply.status, 307, "{}", reply.body);
    let cookie = apply("", &reply_cookies(&reply));
    (browser, cookie)
}

/// Runs a handshake to its end: the Frontend API (as `browser`), the completion; the cookie
/// header after it and the way back.
fn complete(v: &Verifier, browser: &mut Browser, start: &Authentication, cookie: &str) -> String {
    let back = through_fapi(browser, &location(start));
    let done = v.authenticate_page(&navigate(&back, cookie));
    assert!(
        done.handshake().is_some_and(|h| h.is_completion()),
        "{} {}",
        done.status(),
        done.reason()
    );
    apply(cookie, &set_cookies(&done))
}

fn org_slug(a: &Authentication) -> Option<String> {
    a.auth()?.org().and_then(|o| o.slug.clone())
}

#[test]
fn a_navigation_from_another_site_picks_up_the_session_through_a_handshake() {
    let i = DevInstance::start();
    let v = verifier(&i, HandshakeOptions::default());
    let now = now_unix();
    let cookie = format!(
        "__session={}; __client_uat={}",
        i.session("user_x", now, APP),
        now - 5
    );
    let page = |p: PageRequest| v.authenticate_page(&p);
    let from = |referer: &str| navigate(&format!("{APP}/a"), &cookie).referer(referer);

    // A foreign Referer, or Sec-Fetch-Site: cross-site alone (a Referrer-Policy removed it).
    let h = page(from("https://elsewhere.example/page"));
    assert_eq!(h.reason(), "primary-domain-cross-origin-sync");
    assert!(location(&h).contains("__session="));
    let cross_site = navigate(&format!("{APP}/a"), &cookie).sec_fetch_site("cross-site");
    assert_eq!(
        page(cross_site).reason(),
        "primary-domain-cross-origin-sync"
    );
    // Two Referers that disagree are foreign.
    let two = PageRequest::from_headers(
        "GET",
        "/a",
        [
            ("host", &b"127.0.0.1:3000"[..]),
            ("cookie", cookie.as_bytes()),
            ("sec-fetch-dest", b"document"),
            ("referer", b"http://127.0.0.1:3000/"),
            ("referer", b"https://elsewhere.example/"),
        ],
    );
    assert_eq!(page(two).reason(), "primary-domain-cross-origin-sync");

    // Signed in at once: same origin, Clerk's own hosts, a handshake just done, no document.
    for signed_in in [
        from(&format!("{APP}/other")),
        from("HTTP://127.0.0.1:3000/x"),
        from(&format!("{}/v1/client/handshake", i.server.url())),
        navigate(
            &format!("{APP}/a"),
            &format!("{cookie}; __clerk_redirect_count=1"),
        )
        .referer("https://elsewhere.example/"),
        navigate(&format!("{APP}/a"), &cookie)
            .sec_fetch_dest("iframe")
            .referer("https://elsewhere.example/"),
        PageRequest::new("GET", &format!("{APP}/a"))
            .cookie(&cookie)
            .accept("text/html")
            .referer("https://elsewhere.example/"),
        navigate(&format!("{APP}/a"), &cookie).sec_fetch_site("same-site"),
        from("not a url"),
    ] {
        let a = page(signed_in.clone());
        assert_eq!(
            a.auth().map(|a| a.user_id()),
            Some("user_x"),
            "{signed_in:?}: {}",
            a.reason()
        );
    }
    // A token we refuse is refused, whatever the Referer: no handshake can sign it in.
    let forged = TokenBuilder::session("user_admin", now)
        .claim("iss", i.server.url())
        .claim("azp", APP)
        .header("kid", fixtures::rsa2048().kid())
        .sign(fixtures::rsa2048_b());
    let a = page(
        navigate(
            &format!("{APP}/a"),
            &format!("__session={forged}; __client_uat={now}"),
        )
        .referer("https://elsewhere.example/"),
    );
    assert_eq!(a.reason(), "token-invalid-signature");

    // The whole way: through the Frontend API and back, signed in; the way back is itself
    // cross-site, but the loop counter is set.
    let start = page(from("https://elsewhere.example/"));
    let mut browser = Browser::new();
    let back = through_fapi(&mut browser, &location(&start));
    let with_counter = apply(&cookie, &set_cookies(&start));
    let done = page(navigate(&back, &with_counter).referer("https://elsewhere.example/"));
    assert!(done.handshake().unwrap().is_completion());
    let after = apply(&with_counter, &set_cookies(&done));
    let again = page(navigate(&format!("{APP}/a"), &after).referer("https://elsewhere.example/"));
    assert_eq!(again.auth().unwrap().user_id(), "user_x");
    assert_eq!(i.fapi.handshakes(), 1);

    // Clerk's cases for Account Portals: the one derived from the Frontend API is Clerk's own;
    // a development Account Portal (anyone's) only on a development instance.
    let referred = |v: &Verifier, i: &DevInstance, referer: &str| {
        let now = now_unix();
        let cookie = format!(
            "__session={}; __client_uat={}; __clerk_db_jwt=dvb_x",
            i.session("user_x", now, APP),
            now - 5
        );
        let page = navigate(&format!("{APP}/a"), &cookie)
            .referer(referer)
            .sec_fetch_site("cross-site");
        v.authenticate_page(&page).reason()
    };
    let d = DevInstance::development();
    let dev = verifier(&d, HandshakeOptions::default());
    for (v, i, referer, reason) in [
        (&dev, &d, "https://foo-bar-13.accounts.dev/sign-in", ""),
        (&dev, &d, "https://accounts.foo-bar-13.lcl.dev/sign-in", ""),
        (
            &v,
            &i,
            "https://foo-bar-13.accounts.dev/sign-in",
            "primary-domain-cross-origin-sync",
        ),
        (
            &dev,
            &d,
            "https://foo.clerk.accounts.dev/",
            "primary-domain-cross-origin-sync",
        ),
        (
            &v,
            &i,
            "https://accounts.example.com/sign-in",
            "primary-domain-cross-origin-sync",
        ),
    ] {
        assert_eq!(referred(v, i, referer), reason, "{referer}");
    }
}

#[test]
fn a_production_satellite_syncs_through_its_frontend_api() {
    let i = DevInstance::start();
    let options = HandshakeOptions::default()
        .is_satellite(true)
        .proxy_url(i.server.url())
        .satellite_auto_sync(true);
    let v = verifier_for(&i, SATELLITE, options.clone());
    let page = |url: &str, cookie: &str| v.authenticate_page(&navigate(url, cookie));

    // A first visit: a handshake whose way back says the sync is done.
    let first = page(&format!("{SATELLITE}/dash?x=1"), "");
    assert_eq!(first.reason(), "satellite-needs-syncing");
    let to = location(&first);
    assert!(
        to.starts_with(&format!("{}/v1/client/handshake?", i.server.url())),
        "{to}"
    );
    assert!(
        to.contains(
            "redirect_url=http%3A%2F%2Flocalhost%3A3001%2Fdash%3Fx%3D1%26__clerk_synced%3Dtrue"
        ),
        "{to}"
    );
    // Done, or not a top-level navigation: no sync.
    let done = page(&format!("{SATELLITE}/?__clerk_synced=true"), "");
    assert_eq!(done.reason(), "session-token-and-uat-missing");
    let fetch = v.authenticate_page(
        &PageRequest::new("GET", &format!("{SATELLITE}/")).sec_fetch_dest("empty"),
    );
    assert_eq!(fetch.reason(), "session-token-and-uat-missing");
    // Past the loop limit the page is judged by its (missing) cookies.
    let looped = page(&format!("{SATELLITE}/"), "__clerk_redirect_count=3");
    assert_eq!(looped.reason(), "session-token-and-uat-missing");

    // Without auto sync, only a browser back from the primary's sign-in page syncs.
    let manual = verifier_for(&i, SATELLITE, options.clone().satellite_auto_sync(false));
    let first = manual.authenticate_page(&navigate(&format!("{SATELLITE}/"), ""));
    assert_eq!(
        (first.status(), first.reason()),
        ("signed-out", "session-token-and-uat-missing")
    );
    let back =
        manual.authenticate_page(&navigate(&format!("{SATELLITE}/?__clerk_synced=false"), ""));
    assert_eq!(back.reason(), "satellite-needs-syncing");
    assert!(location(&back).contains("__clerk_synced%3Dtrue"));
    assert!(!location(&back).contains("__clerk_synced%3Dfalse"));

    // The whole way: signed in on the primary (the issuer's client cookie), the satellite's
    // first visit comes back signed in as that user, authorized for the satellite.
    let (mut browser, _) = signed_in(&i, APP, "user_id=user_sat");
    let first = page(&format!("{SATELLITE}/"), "");
    let cookie = complete(&v, &mut browser, &first, "");
    let visit = page(&format!("{SATELLITE}/?__clerk_synced=true"), &cookie);
    assert_eq!(visit.auth().unwrap().user_id(), "user_sat");
    // Its cookies are there now: the next visit does not sync.
    assert_eq!(
        page(&format!("{SATELLITE}/"), &cookie)
            .auth()
            .unwrap()
            .user_id(),
        "user_sat"
    );

    // A browser signed out on the primary comes back signed out, once.
    let mut stranger = Browser::new();
    let first = page(&format!("{SATELLITE}/"), "");
    let back = through_fapi(&mut stranger, &location(&first));
    let counter = apply("", &set_cookies(&first));
    let done = page(&back, &counter);
    let cookie = apply(&counter, &set_cookies(&done));
    let after = page(&location(&done), &cookie);
    assert_eq!(after.reason(), "session-token-and-uat-missing");
}

/// A development primary on 127.0.0.1:3000 and its satellite on localhost:3001.
fn development_pair(i: &DevInstance) -> (Verifier, Verifier) {
    let primary = verifier(
        i,
        HandshakeOptions::default().allowed_redirect_origins([SATELLITE]),
    );
    let satellite = verifier_for(
        i,
        SATELLITE,
        HandshakeOptions::default()
            .is_satellite(true)
            .domain("localhost:3001")
            .sign_in_url(format!("{APP}/sign-in"))
            .satellite_auto_sync(true),
    );
    (primary, satellite)
}

#[test]
fn a_development_satellite_syncs_through_the_primary() {
    let i = DevInstance::development();
    let (primary, satellite) = development_pair(&i);
    let (mut browser, primary_cookie) = signed_in(&i, APP, "user_id=user_dev_sat");
    assert!(
        primary_cookie.contains("__clerk_db_jwt=dvb_"),
        "{primary_cookie}"
    );

    // 1. The satellite sends the browser to the primary's sign-in URL.
    let first = satellite.authenticate_page(&navigate(&format!("{SATELLITE}/p"), ""));
    assert_eq!(first.reason(), "satellite-needs-syncing");
    let to_primary = location(&first);
    assert_eq!(
        to_primary,
        format!("{APP}/sign-in?__clerk_redirect_url=http%3A%2F%2Flocalhost%3A3001%2Fp")
    );
    // 2. The primary answers with its dev browser token and the sync done.
    let answer = primary.authenticate_page(&navigate(&to_primary, &primary_cookie));
    assert_eq!(answer.reason(), "primary-responds-to-syncing");
    let db = primary_cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("__clerk_db_jwt="))
        .unwrap();
    assert_eq!(
        location(&answer),
        format!("{SATELLITE}/p?__clerk_synced=true&__clerk_db_jwt={db}")
    );
    // 3. The satellite has the Frontend API set the token (dev-browser-sync) and the session.
    let sat_counter = apply("", &set_cookies(&first));
    let sync = satellite.authenticate_page(&navigate(&location(&answer), &sat_counter));
    assert_eq!(sync.reason(), "dev-browser-sync");
    let to = location(&sync);
    assert!(to.contains(&format!("__clerk_db_jwt={db}")), "{to}");
    assert!(
        !to.contains("redirect_url=http%3A%2F%2Flocalhost%3A3001%2Fp%3F__clerk_synced%3Dtrue%26"),
        "{to}"
    );
    let cookie = complete(&satellite, &mut browser, &sync, &sat_counter);
    assert!(cookie.contains(&format!("__clerk_db_jwt={db}")), "{cookie}");
    let visit = satellite.authenticate_page(&navigate(
        &format!("{SATELLITE}/p?__clerk_synced=true"),
        &cookie,
    ));
    assert_eq!(visit.auth().unwrap().user_id(), "user_dev_sat");
}

#[test]
fn a_development_primary_answers_only_allowed_satellites() {
    let i = DevInstance::development();
    let (primary, _) = development_pair(&i);
    let (_, cookie) = signed_in(&i, APP, "user_id=user_primary");
    let ask = |query: &str| {
        primary.authenticate_page(&navigate(&format!("{APP}/sign-in?{query}"), &cookie))
    };
    let enc = |u: &str| clerk_dev::pages::form_encoded(u);
    for refused in [
        format!("__clerk_redirect_url={}", enc("https://evil.example/")),
        format!("__clerk_redirect_url={}", enc("http://localhost:3002/")),
        format!(
            "__clerk_redirect_url={}",
            enc("http://localhost:3001@evil.example/")
        ),
        format!(
            "__clerk_redirect_url={}",
            enc("http://localhost:3001/\r\nSet-Cookie: x=1")
        ),
        format!("__clerk_redirect_url={}", enc("//localhost:3001/")),
        format!(
            "__clerk_redirect_url={}&__clerk_redirect_url={}",
            enc("http://localhost:3001/"),
            enc("https://evil.example/")
        ),
    ] {
        let a = ask(&refused);
        assert_eq!(
            a.auth().map(|a| a.user_id()),
            Some("user_primary"),
            "{refused}: {}",
            a.reason()
        );
    }
    // An allowed origin, spelled another way, is the same origin.
    let a = ask(&format!(
        "__clerk_redirect_url={}",
        enc("HTTP://LOCALHOST:3001/x?__clerk_synced=false")
    ));
    assert_eq!(a.reason(), "primary-responds-to-syncing");
    let to = location(&a);
    assert!(
        to.starts_with("HTTP://LOCALHOST:3001/x?__clerk_synced=true&__clerk_db_jwt=dvb_"),
        "{to}"
    );
    // A production primary never answers: its Frontend API syncs satellites.
    let p = DevInstance::start();
    let prod = verifier(
        &p,
        HandshakeOptions::default().allowed_redirect_origins([SATELLITE]),
    );
    let now = now_unix();
    let cookie = format!(
        "__session={}; __client_uat={}",
        p.session("u", now, APP),
        now - 1
    );
    let a = prod.authenticate_page(&navigate(
        &format!("{APP}/?__clerk_redirect_url={}", enc(SATELLITE)),
        &cookie,
    ));
    assert_eq!(a.auth().map(|a| a.user_id()), Some("u"));
    // Configuration: an allowed origin is an origin; a development satellite's sign-in URL is
    // the primary's, absolute.
    for bad in [
        HandshakeOptions::default().allowed_redirect_origins(["http://localhost:3001/path"]),
        HandshakeOptions::default().allowed_redirect_origins(["localhost:3001"]),
        HandshakeOptions::default()
            .is_satellite(true)
            .domain("x.test")
            .sign_in_url("/sign-in"),
    ] {
        let r = Verifier::from_jwks(
            &fixtures::rsa2048().jwks_json(),
            VerifyOptions::default()
                .publishable_key(i.publishable_key())
                .handshake(bad.clone()),
        );
        assert_eq!(r.unwrap_err().reason(), "config-invalid", "{bad:?}");
    }
}

#[test]
fn development_instances_get_a_dev_browser_first() {
    let i = DevInstance::development();
    let v = verifier(&i, HandshakeOptions::default());
    // No dev browser: a handshake gets one, signed in or not.
    let fresh = v.authenticate_page(&navigate(&format!("{APP}/"), ""));
    assert_eq!(fresh.reason(), "dev-browser-missing");
    let mut browser = Browser::new();
    let cookie = complete(&v, &mut browser, &fresh, "");
    assert!(cookie.contains("__clerk_db_jwt=dvb_"), "{cookie}");
    let served = v.authenticate_page(&navigate(&format!("{APP}/"), &cookie));
    assert_eq!(
        (served.status(), served.reason()),
        ("signed-out", "session-token-and-uat-missing")
    );
    // Not a navigation, or past the loop limit: judged by the cookies.
    let now = now_unix();
    let session = format!(
        "__session={}; __client_uat={}",
        i.session("user_db", now, APP),
        now - 1
    );
    let fetch = v.authenticate_page(
        &PageRequest::new("GET", &format!("{APP}/"))
            .cookie(&session)
            .sec_fetch_dest("empty"),
    );
    assert_eq!(fetch.auth().unwrap().user_id(), "user_db");
    let looped = v.authenticate_page(&navigate(
        &format!("{APP}/"),
        &format!("{session}; __clerk_redirect_count=3"),
    ));
    assert_eq!(looped.auth().unwrap().user_id(), "user_db");

    // A token in the query: the Frontend API sets it (dev-browser-sync); the way back is clean.
    let sync = v.authenticate_page(&navigate(
        &format!("{APP}/p?__clerk_db_jwt=dvb_given&x=1"),
        "",
    ));
    assert_eq!(sync.reason(), "dev-browser-sync");
    let to = location(&sync);
    assert!(to.contains("__clerk_db_jwt=dvb_given"), "{to}");
    assert!(
        to.contains("redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2Fp%3Fx%3D1&"),
        "{to}"
    );
    // A forged token names no client: the Frontend API makes a new, signed-out one.
    let cookie = complete(&v, &mut Browser::new(), &sync, "");
    assert!(!cookie.contains("dvb_given"), "{cookie}");
    assert!(cookie.contains("__client_uat=0"), "{cookie}");

    // A query token that disagrees with the browser's own: ignored, never passed on.
    let with_db = format!("{session}; __clerk_db_jwt=dvb_mine");
    let other = v.authenticate_page(&navigate(
        &format!("{APP}/?__clerk_db_jwt=dvb_theirs"),
        &with_db,
    ));
    assert_eq!(other.auth().unwrap().user_id(), "user_db");
    let expired = format!(
        "__session={}; __client_uat={}; __clerk_db_jwt=dvb_mine",
        i.session("user_db", now - 120, APP),
        now - 120
    );
    let h = v.authenticate_page(&navigate(
        &format!("{APP}/?__clerk_db_jwt=dvb_theirs"),
        &expired,
    ));
    let to = location(&h);
    assert!(
        to.contains("__clerk_db_jwt=dvb_mine") && !to.contains("dvb_theirs"),
        "{to}"
    );

    // A production instance has no dev browser.
    let p = DevInstance::start();
    let prod = verifier(&p, HandshakeOptions::default());
    let a = prod.authenticate_page(&navigate(&format!("{APP}/?__clerk_db_jwt=dvb_x"), ""));
    assert_eq!(a.reason(), "session-token-and-uat-missing");
}

#[test]
fn the_path_activates_the_organization_it_names() {
    let i = DevInstance::start();
    let v = verifier(
        &i,
        HandshakeOptions::default()
            .organization_patterns(["/orgs/:slug", "/orgs/:slug/(.*)"])
            .personal_account_patterns(["/me"]),
    );
    i.fapi
        .add_membership("user_org", "org_other", "other", "org:member");
    let (mut browser, cookie) = signed_in(
        &i,
        APP,
        "user_id=user_org&org_id=org_acme&org_slug=acme&org_role=org:admin",
    );
    let page =
        |path: &str, cookie: &str| v.authenticate_page(&navigate(&format!("{APP}{path}"), cookie));
    let a = page("/orgs/acme", &cookie);
    assert_eq!(
        org_slug(&a).as_deref(),
        Some("acme"),
        "{} {}",
        a.status(),
        a.reason()
    );
    assert_eq!(
        org_slug(&page("/ORGS/acme/settings/", &cookie)).as_deref(),
        Some("acme")
    );
    assert_eq!(
        org_slug(&page("/elsewhere", &cookie)).as_deref(),
        Some("acme")
    );

    // Another organization: the handshake that activates it.
    let h = page("/orgs/other/settings", &cookie);
    assert_eq!(h.reason(), "active-organization-mismatch");
    assert!(
        location(&h).contains("&organization_id=other"),
        "{}",
        location(&h)
    );
    let switched = complete(&v, &mut browser, &h, &cookie);
    let a = page("/orgs/other/settings", &switched);
    assert_eq!(org_slug(&a).as_deref(), Some("other"));
    assert_eq!(a.auth().unwrap().org().unwrap().id, "org_other");
    // Not a member: three handshakes, then the page with the session's own organization.
    let mut cookie = switched.clone();
    for n in 0..3 {
        let h = page("/orgs/stranger", &cookie);
        assert_eq!(h.reason(), "active-organization-mismatch", "handshake {n}");
        // The browser keeps the loop counter the start sets (for two seconds).
        cookie = apply(&cookie, &set_cookies(&h));
        cookie = complete(&v, &mut browser, &h, &cookie);
    }
    let a = page("/orgs/stranger", &cookie);
    assert_eq!(org_slug(&a).as_deref(), Some("other"), "{}", a.reason());
    // The personal account: the handshake that deactivates it.
    let h = page("/me", &switched);
    assert!(
        location(&h).ends_with("&organization_id="),
        "{}",
        location(&h)
    );
    let personal = complete(&v, &mut browser, &h, &switched);
    let a = page("/me", &personal);
    assert!(a.auth().unwrap().org().is_none());

    // Not a navigation: no handshake.
    let fetch = v.authenticate_page(
        &PageRequest::new("GET", &format!("{APP}/orgs/acme"))
            .cookie(&switched)
            .sec_fetch_dest("empty"),
    );
    assert_eq!(org_slug(&fetch).as_deref(), Some("other"));
    // Any handshake on such a page asks for its organization.
    let now = now_unix();
    let expired = format!(
        "__session={}; __client_uat={}",
        i.session("user_org", now - 120, APP),
        now - 120
    );
    assert!(location(&page("/orgs/acme", &expired)).contains("organization_id=acme"));
}

/// The instance's refresh cookie name.
fn refresh_cookie(i: &DevInstance) -> String {
    format!("__refresh_{}", i.cookie_suffix())
}

fn refreshing(i: &DevInstance) -> HandshakeOptions {
    HandshakeOptions::default()
        .secret_key("sk_test_refresh")
        .api_url(i.server.url())
}

#[test]
fn an_expired_session_with_a_refresh_cookie_is_refreshed_by_the_backend_api() {
    let i = DevInstance::start();
    let v = verifier(&i, refreshing(&i));
    let (_, cookie) = signed_in(&i, APP, "user_id=user_refresh&expired=1");
    assert!(
        cookie.contains(&format!("{}=rt_", refresh_cookie(&i))),
        "{cookie}"
    );
    let url = format!("{APP}/dash?x=1");

    // Without blocking, the call is not made: the step says so.
    assert!(matches!(
        v.authenticate_page_step(navigate(&url, &cookie)),
        Step::Blocking(_)
    ));
    // A caller that sends the cookies itself: signed in on this request.
    let a = v.authenticate_page(&navigate(&url, &cookie).delivers_cookies(true));
    let auth = a.auth().unwrap_or_else(|| panic!("{}", a.reason()));
    assert_eq!(auth.user_id(), "user_refresh");
    assert!(auth
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("__session=")));
    assert!(
        !format!("{auth:?}").contains("__session="),
        "Debug hides the cookies"
    );
    // Otherwise one 307 to the same URL sets them.
    let a = v.authenticate_page(&navigate(&url, &cookie));
    assert_eq!(a.reason(), "session-token-refreshed");
    assert_eq!(location(&a), url);
    let cookies = set_cookies(&a);
    assert!(cookies.iter().any(|c| c.starts_with("__session=")));
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__clerk_redirect_count=1")));
    let after = apply(&cookie, &cookies);
    assert_eq!(
        v.authenticate_page(&navigate(&url, &after))
            .auth()
            .unwrap()
            .user_id(),
        "user_refresh"
    );
    // Past the loop limit: signed in on this request, without another redirect.
    let a = v.authenticate_page(&navigate(
        &url,
        &format!("{cookie}; __clerk_redirect_count=3"),
    ));
    assert_eq!(a.auth().unwrap().user_id(), "user_refresh");
    // A fetch() cannot be redirected to set them: no call, the API's answer.
    let calls = i.fapi.refreshes();
    let fetch = PageRequest::new("GET", &url)
        .cookie(&cookie)
        .sec_fetch_dest("empty");
    assert_eq!(v.authenticate_page(&fetch).reason(), "token-expired");
    assert_eq!(
        v.authenticate_page(&fetch.clone().delivers_cookies(true))
            .auth()
            .unwrap()
            .user_id(),
        "user_refresh"
    );
    // Nor a POST.
    let post = PageRequest::new("POST", &url)
        .cookie(&cookie)
        .delivers_cookies(true);
    assert_eq!(v.authenticate_page(&post).reason(), "token-expired");
    assert_eq!(i.fapi.refreshes(), calls + 1);
    assert_eq!(i.fapi.handshakes(), 0, "no Frontend API round trip");
}

#[test]
fn forged_and_replayed_refreshes_fall_back_to_the_handshake() {
    let i = DevInstance::start();
    let v = verifier(&i, refreshing(&i));
    let (_, cookie) = signed_in(&i, APP, "user_id=user_a&expired=1");
    let (_, other) = signed_in(&i, APP, "user_id=user_b&expired=1");
    let name = refresh_cookie(&i);
    let take = |c: &str, n: &str| {
        c.split("; ")
            .find_map(|p| p.strip_prefix(&format!("{n}=")))
            .unwrap()
            .to_owned()
    };
    let url = format!("{APP}/");
    let calls = || i.fapi.refreshes();

    // A made-up refresh token: the Backend API refuses it, the handshake takes over; asked
    // again, it is refused without a call.
    let forged = apply(&cookie, &[format!("{name}=rt_madeup")]);
    let a = v.authenticate_page(&navigate(&url, &forged));
    assert_eq!(
        a.reason(),
        "session-token-expired-refresh-unexpected-bapi-error"
    );
    assert!(location(&a).starts_with(&format!("{}/v1/client/handshake?", i.server.url())));
    let n = calls();
    let a = v.authenticate_page(&navigate(&url, &forged));
    assert_eq!(
        a.reason(),
        "session-token-expired-refresh-unexpected-bapi-error"
    );
    assert_eq!(calls(), n);
    // Another session's refresh token with this session's token: refused.
    let mixed = apply(&cookie, &[format!("{name}={}", take(&other, &name))]);
    let a = v.authenticate_page(&navigate(&url, &mixed));
    assert_eq!(
        a.reason(),
        "session-token-expired-refresh-unexpected-bapi-error"
    );
    // A revoked session: refused.
    let sid = |c: &str| {
        let token = take(c, "__session");
        let payload = token.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&clerk_dev::b64url_decode(payload).unwrap()).unwrap();
        claims["sid"].as_str().unwrap().to_owned()
    };
    i.fapi.revoke(&sid(&other));
    let a = v.authenticate_page(&navigate(&url, &other));
    assert_eq!(
        a.reason(),
        "session-token-expired-refresh-unexpected-bapi-error"
    );
    // A token that does not verify is never worth a call: signed out, as before.
    let n = calls();
    let now = now_unix();
    let stranger = TokenBuilder::session("user_a", now - 120)
        .claim("iss", i.server.url())
        .claim("azp", APP)
        .claim("sid", sid(&cookie))
        .header("kid", fixtures::rsa2048().kid())
        .sign(fixtures::rsa2048_b());
    let made_up = apply(&cookie, &[format!("__session={stranger}")]);
    assert_eq!(
        v.authenticate_page(&navigate(&url, &made_up)).reason(),
        "token-invalid-signature"
    );
    // Nor one without a session id.
    let no_sid = TokenBuilder::session("user_a", now - 120)
        .claim("iss", i.server.url())
        .claim("azp", APP)
        .remove_claim("sid")
        .sign(fixtures::rsa2048());
    let a = v.authenticate_page(&navigate(
        &url,
        &apply(&cookie, &[format!("__session={no_sid}")]),
    ));
    assert_eq!(
        a.reason(),
        "session-token-expired-refresh-expired-session-token-missing-sid-claim"
    );
    assert_eq!(calls(), n);
    // Without a secret key: the handshake refreshes it (Clerk's reason).
    let plain = verifier(&i, HandshakeOptions::default());
    assert_eq!(
        plain.authenticate_page(&navigate(&url, &cookie)).reason(),
        "session-token-expired-refresh-missing-api-client"
    );
}

#[test]
fn a_refresh_is_bounded_in_rate_and_time_and_an_outage_signs_no_one_out() {
    let i = DevInstance::start();
    let (_, cookie) = signed_in(&i, APP, "user_id=user_bounded&expired=1");
    let url = format!("{APP}/");
    // One refresh per second: the second is the handshake's, without a call.
    let v = verifier(&i, refreshing(&i).max_session_refreshes_per_second(1));
    assert_eq!(
        v.authenticate_page(&navigate(&url, &cookie)).reason(),
        "session-token-refreshed"
    );
    let calls = i.fapi.refreshes();
    assert_eq!(
        v.authenticate_page(&navigate(&url, &cookie)).reason(),
        "session-token-expired-refresh-rate-limited"
    );
    assert_eq!(i.fapi.refreshes(), calls);

    // A Backend API that never answers: the handshake, within the timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let v = verifier(
        &i,
        refreshing(&i)
            .api_url(format!("http://{}", silent.local_addr().unwrap()))
            .backend_api_timeout(Duration::from_millis(500)),
    );
    let started = Instant::now();
    let a = v.authenticate_page(&navigate(&url, &cookie));
    assert_eq!(a.reason(), "session-token-expired-refresh-fetch-error");
    assert!(a.handshake().is_some());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(silent);

    // A Backend API that answers for another user: refused.
    let now = now_unix();
    let someone = i.session("user_else", now, APP);
    let answer = serde_json::json!({"object": "cookies", "cookies": [
        format!("__session={someone}; Path=/"),
        format!("__client_uat={now}; Path=/"),
    ]})
    .to_string();
    let liar = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = format!("http://{}", liar.local_addr().unwrap());
    let serving = std::thread::spawn(move || {
        let (mut stream, _) = liar.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut request = [0u8; 16 * 1024];
        let _ = std::io::Read::read(&mut stream, &mut request);
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        );
        std::io::Write::write_all(&mut stream, reply.as_bytes()).unwrap();
    });
    let v = verifier(&i, refreshing(&i).api_url(api));
    let a = v.authenticate_page(&navigate(&url, &cookie));
    serving.join().unwrap();
    assert_eq!(
        a.reason(),
        "session-token-expired-refresh-invalid-session-token"
    );
}

#[test]
fn sign_in_redirects_carry_clerks_parameters() {
    let i = DevInstance::start();
    let v = verifier(
        &i,
        HandshakeOptions::default()
            .sign_in_url("https://accounts.example.com/sign-in?redirect_url=old")
            .after_sign_in_url("/welcome")
            .after_sign_up_url("https://app.example/onboarding"),
    );
    let page = navigate(&format!("{APP}/dash"), "");
    assert_eq!(
        v.sign_in_redirect(&page).unwrap(),
        "https://accounts.example.com/sign-in?redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2Fdash\
         &sign_in_fallback_redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2Fwelcome\
         &sign_up_fallback_redirect_url=https%3A%2F%2Fapp.example%2Fonboarding"
    );
    // A development satellite: the way back syncs, and the dev browser goes along.
    let d = DevInstance::development();
    let (_, satellite) = development_pair(&d);
    let page = navigate(
        &format!("{SATELLITE}/p?__clerk_synced=true"),
        "__clerk_db_jwt=dvb_sat",
    );
    assert_eq!(
        satellite.sign_in_redirect(&page).unwrap(),
        "http://127.0.0.1:3000/sign-in?redirect_url=http%3A%2F%2Flocalhost%3A3001%2Fp%3F__clerk_synced%3Dfalse\
         &__clerk_db_jwt=dvb_sat"
    );
}
