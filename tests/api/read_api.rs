//! The public read API, through HTTP, answering the questions users ask of the
//! seeded data. Expected answers are computed from the dataset files, not copied
//! from the implementation.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// One row of data/xinjiang/statements.csv.
struct DatasetStatement {
    slug: String,
    date: String,
    stance: String,
    kind: String,
    lead: String,
}

fn dataset_statements() -> Vec<DatasetStatement> {
    let mut reader = csv::Reader::from_path("data/xinjiang/statements.csv").unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            DatasetStatement {
                slug: r[0].to_owned(),
                kind: r[2].to_owned(),
                date: r[5].to_owned(),
                stance: r[7].to_owned(),
                lead: r[8].to_owned(),
            }
        })
        .collect()
}

/// (statement slug, country code, role) from data/xinjiang/signatories.csv.
fn dataset_signatures() -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path("data/xinjiang/signatories.csv").unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[1].to_owned(), r[3].to_owned())
        })
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn statements_list_newest_first_with_their_counts() {
    let app = TestApp::spawn().await;
    let page = app.get("/v1/statements?limit=500").await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.json();
    let mut expected = dataset_statements();
    expected.sort_by(|a, b| b.date.cmp(&a.date).then(b.slug.cmp(&a.slug)));
    assert_eq!(
        ids(&page),
        expected.iter().map(|s| s.slug.clone()).collect::<Vec<_>>()
    );
    let first_letter = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "hrc41-letter-critical-2019-07-08")
        .unwrap();
    assert_eq!(first_letter["signatory_count"], 22);
    assert_eq!(first_letter["stance_counts"]["critical"], 22);
    assert_eq!(first_letter["stance_counts"]["supportive"], 0);
    assert_eq!(page["page"]["next_cursor"], Value::Null);
}

