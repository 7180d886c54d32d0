//! Configuration: [`ServiceConfig`] with its one set of defaults, and the
//! command line and environment that build it.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::auth::devkey::{self, DEV_AUDIENCE, DEV_ISSUER};
use crate::auth::{Identity, KeySource, VerifierConfig};
use crate::serve::ServeOptions;

/// Where the service listens by default: the spec's server.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1000));
/// Largest request body accepted by default, in bytes.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// Longest a request may take by default, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// How the service runs (besides its data directory and database): built
/// from the command line with [`ServiceConfig::from`], or by hand from
/// [`ServiceConfig::default`] for in-process uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// JWKS file with the identity provider's keys.
    pub jwks_file: Option<PathBuf>,
    /// JWKS URL of the identity provider.
    pub jwks_url: Option<String>,
    /// Required `iss` of ID tokens.
    pub issuer: Option<String>,
    /// Required `aud` of ID tokens.
    pub audience: Option<String>,
    /// OIDC userinfo endpoint, to accept access tokens alone.
    pub userinfo_url: Option<String>,
    /// Who may call the user operations; `None`: by the listen address.
    pub access: Option<AccessMode>,
    /// Web origins allowed to call from a browser (CORS).
    pub allow_origins: Vec<String>,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Check requests against the spec's schemas before the service runs.
    pub validate_requests: bool,
    /// Check responses against the spec's schemas (on in debug builds).
    pub validate_responses: bool,
    /// Connection limits and timeouts of the listener.
    pub listener: ServeOptions,
    /// Admin listener, metrics, request ids, logs, draining.
    pub ops: crate::ops::OpsOptions,
}

impl Default for ServiceConfig {
    /// Development mode on the spec's server address, default limits.
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            jwks_file: None,
            jwks_url: None,
            issuer: None,
            audience: None,
            userinfo_url: None,
            access: None,
            allow_origins: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: Duration::from_millis(DEFAULT_REQUEST_TIMEOUT_MS),
            validate_requests: true,
            validate_responses: cfg!(debug_assertions),
            listener: ServeOptions::default(),
            ops: crate::ops::OpsOptions::default(),
        }
    }
}

impl From<&ServeArgs> for ServiceConfig {
    fn from(args: &ServeArgs) -> Self {
        Self {
            listen: args.listen,
            jwks_file: args.jwks_file.clone(),
            jwks_url: args.jwks_url.clone(),
            issuer: args.issuer.clone(),
            audience: args.audience.clone(),
            userinfo_url: args.userinfo_url.clone(),
            access: args.access,
            allow_origins: args.allow_origins.clone(),
            body_limit: args.body_limit,
            request_timeout: Duration::from_millis(args.request_timeout_ms),
            validate_requests: args.validate_requests,
            validate_responses: args.validate_responses,
            listener: args.listener.options(),
            ops: args.ops.options(),
        }
    }
}

/// The Users API service.
#[derive(Debug, Parser)]
#[command(name = "users-service", version, about)]
pub struct Cli {
    /// Directory for the database and the development key.
    #[arg(long, env = "USERS_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    /// Which database, for every subcommand.
    pub database: DatabaseArgs,
    #[command(subcommand)]
    /// What to do; `serve` when omitted.
    pub command: Option<Command>,
    #[command(flatten)]
    /// Options of `serve`.
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Print a development ID token signed with the local key.
    MintToken(MintArgs),
    /// Register, list and remove the applications allowed in `applications` mode.
    #[command(subcommand)]
    Applications(ApplicationsCommand),
}

/// `users-service applications …`.
#[derive(Debug, Subcommand)]
pub enum ApplicationsCommand {
    /// Register an application; prints its new id (send it as `X-Application-ID`).
    Add {
        /// A name for the operator's records.
        name: String,
    },
    /// List registered applications: one `ID<TAB>NAME` line each.
    List,
    /// Remove a registered application; its id is refused from then on.
    Remove {
        /// The id `applications add` printed.
        id: String,
    },
}

/// Who may call the user operations; see the README's "Security model".
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessMode {
    /// Any client on this machine, with no credentials (loopback only; `Host` and `Origin` checked).
    Local,
    /// A registered application id in `X-Application-ID`, or a bearer token.
    Applications,
    /// Bearer ID tokens only; each token acts for its own user.
    Tokens,
}

