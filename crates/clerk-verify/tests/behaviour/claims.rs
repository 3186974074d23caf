//! Step 4: claim rules, with Clerk's comparisons and order: sub, aud, azp, exp, nbf, iat,
//! then our iss.

use super::common::*;
use clerk_dev::{ManualClock, TokenBuilder, TEST_AZP, TEST_ISSUER, TEST_SID};
use clerk_verify::{Clock, VerifyOptions};
use serde_json::json;
use std::time::{Duration, UNIX_EPOCH};

const FAILED: &str = "token-verification-failed";
const EXPIRED: &str = "token-expired";
const NOT_YET: &str = "token-not-active-yet";
const IAT_FUTURE: &str = "token-iat-in-the-future";
const AZP: &str = "token-invalid-authorized-parties";
const AUD: &str = "token-invalid-audience";
const ISS: &str = "token-invalid-issuer";

/// Only `sub` and `exp`, nothing else (so no nbf/iat interferes).
fn minimal(exp: impl Into<serde_json::Value>) -> TokenBuilder {
    TokenBuilder::empty()
        .claim("sub", "user_1")
        .claim("exp", exp)
}

#[test]
fn typed_claims_of_a_session_token() {
    let c = accepted(&jwks_verifier(), &good_token());
    assert_eq!(c.sub, "user_1");
    assert_eq!(c.user_id(), "user_1");
    assert_eq!(c.sid.as_deref(), Some(TEST_SID));
    assert_eq!(c.session_id(), Some(TEST_SID));
    assert_eq!(c.iss.as_deref(), Some(TEST_ISSUER));
    assert_eq!(c.azp.as_deref(), Some(TEST_AZP));
    assert_eq!(c.exp, NOW + 60);
    assert_eq!(c.nbf, Some(NOW - 10));
    assert_eq!(c.iat, Some(NOW));
    assert_eq!(c.version, Some(2));
    assert!(c.org.is_none() && c.org_id().is_none());
    assert!(c.is_signed_in() && !c.is_pending());
    assert_eq!(c.get("sid"), Some(&json!(TEST_SID)));
    assert_eq!(c.as_json().len(), 8);
}

#[test]
fn sub_must_be_a_non_empty_string() {
    let v = jwks_verifier();
    refused(&v, &session().remove_claim("sub").sign(key()), FAILED);
    for bad in [
        json!(5),
        json!(null),
        json!([]),
        json!({}),
        json!(true),
        json!(""),
    ] {
        refused(&v, &session().claim("sub", bad).sign(key()), FAILED);
    }
}

#[test]
fn exp_is_required_and_a_number() {
    let v = jwks_verifier();
    refused(&v, &session().remove_claim("exp").sign(key()), FAILED);
    for bad in [
        json!((NOW + 60).to_string()),
        json!(null),
        json!(true),
        json!([NOW + 60]),
        json!({"t": NOW + 60}),
    ] {
        refused(&v, &session().claim("exp", bad).sign(key()), FAILED);
    }
}

#[test]
fn nbf_and_iat_must_be_numbers_when_present() {
    let v = jwks_verifier();
    for name in ["nbf", "iat"] {
        for bad in [json!(NOW.to_string()), json!(null), json!([NOW])] {
            refused(&v, &session().claim(name, bad).sign(key()), FAILED);
        }
    }
    // Absent is fine.
    accepted(
        &v,
        &session()
            .remove_claim("nbf")
            .remove_claim("iat")
            .sign(key()),
    );
}

