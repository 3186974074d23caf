//! Remote key sources against a real HTTP server on 127.0.0.1: Frontend API URL, plain JWKS URL,
//! Backend API with a secret key, publishable keys, the environment, and key rotation.
#![cfg(feature = "remote")]

mod remote_support;

use clerk_dev::{fixtures, jwks_json, JwksServer};
use clerk_verify::{
    options::PublishableKey, remote::JwksSource, remote::RemoteKeys, remote::RemoteOptions,
    KeyFetcher, Verifier, VerifyOptions,
};
use remote_support::*;
use std::time::Duration;

fn header(server: &JwksServer, name: &str) -> Option<String> {
    server
        .last_request_headers()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[test]
fn frontend_api_url() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let keys = RemoteKeys::from_frontend_api(&server.url(), fast()).unwrap();
    assert_eq!(keys.jwks_url(), server.jwks_url());
    let v = verifier(keys, &clock);
    assert_eq!(server.hits(), 0, "building a verifier does no I/O");

    let claims = v.verify(&token(key, &clock)).unwrap();
    assert_eq!(claims.user_id(), "user_1");
    assert_eq!(server.hits(), 1);
    // Cached: more verifications, even of new tokens, fetch nothing.
    for _ in 0..5 {
        v.verify(&token(key, &clock)).unwrap();
    }
    assert_eq!(server.hits(), 1);

    let ua = header(&server, "user-agent").unwrap();
    assert!(ua.starts_with("clerk-verify/"), "{ua}");
    assert_eq!(
        header(&server, "accept").as_deref(),
        Some("application/json")
    );
    assert_eq!(header(&server, "authorization"), None);
    assert_eq!(header(&server, "clerk-api-version"), None);
}

#[test]
fn plain_jwks_url_and_convenience_constructor() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let url = format!("{}/jwks.json", server.url());
    let v = verifier(RemoteKeys::from_jwks_url(&url, fast()).unwrap(), &clock);
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), 1);

    // The Verifier shortcut (default remote options, system clock).
    let v = Verifier::from_jwks_url(&server.jwks_url(), VerifyOptions::default()).unwrap();
    let now_token = clerk_dev::TokenBuilder::session("user_2", clerk_dev::now_unix()).sign(key);
    assert_eq!(v.verify(&now_token).unwrap().user_id(), "user_2");
    let v = Verifier::from_frontend_api(&server.url(), VerifyOptions::default()).unwrap();
    assert!(v.verify(&now_token).is_ok());
    assert_eq!(server.hits(), 3);
}

#[test]
fn backend_api_with_secret_key() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    server.require_bearer(Some(SECRET.to_owned()));
    let clock = clock();
    let keys = RemoteKeys::from_secret_key(SECRET, Some(&server.url()), fast()).unwrap();
    assert_eq!(keys.jwks_url(), format!("{}/v1/jwks", server.url()));
    let shown = format!("{keys:?}");
    assert!(
        !shown.contains(SECRET) && !shown.contains("TESTSECRET"),
        "{shown}"
    );
    let v = verifier(keys, &clock);
    assert!(!format!("{v:?}").contains("TESTSECRET"));

    assert_eq!(v.verify(&token(key, &clock)).unwrap().user_id(), "user_1");
    assert_eq!(server.hits(), 1);
    assert_eq!(
        header(&server, "authorization").as_deref(),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert_eq!(
        header(&server, "clerk-api-version").as_deref(),
        Some("2026-05-12")
    );
    assert!(header(&server, "user-agent")
        .unwrap()
        .starts_with("clerk-verify/"));
}

#[test]
fn wrong_secret_key_is_secret_key_invalid_and_never_shown() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    server.require_bearer(Some("sk_test_the_right_one".to_owned()));
    let clock = clock();
    let hooked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = hooked.clone();
    let opts = fast().on_fetch_error(move |e| sink.lock().unwrap().push(format!("{e} {e:?}")));
    let keys = RemoteKeys::from_secret_key(SECRET, Some(&server.url()), opts).unwrap();
    let v = verifier(keys, &clock);
    let r = v.verify(&token(key, &clock));
    assert_eq!(reason(&r), "secret-key-invalid");
    let e = r.unwrap_err();
    for text in [e.to_string(), format!("{e:?}")]
        .into_iter()
        .chain(hooked.lock().unwrap().iter().cloned())
    {
        assert!(!text.contains("TESTSECRET"), "{text}");
    }
    assert_eq!(hooked.lock().unwrap().len(), 1);
}

