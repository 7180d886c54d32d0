//! Issue 9: the real binary against slow and greedy clients, hostile tokens
//! and claims, and files other users could read.
//!
//! Every test runs on loopback only, in temporary directories, on ports the
//! system picks, and is bounded in time and in the number of connections.
//! Timings are asserted only as bounds the issue requires (a normal request
//! answered within 1 s while slow clients wait), never as performance.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use users_harness::client::sign_in_json;
use users_harness::service::{ServiceProcess, cli};
use users_harness::tokens::{TestKey, b64, claims};
use users_service::auth::devkey;

const ISSUER: &str = "https://issuer.example/";
const AUDIENCE: &str = "hardening-tests";

/// The real binary of this package on a free loopback port and a fresh
/// data directory.
fn start(args: &[&str]) -> ServiceProcess {
    ServiceProcess::builder()
        .bin(env!("CARGO_BIN_EXE_users-service"))
        .args(args)
        .start()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The development key of a service's data directory.
fn dev_key(service: &ServiceProcess) -> Vec<u8> {
    devkey::load_or_create(&service.data_dir).expect("dev key")
}

/// Runs `serve` with `args` on a data directory prepared by `prepare`,
/// expects it to refuse to start, and returns what it logged.
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

/// An HTTP answer: status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }
}

/// Reads one response with a `content-length` body from a kept-alive stream.
fn read_answer(stream: &mut TcpStream) -> std::io::Result<Answer> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn request_on(
    stream: &mut TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<Answer> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut text = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        text.push_str("content-type: application/json\r\n");
    }
    text.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(text.as_bytes())?;
    read_answer(stream)
}

/// One request on a fresh connection, with a 5 s bound on every read.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    request_on(&mut stream, addr, method, path, headers, body).expect("an answer")
}

fn authenticate(addr: SocketAddr, id_token: &str) -> Answer {
    let body = sign_in_json(id_token);
    request(
        addr,
        "POST",
        "/users/authenticate/from_token",
        &[],
        Some(&body),
    )
}

/// `GET /users` with `token` as the bearer token.
fn list_users_with(addr: SocketAddr, token: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    request(addr, "GET", "/users", &[("authorization", &bearer)], None)
}

fn sign_hs256(key: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key).expect("key"),
    )
    .expect("sign")
}

fn dev_claims(sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "iss": devkey::DEV_ISSUER, "aud": devkey::DEV_AUDIENCE, "sub": sub,
            "iat": now, "nbf": now - 5, "exp": now + 600 })
}

/// Opens `count` connections that each send the start of a request head.
fn slow_clients(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("slow connect");
            s.write_all(b"GET /openapi.json HTTP/1.1\r\nx-slow: ")
                .expect("slow write");
            s
        })
        .collect()
}

/// Whether the server closed `stream` (EOF or reset) within `wait`.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a 408 answer before the close
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

// ---------------------------------------------------------------- listener

