//! Staging: the import's temporary tables (staging.sql), and `COPY` of checked rows
//! into them, or straight into a stored table.

use serde::Serialize;
use sqlx::PgConnection;

/// Creates the staging tables and sets this transaction's memory for sorts and hashes.
pub(super) async fn create_staging(conn: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::raw_sql(include_str!("staging.sql"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Streams rows as CSV through `copy`, a `COPY … FROM STDIN (FORMAT csv)` statement;
/// returns how many were copied.
pub(super) async fn copy_rows<R: Serialize>(
    conn: &mut PgConnection,
    copy: &str,
    rows: impl IntoIterator<Item = R>,
) -> anyhow::Result<u64> {
    let mut copy = conn.copy_in_raw(copy).await?;
    // A megabyte at a time: the whole table as one CSV text would double the import's
    // memory.
    let csv = || {
        csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new())
    };
    let mut writer = csv();
    for row in rows {
        writer.serialize(row)?;
        if writer.get_ref().len() >= 1 << 20 {
            let full = std::mem::replace(&mut writer, csv());
            copy.send(full.into_inner()?.as_slice()).await?;
        }
    }
    copy.send(writer.into_inner()?.as_slice()).await?;
    Ok(copy.finish().await?)
}

/// Copies rows into a staging table and analyses it: temp tables are never analysed
/// automatically, and without statistics the merges' planner would guess a few
/// hundred rows and pick nested loops over all of them.
pub(super) async fn stage<R: Serialize>(
    conn: &mut PgConnection,
    table: &str,
    rows: &[R],
) -> anyhow::Result<()> {
    copy_rows(conn, &format!("copy {table} from stdin (format csv)"), rows).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("analyze {table}")))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
