//! Sparse fieldsets: "give me only the id and the date of each statement". Every list
//! and single resource takes `fields=`; the items then hold those fields alone, with
//! the values the whole item has, and CSV answers keep those columns alone.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use signatories::keys::ApiRole;

use crate::helpers::{TestApp, TestResponse, metric};

/// Where an answer keeps its items: an array under a key, or the answer itself.
#[derive(Clone, Copy)]
enum Items {
    Under(&'static str),
    Whole,
}

/// Every GET of the API that answers with items (or one resource), with a request
/// that has some, and where they are.
const ENDPOINTS: &[(&str, Items)] = &[
    ("/v1/statements?limit=3", Items::Under("data")),
    (
        "/v1/statements/hrc41-letter-critical-2019-07-08",
        Items::Whole,
    ),
    (
        "/v1/statements/hrc41-letter-critical-2019-07-08/signatories?limit=3",
        Items::Under("data"),
    ),
    ("/v1/participations?limit=3", Items::Under("data")),
    ("/v1/countries?limit=3", Items::Under("data")),
    ("/v1/countries/FRA", Items::Whole),
    ("/v1/countries/FRA/statements?limit=3", Items::Under("data")),
    ("/v1/countries/FRA/stances", Items::Under("topics")),
    ("/v1/countries/FRA/alignment", Items::Under("data")),
    ("/v1/topics?limit=3", Items::Under("data")),
    ("/v1/topics/xinjiang", Items::Whole),
    ("/v1/topics/xinjiang/timeline?limit=3", Items::Under("data")),
    (
        "/v1/topics/xinjiang/switchers?limit=3",
        Items::Under("data"),
    ),
    ("/v1/changes?limit=3", Items::Under("data")),
    (
        "/v1/stats/stances?group_by=region&limit=3",
        Items::Under("data"),
    ),
    ("/v1/stats/coverage?limit=3", Items::Under("data")),
    (
        "/v1/statements/compare?a=hrc41-letter-critical-2019-07-08&b=hrc41-letter-supportive-2019-07-12",
        Items::Under("countries"),
    ),
];

fn with(uri: &str, query: &str) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{query}")
}

fn items(answer: &Value, at: Items) -> Vec<Map<String, Value>> {
    let items = match at {
        Items::Whole => vec![answer.clone()],
        Items::Under(key) => answer[key].as_array().expect("an array of items").clone(),
    };
    items
        .into_iter()
        .map(|item| item.as_object().expect("an item is an object").clone())
        .collect()
}

/// The answer without its items: the envelope, which `fields` leaves whole.
fn envelope(answer: &Value, at: Items) -> Value {
    match at {
        Items::Whole => Value::Null,
        Items::Under(key) => {
            let mut answer = answer.clone();
            answer.as_object_mut().unwrap().remove(key);
            answer
        }
    }
}

/// A change in the feed, so that it has an item to select from.
async fn app_with_a_change() -> TestApp {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let topic = json!({"slug": "fieldsets", "name": "Fieldsets"});
    let created = app.write(Method::POST, "/v1/topics", &key, &topic).await;
    assert_eq!(created.status, StatusCode::CREATED);
    app
}

#[tokio::test]
async fn every_list_and_resource_gives_only_the_fields_asked_for() {
    let app = app_with_a_change().await;
    for &(uri, at) in ENDPOINTS {
        let whole = app.get(uri).await;
        assert_eq!(whole.status, StatusCode::OK, "{uri}: {}", whole.text());
        let whole = whole.json();
        let whole_items = items(&whole, at);
        assert!(!whole_items.is_empty(), "{uri} has items to select from");
        let names: Vec<&String> = whole_items[0].keys().collect();

        // Two fields, the last one first: the values of the whole items, nothing else.
        let (first, last) = (names[0], names[names.len() - 1]);
        let sparse = app.get(&with(uri, &format!("fields={last},{first}"))).await;
        assert_eq!(sparse.status, StatusCode::OK, "{uri}: {}", sparse.text());
        let sparse = sparse.json();
        assert_eq!(envelope(&sparse, at), envelope(&whole, at), "{uri}");
        let sparse_items = items(&sparse, at);
        assert_eq!(sparse_items.len(), whole_items.len(), "{uri}");
        for (sparse_item, whole_item) in sparse_items.iter().zip(&whole_items) {
            let kept: Vec<&String> = sparse_item.keys().collect();
            assert_eq!(kept.len(), 2, "{uri}: {sparse_item:?}");
            for name in [first, last] {
                assert_eq!(sparse_item.get(name), whole_item.get(name), "{uri}: {name}");
            }
        }

        // Every field by name: the whole answer again, so each one may be selected.
        let all: Vec<&str> = names.iter().map(|name| name.as_str()).collect();
        let every = app
            .get(&with(uri, &format!("fields={}", all.join(","))))
            .await;
        assert_eq!(every.json(), whole, "{uri}");

        let unknown = app.get(&with(uri, &format!("fields={first},colour"))).await;
        let problem = unknown.problem(StatusCode::BAD_REQUEST);
        let errors = problem["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{uri}: {problem}");
        assert_eq!(errors[0]["field"], "fields", "{uri}");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.contains("\"colour\""), "{uri}: {message}");
        assert!(
            message.contains(first.as_str()),
            "{uri}: lists the allowed ones"
        );
    }
}