#[test]
fn publishable_key_derives_the_frontend_api() {
    let pk = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";
    let keys = RemoteKeys::from_publishable_key(pk, RemoteOptions::default()).unwrap();
    assert_eq!(
        keys.jwks_url(),
        "https://fond-koala-12.clerk.accounts.dev/.well-known/jwks.json"
    );
    assert!(
        matches!(keys.source(), JwksSource::FrontendApi { url } if url == "https://fond-koala-12.clerk.accounts.dev")
    );
    assert!(!PublishableKey::parse(pk).unwrap().is_production());
    assert_eq!(clerk_verify::request::cookie_suffix(pk), "r_77EQdK");
    // Building does no I/O, so this works offline.
    assert!(Verifier::from_publishable_key(pk, VerifyOptions::default()).is_ok());

    let bad = Verifier::from_publishable_key("pk_live_bm90LWEtaG9zdA", VerifyOptions::default());
    let e = bad.unwrap_err();
    assert_eq!(e.reason(), "config-invalid");
    assert!(e.to_string().contains("'$'"), "{e}");

    // The same host through the Frontend API constructor works against a loopback server.
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let host = format!("127.0.0.1:{}", server.port());
    let v = verifier(
        RemoteKeys::from_frontend_api(&format!("http://{host}/"), fast()).unwrap(),
        &clock,
    );
    assert!(v.verify(&token(key, &clock)).is_ok());
    // A bare host means https://, which is what a publishable key gives.
    assert_eq!(
        JwksSource::frontend_api(&host).unwrap().jwks_url(),
        format!("https://{host}/.well-known/jwks.json")
    );
}

#[test]
fn plain_http_is_refused_for_remote_hosts() {
    for url in [
        "http://clerk.example.com/.well-known/jwks.json",
        "http://10.1.2.3/jwks",
    ] {
        let e = RemoteKeys::from_jwks_url(url, RemoteOptions::default()).unwrap_err();
        assert_eq!(e.reason(), "config-invalid");
        assert!(e.to_string().contains("https://"), "{e}");
    }
    let e = RemoteKeys::from_secret_key(
        SECRET,
        Some("http://api.example.com"),
        RemoteOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.reason(), "config-invalid");
    assert!(!e.to_string().contains("TESTSECRET"));
}

#[test]
fn rotation_new_kid_after_one_refetch_old_kid_while_published() {
    let a = fixtures::rsa2048();
    let b = fixtures::rsa2048_b();
    let server = JwksServer::start_with(a.jwks_json());
    let clock = clock();
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap(),
        &clock,
    );
    assert!(v.verify(&token(a, &clock)).is_ok());
    assert_eq!(server.hits(), 1);

    // Clerk starts publishing b next to a and signs with b.
    server.set_jwks(jwks_json(&[a, b]));
    clock.advance(Duration::from_secs(30));
    assert_eq!(v.verify(&token(b, &clock)).unwrap().user_id(), "user_1");
    assert_eq!(server.hits(), 2, "exactly one refetch for the new kid");
    // Both keep working from the cache.
    assert!(v.verify(&token(a, &clock)).is_ok());
    assert!(v.verify(&token(b, &clock)).is_ok());
    assert_eq!(server.hits(), 2);

    // a is retired; after the TTL the refresh drops it.
    server.set_jwks(b.jwks_json());
    clock.advance(Duration::from_secs(300));
    assert!(v.verify(&token(b, &clock)).is_ok());
    assert_eq!(server.hits(), 3);
    assert_eq!(reason(&v.verify(&token(a, &clock))), "jwk-kid-mismatch");
}

