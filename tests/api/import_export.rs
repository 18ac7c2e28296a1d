//! Import and export of whole directories, from the library and the command line:
//! exact round trips, one audited change per statement, and bad rows named by line.

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use signatories::keys::ApiRole;
use signatories::transfer::{self, ExportFormat, ImportOptions, InvalidRows};

use crate::helpers::oracle::Dataset;
use crate::helpers::{TestApp, fresh_database, import_options, run_cli};

fn options(dir: &Path) -> ImportOptions {
    ImportOptions {
        default_topic: Some("xinjiang".to_owned()),
        ..import_options(dir)
    }
}

/// Every file of an export, by name.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect()
}

async fn exported(
    db: &sqlx::PgPool,
    format: ExportFormat,
) -> (tempfile::TempDir, BTreeMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    transfer::export(db, dir.path(), format).await.unwrap();
    let files = read_dir(dir.path());
    (dir, files)
}

#[tokio::test]
async fn export_then_import_into_a_fresh_database_reproduces_it_exactly() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    // Change the seeded data through the API first, so the round trip covers more than the seed.
    let topic = json!({"slug": "tibet", "name": "Human rights in Tibet", "description": "Statements on Tibet."});
    assert_eq!(
        app.write(Method::POST, "/v1/topics", &key, &topic)
            .await
            .status,
        StatusCode::CREATED
    );
    let statement = json!({
        "id": "unga80-statement-critical-2025-10-21",
        "title": "Joint statement on Xinjiang and Tibet, with \"quotes\", commas, and a\nline break",
        "kind": "joint_statement", "forum": "UN General Assembly Third Committee", "session": "UNGA80",
        "issued_on": "2025-10-21", "stance": "critical", "topics": ["tibet", "xinjiang"],
        "summary": "Café au lait, naïve façade: UTF-8 survives.", "reported_count": 40,
        "signatories": [{"country": "AUS", "role": "lead", "note": "read the text"}, {"country": "NZL", "role": "signatory", "joined_on": "2025-10-25"}],
        "sources": [{"url": "https://example.org/unga80", "title": "Text", "publisher": "Example", "accessed_on": "2025-10-22"}]
    });
    let created = app
        .write(Method::POST, "/v1/statements", &key, &statement)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    sqlx::query(
        "update country set official_name = 'Republic of China (Taiwan)' where code = 'TWN'",
    )
    .execute(&app.db)
    .await
    .unwrap();

    for format in [ExportFormat::Csv, ExportFormat::Ndjson] {
        let (dir, original) = exported(&app.db, format).await;
        let copy = fresh_database().await;
        let report = transfer::import(&copy, &options(dir.path())).await.unwrap();
        assert_eq!(report.statements.created, 1, "{format:?}: {report:?}");
        assert_eq!(report.topics.created, 1);
        assert_eq!(report.countries.updated, 1);
        let (_, reproduced) = exported(&copy, format).await;
        assert_eq!(reproduced, original, "{format:?}");

        let again = transfer::import(&copy, &options(dir.path())).await.unwrap();
        assert!(
            again.changed_nothing(),
            "importing twice changes nothing: {again:?}"
        );
    }
}

#[tokio::test]
async fn importing_the_shared_dataset_into_an_empty_database_equals_the_seed_migrations() {
    let db = fresh_database().await;
    let (_, seeded) = exported(&db, ExportFormat::Csv).await;
    sqlx::query("delete from statement")
        .execute(&db)
        .await
        .unwrap();
    let report = transfer::import(&db, &options(Path::new("data/xinjiang")))
        .await
        .unwrap();
    assert_eq!(report.statements.created, 25);
    assert_eq!(report.signatories.created, 508);
    assert_eq!(report.sources.created, 62);
    let (_, imported) = exported(&db, ExportFormat::Csv).await;
    assert_eq!(imported, seeded);

    let (changes, listed): (i64, i64) = sqlx::query_as(
        "select count(*), sum(jsonb_array_length(after))::bigint from change \
         where actor = 'import' and entity = 'signatories'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (changes, listed),
        (25, 508),
        "one change per statement, listing every imported row"
    );
}