#[test]
fn float_dates() {
    let v = jwks_verifier();
    let c = accepted(
        &v,
        &session()
            .claim("exp", NOW as f64 + 60.75)
            .claim("nbf", NOW as f64 - 9.5)
            .claim("iat", NOW as f64 + 0.25)
            .sign(key()),
    );
    // Typed fields are whole seconds (floored); the checks used the exact values.
    assert_eq!(c.exp, NOW + 60);
    assert_eq!(c.nbf, Some(NOW - 10));
    assert_eq!(c.iat, Some(NOW));
    // Around the default 5 s skew.
    accepted(&v, &minimal(NOW as f64 - 4.5).sign(key()));
    refused(&v, &minimal(NOW as f64 - 5.5).sign(key()), EXPIRED);
    accepted(&v, &session().claim("nbf", NOW as f64 + 4.999).sign(key()));
    refused(
        &v,
        &session().claim("nbf", NOW as f64 + 5.5).sign(key()),
        NOT_YET,
    );
    accepted(&v, &session().claim("iat", NOW as f64 + 4.5).sign(key()));
    refused(
        &v,
        &session().claim("iat", NOW as f64 + 5.001).sign(key()),
        IAT_FUTURE,
    );
    // Exponent notation is a number too.
    accepted(&v, &minimal(json!(1.75e10)).sign(key()));
    refused(&v, &minimal(json!(1e3)).sign(key()), EXPIRED);
}

#[test]
fn exp_boundaries_with_default_skew() {
    let v = jwks_verifier();
    // Expired when exp <= now - 5 s.
    accepted(&v, &minimal(NOW + 60).sign(key()));
    accepted(&v, &minimal(NOW).sign(key()));
    accepted(&v, &minimal(NOW - 4).sign(key()));
    refused(&v, &minimal(NOW - 5).sign(key()), EXPIRED);
    refused(&v, &minimal(NOW - 6).sign(key()), EXPIRED);
    refused(&v, &minimal(0).sign(key()), EXPIRED);
    refused(&v, &minimal(-1).sign(key()), EXPIRED);
    let e = refused(&v, &minimal(NOW - 6).sign(key()), EXPIRED);
    let msg = e.to_string();
    assert!(
        msg.contains(&(NOW - 6).to_string()) && msg.contains(&NOW.to_string()),
        "{msg}"
    );
}

#[test]
fn nbf_boundaries_with_default_skew() {
    let v = jwks_verifier();
    // Not active yet when nbf > now + 5 s.
    accepted(&v, &session().claim("nbf", NOW + 4).sign(key()));
    accepted(&v, &session().claim("nbf", NOW + 5).sign(key()));
    refused(&v, &session().claim("nbf", NOW + 6).sign(key()), NOT_YET);
    accepted(&v, &session().claim("nbf", 0).sign(key()));
    accepted(&v, &session().claim("nbf", -100).sign(key()));
}

#[test]
fn iat_boundaries_with_default_skew() {
    let v = jwks_verifier();
    accepted(&v, &session().claim("iat", NOW + 4).sign(key()));
    accepted(&v, &session().claim("iat", NOW + 5).sign(key()));
    refused(&v, &session().claim("iat", NOW + 6).sign(key()), IAT_FUTURE);
    // Old iat is fine (exp decides the lifetime).
    accepted(&v, &session().claim("iat", NOW - 86_400).sign(key()));
}

#[test]
fn zero_clock_skew_is_honoured() {
    let v = jwks_verifier_with(opts().clock_skew(Duration::ZERO));
    accepted(&v, &minimal(NOW + 1).sign(key()));
    refused(&v, &minimal(NOW).sign(key()), EXPIRED);
    refused(&v, &minimal(NOW - 1).sign(key()), EXPIRED);
    accepted(&v, &minimal(NOW as f64 + 0.001).sign(key()));
    accepted(&v, &session().claim("nbf", NOW).sign(key()));
    refused(&v, &session().claim("nbf", NOW + 1).sign(key()), NOT_YET);
    accepted(&v, &session().claim("iat", NOW).sign(key()));
    refused(&v, &session().claim("iat", NOW + 1).sign(key()), IAT_FUTURE);
}

