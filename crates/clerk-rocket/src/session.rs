//! The session guards: [`ClerkAuth`], [`OptionalAuth`] and [`Require`] (with [`RequireRole`](crate::RequireRole)
//! and the other requirement aliases).

clerk_verify::adapter_auth! {
    /// A request guard: its refusal is a [`ClerkError`](crate::ClerkError), rendered by [`catchers()`]. On OPTIONS
    /// requests (CORS preflights) it never authenticates and forwards instead.
    ///
    /// For routes that also serve signed-out visitors take [`OptionalAuth`], not
    /// `Option<ClerkAuth>`: Rocket turns every failure of the inner guard into `None`, so
    /// `Option<ClerkAuth>` would also treat a key-source outage as "signed out".
    ///
    /// [`catchers()`]: crate::catchers
    pub struct ClerkAuth;
}

clerk_verify::adapter_optional! {
    /// A request guard (the crate's example has one). On OPTIONS requests it never
    /// authenticates: `None`.
    pub struct OptionalAuth;
}

clerk_verify::adapter_require! {
    /// A request guard, as [`ClerkAuth`]; on OPTIONS requests it forwards. The crate's example
    /// has one.
    pub struct Require;
}
