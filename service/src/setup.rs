//! Assembling the service from its configuration, shared by the binary and
//! by in-process uses (doc tests, examples).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::api::Service;
use crate::auth::Verifier;
use crate::auth::devkey;
use crate::cache::Cached;
use crate::config::{DatabaseArgs, ServiceConfig};
use crate::http::{App, Boundary, Limits, app};
use crate::ops::observe::Observer;
use crate::store::any::Store;
use axum::http::HeaderValue;

/// Builds the HTTP application and its store for a data directory, a
/// database and a configuration.
pub async fn build(
    data_dir: &Path,
    database: &DatabaseArgs,
    config: &ServiceConfig,
) -> Result<(App, Store)> {
    let verifier_config = config.verifier_config(data_dir)?;
    if config.is_dev_mode() {
        tracing::warn!(
            key = %devkey::key_path(data_dir).display(),
            "development mode: only tokens signed with the local key are accepted \
             (mint one with `users-service mint-token`); configure --jwks-url, \
             --issuer and --audience for a real identity provider"
        );
    }
    let mode = config.access_mode()?;
    let boundary = Boundary {
        allowed_origins: config
            .allow_origins
            .iter()
            .map(|o| allowed_origin(o))
            .collect::<Result<_>>()?,
    };
    let verifier = Arc::new(Verifier::new(verifier_config).await?);
    let store = open_store(data_dir, database).await?;
    let cached = Cached::open(store.clone(), store.sharing())
        .await
        .context("reading revocations")?;
    let service = Service::new(cached, verifier, mode);
    tracing::info!(access = ?mode, "access mode");
    let limits = Limits {
        body_limit: config.body_limit,
        request_timeout: config.request_timeout,
        validate_requests: config.validate_requests,
        validate_responses: config.validate_responses,
    };
    let o = &config.ops;
    let observer = Observer::new(o.metrics, o.request_ids, o.trust_proxy_request_id);
    Ok((app(Arc::new(service), limits, boundary, observer), store))
}

/// One `--allow-origin` value as the `Origin` header a browser sends:
/// `http(s)://host[:port]`, without path. `*` (every web page) and `null`
/// (sandboxed frames, local files: any page can be one) are refused.
fn allowed_origin(text: &str) -> Result<HeaderValue> {
    let origin = text.trim().trim_end_matches('/');
    if origin == "*" || origin.eq_ignore_ascii_case("null") {
        anyhow::bail!(
            "--allow-origin {origin:?} would let any web page call the service with its \
             visitors' access; list each origin that may, e.g. --allow-origin https://app.example"
        );
    }
    let parsed = reqwest::Url::parse(origin).ok();
    let valid = parsed.as_ref().is_some_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some()
            && u.username().is_empty()
            && u.password().is_none()
            && u.path() == "/"
            && u.query().is_none()
            && u.fragment().is_none()
            && !origin.ends_with(':')
    });
    if !valid {
        anyhow::bail!(
            "--allow-origin {origin:?} is not a web origin: give scheme, host and optional \
             port only, e.g. https://app.example or http://localhost:3000"
        );
    }
    HeaderValue::from_str(origin)
        .with_context(|| format!("--allow-origin {origin:?} is not a valid origin"))
}

/// Opens (creating if needed) the database: by default SQLite in the data
/// directory, or the one `--database` names. Applies pending migrations.
pub async fn open_store(data_dir: &Path, database: &DatabaseArgs) -> Result<Store> {
    crate::files::create_private_dir(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    database.open(data_dir).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_origins_may_be_allowed() {
        for ok in [
            "https://app.example",
            "http://localhost:3000/",
            "https://a.example:8443",
        ] {
            assert!(allowed_origin(ok).is_ok(), "{ok}");
        }
        for bad in [
            "*",
            "null",
            "NULL",
            "app.example",
            "https://a.example/path",
            "ftp://a.example",
            "https://u@a.example",
        ] {
            let err = allowed_origin(bad).unwrap_err().to_string();
            assert!(err.contains("--allow-origin"), "{bad}: {err}");
        }
    }
}
