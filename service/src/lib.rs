//! The Users service: the generated Users API stubs implemented over SQLite,
//! with OpenID Connect token verification.

pub mod access;
pub mod admin;
pub mod api;
pub mod auth;
pub mod cache;
pub mod config;
pub mod docs;
pub mod failure;
pub mod files;
pub mod http;
pub mod log_text;
pub mod memory;
pub mod meters;
pub mod ops;
pub mod profile;
pub mod serve;
pub mod setup;
pub mod store;
pub mod wire;
