//! `signatories unvotes`: the UN General Assembly roll calls of Erik Voeten's voting
//! data (as packaged by the R package unvotes, `data/unvotes/`) in the import layout.
//! Every roll call becomes a `resolution` statement without a stance (so each vote
//! reads as plain yes/no/abstain), every country vote a signature, and every issue tag
//! a topic. Nothing is dropped: a row that cannot be mapped stops the conversion.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::countries::Countries;
use super::csv_file;
use crate::domain::Role;
use crate::progress::Progress;
use crate::transfer::rows::{SignatoryRow, StatementRow, TopicRow};
use crate::validation::slugify;

const FORUM: &str = "UN General Assembly";
/// Erik Voeten, United Nations General Assembly Voting Data, Harvard Dataverse.
const SOURCE_URL: &str = "https://hdl.handle.net/1902.1/12379";
/// The topic of roll calls that carry none of the data's issue tags.
const UNTAGGED_TOPIC: &str = "unga-other";
/// The schema's limit on a statement title, in characters.
const TITLE_MAX: usize = 500;

/// Rows in the source without a country code, by the source's name (see data/README.md).
const UNCODED: [(&str, &str); 3] = [
    // West Germany's seat continues as Germany, as the seed's former_states.csv has it.
    ("Federal Republic of Germany", "DEU"),
    // North Yemen's seat continues as Yemen.
    ("Yemen Arab Republic", "YEM"),
    // No ISO code ever existed: the seed's user-assigned code.
    ("Zanzibar", "XZN"),
];

/// What was written, with the votes by kind.
#[derive(Debug, Default, Serialize)]
pub struct UnvotesReport {
    pub topics: usize,
    pub statements: usize,
    pub signatories: usize,
    pub yes: usize,
    pub no: usize,
    pub abstain: usize,
}

#[derive(Deserialize)]
struct RollCall {
    rcid: u32,
    session: u32,
    importantvote: String,
    date: String,
    unres: String,
    amend: String,
    para: String,
    short: String,
    descr: String,
}

#[derive(Deserialize)]
struct IssueTag {
    rcid: u32,
    short_name: String,
    issue: String,
}

#[derive(Deserialize)]
struct Vote {
    rcid: u32,
    country: String,
    country_code: String,
    vote: String,
}

/// Reads a CSV file, gzipped when its name ends in `.gz`.
fn open_csv(dir: &Path, name: &str) -> anyhow::Result<csv::Reader<Box<dyn BufRead>>> {
    let path = dir.join(name);
    let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn BufRead> = if name.ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    // Every field is text: in particular Namibia's code `NA` is a code, not a missing value.
    Ok(csv::Reader::from_reader(reader))
}

/// Calls `each` with every row of a file and its line number.
fn records<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    mut each: impl FnMut(u64, T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut reader = open_csv(dir, name)?;
    let headers = reader.headers()?.clone();
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .with_context(|| format!("reading {name}"))?
    {
        let line = record.position().map_or(0, |p| p.line());
        let row = record
            .deserialize(Some(&headers))
            .with_context(|| format!("{name}:{line}: unreadable row"))?;
        each(line, row)?;
    }
    Ok(())
}

