//! Countries: finding them, what each signed, and where each stands on a topic
//! over time.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::helpers::TestApp;
use crate::helpers::oracle::{self, Dataset, Step, is_side};
use crate::helpers::pages::{ids, walk};

#[tokio::test]
async fn what_did_france_sign_on_xinjiang_all_critical() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let signed_by_france: BTreeSet<String> = dataset
        .signatures
        .iter()
        .filter(|g| g.country_iso3 == "FRA")
        .map(|g| g.statement_slug.clone())
        .collect();
    assert!(!signed_by_france.is_empty());
    assert!(
        dataset
            .statements
            .values()
            .filter(|s| signed_by_france.contains(&s.slug))
            .all(|s| s.stance == "critical")
    );

    // alpha-2, lower case, resolves to FRA
    let page = app
        .get("/v1/statements?country=fr&topic=xinjiang&limit=500")
        .await
        .json();
    assert_eq!(
        ids(&page).into_iter().collect::<BTreeSet<_>>(),
        signed_by_france
    );

    let mine = app
        .get("/v1/countries/FRA/statements?topic=xinjiang&limit=500")
        .await
        .json();
    let rows = mine["data"].as_array().unwrap();
    assert_eq!(rows.len(), signed_by_france.len());
    assert!(
        rows.iter().all(|r| r["effective_stance"] == "critical"),
        "{mine}"
    );
    assert!(rows.iter().all(|r| r["statement"]["stance"] == "critical"));

    let supportive = app
        .get("/v1/countries/fr/statements?stance=supportive")
        .await
        .json();
    assert_eq!(supportive["data"], json!([]));
}