/// Where the data lives.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite:PATH` (relative to the data directory; default
    /// `sqlite:users.db`) or `postgres://USER:PASSWORD@HOST:PORT/DB`, which
    /// several instances can share.
    #[arg(long = "database", env = "USERS_DATABASE_URL", global = true)]
    pub url: Option<String>,
    /// Most PostgreSQL connections this instance holds open.
    #[arg(
        long = "database-pool-size",
        env = "USERS_DATABASE_POOL_SIZE",
        global = true,
        default_value_t = crate::store::postgres::DEFAULT_POOL_SIZE,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000)
    )]
    pub pool_size: usize,
    /// Most SQLite writes committed together (group commit: concurrent writes
    /// share one transaction and its fsync); 1 commits each on its own.
    #[arg(
        long = "sqlite-max-batch",
        env = "USERS_SQLITE_MAX_BATCH",
        global = true,
        default_value_t = crate::store::sqlite::MAX_BATCH,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
            .range(1..=crate::store::sqlite::MAX_BATCH as u64)
    )]
    pub sqlite_max_batch: usize,
}

impl Default for DatabaseArgs {
    /// The default SQLite file in the data directory.
    fn default() -> Self {
        Self {
            url: None,
            pool_size: crate::store::postgres::DEFAULT_POOL_SIZE,
            sqlite_max_batch: crate::store::sqlite::MAX_BATCH,
        }
    }
}

impl DatabaseArgs {
    /// Opens the store these options name, applying migrations.
    pub async fn open(&self, data_dir: &std::path::Path) -> Result<crate::store::any::Store> {
        use anyhow::Context;
        let database = crate::store::any::Database::parse(self.url.as_deref(), data_dir)?;
        database
            .open(self.pool_size.max(1), self.sqlite_max_batch)
            .await
            .with_context(|| format!("opening database {database:?}"))
    }
}

/// Options of the service.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "USERS_LISTEN", default_value_t = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// JWKS file with the identity provider's RS256/ES256 keys.
    #[arg(long, env = "USERS_JWKS_FILE", conflicts_with = "jwks_url")]
    pub jwks_file: Option<PathBuf>,
    /// JWKS URL of the identity provider (fetched at start-up).
    #[arg(long, env = "USERS_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// Required `iss` of ID tokens.
    #[arg(long, env = "USERS_ISSUER")]
    pub issuer: Option<String>,
    /// Required `aud` of ID tokens (your client id).
    #[arg(long, env = "USERS_AUDIENCE")]
    pub audience: Option<String>,
    /// OIDC userinfo endpoint, to accept access tokens without an ID token.
    #[arg(long, env = "USERS_USERINFO_URL")]
    pub userinfo_url: Option<String>,
    /// Who may list, read and disconnect users: `local` (default on a loopback
    /// address), `applications` or `tokens` (default, and required, elsewhere).
    #[arg(long, env = "USERS_ACCESS", value_enum)]
    pub access: Option<AccessMode>,
    /// A web origin (`https://app.example`) allowed to call the service from a
    /// browser, with CORS; repeatable. Requests with any other `Origin` get 403.
    #[arg(
        long = "allow-origin",
        env = "USERS_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub allow_origins: Vec<String>,
    /// Largest request body in bytes.
    #[arg(long, env = "USERS_BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Request timeout in milliseconds.
    #[arg(long, env = "USERS_REQUEST_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS)]
    pub request_timeout_ms: u64,
    /// Check parameters and JSON bodies against the spec's schemas before
    /// the service runs (400/422 naming the JSON pointer and rule). Off
    /// only to measure what the checks cost.
    #[arg(long, env = "USERS_VALIDATE_REQUESTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub validate_requests: bool,
    /// Check every JSON response against its documented schema: a
    /// violation is logged (operation, JSON pointer) and answered with 500.
    /// Default: on in debug builds, off in release builds.
    #[arg(long, env = "USERS_VALIDATE_RESPONSES", default_value_t = cfg!(debug_assertions), action = clap::ArgAction::Set)]
    pub validate_responses: bool,
    #[command(flatten)]
    pub listener: crate::serve::ListenerArgs,
    #[command(flatten)]
    pub ops: crate::ops::OpsArgs,
}

/// Options of `mint-token`.
#[derive(Debug, Args)]
pub struct MintArgs {
    /// `sub`, Auth0 style: `github|123`, `google-oauth2|456`, ...
    #[arg(long)]
    pub sub: String,
    /// `email` claim.
    #[arg(long)]
    pub email: Option<String>,
    /// `name` claim.
    #[arg(long)]
    pub name: Option<String>,
    /// `nickname` claim (becomes the username).
    #[arg(long)]
    pub nickname: Option<String>,
    /// `picture` claim: a URL.
    #[arg(long)]
    pub picture: Option<String>,
    /// Lifetime in seconds (at most one year; negative mints an expired token).
    #[arg(long, default_value_t = 3600, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i64).range(-devkey::MAX_TTL_SECONDS..=devkey::MAX_TTL_SECONDS))]
    pub ttl: i64,
}

