//! Setting a table's indexes aside for a bulk load into it, and making them again
//! before the import commits.

use std::time::Instant;

use sqlx::PgConnection;

/// Which of a table's indexes a bulk load into it can do without.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Unneeded {
    /// Neither primary key nor unique ones: the load upserts, finding conflicts
    /// through them.
    Secondary,
    /// The primary key too: nothing in the load finds rows through it, and nothing
    /// can duplicate one (signatures are only appended, to statements that hold none,
    /// and the file's own duplicates were refused before; the tally's merge groups its
    /// rows by the key first). Made again, it checks the rows once more.
    AlsoPrimaryKey,
}

/// The indexes dropped for the import's loads, as the statements that make them again.
pub(super) struct SetAside {
    /// Whether the import may lock readers out of the tables it loads (`--offline`).
    offline: bool,
    made_again: Vec<String>,
}

impl SetAside {
    pub(super) fn new(offline: bool) -> Self {
        Self {
            offline,
            made_again: Vec::new(),
        }
    }

    /// Before a bulk load of `incoming` rows into `table` (one of the import's own
    /// table names): when they outnumber the stored rows, drops the table's `unneeded`
    /// indexes, to be made again by `restore` — if the table is empty, or the import
    /// runs `--offline`, since a dropped index locks every reader of its table out until
    /// the import commits. Adding keys one at a time to an index
    /// ordered otherwise than the rows arrive (signatures by country, statements by
    /// words) is far slower than building it afresh, and a primary key that already
    /// holds greater keys (the seeded statements' ids) splits its pages in halves and
    /// comes out larger. Returns whether the incoming rows outnumbered the stored ones.
    pub(super) async fn before_load(
        &mut self,
        conn: &mut PgConnection,
        table: &'static str,
        incoming: usize,
        unneeded: Unneeded,
    ) -> anyhow::Result<bool> {
        let incoming = i64::try_from(incoming).unwrap_or(i64::MAX);
        let (stored, outnumbered): (bool, bool) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select count(*) > 0, count(*) < $1 from (select from {table} limit $1) stored"
        )))
        .bind(incoming)
        .fetch_one(&mut *conn)
        .await?;
        if !outnumbered || (stored && !self.offline) {
            return Ok(outnumbered);
        }
        // Each as the statement that drops it and the one that makes it again.
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "select format('drop index %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid) \
             from pg_index i \
             where i.indrelid = $1::regclass and not i.indisprimary and not i.indisunique \
             union all \
             select format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname), \
                    format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) \
             from pg_constraint c \
             where c.conrelid = $1::regclass and c.contype = 'p' and $2",
        )
        .bind(table)
        .bind(unneeded == Unneeded::AlsoPrimaryKey)
        .fetch_all(&mut *conn)
        .await?;
        for (drop, make) in indexes {
            sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut *conn)
                .await?;
            self.made_again.push(make);
        }
        Ok(true)
    }

    /// Creates the indexes that `before_load` dropped, in the order it dropped them.
    pub(super) async fn restore(&self, conn: &mut PgConnection) -> anyhow::Result<()> {
        let started = Instant::now();
        for definition in &self.made_again {
            sqlx::query(sqlx::AssertSqlSafe(definition.as_str()))
                .execute(&mut *conn)
                .await?;
        }
        if !self.made_again.is_empty() {
            tracing::info!(
                indexes = self.made_again.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "import: indexes created again"
            );
        }
        Ok(())
    }
}
