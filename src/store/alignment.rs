//! Who took which stance where, in memory: per country and effective stance, the set of
//! statements in which the country's participation holds that stance today, as bits
//! (one column per statement), and per topic the set of its statements. Comparing one
//! country with every other is then word-wise intersections of bit sets, instead of a
//! query that joins every participation of the country to every other participation in
//! the same statements. It takes about a byte per statement and country.
//!
//! Never stale: before each use the copy is brought to the database's current data
//! version within one repeatable-read snapshot, re-reading only the statements that
//! table `statement_changed` lists as changed since (migrations/…_statement_changed.sql),
//! or everything when that is most of them. The SQL functions `effective_stance()` and
//! `opposite_sides()` stay the one definition of a stance and of opposing sides.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fixedbitset::FixedBitSet;
use futures::TryStreamExt;
use prometheus_client::metrics::histogram::Histogram;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{Mutex, Notify};

/// The shared copy of one service instance.
pub struct AlignmentMatrix {
    current: Mutex<Option<Arc<Matrix>>>,
    /// How long each full load took (`Matrix::load`).
    loads: Histogram,
    warming: AtomicBool,
    changed: Notify,
}

/// How long the background catch-up waits after a change for more to come.
const CATCH_UP_DELAY: Duration = Duration::from_secs(1);

impl AlignmentMatrix {
    pub fn new(loads: Histogram) -> Self {
        Self {
            current: Mutex::default(),
            loads,
            warming: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    /// Loads the matrix in the background, so that the first request does not wait
    /// for a full load, which takes seconds on a large database; until it is loaded,
    /// `is_warming` is true. Then keeps it current in the background too, catching up
    /// a second after a change (`data_changed`), and at most once a second while
    /// changes keep coming, so that the first request after an import that changed
    /// most statements does not wait for a full load either.
    pub fn warm_up(self: Arc<Self>, db: PgPool) {
        self.warming.store(true, Ordering::Release);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(250);
            loop {
                match self.current(&db).await {
                    Ok(_) => break,
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot load the alignment matrix yet; retrying")
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
            self.warming.store(false, Ordering::Release);
            loop {
                self.changed.notified().await;
                // One catch-up for a burst of writes, not one per write.
                tokio::time::sleep(CATCH_UP_DELAY).await;
                match self.current(&db).await {
                    Ok(_) => {}
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot bring the alignment matrix up to date; the next request will")
                    }
                }
            }
        });
    }

    /// Called when any instance commits a change (`cache::follow_changes`).
    pub fn data_changed(&self) {
        self.changed.notify_one();
    }

    pub fn is_warming(&self) -> bool {
        self.warming.load(Ordering::Acquire)
    }

    /// The matrix as of the database's current data version.
    pub async fn current(&self, db: &PgPool) -> sqlx::Result<Arc<Matrix>> {
        // Held while catching up, so that concurrent requests wait for one refresh
        // instead of each running their own.
        let mut current = self.current.lock().await;
        let mut tx = db.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        let (version, epoch): (i64, String) =
            sqlx::query_as("select version, data_epoch() from data_version")
                .fetch_one(&mut *tx)
                .await?;
        let matrix = match current.as_mut() {
            // Another copy of the data (restored, recreated): nothing carries over.
            Some(matrix) if matrix.epoch != epoch || matrix.version > version => {
                self.load(&mut tx, version, epoch).await?
            }
            Some(matrix) if matrix.version == version => matrix.clone(),
            Some(matrix) => {
                let changed: Vec<String> = sqlx::query_scalar(
                    "select statement_id from statement_changed where version > $1",
                )
                .bind(matrix.version)
                .fetch_all(&mut *tx)
                .await?;
                // Re-reading most statements one by one costs more than one pass.
                if changed.len() * 8 > matrix.columns.len() {
                    self.load(&mut tx, version, epoch).await?
                } else {
                    let refreshed = Arc::make_mut(matrix);
                    refreshed.reload(&mut tx, &changed).await?;
                    refreshed.version = version;
                    matrix.clone()
                }
            }
            None => self.load(&mut tx, version, epoch).await?,
        };
        tx.commit().await?;
        *current = Some(matrix.clone());
        Ok(matrix)
    }

    async fn load(
        &self,
        conn: &mut PgConnection,
        version: i64,
        epoch: String,
    ) -> sqlx::Result<Arc<Matrix>> {
        let started = Instant::now();
        let mut matrix = Matrix::load(conn, version).await?;
        matrix.epoch = epoch;
        let elapsed = started.elapsed();
        self.loads.observe(elapsed.as_secs_f64());
        tracing::info!(
            statements = matrix.columns.len(),
            countries = matrix.rows.len(),
            elapsed_ms = elapsed.as_millis(),
            "alignment matrix loaded"
        );
        Ok(Arc::new(matrix))
    }
}

/// One country's participations: per effective stance (in the order of the SQL
/// enum), the statements holding it, and all of them together.
#[derive(Clone, Default)]
struct Row {
    by_stance: Vec<FixedBitSet>,
    any: FixedBitSet,
}

impl Row {
    fn set(&mut self, column: usize, stance: Option<usize>) {
        for (i, bits) in self.by_stance.iter_mut().enumerate() {
            put(bits, column, stance == Some(i));
        }
        put(&mut self.any, column, stance.is_some());
    }
}

/// Sets or clears a bit, growing the set only to set one.
fn put(bits: &mut FixedBitSet, column: usize, on: bool) {
    if on {
        bits.grow(column + 1);
        bits.insert(column);
    } else if column < bits.len() {
        bits.set(column, false);
    }
}

/// A query over the participations with `columns`: every statement's column, numbered
/// in id order as `Matrix::load` numbers them.
macro_rules! with_columns {
    ($query:literal) => {
        concat!(
            "with columns as (select id, stance, (row_number() over (order by id) - 1)::integer as column_number \
             from statement) ",
            $query
        )
    };
}

#[derive(Clone)]
pub struct Matrix {
    version: i64,
    /// The copy of the data `version` counts in (`data_epoch()`).
    epoch: String,
    /// Effective stances, in the order of the SQL enum.
    stances: Vec<String>,
    /// Pairs of stance indexes on opposite sides.
    opposite: Vec<(usize, usize)>,
    /// Statement id → column. A deleted statement keeps its column, empty.
    columns: HashMap<String, usize>,
    rows: HashMap<String, Row>,
    topics: HashMap<String, FixedBitSet>,
}

/// How another country lines up with one: statements both took part in, those with
/// the same effective stance, and those on opposite sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub shared: u64,
    pub agreed: u64,
    pub opposed: u64,
}

