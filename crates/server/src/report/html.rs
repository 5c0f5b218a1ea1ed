//! A report as one standalone, printable HTML page: no script, no outside resource, its
//! style inline, every text escaped. Served with a policy that allows nothing else.

use std::fmt::Write;

use ghor_domain::vocab::Lang;

use super::{Block, Document, Table};

/// What the page may load: its inline style and nothing more.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

const STYLE: &str = "
@page { size: A4; margin: 16mm 14mm; }
body { font: 15px/1.45 system-ui, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1a1a1a; margin: 0 auto; padding: 24px; max-width: 1100px; }
h1 { font-size: 26px; margin: 0 0 4px; }
.subtitle { font-size: 17px; color: #333; margin: 0 0 12px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 20px; padding: 10px 14px; background: #f3f5f8; border-left: 4px solid #1f3a68; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
h2 { font-size: 19px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #1f3a68; break-after: avoid; }
p { margin: 6px 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; margin: 10px 0; }
.figure { border: 1px solid #c9d1dc; border-radius: 6px; padding: 8px 10px; break-inside: avoid; }
.figure .value { font-size: 26px; font-weight: 700; font-variant-numeric: tabular-nums; }
.figure .label { font-size: 14px; } .figure .change { font-size: 13px; color: #4a4a4a; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th { text-align: left; border-bottom: 2px solid #1a1a1a; padding: 5px 8px; font-size: 14px; }
td { border-bottom: 1px solid #d5d9e0; padding: 5px 8px; vertical-align: top; }
tr { break-inside: avoid; }
.num { text-align: right; }
.empty { color: #555; font-style: italic; }
figure.chart { margin: 10px 0 16px; break-inside: avoid; overflow-x: auto; } figure.chart > svg { width: 100%; min-width: 560px; height: auto; max-height: 320px; }
figcaption { font-size: 14px; } figcaption .key { margin-left: 14px; white-space: nowrap; }
footer { margin-top: 28px; padding-top: 6px; border-top: 1px solid #999; font-size: 13px; color: #444; }
.scroll { overflow-x: auto; }
@media (max-width: 600px) { body { padding: 12px; font-size: 14px; } h1 { font-size: 21px; } .figures { grid-template-columns: repeat(2, 1fr); gap: 6px; } .figure .value { font-size: 20px; } td, th { padding: 4px 5px; } }
@media print { body { padding: 0; font-size: 11pt; } .figure .value { font-size: 18pt; } .scroll { overflow: visible; } }
";

pub fn render(doc: &Document) -> String {
    let lang = match doc.lang {
        Lang::Nl => "nl",
        Lang::En => "en",
    };
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"subtitle\">{}</p>\n<dl class=\"meta\">\n",
        escape(&doc.title),
        escape(&doc.title),
        escape(&doc.subtitle)
    );
    for (label, value) in &doc.meta {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
    }
    out.push_str("</dl>\n");
    for section in &doc.sections {
        out.push_str("<section>\n");
        if !section.heading.is_empty() {
            let _ = writeln!(out, "<h2>{}</h2>", escape(&section.heading));
        }
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "<p>{}</p>", escape(text));
                }
                Block::Figures(figures) => {
                    out.push_str("<div class=\"figures\">\n");
                    for f in figures {
                        let _ = writeln!(
                            out,
                            "<div class=\"figure\"><div class=\"value\">{}</div><div class=\"label\">{}</div><div class=\"change\">{}</div></div>",
                            escape(&f.value),
                            escape(&f.label),
                            escape(&f.change)
                        );
                    }
                    out.push_str("</div>\n");
                }
                Block::Table(table) => table_html(&mut out, table),
                Block::Chart(chart) => out.push_str(&super::chart::svg(chart, doc.lang)),
            }
        }
        out.push_str("</section>\n");
    }
    let _ = write!(out, "<footer>{}</footer>\n</body>\n</html>\n", escape(&doc.footer));
    out
}

fn table_html(out: &mut String, table: &Table) {
    if table.rows.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">{}</p>", escape(&table.empty));
        return;
    }
    let class = |numeric: bool| if numeric { " class=\"num\"" } else { "" };
    out.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
    for c in &table.columns {
        let _ = write!(out, "<th{}>{}</th>", class(c.numeric), escape(&c.title));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let numeric = table.columns.get(i).is_some_and(|c| c.numeric);
            let _ = write!(out, "<td{}>{}</td>", class(numeric), escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
}

/// Text as HTML: nothing in it can open a tag or leave an attribute.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Column, Section};

    #[test]
    fn text_from_a_report_cannot_become_markup() {
        let doc = Document {
            lang: Lang::Nl,
            title: "<script>alert(1)</script>".into(),
            subtitle: "a & b".into(),
            meta: vec![("x\"".into(), "'y'".into())],
            sections: vec![Section {
                heading: "<b>".into(),
                blocks: vec![Block::Table(Table {
                    columns: vec![Column { title: "<i>".into(), numeric: false }],
                    rows: vec![vec!["<img src=x onerror=alert(1)>".into()]],
                    empty: String::new(),
                })],
            }],
            footer: "</footer>".into(),
        };
        let html = render(&doc);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.starts_with("<!doctype html>\n<html lang=\"nl\">"));
    }
}
