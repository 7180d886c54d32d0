//! Two real `users-service` instances on one PostgreSQL database (a throwaway
//! cluster per test, loopback only), every exchange checked against the spec
//! by a proxy in front of each instance.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use users_api_client::types::ApiErrorCode;
use users_api_client::{Client, ClientError, ErrorExt};
use users_harness::client::{client, sign_in};
use users_harness::postgres::{TempCluster, skipped};
use users_harness::process::stdout_of;
use users_harness::proxy::ConformanceProxy;
use users_harness::service::{ServiceProcess, binary, cli};
use users_harness::tokens::dev_token;

/// Fails the test if `body` takes longer than `limit`.
async fn bounded<T>(limit: Duration, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, body)
        .await
        .unwrap_or_else(|_| panic!("test did not finish within {limit:?}"))
}

/// A cluster and two instances on its `postgres` database, each behind a
/// checking proxy. Fields drop in order: proxies, instances, cluster.
struct Pair {
    pa: ConformanceProxy,
    pb: ConformanceProxy,
    b: ServiceProcess,
    a: ServiceProcess,
    cluster: TempCluster,
}

impl Pair {
    async fn start() -> Self {
        let cluster = TempCluster::start();
        let url = cluster.url();
        let a = ServiceProcess::start_with(&["--database", &url]);
        let b = ServiceProcess::start_beside(&a, "b", &["--database", &url]);
        let pa = ConformanceProxy::start(&a.url).await;
        let pb = ConformanceProxy::start(&b.url).await;
        Self {
            pa,
            pb,
            b,
            a,
            cluster,
        }
    }

    /// A development token for `sub`; both instances share the key.
    fn token(&self, sub: &str) -> String {
        dev_token(&self.a.data_dir, sub)
    }

    fn assert_clean(&self) {
        self.pa.assert_clean();
        self.pb.assert_clean();
    }
}

async fn ids(c: &Client) -> BTreeSet<String> {
    c.users_snapshot()
        .send()
        .await
        .expect("list")
        .into_inner()
        .iterable
        .into_iter()
        .map(|u| u.id)
        .collect()
}

