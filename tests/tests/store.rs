//! The store's contract, one suite run unchanged against both backends:
//! SQLite in a temporary directory and PostgreSQL in a throwaway cluster.

use std::future::Future;

use serde_json::json;
use users_api_server_stubs::types::UserProfile;
use users_harness::postgres::{TempCluster, skipped};
use users_service::cache::Cached;
use users_service::store::postgres::PgStore;
use users_service::store::sqlite::SqliteStore;
use users_service::store::{
    ApplicationStore, RevocationCheck, RevocationStore, SCHEMA_VERSION, Sharing, Storage,
    StoreError, UserStore,
};
use uuid::Uuid;

/// A profile for `id` whose font size counts the writes it went through.
fn profile(id: Uuid, writes: i64) -> UserProfile {
    serde_json::from_value(json!({
        "id": id.to_string(),
        "aesthetics": {"theme": {"dark": true}, "font": {"size": writes}},
        "created": {"value": "2026-11-28T12:00:00Z"},
    }))
    .expect("valid profile")
}

/// Every stored user, oldest first, read row by row.
async fn list(store: &impl UserStore) -> Vec<UserProfile> {
    store.rows().await.unwrap().collect().await.unwrap()
}

fn writes(p: &UserProfile) -> i64 {
    p.aesthetics.font.size
}

/// One more write: the stored profile with its counter incremented.
fn bump(id: Uuid) -> users_service::store::Update {
    Box::new(move |stored| {
        let n = stored.as_ref().map_or(0, writes);
        let mut p = stored.unwrap_or_else(|| profile(id, 0));
        p.aesthetics.font.size = n + 1;
        p
    })
}

async fn creates_then_updates(store: impl UserStore) {
    let id = Uuid::new_v4();
    assert!(store.get(id).await.unwrap().is_none());
    let first = store
        .save_with(id, RevocationCheck::Skip, bump(id))
        .await
        .unwrap();
    assert_eq!(writes(&first.profile), 1);
    // The text written is the profile's compact JSON (the sign-in's body).
    assert_eq!(first.json, serde_json::to_vec(&first.profile).unwrap());
    let second = store
        .save_with(
            id,
            RevocationCheck::Skip,
            Box::new(move |stored| {
                let stored = stored.expect("the update sees the stored profile");
                let mut p = stored.clone();
                p.aesthetics.font.size = writes(&stored) + 1;
                p
            }),
        )
        .await
        .unwrap();
    assert_eq!(writes(&second.profile), 2);
    assert_eq!(second.json, serde_json::to_vec(&second.profile).unwrap());
    assert_eq!(store.get(id).await.unwrap(), Some(second.profile.clone()));
    assert_eq!(list(&store).await, vec![second.profile]);
}

async fn lists_oldest_first(store: impl UserStore) {
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for id in &ids {
        store
            .save_with(*id, RevocationCheck::Skip, bump(*id))
            .await
            .unwrap();
    }
    // Updating the first does not move it.
    store
        .save_with(ids[0], RevocationCheck::Skip, bump(ids[0]))
        .await
        .unwrap();
    let listed: Vec<String> = list(&store).await.into_iter().map(|p| p.id).collect();
    let expected: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    assert_eq!(listed, expected);
}

async fn removes_and_revokes(store: impl UserStore + RevocationStore) {
    let id = Uuid::new_v4();
    assert!(!store.remove(id, 100).await.unwrap(), "nothing to remove");
    assert_eq!(
        store.revoked_at(id).await.unwrap(),
        None,
        "no user, no revocation"
    );
    store
        .save_with(id, RevocationCheck::Skip, bump(id))
        .await
        .unwrap();
    assert!(store.remove(id, 100).await.unwrap());
    assert!(store.get(id).await.unwrap().is_none());
    assert_eq!(store.revoked_at(id).await.unwrap(), Some(100));
    // A later sign-out moves the revocation forward, an earlier one never back.
    store
        .save_with(id, RevocationCheck::Skip, bump(id))
        .await
        .unwrap();
    assert!(store.remove(id, 50).await.unwrap());
    assert_eq!(store.revoked_at(id).await.unwrap(), Some(100));
    store
        .save_with(id, RevocationCheck::Skip, bump(id))
        .await
        .unwrap();
    assert!(store.remove(id, 200).await.unwrap());
    assert_eq!(store.revocations().await.unwrap(), vec![(id, 200)]);
}

