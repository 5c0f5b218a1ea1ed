//! The PDF form of a report: A4 pages that a crisis team prints and reads on paper. Text is set in
//! the standard PDF fonts Helvetica and Helvetica-Bold (not embedded, WinAnsi encoding), so laying
//! it out needs only their glyph widths, which are near the end of this file. All pages are laid out
//! first and written after, so that every footer can say "page N of M".

use pdf_writer::types::{LineCapStyle, LineJoinStyle};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::chart::{Plot, INKS};
use super::{Block, Chart, Column, Document, Figure, Section, Table};
use ghor_domain::vocab::Lang;

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
/// 18 mm.
const MARGIN: f32 = 51.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TOP: f32 = PAGE_HEIGHT - MARGIN;
/// Content stops a little above the bottom margin; the footer sits in the margin below it.
const BOTTOM: f32 = MARGIN + 10.0;

const HEADING_GAP: f32 = 18.0;
const BLOCK_GAP: f32 = 8.0;
const FIGURES_PER_ROW: usize = 4;
const FIGURE_GAP: f32 = 8.0;
const FIGURE_PAD: f32 = 8.0;
const CELL_PAD: f32 = 4.0;
const CELL_VPAD: f32 = 3.0;
/// The canvas a chart's [`Plot`] is laid out on: the plotting area with room below it for the time
/// axis' labels and the legend's first row.
const CHART_HEIGHT: f32 = 180.0;
/// From the bottom of the plotting area to the top of the legend.
const LEGEND_TOP: f32 = 22.0;
/// The length of the line before each series' label in the legend.
const LEGEND_SAMPLE: f32 = 24.0;
const GRID_INK: &str = "#d5d9e0";
const AXIS_INK: &str = "#1a1a1a";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn widths(self) -> &'static [u16; 256] {
        match self {
            Font::Regular => &HELVETICA_WIDTHS,
            Font::Bold => &HELVETICA_BOLD_WIDTHS,
        }
    }

    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Style {
    font: Font,
    size: f32,
    /// 0 is black.
    gray: f32,
}

impl Style {
    const fn new(font: Font, size: f32, gray: f32) -> Style {
        Style { font, size, gray }
    }

    fn width(self, text: &[u8]) -> f32 {
        units(self.font, text) as f32 * self.size / 1000.0
    }

    fn leading(self) -> f32 {
        self.size * 1.3
    }

    /// From the top of a line's box to its baseline: caps sit about centred in the box.
    fn baseline(self) -> f32 {
        (self.leading() - self.size) / 2.0 + 0.8 * self.size
    }
}

const TITLE: Style = Style::new(Font::Bold, 20.0, 0.0);
const SUBTITLE: Style = Style::new(Font::Regular, 11.0, 0.3);
const META_LABEL: Style = Style::new(Font::Bold, 9.0, 0.35);
const META_VALUE: Style = Style::new(Font::Regular, 9.0, 0.0);
const HEADING: Style = Style::new(Font::Bold, 13.0, 0.0);
const BODY: Style = Style::new(Font::Regular, 10.0, 0.0);
const NOTE: Style = Style::new(Font::Regular, 10.0, 0.45);
const FIGURE_VALUE: Style = Style::new(Font::Bold, 18.0, 0.0);
const FIGURE_LABEL: Style = Style::new(Font::Regular, 8.5, 0.2);
const FIGURE_CHANGE: Style = Style::new(Font::Regular, 8.0, 0.4);
const FOOTER: Style = Style::new(Font::Regular, 8.0, 0.4);
const CHART_TITLE: Style = Style::new(Font::Bold, 10.0, 0.0);
const CHART_UNIT: Style = Style::new(Font::Regular, 8.0, 0.35);
const TICK: Style = Style::new(Font::Regular, 7.5, 0.25);
const LEGEND: Style = Style::new(Font::Regular, 8.0, 0.1);

/// Text encoded as WinAnsi bytes, one byte per glyph.
type Line = Vec<u8>;

/// Something drawn on a page, in points from the bottom left corner. A line goes through its points,
/// stroked in an RGB colour (0 to 1 each) with a dash pattern (empty: solid); a single point is a dot.
enum Mark {
    Text { x: f32, y: f32, style: Style, text: Line },
    Fill { x: f32, y: f32, width: f32, height: f32, gray: f32 },
    Line { points: Vec<(f32, f32)>, rgb: [f32; 3], width: f32, dash: Vec<f32> },
}

/// Renders the document as a PDF file.
pub fn render(doc: &Document) -> Vec<u8> {
    let mut pages = lay_out(doc);
    let count = pages.len();
    for (index, page) in pages.iter_mut().enumerate() {
        footer(page, doc, index + 1, count);
    }
    write(doc, &pages)
}

/// The marks of every page, without footers.
fn lay_out(doc: &Document) -> Vec<Vec<Mark>> {
    let mut layout = Layout { lang: doc.lang, pages: Vec::new(), y: TOP, block_top: TOP, heading: Vec::new() };
    layout.new_page();
    layout.title_block(doc);
    for section in &doc.sections {
        layout.section(section);
    }
    layout.room(BODY.leading());
    layout.pages
}

struct Layout {
    lang: Lang,
    pages: Vec<Vec<Mark>>,
    /// Top of the free space on the last page.
    y: f32,
    /// Where the current page or section's body began: no gap is added there.
    block_top: f32,
    /// A section heading not placed yet: it goes on the page where its first block starts.
    heading: Vec<Line>,
}

