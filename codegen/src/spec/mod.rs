//! The document: read once, normalized once, and the helpers every later
//! stage reads it through (one `$ref` resolver, media types, paths).

pub(crate) mod distinct;
pub(crate) mod integers;
pub(crate) mod load;
pub(crate) mod media;
pub(crate) mod normalize;
pub(crate) mod paths;
pub(crate) mod pointer_refs;
pub(crate) mod refs;
pub(crate) mod repair;
pub(crate) mod separate;

pub use load::Spec;
