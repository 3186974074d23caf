//! Arbitrary bytes as a compact JWS: `Token::parse` (and, when it parses, the rest of the
//! verifier's pipeline against a fixed key) must never panic.

#![no_main]

use clerk_verify::{Clock, KeySet, token::Token, Verifier, VerifyOptions, token::DEFAULT_MAX_TOKEN_LEN};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let keys = KeySet::from_jwks(&clerk_verify_fuzz::jwks_json(true)).expect("fixture JWKS");
        let clock = Clock::fixed(clerk_verify_fuzz::now());
        Verifier::new(keys, VerifyOptions::default().clock(clock)).expect("valid options")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = Token::parse(text, DEFAULT_MAX_TOKEN_LEN) {
        let _ = (token.alg(), token.kid(), token.typ(), token.category());
        let _ = token.is_session_category();
        assert!(text.starts_with(token.signing_input()));
        // Reaches the alg, kid, signature and (for the seed tokens, which the fixture key
        // signed) claim checks.
        if let Ok(claims) = verifier().verify(text) {
            assert!(!claims.sub.is_empty());
        }
    }
});
