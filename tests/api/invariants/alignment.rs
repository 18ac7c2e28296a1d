//! Each country's alignment, from the instance's in-memory matrix, stays what the
//! participations listed say, through every kind of write.

use std::collections::BTreeMap;

use super::{Listed, every_kind_of_write, every_participation};
use crate::helpers::TestApp;
use crate::helpers::pages::data;

/// Asserts that each country's alignment (answered from the instance's in-memory
/// matrix, brought up to date before each answer) counts what the participations listed
/// through the API say, for all statements and per topic.
async fn assert_alignment_follows_the_participations(app: &TestApp, after: &str) {
    let listed = every_participation(app).await;
    let held: Vec<&Listed> = listed.iter().filter(|g| g.withdrawn_on.is_none()).collect();
    for country in ["FRA", "GBR", "USA", "CHN", "DEU", "ITA", "ESP", "QAT"] {
        for topic in [None, Some("xinjiang"), Some("tibet")] {
            let on_topic = |g: &Listed| topic.is_none_or(|t| g.on_topic(t));
            let mine: BTreeMap<&str, String> = held
                .iter()
                .filter(|g| g.country == country && on_topic(g))
                .map(|g| (g.statement["id"].as_str().unwrap(), g.stance_on_joining()))
                .collect();
            let mut expected: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
            for g in held.iter().filter(|g| g.country != country) {
                let Some(my_stance) = mine.get(g.statement["id"].as_str().unwrap()) else {
                    continue;
                };
                let theirs = g.stance_on_joining();
                let counts = expected.entry(g.country.clone()).or_default();
                counts.0 += 1;
                counts.1 += u64::from(theirs == *my_stance);
                counts.2 += u64::from(matches!(
                    (theirs.as_str(), my_stance.as_str()),
                    ("critical", "supportive")
                        | ("supportive", "critical")
                        | ("yes", "no")
                        | ("no", "yes")
                ));
            }
            let uri = match topic {
                Some(topic) => format!("/v1/countries/{country}/alignment?topic={topic}"),
                None => format!("/v1/countries/{country}/alignment"),
            };
            let answered: BTreeMap<String, (u64, u64, u64)> = data(&app.get(&uri).await)
                .iter()
                .map(|row| {
                    let count = |field: &str| row[field].as_u64().unwrap();
                    let code = row["country"]["code"].as_str().unwrap().to_owned();
                    (code, (count("shared"), count("agreed"), count("opposed")))
                })
                .collect();
            assert_eq!(answered, expected, "{uri} after {after}");
        }
    }
}

#[tokio::test]
async fn alignment_stays_exact_through_every_kind_of_write() {
    let app = TestApp::spawn().await;
    every_kind_of_write(&app, assert_alignment_follows_the_participations).await;
}
