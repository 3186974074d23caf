//! Compact JWS encoding, the leaf the keys and the minter share: unpadded base64url and the
//! signing input.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Base64url encoding without padding (RFC 7515 `BASE64URL`).
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decoding without padding; `None` if `text` is not valid.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// The JWS signing input `b64url(header) + "." + b64url(payload)` for raw header/payload bytes.
pub fn signing_input(header: &[u8], payload: &[u8]) -> String {
    format!("{}.{}", b64url(header), b64url(payload))
}