impl MintArgs {
    /// The claims to sign (issuer and issue time are set when minting).
    pub fn claims(&self) -> Identity {
        Identity {
            subject: self.sub.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            nickname: self.nickname.clone(),
            picture: self.picture.clone(),
            ..Identity::default()
        }
    }
}

/// The data directory: the option, or the platform's data dir.
pub fn data_dir(option: Option<PathBuf>) -> Result<PathBuf> {
    match option {
        Some(dir) => Ok(dir),
        None => match dirs::data_dir() {
            Some(base) => Ok(base.join("users-service")),
            None => bail!("no data directory on this platform; pass --data-dir or USERS_DATA_DIR"),
        },
    }
}

impl ServiceConfig {
    /// The access mode for a listen address: the option, or `local` on loopback
    /// and `tokens` elsewhere. `local` beyond loopback is refused.
    pub fn access_mode(&self) -> Result<AccessMode> {
        let loopback = self.listen.ip().is_loopback();
        match self.access {
            Some(AccessMode::Local) if !loopback => bail!(
                "--access local serves anyone who can reach {} without credentials; listen on \
             127.0.0.1 (or [::1]), or use --access tokens (or applications) beyond loopback",
                self.listen
            ),
            Some(mode) => Ok(mode),
            None if loopback => Ok(AccessMode::Local),
            None => Ok(AccessMode::Tokens),
        }
    }

    /// Whether the verifier runs on the local development key.
    pub fn is_dev_mode(&self) -> bool {
        self.jwks_file.is_none() && self.jwks_url.is_none()
    }

    /// Works out how tokens are verified. Never yields a verifier that accepts
    /// unverifiable tokens: without a JWKS it uses the local development key.
    pub fn verifier_config(&self, data_dir: &std::path::Path) -> Result<VerifierConfig> {
        if let Some(url) = &self.jwks_url {
            check_scheme("--jwks-url", url)?;
        }
        if let Some(url) = &self.userinfo_url {
            check_scheme("--userinfo-url", url)?;
        }
        let keys = match (&self.jwks_file, &self.jwks_url) {
            (Some(file), _) => KeySource::JwksFile(file.clone()),
            (None, Some(url)) => KeySource::JwksUrl(url.clone()),
            (None, None) => {
                if self.issuer.is_some() || self.audience.is_some() {
                    bail!(
                        "--issuer/--audience need the provider's keys: add --jwks-url or --jwks-file"
                    );
                }
                return Ok(VerifierConfig {
                    keys: KeySource::Secret(devkey::load_or_create(data_dir)?),
                    issuer: DEV_ISSUER.into(),
                    audience: DEV_AUDIENCE.into(),
                    userinfo_url: self.userinfo_url.clone(),
                });
            }
        };
        let (Some(issuer), Some(audience)) = (&self.issuer, &self.audience) else {
            bail!(
                "with a JWKS, --issuer and --audience are required (USERS_ISSUER, USERS_AUDIENCE)"
            );
        };
        Ok(VerifierConfig {
            keys,
            issuer: issuer.clone(),
            audience: audience.clone(),
            userinfo_url: self.userinfo_url.clone(),
        })
    }
}

/// Accepts `https` URLs (in a TLS build) and `http` URLs to a loopback host
/// only: keys and identities fetched in clear text from elsewhere could be
/// replaced by anyone on the path. Every refusal says how to fix it.
fn check_scheme(option: &str, url: &str) -> Result<()> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        bail!("{option} {url} is not a URL; give one such as https://issuer.example/...");
    };
    match parsed.scheme() {
        "https" if !cfg!(feature = "tls") => bail!(
            "{option} {url} needs HTTPS support: build the service with `--features tls` \
             (e.g. `cargo run --release -p users-service --features tls -- ...`)"
        ),
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let ip = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || ip
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                bail!(
                    "{option} {url} uses plain http:// to a host that is not loopback: use \
                     https:// (plain http:// is accepted only for 127.0.0.1, [::1] and localhost)"
                );
            }
            Ok(())
        }
        _ => bail!("{option} {url} must be an https:// URL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run without `USERS_*` settings in the environment (as CI runs it).
    #[test]
    fn the_command_line_defaults_are_the_configs() {
        let cli = Cli::try_parse_from(["users-service"]).expect("no arguments parse");
        assert_eq!(ServiceConfig::from(&cli.serve), ServiceConfig::default());
        let mint = Cli::try_parse_from(["users-service", "mint-token", "--sub", "github|1"]);
        let Some(Command::MintToken(args)) = mint.expect("mint-token parses").command else {
            panic!("mint-token is a subcommand");
        };
        let claims = Identity {
            subject: "github|1".into(),
            ..Identity::default()
        };
        assert_eq!((args.claims(), args.ttl), (claims, 3600));
    }
}
