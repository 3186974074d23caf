//! The dev issuer's Frontend API over real HTTP on 127.0.0.1: it redirects only to loopback
//! origins and to the ones it was told to allow (every other `redirect_url` is a plain 400,
//! never a redirect), and it renews a session only from a token of its own that expired less
//! than a session lifetime ago, keeping the user, the session and the organization claims it
//! minted and nothing else; its Backend API refreshes only its own sessions with their refresh
//! token; a handshake activates only the organizations the user belongs to, and keeps a client
//! per dev browser.

use clerk_dev::pages::{form_encoded, DevInstance};
use clerk_dev::{b64url_decode, fixtures, now_unix, Browser, DevKey, FrontendApi, HttpReply};
use clerk_dev::{TokenBuilder, TEST_ISSUER};
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{Map, Value};
use std::time::Duration;

/// The app the browser comes from: on a loopback address, so always allowed.
const APP: &str = "http://127.0.0.1:3000";
/// An app elsewhere, allowed explicitly where a test says so.
const ALLOWED: &str = "https://app.example.test";

fn instance() -> DevInstance {
    DevInstance::start_with(
        FrontendApi::new(fixtures::rsa2048().clone())
            .allow_redirect_origin(ALLOWED)
            .unwrap(),
    )
}

fn get(url: &str) -> HttpReply {
    Browser::new().get(url).unwrap()
}

fn handshake_url(i: &DevInstance, query: &str) -> String {
    format!("{}/v1/client/handshake?{query}", i.server.url())
}

/// A handshake for the browser at `redirect` whose stale session token is `token`.
fn handshake(i: &DevInstance, redirect: &str, token: &str) -> HttpReply {
    let query = format!("redirect_url={}&__session={token}", form_encoded(redirect));
    get(&handshake_url(i, &query))
}

fn payload(token: &str) -> Map<String, Value> {
    let part = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&b64url_decode(part).expect("base64url")).expect("JSON")
}