#[tokio::test]
async fn countries_filter_by_region_membership_and_name() {
    let app = TestApp::spawn().await;
    let members = app
        .get("/v1/countries?un_member=true&limit=1&count=exact")
        .await
        .json();
    assert_eq!(members["page"]["total"], 193);

    let european_members = oracle::countries()
        .iter()
        .filter(|c| c.region == "Europe" && c.un_member)
        .count();
    let europe = app
        .get("/v1/countries?region=Europe&un_member=true&limit=500")
        .await
        .json();
    assert_eq!(europe["data"].as_array().unwrap().len(), european_members);

    let west_africa = app
        .get("/v1/countries?subregion=Sub-Saharan%20Africa&limit=500")
        .await
        .json();
    assert!(
        west_africa["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["subregion"] == "Sub-Saharan Africa")
    );

    // Accent- and case-insensitive: "cote" finds Côte d’Ivoire; "KOREA" finds both Koreas.
    let cote = app.get("/v1/countries?q=cote").await.json();
    assert_eq!(cote["data"][0]["code"], "CIV");
    let korea = app.get("/v1/countries?q=KOREA").await.json();
    let codes: BTreeSet<&str> = korea["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, BTreeSet::from(["KOR", "PRK"]));

    let france = app.get("/v1/countries/fr").await.json();
    assert_eq!(france["code"], "FRA");
    assert_eq!(france["un_member"], true);
    let gdr = app.get("/v1/countries/DDR").await.json();
    assert_eq!(gdr["ended_on"], "1990-10-03");
    assert_eq!(gdr["successor_code"], "DEU");

    // Paging through all countries by name.
    let mut seen = BTreeSet::new();
    for c in walk(&app, "/v1/countries?limit=100").await {
        assert!(seen.insert(c["code"].as_str().unwrap().to_owned()));
    }
    let total = app.get("/v1/countries?limit=1&count=exact").await.json()["page"]["total"]
        .as_i64()
        .unwrap();
    assert_eq!(seen.len() as i64, total);
}

#[tokio::test]
async fn a_country_that_signed_on_both_sides_shows_as_switched() {
    let app = TestApp::spawn().await;
    // Which countries took both sides, from the dataset alone.
    let dataset = Dataset::load();
    let mut sides: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for g in &dataset.signatures {
        let side = dataset.stance_on_joining(g);
        if side == "abstain" {
            continue;
        }
        sides
            .entry(g.country_iso3.clone())
            .or_default()
            .insert(side);
    }
    let switchers: Vec<&String> = sides
        .iter()
        .filter(|(_, s)| s.len() > 1)
        .map(|(c, _)| c)
        .collect();
    assert!(
        !switchers.is_empty(),
        "the dataset has a country on both sides"
    );

    for country in switchers {
        let stances = app
            .get(&format!("/v1/countries/{country}/stances"))
            .await
            .json();
        assert_eq!(
            stances["topics"][0]["switched"], true,
            "{country}: {stances}"
        );
    }
    let france = app
        .get("/v1/countries/FRA/stances?topic=xinjiang")
        .await
        .json();
    let xinjiang = &france["topics"][0];
    assert_eq!(xinjiang["switched"], false);
    assert_eq!(xinjiang["latest_stance"], "critical");

    // Qatar withdrew from the counter-letter: a withdrawal is no side, and does not undo
    // the side it signed on.
    let qatar = app.get("/v1/countries/QAT/stances").await.json();
    let xinjiang = &qatar["topics"][0];
    assert_eq!(xinjiang["sides"], json!(["supportive"]));
    assert_eq!(xinjiang["switched"], false);
    let stances = xinjiang["stances"].as_array().unwrap();
    let withdrawal = stances.iter().find(|s| s["stance"] == "withdrawn").unwrap();
    assert_eq!(withdrawal["first"]["date"], "2019-07-18");
    assert_eq!(withdrawal["first"]["event"], "withdrew");
}

#[tokio::test]
async fn a_country_s_record_is_summed_up_per_stance_with_its_first_and_last_step() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let countries: BTreeSet<&String> = dataset.signatures.iter().map(|g| &g.country_iso3).collect();
    for country in countries {
        // Its steps per stance, stances in the order first taken.
        let steps = dataset.steps_of(country);
        let mut spans: Vec<(&str, Vec<&Step>)> = Vec::new();
        for step in &steps {
            match spans.iter_mut().find(|(stance, _)| *stance == step.stance) {
                Some((_, on_stance)) => on_stance.push(step),
                None => spans.push((&step.stance, vec![step])),
            }
        }
        let sides: Vec<&str> = spans
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| is_side(s))
            .collect();

        let record = app
            .get(&format!("/v1/countries/{country}/stances?topic=xinjiang"))
            .await
            .json();
        let topic = &record["topics"][0];
        let listed = topic["stances"].as_array().unwrap();
        assert_eq!(listed.len(), spans.len(), "{country}: {topic}");
        for (span, (stance, on_stance)) in listed.iter().zip(&spans) {
            assert_eq!(span["stance"], *stance, "{country}: {topic}");
            assert_eq!(span["steps"], on_stance.len(), "{country}: {span}");
            on_stance[0].assert_shown_as(&span["first"]);
            on_stance.last().unwrap().assert_shown_as(&span["last"]);
        }
        let latest = steps.last().unwrap();
        latest.assert_shown_as(&topic["latest"]);
        assert_eq!(topic["latest_stance"], latest.stance.as_str());
        assert_eq!(topic["latest_on"], latest.date.as_str());
        assert_eq!(topic["sides"], json!(sides), "{country}");
        assert_eq!(topic["switched"], sides.len() > 1, "{country}");
    }

    // Qatar signed the July 2019 counter-letter, took its signature back six days later,
    // and voted against a debate in 2022: two steps on its side, then the withdrawal.
    let qatar = app.get("/v1/countries/qa/stances").await.json();
    let xinjiang = &qatar["topics"][0];
    let supportive = &xinjiang["stances"][0];
    assert_eq!(supportive["stance"], "supportive");
    assert_eq!(supportive["steps"], 2);
    assert_eq!(supportive["first"]["date"], "2019-07-12");
    assert_eq!(supportive["last"]["statement_id"], "hrc51-vote-2022-10-06");
    assert_eq!(supportive["last"]["role"], "vote_no");
    let withdrawn = &xinjiang["stances"][1];
    assert_eq!(withdrawn["stance"], "withdrawn");
    assert_eq!(withdrawn["steps"], 1);
    assert_eq!(withdrawn["first"]["date"], "2019-07-18");
    assert_eq!(withdrawn["first"], withdrawn["last"]);
    assert_eq!(xinjiang["latest_on"], "2022-10-06");
}