impl Layout {
    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
        self.block_top = TOP;
    }

    fn push(&mut self, mark: Mark) {
        if let Some(page) = self.pages.last_mut() {
            page.push(mark);
        }
    }

    fn text(&mut self, x: f32, top: f32, style: Style, text: &[u8]) {
        if !text.is_empty() {
            self.push(Mark::Text { x, y: top - style.baseline(), style, text: text.to_vec() });
        }
    }

    /// A line through points given in SVG colour and dash notation (`#rrggbb`, `6 3`).
    fn stroke(&mut self, points: Vec<(f32, f32)>, ink: &str, width: f32, dash: &str) {
        let hex = u32::from_str_radix(ink.trim_start_matches('#'), 16).unwrap_or(0);
        let rgb = [16, 8, 0].map(|shift| ((hex >> shift) & 0xFF) as f32 / 255.0);
        let dash = dash.split_whitespace().filter_map(|length| length.parse().ok()).collect();
        self.push(Mark::Line { points, rgb, width, dash });
    }

    fn rule(&mut self, thickness: f32, gray: f32) {
        self.push(Mark::Fill { x: MARGIN, y: self.y - thickness, width: TEXT_WIDTH, height: thickness, gray });
        self.y -= thickness;
    }

    fn gap(&mut self, height: f32) {
        if self.y < self.block_top {
            self.y -= height;
        }
    }

    /// Makes room for `height` below the cursor, together with a pending heading, starting a new page
    /// when they don't fit; then places the heading, so a heading never ends a page on its own.
    fn room(&mut self, height: f32) {
        let heading_height = match self.heading.len() {
            0 => 0.0,
            lines => HEADING_GAP + lines as f32 * HEADING.leading() + 8.0,
        };
        if self.y - heading_height - height < BOTTOM && self.y < TOP {
            self.new_page();
        }
        let heading = std::mem::take(&mut self.heading);
        if heading.is_empty() {
            return;
        }
        self.gap(HEADING_GAP);
        for line in &heading {
            self.text(MARGIN, self.y, HEADING, line);
            self.y -= HEADING.leading();
        }
        self.y -= 1.5;
        self.rule(0.6, 0.55);
        self.y -= 6.0;
        self.block_top = self.y;
    }

    /// Lines of text one below the other, breaking pages between them.
    fn lines(&mut self, lines: &[Line], style: Style) {
        for line in lines {
            self.room(style.leading());
            self.text(MARGIN, self.y, style, line);
            self.y -= style.leading();
        }
    }

    fn title_block(&mut self, doc: &Document) {
        if !doc.title.trim().is_empty() {
            self.lines(&wrap(&encode(&doc.title), TITLE, TEXT_WIDTH), TITLE);
        }
        if !doc.subtitle.trim().is_empty() {
            self.gap(2.0);
            self.lines(&wrap(&encode(&doc.subtitle), SUBTITLE, TEXT_WIDTH), SUBTITLE);
        }
        let labels: Vec<Line> = doc.meta.iter().map(|(label, _)| encode(label)).collect();
        let widest = labels.iter().map(|label| META_LABEL.width(label)).fold(0.0, f32::max);
        let label_width = (widest + 12.0).min(TEXT_WIDTH * 0.35);
        self.gap(8.0);
        for (label, (_, value)) in labels.iter().zip(&doc.meta) {
            let label = wrap(label, META_LABEL, label_width - 12.0);
            let value = wrap(&encode(value), META_VALUE, TEXT_WIDTH - label_width);
            let height = label.len().max(value.len()) as f32 * META_VALUE.leading();
            self.room(height);
            for (index, line) in label.iter().enumerate() {
                self.text(MARGIN, self.y - index as f32 * META_LABEL.leading(), META_LABEL, line);
            }
            for (index, line) in value.iter().enumerate() {
                self.text(MARGIN + label_width, self.y - index as f32 * META_VALUE.leading(), META_VALUE, line);
            }
            self.y -= height;
        }
        if self.y < TOP {
            self.y -= 8.0;
            self.rule(1.2, 0.15);
        }
    }

    fn section(&mut self, section: &Section) {
        self.room(BODY.leading()); // an empty section before this one still gets its heading
        if !section.heading.trim().is_empty() {
            self.heading = wrap(&encode(&section.heading), HEADING, TEXT_WIDTH);
        }
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => self.paragraph(text, BODY),
                Block::Figures(figures) => self.figures(figures),
                Block::Table(table) => self.table(table),
                Block::Chart(chart) => self.chart(chart),
            }
        }
    }

    fn paragraph(&mut self, text: &str, style: Style) {
        self.room(BLOCK_GAP + style.leading());
        self.gap(BLOCK_GAP);
        self.lines(&wrap(&encode(text), style, TEXT_WIDTH), style);
    }

    /// Key figures as a grid of shaded boxes: the value large, its label and change below.
    fn figures(&mut self, figures: &[Figure]) {
        let box_width = (TEXT_WIDTH - FIGURE_GAP * (FIGURES_PER_ROW - 1) as f32) / FIGURES_PER_ROW as f32;
        let inner = box_width - 2.0 * FIGURE_PAD;
        for row in figures.chunks(FIGURES_PER_ROW) {
            let parts: Vec<[(Vec<Line>, Style); 3]> = row
                .iter()
                .map(|figure| {
                    [
                        (wrap(&encode(&figure.value), FIGURE_VALUE, inner), FIGURE_VALUE),
                        (wrap(&encode(&figure.label), FIGURE_LABEL, inner), FIGURE_LABEL),
                        (wrap(&encode(&figure.change), FIGURE_CHANGE, inner), FIGURE_CHANGE),
                    ]
                })
                .collect();
            let content = |parts: &[(Vec<Line>, Style); 3]| -> f32 {
                parts.iter().map(|(lines, style)| lines.len() as f32 * style.leading()).sum()
            };
            let height = parts.iter().map(content).fold(0.0, f32::max) + 2.0 * FIGURE_PAD;
            self.room(BLOCK_GAP + height);
            self.gap(BLOCK_GAP);
            for (column, parts) in parts.iter().enumerate() {
                let x = MARGIN + column as f32 * (box_width + FIGURE_GAP);
                self.push(Mark::Fill { x, y: self.y - height, width: box_width, height, gray: 0.93 });
                let mut top = self.y - FIGURE_PAD;
                for (lines, style) in parts {
                    for line in lines {
                        self.text(x + FIGURE_PAD, top, *style, line);
                        top -= style.leading();
                    }
                }
            }
            self.y -= height;
        }
    }

    /// A chart drawn from the same [`Plot`] as the HTML page's, all on one page: its title and unit
    /// above, gridlines at the values, the time axis' labels below and then the legend, each series'
    /// line sample in its colour and dash pattern before its label.
    fn chart(&mut self, chart: &Chart) {
        let plot = Plot::of(chart, f64::from(TEXT_WIDTH), f64::from(CHART_HEIGHT), self.lang);
        let (left, top, right, bottom) =
            (plot.area.0 as f32, plot.area.1 as f32, plot.area.2 as f32, plot.area.3 as f32);
        let title = wrap(&encode(&chart.title), CHART_TITLE, TEXT_WIDTH);
        let unit = match chart.y_label.trim() {
            "" => Vec::new(),
            label => wrap(&encode(label), CHART_UNIT, TEXT_WIDTH),
        };

        // The legend flows in rows from under the plotting area's left edge: (x, top, series, label lines).
        let mut legend = Vec::new();
        let (mut x, mut row_top, mut row_height) = (left, bottom + LEGEND_TOP, 0.0_f32);
        for (index, (label, _)) in plot.lines.iter().enumerate() {
            let lines = wrap(&encode(label), LEGEND, TEXT_WIDTH - left - LEGEND_SAMPLE - 4.0);
            let width = LEGEND_SAMPLE + 4.0 + lines.iter().map(|line| LEGEND.width(line)).fold(0.0, f32::max);
            if x > left && x + width > TEXT_WIDTH {
                (x, row_top, row_height) = (left, row_top + row_height + 2.0, 0.0);
            }
            row_height = row_height.max(lines.len() as f32 * LEGEND.leading());
            legend.push((x, row_top, index, lines));
            x += width + 14.0;
        }
        let canvas = row_top + row_height.max(LEGEND.leading());
        let text = title.len() as f32 * CHART_TITLE.leading() + unit.len() as f32 * CHART_UNIT.leading();
        self.room(BLOCK_GAP + text + 2.0 + canvas);
        self.gap(BLOCK_GAP);
        self.lines(&title, CHART_TITLE);
        self.lines(&unit, CHART_UNIT);
        self.y -= 2.0;

        // Plot's y grows downwards from the canvas' top; the page's grows upwards.
        let origin = self.y;
        let at = |x: f32, y: f32| (MARGIN + x, origin - y);
        for (y, label) in &plot.y_ticks {
            let (y, label) = (*y as f32, encode(label));
            self.stroke(vec![at(left, y), at(right, y)], GRID_INK, 0.5, "");
            let (x, baseline) = at(left - 5.0 - TICK.width(&label), y + 0.35 * TICK.size);
            self.push(Mark::Text { x, y: baseline, style: TICK, text: label });
        }
        for (x, label) in &plot.x_ticks {
            let (x, label) = (*x as f32, encode(label));
            self.stroke(vec![at(x, bottom), at(x, bottom + 4.0)], AXIS_INK, 0.75, "");
            let width = TICK.width(&label);
            let (x, baseline) = at((x - width / 2.0).clamp(0.0, (TEXT_WIDTH - width).max(0.0)), bottom + 13.0);
            self.push(Mark::Text { x, y: baseline, style: TICK, text: label });
        }
        self.stroke(vec![at(left, top), at(left, bottom), at(right, bottom)], AXIS_INK, 0.75, "");
        for (index, (_, points)) in plot.lines.iter().enumerate() {
            let (ink, dash) = INKS[index % INKS.len()];
            self.stroke(points.iter().map(|(x, y)| at(*x as f32, *y as f32)).collect(), ink, 1.5, dash);
        }
        for (x, top, index, lines) in legend {
            let (ink, dash) = INKS[index % INKS.len()];
            let middle = top + LEGEND.baseline() - 0.3 * LEGEND.size;
            self.stroke(vec![at(x, middle), at(x + LEGEND_SAMPLE, middle)], ink, 1.5, dash);
            for (row, line) in lines.iter().enumerate() {
                let (x, top) = at(x + LEGEND_SAMPLE + 4.0, top + row as f32 * LEGEND.leading());
                self.text(x, top, LEGEND, line);
            }
        }
        self.y -= canvas;
    }

    fn table(&mut self, table: &Table) {
        let Some(plan) = TablePlan::new(table) else {
            return self.paragraph(&table.empty, NOTE);
        };
        let first_row = plan.rows.first().map_or(0.0, |row| plan.height(row, plan.cell));
        self.room(BLOCK_GAP + plan.height(&plan.header, plan.head) + first_row);
        self.gap(BLOCK_GAP);
        self.table_header(&plan);
        // Right under a header (fresh), a row too tall for the rest of the page is split; elsewhere
        // it moves to the next page. Either way every pass draws a line or starts a page, so this ends.
        let mut fresh = true;
        for row in &plan.rows {
            let total = row.iter().map(Vec::len).max().unwrap_or(1);
            let mut start = 0;
            loop {
                let room = ((self.y - BOTTOM - 2.0 * CELL_VPAD) / plan.cell.leading()).floor().max(0.0) as usize;
                if room >= total - start {
                    self.table_row(&plan, row, plan.cell, start..total);
                    self.rule(0.4, 0.78);
                    break;
                }
                if fresh {
                    let end = start + room.max(1);
                    self.table_row(&plan, row, plan.cell, start..end);
                    start = end;
                }
                self.new_page();
                self.table_header(&plan);
                fresh = true;
            }
            fresh = false;
        }
    }

    fn table_header(&mut self, plan: &TablePlan) {
        let lines = plan.header.iter().map(Vec::len).max().unwrap_or(1);
        self.table_row(plan, &plan.header, plan.head, 0..lines);
        self.rule(0.9, 0.15);
    }

    fn table_row(&mut self, plan: &TablePlan, cells: &[Vec<Line>], style: Style, lines: std::ops::Range<usize>) {
        let mut x = MARGIN;
        for ((cell, width), numeric) in cells.iter().zip(&plan.widths).zip(&plan.numeric) {
            let top = self.y - CELL_VPAD;
            for (index, line) in cell.iter().enumerate().skip(lines.start).take(lines.len()) {
                let left = if *numeric { x + width - CELL_PAD - style.width(line) } else { x + CELL_PAD };
                self.text(left, top - (index - lines.start) as f32 * style.leading(), style, line);
            }
            x += width;
        }
        self.y -= lines.len() as f32 * style.leading() + 2.0 * CELL_VPAD;
    }
}

