//! Clerk's handshake for server-rendered pages, through the public API, against the dev
//! issuer's emulated Frontend API and Backend API over real HTTP on 127.0.0.1. The test plays
//! the app: it calls `authenticate_page` and applies what comes back, as an adapter would.

// The nonce exchange and the keys of a real instance need the remote key source.
#![cfg(feature = "remote")]

mod page_support;

use clerk_dev::pages::DevInstance;
use clerk_dev::{fixtures, now_unix, Browser, FrontendApi, TokenBuilder};
use clerk_verify::request::{HandshakeOptions, PageRequest};
use clerk_verify::{Verifier, VerifyOptions};
use page_support::{apply, navigate, set_cookies};

const APP: &str = "http://127.0.0.1:3000";

fn instance(secret: Option<&str>) -> DevInstance {
    let mut fapi = FrontendApi::new(fixtures::rsa2048().clone());
    if let Some(secret) = secret {
        fapi = fapi.secret_key(secret);
    }
    DevInstance::start_with(fapi)
}

fn verifier(i: &DevInstance, handshake: HandshakeOptions) -> Verifier {
    Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default()
            .publishable_key(i.publishable_key())
            .authorized_parties([APP])
            .handshake(handshake),
    )
    .unwrap()
}

/// A session token of the dev instance for the app at `APP`.
fn session(i: &DevInstance, sub: &str, iat: i64) -> String {
    i.session(sub, iat, APP)
}

fn issued(sub: &str, iat: i64, iss: &str) -> String {
    TokenBuilder::session(sub, iat)
        .claim("iss", iss)
        .claim("azp", APP)
        .claim("exp", iat + 60)
        .sign(fixtures::rsa2048())
}

/// The `Cookie` header of a browser with a session token and `__client_uat`.
fn cookies(session: &str, client_uat: i64) -> String {
    format!("__session={session}; __client_uat={client_uat}")
}

/// The Frontend API's redirect back to the app for a handshake `location`.
fn through_fapi(location: &str) -> String {
    let reply = Browser::new().get(location).unwrap();
    assert_eq!(reply.status, 307, "{}", reply.body);
    reply.header("location").unwrap().to_owned()
}

#[test]
fn an_expired_cookie_is_refreshed_through_a_handshake_token() {
    let i = instance(None);
    let v = verifier(&i, HandshakeOptions::default());
    let now = now_unix();
    let cookie = cookies(&session(&i, "user_1", now - 120), now - 120);

    // 1. The page: a 307 to the Frontend API with Clerk's parameters and the loop counter.
    let first = v.authenticate_page(&navigate(&format!("{APP}/dash?tab=2"), &cookie));
    let h = first.handshake().expect("a handshake");
    assert_eq!(
        h.reason(),
        "session-token-expired-refresh-non-eligible-no-refresh-cookie"
    );
    let to = format!("{}/v1/client/handshake?redirect_url=", i.server.url());
    assert!(h.location().starts_with(&to), "{}", h.location());
    assert!(h
        .location()
        .contains("redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2Fdash%3Ftab%3D2"));
    assert!(h
        .location()
        .contains("__clerk_hs_reason=session-token-expired"));
    assert!(!h.location().contains("format=nonce"));
    assert!(h
        .headers()
        .contains(&("cache-control", "no-store".to_owned())));
    assert_eq!(
        set_cookies(&first),
        ["__clerk_redirect_count=1; SameSite=Lax; HttpOnly; Max-Age=2"]
    );
    assert_eq!(first.status(), "handshake");

    // 2. The Frontend API sends the browser back with a signed handshake token.
    let back = through_fapi(h.location());
    assert!(back.starts_with(&format!("{APP}/dash?tab=2&__clerk_handshake=")));

    // 3. The app verifies it, sets Clerk's cookies and redirects to the clean URL.
    let done = v.authenticate_page(&navigate(&back, &cookie));
    let h = done.handshake().expect("completion");
    assert!(h.is_completion());
    assert_eq!(h.reason(), "handshake-complete");
    assert_eq!(h.location(), format!("{APP}/dash?tab=2"));
    let refreshed = apply(&cookie, &set_cookies(&done));

    // 4. Signed in with the new cookies.
    let page = v.authenticate_page(&navigate(&format!("{APP}/dash?tab=2"), &refreshed));
    assert_eq!(page.auth().expect("signed in").user_id(), "user_1");

    // Replaying the handshake is refused and applies nothing.
    let replay = v.authenticate_page(&navigate(&back, &cookie));
    assert_eq!(replay.reason(), "handshake-invalid");
    assert!(replay.handshake().is_none() && replay.auth().is_none());
    assert_eq!(i.fapi.handshakes(), 1);
}

