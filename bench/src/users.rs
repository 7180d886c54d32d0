//! Development tokens and creating users through the public API.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use users_service::auth::{Identity, devkey};

/// The development signing key of a data directory (created if missing),
/// exactly as `users-service mint-token` and the dev-mode service use it.
pub fn dev_key(data_dir: &Path) -> Result<Vec<u8>> {
    std::fs::create_dir_all(data_dir)?;
    devkey::load_or_create(data_dir)
}

/// A development ID token for subject `github|{subject}`.
pub fn token(key: &[u8], subject: &str) -> Result<String> {
    let claims = Identity {
        subject: format!("github|{subject}"),
        email: Some(format!("{subject}@example.com")),
        name: Some(format!("Bench User {subject}")),
        nickname: Some(subject.to_string()),
        picture: Some(format!("https://avatars.example.com/u/{subject}")),
        ..Identity::default()
    };
    devkey::mint(key, &claims, 6 * 3600)
}

/// The body of `POST /users/authenticate/from_token` carrying `id_token`.
pub fn auth_body(id_token: &str) -> String {
    serde_json::json!({
        "access_token": "x",
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token,
    })
    .to_string()
}

/// Authentication bodies for subjects `{prefix}{first}..{prefix}{first+count}`.
pub fn auth_bodies(key: &[u8], prefix: &str, first: usize, count: usize) -> Result<Vec<String>> {
    (first..first + count)
        .map(|i| Ok(auth_body(&token(key, &format!("{prefix}{i}"))?)))
        .collect()
}

/// Posts every body to `/users/authenticate/from_token` with `concurrency`
/// requests in flight; fails on the first non-200.
pub async fn authenticate_all(
    http: &reqwest::Client,
    base_url: &str,
    bodies: Vec<String>,
    concurrency: usize,
) -> Result<()> {
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("{base_url}/users/authenticate/from_token");
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (bodies, next, http, url) = (bodies.clone(), next.clone(), http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<_, anyhow::Error>(());
                };
                let response = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                if response.status() != 200 {
                    bail!(
                        "authenticate returned {}: {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await.context("seeding task panicked")??;
    }
    Ok(())
}

/// GETs `path` with a bearer token and returns the exact body bytes (must be 200).
pub async fn fetch(
    http: &reqwest::Client,
    base_url: &str,
    path: &str,
    token: &str,
) -> Result<Vec<u8>> {
    let response = http
        .get(format!("{base_url}{path}"))
        .bearer_auth(token)
        .send()
        .await?;
    if response.status() != 200 {
        bail!("GET {path} returned {}", response.status());
    }
    Ok(response.bytes().await?.to_vec())
}
