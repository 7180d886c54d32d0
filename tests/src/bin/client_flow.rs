//! The whole Users API flow through the generated client, against a running
//! service or a validating proxy in front of one (`cargo xtask ci` runs it
//! through `prism proxy --errors`).
//!
//! ```text
//! cargo run -q -p users-api-tests --bin client_flow -- --url http://127.0.0.1:PORT --token TOKEN
//! ```
//!
//! Steps: authenticate, list, get, get an unknown id (404 `ApiError`),
//! disconnect, list again. Every answer is checked against what the flow
//! expects and must carry no `sl-violations` header (Prism's report of a
//! request or response that breaks the spec). Exits non-zero on the first
//! failure.

use std::process::ExitCode;

use anyhow::{Context, Result, bail, ensure};
use users_api_client::types::{ApiError, ApiErrorCode, UserProfile};
use users_api_client::{Client, Error, ResponseValue};
use users_harness::client::sign_in_body;
use uuid::Uuid;

/// Header in which Prism lists the spec violations it saw.
const VIOLATIONS_HEADER: &str = "sl-violations";

const USAGE: &str = "usage: client_flow --url http://127.0.0.1:PORT --token ID_TOKEN";

struct Args {
    url: String,
    token: String,
}

fn parse_args() -> Result<Args> {
    let mut url = None;
    let mut token = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--url" => &mut url,
            "--token" => &mut token,
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        };
        *slot = Some(
            args.next()
                .with_context(|| format!("{arg} needs a value\n{USAGE}"))?,
        );
    }
    match (url, token) {
        (Some(url), Some(token)) => Ok(Args { url, token }),
        _ => bail!("--url and --token are required\n{USAGE}"),
    }
}

/// Fails when Prism flagged the exchange.
fn check_violations(step: &str, headers: &reqwest::header::HeaderMap) -> Result<()> {
    match headers.get(VIOLATIONS_HEADER) {
        None => Ok(()),
        Some(v) => bail!(
            "{step}: spec violations reported: {}",
            v.to_str().unwrap_or("<binary>")
        ),
    }
}

/// The body of a 2xx answer, after checking it was not flagged.
fn ok_body<T>(step: &str, result: Result<ResponseValue<T>, Error<ApiError>>) -> Result<T> {
    let value = result.map_err(|e| anyhow::anyhow!("{step}: {e}"))?;
    check_violations(step, value.headers())?;
    Ok(value.into_inner())
}

fn step_ok(step: &str, detail: impl std::fmt::Display) {
    println!("ok   {step}: {detail}");
}

async fn authenticate(client: &Client, token: &str) -> Result<UserProfile> {
    let sent = client
        .authenticate_from_oauth_token()
        .body(sign_in_body(token))
        .send()
        .await;
    let profile = ok_body("authenticate", sent)?;
    ensure!(
        Uuid::parse_str(&profile.id).is_ok(),
        "authenticate: id {:?} is not a uuid",
        profile.id
    );
    step_ok(
        "authenticate",
        format!("user {} ({:?})", profile.id, profile.username),
    );
    Ok(profile)
}

async fn list_ids(client: &Client, step: &str) -> Result<Vec<String>> {
    let users = ok_body(step, client.users_snapshot().send().await)?;
    Ok(users.iterable.into_iter().map(|u| u.id).collect())
}

async fn list_contains(client: &Client, id: &str, expected: bool, step: &str) -> Result<()> {
    let ids = list_ids(client, step).await?;
    ensure!(
        ids.iter().any(|i| i == id) == expected,
        "{step}: user {id} listed = {}, expected {expected}",
        !expected
    );
    step_ok(
        step,
        format!(
            "{} user(s), {id} {}",
            ids.len(),
            if expected { "listed" } else { "absent" }
        ),
    );
    Ok(())
}

async fn get_matches(client: &Client, profile: &UserProfile, id: Uuid) -> Result<()> {
    let got = ok_body(
        "get",
        client.users_specific_user_snapshot().user(id).send().await,
    )?;
    ensure!(
        &got == profile,
        "get: profile differs from authenticate's:\n{got:#?}\nvs\n{profile:#?}"
    );
    step_ok("get", "profile equals the one authenticate returned");
    Ok(())
}

async fn get_unknown_is_404(client: &Client) -> Result<()> {
    let unknown = Uuid::new_v4();
    match client
        .users_specific_user_snapshot()
        .user(unknown)
        .send()
        .await
    {
        Err(Error::ErrorResponse(rv)) => {
            check_violations("get-unknown", rv.headers())?;
            let (status, body) = (rv.status(), rv.into_inner());
            ensure!(status == 404, "get-unknown: status {status}, expected 404");
            ensure!(
                body.status == 404 && body.code == ApiErrorCode::NotFound,
                "get-unknown: body {body:?}"
            );
            step_ok(
                "get-unknown",
                format!("404 {:?}: {}", body.code, body.message),
            );
            Ok(())
        }
        Ok(rv) => bail!(
            "get-unknown: {unknown} answered {} with a profile",
            rv.status()
        ),
        Err(e) => bail!("get-unknown: {e}"),
    }
}

async fn disconnect(client: &Client, id: Uuid) -> Result<()> {
    let remaining = ok_body(
        "disconnect",
        client.users_disconnect_user().user(id).send().await,
    )?;
    let id = id.to_string();
    ensure!(
        remaining.iterable.iter().all(|u| u.id != id),
        "disconnect: {id} still in the returned users"
    );
    step_ok(
        "disconnect",
        format!("{} user(s) left", remaining.iterable.len()),
    );
    Ok(())
}

async fn run(args: &Args) -> Result<()> {
    let client = users_harness::client(&args.url, Some(&args.token));
    let profile = authenticate(&client, &args.token).await?;
    let id = Uuid::parse_str(&profile.id)?;
    list_contains(&client, &profile.id, true, "list").await?;
    get_matches(&client, &profile, id).await?;
    get_unknown_is_404(&client).await?;
    disconnect(&client, id).await?;
    token_revoked(&client).await?;
    // The default (local) access mode takes any application id, as the
    // official SDKs send it: the spec's `application` scheme.
    let app = Client::builder()
        .base_url(&args.url)
        .application_id("client-flow")
        .build()?;
    list_contains(&app, &profile.id, false, "list-after-disconnect").await
}

/// Signing out revoked the token used before it: the next call is a 401.
async fn token_revoked(client: &Client) -> Result<()> {
    match client.users_snapshot().send().await {
        Err(Error::ErrorResponse(rv)) => {
            check_violations("token-revoked", rv.headers())?;
            let (status, body) = (rv.status(), rv.into_inner());
            ensure!(
                status == 401,
                "token-revoked: status {status}, expected 401"
            );
            ensure!(
                body.code == ApiErrorCode::Unauthorized,
                "token-revoked: body {body:?}"
            );
            step_ok(
                "token-revoked",
                format!("401 {:?}: {}", body.code, body.message),
            );
            Ok(())
        }
        Ok(rv) => bail!(
            "token-revoked: the old token still lists users ({})",
            rv.status()
        ),
        Err(e) => bail!("token-revoked: {e}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let result = match parse_args() {
        Ok(args) => run(&args).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            println!("client_flow: 6 steps passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("client_flow: FAIL {e:#}");
            ExitCode::FAILURE
        }
    }
}
