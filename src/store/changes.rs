//! The audit trail: every committed write records who changed what, before and after,
//! in the same transaction as the change itself; the changes feed reads it in commit
//! order.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

/// One recorded change, as the feed shows it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Change {
    pub id: i64,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub actor: String,
    pub changed_at: DateTime<Utc>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Up to `limit` changes after the change `after`, in commit order, narrowed to one
/// kind of entity and one entity id when given.
pub async fn feed(
    db: &PgPool,
    after: i64,
    entity: Option<&str>,
    entity_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Change>, sqlx::Error> {
    sqlx::query_as(
        "select id, entity, entity_id, action, actor, changed_at, before, after from change \
         where id > $1 and ($2::text is null or entity = $2) and ($3::text is null or entity_id = $3) \
         order by id limit $4",
    )
    .bind(after)
    .bind(entity)
    .bind(entity_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The writers' lock: every write transaction takes it first, so that change ids are
/// handed out in commit order and the changes feed can be followed by id without ever
/// skipping a change that commits late.
const LOCK_WRITES: &str = "select 1 from data_version for update";

/// How long a request's write waits for a lock (behind an import, say) before it is
/// answered 503 rather than left hanging.
const WRITE_LOCK_TIMEOUT: &str = "3s";

type WriteTransaction = sqlx::Transaction<'static, sqlx::Postgres>;

/// A request's write transaction, holding the writers' lock, or a 503 when the lock
/// (or any other this transaction waits for) is not free within its timeout.
pub async fn begin(db: &sqlx::PgPool) -> Result<WriteTransaction, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "set local lock_timeout = '{WRITE_LOCK_TIMEOUT}'; {LOCK_WRITES}"
    )))
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}

/// A write transaction that waits as long as it takes for the writers' lock: the
/// import's, which nobody is waiting on.
pub async fn begin_unhurried(db: &sqlx::PgPool) -> Result<WriteTransaction, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(LOCK_WRITES).execute(&mut *tx).await?;
    Ok(tx)
}

/// Records that `actor` created an entity, in state `after`.
pub async fn created(
    tx: &mut PgConnection,
    entity: &str,
    id: &str,
    actor: &str,
    after: &impl Serialize,
) -> Result<(), sqlx::Error> {
    record(
        tx,
        entity,
        id,
        Action::Create,
        actor,
        None,
        Some(to_json(after)),
    )
    .await
}

/// Records that `actor` changed an entity from `before` to `after`.
pub async fn updated(
    tx: &mut PgConnection,
    entity: &str,
    id: &str,
    actor: &str,
    before: &impl Serialize,
    after: &impl Serialize,
) -> Result<(), sqlx::Error> {
    record(
        tx,
        entity,
        id,
        Action::Update,
        actor,
        Some(to_json(before)),
        Some(to_json(after)),
    )
    .await
}

/// Records that `actor` deleted an entity that was in state `before`.
pub async fn deleted(
    tx: &mut PgConnection,
    entity: &str,
    id: &str,
    actor: &str,
    before: &impl Serialize,
) -> Result<(), sqlx::Error> {
    record(
        tx,
        entity,
        id,
        Action::Delete,
        actor,
        Some(to_json(before)),
        None,
    )
    .await
}

fn to_json(state: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(state).expect("a serialisable state")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

async fn record(
    tx: &mut PgConnection,
    entity: &str,
    entity_id: &str,
    action: Action,
    actor: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into change (entity, entity_id, action, actor, before, after) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entity)
    .bind(entity_id)
    .bind(action.as_str())
    .bind(actor)
    .bind(before)
    .bind(after)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
