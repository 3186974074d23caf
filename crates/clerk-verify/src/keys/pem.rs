//! PEM / DER public keys (`CLERK_JWT_KEY`) to [`Key`].
//!
//! The text is normalised first, because people paste the Dashboard's PEM into env files with
//! literal `\n` sequences, on one line, or in quotes. Decoding and DER parsing are then left to
//! RustCrypto's `pem-rfc7468`, `spki` and `pkcs1` crates.

use crate::error::Error;
use crate::keys::key::Key;
use pkcs1::der::{pem, Decode};

/// OID of `rsaEncryption` (PKCS #1), the only SPKI algorithm we accept.
const RSA_ENCRYPTION: spki::ObjectIdentifier =
    spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

impl Key {
    /// Parses an RSA public key in PEM: SPKI (`BEGIN PUBLIC KEY`, what Clerk's Dashboard shows)
    /// or PKCS #1 (`BEGIN RSA PUBLIC KEY`).
    ///
    /// Also accepts the PEM with literal `\n` sequences instead of newlines, all on one line, or
    /// wrapped in quotes, as it often arrives from an env file.
    ///
    /// ```
    /// # fn main() -> Result<(), clerk_verify::Error> {
    /// # let pem = clerk_dev::fixtures::rsa2048().public_pem();
    /// let key = clerk_verify::Key::from_pem(&pem)?;
    /// assert_eq!(key.rsa_bits(), Some(2048));
    /// // As pasted into a .env file:
    /// let one_line = pem.replace('\n', "\\n");
    /// assert!(clerk_verify::Key::from_pem(&one_line).is_ok());
    /// # Ok(()) }
    /// ```
    pub fn from_pem(text: &str) -> Result<Key, Error> {
        let canonical = normalise(text)?;
        let (label, der) = pem::decode_vec(canonical.as_bytes())
            .map_err(|_| Error::local_key("the PEM body is not valid base64"))?;
        match label {
            "PUBLIC KEY" => Key::from_spki_der(&der),
            "RSA PUBLIC KEY" => Key::from_pkcs1_der(&der),
            _ => Err(Error::local_key(
                "expected a PEM public key (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)",
            )),
        }
    }

    /// Parses a DER `SubjectPublicKeyInfo` holding an RSA key.
    pub fn from_spki_der(der: &[u8]) -> Result<Key, Error> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| Error::local_key("the public key is not valid SPKI DER"))?;
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(Error::local_key(
                "the public key is not an RSA key; Clerk signs with RSA",
            ));
        }
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::local_key("the public key bit string is malformed"))?;
        Key::from_pkcs1_der(bits)
    }

    /// Parses a DER PKCS #1 `RSAPublicKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Key, Error> {
        let rsa = pkcs1::RsaPublicKey::from_der(der)
            .map_err(|_| Error::local_key("the RSA public key is not valid PKCS #1 DER"))?;
        Key::from_rsa_components(rsa.modulus.as_bytes(), rsa.public_exponent.as_bytes())
    }
}

/// Rebuilds a canonical PEM (newlines, 64-column body) from the ways it gets mangled in transit.
fn normalise(text: &str) -> Result<String, Error> {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'');
    let text = text.replace("\\r", "").replace("\\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::JwkLocalMissing);
    }
    if text.contains("PRIVATE KEY") {
        return Err(Error::local_key(
            "this is a private key; use the public key (Clerk Dashboard > API keys > JWT public key)",
        ));
    }
    if text.contains("BEGIN CERTIFICATE") {
        return Err(Error::local_key(
            "this is a certificate; use the PEM public key from the Clerk Dashboard",
        ));
    }
    const DASHES: &str = "-----";
    let begin = text
        .find("-----BEGIN ")
        .ok_or_else(|| Error::local_key("no -----BEGIN line found; expected a PEM public key"))?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin
        .find(DASHES)
        .ok_or_else(|| Error::local_key("the PEM BEGIN line is not terminated"))?;
    let label = &after_begin[..label_end];
    let body_and_end = &after_begin[label_end + DASHES.len()..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_end
        .find(&end_marker)
        .ok_or_else(|| Error::local_key("the PEM END line is missing or does not match BEGIN"))?;
    if body_and_end[end + end_marker.len()..].contains("-----BEGIN") {
        return Err(Error::local_key(
            "the PEM text holds more than one key; give exactly one public key",
        ));
    }
    let body: String = body_and_end[..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if body.is_empty() || label.len() > 40 {
        return Err(Error::local_key("the PEM has no key body"));
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        // The body is ASCII after filtering or pem_rfc7468 will reject it; chunking bytes of a
        // non-ASCII body could split a character, so check first.
        out.push_str(
            std::str::from_utf8(chunk)
                .map_err(|_| Error::local_key("the PEM body is not valid base64"))?,
        );
        out.push('\n');
    }
    out.push_str(&end_marker);
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_missing() {
        assert_eq!(Key::from_pem("").unwrap_err().reason(), "jwk-local-missing");
        assert_eq!(
            Key::from_pem("  \"\" ").unwrap_err().reason(),
            "jwk-local-missing"
        );
    }

    #[test]
    fn one_key_only() {
        let pem = clerk_dev::fixtures::rsa2048().public_pem();
        let two = format!("{pem}\n{}", clerk_dev::fixtures::rsa2048_b().public_pem());
        let e = Key::from_pem(&two).unwrap_err();
        assert_eq!(e.reason(), "jwk-local-invalid");
        assert!(e.to_string().contains("more than one key"), "{e}");
        assert!(Key::from_pem(&pem).is_ok());
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        for bad in [
            "hello",
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----abc-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\n\u{e9}\u{e9}\u{e9}\n-----END PUBLIC KEY-----",
            "-----BEGIN X-----\nAAAA\n-----END X-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ] {
            assert_eq!(
                Key::from_pem(bad).unwrap_err().reason(),
                "jwk-local-invalid",
                "{bad:?}"
            );
        }
    }
}