/// A table with its column widths chosen and its cells wrapped to them.
struct TablePlan {
    widths: Vec<f32>,
    numeric: Vec<bool>,
    head: Style,
    cell: Style,
    header: Vec<Vec<Line>>,
    rows: Vec<Vec<Vec<Line>>>,
}

impl TablePlan {
    /// None for a table with nothing to show.
    fn new(table: &Table) -> Option<TablePlan> {
        let count = table.rows.iter().map(Vec::len).max().unwrap_or(0).max(table.columns.len());
        if table.rows.is_empty() || count == 0 {
            return None;
        }
        let title = |column: usize| table.columns.get(column).map_or("", |column: &Column| &column.title);
        let header: Vec<Line> = (0..count).map(|column| encode(title(column))).collect();
        let cell = |row: &[String], column: usize| encode(row.get(column).map_or("", String::as_str));
        let rows: Vec<Vec<Line>> =
            table.rows.iter().map(|row| (0..count).map(|column| cell(row, column)).collect()).collect();

        // Smaller type before breaking words: the largest size at which every word fits its column.
        let sizes = [9.0, 8.0, 7.0];
        let size = sizes.into_iter().find(|&size| measure(&header, &rows, size).1.iter().sum::<f32>() <= TEXT_WIDTH);
        let size = size.unwrap_or(7.0);
        let (natural, minimum) = measure(&header, &rows, size);
        let widths = fit(&natural, &minimum);

        let head = Style::new(Font::Bold, size, 0.0);
        let cell = Style::new(Font::Regular, size, 0.0);
        let wrap_row = |texts: &[Line], style: Style| -> Vec<Vec<Line>> {
            texts.iter().zip(&widths).map(|(text, width)| wrap(text, style, width - 2.0 * CELL_PAD)).collect()
        };
        Some(TablePlan {
            header: wrap_row(&header, head),
            rows: rows.iter().map(|row| wrap_row(row, cell)).collect(),
            numeric: (0..count).map(|column| table.columns.get(column).is_some_and(|c| c.numeric)).collect(),
            widths,
            head,
            cell,
        })
    }

