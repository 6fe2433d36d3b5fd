//! Published statistics: the counts kept on ingest, summed to the one or two
//! dimensions asked for and passed through small-cell protection
//! (`domain::disclosure`) before anything leaves the hub.
//!
//! [`query`] is the one way out for every publisher (CLI, coordinator API,
//! dashboard, exports). Tables are released on the calendar
//! (`disclosure::calendar`: week, month, quarter, ISO year, year-to-date);
//! each is protected as `disclosure::release` says, from the data of its
//! ISO year and the register entries of the periods it is computed from,
//! and registered durably before it is returned.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::storage::{StorageError, Store};
use domain::disclosure::{
    self, CalendarPeriod, CountTable, Detail, Loss, Options, ProtectedTable, ReleaseInput,
};

/// One publication at a time, so that every table is checked against all
/// those registered before it.
static PUBLISHING: Mutex<()> = Mutex::new(());

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Disclosure(#[from] disclosure::DisclosureError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a table counts over time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Period {
    /// No period given: the current ISO year so far.
    Current,
    /// A period of the release calendar.
    Calendar(CalendarPeriod),
    /// Any run of weeks, both ends included: only for tables without
    /// nationality or age band, which are published unchanged (the
    /// overview's twelve-week trends).
    Weeks { from: String, to: String },
}

impl Period {
    /// The period a caller asked for: `--period`, or `--from-week` and
    /// `--to-week` when they are exactly a calendar period, or nothing.
    pub fn from_args(
        period: Option<&str>,
        from_week: Option<&str>,
        to_week: Option<&str>,
    ) -> Result<Self, StatsError> {
        fn blank(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let (period, from, to) = (blank(period), blank(from_week), blank(to_week));
        match (period, from, to) {
            (None, None, None) => Ok(Self::Current),
            (Some(p), None, None) => CalendarPeriod::parse(p)
                .map(Self::Calendar)
                .map_err(|e| StatsError::Invalid(e.to_string())),
            (Some(_), _, _) => Err(StatsError::Invalid(
                "indica --period oppure --from-week e --to-week, non entrambi / \
                 give --period or --from-week and --to-week, not both"
                    .into(),
            )),
            (None, from, to) => {
                for w in [from, to].into_iter().flatten() {
                    if !domain::is_iso_week(w) {
                        return Err(StatsError::Invalid(format!(
                            "`{}` non è una settimana ISO come 2026-W48 / \
                             is not an ISO week such as 2026-W48",
                            w.chars().take(20).collect::<String>()
                        )));
                    }
                }
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(StatsError::Invalid(
                        "indica sia --from-week sia --to-week, o --period / \
                         give both --from-week and --to-week, or --period"
                            .into(),
                    ));
                };
                CalendarPeriod::matching(from, to)
                    .map(Self::Calendar)
                    .map_err(|nearest| not_calendar(from, to, &nearest))
            }
        }
    }

    /// The calendar period asked, with `Current` resolved on `today`.
    fn calendar(&self, today: chrono::NaiveDate) -> Option<CalendarPeriod> {
        match self {
            Self::Current => CalendarPeriod::of_week(&domain::iso_week(today))
                .map(|w| CalendarPeriod::YearToDate(w.year())),
            Self::Calendar(p) => Some(*p),
            Self::Weeks { .. } => None,
        }
    }
}

fn not_calendar(from: &str, to: &str, nearest: &[CalendarPeriod]) -> StatsError {
    let names: Vec<String> = nearest.iter().map(|p| p.describe()).collect();
    let names = if names.is_empty() {
        "—".to_owned()
    } else {
        names.join(", ")
    };
    StatsError::Invalid(format!(
        "le settimane {from}–{to} non sono un periodo del calendario di pubblicazione \
         (settimana, mese, trimestre, anno); i più vicini: {names} / \
         weeks {from} to {to} are not a release period (week, month, quarter, year); \
         nearest: {names}"
    ))
}

