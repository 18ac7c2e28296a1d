//! Participations: every country's part in every statement (view `participation`),
//! flat for the bulk download, and one country's statements with its part in each.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};

use super::as_of;
use super::keyset::{Cursor, ListQuery, and_after};
use super::statements::{LEAD_COUNTRY_JOIN, Statement, statement_columns};
use crate::domain::{EffectiveStance, Role, Slug, StatementKind};

/// One country's participation in one statement, flat, the same in JSON and CSV.
#[derive(Debug, Default, Serialize, sqlx::FromRow)]
pub struct ParticipationRecord {
    pub statement_id: String,
    pub statement_issued_on: NaiveDate,
    pub country_code: String,
    pub role: String,
    pub effective_stance: String,
    pub joined_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub effective_on: NaiveDate,
    pub source_url: Option<String>,
    pub note: String,
}

/// What a list of participations (view `participation` as `p`) may be narrowed by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParticipationFilter {
    pub countries: Vec<String>,
    pub topic: Option<Slug>,
    pub kinds: Vec<StatementKind>,
    pub roles: Vec<Role>,
    pub stances: Vec<EffectiveStance>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The record as it stood on this day (`participation_as_of()`), else today's.
    pub as_of: Option<NaiveDate>,
}

impl ParticipationFilter {
    /// ` and …` for each filter given, over participations `p` whose effective stance
    /// is `effective_stance`.
    fn push_conditions(&self, qb: &mut QueryBuilder<Postgres>, effective_stance: &str) {
        if !self.countries.is_empty() {
            qb.push(" and p.country_code = any(")
                .push_bind(self.countries.clone())
                .push(")");
        }
        if let Some(topic) = &self.topic {
            qb.push(" and exists (select 1 from statement_topic t where t.statement_id = p.statement_id and t.topic_slug = ")
                .push_bind(topic.as_str().to_owned())
                .push(")");
        }
        if !self.kinds.is_empty() {
            qb.push(" and exists (select 1 from statement s where s.id = p.statement_id and s.kind = any(")
                .push_bind(self.kinds.clone())
                .push("))");
        }
        if !self.roles.is_empty() {
            qb.push(" and p.role = any(")
                .push_bind(self.roles.clone())
                .push(")");
        }
        if !self.stances.is_empty() {
            qb.push(format!(" and {effective_stance} = any("))
                .push_bind(self.stances.clone())
                .push(")");
        }
        if let Some(from) = self.from {
            qb.push(" and p.issued_on >= ").push_bind(from);
        }
        if let Some(to) = self.to {
            qb.push(" and p.issued_on <= ").push_bind(to);
        }
    }

    /// ` and p.statement_id between <the first and last id of the dates' statements>`,
    /// when dates are the only filter: a redundant condition, for the plan of a first
    /// page (or an export's first batch). Ids begin with their forum and session, so a
    /// year's statements lie in a few runs of ids; merged with the statements of those
    /// dates, the signatures in id order were read from the first id on. Not after a
    /// cursor, which bounds both sides of the join itself, and with which these bounds
    /// made a merge join walk the signatures between the runs; nor with other filters,
    /// which have selective plans of their own that the bounds' estimate displaced.
    fn push_page_id_bounds(&self, qb: &mut QueryBuilder<Postgres>) {
        let dates_only = Self {
            from: self.from,
            to: self.to,
            ..Self::default()
        };
        if self.from.is_none() && self.to.is_none() || *self != dates_only {
            return;
        }
        let dated = |qb: &mut QueryBuilder<Postgres>, end: &str| {
            qb.push(format!("(select {end}(s.id) from statement s where true"));
            if let Some(from) = self.from {
                qb.push(" and s.issued_on >= ").push_bind(from);
            }
            if let Some(to) = self.to {
                qb.push(" and s.issued_on <= ").push_bind(to);
            }
            qb.push(")");
        };
        qb.push(" and p.statement_id between ");
        dated(qb, "min");
        qb.push(" and ");
        dated(qb, "max");
    }
}

