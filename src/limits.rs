//! How much one client may ask: pages and forms per client address, the API per key, and
//! wrong API keys per address. Beyond, the answer is `429` with `Retry-After`, before any work
//! is done. Why per address and per key: a flood of unknown survey links from one machine
//! (5,400 a second in the attack on record) slowed a real resident's page thirty-fold, and
//! nothing stopped a client from trying hundreds of thousands of API keys.
//!
//! Each limit is a token bucket: `burst` requests at once, refilled at a steady rate. The
//! buckets live in memory, per instance (several instances each allow the rate), in shards so
//! that workers rarely wait for one another, and are bounded in number: idle ones are dropped
//! first; if a flood of distinct addresses still fills a shard, the shard starts afresh.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SHARDS: usize = 16;
const MAX_KEYS_PER_SHARD: usize = 16_384;

/// One limit: a bucket per key.
pub struct Limiter {
    per_second: f64,
    burst: f64,
    shards: Vec<Mutex<HashMap<String, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    /// `per_minute` requests a minute, `burst` at once; `None` when `per_minute` is 0 (no
    /// limit).
    pub fn new(per_minute: u32, burst: u32) -> Option<Limiter> {
        (per_minute > 0).then(|| Limiter::with(per_minute, burst))
    }

    fn with(per_minute: u32, burst: u32) -> Limiter {
        Limiter {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, HashMap<String, Bucket>> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let shard = &self.shards[(h.finish() as usize) % SHARDS];
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The bucket of `key` as of `now`, refilled.
    fn refilled(&self, b: Bucket, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        Bucket {
            tokens: (b.tokens + elapsed * self.per_second).min(self.burst),
            at: now,
        }
    }

    fn wait(&self, tokens: f64) -> Duration {
        Duration::from_secs_f64(((1.0 - tokens) / self.per_second).max(0.0))
    }

    /// Takes one request from `key`'s bucket, or says how long until one is there.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.shard(key);
        if map.len() >= MAX_KEYS_PER_SHARD && !map.contains_key(key) {
            let (per_second, burst) = (self.per_second, self.burst);
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < burst
            });
            if map.len() >= MAX_KEYS_PER_SHARD {
                map.clear();
            }
        }
        let bucket = map.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        *bucket = self.refilled(*bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(self.wait(bucket.tokens))
        }
    }

    /// Whether `key` has a request left, without taking it.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let map = self.shard(key);
        match map.get(key).map(|b| self.refilled(*b, now)) {
            Some(b) if b.tokens < 1.0 => Err(self.wait(b.tokens)),
            _ => Ok(()),
        }
    }
}

/// Every limit the service keeps.
pub struct Limits {
    /// Pages, forms, the stylesheets and the public summary, per client address.
    pub public: Option<Limiter>,
    /// API calls per key.
    pub api: Option<Limiter>,
    /// Wrong API keys per client address: 20 by default, then one a minute.
    pub bad_keys: Option<Limiter>,
}

impl Limits {
    /// `public` and `api` are requests a minute (0: no limit); each allows a fifth of a
    /// minute's worth at once. `wrong_keys` are allowed at once, then one a minute (0: any).
    pub fn new(public: u32, api: u32, wrong_keys: u32) -> Limits {
        Limits {
            public: Limiter::new(public, (public / 5).max(10)),
            api: Limiter::new(api, (api / 5).max(10)),
            bad_keys: (wrong_keys > 0).then(|| Limiter::with(1, wrong_keys)),
        }
    }
}

/// Seconds for a `Retry-After` header: whole, at least one.
pub fn retry_after(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_steady_rate_and_each_key_has_its_own() {
        let l = Limiter::new(60, 3).expect("a limit");
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take("a", t0).is_ok());
        }
        let wait = l.take("a", t0).expect_err("the burst is spent");
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900));
        assert_eq!(retry_after(wait), 1);
        assert!(l.take("b", t0).is_ok(), "another key is not held back");
        assert!(l.check("a", t0).is_err());
        // One a second comes back.
        assert!(l.take("a", t0 + Duration::from_millis(1_001)).is_ok());
        assert!(l.take("a", t0 + Duration::from_millis(1_002)).is_err());
        // Never more than the burst, however long the wait.
        let later = t0 + Duration::from_secs(3_600);
        for _ in 0..3 {
            assert!(l.take("a", later).is_ok());
        }
        assert!(l.take("a", later).is_err());
    }

    #[test]
    fn no_limit_at_zero_and_check_takes_nothing() {
        assert!(Limiter::new(0, 10).is_none());
        let l = Limiter::new(60, 1).expect("a limit");
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(l.check("a", t0).is_ok());
        }
        assert!(l.take("a", t0).is_ok());
        assert!(l.check("a", t0).is_err());
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_bounded() {
        let l = Limiter::new(60, 2).expect("a limit");
        let t0 = Instant::now();
        for i in 0..(SHARDS * MAX_KEYS_PER_SHARD * 2) {
            let _ = l.take(&format!("k{i}"), t0);
        }
        let held: usize = l.shards.iter().map(|s| s.lock().expect("lock").len()).sum();
        assert!(held <= SHARDS * MAX_KEYS_PER_SHARD);
    }
}
