//! Issue 21's probes against the real binary: each hole it found, tried
//! again the way it was found.
//!
//! Everything runs on loopback, in temporary directories, on ports the
//! system picks. A second client is told apart from the first by its source
//! address (127.0.0.2: all of 127.0.0.0/8 is loopback on Linux).

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use serde_json::{Value, json};
use users_harness::client::sign_in_json;
use users_harness::service::ServiceProcess;
use users_harness::tokens::{TestKey, claims, write_jwks};
use users_service::auth::devkey;

/// The real binary of this package on a free loopback port and a fresh
/// data directory.
fn start(args: &[&str]) -> ServiceProcess {
    ServiceProcess::builder()
        .bin(env!("CARGO_BIN_EXE_users-service"))
        .args(args)
        .start()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Starts `serve` with `args` on a data directory prepared by `prepare`,
/// expects a refusal, and returns what it logged.
fn refused(prepare: impl FnOnce(&Path), args: &[&str]) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("data");
    prepare(&data_dir);
    ServiceProcess::builder()
        .bin(env!("CARGO_BIN_EXE_users-service"))
        .data_dir(&data_dir)
        .args(args)
        .log_level("error")
        .refused()
}

/// An HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }

    /// The value of header `name` (the first, case-insensitive).
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }
}

/// Sends `head` (the request line and headers, without the blank line),
/// then `body`, from `source` (default 127.0.0.1) and reads one answer.
fn raw(addr: SocketAddr, source: Option<IpAddr>, head: &[u8], body: &[u8]) -> Answer {
    let mut stream = match source {
        None => TcpStream::connect(addr).expect("connect"),
        Some(ip) => {
            let socket = socket_from(ip);
            socket.connect(&addr.into()).expect("connect");
            socket.into()
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = head.to_vec();
    request.extend_from_slice(
        format!(
            "\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    request.extend_from_slice(body);
    stream.write_all(&request).expect("send");
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// A TCP socket bound to `ip` (any port), ready to connect.
fn socket_from(ip: IpAddr) -> socket2::Socket {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::new(ip, 0).into())
        .expect("bind a second loopback address");
    socket
}

/// One request with the usual headers.
fn request(
    addr: SocketAddr,
    source: Option<IpAddr>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}");
    for (k, v) in headers {
        head.push_str(&format!("\r\n{k}: {v}"));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    if !body.is_empty() {
        head.push_str("\r\ncontent-type: application/json");
    }
    raw(addr, source, head.as_bytes(), body.as_bytes())
}

fn sign_in_with(addr: SocketAddr, source: Option<IpAddr>, body: &Value) -> Answer {
    request(
        addr,
        source,
        "POST",
        "/users/authenticate/from_token",
        &[],
        Some(body),
    )
}

fn sign_in(addr: SocketAddr, id_token: &str) -> Answer {
    sign_in_with(addr, None, &sign_in_json(id_token))
}

/// A sign-in body with an access token only (checked at userinfo).
fn access_token_body(token: &str) -> Value {
    json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
}

const OTHER_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

/// A loopback userinfo endpoint: `good-NAME` tokens are user `github|NAME`,
/// anything else is answered 401. Returns its URL and its call count.
fn userinfo_server() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/userinfo", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1000) {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            let token = head
                .lines()
                .find_map(|l| l.strip_prefix("authorization: bearer "))
                .unwrap_or_default()
                .trim()
                .to_string();
            let (status, body) = match token.strip_prefix("good-") {
                Some(name) => ("200 OK", format!(r#"{{"sub":"github|{name}"}}"#)),
                None => ("401 Unauthorized", r#"{"error":"invalid_token"}"#.into()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, calls)
}

// ------------------------------------------------------------- userinfo

/// 25 junk tokens a second from one client made every real sign-in fail
/// with 401. Now the junk client runs into its own limit (503 with
/// `Retry-After`, never 401 for the limit) and others sign in.
#[test]
fn junk_access_tokens_from_one_client_do_not_block_the_others() {
    let (url, _calls) = userinfo_server();
    let service = start(&["--userinfo-url", &url]);
    let addr = service.addr();
    let mut limited = 0;
    for i in 0..40 {
        let answer = sign_in_with(
            addr,
            Some(OTHER_CLIENT),
            &access_token_body(&format!("junk-{i}")),
        );
        match answer.status {
            401 => assert!(
                !answer.body.contains("too many"),
                "a limit is not a bad token: {answer:?}"
            ),
            503 => {
                assert_eq!(answer.header("retry-after"), Some("1"), "{answer:?}");
                assert_eq!(answer.json()["code"], "service_unavailable");
                limited += 1;
            }
            _ => panic!("junk token {i}: {answer:?}"),
        }
    }
    assert!(limited > 0, "the junk client reached its limit");
    for i in 0..6 {
        let answer = sign_in_with(addr, None, &access_token_body(&format!("good-{i}")));
        assert_eq!(answer.status, 200, "real sign-in {i}: {answer:?}");
    }
}

/// A userinfo identity carries no `iat`; it counted as revoked by any
/// sign-out, for good. Now it is vouched for when the provider answers.
#[test]
fn a_userinfo_user_signs_in_again_after_signing_out() {
    let (url, calls) = userinfo_server();
    let service = start(&["--userinfo-url", &url]);
    let addr = service.addr();
    let first = sign_in_with(addr, None, &access_token_body("good-ada"));
    assert_eq!(first.status, 200, "{first:?}");
    let id = first.json()["id"].as_str().unwrap().to_string();
    let out = request(
        addr,
        None,
        "POST",
        &format!("/users/{id}/disconnect"),
        &[],
        None,
    );
    assert_eq!(out.status, 200, "{out:?}");
    // Revocations have one-second resolution.
    std::thread::sleep(Duration::from_millis(1100));
    let before = calls.load(Ordering::SeqCst);
    let again = sign_in_with(addr, None, &access_token_body("good-ada"));
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.json()["id"], id.as_str());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        before + 1,
        "asked the provider again, not a remembered answer"
    );
}

// ----------------------------------------------------------------- tokens

/// Sign-in and sign-out of one user sent together: whichever order they
/// commit in, an acknowledged sign-out leaves the user gone (the sign-in's
/// token was issued before it).
#[test]
fn a_sign_in_racing_a_sign_out_never_brings_the_user_back() {
    let service = start(&[]);
    let addr = service.addr();
    let mut back = Vec::new();
    for trial in 0..8 {
        let token = service.mint(&format!("github|race{trial}"), &[]);
        let first = sign_in(addr, &token);
        assert_eq!(first.status, 200, "{first:?}");
        let id = first.json()["id"].as_str().unwrap().to_string();
        let barrier = Arc::new(Barrier::new(2));
        let out = {
            let (barrier, id) = (barrier.clone(), id.clone());
            std::thread::spawn(move || {
                barrier.wait();
                request(
                    addr,
                    None,
                    "POST",
                    &format!("/users/{id}/disconnect"),
                    &[],
                    None,
                )
            })
        };
        barrier.wait();
        let again = sign_in(addr, &token);
        let out = out.join().unwrap();
        assert!(matches!(again.status, 200 | 401), "{again:?}");
        assert_eq!(out.status, 200, "{out:?}");
        let now = request(addr, None, "GET", &format!("/users/{id}"), &[], None);
        if now.status != 404 {
            back.push((trial, again.status, now.status));
        }
    }
    assert!(back.is_empty(), "signed out, yet present: {back:?}");
}

/// A token "issued" in the future outlived every sign-out.
#[test]
fn tokens_issued_in_the_future_are_refused() {
    let service = start(&[]);
    let key = devkey::load_or_create(&service.data_dir).unwrap();
    let now = chrono::Utc::now().timestamp();
    for iat in [json!(now + 3600), json!(u64::MAX)] {
        let claims = json!({"iss": devkey::DEV_ISSUER, "aud": devkey::DEV_AUDIENCE,
            "sub": "github|future", "iat": iat, "exp": now + 7200});
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&key).unwrap(),
        )
        .unwrap();
        let answer = sign_in(service.addr(), &token);
        assert_eq!(answer.status, 401, "iat {iat}: {answer:?}");
        assert!(answer.body.contains("`iat`"), "{answer:?}");
    }
    // Within the clock leeway is fine.
    let token = service.mint("github|present", &[]);
    assert_eq!(sign_in(service.addr(), &token).status, 200);
}

/// A JWKS key id made up by anyone used the one reload slot of 10 s, so a
/// real new key was refused meanwhile.
#[test]
fn made_up_key_ids_do_not_hold_back_a_real_new_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (TestKey::ec("a", tmp.path()), TestKey::ec("b", tmp.path()));
    let junk = TestKey::ec("junk", tmp.path());
    let file = tmp.path().join("jwks.json");
    write_jwks(&file, &[&a]);
    let (issuer, audience) = ("https://issuer.example/", "holes-tests");
    let service = start(&[
        "--jwks-file",
        file.to_str().unwrap(),
        "--issuer",
        issuer,
        "--audience",
        audience,
        "--access",
        "tokens",
    ]);
    let addr = service.addr();
    let token = |key: &TestKey, sub: &str| key.sign(&claims(issuer, audience, sub));
    assert_eq!(sign_in(addr, &token(&a, "github|a")).status, 200);
    // Another client's token with an unknown key id triggers a reload.
    let answer = sign_in_with(
        addr,
        Some(OTHER_CLIENT),
        &sign_in_json(&token(&junk, "github|x")),
    );
    assert_eq!(answer.status, 401, "{answer:?}");
    // The provider rotates in key `b`, whose tokens arrive a moment later.
    write_jwks(&file, &[&a, &b]);
    std::thread::sleep(Duration::from_millis(1200));
    let answer = sign_in(addr, &token(&b, "github|b"));
    assert_eq!(answer.status, 200, "the new key is picked up: {answer:?}");
}

// ------------------------------------------------------- request handling

/// The 422 message quoted a value built to look like serde's own text.
#[test]
fn schema_errors_never_echo_a_value_imitating_the_message() {
    let service = start(&[]);
    let body = json!({"access_token": "x", "expires_in": 1,
        "token_type": "x, expected <script>alert(1)</script> at line 1"});
    let answer = sign_in_with(service.addr(), None, &body);
    assert_eq!(answer.status, 422, "{answer:?}");
    assert!(!answer.body.contains("script"), "{answer:?}");
    assert!(answer.body.contains("OAuthToken"), "{answer:?}");
}

/// Raw bidi and C1 characters in the path, and a 10 KB method, went into
/// the log as they came.
#[test]
fn paths_and_methods_are_escaped_and_cut_in_the_log() {
    let service = start(&[]);
    let addr = service.addr();
    let mut head = b"GET /users/\xe2\x80\xaeevil\xc2\x85line HTTP/1.1\r\nhost: ".to_vec();
    head.extend_from_slice(addr.to_string().as_bytes());
    let answer = raw(addr, None, &head, b"");
    assert!(answer.status >= 400, "{answer:?}");
    let method = "A".repeat(10_000);
    let answer = request(addr, None, &method, "/users", &[], None);
    assert!(answer.status >= 400 || answer.status == 0, "{answer:?}");
    // Lines reach the log in the order they were logged: once a later
    // request's line is there, so is every line of the two above.
    let marker = request(addr, None, "GET", "/log-marker", &[], None);
    assert_eq!(marker.status, 404, "{marker:?}");
    let log = service.log_when(|l| l.contains("/log-marker"));
    assert!(log.contains("\\u{202e}evil\\u{85}line"), "escaped:\n{log}");
    assert!(
        !log.contains('\u{202e}') && !log.contains('\u{85}'),
        "raw:\n{log}"
    );
    let longest = log.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 2_000, "a log line of {longest} bytes");
}

/// `X-Content-Type-Options`, `Content-Security-Policy` with
/// `frame-ancestors 'none'` on every response; the docs page's policy
/// names its own scripts by hash.
#[test]
fn responses_carry_nosniff_and_a_content_security_policy() {
    let service = start(&[]);
    let addr = service.addr();
    for path in ["/users", "/openapi.json", "/docs", "/nowhere"] {
        let answer = request(addr, None, "GET", path, &[], None);
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        let csp = answer.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        if path == "/docs" {
            assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
            assert!(!csp.contains("unsafe-eval"), "{csp}");
        }
    }
}

/// Two `Host` or `Origin` headers took the first; an absolute-form target
/// was ignored in favour of `Host`. Each is a 400 in the error format,
/// without the header's value.
#[test]
fn ambiguous_hosts_and_origins_are_refused() {
    let bad_request = |answer: &Answer| {
        assert_eq!(answer.status, 400, "{answer:?}");
        assert_eq!(answer.json()["status"], 400, "{answer:?}");
        assert_eq!(answer.json()["code"], "bad_request", "{answer:?}");
        assert!(!answer.body.contains("evil"), "{answer:?}");
    };
    let service = start(&[]);
    let addr = service.addr();
    let twice = format!("GET /users HTTP/1.1\r\nhost: {addr}\r\nhost: evil.example");
    bad_request(&raw(addr, None, twice.as_bytes(), b""));
    let absolute = format!("GET http://evil.example/users HTTP/1.1\r\nhost: {addr}");
    bad_request(&raw(addr, None, absolute.as_bytes(), b""));
    let matching = format!("GET http://{addr}/users HTTP/1.1\r\nhost: {addr}");
    assert_eq!(raw(addr, None, matching.as_bytes(), b"").status, 200);

    let service = start(&["--allow-origin", "https://app.example"]);
    let addr = service.addr();
    let origins = [
        ("origin", "https://app.example"),
        ("origin", "https://evil.example"),
    ];
    bad_request(&request(addr, None, "GET", "/users", &origins, None));
    let same_twice = [
        ("origin", "https://app.example"),
        ("origin", "https://app.example"),
    ];
    bad_request(&request(addr, None, "GET", "/users", &same_twice, None));
    let one = [("origin", "https://app.example")];
    assert_eq!(request(addr, None, "GET", "/users", &one, None).status, 200);
    let foreign = [("origin", "https://evil.example")];
    let answer = request(addr, None, "GET", "/users", &foreign, None);
    assert_eq!(answer.status, 403, "{answer:?}");
}

/// `--allow-origin '*'` panicked; `null` was accepted and echoed.
#[test]
fn wildcard_and_null_origins_are_refused_at_start_up() {
    for origin in ["*", "null"] {
        let log = refused(|_| {}, &["--allow-origin", origin]);
        assert!(log.contains("--allow-origin"), "{origin}: {log}");
        assert!(!log.contains("panicked"), "{origin}: {log}");
    }
}

/// `picture` took `javascript:` URLs; invisible characters passed in `sub`
/// and `name`.
#[test]
fn stored_profile_fields_are_plain() {
    let service = start(&[]);
    let key = devkey::load_or_create(&service.data_dir).unwrap();
    let now = chrono::Utc::now().timestamp();
    let sign = |sub: &str, extra: Value| {
        let mut claims = json!({"iss": devkey::DEV_ISSUER, "aud": devkey::DEV_AUDIENCE,
            "sub": sub, "iat": now, "exp": now + 600});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&key).unwrap(),
        )
        .unwrap()
    };
    let answer = sign_in(
        service.addr(),
        &sign(
            "github|ab",
            json!({"picture": "javascript:alert(1)", "name": "A\u{200b}d\u{feff}a"}),
        ),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let profile = answer.json();
    assert_eq!(profile.get("picture"), None, "{profile}");
    assert_eq!(profile["name"], "Ada");
    for sub in ["github|a\u{200d}b", "github|\u{200b}ab"] {
        let answer = sign_in(service.addr(), &sign(sub, json!({})));
        assert_eq!(answer.status, 401, "{sub:?}: {answer:?}");
    }
}

