//! Clerk's multi-domain sync and the development instances' dev browser: the redirects a page
//! may need before its cookies are judged (in `request.ts`'s order), and the primary's
//! handshake for a navigation from another site after they were.
//!
//! - A **satellite** (an app on another domain of the same instance) has no session cookies of
//!   its own on a first visit: it syncs from the primary. In production that is a handshake
//!   with its Frontend API (`satellite-needs-syncing`), which carries the session across
//!   domains; in development, a redirect to the primary's sign-in URL with
//!   `__clerk_redirect_url`, which the **primary** answers with a redirect back carrying its dev
//!   browser token and `__clerk_synced=true` (`primary-responds-to-syncing`).
//! - A **development** instance keys its browser by a dev browser token (`__clerk_db_jwt`): a
//!   navigation without one gets it through a handshake (`dev-browser-missing`), one with a
//!   token in the query has the Frontend API set it (`dev-browser-sync`).
//! - The **primary** sends a navigation from another site that has a valid session cookie
//!   through a handshake (`primary-domain-cross-origin-sync`): the session may have changed on
//!   a satellite.
//!
//! Every one of these is a redirect, so Clerk's loop counter bounds them; past it we judge the
//! page by its cookies (Clerk signs the browser out instead): a sync that cannot happen is no
//! reason to refuse a valid session. None of them ever signs anyone in: the Frontend API
//! decides what the browser's session is, and what comes back is verified as any handshake.

use super::{Pages, REDIRECT_URL_PARAM, SYNCED_PARAM};
use crate::reason;
use crate::request::cookies::{Cookies, DEV_BROWSER_COOKIE};
use crate::request::page::{host_of_url, normalized_origin, origin_of, with_params, PageRequest};
use crate::request::{Authentication, SignedOut};

/// Longest `__clerk_redirect_url` a primary sends a browser to.
const MAX_SYNC_URL_LEN: usize = 4096;

/// What the page's cookies say, as the sync flows read them (of the cookie set Clerk's rules
/// picked).
pub(super) struct Seen<'j, 'c> {
    pub(super) jar: &'j Cookies<'c>,
    /// The session cookie, valid or not.
    pub(super) session: Option<String>,
    /// `__client_uat` says signed in.
    pub(super) active_client: bool,
    pub(super) suffixed: bool,
}

impl Pages {
    /// The redirect a page needs before its cookies are judged, if any.
    pub(super) fn before_judging(&self, page: &PageRequest, seen: &Seen) -> Option<Authentication> {
        if let Some(done) = self.satellite_sync(page, seen) {
            return Some(done);
        }
        if let Some(done) = self.answer_sync_request(page, seen) {
            return Some(done);
        }
        self.dev_browser_flows(page, seen)
    }

    /// A satellite's sync, as `request.ts` decides it: on a top-level navigation whose URL does
    /// not say the sync is done (`__clerk_synced=true`), a browser with no session cookies, or
    /// one just back from the primary's sign-in page (`__clerk_synced=false`), syncs. Without
    /// `satellite_auto_sync`, a first visit without cookies is simply signed out.
    fn satellite_sync(&self, page: &PageRequest, seen: &Seen) -> Option<Authentication> {
        if !self.satellite || !page.is_top_level_navigation() {
            return None;
        }
        let synced = page.query_param(SYNCED_PARAM);
        let (needs_sync, completed) = match synced.as_deref() {
            Some("false") => (true, false),
            Some("true") => (false, true),
            _ => (false, false),
        };
        if completed {
            return None;
        }
        let has_cookies = seen.session.is_some() || seen.active_client;
        if !self.satellite_auto_sync && !has_cookies && !needs_sync {
            return Some(Authentication::SignedOut(SignedOut::new(
                reason::SESSION_TOKEN_AND_UAT_MISSING,
                "a satellite's first visit without cookies is not synced from the primary \
                 (satellite_auto_sync is off)",
                false,
            )));
        }
        if has_cookies && !needs_sync {
            return None;
        }
        let reason = reason::SATELLITE_NEEDS_SYNCING;
        if self.production {
            return self.try_start(
                page,
                seen.jar,
                reason,
                seen.session.as_deref(),
                seen.suffixed,
            );
        }
        // Checked when the verifier was built: a development satellite has the primary's
        // absolute sign-in URL.
        let sign_in = self.sign_in_url.as_deref()?;
        if normalized_origin(sign_in) == normalized_origin(page.url()) {
            log::error!(
                target: "clerk_verify::handshake",
                "this satellite's sign_in_url is on its own origin: it cannot sync from the \
                 primary; set CLERK_SIGN_IN_URL to the primary domain's sign-in page"
            );
            return None;
        }
        let location = with_params(sign_in, [(REDIRECT_URL_PARAM, page.url())]);
        self.redirect(seen.jar, reason, location, Vec::new())
    }

