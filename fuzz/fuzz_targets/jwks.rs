//! Arbitrary bytes as a JWKS document (and as a single JWK): parsing must never panic, and
//! whatever it accepts must be usable.

#![no_main]

use clerk_verify::{Key, KeySet, keys::MAX_JWKS_KEYS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(keys) = KeySet::from_jwks(text) {
        assert!(!keys.is_empty());
        assert!(keys.len() <= MAX_JWKS_KEYS);
        for kid in keys.kids() {
            assert!(keys.get(Some(kid)).is_ok());
        }
    }
    let _ = Key::from_jwk(text);
});
