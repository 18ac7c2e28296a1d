//! Synthetic data for load tests (`signatories generate`): reproducible from its seed,
//! and importable as it is.

use std::collections::BTreeMap;
use std::path::Path;

use signatories::datasets::{self, GenerateOptions};
use signatories::transfer;

use crate::helpers::{TestApp, import_options};

fn generated(seed: u64, statements: usize) -> (tempfile::TempDir, BTreeMap<String, Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    datasets::generate(&GenerateOptions { seed, statements }, dir.path()).unwrap();
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    (dir, files)
}

fn rows(dir: &Path, name: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(dir.join(name))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let (_, first) = generated(42, 300);
    let (_, again) = generated(42, 300);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["signatories.csv", "statements.csv", "topics.csv"]
    );
    assert!(first == again, "seed 42 gave different files");
    let (_, other) = generated(43, 300);
    assert!(first["signatories.csv"] != other["signatories.csv"]);
}

#[tokio::test]
async fn generated_data_imports_cleanly_and_looks_like_the_real_record() {
    let (dir, _) = generated(7, 400);
    let statements = rows(dir.path(), "statements.csv");
    let signatories = rows(dir.path(), "signatories.csv");
    let app = TestApp::spawn().await;
    // Offline, as a first bulk load is: the tables' indexes are set aside and made again.
    let offline = transfer::ImportOptions {
        offline: true,
        ..import_options(dir.path())
    };
    let report = transfer::import(&app.db, &offline).await.unwrap();
    assert_eq!(report.statements.created, statements.len() as i64);
    assert_eq!(report.signatories.created, signatories.len() as i64);
    assert_eq!(report.topics.created, 12);

    // Between 20 and 190 participants, from 1946 to 2025, about a hundred on average.
    let (fewest, most, first, last, average): (i32, i32, String, String, f64) = sqlx::query_as(
        "select min(participant_count), max(participant_count), min(issued_on)::text,
                max(issued_on)::text, avg(participant_count)::float8
         from statement where notes like 'Synthetic data%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(fewest >= 20 && most <= 190, "{fewest}..{most}");
    assert!(first.as_str() >= "1946-01-01" && last.as_str() <= "2025-12-31");
    assert!((60.0..140.0).contains(&average), "{average}");

    // The counts the import maintained (by adding its rows) equal a recount.
    let miscounted: i64 = sqlx::query_scalar(
        "select count(*) from statement s
         cross join lateral (
             select count(*)::int as participants,
                    (count(*) filter (where p.withdrawn_on is null))::int as active,
                    coalesce((select jsonb_object_agg(effective_stance, n)
                              from (select effective_stance, count(*) as n from participation
                                    where statement_id = s.id group by 1) x), '{}') as counts
             from participation p where p.statement_id = s.id) recount
         where (s.participant_count, s.signatory_count, s.stance_counts)
               is distinct from (recount.participants, recount.active, recount.counts)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(miscounted, 0);

    // Every participant was a UN member on the day.
    let outsiders: i64 = sqlx::query_scalar(
        "select count(*) from participation p join country c on c.code = p.country_code
         join statement s on s.id = p.statement_id
         where s.notes like 'Synthetic data%'
           and not (c.un_admission_date <= s.issued_on and (c.ended_on is null or s.issued_on < c.ended_on))",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(outsiders, 0);

    // Every kind, every role and stance, late joiners, withdrawals and partial lists occur.
    let facts: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "select count(distinct s.kind), count(distinct p.role), count(distinct p.effective_stance),
                count(*) filter (where p.joined_on > p.issued_on),
                count(*) filter (where p.withdrawn_on is not null),
                count(distinct s.id) filter (where s.reported_count > s.participant_count),
                count(distinct s.id) filter (where s.lead_country is not null)
         from participation p join statement s on s.id = p.statement_id
         where s.notes like 'Synthetic data%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let (kinds, roles, stances, late, withdrawn, partial, led) = facts;
    assert_eq!((kinds, roles, stances), (4, 5, 7), "{facts:?}");
    assert!(late > 0 && withdrawn > 0 && partial > 0, "{facts:?}");
    assert!(led > statements.len() as i64 / 2, "{facts:?}");

    // The import leaves the tables ready for the reads that follow: planned on the
    // data as it now is (statistics taken), and the tables that the lists read by
    // index alone (a country's statements, a topic's calendar, the tallies) marked
    // all-visible, so that those reads do not visit the table for every entry.
    let tables: Vec<(String, i32, i32, bool)> = sqlx::query_as(
        "select c.relname::text, c.relpages, c.relallvisible,
                exists (select 1 from pg_stats p where p.tablename = c.relname)
         from pg_class c
         where c.relname in ('signature', 'statement', 'statement_topic', 'topic_calendar', 'stance_tally', 'stance_tally_by_forum', 'stance_tally_by_forum_all_kinds', 'stance_span')
         order by 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(tables.len(), 8);
    for (table, pages, visible, analyzed) in tables {
        assert!(analyzed, "{table} has no statistics");
        assert!(
            pages > 0 && visible == pages,
            "{table}: {visible} of {pages} pages all-visible"
        );
    }
}
