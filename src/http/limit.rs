//! Token buckets per client address: the control event rate and failed logins. Bounded:
//! at most [`MAX_TRACKED_CLIENTS`] addresses are remembered, idle ones forgotten first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use crate::sync::lock;

/// Most clients tracked at once; idle ones are forgotten first (bounded memory).
const MAX_TRACKED_CLIENTS: usize = 4096;

/// A token bucket per client address.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `client` has no token left at `now`, without taking one.
    pub fn exhausted(&self, client: IpAddr, now: Instant) -> bool {
        lock(&self.buckets)
            .get(&client)
            .is_some_and(|(tokens, at)| {
                tokens + now.saturating_duration_since(*at).as_secs_f64() * self.rate < 1.0
            })
    }

    /// Takes one token for `client` at `now`; false when its bucket is empty.
    pub fn allow(&self, client: IpAddr, now: Instant) -> bool {
        let mut buckets = lock(&self.buckets);
        if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(&client) {
            let (rate, burst) = (self.rate, self.burst);
            // A full bucket holds no information: drop those first.
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
            if buckets.len() >= MAX_TRACKED_CLIENTS {
                buckets.clear();
            }
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rate_limit_per_client() {
        let limiter = RateLimiter::new(10.0, 5.0);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let t = Instant::now();
        assert_eq!((0..8).filter(|_| limiter.allow(a, t)).count(), 5);
        assert!(limiter.allow(b, t), "another client has its own bucket");
        assert!(!limiter.allow(a, t));
        // 10 per second: after 300 ms three more.
        let later = t + Duration::from_millis(300);
        assert_eq!((0..8).filter(|_| limiter.allow(a, later)).count(), 3);
        // The bucket never holds more than the burst.
        let much_later = t + Duration::from_secs(60);
        assert_eq!((0..8).filter(|_| limiter.allow(a, much_later)).count(), 5);
    }

    #[test]
    fn rate_limit_memory_is_bounded() {
        let limiter = RateLimiter::new(10.0, 5.0);
        let t = Instant::now();
        for i in 0..(MAX_TRACKED_CLIENTS as u32 + 100) {
            limiter.allow(IpAddr::from(i.to_be_bytes()), t);
        }
        assert!(limiter.buckets.lock().unwrap().len() <= MAX_TRACKED_CLIENTS);
    }

    #[test]
    fn exhausted_peeks_without_taking() {
        let l = RateLimiter::new(1.0, 2.0);
        let (a, t) = (IpAddr::from([10, 0, 0, 1]), Instant::now());
        assert!(!l.exhausted(a, t));
        assert!(l.allow(a, t) && l.allow(a, t));
        assert!(l.exhausted(a, t) && l.exhausted(a, t));
        assert!(!l.exhausted(a, t + Duration::from_secs(1)));
    }
}
