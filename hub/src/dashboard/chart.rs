//! Charts as server-side SVG: a bar per value for one week, a line per
//! value for a trend. Figures arrive already protected (`stats::query`);
//! a hidden figure draws no bar or point and is labelled as published
//! (`<5` or `x`), so the picture never tells more than the table.

use crate::stats::figure;
use domain::disclosure::Cell;
use domain::escape_html;
use std::fmt::Write;

/// Colour-blind-safe (Okabe–Ito), each at least 3:1 against white.
const PALETTE: [&str; 6] = [
    "#0068a8", "#b84a00", "#007a5a", "#a8437f", "#7a5c00", "#444444",
];
const TEXT: &str = "#1a1a1a";

fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Horizontal bars, one per row, with the figure written beside each.
pub(crate) fn bars(title: &str, rows: &[(String, Cell)]) -> String {
    let (width, label_w, row_h) = (560.0_f64, 190.0_f64, 26.0_f64);
    let bar_w = width - label_w - 60.0;
    let height = (rows.len().max(1) as f64) * row_h + 10.0;
    let max = rows
        .iter()
        .filter_map(|(_, c)| c.published())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{}" class="chart">"#,
        escape_html(title)
    );
    let _ = write!(svg, "<title>{}</title>", escape_html(title));
    for (i, (label, cell)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 5.0;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="13" fill="{TEXT}">{}</text>"#,
            label_w - 8.0,
            y + 17.0,
            escape_html(&short(label, 26))
        );
        let len = cell.published().map_or(0.0, |n| n as f64 / max * bar_w);
        if len > 0.0 {
            let _ = write!(
                svg,
                r#"<rect x="{label_w}" y="{}" width="{len:.1}" height="{}" fill="{}"/>"#,
                y + 3.0,
                row_h - 8.0,
                PALETTE[0]
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="13" fill="{TEXT}">{}</text>"#,
            label_w + len + 6.0,
            y + 17.0,
            escape_html(&figure(*cell))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One line per series over the weeks; a hidden week breaks the line.
pub(crate) fn lines(title: &str, weeks: &[String], series: &[(String, Vec<Cell>)]) -> String {
    let (width, height) = (640.0_f64, 260.0_f64);
    let (left, right, top, bottom) = (
        44.0,
        12.0,
        12.0,
        40.0 + 18.0 * series.len().div_ceil(3) as f64,
    );
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = series
        .iter()
        .flat_map(|(_, cells)| cells.iter().filter_map(|c| c.published()))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = if weeks.len() > 1 {
        plot_w / (weeks.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| left + step * i as f64;
    let y = |n: u64| top + plot_h - n as f64 / max * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{}" class="chart">"#,
        escape_html(title)
    );
    let _ = write!(svg, "<title>{}</title>", escape_html(title));
    // Axes, with the top figure and zero.
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" stroke=\"#767676\"/>\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#767676\"/>\
         <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\" fill=\"{TEXT}\">{max}</text>\
         <text x=\"{lx}\" y=\"{b}\" text-anchor=\"end\" font-size=\"12\" fill=\"{TEXT}\">0</text>",
        b = top + plot_h,
        r = width - right,
        lx = left - 6.0,
        ty = top + 10.0,
    );
    for (i, w) in weeks.iter().enumerate() {
        if i % 2 == weeks.len().saturating_sub(1) % 2 {
            let label = w.split_once('-').map_or(w.as_str(), |(_, wk)| wk);
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11" fill="{TEXT}">{}</text>"#,
                x(i),
                top + plot_h + 16.0,
                escape_html(label)
            );
        }
    }
    for (s, (name, cells)) in series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        let mut segment: Vec<String> = Vec::new();
        let flush = |svg: &mut String, segment: &mut Vec<String>| {
            if segment.len() > 1 {
                let _ = write!(
                    svg,
                    r#"<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{}"/>"#,
                    segment.join(" ")
                );
            }
            segment.clear();
        };
        for (i, cell) in cells.iter().enumerate() {
            match cell.published() {
                Some(n) => {
                    segment.push(format!("{:.1},{:.1}", x(i), y(n)));
                    let _ = write!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                        x(i),
                        y(n)
                    );
                }
                None => flush(&mut svg, &mut segment),
            }
        }
        flush(&mut svg, &mut segment);
        // Legend under the plot, three to a row.
        let (lx, ly) = (
            left + (s % 3) as f64 * 195.0,
            top + plot_h + 34.0 + (s / 3) as f64 * 18.0,
        );
        let _ = write!(
            svg,
            r#"<rect x="{lx}" y="{}" width="12" height="12" fill="{colour}"/><text x="{}" y="{ly}" font-size="12" fill="{TEXT}">{}</text>"#,
            ly - 10.0,
            lx + 16.0,
            escape_html(&short(name, 24))
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_figures_draw_nothing_and_labels_are_escaped() {
        let svg = bars(
            "t",
            &[
                ("<script>".into(), Cell::Published(12)),
                ("b".into(), Cell::Suppressed),
            ],
        );
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.contains("&lt;5"));
        let weeks = vec!["2026-W01".to_string(), "2026-W02".into(), "2026-W03".into()];
        let svg = lines(
            "t",
            &weeks,
            &[(
                "a".into(),
                vec![Cell::Published(5), Cell::Suppressed, Cell::Published(7)],
            )],
        );
        assert_eq!(svg.matches("<polyline").count(), 0);
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
