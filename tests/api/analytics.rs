//! The dashboard analytics, through HTTP, checked against numbers computed here from
//! the dataset files (data/xinjiang/*.csv, data/countries/countries.csv), never copied
//! from the implementation.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use signatories::{AppState, HttpSettings};

use crate::helpers::{TestApp, TestResponse, eventually, metric};

#[derive(Debug, Clone, Deserialize)]
struct DatasetStatement {
    slug: String,
    date: String,
    stance: String,
    reported_count: Option<i64>,
    list_complete: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct DatasetSignature {
    statement_slug: String,
    country_iso3: String,
    role: String,
    joined_on: String,
    withdrawn_on: String,
}

#[derive(Debug, Clone, Deserialize)]
struct DatasetCountry {
    iso3: String,
    region: String,
}

fn read<T: for<'de> Deserialize<'de>>(path: &str) -> Vec<T> {
    csv::Reader::from_path(path)
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect()
}

/// The dataset, with each participation's stance worked out here from the rules in
/// data/xinjiang/README.md.
struct Dataset {
    statements: BTreeMap<String, DatasetStatement>,
    signatures: Vec<DatasetSignature>,
    regions: BTreeMap<String, String>,
}

impl Dataset {
    fn load() -> Self {
        Self {
            statements: read::<DatasetStatement>("data/xinjiang/statements.csv")
                .into_iter()
                .map(|s| (s.slug.clone(), s))
                .collect(),
            signatures: read("data/xinjiang/signatories.csv"),
            regions: read::<DatasetCountry>("data/countries/countries.csv")
                .into_iter()
                .map(|c| (c.iso3, c.region))
                .collect(),
        }
    }

    /// Where the participation leaves the country, withdrawal included.
    fn stance(&self, g: &DatasetSignature) -> String {
        if !g.withdrawn_on.is_empty() {
            return "withdrawn".into();
        }
        self.stance_on_joining(g)
    }

    /// The stance the country took when it joined.
    fn stance_on_joining(&self, g: &DatasetSignature) -> String {
        let stance = self.statements[&g.statement_slug].stance.as_str();
        match (stance, g.role.as_str()) {
            (_, "vote_abstain") => "abstain".into(),
            ("critical", "vote_no") => "supportive".into(),
            ("supportive", "vote_no") => "critical".into(),
            (stance, _) => stance.into(),
        }
    }

    fn of(&self, statement: &str) -> BTreeMap<String, &DatasetSignature> {
        self.signatures
            .iter()
            .filter(|g| g.statement_slug == statement)
            .map(|g| (g.country_iso3.clone(), g))
            .collect()
    }

    /// A statement's countries by effective stance.
    fn stances_of(&self, statement: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut stances: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (country, g) in self.of(statement) {
            stances.entry(self.stance(g)).or_default().insert(country);
        }
        stances
    }

    fn date(&self, g: &DatasetSignature) -> &str {
        &self.statements[&g.statement_slug].date
    }

    /// A country's steps (every statement of the dataset is on Xinjiang), oldest first.
    fn steps_of(&self, country: &str) -> Vec<Step> {
        let mut steps = Vec::new();
        for g in self.signatures.iter().filter(|g| g.country_iso3 == country) {
            let joined_on = if g.joined_on.is_empty() {
                self.date(g)
            } else {
                &g.joined_on
            };
            steps.push(Step {
                date: joined_on.to_owned(),
                statement: g.statement_slug.clone(),
                event: "joined",
                stance: self.stance_on_joining(g),
            });
            if !g.withdrawn_on.is_empty() {
                steps.push(Step {
                    date: g.withdrawn_on.clone(),
                    statement: g.statement_slug.clone(),
                    event: "withdrew",
                    stance: "withdrawn".into(),
                });
            }
        }
        steps.sort();
        steps
    }
}

/// One dated step of a country's record: joining a statement, with the stance taken on
/// joining, or withdrawing from it. Ordered by date, then statement, then event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Step {
    date: String,
    statement: String,
    event: &'static str,
    stance: String,
}

impl Step {
    fn assert_shown_as(&self, shown: &Value) {
        assert_eq!(
            (&shown["date"], &shown["statement_id"], &shown["event"]),
            (
                &json!(self.date),
                &json!(self.statement),
                &json!(self.event)
            ),
            "{shown}"
        );
        assert_eq!(shown["stance"], self.stance.as_str(), "{shown}");
    }
}

fn is_side(stance: &str) -> bool {
    matches!(stance, "critical" | "supportive" | "yes" | "no")
}

/// `{"critical": n, …}` with every effective stance present.
fn stance_counts(stances: &BTreeMap<String, BTreeSet<String>>) -> Value {
    let mut counts = serde_json::Map::new();
    for stance in [
        "critical",
        "supportive",
        "neutral",
        "abstain",
        "withdrawn",
        "yes",
        "no",
    ] {
        counts.insert(
            stance.into(),
            json!(stances.get(stance).map_or(0, BTreeSet::len)),
        );
    }
    Value::Object(counts)
}

fn data(response: &TestResponse) -> Vec<Value> {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["data"].as_array().unwrap().clone()
}

fn csv_rows(response: &TestResponse) -> Vec<BTreeMap<String, String>> {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    csv::Reader::from_reader(response.body.as_ref())
        .deserialize()
        .map(Result::unwrap)
        .collect()
}

/// Every row of a paged list, following `next_cursor` to the end.
async fn walk(app: &TestApp, first: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut uri = first.to_owned();
    loop {
        let page = app.get(&uri).await;
        rows.extend(data(&page));
        match page.json()["page"]["next_cursor"].as_str() {
            Some(cursor) => uri = format!("{first}&cursor={cursor}"),
            None => return rows,
        }
    }
}

