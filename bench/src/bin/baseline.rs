//! `users-bench-baseline`: the fastest thing that can answer like the service.
//!
//! It serves `GET /users` and `GET /users/{id}` with response bytes captured
//! from the real service, held in memory: no authentication, no storage, no
//! serialization. The benchmarks compare the service against it, so the
//! ratios show what the service's own work costs on this machine.
//!
//! ```text
//! users-bench-baseline --dir DIR [--listen 127.0.0.1:0]
//! ```
//!
//! `DIR` holds `users.json` (the body of `GET /users`) and `user-<id>.json`
//! files (bodies of `GET /users/<id>`). It prints one line,
//! `users-bench-baseline listening on http://ADDR`, and stops on SIGTERM or
//! Ctrl-C. Like the service, it uses axum over a multi-threaded tokio runtime.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

struct Bodies {
    list: Bytes,
    users: HashMap<String, Bytes>,
}

fn json(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn list(State(b): State<Arc<Bodies>>) -> Response {
    json(StatusCode::OK, b.list.clone())
}

async fn one(State(b): State<Arc<Bodies>>, Path(id): Path<String>) -> Response {
    match b.users.get(&id) {
        Some(body) => json(StatusCode::OK, body.clone()),
        None => json(
            StatusCode::NOT_FOUND,
            Bytes::from_static(br#"{"status":404,"code":"not_found","message":"no such user"}"#),
        ),
    }
}

fn load(dir: &std::path::Path) -> Result<Bodies> {
    let list = std::fs::read(dir.join("users.json"))
        .with_context(|| format!("reading {}/users.json", dir.display()))?;
    let mut users = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(id) = name
            .strip_prefix("user-")
            .and_then(|n| n.strip_suffix(".json"))
        {
            users.insert(id.to_string(), Bytes::from(std::fs::read(&path)?));
        }
    }
    Ok(Bodies {
        list: Bytes::from(list),
        users,
    })
}

fn main() -> Result<()> {
    let mut dir: Option<PathBuf> = None;
    let mut listen = "127.0.0.1:0".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => dir = args.next().map(PathBuf::from),
            "--listen" => listen = args.next().context("--listen needs an address")?,
            other => bail!(
                "unknown argument {other}; usage: users-bench-baseline --dir DIR [--listen ADDR]"
            ),
        }
    }
    let dir = dir.context("usage: users-bench-baseline --dir DIR [--listen ADDR]")?;
    let bodies = Arc::new(load(&dir)?);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let app = Router::new()
                .route("/users", get(list))
                .route("/users/{id}", get(one))
                .with_state(bodies);
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            println!(
                "users-bench-baseline listening on http://{}",
                listener.local_addr()?
            );
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let mut term =
                        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                            .expect("SIGTERM handler");
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = tokio::signal::ctrl_c() => {},
                    }
                })
                .await?;
            Ok(())
        })
}
