//! Request authentication through the public API, as Clerk's `authenticateRequest()` decides:
//! the cookie flow with `__client_uat`, token categories, optional authentication, the
//! non-blocking step every adapter shares, and what a refusal tells the client.

use clerk_dev::{fixtures, TokenBuilder};
use clerk_verify::request::{Refusal, Step};
use clerk_verify::testing::{ColdKeys, Unavailable, Unresolved};
use clerk_verify::{Authentication, Clock, Error, KeySet, Verifier, VerifyOptions};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

const NOW: i64 = 1_750_000_000;

fn opts() -> VerifyOptions {
    VerifyOptions::default().clock(Clock::fixed(UNIX_EPOCH + Duration::from_secs(NOW as u64)))
}

fn verifier() -> Verifier {
    Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), opts()).unwrap()
}

/// A session token issued at `iat`.
fn token_issued_at(iat: i64) -> String {
    TokenBuilder::session("user_1", NOW)
        .claim("iat", iat)
        .sign(fixtures::rsa2048())
}

fn cookie_reason(v: &Verifier, cookie: &str) -> &'static str {
    match v.authenticate_request(None, Some(cookie)) {
        Authentication::SignedIn(_) => "signed-in",
        other => other.reason(),
    }
}

#[test]
fn the_cookie_flow_follows_client_uat() {
    let v = verifier();
    let t = token_issued_at(NOW - 10);
    // The pair Clerk sets: signed in.
    let uat = NOW - 100;
    assert_eq!(
        cookie_reason(&v, &format!("__session={t}; __client_uat={uat}")),
        "signed-in"
    );
    // Clerk signed the browser out (uat 0) or the uat cookie is gone: the old cookie no longer
    // gets in, though the token itself is still valid.
    for cookie in [
        format!("__session={t}"),
        format!("__session={t}; __client_uat=0"),
        format!("__client_uat=0; __session={t}"),
    ] {
        assert_eq!(
            cookie_reason(&v, &cookie),
            "session-token-but-no-client-uat",
            "{cookie}"
        );
        assert!(v.verify(&t).is_ok());
    }
    // Signed in, but the session cookie is missing.
    assert_eq!(
        cookie_reason(&v, &format!("__client_uat={uat}")),
        "client-uat-but-no-session-token"
    );
    // Neither.
    assert_eq!(
        cookie_reason(&v, "theme=dark"),
        "session-token-and-uat-missing"
    );
    assert_eq!(
        cookie_reason(&v, "__client_uat=0"),
        "session-token-and-uat-missing"
    );
    // The client changed (signed in again, switched session) after this token was issued.
    assert_eq!(
        cookie_reason(&v, &format!("__session={t}; __client_uat={}", NOW - 5)),
        "session-token-iat-before-client-uat"
    );
    // Issued in the same second as the change: fine (Clerk compares iat < uat).
    assert_eq!(
        cookie_reason(&v, &format!("__session={t}; __client_uat={}", NOW - 10)),
        "signed-in"
    );
    // A refused token stays refused for its own reason.
    let forged = TokenBuilder::session("user_1", NOW)
        .header("kid", fixtures::rsa2048().kid())
        .sign(fixtures::rsa2048_b());
    assert_eq!(
        cookie_reason(&v, &format!("__session={forged}; __client_uat={uat}")),
        "token-invalid-signature"
    );
}

#[test]
fn the_header_flow_ignores_client_uat() {
    let v = verifier();
    let t = token_issued_at(NOW - 10);
    let header = format!("Bearer {t}");
    for cookie in [
        None,
        Some("__client_uat=0"),
        Some("__client_uat=9999999999"),
    ] {
        assert!(
            v.authenticate_request(Some(&header), cookie)
                .auth()
                .is_some(),
            "{cookie:?}"
        );
    }
}

