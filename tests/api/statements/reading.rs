//! Which statements there are, newest first: filtered, searched, sorted and paged
//! exactly as the dataset files say they should be.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::helpers::oracle::{Dataset, DatasetStatement};
use crate::helpers::pages::ids;

#[tokio::test]
async fn statements_list_newest_first_with_their_counts() {
    let app = TestApp::spawn().await;
    let page = app.get("/v1/statements?limit=500").await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.json();
    let dataset = Dataset::load();
    let mut expected: Vec<&DatasetStatement> = dataset.statements.values().collect();
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
async fn every_statement_filter_narrows_as_the_dataset_says() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let expect = |pred: &dyn Fn(&DatasetStatement) -> bool| -> BTreeSet<String> {
        dataset
            .statements
            .values()
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
        ("lead=GBR", expect(&|s| s.lead_country == "GBR")),
        ("lead=cu", expect(&|s| s.lead_country == "CUB")),
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
    let by = |code: &str| -> BTreeSet<String> {
        dataset
            .signatures
            .iter()
            .filter(|g| g.country_iso3 == code)
            .map(|g| g.statement_slug.clone())
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

    let led_by_pakistan: BTreeSet<String> = dataset
        .signatures
        .iter()
        .filter(|g| g.country_iso3 == "PAK" && g.role == "lead")
        .map(|g| g.statement_slug.clone())
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
async fn walk_following_links(app: &TestApp, first: &str) -> Vec<String> {
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
        let walked =
            walk_following_links(&app, &format!("/v1/statements?limit=4&sort={sort}")).await;
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
    let rest = walk_following_links(
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
