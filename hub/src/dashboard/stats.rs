//! The statistics page and its downloads. The page, the CSV and the XLSX
//! are three renderings of one `stats::query` table, so a download can
//! never hold a figure the page would have hidden.

use super::auth::Signed;
use super::{render, Chrome, Page, Shared, WebError};
use crate::stats::{self, figure, Period};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::disclosure::{Cell, ProtectedTable};

#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct StatsQuery {
    #[serde(default)]
    by: String,
    #[serde(default)]
    by2: String,
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

    fn period(&self) -> Period {
        let week = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        Period {
            from_week: week(&self.from),
            to_week: week(&self.to),
        }
    }

    /// The same selection as a query string, for the download links.
    fn encoded(&self) -> String {
        serde_urlencoded::to_string([
            ("by", self.dims()[0]),
            ("by2", self.dims().get(1).copied().unwrap_or("")),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ])
        .unwrap_or_default()
    }
}

async fn table(app: &Shared, q: &StatsQuery) -> Result<ProtectedTable, WebError> {
    let dims: Vec<String> = q.dims().into_iter().map(str::to_owned).collect();
    let period = q.period();
    Ok(crate::storage::blocking(&app.deps.store, move |store| {
        let dims: Vec<&str> = dims.iter().map(String::as_str).collect();
        stats::query(store, &dims, &period)
    })
    .await?)
}

pub(crate) struct DimOption {
    pub(crate) name: &'static str,
    pub(crate) first: bool,
    pub(crate) second: bool,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    c: Chrome,
    options: Vec<DimOption>,
    from: String,
    to: String,
    dims: Vec<String>,
    rows: Vec<(Vec<String>, String)>,
    total: String,
    merged: Vec<String>,
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
    let (rows, total, merged, error, shown) = match table(&app, &q).await {
        Ok(t) => (
            t.rows()
                .iter()
                .map(|(k, c)| (k.clone(), figure(*c)))
                .collect(),
            figure(t.total()),
            t.merged()
                .iter()
                .map(|m| format!("{}: {} ({})", m.dim, m.label, m.level))
                .collect(),
            None,
            t.dims().to_vec(),
        ),
        Err(e) => (
            Vec::new(),
            String::new(),
            Vec::new(),
            Some(e.to_string()),
            Vec::new(),
        ),
    };
    render(&StatsPage {
        c: who.chrome(Page::Stats),
        options,
        from: q.from.clone(),
        to: q.to.clone(),
        dims: shown,
        rows,
        total,
        merged,
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

fn file_name(t: &ProtectedTable, ext: &str) -> String {
    format!("rete-sportelli-{}.{ext}", t.dims().join("-"))
}

pub(crate) async fn csv(
    State(app): State<Shared>,
    _who: Signed,
    Query(q): Query<StatsQuery>,
) -> Result<Response, WebError> {
    let t = table(&app, &q).await?;
    let mut out = String::new();
    let header: Vec<String> = t
        .dims()
        .iter()
        .map(|d| csv_field(d))
        .chain(["count".to_string()])
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for (keys, cell) in t.rows() {
        let line: Vec<String> = keys
            .iter()
            .map(|k| csv_field(k))
            .chain([csv_field(&figure(*cell))])
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    let blanks = ",".repeat(t.dims().len().saturating_sub(1));
    out.push_str(&format!(
        "total{blanks},{}\n",
        csv_field(&figure(t.total()))
    ));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name(&t, "csv")),
            ),
        ],
        out,
    )
        .into_response())
}

pub(crate) async fn xlsx(
    State(app): State<Shared>,
    _who: Signed,
    Query(q): Query<StatsQuery>,
) -> Result<Response, WebError> {
    let t = table(&app, &q).await?;
    let bytes = workbook(&t)
        .map_err(|e| WebError::Internal(format!("cannot write the spreadsheet: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name(&t, "xlsx")),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn workbook(t: &ProtectedTable) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("statistiche")?;
    let count_col = t.dims().len() as u16;
    for (i, d) in t.dims().iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, d, &bold)?;
    }
    sheet.write_string_with_format(0, count_col, "count", &bold)?;
    let write_cell = |sheet: &mut rust_xlsxwriter::Worksheet, row: u32, cell: Cell| match cell {
        Cell::Published(n) => sheet.write_number(row, count_col, n as f64).map(|_| ()),
        hidden => sheet
            .write_string(row, count_col, figure(hidden))
            .map(|_| ()),
    };
    let mut row = 1u32;
    for (keys, cell) in t.rows() {
        for (i, k) in keys.iter().enumerate() {
            sheet.write_string(row, i as u16, k)?;
        }
        write_cell(sheet, row, *cell)?;
        row += 1;
    }
    sheet.write_string_with_format(row, 0, "total", &bold)?;
    write_cell(sheet, row, t.total())?;
    book.save_to_buffer()
}
