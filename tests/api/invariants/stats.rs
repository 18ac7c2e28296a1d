//! The stance statistics, read from the tallies the triggers keep, stay those of the
//! participations listed, through every kind of write and a topic renamed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Listed, every_kind_of_write, every_participation};
use crate::helpers::TestApp;
use crate::helpers::oracle::stance_counts;
use crate::helpers::pages::{data, walk};

/// The stance statistics that GET /v1/stats/stances shows for `query`, worked out here
/// from the participations the API lists: per group of the dimensions it names (of
/// year, region, subregion and forum, in that order), the distinct countries per
/// effective stance among the participations in the statements that its topic, kinds
/// and dates keep.
fn stance_stats_of(listed: &[Listed], query: &str) -> Vec<Value> {
    let mut groups = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    let (mut topic, mut from, mut to) = (None, None, None);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "group_by" => groups.extend(value.split(',').map(str::to_owned)),
            "kind" => drop(kinds.insert(value.into_owned())),
            "topic" => topic = Some(value.into_owned()),
            "from" => from = Some(value.into_owned()),
            "to" => to = Some(value.into_owned()),
            other => panic!("{other} is not worked out here"),
        }
    }
    // (year, region, subregion, forum): the order of the groups, a null first.
    type Group = [Option<String>; 4];
    #[derive(Default)]
    struct Counted {
        countries: BTreeSet<String>,
        stances: BTreeMap<String, BTreeSet<String>>,
        participations: usize,
    }
    let mut found: BTreeMap<Group, Counted> = BTreeMap::new();
    if groups.is_empty() {
        found.insert(Group::default(), Counted::default());
    }
    for p in listed {
        let statement = |field: &str| p.statement[field].as_str().unwrap();
        let issued_on = statement("issued_on");
        let kept = topic.as_deref().is_none_or(|t| p.on_topic(t))
            && (kinds.is_empty() || kinds.contains(statement("kind")))
            && from.as_deref().is_none_or(|d| issued_on >= d)
            && to.as_deref().is_none_or(|d| issued_on <= d);
        if !kept {
            continue;
        }
        let by = |dimension: &str, value: Option<&str>| {
            groups
                .contains(dimension)
                .then_some(value)
                .flatten()
                .map(str::to_owned)
        };
        let group = [
            by("year", Some(&issued_on[..4])),
            by("region", p.region.as_deref()),
            by("subregion", p.subregion.as_deref()),
            by("forum", Some(statement("forum"))),
        ];
        let counted = found.entry(group).or_default();
        counted.countries.insert(p.country.clone());
        counted
            .stances
            .entry(p.effective_stance.clone())
            .or_default()
            .insert(p.country.clone());
        counted.participations += 1;
    }
    found
        .into_iter()
        .map(|([year, region, subregion, forum], counted)| {
            json!({
                "year": year.map(|y| y.parse::<i64>().unwrap()),
                "region": region,
                "subregion": subregion,
                "forum": forum,
                "statement_id": null,
                "statement_title": null,
                "statement_issued_on": null,
                "countries": counted.countries.len(),
                "participations": counted.participations,
                "stance_counts": stance_counts(&counted.stances),
            })
        })
        .collect()
}

/// Asserts that the stance statistics, answered from the tallies the database keeps in
/// every write (`stance_tally`, `stance_tally_by_forum_all_kinds` by forum and
/// `stance_tally_by_forum` by kind; the days of a year in part from their
/// signatures), are those of the participations listed. Grouped by every column of a
/// tally's key, its rows are read one per group and country, else added up first.
async fn assert_stance_statistics_follow_the_participations(app: &TestApp, after: &str) {
    let listed = every_participation(app).await;
    for query in [
        "group_by=year,region",
        "group_by=year",
        "group_by=year&topic=xinjiang",
        "group_by=subregion&topic=xinjiang&from=2019-01-01&to=2025-12-31",
        "group_by=year&topic=tibet",
        "topic=xinjiang",
        "from=2024-01-01",
        // Days of 2019 and 2022 each side of a statement, and the whole years between.
        "group_by=year,region&from=2019-07-10&to=2022-10-06",
        "group_by=region&topic=xinjiang&from=2019-07-10&to=2022-10-06",
        "topic=xinjiang&from=2020-06-30",
        "group_by=subregion&to=2022-10-06",
        // By forum or kind.
        "group_by=forum",
        "group_by=year,forum",
        "group_by=year,forum&topic=xinjiang",
        "group_by=year,forum,subregion&topic=xinjiang&from=2019-07-10&to=2022-10-06",
        "group_by=region,forum&kind=joint_statement",
        "group_by=year&kind=joint_letter&kind=recorded_vote",
        "group_by=forum,subregion&topic=tibet",
        "group_by=forum&from=2019-07-10&to=2022-10-06",
        "group_by=year,forum,region&kind=joint_statement&from=2020-01-01&to=2023-06-30",
        "group_by=year,forum&kind=joint_letter&topic=xinjiang",
        "group_by=year,forum&kind=joint_statement&kind=recorded_vote",
        "group_by=year,forum,region&kind=joint_statement&kind=joint_statement",
        "kind=joint_letter",
    ] {
        let shown = walk(app, &format!("/v1/stats/stances?{query}&limit=500")).await;
        assert_eq!(
            shown,
            stance_stats_of(&listed, query),
            "{query} after {after}"
        );
    }
}

#[tokio::test]
async fn stance_statistics_stay_exact_through_every_kind_of_write() {
    let app = TestApp::spawn().await;
    let year_2025 = async || {
        data(
            &app.get("/v1/stats/stances?group_by=year&from=2025-01-01")
                .await,
        )
    };
    assert_eq!(year_2025().await, Vec::<Value>::new());
    every_kind_of_write(&app, async |app, after| {
        assert_stance_statistics_follow_the_participations(app, after).await;
        if after == "a new statement" {
            let added = year_2025().await;
            assert_eq!(added.len(), 1);
            assert_eq!(added[0]["countries"], 3);
            assert_eq!(added[0]["stance_counts"]["critical"], 3);
        }
    })
    .await;
    assert_eq!(year_2025().await, Vec::<Value>::new());
}

/// A topic renamed (only in SQL) renames its rows in every tally: its statistics, from
/// each tally, are those it had under its old slug.
#[tokio::test]
async fn stance_statistics_follow_a_topic_renamed() {
    let app = TestApp::spawn().await;
    let queries = [
        "group_by=year",
        "group_by=year,forum",
        "group_by=region,forum&kind=joint_statement",
    ];
    let mut before = Vec::new();
    for query in queries {
        let groups = walk(&app, &format!("/v1/stats/stances?{query}&topic=xinjiang")).await;
        assert!(!groups.is_empty(), "{query}");
        before.push(groups);
    }
    sqlx::query("update topic set slug = 'uyghurs' where slug = 'xinjiang'")
        .execute(&app.db)
        .await
        .unwrap();
    for (query, before) in queries.iter().zip(before) {
        assert_eq!(
            walk(&app, &format!("/v1/stats/stances?{query}&topic=uyghurs")).await,
            before,
            "{query}"
        );
    }
}
