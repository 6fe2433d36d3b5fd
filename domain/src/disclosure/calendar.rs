//! The release calendar: the periods the hub publishes figures for, built
//! from ISO weeks because a record holds only its week.
//!
//! A month is the ISO weeks whose Thursday falls in it (the day that fixes
//! a week's ISO year, so months nest in ISO years exactly); a quarter is
//! three such months; the year is the ISO year. Every week lies in exactly
//! one month, every month in one quarter, every quarter in one year, so the
//! periods form a tree, which the protection walks from the year down.
//! Year-to-date is the year so far: no record is dated after the week it is
//! counted in, so it holds the same records as the year and is published
//! as the year's table.

use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};

/// One period of the release calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CalendarPeriod {
    Week { year: i32, week: u32 },
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
    Year(i32),
    YearToDate(i32),
}

/// Why a period name was refused; the message names the accepted shapes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "periodo `{0}` non valido: 2026-W47, 2026-11, 2026-Q4, 2026 o 2026-YTD / \
     invalid period `{0}`: use 2026-W47, 2026-11, 2026-Q4, 2026 or 2026-YTD"
)]
pub struct PeriodError(pub String);

fn week_label(year: i32, week: u32) -> String {
    format!("{year:04}-W{week:02}")
}

fn weeks_in(year: i32) -> u32 {
    // 28 December is always in the last ISO week of its year.
    NaiveDate::from_ymd_opt(year, 12, 28).map_or(52, |d| d.iso_week().week())
}

/// The month (1..=12) of an ISO week: the month of its Thursday.
fn month_of(year: i32, week: u32) -> Option<u32> {
    NaiveDate::from_isoywd_opt(year, week, Weekday::Thu).map(|d| d.month())
}