#[test]
fn each_source_has_its_own_keys() {
    let a = fixtures::rsa2048();
    let b = fixtures::rsa2048_b();
    let server_a = JwksServer::start_with(a.jwks_json());
    let server_b = JwksServer::start_with(b.jwks_json());
    let clock = clock();
    let va = verifier(
        RemoteKeys::from_jwks_url(&server_a.jwks_url(), fast()).unwrap(),
        &clock,
    );
    let vb = verifier(
        RemoteKeys::from_jwks_url(&server_b.jwks_url(), fast()).unwrap(),
        &clock,
    );
    assert!(va.verify(&token(a, &clock)).is_ok());
    assert!(vb.verify(&token(b, &clock)).is_ok());
    // Instance B's token never verifies at A, though B's key sits in this process's memory.
    assert_eq!(reason(&va.verify(&token(b, &clock))), "jwk-kid-mismatch");
    assert_eq!(reason(&vb.verify(&token(a, &clock))), "jwk-kid-mismatch");
    // A token carrying A's kid but signed by B's key: the signature decides.
    let forged = token_with_kid(b, a.kid(), &clock);
    assert_eq!(reason(&va.verify(&forged)), "token-invalid-signature");
}

#[test]
fn environment_order() {
    let a = fixtures::rsa2048();
    let b = fixtures::rsa2048_b();
    let backend = JwksServer::start_with(a.jwks_json());
    backend.require_bearer(Some(SECRET.to_owned()));
    let other = JwksServer::start_with(b.jwks_json());
    let clock = clock();
    let lookup = |vars: Vec<(&'static str, String)>| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    };
    let build = |vars| {
        let v = Verifier::from_lookup_with(lookup(vars), fast()).unwrap();
        // Same source, but with the test clock.
        Verifier::new(SharedKeys(v.clone()), opts(&clock)).unwrap()
    };

    // Secret key + API URL: the Backend API, with the bearer.
    let v = build(vec![
        ("CLERK_SECRET_KEY", SECRET.to_owned()),
        ("CLERK_API_URL", backend.url()),
        (
            "CLERK_PUBLISHABLE_KEY",
            "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk".to_owned(),
        ),
    ]);
    assert!(v.verify(&token(a, &clock)).is_ok());
    assert_eq!(backend.hits(), 1);

    // CLERK_JWKS_URL wins over the secret key.
    let v = build(vec![
        ("CLERK_SECRET_KEY", SECRET.to_owned()),
        ("CLERK_API_URL", backend.url()),
        ("CLERK_JWKS_URL", other.jwks_url()),
    ]);
    assert!(v.verify(&token(b, &clock)).is_ok());
    assert_eq!((backend.hits(), other.hits()), (1, 1));

    // CLERK_JWT_KEY wins over everything, and needs no network.
    let v = build(vec![
        ("CLERK_JWT_KEY", a.public_pem()),
        ("CLERK_JWKS_URL", other.jwks_url()),
        ("CLERK_SECRET_KEY", SECRET.to_owned()),
        ("CLERK_API_URL", backend.url()),
    ]);
    assert!(v.verify(&token(a, &clock)).is_ok());
    assert_eq!((backend.hits(), other.hits()), (1, 1));

    // Malformed values name their variable; nothing set is jwk-failed-to-resolve.
    let e = Verifier::from_lookup(lookup(vec![(
        "CLERK_PUBLISHABLE_KEY",
        "pk_test_x".to_owned(),
    )]))
    .unwrap_err();
    assert!(e.to_string().contains("CLERK_PUBLISHABLE_KEY"), "{e}");
    let e = Verifier::from_lookup(lookup(vec![("CLERK_API_URL", backend.url())])).unwrap_err();
    assert_eq!(e.reason(), "jwk-failed-to-resolve");
}

/// A verifier's key source reused under other options (to swap in the test clock).
#[derive(Debug)]
struct SharedKeys(Verifier);

impl KeyFetcher for SharedKeys {
    fn cached_key(
        &self,
        kid: Option<&str>,
        now: std::time::SystemTime,
    ) -> Option<Result<std::sync::Arc<clerk_verify::Key>, clerk_verify::Error>> {
        self.0.keys().cached_key(kid, now)
    }
    fn fetch_key(
        &self,
        kid: Option<&str>,
        now: std::time::SystemTime,
    ) -> Result<std::sync::Arc<clerk_verify::Key>, clerk_verify::Error> {
        self.0.keys().fetch_key(kid, now)
    }
}
