//! The runtime of a skeleton server (`cargo xtask generate` writes one per
//! spec): its operations answer with the spec's examples, and one without an
//! example answers `501` in the schema and media type the operation documents
//! for it ([`Documented`]), else in the spec's error format. The generated crate keeps
//! only the per-operation answers; its `main` calls [`run`](crate::skeleton::run).

use std::cell::RefCell;
use std::ffi::OsString;
use std::future::Future;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::{BuiltinError, BuiltinErrors, Documented, ErrorFormat, JsonBody};

/// The message of every `501` answer.
const NOT_IMPLEMENTED: &str = "the spec gives no example for this operation's success response";

tokio::task_local! {
    /// Per request: how an operation without an example says so.
    static UNANSWERED: RefCell<Option<oneshot::Sender<&'static Documented>>>;
}

/// `router` with the layer that answers `501` (in `E`'s format, error code
/// `code`) to every request whose operation awaits [`not_implemented`].
pub fn answer_unanswered<E: ErrorFormat>(router: axum::Router, code: &'static str) -> axum::Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| run_or_not_implemented::<E>(request, next, code),
    ))
}

/// Runs the request; answers `501` when its operation has no example.
async fn run_or_not_implemented<E: ErrorFormat>(
    request: Request,
    next: Next,
    code: &'static str,
) -> Response {
    let (tell, told) = oneshot::channel();
    let answered = UNANSWERED.scope(RefCell::new(Some(tell)), next.run(request));
    tokio::select! {
        biased;
        response = answered => response,
        Ok(documented) = told => documented
            .answer::<E>(StatusCode::NOT_IMPLEMENTED, NOT_IMPLEMENTED)
            .unwrap_or_else(|| not_implemented_response::<E>(code)),
    }
}

/// What an operation without an example awaits: it tells the layer of
/// [`answer_unanswered`] to answer `501` (as `documented` says, when it
/// documents an answer for it), and never completes.
pub async fn not_implemented<T>(documented: &'static Documented) -> T {
    let _ = UNANSWERED.try_with(|tell| tell.borrow_mut().take().map(|tell| tell.send(documented)));
    std::future::pending().await
}

/// `501` in `E`'s format, or the built-in format when `E` cannot express `code`.
pub fn not_implemented_response<E: ErrorFormat>(code: &'static str) -> Response {
    let status = StatusCode::NOT_IMPLEMENTED;
    match E::rejection_body(status, code, NOT_IMPLEMENTED) {
        Some(body) => E::error(status, body),
        None => BuiltinErrors::error(
            status,
            BuiltinError {
                status: status.as_u16(),
                code: code.to_string(),
                message: NOT_IMPLEMENTED.to_string(),
            },
        ),
    }
}

/// The example `text` as a raw JSON body (sent byte for byte), when it decodes as `T`.
pub fn raw_example<T: DeserializeOwned>(text: &'static str) -> Option<JsonBody<T>> {
    serde_json::from_str::<T>(text)
        .ok()
        .map(|_| JsonBody::Raw(Bytes::from_static(text.as_bytes())))
}

/// The example `text` as a raw JSON body, when it meets the stubs' response
/// check for `status` (the documented schema, every keyword) and decodes
/// as `T`: an example that contradicts its own schema is not sent (the
/// response checks would answer it with 500).
pub fn checked_example<T: DeserializeOwned>(
    text: &'static str,
    status: u16,
    check: crate::ResponseCheck,
) -> Option<JsonBody<T>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    check(status, &value).ok()?;
    raw_example::<T>(text)
}

/// The example `text` decoded as `T`, when it decodes.
pub fn example<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

/// The command line of skeleton server `name`: `--listen ADDR`.
pub fn command(name: &'static str, about: &'static str) -> clap::Command {
    clap::Command::new(name).about(about).arg(
        clap::Arg::new("listen")
            .long("listen")
            .value_name("ADDR")
            .help("Address to listen on (port 0: any free port; the address taken is printed)")
            .value_parser(clap::value_parser!(SocketAddr))
            .default_value("127.0.0.1:8080"),
    )
}

/// The address the command line `args` (the program's name first) of
/// skeleton server `name` asks it to listen on.
pub fn listen_address<I, T>(
    name: &'static str,
    about: &'static str,
    args: I,
) -> Result<SocketAddr, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = command(name, about).try_get_matches_from(args)?;
    Ok(*matches
        .get_one::<SocketAddr>("listen")
        .expect("`--listen` has a default"))
}

/// A skeleton server's `main`: reads `--listen` from the command line
/// (a bad one exits with clap's message and status), then [`serve`]s `app`.
pub async fn run(
    name: &'static str,
    about: &'static str,
    app: axum::Router,
) -> std::io::Result<()> {
    let listen = listen_address(name, about, std::env::args_os()).unwrap_or_else(|e| e.exit());
    serve(listen, app).await
}

