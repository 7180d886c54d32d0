//! Test harness: the real `users-service` binary and the real `users` binary.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The real `users-service` on a free loopback port with a fresh data dir
/// (the cross-crate tests' harness).
pub use users_harness::service::ServiceProcess as Service;

/// Development tokens for the two test users.
pub trait People {
    /// A token for Ada (`github|42`).
    fn ada(&self) -> String;
    /// A token for Grace (`google-oauth2|7`).
    fn grace(&self) -> String;
}

impl People for Service {
    fn ada(&self) -> String {
        let extra = [
            "--email",
            "ada@example.com",
            "--name",
            "Ada Lovelace",
            "--nickname",
            "ada",
        ];
        self.mint("github|42", &extra)
    }

    fn grace(&self) -> String {
        let extra = [
            "--email",
            "grace@example.com",
            "--name",
            "Grace Hopper",
            "--nickname",
            "grace",
        ];
        self.mint("google-oauth2|7", &extra)
    }
}

/// What a run of `users` produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        &self.stdout
    }

    /// Asserts the exit code, no stdout, and exactly one `error: ...` line on
    /// stderr (clap's usage errors add a `--help` note below it); returns it.
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(self.code, code, "expected exit code {code}, got {self:#?}");
        assert!(self.stdout.is_empty(), "no output on failure: {self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        let error = lines
            .iter()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no `error:` line: {self:#?}"));
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("error")).count(),
            1,
            "one error line: {self:#?}"
        );
        error
    }
}

/// Runs the `users` binary with its own (temporary) config dir, pointed at `url`.
pub struct Users {
    /// Base URL passed as `USERS_URL`.
    pub url: String,
    /// Value of `USERS_CONFIG_DIR`.
    pub config: tempfile::TempDir,
}

impl Users {
    /// A CLI talking to `url`, with an empty config dir.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            config: tempfile::tempdir().expect("temporary config dir"),
        }
    }

    /// Where `users login` saves the token.
    pub fn token_file(&self) -> PathBuf {
        self.config.path().join("users-cli").join("token")
    }

    /// Runs `users ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    /// Runs `users ARGS` with standard input and extra environment.
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_users"));
        cmd.args(args)
            .env_remove("USERS_TOKEN")
            .env("USERS_URL", &self.url)
            .env("USERS_CONFIG_DIR", self.config.path())
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the users binary starts");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("users runs");
        Run {
            code: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        }
    }

    /// `users --json ARGS`, parsed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        serde_json::from_str(run.ok()).unwrap_or_else(|e| panic!("not JSON ({e}): {run:#?}"))
    }
}

/// A loopback address nobody listens on.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}")
}
