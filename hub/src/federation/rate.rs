//! Each desk's rate limit: two token buckets (records and bytes per second)
//! kept as GCRA arrival times, so that a reservation is one comparison and
//! answers *when* the desk's batch may be acknowledged rather than whether.
//! The buckets outlive a stream: reconnecting does not refill them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How much a desk may send at once before its rate applies: one second's
/// worth, so a desk idle for a while sends its next batches at full speed.
const BURST: Duration = Duration::from_secs(1);

/// The most one reservation adds, whatever the figures.
const MAX_DEBT: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Records per second; 0 is no limit.
    pub records: u64,
    /// Bytes per second; 0 is no limit.
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy)]
struct Arrivals {
    records: Instant,
    bytes: Instant,
}

pub struct DeskRates {
    rate: Rate,
    desks: Mutex<HashMap<String, Arrivals>>,
}

impl DeskRates {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            desks: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `records` and `bytes` from the desk's buckets, going into debt
    /// if they are empty; the instant from which the batch may be
    /// acknowledged (now, while the desk stays within its rate).
    pub fn reserve(&self, desk_id: &str, records: u64, bytes: u64) -> Instant {
        self.reserve_at(desk_id, records, bytes, Instant::now())
    }

    fn reserve_at(&self, desk_id: &str, records: u64, bytes: u64, now: Instant) -> Instant {
        // Enrolled desks only reach here, so the map stays as small as the
        // network; a panic elsewhere cannot leave an entry half-written.
        let mut desks = self.desks.lock().unwrap_or_else(|e| e.into_inner());
        let arrivals = desks.entry(desk_id.to_string()).or_insert(Arrivals {
            records: now,
            bytes: now,
        });
        let a = take(&mut arrivals.records, records, self.rate.records, now);
        let b = take(&mut arrivals.bytes, bytes, self.rate.bytes, now);
        a.max(b)
    }
}

/// One bucket: `tat` is when it would be full again.
fn take(tat: &mut Instant, cost: u64, per_sec: u64, now: Instant) -> Instant {
    if per_sec == 0 {
        return now;
    }
    // Costs are bounded by the batch and message limits; the fallbacks
    // only keep a misconfiguration from panicking.
    let cost = Duration::try_from_secs_f64(cost as f64 / per_sec as f64).unwrap_or(MAX_DEBT);
    let from = (*tat).max(now);
    *tat = from.checked_add(cost).unwrap_or(from + MAX_DEBT);
    tat.checked_sub(BURST).map_or(now, |ready| ready.max(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate {
        records: 100,
        bytes: 10_000,
    };

    #[test]
    fn within_the_burst_nothing_waits() {
        let rates = DeskRates::new(RATE);
        let now = Instant::now();
        for _ in 0..10 {
            assert_eq!(rates.reserve_at("a", 10, 100, now), now);
        }
    }

    #[test]
    fn past_the_burst_each_batch_waits_its_share() {
        let rates = DeskRates::new(RATE);
        let now = Instant::now();
        assert_eq!(rates.reserve_at("a", 100, 0, now), now);
        // The next 50 records are half a second over.
        let ready = rates.reserve_at("a", 50, 0, now);
        assert_eq!(ready - now, Duration::from_millis(500));
        // Bytes count too: 20,000 bytes is one second past the burst.
        let ready = rates.reserve_at("b", 1, 20_000, now);
        assert_eq!(ready - now, Duration::from_secs(1));
    }

    #[test]
    fn one_desk_never_waits_for_another() {
        let rates = DeskRates::new(RATE);
        let now = Instant::now();
        rates.reserve_at("flood", 10_000, 0, now);
        assert_eq!(rates.reserve_at("calm", 10, 10, now), now);
    }

    #[test]
    fn the_bucket_refills_with_time() {
        let rates = DeskRates::new(RATE);
        let now = Instant::now();
        rates.reserve_at("a", 300, 0, now);
        let later = now + Duration::from_secs(3);
        assert_eq!(rates.reserve_at("a", 100, 0, later), later);
    }

    #[test]
    fn zero_is_no_limit() {
        let rates = DeskRates::new(Rate {
            records: 0,
            bytes: 0,
        });
        let now = Instant::now();
        assert_eq!(rates.reserve_at("a", u64::MAX / 2, u64::MAX / 2, now), now);
    }
}