#[test]
fn custom_clock_skew() {
    let v = jwks_verifier_with(opts().clock_skew(Duration::from_secs(60)));
    accepted(&v, &minimal(NOW - 59).sign(key()));
    refused(&v, &minimal(NOW - 60).sign(key()), EXPIRED);
    accepted(&v, &session().claim("nbf", NOW + 60).sign(key()));
    refused(&v, &session().claim("nbf", NOW + 61).sign(key()), NOT_YET);
    // Millisecond skews count.
    let v = jwks_verifier_with(opts().clock_skew(Duration::from_millis(1500)));
    accepted(&v, &minimal(NOW - 1).sign(key()));
    refused(&v, &minimal(NOW - 2).sign(key()), EXPIRED);
}

#[test]
fn sub_second_clock() {
    // now = NOW + 0.5 s: exp NOW-4 is 4.5 s ago (valid), NOW-5 is 5.5 s ago (expired).
    let half = Clock::fixed(UNIX_EPOCH + Duration::from_millis(NOW as u64 * 1000 + 500));
    let v = jwks_verifier_with(VerifyOptions::default().clock(half));
    accepted(&v, &minimal(NOW - 4).sign(key()));
    refused(&v, &minimal(NOW - 5).sign(key()), EXPIRED);
    accepted(&v, &session().claim("nbf", NOW + 5).sign(key()));
    refused(&v, &session().claim("nbf", NOW + 6).sign(key()), NOT_YET);
}

#[test]
fn a_moving_clock() {
    let clock = ManualClock::at_unix(NOW);
    let v = jwks_verifier_with(VerifyOptions::default().clock(Clock::from_fn(clock.source())));
    let t = good_token(); // exp NOW + 60, nbf NOW - 10
    accepted(&v, &t);
    clock.advance(Duration::from_secs(64));
    accepted(&v, &t);
    clock.advance(Duration::from_secs(1));
    refused(&v, &t, EXPIRED);
    clock.set(UNIX_EPOCH + Duration::from_secs((NOW - 16) as u64));
    refused(&v, &t, NOT_YET);
    clock.advance(Duration::from_secs(1));
    // nbf NOW-10 <= (NOW-15)+5; iat NOW > (NOW-15)+5 though.
    refused(&v, &t, IAT_FUTURE);
    clock.set(UNIX_EPOCH + Duration::from_secs((NOW - 5) as u64));
    accepted(&v, &t);
}

#[test]
fn azp_not_configured_accepts_anything() {
    let v = jwks_verifier();
    for azp in [json!("https://evil.example"), json!(""), json!(null)] {
        accepted(&v, &session().claim("azp", azp).sign(key()));
    }
    accepted(&v, &session().remove_claim("azp").sign(key()));
}

#[test]
fn azp_configured_requires_an_exact_match() {
    let v = jwks_verifier_with(opts().authorized_parties([TEST_AZP, "https://app.example"]));
    accepted(&v, &good_token());
    accepted(
        &v,
        &session().claim("azp", "https://app.example").sign(key()),
    );
    for bad in [
        json!("http://localhost:3000/"),
        json!("HTTP://localhost:3000"),
        json!("http://LOCALHOST:3000"),
        json!("http://localhost:3000 "),
        json!("http://localhost"),
        json!("https://app.example.evil"),
        json!("https://evil.example"),
        json!(""),
        json!(5),
        json!(["http://localhost:3000"]),
    ] {
        let t = session().claim("azp", bad.clone()).sign(key());
        let e = refused(&v, &t, AZP);
        if let Some(s) = bad.as_str().filter(|s| !s.is_empty()) {
            assert!(e.to_string().contains(s.trim_end()), "{e}");
        }
    }
    // Trailing slash on the configured side differs too.
    let v = jwks_verifier_with(opts().authorized_parties(["http://localhost:3000/"]));
    refused(&v, &good_token(), AZP);
}