// ------------------------------------------------------------------ files

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A data directory others can write was used silently.
#[cfg(unix)]
#[test]
fn a_data_directory_others_can_write_is_refused() {
    let log = refused(
        |dir| {
            std::fs::create_dir_all(dir).unwrap();
            chmod(dir, 0o770);
        },
        &[],
    );
    assert!(log.contains("can be written by other users"), "{log}");
    if users_service::files::current_uid() == 0 {
        let log = refused(
            |dir| {
                std::fs::create_dir_all(dir).unwrap();
                chmod(dir, 0o700);
                std::os::unix::fs::chown(dir, Some(65534), None).unwrap();
            },
            &[],
        );
        assert!(log.contains("is owned by user id 65534"), "{log}");
    }
}

/// A link named `users.db` made the service chmod its target; a FIFO named
/// as the key file hung start-up.
#[cfg(unix)]
#[test]
fn planted_links_and_fifos_are_refused_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("someone-elses-file");
    std::fs::write(&target, b"keep me").unwrap();
    chmod(&target, 0o644);
    let link_target = target.clone();
    let log = refused(
        move |dir| {
            std::fs::create_dir_all(dir).unwrap();
            chmod(dir, 0o700);
            std::os::unix::fs::symlink(&link_target, dir.join("users.db")).unwrap();
        },
        &[],
    );
    assert!(log.contains("symbolic link"), "{log}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the link's target was left alone");
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");

    let started = std::time::Instant::now();
    let log = refused(
        |dir| {
            std::fs::create_dir_all(dir).unwrap();
            chmod(dir, 0o700);
            let fifo =
                std::ffi::CString::new(dir.join("dev-hs256.key").to_str().unwrap().as_bytes())
                    .unwrap();
            // SAFETY: mkfifo reads a NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        },
        &[],
    );
    assert!(log.contains("not a regular file"), "{log}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