    fn height(&self, cells: &[Vec<Line>], style: Style) -> f32 {
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
        lines as f32 * style.leading() + 2.0 * CELL_VPAD
    }
}

/// Each column's width without wrapping, and its narrowest without breaking a word.
fn measure(header: &[Line], rows: &[Vec<Line>], size: f32) -> (Vec<f32>, Vec<f32>) {
    let mut natural = vec![2.0 * CELL_PAD; header.len()];
    let mut minimum = natural.clone();
    let head = Style::new(Font::Bold, size, 0.0);
    let cell = Style::new(Font::Regular, size, 0.0);
    let cells = std::iter::once((header, head)).chain(rows.iter().map(|row| (row.as_slice(), cell)));
    for (texts, style) in cells {
        for (column, text) in texts.iter().enumerate().take(header.len()) {
            let widest =
                |breaks: &[u8]| text.split(|b| breaks.contains(b)).map(|part| style.width(part)).fold(0.0, f32::max);
            natural[column] = natural[column].max(widest(b"\n") + 2.0 * CELL_PAD);
            // A word wider than a quarter of the page breaks rather than crowding out the other columns.
            let longest_word = widest(b" \n").min(TEXT_WIDTH / 4.0);
            minimum[column] = minimum[column].max(longest_word + 2.0 * CELL_PAD);
        }
    }
    (natural, minimum)
}

