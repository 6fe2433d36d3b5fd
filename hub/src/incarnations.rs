//! Which incarnation of its outbox a desk connects with (`Hello.incarnation`),
//! and what the hub holds of it.
//!
//! The hub never decides that a desk must start again: it only registers
//! each incarnation it is told of and notes when a desk comes back holding
//! less of one than the hub had (a folder restored from an older copy). The
//! desk, told by `Welcome.last_seq` that the hub holds more than its outbox,
//! starts a new incarnation itself; what it sends again is caught by the id
//! dedup.

use crate::storage::{
    incarnation_numbers, DeskProgress, Incarnation, OlderState, StorageError, Store,
};

/// What a desk's `Hello` joined.
#[derive(Debug)]
pub struct Joined {
    pub incarnation: Incarnation,
    /// What the hub holds of it, on disk.
    pub progress: DeskProgress,
    /// A new incarnation after the desk's first.
    pub started: bool,
    /// The desk came back holding less of it than the hub had.
    pub older_state: bool,
    /// Records this join learnt were lost (`Incarnation::lost` of a newly
    /// registered incarnation), for the metrics.
    pub newly_lost: u64,
}

/// The incarnation `id` of `desk_id`, registered if it is new, and the
/// progress the hub holds of it on disk.
pub fn join(
    store: &dyn Store,
    desk_id: &str,
    id: &str,
    outbox_last_seq: u64,
    records_lost: u64,
    now: &str,
) -> Result<Joined, StorageError> {
    let mut started = false;
    let mut newly_lost = 0;
    let mut list = store.incarnations(desk_id)?;
    let at = match list.iter().position(|i| i.id == id) {
        Some(at) => at,
        None => {
            // A desk's first incarnation takes the history kept before
            // incarnations existed, if any.
            let number = list.iter().map(|i| i.number + 1).max().unwrap_or(0);
            list.push(Incarnation {
                id: id.to_owned(),
                number,
                started_at: now.to_owned(),
                older_state: None,
                lost: records_lost,
            });
            store.put_incarnations(desk_id, &list)?;
            started = number > 0;
            if started {
                tracing::warn!(desk_id, incarnation = %id, number, "desk started a new incarnation (new or restored data folder)");
            }
            newly_lost = records_lost;
            if records_lost > 0 {
                tracing::error!(desk_id, incarnation = %id, records_lost,
                    "records acknowledged to the desk are no longer held here and the desk no longer keeps them (hub restored from an older backup?)");
            }
            list.len() - 1
        }
    };
    let progress = store.progress(desk_id, list[at].number)?;
    let older_state = outbox_last_seq < progress.last_seq;
    if older_state {
        tracing::warn!(desk_id, incarnation = %id, hub_held = progress.last_seq, desk_held = outbox_last_seq,
            "desk came back holding less than the hub had of its incarnation (restored from an older copy?)");
        list[at].older_state = Some(OlderState {
            at: now.to_owned(),
            hub_held: progress.last_seq,
            desk_held: outbox_last_seq,
        });
        store.put_incarnations(desk_id, &list)?;
    }
    Ok(Joined {
        incarnation: list.swap_remove(at),
        progress,
        started,
        older_state,
        newly_lost,
    })
}

/// What `hub desks` shows of a desk's incarnations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The newest incarnation's id.
    pub current: String,
    pub count: u64,
    /// Records and refusals over every incarnation; `last_seq` of the newest.
    pub progress: DeskProgress,
    /// The latest return with an older state, of any incarnation.
    pub older_state: Option<OlderState>,
    /// Records lost over every incarnation (`Incarnation::lost`).
    pub records_lost: u64,
}

pub fn summary(store: &dyn Store, desk_id: &str) -> Result<Summary, StorageError> {
    summaries(store, &[desk_id])?
        .pop()
        .ok_or_else(|| StorageError::Corrupt("no summary read".into()))
}

/// [`summary`] of several desks, their progress read in one go
/// ([`Store::progress_of`]).
pub fn summaries(store: &dyn Store, desk_ids: &[&str]) -> Result<Vec<Summary>, StorageError> {
    let lists = desk_ids
        .iter()
        .map(|d| store.incarnations(d))
        .collect::<Result<Vec<_>, _>>()?;
    let streams: Vec<(&str, u32)> = desk_ids
        .iter()
        .zip(&lists)
        .flat_map(|(d, list)| incarnation_numbers(list).into_iter().map(move |n| (*d, n)))
        .collect();
    let mut progress = store.progress_of(&streams)?.into_iter();
    let mut out = Vec::with_capacity(lists.len());
    for list in lists {
        let mut one = Summary {
            current: list.last().map(|i| i.id.clone()).unwrap_or_default(),
            count: list.len() as u64,
            ..Summary::default()
        };
        for _ in incarnation_numbers(&list) {
            let p = progress
                .next()
                .ok_or_else(|| StorageError::Corrupt("fewer progress entries than asked".into()))?;
            one.progress.records += p.records;
            one.progress.rejected += p.rejected;
            one.progress.last_seq = p.last_seq;
        }
        one.records_lost = list.iter().map(|i| i.lost).sum();
        one.older_state = list
            .into_iter()
            .filter_map(|i| i.older_state)
            .max_by(|a, b| a.at.cmp(&b.at));
        out.push(one);
    }
    Ok(out)
}
