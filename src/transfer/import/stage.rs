//! Staging: the import's temporary tables (staging.sql), and `COPY` of checked rows
//! into them, or straight into a stored table, from rows or from a file.

use serde::Serialize;
use sqlx::PgConnection;
use tokio::io::AsyncReadExt;

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
    analyze(conn, table).await
}

/// Analyses a staging table (one of the import's own names).
pub(super) async fn analyze(conn: &mut PgConnection, table: &str) -> anyhow::Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("analyze {table}")))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Streams a file of CSV through `copy`, a megabyte at a time; returns how many rows
/// were copied.
pub(super) async fn copy_file(
    conn: &mut PgConnection,
    copy: &str,
    file: std::fs::File,
) -> anyhow::Result<u64> {
    let mut copy = conn.copy_in_raw(copy).await?;
    let mut file = tokio::fs::File::from_std(file);
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            return Ok(copy.finish().await?);
        }
        copy.send(&buffer[..read]).await?;
    }
}
