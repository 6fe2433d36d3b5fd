//! Which weeks a table counts at a given week, and how periods nest while
//! some are still open (see "Open periods" in `release`).

use super::super::calendar::CalendarPeriod;
use super::super::{CountTable, DisclosureError};

/// What the calendar counts at `current_week`: which periods are over, and
/// the weeks a period's table holds.
pub(super) struct Clock<'a> {
    pub(super) current_week: &'a str,
}

impl Clock<'_> {
    pub(super) fn closed(&self, p: CalendarPeriod) -> bool {
        p.weeks()
            .last()
            .is_some_and(|w| w.as_str() < self.current_week)
    }

    /// The weeks a period's table counts: all of them once it is over.
    /// Before that, a month counts its weeks that are over, and a quarter
    /// or a year its months that are over; the current week is counted by
    /// no table until it ends. So an open month is the sum of its closed
    /// weeks and is in no larger table, and an open quarter or year is the
    /// sum of closed months: no small open period is ever added into a
    /// family of closed ones (see "Open periods" above).
    pub(super) fn counted(&self, p: CalendarPeriod) -> Vec<String> {
        if self.closed(p) {
            return p.weeks();
        }
        match p.canonical() {
            CalendarPeriod::Week { .. } => Vec::new(),
            CalendarPeriod::Month { .. } => p
                .weeks()
                .into_iter()
                .filter(|w| w.as_str() < self.current_week)
                .collect(),
            other => other
                .children()
                .into_iter()
                .flat_map(|c| match c {
                    CalendarPeriod::Month { .. } => vec![c],
                    quarter => quarter.children(),
                })
                .filter(|m| self.closed(*m))
                .flat_map(CalendarPeriod::weeks)
                .collect(),
        }
    }

    /// The chain the period is protected down: from the ISO year, or from
    /// its month while that month is open (an open month is in no larger
    /// table, so it is a root of its own).
    pub(super) fn chain(&self, p: CalendarPeriod) -> Vec<CalendarPeriod> {
        let chain = p.canonical().chain();
        match chain
            .iter()
            .position(|c| matches!(c, CalendarPeriod::Month { .. }) && !self.closed(*c))
        {
            Some(i) => chain.get(i..).map(<[_]>::to_vec).unwrap_or_default(),
            None => chain,
        }
    }

    /// The children of `parent` whose tables add up to the parent's.
    pub(super) fn family(&self, parent: CalendarPeriod) -> Vec<CalendarPeriod> {
        parent
            .children()
            .into_iter()
            .filter(|c| match c {
                // An open month is no part of its quarter's table.
                CalendarPeriod::Month { .. } => self.closed(*c),
                CalendarPeriod::Week { .. } => self.closed(*c),
                _ => true,
            })
            .collect()
    }
}

/// The table over `dims` of the count cells whose week is in `weeks`.
pub(super) fn table_of_weeks(
    dims: &[String],
    cells: &[(Vec<String>, u64)],
    weeks: &[String],
) -> Result<CountTable, DisclosureError> {
    let mut table = CountTable::new(dims.iter().cloned())?;
    for (values, n) in cells {
        let Some((week, rest)) = values.split_first() else {
            continue;
        };
        if weeks.binary_search(week).is_ok() {
            table.add(rest.to_vec(), *n)?;
        }
    }
    Ok(table)
}