#[test]
fn normal_requests_are_answered_within_a_second_while_300_slow_clients_wait() {
    let service = start(&[]);
    let addr = service.addr();
    let mut slow = slow_clients(addr, 300);
    let mut worst = Duration::ZERO;
    for i in 0..20 {
        // Keep the slow clients trickling: never idle, head never complete.
        for s in &mut slow {
            let _ = s.write_all(b"a");
        }
        let started = Instant::now();
        let answer = request(addr, "GET", "/openapi.json", &[], None);
        let took = started.elapsed();
        assert_eq!(answer.status, 200, "request {i}: {answer:?}");
        assert!(took < Duration::from_secs(1), "request {i} took {took:?}");
        worst = worst.max(took);
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("slowest normal request with 300 slow clients: {worst:?}");
    // The slow clients were held the whole time (about 4 s), not turned away.
    let open = slow
        .iter_mut()
        .filter_map(|s| (!closed_within(s, Duration::from_millis(1))).then_some(()))
        .count();
    assert!(open >= 290, "only {open} slow connections still open");
}

#[test]
fn slow_and_silent_connections_are_closed_after_their_timeouts() {
    let service = start(&["--header-timeout-ms", "1500", "--idle-timeout-ms", "800"]);
    let addr = service.addr();
    let started = Instant::now();
    let mut slow = slow_clients(addr, 20);
    let mut silent: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    // Trickle a byte every 200 ms: never idle, so only the header timeout ends them.
    let trickle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(6);
        let mut closed_at = vec![None; slow.len()];
        while Instant::now() < deadline && closed_at.iter().any(Option::is_none) {
            for (s, at) in slow.iter_mut().zip(&mut closed_at) {
                if at.is_none()
                    && (s.write_all(b"a").is_err() || closed_within(s, Duration::from_millis(1)))
                {
                    *at = Some(started.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        closed_at
    });
    for s in &mut silent {
        assert!(
            closed_within(s, Duration::from_secs(4)),
            "a silent connection stayed open"
        );
    }
    let silent_closed = started.elapsed();
    let closed_at = trickle.join().unwrap();
    for at in &closed_at {
        let at = at.expect("a slow connection stayed open past 6 s");
        assert!(
            at >= Duration::from_millis(1000),
            "closed too early: {at:?}"
        );
    }
    eprintln!(
        "silent connections closed by {silent_closed:?}; slow ones at {:?}..{:?}",
        closed_at.iter().flatten().min(),
        closed_at.iter().flatten().max()
    );
}

#[test]
fn connections_over_the_cap_wait_without_harming_admitted_ones() {
    let service = start(&["--max-connections", "20", "--idle-timeout-ms", "1500"]);
    let addr = service.addr();
    let mut admitted = TcpStream::connect(addr).expect("connect");
    admitted
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let first = request_on(&mut admitted, addr, "GET", "/openapi.json", &[], None).unwrap();
    assert_eq!(first.status, 200);
    // 19 more fill the cap; 30 beyond it wait in the kernel's queue.
    let _held: Vec<TcpStream> = (0..49)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    for i in 0..10 {
        let started = Instant::now();
        let answer = request_on(&mut admitted, addr, "GET", "/openapi.json", &[], None)
            .unwrap_or_else(|e| panic!("admitted connection failed on request {i}: {e}"));
        assert_eq!(answer.status, 200);
        assert!(started.elapsed() < Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(200));
    }
    // A newcomer is served once idle connections have been closed.
    let started = Instant::now();
    let late = request(addr, "GET", "/openapi.json", &[], None);
    assert_eq!(late.status, 200);
    eprintln!(
        "a client queued over the cap was answered after {:?}",
        started.elapsed()
    );
    let log = service.log_when(|l| l.contains("connection limit reached"));
    assert!(log.contains("connection limit reached"), "{log}");
}

#[test]
fn sigterm_with_slow_clients_exits_within_the_shutdown_deadline() {
    let mut service = start(&["--shutdown-timeout-ms", "2000"]);
    let addr = service.addr();
    let _slow = slow_clients(addr, 50);
    // One client in the middle of a request body: in flight at shutdown.
    let mut body_pending = TcpStream::connect(addr).expect("connect");
    body_pending
        .write_all(
            format!(
                "POST /users/authenticate/from_token HTTP/1.1\r\nhost: {addr}\r\n\
                 content-type: application/json\r\ncontent-length: 100\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let status = service.stop();
    let took = started.elapsed();
    assert!(status.success(), "exit status {status}");
    eprintln!("exited {took:?} after SIGTERM with 51 slow clients");
    assert!(took < Duration::from_millis(2000 + 1500), "{took:?}");
}

// ------------------------------------------------------------------- files

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[test]
fn data_dir_and_database_files_are_private_under_umask_022() {
    let service = ServiceProcess::builder()
        .bin(env!("CARGO_BIN_EXE_users-service"))
        .umask(0o022)
        .start()
        .unwrap_or_else(|e| panic!("{e}"));
    let token = sign_hs256(&dev_key(&service), &dev_claims("github|7"));
    assert_eq!(authenticate(service.addr(), &token).status, 200);
    assert_eq!(mode(&service.data_dir), 0o700);
    for file in ["users.db", "users.db-wal", "users.db-shm", "dev-hs256.key"] {
        assert_eq!(mode(&service.data_dir.join(file)), 0o600, "{file}");
    }
}

fn write_key(data_dir: &Path, mode_bits: u32) -> PathBuf {
    std::fs::create_dir_all(data_dir).unwrap();
    let path = devkey::key_path(data_dir);
    std::fs::write(&path, "ab".repeat(32)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode_bits)).unwrap();
    }
    path
}

#[cfg(unix)]
#[test]
fn world_readable_or_foreign_key_files_are_refused() {
    let err = refused(|dir| drop(write_key(dir, 0o644)), &[]);
    assert!(err.contains("chmod 600"), "{err}");
    let err = refused(|dir| drop(write_key(dir, 0o640)), &[]);
    assert!(err.contains("chmod 600"), "{err}");
    let err = refused(
        |dir| {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(devkey::key_path(dir), "é".repeat(32)).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                devkey::key_path(dir),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        },
        &[],
    );
    assert!(
        err.contains("corrupt") && !err.contains("panicked"),
        "{err}"
    );
    // "Foreign-owned" needs a file of another user: only root can make one.
    // Tests usually run as root here (CI, containers); otherwise this part
    // is skipped and the owner check is covered by reading the code path.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let err = refused(
            |dir| {
                let path = write_key(dir, 0o600);
                std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
            },
            &[],
        );
        assert!(err.contains("owned by user id 65534"), "{err}");
    } else {
        eprintln!("not root: the foreign-owned key file case is skipped");
    }
}

// ------------------------------------------------------------------ tokens

#[test]
fn oversized_tokens_are_refused_with_401() {
    let service = start(&["--access", "tokens"]);
    let huge = format!(
        "{}.{}.{}",
        b64(b"{\"alg\":\"HS256\"}"),
        "a".repeat(17 * 1024),
        "sig"
    );
    let answer = authenticate(service.addr(), &huge);
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.json()["code"], "unauthorized", "{answer:?}");
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("longer than")
    );
    let answer = list_users_with(service.addr(), &huge);
    assert_eq!(answer.status, 401, "{answer:?}");
}

