//! How a topic's sides grew, statement by statement, in running totals.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::helpers::TestApp;
use crate::helpers::oracle::{Dataset, DatasetStatement, is_side, stance_counts};
use crate::helpers::pages::{csv_rows, data, walk};

#[tokio::test]
async fn the_timeline_counts_each_side_cumulatively_and_shows_qatars_withdrawal() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let mut statements: Vec<&DatasetStatement> = dataset.statements.values().collect();
    statements.sort_by(|a, b| (&a.date, &a.slug).cmp(&(&b.date, &b.slug)));

    let timeline = walk(&app, "/v1/topics/xinjiang/timeline?limit=4").await;
    assert_eq!(
        timeline
            .iter()
            .map(|e| e["statement_id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        statements
            .iter()
            .map(|s| s.slug.as_str())
            .collect::<Vec<_>>(),
        "every statement on the topic, oldest first"
    );
    for (entry, statement) in timeline.iter().zip(&statements) {
        // Countries that took each side (not withdrawn) in any statement up to this date.
        let mut sides: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for g in &dataset.signatures {
            let stance = dataset.stance(g);
            if is_side(&stance) && *dataset.date(g) <= *statement.date {
                sides
                    .entry(stance)
                    .or_default()
                    .insert(g.country_iso3.clone());
            }
        }
        let count = |side: &str| sides.get(side).map_or(0, BTreeSet::len);
        assert_eq!(
            entry["cumulative"],
            json!({"critical": count("critical"), "supportive": count("supportive"),
                   "yes": count("yes"), "no": count("no")}),
            "{}",
            statement.slug
        );
        let stances = dataset.stances_of(&statement.slug);
        assert_eq!(entry["stance_counts"], stance_counts(&stances));
    }

    let qatar = dataset
        .signatures
        .iter()
        .find(|g| g.country_iso3 == "QAT" && !g.withdrawn_on.is_empty())
        .unwrap();
    let counter = timeline
        .iter()
        .find(|e| e["statement_id"] == qatar.statement_slug.as_str())
        .unwrap();
    assert_eq!(counter["stance_counts"]["withdrawn"], 1, "{counter}");
    let signed_with_qatar = dataset.of(&qatar.statement_slug).len();
    assert_eq!(
        counter["cumulative"]["supportive"],
        signed_with_qatar - 1,
        "Qatar is not on the supportive side after it withdrew"
    );

    let csv = csv_rows(&app.get("/v1/topics/xinjiang/timeline?format=csv").await);
    assert_eq!(csv.len(), statements.len());
    let last = csv.last().unwrap();
    assert_eq!(
        last["cumulative_critical"],
        timeline.last().unwrap()["cumulative"]["critical"].to_string()
    );

    let from_2022 = data(
        &app.get("/v1/topics/xinjiang/timeline?from=2022-01-01")
            .await,
    );
    assert_eq!(
        from_2022[0]["cumulative"],
        timeline[timeline.len() - from_2022.len()]["cumulative"],
        "dates only cut the rows; the counts run from the start"
    );
}