/// The cookie directives a handshake redirect carries, after checking the handshake token's
/// signature.
fn directives(reply: &HttpReply) -> Vec<String> {
    assert_eq!(reply.status, 307, "{}", reply.body);
    let location = reply.header("location").expect("a Location");
    let query = location
        .split_once('?')
        .unwrap()
        .1
        .split('#')
        .next()
        .unwrap();
    let token = form_urlencoded::parse(query.as_bytes())
        .find(|(n, _)| n == "__clerk_handshake")
        .map(|(_, v)| v.into_owned())
        .expect("a handshake token");
    verify(fixtures::rsa2048(), &token);
    payload(&token)["handshake"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

/// The claims of the session a handshake set, or `None` when it signed the browser out.
fn renewed(reply: &HttpReply) -> Option<Map<String, Value>> {
    let directives = directives(reply);
    let session = directives
        .iter()
        .find_map(|d| d.strip_prefix("__session="))
        .expect("a __session directive");
    let token = session.split(';').next().unwrap();
    if token.is_empty() {
        assert!(session.contains("Max-Age=0"), "{directives:?}");
        assert!(
            directives.iter().any(|d| d.starts_with("__client_uat=0;")),
            "{directives:?}"
        );
        return None;
    }
    verify(fixtures::rsa2048(), token);
    Some(payload(token))
}

fn verify(key: &DevKey, token: &str) {
    let (input, signature) = token.rsplit_once('.').unwrap();
    let jwk = key.public_jwk();
    let part = |name: &str| b64url_decode(jwk[name].as_str().unwrap()).unwrap();
    RsaPublicKeyComponents {
        n: part("n"),
        e: part("e"),
    }
    .verify(
        &RSA_PKCS1_2048_8192_SHA256,
        input.as_bytes(),
        &b64url_decode(signature).unwrap(),
    )
    .expect("signed with the dev key");
}

/// A session token of this instance as it mints them, issued at `iat` (expires 60 s later).
fn own(i: &DevInstance, iat: i64) -> TokenBuilder {
    TokenBuilder::session("user_1", iat)
        .claim("iss", i.server.url())
        .claim("sid", "sess_1")
        .claim("azp", APP)
}

/// `redirect_url` values refused, each with a fragment of the message that says why.
fn refused_targets() -> Vec<(&'static str, &'static str)> {
    vec![
        ("https://evil.example/", "not a loopback origin"),
        ("http://evil.example", "not a loopback origin"),
        ("http://localhost.evil.example/", "not a loopback origin"),
        ("http://127.0.0.1.nip.io/", "not a loopback origin"),
        ("http://evil.example#@127.0.0.1/", "not a loopback origin"),
        ("http://evil.example?@127.0.0.1/", "not a loopback origin"),
        // Allowed: https://app.example.test, not its other ports, schemes or subdomains.
        ("http://app.example.test/", "not a loopback origin"),
        ("https://app.example.test:8443/", "not a loopback origin"),
        (
            "https://app.example.test.evil.example/",
            "not a loopback origin",
        ),
        ("https://x.app.example.test/", "not a loopback origin"),
        ("javascript:alert(document.cookie)", "not an absolute http"),
        (
            "data:text/html,<script>alert(1)</script>",
            "not an absolute http",
        ),
        ("file:///etc/passwd", "not an absolute http"),
        ("ftp://127.0.0.1/", "not an absolute http"),
        ("//evil.example/", "not an absolute http"),
        ("/dashboard", "not an absolute http"),
        ("http://127.0.0.1:99999/", "not an absolute http"),
        ("http://127.0.0.1@evil.example/", "user name or password"),
        (
            "http://127.0.0.1:3000@evil.example/",
            "user name or password",
        ),
        ("http://user:pw@127.0.0.1:3000/", "user name or password"),
        ("http://127.0.0.1\\@evil.example/", "backslash"),
        ("http:\\\\evil.example/", "backslash"),
        ("http://127.0.0.1:3000/\r\nSet-Cookie: a=b", "control"),
        ("http://127.0.0.1:3000/a b", "space"),
        (" http://127.0.0.1:3000/", "space"),
        ("http://127.0.0.1:3000/\u{e9}", "non-ASCII"),
        ("http://%65vil.example/", "canonically"),
        ("http://%31%32%37.0.0.1:3000/", "canonically"),
        ("http://127.1:3000/", "canonically"),
        ("http://0x7f000001/", "canonically"),
        ("http://2130706433/", "canonically"),
        ("http://[::ffff:127.0.0.1]/", "canonically"),
        ("HTTP://127.0.0.1:3000/", "canonically"),
        ("http://LOCALHOST:3000/", "canonically"),
        ("http://localhost:80/", "canonically"),
        ("http://*.example/", "host is neither"),
    ]
}

/// A refusal: 400, plain text saying why, and nothing a browser would act on.
fn assert_refused(reply: &HttpReply, why: &str, case: &str) {
    assert_eq!(reply.status, 400, "{case}: {}", reply.body);
    assert_eq!(reply.header("location"), None, "{case}");
    assert_eq!(reply.header("set-cookie"), None, "{case}");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "{case}"
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert!(reply.body.contains(why), "{case}: {}", reply.body);
}

#[test]
fn handshakes_redirect_only_to_loopback_and_allowed_origins() {
    let i = instance();
    let token = own(&i, now_unix() - 120).sign(fixtures::rsa2048());
    for (target, why) in refused_targets() {
        let reply = handshake(&i, target, &token);
        assert_refused(&reply, why, target);
        assert!(!reply.body.contains(&token), "{target}");
    }
    for (what, query, why) in [
        ("missing", format!("__session={token}"), "is missing"),
        (
            "twice",
            format!(
                "redirect_url={}&redirect_url={}&__session={token}",
                form_encoded("http://127.0.0.1:3000/"),
                form_encoded("https://evil.example/")
            ),
            "more than once",
        ),
        (
            "two tokens",
            format!(
                "redirect_url={}&__session={token}&__session=x",
                form_encoded("http://127.0.0.1:3000/"),
            ),
            "__session is given more than once",
        ),
    ] {
        assert_refused(&get(&handshake_url(&i, &query)), why, what);
    }

    // Accepted: the browser goes back to the URL as given, its origin is the session's azp.
    for (target, origin) in [
        ("http://127.0.0.1:3000/x?y=1", "http://127.0.0.1:3000"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://127.5.6.7:8080/", "http://127.5.6.7:8080"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("https://localhost/p#frag", "https://localhost"),
        ("http://[::1]:3000/", "http://[::1]:3000"),
        ("https://app.example.test/after?x=1", ALLOWED),
    ] {
        let reply = handshake(&i, target, &token);
        let location = reply.header("location").unwrap_or_default().to_owned();
        let (before_fragment, fragment) = target.split_once('#').unwrap_or((target, ""));
        assert!(
            location.starts_with(before_fragment),
            "{target}: {location}"
        );
        assert!(location.ends_with(fragment), "{target}: {location}");
        let session = renewed(&reply).unwrap_or_else(|| panic!("{target}: signed out"));
        assert_eq!(session["azp"], origin, "{target}");
    }
}

#[test]
fn the_sign_in_page_redirects_only_to_loopback_and_allowed_origins() {
    let i = instance();
    let sign_in = |query: &str| get(&format!("{}?{query}", i.sign_in_url()));
    for (target, why) in refused_targets() {
        let target_q = form_encoded(target);
        assert_refused(
            &sign_in(&format!("user_id=user_x&redirect_url={target_q}")),
            why,
            target,
        );
        // Nor does the form carry a refused target along.
        assert_refused(&sign_in(&format!("redirect_url={target_q}")), why, target);
    }
    assert_refused(&sign_in("user_id=user_x"), "is missing", "missing");
    assert_refused(
        &sign_in("user_id=a&user_id=b&redirect_url=http%3A%2F%2F127.0.0.1%2F"),
        "user_id is given more than once",
        "two users",
    );

    // The form, with and without a target.
    let form = sign_in("");
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("name=redirect_url size=40"),
        "{}",
        form.body
    );
    let form = sign_in("redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2F%3Fa%3D1%26b%3D%22");
    assert!(
        form.body.contains(
            "type=hidden name=redirect_url value=\"http://127.0.0.1:3000/?a=1&amp;b=&quot;\""
        ),
        "{}",
        form.body
    );

    for (target, origin) in [
        ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
        ("http://[::1]:3000/x", "http://[::1]:3000"),
        ("https://app.example.test/", ALLOWED),
    ] {
        let mut browser = Browser::new();
        let reply = browser
            .get(&format!(
                "{}?user_id=user_x&org_id=org_1&org_role=org:admin&redirect_url={}",
                i.sign_in_url(),
                form_encoded(target)
            ))
            .unwrap();
        assert_eq!(reply.status, 307, "{target}: {}", reply.body);
        assert_eq!(reply.header("location"), Some(target));
        let token = browser.cookie("__session").expect("signed in");
        verify(fixtures::rsa2048(), token);
        let claims = payload(token);
        assert_eq!(claims["azp"], origin, "{target}");
        assert_eq!(claims["iss"], i.server.url().as_str());
        assert_eq!(claims["sub"], "user_x");
        // The organization as version 2 tokens carry it.
        assert_eq!(claims["o"]["id"], "org_1");
        assert_eq!(claims["o"]["rol"], "admin");
    }
}

#[test]
fn only_its_own_recent_tokens_renew_a_session() {
    let i = instance();
    let now = now_unix();
    let hour = i64::try_from(FrontendApi::DEFAULT_SESSION_LIFETIME.as_secs()).unwrap();
    assert_eq!(hour, 3600, "the documented default");
    i.fapi.revoke("sess_revoked");
    let key = fixtures::rsa2048();
    let jan_2020 = 1_577_836_800;
    let refused = [
        (
            "minted for 2020 with admin claims",
            own(&i, jan_2020)
                .claim("org_id", "org_1")
                .claim("org_role", "org:admin")
                .claim("admin", true)
                .sign(key),
        ),
        (
            "expired longer than a session lifetime ago",
            own(&i, now - hour - 61).sign(key),
        ),
        ("another key", own(&i, now).sign(fixtures::rsa2048_b())),
        (
            "another key under this key's kid",
            own(&i, now)
                .header("kid", key.kid())
                .sign(fixtures::rsa2048_b()),
        ),
        (
            "this key, another issuer",
            own(&i, now).claim("iss", TEST_ISSUER).sign(key),
        ),
        (
            "this key, this issuer with a slash",
            own(&i, now)
                .claim("iss", format!("{}/", i.server.url()))
                .sign(key),
        ),
        (
            "this key, no issuer",
            own(&i, now).remove_claim("iss").sign(key),
        ),
        ("no exp", own(&i, now).remove_claim("exp").sign(key)),
        ("no iat", own(&i, now).remove_claim("iat").sign(key)),
        (
            "exp as text",
            own(&i, now).claim("exp", (now + 60).to_string()).sign(key),
        ),
        ("issued in the future", own(&i, now + 600).sign(key)),
        (
            "exp before iat",
            own(&i, now).claim("exp", now - 1).sign(key),
        ),
        ("no sid", own(&i, now).remove_claim("sid").sign(key)),
        ("no sub", own(&i, now).remove_claim("sub").sign(key)),
        (
            "a revoked session",
            own(&i, now).claim("sid", "sess_revoked").sign(key),
        ),
        (
            "an organization without a role",
            own(&i, now).claim("org_id", "org_1").sign(key),
        ),
        ("unsigned", own(&i, now).header("kid", key.kid()).unsigned()),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in refused {
        assert!(renewed(&handshake(&i, APP, &token)).is_none(), "{what}");
    }
    for (what, iat) in [
        ("fresh", now),
        ("expired a minute ago", now - 120),
        // Its token expired 59 minutes ago.
        ("expired almost a session lifetime ago", now - hour),
    ] {
        let claims = renewed(&handshake(&i, APP, &own(&i, iat).sign(key)))
            .unwrap_or_else(|| panic!("{what}: signed out"));
        assert_eq!(claims["sub"], "user_1", "{what}");
        assert_eq!(claims["sid"], "sess_1", "{what}");
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap(),
            claims["exp"].as_i64().unwrap(),
        );
        assert!((now..now + 30).contains(&iat), "{what}: {iat}");
        assert_eq!(exp - iat, 60, "{what}");
    }
    // No handshake token or session leaks a signed-out browser in.
    let none = get(&handshake_url(
        &i,
        &format!("redirect_url={}", form_encoded(APP)),
    ));
    assert!(renewed(&none).is_none());
}

#[test]
fn a_renewed_session_keeps_only_what_the_issuer_minted() {
    let i = instance();
    let now = now_unix();
    let token = own(&i, now - 120)
        .claim("azp", "https://evil.example")
        .claim(
            "o",
            serde_json::json!({ "id": "org_1", "rol": "member", "per": "manage", "fpm": "1" }),
        )
        .claim("admin", true)
        .claim("public_metadata", serde_json::json!({ "role": "admin" }))
        .claim("act", serde_json::json!({ "sub": "user_support" }))
        .claim("jti", "jti_old")
        .sign(fixtures::rsa2048());
    let claims = renewed(&handshake(&i, "http://localhost:8080/", &token)).expect("renewed");
    let mut names: Vec<&str> = claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["azp", "exp", "iat", "iss", "nbf", "o", "sid", "sub", "v"]
    );
    assert_eq!(claims["azp"], "http://localhost:8080");
    assert_eq!(claims["iss"], i.server.url().as_str());
    // Only the organization's id and role: no permissions the token claimed.
    assert_eq!(
        claims["o"],
        serde_json::json!({ "id": "org_1", "rol": "member" })
    );
    // A token from before the issuer minted `o` renews into one; both forms at once do not.
    let legacy = own(&i, now - 120)
        .claim("org_id", "org_1")
        .claim("org_role", "org:member")
        .sign(fixtures::rsa2048());
    let claims = renewed(&handshake(&i, APP, &legacy)).expect("renewed");
    assert_eq!(
        claims["o"],
        serde_json::json!({ "id": "org_1", "rol": "member" })
    );
    let both = own(&i, now - 120)
        .claim("org_id", "org_1")
        .claim("org_role", "org:member")
        .claim("o", serde_json::json!({ "id": "org_2", "rol": "admin" }))
        .sign(fixtures::rsa2048());
    assert!(renewed(&handshake(&i, APP, &both)).is_none());
}

#[test]
fn the_session_lifetime_is_settable() {
    let i = DevInstance::start_with(
        FrontendApi::new(fixtures::rsa2048().clone()).session_lifetime(Duration::from_secs(600)),
    );
    let now = now_unix();
    let key = fixtures::rsa2048();
    // Expired 500 s ago: within 600 s. Expired 700 s ago: not.
    let recent = own(&i, now - 560).sign(key);
    let old = own(&i, now - 760).sign(key);
    assert!(renewed(&handshake(&i, APP, &recent)).is_some());
    assert!(renewed(&handshake(&i, APP, &old)).is_none());
    // Zero: only a token that has not expired yet.
    let i = DevInstance::start_with(
        FrontendApi::new(fixtures::rsa2048().clone()).session_lifetime(Duration::ZERO),
    );
    assert!(renewed(&handshake(&i, APP, &own(&i, now).sign(key))).is_some());
    assert!(renewed(&handshake(&i, APP, &own(&i, now - 70).sign(key))).is_none());
}

#[test]
fn a_configured_issuer_renews_only_its_tokens() {
    let i = DevInstance::start_with(
        FrontendApi::new(fixtures::rsa2048().clone()).issuer("https://clerk.dev.example.test"),
    );
    let now = now_unix();
    let key = fixtures::rsa2048();
    let theirs = own(&i, now).sign(key);
    let mine = own(&i, now)
        .claim("iss", "https://clerk.dev.example.test")
        .sign(key);
    assert!(renewed(&handshake(&i, APP, &theirs)).is_none());
    let claims = renewed(&handshake(&i, APP, &mine)).expect("renewed");
    assert_eq!(claims["iss"], "https://clerk.dev.example.test");
}

#[test]
fn only_get_is_answered() {
    let i = instance();
    let reply = clerk_dev::post(
        std::net::SocketAddr::from(([127, 0, 0, 1], i.server.port())),
        "/dev/sign-in?user_id=u&redirect_url=http%3A%2F%2F127.0.0.1%2F",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(reply.header("location"), None);
}

/// `POST /v1/sessions/{sid}/refresh` with `body` and `bearer`.
fn refresh(i: &DevInstance, sid: &str, bearer: Option<&str>, body: &str) -> HttpReply {
    let auth = bearer.map(|b| format!("Bearer {b}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    clerk_dev::post(
        std::net::SocketAddr::from(([127, 0, 0, 1], i.server.port())),
        &format!("/v1/sessions/{sid}/refresh?suffixed_cookies=true"),
        &headers,
        body.as_bytes(),
    )
    .unwrap()
}

#[test]
fn the_backend_api_refreshes_only_its_sessions_with_their_refresh_token() {
    let i = DevInstance::start_with(
        FrontendApi::new(fixtures::rsa2048().clone()).secret_key("sk_test_dev"),
    );
    let mut browser = Browser::new();
    let reply = browser
        .get(&format!(
            "{}?user_id=user_r&expired=1&redirect_url={}",
            i.sign_in_url(),
            form_encoded(APP)
        ))
        .unwrap();
    assert_eq!(reply.status, 307);
    let suffix = i.cookie_suffix();
    let refresh_token = browser
        .cookie(&format!("__refresh_{suffix}"))
        .unwrap()
        .to_owned();
    let expired = browser.cookie("__session").unwrap().to_owned();
    let sid = payload(&expired)["sid"].as_str().unwrap().to_owned();
    let body = |expired: &str, refresh: &str, origin: &str| {
        serde_json::json!({
            "format": "cookie",
            "expired_token": expired,
            "refresh_token": refresh,
            "request_origin": origin,
        })
        .to_string()
    };

    let ok = refresh(
        &i,
        &sid,
        Some("sk_test_dev"),
        &body(&expired, &refresh_token, APP),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let cookies = ok.json()["cookies"].as_array().unwrap().clone();
    let session = cookies
        .iter()
        .filter_map(Value::as_str)
        .find_map(|c| c.strip_prefix(&format!("__session_{suffix}=")))
        .expect("a suffixed session cookie");
    let token = session.split(';').next().unwrap();
    verify(fixtures::rsa2048(), token);
    let claims = payload(token);
    assert_eq!(
        (claims["sub"].as_str(), claims["sid"].as_str()),
        (Some("user_r"), Some(sid.as_str()))
    );
    assert_eq!(claims["azp"], APP);
    assert!(claims["exp"].as_i64().unwrap() > now_unix());

    // Refused: another secret, another session's id, a made-up refresh token, another
    // issuer's token, an origin it may not authorize, a GET, a body that is not JSON.
    assert_eq!(
        refresh(
            &i,
            &sid,
            Some("sk_other"),
            &body(&expired, &refresh_token, APP)
        )
        .status,
        401
    );
    assert_eq!(
        refresh(&i, &sid, None, &body(&expired, &refresh_token, APP)).status,
        401
    );
    for (what, sid, body) in [
        (
            "another session",
            "sess_other".to_owned(),
            body(&expired, &refresh_token, APP),
        ),
        (
            "a made-up refresh token",
            sid.clone(),
            body(&expired, "rt_madeup", APP),
        ),
        (
            "another key's token",
            sid.clone(),
            body(
                &TokenBuilder::session("user_r", now_unix() - 120)
                    .claim("sid", sid.as_str())
                    .claim("iss", i.server.url())
                    .sign(fixtures::rsa2048_b()),
                &refresh_token,
                APP,
            ),
        ),
        (
            "an origin elsewhere",
            sid.clone(),
            body(&expired, &refresh_token, "https://evil.example"),
        ),
        ("not JSON", sid.clone(), "refresh please".to_owned()),
    ] {
        let reply = refresh(&i, &sid, Some("sk_test_dev"), &body);
        assert_eq!(reply.status, 400, "{what}: {}", reply.body);
    }
    let get = get(&format!("{}/v1/sessions/{sid}/refresh", i.server.url()));
    assert_eq!(get.status, 405);
    // A revoked session is not refreshed.
    i.fapi.revoke(&sid);
    let reply = refresh(
        &i,
        &sid,
        Some("sk_test_dev"),
        &body(&expired, &refresh_token, APP),
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    // Every POST was counted; the GET was not a refresh.
    assert_eq!(i.fapi.refreshes(), 9);
}

#[test]
fn a_handshake_activates_only_organizations_of_the_user() {
    let i = instance();
    i.fapi
        .add_membership("user_1", "org_b", "bee", "org:member");
    let token = own(&i, now_unix() - 120).sign(fixtures::rsa2048());
    let with = |org: &str| {
        let query = format!(
            "redirect_url={}&__session={token}&organization_id={org}",
            form_encoded(APP)
        );
        renewed(&get(&handshake_url(&i, &query))).expect("renewed")
    };
    assert_eq!(
        with("bee")["o"],
        serde_json::json!({"id": "org_b", "rol": "member", "slg": "bee"})
    );
    assert_eq!(with("org_b")["o"]["slg"], "bee");
    assert!(
        with("org_elsewhere").get("o").is_none(),
        "not a member: unchanged"
    );
    assert!(with("").get("o").is_none(), "the personal account");
}

#[test]
fn development_handshakes_keep_a_client_per_dev_browser() {
    let i = instance();
    // A browser signed in: its client, also its dev browser token.
    let mut browser = Browser::new();
    browser
        .get(&format!(
            "{}?user_id=user_db&redirect_url={}",
            i.sign_in_url(),
            form_encoded(APP)
        ))
        .unwrap();
    let db = browser.cookie("__clerk_db_jwt").unwrap().to_owned();
    assert!(db.starts_with("dvb_"), "{db}");
    let dev = |query: &str| {
        let url = handshake_url(&i, &format!("redirect_url={}&{query}", form_encoded(APP)));
        directives(&get(&url))
    };
    // The dev browser finds the session, without any session token.
    let found = dev(&format!(
        "__clerk_db_jwt={db}&__clerk_hs_reason=dev-browser-sync"
    ));
    assert!(
        found.iter().any(|d| d.starts_with("__session=ey")),
        "{found:?}"
    );
    assert!(
        found.contains(&format!(
            "{}; Path=/; SameSite=Lax; Max-Age=315360000",
            format_args!("__clerk_db_jwt={db}")
        )),
        "{found:?}"
    );
    // A made-up one, or none on a dev-browser-missing handshake: a new, signed-out client.
    for query in [
        "__clerk_db_jwt=dvb_madeup",
        "__clerk_hs_reason=dev-browser-missing",
    ] {
        let made = dev(query);
        assert!(
            made.iter().any(|d| d.starts_with("__client_uat=0")),
            "{query}: {made:?}"
        );
        let new = made
            .iter()
            .find_map(|d| d.strip_prefix("__clerk_db_jwt="))
            .expect("a new dev browser");
        assert!(
            new.starts_with("dvb_") && !new.starts_with("dvb_madeup"),
            "{new}"
        );
        assert!(!new.starts_with(&db));
    }
}