/// A published table with what the calendar and the protection say about
/// it.
#[derive(Debug, Clone)]
pub struct Published {
    pub table: ProtectedTable,
    /// The period's name (`2026-11`), `None` for a run of weeks.
    pub period: Option<String>,
    /// The first and last ISO week counted: an open period counts only
    /// the weeks (for a month) or months (for a quarter or year) that are
    /// over; `None` when none is.
    pub weeks: Option<(String, String)>,
    /// The period is still open: later records can change the figures.
    pub provisional: bool,
    pub detail: Detail,
    pub loss: Loss,
    /// The period above, offered when this table hides more than a fifth
    /// of its cells (week → month → quarter → year).
    pub coarser: Option<String>,
}

/// Above this share of hidden cells a table offers the period above it.
const OFFER_COARSER_ABOVE: f64 = 0.20;

impl Published {
    /// The JSON `hub stats --json` prints: the protected table's document
    /// (`dims`, `k`, `rows`, `totals`, `merged`) with the period, the
    /// recoding and the information loss beside it, and labels for people.
    pub fn to_json(&self) -> serde_json::Value {
        let mut doc = serde_json::to_value(&self.table).unwrap_or_default();
        if let Some(map) = doc.as_object_mut() {
            map.insert("period".into(), serde_json::json!(self.period));
            map.insert(
                "weeks".into(),
                match &self.weeks {
                    Some((a, b)) => serde_json::json!([a, b]),
                    None => serde_json::Value::Null,
                },
            );
            map.insert("provisional".into(), self.provisional.into());
            map.insert("recoded".into(), serde_json::json!(self.detail));
            map.insert("hidden_cells".into(), self.loss.hidden_cells.into());
            map.insert("cells".into(), self.loss.cells.into());
            map.insert(
                "hidden_visits".into(),
                serde_json::json!(self.loss.hidden_visits),
            );
            map.insert(
                "hidden_share".into(),
                serde_json::json!(self.loss.hidden_share),
            );
            map.insert("coarser_period".into(), serde_json::json!(self.coarser));
            map.insert("labels".into(), labels(&self.table));
        }
        doc
    }
}

/// `{"<dim>": {"<value>": {"it": .., "en": ..}}}` for every value of the
/// table that has a name for people.
fn labels(table: &ProtectedTable) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (i, dim) in table.dims().iter().enumerate() {
        let mut names = serde_json::Map::new();
        for (values, _) in table.rows() {
            let Some(v) = values.get(i) else { continue };
            if names.contains_key(v) {
                continue;
            }
            if let Some((it, en)) = disclosure::labels::label(dim, v) {
                names.insert(v.clone(), serde_json::json!({"it": it, "en": en}));
            }
        }
        out.insert(dim.clone(), names.into());
    }
    out.into()
}

/// The protected table over `by` for `period`, released on the calendar
/// and registered (see the module docs).
pub fn query(store: &dyn Store, by: &[&str], period: &Period) -> Result<Published, StatsError> {
    query_on(store, by, period, chrono::Utc::now().date_naive())
}