#[tokio::test]
async fn the_july_2019_round_splits_22_critical_against_50_supportive_and_one_withdrawal() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let july: Vec<&DatasetStatement> = dataset
        .statements
        .values()
        .filter(|s| s.date.starts_with("2019-07"))
        .collect();
    assert_eq!(july.len(), 2, "the paired letters");

    let groups = data(
        &app.get(
            "/v1/stats/stances?group_by=statement&topic=xinjiang&from=2019-07-01&to=2019-07-31",
        )
        .await,
    );
    assert_eq!(groups.len(), july.len());
    for statement in july {
        let stances = dataset.stances_of(&statement.slug);
        let group = groups
            .iter()
            .find(|g| g["statement_id"] == statement.slug.as_str())
            .unwrap();
        assert_eq!(group["stance_counts"], stance_counts(&stances), "{group}");
        assert_eq!(group["statement_issued_on"], statement.date.as_str());
        assert_eq!(group["year"], Value::Null, "not grouped by year");
    }
    let counter = groups
        .iter()
        .find(|g| g["statement_id"] == "hrc41-letter-supportive-2019-07-12")
        .unwrap();
    assert_eq!(
        (
            &counter["stance_counts"]["supportive"],
            &counter["stance_counts"]["withdrawn"]
        ),
        (&json!(50), &json!(1)),
        "50 signers and Qatar's withdrawal"
    );
}

