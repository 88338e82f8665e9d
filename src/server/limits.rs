//! The per-IP token bucket for requests that guess a secret (password,
//! second-factor code, app password, activation code). It is spent before
//! the server looks the username up, so a known and an unknown account run
//! out at the same moment and a 429 tells nothing about which exist.
//!
//! Kept in memory: it is a brake on one process's hashing work and on
//! guessing speed, and losing it on restart only gives an attacker one
//! fresh burst. The per-account counters that must survive live in SQLite
//! (`throttle.rs`).

use super::error::{ApiError, ApiResult};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// Beyond this many tracked addresses, full buckets (which carry no
/// information) are forgotten, so memory stays bounded under a spray.
const MAX_TRACKED: usize = 10_000;

pub struct IpLimiter {
    burst: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, now: Instant, burst: f64, per_sec: f64) -> f64 {
        (self.tokens + now.duration_since(self.at).as_secs_f64() * per_sec).min(burst)
    }
}

impl IpLimiter {
    /// `burst` 0 turns the limit off (e.g. behind a proxy that limits).
    pub fn new(burst: u16, refill_per_minute: u16) -> Self {
        Self {
            burst: f64::from(burst),
            per_sec: f64::from(refill_per_minute) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn take(&self, ip: IpAddr) -> ApiResult<()> {
        if self.burst < 1.0 {
            return Ok(());
        }
        let key = bucket_key(ip);
        let now = Instant::now();
        // A panic elsewhere while holding the lock leaves plain numbers behind: keep using them.
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED {
            let (burst, per_sec) = (self.burst, self.per_sec);
            buckets.retain(|_, b| b.refilled(now, burst, per_sec) < burst);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        bucket.tokens = bucket.refilled(now, self.burst, self.per_sec);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = if self.per_sec > 0.0 {
            ((1.0 - bucket.tokens) / self.per_sec).ceil() as u64
        } else {
            3600
        };
        tracing::warn!(ip = %key, "too many guessing requests from one address");
        Err(ApiError::throttled(wait))
    }
}

/// IPv6 hosts get a /64 each, so one host cannot rotate through its own
/// addresses; an IPv4-mapped address counts as the IPv4 one.
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait() {
        let limiter = IpLimiter::new(3, 60);
        let ip = IpAddr::from([203, 0, 113, 7]);
        for _ in 0..3 {
            assert!(limiter.take(ip).is_ok());
        }
        let refused = limiter.take(ip).err().map(|e| e.retry_after);
        assert_eq!(refused, Some(Some(1)));
        let other = IpAddr::from([203, 0, 113, 8]);
        assert!(
            limiter.take(other).is_ok(),
            "another address has its own bucket"
        );
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_a_bucket() {
        let limiter = IpLimiter::new(1, 1);
        let a = IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1u16]);
        let b = IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2u16]);
        assert!(limiter.take(a).is_ok());
        assert!(limiter.take(b).is_err());
    }

    #[test]
    fn zero_burst_turns_the_limit_off() {
        let limiter = IpLimiter::new(0, 0);
        for _ in 0..100 {
            assert!(limiter.take(IpAddr::from([127, 0, 0, 1])).is_ok());
        }
    }
}
