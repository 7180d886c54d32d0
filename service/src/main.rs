//! `users-service`: run the Users API, or mint a development token.

use anyhow::{Context, Result};
use clap::Parser;
use users_service::auth::devkey;
use users_service::config::{self, Cli, Command, MintArgs, ServiceConfig};
use users_service::ops::endpoints::AdminListener;
use users_service::{admin, ops, setup};

fn main() -> Result<()> {
    users_service::memory::tune_allocator();
    let cli = Cli::parse();
    let data_dir = config::data_dir(cli.data_dir)?;
    match cli.command {
        Some(Command::MintToken(args)) => mint(&data_dir, args),
        Some(Command::Applications(command)) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(admin::applications(
                &data_dir,
                &cli.database,
                command,
                &mut std::io::stdout(),
            )),
        Some(Command::Serve) | None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(serve(
                &data_dir,
                &cli.database,
                &ServiceConfig::from(&cli.serve),
            )),
    }
}

fn mint(data_dir: &std::path::Path, args: MintArgs) -> Result<()> {
    let key = devkey::load_or_create(data_dir)?;
    let token = devkey::mint(&key, &args.claims(), args.ttl)?;
    println!("{token}");
    Ok(())
}

async fn serve(
    data_dir: &std::path::Path,
    database: &config::DatabaseArgs,
    config: &ServiceConfig,
) -> Result<()> {
    let _flush_log_at_exit = ops::logging::init(config.ops.log_format);
    // Before anything records a metric.
    let metrics = config.ops.metrics.then(ops::prometheus::Metrics::install);
    let metrics = metrics.transpose()?;

    let (app, store) = setup::build(data_dir, database, config).await?;
    let db = store.describe();

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; choose another address with --listen 127.0.0.1:8080 \
                 (or USERS_LISTEN); ports below 1024 need extra privileges",
                config.listen
            )
        })?;
    let addr = listener.local_addr()?;
    // Handlers before the readiness line: once it is out, SIGTERM is a clean stop.
    let shutdown = shutdown_signal()?;
    let health = ops::health::Health::new(store.clone(), config.ops.fault_ready_while_draining);
    let admin = match config.ops.admin_listen {
        Some(at) => Some(AdminListener::start(at, health.clone(), metrics, store.clone()).await?),
        None => None,
    };
    // Not ready at once on SIGTERM; the listener closes after the drain delay.
    let shutdown = ops::health::drain_after(health, shutdown, config.ops.drain_delay);
    tracing::info!(%addr, database = %db, "listening");
    println!("users-service listening on http://{addr}");
    tracing::info!("API reference: http://{addr}/docs");

    users_service::serve::serve(listener, app, config.listener, shutdown).await?;
    if let Some(admin) = admin {
        admin.stop().await?;
    }
    store.close()?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Installs the SIGTERM and Ctrl-C handlers now; the future completes on
/// the first of them.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        let installed = |kind| signal(kind).context("installing a signal handler");
        (
            installed(SignalKind::terminate())?,
            installed(SignalKind::interrupt())?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}
