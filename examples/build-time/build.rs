//! Generates the Users API client from the spec into `OUT_DIR/client.rs`
//! on every build where the spec changed.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let spec_path = manifest_dir.join("../../spec/users.yaml");
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let spec = users_api_codegen::Spec::read(&spec_path).unwrap_or_else(|e| panic!("{e}"));
    let options = users_api_codegen::Options {
        error_schema: "ApiError".into(),
        ..users_api_codegen::Options::named("users-api")
    };
    let source =
        users_api_codegen::client_source(&spec, &options).unwrap_or_else(|e| panic!("{e}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("client.rs");
    std::fs::write(&out, source).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
