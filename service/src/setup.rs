//! Assembling the service from its configuration, shared by the binary and
//! by in-process uses (doc tests, examples).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;

use crate::api::Service;
use crate::auth::devkey;
use crate::auth::{Identity, Verifier};
use crate::config::{DatabaseArgs, ServiceConfig};
use crate::http::{Boundary, Limits, app};
use crate::ops::observe::Observer;
use crate::store::Store;
use axum::http::HeaderValue;

/// Builds the HTTP application and its store for a data directory, a
/// database and a configuration.
pub async fn build(
    data_dir: &Path,
    database: &DatabaseArgs,
    config: &ServiceConfig,
) -> Result<(Router, Store)> {
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
            .map(|o| {
                HeaderValue::from_str(o.trim_end_matches('/'))
                    .with_context(|| format!("--allow-origin {o} is not a valid origin"))
            })
            .collect::<Result<_>>()?,
    };
    let verifier = Arc::new(Verifier::new(verifier_config).await?);
    let store = open_store(data_dir, database).await?;
    let service = Service::open(store.clone(), verifier, mode)
        .await
        .context("reading revocations")?;
    tracing::info!(access = ?mode, "access mode");
    let limits = Limits {
        body_limit: config.body_limit,
        request_timeout: config.request_timeout,
    };
    let o = &config.ops;
    let observer = Observer::new(o.metrics, o.request_ids, o.trust_proxy_request_id);
    Ok((app(Arc::new(service), limits, boundary, observer), store))
}

/// Opens (creating if needed) the database: by default SQLite in the data
/// directory, or the one `--database` names. Applies pending migrations.
pub async fn open_store(data_dir: &Path, database: &DatabaseArgs) -> Result<Store> {
    crate::files::create_private_dir(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    database.open(data_dir).await
}

/// A development-mode service running in this process on a loopback port.
#[derive(Debug)]
pub struct DevServer {
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// An ID token for `github|1`, signed with the data dir's development key.
    pub token: String,
}

/// Starts the real service (SQLite in `data_dir`, development tokens) on a
/// free loopback port, in the background of the current tokio runtime.
pub async fn spawn_dev(data_dir: &Path) -> Result<DevServer> {
    let config = ServiceConfig {
        listen: "127.0.0.1:0".parse()?,
        ..ServiceConfig::default()
    };
    let (router, _store) = build(data_dir, &DatabaseArgs::default(), &config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(crate::serve::serve(
        listener,
        router,
        config.listener,
        std::future::pending(),
    ));
    let key = devkey::load_or_create(data_dir)?;
    let claims = Identity {
        subject: "github|1".into(),
        email: Some("dev@example.com".into()),
        name: Some("Dev User".into()),
        nickname: Some("dev".into()),
        ..Identity::default()
    };
    let token = devkey::mint(&key, &claims, 3600)?;
    Ok(DevServer { url, token })
}