#[test]
fn missing_azp_with_authorized_parties() {
    let strict = jwks_verifier_with(opts().authorized_parties([TEST_AZP]));
    let no_azp = session().remove_claim("azp").sign(key());
    let null_azp = session().claim("azp", json!(null)).sign(key());
    let e = refused(&strict, &no_azp, AZP);
    assert!(e.to_string().contains("allow_missing_azp"), "{e}");
    refused(&strict, &null_azp, AZP);

    let lenient = jwks_verifier_with(
        opts()
            .authorized_parties([TEST_AZP])
            .allow_missing_azp(true),
    );
    accepted(&lenient, &no_azp);
    accepted(&lenient, &null_azp);
    accepted(&lenient, &good_token());
    // Lenient about absence, not about mismatches.
    refused(
        &lenient,
        &session().claim("azp", "https://evil.example").sign(key()),
        AZP,
    );
    refused(&lenient, &session().claim("azp", "").sign(key()), AZP);
    // Without authorized parties the flag changes nothing.
    let v = jwks_verifier_with(opts().allow_missing_azp(true));
    accepted(
        &v,
        &session().claim("azp", "https://evil.example").sign(key()),
    );
}

#[test]
fn empty_authorized_parties_are_not_reject_everything() {
    // Clerk PHP #81: an empty list means "not checked", as in Clerk's JS SDK.
    let v = jwks_verifier_with(opts().authorized_parties(Vec::<String>::new()));
    accepted(&v, &session().claim("azp", "https://anything").sign(key()));
    let v = jwks_verifier_with(opts().authorized_parties([""]));
    accepted(&v, &session().claim("azp", "https://anything").sign(key()));
}

#[test]
fn audience() {
    let v = jwks_verifier_with(opts().audience(["api"]));
    accepted(&v, &session().claim("aud", "api").sign(key()));
    accepted(
        &v,
        &session().claim("aud", json!(["web", "api"])).sign(key()),
    );
    for bad in [
        json!("web"),
        json!("API"),
        json!("api "),
        json!([]),
        json!(["web"]),
        json!(null),
    ] {
        refused(&v, &session().claim("aud", bad).sign(key()), AUD);
    }
    // With an audience configured, aud must be a string or an array of strings: anything else
    // is malformed, even next to a matching element (Clerk's SDK skips the check instead).
    for malformed in [
        json!(5),
        json!([["api"]]),
        json!(["api", 5]),
        json!([null, "api"]),
        json!({"aud": "api"}),
        json!(true),
    ] {
        refused(
            &v,
            &session().claim("aud", malformed).sign(key()),
            "token-verification-failed",
        );
    }
    refused(&v, &session().sign(key()), AUD);
    // Several configured audiences: any one matches.
    let v = jwks_verifier_with(opts().audience(["api", "web"]));
    accepted(&v, &session().claim("aud", "web").sign(key()));
    accepted(&v, &session().claim("aud", json!(["x", "api"])).sign(key()));
    refused(
        &v,
        &session().claim("aud", json!(["x", "y"])).sign(key()),
        AUD,
    );
    // Not configured: aud is not looked at.
    accepted(
        &jwks_verifier(),
        &session().claim("aud", "whatever").sign(key()),
    );
    accepted(
        &jwks_verifier(),
        &session().claim("aud", json!(5)).sign(key()),
    );
}

#[test]
fn issuer() {
    let v = jwks_verifier_with(opts().issuer(TEST_ISSUER));
    accepted(&v, &good_token());
    for bad in [
        json!("https://clerk.other.test"),
        json!(format!("{TEST_ISSUER}/")),
        json!("http://clerk.example.test"),
        json!("HTTPS://clerk.example.test"),
        json!(""),
        json!(5),
        json!(null),
        json!([TEST_ISSUER]),
    ] {
        refused(&v, &session().claim("iss", bad).sign(key()), ISS);
    }
    refused(&v, &session().remove_claim("iss").sign(key()), ISS);
    // Not configured: iss is not compared.
    accepted(
        &jwks_verifier(),
        &session().claim("iss", "https://x").sign(key()),
    );
    // An empty configured issuer is a configuration error.
    let e = clerk_verify::Verifier::from_jwks(&key().jwks_json(), opts().issuer("")).unwrap_err();
    assert_eq!(e.reason(), "config-invalid");
}

