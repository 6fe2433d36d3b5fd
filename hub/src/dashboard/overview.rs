//! The overview: this week and the last twelve, by procedure family,
//! outcome, channel, language and desk. Every figure comes from
//! `stats::query`, so the small-cell protection applies before drawing.

use super::auth::Signed;
use super::{chart, desks, render, Chrome, Page, Shared, WebError};
use crate::stats::{figure, Period};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use domain::disclosure::Cell;

const DIMENSIONS: [&str; 5] = ["family", "outcome", "channel", "language", "desk_id"];
const WEEKS: i64 = 12;
/// Lines drawn per trend chart; the rest stay in its table.
const MAX_SERIES: usize = 6;

pub(crate) struct Section {
    pub(crate) dim: &'static str,
    pub(crate) week_svg: String,
    pub(crate) trend_svg: String,
    pub(crate) week_rows: Vec<(String, String)>,
    pub(crate) trend_rows: Vec<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    c: Chrome,
    week: String,
    weeks: Vec<String>,
    total: String,
    connected: usize,
    lagging: usize,
    sections: Vec<Section>,
}

/// This week as a release period (the current year when the week is
/// somehow not one).
fn this_week(week: Option<&str>) -> Period {
    week.and_then(domain::disclosure::CalendarPeriod::of_week)
        .map_or(Period::Current, Period::Calendar)
}

pub(crate) fn last_weeks(today: chrono::NaiveDate, n: i64) -> Vec<String> {
    (0..n)
        .rev()
        .map(|i| domain::iso_week(today - chrono::Duration::weeks(i)))
        .collect()
}

fn section(
    app: &Shared,
    c: &Chrome,
    dim: &'static str,
    weeks: &[String],
) -> Result<Section, WebError> {
    let store = &app.deps.store;
    let this = weeks.last().cloned();
    let week = app
        .recent
        .query(store, &[dim], &this_week(this.as_deref()))?
        .table;
    let week_cells: Vec<(String, Cell)> = week
        .rows()
        .iter()
        .map(|(k, cell)| (k.first().cloned().unwrap_or_default(), *cell))
        .filter(|(_, cell)| *cell != Cell::Published(0))
        .collect();
    // Twelve weeks are no release period; the overview's dimensions have
    // neither nationality nor age band, so a run of weeks is allowed.
    let trend = app
        .recent
        .query(
            store,
            &["week", dim],
            &Period::Weeks {
                from: weeks.first().cloned().unwrap_or_default(),
                to: weeks.last().cloned().unwrap_or_default(),
            },
        )?
        .table;
    let mut labels: Vec<String> = Vec::new();
    for (k, _) in trend.rows() {
        if let Some(v) = k.get(1) {
            if !labels.contains(v) {
                labels.push(v.clone());
            }
        }
    }
    let mut series: Vec<(String, Vec<Cell>)> = labels
        .into_iter()
        .map(|label| {
            let cells = weeks
                .iter()
                .map(|w| {
                    trend
                        .cell(&[w.as_str(), label.as_str()])
                        .unwrap_or(Cell::Published(0))
                })
                .collect();
            (label, cells)
        })
        .filter(|(_, cells): &(String, Vec<Cell>)| cells.iter().any(|c| *c != Cell::Published(0)))
        .collect();
    series.sort_by_key(|(_, cells)| {
        std::cmp::Reverse(cells.iter().filter_map(|c| c.published()).sum::<u64>())
    });
    // Names for people (in the page's language) in place of the codes.
    let name = |v: &str| domain::disclosure::labels::name(dim, v, c.lang.code());
    let week_cells: Vec<(String, Cell)> = week_cells
        .into_iter()
        .map(|(l, cell)| (name(&l), cell))
        .collect();
    let series: Vec<(String, Vec<Cell>)> = series
        .into_iter()
        .map(|(l, cells)| (name(&l), cells))
        .collect();
    let title = c.dim(dim);
    Ok(Section {
        dim,
        week_svg: chart::bars(&format!("{title}: {}", c.t.overview_week), &week_cells),
        trend_svg: chart::lines(
            &format!("{title}: {}", c.t.overview_trend),
            weeks,
            &series[..series.len().min(MAX_SERIES)],
        ),
        week_rows: week_cells
            .iter()
            .map(|(l, cell)| (l.clone(), figure(*cell)))
            .collect(),
        trend_rows: series
            .iter()
            .map(|(l, cells)| (l.clone(), cells.iter().map(|c| figure(*c)).collect()))
            .collect(),
    })
}

pub(crate) async fn page(State(app): State<Shared>, who: Signed) -> Result<Response, WebError> {
    let weeks = last_weeks(chrono::Utc::now().date_naive(), WEEKS);
    let this = weeks.last().cloned();
    // Every query of the page on the blocking pool, in one go: each reads
    // the counts and writes the publication register.
    let (c, total, sections, views, weeks) = {
        let store = std::sync::Arc::clone(&app.deps.store);
        let this = this.clone();
        crate::storage::blocking(&store, move |_| {
            let c = who.chrome(Page::Overview);
            let total = app
                .recent
                .query(&app.deps.store, &["week"], &this_week(this.as_deref()))?
                .table
                .total();
            let mut sections = Vec::new();
            for dim in DIMENSIONS {
                sections.push(section(&app, &c, dim, &weeks)?);
            }
            let views = desks::views(&app, who.lang)?;
            Ok::<_, WebError>((c, total, sections, views, weeks))
        })
        .await?
    };
    render(&OverviewPage {
        week: this.unwrap_or_default(),
        total: figure(total),
        connected: views.iter().filter(|d| d.connected).count(),
        lagging: views.iter().filter(|d| d.lagging).count(),
        weeks,
        sections,
        c,
    })
}
