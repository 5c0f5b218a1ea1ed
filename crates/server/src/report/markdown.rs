//! A report as Markdown that pastes cleanly into LCMS and e-mail: headings, bold figures
//! and pipe tables, readable as plain text too.

use std::fmt::Write;

use super::{Block, Document, Table};

pub fn render(doc: &Document) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let _ = writeln!(out, "# {}\n\n{}\n", inline(&doc.title), inline(&doc.subtitle));
    for (label, value) in &doc.meta {
        let _ = writeln!(out, "- **{}:** {}", inline(label), inline(value));
    }
    for section in &doc.sections {
        if !section.heading.is_empty() {
            let _ = write!(out, "\n## {}\n", inline(&section.heading));
        }
        for block in &section.blocks {
            out.push('\n');
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "{}", inline(text));
                }
                Block::Figures(figures) => {
                    for f in figures {
                        let change =
                            if f.change.is_empty() { String::new() } else { format!(" ({})", inline(&f.change)) };
                        let _ = writeln!(out, "- {}: **{}**{change}", inline(&f.label), inline(&f.value));
                    }
                }
                Block::Table(table) => table_markdown(&mut out, table),
                // A chart's lines are in the tables beside it; here only what it shows.
                Block::Chart(chart) => {
                    let _ = writeln!(out, "_{} ({})_", inline(&chart.title), inline(&chart.y_label));
                }
            }
        }
    }
    let _ = writeln!(out, "\n---\n{}", inline(&doc.footer));
    out
}

fn table_markdown(out: &mut String, table: &Table) {
    if table.rows.is_empty() {
        let _ = writeln!(out, "_{}_", inline(&table.empty));
        return;
    }
    let cells = |row: &mut dyn Iterator<Item = String>| row.collect::<Vec<_>>().join(" | ");
    let _ = writeln!(out, "| {} |", cells(&mut table.columns.iter().map(|c| cell(&c.title))));
    let rule = table.columns.iter().map(|c| if c.numeric { "---:" } else { "---" }.to_owned());
    let _ = writeln!(out, "| {} |", cells(&mut rule.into_iter()));
    for row in &table.rows {
        let _ = writeln!(out, "| {} |", cells(&mut row.iter().map(|c| cell(c))));
    }
}

/// Text on one line, with what Markdown would read as markup escaped.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A table cell: inline text, never empty (an empty cell collapses in some renderers).
fn cell(text: &str) -> String {
    if text.is_empty() {
        " ".to_owned()
    } else {
        inline(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Column, Section};
    use ghor_domain::vocab::Lang;

    #[test]
    fn tables_and_markup_in_text_stay_tables() {
        let doc = Document {
            lang: Lang::Nl,
            title: "Beeld".into(),
            subtitle: "nu".into(),
            meta: vec![],
            sections: vec![Section {
                heading: "Bedden".into(),
                blocks: vec![Block::Table(Table {
                    columns: vec![
                        Column { title: "Type".into(), numeric: false },
                        Column { title: "Vrij".into(), numeric: true },
                    ],
                    rows: vec![vec!["IC | *ster*\nnieuw".into(), "3".into()]],
                    empty: String::new(),
                })],
            }],
            footer: "ghor".into(),
        };
        let md = render(&doc);
        assert!(md.contains("| Type | Vrij |\n| --- | ---: |\n| IC \\| \\*ster\\* nieuw | 3 |\n"), "{md}");
    }
}
