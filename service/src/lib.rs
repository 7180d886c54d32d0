//! The Users service: the generated Users API stubs implemented over SQLite,
//! with OpenID Connect token verification.

pub mod admin;
pub mod api;
pub mod auth;
pub mod config;
pub mod docs;
pub mod files;
pub mod http;
pub mod memory;
pub mod meters;
pub mod ops;
pub mod profile;
pub mod serve;
pub mod setup;
pub mod store;
