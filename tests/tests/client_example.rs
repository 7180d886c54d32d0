//! The client's crate-level example (shown in its docs, compiled there) runs
//! for real here, against the real binary in its default mode.

include!("../../xtask/templates/client_example.rs");

#[tokio::test]
async fn the_client_docs_example_works_against_the_real_service() {
    let s = users_harness::service::ServiceProcess::start();
    let token = s.mint("github|1", &["--email", "dev@example.com"]);
    example(&s.url, &token)
        .await
        .expect("the documented example runs");
}
