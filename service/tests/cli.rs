//! The `users-service` command line. (Integration tests here also make
//! `cargo test --workspace` build the binary the cross-crate tests start.)

use std::process::Command;

fn service() -> Command {
    Command::new(env!("CARGO_BIN_EXE_users-service"))
}

/// Starts `serve` with `args` on a fresh data dir, expects it to refuse, and
/// returns what it said on stderr.
fn refused(args: &[&str]) -> String {
    users_harness::service::ServiceProcess::builder()
        .bin(env!("CARGO_BIN_EXE_users-service"))
        .args(args)
        .log_level("error")
        .refused()
}

#[test]
fn help_lists_every_option_with_its_env_var() {
    let out = service().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--listen",
        "--data-dir",
        "--jwks-file",
        "--jwks-url",
        "--issuer",
        "--audience",
        "--userinfo-url",
        "USERS_LISTEN",
        "USERS_DATA_DIR",
        "mint-token",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

#[test]
fn mint_token_prints_a_jwt_and_keeps_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mint = || {
        let out = service()
            .args([
                "--data-dir",
                dir.path().to_str().unwrap(),
                "mint-token",
                "--sub",
                "github|1",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let token = mint();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let key = std::fs::read_to_string(dir.path().join("dev-hs256.key")).unwrap();
    assert_eq!(key.trim().len(), 64);
    mint();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dev-hs256.key")).unwrap(),
        key
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("dev-hs256.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is private");
    }
}

#[test]
fn issuer_without_keys_is_refused() {
    let err = refused(&["--issuer", "https://issuer.example/"]);
    assert!(err.contains("--jwks-url"), "{err}");
}

#[cfg(not(feature = "tls"))]
#[test]
fn https_jwks_without_tls_says_how_to_enable_it() {
    let err = refused(&[
        "--jwks-url",
        "https://issuer.example/.well-known/jwks.json",
        "--issuer",
        "https://issuer.example/",
        "--audience",
        "x",
    ]);
    assert!(err.contains("--features tls"), "{err}");
}
