//! The explorer's charts as standalone SVG, drawn from store data: a world map of a
//! statement's countries by effective stance, and a topic's running count of countries
//! per side. Colours are presentation attributes rather than CSS, so a chart looks the
//! same inline, in an `<img>`, or saved to a file, under a CSP without inline styles.

use std::fmt::Write;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};

use crate::domain::EffectiveStance;
use crate::store::signatures::Signatory;
use crate::store::timeline::TimelineEntry;

/// Country shapes projected by `scripts/gen_world.py` from Natural Earth (via world-atlas):
/// `code<TAB>name<TAB>path<TAB>marker` per line, in a 960 × 424 box.
const WORLD_TSV: &str = include_str!("../../../assets/explorer/world.tsv");
const MAP_WIDTH: u32 = 960;
const MAP_HEIGHT: u32 = 424;

struct Shape {
    code: &'static str,
    name: &'static str,
    path: &'static str,
    /// Where to draw a dot for a country too small to see.
    marker: Option<&'static str>,
}

static WORLD: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    WORLD_TSV
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let mut next = || fields.next().expect("world.tsv has four fields a line");
            let (code, name, path, marker) = (next(), next(), next(), next());
            Shape {
                code,
                name,
                path,
                marker: (!marker.is_empty()).then_some(marker),
            }
        })
        .collect()
});

/// The stances in the order legends and lists show them.
pub const STANCES: [EffectiveStance; 7] = [
    EffectiveStance::Critical,
    EffectiveStance::Supportive,
    EffectiveStance::Neutral,
    EffectiveStance::Abstain,
    EffectiveStance::Withdrawn,
    EffectiveStance::Yes,
    EffectiveStance::No,
];

/// The Okabe–Ito palette, whose colours stay apart under every common colour-vision
/// deficiency; the same in the explorer's stylesheet.
pub fn colour(stance: EffectiveStance) -> &'static str {
    match stance {
        EffectiveStance::Critical => "#0072b2",
        EffectiveStance::Supportive => "#d55e00",
        EffectiveStance::Neutral => "#009e73",
        EffectiveStance::Abstain => "#e69f00",
        EffectiveStance::Withdrawn => "#cc79a7",
        EffectiveStance::Yes => "#56b4e9",
        EffectiveStance::No => "#000000",
    }
}

const NO_DATA: &str = "#e4e4e4";
const FONT: &str = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\"";

/// Text for XML character data and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn open_svg(out: &mut String, width: u32, height: u32, title: &str, description: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" {FONT}>\
         <title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>\
         <rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>",
        escape(title),
        escape(description),
    );
}

/// Coloured squares with labels and counts, left to right from `(x, y)`.
fn legend(out: &mut String, x: f64, y: f64, items: &[(&str, String)]) {
    let mut x = x;
    for (fill, label) in items {
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"14\" height=\"14\" fill=\"{fill}\" stroke=\"#555\" stroke-width=\"0.5\"/>\
             <text x=\"{}\" y=\"{y}\" font-size=\"14\" fill=\"#222\">{}</text>",
            y - 12.0,
            x + 20.0,
            escape(label)
        );
        // Wide enough for the label in a proportional font.
        x += 34.0 + 7.5 * label.chars().count() as f64;
    }
}

fn source_line(out: &mut String, y: u32, source: &str) {
    let _ = write!(
        out,
        "<text x=\"10\" y=\"{y}\" font-size=\"12\" fill=\"#555\">{}</text>",
        escape(source)
    );
}

