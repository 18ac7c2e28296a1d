//! Reading statements: the filtered list, one statement in full, its signatories.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use sqlx::{Postgres, QueryBuilder};

use super::{
    SIGNATORY_COLUMNS, STATEMENT_COLUMNS, Signatory, SignatoryCsv, Statement, StatementCsv,
    load_detail, load_statement,
};
use crate::domain::{CountryCode, EffectiveStance, Role, Slug, Stance, StatementKind};
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::caching::tagged_json;
use crate::http::countries;
use crate::http::listing::{Cursor, Paging, Reading, list_response};
use crate::http::params::{Choice, Params};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatementSort {
    Date,
    DateDesc,
    Title,
    SignatoryCountDesc,
    Relevance,
}

impl Choice for StatementSort {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("date", Self::Date),
        ("-date", Self::DateDesc),
        ("title", Self::Title),
        ("-signatory_count", Self::SignatoryCountDesc),
        ("relevance", Self::Relevance),
    ];
}

impl StatementSort {
    fn name(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(_, s)| *s == self)
            .expect("every sort has a name")
            .0
    }

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

/// The filters of `GET /v1/statements`, checked; the analytics filter statements
/// the same way.
#[derive(Debug, Default)]
pub(in crate::http) struct StatementFilter {
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

pub(super) async fn list_statements(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let countries = params.many::<CountryCode>("country");
    let country_roles = params.many::<Role>("country_role");
    let leads = params.one::<CountryCode>("lead");
    let (from, to) = params.date_range();
    let mut filter = StatementFilter {
        country_roles,
        stances: params.many("stance"),
        kinds: params.many("kind"),
        topic: params.one("topic"),
        forum: params.one("forum"),
        session: params.one("session"),
        from,
        to,
        q: params.one("q"),
        ..StatementFilter::default()
    };
    let default_sort = if filter.q.is_some() {
        StatementSort::Relevance
    } else {
        StatementSort::DateDesc
    };
    let sort = params.choice("sort", default_sort);
    if sort == StatementSort::Relevance && filter.q.is_none() {
        params.reject("sort", "relevance needs a search term in q");
    }
    if !filter.country_roles.is_empty() && countries.is_empty() {
        params.reject(
            "country_role",
            "narrows the country filter; give country too",
        );
    }
    let paging = Paging::parse(&mut params, &headers, sort.name());
    params.finish()?;
    filter.countries = countries::resolve_filter(&state.db, "country", &countries).await?;
    if !filter.countries.is_empty() {
        // A list newest first of a country whose statements all lie far back (the
        // Soviet Union, East Germany) otherwise walked every later statement by date.
        filter.country_years = countries::participation_years(&state.db, &filter.countries).await?;
    }
    if let Some(lead) = leads {
        filter.lead = countries::resolve_filter(&state.db, "lead", &[lead])
            .await?
            .pop();
    }

    let (key, key_type, ascending) = sort.key();
    let mut qb = QueryBuilder::new("");
    filter.push_matches(&mut qb);
    qb.push(format!(
        " select {STATEMENT_COLUMNS}, s.rank from matches s where true"
    ));
    if let Some(cursor) = &paging.cursor {
        qb.push(" and ");
        cursor.push_after(&mut qb, (&format!("s.{key}"), key_type), "s.id", ascending);
    }
    let direction = if ascending { "asc" } else { "desc" };
    qb.push(format!(" order by s.{key} {direction}, s.id {direction}"));

    list_response(
        Reading::planned(&state.db).await?,
        qb,
        || {
            let mut count = QueryBuilder::new("");
            filter.push_matches(&mut count);
            count.push(" select count(*) from matches");
            count
        },
        &paging,
        &uri,
        ("statements", StatementCsv::from),
        |s: &Statement| Cursor {
            sort: sort.name().into(),
            key: match sort {
                StatementSort::Date | StatementSort::DateDesc => s.issued_on.to_string(),
                StatementSort::Title => s.title.clone(),
                StatementSort::SignatoryCountDesc => s.signatory_count.to_string(),
                StatementSort::Relevance => s.rank.to_string(),
            },
            id: s.id.clone(),
        },
    )
    .await
}

pub(super) async fn get_statement(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> AppResult<Response> {
    params.finish()?;
    // One snapshot, so the counts shown match the list shown.
    let mut reading = Reading::keyed(&state.db).await?;
    let detail = load_detail(&mut reading, &id, false).await?;
    reading.finish().await?;
    Ok(tagged_json(StatusCode::OK, &detail))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignatorySort {
    Name,
    Joined,
}

impl Choice for SignatorySort {
    const CHOICES: &'static [(&'static str, Self)] =
        &[("name", Self::Name), ("joined", Self::Joined)];
}

pub(super) async fn list_signatories(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let roles = params.many::<Role>("role");
    let region = params.one::<String>("region");
    let stances = params.many::<EffectiveStance>("stance");
    let sort = params.choice("sort", SignatorySort::Name);
    let sort_name = if sort == SignatorySort::Name {
        "name"
    } else {
        "joined"
    };
    let paging = Paging::parse(&mut params, &headers, sort_name);
    params.finish()?;
    // Every query here is keyed by the statement: one snapshot with cached plans.
    let mut reading = Reading::keyed(&state.db).await?;
    let statement = load_statement(&mut reading, &id, false).await?;

    let filtered = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" from participation p join country c on c.code = p.country_code where p.statement_id = ")
            .push_bind(statement.id.clone());
        if !roles.is_empty() {
            qb.push(" and p.role = any(")
                .push_bind(roles.clone())
                .push(")");
        }
        if let Some(region) = &region {
            qb.push(" and c.region = ").push_bind(region.clone());
        }
        if !stances.is_empty() {
            qb.push(" and p.effective_stance = any(")
                .push_bind(stances.clone())
                .push(")");
        }
    };
    let (key, key_type) = match sort {
        SignatorySort::Name => ("c.name", "text"),
        SignatorySort::Joined => ("p.effective_on", "date"),
    };
    let mut qb = QueryBuilder::new(format!("select {SIGNATORY_COLUMNS}"));
    filtered(&mut qb);
    if let Some(cursor) = &paging.cursor {
        qb.push(" and ");
        cursor.push_after(&mut qb, (key, key_type), "c.code", true);
    }
    qb.push(format!(" order by {key}, c.code"));
    let file_stem = format!("{}-signatories", statement.id);
    list_response(
        reading,
        qb,
        || {
            let mut count = QueryBuilder::new("select count(*)");
            filtered(&mut count);
            count
        },
        &paging,
        &uri,
        (&file_stem, SignatoryCsv::from),
        |s: &Signatory| Cursor {
            sort: sort_name.into(),
            key: match sort {
                SignatorySort::Name => s.country.name.clone(),
                SignatorySort::Joined => s.effective_on.to_string(),
            },
            id: s.country.code.clone(),
        },
    )
    .await
}
