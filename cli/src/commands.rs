//! The commands: each calls the API through the generated client and prints
//! its result on standard output; notes for people go to standard error.

use std::io::{self, Write};

use users_api_client::Client;
use users_api_client::types::{OAuthToken, OAuthTokenTokenType};
use uuid::Uuid;

use crate::args::{AuthArgs, Cli, Command, LoginArgs};
use crate::config::{SavedLogin, TokenStore};
use crate::error::CliError;
use crate::output::{self, Format};
use crate::token::{self, Source};

/// Sent as `X-Application-ID`.
const APPLICATION_ID: &str = "users-cli";

/// Settings shared by every command.
#[derive(Debug, Clone)]
struct Context {
    url: String,
    format: Format,
}

impl Context {
    /// A client for the service, sending `token` as the bearer token if given.
    fn client(&self, token: Option<&str>) -> Result<Client, CliError> {
        let mut builder = Client::builder()
            .base_url(&self.url)
            .application_id(APPLICATION_ID)
            .user_agent(concat!("users-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(token) = token {
            builder = builder.bearer_token(token);
        }
        builder.build().map_err(|e| CliError::Other(e.into()))
    }

    /// A client with `--token`/`USERS_TOKEN`, else the saved token, else no
    /// token at all (what the service's default `local` access mode accepts).
    fn signed_in_client(&self, auth: &AuthArgs) -> Result<Client, CliError> {
        let token = match auth.token.as_deref().map(str::trim) {
            Some(token) if !token.is_empty() => Some(token.to_string()),
            _ => TokenStore::locate()?.load()?.map(|saved| saved.token),
        };
        self.client(token.as_deref())
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Context {
        url: cli.url,
        format: if cli.json { Format::Json } else { Format::Text },
    };
    match cli.command {
        Command::Login(args) => login(&ctx, args).await,
        Command::List(auth) => list(&ctx, &auth).await,
        Command::Get { id, auth } => get(&ctx, id, &auth).await,
        Command::Logout { id, auth } => logout(&ctx, id, &auth).await,
    }
}

/// `users login`: exchanges the ID token for the user's profile and saves it.
async fn login(ctx: &Context, args: LoginArgs) -> Result<(), CliError> {
    let token = Source::from_args(args.token.as_deref(), args.token_file.as_deref()).read()?;
    let now = chrono::Utc::now().timestamp();
    let expires_in = token::seconds_left(&token, now).unwrap_or(token::DEFAULT_EXPIRES_IN);

    // The token travels in the body; no Authorization header is needed.
    let profile = ctx
        .client(None)?
        .authenticate_from_oauth_token()
        .body(OAuthToken {
            access_token: token.clone(),
            token_type: OAuthTokenTokenType::Bearer,
            expires_in,
            id_token: Some(token.clone()),
            refresh_token: None,
            scope: None,
            schema: None,
        })
        .send()
        .await
        .map_err(|e| CliError::login(&ctx.url, e))?
        .into_inner();
    print(&output::profile(&profile, ctx.format))?;

    let who = profile.username.as_deref().unwrap_or(&profile.id);
    if args.no_save {
        eprintln!("signed in as {who}; the token was not saved (--no-save)");
        return Ok(());
    }
    let store = TokenStore::locate()?;
    store.save(&SavedLogin {
        token,
        user_id: Some(profile.id.clone()),
    })?;
    eprintln!(
        "signed in as {who}; token saved to {}",
        store.token_path().display()
    );
    Ok(())
}

/// `users list`.
async fn list(ctx: &Context, auth: &AuthArgs) -> Result<(), CliError> {
    let users = ctx
        .signed_in_client(auth)?
        .users_snapshot()
        .send()
        .await
        .map_err(|e| CliError::api("cannot list users", &ctx.url, e))?
        .into_inner();
    print(&output::users(&users.iterable, ctx.format))
}

/// `users get ID`.
async fn get(ctx: &Context, id: Uuid, auth: &AuthArgs) -> Result<(), CliError> {
    let profile = ctx
        .signed_in_client(auth)?
        .users_specific_user_snapshot()
        .user(id)
        .send()
        .await
        .map_err(|e| CliError::api(format!("cannot get user {id}"), &ctx.url, e))?
        .into_inner();
    print(&output::profile(&profile, ctx.format))
}

/// `users logout ID`: disconnects the user, prints who is left, and forgets
/// the saved token if it belonged to that user.
async fn logout(ctx: &Context, id: Uuid, auth: &AuthArgs) -> Result<(), CliError> {
    let left = ctx
        .signed_in_client(auth)?
        .users_disconnect_user()
        .user(id)
        .send()
        .await
        .map_err(|e| CliError::api(format!("cannot sign out user {id}"), &ctx.url, e))?
        .into_inner();
    eprintln!("signed out {id}");
    if let Err(e) = forget_saved_login_of(id) {
        // The user is signed out already; only the local clean-up failed.
        eprintln!("warning: {e:#}");
    }
    print(&output::users(&left.iterable, ctx.format))
}

/// Deletes the saved token if it signed in user `id`.
fn forget_saved_login_of(id: Uuid) -> anyhow::Result<()> {
    let store = TokenStore::locate()?;
    let saved_user = store
        .load()?
        .and_then(|login| login.user_id)
        .and_then(|user| Uuid::parse_str(&user).ok());
    if saved_user == Some(id) {
        store.delete()?;
        eprintln!(
            "deleted the saved token ({}); run `users login` to sign in again",
            store.token_path().display()
        );
    }
    Ok(())
}

/// Writes to standard output; a closed pipe (`users list | head -1`) is fine.
fn print(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(CliError::Other(
            anyhow::Error::new(e).context("cannot write to standard output"),
        )),
        _ => Ok(()),
    }
}