/// [`query`] as of `today`, which decides the current year and which
/// periods are still open.
pub fn query_on(
    store: &dyn Store,
    by: &[&str],
    period: &Period,
    today: chrono::NaiveDate,
) -> Result<Published, StatsError> {
    if by.is_empty() || by.len() > 2 {
        return Err(StatsError::Invalid(
            "ask for one or two dimensions, e.g. --by procedure or --by nationality,outcome".into(),
        ));
    }
    // Names are checked here so that a wrong one gets its own reason.
    let asked = CountTable::new(by.iter().copied())?;
    // One register entry per pair of dimensions, whichever order they are
    // asked in: `outcome,nationality` is `nationality,outcome` transposed.
    let mut canonical: Vec<&str> = by.to_vec();
    canonical.sort_unstable();
    let swapped = canonical.as_slice() != by;
    let _one_at_a_time = PUBLISHING.lock().unwrap_or_else(|e| e.into_inner());
    let calendar = period.calendar(today);
    // Only the weeks the answer reads: a calendar period's year, or the run
    // of weeks asked, not every week held.
    let span = match (calendar, period) {
        (Some(c), _) => c.year_span(),
        (None, Period::Weeks { from, to }) => (from.clone(), to.clone()),
        (None, _) => return Err(StatsError::Invalid("no period".into())),
    };
    let cells = count_cells(store, &canonical, &span)?;

    let Some(calendar) = calendar else {
        let Period::Weeks { from, to } = period else {
            return Err(StatsError::Invalid("no period".into()));
        };
        if asked.is_sensitive() {
            return Err(not_calendar(from, to, &[]));
        }
        let table = CountTable::from_cells(
            canonical.iter().copied(),
            cells
                .iter()
                .filter(|(v, _)| v.first().is_some_and(|w| w >= from && w <= to))
                .map(|(v, n)| (v.get(1..).unwrap_or_default().to_vec(), *n)),
        )?;
        let table = disclosure::protect(&table, Options::default())?;
        let loss = Loss {
            hidden_cells: 0,
            cells: table.rows().len(),
            hidden_visits: Some(0),
            hidden_share: Some(0.0),
        };
        return Ok(Published {
            table: if swapped { table.transposed() } else { table },
            period: None,
            weeks: Some((from.clone(), to.clone())),
            provisional: to.as_str() >= domain::iso_week(today).as_str(),
            detail: Detail::Asked,
            loss,
            coarser: None,
        });
    };

    let register_dims: Vec<String> = canonical.iter().map(|d| (*d).to_owned()).collect();
    let mine = RegisterParts::read(store, &register_dims, calendar)?;
    let current_week = domain::iso_week(today);
    let open = calendar.is_open(today);
    // The margins of a two-way table print the one-way tables over its
    // sensitive dimensions: their figures and patterns come first.
    let mut one_way = Vec::new();
    if canonical.len() == 2 {
        for d in canonical
            .iter()
            .filter(|d| disclosure::SENSITIVE_DIMENSIONS.contains(d))
        {
            let dims = vec![(*d).to_owned()];
            let cells = count_cells(store, &[d], &span)?;
            let register = RegisterParts::read(store, &dims, calendar)?;
            one_way.push((dims, cells, register));
        }
    }
    let margins: Vec<ReleaseInput<'_>> = one_way
        .iter()
        .map(|(dims, cells, register)| register.input(dims, cells, calendar, &current_week, &[]))
        .collect();
    let released = disclosure::release(&mine.input(
        &register_dims,
        &cells,
        calendar,
        &current_week,
        &margins,
    ))?;
    for ((dims, _, register), detail) in one_way.iter().zip(&released.margin_details) {
        // The one-way table's recoding is fixed as if it had been asked,
        // so that it is the same table when it is.
        if register.fixed.is_none() {
            store.set_release_detail(dims, calendar.year(), detail.name())?;
        }
    }
    let fixed = mine.fixed;
    if fixed.is_none() {
        store.set_release_detail(&register_dims, calendar.year(), released.detail.name())?;
    }
    // A table without nationality or age band is published unchanged and
    // constrains nothing: registering it would only write, at every view
    // of an open period whose counts moved, what the counts already prove.
    if let Some(entry) = released.entry.as_ref().filter(|_| asked.is_sensitive()) {
        store.add_publication(entry)?;
    }
    Ok(Published {
        table: if swapped {
            released.table.transposed()
        } else {
            released.table
        },
        period: Some(calendar.to_string()),
        weeks: released.counted,
        provisional: open,
        detail: released.detail,
        coarser: (released.loss.hidden_cells as f64
            > OFFER_COARSER_ABOVE * released.loss.cells as f64)
            .then(|| calendar.canonical().parent().map(|p| p.to_string()))
            .flatten(),
        loss: released.loss,
    })
}

