//! Where `users login` keeps its token between commands.
//!
//! The token is stored on its own in `<config>/users-cli/token` (mode 0600 on
//! Unix), so the file also works with `users login --token-file`. The id of the
//! user it signed in sits next to it in `<config>/users-cli/user`, which lets
//! `users logout` forget the token when that user signs out. `<config>` is
//! `$USERS_CONFIG_DIR` when set, else the platform's config directory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

/// Environment variable that overrides the base configuration directory.
pub const CONFIG_DIR_ENV: &str = "USERS_CONFIG_DIR";

/// A token saved by `users login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedLogin {
    /// The ID token.
    pub token: String,
    /// Id of the user it signed in, when known.
    pub user_id: Option<String>,
}

/// The directory holding the saved login.
#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    /// The store under `$USERS_CONFIG_DIR`, else under the platform config dir.
    pub fn locate() -> Result<Self> {
        let base = match std::env::var_os(CONFIG_DIR_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::config_dir().ok_or_else(|| {
                anyhow!("no configuration directory on this platform; set {CONFIG_DIR_ENV}")
            })?,
        };
        Ok(Self::in_dir(base.join("users-cli")))
    }

    /// A store in exactly this directory.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Path of the token file.
    pub fn token_path(&self) -> PathBuf {
        self.dir.join("token")
    }

    fn user_path(&self) -> PathBuf {
        self.dir.join("user")
    }

    /// The saved login, if there is one.
    pub fn load(&self) -> Result<Option<SavedLogin>> {
        let Some(token) = read_optional(&self.token_path())? else {
            return Ok(None);
        };
        let token = token.trim().to_string();
        if token.is_empty() {
            return Ok(None);
        }
        let user_id = read_optional(&self.user_path())?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Ok(Some(SavedLogin { token, user_id }))
    }

    /// Saves a login, replacing any previous one.
    pub fn save(&self, login: &SavedLogin) -> Result<()> {
        create_private_dir(&self.dir)?;
        write_private(&self.token_path(), &login.token)?;
        match &login.user_id {
            Some(id) => write_private(&self.user_path(), id)?,
            None => {
                remove_optional(&self.user_path())?;
            }
        }
        Ok(())
    }

    /// Deletes the saved login; whether there was one.
    pub fn delete(&self) -> Result<bool> {
        let had_token = remove_optional(&self.token_path())?;
        remove_optional(&self.user_path())?;
        Ok(had_token)
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn remove_optional(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot delete {}", path.display())),
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Writes `contents` to a new owner-only file next to `path`, then renames it
/// over `path`, so readers never see a partial token.
fn write_private(path: &Path, contents: &str) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::in_dir(dir.path().join("users-cli"));
        assert_eq!(store.load().unwrap(), None);

        let login = SavedLogin {
            token: "abc.def.ghi".into(),
            user_id: Some("67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
        };
        store.save(&login).unwrap();
        assert_eq!(store.load().unwrap(), Some(login));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.token_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        assert!(store.delete().unwrap());
        assert!(!store.delete().unwrap());
        assert_eq!(store.load().unwrap(), None);
    }
}
