//! Private files: the data directory and the database are readable by their
//! owner only, whatever the umask.
//!
//! SQLite creates a database's `-wal` and `-shm` files with the database
//! file's permissions, so a database file created here 0600 before SQLite
//! opens it keeps all three private.

use std::io;
use std::path::Path;

/// Mode of the data directory.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// Mode of the database files.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// Files SQLite keeps beside a database.
const SIDE_FILES: [&str; 2] = ["-wal", "-shm"];

/// Creates `dir` (and missing parents) readable by its owner only (0700).
/// An existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
        // The umask may have taken bits away; never added any.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Makes sure the database at `path` is private (0600) before SQLite opens
/// it: creates it empty if missing, and takes group and other bits away from
/// it and from its `-wal` and `-shm` files if they exist. Any of them owned
/// by another user is an error.
pub fn private_database(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(path)?;
        make_private(&file, path)?;
        for suffix in SIDE_FILES {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            match std::fs::OpenOptions::new().read(true).open(&side) {
                Ok(f) => make_private(&f, Path::new(&side))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = (path, SIDE_FILES);
        Ok(())
    }
}

/// Sets an open file of ours to 0600 unless it already is. A file of
/// another user is refused: whoever owns it can read and change the data.
#[cfg(unix)]
fn make_private(file: &std::fs::File, path: &Path) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = file.metadata()?;
    let me = current_uid();
    if meta.uid() != me {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is owned by user id {}, not by the user running the service \
                 (user id {me}); use a data directory of your own (--data-dir)",
                path.display(),
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o777 != FILE_MODE {
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(())
}

/// The effective user id of this process.
#[cfg(unix)]
pub fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directory_and_database_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("users.db");
        private_database(&db).unwrap();
        assert_eq!(mode(&db), 0o600);

        // Files left readable by an older version are tightened.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wal = dir.join("users.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_database(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&wal), 0o600);

        // Another user's file is refused (only root can make one to test).
        if current_uid() == 0 {
            std::os::unix::fs::chown(&wal, Some(65534), None).unwrap();
            let err = private_database(&db).unwrap_err().to_string();
            assert!(err.contains("owned by user id 65534"), "{err}");
        }
    }
}
