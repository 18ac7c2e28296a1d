//! Each country's record, each topic's switchers and running totals, read from the
//! stance spans the triggers keep, stay those of the participations listed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Listed, every_kind_of_write, every_participation};
use crate::helpers::TestApp;
use crate::helpers::oracle::is_side;
use crate::helpers::pages::walk;

/// A country's record on a topic from its steps (oldest first), as
/// GET /v1/countries/{code}/stances shows it, without the topic.
fn record_of(steps: &[Value]) -> Value {
    let mut stances: Vec<(&Value, Vec<&Value>)> = Vec::new();
    for step in steps {
        match stances.iter_mut().find(|(s, _)| *s == &step["stance"]) {
            Some((_, on_stance)) => on_stance.push(step),
            None => stances.push((&step["stance"], vec![step])),
        }
    }
    let sides: Vec<&Value> = stances
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| is_side(s.as_str().unwrap()))
        .collect();
    let latest = steps.last().unwrap();
    json!({
        "latest_stance": latest["stance"],
        "latest_on": latest["date"],
        "switched": sides.len() > 1,
        "sides": sides,
        "stances": stances.iter().map(|(stance, on_stance)| json!({
            "stance": stance, "steps": on_stance.len(),
            "first": on_stance[0], "last": on_stance.last().unwrap()})).collect::<Vec<_>>(),
        "latest": latest,
    })
}

/// Asserts that every country's record, each topic's switchers and each topic's running
/// totals (answered from the spans the database keeps in every write) are those of the
/// participations the API lists.
async fn assert_spans_follow_the_participations(app: &TestApp, after: &str) {
    let listed = every_participation(app).await;
    let topics: BTreeMap<String, Value> = walk(app, "/v1/topics?limit=100")
        .await
        .into_iter()
        .map(|t| (t["slug"].as_str().unwrap().to_owned(), t["name"].clone()))
        .collect();
    let steps_of = |topic: &str, country: &str| {
        let mut steps: Vec<Value> = listed
            .iter()
            .filter(|g| g.country == country && g.on_topic(topic))
            .flat_map(Listed::steps)
            .collect();
        steps.sort_by_key(|s| {
            let part = |field: &str| s[field].as_str().unwrap().to_owned();
            (part("date"), part("statement_id"), part("event"))
        });
        steps
    };

    // Every country that took part, and those this test wrote for.
    let mut countries: BTreeMap<String, String> = listed
        .iter()
        .map(|g| (g.country.clone(), g.country_name.clone()))
        .collect();
    for written in ["DEU", "ESP", "FRA", "GBR", "ITA"] {
        countries.entry(written.to_owned()).or_default();
    }
    for country in countries.keys() {
        let expected: Vec<Value> = topics
            .iter()
            .filter_map(|(slug, name)| {
                let steps = steps_of(slug, country);
                (!steps.is_empty()).then(|| {
                    let mut record = record_of(&steps);
                    record["topic"] = json!({"slug": slug, "name": name});
                    record
                })
            })
            .collect();
        let shown = app
            .get(&format!("/v1/countries/{country}/stances"))
            .await
            .json();
        assert_eq!(shown["topics"], json!(expected), "{country} after {after}");
    }

    for topic in topics.keys() {
        // Switchers, by country name: each side's span, and the latest step.
        let mut expected = Vec::new();
        for (country, name) in &countries {
            let steps = steps_of(topic, country);
            if steps.is_empty() {
                continue;
            }
            let record = record_of(&steps);
            if record["switched"] == true {
                let sides: Vec<Value> = record["stances"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| is_side(s["stance"].as_str().unwrap()))
                    .map(|s| {
                        json!({"side": s["stance"], "participations": s["steps"],
                                    "first": s["first"], "last": s["last"]})
                    })
                    .collect();
                expected.push((name.clone(), json!([country, sides, record["latest"]])));
            }
        }
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        let switchers: Vec<Value> = walk(app, &format!("/v1/topics/{topic}/switchers?limit=7"))
            .await
            .into_iter()
            .map(|s| json!([s["country"]["code"], s["sides"], s["latest"]]))
            .collect();
        let expected: Vec<Value> = expected.into_iter().map(|(_, s)| s).collect();
        assert_eq!(switchers, expected, "{topic} switchers after {after}");

        // Running totals: countries on each side, not withdrawn, up to each date.
        for entry in walk(app, &format!("/v1/topics/{topic}/timeline?limit=9")).await {
            let mut sides: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
            for g in &listed {
                let stance = g.stance_on_joining();
                if g.on_topic(topic)
                    && g.withdrawn_on.is_none()
                    && is_side(&stance)
                    && g.statement["issued_on"].as_str() <= entry["issued_on"].as_str()
                {
                    sides.entry(stance).or_default().insert(&g.country);
                }
            }
            let count = |side: &str| sides.get(side).map_or(0, BTreeSet::len);
            assert_eq!(
                entry["cumulative"],
                json!({"critical": count("critical"), "supportive": count("supportive"),
                       "yes": count("yes"), "no": count("no")}),
                "{topic} on {} after {after}",
                entry["issued_on"]
            );
        }
    }
}

#[tokio::test]
async fn stance_spans_stay_exact_through_every_kind_of_write() {
    let app = TestApp::spawn().await;
    every_kind_of_write(&app, assert_spans_follow_the_participations).await;
}