fn status(e: &ClientError) -> Option<StatusCode> {
    e.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_created_on_one_instance_is_read_listed_and_disconnected_on_the_other() {
    if skipped("user_created_on_one_instance_is_read_listed_and_disconnected_on_the_other") {
        return;
    }
    bounded(Duration::from_secs(120), async {
        let p = Pair::start().await;
        let (ca, cb) = (client(p.pa.url(), None), client(p.pb.url(), None));
        let token = p.token("github|7");

        let created = sign_in(&ca, &token).await.expect("sign in on A");
        let id = created.id.clone();
        let read = cb
            .users_specific_user_snapshot()
            .user(id.parse::<uuid::Uuid>().unwrap());
        let on_b = read.send().await.expect("read on B").into_inner();
        assert_eq!(on_b, created, "B reads what A wrote");
        assert!(ids(&cb).await.contains(&id), "B lists it");
        // Warm A's reads, then update through B: A must not answer stale.
        assert!(ids(&ca).await.contains(&id));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let again = sign_in(&cb, &token).await.expect("sign in again on B");
        assert_eq!(again.id, id);
        assert_eq!(again.created, created.created, "created never changes");
        assert!(
            again.updated.as_ref().unwrap().value > created.updated.as_ref().unwrap().value,
            "updated moves"
        );
        let on_a = ca
            .users_specific_user_snapshot()
            .user(id.parse::<uuid::Uuid>().unwrap())
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(on_a.updated, again.updated, "A sees B's update at once");
        let listed_on_a = ca.users_snapshot().send().await.unwrap().into_inner();
        assert_eq!(
            listed_on_a.iterable,
            vec![again.clone()],
            "A's kept list gave way to B's update"
        );

        let left = cb
            .users_disconnect_user()
            .user(id.parse::<uuid::Uuid>().unwrap())
            .send()
            .await
            .expect("disconnect on B")
            .into_inner();
        assert!(left.iterable.is_empty());
        let gone = ca
            .users_specific_user_snapshot()
            .user(id.parse::<uuid::Uuid>().unwrap())
            .send()
            .await
            .expect_err("gone on A");
        assert_eq!(status(&gone), Some(StatusCode::NOT_FOUND));
        assert!(ids(&ca).await.is_empty(), "A lists nobody");
        p.assert_clean();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_sign_ins_through_both_instances_give_one_user() {
    if skipped("concurrent_first_sign_ins_through_both_instances_give_one_user") {
        return;
    }
    bounded(Duration::from_secs(120), async {
        let p = Pair::start().await;
        let (ca, cb) = (client(p.pa.url(), None), client(p.pb.url(), None));
        let subjects = 30;
        for n in 0..subjects {
            let token = p.token(&format!("github|{n}"));
            let (x, y) = tokio::join!(sign_in(&ca, &token), sign_in(&cb, &token));
            let (x, y) = (x.expect("A"), y.expect("B"));
            assert_eq!(x.id, y.id);
            assert_eq!(x.created, y.created, "one creation, seen by both");
        }
        let (la, lb) = (ids(&ca).await, ids(&cb).await);
        assert_eq!(la.len(), subjects, "exactly one user per identity");
        assert_eq!(la, lb);
        p.assert_clean();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_revoked_on_one_instance_is_refused_by_both() {
    if skipped("token_revoked_on_one_instance_is_refused_by_both") {
        return;
    }
    bounded(Duration::from_secs(120), async {
        let p = Pair::start().await;
        let token = p.token("github|99");
        let (ca, cb) = (
            client(p.pa.url(), Some(&token)),
            client(p.pb.url(), Some(&token)),
        );
        let user = sign_in(&ca, &token).await.expect("sign in on A");
        let id: uuid::Uuid = user.id.parse().unwrap();
        // Both accept the token before the sign-out.
        for c in [&ca, &cb] {
            c.users_specific_user_snapshot()
                .user(id)
                .send()
                .await
                .unwrap();
        }
        cb.users_disconnect_user()
            .user(id)
            .send()
            .await
            .expect("sign out on B");
        for (name, c) in [("A", &ca), ("B", &cb)] {
            let e = c
                .users_specific_user_snapshot()
                .user(id)
                .send()
                .await
                .expect_err("revoked token refused");
            assert_eq!(status(&e), Some(StatusCode::UNAUTHORIZED), "{name}: {e:?}");
            let e = sign_in(c, &token).await.expect_err("no sign-in with it");
            assert_eq!(status(&e), Some(StatusCode::UNAUTHORIZED), "{name}: {e:?}");
        }
        p.assert_clean();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_one_instance_loses_no_acknowledged_sign_in_and_the_other_keeps_serving() {
    if skipped("sigkill_of_one_instance_loses_no_acknowledged_sign_in") {
        return;
    }
    bounded(Duration::from_secs(180), async {
        let mut p = Pair::start().await;
        // Straight to the instances: the proxy would outlive A's death.
        let (url_a, url_b) = (p.a.url.clone(), p.b.url.clone());
        let per_side = 150;
        let tokens_a: Vec<String> = (0..per_side)
            .map(|n| p.token(&format!("github|a{n}")))
            .collect();
        let tokens_b: Vec<String> = (0..per_side)
            .map(|n| p.token(&format!("gitlab|b{n}")))
            .collect();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut on_a = Vec::new();
        for chunk in tokens_a.chunks(25) {
            let (chunk, url, tx) = (chunk.to_vec(), url_a.clone(), tx.clone());
            on_a.push(tokio::spawn(async move {
                let c = client(&url, None);
                for t in chunk {
                    match sign_in(&c, &t).await {
                        Ok(u) => {
                            let _ = tx.send(u.id);
                        }
                        Err(_) => break, // A is gone
                    }
                }
            }));
        }
        let mut on_b = Vec::new();
        for chunk in tokens_b.chunks(25) {
            let (chunk, url, tx) = (chunk.to_vec(), url_b.clone(), tx.clone());
            on_b.push(tokio::spawn(async move {
                let c = client(&url, None);
                for t in chunk {
                    let u = sign_in(&c, &t).await.expect("B keeps serving");
                    let _ = tx.send(u.id);
                }
            }));
        }
        drop(tx);
        let mut acknowledged = BTreeSet::new();
        while acknowledged.len() < 60 {
            acknowledged.insert(rx.recv().await.expect("burst running"));
        }
        p.a.kill();
        for t in on_a {
            let _ = t.await;
        }
        for t in on_b {
            t.await.expect("every sign-in on B succeeded");
        }
        while let Some(id) = rx.recv().await {
            acknowledged.insert(id);
        }
        assert!(
            acknowledged.len() < 2 * per_side,
            "the kill happened mid-burst on A"
        );
        let stored = ids(&client(p.pb.url(), None)).await;
        let lost: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "{} acknowledged users lost: {lost:?}",
            lost.len()
        );
        p.pb.assert_clean();
    })
    .await;
}

/// Polls `f` until it returns true or `limit` passes.
async fn eventually<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_gives_503_in_the_error_schema_then_service_resumes() {
    if skipped("postgres_restart_gives_503_then_service_resumes") {
        return;
    }
    bounded(Duration::from_secs(180), async {
        let p = Pair::start().await;
        let (ca, cb) = (client(p.pa.url(), None), client(p.pb.url(), None));
        let user = sign_in(&ca, &p.token("github|1")).await.expect("sign in");
        let id: uuid::Uuid = user.id.parse().unwrap();

        p.cluster.cluster.stop("fast").expect("PostgreSQL stops");
        for (name, c) in [("A", &ca), ("B", &cb)] {
            let started = Instant::now();
            let e = c
                .users_specific_user_snapshot()
                .user(id)
                .send()
                .await
                .expect_err("no database, no answer");
            assert_eq!(
                status(&e),
                Some(StatusCode::SERVICE_UNAVAILABLE),
                "{name}: {e:?}"
            );
            let body = e.api_error().expect("an ApiError body");
            assert_eq!(body.code, ApiErrorCode::ServiceUnavailable);
            assert_eq!(body.status, 503);
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "answered promptly"
            );
            let e = sign_in(c, &p.token("github|2"))
                .await
                .expect_err("no write");
            assert_eq!(
                status(&e),
                Some(StatusCode::SERVICE_UNAVAILABLE),
                "{name}: {e:?}"
            );
            let e = c.users_snapshot().send().await.expect_err("no list");
            assert_eq!(
                status(&e),
                Some(StatusCode::SERVICE_UNAVAILABLE),
                "{name}: {e:?}"
            );
        }

        p.cluster.cluster.start().expect("PostgreSQL starts again");
        for (name, c) in [("A", &ca), ("B", &cb)] {
            let back = eventually(Duration::from_secs(30), || async {
                c.users_specific_user_snapshot()
                    .user(id)
                    .send()
                    .await
                    .is_ok()
            })
            .await;
            assert!(back, "{name} serves again without a restart");
        }
        let second = sign_in(&cb, &p.token("github|2"))
            .await
            .expect("writes resume");
        assert_eq!(ids(&ca).await, BTreeSet::from([user.id, second.id]));
        p.assert_clean();
    })
    .await;
}

/// Runs `users-service --database URL applications ARGS` and returns stdout.
fn applications(data_dir: &std::path::Path, url: &str, args: &[&str]) -> String {
    stdout_of(
        cli(&binary("users-service"), data_dir)
            .args(["--database", url, "applications"])
            .args(args),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_registered_once_are_accepted_and_removed_on_both_instances() {
    if skipped("applications_registered_once_are_accepted_and_removed_on_both_instances") {
        return;
    }
    bounded(Duration::from_secs(120), async {
        let cluster = TempCluster::start();
        let url = cluster.url();
        let args = ["--database", url.as_str(), "--access", "applications"];
        let a = ServiceProcess::start_with(&args);
        let b = ServiceProcess::start_beside(&a, "b", &args);
        let app = applications(&a.data_dir, &url, &["add", "shared runner"])
            .trim()
            .to_string();
        let http = reqwest::Client::new();
        let list = |base: &str, key: &str| {
            http.get(format!("{base}/users"))
                .header("X-Application-ID", key)
                .send()
        };
        for s in [&a, &b] {
            let r = list(&s.url, &app).await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "registered on {}", s.url);
        }
        applications(&b.data_dir, &url, &["remove", &app]);
        for s in [&a, &b] {
            let r = list(&s.url, &app).await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "removed on {}", s.url);
        }
        drop(b);
        drop(a);
        drop(cluster);
    })
    .await;
}

/// Issue 21: a sign-in on one instance racing a sign-out on the other never
/// brings the user back (the revocation is checked inside the sign-in's
/// write transaction, under the user's advisory lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_racing_a_sign_out_on_another_instance_never_brings_the_user_back() {
    if skipped("a_sign_in_racing_a_sign_out_on_another_instance_never_brings_the_user_back") {
        return;
    }
    bounded(Duration::from_secs(120), async {
        let p = Pair::start().await;
        let (ca, cb) = (client(p.pa.url(), None), client(p.pb.url(), None));
        let mut back = Vec::new();
        for trial in 0..8 {
            let token = p.token(&format!("github|race{trial}"));
            let user = sign_in(&ca, &token).await.expect("first sign-in");
            let id: uuid::Uuid = user.id.parse().unwrap();
            let (again, out) = tokio::join!(
                sign_in(&ca, &token),
                cb.users_disconnect_user().user(id).send()
            );
            out.expect("the sign-out is acknowledged");
            if let Err(e) = &again {
                assert_eq!(status(e), Some(StatusCode::UNAUTHORIZED), "{e:?}");
            }
            let now = ca.users_specific_user_snapshot().user(id).send().await;
            if now.is_ok() {
                back.push((trial, again.is_ok()));
            }
        }
        assert!(back.is_empty(), "signed out, yet present: {back:?}");
        p.assert_clean();
    })
    .await;
}