#[test]
fn absurd_exp_nbf_and_iat_are_never_500() {
    let service = start(&["--access", "tokens"]);
    let key = dev_key(&service);
    let mut statuses = Vec::new();
    for extra in [
        json!({"exp": u64::MAX}),
        json!({"exp": u64::MAX, "iat": u64::MAX}),
        json!({"exp": u64::MAX, "nbf": u64::MAX}),
        json!({"exp": u64::MAX, "nbf": 0, "iat": 0}),
        json!({"exp": i64::MAX}),
        json!({"exp": -1}),
        json!({"exp": 1e300}),
        json!({"exp": u64::MAX, "iat": -1}),
        json!({"exp": u64::MAX, "nbf": -1}),
    ] {
        let mut claims = dev_claims("github|8");
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let token = sign_hs256(&key, &claims);
        for _ in 0..2 {
            // The second use comes from the verified-token cache.
            let answer = authenticate(service.addr(), &token);
            assert!(matches!(answer.status, 200 | 401), "{extra}: {answer:?}");
            statuses.push(answer.status);
            let answer = list_users_with(service.addr(), &token);
            assert!(matches!(answer.status, 200 | 401), "{extra}: {answer:?}");
        }
    }
    assert!(statuses.contains(&200) && statuses.contains(&401));
}

#[test]
fn the_verified_token_cache_stays_within_its_byte_bound() {
    let service = start(&["--access", "tokens"]);
    let key = dev_key(&service);
    let addr = service.addr();
    let rss = || -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", service.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    if rss() == 0 {
        eprintln!("no /proc here: RSS not measured");
        return;
    }
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let pad = "p".repeat(11 * 1024);
    let send = |i: usize, stream: &mut TcpStream| {
        let mut claims = dev_claims("github|9");
        claims["pad"] = json!(pad);
        claims["n"] = json!(i);
        let bearer = format!("Bearer {}", sign_hs256(&key, &claims));
        let answer = request_on(
            stream,
            addr,
            "GET",
            "/users",
            &[("authorization", &bearer)],
            None,
        )
        .expect("answer");
        assert_eq!(answer.status, 200, "{answer:?}");
    };
    // Warm up (allocator, SQLite pages), then 3,000 distinct 15 KB tokens:
    // 45 MB of token text if nothing were evicted.
    for i in 0..200 {
        send(i, &mut stream);
    }
    let before = rss();
    for i in 200..3200 {
        send(i, &mut stream);
    }
    let after = rss();
    let growth_mb = after.saturating_sub(before) / 1024;
    eprintln!("RSS {before} kB -> {after} kB after 3,000 distinct 15 KB tokens");
    assert!(growth_mb < 32, "RSS grew {growth_mb} MB");
}

// -------------------------------------------------------------------- JWKS

/// The public JWK of `key`, as JSON.
fn jwk(key: &TestKey) -> Value {
    serde_json::to_value(key.jwk()).expect("jwk")
}

/// A token for `sub` signed with `key`, for this file's issuer and audience.
fn sign(key: &TestKey, sub: &str) -> String {
    key.sign(&claims(ISSUER, AUDIENCE, sub))
}

fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn jwks_args(file: &Path) -> Vec<String> {
    vec![
        "--jwks-file".into(),
        file.to_str().unwrap().into(),
        "--issuer".into(),
        ISSUER.into(),
        "--audience".into(),
        AUDIENCE.into(),
    ]
}

#[test]
fn kidless_duplicate_kid_and_small_rsa_keys_are_refused_at_start_up() {
    let keys = tempfile::tempdir().unwrap();
    let ec = TestKey::ec("ec-1", keys.path());
    let small = TestKey::rsa(1024, "small", keys.path());
    let mut kidless = jwk(&ec);
    kidless.as_object_mut().unwrap().remove("kid");
    let cases = [
        (jwks(&[kidless]), "no `kid`"),
        (jwks(&[jwk(&ec), jwk(&ec)]), "two keys have the `kid`"),
        (jwks(&[jwk(&small)]), "1024-bit RSA key"),
    ];
    for (document, expected) in cases {
        let file = keys.path().join("jwks.json");
        std::fs::write(&file, document).unwrap();
        let args = jwks_args(&file);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = refused(|_| {}, &args);
        assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    }
}

#[test]
fn a_rewritten_jwks_file_is_picked_up_without_restart() {
    let keys = tempfile::tempdir().unwrap();
    let old = TestKey::ec("old", keys.path());
    let new = TestKey::ec("new", keys.path());
    let file = keys.path().join("jwks.json");
    std::fs::write(&file, jwks(&[jwk(&old)])).unwrap();
    let args = jwks_args(&file);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let service = start(&args);
    assert_eq!(
        authenticate(service.addr(), &sign(&old, "github|20")).status,
        200
    );
    let before = sign(&new, "github|21");
    assert_eq!(
        authenticate(service.addr(), &before).status,
        401,
        "not trusted yet"
    );
    // Rotate: the new key in, the old one out. The unknown-kid reload just
    // used is rate-limited, so wait out its interval once.
    std::fs::write(&file, jwks(&[jwk(&new)])).unwrap();
    std::thread::sleep(users_service::auth::jwks::ON_DEMAND_INTERVAL + Duration::from_millis(200));
    let answer = authenticate(service.addr(), &sign(&new, "github|21"));
    assert_eq!(answer.status, 200, "{answer:?}");
    let answer = authenticate(service.addr(), &sign(&old, "github|20"));
    assert_eq!(
        answer.status, 401,
        "a key taken out is no longer trusted: {answer:?}"
    );
    let log = service.log_when(|l| l.contains("JWKS reloaded"));
    assert!(log.contains("JWKS reloaded"), "{log}");
}