#[test]
fn nonces_are_exchanged_with_the_backend_api_once() {
    let i = instance(Some("sk_test_handshake"));
    let v = verifier(
        &i,
        HandshakeOptions::default()
            .secret_key("sk_test_handshake")
            .api_url(i.server.url()),
    );
    let now = now_unix();
    let cookie = cookies(&session(&i, "user_2", now - 120), now - 120);
    let page = navigate(&format!("{APP}/"), &cookie);
    let h = v.authenticate_page(&page);
    let location = h.handshake().unwrap().location().to_owned();
    assert!(location.contains("format=nonce"));
    let back = through_fapi(&location);
    assert!(back.contains("__clerk_handshake_nonce="), "{back}");

    // Without blocking the nonce cannot be exchanged: the step says so.
    let returning = navigate(&back, &cookie);
    assert!(matches!(
        v.authenticate_page_step(returning.clone()),
        clerk_verify::request::Step::Blocking(_)
    ));
    let done = v.authenticate_page(&returning);
    assert!(
        done.handshake().unwrap().is_completion(),
        "{}",
        done.reason()
    );
    assert_eq!(i.fapi.exchanges(), 1);
    let refreshed = apply(&cookie, &set_cookies(&done));
    assert_eq!(
        v.authenticate_page(&navigate(&format!("{APP}/"), &refreshed))
            .auth()
            .unwrap()
            .user_id(),
        "user_2"
    );
    // A used nonce is refused before it reaches the Backend API again.
    assert_eq!(
        v.authenticate_page(&returning).reason(),
        "handshake-invalid"
    );
    assert_eq!(i.fapi.exchanges(), 1);

    // A nonce that cannot be Clerk's (too short) is refused without asking.
    let forged = navigate(
        &format!("{APP}/?__clerk_handshake_nonce=nonce_forged"),
        &cookie,
    );
    assert_eq!(v.authenticate_page(&forged).reason(), "handshake-invalid");
    assert_eq!(i.fapi.exchanges(), 1);
    // An unknown nonce of the right shape: the Backend API refuses it (400) once, and it is
    // remembered, so asking again costs nothing (apart from the completed handshakes, so
    // made-up nonces cannot push those out).
    let unknown = navigate(
        &format!("{APP}/?__clerk_handshake_nonce=nonce_2vYVmadeUpButWellShaped"),
        &cookie,
    );
    for _ in 0..3 {
        assert_eq!(v.authenticate_page(&unknown).reason(), "handshake-invalid");
        assert_eq!(i.fapi.exchanges(), 2);
    }
    assert_eq!(
        v.authenticate_page(&returning).reason(),
        "handshake-invalid",
        "the completed nonce is still remembered"
    );
    // A wrong secret key is the server's configuration, not the browser's fault.
    let wrong = verifier(
        &i,
        HandshakeOptions::default()
            .secret_key("sk_test_wrong")
            .api_url(i.server.url()),
    );
    let back = through_fapi(&location);
    let a = wrong.authenticate_page(&navigate(&back, &cookie));
    assert_eq!(a.reason(), "secret-key-invalid");
}

