//! How the service reads its database: keyed reads in their own read-only snapshot,
//! and the questions users ask answered from indexes.

use signatories::db::BEGIN_KEYED_READ;
use sqlx::Connection;

use crate::helpers::fresh_database;

#[tokio::test]
async fn keyed_reads_use_cached_plans_only_inside_their_own_read_only_snapshot() {
    let pool = fresh_database().await;
    let mut conn = pool.acquire().await.unwrap();
    let setting = |name: &'static str| format!("select current_setting('{name}')");
    let mut tx = conn.begin_with(BEGIN_KEYED_READ).await.unwrap();
    for (name, expected) in [
        ("plan_cache_mode", "auto"),
        ("transaction_isolation", "repeatable read"),
        ("transaction_read_only", "on"),
    ] {
        let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(setting(name)))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(value, expected, "{name} inside a keyed read");
    }
    tx.commit().await.unwrap();
    // The connection goes back to the pool planning every query for its parameters.
    let after: String = sqlx::query_scalar(sqlx::AssertSqlSafe(setting("plan_cache_mode")))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(after, "force_custom_plan");
}

/// A request whose client hangs up while its transaction begins (wrk does, at the end
/// of a run) drops the `BEGIN` half-way: sent, its answer not yet read. sqlx 0.9.0 then
/// queued no rollback, and the connection went back to the pool inside a read-only
/// transaction: the next request on it ran in that stale snapshot, and a write failed
/// with a 500 ("cannot execute SELECT FOR UPDATE in a read-only transaction").
#[tokio::test]
async fn a_keyed_read_dropped_while_it_begins_leaves_no_transaction_open() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::future::Future;
    use std::task::{Context, Waker};

    let pool = fresh_database().await;
    let mut conn = pool.acquire().await.unwrap();
    // The connection's server process is stopped while one poll sends the statement, so
    // that its answer cannot be there yet, however this test is scheduled (a loaded
    // machine sometimes polled late enough to find it, every time in a hundred tries).
    let backend: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let signal = |signal: Signal| kill(Pid::from_raw(backend), signal).unwrap();
    signal(Signal::SIGSTOP);
    let pending = std::pin::pin!(conn.begin_with(BEGIN_KEYED_READ))
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending();
    signal(Signal::SIGCONT);
    assert!(pending, "a stopped server answered the begin");
    let read_only: String = sqlx::query_scalar("select current_setting('transaction_read_only')")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(
        read_only, "off",
        "the next query ran in the dropped read's transaction"
    );
}

/// Each index exists for a question users ask; the plan of that question uses it.
#[tokio::test]
async fn the_questions_users_ask_are_index_scans() {
    let db = fresh_database().await;
    let mut conn = db.acquire().await.unwrap();
    // The seed is small enough for a sequential scan to win; what is checked here is
    // that each query can be answered from its index at all.
    sqlx::query("set enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    for (question, index) in [
        (
            "select statement_id from signature where country_code = 'FRA'",
            "signature_country_idx",
        ),
        (
            "select country_code from signature where statement_id = 'hrc41-letter-critical-2019-07-08'",
            "signature_pkey",
        ),
        (
            "select statement_id from statement_topic where topic_slug = 'xinjiang'",
            "statement_topic_topic_idx",
        ),
        (
            "select id from statement where issued_on between '2019-01-01' and '2020-12-31' order by issued_on, id",
            "statement_issued_idx",
        ),
        (
            "select code from country where region = 'Europe' order by subregion, name",
            "country_region_idx",
        ),
        (
            "select id from statement where search @@ websearch_to_tsquery('english', 'detention')",
            "statement_search_idx",
        ),
    ] {
        let plan: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("explain {question}")))
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{question}\n{plan}");
    }
}