/// Column widths that fill the text width. Too wide a table first narrows its widest columns (their
/// text wraps) and keeps narrow ones whole; when even every column's longest word doesn't fit, the
/// columns are squeezed and words break.
fn fit(natural: &[f32], minimum: &[f32]) -> Vec<f32> {
    let total: f32 = natural.iter().sum();
    let least: f32 = minimum.iter().sum();
    if total <= TEXT_WIDTH {
        return natural.iter().map(|width| width * TEXT_WIDTH / total).collect();
    }
    if least >= TEXT_WIDTH {
        return minimum.iter().map(|width| width * TEXT_WIDTH / least).collect();
    }
    // The widest a column may be so that all of them fit, found by bisection.
    let capped = |cap: f32| natural.iter().zip(minimum).map(move |(natural, minimum)| natural.min(cap.max(*minimum)));
    let (mut low, mut high) = (0.0, natural.iter().fold(0.0, |a: f32, b| a.max(*b)));
    for _ in 0..40 {
        let cap = (low + high) / 2.0;
        if capped(cap).sum::<f32>() <= TEXT_WIDTH {
            low = cap;
        } else {
            high = cap;
        }
    }
    let sum: f32 = capped(low).sum();
    capped(low).map(|width| width * TEXT_WIDTH / sum).collect()
}

fn footer(page: &mut Vec<Mark>, doc: &Document, number: usize, count: usize) {
    let label = encode(&match doc.lang {
        Lang::Nl => format!("Pagina {number} van {count}"),
        Lang::En => format!("Page {number} of {count}"),
    });
    let label_width = FOOTER.width(&label);
    page.push(Mark::Fill { x: MARGIN, y: MARGIN, width: TEXT_WIDTH, height: 0.5, gray: 0.6 });
    let baseline = MARGIN - 14.0;
    page.push(Mark::Text { x: MARGIN + TEXT_WIDTH - label_width, y: baseline, style: FOOTER, text: label });
    let lines = wrap(&encode(&doc.footer), FOOTER, TEXT_WIDTH - label_width - 18.0);
    for (index, line) in lines.into_iter().take(2).enumerate() {
        page.push(Mark::Text { x: MARGIN, y: baseline - index as f32 * FOOTER.leading(), style: FOOTER, text: line });
    }
}

fn write(doc: &Document, pages: &[Vec<Mark>]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = Ref::new(1);
    let (catalog, tree, info) = (next.bump(), next.bump(), next.bump());
    let fonts = [(Font::Regular, next.bump(), "Helvetica"), (Font::Bold, next.bump(), "Helvetica-Bold")];
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (next.bump(), next.bump())).collect();

    let lang = match doc.lang {
        Lang::Nl => "nl-NL",
        Lang::En => "en-GB",
    };
    pdf.catalog(catalog).pages(tree).lang(TextStr(lang));
    pdf.document_info(info).title(TextStr(&doc.title)).creator(TextStr("ghor")).producer(TextStr("ghor"));
    pdf.pages(tree).kids(page_ids.iter().map(|(page, _)| *page)).count(pages.len() as i32);
    for (font, id, name) in fonts {
        let widths = font.widths()[32..].iter().map(|&width| f32::from(width));
        pdf.type1_font(id)
            .base_font(Name(name.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"))
            .first_char(32)
            .last_char(255)
            .widths(widths);
    }
    for (marks, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut page = pdf.page(*page_id);
        page.parent(tree).media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT)).contents(*content_id);
        page.resources().fonts().pairs(fonts.map(|(font, id, _)| (font.resource(), id)));
        page.finish();

        let mut content = Content::new();
        content.set_line_join(LineJoinStyle::RoundJoin);
        for mark in marks {
            match mark {
                Mark::Fill { x, y, width, height, gray } => {
                    content.set_fill_gray(*gray).rect(*x, *y, *width, *height).fill_nonzero();
                }
                Mark::Text { x, y, style, text } => {
                    content.set_fill_gray(style.gray).begin_text().set_font(style.font.resource(), style.size);
                    content.next_line(*x, *y).show(Str(text)).end_text();
                }
                Mark::Line { points, rgb: [r, g, b], width, dash } => {
                    let Some((&(x, y), rest)) = points.split_first() else { continue };
                    let (cap, width) = match rest {
                        [] => (LineCapStyle::RoundCap, width * 2.0),
                        _ => (LineCapStyle::ButtCap, *width),
                    };
                    content.set_stroke_rgb(*r, *g, *b).set_line_width(width).set_line_cap(cap);
                    content.set_dash_pattern(dash.iter().copied(), 0.0).move_to(x, y);
                    for &(x, y) in rest {
                        content.line_to(x, y);
                    }
                    if rest.is_empty() {
                        content.line_to(x, y); // a line of no length: with round ends, a dot
                    }
                    content.stroke();
                }
            }
        }
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

/// Width of WinAnsi text in 1/1000 of the font size.
fn units(font: Font, text: &[u8]) -> u32 {
    text.iter().map(|&byte| u32::from(font.widths()[usize::from(byte)])).sum()
}

/// Breaks text into lines no wider than `width`: at spaces, at the text's own line breaks, and
/// between characters in a word longer than a line. Always gives at least one line.
fn wrap(text: &[u8], style: Style, width: f32) -> Vec<Line> {
    // The small tolerance keeps a column that is exactly as wide as its text from wrapping by rounding.
    let limit = (width.max(0.0) * 1000.0 / style.size + 0.01) as u32;
    let space = units(style.font, b" ");
    let mut lines = Vec::new();
    for paragraph in text.split(|&byte| byte == b'\n') {
        let mut line = Line::new();
        let mut line_units = 0;
        for word in paragraph.split(|&byte| byte == b' ').filter(|word| !word.is_empty()) {
            let word_units = units(style.font, word);
            if !line.is_empty() && line_units + space + word_units <= limit {
                line.push(b' ');
                line.extend_from_slice(word);
                line_units += space + word_units;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_units = 0;
            }
            for &byte in word {
                let byte_units = units(style.font, &[byte]);
                if !line.is_empty() && line_units + byte_units > limit {
                    lines.push(std::mem::take(&mut line));
                    line_units = 0;
                }
                line.push(byte);
                line_units += byte_units;
            }
        }
        lines.push(line);
    }
    lines
}

/// Encodes text as WinAnsi (Windows-1252), the encoding of the standard fonts. Characters it lacks
/// become a close ASCII stand-in where there is one, else '?'.
fn encode(text: &str) -> Line {
    let mut out = Line::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' | '\n' => out.push(c as u8),
            '\u{AD}' => {} // a soft hyphen is invisible unless we hyphenate, which we don't
            '\u{A0}'..='\u{FF}' => out.push(c as u8),
            '\u{300}'..='\u{36F}' => compose(&mut out, c),
            c if c.is_whitespace() || c.is_control() => out.push(b' '),
            c => out.extend(stand_in(c)),
        }
    }
    out
}

