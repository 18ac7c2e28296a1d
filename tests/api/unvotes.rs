//! The UN General Assembly roll calls (data/unvotes/): converted and imported whole,
//! as `signatories unvotes` and `signatories import` do, and checked against counts
//! taken straight from the source files.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use signatories::datasets;
use signatories::transfer;

use crate::helpers::{TestApp, import_options};

const SOURCE: &str = "data/unvotes";

/// Votes per (country code, country name) and vote, read from un_votes.csv.gz with
/// every field as text (Namibia's code is `NA`).
fn source_votes() -> HashMap<(String, String, String), i64> {
    let file = File::open(Path::new(SOURCE).join("un_votes.csv.gz")).unwrap();
    let mut reader = csv::Reader::from_reader(BufReader::new(flate2::read::GzDecoder::new(file)));
    let mut votes = HashMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        let key = (
            record[2].to_owned(),
            record[1].to_owned(),
            record[3].to_owned(),
        );
        *votes.entry(key).or_default() += 1;
    }
    votes
}

/// How many votes of this kind the source has under these codes or, for rows without
/// a code, these names.
fn counted(
    votes: &HashMap<(String, String, String), i64>,
    codes: &[&str],
    names: &[&str],
    vote: &str,
) -> i64 {
    votes
        .iter()
        .filter(|((code, name, v), _)| {
            v == vote
                && if code.is_empty() {
                    names.contains(&name.as_str())
                } else {
                    codes.contains(&code.as_str())
                }
        })
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn every_general_assembly_vote_is_imported_and_each_countrys_votes_add_up() {
    let votes = source_votes();
    let total: i64 = votes.values().sum();
    assert_eq!(total, 870_109, "the source as its README describes it");

    let dir = tempfile::tempdir().unwrap();
    let converted = datasets::convert_unvotes(Path::new(SOURCE), dir.path()).unwrap();
    assert_eq!(converted.signatories as i64, total);
    let app = TestApp::spawn().await;
    let report = transfer::import(&app.db, &import_options(dir.path()))
        .await
        .unwrap();
    assert_eq!(report.statements.created, 6_203);
    assert_eq!(report.signatories.created, total, "nothing is dropped");
    assert_eq!(
        report.topics.created, 7,
        "six issue tags and one for the rest"
    );

    let roll_calls = app
        .get("/v1/statements?forum=UN%20General%20Assembly&limit=1&count=exact")
        .await
        .json();
    assert_eq!(roll_calls["page"]["total"], 6_203);

    // What did each country vote? The seeded Xinjiang record has one vote (2022), so
    // the question is asked up to the last roll call, 2020-01-14.
    let cases: [(&str, &[&str], &[&str]); 8] = [
        ("USA", &["US"], &[]),
        ("CHN", &["CN"], &[]),
        ("IND", &["IN"], &[]),
        ("NAM", &["NA"], &[]),
        // West Germany's votes are Germany's: the same UN seat.
        ("DEU", &["DE"], &["Federal Republic of Germany"]),
        ("YEM", &["YE"], &["Yemen Arab Republic"]),
        ("CSK", &["CS"], &[]),
        ("XZN", &[], &["Zanzibar"]),
    ];
    for (country, codes, names) in cases {
        for (vote, role) in [
            ("yes", "vote_yes"),
            ("no", "vote_no"),
            ("abstain", "vote_abstain"),
        ] {
            let expected = counted(&votes, codes, names, vote);
            let page = app
                .get(&format!(
                    "/v1/countries/{country}/statements?role={role}&to=2020-12-31&limit=1&count=exact"
                ))
                .await
                .json();
            assert_eq!(page["page"]["total"], expected, "{country} {vote}");
        }
    }
    let namibia = counted(&votes, &["NA"], &[], "yes");
    assert!(namibia > 1_000, "Namibia's code is not read as missing");

    // A roll call has no stance, so a vote reads as plain yes or no.
    let us_no = app
        .get("/v1/countries/USA/statements?stance=no&to=2020-12-31&limit=1&count=exact")
        .await
        .json();
    assert_eq!(us_no["page"]["total"], counted(&votes, &["US"], &[], "no"));

    // The source's mangled quotation marks are repaired in the title.
    let vote = app.get("/v1/statements/unga1-vote-5").await.json();
    assert_eq!(
        vote["title"],
        "TO ADOPT THE KOREAN PROPOSAL THAT INVALID BALLOTS BE INCLUDED IN THE TOTAL NUMBER OF \
         \"MEMBERS PRESENT AND VOTING\", IN CALCULATING THE MAJORITY VOTE."
    );
    assert_eq!(vote["session"], "UNGA1");
    assert_eq!(vote["stance"], serde_json::Value::Null);
    let mangled: i64 = sqlx::query_scalar(
        "select count(*) from statement where forum = 'UN General Assembly' and strpos(title || summary, '\\') > 0",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(mangled, 0, "no stray backslashes are left");
}