/// Converts `from` (un_roll_calls.csv.gz, un_roll_call_issues.csv, un_votes.csv.gz)
/// into topics.csv, statements.csv and signatories.csv in `out`.
pub fn convert_unvotes(from: &Path, out: &Path) -> anyhow::Result<UnvotesReport> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut report = UnvotesReport::default();

    // Issue tags: the topic of each tag, and the tags of each roll call.
    let mut topics: BTreeMap<String, TopicRow> = BTreeMap::new();
    let mut tags: HashMap<u32, Vec<String>> = HashMap::new();
    records(from, "un_roll_call_issues.csv", |_, tag: IssueTag| {
        let slug = format!("unga-{}", slugify(&tag.issue, 70));
        topics.entry(slug.clone()).or_insert_with(|| TopicRow {
            slug: slug.clone(),
            name: format!("{} (UN General Assembly votes)", tag.issue),
            description: format!(
                "UN General Assembly roll calls that Erik Voeten's voting data tags \
                 \"{}\" ({}).",
                tag.short_name, tag.issue
            ),
        });
        let slugs = tags.entry(tag.rcid).or_default();
        if !slugs.contains(&slug) {
            slugs.push(slug);
        }
        Ok(())
    })?;
    topics.insert(
        UNTAGGED_TOPIC.to_owned(),
        TopicRow {
            slug: UNTAGGED_TOPIC.to_owned(),
            name: "Other matters (UN General Assembly votes)".to_owned(),
            description: "UN General Assembly roll calls that Erik Voeten's voting data tags \
                          with none of its issues."
                .to_owned(),
        },
    );
    let mut writer = csv_file(out, "topics.csv")?;
    for topic in topics.values() {
        writer.serialize(topic)?;
    }
    writer.flush()?;
    report.topics = topics.len();

    let mut roll_calls = Vec::new();
    // Each roll call's statement and date.
    let mut held: HashMap<u32, (String, NaiveDate)> = HashMap::new();
    records(from, "un_roll_calls.csv.gz", |line, roll_call: RollCall| {
        let Ok(date) = NaiveDate::parse_from_str(&roll_call.date, "%Y-%m-%d") else {
            bail!(
                "un_roll_calls.csv.gz:{line}: roll call {} has no valid date ({:?})",
                roll_call.rcid,
                roll_call.date
            );
        };
        let slug = format!("unga{}-vote-{}", roll_call.session, roll_call.rcid);
        if held.insert(roll_call.rcid, (slug, date)).is_some() {
            bail!(
                "un_roll_calls.csv.gz:{line}: roll call {} appears twice",
                roll_call.rcid
            );
        }
        roll_calls.push(roll_call);
        Ok(())
    })?;

    // The votes, streamed into signatories.csv while counting each roll call's votes.
    let countries = Countries::load();
    let by_iso2: HashMap<&str, &str> = countries
        .all()
        .iter()
        .filter(|c| !c.iso2.is_empty())
        .map(|c| (c.iso2.as_str(), c.code.as_str()))
        .collect();
    let mut counts: HashMap<u32, i64> = HashMap::new();
    let mut writer = csv_file(out, "signatories.csv")?;
    let progress = Progress::rows("unvotes: votes");
    records(from, "un_votes.csv.gz", |line, vote: Vote| {
        progress.inc(1);
        let Some((slug, date)) = held.get(&vote.rcid) else {
            bail!(
                "un_votes.csv.gz:{line}: roll call {} is not in un_roll_calls",
                vote.rcid
            );
        };
        let code = if vote.country_code.is_empty() {
            UNCODED
                .iter()
                .find(|(name, _)| *name == vote.country)
                .map(|(_, code)| *code)
        } else {
            by_iso2.get(vote.country_code.as_str()).copied()
        };
        let Some(code) = code else {
            bail!(
                "un_votes.csv.gz:{line}: no country has the code {:?} ({})",
                vote.country_code,
                vote.country
            );
        };
        // The source labels a seat by its latest holder ("Russia" from 1946,
        // "Yugoslavia" until 2020); the vote is that of the state holding it that day.
        let code = countries.seat_holder(code, *date);
        let role = match vote.vote.as_str() {
            "yes" => {
                report.yes += 1;
                Role::VoteYes
            }
            "no" => {
                report.no += 1;
                Role::VoteNo
            }
            "abstain" => {
                report.abstain += 1;
                Role::VoteAbstain
            }
            other => bail!("un_votes.csv.gz:{line}: {other:?} is not yes, no or abstain"),
        };
        *counts.entry(vote.rcid).or_default() += 1;
        writer.serialize(SignatoryRow {
            statement_slug: slug.clone(),
            country_iso3: code.to_owned(),
            country_name: countries
                .get(code)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            role: role.as_str().to_owned(),
            ..SignatoryRow::default()
        })?;
        report.signatories += 1;
        Ok(())
    })?;
    writer.flush()?;

    progress.phase("unvotes: votes done, writing roll calls");
    let mut writer = csv_file(out, "statements.csv")?;
    for roll_call in &roll_calls {
        let votes = counts.get(&roll_call.rcid).copied().unwrap_or(0);
        writer.serialize(statement(roll_call, &held[&roll_call.rcid].0, &tags, votes))?;
    }
    writer.flush()?;
    report.statements = roll_calls.len();
    Ok(report)
}

fn statement(
    roll_call: &RollCall,
    slug: &str,
    tags: &HashMap<u32, Vec<String>>,
    votes: i64,
) -> StatementRow {
    let (title, summary) = title_and_summary(roll_call);
    let mut notes = vec![format!(
        "Roll call {} in Erik Voeten's UN General Assembly voting data.",
        roll_call.rcid
    )];
    if roll_call.amend == "1" {
        notes.push("A vote on an amendment.".to_owned());
    }
    if roll_call.para == "1" {
        notes.push("A vote on a paragraph.".to_owned());
    }
    if roll_call.importantvote == "1" {
        notes.push("An \"important vote\" in the US State Department's reports.".to_owned());
    }
    let topics = tags
        .get(&roll_call.rcid)
        .map_or_else(|| UNTAGGED_TOPIC.to_owned(), |slugs| slugs.join(" "));
    StatementRow {
        slug: slug.to_owned(),
        title,
        // A General Assembly vote has no stance: each country's vote is its plain yes/no.
        kind: "resolution".to_owned(),
        forum: FORUM.to_owned(),
        session: format!("UNGA{}", roll_call.session),
        date: roll_call.date.clone(),
        un_symbol: roll_call.unres.clone(),
        stance: String::new(),
        lead_country: String::new(),
        // Every recorded yes, no and abstention is a row; absences are not votes.
        reported_count: votes.to_string(),
        list_complete: "true".to_owned(),
        source_urls: SOURCE_URL.to_owned(),
        notes: notes.join(" "),
        summary,
        topics,
    }
}

