//! The filters of a statement list, as a common table expression that the list, the
//! stance statistics and the coverage report read from.

use chrono::NaiveDate;
use sqlx::{Postgres, QueryBuilder};

use super::{LEAD_COUNTRY_JOIN, statement_columns};
use crate::domain::{Role, Slug, Stance, StatementKind};
use crate::store::keyset::{Cursor, ListQuery, and_after};

/// The filters of `GET /v1/statements`, checked; the analytics filter statements
/// the same way.
#[derive(Debug, Clone, Default)]
pub struct StatementFilter {
    pub countries: Vec<String>,
    /// The days within which `countries` took part, when looked up
    /// (`countries::participation_years`).
    pub country_years: Option<(NaiveDate, NaiveDate)>,
    pub country_roles: Vec<Role>,
    pub stances: Vec<Stance>,
    pub kinds: Vec<StatementKind>,
    pub topic: Option<Slug>,
    pub forum: Option<String>,
    pub session: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub q: Option<String>,
    pub lead: Option<String>,
    /// The record as it stood on this day: read by the stance statistics, which count
    /// the signatures as of then (`effective_stance_as_of()`); `to` is bounded by it.
    pub as_of: Option<NaiveDate>,
}

impl StatementFilter {
    /// `select … from statement s where <filters>` as a CTE named `matches`, with a
    /// `rank` column for full-text relevance (0 without `q`) and `listed_on`, the
    /// statement's date to order by. With a topic, the statements and their dates come
    /// from the topic's calendar (migrations/…_topic_calendar.sql), so that a list by
    /// date reads them in date order. (Joined on the date as well, the planner would
    /// take the two equal columns for independent and expect a single statement.)
    pub fn push_matches(&self, qb: &mut QueryBuilder<Postgres>) {
        let listed_on = match self.topic {
            Some(_) => "c.issued_on",
            None => "s.issued_on",
        };
        qb.push("with matches as (select s.*, ");
        match &self.q {
            Some(q) => {
                qb.push("ts_rank(s.search, websearch_to_tsquery('english', ")
                    .push_bind(q.clone())
                    .push("))");
            }
            None => {
                qb.push("0::real");
            }
        }
        qb.push(format!(" as rank, {listed_on} as listed_on from "));
        match &self.topic {
            Some(topic) => {
                qb.push("topic_calendar c join statement s on s.id = c.statement_id where c.topic_slug = ")
                    .push_bind(topic.as_str().to_owned());
            }
            None => {
                qb.push("statement s where true");
            }
        }
        if !self.countries.is_empty() {
            qb.push(" and exists (select 1 from signature g where g.statement_id = s.id and g.country_code = any(")
                .push_bind(self.countries.clone())
                .push(")");
            if !self.country_roles.is_empty() {
                qb.push(" and g.role = any(")
                    .push_bind(self.country_roles.clone())
                    .push(")");
            }
            qb.push(")");
            if let Some((first, last)) = self.country_years {
                qb.push(format!(" and {listed_on} between "))
                    .push_bind(first)
                    .push(" and ")
                    .push_bind(last);
            }
        }
        if !self.stances.is_empty() {
            qb.push(" and s.stance = any(")
                .push_bind(self.stances.clone())
                .push(")");
        }
        if !self.kinds.is_empty() {
            qb.push(" and s.kind = any(")
                .push_bind(self.kinds.clone())
                .push(")");
        }
        if let Some(forum) = &self.forum {
            qb.push(" and s.forum = ").push_bind(forum.clone());
        }
        if let Some(session) = &self.session {
            qb.push(" and s.session = ").push_bind(session.clone());
        }
        if let Some(from) = self.from {
            qb.push(format!(" and {listed_on} >= ")).push_bind(from);
        }
        if let Some(to) = self.to {
            qb.push(format!(" and {listed_on} <= ")).push_bind(to);
        }
        if let Some(q) = &self.q {
            qb.push(" and s.search @@ websearch_to_tsquery('english', ")
                .push_bind(q.clone())
                .push(")");
        }
        if let Some(lead) = &self.lead {
            qb.push(" and s.lead_country = ").push_bind(lead.clone());
        }
        qb.push(")");
    }
}

/// The orders a statement list can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementOrder {
    Date,
    DateDesc,
    Title,
    SignatoryCountDesc,
    Relevance,
}

impl StatementOrder {
    /// The sort key column (of the `matches` CTE), its SQL type, and the direction.
    fn key(self) -> (&'static str, &'static str, bool) {
        match self {
            Self::Date => ("listed_on", "date", true),
            Self::DateDesc => ("listed_on", "date", false),
            Self::Title => ("title", "text", true),
            Self::SignatoryCountDesc => ("signatory_count", "integer", false),
            Self::Relevance => ("rank", "real", false),
        }
    }
}

/// The statements `filter` keeps in `order` (then by id), after `cursor`.
pub fn list(filter: &StatementFilter, order: StatementOrder, cursor: Option<&Cursor>) -> ListQuery {
    let filter = filter.clone();
    let (key, key_type, ascending) = order.key();
    let mut rows = QueryBuilder::new("");
    filter.push_matches(&mut rows);
    rows.push(format!(
        " select {}, s.rank from matches s{LEAD_COUNTRY_JOIN} where true",
        statement_columns(None)
    ));
    and_after(
        &mut rows,
        cursor,
        (&format!("s.{key}"), key_type),
        "s.id",
        ascending,
    );
    let direction = if ascending { "asc" } else { "desc" };
    rows.push(format!(" order by s.{key} {direction}, s.id {direction}"));
    ListQuery {
        rows,
        count: Box::new(move || {
            let mut count = QueryBuilder::new("");
            filter.push_matches(&mut count);
            count.push(" select count(*) from matches");
            count
        }),
    }
}
