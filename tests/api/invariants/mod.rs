//! Does every table the triggers keep stay exact, and every rule of the schema hold,
//! whatever writes the data? The harness here makes every kind of write in turn; each
//! check compares what the API answers with what the participations it lists say.

mod alignment;
mod counts;
mod lists;
mod schema;
mod spans;
mod stats;

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::pages::walk;

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

/// Makes every kind of write that the tables the triggers keep (the tallies,
/// stance_span) must follow, one after the other, and runs `check` on the data as it
/// is after each, with the name of the write.
async fn every_kind_of_write(app: &TestApp, check: impl AsyncFn(&TestApp, &str)) {
    let key = app.key("desk", signatories::keys::ApiRole::Admin).await;
    let write = async |method: Method, uri: &str, body: Value| {
        let response = app.write(method, uri, &key, &body).await;
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
