//! An arbitrary string as a PEM public key (`CLERK_JWT_KEY`): must never panic, and an accepted
//! key must be an RSA key within the supported sizes.

#![no_main]

use clerk_verify::{Key, KeySet, keys::MAX_RSA_BITS, keys::MIN_RSA_BITS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(key) = Key::from_pem(text) {
        let bits = key.rsa_bits().expect("a PEM key is an RSA key");
        assert!((MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits), "{bits} bits");
    }
    let _ = KeySet::from_pem(text);
});
