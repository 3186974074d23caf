//! Checked-in test keys, so tests do not pay RSA key generation time.
//!
//! The PEM files live in `crates/clerk-dev/fixtures/` (PKCS#8, generated once with
//! `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:N`). They are public test
//! material: never trust them for anything.

use std::sync::OnceLock;

use crate::keys::DevKey;

/// 48 random bytes, a secret for HS256 tests (algorithm-confusion tests, ...).
pub const HS256_SECRET: &[u8] = &[
    0x75, 0x0c, 0x95, 0x0a, 0x28, 0xeb, 0x14, 0x70, 0xfb, 0xc5, 0xb3, 0x0b, 0x51, 0x31, 0x6d, 0x7d,
    0xa8, 0x64, 0x56, 0x1e, 0xc0, 0x8f, 0x84, 0x6c, 0x81, 0x48, 0x90, 0x66, 0x0f, 0xbf, 0x35, 0x91,
    0xe8, 0x27, 0x98, 0x4c, 0xbc, 0x51, 0x7c, 0x53, 0x51, 0x98, 0xb4, 0x4f, 0x73, 0x53, 0xc5, 0xbd,
];

macro_rules! fixture_key {
    ($(#[$doc:meta])* $name:ident, $file:literal, $kid:literal) => {
        $(#[$doc])*
        pub fn $name() -> &'static DevKey {
            static KEY: OnceLock<DevKey> = OnceLock::new();
            KEY.get_or_init(|| {
                DevKey::from_private_pem(include_str!(concat!("../fixtures/", $file)), $kid)
                    .expect(concat!("invalid fixture key ", $file))
            })
        }
    };
}

fixture_key!(
    /// A 2048-bit RSA key, kid `"ins_test_2048"`: the default signing key.
    rsa2048, "rsa2048.pem", "ins_test_2048"
);
fixture_key!(
    /// A second, different 2048-bit RSA key, kid `"ins_test_2048_b"`
    /// (key rotation and wrong-key tests).
    rsa2048_b, "rsa2048_b.pem", "ins_test_2048_b"
);
fixture_key!(
    /// A 3072-bit RSA key, kid `"ins_test_3072"`.
    rsa3072, "rsa3072.pem", "ins_test_3072"
);
fixture_key!(
    /// A 4096-bit RSA key, kid `"ins_test_4096"`.
    rsa4096, "rsa4096.pem", "ins_test_4096"
);
fixture_key!(
    /// A weak 1024-bit RSA key, kid `"ins_test_1024"`: the verifier must refuse it.
    rsa1024, "rsa1024.pem", "ins_test_1024"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_load_with_expected_sizes_and_kids() {
        let all = [
            (rsa1024(), 1024, "ins_test_1024"),
            (rsa2048(), 2048, "ins_test_2048"),
            (rsa2048_b(), 2048, "ins_test_2048_b"),
            (rsa3072(), 3072, "ins_test_3072"),
            (rsa4096(), 4096, "ins_test_4096"),
        ];
        for (key, bits, kid) in all {
            assert_eq!(key.bits(), bits);
            assert_eq!(key.kid(), kid);
        }
        assert_ne!(rsa2048().public_pem(), rsa2048_b().public_pem());
        assert!(HS256_SECRET.len() >= 32);
    }
}
