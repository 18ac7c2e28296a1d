//! Who signed a statement, in what role and with what stance, and how editors add,
//! correct and remove one country at a time.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;
use signatories::keys::ApiRole;

use crate::helpers::TestApp;
use crate::helpers::oracle::Dataset;
use crate::helpers::pages::walk;

#[tokio::test]
async fn the_counter_letter_lists_qatar_as_withdrawn_with_its_date() {
    let app = TestApp::spawn().await;
    let letter = app
        .get("/v1/statements/hrc41-letter-supportive-2019-07-12")
        .await;
    assert_eq!(letter.status, StatusCode::OK);
    let letter = letter.json();
    let signatories = letter["signatories"].as_array().unwrap();
    let expected = Dataset::load()
        .signatures
        .iter()
        .filter(|g| g.statement_slug == "hrc41-letter-supportive-2019-07-12")
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
    let dataset = Dataset::load();
    let count = |role: &str| {
        dataset
            .signatures
            .iter()
            .filter(|g| g.statement_slug == vote && g.role == role)
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

    let paged = walk(&app, &format!("/v1/statements/{vote}/signatories?limit=10")).await;
    assert_eq!(paged.len(), 47);
}

#[tokio::test]
async fn signatories_are_added_corrected_and_removed_one_country_at_a_time() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let letter = "/v1/statements/hrc41-letter-critical-2019-07-08";
    let fiji = format!("{letter}/signatories/fj");

    let created = app
        .write(Method::PUT, &fiji, &key, &json!({"role": "signatory", "joined_on": "2019-07-20", "source_url": "https://example.org/fiji"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        created.header("location"),
        Some("/v1/statements/hrc41-letter-critical-2019-07-08/signatories/FJI")
    );
    let etag = created.header("etag").unwrap().to_owned();
    assert_eq!(created.json()["effective_stance"], "critical");
    assert_eq!(app.get(letter).await.json()["signatory_count"], 23);

    let exists = app
        .send_json(
            Method::PUT,
            &fiji,
            Some(&key),
            &json!({"role": "signatory"}),
            &[("if-none-match", "*")],
        )
        .await;
    exists.problem(StatusCode::PRECONDITION_FAILED);

    let withdrawn = app
        .send_json(
            Method::PUT,
            &fiji,
            Some(&key),
            &json!({"role": "signatory", "joined_on": "2019-07-20", "withdrawn_on": "2019-08-01"}),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
    assert_eq!(withdrawn.json()["effective_stance"], "withdrawn");
    let counted = app.get(letter).await.json();
    assert_eq!(counted["signatory_count"], 22);
    assert_eq!(counted["stance_counts"]["withdrawn"], 1);

    app.send_json(
        Method::PUT,
        &fiji,
        Some(&key),
        &json!({"role": "signatory"}),
        &[("if-match", &etag)],
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED);
    app.write(Method::PUT, &fiji, &key, &json!({"role": "vote_yes"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.write(
        Method::PUT,
        &format!("{letter}/signatories/QQQ"),
        &key,
        &json!({"role": "signatory"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    let removed = app.send(Method::DELETE, &fiji, Body::empty()).await;
    removed.problem(StatusCode::UNAUTHORIZED);
    let removed = app.delete(&fiji, &key, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(letter).await.json()["participant_count"], 22);
    let gone = app.delete(&fiji, &key, None).await;
    gone.problem(StatusCode::NOT_FOUND);

    let feed = app.get("/v1/changes?entity=signature").await.json();
    let actions: Vec<&str> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"]);
}
