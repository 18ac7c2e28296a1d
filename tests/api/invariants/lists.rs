//! A country's statements and a topic's statements, read from what the triggers keep
//! beside them, stay complete and in date order through every kind of write.

use serde_json::Value;

use super::{Listed, every_kind_of_write, every_participation};
use crate::helpers::TestApp;
use crate::helpers::pages::walk;

/// Asserts that each country's statement list, newest and oldest first and page by
/// page, holds exactly the statements the participations listed through the API say,
/// and so does the statements' list filtered by the country. The country's list reads
/// the dates its signatures keep of their statements, and the statements' list bounds
/// its dates by the years the tally holds for the country, so a copy or a tally that
/// lagged behind a write would misplace or drop statements here.
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
