//! Shared fixtures for the fuzz targets: the checked-in 2048-bit dev key (as a `ring` key pair,
//! so targets can sign quickly without OpenSSL), its JWKS, and the fixed clock.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The fixed "now" of every target, in Unix seconds.
pub const NOW: i64 = 1_700_000_000;

/// The fixture key's `kid` (as `clerk_dev::fixtures::rsa2048()`).
pub const KID: &str = "ins_test_2048";

/// `crates/clerk-dev/fixtures/rsa2048.pem`, a PKCS #8 RSA private key (public test material).
pub const PRIVATE_PEM: &str = include_str!("../../crates/clerk-dev/fixtures/rsa2048.pem");

/// [`NOW`] as a `SystemTime`.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW as u64)
}

/// The fixture key as a `ring` key pair.
pub fn key_pair() -> &'static RsaKeyPair {
    static PAIR: OnceLock<RsaKeyPair> = OnceLock::new();
    PAIR.get_or_init(|| {
        RsaKeyPair::from_pkcs8(&pem_body(PRIVATE_PEM)).expect("the fixture is RSA PKCS #8")
    })
}

/// The fixture's public modulus and exponent, big-endian.
pub fn public_components() -> RsaPublicKeyComponents<Vec<u8>> {
    key_pair().public().into()
}

/// A JWKS holding the fixture's public key under [`KID`]; with `pin_alg`, the JWK also says
/// `"alg":"RS256"` (as Clerk's do).
pub fn jwks_json(pin_alg: bool) -> String {
    let c = public_components();
    let alg = if pin_alg { r#""alg":"RS256","# } else { "" };
    format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"{KID}","use":"sig",{alg}"n":"{}","e":"{}"}}]}}"#,
        URL_SAFE_NO_PAD.encode(&c.n),
        URL_SAFE_NO_PAD.encode(&c.e)
    )
}

/// The DER inside a PEM document.
pub fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64).expect("PEM body is base64")
}
