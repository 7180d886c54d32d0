//! End-to-end tests: the real `users` binary against the real `users-service`.

mod common;

use common::{People, Service, Users, closed_port_url};

/// The `value` of `key` in the `field  value` block of a profile.
fn field<'a>(profile: &'a str, key: &str) -> Option<&'a str> {
    profile.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim())
    })
}

/// Ids in the first column of a table (header skipped).
fn table_ids(table: &str) -> Vec<&str> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

fn json_ids(value: &serde_json::Value) -> Vec<&str> {
    value
        .as_array()
        .expect("a JSON array of profiles")
        .iter()
        .map(|u| u["id"].as_str().expect("string id"))
        .collect()
}

#[test]
fn login_with_an_argument_prints_the_profile_and_saves_the_token() {
    let service = Service::start();
    let users = Users::new(&service.url);
    let token = service.ada();

    let run = users.run(&["login", &token]);
    let out = run.ok();
    let id = field(out, "id").expect("an id line");
    assert!(uuid_like(id), "{out}");
    assert_eq!(field(out, "username"), Some("ada"));
    assert_eq!(field(out, "email"), Some("ada@example.com"));
    assert_eq!(field(out, "name"), Some("Ada Lovelace"));
    assert_eq!(field(out, "providers"), Some("github (42)"));
    assert!(run.stderr.contains("signed in as ada"), "{run:#?}");
    assert!(run.stderr.contains("token saved to"), "{run:#?}");

    // Saved, owner-only, and used by the next command.
    let saved = std::fs::read_to_string(users.token_file()).expect("token file");
    assert_eq!(saved.trim(), token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(users.token_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "token file mode {mode:o}");
    }
    assert_eq!(table_ids(users.run(&["list"]).ok()), [id]);
}

#[test]
fn login_reads_the_token_from_a_file_or_stdin() {
    let service = Service::start();
    let users = Users::new(&service.url);

    // From a file, as JSON, without saving.
    let file = users.config.path().join("ada.jwt");
    std::fs::write(&file, format!("{}\n", service.ada())).unwrap();
    let ada = users.json(&["login", "--no-save", "--token-file", file.to_str().unwrap()]);
    assert_eq!(ada["username"], "ada");
    assert!(!users.token_file().exists(), "--no-save saves nothing");

    // From stdin: no argument at all, then an explicit `-`.
    let grace = service.grace();
    let run = users.run_with(&["login"], Some(&format!("{grace}\n")), &[]);
    assert_eq!(field(run.ok(), "username"), Some("grace"));
    assert_eq!(
        std::fs::read_to_string(users.token_file()).unwrap().trim(),
        grace
    );
    let run = users.run_with(&["login", "-", "--no-save"], Some(&grace), &[]);
    assert_eq!(field(run.ok(), "email"), Some("grace@example.com"));
    let run = users.run_with(&["login", "--token-file", "-"], Some(&grace), &[]);
    assert_eq!(field(run.ok(), "name"), Some("Grace Hopper"));

    // Nothing on stdin is a usage error; a missing file is an error too.
    let empty = users.run_with(&["login"], Some(""), &[]);
    assert!(empty.fails(2).contains("no token"), "{empty:#?}");
    let missing = users.run(&["login", "--token-file", "/nonexistent/token"]);
    assert!(
        missing.fails(1).contains("/nonexistent/token"),
        "{missing:#?}"
    );
}

#[test]
fn list_as_a_table_and_as_json() {
    let service = Service::start();
    let users = Users::new(&service.url);
    let ada = users.json(&["login", &service.ada()]);
    let grace = users.json(&["login", "--no-save", &service.grace()]);

    let table = users.run(&["list"]);
    let lines: Vec<&str> = table.ok().lines().collect();
    assert_eq!(lines.len(), 3, "{table:#?}");
    let header = lines[0];
    for column in ["ID", "USERNAME", "EMAIL", "NAME", "CREATED"] {
        assert!(header.contains(column), "{header}");
    }
    // Columns line up: each row's email starts under EMAIL.
    let email_col = header.find("EMAIL").unwrap();
    assert_eq!(
        lines[1].find("ada@example.com"),
        Some(email_col),
        "{table:#?}"
    );
    assert_eq!(
        lines[2].find("grace@example.com"),
        Some(email_col),
        "{table:#?}"
    );
    assert!(lines[1].contains("Ada Lovelace"), "{table:#?}");
    // Oldest first, as the API returns them.
    assert_eq!(
        table_ids(&table.stdout),
        [ada["id"].as_str().unwrap(), grace["id"].as_str().unwrap()]
    );

    let json = users.json(&["list"]);
    assert_eq!(json_ids(&json), table_ids(&table.stdout));
    assert_eq!(json[0]["email"], "ada@example.com");
    assert_eq!(json[1]["name"], "Grace Hopper");
    assert!(json[0]["created"]["value"].is_string());

    // --url works as well as USERS_URL, and --token as well as the saved one.
    let other = Users::new("http://127.0.0.1:9");
    let token = service.grace();
    let run = other.run(&["--url", &service.url, "list", "--token", &token]);
    assert_eq!(table_ids(run.ok()).len(), 2);
    let run = other.run_with(
        &["list"],
        None,
        &[("USERS_URL", &service.url), ("USERS_TOKEN", &token)],
    );
    assert_eq!(table_ids(run.ok()).len(), 2);
}

