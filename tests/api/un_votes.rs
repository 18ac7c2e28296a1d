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

/// A row of un_votes.csv.gz with its roll call's date.
struct SourceVote {
    code: String,
    name: String,
    vote: String,
    date: String,
}

fn gzipped_csv(name: &str) -> csv::Reader<BufReader<flate2::read::GzDecoder<File>>> {
    let file = File::open(Path::new(SOURCE).join(name)).unwrap();
    csv::Reader::from_reader(BufReader::new(flate2::read::GzDecoder::new(file)))
}

/// Every vote of the source, read with every field as text (Namibia's code is `NA`).
fn source_votes() -> Vec<SourceVote> {
    let dates: HashMap<String, String> = gzipped_csv("un_roll_calls.csv.gz")
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[3].to_owned())
        })
        .collect();
    gzipped_csv("un_votes.csv.gz")
        .records()
        .map(|r| {
            let r = r.unwrap();
            SourceVote {
                code: r[2].to_owned(),
                name: r[1].to_owned(),
                vote: r[3].to_owned(),
                date: dates[&r[0]].clone(),
            }
        })
        .collect()
}

/// Which source rows are a country's: by code, or by name where the source has no code,
/// within a span of dates (a seat that passed to a successor).
struct Rows<'a> {
    codes: &'a [&'a str],
    names: &'a [&'a str],
    from: &'a str,
    until: &'a str,
}

impl Rows<'_> {
    fn count(&self, votes: &[SourceVote], vote: &str) -> i64 {
        votes
            .iter()
            .filter(|v| {
                v.vote == vote
                    && (self.from..self.until).contains(&v.date.as_str())
                    && if v.code.is_empty() {
                        self.names.contains(&v.name.as_str())
                    } else {
                        self.codes.contains(&v.code.as_str())
                    }
            })
            .count() as i64
    }
}

const ALWAYS: (&str, &str) = ("0000", "9999");

fn rows<'a>(
    codes: &'a [&'a str],
    names: &'a [&'a str],
    (from, until): (&'a str, &'a str),
) -> Rows<'a> {
    Rows {
        codes,
        names,
        from,
        until,
    }
}

#[tokio::test]
async fn every_general_assembly_vote_is_imported_and_each_countrys_votes_add_up() {
    let votes = source_votes();
    assert_eq!(
        votes.len(),
        870_109,
        "the source as its README describes it"
    );

    let dir = tempfile::tempdir().unwrap();
    let converted = datasets::convert_unvotes(Path::new(SOURCE), dir.path()).unwrap();
    assert_eq!(converted.signatories, votes.len());
    let app = TestApp::spawn().await;
    let indexes_and_keys = async || -> Vec<String> {
        sqlx::query_scalar(
            "select indexdef from pg_indexes where tablename in ('statement', 'signature', 'stance_tally_by_forum', 'stance_tally_by_forum_all_kinds') \
             union all \
             select conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) from pg_constraint \
             where conrelid in ('statement'::regclass, 'signature'::regclass, 'stance_tally_by_forum'::regclass, 'stance_tally_by_forum_all_kinds'::regclass) \
             order by 1",
        )
        .fetch_all(&app.db)
        .await
        .unwrap()
    };
    let before = indexes_and_keys().await;
    let report = transfer::import(&app.db, &import_options(dir.path()))
        .await
        .unwrap();
    assert_eq!(
        indexes_and_keys().await,
        before,
        "an import that outnumbers the stored rows builds the indexes and the primary key it set aside again"
    );
    assert_eq!(report.statements.created, 6_203);
    assert_eq!(
        report.signatories.created,
        votes.len() as i64,
        "nothing is dropped"
    );
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
    let cases = [
        ("USA", rows(&["US"], &[], ALWAYS)),
        ("CHN", rows(&["CN"], &[], ALWAYS)),
        ("IND", rows(&["IN"], &[], ALWAYS)),
        ("NAM", rows(&["NA"], &[], ALWAYS)),
        // West Germany's and North Yemen's seats are Germany's and Yemen's.
        (
            "DEU",
            rows(&["DE"], &["Federal Republic of Germany"], ALWAYS),
        ),
        ("YEM", rows(&["YE"], &["Yemen Arab Republic"], ALWAYS)),
        ("CSK", rows(&["CS"], &[], ALWAYS)),
        ("XZN", rows(&[], &["Zanzibar"], ALWAYS)),
        // The source calls the Soviet seat "Russia" and Serbia's "Yugoslavia" throughout;
        // the seed's end dates of the Soviet Union, Yugoslavia, Serbia and Montenegro.
        ("SUN", rows(&["RU"], &[], ("0000", "1991-12-25"))),
        ("RUS", rows(&["RU"], &[], ("1991-12-25", "9999"))),
        ("YUG", rows(&["YU"], &[], ("0000", "2003-02-04"))),
        ("SCG", rows(&["YU"], &[], ("2003-02-04", "2006-06-03"))),
        ("SRB", rows(&["YU"], &[], ("2006-06-03", "9999"))),
    ];
    for (country, source) in &cases {
        for (vote, role) in [
            ("yes", "vote_yes"),
            ("no", "vote_no"),
            ("abstain", "vote_abstain"),
        ] {
            let page = app
                .get(&format!(
                    "/v1/countries/{country}/statements?role={role}&to=2020-12-31&limit=1&count=exact"
                ))
                .await
                .json();
            assert_eq!(
                page["page"]["total"],
                source.count(&votes, vote),
                "{country} {vote}"
            );
        }
    }
    assert!(
        cases[3].1.count(&votes, "yes") > 1_000,
        "Namibia's code is not read as missing"
    );

    // A roll call has no stance, so a vote reads as plain yes or no.
    let us_no = app
        .get("/v1/countries/USA/statements?stance=no&to=2020-12-31&limit=1&count=exact")
        .await
        .json();
    assert_eq!(us_no["page"]["total"], cases[0].1.count(&votes, "no"));

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