/// Serves `app` on `listen`, printing the address taken (port 0: any free
/// port), until Ctrl-C.
pub async fn serve(listen: SocketAddr, app: axum::Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve_until(listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the
/// requests under way.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower::ServiceExt;

    use super::*;

    fn app() -> axum::Router {
        let router = axum::Router::new()
            .route("/answered", get(|| async { "an example" }))
            .route(
                "/unanswered",
                get(|| not_implemented::<String>(&Documented::NONE)),
            )
            .route("/as-text", get(|| not_implemented::<String>(&AS_TEXT)));
        answer_unanswered::<BuiltinErrors>(router, "not_implemented")
    }

    async fn call(path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(axum::body::Body::empty()).unwrap();
        // Bounded: without the layer, an unanswered operation never completes.
        let response =
            tokio::time::timeout(std::time::Duration::from_secs(10), app().oneshot(request))
                .await
                .expect("answered within 10 s")
                .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// `--listen` is read as a socket address, defaults to port 8080 on
    /// loopback, and anything else on the command line is refused.
    #[test]
    fn the_command_line_gives_the_listen_address_or_refuses() {
        let listen = |args: &[&str]| listen_address("skel", "a skeleton", args);
        assert_eq!(
            listen(&["skel"]).unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            listen(&["skel", "--listen", "[::1]:0"]).unwrap(),
            "[::1]:0".parse().unwrap()
        );
        assert_eq!(
            listen(&["skel", "--listen", "localhost"])
                .unwrap_err()
                .kind(),
            clap::error::ErrorKind::ValueValidation
        );
        assert_eq!(
            listen(&["skel", "--port", "1"]).unwrap_err().kind(),
            clap::error::ErrorKind::UnknownArgument
        );
        let help = command("skel", "a skeleton").render_help().to_string();
        assert!(
            help.contains("a skeleton") && help.contains("--listen <ADDR>"),
            "{help}"
        );
    }

    #[tokio::test]
    async fn an_operation_without_an_example_answers_501_in_the_error_format() {
        let (status, body) = call("/unanswered").await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "status": 501,
                "code": "not_implemented",
                "message": NOT_IMPLEMENTED,
            })
        );
    }

    /// An operation documenting only `5XX` as `text/plain`.
    static AS_TEXT: Documented = Documented::new(&[crate::Answer {
        refused: 501,
        status: 501,
        body: crate::AnswerBody::Text {
            media: "text/plain",
        },
    }]);

    #[tokio::test]
    async fn a_501_documented_as_text_is_text() {
        assert_eq!(
            call("/as-text").await,
            (StatusCode::NOT_IMPLEMENTED, NOT_IMPLEMENTED.to_string())
        );
    }

    #[tokio::test]
    async fn an_operation_with_an_example_answers_it() {
        assert_eq!(
            call("/answered").await,
            (StatusCode::OK, "an example".to_string())
        );
    }

    #[test]
    fn examples_are_kept_only_when_they_decode_as_their_type() {
        let raw = raw_example::<Vec<u32>>("[1, 2]").unwrap();
        assert_eq!(raw, JsonBody::Raw(Bytes::from_static(b"[1, 2]")));
        assert!(raw_example::<Vec<u32>>(r#"["a"]"#).is_none());
        assert_eq!(example::<Vec<u32>>("[3]"), Some(vec![3]));
        assert_eq!(example::<u32>("-1"), None);
    }

    #[test]
    fn examples_that_break_their_schema_are_not_sent() {
        fn at_most_two(status: u16, v: &serde_json::Value) -> Result<(), crate::Violation> {
            let small = v.as_array().is_some_and(|a| a.len() <= 2);
            match status {
                200 if !small => Err(crate::Pointer::Root.violation("must have at most 2 items")),
                _ => Ok(()),
            }
        }
        assert!(checked_example::<Vec<u32>>("[1, 2]", 200, at_most_two).is_some());
        assert!(checked_example::<Vec<u32>>("[1, 2, 3]", 200, at_most_two).is_none());
        assert!(checked_example::<Vec<u32>>("[1, 2, 3]", 201, at_most_two).is_some());
    }

    #[tokio::test]
    async fn serves_over_loopback_until_shut_down() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve_until(listener, app(), async {
            let _ = stopped.await;
        }));
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /unanswered HTTP/1.1\r\nHost: skeleton\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_string(&mut answer),
        )
        .await
        .expect("answered within 10 s")
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 501"), "{answer}");
        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("the server stops after shutdown")
            .unwrap()
            .unwrap();
    }
}
