//! The skeleton server, generated for a crafted spec
//! (`tests/skeleton/examples.yaml`), built, started on a free loopback port
//! and called over HTTP: operations with an example answer exactly that
//! example (read from the spec file here, not from the generator); those
//! without a usable one a value made from the schema; where none can be
//! made, `501` in the spec's error schema; all after the stubs' checks.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use users_api_codegen::{Options, Runtimes, Spec, generate, standalone_workspace};

const SLUG: &str = "skeleton-examples";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen lives in the workspace")
        .to_path_buf()
}

/// The target directory this test runs from (`…/target/debug/deps/x` -> `…/target`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

fn spec_path() -> PathBuf {
    root().join("codegen/tests/skeleton/examples.yaml")
}

/// The spec file as JSON, read independently of the generator.
fn spec_json() -> Value {
    let text = std::fs::read_to_string(spec_path()).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Generates the crates into `out` as a workspace of their own; builds the
/// skeleton and returns its binary.
fn build_skeleton(out: &Path) -> PathBuf {
    let options = Options::named(SLUG).with_skeleton(format!("{SLUG}-server"));
    let spec = Spec::read(&spec_path()).unwrap();
    for f in generate(&spec, &options).unwrap() {
        let path = out.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &f.contents).unwrap();
    }
    let manifest = standalone_workspace(
        &["types", "server-stubs", "server"],
        &[
            (&format!("{SLUG}-types"), "types"),
            (&format!("{SLUG}-server-stubs"), "server-stubs"),
        ],
        &Runtimes::in_project(&root()),
    );
    std::fs::write(out.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root().join("Cargo.lock"), out.join("Cargo.lock")).unwrap();
    // Shared with `cargo xtask corpus` and the compile test: the runtime
    // crates are built once.
    let target = target_dir().join("corpus/check-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--quiet", "-p", &format!("{SLUG}-server")])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the skeleton does not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target
        .join("debug")
        .join(format!("{SLUG}-server{}", std::env::consts::EXE_SUFFIX))
}

/// The running skeleton, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts `bin` on port 0 and reads the address it printed.
    fn start(bin: &Path) -> Self {
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status, content type and JSON body (`Null` when empty).
async fn call(request: reqwest::RequestBuilder) -> (u16, String, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, content_type, body)
}

