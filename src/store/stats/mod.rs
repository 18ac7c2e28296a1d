//! Stance statistics (countries per effective stance, grouped by year, region,
//! subregion, forum or statement) and the coverage of each statement's list. The
//! counts come from the tallies the triggers keep where they can (`tally` chooses),
//! else from the signatures (`sql` builds the query either way).

mod sql;
mod tally;

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::QueryBuilder;
use sqlx::types::Json as SqlJson;

use self::sql::{StatementWindow, push_groups};
use self::tally::{Counted, Rows};
use super::keyset::{Cursor, ListQuery, and_after};
use super::statements::{StanceCounts, StatementFilter};
use crate::domain::Stance;

/// What `group_by` may name, in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupBy {
    Year,
    Region,
    Subregion,
    Forum,
    Statement,
}

impl GroupBy {
    pub const ALL: [(&'static str, Self); 5] = [
        ("year", Self::Year),
        ("region", Self::Region),
        ("subregion", Self::Subregion),
        ("forum", Self::Forum),
        ("statement", Self::Statement),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, g)| *g == self)
            .expect("every grouping has a name")
            .0
    }

    /// `(expression over s = statement, c = country, output column, its SQL type)`;
    /// in rows of a tally, the year and forum are the row's (`g.year`, `g.forum`).
    fn columns(self, rows: Rows) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            Self::Year if rows == Rows::Tally => &[("g.year", "year", "integer")],
            Self::Year => &[("extract(year from s.issued_on)::integer", "year", "integer")],
            Self::Region => &[("c.region", "region", "text")],
            Self::Subregion => &[("c.subregion", "subregion", "text")],
            Self::Forum if rows == Rows::Tally => &[("g.forum", "forum", "text")],
            Self::Forum => &[("s.forum", "forum", "text")],
            Self::Statement => &[
                ("s.id", "statement_id", "text"),
                ("s.title", "statement_title", "text"),
                ("s.issued_on", "statement_issued_on", "date"),
            ],
        }
    }

    /// This grouping's part of the sort key (a text that orders as the groups should).
    fn sort_part(self) -> &'static str {
        match self {
            Self::Year => "lpad(year::text, 4, '0')",
            Self::Region => "coalesce(region, '')",
            Self::Subregion => "coalesce(subregion, '')",
            Self::Forum => "forum",
            Self::Statement => "statement_issued_on::text || ' ' || (statement_id collate \"C\")",
        }
    }
}

/// One group of `GET /v1/stats/stances`: the values it is grouped by (null for a
/// dimension not grouped by) and its distinct countries per effective stance.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct StanceGroup {
    pub year: Option<i32>,
    pub region: Option<String>,
    pub subregion: Option<String>,
    pub forum: Option<String>,
    pub statement_id: Option<String>,
    pub statement_title: Option<String>,
    pub statement_issued_on: Option<NaiveDate>,
    pub countries: i64,
    pub participations: i64,
    pub stance_counts: SqlJson<StanceCounts>,
    /// The keyset: the group's values as one text; not shown.
    #[serde(skip)]
    pub sort_key: String,
}

/// The groups of `GET /v1/stats/stances` in their order, after `cursor`. `page_rows`:
/// the rows a page (or an export's batch) fetches, which bound the statements read when
/// grouped by statement.
pub fn stance_groups(
    filter: &StatementFilter,
    groups: &[GroupBy],
    cursor: Option<&Cursor>,
    page_rows: i64,
) -> ListQuery {
    let (filter, groups) = (filter.clone(), groups.to_vec());
    let counted = Counted::choose(&filter, &groups);
    let mut columns = String::new();
    for group in GroupBy::ALL.map(|(_, g)| g) {
        for (_, alias, sql_type) in group.columns(Rows::Signatures) {
            match groups.contains(&group) {
                true => columns.push_str(&format!("{alias}, ")),
                false => columns.push_str(&format!("null::{sql_type} as {alias}, ")),
            }
        }
    }
    // A page needs its rows after the cursor, plus one to tell whether more follow;
    // the cursor's own statement may have none left.
    let window = groups
        .contains(&GroupBy::Statement)
        .then_some(StatementWindow {
            cursor,
            statements: page_rows + 1,
        });
    let mut rows = QueryBuilder::new(format!(
        "select {columns}countries, participations, stance_counts, sort_key from ("
    ));
    push_groups(&mut rows, &filter, &groups, &counted, window);
    rows.push(") groups where true");
    if let Some(cursor) = cursor {
        rows.push(" and sort_key collate \"C\" > ")
            .push_bind(cursor.key.clone());
    }
    rows.push(" order by sort_key collate \"C\"");
    ListQuery {
        rows,
        count: Box::new(move || {
            let mut count = QueryBuilder::new("select count(*) from (");
            push_groups(&mut count, &filter, &groups, &counted, None);
            count.push(") groups");
            count
        }),
    }
}

/// How complete one statement's list of countries is.
#[derive(Debug, Default, Serialize, sqlx::FromRow)]
pub struct Coverage {
    pub statement_id: String,
    pub title: String,
    pub kind: String,
    pub forum: String,
    pub session: Option<String>,
    pub issued_on: NaiveDate,
    pub stance: Option<Stance>,
    pub reported_count: Option<i32>,
    pub list_complete: bool,
    pub signatory_count: i32,
    pub participant_count: i32,
    pub missing: Option<i32>,
    pub held_share: Option<f64>,
}

/// The coverage of the statements `filter` keeps (and `list_complete`, when given),
/// oldest first, after `cursor`.
pub fn coverage(
    filter: &StatementFilter,
    list_complete: Option<bool>,
    cursor: Option<&Cursor>,
) -> ListQuery {
    let filter = filter.clone();
    let filtered = move |qb: &mut QueryBuilder<sqlx::Postgres>| {
        filter.push_matches(qb);
        qb.push(" select s.id as statement_id, s.title, s.kind::text, s.forum, s.session, s.issued_on, \
                  s.stance, s.reported_count, s.list_complete, s.signatory_count, s.participant_count, \
                  greatest(s.reported_count - s.signatory_count, 0) as missing, \
                  round(s.signatory_count::numeric / nullif(s.reported_count, 0), 3)::float8 as held_share \
                  from matches s where true");
        if let Some(list_complete) = list_complete {
            qb.push(" and s.list_complete = ").push_bind(list_complete);
        }
    };
    let mut rows = QueryBuilder::new("");
    filtered(&mut rows);
    and_after(&mut rows, cursor, ("s.issued_on", "date"), "s.id", true);
    rows.push(" order by s.issued_on, s.id");
    ListQuery {
        rows,
        count: Box::new(move || {
            let mut count = QueryBuilder::new("select count(*) from (");
            filtered(&mut count);
            count.push(") rows");
            count
        }),
    }
}