/// A world map with each country of the statement coloured by its effective stance;
/// the others grey. Each shape carries `data-code` and, when taking part,
/// `data-stance`, and a tooltip naming both.
pub fn map(title: &str, signatories: &[Signatory], source: &str) -> String {
    let stance_of: std::collections::HashMap<&str, EffectiveStance> = signatories
        .iter()
        .map(|s| (s.country.code.as_str(), s.effective_stance))
        .collect();
    let counts: Vec<(EffectiveStance, usize)> = STANCES
        .iter()
        .map(|&stance| {
            let n = signatories
                .iter()
                .filter(|s| s.effective_stance == stance)
                .count();
            (stance, n)
        })
        .filter(|&(_, n)| n > 0)
        .collect();
    let summary = counts
        .iter()
        .map(|(stance, n)| format!("{n} {}", stance.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let height = MAP_HEIGHT + 70;
    let mut out = String::with_capacity(WORLD_TSV.len() + 16 * 1024);
    open_svg(
        &mut out,
        MAP_WIDTH,
        height,
        &format!("{title}: countries by stance"),
        &format!("World map of the countries taking part: {summary}."),
    );
    out.push_str("<g stroke=\"#ffffff\" stroke-width=\"0.4\" stroke-linejoin=\"round\">");
    let mut dots = String::new();
    for shape in WORLD.iter() {
        let stance = stance_of.get(shape.code).copied();
        let fill = stance.map_or(NO_DATA, colour);
        let (stance_attr, label) = match stance {
            Some(stance) => (
                format!(" data-stance=\"{}\"", stance.as_str()),
                format!("{}: {}", shape.name, stance.as_str()),
            ),
            None => (String::new(), shape.name.to_owned()),
        };
        let _ = write!(
            out,
            "<path d=\"{}\" fill=\"{fill}\" data-code=\"{}\"{stance_attr}><title>{}</title></path>",
            shape.path,
            shape.code,
            escape(&label)
        );
        if let (Some(marker), Some(_)) = (shape.marker, stance) {
            let (cx, cy) = marker.split_once(',').expect("a marker is x,y");
            let _ = write!(
                dots,
                "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"3.5\" fill=\"{fill}\" stroke=\"#333\" \
                 stroke-width=\"0.6\" data-code=\"{}\"><title>{}</title></circle>",
                shape.code,
                escape(&label)
            );
        }
    }
    out.push_str("</g>");
    out.push_str(&dots);
    let items: Vec<(&str, String)> = counts
        .iter()
        .map(|&(stance, n)| (colour(stance), format!("{} ({n})", stance.as_str())))
        .chain(std::iter::once((NO_DATA, "not taking part".to_owned())))
        .collect();
    legend(&mut out, 10.0, f64::from(MAP_HEIGHT) + 30.0, &items);
    source_line(&mut out, height - 10, source);
    out.push_str("</svg>");
    out
}

/// The sides a timeline draws, those with any country.
fn sides(entries: &[TimelineEntry]) -> Vec<(&'static str, EffectiveStance)> {
    let last = entries.last().map(|e| e.cumulative.0).unwrap_or_default();
    [
        ("critical", EffectiveStance::Critical, last.critical),
        ("supportive", EffectiveStance::Supportive, last.supportive),
        ("yes", EffectiveStance::Yes, last.yes),
        ("no", EffectiveStance::No, last.no),
    ]
    .into_iter()
    .filter(|&(_, _, n)| n > 0)
    .map(|(name, stance, _)| (name, stance))
    .collect()
}

fn side_count(entry: &TimelineEntry, stance: EffectiveStance) -> i64 {
    let counts = entry.cumulative.0;
    match stance {
        EffectiveStance::Critical => counts.critical,
        EffectiveStance::Supportive => counts.supportive,
        EffectiveStance::Yes => counts.yes,
        _ => counts.no,
    }
}

/// A round upper bound for the count axis and its step.
fn count_axis(max: i64) -> (i64, i64) {
    let step = match max {
        ..=10 => 2,
        11..=50 => 10,
        51..=100 => 20,
        101..=250 => 50,
        _ => 100,
    };
    (((max + step - 1) / step).max(1) * step, step)
}

/// The running count of distinct countries on each side, a step line per side, a dot
/// (with a tooltip) per statement, years along the bottom.
pub fn timeline(title: &str, entries: &[TimelineEntry], source: &str) -> String {
    const WIDTH: u32 = 960;
    const HEIGHT: u32 = 440;
    let (left, right, top, bottom) = (56.0, 930.0, 20.0, 360.0);
    let sides = sides(entries);
    let mut out = String::new();
    let description = match entries.last() {
        Some(last) => format!(
            "{} statements from {} to {}; by then {}.",
            entries.len(),
            entries[0].issued_on,
            last.issued_on,
            sides
                .iter()
                .map(|&(name, stance)| format!("{} countries {name}", side_count(last, stance)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "No statements.".to_owned(),
    };
    open_svg(
        &mut out,
        WIDTH,
        HEIGHT,
        &format!("{title}: countries on each side over time"),
        &description,
    );
    let first = entries.first().map(|e| e.issued_on);
    let last = entries.last().map(|e| e.issued_on);
    let (Some(first), Some(last)) = (first, last) else {
        source_line(&mut out, HEIGHT - 10, source);
        out.push_str("</svg>");
        return out;
    };
    // Whole years either side, so that the first and last points sit inside the axis.
    let start = NaiveDate::from_ymd_opt(first.year(), 1, 1).unwrap_or(first);
    let end = NaiveDate::from_ymd_opt(last.year() + 1, 1, 1).unwrap_or(last);
    let days = (end - start).num_days().max(1) as f64;
    let x_of = |day: NaiveDate| left + (right - left) * (day - start).num_days() as f64 / days;
    let max = entries
        .iter()
        .flat_map(|e| sides.iter().map(move |&(_, stance)| side_count(e, stance)))
        .max()
        .unwrap_or(0);
    let (top_count, step) = count_axis(max);
    let y_of = |n: i64| bottom - (bottom - top) * n as f64 / top_count as f64;

    // Grid and axes.
    out.push_str("<g font-size=\"12\" fill=\"#555\">");
    let mut n = 0;
    while n <= top_count {
        let y = y_of(n);
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{n}</text>",
            left - 6.0,
            y + 4.0
        );
        n += step;
    }
    let years = end.year() - start.year();
    let every = usize::try_from(((years + 11) / 12).max(1)).unwrap_or(1);
    for year in (start.year()..=end.year()).step_by(every) {
        let Some(day) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            continue;
        };
        let x = x_of(day);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{bottom}\" y2=\"{}\" stroke=\"#999\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{year}</text>",
            bottom + 5.0,
            bottom + 20.0
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{left}\" x2=\"{right}\" y1=\"{bottom}\" y2=\"{bottom}\" stroke=\"#999\"/></g>"
    );

    // A step line per side: the count holds until the next statement's date.
    for &(name, stance) in &sides {
        let mut path = format!("M{left:.1},{:.1}", y_of(0));
        for entry in entries {
            let _ = write!(
                path,
                "H{:.1}V{:.1}",
                x_of(entry.issued_on),
                y_of(side_count(entry, stance))
            );
        }
        let _ = write!(path, "H{right:.1}");
        let _ = write!(
            out,
            "<path d=\"{path}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\" data-side=\"{name}\"/>",
            colour(stance)
        );
    }
    for entry in entries {
        let counts = sides
            .iter()
            .map(|&(name, stance)| format!("{} {name}", side_count(entry, stance)))
            .collect::<Vec<_>>()
            .join(", ");
        let tooltip = escape(&format!("{}: {} ({counts})", entry.issued_on, entry.title));
        for &(name, stance) in &sides {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\" data-side=\"{name}\" \
                 data-statement=\"{}\"><title>{tooltip}</title></circle>",
                x_of(entry.issued_on),
                y_of(side_count(entry, stance)),
                colour(stance),
                escape(&entry.statement_id),
            );
        }
    }
    let items: Vec<(&str, String)> = sides
        .iter()
        .map(|&(name, stance)| (colour(stance), format!("{name}: countries so far")))
        .collect();
    legend(&mut out, left, bottom + 50.0, &items);
    source_line(&mut out, HEIGHT - 10, source);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_country_on_the_map_has_a_shape_or_a_dot() {
        assert!(WORLD.len() > 200);
        assert!(
            WORLD
                .iter()
                .all(|s| s.code.len() == 3 && (s.path.starts_with('M') || s.marker.is_some()))
        );
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn the_count_axis_ends_on_a_round_number() {
        assert_eq!(count_axis(0), (2, 2));
        assert_eq!(count_axis(50), (50, 10));
        assert_eq!(count_axis(72), (80, 20));
        assert_eq!(count_axis(193), (200, 50));
    }
}
