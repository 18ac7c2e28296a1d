//! `signatories generate`: synthetic statements at scale, in the import layout, for
//! load tests. Deterministic: the same seed and size give the same bytes, on every
//! platform and in every version of this program that keeps this file's logic,
//! because the only source of randomness is a ChaCha8 stream (whose output is fixed by
//! its specification) turned into choices with integer arithmetic only.
//!
//! The shape follows the real record: statements from 1946 to 2025, more of them in
//! later decades as the UN grew; mostly joint statements and letters, some recorded
//! votes and General Assembly resolutions; 20 to 190 participants drawn from the UN
//! members of the day (former states included); a lead for most letters and
//! statements; votes split into yes, no and abstain; some late joiners, rare
//! withdrawals, and partial lists whose published count exceeds the rows held.

use std::collections::BTreeMap;
use std::path::Path;

use chacha20::ChaCha8Rng;
use chrono::{Datelike, Days, NaiveDate};
use rand_core::SeedableRng;
use serde::Serialize;

use self::random::Random;
use self::vocabulary::{Forum, TOPICS, Topic};
use super::countries::{Countries, SeedCountry};
use super::csv_file;
use crate::domain::{Role, Stance, StatementKind};
use crate::progress::Progress;
use crate::transfer::rows::{SignatoryRow, StatementRow, TopicRow};

mod random;
mod vocabulary;

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub seed: u64,
    pub statements: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct GenerateReport {
    pub seed: u64,
    pub topics: usize,
    pub statements: usize,
    pub signatories: usize,
    /// Statements by kind.
    pub kinds: BTreeMap<&'static str, usize>,
    /// Signatures by role.
    pub roles: BTreeMap<String, usize>,
}

const FIRST_YEAR: i32 = 1946;
const LAST_YEAR: i32 = 2025;
const MIN_PARTICIPANTS: usize = 20;
const MAX_PARTICIPANTS: usize = 190;

/// A statement's kind, forum and date, drawn before the statements are numbered in
/// date order.
struct Outline {
    kind: StatementKind,
    forum: Forum,
    date: NaiveDate,
    session: String,
}

/// Writes topics.csv, statements.csv and signatories.csv into `out`.
pub fn generate(options: &GenerateOptions, out: &Path) -> anyhow::Result<GenerateReport> {
    std::fs::create_dir_all(out)?;
    let mut random = Random(ChaCha8Rng::seed_from_u64(options.seed));
    let countries = Countries::load();
    let mut report = GenerateReport {
        seed: options.seed,
        ..GenerateReport::default()
    };

    let mut writer = csv_file(out, "topics.csv")?;
    for topic in &TOPICS {
        writer.serialize(TopicRow {
            slug: topic.slug.to_owned(),
            name: topic.name.to_owned(),
            description: format!(
                "Synthetic statements on {}, made by `signatories generate` for load tests.",
                topic.subject
            ),
        })?;
    }
    writer.flush()?;
    report.topics = TOPICS.len();

    let mut outlines = outlines(options.statements, &countries, &mut random);
    // Numbered in date order, so that ids sort like dates; the sort is stable, so
    // statements of one day keep the order they were drawn in.
    outlines.sort_by_key(|o| o.date);
    let width = options.statements.to_string().len().max(5);

    let mut statements = csv_file(out, "statements.csv")?;
    let mut signatories = csv_file(out, "signatories.csv")?;
    let progress = Progress::of("generate statements", outlines.len() as u64);
    for (number, outline) in outlines.iter().enumerate() {
        progress.inc(1);
        let (statement, rows) = statement(
            number + 1,
            width,
            outline,
            &countries,
            &mut random,
            options.seed,
        );
        *report.kinds.entry(outline.kind.as_str()).or_default() += 1;
        for row in &rows {
            match report.roles.get_mut(row.role.as_str()) {
                Some(n) => *n += 1,
                None => {
                    report.roles.insert(row.role.clone(), 1);
                }
            }
            signatories.serialize(row)?;
        }
        report.signatories += rows.len();
        statements.serialize(statement)?;
    }
    statements.flush()?;
    signatories.flush()?;
    report.statements = outlines.len();
    Ok(report)
}

fn outlines(n: usize, countries: &Countries, random: &mut Random) -> Vec<Outline> {
    // More statements as the UN grew, and more per member in later decades.
    let years: Vec<(i32, u64)> = (FIRST_YEAR..=LAST_YEAR)
        .map(|year| {
            let mid_year = NaiveDate::from_ymd_opt(year, 7, 1).expect("a date");
            let members = countries.members(mid_year).len() as u64;
            (year, members * (year - FIRST_YEAR + 10) as u64)
        })
        .collect();
    let kinds = [
        (StatementKind::JointStatement, 45),
        (StatementKind::JointLetter, 35),
        (StatementKind::RecordedVote, 15),
        (StatementKind::Resolution, 5),
    ];
    (0..n)
        .map(|_| {
            let year = random.weighted(&years);
            let kind = random.weighted(&kinds);
            let forums: Vec<(Forum, u64)> = Forum::for_kind(kind)
                .iter()
                .copied()
                .filter(|(forum, _)| forum.exists_in(year))
                .collect();
            let forum = random.weighted(&forums);
            let (date, session) = forum.date_and_session(year, random);
            Outline {
                kind,
                forum,
                date,
                session,
            }
        })
        .collect()
}

