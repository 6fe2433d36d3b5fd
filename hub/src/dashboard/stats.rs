//! The statistics page and its downloads. The page, the CSV and the XLSX
//! are three renderings of one `stats::query` table, so a download can
//! never hold a figure the page would have hidden. Values are shown by
//! their names (codes stay in their own column of the downloads), the page
//! as a cross-tab with its totals, and each rendering says the period, the
//! recoding and the information loss.

use super::auth::Signed;
use super::i18n::{Lang, Texts};
use super::{render, Chrome, Page, Shared, WebError};
use crate::stats::{self, figure, Period, Published};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::disclosure::{labels, Cell, Detail};

#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct StatsQuery {
    #[serde(default)]
    by: String,
    #[serde(default)]
    by2: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl StatsQuery {
    fn dims(&self) -> Vec<&str> {
        let first = if self.by.is_empty() {
            "family"
        } else {
            self.by.as_str()
        };
        let mut dims = vec![first];
        if !self.by2.is_empty() && self.by2 != first {
            dims.push(self.by2.as_str());
        }
        dims
    }

    fn period(&self) -> Result<Period, stats::StatsError> {
        Period::from_args(Some(&self.period), Some(&self.from), Some(&self.to))
    }

    /// The same selection as a query string, for the download links.
    fn encoded(&self) -> String {
        serde_urlencoded::to_string([
            ("by", self.dims()[0]),
            ("by2", self.dims().get(1).copied().unwrap_or("")),
            ("period", self.period.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ])
        .unwrap_or_default()
    }
}

async fn table(app: &Shared, q: &StatsQuery) -> Result<Published, WebError> {
    let dims: Vec<String> = q.dims().into_iter().map(str::to_owned).collect();
    let period = q.period()?;
    let shared = std::sync::Arc::clone(app);
    Ok(crate::storage::blocking(&app.deps.store, move |_| {
        let dims: Vec<&str> = dims.iter().map(String::as_str).collect();
        shared.recent.query(&shared.deps.store, &dims, &period)
    })
    .await?)
}

pub(crate) struct DimOption {
    pub(crate) name: &'static str,
    pub(crate) first: bool,
    pub(crate) second: bool,
}

/// One row of the cross-tab: the value's name, its code, the figures
/// across the columns and the row's total.
pub(crate) struct CrossRow {
    pub(crate) name: String,
    pub(crate) code: String,
    pub(crate) figures: Vec<String>,
    pub(crate) total: String,
}

/// The table as a person reads it: rows × columns with their totals (a
/// one-way table has one column, the count).
pub(crate) struct CrossTab {
    pub(crate) row_dim: String,
    pub(crate) col_dim: Option<String>,
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<CrossRow>,
    pub(crate) column_totals: Vec<String>,
    pub(crate) total: String,
}

fn cross_tab(p: &Published, lang: Lang) -> CrossTab {
    let t = &p.table;
    let dims = t.dims();
    let row_dim = dims.first().cloned().unwrap_or_default();
    let name = |dim: &str, v: &str| labels::name(dim, v, lang.code());
    let Some(col_dim) = dims.get(1).cloned() else {
        return CrossTab {
            rows: t
                .rows()
                .iter()
                .map(|(k, c)| {
                    let code = k.first().cloned().unwrap_or_default();
                    CrossRow {
                        name: name(&row_dim, &code),
                        code,
                        figures: Vec::new(),
                        total: figure(*c),
                    }
                })
                .collect(),
            row_dim,
            col_dim: None,
            columns: Vec::new(),
            column_totals: Vec::new(),
            total: figure(t.total()),
        };
    };
    let cols: Vec<(String, Cell)> = t.margin(1).to_vec();
    let rows = t
        .margin(0)
        .iter()
        .map(|(code, total)| CrossRow {
            name: name(&row_dim, code),
            code: code.clone(),
            figures: cols
                .iter()
                .map(|(col, _)| {
                    figure(
                        t.cell(&[code.as_str(), col.as_str()])
                            .unwrap_or(Cell::Published(0)),
                    )
                })
                .collect(),
            total: figure(*total),
        })
        .collect();
    CrossTab {
        columns: cols.iter().map(|(c, _)| name(&col_dim, c)).collect(),
        column_totals: cols.iter().map(|(_, c)| figure(*c)).collect(),
        rows,
        row_dim,
        col_dim: Some(col_dim),
        total: figure(t.total()),
    }
}

/// What the page, the CSV note rows and the XLSX note sheet say beside the
/// figures: `(label, value)` pairs in the page's language.
fn notes(p: &Published, t: &Texts) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(period) = &p.period {
        let weeks = p
            .weeks
            .as_ref()
            .map(|(a, b)| format!(" ({a}–{b})"))
            .unwrap_or_default();
        out.push((t.stats_period.to_owned(), format!("{period}{weeks}")));
    }
    if p.provisional {
        out.push((t.stats_period.to_owned(), t.stats_provisional.to_owned()));
    }
    out.push((
        t.stats_hidden_cells.to_owned(),
        format!("{} / {}", p.loss.hidden_cells, p.loss.cells),
    ));
    out.push((
        t.stats_hidden_share.to_owned(),
        match (p.loss.hidden_visits, p.loss.hidden_share) {
            (Some(v), Some(s)) => format!("{v} ({:.1}%)", s * 100.0),
            _ => t.stats_hidden_share_unknown.to_owned(),
        },
    ));
    let recoded = match p.detail {
        Detail::Asked => None,
        Detail::SubRegion => Some(t.stats_recoded_sub_region),
        Detail::Region => Some(t.stats_recoded_region),
    };
    if let Some(r) = recoded {
        out.push((t.stats_recoded.to_owned(), r.to_owned()));
    }
    if let Some(coarser) = &p.coarser {
        out.push((t.stats_coarser.to_owned(), coarser.clone()));
    }
    for m in p.table.merged() {
        out.push((
            t.stats_merged.to_owned(),
            format!("{}: {} ({})", m.dim, m.label, m.level),
        ));
    }
    out
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    c: Chrome,
    options: Vec<DimOption>,
    period: String,
    from: String,
    to: String,
    tab: Option<CrossTab>,
    notes: Vec<(String, String)>,
    provisional: bool,
    query: String,
    error: Option<String>,
}

