//! Expected answers worked out from the data files (data/xinjiang/*.csv,
//! data/countries/countries.csv) by the rules of data/xinjiang/README.md, never
//! copied from the implementation.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

/// One row of data/xinjiang/statements.csv.
#[derive(Debug, Clone, Deserialize)]
pub struct DatasetStatement {
    pub slug: String,
    pub kind: String,
    pub date: String,
    pub stance: String,
    pub lead_country: String,
    pub reported_count: Option<i64>,
    pub list_complete: bool,
}

/// One row of data/xinjiang/signatories.csv.
#[derive(Debug, Clone, Deserialize)]
pub struct DatasetSignature {
    pub statement_slug: String,
    pub country_iso3: String,
    pub role: String,
    pub joined_on: String,
    pub withdrawn_on: String,
    pub source_url: String,
}

/// One row of data/countries/countries.csv.
#[derive(Debug, Clone, Deserialize)]
pub struct DatasetCountry {
    pub iso3: String,
    pub region: String,
    pub un_member: bool,
}

fn read<T: for<'de> Deserialize<'de>>(path: &str) -> Vec<T> {
    csv::Reader::from_path(path)
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect()
}

/// Every row of data/countries/countries.csv.
pub fn countries() -> Vec<DatasetCountry> {
    read("data/countries/countries.csv")
}

/// The dataset, with each participation's stance worked out here from the rules in
/// data/xinjiang/README.md.
pub struct Dataset {
    pub statements: BTreeMap<String, DatasetStatement>,
    pub signatures: Vec<DatasetSignature>,
    pub regions: BTreeMap<String, String>,
}

impl Dataset {
    pub fn load() -> Self {
        Self {
            statements: read::<DatasetStatement>("data/xinjiang/statements.csv")
                .into_iter()
                .map(|s| (s.slug.clone(), s))
                .collect(),
            signatures: read("data/xinjiang/signatories.csv"),
            regions: countries()
                .into_iter()
                .map(|c| (c.iso3, c.region))
                .collect(),
        }
    }

    /// Where the participation leaves the country, withdrawal included.
    pub fn stance(&self, g: &DatasetSignature) -> String {
        if !g.withdrawn_on.is_empty() {
            return "withdrawn".into();
        }
        self.stance_on_joining(g)
    }

    /// The stance the country took when it joined.
    pub fn stance_on_joining(&self, g: &DatasetSignature) -> String {
        let stance = self.statements[&g.statement_slug].stance.as_str();
        match (stance, g.role.as_str()) {
            (_, "vote_abstain") => "abstain".into(),
            ("critical", "vote_no") => "supportive".into(),
            ("supportive", "vote_no") => "critical".into(),
            (stance, _) => stance.into(),
        }
    }

    /// A statement's participations, by country.
    pub fn of(&self, statement: &str) -> BTreeMap<String, &DatasetSignature> {
        self.signatures
            .iter()
            .filter(|g| g.statement_slug == statement)
            .map(|g| (g.country_iso3.clone(), g))
            .collect()
    }

    /// A statement's countries by effective stance.
    pub fn stances_of(&self, statement: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut stances: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (country, g) in self.of(statement) {
            stances.entry(self.stance(g)).or_default().insert(country);
        }
        stances
    }

    /// The date of the participation's statement.
    pub fn date(&self, g: &DatasetSignature) -> &str {
        &self.statements[&g.statement_slug].date
    }

    /// A country's steps (every statement of the dataset is on Xinjiang), oldest first.
    pub fn steps_of(&self, country: &str) -> Vec<Step> {
        let mut steps = Vec::new();
        for g in self.signatures.iter().filter(|g| g.country_iso3 == country) {
            let joined_on = if g.joined_on.is_empty() {
                self.date(g)
            } else {
                &g.joined_on
            };
            steps.push(Step {
                date: joined_on.to_owned(),
                statement: g.statement_slug.clone(),
                event: "joined",
                stance: self.stance_on_joining(g),
            });
            if !g.withdrawn_on.is_empty() {
                steps.push(Step {
                    date: g.withdrawn_on.clone(),
                    statement: g.statement_slug.clone(),
                    event: "withdrew",
                    stance: "withdrawn".into(),
                });
            }
        }
        steps.sort();
        steps
    }
}

/// One dated step of a country's record: joining a statement, with the stance taken on
/// joining, or withdrawing from it. Ordered by date, then statement, then event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Step {
    pub date: String,
    pub statement: String,
    pub event: &'static str,
    pub stance: String,
}

impl Step {
    pub fn assert_shown_as(&self, shown: &Value) {
        assert_eq!(
            (&shown["date"], &shown["statement_id"], &shown["event"]),
            (
                &json!(self.date),
                &json!(self.statement),
                &json!(self.event)
            ),
            "{shown}"
        );
        assert_eq!(shown["stance"], self.stance.as_str(), "{shown}");
    }
}

/// Whether an effective stance takes a side (a withdrawal, an abstention or a neutral
/// text takes none).
pub fn is_side(stance: &str) -> bool {
    matches!(stance, "critical" | "supportive" | "yes" | "no")
}

/// `{"critical": n, …}` with every effective stance present.
pub fn stance_counts(stances: &BTreeMap<String, BTreeSet<String>>) -> Value {
    let mut counts = serde_json::Map::new();
    for stance in [
        "critical",
        "supportive",
        "neutral",
        "abstain",
        "withdrawn",
        "yes",
        "no",
    ] {
        counts.insert(
            stance.into(),
            json!(stances.get(stance).map_or(0, BTreeSet::len)),
        );
    }
    Value::Object(counts)
}
