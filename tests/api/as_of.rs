//! The record as it stood on a date (`as_of=`): who had signed the July 2019
//! counter-letter by each day, where a country stood before and after it switched
//! sides, and the statistics of a past day, each checked against the dataset files.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::helpers::oracle::{Dataset, DatasetSignature, is_side};

const COUNTER_LETTER: &str = "hrc41-letter-supportive-2019-07-12";

impl Dataset {
    /// A participation's effective stance on `day`, if it had started by then.
    fn stance_as_of(&self, g: &DatasetSignature, day: &str) -> Option<String> {
        let started = if g.joined_on.is_empty() {
            self.date(g)
        } else {
            &g.joined_on
        };
        if self.date(g) > day || started > day {
            return None;
        }
        if !g.withdrawn_on.is_empty() && g.withdrawn_on.as_str() <= day {
            return Some("withdrawn".into());
        }
        Some(self.stance_on_joining(g))
    }

    /// A statement's countries by effective stance on `day`.
    fn stances_as_of(&self, statement: &str, day: &str) -> BTreeMap<String, String> {
        self.of(statement)
            .into_iter()
            .filter_map(|(country, g)| Some((country, self.stance_as_of(g, day)?)))
            .collect()
    }
}

fn stances_shown(signatories: &Value) -> BTreeMap<String, String> {
    signatories
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["country"]["code"].as_str().unwrap().to_owned(),
                s["effective_stance"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_counter_letter_lists_who_had_signed_by_each_day() {
    let app = TestApp::spawn().await;
    let data = Dataset::load();
    for day in ["2019-07-12", "2019-07-20", "2019-07-27"] {
        let expected = data.stances_as_of(COUNTER_LETTER, day);
        let detail = app
            .get(&format!("/v1/statements/{COUNTER_LETTER}?as_of={day}"))
            .await
            .json();
        assert_eq!(
            stances_shown(&detail["signatories"]),
            expected,
            "as of {day}"
        );
        let qatar = if day == "2019-07-12" {
            "supportive"
        } else {
            "withdrawn"
        };
        assert_eq!(expected["QAT"], qatar, "as of {day}");

        let active = expected.values().filter(|s| *s != "withdrawn").count();
        assert_eq!(detail["signatory_count"], active, "as of {day}");
        assert_eq!(detail["participant_count"], expected.len(), "as of {day}");
        for stance in ["supportive", "withdrawn", "critical"] {
            let n = expected.values().filter(|s| *s == stance).count();
            assert_eq!(detail["stance_counts"][stance], n, "{stance} as of {day}");
        }

        let listed = app
            .get(&format!(
                "/v1/statements/{COUNTER_LETTER}/signatories?as_of={day}&limit=500"
            ))
            .await
            .json();
        assert_eq!(
            stances_shown(&listed["data"]),
            expected,
            "the list as of {day}"
        );

        let qatar_record = app
            .get(&format!(
                "/v1/participations?country=QAT&as_of={day}&limit=500"
            ))
            .await
            .json();
        let shown: BTreeMap<String, String> = qatar_record["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["statement_id"].as_str().unwrap().to_owned(),
                    p["effective_stance"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected_qatar: BTreeMap<String, String> = data
            .signatures
            .iter()
            .filter(|g| g.country_iso3 == "QAT")
            .filter_map(|g| Some((g.statement_slug.clone(), data.stance_as_of(g, day)?)))
            .collect();
        assert_eq!(shown, expected_qatar, "Qatar's participations as of {day}");
    }

    // Without as_of, today's record: the same as of a day after every date.
    let today = app
        .get(&format!("/v1/statements/{COUNTER_LETTER}"))
        .await
        .json();
    let later = app
        .get(&format!("/v1/statements/{COUNTER_LETTER}?as_of=2100-01-01"))
        .await
        .json();
    for field in [
        "signatories",
        "signatory_count",
        "participant_count",
        "stance_counts",
    ] {
        assert_eq!(today[field], later[field], "{field}");
    }
    assert_eq!(
        stances_shown(&today["signatories"]),
        data.stances_as_of(COUNTER_LETTER, "2100-01-01")
    );
}

#[tokio::test]
async fn a_statement_not_yet_issued_is_not_part_of_the_record_and_bad_dates_are_named() {
    let app = TestApp::spawn().await;
    let before = app
        .get(&format!("/v1/statements/{COUNTER_LETTER}?as_of=2019-07-11"))
        .await;
    before.problem(StatusCode::NOT_FOUND);
    let problem = app
        .get(&format!("/v1/statements/{COUNTER_LETTER}?as_of=2019-13-01"))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "as_of");
    let listed = app
        .get("/v1/countries/FRA/statements?as_of=2019-07-11&limit=500")
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let listed = listed.json();
    let issued: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["statement"]["issued_on"].as_str().unwrap())
        .collect();
    assert_eq!(
        issued,
        ["2019-07-08"],
        "France's record on 11 July 2019: one letter"
    );
}

#[tokio::test]
async fn a_country_that_switched_sides_stood_on_one_before_and_on_both_after() {
    let app = TestApp::spawn().await;
    let data = Dataset::load();
    // Somalia: the first day its steps put it on a second side.
    let steps = data.steps_of("SOM");
    let mut sides = BTreeSet::new();
    let switched_on = steps
        .iter()
        .find(|step| {
            if is_side(&step.stance) {
                sides.insert(step.stance.clone());
            }
            sides.len() > 1
        })
        .map(|step| step.date.clone())
        .expect("Somalia took both sides");
    let day_before = {
        let date = chrono::NaiveDate::parse_from_str(&switched_on, "%Y-%m-%d").unwrap();
        (date - chrono::Days::new(1)).to_string()
    };

    let stances = |day: String| {
        let app = &app;
        async move {
            let record = app
                .get(&format!(
                    "/v1/countries/SOM/stances?topic=xinjiang&as_of={day}"
                ))
                .await
                .json();
            record["topics"][0].clone()
        }
    };
    let before = stances(day_before.clone()).await;
    assert_eq!(before["switched"], false, "{before}");
    assert_eq!(before["sides"].as_array().unwrap().len(), 1, "{before}");
    let after = stances(switched_on.clone()).await;
    assert_eq!(after["switched"], true, "{after}");
    assert_eq!(after["latest_on"], switched_on);
    let today = stances("2100-01-01".into()).await;
    let now = app
        .get("/v1/countries/SOM/stances?topic=xinjiang")
        .await
        .json();
    assert_eq!(today, now["topics"][0], "as of a later day, today's record");

    let switchers = |day: String| {
        let app = &app;
        async move {
            let listed = app
                .get(&format!(
                    "/v1/topics/xinjiang/switchers?as_of={day}&limit=500"
                ))
                .await
                .json();
            listed["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["country"]["code"].as_str().unwrap().to_owned())
                .collect::<BTreeSet<_>>()
        }
    };
    assert!(!switchers(day_before).await.contains("SOM"));
    assert!(switchers(switched_on).await.contains("SOM"));
}

/// A year's distinct countries, participations, and countries per stance.
#[derive(Default)]
struct YearGroup(BTreeSet<String>, usize, BTreeMap<String, BTreeSet<String>>);

#[tokio::test]
async fn stance_statistics_of_a_past_day_count_the_participations_of_that_day() {
    let app = TestApp::spawn().await;
    let data = Dataset::load();
    for day in ["2019-07-20", "2021-01-01", "2022-10-06"] {
        // Per year: distinct countries, participations, countries per stance.
        let mut expected: BTreeMap<i64, YearGroup> = BTreeMap::new();
        for g in &data.signatures {
            let Some(stance) = data.stance_as_of(g, day) else {
                continue;
            };
            let year: i64 = data.date(g)[..4].parse().unwrap();
            let group = expected.entry(year).or_default();
            group.0.insert(g.country_iso3.clone());
            group.1 += 1;
            group
                .2
                .entry(stance)
                .or_default()
                .insert(g.country_iso3.clone());
        }
        let shown = app
            .get(&format!(
                "/v1/stats/stances?group_by=year&topic=xinjiang&as_of={day}&limit=500"
            ))
            .await
            .json();
        let groups = shown["data"].as_array().unwrap();
        let years: Vec<i64> = groups.iter().map(|g| g["year"].as_i64().unwrap()).collect();
        assert_eq!(
            years,
            expected.keys().copied().collect::<Vec<_>>(),
            "as of {day}"
        );
        for group in groups {
            let YearGroup(countries, participations, stances) =
                &expected[&group["year"].as_i64().unwrap()];
            assert_eq!(group["countries"], countries.len(), "as of {day}: {group}");
            assert_eq!(
                group["participations"], *participations,
                "as of {day}: {group}"
            );
            for (stance, holders) in stances {
                assert_eq!(
                    group["stance_counts"][stance],
                    holders.len(),
                    "{stance} as of {day}"
                );
            }
        }

        // The topic's timeline of that day ends with it, with that day's counts.
        let timeline = app
            .get(&format!(
                "/v1/topics/xinjiang/timeline?as_of={day}&limit=500"
            ))
            .await
            .json();
        for entry in timeline["data"].as_array().unwrap() {
            assert!(entry["issued_on"].as_str().unwrap() <= day);
            let statement = entry["statement_id"].as_str().unwrap();
            let stances = data.stances_as_of(statement, day);
            assert_eq!(
                entry["participant_count"],
                stances.len(),
                "{statement} as of {day}"
            );
        }
    }
}

/// Statistics of a past day read the tallies with corrections for what changed after
/// it: a late joiner and a withdrawal dated after the day leave that day's figures as
/// they were, under every tally.
#[tokio::test]
async fn a_later_join_or_withdrawal_leaves_a_past_days_statistics_as_they_were() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", signatories::keys::ApiRole::Editor).await;
    let queries = [
        "group_by=year&topic=xinjiang",
        "group_by=year,forum",
        "group_by=region&kind=joint_letter",
        "group_by=year",
    ];
    let past = |query: &str| format!("/v1/stats/stances?{query}&as_of=2019-12-31&limit=500");
    let mut before = Vec::new();
    for query in queries {
        before.push(app.get(&past(query)).await.json()["data"].clone());
    }
    let today_before = app.get("/v1/stats/stances?group_by=year").await.json();

    let letter = "/v1/statements/hrc41-letter-critical-2019-07-08/signatories";
    let joined = app
        .write(
            axum::http::Method::PUT,
            &format!("{letter}/USA"),
            &key,
            &serde_json::json!({"role": "signatory", "joined_on": "2020-02-01"}),
        )
        .await;
    assert!(joined.status.is_success(), "{}", joined.text());
    let withdrew = app
        .write(
            axum::http::Method::PUT,
            &format!("{letter}/AUS"),
            &key,
            &serde_json::json!({"role": "signatory", "withdrawn_on": "2020-02-01"}),
        )
        .await;
    assert!(withdrew.status.is_success(), "{}", withdrew.text());

    for (query, before) in queries.iter().zip(before) {
        let after = app.get(&past(query)).await.json()["data"].clone();
        assert_eq!(after, before, "{query} as of 2019-12-31");
    }
    let today_after = app.get("/v1/stats/stances?group_by=year").await.json();
    assert_ne!(
        today_after["data"], today_before["data"],
        "today's record did change"
    );
}