#[test]
fn get_one_user_and_an_unknown_one() {
    let service = Service::start();
    let users = Users::new(&service.url);
    let ada = users.json(&["login", &service.ada()]);
    let id = ada["id"].as_str().unwrap();

    let run = users.run(&["get", id]);
    let out = run.ok();
    assert_eq!(field(out, "id"), Some(id));
    assert_eq!(field(out, "email"), Some("ada@example.com"));
    assert_eq!(users.json(&["get", id]), ada);

    let unknown = "00000000-0000-4000-8000-000000000000";
    let run = users.run(&["get", unknown]);
    let error = run.fails(3);
    assert!(error.contains(unknown), "{run:#?}");
}

#[test]
fn logout_removes_the_user_and_forgets_its_saved_token() {
    let service = Service::start();
    let users = Users::new(&service.url);
    let ada = users.json(&["login", &service.ada()]);
    let grace = users.json(&["login", "--no-save", &service.grace()]);
    let (ada_id, grace_id) = (ada["id"].as_str().unwrap(), grace["id"].as_str().unwrap());

    // Signing out someone else keeps Ada's saved token.
    let run = users.run(&["logout", grace_id]);
    assert_eq!(table_ids(run.ok()), [ada_id]);
    assert!(
        run.stderr.contains(&format!("signed out {grace_id}")),
        "{run:#?}"
    );
    assert!(users.token_file().exists());
    users.run(&["get", grace_id]).fails(3);

    // Signing out Ada, the saved login's user, deletes the token.
    let run = users.run(&["--json", "logout", ada_id]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(run.ok()).unwrap(),
        serde_json::json!([])
    );
    assert!(run.stderr.contains("deleted the saved token"), "{run:#?}");
    assert!(!users.token_file().exists());
    // Nobody is signed in here now; the service's default (local) mode
    // still answers reads without a token.
    assert_eq!(users.run(&["list"]).ok(), "no users\n");

    // Signing out an unknown user is "not found".
    users.run(&["logout", ada_id]).fails(3);
}

#[test]
fn a_bad_token_is_unauthorized() {
    let service = Service::start();
    let users = Users::new(&service.url);

    let run = users.run(&["list", "--token", "not-a-jwt"]);
    assert!(run.fails(4).contains("users login"), "{run:#?}");
    let run = users.run_with(
        &["get", "00000000-0000-4000-8000-000000000000"],
        None,
        &[("USERS_TOKEN", "not-a-jwt")],
    );
    run.fails(4);

    // A token signed by another service's key, and an expired one.
    let stranger = Service::start();
    let run = users.run(&["login", &stranger.ada()]);
    assert!(run.fails(4).contains("refused the credentials"), "{run:#?}");
    assert!(
        !users.token_file().exists(),
        "a rejected token is not saved"
    );
    let expired = service.mint("github|42", &["--ttl=-600"]);
    users.run(&["login", &expired]).fails(4);

    // A saved token that stops working.
    std::fs::create_dir_all(users.token_file().parent().unwrap()).unwrap();
    std::fs::write(users.token_file(), "garbage\n").unwrap();
    let run = users.run(&["list"]);
    assert!(run.fails(4).contains("users login"), "{run:#?}");
}

#[test]
fn an_unreachable_service_is_exit_5_with_a_hint() {
    let url = closed_port_url();
    let users = Users::new(&url);
    let run = users.run(&["list", "--token", "x"]);
    let error = run.fails(5);
    assert!(error.contains(&url), "{run:#?}");
    assert!(
        error.contains(
            "is the service running? start it with `cargo run -p users-service` or pass --url"
        ),
        "{run:#?}"
    );
    users.run(&["login", "some-token"]).fails(5);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let users = Users::new(&closed_port_url());
    for args in [
        &["get", "not-a-uuid"][..],
        &["logout", "1234"],
        &["--json", "get", "x", "--token", "t"],
    ] {
        let run = users.run(args);
        assert!(run.fails(2).contains("not a valid user id"), "{run:#?}");
    }
    let run = users.run(&["--url", "localhost:1000", "list"]);
    assert!(run.fails(2).contains("http://"), "{run:#?}");
    users.run(&["get"]).fails(2);
    users.run(&["frobnicate"]).fails(2);
    users.run(&["login", "tok", "--token-file", "f"]).fails(2);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|&c| c == '-').count() == 4
}
