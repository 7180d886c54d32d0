//! Section 4: the generated client against raw reqwest doing the same GET.

use std::hint::black_box;
use std::time::Instant;

use anyhow::{Result, bail};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use users_api_types::UserProfile;
use uuid::Uuid;

use crate::report::{Goal, Row};
use crate::stats::ratios;
use crate::{Config, progress};

/// The same `reqwest::Client` configuration for both sides.
fn http(bearer: &str) -> Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {bearer}"))?,
    );
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

async fn generated(client: &users_api_client::Client, id: Uuid, n: usize) -> Result<f64> {
    let started = Instant::now();
    for _ in 0..n {
        let profile = client
            .users_specific_user_snapshot()
            .user(id)
            .send()
            .await?;
        black_box(profile.into_inner());
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / n as f64)
}

/// What the generated `send()` does, written by hand: same headers, same decoding.
async fn raw(client: &reqwest::Client, url: &str, id: Uuid, n: usize) -> Result<f64> {
    let started = Instant::now();
    for _ in 0..n {
        let response = client
            .get(format!("{url}/users/{id}"))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header("api-version", HeaderValue::from_static("1.0.0"))
            .send()
            .await?;
        if response.status() != 200 {
            bail!("GET /users/{id} returned {}", response.status());
        }
        let bytes = response.bytes().await?;
        let profile: UserProfile = serde_json::from_slice(&bytes)?;
        black_box(profile);
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / n as f64)
}

/// Sequential loops of `cfg.client_requests` GET /users/{id}, alternating sides.
pub async fn compare(cfg: &Config, url: &str, bearer: &str, id: Uuid) -> Result<Row> {
    let gen_client =
        users_api_client::Client::new_with_client(url, http(bearer)?, Default::default());
    let raw_client = http(bearer)?;
    let warm = (cfg.client_requests / 10).max(5);
    generated(&gen_client, id, warm).await?;
    raw(&raw_client, url, id, warm).await?;
    let (mut g, mut r) = (Vec::new(), Vec::new());
    for i in 0..cfg.runs {
        if i % 2 == 0 {
            g.push(generated(&gen_client, id, cfg.client_requests).await?);
            r.push(raw(&raw_client, url, id, cfg.client_requests).await?);
        } else {
            r.push(raw(&raw_client, url, id, cfg.client_requests).await?);
            g.push(generated(&gen_client, id, cfg.client_requests).await?);
        }
        progress(&format!(
            "  generated {:.1} µs/request, raw {:.1} µs/request",
            g[i], r[i]
        ));
    }
    Ok(Row::measured(
        "client.get_user",
        format!(
            "GET /users/{{id}} via `users_api_client`, {} sequential requests: time per request",
            cfg.client_requests
        ),
        "µs",
    )
    .ours(&g)
    .baseline("raw reqwest, same GET and decoding", &r)
    .ratio(&ratios(&g, &r))
    .goal(Goal::RatioAtMost(1.10)))
}