/// A `501` in the spec's `Error` schema: exactly its three properties.
fn assert_not_implemented((status, content_type, body): (u16, String, Value)) {
    assert_eq!(status, 501, "{body}");
    assert_eq!(content_type, "application/json");
    let object = body.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message", "status"], "{body}");
    assert_eq!(body["status"], 501);
    assert_eq!(body["code"], "not_implemented");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// A `Pet` the skeleton made: an integer `id` and a non-empty `name`.
fn assert_made_pet(body: &Value) {
    assert!(body["id"].is_i64(), "{body}");
    assert!(
        body["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn answers_with_the_spec_examples_else_501() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&build_skeleton(dir.path()));
    let spec = spec_json();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);

    // The media type's `example`.
    let expected = &spec["paths"]["/pets/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
        ["example"];
    let answer = call(http.get(url("/pets/7"))).await;
    assert_eq!(answer, (200, "application/json".into(), expected.clone()));

    // A named example, through `#/components/examples`.
    let expected = &spec["components"]["examples"]["FewPets"]["value"];
    let answer = call(http.get(url("/pets?limit=2"))).await;
    assert_eq!(answer, (200, "application/json".into(), expected.clone()));

    // The schema's `example`.
    let expected = &spec["components"]["schemas"]["Status"]["example"];
    let answer = call(http.get(url("/status"))).await;
    assert_eq!(answer, (200, "application/json".into(), expected.clone()));

    // A success without a body needs no example.
    let (status, _, body) = call(http.delete(url("/pets/7"))).await;
    assert_eq!((status, body), (204, Value::Null));

    // A `2XX` range without a body: its variant carries a status (200).
    let (status, _, body) = call(http.get(url("/ranged"))).await;
    assert_eq!((status, body), (200, Value::Null));

    // No example: a `Pet` made from the schema (never the request's).
    let pet = json!({"id": 3, "name": "Cy"});
    let (status, content_type, body) = call(http.post(url("/pets")).json(&pet)).await;
    assert_eq!((status, content_type.as_str()), (201, "application/json"));
    assert_made_pet(&body);
    assert_ne!(body["name"], "Cy");
    // An example that is not a `Pet`: one made from the schema instead.
    let example = &spec["paths"]["/broken"]["get"]["responses"]["200"]["content"]["application/json"]
        ["example"];
    let (status, _, body) = call(http.get(url("/broken"))).await;
    assert_eq!(status, 200);
    assert_ne!(&body, example);
    assert_made_pet(&body);
    // An example that decodes but breaks its own schema (`age` over its
    // `maximum`): not sent (the response checks would make it a 500).
    let example = &spec["paths"]["/contradicts"]["get"]["responses"]["200"]["content"]["application/json"]
        ["example"];
    let maximum = &spec["components"]["schemas"]["Animal"]["properties"]["age"]["maximum"];
    let (status, _, body) = call(http.get(url("/contradicts"))).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(&body, example);
    assert!(
        body["age"].as_i64().unwrap() <= maximum.as_i64().unwrap(),
        "{body}"
    );
    // No example and no value can be made: 501 in the error schema.
    assert_not_implemented(call(http.get(url("/unmakeable"))).await);

    // The stubs' checks run first: a malformed request is refused, not 501.
    // `get_pet` documents 404, not 400: a malformed id is answered 404.
    let documented = &spec["paths"]["/pets/{id}"]["get"]["responses"];
    assert!(documented.get("400").is_none() && documented.get("404").is_some());
    let (status, _, body) = call(http.get(url("/pets/seven"))).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["status"], 404);
    assert_eq!(body["code"], "not_found");
    let (status, _, body) = call(http.post(url("/pets")).json(&json!({"id": 3}))).await;
    assert!(matches!(status, 400 | 422), "{status} {body}");

    // Cookie parameters, checked against their schemas before the example.
    let ok = &spec["paths"]["/session"]["get"]["responses"]["200"]["content"]["application/json"]["example"];
    let session_at = |query: &str, cookie: &str| {
        http.get(url(&format!("/session{query}")))
            .header("cookie", cookie)
    };
    let session = |cookie: &str| session_at("", cookie);
    let answer = call(session("theme=dark; sid=0a1b2c3d; visits=1000")).await;
    assert_eq!(answer, (200, "application/json".into(), ok.clone()));
    for (cookie, says) in [
        ("theme=dark", "cookie parameter `sid`"),
        (
            "sid=SECRETXY",
            "cookie parameter `sid`: must match the pattern",
        ),
        (
            "sid=0a1b2c3d; visits=1001",
            "cookie parameter `visits`: must be <= 1000",
        ),
        (
            "sid=0a1b2c3d; visits=lots",
            "cookie parameter `visits` must be an integer",
        ),
    ] {
        let (status, _, body) = call(session(cookie)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{cookie}: {body}"
        );
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{cookie}: {message}");
        for secret in ["SECRETXY", "1001", "lots"] {
            assert!(!message.contains(secret), "{message} echoes {secret}");
        }
    }
    // An integer without `format` or bounds: any size is valid, none is
    // refused (2^127 - 1, then beyond u64 and i128 alike); a fraction is.
    for n in [
        "170141183460469231731687303715884105727",
        "-99999999999999999999999999999999999999999",
    ] {
        let answer = call(session_at(&format!("?n={n}"), "sid=0a1b2c3d")).await;
        assert_eq!(
            answer,
            (200, "application/json".into(), ok.clone()),
            "n={n}"
        );
    }
    let (status, _, body) = call(session_at("?n=1.5", "sid=0a1b2c3d")).await;
    assert_eq!(status, 400, "{body}");
}
