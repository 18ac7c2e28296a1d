//! The record as it stood on a date (`as_of=`): the SQL sources that read it in place
//! of today's, all defined in migrations/…_as_of.sql beside effective_stance(). The
//! date is written into the SQL as a literal: a checked `NaiveDate` prints only digits
//! and dashes.

use chrono::NaiveDate;

pub(super) fn date(as_of: NaiveDate) -> String {
    format!("date '{as_of}'")
}

/// View `participation`, or its state on the date.
pub fn participations(as_of: Option<NaiveDate>) -> String {
    match as_of {
        None => "participation".to_owned(),
        Some(day) => format!("participation_as_of({})", date(day)),
    }
}

/// Table `stance_span`, or the same rows made from the steps taken by the date: those
/// of the steps `e` that `steps_where` keeps, so that only the spans asked for are made.
pub fn spans(as_of: Option<NaiveDate>, steps_where: &str) -> String {
    match as_of {
        None => "stance_span".to_owned(),
        Some(day) => format!(
            "(select e.topic_slug, e.country_code, e.stance, count(*)::integer as steps, \
                     min(stance_step_key(e.date, e.statement_id, e.event) collate \"C\") as first_step, \
                     max(stance_step_key(e.date, e.statement_id, e.event) collate \"C\") as last_step, \
                     min(e.issued_on) filter (where e.held) as first_held_on \
              from stance_event_as_of({}) e where {steps_where} \
              group by e.topic_slug, e.country_code, e.stance)",
            date(day)
        ),
    }
}

/// A tally table, or its rows with the corrections that make them count the record of
/// the date (`stance_tally_delta_as_of()`), in the tally's columns (the forum and kind
/// null where the tally has none).
pub fn tally(table: &str, as_of: Option<NaiveDate>) -> String {
    let Some(day) = as_of else {
        return table.to_owned();
    };
    let kind = if table == "stance_tally_by_forum" {
        "kind"
    } else {
        "null::statement_kind as kind"
    };
    let forum = if table == "stance_tally" {
        "null::text as forum"
    } else {
        "forum"
    };
    let counts = "critical, supportive, neutral, abstain, withdrawn, yes, no";
    format!(
        "(select topic_slug, {kind}, year, {forum}, country_code, {counts} from {table} \
          union all \
          select topic_slug, kind, year, forum, country_code, {counts} \
          from stance_tally_delta_as_of({}))",
        date(day)
    )
}

/// A statement's maintained counts (`statement s`), or its counts on the date.
pub fn statement_counts(as_of: Option<NaiveDate>) -> String {
    match as_of {
        None => "s.signatory_count, s.participant_count, s.stance_counts".to_owned(),
        Some(day) => {
            let counts = |column: &str| {
                format!(
                    "(select c.{column} from statement_counts_as_of(s.id, {}) c) as {column}",
                    date(day)
                )
            };
            [
                counts("signatory_count"),
                counts("participant_count"),
                counts("stance_counts"),
            ]
            .join(", ")
        }
    }
}

/// The effective stance of a signature `g` of statement `s`, today or on the date.
pub fn effective_stance(as_of: Option<NaiveDate>) -> String {
    match as_of {
        None => "effective_stance(s.stance, g.role, g.withdrawn_on)".to_owned(),
        Some(day) => format!(
            "effective_stance_as_of(s.stance, g.role, g.withdrawn_on, {})",
            date(day)
        ),
    }
}

/// ` and <the signature g of statement s had started by the date>`, or nothing.
pub fn signature_started(as_of: Option<NaiveDate>) -> String {
    match as_of {
        None => String::new(),
        Some(day) => format!(
            " and s.issued_on <= {d} and coalesce(g.joined_on, s.issued_on) <= {d}",
            d = date(day)
        ),
    }
}
