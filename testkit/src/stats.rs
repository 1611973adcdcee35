//! Summaries the benchmarks print.

use std::time::Duration;

/// The `p`-th quantile (0..=1) of `samples`, nearest rank; sorts them in place.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_unstable();
    let rank = ((samples.len() - 1) as f64 * p.clamp(0.0, 1.0)).round() as usize;
    samples[rank]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut v: Vec<Duration> = (1..=101).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile(&mut v, 0.5), Duration::from_millis(51));
        assert_eq!(percentile(&mut v, 0.95), Duration::from_millis(96));
        assert_eq!(percentile(&mut v, 0.0), Duration::from_millis(1));
        assert_eq!(percentile(&mut v, 1.0), Duration::from_millis(101));
    }
}
