//! Emitting the generated crates from the spec and the IR: the types and
//! client (progenitor, on the document rewritten once for it), the client's
//! mocks, the server stubs, the skeleton server, their manifests, and
//! formatting.

pub(crate) mod client_aliases;
pub(crate) mod client_arms;
pub(crate) mod client_crate;
pub(crate) mod client_hooks;
pub(crate) mod distinct_params;
pub(crate) mod format;
pub(crate) mod guard;
pub(crate) mod integers;
pub(crate) mod manifest;
pub(crate) mod mock;
pub(crate) mod progenitor;
pub(crate) mod rewrite;
pub(crate) mod server_crate;
pub(crate) mod skeleton_crate;