/// The participations of a statement in data/xinjiang/signatories.csv, as the changes
/// feed lists them: by country, with the fields that have no value left out.
fn listed_in_the_dataset(statement: &str) -> Vec<Value> {
    Dataset::load()
        .of(statement)
        .into_values()
        .map(|g| {
            let mut item = json!({"country": g.country_iso3, "role": g.role});
            for (field, value) in [
                ("joined_on", &g.joined_on),
                ("withdrawn_on", &g.withdrawn_on),
                ("source_url", &g.source_url),
            ] {
                if !value.is_empty() {
                    item[field] = json!(value);
                }
            }
            item
        })
        .collect()
}

#[tokio::test]
async fn an_import_is_audited_once_per_statement_with_the_countries_it_changed() {
    let app = TestApp::spawn().await;
    sqlx::query("delete from statement")
        .execute(&app.db)
        .await
        .unwrap();
    transfer::import(&app.db, &options(Path::new("data/xinjiang")))
        .await
        .unwrap();
    let letter = "hrc41-letter-supportive-2019-07-12";
    let history = format!("/v1/changes?entity=signatories&entity_id={letter}");
    // Who signed the July 2019 counter-letter, according to the import?
    let feed = app.get(&history).await.json();
    let changes = feed["data"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    let imported = &changes[0];
    assert_eq!(
        (&imported["action"], &imported["actor"]),
        (&json!("update"), &json!("import"))
    );
    assert_eq!(imported["before"], json!([]));
    let listed = listed_in_the_dataset(letter);
    assert_eq!(listed.len(), 51);
    assert_eq!(imported["after"], json!(listed));
    let qatar = listed.iter().find(|p| p["country"] == "QAT").unwrap();
    assert_eq!(qatar["withdrawn_on"], "2019-07-18");

    // A correction: Qatar's withdrawal undated, Angola removed, France added.
    let corrected: String = std::fs::read_to_string("data/xinjiang/signatories.csv")
        .unwrap()
        .lines()
        .filter(|line| line.starts_with("statement_slug,") || line.starts_with(letter))
        .filter(|line| !line.contains(",AGO,"))
        .map(|line| {
            if line.contains(",QAT,") {
                line.replace(",2019-07-18,", ",,")
            } else {
                line.to_owned()
            }
        })
        .chain([format!("{letter},FRA,France,signatory,,,")])
        .collect::<Vec<_>>()
        .join("\n");
    let dir = write_files(&[("signatories.csv", &corrected)]);
    let report = transfer::import(&app.db, &options(dir.path()))
        .await
        .unwrap();
    assert_eq!(
        (
            report.signatories.created,
            report.signatories.updated,
            report.signatories.deleted
        ),
        (1, 1, 1)
    );
    let feed = app.get(&history).await.json();
    let correction = feed["data"].as_array().unwrap().last().unwrap().clone();
    let by_country = |code: &str| {
        listed
            .iter()
            .find(|p| p["country"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(correction["before"], json!([by_country("AGO"), qatar]));
    let mut undated = qatar.clone();
    undated.as_object_mut().unwrap().remove("withdrawn_on");
    assert_eq!(
        correction["after"],
        json!([{"country": "FRA", "role": "signatory"}, undated])
    );
    let everything = app.get("/v1/changes?limit=500").await.json();
    assert_eq!(
        everything["data"].as_array().unwrap().last().unwrap()["id"],
        correction["id"],
        "no other statement's list changed"
    );

    // The same files again change nothing and add nothing to the feed.
    let again = transfer::import(&app.db, &options(dir.path()))
        .await
        .unwrap();
    assert!(again.changed_nothing(), "{again:?}");
    assert_eq!(app.get("/v1/changes?limit=500").await.json(), everything);
}

fn write_files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

#[tokio::test]
async fn bad_files_are_rejected_with_their_line_numbers_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;
    let dir = write_files(&[
        (
            "statements.csv",
            "slug,title,kind,forum,session,date,stance,lead_country\n\
             good-2025-01-01,A good one,joint_letter,HRC,HRC58,2025-01-01,critical,FRA\n\
             bad-2025-01-02,,joint_letter,HRC,,2025-01-32,critical,XXX\n",
        ),
        (
            "signatories.csv",
            "statement_slug,country_iso3,role,joined_on,withdrawn_on\n\
             good-2025-01-01,FRA,signatory,,\n\
             good-2025-01-01,FRA,signatory,,\n\
             good-2025-01-01,DEU,vote_yes,,\n\
             good-2025-01-01,ITA,signatory,2025-02-01,2025-01-15\n\
             missing-2025,ESP,signatory,,\n",
        ),
    ]);
    let err = transfer::import(&app.db, &options(dir.path()))
        .await
        .unwrap_err();
    let invalid = err
        .downcast_ref::<InvalidRows>()
        .expect("a list of bad rows");
    let expect = [
        "statements.csv:3: title",
        "statements.csv:3: date",
        "statements.csv:3: lead_country",
        "signatories.csv:3: country_iso3",
        "signatories.csv:4: role",
        "signatories.csv:5: withdrawn_on",
        "signatories.csv:6: statement_slug",
    ];
    for needle in expect {
        assert!(
            invalid.0.iter().any(|line| line.contains(needle)),
            "{needle} not in {:#?}",
            invalid.0
        );
    }
    assert!(
        !invalid
            .0
            .iter()
            .any(|line| line.contains("statements.csv:2")),
        "the good row is not blamed"
    );
    assert_eq!(app.snapshot().await, before);

    let unparsable = write_files(&[("statements.ndjson", "{\"slug\": \"x\"\n")]);
    let err = transfer::import(&app.db, &options(unparsable.path()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("statements.ndjson:1"), "{err}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_dry_run_reports_the_changes_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let dir = write_files(&[
        (
            "statements.csv",
            "slug,title,kind,forum,date,stance,source_urls\n\
             hrc58-letter-critical-2025-03-01,A letter,joint_letter,UN Human Rights Council,2025-03-01,critical,https://example.org/a\n",
        ),
        (
            "signatories.csv",
            "statement_slug,country_iso3,role\n\
             hrc58-letter-critical-2025-03-01,CAN,lead\n\
             hrc58-letter-critical-2025-03-01,JPN,signatory\n",
        ),
    ]);
    let before = app.snapshot().await;
    let report = transfer::import(
        &app.db,
        &ImportOptions {
            dry_run: true,
            ..options(dir.path())
        },
    )
    .await
    .unwrap();
    assert!(report.dry_run);
    assert_eq!(
        (
            report.statements.created,
            report.signatories.created,
            report.sources.created
        ),
        (1, 2, 1)
    );
    assert_eq!(app.snapshot().await, before);

    let applied = transfer::import(&app.db, &options(dir.path()))
        .await
        .unwrap();
    assert_eq!(applied.signatories.created, 2);
    let letter = app
        .get("/v1/statements/hrc58-letter-critical-2025-03-01")
        .await
        .json();
    assert_eq!(letter["signatory_count"], 2);
    assert_eq!(letter["sources"][0]["publisher"], "example.org");

    // The file is the truth about the statements it lists: a row removed is a signature removed.
    std::fs::write(
        dir.path().join("signatories.csv"),
        "statement_slug,country_iso3,role\nhrc58-letter-critical-2025-03-01,CAN,lead\n",
    )
    .unwrap();
    let corrected = transfer::import(&app.db, &options(dir.path()))
        .await
        .unwrap();
    assert_eq!(corrected.signatories.deleted, 1);
    assert_eq!(
        app.get("/v1/statements/hrc58-letter-critical-2025-03-01")
            .await
            .json()["signatory_count"],
        1
    );
}

#[tokio::test]
async fn the_import_command_reports_and_rejects_bad_rows_with_their_lines() {
    let app = TestApp::spawn().await;
    let dry = run_cli(
        &app,
        &[
            "import",
            "data/xinjiang",
            "--topic",
            "xinjiang",
            "--dry-run",
        ],
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(
        report["statements"]["created"], 0,
        "the seed already holds the dataset"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("signatories.csv"),
        "statement_slug,country_iso3,role\nhrc41-letter-critical-2019-07-08,ATL,signatory\n",
    )
    .unwrap();
    let rejected = run_cli(&app, &["import", dir.path().to_str().unwrap()]);
    assert!(!rejected.status.success());
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(
        stderr.contains("signatories.csv:2: country_iso3"),
        "{stderr}"
    );
}

/// Statements `ids` as a statements file, undated lists aside.
fn statements_file(ids: &[String]) -> String {
    let mut file = String::from("slug,title,kind,forum,session,date,stance,lead_country\n");
    for id in ids {
        file.push_str(&format!(
            "{id},Letter {id},joint_letter,HRC,HRC58,2025-01-01,critical,FRA\n"
        ));
    }
    file
}

#[tokio::test]
async fn a_statements_rows_may_lie_apart_in_the_file_and_are_audited_as_one_list() {
    let app = TestApp::spawn().await;
    let ids = [
        "apart-a-2025-01-01".to_owned(),
        "apart-b-2025-01-01".to_owned(),
    ];
    let [a, b] = &ids;
    let signatories = format!(
        "statement_slug,country_iso3,role\n{a},FRA,signatory\n{b},FRA,signatory\n\
         {a},DEU,signatory\n{b},DEU,signatory\n"
    );
    let twice = format!("{signatories}{a},FRA,signatory\n");
    let before = app.snapshot().await;
    let dir = write_files(&[
        ("statements.csv", &statements_file(&ids)),
        ("signatories.csv", &twice),
    ]);
    let err = transfer::import(&app.db, &options(dir.path()))
        .await
        .unwrap_err();
    let invalid = err.downcast_ref::<InvalidRows>().expect("bad rows");
    assert_eq!(
        invalid.0,
        [format!(
            "{}:6: country_iso3: FRA appears twice for {a}",
            dir.path().join("signatories.csv").display()
        )]
    );
    assert_eq!(app.snapshot().await, before, "nothing was written");

    let dir = write_files(&[
        ("statements.csv", &statements_file(&ids)),
        ("signatories.csv", &signatories),
    ]);
    let report = transfer::import(&app.db, &options(dir.path()))
        .await
        .unwrap();
    assert_eq!(report.signatories.created, 4);
    for id in &ids {
        let listed = app.get(&format!("/v1/statements/{id}")).await.json();
        let mut countries: Vec<&str> = listed["signatories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["country"]["code"].as_str().unwrap())
            .collect();
        countries.sort_unstable();
        assert_eq!(countries, ["DEU", "FRA"], "{id}");
        let feed = app
            .get(&format!("/v1/changes?entity=signatories&entity_id={id}"))
            .await
            .json();
        let entries = feed["data"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "one entry for {id}: {entries:#?}");
        assert_eq!(entries[0]["before"], json!([]));
        assert_eq!(
            entries[0]["after"],
            json!([
                {"country": "DEU", "role": "signatory"},
                {"country": "FRA", "role": "signatory"}
            ])
        );
    }
}

#[tokio::test]
async fn a_bad_row_deep_in_a_long_signatories_file_leaves_everything_as_it_was() {
    let app = TestApp::spawn().await;
    let countries: Vec<String> = sqlx::query_scalar(
        "select code from country where ended_on is null order by code limit 150",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    // One statement more than a part of the streamed copy holds, so that a part is sent
    // before the bad row.
    let ids: Vec<String> = (0..=transfer::PART_ROWS / countries.len())
        .map(|i| format!("long-{i:04}-2025-01-01"))
        .collect();
    let mut signatories = String::from("statement_slug,country_iso3,role,note\n");
    for id in &ids {
        for country in &countries {
            signatories.push_str(&format!(
                "{id},{country},signatory,a note to lengthen the row\n"
            ));
        }
    }
    let bad_line = ids.len() * countries.len() + 2;
    signatories.push_str(&format!("{},FRA,nonsense,\n", ids[0]));
    let before = app.snapshot().await;
    let dir = write_files(&[
        ("statements.csv", &statements_file(&ids)),
        ("signatories.csv", &signatories),
    ]);
    let err = transfer::import(&app.db, &options(dir.path()))
        .await
        .unwrap_err();
    let invalid = err.downcast_ref::<InvalidRows>().expect("bad rows");
    assert_eq!(invalid.0.len(), 2, "{:#?}", invalid.0);
    assert!(
        invalid
            .0
            .iter()
            .all(|p| p.contains(&format!("signatories.csv:{bad_line}: "))),
        "{:#?}",
        invalid.0
    );
    assert_eq!(app.snapshot().await, before, "nothing was written");
}
