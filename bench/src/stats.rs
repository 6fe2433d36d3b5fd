//! Latency percentiles over every sample (no sampling, no histogram
//! buckets: the runs are small enough to sort).

pub(crate) struct Latencies {
    micros: Vec<u64>,
}

impl Latencies {
    pub(crate) fn new(mut micros: Vec<u64>) -> Self {
        micros.sort_unstable();
        Self { micros }
    }

    /// Nearest-rank percentile in milliseconds; 0 when there is no sample.
    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.micros.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.micros.len()) - 1;
        self.micros[i] as f64 / 1000.0
    }

    pub(crate) fn max_ms(&self) -> f64 {
        self.micros.last().map_or(0.0, |m| *m as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let l = Latencies::new((1..=100).rev().map(|i| i * 1000).collect());
        assert_eq!(l.percentile_ms(50.0), 50.0);
        assert_eq!(l.percentile_ms(99.0), 99.0);
        assert_eq!(l.max_ms(), 100.0);
        assert_eq!(Latencies::new(Vec::new()).percentile_ms(99.0), 0.0);
    }
}
