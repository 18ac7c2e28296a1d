//! Two statements side by side: who took part in both or only one, and who stood on
//! opposite sides.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::oracle::Dataset;
use crate::helpers::pages::csv_rows;

#[tokio::test]
async fn comparing_two_statements_shows_overlap_and_the_countries_on_both_sides() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    for (a, b) in [
        (
            "hrc41-letter-critical-2019-07-08",
            "hrc41-letter-supportive-2019-07-12",
        ),
        (
            "hrc41-letter-supportive-2019-07-12",
            "unga77-statement-critical-2022-10-31",
        ),
        (
            "hrc41-letter-supportive-2019-07-12",
            "hrc51-vote-2022-10-06",
        ),
        (
            "unga75-statement-critical-2020-10-06",
            "unga77-statement-critical-2022-10-31",
        ),
    ] {
        let (in_a, in_b) = (dataset.of(a), dataset.of(b));
        let both: BTreeSet<&String> = in_a.keys().filter(|c| in_b.contains_key(*c)).collect();
        let opposite: BTreeSet<&String> = both
            .iter()
            .copied()
            .filter(|c| {
                let sides = [dataset.stance(in_a[*c]), dataset.stance(in_b[*c])];
                sides == ["critical", "supportive"] || sides == ["supportive", "critical"]
            })
            .collect();

        let comparison = app
            .get(&format!("/v1/statements/compare?a={a}&b={b}"))
            .await;
        assert_eq!(comparison.status, StatusCode::OK, "{}", comparison.text());
        let comparison = comparison.json();
        assert_eq!(
            (&comparison["a"]["id"], &comparison["b"]["id"]),
            (&json!(a), &json!(b))
        );
        assert_eq!(
            comparison["counts"],
            json!({"both": both.len(), "only_a": in_a.len() - both.len(),
                   "only_b": in_b.len() - both.len(), "opposite_sides": opposite.len()}),
            "{a} vs {b}"
        );
        let countries = comparison["countries"].as_array().unwrap();
        let listed = |presence: &str| -> BTreeSet<String> {
            countries
                .iter()
                .filter(|c| c["presence"] == presence)
                .map(|c| c["country"]["code"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(listed("both"), both.iter().map(|c| c.to_string()).collect());
        let on_both_sides: BTreeSet<String> = countries
            .iter()
            .filter(|c| c["opposite_sides"] == true)
            .map(|c| c["country"]["code"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            on_both_sides,
            opposite.iter().map(|c| c.to_string()).collect()
        );
        for c in countries {
            let code = c["country"]["code"].as_str().unwrap();
            for (side, rows) in [("a", &in_a), ("b", &in_b)] {
                match rows.get(code) {
                    Some(g) => {
                        assert_eq!(c[side]["role"], g.role.as_str());
                        assert_eq!(c[side]["effective_stance"], dataset.stance(g));
                    }
                    None => assert_eq!(c[side], Value::Null),
                }
            }
        }
    }

    // The July 2019 letters: nobody signed both; the 2019 counter-letter and the 2022
    // critical statement: Somalia is on both sides.
    let somalia = app
        .get(
            "/v1/statements/compare?a=hrc41-letter-supportive-2019-07-12\
             &b=unga77-statement-critical-2022-10-31&format=csv",
        )
        .await;
    assert_eq!(
        somalia.header("content-disposition"),
        Some(
            "attachment; filename=\"compare-hrc41-letter-supportive-2019-07-12-unga77-statement-critical-2022-10-31.csv\""
        )
    );
    let rows = csv_rows(&somalia);
    let som = rows.iter().find(|r| r["country_code"] == "SOM").unwrap();
    assert_eq!(
        (
            som["presence"].as_str(),
            som["a_effective_stance"].as_str(),
            som["b_effective_stance"].as_str(),
            som["opposite_sides"].as_str()
        ),
        ("both", "supportive", "critical", "true")
    );
    assert_eq!(
        rows.len(),
        dataset
            .of("hrc41-letter-supportive-2019-07-12")
            .into_keys()
            .chain(
                dataset
                    .of("unga77-statement-critical-2022-10-31")
                    .into_keys()
            )
            .collect::<BTreeSet<_>>()
            .len()
    );
}

#[tokio::test]
async fn compare_is_its_own_path_and_no_statement_can_take_its_name() {
    let app = TestApp::spawn().await;
    // Not read as the statement "compare": its own parameters are asked for.
    let problem = app
        .get("/v1/statements/compare")
        .await
        .problem(StatusCode::BAD_REQUEST);
    let fields: BTreeSet<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, BTreeSet::from(["a", "b"]));

    let editor = app
        .key("newsroom", signatories::keys::ApiRole::Editor)
        .await;
    let created = app
        .write(
            Method::POST,
            "/v1/statements",
            &editor,
            &json!({"id": "compare", "title": "A statement", "kind": "joint_statement",
                    "forum": "UN Human Rights Council", "issued_on": "2025-01-01",
                    "stance": "critical", "topics": ["xinjiang"]}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(created["errors"][0]["field"], "id", "{created}");
    let refused = sqlx::query(
        "insert into statement (id, title, kind, forum, issued_on, stance) \
         values ('compare', 'A statement', 'joint_statement', 'UN Human Rights Council', '2025-01-01', 'critical')",
    )
    .execute(&app.db)
    .await
    .unwrap_err();
    assert_eq!(
        refused.as_database_error().unwrap().constraint(),
        Some("statement_id_not_reserved")
    );
}