impl CalendarPeriod {
    /// Parses `2026-W47`, `2026-11`, `2026-Q4`, `2026` or `2026-YTD`.
    pub fn parse(s: &str) -> Result<Self, PeriodError> {
        let err = || PeriodError(s.chars().take(40).collect());
        let s = s.trim();
        let (year, rest) = match s.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (s, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year: i32 = year.parse().map_err(|_| err())?;
        if !(1900..=2999).contains(&year) {
            return Err(err());
        }
        let number = |t: &str| -> Result<u32, PeriodError> {
            if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            t.parse().map_err(|_| err())
        };
        let period = match rest {
            None => Self::Year(year),
            Some(r) if r.eq_ignore_ascii_case("YTD") => Self::YearToDate(year),
            Some(r) if r.starts_with(['W', 'w']) => Self::Week {
                year,
                week: number(&r[1..])?,
            },
            Some(r) if r.starts_with(['Q', 'q']) => Self::Quarter {
                year,
                quarter: number(&r[1..])?,
            },
            Some(r) => Self::Month {
                year,
                month: number(r)?,
            },
        };
        let valid = match period {
            Self::Week { year, week } => (1..=weeks_in(year)).contains(&week),
            Self::Month { month, .. } => (1..=12).contains(&month),
            Self::Quarter { quarter, .. } => (1..=4).contains(&quarter),
            Self::Year(_) | Self::YearToDate(_) => true,
        };
        if valid {
            Ok(period)
        } else {
            Err(err())
        }
    }

    /// The period of one ISO week string (`2026-W47`).
    pub fn of_week(week: &str) -> Option<Self> {
        if !crate::is_iso_week(week) {
            return None;
        }
        Some(Self::Week {
            year: week.get(0..4)?.parse().ok()?,
            week: week.get(6..8)?.parse().ok()?,
        })
    }

    pub fn year(self) -> i32 {
        match self {
            Self::Week { year, .. }
            | Self::Month { year, .. }
            | Self::Quarter { year, .. }
            | Self::Year(year)
            | Self::YearToDate(year) => year,
        }
    }

    /// The period whose table is published for this one: year-to-date is
    /// the year's table.
    pub fn canonical(self) -> Self {
        match self {
            Self::YearToDate(y) => Self::Year(y),
            other => other,
        }
    }

    /// The first and last ISO week of the period's year: every count a
    /// release of the period reads lies between them.
    pub fn year_span(self) -> (String, String) {
        let year = self.year();
        (week_label(year, 1), week_label(year, weeks_in(year)))
    }

    /// Every ISO week of the period, in order.
    pub fn weeks(self) -> Vec<String> {
        let year = self.year();
        (1..=weeks_in(year))
            .filter(|&w| {
                let month = month_of(year, w).unwrap_or(0);
                match self.canonical() {
                    Self::Week { week, .. } => w == week,
                    Self::Month { month: m, .. } => month == m,
                    Self::Quarter { quarter, .. } => month.div_ceil(3) == quarter,
                    Self::Year(_) | Self::YearToDate(_) => true,
                }
            })
            .map(|w| week_label(year, w))
            .collect()
    }

    /// Whether the ISO week `week` lies in the period.
    pub fn contains_week(self, week: &str) -> bool {
        let Some(Self::Week { year, week: w }) = Self::of_week(week) else {
            return false;
        };
        if year != self.year() {
            return false;
        }
        let month = month_of(year, w).unwrap_or(0);
        match self.canonical() {
            Self::Week { week, .. } => w == week,
            Self::Month { month: m, .. } => month == m,
            Self::Quarter { quarter, .. } => month.div_ceil(3) == quarter,
            Self::Year(_) | Self::YearToDate(_) => true,
        }
    }

    /// The period directly above: week → month → quarter → year.
    pub fn parent(self) -> Option<Self> {
        match self.canonical() {
            Self::Week { year, week } => Some(Self::Month {
                year,
                month: month_of(year, week)?,
            }),
            Self::Month { year, month } => Some(Self::Quarter {
                year,
                quarter: month.div_ceil(3),
            }),
            Self::Quarter { year, .. } => Some(Self::Year(year)),
            Self::Year(_) | Self::YearToDate(_) => None,
        }
    }

    /// The periods directly below, in order.
    pub fn children(self) -> Vec<Self> {
        match self.canonical() {
            Self::Year(year) | Self::YearToDate(year) => (1..=4)
                .map(|quarter| Self::Quarter { year, quarter })
                .collect(),
            Self::Quarter { year, quarter } => (quarter * 3 - 2..=quarter * 3)
                .map(|month| Self::Month { year, month })
                .collect(),
            Self::Month { .. } => self
                .weeks()
                .iter()
                .filter_map(|w| Self::of_week(w))
                .collect(),
            Self::Week { .. } => Vec::new(),
        }
    }

    /// The chain from the ISO year down to this period (itself last).
    pub fn chain(self) -> Vec<Self> {
        let mut chain = vec![self.canonical()];
        while let Some(up) = chain.last().and_then(|p| p.parent()) {
            chain.push(up);
        }
        chain.reverse();
        chain
    }

    /// Whether the period is still open on `today`: its last week has not
    /// ended, so later records can still fall in it.
    pub fn is_open(self, today: NaiveDate) -> bool {
        let current = crate::iso_week(today);
        self.weeks().last().is_some_and(|last| *last >= current)
    }

    /// The calendar period that is exactly the weeks `from..=to`, or the
    /// nearest ones: the smallest period holding both ends, and the largest
    /// periods inside the range.
    pub fn matching(from: &str, to: &str) -> Result<Self, Vec<Self>> {
        let (Some(first), Some(last)) = (Self::of_week(from), Self::of_week(to)) else {
            return Err(Vec::new());
        };
        let candidates = |year: i32| {
            let mut all = vec![Self::Year(year)];
            all.extend((1..=4).map(|quarter| Self::Quarter { year, quarter }));
            all.extend((1..=12).map(|month| Self::Month { year, month }));
            all.extend((1..=weeks_in(year)).map(|week| Self::Week { year, week }));
            all
        };
        let mut all = candidates(first.year());
        if last.year() != first.year() {
            all.extend(candidates(last.year()));
        }
        if let Some(exact) = all.iter().find(|p| {
            let weeks = p.weeks();
            weeks.first().map(String::as_str) == Some(from)
                && weeks.last().map(String::as_str) == Some(to)
        }) {
            return Ok(*exact);
        }
        let mut nearest = Vec::new();
        // The smallest period holding the whole range (none across years).
        if let Some(holding) = all
            .iter()
            .filter(|p| p.contains_week(from) && p.contains_week(to))
            .min_by_key(|p| p.weeks().len())
        {
            nearest.push(*holding);
        }
        // The largest periods inside it, longest first, then earliest.
        let mut inside: Vec<(usize, Self)> = all
            .iter()
            .filter(|p| {
                let weeks = p.weeks();
                weeks.first().is_some_and(|w| w.as_str() >= from)
                    && weeks.last().is_some_and(|w| w.as_str() <= to)
            })
            .map(|p| (p.weeks().len(), *p))
            .collect();
        inside.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        nearest.extend(inside.into_iter().take(2).map(|(_, p)| p));
        Err(nearest)
    }

    /// `2026-W47 (…)`-style description for messages: the name and its weeks.
    pub fn describe(self) -> String {
        let weeks = self.weeks();
        match (weeks.first(), weeks.last()) {
            (Some(a), Some(b)) if a != b => format!("{self} ({a}–{b})"),
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for CalendarPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Week { year, week } => write!(f, "{}", week_label(*year, *week)),
            Self::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Self::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Self::Year(year) => write!(f, "{year:04}"),
            Self::YearToDate(year) => write!(f, "{year:04}-YTD"),
        }
    }
}

impl std::str::FromStr for CalendarPeriod {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
