//! The macros that generate the types every adapter must define in its own crate (Rust's
//! orphan rule), with the description every adapter shares.
//!
//! The shared descriptions link only to what every adapter re-exports at its root (`Auth`,
//! `Refusal`, `Principal`, ...): rustdoc resolves a macro's doc links in the adapter, and never
//! warns about one it cannot resolve there.

/// Defines an adapter's refusal type: a [`Refusal`](crate::Refusal) in the framework's clothes.
/// Generates the struct with `signed_out`, `forbidden`, `reason`, `message` and `refusal`,
/// `From<Refusal>`, `From<Forbidden>` (so `auth.require_role(..)?` works in a handler), `Display`
/// and `Error`; the adapter adds its `status()` and the framework's response trait (rendered with
/// [`Refusal::response_headers`] and [`Refusal::json_body`]).
///
/// [`Refusal::response_headers`]: crate::Refusal::response_headers
/// [`Refusal::json_body`]: crate::Refusal::json_body
#[macro_export]
macro_rules! adapter_refusal {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::adapter_refusal! {
            @docs [
                "Why a request was refused: a [`Refusal`](clerk_verify::Refusal) of `clerk_verify`, answered"
                "with the status, JSON body and headers every Clerk adapter gives (the table is on"
                "[`Refusal`](clerk_verify::Refusal)). A page's redirect (307) carries its `Location`,"
                "`Cache-Control: no-store` and every `Set-Cookie` of Clerk's handshake; a `verifier-missing`"
                "500 says in debug builds how to add the verifier. `forbidden` writes guards of your own, and a"
                "`Forbidden` (what `Auth::require_role` and its kin return) converts into a 403, so"
                "`auth.require_role(\"org:admin\")?` works in a handler that returns this type."
            ]
            $(#[$meta])* $vis struct $name;
        }
    };
    (@docs [$($shared:literal)*] $(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[doc = $shared])*
        #[doc = ""]
        $(#[$meta])*
        #[derive(Clone)]
        $vis struct $name {
            refusal: $crate::request::Refusal,
        }

        // Frameworks log a refused extractor's error with `{:?}`: status and reason only.
        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("status", &self.refusal.status())
                    .field("reason", &self.refusal.reason())
                    .finish()
            }
        }

        impl $name {
            /// The refusal for a signed-out request: 401, or 503 when the keys could not be
            /// had, or 500 when the verifier is misconfigured.
            pub fn signed_out(signed_out: &$crate::request::SignedOut) -> $name {
                $crate::request::Refusal::from_signed_out(signed_out).into()
            }

            /// A 403 for a signed-in user who lacks something, with your own reason code: for
            /// guards of your own (or return the `Forbidden` of `Auth::require_role` with `?`).
            pub fn forbidden(
                reason: &'static str,
                message: impl ::std::convert::Into<::std::string::String>,
            ) -> $name {
                $crate::request::Forbidden::new(reason, message).into()
            }

            /// The stable reason code: one of `clerk_verify::reason` (e.g. `token-expired`,
            /// `missing-role`, `verifier-missing`), or your own from `forbidden`.
            pub fn reason(&self) -> &'static str {
                self.refusal.reason()
            }

            /// What went wrong, as the client sees it (generic for 500 and 503).
            pub fn message(&self) -> &str {
                self.refusal.message()
            }

            /// The core's refusal this type renders.
            pub fn refusal(&self) -> &$crate::request::Refusal {
                &self.refusal
            }
        }

        impl ::std::convert::From<$crate::request::Refusal> for $name {
            fn from(refusal: $crate::request::Refusal) -> $name {
                $name { refusal }
            }
        }

        impl ::std::convert::From<$crate::request::Forbidden> for $name {
            fn from(forbidden: $crate::request::Forbidden) -> $name {
                $crate::request::Refusal::from_forbidden(&forbidden).into()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.refusal, f)
            }
        }

        impl ::std::error::Error for $name {}
    };
}