/// Windows-1252 codes 0x80 to 0x9F in order; its five unused codes are C1 controls here, which
/// `encode` never looks up.
const CP1252_80_9F: &str = "€\u{81}‚ƒ„…†‡ˆ‰Š‹Œ\u{8D}Ž\u{8F}\u{90}‘’“”•–—˜™š›œ\u{9D}žŸ";

fn stand_in(c: char) -> Line {
    if let Some(index) = CP1252_80_9F.chars().position(|special| special == c) {
        return vec![0x80 + index as u8];
    }
    let text: &[u8] = match c {
        '→' | '⇒' => b"->",
        '←' | '⇐' => b"<-",
        '↔' => b"<->",
        '↑' | '▲' => b"+",
        '↓' | '▼' => b"-",
        '≥' => b">=",
        '≤' => b"<=",
        '≠' => b"!=",
        '≈' => b"~",
        '−' | '‐' | '‑' | '‒' => b"-",
        '―' => b"\x97",
        '′' => b"'",
        '″' => b"\"",
        'ĳ' => b"ij",
        'Ĳ' => b"IJ",
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => b"", // zero-width characters
        _ => b"?",
    };
    text.to_vec()
}

/// Text pasted from some systems arrives decomposed ("e" and a combining diaeresis): fold the
/// common accents onto their vowel; other combining marks are dropped.
fn compose(out: &mut Line, mark: char) {
    const ACCENTED: [(u8, [u8; 4]); 5] = [
        (b'A', [0xC0, 0xC1, 0xC2, 0xC4]),
        (b'E', [0xC8, 0xC9, 0xCA, 0xCB]),
        (b'I', [0xCC, 0xCD, 0xCE, 0xCF]),
        (b'O', [0xD2, 0xD3, 0xD4, 0xD6]),
        (b'U', [0xD9, 0xDA, 0xDB, 0xDC]),
    ];
    let accent = match mark {
        '\u{300}' => 0, // grave
        '\u{301}' => 1, // acute
        '\u{302}' => 2, // circumflex
        '\u{308}' => 3, // diaeresis
        _ => return,
    };
    if let Some(last) = out.last_mut() {
        let lowercase = if last.is_ascii_lowercase() { 0x20 } else { 0 };
        if let Some((_, accented)) = ACCENTED.iter().find(|(vowel, _)| *vowel == last.to_ascii_uppercase()) {
            *last = accented[accent] + lowercase;
        }
    }
}

// Generated from the AFM metrics (via reportlab's font data) for the 256 WinAnsi codes; codes
// without a glyph are 0 (controls) or the bullet's width, as the PDF specification maps them.

/// Helvetica advance widths (1/1000 em) by WinAnsi code, from Adobe's AFM metrics.
#[rustfmt::skip]
const HELVETICA_WIDTHS: [u16; 256] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 350,
    556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// Helvetica-Bold advance widths (1/1000 em) by WinAnsi code, from Adobe's AFM metrics.
