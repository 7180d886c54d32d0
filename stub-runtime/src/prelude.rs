//! What a generated stub crate imports with one glob
//! (`use stub_runtime::prelude::*;`), so the generator emits no import
//! list and never an unused import: the axum and standard items its router,
//! handlers and response enums name, the [`ErrorFormat`] trait its
//! `Errors` type answers through, the [`Responses`](trait@Responses) trait (and derive) of
//! its response enums and the [`CredentialFields`](trait@CredentialFields) trait (and derive) of its
//! `Credentials`. A generated item of the same name
//! shadows the glob (the generator keeps its own names apart).
//!
//! [`validate`](crate::prelude::validate) is the same for a generated `validate` module.

pub use std::sync::Arc;

pub use axum::extract::State;
pub use axum::http::StatusCode;
pub use axum::response::{IntoResponse, Response};
pub use axum::routing::{MethodFilter, MethodRouter};

pub use crate::{CredentialFields, ErrorFormat, Responses};

/// What a generated `validate` module imports with one glob: the value it
/// checks, where and in which direction, what a broken rule gives, and the
/// property check every object schema calls.
pub mod validate {
    pub use serde_json::Value;

    pub use crate::{
        Direction, Pointer, Violation, property, read_only, required_in, required_key, write_only,
    };
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::BuiltinErrors;

    /// A handler written the way generated code is, against the glob alone:
    /// `State`, `StatusCode`, `Response`, `IntoResponse`, and `ErrorFormat`'s
    /// methods on an error format type.
    async fn refuse(State(status): State<StatusCode>) -> Response {
        BuiltinErrors::json(
            status,
            crate::JsonBody::from(serde_json::json!({"ok": false})),
        )
    }

    /// A router built from the prelude's names answers through them: the
    /// route's handler runs for its method, and the status it is given is
    /// the status sent.
    #[tokio::test]
    async fn generated_style_code_compiles_and_answers_from_the_glob_alone() {
        let state = Arc::new(StatusCode::IM_A_TEAPOT);
        let methods: MethodRouter<StatusCode> = MethodRouter::new().on(MethodFilter::GET, refuse);
        let app = axum::Router::new().route("/x", methods).with_state(*state);
        let answer = app
            .oneshot(Request::get("/x").body(Body::empty()).unwrap())
            .await
            .unwrap()
            .into_response();
        assert_eq!(answer.status(), StatusCode::IM_A_TEAPOT);
        let body = axum::body::to_bytes(answer.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(body.as_ref(), br#"{"ok":false}"#);
    }

    /// The `validate` glob is enough for a generated check function.
    #[test]
    fn a_check_written_against_the_validate_glob_runs() {
        use validate::*;
        fn schema_item(v: &Value, at: &Pointer<'_>, dir: Direction) -> Result<(), Violation> {
            if let Some(o) = v.as_object() {
                required_key(o, at, "id")?;
                property(o, "id", at, dir, crate::json_type::string)?;
            }
            Ok(())
        }
        let refused = schema_item(
            &serde_json::json!({"id": 1}),
            &Pointer::Root,
            Direction::Request,
        );
        assert_eq!(refused.unwrap_err().to_string(), "/id: must be a string");
        let missing = schema_item(&serde_json::json!({}), &Pointer::Root, Direction::Request);
        assert_eq!(missing.unwrap_err().to_string(), "/id: is required");
    }
}