#[tokio::test]
async fn how_the_split_grew_year_by_year_and_region_by_region() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    // Distinct countries per (year, region) and effective stance.
    let mut expected: BTreeMap<(String, String), BTreeMap<String, BTreeSet<String>>> =
        BTreeMap::new();
    for g in &dataset.signatures {
        let year = dataset.date(g)[..4].to_owned();
        let region = dataset.regions[&g.country_iso3].clone();
        expected
            .entry((year, region))
            .or_default()
            .entry(dataset.stance(g))
            .or_default()
            .insert(g.country_iso3.clone());
    }

    let by_year = data(&app.get("/v1/stats/stances?group_by=year").await);
    let years: BTreeSet<&str> = expected.keys().map(|(y, _)| y.as_str()).collect();
    assert_eq!(
        by_year
            .iter()
            .map(|g| g["year"].to_string())
            .collect::<Vec<_>>(),
        years.iter().map(|y| y.to_string()).collect::<Vec<_>>(),
        "one row per year, in order"
    );
    for group in &by_year {
        let year = group["year"].to_string();
        let mut stances: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut countries = BTreeSet::new();
        for ((y, _), by_stance) in &expected {
            if *y == year {
                for (stance, codes) in by_stance {
                    stances
                        .entry(stance.clone())
                        .or_default()
                        .extend(codes.iter().cloned());
                    countries.extend(codes.iter().cloned());
                }
            }
        }
        assert_eq!(group["stance_counts"], stance_counts(&stances), "{year}");
        assert_eq!(group["countries"], countries.len(), "{year}");
    }

    // The same in two dimensions, walked page by page, and as one CSV file.
    let uri = "/v1/stats/stances?group_by=region&group_by=year&topic=xinjiang&limit=7";
    let groups = walk(&app, uri).await;
    assert_eq!(groups.len(), expected.len());
    for ((year, region), stances) in &expected {
        let group = groups
            .iter()
            .find(|g| g["year"] == year.parse::<u64>().unwrap() && g["region"] == region.as_str())
            .unwrap_or_else(|| panic!("{year} {region}"));
        assert_eq!(group["stance_counts"], stance_counts(stances));
    }
    let keys: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            (
                g["year"].to_string(),
                g["region"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        expected.keys().cloned().collect::<Vec<_>>(),
        "ordered by year, then region, each group once"
    );
    let csv = csv_rows(
        &app.get("/v1/stats/stances?group_by=year,region&format=csv")
            .await,
    );
    assert_eq!(csv.len(), expected.len(), "CSV is every group, unpaged");
    let first = &csv[0];
    let (year, region) = expected.keys().next().unwrap();
    assert_eq!((&first["year"], &first["region"]), (year, region));
    assert_eq!(first["statement_id"], "", "not grouped by statement");

    // Grouped by statement, pages follow the statements in date order, then region.
    let mut by_statement: BTreeMap<(String, String, String), BTreeMap<String, BTreeSet<String>>> =
        BTreeMap::new();
    for g in &dataset.signatures {
        let key = (
            dataset.date(g).to_owned(),
            g.statement_slug.clone(),
            dataset.regions[&g.country_iso3].clone(),
        );
        by_statement
            .entry(key)
            .or_default()
            .entry(dataset.stance(g))
            .or_default()
            .insert(g.country_iso3.clone());
    }
    let groups = walk(&app, "/v1/stats/stances?group_by=region,statement&limit=3").await;
    let keys: Vec<(String, String, String)> = groups
        .iter()
        .map(|g| {
            let text = |field: &str| g[field].as_str().unwrap().to_owned();
            (
                text("statement_issued_on"),
                text("statement_id"),
                text("region"),
            )
        })
        .collect();
    assert_eq!(keys, by_statement.keys().cloned().collect::<Vec<_>>());
    for (group, stances) in groups.iter().zip(by_statement.values()) {
        assert_eq!(group["stance_counts"], stance_counts(stances), "{group}");
    }

    // A cursor belongs to its grouping.
    let cursor = app.get(uri).await.json()["page"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let problem = app
        .get(&format!("/v1/stats/stances?group_by=year&cursor={cursor}"))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "cursor");

    // Filters narrow: only the vote.
    let votes = data(&app.get("/v1/stats/stances?kind=recorded_vote").await);
    let vote = dataset.of("hrc51-vote-2022-10-06");
    assert_eq!(votes[0]["countries"], vote.len());
    assert_eq!(votes[0]["participations"], vote.len());
}

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
        .send_json(
            Method::POST,
            "/v1/statements",
            Some(&editor),
            &json!({"id": "compare", "title": "A statement", "kind": "joint_statement",
                    "forum": "UN Human Rights Council", "issued_on": "2025-01-01",
                    "stance": "critical", "topics": ["xinjiang"]}),
            &[],
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

#[tokio::test]
async fn alignment_ranks_countries_by_agreement_on_shared_statements() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let mut expected: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let france: BTreeMap<&String, String> = dataset
        .signatures
        .iter()
        .filter(|g| g.country_iso3 == "FRA" && g.withdrawn_on.is_empty())
        .map(|g| (&g.statement_slug, dataset.stance(g)))
        .collect();
    for g in &dataset.signatures {
        if g.country_iso3 == "FRA" || !g.withdrawn_on.is_empty() {
            continue;
        }
        if let Some(stance) = france.get(&g.statement_slug) {
            let entry = expected.entry(g.country_iso3.clone()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(*stance == dataset.stance(g));
        }
    }

    let report = app.get("/v1/countries/fr/alignment?topic=xinjiang").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    let report = report.json();
    assert_eq!(report["country"]["code"], "FRA");
    let rows = report["data"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    let mut previous = (f64::INFINITY, u64::MAX);
    for row in rows {
        let code = row["country"]["code"].as_str().unwrap();
        let (shared, agreed) = expected[code];
        assert_eq!(
            (row["shared"].as_u64(), row["agreed"].as_u64()),
            (Some(shared as u64), Some(agreed as u64)),
            "{code}"
        );
        let agreement = row["agreement"].as_f64().unwrap();
        assert!(
            (agreement - agreed as f64 / shared as f64).abs() < 1e-4,
            "{code}"
        );
        let key = (agreement, row["shared"].as_u64().unwrap());
        assert!(
            key <= previous,
            "ranked by agreement, then by shared: {code}"
        );
        previous = key;
    }
    let vote_no = rows
        .iter()
        .find(|r| r["country"]["code"] == "CHN")
        .expect("China voted in the 2022 vote with France");
    assert_eq!(vote_no["agreed"], 0);
    assert!(vote_no["opposed"].as_u64().unwrap() >= 1);

    let well_founded = app
        .get("/v1/countries/FRA/alignment?topic=xinjiang&min_shared=8")
        .await
        .json();
    assert_eq!(
        well_founded["data"].as_array().unwrap().len(),
        expected.values().filter(|(shared, _)| *shared >= 8).count()
    );
    let csv = csv_rows(
        &app.get_with("/v1/countries/FRA/alignment", &[("accept", "text/csv")])
            .await,
    );
    assert_eq!(csv.len(), expected.len(), "all topics: only Xinjiang here");
}

/// The application on `db` as `signatories serve` starts it: loading its alignment
/// matrix in the background.
fn warming_up(db: sqlx::PgPool) -> TestApp {
    let state = AppState::new(db.clone(), HttpSettings::default());
    state.alignment.clone().warm_up(db.clone());
    TestApp {
        router: signatories::app(state),
        db,
    }
}

const MATRIX_LOADS: &str = "signatories_alignment_matrix_load_seconds_count";

/// Waits until `/metrics` shows `loads` full loads of the alignment matrix.
async fn wait_for_matrix_loads(app: &TestApp, loads: f64) {
    eventually(async || metric(app, MATRIX_LOADS).await >= loads).await;
    assert_eq!(metric(app, MATRIX_LOADS).await, loads);
}

/// A started instance loads its alignment matrix in the background and is not ready
/// until it has, so that no alignment request pays for a full load (seconds at
/// millions of participations).
#[tokio::test]
async fn an_instance_is_ready_once_its_alignment_matrix_is_loaded() {
    let db = crate::helpers::fresh_database().await;
    // Holds the load back, so that the instance is seen warming up.
    let mut blocker = db.begin().await.unwrap();
    sqlx::query("lock table statement in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let app = warming_up(db);

    let warming = app.get("/readyz").await;
    assert_eq!(warming.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        warming.json()["detail"]
            .as_str()
            .unwrap()
            .contains("alignment matrix"),
        "{}",
        warming.text()
    );
    assert_eq!(metric(&app, MATRIX_LOADS).await, 0.0);

    blocker.rollback().await.unwrap();
    wait_for_matrix_loads(&app, 1.0).await;
    assert!(
        eventually(async || app.get("/readyz").await.status == StatusCode::OK).await,
        "still not ready once the matrix is loaded"
    );

    let alignment = app.get("/v1/countries/FRA/alignment").await;
    assert_eq!(alignment.status, StatusCode::OK);
    assert!(!alignment.json()["data"].as_array().unwrap().is_empty());
    assert_eq!(
        metric(&app, MATRIX_LOADS).await,
        1.0,
        "the request was answered from the loaded matrix"
    );
}

/// After a change to most statements (an import, say), the instance reloads its
/// matrix in the background rather than in the next alignment request.
#[tokio::test]
async fn an_instance_reloads_its_alignment_matrix_after_a_bulk_change_unasked() {
    let app = warming_up(crate::helpers::fresh_database().await);
    wait_for_matrix_loads(&app, 1.0).await;
    let signed: i64 = sqlx::query_scalar(
        "select count(*) from signature where country_code = 'FRA' and withdrawn_on is null",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let statements: i64 = sqlx::query_scalar("select count(*) from statement")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        signed * 8 > statements,
        "France's statements are more than an eighth of them: a full reload"
    );

    sqlx::query("delete from signature where country_code = 'FRA'")
        .execute(&app.db)
        .await
        .unwrap();
    wait_for_matrix_loads(&app, 2.0).await;

    let alignment = app.get("/v1/countries/FRA/alignment").await.json();
    assert_eq!(
        alignment["data"],
        json!([]),
        "France took part in nothing now"
    );
    assert_eq!(
        metric(&app, MATRIX_LOADS).await,
        2.0,
        "the request was answered from the matrix reloaded in the background"
    );
}

#[tokio::test]
async fn the_bulk_download_is_every_participation_once_in_json_pages_and_in_one_csv() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let expected: BTreeMap<(String, String), String> = dataset
        .signatures
        .iter()
        .map(|g| {
            let key = (g.statement_slug.clone(), g.country_iso3.clone());
            (key, dataset.stance(g))
        })
        .collect();

    let pages = walk(&app, "/v1/participations?limit=97").await;
    let paged: BTreeMap<(String, String), String> = pages
        .iter()
        .map(|p| {
            let key = (
                p["statement_id"].as_str().unwrap().to_owned(),
                p["country_code"].as_str().unwrap().to_owned(),
            );
            (key, p["effective_stance"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(pages.len(), dataset.signatures.len(), "no row twice");
    assert_eq!(paged, expected);
    let total = app
        .get("/v1/participations?count=exact&limit=1")
        .await
        .json();
    assert_eq!(total["page"]["total"], dataset.signatures.len());

    let csv = csv_rows(&app.get("/v1/participations?format=csv").await);
    let in_file: Vec<(&str, &str)> = csv
        .iter()
        .map(|r| (r["statement_id"].as_str(), r["country_code"].as_str()))
        .collect();
    let in_pages: Vec<(&str, &str)> = pages
        .iter()
        .map(|p| {
            (
                p["statement_id"].as_str().unwrap(),
                p["country_code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        in_file, in_pages,
        "the file holds the pages' rows, in their order"
    );

    // Within dates (pages are read with bounds on the statement ids; the file without).
    let keys = |rows: &[Value]| -> Vec<(String, String)> {
        rows.iter()
            .map(|p| {
                (
                    p["statement_id"].as_str().unwrap().to_owned(),
                    p["country_code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let dates = "from=2019-07-10&to=2022-10-06";
    let dated: BTreeSet<(String, String)> = dataset
        .signatures
        .iter()
        .filter(|g| {
            ("2019-07-10"..="2022-10-06")
                .contains(&dataset.statements[&g.statement_slug].date.as_str())
        })
        .map(|g| (g.statement_slug.clone(), g.country_iso3.clone()))
        .collect();
    let dated_pages = keys(&walk(&app, &format!("/v1/participations?{dates}&limit=13")).await);
    assert_eq!(dated_pages.len(), dated.len(), "no row twice");
    assert_eq!(dated_pages.iter().cloned().collect::<BTreeSet<_>>(), dated);
    let dated_file: Vec<(String, String)> = csv_rows(
        &app.get(&format!("/v1/participations?{dates}&format=csv"))
            .await,
    )
    .iter()
    .map(|r| (r["statement_id"].clone(), r["country_code"].clone()))
    .collect();
    assert_eq!(
        dated_file, dated_pages,
        "the file holds the pages' rows, in their order"
    );

    // Narrowed: Qatar's record, every withdrawal, and the 2022 vote's no votes.
    let qatar = data(&app.get("/v1/participations?country=qa").await);
    let qatar_rows: Vec<&DatasetSignature> = dataset
        .signatures
        .iter()
        .filter(|g| g.country_iso3 == "QAT")
        .collect();
    assert_eq!(qatar.len(), qatar_rows.len());
    assert!(qatar.iter().any(|p| p["withdrawn_on"] == "2019-07-18"
        && p["statement_id"] == "hrc41-letter-supportive-2019-07-12"));
    let withdrawn = walk(&app, "/v1/participations?stance=withdrawn").await;
    assert_eq!(
        withdrawn.len(),
        expected.values().filter(|s| *s == "withdrawn").count()
    );
    let no_votes = walk(
        &app,
        "/v1/participations?kind=recorded_vote&role=vote_no&from=2022-01-01&to=2022-12-31",
    )
    .await;
    let expected_no: BTreeSet<&str> = dataset
        .signatures
        .iter()
        .filter(|g| g.role == "vote_no" && dataset.date(g).starts_with("2022"))
        .map(|g| g.country_iso3.as_str())
        .collect();
    assert!(!expected_no.is_empty());
    assert_eq!(
        no_votes
            .iter()
            .map(|p| p["country_code"].as_str().unwrap())
            .collect::<BTreeSet<_>>(),
        expected_no
    );
    app.get("/v1/participations?country=ZZZ")
        .await
        .problem(StatusCode::BAD_REQUEST);
}

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

/// One participation as the API lists it (`/v1/statements` and each statement's
/// signatories).
struct Listed {
    statement: Value,
    country: String,
    country_name: String,
    region: Option<String>,
    subregion: Option<String>,
    role: String,
    effective_stance: String,
    joined_on: Option<String>,
    withdrawn_on: Option<String>,
}

impl Listed {
    /// The stance taken on joining, by the rules of data/xinjiang/README.md (a vote on a
    /// text with no stance is a plain yes or no).
    fn stance_on_joining(&self) -> String {
        match (self.statement["stance"].as_str(), self.role.as_str()) {
            (_, "vote_abstain") => "abstain",
            (None, "vote_no") => "no",
            (None, _) => "yes",
            (Some("critical"), "vote_no") => "supportive",
            (Some("supportive"), "vote_no") => "critical",
            (Some(stance), _) => stance,
        }
        .into()
    }

    fn on_topic(&self, topic: &str) -> bool {
        self.statement["topics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == topic)
    }

    /// Its steps as a country's record shows them: joining, and withdrawing.
    fn steps(&self) -> Vec<Value> {
        let step = |date: &str, event: &str, stance: &str| {
            json!({"date": date, "event": event, "statement_id": self.statement["id"],
                   "statement_title": self.statement["title"], "role": self.role, "stance": stance})
        };
        let issued_on = self.statement["issued_on"].as_str().unwrap();
        let joined_on = self.joined_on.as_deref().unwrap_or(issued_on);
        let mut steps = vec![step(joined_on, "joined", &self.stance_on_joining())];
        if let Some(withdrawn_on) = &self.withdrawn_on {
            steps.push(step(withdrawn_on, "withdrew", "withdrawn"));
        }
        steps
    }
}

async fn every_participation(app: &TestApp) -> Vec<Listed> {
    let mut listed = Vec::new();
    for statement in walk(app, "/v1/statements?limit=100").await {
        let id = statement["id"].as_str().unwrap();
        for g in walk(app, &format!("/v1/statements/{id}/signatories?limit=500")).await {
            let text = |field: &str| g[field].as_str().map(str::to_owned);
            listed.push(Listed {
                statement: statement.clone(),
                country: g["country"]["code"].as_str().unwrap().to_owned(),
                country_name: g["country"]["name"].as_str().unwrap().to_owned(),
                region: g["country"]["region"].as_str().map(str::to_owned),
                subregion: g["country"]["subregion"].as_str().map(str::to_owned),
                role: text("role").unwrap(),
                effective_stance: text("effective_stance").unwrap(),
                joined_on: text("joined_on"),
                withdrawn_on: text("withdrawn_on"),
            });
        }
    }
    listed
}

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

/// Makes every kind of write that the tables the triggers keep (the tallies,
/// stance_span) must follow, one after the other, and runs `check` on the data as it
/// is after each, with the name of the write.
async fn every_kind_of_write(app: &TestApp, check: impl AsyncFn(&TestApp, &str)) {
    let key = app.key("desk", signatories::keys::ApiRole::Admin).await;
    let write = async |method: Method, uri: &str, body: Value| {
        let response = app.send_json(method, uri, Some(&key), &body, &[]).await;
        assert!(response.status.is_success(), "{uri}: {}", response.text());
    };
    check(app, "the seed").await;

    // The newest statement on the topic: the last step of each of its signatories.
    let id = "hrc60-statement-critical-2025-09-15";
    let statement = format!("/v1/statements/{id}");
    write(
        Method::POST,
        "/v1/statements",
        json!({
            "id": id,
            "title": "Joint statement on Xinjiang at HRC60",
            "kind": "joint_statement",
            "forum": "UN Human Rights Council",
            "issued_on": "2025-09-15",
            "stance": "critical",
            "topics": ["xinjiang"],
            "signatories": [
                {"country": "GBR", "role": "lead"},
                {"country": "FRA", "role": "signatory"},
                {"country": "DEU", "role": "signatory", "joined_on": "2025-09-20"}
            ]
        }),
    )
    .await;
    check(app, "a new statement").await;
    write(
        Method::PUT,
        &format!("{statement}/signatories/ITA"),
        json!({"role": "signatory"}),
    )
    .await;
    check(app, "a signature added").await;
    // The United States on the first letter: its first critical step, months earlier.
    write(
        Method::PUT,
        "/v1/statements/hrc41-letter-critical-2019-07-08/signatories/USA",
        json!({"role": "signatory"}),
    )
    .await;
    check(app, "a signature added at the start").await;
    write(
        Method::PUT,
        "/v1/statements/unga75-statement-critical-2020-10-06/signatories/GBR",
        json!({"role": "signatory", "withdrawn_on": "2021-01-15"}),
    )
    .await;
    check(app, "a withdrawal in the middle").await;
    write(
        Method::PUT,
        &format!("{statement}/signatories/FRA"),
        json!({"role": "signatory", "withdrawn_on": "2025-10-01"}),
    )
    .await;
    check(app, "a withdrawal").await;
    write(
        Method::PATCH,
        &statement,
        json!({"stance": "supportive", "issued_on": "2024-09-15"}),
    )
    .await;
    check(app, "a new stance and date").await;
    write(
        Method::PATCH,
        &statement,
        json!({"forum": "UN General Assembly Third Committee", "kind": "joint_letter"}),
    )
    .await;
    check(app, "a new forum and kind").await;
    // On a neutral text a no vote is neutral too: the yes and no voters now agree.
    write(
        Method::PATCH,
        "/v1/statements/hrc51-vote-2022-10-06",
        json!({"stance": "neutral"}),
    )
    .await;
    check(app, "a vote's text made neutral").await;
    write(
        Method::POST,
        "/v1/topics",
        json!({"slug": "tibet", "name": "Tibet"}),
    )
    .await;
    write(
        Method::PATCH,
        &statement,
        json!({"topics": ["tibet", "xinjiang"]}),
    )
    .await;
    check(app, "a topic added").await;
    write(Method::PATCH, &statement, json!({"topics": ["tibet"]})).await;
    check(app, "a topic removed").await;

    // One import that gives the statement a new date, stance and topics, and in one
    // merge drops a signatory, changes one and adds one.
    let files = tempfile::tempdir().unwrap();
    std::fs::write(
        files.path().join("statements.csv"),
        format!(
            "slug,title,kind,forum,date,stance,source_urls,topics\n\
             {id},Joint statement on Xinjiang at HRC60,joint_statement,UN Human Rights Council,\
             2023-03-01,critical,https://example.org/hrc60,xinjiang\n"
        ),
    )
    .unwrap();
    std::fs::write(
        files.path().join("signatories.csv"),
        format!(
            "statement_slug,country_iso3,role\n{id},GBR,lead\n{id},FRA,signatory\n\
             {id},ITA,signatory\n{id},ESP,signatory\n"
        ),
    )
    .unwrap();
    signatories::transfer::import(&app.db, &crate::helpers::import_options(files.path()))
        .await
        .unwrap();
    check(app, "an import").await;
    // The same files but for the stance: nothing else of the statement changes.
    let statements = files.path().join("statements.csv");
    let flipped = std::fs::read_to_string(&statements)
        .unwrap()
        .replace(",critical,", ",supportive,");
    std::fs::write(&statements, flipped).unwrap();
    signatories::transfer::import(&app.db, &crate::helpers::import_options(files.path()))
        .await
        .unwrap();
    check(app, "an import that changes only a stance").await;

    // A step from the middle of a record: neither its first nor its last.
    write(
        Method::DELETE,
        "/v1/statements/hrc44-statement-critical-2020-06-30/signatories/GBR",
        json!({}),
    )
    .await;
    check(app, "a signature removed from the middle").await;
    write(
        Method::DELETE,
        &format!("{statement}/signatories/ESP"),
        json!({}),
    )
    .await;
    check(app, "a signature removed").await;
    write(Method::DELETE, &statement, json!({})).await;
    check(app, "the statement deleted").await;
}

#[tokio::test]
async fn stance_spans_stay_exact_through_every_kind_of_write() {
    let app = TestApp::spawn().await;
    every_kind_of_write(&app, assert_spans_follow_the_participations).await;
}

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

/// Asserts that each country's statement list, newest and oldest first and page by
/// page, holds exactly the statements the participations listed through the API say,
/// and so does the statements' list filtered by the country. Both lists bound their
/// dates by the years the tally holds for the country, so a tally that lagged behind a
/// write would drop statements here.
async fn assert_country_lists_follow_the_participations(app: &TestApp, after: &str) {
    let listed = every_participation(app).await;
    for country in ["FRA", "GBR", "USA", "CHN", "DEU", "ITA", "ESP", "QAT"] {
        assert_country_list_follows(app, after, &listed, country, None, 7).await;
        // The statements it led, which large databases read from a partial index of
        // leads (`…_signature_lead_idx.sql`); a country leads a few statements here, so
        // their pages hold two.
        assert_country_list_follows(app, after, &listed, country, Some("lead"), 2).await;
    }
}

/// Asserts that `country`'s statements (those it took `role` in, if given) are listed
/// by both lists of a country's statements, both ways, page by page, and within dates.
async fn assert_country_list_follows(
    app: &TestApp,
    after: &str,
    listed: &[Listed],
    country: &str,
    role: Option<&str>,
    limit: usize,
) {
    let mut expected: Vec<(String, String)> = listed
        .iter()
        .filter(|g| g.country == country && role.is_none_or(|role| g.role == role))
        .map(|g| {
            let field = |name: &str| g.statement[name].as_str().unwrap().to_owned();
            (field("issued_on"), field("id"))
        })
        .collect();
    expected.sort();
    // Also within dates, which the lists intersect with the country's years.
    let (from, to) = ("2020-06-30", "2022-12-31");
    let within: Vec<String> = expected
        .iter()
        .filter(|(date, _)| (from..=to).contains(&date.as_str()))
        .map(|(_, id)| id.clone())
        .collect();
    let oldest_first: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    let newest_first: Vec<String> = oldest_first.iter().rev().cloned().collect();
    let within_newest_first: Vec<String> = within.iter().rev().cloned().collect();
    let (role_filter, country_role_filter) = match role {
        Some(role) => (format!("&role={role}"), format!("&country_role={role}")),
        None => (String::new(), String::new()),
    };
    for (sort, dates, order) in [
        ("date", String::new(), &oldest_first),
        ("-date", String::new(), &newest_first),
        ("date", format!("&from={from}&to={to}"), &within),
        (
            "-date",
            format!("&from={from}&to={to}"),
            &within_newest_first,
        ),
    ] {
        let query = format!("sort={sort}&limit={limit}{dates}");
        for (uri, id) in [
            (
                format!("/v1/countries/{country}/statements?{query}{role_filter}"),
                "/statement/id",
            ),
            (
                format!("/v1/statements?country={country}&{query}{country_role_filter}"),
                "/id",
            ),
        ] {
            let answered: Vec<String> = walk(app, &uri)
                .await
                .iter()
                .map(|row| row.pointer(id).unwrap().as_str().unwrap().to_owned())
                .collect();
            assert_eq!(&answered, order, "{uri} after {after}");
        }
    }
}

#[tokio::test]
async fn country_statement_lists_stay_complete_through_every_kind_of_write() {
    let app = TestApp::spawn().await;
    every_kind_of_write(&app, assert_country_lists_follow_the_participations).await;
}

/// Asserts that each topic's statements, listed by date both ways and page by page and
/// in its timeline, and counted and dated in the topics' list, are exactly the
/// statements that name the topic, at the dates their own list shows. These lists read
/// the topics' calendar, which triggers keep beside the statements and their links.
async fn assert_topic_lists_follow_the_statements(app: &TestApp, after: &str) {
    let statements = walk(app, "/v1/statements?limit=100").await;
    let ids = |rows: Vec<Value>, field: &str| -> Vec<String> {
        rows.iter()
            .map(|row| row[field].as_str().unwrap().to_owned())
            .collect()
    };
    for topic in walk(app, "/v1/topics?limit=100").await {
        let slug = topic["slug"].as_str().unwrap();
        let mut expected: Vec<(String, String)> = statements
            .iter()
            .filter(|s| s["topics"].as_array().unwrap().iter().any(|t| t == slug))
            .map(|s| {
                let field = |name: &str| s[name].as_str().unwrap().to_owned();
                (field("issued_on"), field("id"))
            })
            .collect();
        expected.sort();
        let oldest_first: Vec<String> = expected.iter().map(|(_, id)| id.clone()).collect();
        let newest_first: Vec<String> = oldest_first.iter().rev().cloned().collect();
        for (uri, field, order) in [
            (
                format!("/v1/statements?topic={slug}&sort=date&limit=7"),
                "id",
                &oldest_first,
            ),
            (
                format!("/v1/statements?topic={slug}&sort=-date&limit=7"),
                "id",
                &newest_first,
            ),
            (
                format!("/v1/topics/{slug}/timeline?limit=7"),
                "statement_id",
                &oldest_first,
            ),
        ] {
            assert_eq!(
                &ids(walk(app, &uri).await, field),
                order,
                "{uri} after {after}"
            );
        }
        let dates = || expected.iter().map(|(date, _)| date.as_str());
        assert_eq!(
            (
                topic["statement_count"].as_u64().unwrap() as usize,
                topic["first_issued_on"].as_str(),
                topic["last_issued_on"].as_str(),
            ),
            (expected.len(), dates().min(), dates().max()),
            "/v1/topics: {slug} after {after}"
        );
    }
}

#[tokio::test]
async fn topic_lists_stay_in_date_order_through_every_kind_of_write() {
    let app = TestApp::spawn().await;
    every_kind_of_write(&app, assert_topic_lists_follow_the_statements).await;
    // A topic renamed renames its links (only in SQL: the API keeps a topic's slug).
    sqlx::query("update topic set slug = 'uyghurs' where slug = 'xinjiang'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_topic_lists_follow_the_statements(&app, "a topic renamed").await;
    let renamed = walk(&app, "/v1/statements?topic=uyghurs&limit=100").await;
    assert!(renamed.len() > 20, "{} statements", renamed.len());
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

/// The tallies' checks guard the triggers' arithmetic: if a tally were ever wrong, a
/// write that counts off from it fails whole, as the service's fault (500), never as a
/// client error that would send the editor looking for a mistake in the request.
#[tokio::test]
async fn a_wrong_tally_fails_the_write_as_a_server_error_and_changes_nothing() {
    for tally in [
        "stance_tally",
        "stance_tally_by_forum",
        "stance_tally_by_forum_all_kinds",
    ] {
        let app = TestApp::spawn().await;
        let key = app.key("desk", signatories::keys::ApiRole::Admin).await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "delete from {tally} where country_code = 'QAT'"
        )))
        .execute(&app.db)
        .await
        .unwrap();
        let before = app.snapshot().await;
        let response = app
            .request_unchecked(
                axum::http::Request::put(
                    "/v1/statements/hrc41-letter-supportive-2019-07-12/signatories/QAT",
                )
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(r#"{"role": "signatory"}"#))
                .unwrap(),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{tally}: {}",
            response.text()
        );
        assert!(
            !response.text().contains("stance_tally"),
            "no internals in the body"
        );
        assert_eq!(app.snapshot().await, before, "{tally}");
    }
}

#[tokio::test]
async fn coverage_compares_the_reported_count_with_the_rows_held() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let rows = walk(&app, "/v1/stats/coverage?limit=10").await;
    assert_eq!(rows.len(), dataset.statements.len());
    for row in &rows {
        let statement = &dataset.statements[row["statement_id"].as_str().unwrap()];
        let held = dataset.of(&statement.slug);
        let active = held.values().filter(|g| g.withdrawn_on.is_empty()).count() as i64;
        assert_eq!(row["participant_count"], held.len());
        assert_eq!(row["signatory_count"], active);
        assert_eq!(row["reported_count"], json!(statement.reported_count));
        assert_eq!(row["list_complete"], statement.list_complete);
        let reported = statement.reported_count.unwrap();
        assert_eq!(row["missing"], (reported - active).max(0));
        let share = row["held_share"].as_f64().unwrap();
        assert!((share - active as f64 / reported as f64).abs() < 1e-3);
    }
    let partial = data(
        &app.get("/v1/stats/coverage?list_complete=false&limit=500")
            .await,
    );
    assert_eq!(
        partial.len(),
        dataset
            .statements
            .values()
            .filter(|s| !s.list_complete)
            .count()
    );
    let csv = csv_rows(
        &app.get("/v1/stats/coverage?format=csv&kind=recorded_vote")
            .await,
    );
    assert_eq!(csv.len(), 1);
    assert_eq!(csv[0]["statement_id"], "hrc51-vote-2022-10-06");
}

#[tokio::test]
async fn analytics_revalidate_with_304_until_the_data_changes() {
    let app = TestApp::spawn().await;
    for uri in [
        "/v1/stats/stances?group_by=year",
        "/v1/stats/coverage",
        "/v1/topics/xinjiang/timeline",
        "/v1/topics/xinjiang/switchers",
        "/v1/statements/compare?a=hrc41-letter-critical-2019-07-08&b=hrc41-letter-supportive-2019-07-12",
        "/v1/countries/FRA/alignment",
    ] {
        let first = app.get(uri).await;
        assert_eq!(first.status, StatusCode::OK, "{uri}");
        let etag = first.header("etag").unwrap().to_owned();
        assert_eq!(first.header("cache-control"), Some("public, max-age=60"));
        let again = app.get_with(uri, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri}");
        let csv = app.get_with(uri, &[("accept", "text/csv")]).await;
        assert_ne!(
            csv.header("etag"),
            Some(etag.as_str()),
            "per representation"
        );
    }
    let before = app.get("/v1/topics/xinjiang/switchers").await;
    let etag = before.header("etag").unwrap().to_owned();
    sqlx::query("delete from signature where country_code = 'SOM' and statement_id = 'unga77-statement-critical-2022-10-31'")
        .execute(&app.db)
        .await
        .unwrap();
    let after = app
        .get_with("/v1/topics/xinjiang/switchers", &[("if-none-match", &etag)])
        .await;
    assert_eq!(after.status, StatusCode::OK);
    let still: Vec<Value> = data(&after);
    let somalia = still
        .iter()
        .find(|s| s["country"]["code"] == "SOM")
        .unwrap();
    assert_eq!(
        somalia["sides"][1]["participations"], 1,
        "one critical step left"
    );
}

#[tokio::test]
async fn analytics_refuse_bad_parameters_and_unknown_names() {
    let app = TestApp::spawn().await;
    for (uri, field) in [
        ("/v1/stats/stances?group_by=country", "group_by"),
        ("/v1/stats/stances?colour=red", "colour"),
        ("/v1/stats/stances?kind=tweet", "kind"),
        ("/v1/stats/stances?from=2020-01-01&to=2019-01-01", "to"),
        ("/v1/stats/stances?cursor=garbage", "cursor"),
        ("/v1/stats/coverage?list_complete=maybe", "list_complete"),
        ("/v1/topics/xinjiang/timeline?group_by=year", "group_by"),
        ("/v1/topics/xinjiang/switchers?limit=0", "limit"),
        ("/v1/statements/compare?a=hrc51-vote-2022-10-06", "b"),
        (
            "/v1/statements/compare?a=hrc51-vote-2022-10-06&b=hrc51-vote-2022-10-06",
            "b",
        ),
        ("/v1/statements/compare?a=Not%20A%20Slug&b=x", "a"),
        ("/v1/countries/FRA/alignment?min_shared=0", "min_shared"),
        ("/v1/countries/FRA/alignment?topic=UPPER", "topic"),
        ("/v1/countries/FRA/alignment?limit=10", "limit"),
    ] {
        let problem = app.get(uri).await.problem(StatusCode::BAD_REQUEST);
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{uri}: {problem}"
        );
    }
    for uri in [
        "/v1/topics/no-such-topic/timeline",
        "/v1/topics/NOT%20A%20SLUG/switchers",
        "/v1/statements/compare?a=no-such-statement&b=hrc51-vote-2022-10-06",
        "/v1/statements/compare?a=hrc51-vote-2022-10-06&b=no-such-statement",
        "/v1/countries/XYZ/alignment",
    ] {
        app.get(uri).await.problem(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_effective_stance_is_inlined_and_right_for_every_combination() {
    let app = TestApp::spawn().await;
    // Every statement stance, role and withdrawal, against the rules as the dataset's
    // README states them.
    let rows: Vec<(Option<String>, String, bool, String)> = sqlx::query_as(
        "select st::text, r::text, w, effective_stance(st, r, case when w then date '2020-01-01' end)::text \
         from unnest(array['critical', 'supportive', 'neutral', null]::stance[]) st, \
              unnest(enum_range(null::signature_role)) r, unnest(array[false, true]) w",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 4 * 5 * 2);
    for (stance, role, withdrawn, effective) in rows {
        let expected = match (stance.as_deref(), role.as_str(), withdrawn) {
            (_, _, true) => "withdrawn",
            (_, "vote_abstain", _) => "abstain",
            (None, "vote_no", _) => "no",
            (None, _, _) => "yes",
            (Some("neutral"), _, _) => "neutral",
            (Some("critical"), "vote_no", _) => "supportive",
            (Some("supportive"), "vote_no", _) => "critical",
            (Some(stance), _, _) => stance,
        };
        assert_eq!(
            effective, expected,
            "{stance:?} {role} withdrawn={withdrawn}"
        );
    }
    // Inlined into the plan rather than called per row: a call costs seconds over
    // millions of participations.
    let plan: Vec<String> = sqlx::query_scalar(
        "explain (verbose, costs off) select effective_stance from participation",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(!plan.contains("effective_stance("), "{plan}");
    for call in [
        "stance_side(effective_stance)",
        "opposite_sides(effective_stance, effective_stance)",
    ] {
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "explain (verbose, costs off) select {call} from participation"
        )))
        .fetch_all(&app.db)
        .await
        .unwrap();
        let plan = plan.join("\n");
        let function = call.split('(').next().unwrap();
        assert!(!plan.contains(&format!("{function}(")), "{plan}");
    }
}
