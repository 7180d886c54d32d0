//! Support for the workspace's tests, CI steps and benchmarks.
//!
//! Always available (std, tempfile, rustix): [`process`] starts a server
//! binary and knows when it is ready, [`service`] runs the real
//! `users-service` on a fresh data directory, [`pg_cluster`] and
//! [`postgres`] make throwaway PostgreSQL clusters, [`nginx`] a throwaway
//! nginx in front of instances, [`files`] has the
//! workspace root and a private-file writer.
//!
//! With the default feature `full`: development and JWKS [`tokens`], a
//! [`proxy`] that checks traffic against the spec ([`spec_check`]), and the
//! generated [`client`] with its sign-in helpers.

pub mod files;
pub mod nginx;
pub mod pg_cluster;
pub mod postgres;
pub mod process;
pub mod service;

#[cfg(feature = "full")]
pub mod client;
#[cfg(feature = "full")]
pub mod proxy;
#[cfg(feature = "full")]
pub mod spec_check;
#[cfg(feature = "full")]
pub mod tokens;

#[cfg(feature = "full")]
pub use client::client;
pub use files::{workspace_root, write_private};