fn all_dimensions() -> Vec<&'static str> {
    let mut all = vec![domain::disclosure::FAMILY];
    all.extend(domain::disclosure::COUNTED_FIELDS);
    all
}

pub(crate) async fn page(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<StatsQuery>,
) -> Result<Response, WebError> {
    let dims = q.dims();
    let options = all_dimensions()
        .into_iter()
        .map(|name| DimOption {
            name,
            first: dims.first() == Some(&name),
            second: dims.get(1) == Some(&name),
        })
        .collect();
    let c = who.chrome(Page::Stats);
    let (tab, notes, provisional, error) = match table(&app, &q).await {
        Ok(p) => (
            Some(cross_tab(&p, c.lang)),
            notes(&p, c.t),
            p.provisional,
            None,
        ),
        Err(e) => (None, Vec::new(), false, Some(e.to_string())),
    };
    render(&StatsPage {
        c,
        options,
        period: q.period.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        tab,
        notes,
        provisional,
        query: q.encoded(),
        error,
    })
}

/// A CSV field, quoted when needed; a leading `= + - @` is defused so a
/// spreadsheet never runs a label as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn file_name(p: &Published, ext: &str) -> String {
    let period = p.period.as_deref().unwrap_or("weeks");
    format!("rete-sportelli-{}-{period}.{ext}", p.table.dims().join("-"))
}

/// The columns of a download, one line per cell: the values' names, the
/// count, then the codes (for machines), e.g.
/// `Cittadinanza,Esito,Numero,nationality,outcome`.
fn header(p: &Published, c: &Texts, lang: Lang) -> Vec<String> {
    let chrome = Chrome::new(lang, String::new(), String::new(), None);
    let dims = p.table.dims();
    dims.iter()
        .map(|d| chrome.dim(d).to_owned())
        .chain([c.count.to_owned()])
        .chain(dims.iter().cloned())
        .collect()
}

/// Every line of a download: one per cell, then the total; each line the
/// names, the figure, the codes.
fn lines(p: &Published, lang: Lang) -> Vec<(Vec<String>, Cell, Vec<String>)> {
    let dims = p.table.dims();
    let mut out: Vec<(Vec<String>, Cell, Vec<String>)> = p
        .table
        .rows()
        .iter()
        .map(|(keys, cell)| {
            let names = dims
                .iter()
                .zip(keys)
                .map(|(d, k)| labels::name(d, k, lang.code()))
                .collect();
            (names, *cell, keys.clone())
        })
        .collect();
    let mut total = vec![String::new(); dims.len()];
    if let Some(first) = total.first_mut() {
        *first = lang.texts().total.to_owned();
    }
    let mut codes = vec![String::new(); dims.len()];
    if let Some(first) = codes.first_mut() {
        *first = "total".to_owned();
    }
    out.push((total, p.table.total(), codes));
    out
}

pub(crate) async fn csv(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<StatsQuery>,
) -> Result<Response, WebError> {
    let p = table(&app, &q).await?;
    let t = who.lang.texts();
    let mut out = String::new();
    let head: Vec<String> = header(&p, t, who.lang)
        .iter()
        .map(|h| csv_field(h))
        .collect();
    out.push_str(&head.join(","));
    out.push('\n');
    for (names, cell, codes) in lines(&p, who.lang) {
        let line: Vec<String> = names
            .iter()
            .map(|k| csv_field(k))
            .chain([csv_field(&figure(cell))])
            .chain(codes.iter().map(|k| csv_field(k)))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    // The note rows: the period, the information loss, what was merged.
    for (label, value) in notes(&p, t) {
        out.push_str(&format!(
            "{},{},{}\n",
            csv_field(t.stats_note),
            csv_field(&label),
            csv_field(&value)
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name(&p, "csv")),
            ),
        ],
        out,
    )
        .into_response())
}

pub(crate) async fn xlsx(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<StatsQuery>,
) -> Result<Response, WebError> {
    let p = table(&app, &q).await?;
    let bytes = workbook(&p, who.lang)
        .map_err(|e| WebError::Internal(format!("cannot write the spreadsheet: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name(&p, "xlsx")),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The table on its first sheet (names, count, codes, as the CSV), and a
/// second sheet with the notes.
fn workbook(p: &Published, lang: Lang) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let t = lang.texts();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("statistiche")?;
    let dims = p.table.dims().len() as u16;
    for (i, h) in header(p, t, lang).iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, h, &bold)?;
    }
    for (row, (names, cell, codes)) in (1u32..).zip(lines(p, lang)) {
        for (i, k) in names.iter().enumerate() {
            sheet.write_string(row, i as u16, k)?;
        }
        match cell {
            Cell::Published(n) => sheet.write_number(row, dims, n as f64)?,
            hidden => sheet.write_string(row, dims, figure(hidden))?,
        };
        for (i, k) in codes.iter().enumerate() {
            sheet.write_string(row, dims + 1 + i as u16, k)?;
        }
    }
    let note = book.add_worksheet();
    note.set_name(t.stats_note)?;
    for (i, (label, value)) in notes(p, t).iter().enumerate() {
        note.write_string_with_format(i as u32, 0, label, &bold)?;
        note.write_string(i as u32, 1, value)?;
    }
    book.save_to_buffer()
}
