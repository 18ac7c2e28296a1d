//! What every list query shares: the keyset cursor a page continues from, the
//! connection a list is read through, and a list's SQL as the HTTP layer runs it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Transaction};

use crate::db::BEGIN_KEYED_READ;
use crate::error::AppResult;

/// Where a page starts: the sort it belongs to and the last row's sort key and id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "k")]
    pub key: String,
    #[serde(rename = "i")]
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serialises"))
    }

    pub fn decode(token: &str) -> Option<Self> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).ok()?).ok()
    }

    /// The keyset condition `(key_column, id_column) > (key, id)` (`<` for a
    /// descending order), the key cast to `key_type`: the rows after this cursor.
    pub fn push_after(
        &self,
        qb: &mut QueryBuilder<Postgres>,
        (key_column, key_type): (&str, &str),
        id_column: &str,
        ascending: bool,
    ) {
        let op = if ascending { ">" } else { "<" };
        qb.push(format!("({key_column}, {id_column}) {op} ("))
            .push_bind(self.key.clone())
            .push(format!("::{key_type}, "))
            .push_bind(self.id.clone())
            .push(")");
    }
}

/// A list's SQL: its rows (filters, keyset and order applied, no limit) and, for
/// `count=exact`, the query that counts every match. It owns what it binds, so that an
/// export can build the next batch's query long after the request's handler returned.
pub struct ListQuery {
    pub rows: QueryBuilder<Postgres>,
    pub count: Box<dyn FnOnce() -> QueryBuilder<Postgres> + Send>,
}

impl ListQuery {
    /// The rows after `filtered(qb)`'s `from … where …` part: `select` first, then the
    /// keyset condition after `cursor` (`after` pushes it) and `order`. The count reads
    /// `select count(*)` over the same part.
    pub fn over(
        select: &str,
        filtered: impl Fn(&mut QueryBuilder<Postgres>) + Send + 'static,
        after: impl FnOnce(&mut QueryBuilder<Postgres>),
        order: &str,
    ) -> Self {
        let mut rows = QueryBuilder::new(select);
        filtered(&mut rows);
        after(&mut rows);
        rows.push(order);
        Self {
            rows,
            count: Box::new(move || {
                let mut count = QueryBuilder::new("select count(*)");
                filtered(&mut count);
                count
            }),
        }
    }
}

/// ` and <keyset condition>` after `cursor`, if there is one.
pub fn and_after(
    qb: &mut QueryBuilder<Postgres>,
    cursor: Option<&Cursor>,
    key: (&str, &str),
    id_column: &str,
    ascending: bool,
) {
    if let Some(cursor) = cursor {
        qb.push(" and ");
        cursor.push_after(qb, key, id_column, ascending);
    }
}

/// The connection a list is read through.
pub enum Reading {
    /// Each query planned for its own parameters, as the session has it: lists by
    /// country, topic or dates, whose best plan differs from one to the next.
    Planned(PoolConnection<Postgres>),
    /// One read-only snapshot with cached plans (`BEGIN_KEYED_READ`): lists within one
    /// statement, or a topic's timeline and switchers (ranges of tables kept per
    /// topic), which plan alike for every statement or topic.
    Keyed(Transaction<'static, Postgres>),
}

impl Reading {
    pub async fn planned(db: &PgPool) -> AppResult<Self> {
        Ok(Self::Planned(db.acquire().await?))
    }

    pub async fn keyed(db: &PgPool) -> AppResult<Self> {
        Ok(Self::Keyed(db.begin_with(BEGIN_KEYED_READ).await?))
    }

    pub fn is_keyed(&self) -> bool {
        matches!(self, Self::Keyed(_))
    }

    /// Ends a keyed read's transaction (a planned read has none).
    pub async fn finish(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Planned(_) => Ok(()),
            Self::Keyed(tx) => tx.commit().await,
        }
    }
}

impl std::ops::Deref for Reading {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Self::Planned(conn) => conn,
            Self::Keyed(tx) => tx,
        }
    }
}

impl std::ops::DerefMut for Reading {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Self::Planned(conn) => conn,
            Self::Keyed(tx) => tx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            sort: "-date".into(),
            key: "2019-07-08".into(),
            id: "hrc41-letter-critical-2019-07-08".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("not-a-cursor"), None);
    }
}
