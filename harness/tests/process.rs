//! The harness against the real `users-service` binary (build it first:
//! `cargo build -p users-service --bins`) and a silent program.

use std::time::Duration;

use users_harness::process::{Error, Launch};
use users_harness::service::ServiceProcess;

#[test]
fn a_service_is_ready_answers_stops_cleanly_and_restarts_on_a_new_port() {
    let mut s = ServiceProcess::start();
    let first = s.url.clone();
    let spec = std::net::TcpStream::connect(s.addr());
    assert!(spec.is_ok(), "ready means listening: {first}");
    let status = s.stop();
    assert!(
        status.success(),
        "SIGTERM is a clean exit: {status}\n{}",
        s.log()
    );
    assert!(
        std::net::TcpStream::connect(first.trim_start_matches("http://")).is_err(),
        "stopped means not listening"
    );
    s.restart();
    assert_ne!(s.url, first);
    assert!(std::net::TcpStream::connect(s.addr()).is_ok());
    s.kill();
    assert!(s.log().contains("listening"), "{}", s.log());
}

#[test]
fn a_refusal_carries_the_services_own_words() {
    let log = ServiceProcess::builder()
        .args(["--issuer", "https://issuer.example/"])
        .log_level("error")
        .refused();
    assert!(log.contains("--jwks-url"), "{log}");
}

#[test]
fn a_silent_program_times_out_with_its_log_attached() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("silent");
    std::fs::write(
        &program,
        "#!/bin/sh\necho 'still starting' >&2\nexec sleep 30\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let started = std::time::Instant::now();
    let err = Launch::new(&program, dir.path().join("silent.log"))
        .ready_timeout(Duration::from_millis(300))
        .start()
        .err()
        .expect("never ready");
    assert!(started.elapsed() < Duration::from_secs(5));
    let Error::NotReady { reason, log, .. } = &err else {
        panic!("{err}");
    };
    assert!(reason.contains("no readiness line"), "{reason}");
    assert!(log.contains("still starting"), "{log}");
    assert!(err.to_string().contains("still starting"), "{err}");
}