#[test]
fn forged_expired_and_foreign_handshakes_are_refused() {
    let i = instance(None);
    let v = verifier(&i, HandshakeOptions::default());
    let now = now_unix();
    let fresh = session(&i, "user_3", now);
    let directives = vec![
        format!("__session={fresh}; Path=/"),
        format!("__client_uat={now}; Path=/"),
    ];
    let handshake = |key: &clerk_dev::DevKey, exp: i64, cat: Option<&str>| {
        let mut b = TokenBuilder::empty()
            .header("typ", "JWT")
            .claim("handshake", directives.clone())
            .claim("iat", now - 10)
            .claim("exp", exp);
        if let Some(cat) = cat {
            b = b.header("cat", cat);
        }
        b.sign(key)
    };
    let at = |token: String| navigate(&format!("{APP}/?__clerk_handshake={token}"), "");
    // Genuine: accepted.
    let ok = v.authenticate_page(&at(handshake(fixtures::rsa2048(), now + 60, None)));
    assert!(ok.handshake().unwrap().is_completion(), "{}", ok.reason());
    for (what, token) in [
        (
            "another key",
            handshake(fixtures::rsa2048_b(), now + 60, None),
        ),
        ("expired", handshake(fixtures::rsa2048(), now - 1, None)),
        (
            "a JWT template",
            handshake(fixtures::rsa2048(), now + 60, Some("cl_B7d4PD222AAA")),
        ),
        ("garbage", "not.a.token".to_owned()),
    ] {
        let a = v.authenticate_page(&at(token));
        assert_eq!(a.reason(), "handshake-invalid", "{what}");
        assert!(a.auth().is_none() && a.handshake().is_none(), "{what}");
    }
    // A tampered payload fails the signature.
    let genuine = handshake(fixtures::rsa2048(), now + 60, None);
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    parts[1] = clerk_dev::b64url(br#"{"handshake":["__session=x; Path=/"],"exp":9999999999}"#);
    assert_eq!(
        v.authenticate_page(&at(parts.join("."))).reason(),
        "handshake-invalid"
    );
    // A handshake whose session token is not valid here (expired) applies nothing.
    let stale = vec![format!("__session={}; Path=/", session(&i, "u", now - 300))];
    let t = TokenBuilder::empty()
        .claim("handshake", stale)
        .claim("exp", now + 60)
        .sign(fixtures::rsa2048());
    assert_eq!(v.authenticate_page(&at(t)).reason(), "handshake-invalid");
}

#[test]
fn only_clerk_cookies_are_applied() {
    let i = instance(None);
    let v = verifier(&i, HandshakeOptions::default());
    let now = now_unix();
    let fresh = session(&i, "user_4", now);
    i.fapi.force_directives(Some(vec![
        format!("__session={fresh}; Path=/; SameSite=Lax"),
        format!("__client_uat={now}; Path=/"),
        "admin=1; Path=/".to_owned(),
        "__session_evil\u{1}=1".to_owned(),
    ]));
    let cookie = format!("__client_uat={now}");
    let h = v.authenticate_page(&navigate(&format!("{APP}/"), &cookie));
    assert_eq!(h.reason(), "client-uat-but-no-session-token");
    let back = through_fapi(h.handshake().unwrap().location());
    let done = v.authenticate_page(&navigate(&back, &cookie));
    let cookies = set_cookies(&done);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies.iter().all(|c| !c.starts_with("admin")));
}

#[test]
fn cookie_states_that_start_a_handshake() {
    let i = instance(None);
    let v = verifier(&i, HandshakeOptions::default());
    let now = now_unix();
    let token = session(&i, "user_5", now - 30);
    let cases = [
        (
            format!("__session={token}"),
            "session-token-but-no-client-uat",
        ),
        (
            format!("__client_uat={now}"),
            "client-uat-but-no-session-token",
        ),
        (
            format!("__session={token}; __client_uat={now}"),
            "session-token-iat-before-client-uat",
        ),
        (
            cookies(&session(&i, "u", now + 3600), now - 60),
            "session-token-nbf",
        ),
    ];
    for (cookie, reason) in &cases {
        let page = v.authenticate_page(&navigate(&format!("{APP}/"), cookie));
        assert_eq!(page.reason(), *reason, "{cookie}");
        assert!(page.handshake().is_some(), "{cookie}");
        // The same request from a script (fetch) is signed out, as an API request.
        let api = PageRequest::new("GET", &format!("{APP}/"))
            .cookie(cookie)
            .sec_fetch_dest("empty");
        let a = v.authenticate_page(&api);
        assert!(a.handshake().is_none() && a.auth().is_none(), "{cookie}");
        assert_eq!(
            a.reason(),
            v.authenticate_request(None, Some(cookie)).reason()
        );
        // So is a POST navigation (the Frontend API only takes GET).
        let post = PageRequest::new("POST", &format!("{APP}/"))
            .cookie(cookie)
            .sec_fetch_dest("document");
        assert!(v.authenticate_page(&post).handshake().is_none());
    }
    // No cookies at all: plainly signed out, no handshake.
    let none = v.authenticate_page(&navigate(&format!("{APP}/"), ""));
    assert_eq!(none.reason(), "session-token-and-uat-missing");
    // A valid cookie: signed in without a detour.
    let good = cookies(&session(&i, "user_5", now), now - 5);
    assert!(v.authenticate_page(&navigate(APP, &good)).auth().is_some());
    // A bearer header is the header flow: signed in, never redirected.
    let header = PageRequest::new("GET", APP)
        .authorization(format!("Bearer {}", session(&i, "user_5", now)))
        .sec_fetch_dest("document");
    assert!(v.authenticate_page(&header).auth().is_some());
}