#[test]
fn cookie_refusals_say_whether_a_token_was_sent() {
    let v = verifier();
    let t = token_issued_at(NOW - 10);
    let challenge = |cookie: &str| {
        let Authentication::SignedOut(out) = v.authenticate_request(None, Some(cookie)) else {
            panic!("signed in")
        };
        Refusal::from_signed_out(&out).www_authenticate()
    };
    assert_eq!(
        challenge(&format!("__session={t}")),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(challenge("__client_uat=5"), Some("Bearer"));
}

#[test]
fn machine_and_template_tokens_are_a_type_mismatch_in_requests() {
    let v = verifier();
    for (cat, verify_reason) in [
        ("cl_B7d4PD333AAA", Some("token-type-mismatch")),
        ("cl_B7d4PD222AAA", None),
    ] {
        let t = TokenBuilder::session("user_1", NOW)
            .header("cat", cat)
            .sign(fixtures::rsa2048());
        let a = v.authenticate_request(Some(&format!("Bearer {t}")), None);
        assert_eq!(a.reason(), "token-type-mismatch", "{cat}");
        assert_eq!(
            v.verify(&t).err().map(|e| e.reason()),
            verify_reason,
            "{cat}"
        );
    }
    // Clerk's machine tokens in JWT form, genuine (signed by the instance's key), from the
    // header and from the session cookie, and with a verified-token cache (a session token
    // cached first must not let a machine token through either): never a session.
    let cached =
        Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), opts().token_cache(64)).unwrap();
    let machine = || TokenBuilder::session("mch_2vYVtestmachine", NOW);
    for (what, t) in [
        ("m2m by sub", machine().sign(fixtures::rsa2048())),
        (
            "m2m by sub and cat",
            machine()
                .header("cat", "cl_B7d4PD333AAA")
                .sign(fixtures::rsa2048()),
        ),
        (
            "oauth at+jwt",
            TokenBuilder::session("user_1", NOW)
                .header("typ", "at+jwt")
                .sign(fixtures::rsa2048()),
        ),
        (
            "oauth application/at+jwt",
            TokenBuilder::session("user_1", NOW)
                .header("typ", "application/at+jwt")
                .sign(fixtures::rsa2048()),
        ),
    ] {
        for v in [&v, &cached] {
            let header = v.authenticate_request(Some(&format!("Bearer {t}")), None);
            assert_eq!(header.reason(), "token-type-mismatch", "{what} (header)");
            let cookie = format!("__session={t}; __client_uat={}", NOW - 30);
            let cookie = v.authenticate_request(None, Some(&cookie));
            assert_eq!(cookie.reason(), "token-type-mismatch", "{what} (cookie)");
            assert_eq!(
                v.verify(&t).unwrap_err().reason(),
                "token-type-mismatch",
                "{what} (verify)"
            );
        }
    }
    // Session and category-neutral tokens are sessions.
    for cat in ["cl_B7d4PD111AAA", "cl_I7d4PD111III"] {
        let t = TokenBuilder::session("user_1", NOW)
            .header("cat", cat)
            .sign(fixtures::rsa2048());
        assert!(v
            .authenticate_request(Some(&format!("Bearer {t}")), None)
            .auth()
            .is_some());
    }
}

#[test]
fn optional_authentication_never_hides_an_outage() {
    let t = token_issued_at(NOW);
    let header = format!("Bearer {t}");
    let v = verifier();
    assert_eq!(
        v.authenticate_request(Some(&header), None)
            .into_optional()
            .unwrap()
            .map(|a| a.user_id().to_owned()),
        Some("user_1".to_owned())
    );
    assert!(matches!(
        v.authenticate_request(None, None).into_optional(),
        Ok(None)
    ));
    assert!(matches!(
        v.authenticate_request(Some("Bearer garbage"), None)
            .into_optional(),
        Ok(None)
    ));
    let down = Verifier::new(Unavailable, opts()).unwrap();
    let out = down
        .authenticate_request(Some(&header), None)
        .into_optional()
        .unwrap_err();
    assert_eq!(out.reason(), "jwk-remote-failed-to-load");
    // Without a token there is nothing to verify: anonymous, even during the outage.
    assert!(matches!(
        down.authenticate_request(None, None).into_optional(),
        Ok(None)
    ));
    let broken = Verifier::new(Unresolved::with_error(Error::SecretKeyInvalid), opts()).unwrap();
    let out = broken
        .authenticate_request(Some(&header), None)
        .into_optional()
        .unwrap_err();
    assert!(out.misconfigured());
}

