//! Private files: the data directory and the database are readable by their
//! owner only, whatever the umask; a data directory another user owns or
//! could write is refused, and files in it are opened without following
//! symbolic links (a planted link cannot redirect a write or a `chmod`) or
//! blocking on a FIFO.
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

/// Whether [`open_regular`] follows a symbolic link at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow it (files the operator points to, such as a JWKS).
    Follow,
    /// Refuse it (files in the data directory).
    Refuse,
}

/// Opens an existing file with `options`, never blocking on a FIFO and,
/// with [`Links::Refuse`], never through a symbolic link; anything but a
/// regular file is refused with an error saying what it is.
pub fn open_regular(
    path: &Path,
    options: &mut std::fs::OpenOptions,
    links: Links,
) -> io::Result<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = if links == Links::Refuse {
            libc::O_NOFOLLOW
        } else {
            0
        };
        options.custom_flags(libc::O_NONBLOCK | nofollow);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is a symbolic link; the service does not follow links in its data \
                     directory (someone may have planted it): replace it with the file itself",
                    path.display()
                ),
            );
        }
        e
    })?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is not a regular file (a directory, FIFO, socket or device); \
                 remove it or point the service elsewhere",
                path.display()
            ),
        ));
    }
    Ok(file)
}

/// Creates `dir` (and missing parents) readable by its owner only (0700).
/// An existing directory must belong to the user running the service and
/// not be writable by group or others: whoever can write it can plant or
/// replace the database and the development key.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return check_own_dir(dir);
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

/// Refuses an existing directory owned by another user or writable by
/// group or others.
#[cfg(unix)]
fn check_own_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir)?;
    let me = current_uid();
    if meta.uid() != me {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "data directory {} is owned by user id {}, not by the user running the \
                 service (user id {me}); use a directory of your own (--data-dir)",
                dir.display(),
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "data directory {} can be written by other users (mode {:03o}), who could \
                 plant or replace its files; make it private with `chmod 700 {}`",
                dir.display(),
                meta.mode() & 0o777,
                dir.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_own_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Makes sure the database at `path` is private (0600) before SQLite opens
/// it: creates it empty if missing, and takes group and other bits away from
/// it and from its `-wal` and `-shm` files if they exist. Any of them owned
/// by another user, a symbolic link or not a regular file is an error.
pub fn private_database(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let file = open_regular(
            path,
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(FILE_MODE),
            Links::Refuse,
        )?;
        make_private(&file, path)?;
        for suffix in SIDE_FILES {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side_path = Path::new(&side);
            match open_regular(
                side_path,
                std::fs::OpenOptions::new().read(true),
                Links::Refuse,
            ) {
                Ok(f) => make_private(&f, side_path)?,
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