#[test]
fn redirect_loops_stop_after_clerks_limit() {
    let i = instance(None);
    let v = verifier(&i, HandshakeOptions::default());
    let now = now_unix();
    let cookie = format!(
        "__session={}; __client_uat={now}",
        session(&i, "u", now - 600)
    );
    for count in 0..3 {
        let c = format!("{cookie}; __clerk_redirect_count={count}");
        let a = v.authenticate_page(&navigate(APP, &c));
        assert_eq!(
            set_cookies(&a)[0],
            format!(
                "__clerk_redirect_count={}; SameSite=Lax; HttpOnly; Max-Age=2",
                count + 1
            )
        );
    }
    let c = format!("{cookie}; __clerk_redirect_count=3");
    let a = v.authenticate_page(&navigate(APP, &c));
    assert!(a.handshake().is_none());
    assert_eq!(a.reason(), "session-token-iat-before-client-uat");
}

#[test]
fn a_revoked_session_comes_back_signed_out() {
    let i = instance(None);
    let v = verifier(&i, HandshakeOptions::default());
    let now = now_unix();
    let token = TokenBuilder::session("user_6", now - 120)
        .claim("iss", i.server.url())
        .claim("sid", "sess_revoked")
        .claim("azp", APP)
        .sign(fixtures::rsa2048());
    i.fapi.revoke("sess_revoked");
    let cookie = format!("__session={token}; __client_uat={}", now - 120);
    let h = v.authenticate_page(&navigate(APP, &cookie));
    let back = through_fapi(h.handshake().unwrap().location());
    let done = v.authenticate_page(&navigate(&back, &cookie));
    let after = apply(&cookie, &set_cookies(&done));
    assert!(!after.contains("__session="), "{after}");
    assert!(after.contains("__client_uat=0"));
    let page = v.authenticate_page(&navigate(APP, &after));
    assert_eq!(page.reason(), "session-token-and-uat-missing");
}

#[test]
fn frontend_api_from_options() {
    let pk_dev = clerk_dev::publishable_key("fond-koala-12.clerk.accounts.dev", false);
    let pk_live = clerk_dev::publishable_key("clerk.example.com", true);
    let now = now_unix();
    let location = |pk: &str, opts: HandshakeOptions| {
        let host = clerk_verify::options::PublishableKey::parse(pk).unwrap();
        let iss = format!("https://{}", host.frontend_api_host());
        let cookie = format!(
            "__session={}; __client_uat={now}",
            issued("u", now - 60, &iss)
        );
        let v = Verifier::from_jwks(
            &fixtures::rsa2048().jwks_json(),
            VerifyOptions::default().publishable_key(pk).handshake(opts),
        )
        .unwrap();
        let page = navigate("https://app.example.com/x", &cookie);
        v.authenticate_page(&page)
            .handshake()
            .unwrap()
            .location()
            .to_owned()
    };
    assert!(location(&pk_dev, HandshakeOptions::default())
        .starts_with("https://fond-koala-12.clerk.accounts.dev/v1/client/handshake?"));
    assert!(
        location(&pk_dev, HandshakeOptions::default().proxy_url("/__clerk"))
            .starts_with("https://app.example.com/__clerk/v1/client/handshake?")
    );
    assert!(location(
        &pk_live,
        HandshakeOptions::default().proxy_url("https://proxy.example.com/clerk/")
    )
    .starts_with("https://proxy.example.com/clerk/v1/client/handshake?"));
    let satellite = HandshakeOptions::default()
        .is_satellite(true)
        .domain("satellite.example");
    assert!(location(&pk_live, satellite.clone())
        .starts_with("https://clerk.satellite.example/v1/client/handshake?"));

    let build = |pk: Option<&str>, opts: HandshakeOptions| {
        let mut o = VerifyOptions::default().handshake(opts);
        if let Some(pk) = pk {
            o = o.publishable_key(pk);
        }
        Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), o).map(|_| ())
    };
    let config = |r: Result<(), clerk_verify::Error>| r.unwrap_err().reason();
    assert_eq!(
        config(build(None, HandshakeOptions::default())),
        "config-invalid"
    );
    assert_eq!(
        config(build(
            Some(&pk_live),
            HandshakeOptions::default().is_satellite(true)
        )),
        "config-invalid"
    );
    // A development satellite also needs the primary's sign-in page.
    assert_eq!(
        config(build(Some(&pk_dev), satellite.clone())),
        "config-invalid"
    );
    assert!(build(
        Some(&pk_dev),
        satellite.sign_in_url("https://primary.example/sign-in")
    )
    .is_ok());
    assert_eq!(
        config(build(
            Some(&pk_dev),
            HandshakeOptions::default().proxy_url("proxy")
        )),
        "config-invalid"
    );
}