async fn keeps_applications(store: impl ApplicationStore) {
    assert!(store.applications().await.unwrap().is_empty());
    let a = store.add_application("first".into()).await.unwrap();
    let b = store.add_application("second".into()).await.unwrap();
    assert_eq!(
        store.applications().await.unwrap(),
        vec![(a, "first".to_string()), (b, "second".to_string())]
    );
    assert!(store.is_application(a).await.unwrap());
    assert!(!store.is_application(Uuid::new_v4()).await.unwrap());
    assert!(store.remove_application(a).await.unwrap());
    assert!(!store.remove_application(a).await.unwrap());
    assert!(!store.is_application(a).await.unwrap());
    assert_eq!(
        store.applications().await.unwrap(),
        vec![(b, "second".to_string())]
    );
}

/// Concurrent writes to one user lose none: each sees the one before.
async fn serializes_writes_to_one_user(store: impl UserStore + Clone) {
    let id = Uuid::new_v4();
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.save_with(id, RevocationCheck::Skip, bump(id)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let all = list(&store).await;
    assert_eq!(all.len(), 1, "one user, however many writers");
    assert_eq!(writes(&all[0]), 24, "no write lost");
}

/// A sign-in write is refused inside its transaction once a sign-out
/// revoked its token: issued at or before the revocation, or without `iat`.
async fn refuses_revoked_sign_ins(store: impl UserStore) {
    let id = Uuid::new_v4();
    let token = |iat| RevocationCheck::Token(iat);
    store.save_with(id, token(None), bump(id)).await.unwrap();
    assert!(store.remove(id, 1_000).await.unwrap());
    for iat in [Some(999), Some(1_000), None] {
        let refused = store.save_with(id, token(iat), bump(id)).await;
        assert!(
            matches!(refused, Err(StoreError::Revoked)),
            "{iat:?}: {refused:?}"
        );
    }
    assert!(store.get(id).await.unwrap().is_none(), "nobody came back");
    store
        .save_with(id, token(Some(1_001)), bump(id))
        .await
        .unwrap();
    assert!(
        store.get(id).await.unwrap().is_some(),
        "a later token signs in"
    );
}

/// The rows a backend streams make the serialized list, and a read given
/// up half way (its `Rows` dropped) leaves the store readable.
async fn rows_make_the_serialized_list(store: impl UserStore) {
    let body = users_service::wire::list(store.rows().await.unwrap());
    assert_eq!(body.await.unwrap(), "{}");
    for _ in 0..(3 * 64) {
        let id = Uuid::new_v4();
        store
            .save_with(id, RevocationCheck::Skip, bump(id))
            .await
            .unwrap();
    }
    for _ in 0..3 {
        let mut rows = store.rows().await.unwrap();
        rows.next().await.unwrap().unwrap();
    }
    let whole = serde_json::to_vec(&users_api_server_stubs::types::Users {
        iterable: list(&store).await,
        schema: None,
    })
    .unwrap();
    let body = users_service::wire::list(store.rows().await.unwrap());
    assert_eq!(body.await.unwrap(), whole);
}

/// Runs every check, each on a fresh store from `fresh`.
async fn suite<S, F, Fut>(fresh: F)
where
    S: Storage + Clone,
    F: Fn(&'static str) -> Fut,
    Fut: Future<Output = S>,
{
    creates_then_updates(fresh("creates").await).await;
    lists_oldest_first(fresh("lists").await).await;
    removes_and_revokes(fresh("removes").await).await;
    keeps_applications(fresh("applications").await).await;
    serializes_writes_to_one_user(fresh("concurrent").await).await;
    refuses_revoked_sign_ins(fresh("revoked").await).await;
    rows_make_the_serialized_list(fresh("rows").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    suite(|name| {
        let path = root.join(format!("{name}.db"));
        async move { SqliteStore::open(&path).expect("sqlite opens") }
    })
    .await;
}

/// The same contract through the caching decorator, as the service uses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_sqlite_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    suite(|name| {
        let path = root.join(format!("{name}.db"));
        async move {
            let store = SqliteStore::open(&path).expect("sqlite opens");
            Cached::open(store, Sharing::SingleWriter).await.unwrap()
        }
    })
    .await;
}