#[test]
fn refusals_tell_clients_little_and_operators_everything() {
    let header = format!("Bearer {}", token_issued_at(NOW));
    let down = Verifier::new(Unavailable, opts()).unwrap();
    let Authentication::SignedOut(out) = down.authenticate_request(Some(&header), None) else {
        panic!("signed in")
    };
    let r = Refusal::from_signed_out(&out);
    assert_eq!(r.status(), 503);
    assert!(
        !r.json_body().contains("connection refused"),
        "{}",
        r.json_body()
    );
    assert!(r.detail().contains("connection refused"));
    assert!(r.to_string().contains("connection refused"));
    // A 401 says what to fix, to the client.
    let v = verifier();
    let Authentication::SignedOut(out) = v.authenticate_request(Some("Bearer x.y.z"), None) else {
        panic!("signed in")
    };
    let r = Refusal::from_signed_out(&out);
    assert_eq!(r.status(), 401);
    assert_eq!(r.message(), out.message());
    let internal = Refusal::internal(clerk_verify::reason::VERIFIER_MISSING, "app data lacks it");
    assert!(!internal.json_body().contains("app data"));
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn the_adapter_step_answers_warm_requests_inline() {
    let t = token_issued_at(NOW);
    let header = format!("Bearer {t}");
    let v = verifier();
    match v.authenticate_headers(Some(header.as_bytes()), []) {
        Step::Done(a) => assert_eq!(a.auth().unwrap().user_id(), "user_1"),
        Step::Blocking(_) => panic!("a warm key set needs no blocking"),
    }
    // Cookies from several headers are joined; non-UTF-8 bytes do not make a token vanish.
    let cookie_a = format!("__session={t}");
    let cookie_b = format!("__client_uat={}", NOW - 60);
    let step = v.authenticate_headers(None, [cookie_a.as_bytes(), cookie_b.as_bytes()]);
    assert!(matches!(step, Step::Done(Authentication::SignedIn(_))));
    let step = v.authenticate_headers(Some(b"Bearer \xff\xfe"), []);
    let Step::Done(a) = step else {
        panic!("blocking")
    };
    assert_eq!(a.reason(), "token-invalid");
}

#[test]
fn the_adapter_step_fetches_cold_keys_off_the_calling_thread() {
    let keys = Arc::new(ColdKeys::new(
        KeySet::from_jwks(&fixtures::rsa2048().jwks_json()).unwrap(),
    ));
    let v = Verifier::new(Arc::clone(&keys), opts()).unwrap();
    let header = format!("Bearer {}", token_issued_at(NOW));
    let step = v.authenticate_headers(Some(header.as_bytes()), []);
    assert!(matches!(step, Step::Blocking(_)));
    let a = run(step.finish(tokio::task::spawn_blocking));
    assert_eq!(a.auth().unwrap().user_id(), "user_1");
    assert_eq!((keys.cached_calls(), keys.fetches()), (1, 1));
    assert_ne!(keys.fetch_threads()[0], std::thread::current().id());
}

#[test]
fn a_blocking_task_that_never_completes_is_a_503_not_a_user() {
    let v = Verifier::new(
        Arc::new(ColdKeys::new(
            KeySet::from_jwks(&fixtures::rsa2048().jwks_json()).unwrap(),
        )),
        opts(),
    )
    .unwrap();
    let header = format!("Bearer {}", token_issued_at(NOW));
    let step = v.authenticate_headers(Some(header.as_bytes()), []);
    // A pool that drops the job (cancelled, shut down).
    let a = run(step.finish(|_job| async { Err::<Authentication, _>("the pool is gone") }));
    let Authentication::SignedOut(out) = a else {
        panic!("signed in")
    };
    assert_eq!(out.reason(), "jwk-remote-failed-to-load");
    assert_eq!(Refusal::from_signed_out(&out).status(), 503);
    // A job that panics on tokio's pool.
    let v = Verifier::new(clerk_verify::testing::Panicking, opts()).unwrap();
    let step = v.authenticate_headers(Some(header.as_bytes()), []);
    let a = run(step.finish(tokio::task::spawn_blocking));
    assert_eq!(a.reason(), "jwk-remote-failed-to-load");
}

/// The publishable key's cookie choice and the session rules (pending, categories), seen from
/// the public API.
mod sessions {
    use clerk_dev::{fixtures, TokenBuilder};
    use clerk_verify::{Authentication, Verifier, VerifyOptions};

    const PK: &str = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";

    #[test]
    fn publishable_key_selects_the_suffixed_cookie() {
        let now = clerk_dev::now_unix();
        let v = Verifier::from_jwks(
            &fixtures::rsa2048().jwks_json(),
            VerifyOptions::default().publishable_key(PK),
        )
        .unwrap();
        let other = TokenBuilder::session("user_other", now)
            .claim("iss", "https://other.clerk.accounts.dev")
            .sign(fixtures::rsa2048());
        let mine = TokenBuilder::session("user_mine", now)
            .claim("iss", "https://fond-koala-12.clerk.accounts.dev")
            .sign(fixtures::rsa2048());
        let cookie = format!(
            "__session={other}; __client_uat=1; __session_r_77EQdK={mine}; __client_uat_r_77EQdK=1"
        );
        match v.authenticate_request(None, Some(&cookie)) {
            Authentication::SignedIn(a) => assert_eq!(a.user_id(), "user_mine"),
            other => panic!("{}", other.reason()),
        }
        // The suffixed pair follows the same __client_uat rules: a signed-out suffixed uat.
        let signed_out =
            format!("__client_uat=0; __session_r_77EQdK={mine}; __client_uat_r_77EQdK=0");
        assert_eq!(
            v.authenticate_request(None, Some(&signed_out)).reason(),
            "session-token-but-no-client-uat"
        );
        // Without the publishable key only the unsuffixed cookie is read.
        let plain = Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), VerifyOptions::default())
            .unwrap();
        let a = plain.authenticate_request(None, Some(&cookie));
        assert_eq!(a.auth().map(|a| a.user_id()), Some("user_other"));
        // A malformed publishable key is a configuration error at build time.
        let bad = Verifier::from_jwks(
            &fixtures::rsa2048().jwks_json(),
            VerifyOptions::default().publishable_key("pk_test_nope"),
        );
        assert_eq!(bad.unwrap_err().reason(), "config-invalid");
    }

    #[test]
    fn pending_and_category() {
        let now = clerk_dev::now_unix();
        let jwks = fixtures::rsa2048().jwks_json();
        let v = Verifier::from_jwks(&jwks, VerifyOptions::default()).unwrap();
        let pending = TokenBuilder::session("u", now)
            .claim("sts", "pending")
            .sign(fixtures::rsa2048());
        let bearer = format!("Bearer {pending}");
        assert_eq!(
            v.authenticate_request(Some(&bearer), None).reason(),
            "session-pending"
        );
        let accepting = Verifier::from_jwks(
            &jwks,
            VerifyOptions::default().accept_pending_sessions(true),
        )
        .unwrap();
        assert!(accepting
            .authenticate_request(Some(&bearer), None)
            .auth()
            .is_some());
        for cat in ["cl_B7d4PD222AAA", "cl_B7d4PD333AAA", "something-else"] {
            let other = TokenBuilder::session("u", now)
                .header("cat", cat)
                .sign(fixtures::rsa2048());
            let a = v.authenticate_request(Some(&format!("Bearer {other}")), None);
            assert_eq!(a.reason(), "token-type-mismatch", "{cat}");
        }
        // verify() itself accepts a JWT-template token and refuses a machine token.
        let template = TokenBuilder::session("u", now)
            .header("cat", "cl_B7d4PD222AAA")
            .sign(fixtures::rsa2048());
        assert!(v.verify(&template).is_ok());
        let m2m = TokenBuilder::session("u", now)
            .header("cat", "cl_B7d4PD333AAA")
            .sign(fixtures::rsa2048());
        assert_eq!(v.verify(&m2m).unwrap_err().reason(), "token-type-mismatch");
    }
}

