//! The choice of where stance statistics are counted from: which of the tallies the
//! triggers keep, which days of a range fall outside its whole years, or the
//! signatures themselves. Pure logic, tested here without a database.

use chrono::{Datelike, NaiveDate};

use super::GroupBy;
use crate::store::statements::StatementFilter;

/// The tallies that the triggers keep in every write (migrations `…_stance_tally.sql`,
/// `…_forum_tally.sql` and `…_forum_tally_all_kinds.sql`): participations per stance
/// of each topic ('' for all statements), year and country.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Tally {
    /// `stance_tally`.
    Topic,
    /// `stance_tally_by_forum_all_kinds`: split further by the statement's forum, so
    /// about three times as many rows.
    Forum,
    /// `stance_tally_by_forum`: split by forum and kind, about seven times as many.
    /// `one_kind`: the statistics are of exactly one kind.
    ForumAndKind { one_kind: bool },
}

impl Tally {
    pub(super) fn table(self) -> &'static str {
        match self {
            Self::Topic => "stance_tally",
            Self::Forum => "stance_tally_by_forum_all_kinds",
            Self::ForumAndKind { .. } => "stance_tally_by_forum",
        }
    }

    /// Whether the tally's rows of one topic are one per group and country: grouped
    /// by every column of its key but the topic and country (or reading one kind), no
    /// row of a country needs adding to another of the same group.
    pub(super) fn one_row_per_group_and_country(self, groups: &[GroupBy]) -> bool {
        let year = groups.contains(&GroupBy::Year);
        let year_and_forum = year && groups.contains(&GroupBy::Forum);
        match self {
            Self::Topic => year,
            Self::Forum => year_and_forum,
            Self::ForumAndKind { one_kind } => one_kind && year_and_forum,
        }
    }
}

/// Where the counts come from.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Counted {
    /// The matching statements' signatures, read per request.
    Signatures,
    /// A tally: the statements on `topic` ('' for all) of the whole years
    /// `from..=to`, per country and stance. The range's days outside those years
    /// (`partial_years`: a range from 2019-07-08 has 2019 in part) are counted from
    /// their signatures.
    Tally {
        tally: Tally,
        topic: String,
        from: Option<i32>,
        to: Option<i32>,
        partial_years: Vec<(NaiveDate, NaiveDate)>,
    },
}

/// What one part of the counts reads: signatures, or rows of the tally.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Rows {
    Signatures,
    Tally,
}

impl Counted {
    /// A tally answers whatever is not grouped by statement: the one with the fewest
    /// rows that holds the forum and kind when they are asked for. A range that holds
    /// no whole year is counted from its signatures alone: a year's at most.
    pub(super) fn choose(filter: &StatementFilter, groups: &[GroupBy]) -> Self {
        if groups.contains(&GroupBy::Statement) {
            return Self::Signatures;
        }
        let tally = match (groups.contains(&GroupBy::Forum), filter.kinds.is_empty()) {
            (_, false) => Tally::ForumAndKind {
                one_kind: filter.kinds.iter().all(|kind| *kind == filter.kinds[0]),
            },
            (true, true) => Tally::Forum,
            (false, true) => Tally::Topic,
        };
        let starts_year = |d: NaiveDate| d.ordinal() == 1;
        let ends_year = |d: NaiveDate| d.succ_opt().is_none_or(starts_year);
        let day = |year, month, day| {
            NaiveDate::from_ymd_opt(year, month, day)
                .expect("every year has its first and last day")
        };
        let mut partial_years = Vec::new();
        let from = filter.from.map(|d| match starts_year(d) {
            true => d.year(),
            false => {
                partial_years.push((d, day(d.year(), 12, 31)));
                d.year() + 1
            }
        });
        let to = filter.to.map(|d| match ends_year(d) {
            true => d.year(),
            false => {
                partial_years.push((day(d.year(), 1, 1), d));
                d.year() - 1
            }
        });
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Self::Signatures;
        }
        Self::Tally {
            tally,
            topic: filter
                .topic
                .as_ref()
                .map_or_else(String::new, |t| t.as_str().to_owned()),
            from,
            to,
            partial_years,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Slug, StatementKind};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn grouped_by_statement_counts_the_signatures() {
        let filter = StatementFilter::default();
        assert_eq!(
            Counted::choose(&filter, &[GroupBy::Year, GroupBy::Statement]),
            Counted::Signatures
        );
    }

    #[test]
    fn the_tally_with_the_fewest_rows_that_holds_what_is_asked_is_read() {
        let all = StatementFilter::default();
        let tally_of =
            |filter: &StatementFilter, groups: &[GroupBy]| match Counted::choose(filter, groups) {
                Counted::Tally { tally, .. } => tally,
                Counted::Signatures => panic!("a tally answers {groups:?}"),
            };
        assert_eq!(tally_of(&all, &[GroupBy::Year]), Tally::Topic);
        assert_eq!(tally_of(&all, &[GroupBy::Forum]), Tally::Forum);
        let one_kind = StatementFilter {
            kinds: vec![StatementKind::JointLetter, StatementKind::JointLetter],
            ..StatementFilter::default()
        };
        assert_eq!(
            tally_of(&one_kind, &[GroupBy::Region]),
            Tally::ForumAndKind { one_kind: true }
        );
        let two_kinds = StatementFilter {
            kinds: vec![StatementKind::JointLetter, StatementKind::RecordedVote],
            ..StatementFilter::default()
        };
        assert_eq!(
            tally_of(&two_kinds, &[GroupBy::Year]),
            Tally::ForumAndKind { one_kind: false }
        );
    }

    #[test]
    fn a_range_is_split_into_whole_years_and_the_days_outside_them() {
        let filter = StatementFilter {
            topic: Some(Slug::parse("xinjiang").unwrap()),
            from: Some(day(2019, 7, 8)),
            to: Some(day(2022, 12, 31)),
            ..StatementFilter::default()
        };
        assert_eq!(
            Counted::choose(&filter, &[GroupBy::Year]),
            Counted::Tally {
                tally: Tally::Topic,
                topic: "xinjiang".into(),
                from: Some(2020),
                to: Some(2022),
                partial_years: vec![(day(2019, 7, 8), day(2019, 12, 31))],
            }
        );
    }

    #[test]
    fn a_range_within_one_year_counts_the_signatures() {
        let filter = StatementFilter {
            from: Some(day(2019, 7, 1)),
            to: Some(day(2019, 7, 31)),
            ..StatementFilter::default()
        };
        assert_eq!(
            Counted::choose(&filter, &[GroupBy::Year]),
            Counted::Signatures
        );
    }

    #[test]
    fn tally_rows_are_one_per_group_and_country_only_when_grouped_by_the_whole_key() {
        assert!(Tally::Topic.one_row_per_group_and_country(&[GroupBy::Year]));
        assert!(!Tally::Topic.one_row_per_group_and_country(&[GroupBy::Region]));
        assert!(!Tally::Forum.one_row_per_group_and_country(&[GroupBy::Year]));
        assert!(Tally::Forum.one_row_per_group_and_country(&[GroupBy::Year, GroupBy::Forum]));
        let kinds = |one_kind| Tally::ForumAndKind { one_kind };
        assert!(!kinds(false).one_row_per_group_and_country(&[GroupBy::Year, GroupBy::Forum]));
        assert!(kinds(true).one_row_per_group_and_country(&[GroupBy::Year, GroupBy::Forum]));
    }
}