#[test]
fn sign_in_redirects_carry_the_page() {
    let i = instance(None);
    let v = verifier(
        &i,
        HandshakeOptions::default().sign_in_url("https://accounts.example.com/sign-in"),
    );
    let page = navigate(&format!("{APP}/dashboard?x=1"), "");
    assert_eq!(
        v.sign_in_redirect(&page).unwrap(),
        "https://accounts.example.com/sign-in?redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2Fdashboard%3Fx%3D1"
    );
    let relative = verifier(&i, HandshakeOptions::default().sign_in_url("/sign-in"));
    assert!(relative
        .sign_in_redirect(&page)
        .unwrap()
        .starts_with(&format!("{APP}/sign-in?redirect_url=")));
    assert!(verifier(&i, HandshakeOptions::default())
        .sign_in_redirect(&page)
        .is_none());
}

#[test]
fn without_handshake_options_pages_are_answered_like_api_requests() {
    let v =
        Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), VerifyOptions::default()).unwrap();
    let now = now_unix();
    let cookie = cookies(&issued("u", now - 120, APP), now - 120);
    let a = v.authenticate_page(&navigate(APP, &cookie));
    assert_eq!(a.reason(), "token-expired");
    // Handshake parameters are ignored entirely.
    let a = v.authenticate_page(&navigate(&format!("{APP}/?__clerk_handshake=x"), ""));
    assert_eq!(a.reason(), "session-token-and-uat-missing");
}

#[test]
fn what_pages_answer() {
    let i = instance(None);
    let with_sign_in = verifier(&i, HandshakeOptions::default().sign_in_url("/sign-in"));
    let without = verifier(&i, HandshakeOptions::default());
    let now = now_unix();
    let page = navigate(&format!("{APP}/dashboard"), "");
    // Signed out: a page serving everyone renders; one requiring sign-in redirects, or 401.
    let out = with_sign_in.authenticate_page(&page);
    assert!(matches!(out.clone().into_page(), Ok(None)));
    let r = out
        .require_sign_in(with_sign_in.sign_in_redirect(&page))
        .unwrap_err();
    assert_eq!((r.status(), r.error()), (307, "redirect"));
    assert_eq!(
        r.headers()[0],
        (
            "location",
            format!("{APP}/sign-in?redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2Fdashboard")
        )
    );
    assert_eq!(r.debug_headers()[0], ("x-clerk-auth-status", "signed-out"));
    let r = without
        .authenticate_page(&page)
        .require_sign_in(without.sign_in_redirect(&page))
        .unwrap_err();
    assert_eq!((r.status(), r.headers().len()), (401, 0));
    // A handshake is a 307 whatever the page, with its cookies; never a rendered page.
    let stale = navigate(
        APP,
        &format!(
            "__session={}; __client_uat={now}",
            session(&i, "u", now - 100)
        ),
    );
    let h = with_sign_in.authenticate_page(&stale);
    let r = h.clone().into_page().unwrap_err();
    assert_eq!(r.status(), 307);
    assert!(r
        .headers()
        .iter()
        .any(|(n, v)| *n == "set-cookie" && v.starts_with("__clerk_redirect_count=1")));
    assert_eq!(
        r.debug_headers(),
        [
            ("x-clerk-auth-status", "handshake"),
            ("x-clerk-auth-reason", "session-token-iat-before-client-uat")
        ]
    );
    let r = h
        .require_sign_in(with_sign_in.sign_in_redirect(&stale))
        .unwrap_err();
    assert!(r.headers()[0].1.contains("/v1/client/handshake?"));
    // Signed in: both render.
    let good = navigate(APP, &cookies(&session(&i, "u", now), now - 1));
    let a = with_sign_in.authenticate_page(&good);
    assert_eq!(a.clone().into_page().unwrap().unwrap().user_id(), "u");
    assert_eq!(
        a.require_sign_in(with_sign_in.sign_in_redirect(&good))
            .unwrap()
            .user_id(),
        "u"
    );
}