/// The title: since 2002 the short title is the resolution's name, in sentence case;
/// before, it is an upper-case subject ("APARTHEID") and the description says what
/// was voted on. The other text becomes the summary, so that search still finds it.
fn title_and_summary(roll_call: &RollCall) -> (String, String) {
    let short = clean(&roll_call.short);
    let descr = clean(&roll_call.descr);
    let named = without_adopted_suffix(&short);
    let (source, from_descr) = if named.chars().any(|c| c.is_lowercase()) {
        (named.to_owned(), false)
    } else if !descr.is_empty() {
        (descr.clone(), true)
    } else if !short.is_empty() {
        (short.clone(), false)
    } else {
        (
            format!("UN General Assembly roll call {}", roll_call.rcid),
            false,
        )
    };
    let title = truncate(&source, TITLE_MAX);
    let mut summary = Vec::new();
    if from_descr {
        summary.push(short.as_str());
        if title != source {
            summary.push(descr.as_str());
        }
    } else if descr != title {
        summary.push(descr.as_str());
    }
    summary.retain(|s| !s.is_empty());
    (title, summary.join("\n"))
}

/// Short titles from 2002 on end in " : resolution / adopted by the General Assembly",
/// often cut off mid-word.
fn without_adopted_suffix(short: &str) -> &str {
    const SUFFIX: &str = "resolution / adopted by the General Assembly";
    match short.rsplit_once(':') {
        Some((name, tail)) if SUFFIX.starts_with(tail.trim()) => name.trim_end(),
        _ => short,
    }
}

/// Repairs the source's mangled quotation marks and stray columns: a run of
/// backslashes (with any quotes after it) stood for a quotation mark, and a tab starts
/// leftover flag columns. A trailing unmatched quotation mark is dropped, and runs of
/// spaces become one.
fn clean(text: &str) -> String {
    let text = text.split('\t').next().unwrap_or_default();
    let mut repaired = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            while chars.next_if(|c| *c == '\\' || *c == '"').is_some() {}
            repaired.push('"');
        } else {
            repaired.push(c);
        }
    }
    let mut words = repaired.split_whitespace().collect::<Vec<_>>().join(" ");
    while words.matches('"').count() % 2 == 1 && words.ends_with('"') {
        words.pop();
        words.truncate(words.trim_end().len());
    }
    words
}

/// At most `max` characters, cut at a word and marked with an ellipsis when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at_word = match cut.rfind(' ') {
        Some(space) if space > cut.len() / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end_matches([' ', ',', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangled_quotation_marks_are_repaired() {
        assert_eq!(
            clean(
                r#"TO ADOPT THE KOREAN PROPOSAL THAT INVALID BALLOTS BE INCLUDED IN THE TOTAL NUMBER OF \MEMBERS PRESENT AND VOTING\\, IN CALCULATING THE MAJORITY VOTE.\"""#
            ),
            r#"TO ADOPT THE KOREAN PROPOSAL THAT INVALID BALLOTS BE INCLUDED IN THE TOTAL NUMBER OF "MEMBERS PRESENT AND VOTING", IN CALCULATING THE MAJORITY VOTE."#
        );
        assert_eq!(
            clean("SHOULD END WITH:\\THERE SHALL BE NO NOMINATIONS.\\\\\"\t0\t0\t0\t0\t0\t0"),
            r#"SHOULD END WITH:"THERE SHALL BE NO NOMINATIONS.""#
        );
        assert_eq!(
            clean(r#"REPLACING WORD \\FIFTEEN\\\\ WITH \\\\"TWENTY-FIVE\\\\", IN  THE"#),
            r#"REPLACING WORD "FIFTEEN" WITH "TWENTY-FIVE", IN THE"#
        );
        assert_eq!(
            clean(r#"OF THE KHMER REPUBLIC.\\\\"#),
            "OF THE KHMER REPUBLIC."
        );
    }

    #[test]
    fn titles_prefer_the_resolution_name_then_the_description() {
        let roll_call = |short: &str, descr: &str| RollCall {
            rcid: 7,
            session: 1,
            importantvote: String::new(),
            date: "1946-01-01".into(),
            unres: String::new(),
            amend: String::new(),
            para: String::new(),
            short: short.into(),
            descr: descr.into(),
        };
        assert_eq!(
            title_and_summary(&roll_call(
                "The situation in Afghanistan : resolution / adopted by the General Assembly",
                "A/73/251 40 - The situation in Afghanistan. - AFGHANISTAN SITUATION"
            )),
            (
                "The situation in Afghanistan".into(),
                "A/73/251 40 - The situation in Afghanistan. - AFGHANISTAN SITUATION".into()
            )
        );
        assert_eq!(
            title_and_summary(&roll_call("APARTHEID", "TO CONDEMN APARTHEID.")),
            ("TO CONDEMN APARTHEID.".into(), "APARTHEID".into())
        );
        assert_eq!(
            title_and_summary(&roll_call("", "")).0,
            "UN General Assembly roll call 7"
        );
        let long = "WORD ".repeat(300);
        let (title, summary) = title_and_summary(&roll_call("LONG", &long));
        assert!(title.chars().count() <= TITLE_MAX && title.ends_with("WORD…"));
        assert_eq!(summary, format!("LONG\n{}", long.trim_end()));
    }
}
