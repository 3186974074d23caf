//! Machine authentication's two readers of untrusted bytes: the token-kind classifier (any
//! string a client sends) and the Backend API's answer parser (any body a proxy or a broken
//! API could return). Neither may panic; what they accept must be consistent.

#![no_main]

use clerk_verify::machine::{kind_of, parse_backend_response};
use clerk_verify::options::TokenKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // The classifier: opaque kinds by their prefix only; a JWT form only if it parses.
        match kind_of(text) {
            TokenKind::ApiKey => assert!(text.starts_with("ak_")),
            TokenKind::M2mToken => assert!(
                text.starts_with("mt_") || text.split('.').count() >= 3,
                "{text:?}"
            ),
            TokenKind::OauthToken => assert!(
                text.starts_with("oat_") || text.split('.').count() >= 3,
                "{text:?}"
            ),
            _ => assert!(
                !text.starts_with("ak_") && !text.starts_with("mt_") && !text.starts_with("oat_")
            ),
        }
    }
    // The answer parser, for each machine kind.
    for kind in [TokenKind::ApiKey, TokenKind::M2mToken, TokenKind::OauthToken] {
        match parse_backend_response(kind, data) {
            Ok(machine) => {
                assert_eq!(machine.kind(), kind);
                assert!(!machine.id().is_empty() && !machine.subject().is_empty());
                assert!(!machine.is_jwt());
                // Each kind keeps only its own fields.
                assert!(kind == TokenKind::ApiKey || machine.name().is_none());
                assert!(kind == TokenKind::OauthToken || machine.client_id().is_none());
                assert!(kind != TokenKind::OauthToken || machine.claims().is_none());
                assert_eq!(machine.machine_id().is_some(), kind == TokenKind::M2mToken);
                for scope in machine.scopes() {
                    assert!(machine.has_scope(scope));
                }
            }
            // Never anything but "the API could not vouch for it" or "refused".
            Err(e) => assert!(
                matches!(e.reason(), "backend-api-unavailable" | "token-invalid"),
                "{}",
                e.reason()
            ),
        }
    }
    // A session token is never judged by the Backend API.
    assert!(parse_backend_response(TokenKind::SessionToken, data).is_err());
});