/// Whose members a statement of this stance draws most of its participants from: the
/// critics of a government are mostly Western states, its defenders mostly African
/// and Asian ones, as in the Xinjiang letters.
fn leans_towards(stance: Option<Stance>, country: &SeedCountry) -> bool {
    match stance {
        Some(Stance::Critical) => {
            (country.region == "Europe" && country.subregion != "Eastern Europe")
                || matches!(
                    country.subregion.as_str(),
                    "Northern America" | "Australia and New Zealand"
                )
        }
        Some(Stance::Supportive) => matches!(country.region.as_str(), "Africa" | "Asia"),
        _ => false,
    }
}

/// How many take part: votes have (nearly) the whole body, letters and statements
/// anything from a small group to a cross-regional majority.
fn participant_count(outline: &Outline, members: usize, random: &mut Random) -> usize {
    let most = members.min(MAX_PARTICIPANTS);
    let count = match (outline.kind, outline.forum) {
        (StatementKind::JointLetter | StatementKind::JointStatement, _) => {
            random.between(MIN_PARTICIPANTS as u64, most as u64) as usize
        }
        (_, Forum::HumanRightsCouncil) => 47,
        (_, Forum::CommissionOnHumanRights) => match outline.date.year() {
            ..1967 => 21,
            1967..1980 => 32,
            1980..1992 => 43,
            _ => 53,
        },
        // Some members are absent from any General Assembly vote.
        _ => members * random.between(80, 97) as usize / 100,
    };
    count.clamp(MIN_PARTICIPANTS, most)
}

fn statement(
    number: usize,
    width: usize,
    outline: &Outline,
    countries: &Countries,
    random: &mut Random,
    seed: u64,
) -> (StatementRow, Vec<SignatoryRow>) {
    let year = outline.date.year();
    let topics: Vec<&Topic> = TOPICS
        .iter()
        .filter(|t| (t.years.0..=t.years.1).contains(&year))
        .collect();
    let topic = topics[random.below(topics.len() as u64) as usize];
    let mut slugs = vec![topic.slug];
    if random.chance(150) {
        let other = topics[random.below(topics.len() as u64) as usize];
        if other.slug != topic.slug {
            slugs.push(other.slug);
        }
    }
    let stance = match outline.kind {
        StatementKind::Resolution => None,
        _ => Some(random.weighted(&[
            (Stance::Critical, 45),
            (Stance::Supportive, 35),
            (Stance::Neutral, 20),
        ])),
    };

    let members = countries.members(outline.date);
    let count = participant_count(outline, members.len(), random);
    let (mut leaning, mut others): (Vec<&SeedCountry>, Vec<&SeedCountry>) =
        members.into_iter().partition(|c| leans_towards(stance, c));
    let from_leaning = (count * 7 / 10)
        .min(leaning.len())
        .max(count.saturating_sub(others.len()));
    random.sample_to_front(&mut leaning, from_leaning);
    random.sample_to_front(&mut others, count - from_leaning);
    // Both samples come in random order, so without a side to lean to the votes fall anywhere.
    let participants: Vec<&SeedCountry> = leaning[..from_leaning]
        .iter()
        .chain(&others[..count - from_leaning])
        .copied()
        .collect();

    let kind_word = match outline.kind {
        StatementKind::JointLetter => "letter",
        StatementKind::JointStatement => "statement",
        StatementKind::RecordedVote => "vote",
        StatementKind::Resolution => "resolution",
    };
    let prefix = if outline.session.is_empty() {
        outline.forum.path().to_owned()
    } else {
        outline.session.to_lowercase()
    };
    let slug = format!("{prefix}-{kind_word}-{}-{number:0width$}", topic.slug);
    let roles = roles(outline.kind, count, random);
    let lead_country = match roles.first() {
        Some(Role::Lead) => participants[0].code.clone(),
        Some(Role::VoteYes)
            if outline.kind == StatementKind::RecordedVote && random.chance(600) =>
        {
            participants[0].code.clone()
        }
        _ => String::new(),
    };

    let mut rows: Vec<SignatoryRow> = participants
        .iter()
        .zip(&roles)
        .map(|(country, role)| SignatoryRow {
            statement_slug: slug.clone(),
            country_iso3: country.code.clone(),
            country_name: country.name.clone(),
            role: role.as_str().to_owned(),
            ..SignatoryRow::default()
        })
        .collect();
    if !outline.kind.is_vote() {
        late_joiners_and_withdrawals(&mut rows, outline.date, random);
    }

    let (reported_count, list_complete) = if outline.kind.is_vote() {
        (count.to_string(), true)
    } else {
        match random.below(100) {
            0..60 => (count.to_string(), true),
            // A published count beyond the names found.
            60..85 => ((count + random.between(1, 30) as usize).to_string(), false),
            _ => (String::new(), false),
        }
    };
    let mut source_urls = format!("https://example.org/{}/{year}/{slug}", outline.forum.path());
    if random.chance(200) {
        source_urls.push_str(&format!(" https://example.org/press/{slug}"));
    }
    let un_symbol = un_symbol(outline, random);
    let title = match outline.kind {
        StatementKind::JointStatement => format!("Joint statement on {}", topic.subject),
        StatementKind::JointLetter if outline.forum == Forum::SecurityCouncil => format!(
            "Joint letter to the President of the Security Council on {}",
            topic.subject
        ),
        StatementKind::JointLetter => format!("Joint letter on {}", topic.subject),
        StatementKind::RecordedVote => {
            format!("Recorded vote on a draft resolution on {}", topic.subject)
        }
        StatementKind::Resolution => {
            format!("General Assembly resolution on {}", topic.subject)
        }
    };
    let when = if outline.session.is_empty() {
        year.to_string()
    } else {
        outline.session.clone()
    };
    let statement = StatementRow {
        slug,
        title: format!("{title} ({when})"),
        kind: outline.kind.as_str().to_owned(),
        forum: outline.forum.name().to_owned(),
        session: outline.session.clone(),
        date: outline.date.to_string(),
        un_symbol,
        stance: stance.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        lead_country,
        reported_count,
        list_complete: list_complete.to_string(),
        source_urls,
        notes: format!("Synthetic data: signatories generate --seed {seed}."),
        summary: String::new(),
        topics: slugs.join(" "),
    };
    (statement, rows)
}