#[tokio::test]
async fn what_did_france_sign_on_xinjiang_all_critical() {
    let app = TestApp::spawn().await;
    let statements = dataset_statements();
    let signed_by_france: BTreeSet<String> = dataset_signatures()
        .into_iter()
        .filter(|(_, country, _)| country == "FRA")
        .map(|(slug, _, _)| slug)
        .collect();
    assert!(!signed_by_france.is_empty());
    assert!(
        statements
            .iter()
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
    assert_eq!(supportive["data"], serde_json::json!([]));
}

#[tokio::test]
async fn every_statement_filter_narrows_as_the_dataset_says() {
    let app = TestApp::spawn().await;
    let statements = dataset_statements();
    let expect = |pred: &dyn Fn(&DatasetStatement) -> bool| -> BTreeSet<String> {
        statements
            .iter()
            .filter(|s| pred(s))
            .map(|s| s.slug.clone())
            .collect()
    };
    let got = |page: Value| ids(&page).into_iter().collect::<BTreeSet<_>>();

    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("stance=supportive", expect(&|s| s.stance == "supportive")),
        ("kind=recorded_vote", expect(&|s| s.kind == "recorded_vote")),
        (
            "kind=joint_letter,recorded_vote",
            expect(&|s| s.kind == "joint_letter" || s.kind == "recorded_vote"),
        ),
        (
            "from=2022-01-01&to=2022-12-31",
            expect(&|s| s.date.starts_with("2022")),
        ),
        (
            "from=2019-07-12&to=2019-07-12",
            expect(&|s| s.date == "2019-07-12"),
        ),
        ("lead=GBR", expect(&|s| s.lead == "GBR")),
        ("lead=cu", expect(&|s| s.lead == "CUB")),
        ("session=HRC41", expect(&|s| s.slug.starts_with("hrc41"))),
        (
            "forum=UN%20Human%20Rights%20Council&stance=critical",
            expect(&|s| s.slug.starts_with("hrc") && s.stance == "critical"),
        ),
        ("topic=xinjiang", expect(&|_| true)),
    ];
    for (query, expected) in cases {
        let page = app.get(&format!("/v1/statements?limit=500&{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.text());
        assert_eq!(got(page.json()), expected, "{query}");
    }

    // Statements that both China's allies Pakistan and Cuba, or either, took part in.
    let signatures = dataset_signatures();
    let by = |code: &str| -> BTreeSet<String> {
        signatures
            .iter()
            .filter(|(_, c, _)| c == code)
            .map(|(s, _, _)| s.clone())
            .collect()
    };
    let either: BTreeSet<String> = by("PAK").union(&by("CUB")).cloned().collect();
    assert_eq!(
        got(app
            .get("/v1/statements?limit=500&country=PAK&country=cub")
            .await
            .json()),
        either
    );
    assert_eq!(
        got(app
            .get("/v1/statements?limit=500&country=PAK,CUB")
            .await
            .json()),
        either
    );

    let led_by_pakistan: BTreeSet<String> = signatures
        .iter()
        .filter(|(_, c, role)| c == "PAK" && role == "lead")
        .map(|(s, _, _)| s.clone())
        .collect();
    assert_eq!(
        got(app
            .get("/v1/statements?limit=500&country=PAK&country_role=lead")
            .await
            .json()),
        led_by_pakistan
    );
}

#[tokio::test]
async fn full_text_search_is_ranked_and_sorts_are_stable() {
    let app = TestApp::spawn().await;
    let found = app.get("/v1/statements?q=detention").await.json();
    assert_eq!(ids(&found)[0], "hrc41-letter-critical-2019-07-08");
    assert!(ids(&found).len() < 25);

    let by_title = app.get("/v1/statements?sort=title&limit=500").await.json();
    let titles: Vec<String> = by_title["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted);

    let by_size = app
        .get("/v1/statements?sort=-signatory_count&limit=500")
        .await
        .json();
    let sizes: Vec<(i64, String)> = by_size["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["signatory_count"].as_i64().unwrap(),
                s["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(sizes, sorted, "largest first, ties by id");

    let oldest = app.get("/v1/statements?sort=date&limit=1").await.json();
    assert_eq!(ids(&oldest), ["hrc41-letter-critical-2019-07-08"]);
}

/// Walks every page of a list, following `next_cursor`, and checks the Link header.
async fn walk(app: &TestApp, first: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut uri = first.to_owned();
    loop {
        let response = app.get(&uri).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        let page = response.json();
        seen.extend(ids(&page));
        match page["page"]["next_cursor"].as_str() {
            Some(cursor) => {
                let link = response
                    .header("link")
                    .expect("a Link header when a next page exists");
                assert!(
                    link.ends_with("rel=\"next\"") && link.contains(cursor),
                    "{link}"
                );
                let next = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned();
                uri = next;
            }
            None => {
                assert_eq!(response.header("link"), None);
                return seen;
            }
        }
    }
}

#[tokio::test]
async fn paging_to_the_end_sees_every_row_once_even_with_inserts_between_pages() {
    let app = TestApp::spawn().await;
    let all = ids(&app.get("/v1/statements?limit=500").await.json());

    for sort in ["date", "-date", "title", "-signatory_count"] {
        let walked = walk(&app, &format!("/v1/statements?limit=4&sort={sort}")).await;
        assert_eq!(walked.len(), all.len(), "{sort}");
        assert_eq!(
            walked.iter().collect::<BTreeSet<_>>(),
            all.iter().collect::<BTreeSet<_>>(),
            "{sort}"
        );
    }

    // A statement inserted mid-walk, before the cursor, neither repeats nor hides a row.
    let first = app.get("/v1/statements?limit=5&sort=-date").await;
    let first_page = first.json();
    sqlx::query(
        "insert into statement (id, title, kind, forum, issued_on, stance) \
         values ('late-2025-01-01', 'A later statement', 'joint_statement', 'UN Human Rights Council', '2025-01-01', 'critical')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let link = first.header("link").unwrap();
    let rest = walk(
        &app,
        link.trim_start_matches('<').split('>').next().unwrap(),
    )
    .await;
    let mut walked = ids(&first_page);
    walked.extend(rest);
    assert_eq!(walked, all, "the existing rows, each once, in order");

    let counted = app.get("/v1/statements?limit=1&count=exact").await.json();
    assert_eq!(counted["page"]["total"], 26);
    assert_eq!(counted["page"]["limit"], 1);
}

#[tokio::test]
async fn the_counter_letter_lists_qatar_as_withdrawn_with_its_date() {
    let app = TestApp::spawn().await;
    let letter = app
        .get("/v1/statements/hrc41-letter-supportive-2019-07-12")
        .await;
    assert_eq!(letter.status, StatusCode::OK);
    let letter = letter.json();
    let signatories = letter["signatories"].as_array().unwrap();
    let expected = dataset_signatures()
        .iter()
        .filter(|(s, _, _)| s == "hrc41-letter-supportive-2019-07-12")
        .count();
    assert_eq!(signatories.len(), expected);
    let qatar = signatories
        .iter()
        .find(|s| s["country"]["code"] == "QAT")
        .unwrap();
    assert_eq!(qatar["effective_stance"], "withdrawn");
    assert_eq!(qatar["withdrawn_on"], "2019-07-18");
    assert_eq!(qatar["country"]["region"], "Asia");
    assert_eq!(letter["reported_count"], 50);
    assert_eq!(letter["signatory_count"], 50);
    assert_eq!(letter["stance_counts"]["withdrawn"], 1);
    assert!(!letter["sources"].as_array().unwrap().is_empty());

    let withdrawn = app
        .get("/v1/statements/hrc41-letter-supportive-2019-07-12/signatories?stance=withdrawn")
        .await
        .json();
    assert_eq!(withdrawn["data"].as_array().unwrap().len(), 1);
    assert_eq!(withdrawn["data"][0]["country"]["code"], "QAT");

    let late = app
        .get("/v1/statements/hrc41-letter-supportive-2019-07-12/signatories?sort=joined&limit=500")
        .await
        .json();
    let dates: Vec<&str> = late["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["effective_on"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(dates.iter().filter(|d| **d == "2019-07-26").count(), 13);
}

#[tokio::test]
async fn the_vote_splits_by_role_region_and_stance() {
    let app = TestApp::spawn().await;
    let vote = "hrc51-vote-2022-10-06";
    let signatures = dataset_signatures();
    let count = |role: &str| {
        signatures
            .iter()
            .filter(|(s, _, r)| s == vote && r == role)
            .count()
    };
    let no = app
        .get(&format!(
            "/v1/statements/{vote}/signatories?role=vote_no&limit=500"
        ))
        .await
        .json();
    assert_eq!(no["data"].as_array().unwrap().len(), count("vote_no"));
    // A yes was for a debate (critical); a no sided with China (supportive).
    assert!(
        no["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["effective_stance"] == "supportive")
    );
    let critical = app
        .get(&format!(
            "/v1/statements/{vote}/signatories?stance=critical&limit=500"
        ))
        .await
        .json();
    assert_eq!(
        critical["data"].as_array().unwrap().len(),
        count("vote_yes")
    );

    let african = app
        .get(&format!(
            "/v1/statements/{vote}/signatories?region=Africa&limit=500"
        ))
        .await
        .json();
    let african = african["data"].as_array().unwrap();
    assert!(!african.is_empty());
    assert!(african.iter().all(|s| s["country"]["region"] == "Africa"));

    let paged =
        walk_signatories(&app, &format!("/v1/statements/{vote}/signatories?limit=10")).await;
    assert_eq!(paged.len(), 47);
}

async fn walk_signatories(app: &TestApp, first: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut uri = first.to_owned();
    loop {
        let page = app.get(&uri).await.json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["country"]["code"].as_str().unwrap().to_owned()),
        );
        match page["page"]["next_cursor"].as_str() {
            Some(cursor) => uri = format!("{first}&cursor={cursor}"),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn a_country_that_signed_on_both_sides_shows_as_switched() {
    let app = TestApp::spawn().await;
    // Which countries took both sides, from the dataset alone.
    let stance_of: BTreeMap<String, String> = dataset_statements()
        .into_iter()
        .map(|s| (s.slug, s.stance))
        .collect();
    let mut sides: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (slug, country, role) in dataset_signatures() {
        let side = match (stance_of[&slug].as_str(), role.as_str()) {
            (_, "vote_abstain") => continue,
            ("critical", "vote_no") => "supportive".to_owned(),
            ("supportive", "vote_no") => "critical".to_owned(),
            (stance, _) => stance.to_owned(),
        };
        sides.entry(country).or_default().insert(side);
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
async fn countries_filter_by_region_membership_and_name() {
    let app = TestApp::spawn().await;
    let members = app
        .get("/v1/countries?un_member=true&limit=1&count=exact")
        .await
        .json();
    assert_eq!(members["page"]["total"], 193);

    let mut reader = csv::Reader::from_path("data/countries/countries.csv").unwrap();
    let european_members = reader
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[5] == "Europe" && &r[8] == "true")
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
    let mut uri = "/v1/countries?limit=100".to_owned();
    loop {
        let page = app.get(&uri).await.json();
        for c in page["data"].as_array().unwrap() {
            assert!(seen.insert(c["code"].as_str().unwrap().to_owned()));
        }
        match page["page"]["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/v1/countries?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    let total = app.get("/v1/countries?limit=1&count=exact").await.json()["page"]["total"]
        .as_i64()
        .unwrap();
    assert_eq!(seen.len() as i64, total);
}

#[tokio::test]
async fn topics_are_listed_with_their_statements() {
    let app = TestApp::spawn().await;
    let topics = app.get("/v1/topics").await.json();
    assert_eq!(topics["data"][0]["slug"], "xinjiang");
    assert_eq!(topics["data"][0]["statement_count"], 25);
    let xinjiang = app.get("/v1/topics/xinjiang").await.json();
    assert_eq!(xinjiang["first_issued_on"], "2019-07-08");
    app.get("/v1/topics/tibet")
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn csv_returns_every_matching_row_for_a_spreadsheet() {
    let app = TestApp::spawn().await;
    let by_param = app.get("/v1/statements?format=csv&limit=2").await;
    assert_eq!(by_param.status, StatusCode::OK);
    assert_eq!(
        by_param.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        by_param.header("content-disposition"),
        Some("attachment; filename=\"statements.csv\"")
    );
    let mut reader = csv::Reader::from_reader(by_param.body.as_ref());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 25, "all rows, not one page");
    let title = headers.iter().position(|h| h == "title").unwrap();
    let supportive_2024 = rows
        .iter()
        .find(|r| &r[0] == "unga79-statement-supportive-2024-10-22")
        .unwrap();
    assert!(
        supportive_2024[title].contains(", Hong Kong"),
        "a quoted comma survives"
    );

    let by_accept = app
        .get_with(
            "/v1/statements/hrc51-vote-2022-10-06/signatories",
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(by_accept.status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(by_accept.body.as_ref());
    assert_eq!(reader.records().count(), 47);

    let france = app.get("/v1/countries/FRA/statements?format=csv").await;
    assert_eq!(
        france.header("content-disposition"),
        Some("attachment; filename=\"fra-statements.csv\"")
    );
    let countries = app.get("/v1/countries?format=csv&region=Oceania").await;
    let mut reader = csv::Reader::from_reader(countries.body.as_ref());
    assert!(
        reader
            .records()
            .map(Result::unwrap)
            .all(|r| &r[7] == "Oceania")
    );

    let empty = app
        .get("/v1/countries/FRA/statements?format=csv&stance=supportive")
        .await;
    assert_eq!(
        empty.text().lines().count(),
        1,
        "a header row even when nothing matches"
    );
}

#[tokio::test]
async fn responses_carry_etags_and_revalidate_with_304_until_the_data_changes() {
    let app = TestApp::spawn().await;
    let first = app
        .get("/v1/statements/hrc41-letter-critical-2019-07-08")
        .await;
    let etag = first.header("etag").unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "a strong ETag: {etag}"
    );
    assert_eq!(first.header("cache-control"), Some("public, max-age=60"));
    assert!(first.header("last-modified").is_some());

    let again = app
        .get_with(
            "/v1/statements/hrc41-letter-critical-2019-07-08",
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    let csv = app.get("/v1/statements?format=csv").await;
    assert_ne!(
        csv.header("etag"),
        app.get("/v1/statements").await.header("etag"),
        "per representation"
    );

    sqlx::query(
        "update statement set summary = 'Corrected.' where id = 'hrc41-letter-critical-2019-07-08'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let changed = app
        .get_with(
            "/v1/statements/hrc41-letter-critical-2019-07-08",
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["summary"], "Corrected.");
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let other_sort_cursor =
        app.get("/v1/statements?limit=1&sort=title").await.json()["page"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();
    for (uri, field) in [
        ("/v1/statements?colour=red", "colour"),
        ("/v1/statements?from=2019-13-01", "from"),
        ("/v1/statements?to=yesterday", "to"),
        ("/v1/statements?from=2020-01-01&to=2019-01-01", "to"),
        ("/v1/statements?stance=hostile", "stance"),
        ("/v1/statements?kind=tweet", "kind"),
        ("/v1/statements?sort=popularity", "sort"),
        ("/v1/statements?sort=relevance", "sort"),
        ("/v1/statements?cursor=garbage", "cursor"),
        (
            &format!("/v1/statements?sort=date&cursor={other_sort_cursor}"),
            "cursor",
        ),
        ("/v1/statements?limit=0", "limit"),
        ("/v1/statements?limit=501", "limit"),
        ("/v1/statements?limit=ten", "limit"),
        ("/v1/statements?count=maybe", "count"),
        ("/v1/statements?format=xml", "format"),
        ("/v1/statements?country=XX", "country"),
        ("/v1/statements?country=France", "country"),
        ("/v1/statements?country_role=lead", "country_role"),
        ("/v1/statements?topic=Not%20A%20Slug", "topic"),
        ("/v1/statements?session=HRC41&session=HRC42", "session"),
        (
            "/v1/statements/hrc51-vote-2022-10-06/signatories?role=voter",
            "role",
        ),
        (
            "/v1/statements/hrc51-vote-2022-10-06/signatories?sort=size",
            "sort",
        ),
        ("/v1/countries?un_member=yes", "un_member"),
        ("/v1/countries/FRA/statements?stance=angry", "stance"),
        ("/v1/countries/FRA/stances?topic=UPPER", "topic"),
        ("/v1/countries/FRA?expand=all", "expand"),
        ("/v1/topics?sort=name", "sort"),
    ] {
        let problem = app.get(uri).await.problem(StatusCode::BAD_REQUEST);
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && !e["message"].as_str().unwrap().is_empty()),
            "{uri}: {problem}"
        );
    }
    let several = app
        .get("/v1/statements?stance=x&limit=0")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        several["errors"].as_array().unwrap().len(),
        2,
        "every problem at once"
    );
}

#[tokio::test]
async fn unknown_ids_and_codes_are_404s() {
    let app = TestApp::spawn().await;
    for uri in [
        "/v1/statements/no-such-statement",
        "/v1/statements/NOT%20A%20SLUG",
        "/v1/statements/no-such-statement/signatories",
        "/v1/countries/XYZ",
        "/v1/countries/not-a-code",
        "/v1/countries/QQ/statements",
        "/v1/countries/QQQ/stances",
        "/v1/topics/no-such-topic",
    ] {
        app.get(uri).await.problem(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_tampered_cursor_is_the_clients_error() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"s":"-date","k":"not-a-date","i":"x"}"#);
    let problem = app
        .get(&format!("/v1/statements?cursor={forged}"))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "cursor");
}
