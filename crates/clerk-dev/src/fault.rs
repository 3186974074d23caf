//! [`Fault`]: how a test server misbehaves on purpose. Its own module, below both servers that
//! apply it ([`crate::JwksServer`] and [`crate::BackendApi`]), so neither imports the other for it.

use std::time::Duration;

/// A misbehaviour the [`JwksServer`](crate::JwksServer) applies to JWKS requests (other paths
/// are unaffected), or a [`BackendApi`](crate::BackendApi) to its verify calls
/// ([`BackendApi::set_fault`](crate::BackendApi::set_fault)).
///
/// All faults except [`Fault::None`] and [`Fault::Delay`] replace the whole normal
/// response, including the bearer-token check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Normal behaviour.
    #[default]
    None,
    /// Answer with this HTTP status (e.g. 500) and a small JSON error body.
    Status(u16),
    /// Read the request, then never answer (until the server is dropped, at most 60 s).
    Hang,
    /// `200 OK` with a non-JSON body.
    Garbage,
    /// `200 OK` with exactly this body.
    Body(String),
    /// `200 OK` with a JSON-looking (but never complete) body of exactly this many
    /// bytes, streamed in chunks with a correct `Content-Length`.
    Huge(usize),
    /// Answer normally after this delay (at most 60 s; cut short when the server is dropped).
    Delay(Duration),
    /// Read the request, then close the connection without any response.
    CloseImmediately,
}