impl Matrix {
    /// Every other country that shares at least one statement with `country` (on
    /// `topic`, if given), with its counts.
    pub fn compare(&self, country: &str, topic: Option<&str>) -> Vec<(&str, Counts)> {
        let Some(mine) = self.rows.get(country) else {
            return Vec::new();
        };
        let on_topic = |bits: &FixedBitSet| {
            let mut bits = bits.clone();
            if let Some(topic) = topic {
                match self.topics.get(topic) {
                    Some(statements) => bits.intersect_with(statements),
                    None => bits.clear(),
                }
            }
            bits
        };
        let any = on_topic(&mine.any);
        let by_stance: Vec<FixedBitSet> = mine.by_stance.iter().map(on_topic).collect();
        self.rows
            .iter()
            .filter(|(code, _)| code.as_str() != country)
            .filter_map(|(code, theirs)| {
                let shared = any.intersection_count(&theirs.any) as u64;
                (shared > 0).then(|| {
                    let agreed = by_stance
                        .iter()
                        .zip(&theirs.by_stance)
                        .map(|(a, b)| a.intersection_count(b) as u64)
                        .sum();
                    let opposed = self
                        .opposite
                        .iter()
                        .map(|&(a, b)| by_stance[a].intersection_count(&theirs.by_stance[b]) as u64)
                        .sum();
                    let counts = Counts {
                        shared,
                        agreed,
                        opposed,
                    };
                    (code.as_str(), counts)
                })
            })
            .collect()
    }

