//! `GET /v1/participations`: every country's participation in every statement, one flat
//! row each. The bulk download of the data: as CSV it streams every matching row, millions
//! of them, in the order of signature's primary key, holding one row at a time.

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};

use super::AppState;
use super::countries;
use super::listing::{Cursor, Format, Paging, Reading, list_response};
use super::params::Params;
use crate::domain::{CountryCode, EffectiveStance, Role, Slug, StatementKind};
use crate::error::AppResult;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/participations", get(list_participations))
}

/// One country's participation in one statement, flat, the same in JSON and CSV.
#[derive(Debug, Default, Serialize, sqlx::FromRow)]
struct ParticipationRecord {
    statement_id: String,
    statement_issued_on: NaiveDate,
    country_code: String,
    role: String,
    effective_stance: String,
    joined_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
    effective_on: NaiveDate,
    source_url: Option<String>,
    note: String,
}

/// What a list of participations (view `participation` as `p`) may be narrowed by.
#[derive(Debug, Default, PartialEq)]
pub(super) struct ParticipationFilter {
    pub countries: Vec<String>,
    pub topic: Option<Slug>,
    pub kinds: Vec<StatementKind>,
    pub roles: Vec<Role>,
    pub stances: Vec<EffectiveStance>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl ParticipationFilter {
    /// ` and …` for each filter given.
    pub fn push_conditions(&self, qb: &mut QueryBuilder<Postgres>) {
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
            qb.push(" and p.effective_stance = any(")
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
    /// when dates are the only filter: a redundant condition, for a page's plan. Ids
    /// begin with their forum and session, so a year's statements lie in a few runs of
    /// ids; merged with the statements of those dates, the signatures in id order were
    /// read from the first id on (220 ms for a page of 2010 at 5 million signatures;
    /// 12 ms with the bounds). Not with other filters, which have selective plans of
    /// their own that the bounds' estimate displaced (a country's year: 8 to 240 ms),
    /// nor in counts or exports, which read every match and got slower with them.
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

/// By statement id, then country code: signature's primary key.
const PARTICIPATION_SORT: &str = "statement";

async fn list_participations(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let countries = params.many::<CountryCode>("country");
    let topic = params.one::<Slug>("topic");
    let kinds = params.many::<StatementKind>("kind");
    let roles = params.many::<Role>("role");
    let stances = params.many::<EffectiveStance>("stance");
    let (from, to) = params.date_range();
    let paging = Paging::parse(&mut params, &headers, PARTICIPATION_SORT);
    params.finish()?;

    let filter = ParticipationFilter {
        countries: countries::resolve_filter(&state.db, "country", &countries).await?,
        topic,
        kinds,
        roles,
        stances,
        from,
        to,
    };
    let filtered = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" from participation p where true");
        filter.push_conditions(qb);
    };
    let mut qb = QueryBuilder::new(
        "select p.statement_id, p.issued_on as statement_issued_on, p.country_code, p.role::text, \
         p.effective_stance::text, p.joined_on, p.withdrawn_on, p.effective_on, p.source_url, p.note",
    );
    filtered(&mut qb);
    if let Some(cursor) = &paging.cursor {
        qb.push(" and ");
        cursor.push_after(&mut qb, ("p.statement_id", "text"), "p.country_code", true);
    }
    if paging.format == Format::Json {
        filter.push_page_id_bounds(&mut qb);
    }
    qb.push(" order by p.statement_id, p.country_code");
    list_response(
        Reading::planned(&state.db).await?,
        qb,
        || {
            let mut count = QueryBuilder::new("select count(*)");
            filtered(&mut count);
            count
        },
        &paging,
        &uri,
        ("participations", std::convert::identity),
        |p: &ParticipationRecord| Cursor {
            sort: PARTICIPATION_SORT.into(),
            key: p.statement_id.clone(),
            id: p.country_code.clone(),
        },
    )
    .await
}
