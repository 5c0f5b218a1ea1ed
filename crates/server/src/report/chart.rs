//! A chart laid out once, in points on a canvas of a given size ([`Plot`]), and drawn from
//! that layout as SVG for the HTML page (the PDF draws the same layout): time along the
//! bottom in Dutch local time, 0 to the chart's maximum up the side, one line per series,
//! each labelled in the legend, never told apart by colour alone (each has its own dash).

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};

use super::beeld::near;
use super::Chart;
use ghor_domain::vocab::Lang;

/// Room for the axes' labels, in points: left, right, top, bottom.
const MARGINS: (f64, f64, f64, f64) = (44.0, 12.0, 10.0, 40.0);
/// Colours and dash patterns of the series in order (the pattern tells them apart in
/// black and white).
pub const INKS: [(&str, &str); 4] = [("#1f3a68", ""), ("#c62828", "6 3"), ("#1b7f3b", "2 2"), ("#b36b00", "8 3 2 3")];

/// Where everything of a chart goes on a canvas `width` × `height` (y grows downwards).
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    pub width: f64,
    pub height: f64,
    /// The plotting area: left, top, right, bottom.
    pub area: (f64, f64, f64, f64),
    /// Labels along the time axis: x and text.
    pub x_ticks: Vec<(f64, String)>,
    /// Labels up the value axis: y and text.
    pub y_ticks: Vec<(f64, String)>,
    /// Each series' line through these points, with its label.
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

impl Plot {
    pub fn of(chart: &Chart, width: f64, height: f64, lang: Lang) -> Plot {
        let (left, right, top, bottom) = (MARGINS.0, width - MARGINS.1, MARGINS.2, height - MARGINS.3);
        let span = (chart.to - chart.from).num_milliseconds().max(1) as f64;
        let y_max = if chart.y_max > 0.0 { chart.y_max } else { 1.0 };
        let x = |t: DateTime<Utc>| {
            left + (right - left) * ((t - chart.from).num_milliseconds() as f64 / span).clamp(0.0, 1.0)
        };
        let y = |v: f64| bottom - (bottom - top) * (v / y_max).clamp(0.0, 1.0);
        let x_ticks =
            time_ticks(chart.from, chart.to).into_iter().map(|t| (x(t), tick_label(t, chart, lang))).collect();
        let y_ticks = value_ticks(y_max).into_iter().map(|v| (y(v), format_value(v))).collect();
        let lines = chart
            .series
            .iter()
            .map(|s| {
                let mut points = Vec::with_capacity(s.points.len() * 2);
                for (i, (t, v)) in s.points.iter().enumerate() {
                    if s.step && i > 0 {
                        points.push((x(*t), y(s.points[i - 1].1)));
                    }
                    points.push((x(*t), y(*v)));
                }
                // A level holds until the end of the chart.
                if let (true, Some((_, v))) = (s.step, s.points.last()) {
                    points.push((right, y(*v)));
                }
                (s.label.clone(), points)
            })
            .collect();
        Plot { width, height, area: (left, top, right, bottom), x_ticks, y_ticks, lines }
    }
}

/// About six moments on whole minutes, hours or days across `from`..`to`.
fn time_ticks(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let span = (to - from).num_minutes().max(1);
    let step =
        [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080].into_iter().find(|m| span / m <= 6).unwrap_or(10080);
    let step_seconds = step * 60;
    let first = (from.timestamp() + step_seconds - 1).div_euclid(step_seconds) * step_seconds;
    (0..).map(|i| first + i * step_seconds).map_while(|s| DateTime::from_timestamp(s, 0).filter(|t| *t <= to)).collect()
}

/// A tick's label: the time of day, with the date when the chart spans days.
fn tick_label(t: DateTime<Utc>, chart: &Chart, lang: Lang) -> String {
    if chart.to - chart.from > Duration::hours(20) {
        near(t, chart.from - Duration::days(400), lang)
    } else {
        near(t, t, lang)
    }
}

/// 0, the maximum and round values between.
fn value_ticks(max: f64) -> Vec<f64> {
    // A small whole scale (GRIP 0–5) gets every value.
    if max <= 10.0 && max.fract() == 0.0 {
        return (0..=max as usize).map(|v| v as f64).collect();
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
    let step = if step > 0.0 { step } else { 1.0 };
    (0..=((max / step).floor() as usize).min(10)).map(|i| i as f64 * step).collect()
}

fn format_value(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}").trim_end_matches('0').to_owned()
    }
}

/// The chart as an SVG element to place in an HTML page, with a legend and a text
/// alternative.
pub fn svg(chart: &Chart, lang: Lang) -> String {
    let plot = Plot::of(chart, 720.0, 240.0, lang);
    let (left, top, right, bottom) = plot.area;
    let mut out = String::new();
    let _ = write!(
        out,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui, Helvetica, Arial, sans-serif\" font-size=\"11\">",
        plot.width,
        plot.height,
        super::html::escape(&chart.title)
    );
    for (y, label) in &plot.y_ticks {
        let _ = write!(
            out,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{right}\" y2=\"{y:.1}\" stroke=\"#d5d9e0\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            left - 6.0,
            y + 4.0
        );
    }
    for (x, label) in &plot.x_ticks {
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{bottom}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#1a1a1a\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            bottom + 4.0,
            bottom + 16.0,
            super::html::escape(label)
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#1a1a1a\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"#1a1a1a\"/>"
    );
    for (i, (_, points)) in plot.lines.iter().enumerate() {
        let (ink, dash) = INKS[i % INKS.len()];
        let path: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = write!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{ink}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>",
            path.join(" ")
        );
    }
    out.push_str("</svg><figcaption>");
    let _ =
        write!(out, "<strong>{}</strong> ({})", super::html::escape(&chart.title), super::html::escape(&chart.y_label));
    for (i, (label, _)) in plot.lines.iter().enumerate() {
        let (ink, dash) = INKS[i % INKS.len()];
        let _ = write!(
            out,
            " <span class=\"key\"><svg width=\"28\" height=\"8\"><line x1=\"0\" y1=\"4\" x2=\"28\" y2=\"4\" stroke=\"{ink}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/></svg> {}</span>",
            super::html::escape(label)
        );
    }
    out.push_str("</figcaption></figure>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Series;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_590_400 + minutes * 60, 0).unwrap_or_default()
    }

    #[test]
    fn a_level_holds_until_the_next_and_to_the_end() {
        let chart = Chart {
            title: "GRIP".into(),
            y_label: "niveau".into(),
            from: at(0),
            to: at(120),
            y_max: 4.0,
            series: vec![Series { label: "GRIP".into(), points: vec![(at(0), 1.0), (at(60), 2.0)], step: true }],
        };
        let plot = Plot::of(&chart, 400.0, 200.0, Lang::Nl);
        let (left, top, right, bottom) = plot.area;
        let middle = (left + right) / 2.0;
        let y = |v: f64| bottom - (bottom - top) * v / 4.0;
        assert_eq!(plot.lines[0].1, vec![(left, y(1.0)), (middle, y(1.0)), (middle, y(2.0)), (right, y(2.0))]);
        assert_eq!(plot.y_ticks.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(), ["0", "1", "2", "3", "4"]);
        assert!(plot.x_ticks.len() >= 2 && plot.x_ticks.len() <= 7, "{:?}", plot.x_ticks);
        assert!(plot.x_ticks.iter().all(|(x, _)| *x >= left && *x <= right));
    }
}
