//! An arbitrary string as a Clerk publishable key: must never panic, and an accepted key must
//! yield a host that is safe to put in a URL.

#![no_main]

use clerk_verify::{options::PublishableKey, request::cookie_suffix};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = cookie_suffix(text);
    if let Ok(pk) = PublishableKey::parse(text) {
        let host = pk.frontend_api_host();
        assert!(host.contains('.'), "{host:?}");
        assert!(
            !host
                .bytes()
                .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'$' | b'\\') || b <= b' '),
            "{host:?}"
        );
        assert_eq!(pk.frontend_api_url(), format!("https://{host}"));
        assert!(pk.jwks_url().starts_with(&pk.frontend_api_url()));
        assert!(pk.as_str().starts_with("pk_test_") || pk.as_str().starts_with("pk_live_"));
        assert_eq!(pk.is_production(), pk.as_str().starts_with("pk_live_"));
        assert_eq!(cookie_suffix(pk.as_str()).len(), 8);
        assert_eq!(
            text.trim().parse::<PublishableKey>().ok().as_ref(),
            Some(&pk)
        );
    }
});
