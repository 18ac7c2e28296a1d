//! Which countries took more than one side on a topic, and the dated participations
//! that show it.

use std::collections::{BTreeMap, BTreeSet};

use crate::helpers::TestApp;
use crate::helpers::oracle::{Dataset, DatasetSignature, is_side};
use crate::helpers::pages::{csv_rows, walk};

#[tokio::test]
async fn switchers_are_the_countries_that_took_more_than_one_side() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    // Sides taken on joining, in date order; a later withdrawal does not undo a side.
    let mut steps: Vec<&DatasetSignature> = dataset.signatures.iter().collect();
    steps.sort_by_key(|g| {
        let joined = if g.joined_on.is_empty() {
            dataset.date(g)
        } else {
            &g.joined_on
        };
        (joined.to_owned(), g.statement_slug.clone())
    });
    let mut sides: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in steps {
        let stance = dataset.stance_on_joining(g);
        let taken = sides.entry(g.country_iso3.clone()).or_default();
        if is_side(&stance) && !taken.contains(&stance) {
            taken.push(stance);
        }
    }
    let expected: BTreeMap<&String, &Vec<String>> =
        sides.iter().filter(|(_, s)| s.len() > 1).collect();
    assert!(!expected.is_empty(), "the dataset has a switcher");

    let switchers = walk(&app, "/v1/topics/xinjiang/switchers?limit=1").await;
    let listed: BTreeMap<String, Vec<String>> = switchers
        .iter()
        .map(|s| {
            let sides = s["sides"]
                .as_array()
                .unwrap()
                .iter()
                .map(|span| span["side"].as_str().unwrap().to_owned())
                .collect();
            (s["country"]["code"].as_str().unwrap().to_owned(), sides)
        })
        .collect();
    assert_eq!(
        listed,
        expected
            .iter()
            .map(|(c, s)| (c.to_string(), s.to_vec()))
            .collect()
    );

    // The dated participations that show it, as the dataset has them.
    for switcher in &switchers {
        let code = switcher["country"]["code"].as_str().unwrap();
        for span in switcher["sides"].as_array().unwrap() {
            let mut on_side: Vec<&DatasetSignature> = dataset
                .signatures
                .iter()
                .filter(|g| g.country_iso3 == code && dataset.stance_on_joining(g) == span["side"])
                .collect();
            on_side.sort_by_key(|g| (dataset.date(g).to_owned(), g.statement_slug.clone()));
            assert_eq!(span["participations"], on_side.len());
            assert_eq!(
                span["first"]["statement_id"],
                on_side[0].statement_slug.as_str()
            );
            assert_eq!(span["first"]["date"], dataset.date(on_side[0]));
            assert_eq!(
                span["last"]["statement_id"],
                on_side.last().unwrap().statement_slug.as_str()
            );
        }
    }

    // The same definition as a country's own record.
    let countries: BTreeSet<&String> = sides.keys().collect();
    for country in countries {
        let record = app
            .get(&format!("/v1/countries/{country}/stances?topic=xinjiang"))
            .await
            .json();
        assert_eq!(
            record["topics"][0]["switched"],
            listed.contains_key(country.as_str()),
            "{country}"
        );
    }

    let csv = csv_rows(&app.get("/v1/topics/xinjiang/switchers?format=csv").await);
    assert_eq!(csv.len(), expected.len());
    let (code, sides) = expected.iter().next().unwrap();
    assert_eq!(csv[0]["country_code"], **code);
    assert_eq!(csv[0]["sides"], sides.join(";"));
}