/// Roles in participant order: leads first; for votes, yes, then abstain, then no, so
/// that the states a statement leans towards vote yes.
fn roles(kind: StatementKind, count: usize, random: &mut Random) -> Vec<Role> {
    if kind.is_vote() {
        let yes = count * random.between(35, 95) as usize / 100;
        let no = (count - yes) * random.between(20, 70) as usize / 100;
        let abstain = count - yes - no;
        std::iter::repeat_n(Role::VoteYes, yes)
            .chain(std::iter::repeat_n(Role::VoteAbstain, abstain))
            .chain(std::iter::repeat_n(Role::VoteNo, no))
            .collect()
    } else {
        let leads = match random.below(100) {
            0..75 => 1,
            75..85 => random.between(2, 3) as usize,
            _ => 0,
        };
        std::iter::repeat_n(Role::Lead, leads)
            .chain(std::iter::repeat_n(Role::Signatory, count - leads))
            .collect()
    }
}

/// Some signatories join after the date; rarely one withdraws (as Qatar did in 2019).
fn late_joiners_and_withdrawals(rows: &mut [SignatoryRow], date: NaiveDate, random: &mut Random) {
    let later =
        |random: &mut Random, from: NaiveDate, days: u64| from + Days::new(random.between(1, days));
    if random.chance(300) {
        for row in rows.iter_mut().filter(|r| r.role == "signatory") {
            if random.chance(80) {
                row.joined_on = later(random, date, 90).to_string();
                row.source_url = format!(
                    "https://example.org/{}/joined/{}",
                    row.statement_slug,
                    row.country_iso3.to_lowercase()
                );
            }
        }
    }
    if random.chance(30) {
        for _ in 0..random.between(1, 2) {
            let row = &mut rows[random.below(rows.len() as u64) as usize];
            if row.role != "signatory" || !row.withdrawn_on.is_empty() {
                continue;
            }
            let from = row.joined_on.parse().unwrap_or(date);
            row.withdrawn_on = later(random, from, 60).to_string();
            row.source_url = format!(
                "https://example.org/{}/withdrawn/{}",
                row.statement_slug,
                row.country_iso3.to_lowercase()
            );
        }
    }
}

fn un_symbol(outline: &Outline, random: &mut Random) -> String {
    let number = random.between(1, 300);
    let year = outline.date.year();
    let session = outline.session.trim_start_matches(char::is_alphabetic);
    match (outline.kind, outline.forum) {
        (StatementKind::JointLetter | StatementKind::JointStatement, Forum::HumanRightsCouncil)
            if random.chance(300) =>
        {
            format!("A/HRC/{session}/G/{number}")
        }
        (StatementKind::JointLetter | StatementKind::JointStatement, _) => String::new(),
        (_, Forum::HumanRightsCouncil) => format!("A/HRC/RES/{session}/{number}"),
        (_, Forum::CommissionOnHumanRights) => format!("E/CN.4/RES/{year}/{number}"),
        _ => format!("A/RES/{session}/{number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_and_in_range() {
        let mut random = Random(ChaCha8Rng::seed_from_u64(7));
        let mut seen = [0u32; 6];
        for _ in 0..6000 {
            seen[random.between(1, 6) as usize - 1] += 1;
        }
        assert!(seen.iter().all(|n| (850..1150).contains(n)), "{seen:?}");
    }
}
