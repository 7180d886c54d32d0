//! A progenitor panic on one thread is reported as that generation's error,
//! without printing, while a generation on another thread goes on; and a
//! later panic elsewhere still prints its message (the process-wide panic
//! hook is never left swapped out).
//!
//! The scenario runs in a child process (this test binary, re-run with an
//! environment variable) so its stderr can be read whole.

use std::process::Command;

use users_api_codegen::{Options, Spec, generate};

const CHILD: &str = "PANIC_ISOLATION_CHILD";
const LATER: &str = "a later panic, after generation";

/// progenitor asserts that path parameters are required.
const PANICKING: &str = r#"
openapi: 3.0.3
info: { title: Panics, version: 1.0.0 }
paths:
  /things/{id}:
    get:
      operationId: get_thing
      parameters:
        - { name: id, in: path, required: false, schema: { type: string } }
      responses:
        '204': { description: Done. }
"#;

fn options() -> Options {
    Options {
        error_schema: "Error".into(),
        strict: false,
        client_extras: false,
        ..Options::default()
    }
}

/// The child: two generations at once, one panicking inside progenitor,
/// then a panic of its own.
fn child() {
    let ours = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/users.yaml"))
        .unwrap();
    let (bad, good) = std::thread::scope(|scope| {
        let bad = scope.spawn(|| {
            (0..4)
                .map(|_| generate(&Spec::parse("panics.yaml", PANICKING).unwrap(), &options()))
                .collect::<Vec<_>>()
        });
        let good = scope.spawn(|| {
            (0..2)
                .map(|_| generate(&Spec::parse("users.yaml", &ours).unwrap(), &options()))
                .collect::<Vec<_>>()
        });
        (bad.join().unwrap(), good.join().unwrap())
    });
    for result in bad {
        let message = result.expect_err("progenitor panics").to_string();
        assert!(
            message.contains("progenitor panicked") && message.contains("required"),
            "{message}"
        );
    }
    for result in good {
        result.expect("our spec generates meanwhile");
    }
    eprintln!("generations done");
    panic!("{LATER}");
}

#[test]
fn a_progenitor_panic_is_an_error_and_later_panics_still_print() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_progenitor_panic_is_an_error_and_later_panics_still_print",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the child's own panic fails it");
    assert!(stderr.contains("generations done"), "{stderr}");
    assert!(
        stderr.contains(LATER),
        "the later panic's message was lost:\n{stderr}"
    );
    assert!(
        !stderr.contains("assertion failed"),
        "progenitor's caught panic was printed:\n{stderr}"
    );
}
