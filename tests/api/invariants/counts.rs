//! Each participation's effective stance and each statement's counts are right and
//! follow every write; a tally found wrong fails the write whole.

use std::collections::BTreeMap;

use axum::http::StatusCode;

use crate::helpers::oracle::Dataset;
use crate::helpers::{TestApp, fresh_database};

#[tokio::test]
async fn maintained_counts_agree_with_the_dataset_and_follow_writes() {
    let db = fresh_database().await;
    // The HRC51 vote: yes meant a debate, so yes is critical and no is supportive.
    let mut votes = BTreeMap::new();
    for g in Dataset::load().signatures {
        if g.statement_slug == "hrc51-vote-2022-10-06" {
            *votes.entry(g.role).or_insert(0i64) += 1;
        }
    }
    let counts: serde_json::Value = sqlx::query_scalar(
        "select stance_counts from statement where id = 'hrc51-vote-2022-10-06'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(counts["critical"], votes["vote_yes"]);
    assert_eq!(counts["supportive"], votes["vote_no"]);
    assert_eq!(counts["abstain"], votes["vote_abstain"]);

    let letter = "hrc41-letter-supportive-2019-07-12";
    let (signatories, participants): (i32, i32) =
        sqlx::query_as("select signatory_count, participant_count from statement where id = $1")
            .bind(letter)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((signatories, participants), (50, 51));

    sqlx::query("update signature set withdrawn_on = '2019-08-01' where statement_id = $1 and country_code = 'PAK'")
        .bind(letter)
        .execute(&db)
        .await
        .unwrap();
    let (signatories, counts): (i32, serde_json::Value) =
        sqlx::query_as("select signatory_count, stance_counts from statement where id = $1")
            .bind(letter)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(signatories, 49);
    assert_eq!(counts["withdrawn"], 2);

    sqlx::query("update statement set stance = 'critical' where id = $1")
        .bind(letter)
        .execute(&db)
        .await
        .unwrap();
    let counts: serde_json::Value =
        sqlx::query_scalar("select stance_counts from statement where id = $1")
            .bind(letter)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        counts["critical"], 49,
        "a stance change re-derives every count"
    );
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
    // Inlined into the plan rather than called per row: a call per row is slow over a
    // large record.
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