#[test]
fn an_outage_is_never_a_signed_out_page() {
    let i = instance(None);
    i.server.set_fault(clerk_dev::Fault::Status(500));
    let v = Verifier::new(
        clerk_verify::remote::RemoteKeys::from_jwks_url(&i.server.jwks_url(), Default::default())
            .unwrap(),
        VerifyOptions::default()
            .publishable_key(i.publishable_key())
            .handshake(HandshakeOptions::default().sign_in_url("/sign-in")),
    )
    .unwrap();
    let now = now_unix();
    let page = navigate(APP, &cookies(&session(&i, "u", now), now - 1));
    let a = v.authenticate_page(&page);
    assert_eq!(a.clone().into_page().unwrap_err().status(), 503);
    assert_eq!(
        a.require_sign_in(v.sign_in_redirect(&page))
            .unwrap_err()
            .status(),
        503
    );
}

/// A handshake cookie the app refuses (a sibling app's on the parent domain, or one planted
/// there by cookie tossing) never signs a valid session out: the page is judged by its session
/// cookies as if it were absent, and a navigation clears it (one 307 back to the page, or on
/// the handshake the page starts anyway). In the query, a refused handshake stays refused.
#[test]
fn a_refused_handshake_cookie_never_signs_a_valid_session_out() {
    let i = instance(Some("sk_test_stray"));
    let v = verifier(
        &i,
        HandshakeOptions::default()
            .secret_key("sk_test_stray")
            .api_url(i.server.url()),
    );
    let now = now_unix();
    let valid = cookies(&session(&i, "user_stray", now), now - 5);
    let other_instance = TokenBuilder::empty()
        .claim(
            "handshake",
            vec![format!(
                "__session={}; Path=/",
                session(&i, "user_evil", now)
            )],
        )
        .claim("exp", now + 60)
        .sign(fixtures::rsa2048_b());
    // A genuine nonce, used once: afterwards it is a used nonce.
    let expired = cookies(&session(&i, "user_used", now - 120), now - 120);
    let start = v.authenticate_page(&navigate(&format!("{APP}/"), &expired));
    let back = through_fapi(start.handshake().unwrap().location());
    let used_nonce = back
        .split("__clerk_handshake_nonce=")
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(v
        .authenticate_page(&navigate(&back, &expired))
        .handshake()
        .unwrap()
        .is_completion());
    let exchanges = i.fapi.exchanges();
    assert_eq!(exchanges, 1);

    for (name, value, calls) in [
        ("__clerk_handshake", "garbage".to_owned(), 0),
        ("__clerk_handshake", other_instance.clone(), 0),
        ("__clerk_handshake_nonce", used_nonce.clone(), 0),
        ("__clerk_handshake_nonce", "nonce_short".to_owned(), 0),
        // Well-shaped and unknown: one call, then remembered as refused.
        (
            "__clerk_handshake_nonce",
            "nonce_2vYVmadeUpButWellShaped".to_owned(),
            1,
        ),
    ] {
        let before = i.fapi.exchanges();
        let jar = format!("{valid}; {name}={value}");
        // A navigation: one 307 back to the same page that clears the cookie.
        let page = v.authenticate_page(&navigate(&format!("{APP}/dash?x=1"), &jar));
        let h = page
            .handshake()
            .unwrap_or_else(|| panic!("{name}: {}", page.reason()));
        assert_eq!(h.reason(), "handshake-invalid", "{name}");
        assert_eq!(h.location(), format!("{APP}/dash?x=1"));
        let set = set_cookies(&page);
        assert!(
            set.contains(&format!(
                "{name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
            )),
            "{set:?}"
        );
        assert!(set.iter().all(|c| !c.starts_with("__session")), "{set:?}");
        let cleared = apply(&jar, &set);
        assert!(!cleared.contains(name), "{cleared}");
        assert_eq!(
            v.authenticate_page(&navigate(&format!("{APP}/dash?x=1"), &cleared))
                .auth()
                .map(|a| a.user_id().to_owned()),
            Some("user_stray".to_owned())
        );
        // A script's request (no redirect possible): judged at once, signed in.
        let api = PageRequest::new("GET", &format!("{APP}/api"))
            .cookie(&jar)
            .sec_fetch_dest("empty");
        assert_eq!(
            v.authenticate_page(&api).auth().map(|a| a.user_id()),
            Some("user_stray"),
            "{name}"
        );
        assert_eq!(i.fapi.exchanges(), before + calls, "{name}={value}");
        // The same value in the query is this navigation's handshake: refused.
        let query = navigate(&format!("{APP}/?{name}={value}"), &valid);
        let refused = v.authenticate_page(&query);
        assert_eq!(refused.reason(), "handshake-invalid", "{name}");
        assert!(refused.auth().is_none() && refused.handshake().is_none());
    }

    // On a parent domain: cleared there too (host-only, the host, every parent domain).
    let site = "https://app.example.test";
    let on_site = Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default()
            .publishable_key(i.publishable_key())
            .authorized_parties([site])
            .handshake(HandshakeOptions::default()),
    )
    .unwrap();
    let jar = format!(
        "{}; __clerk_handshake=garbage",
        cookies(&i.session("user_site", now, site), now - 5)
    );
    let page = on_site.authenticate_page(&navigate(&format!("{site}/"), &jar));
    let set = set_cookies(&page);
    for domain in ["app.example.test", "example.test"] {
        assert!(
            set.iter().any(|c| c.starts_with("__clerk_handshake=;")
                && c.contains(&format!("Domain={domain};"))),
            "{domain}: {set:?}"
        );
    }
    assert!(set.iter().all(|c| !c.contains("Domain=test;")), "{set:?}");

    // An expired session next to it: the handshake it starts anyway clears the cookie.
    let jar = format!("{expired}; __clerk_handshake=garbage");
    let page = v.authenticate_page(&navigate(&format!("{APP}/"), &jar));
    let h = page.handshake().unwrap();
    assert!(
        h.location().contains("/v1/client/handshake?"),
        "{}",
        h.location()
    );
    let set = set_cookies(&page);
    assert!(set
        .iter()
        .any(|c| c.starts_with("__clerk_handshake=;") && c.contains("Max-Age=0")));
    assert!(set.iter().any(|c| c.starts_with("__clerk_redirect_count=")));

    // A cookie that cannot be cleared (the loop counter at Clerk's limit): served as judged.
    let jar = format!("{valid}; __clerk_handshake=garbage; __clerk_redirect_count=3");
    let page = v.authenticate_page(&navigate(&format!("{APP}/"), &jar));
    assert_eq!(page.auth().map(|a| a.user_id()), Some("user_stray"));
}