    /// A development primary's answer to a satellite's sync request: back to the satellite's
    /// URL with this browser's dev browser token and `__clerk_synced=true`. Stricter than
    /// Clerk, whose SDK sends the token (the browser's Clerk client) to any URL in the query:
    /// only to an origin of `allowed_redirect_origins`, named once; any other request is
    /// ignored (logged) and the page served as it is.
    fn answer_sync_request(&self, page: &PageRequest, seen: &Seen) -> Option<Authentication> {
        if self.production || self.satellite || !page.is_document_navigation() {
            return None;
        }
        let target = page.query_param(REDIRECT_URL_PARAM)?;
        let refuse = |why: &str| {
            log::warn!(
                target: "clerk_verify::handshake",
                "a satellite sync request was ignored: {why}"
            );
            None
        };
        if page.query_count(REDIRECT_URL_PARAM) > 1 {
            return refuse("__clerk_redirect_url is given more than once");
        }
        let clean = target.len() <= MAX_SYNC_URL_LEN
            && target.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
        if !clean {
            return refuse("__clerk_redirect_url holds spaces, control characters or backslashes");
        }
        let Some(origin) = normalized_origin(&target) else {
            return refuse("__clerk_redirect_url is not an absolute http(s) URL");
        };
        if !self.allowed_redirect_origins.contains(&origin) {
            return refuse(&format!(
                "{origin} is not in allowed_redirect_origins (CLERK_ALLOWED_REDIRECT_ORIGINS)"
            ));
        }
        let mut location = super::with_param_set(&target, SYNCED_PARAM, "true");
        if let Some(db) = self.dev_browser(page, seen.jar, seen.suffixed) {
            location = super::with_param_set(&location, DEV_BROWSER_COOKIE, &db);
        }
        self.redirect(
            seen.jar,
            reason::PRIMARY_RESPONDS_TO_SYNCING,
            location,
            Vec::new(),
        )
    }

    /// A development instance's dev browser: a navigation with a token in the query has the
    /// Frontend API set it (`dev-browser-sync`), one without any gets one
    /// (`dev-browser-missing`). Other requests are judged by their cookies (Clerk signs them
    /// out with these reasons): a missing dev browser is no reason to refuse a valid session.
    fn dev_browser_flows(&self, page: &PageRequest, seen: &Seen) -> Option<Authentication> {
        if self.production || !page.is_document_navigation() {
            return None;
        }
        let cookie = self.dev_browser_cookie(seen.jar, seen.suffixed);
        let query = page
            .query_param(DEV_BROWSER_COOKIE)
            .filter(|v| !v.is_empty());
        let reason = match (query, cookie) {
            // `dev_browser` logs and keeps the cookie: nothing to sync.
            (Some(query), Some(cookie)) if query != cookie => return None,
            (Some(_), _) => reason::DEV_BROWSER_SYNC,
            (None, None) => reason::DEV_BROWSER_MISSING,
            (None, Some(_)) => return None,
        };
        self.try_start(
            page,
            seen.jar,
            reason,
            seen.session.as_deref(),
            seen.suffixed,
        )
    }

    /// The primary's handshake for a top-level navigation from another site with a valid
    /// session cookie (Clerk: a foreign `Referer`; we also take `Sec-Fetch-Site: cross-site`,
    /// which a `Referrer-Policy` cannot remove), unless the `Referer` is Clerk's own (the
    /// Frontend API, the Account Portal) or a handshake just happened (Clerk's loop counter is
    /// not zero: the way back from the Frontend API is itself cross-site).
    pub(super) fn cross_origin_sync(
        &self,
        page: &PageRequest,
        jar: &Cookies<'_>,
        session: &str,
        suffixed: bool,
    ) -> Option<Authentication> {
        if self.satellite || !page.is_top_level_navigation() || jar.redirect_count() != 0 {
            return None;
        }
        if !self.came_from_elsewhere(page) {
            return None;
        }
        let reason = reason::PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC;
        self.try_start(page, jar, reason, Some(session), suffixed)
    }

    /// Whether a navigation came from another origin. A browser's `Referer` and
    /// `Sec-Fetch-Site` cannot be set by a page; two values of one that disagree count as
    /// foreign (the answer to "foreign" is only a handshake, which decides nothing by itself).
    fn came_from_elsewhere(&self, page: &PageRequest) -> bool {
        if page.origin_headers_disagree {
            return true;
        }
        let referer = page.referer.as_deref().filter(|r| !r.is_empty());
        if let Some(host) = referer.and_then(host_of_url) {
            if self.clerk_hosts.contains(&host)
                || (!self.production && is_dev_account_portal(&host))
            {
                return false;
            }
        }
        let cross_site = page
            .sec_fetch_site
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("cross-site"));
        let foreign_referer = referer
            .and_then(normalized_origin)
            .is_some_and(|r| Some(r) != normalized_origin(origin_of(page.url())));
        cross_site || foreign_referer
    }
}

/// A development Account Portal's host (Clerk's `isCurrentDevAccountPortalOrigin` and
/// `isLegacyDevAccountPortalOrigin`): anyone can have one, so it is trusted as a `Referer` on
/// development instances only, as Clerk does.
fn is_dev_account_portal(host: &str) -> bool {
    const CURRENT: [&str; 3] = [
        ".accounts.dev",
        ".accountsstage.dev",
        ".accounts.lclclerk.com",
    ];
    const LEGACY: [&str; 3] = [".lcl.dev", ".lclstage.dev", ".lclclerk.com"];
    let current = CURRENT
        .iter()
        .any(|s| host.ends_with(s) && !host.ends_with(&format!(".clerk{s}")));
    let legacy = host.starts_with("accounts.") && LEGACY.iter().any(|s| host.ends_with(s));
    current || legacy
}
