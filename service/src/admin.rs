//! `users-service applications …`: the operator's registry of applications.

use std::path::Path;

use anyhow::{Context, Result, bail};
use uuid::Uuid;

use crate::config::{ApplicationsCommand, DatabaseArgs};
use crate::setup::open_store;
use crate::store::ApplicationStore;

/// Runs one `applications` command against the database (by default the data
/// directory's), writing its result to `out`.
pub async fn applications(
    data_dir: &Path,
    database: &DatabaseArgs,
    command: ApplicationsCommand,
    out: &mut impl std::io::Write,
) -> Result<()> {
    let store = open_store(data_dir, database).await?;
    match command {
        ApplicationsCommand::Add { name } => {
            if name.trim().is_empty() || name.chars().any(char::is_control) || name.len() > 200 {
                bail!("an application name must be 1 to 200 printable characters");
            }
            let id = store.add_application(name).await?;
            writeln!(out, "{id}")?;
        }
        ApplicationsCommand::List => {
            for (id, name) in store.applications().await? {
                writeln!(out, "{id}\t{name}")?;
            }
        }
        ApplicationsCommand::Remove { id } => {
            let parsed = Uuid::try_parse(&id)
                .context("an application id is a UUID, as `applications add` printed it")?;
            if !store.remove_application(parsed).await? {
                bail!("no application with id {parsed} is registered");
            }
            writeln!(out, "removed {parsed}")?;
        }
    }
    Ok(())
}