/// The count cells over `canonical` (at most two dimensions, sorted): the
/// ISO week first, then one value per dimension.
fn count_cells(
    store: &dyn Store,
    canonical: &[&str],
    (from, to): &(String, String),
) -> Result<Vec<(Vec<String>, u64)>, StatsError> {
    // The store keeps counts by week and two dimensions at most; `family`
    // is derived from `procedure`.
    let mut dims: Vec<&str> = Vec::new();
    for d in canonical {
        let d = if *d == disclosure::FAMILY {
            "procedure"
        } else {
            d
        };
        if d != "week" && !dims.contains(&d) {
            dims.push(d);
        }
    }
    let mut fields: Vec<&str> = vec!["week"];
    fields.extend(&dims);
    fields.push(disclosure::FAMILY);
    let procedure_at = fields.iter().position(|d| *d == "procedure");
    let at: Vec<usize> = canonical
        .iter()
        .filter_map(|d| fields.iter().position(|f| f == d))
        .collect();
    let cells: Vec<(Vec<String>, u64)> = store
        .counts_between(&dims, from, to)?
        .into_iter()
        .map(|c| {
            let mut values = c.values;
            let family = procedure_at
                .and_then(|i| values.get(i))
                .map(|p| domain::catalogue::family_of(p).to_string())
                .unwrap_or_default();
            values.push(family);
            // The week first, then the asked dimensions in canonical order.
            let mut key = Vec::with_capacity(at.len() + 1);
            key.push(values.first().cloned().unwrap_or_default());
            key.extend(at.iter().filter_map(|&i| values.get(i).cloned()));
            (key, c.count)
        })
        .collect();

    Ok(cells)
}

/// What the register holds for one table's release: the entries of the
/// periods it is computed from and the year's recoding.
struct RegisterParts {
    earlier: BTreeMap<String, Vec<disclosure::Publication>>,
    legacy: Vec<disclosure::Publication>,
    fixed: Option<Detail>,
}

impl RegisterParts {
    fn read(
        store: &dyn Store,
        register_dims: &[String],
        calendar: CalendarPeriod,
    ) -> Result<Self, StatsError> {
        // Only the register entries of the periods the release is computed
        // from: the chain from the year down and each level's siblings.
        let mut earlier = BTreeMap::new();
        let mut periods = vec![CalendarPeriod::Year(calendar.year())];
        for level in calendar.canonical().chain() {
            if let Some(parent) = level.parent() {
                periods.extend(parent.children());
            }
        }
        for p in periods {
            let name = p.to_string();
            if let std::collections::btree_map::Entry::Vacant(slot) = earlier.entry(name) {
                let entries = store.publications(register_dims, Some(slot.key()))?;
                slot.insert(entries);
            }
        }
        let legacy = store.publications(register_dims, None)?;
        // The year's first release fixes its recoding, so that every later
        // table of the year lies on the same grid as the earlier ones.
        let fixed = store
            .release_detail(register_dims, calendar.year())?
            .and_then(|d| Detail::from_name(&d));
        Ok(Self {
            earlier,
            legacy,
            fixed,
        })
    }

    fn input<'a>(
        &'a self,
        dims: &'a [String],
        cells: &'a [(Vec<String>, u64)],
        period: CalendarPeriod,
        current_week: &'a str,
        margins: &'a [ReleaseInput<'a>],
    ) -> ReleaseInput<'a> {
        ReleaseInput {
            dims,
            cells,
            period,
            earlier: &self.earlier,
            legacy: &self.legacy,
            current_week,
            recode: true,
            detail: self.fixed,
            options: Options::default(),
            margins,
        }
    }
}

/// The published figure as text: a number, `<5` or `x`.
pub fn figure(cell: disclosure::Cell) -> String {
    match cell {
        disclosure::Cell::Published(n) => n.to_string(),
        disclosure::Cell::Suppressed => disclosure::BELOW_K.to_string(),
        disclosure::Cell::Withheld => disclosure::WITHHELD.to_string(),
    }
}