/// Nonces cost a Backend API call only on a page navigation, with Clerk's shape, once each,
/// and within the exchange budget; beyond it, 503 without a call.
#[test]
fn made_up_nonces_cannot_spend_the_backend_api_quota() {
    let i = instance(Some("sk_test_quota"));
    let v = verifier(
        &i,
        HandshakeOptions::default()
            .secret_key("sk_test_quota")
            .api_url(i.server.url())
            .max_nonce_exchanges_per_second(3),
    );
    let now = now_unix();
    let valid = cookies(&session(&i, "user_q", now), now - 5);
    // Not a navigation: never exchanged.
    let api = PageRequest::new(
        "GET",
        &format!("{APP}/?__clerk_handshake_nonce=nonce_2vYVnotANavigation"),
    )
    .cookie(&valid)
    .sec_fetch_dest("empty");
    assert_eq!(v.authenticate_page(&api).reason(), "handshake-invalid");
    // Not Clerk's shape: never exchanged.
    for bad in ["nonce_x", "nonce_with%20space_xxxxxxxxx", &"n".repeat(129)] {
        let a = v.authenticate_page(&navigate(
            &format!("{APP}/?__clerk_handshake_nonce={bad}"),
            "",
        ));
        assert_eq!(a.reason(), "handshake-invalid", "{bad}");
    }
    assert_eq!(i.fapi.exchanges(), 0);
    // 300 made-up, well-shaped nonces at once: the budget (3 per second, as large a burst)
    // lets a handful through; the rest are answered 503 without a call.
    let started = std::time::Instant::now();
    let mut unavailable = 0;
    for n in 0..300 {
        let url = format!("{APP}/?__clerk_handshake_nonce=nonce_2vYVmadeUp{n:08}");
        let a = v.authenticate_page(&navigate(&url, ""));
        match a.reason() {
            "handshake-failed" => unavailable += 1,
            "handshake-invalid" => {}
            other => panic!("{other}"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let allowed = 3 + (3.0 * seconds).ceil() as usize;
    assert!(
        i.fapi.exchanges() <= allowed,
        "{} calls in {seconds:.2}s",
        i.fapi.exchanges()
    );
    assert!(i.fapi.exchanges() >= 3);
    assert_eq!(unavailable + i.fapi.exchanges(), 300);
    // A refused one is remembered: asking again costs nothing, budget or not.
    let calls = i.fapi.exchanges();
    let a = v.authenticate_page(&navigate(
        &format!("{APP}/?__clerk_handshake_nonce=nonce_2vYVmadeUp00000000"),
        "",
    ));
    assert_eq!(a.reason(), "handshake-invalid");
    assert_eq!(i.fapi.exchanges(), calls);
    // A budget of zero cannot be configured.
    let zero = Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default()
            .publishable_key(i.publishable_key())
            .handshake(HandshakeOptions::default().max_nonce_exchanges_per_second(0)),
    );
    assert_eq!(zero.unwrap_err().reason(), "config-invalid");
}

/// Clerk passes the dev browser token of the cookie set it picked: with suffixed cookies,
/// `__clerk_db_jwt_<suffix>`, never another app's unsuffixed one.
#[test]
fn the_dev_browser_token_follows_the_cookie_choice() {
    let i = DevInstance::development();
    let v = verifier(&i, HandshakeOptions::default());
    let suffix = clerk_verify::request::cookie_suffix(&i.publishable_key());
    let now = now_unix();
    let expired = session(&i, "user_db", now - 120);
    let jar = format!(
        "__session_{suffix}={expired}; __client_uat_{suffix}={}; __clerk_db_jwt=dvb_other_app; \
         __clerk_db_jwt_{suffix}=dvb_this_app",
        now - 120
    );
    let page = v.authenticate_page(&navigate(&format!("{APP}/"), &jar));
    let location = page.handshake().unwrap().location().to_owned();
    assert!(
        location.contains("__clerk_db_jwt=dvb_this_app"),
        "{location}"
    );
    assert!(!location.contains("dvb_other_app"), "{location}");
    // Unsuffixed cookies: the unsuffixed dev browser.
    let jar = format!(
        "__session={expired}; __client_uat={}; __clerk_db_jwt=dvb_plain",
        now - 120
    );
    let page = v.authenticate_page(&navigate(&format!("{APP}/"), &jar));
    assert!(page
        .handshake()
        .unwrap()
        .location()
        .contains("__clerk_db_jwt=dvb_plain"));
}

/// Clerk's cookie choice with a malformed unsuffixed token: an `iss` that is not a string is
/// not this instance's, so the valid suffixed pair signs the user in.
#[test]
fn an_unsuffixed_token_with_a_non_string_iss_leaves_the_suffixed_pair() {
    let i = instance(None);
    let v = verifier(&i, HandshakeOptions::default());
    let suffix = clerk_verify::request::cookie_suffix(&i.publishable_key());
    let now = now_unix();
    let good = session(&i, "user_suffixed", now);
    for iss in [
        serde_json::json!(123),
        serde_json::json!({"x": 1}),
        serde_json::json!(true),
    ] {
        let odd = TokenBuilder::session("user_odd", now)
            .claim("iss", iss.clone())
            .sign(fixtures::rsa2048());
        let jar = format!(
            "__session={odd}; __session_{suffix}={good}; __client_uat_{suffix}={}",
            now - 5
        );
        let a = v.authenticate_request(None, Some(&jar));
        assert_eq!(
            a.auth().map(|a| a.user_id()),
            Some("user_suffixed"),
            "{iss}"
        );
        let page = v.authenticate_page(&navigate(&format!("{APP}/"), &jar));
        assert_eq!(
            page.auth().map(|a| a.user_id()),
            Some("user_suffixed"),
            "{iss}"
        );
    }
}