/// Every participation `filter` keeps, in the order of signature's primary key
/// (statement id, then country code), after `cursor`: a page, or a batch of an export.
pub fn list(filter: &ParticipationFilter, cursor: Option<&Cursor>) -> ListQuery {
    let (filter, bounds) = (filter.clone(), filter.clone());
    ListQuery::over(
        "select p.statement_id, p.issued_on as statement_issued_on, p.country_code, p.role::text, \
         p.effective_stance::text, p.joined_on, p.withdrawn_on, p.effective_on, p.source_url, p.note",
        move |qb: &mut QueryBuilder<Postgres>| {
            qb.push(format!(
                " from {} p where true",
                as_of::participations(filter.as_of)
            ));
            filter.push_conditions(qb, "p.effective_stance");
        },
        |qb| {
            and_after(
                qb,
                cursor,
                ("p.statement_id", "text"),
                "p.country_code",
                true,
            );
            match cursor {
                // The cursor bounds the statements' side of the join too: the planner
                // does not carry a bound on the signatures' key over to them, and a merge
                // join would walk the statements' key from its start on every page.
                Some(cursor) => {
                    qb.push(" and p.statement_key >= ")
                        .push_bind(cursor.key.clone());
                }
                None => bounds.push_page_id_bounds(qb),
            }
        },
        " order by p.statement_id, p.country_code",
    )
}

/// A country's participation in one statement.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Participation {
    #[sqlx(flatten)]
    pub statement: Statement,
    pub role: Role,
    pub effective_stance: EffectiveStance,
    pub joined_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub effective_on: NaiveDate,
    pub source_url: Option<String>,
}

/// The statements of `country` (its stored code) that `filter`
/// keeps, newest first unless `oldest_first`. Today's record reads the country's
/// signatures in their statements' order (`signature_country_idx`), which plans
/// alike for every country; the record of a past day (`filter.as_of`) joins
/// `participation_as_of()` to the statements within `years`, the first and last day of
/// the country's record, so that the planner sees where they lie on the timeline.
pub fn of_country(
    country: &str,
    filter: &ParticipationFilter,
    years: (Option<NaiveDate>, Option<NaiveDate>),
    oldest_first: bool,
    cursor: Option<&Cursor>,
) -> ListQuery {
    let (country, filter) = (country.to_owned(), filter.clone());
    let direction = if oldest_first { "asc" } else { "desc" };
    let stance = "effective_stance(s.stance, p.role, p.withdrawn_on)";
    let (select, source, order_key, order_id) = match filter.as_of {
        None => (
            format!(
                "select {}, p.role, {stance} as effective_stance, p.joined_on, p.withdrawn_on, \
                 coalesce(p.joined_on, p.issued_on) as effective_on, p.source_url",
                statement_columns(None)
            ),
            "signature".to_owned(),
            "p.issued_on",
            "p.statement_id",
        ),
        Some(day) => (
            format!(
                "select {}, p.role, p.effective_stance, p.joined_on, p.withdrawn_on, p.effective_on, p.source_url",
                statement_columns(Some(day))
            ),
            as_of::participations(Some(day)),
            "s.issued_on",
            "s.id",
        ),
    };
    let today = filter.as_of.is_none();
    ListQuery::over(
        &select,
        move |qb: &mut QueryBuilder<Postgres>| {
            qb.push(format!(
                " from {source} p join statement s on s.id = p.statement_id{LEAD_COUNTRY_JOIN} \
                 where p.country_code = "
            ))
            .push_bind(country.clone());
            // The past day's dates bound the statement that the list is ordered by
            // (`s`): on `p.issued_on`, the same date through the function's own join,
            // the planner would not see where they lie and walked every later statement.
            if let Some(first) = years.0 {
                qb.push(" and s.issued_on >= ").push_bind(first);
            }
            if let Some(last) = years.1 {
                qb.push(" and s.issued_on <= ").push_bind(last);
            }
            filter.push_conditions(qb, if today { stance } else { "p.effective_stance" });
        },
        |qb| and_after(qb, cursor, (order_key, "date"), order_id, oldest_first),
        &format!(" order by {order_key} {direction}, {order_id} {direction}"),
    )
}