    /// Everything, in one pass over the participations.
    async fn load(conn: &mut PgConnection, version: i64) -> sqlx::Result<Self> {
        let stances: Vec<String> =
            sqlx::query_scalar("select unnest(enum_range(null::effective_stance))::text")
                .fetch_all(&mut *conn)
                .await?;
        let opposite: Vec<(String, String)> = sqlx::query_as(
            "select a::text, b::text \
             from unnest(enum_range(null::effective_stance)) a, unnest(enum_range(null::effective_stance)) b \
             where opposite_sides(a, b)",
        )
        .fetch_all(&mut *conn)
        .await?;
        let index = |stance: &str| stances.iter().position(|s| s == stance);
        let opposite = opposite
            .iter()
            .filter_map(|(a, b)| Some((index(a)?, index(b)?)))
            .collect();
        // Columns in statement id order, numbered the same way on both sides.
        let ids: Vec<String> = sqlx::query_scalar("select id from statement order by id")
            .fetch_all(&mut *conn)
            .await?;
        let mut matrix = Self {
            version,
            epoch: String::new(),
            columns: ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect(),
            stances,
            opposite,
            rows: HashMap::new(),
            topics: HashMap::new(),
        };
        let width = matrix.columns.len();
        // The arrays of every country are built in memory, and the load may outlast the
        // serving sessions' statement timeout (this transaction only).
        sqlx::raw_sql("set local work_mem = '128MB'; set local statement_timeout = 0")
            .execute(&mut *conn)
            .await?;
        // Per country, each participation as one number: its statement's column times
        // the number of stances, plus its stance's index.
        let stance_count = i32::try_from(matrix.stances.len()).unwrap_or(i32::MAX);
        // Read one country at a time: all of them at once would hold every
        // participation twice in the service's memory (as numbers, then as bits).
        let mut held = sqlx::query_as::<_, (String, Vec<i32>)>(with_columns!(
            "select g.country_code, array_agg(c.column_number * $1 + k.n::integer - 1) \
             from signature g \
             join columns c on c.id = g.statement_id \
             join unnest(enum_range(null::effective_stance)) with ordinality as k (stance, n) \
               on k.stance = effective_stance(c.stance, g.role, g.withdrawn_on) \
             where k.stance <> 'withdrawn' \
             group by 1"
        ))
        .bind(stance_count)
        .fetch(&mut *conn);
        while let Some((country, participations)) = held.try_next().await? {
            let row = matrix.row(&country);
            for participation in participations {
                let participation = usize::try_from(participation).unwrap_or_default();
                let (column, stance) = (
                    participation / row.by_stance.len(),
                    participation % row.by_stance.len(),
                );
                put(&mut row.by_stance[stance], column, true);
                put(&mut row.any, column, true);
            }
        }
        drop(held);
        let linked: Vec<(String, Vec<i32>)> = sqlx::query_as(with_columns!(
            "select t.topic_slug, array_agg(c.column_number) \
             from statement_topic t join columns c on c.id = t.statement_id \
             group by 1"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for (topic, columns) in linked {
            let mut statements = FixedBitSet::with_capacity(width);
            statements.extend(columns.into_iter().filter_map(|c| usize::try_from(c).ok()));
            matrix.topics.insert(topic, statements);
        }
        Ok(matrix)
    }

    /// The given statements' columns afresh: cleared, then set from what the
    /// database holds for them now (nothing, for a deleted statement).
    async fn reload(&mut self, conn: &mut PgConnection, statements: &[String]) -> sqlx::Result<()> {
        let held: Vec<(String, String, String)> = sqlx::query_as(
            "select g.statement_id, g.country_code, effective_stance(s.stance, g.role, g.withdrawn_on)::text \
             from signature g join statement s on s.id = g.statement_id \
             where g.statement_id = any ($1) \
               and effective_stance(s.stance, g.role, g.withdrawn_on) <> 'withdrawn'",
        )
        .bind(statements)
        .fetch_all(&mut *conn)
        .await?;
        let linked: Vec<(String, String)> = sqlx::query_as(
            "select statement_id, topic_slug from statement_topic where statement_id = any ($1)",
        )
        .bind(statements)
        .fetch_all(&mut *conn)
        .await?;
        for id in statements {
            let column = self.column(id);
            for row in self.rows.values_mut() {
                row.set(column, None);
            }
            for topic in self.topics.values_mut() {
                put(topic, column, false);
            }
        }
        for (statement, country, stance) in held {
            let column = self.column(&statement);
            let stance = self.stance_index(&stance);
            self.row(&country).set(column, stance);
        }
        for (statement, topic) in linked {
            let column = self.column(&statement);
            put(self.topics.entry(topic).or_default(), column, true);
        }
        Ok(())
    }

    fn stance_index(&self, stance: &str) -> Option<usize> {
        self.stances.iter().position(|s| s == stance)
    }

    fn column(&mut self, statement: &str) -> usize {
        let next = self.columns.len();
        *self.columns.entry(statement.to_owned()).or_insert(next)
    }

    fn row(&mut self, country: &str) -> &mut Row {
        let stances = self.stances.len();
        let width = self.columns.len();
        self.rows.entry(country.to_owned()).or_insert_with(|| Row {
            by_stance: vec![FixedBitSet::with_capacity(width); stances],
            any: FixedBitSet::with_capacity(width),
        })
    }
}
