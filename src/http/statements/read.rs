//! Reading statements: the filtered list, one statement in full, its signatories.

use axum::extract::{OriginalUri, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;

use super::{SignatoryCsv, StatementCsv};
use crate::domain::{CountryCode, EffectiveStance, Role};
use crate::error::{AppError, AppResult};
use crate::http::conditional::tagged_json;
use crate::http::fields::{Fields, Sparse};
use crate::http::listing::{Paging, list_response};
use crate::http::params::{Choice, Params};
use crate::http::replicas::Reader;
use crate::store::countries;
use crate::store::keyset::{Cursor, Reading};
use crate::store::signatures::{self, Signatory, SignatoryFilter, SignatoryOrder};
use crate::store::statements::{self, Statement, StatementDetail, StatementFilter, StatementOrder};

impl Choice for StatementOrder {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("date", Self::Date),
        ("-date", Self::DateDesc),
        ("title", Self::Title),
        ("-signatory_count", Self::SignatoryCountDesc),
        ("relevance", Self::Relevance),
    ];
}

pub(super) async fn list_statements(
    reader: Reader,
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
        StatementOrder::Relevance
    } else {
        StatementOrder::DateDesc
    };
    let sort = params.choice("sort", default_sort);
    if sort == StatementOrder::Relevance && filter.q.is_none() {
        params.reject("sort", "relevance needs a search term in q");
    }
    if !filter.country_roles.is_empty() && countries.is_empty() {
        params.reject(
            "country_role",
            "narrows the country filter; give country too",
        );
    }
    let paging = Paging::parse::<Statement, StatementCsv>(&mut params, &headers, sort.name());
    params.finish()?;
    filter.countries = countries::resolve_filter(&reader.db, "country", &countries).await?;
    if !filter.countries.is_empty() {
        // A list newest first of a country whose statements all lie far back (the
        // Soviet Union, East Germany) otherwise walked every later statement by date.
        filter.country_years =
            countries::participation_years(&reader.db, &filter.countries).await?;
    }
    if let Some(lead) = leads {
        filter.lead = countries::resolve_filter(&reader.db, "lead", &[lead])
            .await?
            .pop();
    }

    list_response(
        &reader.exports,
        Reading::planned(&reader.db).await?,
        move |cursor| statements::list(&filter, sort, cursor),
        &paging,
        &uri,
        ("statements", StatementCsv::from),
        move |s: &Statement| Cursor {
            sort: sort.name().into(),
            key: match sort {
                StatementOrder::Date | StatementOrder::DateDesc => s.issued_on.to_string(),
                StatementOrder::Title => s.title.clone(),
                StatementOrder::SignatoryCountDesc => s.signatory_count.to_string(),
                StatementOrder::Relevance => s.rank.to_string(),
            },
            id: s.id.clone(),
        },
    )
    .await
}

pub(super) async fn get_statement(
    reader: Reader,
    Path(id): Path<String>,
    mut params: Params,
) -> AppResult<Response> {
    let as_of = params.one::<NaiveDate>("as_of");
    let fields = Fields::json::<StatementDetail>(&mut params);
    params.finish()?;
    let detail = statements::detail_as_of(&mut *reader.keyed.acquire().await?, &id, as_of).await?;
    Ok(tagged_json(
        StatusCode::OK,
        &Sparse::new(fields.as_ref(), &detail),
    ))
}

impl Choice for SignatoryOrder {
    const CHOICES: &'static [(&'static str, Self)] =
        &[("name", Self::Name), ("joined", Self::Joined)];
}

pub(super) async fn list_signatories(
    reader: Reader,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let roles = params.many::<Role>("role");
    let region = params.one::<String>("region");
    let stances = params.many::<EffectiveStance>("stance");
    let as_of = params.one::<NaiveDate>("as_of");
    let sort = params.choice("sort", SignatoryOrder::Name);
    let sort_name = sort.name();
    let paging = Paging::parse::<Signatory, SignatoryCsv>(&mut params, &headers, sort_name);
    params.finish()?;
    // Every query here is keyed by the statement: one snapshot with cached plans.
    let mut reading = Reading::keyed(&reader.db).await?;
    let statement = statements::load(&mut reading, &id, false).await?;
    if let Some(day) = as_of
        && statement.issued_on > day
    {
        return Err(AppError::NotFound(format!("Statement {id:?} as of {day}")));
    }
    let filter = SignatoryFilter {
        statement_id: statement.id.clone(),
        roles,
        region,
        stances,
        as_of,
    };
    let file_stem = format!("{}-signatories", statement.id);
    list_response(
        &reader.exports,
        reading,
        move |cursor| signatures::list(&filter, sort, cursor),
        &paging,
        &uri,
        (&file_stem, SignatoryCsv::from),
        move |s: &Signatory| Cursor {
            sort: sort_name.into(),
            key: match sort {
                SignatoryOrder::Name => s.country.name.clone(),
                SignatoryOrder::Joined => s.effective_on.to_string(),
            },
            id: s.country.code.clone(),
        },
    )
    .await
}