#[test]
fn clerks_order() {
    let v = jwks_verifier_with(
        opts()
            .audience(["api"])
            .authorized_parties(["https://app.example"])
            .issuer(TEST_ISSUER),
    );
    let all_bad = session()
        .claim("sub", 5)
        .claim("aud", "web")
        .claim("azp", "https://evil.example")
        .claim("exp", NOW - 100)
        .claim("nbf", NOW + 100)
        .claim("iat", NOW + 100)
        .claim("iss", "https://other");
    // Fix one problem at a time; the next in Clerk's order is reported.
    let steps = [
        (all_bad.clone(), FAILED),
        (all_bad.clone().claim("sub", "user_1"), AUD),
        (
            all_bad.clone().claim("sub", "user_1").claim("aud", "api"),
            AZP,
        ),
        (
            all_bad
                .clone()
                .claim("sub", "user_1")
                .claim("aud", "api")
                .claim("azp", "https://app.example"),
            EXPIRED,
        ),
        (
            all_bad
                .clone()
                .claim("sub", "user_1")
                .claim("aud", "api")
                .claim("azp", "https://app.example")
                .claim("exp", NOW + 60),
            NOT_YET,
        ),
        (
            all_bad
                .clone()
                .claim("sub", "user_1")
                .claim("aud", "api")
                .claim("azp", "https://app.example")
                .claim("exp", NOW + 60)
                .claim("nbf", NOW),
            IAT_FUTURE,
        ),
        (
            all_bad
                .clone()
                .claim("sub", "user_1")
                .claim("aud", "api")
                .claim("azp", "https://app.example")
                .claim("exp", NOW + 60)
                .claim("nbf", NOW)
                .claim("iat", NOW),
            ISS,
        ),
    ];
    for (builder, reason) in steps {
        refused(&v, &builder.sign(key()), reason);
    }
    let fixed = all_bad
        .claim("sub", "user_1")
        .claim("aud", "api")
        .claim("azp", "https://app.example")
        .claim("exp", NOW + 60)
        .claim("nbf", NOW)
        .claim("iat", NOW)
        .claim("iss", TEST_ISSUER);
    accepted(&v, &fixed.sign(key()));
    // A missing exp is a problem of step "exp": after azp, before nbf.
    let no_exp = session()
        .remove_claim("exp")
        .claim("aud", "api")
        .claim("nbf", NOW + 100);
    refused(
        &v,
        &no_exp
            .clone()
            .claim("azp", "https://evil.example")
            .sign(key()),
        AZP,
    );
    refused(
        &v,
        &no_exp.claim("azp", "https://app.example").sign(key()),
        FAILED,
    );
}

#[test]
fn typed_claims_with_wrong_types_are_refused() {
    // Claims that are typed on Claims must have the right type when present.
    let v = jwks_verifier();
    for (name, bad) in [
        ("sid", json!(5)),
        ("iss", json!(5)),
        ("azp", json!(5)),
        ("v", json!("2")),
        ("fva", json!([1])),
        ("fva", json!(["a", "b"])),
        ("act", json!("user_admin")),
        ("sts", json!(1)),
        ("pla", json!(["u:free"])),
        ("fea", json!(5)),
    ] {
        refused(&v, &session().claim(name, bad).sign(key()), FAILED);
    }
    // Null is "absent" for them.
    for name in ["sid", "iss", "fva", "act", "sts"] {
        accepted(&v, &session().claim(name, json!(null)).sign(key()));
    }
}

#[test]
fn actor_and_fva() {
    let t = session()
        .claim(
            "act",
            json!({"sub": "user_admin", "type": "agent", "iss": "x"}),
        )
        .claim("fva", json!([3, -1]))
        .sign(key());
    let c = accepted(&jwks_verifier(), &t);
    let act = c.actor.as_ref().unwrap();
    assert_eq!(act.sub.as_deref(), Some("user_admin"));
    assert_eq!(act.kind.as_deref(), Some("agent"));
    assert_eq!(act.claims["iss"], "x");
    assert_eq!(c.fva, Some([3, -1]));
}