/// Defines an adapter's signed-in user type: `pub struct $name(pub Auth)`, with `into_inner`,
/// `Deref<Target = Auth>` and `From<$name> for Auth`.
#[macro_export]
macro_rules! adapter_auth {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::adapter_auth! {
            @docs [
                "The signed-in user. Any other request is refused: 401 without a valid session token (the"
                "`Authorization` header, else the `__session` cookie with Clerk's `__client_uat` rules), 503 when"
                "the keys cannot be had, 500 when the verifier is misconfigured or missing. Dereferences to"
                "[`Auth`](clerk_verify::Auth), so `auth.require_role(\"org:admin\")?` works in a handler that"
                "returns this crate's refusal type."
            ]
            $(#[$meta])* $vis struct $name;
        }
    };
    (@docs [$($shared:literal)*] $(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::__adapter_newtype! {
            $(#[doc = $shared])*
            #[doc = ""]
            $(#[$meta])*
            $vis struct $name($crate::request::Auth): "Auth";
        }

        impl ::std::convert::From<$name> for $crate::request::Auth {
            fn from(auth: $name) -> $crate::request::Auth {
                auth.0
            }
        }
    };
}

/// Defines an adapter's requirement type: `$name<R: Requirement>`, a signed-in user who meets `R`
/// (built with `$name::new` from [`required`](crate::adapter::required)'s answer), with
/// `into_inner`, `Deref<Target = Auth>` and a `Debug` naming the requirement; and the aliases
/// `RequireRole`, `RequirePermission`, `RequireFeature`, `RequirePlan` and `RequireReverification`.
#[macro_export]
macro_rules! adapter_require {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::adapter_require! {
            @docs [
                "A signed-in user who meets the [`Requirement`](clerk_verify::request::Requirement) `R`: refused"
                "as a signed-out request is (401, 503, 500), then 403 with `R`'s reason. Dereferences to"
                "[`Auth`](clerk_verify::Auth). `RequireRole`, `RequirePermission`, `RequireFeature`, `RequirePlan`"
                "and `RequireReverification` (403 `reverification-error` with Clerk's reverification hint) name"
                "the usual requirements, each declared as a type with its constant"
                "([`Role`](clerk_verify::request::Role), [`Permission`](clerk_verify::request::Permission),"
                "[`Feature`](clerk_verify::request::Feature), [`Plan`](clerk_verify::request::Plan),"
                "[`ReverificationLevel`](clerk_verify::request::ReverificationLevel)); a type of your own"
                "implementing `Requirement` names any other."
            ]
            $(#[$meta])* $vis struct $name;
        }
    };
    (@docs [$($shared:literal)*] $(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[doc = $shared])*
        #[doc = ""]
        $(#[$meta])*
        $vis struct $name<R: $crate::request::Requirement> {
            auth: $crate::request::Auth,
            requirement: ::std::marker::PhantomData<fn() -> R>,
        }

        /// Require the organization role `R::ROLE` (403 `missing-role`).
        $vis type RequireRole<R> = $name<$crate::request::HasRole<R>>;
        /// Require the organization permission `P::PERMISSION` (403 `missing-permission`).
        $vis type RequirePermission<P> = $name<$crate::request::HasPermission<P>>;
        /// Require the feature `F::FEATURE` (403 `missing-feature`).
        $vis type RequireFeature<F> = $name<$crate::request::HasFeature<F>>;
        /// Require the plan `P::PLAN` (403 `missing-plan`).
        $vis type RequirePlan<P> = $name<$crate::request::HasPlan<P>>;
        /// Require a verification as recent as `R::REVERIFICATION` (403 `reverification-error`,
        /// with Clerk's reverification hint in the body).
        $vis type RequireReverification<R> = $name<$crate::request::Reverified<R>>;

        impl<R: $crate::request::Requirement> $name<R> {
            /// The user, who met `R` ([`clerk_verify::adapter::required`]).
            #[allow(dead_code)]
            pub(crate) fn new(auth: $crate::request::Auth) -> $name<R> {
                $name {
                    auth,
                    requirement: ::std::marker::PhantomData,
                }
            }

            /// The `Auth` inside.
            pub fn into_inner(self) -> $crate::request::Auth {
                self.auth
            }
        }

        impl<R: $crate::request::Requirement> ::std::ops::Deref for $name<R> {
            type Target = $crate::request::Auth;

            fn deref(&self) -> &$crate::request::Auth {
                &self.auth
            }
        }

        impl<R: $crate::request::Requirement> ::std::fmt::Debug for $name<R> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("requirement", &::std::any::type_name::<R>())
                    .field("auth", &self.auth)
                    .finish()
            }
        }
    };
}

/// Defines an adapter's "maybe signed in" type: `pub struct $name(pub Option<Auth>)`, with
/// `into_inner` and `Deref<Target = Option<Auth>>` (from [`optional`](crate::adapter::optional) or
/// [`page`](crate::adapter::page)).
#[macro_export]
macro_rules! adapter_optional {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::adapter_optional! {
            @docs [
                "Optional authentication: `Some(user)` when signed in, `None` when the request has no valid"
                "session (no token, a bad or expired token). A key source that is down (503) or a misconfigured"
                "verifier (500) still refuses the request, so an outage never silently turns signed-in users into"
                "anonymous ones. Dereferences to `Option<Auth>`."
            ]
            $(#[$meta])* $vis struct $name;
        }
    };
    (@docs [$($shared:literal)*] $(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::__adapter_newtype! {
            $(#[doc = $shared])*
            #[doc = ""]
            $(#[$meta])*
            $vis struct $name(::std::option::Option<$crate::request::Auth>): "Option<Auth>";
        }
    };
}

/// Defines an adapter's two page types: a page for everyone (as [`adapter_optional!`], from
/// [`page`](crate::adapter::page)) and a page that requires sign-in (as [`adapter_auth!`], from
/// [`page_requiring_sign_in`](crate::adapter::page_requiring_sign_in)).
#[macro_export]
macro_rules! adapter_pages {
    (
        $(#[$page_meta:meta])* $page_vis:vis struct $page:ident;
        $(#[$require_meta:meta])* $require_vis:vis struct $require:ident;
    ) => {
        $crate::adapter_optional! {
            @docs [
                "A server-rendered page that serves everyone: `Some(user)` when signed in, `None` for"
                "a signed-out visitor. A browser whose session cookie needs refreshing is first sent"
                "(307) through Clerk's handshake"
                "([`Verifier::authenticate_page`](clerk_verify::Verifier::authenticate_page)) and"
                "comes back with fresh cookies; a key source that is down is 503, never the"
                "signed-out page. The handshake needs"
                "[`VerifyOptions::handshake`](clerk_verify::VerifyOptions::handshake) and the"
                "instance's [`publishable_key`](clerk_verify::VerifyOptions::publishable_key), which"
                "[`Verifier::from_env`](clerk_verify::Verifier::from_env) sets from"
                "`CLERK_PUBLISHABLE_KEY`; without them a page is only ever signed in or signed out."
                "API routes take the API types, which never redirect. Dereferences to `Option<Auth>`."
            ]
            $(#[$page_meta])* $page_vis struct $page;
        }
        $crate::adapter_auth! {
            @docs [
                "A server-rendered page that requires sign-in: the signed-in user, else a 307 to the"
                "sign-in page (`CLERK_SIGN_IN_URL`, with `redirect_url` back to this page), after"
                "Clerk's handshake when the cookies need refreshing. Without a configured sign-in URL"
                "a signed-out visitor gets 401. Dereferences to [`Auth`](clerk_verify::Auth)."
            ]
            $(#[$require_meta])* $require_vis struct $require;
        }
    };
}

/// Defines an adapter's machine type: `$name<K: Accepts = AnyMachine>`, a verified machine token of
/// a kind `K` accepts (built with `$name::new` from [`machine`](crate::adapter::machine)'s answer),
/// with `$name::<K>::ACCEPTS` (what to pass to
/// [`Verifier::authenticate_headers_accepting`](crate::Verifier::authenticate_headers_accepting)),
/// `into_inner`, `Deref<Target = MachineAuth>` and `From<$name<K>> for MachineAuth`.
#[macro_export]
macro_rules! adapter_machine {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::adapter_machine! {
            @docs [
                "A verified machine token of a kind `K` accepts, from the `Authorization` header only: API keys,"
                "M2M and OAuth access tokens, opaque or JWT (all three kinds by default;"
                "[`ApiKeys`](clerk_verify::options::ApiKeys), [`M2mTokens`](clerk_verify::options::M2mTokens),"
                "[`OauthTokens`](clerk_verify::options::OauthTokens) name one). Dereferences to"
                "[`MachineAuth`](clerk_verify::MachineAuth). Refused as the session types are"
                "(`clerk_verify::adapter::machine`): 401 `machine-token-missing`, `token-type-mismatch` (a"
                "session token too), `token-invalid`, ...; 503 `backend-api-unavailable` when Clerk's Backend API"
                "cannot answer in time; 500 without a valid secret key (`CLERK_SECRET_KEY`). An opaque token's"
                "Backend API call is awaited without holding an executor thread, once per request and set of"
                "kinds."
            ]
            $(#[$meta])* $vis struct $name;
        }
    };
    (@docs [$($shared:literal)*] $(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[doc = $shared])*
        #[doc = ""]
        $(#[$meta])*
        $vis struct $name<K: $crate::options::Accepts = $crate::options::AnyMachine> {
            machine: $crate::machine::MachineAuth,
            kinds: ::std::marker::PhantomData<fn() -> K>,
        }

        impl<K: $crate::options::Accepts> $name<K> {
            /// The kinds this type accepts: what to authenticate the request with.
            pub const ACCEPTS: $crate::options::AcceptsToken = K::ACCEPTS;

            /// The machine ([`clerk_verify::adapter::machine`]'s answer).
            #[allow(dead_code)]
            pub(crate) fn new(machine: $crate::machine::MachineAuth) -> $name<K> {
                $name {
                    machine,
                    kinds: ::std::marker::PhantomData,
                }
            }

            /// The `MachineAuth` inside.
            pub fn into_inner(self) -> $crate::machine::MachineAuth {
                self.machine
            }
        }

        impl<K: $crate::options::Accepts> ::std::ops::Deref for $name<K> {
            type Target = $crate::machine::MachineAuth;

            fn deref(&self) -> &$crate::machine::MachineAuth {
                &self.machine
            }
        }

        impl<K: $crate::options::Accepts> ::std::clone::Clone for $name<K> {
            fn clone(&self) -> $name<K> {
                $name {
                    machine: self.machine.clone(),
                    kinds: ::std::marker::PhantomData,
                }
            }
        }

        impl<K: $crate::options::Accepts> ::std::fmt::Debug for $name<K> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("accepts", &K::ACCEPTS)
                    .field("machine", &self.machine)
                    .finish()
            }
        }

        impl<K: $crate::options::Accepts> ::std::convert::From<$name<K>>
            for $crate::machine::MachineAuth
        {
            fn from(machine: $name<K>) -> $crate::machine::MachineAuth {
                machine.machine
            }
        }
    };
}

/// Defines an adapter's machine-requirement type: `$name<R: MachineRequirement, K: Accepts =
/// AnyMachine>`, a machine token of a kind `K` accepts that meets `R` (built with `$name::new` from
/// [`machine_required`](crate::adapter::machine_required)'s answer), with `ACCEPTS`, `into_inner`,
/// `Deref<Target = MachineAuth>` and a `Debug` naming the requirement; and the alias
/// `RequireScope<S, K = AnyMachine>` (403 `missing-scope`).
#[macro_export]
macro_rules! adapter_machine_require {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::adapter_machine_require! {
            @docs [
                "A machine token of a kind `K` accepts (all three by default) that meets the"
                "[`MachineRequirement`](clerk_verify::request::MachineRequirement) `R`: refused as a machine"
                "without it is, then 403 with `R`'s reason. `RequireScope<S>` names the usual one, a"
                "[`Scope`](clerk_verify::request::Scope) granted to the token (403 `missing-scope`);"
                "`RequireScope<S, M2mTokens>` takes M2M tokens only. Dereferences to"
                "[`MachineAuth`](clerk_verify::MachineAuth)."
            ]
            $(#[$meta])* $vis struct $name;
        }
    };
    (@docs [$($shared:literal)*] $(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[doc = $shared])*
        #[doc = ""]
        $(#[$meta])*
        $vis struct $name<
            R: $crate::request::MachineRequirement,
            K: $crate::options::Accepts = $crate::options::AnyMachine,
        > {
            machine: $crate::machine::MachineAuth,
            requirement: ::std::marker::PhantomData<fn() -> (R, K)>,
        }

        /// Require the machine-token scope `S::SCOPE` (403 `missing-scope`).
        $vis type RequireScope<S, K = $crate::options::AnyMachine> =
            $name<$crate::request::HasScope<S>, K>;

        impl<R: $crate::request::MachineRequirement, K: $crate::options::Accepts> $name<R, K> {
            /// The kinds this type accepts: what to authenticate the request with.
            pub const ACCEPTS: $crate::options::AcceptsToken = K::ACCEPTS;

            /// The machine, which met `R` ([`clerk_verify::adapter::machine_required`]).
            #[allow(dead_code)]
            pub(crate) fn new(machine: $crate::machine::MachineAuth) -> $name<R, K> {
                $name {
                    machine,
                    requirement: ::std::marker::PhantomData,
                }
            }

            /// The `MachineAuth` inside.
            pub fn into_inner(self) -> $crate::machine::MachineAuth {
                self.machine
            }
        }

        impl<R: $crate::request::MachineRequirement, K: $crate::options::Accepts>
            ::std::ops::Deref for $name<R, K>
        {
            type Target = $crate::machine::MachineAuth;

            fn deref(&self) -> &$crate::machine::MachineAuth {
                &self.machine
            }
        }

        impl<R: $crate::request::MachineRequirement, K: $crate::options::Accepts>
            ::std::fmt::Debug for $name<R, K>
        {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("requirement", &::std::any::type_name::<R>())
                    .field("accepts", &K::ACCEPTS)
                    .field("machine", &self.machine)
                    .finish()
            }
        }
    };
}

/// Defines an adapter's "a session or a machine" type: `pub struct $name(pub Principal)`, with
/// `into_inner` and `Deref<Target = Principal>` (from
/// [`session_or_machine`](crate::adapter::session_or_machine) or
/// [`permitted`](crate::adapter::permitted); authenticate with
/// [`AcceptsToken::ANY`](crate::options::AcceptsToken::ANY)).
#[macro_export]
macro_rules! adapter_principal {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::adapter_principal! {
            @docs [
                "A signed-in user or a machine (`acceptsToken: 'any'`): a session token (header or cookie, with"
                "Clerk's rules) or a machine token of any kind (header only), refused as a signed-out request is"
                "(401, 503, 500). Dereferences to [`Principal`](clerk_verify::request::Principal):"
                "`token_type()`, `subject()`, `session()`, `machine()`;"
                "[`Policy::check_principal`](clerk_verify::request::Policy::check_principal) checks roles for"
                "sessions and scopes for machines."
            ]
            $(#[$meta])* $vis struct $name;
        }
    };
    (@docs [$($shared:literal)*] $(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::__adapter_newtype! {
            $(#[doc = $shared])*
            #[doc = ""]
            $(#[$meta])*
            $vis struct $name($crate::request::Principal): "Principal";
        }
    };
}

/// Defines an adapter's webhook type: `pub struct $name(pub Delivery)`, with `into_inner` and
/// `Deref<Target = Delivery>` (`id`, the `svix-id` to deduplicate on, and `event`).
#[macro_export]
macro_rules! adapter_webhook {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::adapter_webhook! {
            @docs [
                "A verified Clerk webhook delivery: the raw body is read up to the"
                "[`Webhook`](clerk_verify::Webhook)'s cap (1 MiB by default), its Svix signature and timestamp are"
                "checked and its typed event parsed. Anything else is refused with a 400"
                "`{\"error\":\"bad_request\",\"reason\":\"webhook-…\",\"message\":\"…\"}` (Svix retries it), never a 500."
                "Dereferences to [`Delivery`](clerk_verify::webhook::Delivery): `id` (the `svix-id`, to"
                "deduplicate on) and `event`. Build the `Webhook` at start-up with"
                "[`Webhook::from_env`](clerk_verify::Webhook::from_env) (`CLERK_WEBHOOK_SIGNING_SECRET`), which"
                "fails when the secret is missing or malformed."
            ]
            $(#[$meta])* $vis struct $name;
        }
    };
    (@docs [$($shared:literal)*] $(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $crate::__adapter_newtype! {
            $(#[doc = $shared])*
            #[doc = ""]
            $(#[$meta])*
            $vis struct $name($crate::webhook::Delivery): "Delivery";
        }
    };
}

/// The newtype that `adapter_auth!`, `adapter_optional!`, `adapter_principal!` and
/// `adapter_webhook!` define: `pub struct $name(pub $inner)` with `into_inner` and
/// `Deref<Target = $inner>`. Not for use outside those macros.
#[doc(hidden)]
#[macro_export]
macro_rules! __adapter_newtype {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($inner:ty): $what:literal;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name(pub $inner);

        impl $name {
            #[doc = concat!("The `", $what, "` inside.")]
            pub fn into_inner(self) -> $inner {
                self.0
            }
        }

        impl ::std::ops::Deref for $name {
            type Target = $inner;

            fn deref(&self) -> &$inner {
                &self.0
            }
        }
    };
}
