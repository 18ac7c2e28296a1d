//! What synthetic statements are about and where they are made: topics with their
//! years, and forums with their session calendars.

use chrono::{Days, NaiveDate};

use super::random::Random;
use crate::domain::StatementKind;

pub(super) struct Topic {
    pub(super) slug: &'static str,
    pub(super) name: &'static str,
    /// How a title names it: "Joint statement on {subject}".
    pub(super) subject: &'static str,
    pub(super) years: (i32, i32),
}

pub(super) const TOPICS: [Topic; 12] = [
    Topic {
        slug: "apartheid",
        name: "Apartheid in South Africa",
        subject: "apartheid in South Africa",
        years: (1946, 1994),
    },
    Topic {
        slug: "decolonisation",
        name: "Decolonisation and self-determination",
        subject: "decolonisation and self-determination",
        years: (1946, 2025),
    },
    Topic {
        slug: "nuclear-disarmament",
        name: "Nuclear disarmament",
        subject: "nuclear disarmament",
        years: (1946, 2025),
    },
    Topic {
        slug: "palestine",
        name: "Question of Palestine",
        subject: "the question of Palestine",
        years: (1947, 2025),
    },
    Topic {
        slug: "tibet",
        name: "Human rights in Tibet",
        subject: "human rights in Tibet",
        years: (1959, 2025),
    },
    Topic {
        slug: "chile",
        name: "Human rights in Chile",
        subject: "human rights in Chile",
        years: (1973, 1990),
    },
    Topic {
        slug: "iran",
        name: "Human rights in Iran",
        subject: "human rights in the Islamic Republic of Iran",
        years: (1985, 2025),
    },
    Topic {
        slug: "myanmar",
        name: "Human rights in Myanmar",
        subject: "human rights in Myanmar",
        years: (1991, 2025),
    },
    Topic {
        slug: "human-rights-defenders",
        name: "Human rights defenders",
        subject: "the protection of human rights defenders",
        years: (1998, 2025),
    },
    Topic {
        slug: "north-korea",
        name: "Human rights in North Korea",
        subject: "human rights in the Democratic People's Republic of Korea",
        years: (2003, 2025),
    },
    Topic {
        slug: "syria",
        name: "The situation in Syria",
        subject: "the situation in the Syrian Arab Republic",
        years: (2011, 2025),
    },
    Topic {
        slug: "ukraine",
        name: "Territorial integrity of Ukraine",
        subject: "the territorial integrity of Ukraine",
        years: (2014, 2025),
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Forum {
    HumanRightsCouncil,
    CommissionOnHumanRights,
    GeneralAssembly,
    ThirdCommittee,
    FirstCommittee,
    SecurityCouncil,
}

impl Forum {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::HumanRightsCouncil => "UN Human Rights Council",
            Self::CommissionOnHumanRights => "UN Commission on Human Rights",
            Self::GeneralAssembly => "UN General Assembly",
            Self::ThirdCommittee => "UN General Assembly Third Committee",
            Self::FirstCommittee => "UN General Assembly First Committee",
            Self::SecurityCouncil => "UN Security Council",
        }
    }

    /// For URLs.
    pub(super) fn path(self) -> &'static str {
        match self {
            Self::HumanRightsCouncil => "hrc",
            Self::CommissionOnHumanRights => "chr",
            Self::GeneralAssembly => "unga",
            Self::ThirdCommittee => "unga-c3",
            Self::FirstCommittee => "unga-c1",
            Self::SecurityCouncil => "unsc",
        }
    }

    pub(super) fn exists_in(self, year: i32) -> bool {
        match self {
            Self::HumanRightsCouncil => year >= 2006,
            Self::CommissionOnHumanRights => (1947..=2005).contains(&year),
            _ => true,
        }
    }

    /// Where each kind is made, with weights.
    pub(super) fn for_kind(kind: StatementKind) -> &'static [(Forum, u64)] {
        match kind {
            StatementKind::JointStatement => &[
                (Self::HumanRightsCouncil, 40),
                (Self::CommissionOnHumanRights, 40),
                (Self::ThirdCommittee, 30),
                (Self::GeneralAssembly, 20),
                (Self::FirstCommittee, 10),
            ],
            StatementKind::JointLetter => &[
                (Self::HumanRightsCouncil, 40),
                (Self::CommissionOnHumanRights, 40),
                (Self::GeneralAssembly, 20),
                (Self::SecurityCouncil, 20),
            ],
            StatementKind::RecordedVote => &[
                (Self::HumanRightsCouncil, 40),
                (Self::CommissionOnHumanRights, 40),
                (Self::ThirdCommittee, 30),
                (Self::FirstCommittee, 20),
                (Self::GeneralAssembly, 10),
            ],
            StatementKind::Resolution => &[(Self::GeneralAssembly, 1)],
        }
    }

    /// A date in one of the forum's sessions of `year`, and the session's name.
    pub(super) fn date_and_session(self, year: i32, random: &mut Random) -> (NaiveDate, String) {
        let day = |month: u32, day: u64| {
            NaiveDate::from_ymd_opt(year, month, day as u32).expect("a valid day")
        };
        match self {
            // Three sessions a year, opening in March, June and September (HRC4 in
            // March 2007); its first year held HRC2 in September.
            Self::HumanRightsCouncil => {
                let (session, month) = if year == 2006 {
                    (2, 9)
                } else {
                    let index = random.below(3) as usize;
                    (4 + (year - 2007) * 3 + index as i32, [3, 6, 9][index])
                };
                (day(month, random.between(1, 28)), format!("HRC{session}"))
            }
            // One session a year in spring, the first in 1947.
            Self::CommissionOnHumanRights => (
                day(3, 1) + Days::new(random.below(50)),
                format!("CHR{}", year - 1946),
            ),
            // The regular session opens in mid-September; most votes are before Christmas.
            Self::GeneralAssembly | Self::ThirdCommittee | Self::FirstCommittee => (
                day(9, 15) + Days::new(random.below(97)),
                format!("UNGA{}", year - 1945),
            ),
            Self::SecurityCouncil => (day(1, 1) + Days::new(random.below(365)), String::new()),
        }
    }
}