/// Serves whatever `document` holds as a JWKS on a loopback port.
fn jwks_server(document: std::sync::Arc<std::sync::Mutex<String>>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let body = document.lock().unwrap().clone();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

#[test]
fn a_rotated_jwks_url_is_picked_up_without_restart() {
    let keys = tempfile::tempdir().unwrap();
    let old = TestKey::rsa(2048, "rsa-old", keys.path());
    let new = TestKey::rsa(2048, "rsa-new", keys.path());
    let document = std::sync::Arc::new(std::sync::Mutex::new(jwks(&[jwk(&old)])));
    let addr = jwks_server(document.clone());
    let url = format!("http://{addr}/.well-known/jwks.json");
    let service = start(&[
        "--jwks-url",
        &url,
        "--issuer",
        ISSUER,
        "--audience",
        AUDIENCE,
    ]);
    assert_eq!(
        authenticate(service.addr(), &sign(&old, "github|30")).status,
        200
    );
    *document.lock().unwrap() = jwks(&[jwk(&old), jwk(&new)]);
    let answer = authenticate(service.addr(), &sign(&new, "github|31"));
    assert_eq!(
        answer.status, 200,
        "fetched again for an unknown kid: {answer:?}"
    );
    assert_eq!(
        authenticate(service.addr(), &sign(&old, "github|30")).status,
        200
    );
}

#[test]
fn plain_http_jwks_urls_are_refused_unless_loopback() {
    for url in [
        "http://issuer.example/jwks.json",
        "http://10.0.0.1/jwks.json",
        "ftp://127.0.0.1/x",
    ] {
        let err = refused(
            |_| {},
            &[
                "--jwks-url",
                url,
                "--issuer",
                ISSUER,
                "--audience",
                AUDIENCE,
            ],
        );
        assert!(err.contains("https://"), "{url}: {err}");
    }
    let err = refused(
        |_| {},
        &["--userinfo-url", "http://issuer.example/userinfo"],
    );
    assert!(err.contains("https://"), "{err}");
}

// ----------------------------------------------------- claims and messages

#[test]
fn control_characters_are_neither_stored_nor_logged_raw() {
    let service = start(&[]);
    let key = dev_key(&service);
    let mut claims = dev_claims("github|40");
    claims["name"] = json!("Ada\u{202E}\r\nERROR forged\u{1b}[31m");
    claims["nickname"] = json!("ada\u{0}");
    claims["email"] = json!("ada@example.com\n");
    let answer = authenticate(service.addr(), &sign_hs256(&key, &claims));
    assert_eq!(answer.status, 200, "{answer:?}");
    let profile = answer.json();
    assert_eq!(profile["name"], "AdaERROR forged[31m");
    assert_eq!(profile["username"], "ada");
    assert!(profile.get("email").is_none_or(Value::is_null), "{profile}");

    for sub in ["", "github|4\u{0}1", "github|\u{202E}41", "github|\n41"] {
        let answer = authenticate(service.addr(), &sign_hs256(&key, &dev_claims(sub)));
        assert_eq!(answer.status, 401, "{sub:?}: {answer:?}");
        assert_eq!(answer.json()["code"], "unauthorized");
    }

    let header = b64(b"{\"alg\":\"\\nERROR forged line\\u001b[2J\",\"typ\":\"JWT\"}");
    let forged = format!("{header}.{}.c2ln", b64(b"{}"));
    let answer = authenticate(service.addr(), &forged);
    assert_eq!(answer.status, 401, "{answer:?}");
    assert!(!answer.body.contains("forged"), "{answer:?}");
    std::thread::sleep(Duration::from_millis(100));
    let log = service.log();
    assert!(!log.contains("\nERROR forged"), "a forged log line:\n{log}");
    assert!(!log.contains('\u{1b}'), "a raw terminal escape in the log");
    assert!(!log.contains('\u{202E}'), "a raw bidi override in the log");
}

#[test]
fn error_messages_never_echo_input_values() {
    let service = start(&["--access", "tokens"]);
    let addr = service.addr();
    let inputs = [
        "zq9".to_string(),
        "zq9-short-value".to_string(),
        format!("zq9{}", "L".repeat(300)),
        format!("{}.zq9payload.zq9sig", b64(b"{\"alg\":\"zq9alg\"}")),
        format!(
            "{}.zq9payload.zq9sig",
            b64(b"{\"alg\":\"HS256\",\"kid\":\"zq9kid\"}")
        ),
    ];
    for input in &inputs {
        let answers = [authenticate(addr, input), list_users_with(addr, input)];
        for answer in answers {
            assert!(answer.status >= 400, "{answer:?}");
            assert!(!answer.body.contains("zq9"), "{input:?} echoed: {answer:?}");
        }
    }
}

#[test]
fn mint_token_lifetimes_are_bounded_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    for ttl in ["99999999999999999", "0", "-31536001", "31536001"] {
        let out = cli(Path::new(env!("CARGO_BIN_EXE_users-service")), tmp.path())
            .args(["mint-token", "--sub", "github|1", &format!("--ttl={ttl}")])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--ttl {ttl} accepted");
        assert!(err.contains("--ttl") && !err.contains("panicked"), "{err}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_low_open_file_limit_lowers_the_cap_instead_of_stalling() {
    use std::os::unix::process::CommandExt;
    let service = ServiceProcess::builder()
        .bin(env!("CARGO_BIN_EXE_users-service"))
        .args(["--idle-timeout-ms", "1000"])
        .with_command(|command| {
            // SAFETY: setrlimit is async-signal-safe and only reads the struct.
            unsafe {
                command.pre_exec(|| {
                    let limit = libc::rlimit {
                        rlim_cur: 160,
                        rlim_max: 160,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        })
        .start()
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = service.addr();
    // More silent connections than file descriptors allow.
    let _silent: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    let started = Instant::now();
    let answer = request(addr, "GET", "/openapi.json", &[], None);
    let waited = started.elapsed();
    let log = service.log_when(|l| l.contains("open-file limit is too low"));
    drop(service);
    assert_eq!(answer.status, 200);
    assert!(log.contains("open-file limit is too low"), "{log}");
    assert!(!log.contains("accepting connections failed"), "{log}");
    eprintln!("with 160 file descriptors and 200 silent clients, answered after {waited:?}");
}