#[rustfmt::skip]
const HELVETICA_BOLD_WIDTHS: [u16; 256] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 350,
    556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Series;
    use chrono::{DateTime, Duration};

    fn doc(sections: Vec<Section>) -> Document {
        Document {
            lang: Lang::Nl,
            title: "Beeld regio Zuidwest".into(),
            subtitle: "Situatie om 14:00".into(),
            meta: vec![("Uitgegeven door".into(), "GHOR".into())],
            sections,
            footer: "ghor – vertrouwelijk".into(),
        }
    }

    fn table(rows: usize) -> Table {
        Table {
            columns: vec![
                Column { title: "Ziekenhuis".into(), numeric: false },
                Column { title: "IC-bedden vrij".into(), numeric: true },
            ],
            rows: (0..rows).map(|i| vec![format!("Ziekenhuis {i}"), i.to_string()]).collect(),
            empty: "Geen ziekenhuizen.".into(),
        }
    }

    fn section(blocks: Vec<Block>) -> Section {
        Section { heading: "Ziekenhuizen".into(), blocks }
    }

    fn chart(series: Vec<Series>) -> Chart {
        let from = DateTime::from_timestamp(1_764_590_400, 0).unwrap_or_default();
        Chart {
            title: "Bezetting IC-bedden".into(),
            y_label: "bedden".into(),
            from,
            to: from + Duration::hours(6),
            y_max: 12.0,
            series,
        }
    }

    /// Six hours: a level that steps up and down, and a measure every half hour.
    fn two_series() -> Vec<Series> {
        let from = DateTime::from_timestamp(1_764_590_400, 0).unwrap_or_default();
        let at = |minutes: i64| from + Duration::minutes(minutes);
        vec![
            Series {
                label: "GRIP-niveau".into(),
                points: vec![(at(0), 1.0), (at(95), 3.0), (at(250), 2.0)],
                step: true,
            },
            Series {
                label: "IC-bedden bezet".into(),
                points: (0..=12).map(|i| (at(i * 30), 4.0 + (i as f64 * 0.9).sin() * 3.0 + i as f64 * 0.3)).collect(),
                step: false,
            },
        ]
    }

    fn page_count(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf);
        text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
    }

    fn assert_pdf(pdf: &[u8]) {
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
    }

    #[test]
    fn a_document_renders_as_a_pdf() {
        let pdf = render(&doc(vec![section(vec![
            Block::Paragraph("Ziekenhuis Zuidwest – IC-bedden: 3 vrij; cliënten; €".into()),
            Block::Figures(vec![Figure { label: "IC-bedden".into(), value: "3".into(), change: "↓ 2".into() }]),
            Block::Table(table(5)),
        ])]));
        assert_pdf(&pdf);
        assert_eq!(page_count(&pdf), 1);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Lang (nl-NL)"));
        assert!(text.contains("/BaseFont /Helvetica-Bold"));
        assert!(text.contains("/Encoding /WinAnsiEncoding"));
        assert!(text.contains("(Pagina 1 van 1)"));
    }

    #[test]
    fn dutch_and_windows_characters_encode_as_winansi() {
        assert_eq!(encode("ë€’"), vec![0xEB, 0x80, 0x92]);
        let specials = [
            0x80, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8E, 0x91, 0x92, 0x93, 0x94, 0x95,
            0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9E, 0x9F,
        ];
        assert_eq!(encode("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"), specials);
        assert_eq!(encode("cliënten – “ja” é ï ü"), b"cli\xEBnten \x96 \x93ja\x94 \xE9 \xEF \xFC");
        assert_eq!(encode("e\u{308}E\u{301}"), vec![0xEB, 0xC9]);
        assert_eq!(encode("→ ≥ ↑ 2×"), b"-> >= + 2\xD7");
        assert_eq!(encode("a\tb 😀"), b"a b ?");
    }

    #[test]
    fn widths_are_the_afm_widths() {
        // Helvetica H 722, e 556, l 222, l 222, o 556; Helvetica-Bold H 722, e 556, l 278, l 278, o 611.
        assert_eq!(BODY.width(b"Hello"), 22.78);
        assert_eq!(Style::new(Font::Bold, 10.0, 0.0).width(b"Hello"), 24.45);
        assert_eq!(HELVETICA_WIDTHS[0x80], 556); // the euro
    }

    #[test]
    fn wrapping_breaks_at_spaces_within_the_width() {
        let text = encode("De regionale ambulancevoorziening meldt een verhoogde inzet in de hele regio Zuidwest.");
        let lines = wrap(&text, BODY, 120.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(BODY.width(line) <= 120.0 + 1e-3, "{:?}", String::from_utf8_lossy(line));
            assert!(!line.starts_with(b" ") && !line.ends_with(b" "));
        }
        assert_eq!(lines.join(&b' '), text);
    }

    #[test]
    fn a_word_longer_than_a_line_breaks_between_characters() {
        let word = vec![b'W'; 500];
        let lines = wrap(&word, BODY, 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|line| BODY.width(line) <= 100.0));
        assert_eq!(lines.concat(), word);
        assert_eq!(wrap(b"", BODY, 100.0), vec![Vec::<u8>::new()]);
        assert_eq!(wrap(b"abc", BODY, 0.0).len(), 3);
    }

    #[test]
    fn a_long_table_continues_on_more_pages() {
        let pdf = render(&doc(vec![section(vec![Block::Table(table(200))])]));
        assert_pdf(&pdf);
        let pages = page_count(&pdf);
        assert!(pages >= 3, "{pages} pages");
        assert!(String::from_utf8_lossy(&pdf).contains(&format!("(Pagina {pages} van {pages})")));
    }

    #[test]
    fn a_heading_is_never_last_on_a_page() {
        for filler in 0..60 {
            let filler = Block::Paragraph("Regel met tekst om de pagina te vullen. ".repeat(8 * filler));
            let figure = Figure { label: "IC".into(), value: "3".into(), change: String::new() };
            for block in [
                Block::Paragraph("Tekst.".into()),
                Block::Table(table(3)),
                Block::Table(table(0)),
                Block::Figures(vec![figure]),
                Block::Chart(chart(vec![])),
            ] {
                let document = doc(vec![section(vec![filler.clone()]), section(vec![block])]);
                for page in lay_out(&document) {
                    let last = page.iter().rev().find_map(|mark| match mark {
                        Mark::Text { style, .. } => Some(style.size),
                        Mark::Fill { .. } | Mark::Line { .. } => None,
                    });
                    assert_ne!(last, Some(HEADING.size));
                }
            }
        }
    }

    #[test]
    fn a_chart_is_drawn_as_dashed_lines_and_labels() {
        let pdf = render(&doc(vec![section(vec![Block::Chart(chart(two_series()))])]));
        assert_pdf(&pdf);
        assert_eq!(page_count(&pdf), 1);
        let pages = lay_out(&doc(vec![section(vec![Block::Chart(chart(two_series()))])]));
        let dashes: Vec<&[f32]> = pages[0]
            .iter()
            .filter_map(|mark| match mark {
                Mark::Line { dash, .. } => Some(dash.as_slice()),
                _ => None,
            })
            .collect();
        assert!(dashes.contains(&[6.0, 3.0].as_slice()), "{dashes:?}");
        let mut content = Content::new();
        content.set_dash_pattern([6.0, 3.0], 0.0);
        let operator = String::from_utf8_lossy(&content.finish()).trim().to_owned();
        assert_eq!(operator, "[6 3] 0 d");
        // The page stream is not compressed, so the operator is in the file as written.
        assert!(String::from_utf8_lossy(&pdf).contains(&operator));
        let texts: Vec<String> = pages[0]
            .iter()
            .filter_map(|mark| match mark {
                Mark::Text { text, .. } => Some(String::from_utf8_lossy(text).into_owned()),
                _ => None,
            })
            .collect();
        for label in ["Bezetting IC-bedden", "bedden", "GRIP-niveau", "IC-bedden bezet", "0", "10", "13:00", "19:00"] {
            assert!(texts.iter().any(|text| text == label), "{label} in {texts:?}");
        }
    }

    #[test]
    fn a_chart_that_does_not_fit_moves_to_the_next_page() {
        let mut moved = false;
        for filler in 0..40 {
            let filler = Block::Paragraph("Regel met tekst om de pagina te vullen. ".repeat(8 * filler));
            let pages = lay_out(&doc(vec![section(vec![filler, Block::Chart(chart(two_series()))])]));
            let drawn: Vec<usize> = (0..pages.len())
                .filter(|&page| pages[page].iter().any(|mark| matches!(mark, Mark::Line { .. })))
                .collect();
            assert_eq!(drawn.len(), 1, "the chart is on one page");
            moved |= drawn[0] > 0;
            let lowest = pages[drawn[0]]
                .iter()
                .flat_map(|mark| match mark {
                    Mark::Line { points, .. } => points.iter().map(|(_, y)| *y).collect(),
                    Mark::Text { y, .. } | Mark::Fill { y, .. } => vec![*y],
                })
                .fold(f32::MAX, f32::min);
            assert!(lowest >= BOTTOM, "{lowest}");
        }
        assert!(moved);
    }

    #[test]
    fn odd_charts_do_not_panic() {
        let from = DateTime::from_timestamp(1_764_590_400, 0).unwrap_or_default();
        let one = |step| vec![Series { label: "een".into(), points: vec![(from, 3.0)], step }];
        let mut flat = chart(two_series());
        flat.y_max = 0.0;
        let mut backwards = chart(one(false));
        backwards.to = backwards.from - Duration::hours(1);
        let mut crowded =
            chart((0..12).map(|i| Series { label: "x".repeat(i * 40), ..two_series().remove(1) }).collect());
        crowded.title = "Titel ".repeat(200);
        crowded.y_label = String::new();
        crowded.y_max = f64::NAN;
        let empty_series = vec![Series { label: String::new(), points: vec![], step: true }];
        let blocks =
            [chart(vec![]), chart(empty_series), chart(one(false)), chart(one(true)), flat, backwards, crowded];
        let pdf = render(&doc(vec![section(blocks.into_iter().map(Block::Chart).collect())]));
        assert_pdf(&pdf);
    }

    #[test]
    fn odd_input_does_not_panic() {
        let empty = Document {
            lang: Lang::En,
            title: String::new(),
            subtitle: String::new(),
            meta: vec![],
            sections: vec![],
            footer: String::new(),
        };
        assert_pdf(&render(&empty));
        assert_eq!(page_count(&render(&empty)), 1);

        let long_word = "x".repeat(5000);
        let wide = Table {
            columns: (0..40).map(|i| Column { title: format!("Kolom {i}"), numeric: i % 2 == 0 }).collect(),
            rows: (0..10).map(|r| (0..45).map(|c| format!("{r}-{c} {}", "y".repeat(200))).collect()).collect(),
            empty: String::new(),
        };
        let ragged = Table { columns: vec![], rows: vec![vec![], vec!["a".into(), "b".into()]], empty: String::new() };
        let nothing = Table { columns: vec![], rows: vec![vec![]], empty: "leeg".into() };
        let figures = (0..30).map(|i| Figure { label: long_word.clone(), value: i.to_string(), change: String::new() });
        let sections = vec![
            Section { heading: String::new(), blocks: vec![] },
            Section { heading: long_word.clone(), blocks: vec![] },
            Section {
                heading: "Alles".into(),
                blocks: vec![
                    Block::Paragraph(String::new()),
                    Block::Paragraph(format!("{long_word}\n\n{long_word}")),
                    Block::Figures(vec![]),
                    Block::Figures(figures.collect()),
                    Block::Table(table(0)),
                    Block::Table(wide),
                    Block::Table(ragged),
                    Block::Table(nothing),
                    Block::Table(Table {
                        columns: vec![],
                        rows: vec![vec![long_word.repeat(20)]],
                        empty: String::new(),
                    }),
                ],
            },
        ];
        let mut odd = doc(sections);
        odd.title = long_word.clone();
        odd.meta = vec![(long_word.clone(), long_word.clone()), (String::new(), String::new())];
        odd.footer = long_word;
        let pdf = render(&odd);
        assert_pdf(&pdf);
        assert!(page_count(&pdf) > 1);
    }
}