fn only_error_of(response: &TestResponse) -> (String, String) {
    let problem = response.problem(StatusCode::BAD_REQUEST);
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{problem}");
    (
        errors[0]["field"].as_str().unwrap().to_owned(),
        errors[0]["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn an_empty_or_repeated_selection_is_refused() {
    let app = TestApp::spawn().await;
    for query in ["fields=", "fields=code,,name", "fields=code&fields="] {
        let (field, message) = only_error_of(&app.get(&format!("/v1/countries?{query}")).await);
        assert_eq!(field, "fields", "{query}");
        assert!(message.contains("must not be empty"), "{query}: {message}");
    }
    let (field, message) = only_error_of(&app.get("/v1/countries/FRA?fields=code,name,code").await);
    assert_eq!(field, "fields");
    assert!(message.contains("\"code\" more than once"), "{message}");
}

#[tokio::test]
async fn a_csv_export_keeps_the_columns_asked_for_in_their_order() {
    let app = TestApp::spawn().await;
    let whole = app
        .get("/v1/statements?format=csv&topic=xinjiang")
        .await
        .text();
    let sparse = app
        .get("/v1/statements?format=csv&topic=xinjiang&fields=critical,id")
        .await;
    assert_eq!(sparse.status, StatusCode::OK);
    let sparse = sparse.text();

    let records = |text: &str| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|record| record.unwrap().iter().map(str::to_owned).collect())
            .collect()
    };
    let whole = records(&whole);
    let column = |name: &str| whole[0].iter().position(|c| c == name).unwrap();
    let (critical, id) = (column("critical"), column("id"));
    let expected: Vec<Vec<String>> = whole
        .iter()
        .map(|row| vec![row[critical].clone(), row[id].clone()])
        .collect();
    assert_eq!(records(&sparse), expected);
    assert!(expected.len() > 1, "the topic has statements");

    // CSV rows name their columns, not the JSON fields they flatten.
    let (field, message) = only_error_of(
        &app.get("/v1/statements?format=csv&fields=id,stance_counts")
            .await,
    );
    assert_eq!(field, "fields");
    assert!(
        message.contains("the CSV columns are: id, title"),
        "{message}"
    );
    let json_only = app
        .get_with(
            "/v1/statements?fields=id,critical",
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(
        json_only.status,
        StatusCode::OK,
        "Accept: text/csv selects columns"
    );
}

#[tokio::test]
async fn a_selection_has_its_own_etag_and_cache_entry() {
    let app = TestApp::spawn().await;
    let whole = app.get("/v1/countries/FRA").await;
    let sparse = app.get("/v1/countries/FRA?fields=name").await;
    assert_eq!(sparse.json(), json!({"name": whole.json()["name"]}));
    let tag = |response: &TestResponse| response.header("etag").unwrap().to_owned();
    assert_ne!(tag(&whole), tag(&sparse));

    // The whole resource's tag does not revalidate the selection, and its own does.
    let revalidated = app
        .get_with(
            "/v1/countries/FRA?fields=name",
            &[("if-none-match", &tag(&whole))],
        )
        .await;
    assert_eq!(revalidated.status, StatusCode::OK);
    assert_eq!(revalidated.body, sparse.body);
    let unchanged = app
        .get_with(
            "/v1/countries/FRA?fields=name",
            &[("if-none-match", &tag(&sparse))],
        )
        .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);

    // A list: the cache keeps the selection apart from the whole page.
    let page = app.get("/v1/countries?limit=2").await;
    let hits = metric(&app, "signatories_cache_hits_total").await;
    let codes = app.get("/v1/countries?limit=2&fields=code").await;
    assert_ne!(codes.body, page.body);
    assert_eq!(metric(&app, "signatories_cache_hits_total").await, hits);
    let again = app.get("/v1/countries?fields=code&limit=2").await;
    assert_eq!(again.body, codes.body);
    assert_eq!(
        metric(&app, "signatories_cache_hits_total").await,
        hits + 1.0
    );
    assert_ne!(tag(&codes), tag(&page));
}