/// 64 concurrent writes: every one is durable (seen after reopening the
/// file) and they shared transactions (fewer commits than writes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_writes_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let store = SqliteStore::open(&path).unwrap();
    let ids: Vec<Uuid> = (0..64).map(|_| Uuid::new_v4()).collect();
    let tasks: Vec<_> = ids
        .iter()
        .map(|&id| {
            let store = store.clone();
            tokio::spawn(async move { store.save_with(id, RevocationCheck::Skip, bump(id)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let stats = store.write_stats();
    assert_eq!(stats.writes, 64, "{stats}");
    assert!(
        stats.batches < 64 && stats.max() > 1,
        "no shared commit: {stats}"
    );
    drop(store);

    let reopened = SqliteStore::open(&path).unwrap();
    let mut stored: Vec<Uuid> = list(&reopened)
        .await
        .iter()
        .map(|p| p.id.parse().unwrap())
        .collect();
    stored.sort();
    let mut expected = ids;
    expected.sort();
    assert_eq!(stored, expected, "every acknowledged write is in the file");
}

/// Writes that fail inside a batch (a constraint raised after a partial
/// change, a panicking update, an undecodable stored profile) fail alone:
/// their partial changes are undone and the rest of the batch commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failing_write_keeps_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let store = SqliteStore::open(&path).unwrap();
    // `refused` exists, but recording its revocation fails after its DELETE.
    let (refused, corrupt) = (Uuid::new_v4(), Uuid::new_v4());
    store
        .save_with(refused, RevocationCheck::Skip, bump(refused))
        .await
        .unwrap();
    let side = rusqlite::Connection::open(&path).unwrap();
    side.execute_batch(&format!(
        "CREATE TRIGGER refuse BEFORE INSERT ON revocations WHEN NEW.id = '{refused}'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;
         INSERT INTO users (id, profile) VALUES ('{corrupt}', 'not json');"
    ))
    .unwrap();
    drop(side);
    let before = store.write_stats();

    // Hold the writer in a first write until the others are queued, so they
    // all land in the next transaction.
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let gate = std::sync::Mutex::new(gate);
    let held_id = Uuid::new_v4();
    let held = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .save_with(
                    held_id,
                    RevocationCheck::Skip,
                    Box::new(move |stored| {
                        let gate = gate.lock().unwrap();
                        gate.recv_timeout(std::time::Duration::from_secs(10))
                            .unwrap();
                        bump(held_id)(stored)
                    }),
                )
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let good: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    let saves: Vec<_> = good
        .iter()
        .map(|&id| {
            let store = store.clone();
            tokio::spawn(async move { store.save_with(id, RevocationCheck::Skip, bump(id)).await })
        })
        .collect();
    let removal = tokio::spawn({
        let store = store.clone();
        async move { store.remove(refused, 100).await }
    });
    let panicking = tokio::spawn({
        let store = store.clone();
        let id = Uuid::new_v4();
        async move {
            store
                .save_with(
                    id,
                    RevocationCheck::Skip,
                    Box::new(|_| panic!("an update that panics")),
                )
                .await
        }
    });
    let undecodable = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .save_with(corrupt, RevocationCheck::Skip, bump(corrupt))
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    release.send(()).unwrap();

    held.await.unwrap().unwrap();
    for t in saves {
        t.await.unwrap().unwrap();
    }
    assert!(removal.await.unwrap().is_err(), "the trigger refused it");
    assert!(panicking.await.unwrap().is_err(), "a panic is an error");
    let err = undecodable.await.unwrap().expect_err("not JSON");
    assert!(matches!(err, StoreError::Codec(_)), "{err}");
    let after = store.write_stats();
    assert_eq!(after.batches - before.batches, 2, "{after}");
    assert_eq!(
        after.max(),
        23,
        "20 good and 3 failing writes in one batch: {after}"
    );
    drop(store);

    let reopened = SqliteStore::open(&path).unwrap();
    for id in good.iter().chain([&held_id]) {
        assert!(reopened.get(*id).await.unwrap().is_some(), "{id} was lost");
    }
    assert!(
        reopened.get(refused).await.unwrap().is_some(),
        "the failed removal's DELETE was undone"
    );
    assert_eq!(reopened.revoked_at(refused).await.unwrap(), None);
    let rows: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    // The good ones, the held one, `refused` and `corrupt`: nothing else.
    assert_eq!(rows, 20 + 3);
}

/// Creates database `name` in the cluster and returns its URL.
async fn create_database(cluster: &TempCluster, name: &str) -> String {
    let (client, connection) = tokio_postgres::connect(&cluster.url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    cluster.cluster.database_url(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_suite() {
    if skipped("postgres_store_suite") {
        return;
    }
    let cluster = TempCluster::start();
    let cluster = &cluster;
    suite(|name| async move {
        let url = create_database(cluster, name).await;
        PgStore::connect(&url, 4).await.expect("postgres connects")
    })
    .await;
    // Through the caching decorator, as the service uses it.
    suite(|name| async move {
        let url = create_database(cluster, &format!("cached_{name}")).await;
        let store = PgStore::connect(&url, 4).await.expect("postgres connects");
        Cached::open(store, Sharing::Shared).await.unwrap()
    })
    .await;
}

/// Two stores (two instances' pools) on one database: concurrent first
/// writes of one user give one row and lose no write; migrations run once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_pools_share_one_database() {
    if skipped("postgres_two_pools_share_one_database") {
        return;
    }
    let cluster = TempCluster::start();
    let url = create_database(&cluster, "shared").await;
    let (a, b) = tokio::join!(PgStore::connect(&url, 4), PgStore::connect(&url, 4));
    let (a, b) = (a.expect("first instance"), b.expect("second instance"));
    assert_eq!(a.schema_version().await.unwrap(), SCHEMA_VERSION);
    for _ in 0..10 {
        let id = Uuid::new_v4();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(
                    async move { store.save_with(id, RevocationCheck::Skip, bump(id)).await },
                )
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let stored = b.get(id).await.unwrap().expect("stored");
        assert_eq!(writes(&stored), 8);
    }
    assert_eq!(list(&a).await.len(), 10);
    // The state token: the same while nothing is written (tried a few times,
    // in case autovacuum writes meanwhile), different once the other writes.
    let rows = a.rows().await.unwrap();
    let before = rows.state().expect("PostgreSQL has a state").to_owned();
    assert_eq!(rows.collect().await.unwrap().len(), 10);
    // Instance a keeps its list body; a write through b shows in it at once.
    let cached = Cached::open(a.clone(), Sharing::Shared).await.unwrap();
    let kept = cached.list_body().await.unwrap();
    assert_eq!(cached.list_body().await.unwrap(), kept);
    let mut steady = false;
    for _ in 0..5 {
        let (x, y) = (a.state().await.unwrap(), a.state().await.unwrap());
        steady |= x == y;
    }
    assert!(steady, "the state does not move without writes");
    let other = Uuid::new_v4();
    b.save_with(other, RevocationCheck::Skip, bump(other))
        .await
        .unwrap();
    assert_ne!(
        a.state().await.unwrap(),
        Some(before),
        "b's write moved a's state"
    );
    let fresh = users_service::wire::list(a.rows().await.unwrap());
    let fresh = fresh.await.unwrap();
    assert_ne!(fresh, kept);
    assert_eq!(
        cached.list_body().await.unwrap(),
        fresh,
        "b's write shows on a"
    );
    assert!(cached.user_body(other).await.unwrap().is_some());
    // Applications and revocations registered on one are seen on the other.
    let app = a.add_application("shared".into()).await.unwrap();
    assert!(b.is_application(app).await.unwrap());
    let user = Uuid::new_v4();
    b.save_with(user, RevocationCheck::Skip, bump(user))
        .await
        .unwrap();
    assert!(b.remove(user, 7).await.unwrap());
    assert_eq!(a.revoked_at(user).await.unwrap(), Some(7));
}

/// A database migrated by a newer binary is refused, with a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused_by_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = SqliteStore::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("newer"), "{err}");

    if skipped("newer_schema_is_refused_by_both_backends (postgres)") {
        return;
    }
    let cluster = TempCluster::start();
    let url = create_database(&cluster, "future").await;
    let store = PgStore::connect(&url, 2).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "UPDATE users_schema SET version = $1",
            &[&(SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    drop(store);
    let err = PgStore::connect(&url, 2).await.expect_err("refused");
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
}
