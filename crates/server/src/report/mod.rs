//! Reports that leave ghor as documents: the beeld of a region at a moment. A report is
//! built once as a [`Document`] (headings, key figures, tables, paragraphs) in one
//! language, and each format renders that same document: HTML to read and print,
//! Markdown that pastes cleanly into LCMS, and PDF.

pub mod beeld;
pub mod chart;
pub mod evaluation;
pub mod html;
pub mod markdown;
pub mod pdf;

use chrono::{DateTime, Utc};
use ghor_domain::vocab::Lang;

/// A report, laid out once for every format.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub lang: Lang,
    pub title: String,
    /// What, where and when, under the title.
    pub subtitle: String,
    /// Facts about the document itself (issued by, number, previous beeld), label → value.
    pub meta: Vec<(String, String)>,
    pub sections: Vec<Section>,
    /// The last line of every page and of the document.
    pub footer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

impl Section {
    /// A section holding one table: its columns as (title, numeric).
    pub fn table(heading: &str, columns: &[(&str, bool)], rows: Vec<Vec<String>>, empty: &str) -> Section {
        let columns =
            columns.iter().map(|(title, numeric)| Column { title: (*title).to_owned(), numeric: *numeric }).collect();
        Section {
            heading: heading.to_owned(),
            blocks: vec![Block::Table(Table { columns, rows, empty: empty.to_owned() })],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(String),
    /// Key figures in a row: a label, a value, and what it changed by.
    Figures(Vec<Figure>),
    Table(Table),
    /// A chart over time; Markdown gives its title and leaves it to the HTML and PDF.
    Chart(Chart),
}

/// Lines over a stretch of time, drawn the same in HTML (SVG) and PDF from one
/// [`chart::Plot`].
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The top of the y axis (the bottom is 0).
    pub y_max: f64,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    /// Oldest first.
    pub points: Vec<(DateTime<Utc>, f64)>,
    /// Holds each value until the next (a level), rather than joining them (a measure).
    pub step: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub label: String,
    pub value: String,
    /// E.g. "+3 sinds 14:00"; empty when there is nothing to compare with.
    pub change: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// Said instead of an empty table.
    pub empty: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    /// Numbers are right-aligned.
    pub numeric: bool,
}

/// The Dutch or the English of a pair of texts: `let t = words(lang); t("Bedden", "Beds")`.
pub fn words(lang: Lang) -> impl Fn(&'static str, &'static str) -> &'static str {
    move |nl, en| if lang == Lang::Nl { nl } else { en }
}

/// A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break; a leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
pub fn csv_cell(text: &str) -> String {
    let text = if text.len() > 1 && text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell as cell;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(cell("ic"), "ic");
        assert_eq!(cell("Zorg, \"Noord\""), "\"Zorg, \"\"Noord\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-3"), "-3", "a negative number stays a number");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("-"), "-", "the key of a dimension without keys");
    }
}
