//! Writes the checked-in seed corpora, `fuzz/corpus/<target>/`, with the dev issuer.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds
//! ```
//!
//! Deterministic (fixed keys, fixed time), so re-running it changes nothing. Seeds for the
//! structure-aware targets (`verify_structured`, `webhook`) are raw bytes for `arbitrary`: an
//! all-zero input decodes to the ordinary case (a valid session token; a delivery with no
//! headers), and a few fixed pseudo-random inputs add variety.

use clerk_dev::{b64url, fixtures, jwks_json, TokenBuilder};
use clerk_verify_fuzz::NOW;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let k2048 = fixtures::rsa2048();
    let k3072 = fixtures::rsa3072();
    let k1024 = fixtures::rsa1024();

    let session = TokenBuilder::session("user_2abc", NOW);
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir: PathBuf = root.join(target);
        fs::create_dir_all(&dir).expect("create corpus dir");
        fs::write(dir.join(name), bytes).expect("write seed");
    };

    // parse_token: tokens as Clerk and attackers send them.
    write(
        "parse_token",
        "session-rs256",
        session.sign(k2048).as_bytes(),
    );
    let org_v2 = session
        .clone()
        .claim("o", serde_json::json!({"id":"org_1","rol":"admin","slg":"acme","per":"read,manage","fpm":"3"}))
        .claim("fea", "o:invoices,u:profile")
        .header("cat", "cl_B7d4PD111AAA");
    write(
        "parse_token",
        "session-org-v2",
        org_v2.sign(k2048).as_bytes(),
    );
    write("parse_token", "alg-none", session.unsigned().as_bytes());
    write(
        "parse_token",
        "hs256",
        session.sign_hs256(fixtures::HS256_SECRET).as_bytes(),
    );
    write(
        "parse_token",
        "rs384-other-kid",
        session
            .clone()
            .header("alg", "RS384")
            .header("kid", "ins_unknown")
            .sign(k3072)
            .as_bytes(),
    );
    let crit = format!(
        "{}.{}.{}",
        b64url(br#"{"alg":"RS256","crit":["exp"],"kid":"ins_test_2048"}"#),
        b64url(b"{}"),
        b64url(&[0u8; 8])
    );
    write("parse_token", "crit-header", crit.as_bytes());

    // jwks: documents as Clerk serves them, and ones to refuse.
    write("jwks", "rsa2048.json", k2048.jwks_json().as_bytes());
    write(
        "jwks",
        "two-keys.json",
        jwks_json(&[k2048, k3072]).as_bytes(),
    );
    write("jwks", "weak-1024.json", k1024.jwks_json().as_bytes());
    write(
        "jwks",
        "single-jwk.json",
        k2048.public_jwk().to_string().as_bytes(),
    );
    write(
        "jwks",
        "mixed.json",
        br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"ec","x":"AA","y":"AA"},{"kty":"oct","k":"AAAA"}]}"#,
    );

    // pem: what people paste into CLERK_JWT_KEY.
    write("pem", "spki-2048.pem", k2048.public_pem().as_bytes());
    write("pem", "pkcs1-3072.pem", k3072.public_pkcs1_pem().as_bytes());
    write(
        "pem",
        "escaped-newlines.pem",
        k2048.public_pem().trim().replace('\n', "\\n").as_bytes(),
    );
    write("pem", "weak-1024.pem", k1024.public_pem().as_bytes());

    // publishable_key: development, production, padded, and a secret key by mistake.
    let pk = |prefix: &str, host: &str| {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{host}$"));
        format!("{prefix}{b64}")
    };
    write(
        "publishable_key",
        "test",
        pk("pk_test_", "fond-koala-12.clerk.accounts.dev").as_bytes(),
    );
    write(
        "publishable_key",
        "live",
        pk("pk_live_", "clerk.example.com").as_bytes(),
    );
    write(
        "publishable_key",
        "with-port",
        pk("pk_test_", "localhost.test:4000").as_bytes(),
    );
    write(
        "publishable_key",
        "secret-key",
        b"sk_test_abcdefghijklmnopqrstuvwxyz0123456789",
    );

    // machine: machine tokens as clients send them, and the Backend API's answers.
    let machine_seeds: [(&str, Vec<u8>); 9] = [
        ("api-key", b"ak_2xYw4CmzVbq3nT8pLsR6dQ".to_vec()),
        ("m2m-opaque", b"mt_2xYw4CmzVbq3nT8pLsR6dQ".to_vec()),
        ("oauth-opaque", b"oat_2xYw4CmzVbq3nT8pLsR6dQ".to_vec()),
        (
            "m2m-jwt",
            TokenBuilder::m2m("mch_2vYV", NOW)
                .claim("scopes", "read write")
                .sign(k2048)
                .into_bytes(),
        ),
        (
            "oauth-jwt",
            TokenBuilder::oauth("user_2abc", NOW).sign(k2048).into_bytes(),
        ),
        (
            "api-key-answer",
            br#"{"object":"api_key","id":"ak_id","type":"api_key","name":"ci","subject":"org_1","scopes":["read"],"claims":{"team":"core"},"revoked":false,"revocation_reason":null,"expired":false,"expiration":1800000000000}"#.to_vec(),
        ),
        (
            "m2m-answer",
            br#"{"object":"machine_to_machine_token","id":"mt_id","subject":"mch_1","scopes":["mch_2"],"claims":null,"revoked":false,"expired":false,"expiration":null}"#.to_vec(),
        ),
        (
            "oauth-answer",
            br#"{"object":"oauth_access_token","id":"oat_id","client_id":"app_1","type":"oauth_token","subject":"user_1","scopes":["email"],"revoked":true}"#.to_vec(),
        ),
        (
            "error-answer",
            br#"{"errors":[{"code":"resource_not_found","message":"not found"}]}"#.to_vec(),
        ),
    ];
    for (name, bytes) in &machine_seeds {
        write("machine", name, bytes);
    }

    // Structure-aware targets: arbitrary's raw bytes.
    for target in ["verify_structured", "webhook"] {
        write(target, "zeros", &[0u8; 512]);
        for seed in 1..=3u64 {
            write(target, &format!("bytes-{seed}"), &pseudo_random(seed, 384));
        }
    }
}

/// xorshift64*: fixed pseudo-random bytes, so the seeds never change.
fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