/// Policies and typed requirements: 403s with their reasons.
mod requirements {
    use clerk_dev::{fixtures, TokenBuilder};
    use clerk_verify::claims::{Reverification, VerificationLevel};
    use clerk_verify::request::{
        Feature, HasFeature, HasPermission, HasPlan, HasRole, Permission, Plan, Policy,
        Requirement, ReverificationLevel, Reverified, Role,
    };
    use clerk_verify::{Auth, Refusal, Verifier, VerifyOptions};
    use serde_json::{json, Value};

    fn auth(org: Option<serde_json::Value>) -> Auth {
        let mut b = TokenBuilder::session("user_1", clerk_dev::now_unix());
        if let Some(o) = org {
            b = b.claim("o", o).claim("fea", "o:invoices");
        }
        let v = Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), VerifyOptions::default())
            .unwrap();
        let header = format!("Bearer {}", b.sign(fixtures::rsa2048()));
        v.authenticate_request(Some(&header), None)
            .into_auth()
            .unwrap()
    }

    /// A v2 session with these claims.
    fn session(claims: Value) -> Auth {
        let mut b = TokenBuilder::session("user_1", clerk_dev::now_unix()).claim("v", 2);
        for (name, value) in claims.as_object().unwrap() {
            b = b.claim(name, value.clone());
        }
        let v = Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), VerifyOptions::default())
            .unwrap();
        let header = format!("Bearer {}", b.sign(fixtures::rsa2048()));
        v.authenticate_request(Some(&header), None)
            .into_auth()
            .unwrap()
    }

    fn reason(p: &Policy, a: &Auth) -> &'static str {
        p.check(a).err().map_or("ok", |f| f.reason())
    }

    #[test]
    fn policies() {
        let none = auth(None);
        let member = auth(Some(
            json!({"id":"org_1","rol":"member","per":"read","fpm":"1"}),
        ));
        let admin = auth(Some(json!({"id":"org_1","rol":"admin"})));
        assert_eq!(reason(&Policy::new(), &none), "ok");
        assert_eq!(
            reason(&Policy::new().org_required(), &none),
            "missing-organization"
        );
        assert_eq!(reason(&Policy::new().org_required(), &member), "ok");
        let admin_only = Policy::new().role("org:admin");
        assert_eq!(reason(&admin_only, &member), "missing-role");
        assert_eq!(reason(&admin_only, &none), "missing-role");
        assert_eq!(reason(&admin_only, &admin), "ok");
        let readers = Policy::new()
            .permission("org:invoices:read")
            .permission("org:invoices:write");
        assert_eq!(reason(&readers, &member), "missing-permission");
        let f = readers.check(&member).unwrap_err();
        assert!(f.message().contains("org:invoices:write"), "{f}");
        assert_eq!(
            reason(&Policy::new().permission("org:invoices:read"), &member),
            "ok"
        );
        assert!(Policy::new().is_empty() && !admin_only.is_empty());
        assert_eq!(Policy::new().to_string(), "nothing");
    }

    #[test]
    fn typed_requirements() {
        struct Admin;
        impl Role for Admin {
            const ROLE: &'static str = "org:admin";
        }
        struct Read;
        impl Permission for Read {
            const PERMISSION: &'static str = "org:invoices:read";
        }
        let member = auth(Some(
            json!({"id":"org_1","rol":"member","per":"read","fpm":"1"}),
        ));
        assert_eq!(
            HasRole::<Admin>::check(&member).unwrap_err().reason(),
            "missing-role"
        );
        assert!(HasPermission::<Read>::check(&member).is_ok());
    }

    #[test]
    fn features_plans_and_reverification() {
        let pro = session(
            json!({"fea": "o:reports,u:export", "pla": "o:pro", "fva": [2, 30],
            "o": {"id": "org_1", "rol": "admin"}}),
        );
        let free = session(json!({"pla": "u:free", "fva": [2, -1]}));
        let reports = Policy::new().feature("reports");
        assert_eq!(reason(&reports, &pro), "ok");
        assert_eq!(reason(&reports, &free), "missing-feature");
        assert_eq!(
            reason(&Policy::new().feature("u:reports"), &pro),
            "missing-feature"
        );
        let f = Policy::new()
            .feature("export")
            .feature("o:audit")
            .check(&pro)
            .unwrap_err();
        assert!(f.message().contains("o:audit"), "{f}");
        assert_eq!(reason(&Policy::new().plan("o:pro"), &pro), "ok");
        assert_eq!(reason(&Policy::new().plan("pro"), &free), "missing-plan");
        assert_eq!(reason(&Policy::new().plan("user:free"), &free), "ok");
        // Second factor 30 minutes ago: not `strict`; `moderate` is fine. The user without a
        // second factor passes `strict` on the first.
        let strict = Policy::new().reverification(Reverification::Strict);
        assert_eq!(reason(&strict, &pro), "reverification-error");
        assert_eq!(reason(&strict, &free), "ok");
        let moderate = Policy::new().reverification(Reverification::Moderate);
        assert_eq!(reason(&moderate, &pro), "ok");
        let refused = strict.check(&pro).unwrap_err();
        assert_eq!(
            refused.missing_reverification(),
            Some(Reverification::Strict)
        );
        let body: Value =
            serde_json::from_str(&Refusal::from_forbidden(&refused).json_body()).unwrap();
        assert_eq!(body["error"], "forbidden");
        assert_eq!(
            body["clerk_error"],
            json!({"type": "forbidden", "reason": "reverification-error",
                "metadata": {"reverification": "strict"}})
        );
        // Requirements are checked in order, the reverification last: a missing plan is not
        // answered with a prompt to verify again.
        let both = Policy::new()
            .plan("enterprise")
            .reverification(Reverification::Strict);
        assert_eq!(reason(&both, &pro), "missing-plan");
        assert_eq!(both.to_string(), "plan enterprise, reverification strict");
        assert!(!both.is_empty() && !Policy::new().feature("x").is_empty());
        assert!(!Policy::new().reverification(Reverification::Lax).is_empty());
        // Roles take Clerk's `org:` rule: `admin` is `org:admin`.
        assert_eq!(reason(&Policy::new().role("admin"), &pro), "ok");
    }

    #[test]
    fn malformed_policies_are_configuration_errors() {
        assert!(Policy::new()
            .role("admin")
            .permission("org:a:b")
            .feature("o:reports")
            .plan("user:free")
            .reverification(Reverification::Lax)
            .validate()
            .is_ok());
        for bad in [
            Policy::new().feature("team:reports"),
            Policy::new().feature("o:reports:x"),
            Policy::new().plan(""),
            Policy::new().plan("pro plan"),
            Policy::new().role("org:"),
            Policy::new().permission(""),
            Policy::new().reverification(Reverification::Custom {
                level: VerificationLevel::SecondFactor,
                after_minutes: 0,
            }),
        ] {
            let e = bad.validate().unwrap_err();
            assert_eq!(e.reason(), "config-invalid", "{bad}: {e}");
        }
    }

    #[test]
    fn typed_features_plans_and_reverification() {
        struct Reports;
        impl Feature for Reports {
            const FEATURE: &'static str = "org:reports";
        }
        struct Pro;
        impl Plan for Pro {
            const PLAN: &'static str = "pro";
        }
        struct Recent;
        impl ReverificationLevel for Recent {
            const REVERIFICATION: Reverification = Reverification::Custom {
                level: VerificationLevel::MultiFactor,
                after_minutes: 5,
            };
        }
        let fresh = session(json!({"fea": "o:reports", "pla": "o:pro", "fva": [1, 4]}));
        let stale = session(json!({"fea": "u:reports", "pla": "u:free", "fva": [1, 5]}));
        assert!(HasFeature::<Reports>::check(&fresh).is_ok());
        assert!(HasPlan::<Pro>::check(&fresh).is_ok());
        assert!(Reverified::<Recent>::check(&fresh).is_ok());
        assert_eq!(
            HasFeature::<Reports>::check(&stale).unwrap_err().reason(),
            "missing-feature"
        );
        assert_eq!(
            HasPlan::<Pro>::check(&stale).unwrap_err().reason(),
            "missing-plan"
        );
        let f = Reverified::<Recent>::check(&stale).unwrap_err();
        assert_eq!(f.reason(), "reverification-error");
        let body: Value = serde_json::from_str(&Refusal::from_forbidden(&f).json_body()).unwrap();
        assert_eq!(
            body["clerk_error"]["metadata"]["reverification"],
            json!({"level": "multi_factor", "afterMinutes": 5})
        );
    }
}
