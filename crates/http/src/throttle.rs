//! Brute-force protection: failed logins and hashes are counted per username and per client
//! address; over the limit the answer is `Bad login` without a database look-up.
//!
//! Counts are kept in memory, per morcc instance, in fixed windows: a window starts with the
//! first failure of a key and ends `window` later, when the key's count starts again at zero.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures are tolerated, and for how long they are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Failures of one username before it is locked out for the rest of the window; 0 disables.
    pub per_username: u32,
    /// Failures from one client address before it is locked out; 0 disables.
    pub per_address: u32,
    /// How long a window lasts.
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            per_username: 10,
            per_address: 50,
            window: Duration::from_secs(300),
        }
    }
}

/// Keys tracked at most; past this, expired windows are purged before a new key is added.
const MAX_TRACKED_KEYS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Username(String),
    Address(String),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// The failure counts of one morcc instance.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: ThrottleLimits,
    windows: Mutex<HashMap<Key, Window>>,
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(limits: ThrottleLimits) -> LoginThrottle {
        LoginThrottle {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a request for `username` from `address` must be refused unseen.
    pub fn is_locked_out(&self, username: &str, address: &str) -> bool {
        self.is_locked_out_at(username, address, Instant::now())
    }

    /// Counts a failed login or hash.
    pub fn record_failure(&self, username: &str, address: &str) {
        self.record_failure_at(username, address, Instant::now());
    }

    /// A successful login forgets the username's failures (not the address's: one valid
    /// account must not reset the count of an address that probes others).
    pub fn record_success(&self, username: &str) {
        self.lock().remove(&Key::Username(username.to_owned()));
    }

    fn is_locked_out_at(&self, username: &str, address: &str, now: Instant) -> bool {
        let windows = self.lock();
        let over = |key: Key, limit: u32| {
            limit > 0
                && windows.get(&key).is_some_and(|window| {
                    now.duration_since(window.started) < self.limits.window
                        && window.failures >= limit
                })
        };
        over(Key::Username(username.to_owned()), self.limits.per_username)
            || over(Key::Address(address.to_owned()), self.limits.per_address)
    }

    fn record_failure_at(&self, username: &str, address: &str, now: Instant) {
        let mut windows = self.lock();
        if windows.len() >= MAX_TRACKED_KEYS {
            windows.retain(|_, window| now.duration_since(window.started) < self.limits.window);
        }
        for key in [
            Key::Username(username.to_owned()),
            Key::Address(address.to_owned()),
        ] {
            let window = windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.duration_since(window.started) >= self.limits.window {
                *window = Window {
                    started: now,
                    failures: 0,
                };
            }
            window.failures = window.failures.saturating_add(1);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        // The map holds counters only; one left half-updated by a panicking thread is harmless.
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(per_username: u32, per_address: u32) -> LoginThrottle {
        LoginThrottle::new(ThrottleLimits {
            per_username,
            per_address,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn a_username_is_locked_out_after_its_limit_until_the_window_ends() {
        let throttle = throttle(3, 100);
        let start = Instant::now();
        for attempt in 0..3 {
            assert!(
                !throttle.is_locked_out_at("alice", "10.0.0.1", start),
                "attempt {attempt}"
            );
            throttle.record_failure_at("alice", &format!("10.0.0.{attempt}"), start);
        }
        assert!(throttle.is_locked_out_at("alice", "10.0.0.9", start));
        assert!(!throttle.is_locked_out_at("bob", "10.0.0.9", start));
        let later = start + Duration::from_secs(61);
        assert!(!throttle.is_locked_out_at("alice", "10.0.0.9", later));
        throttle.record_failure_at("alice", "10.0.0.9", later);
        assert!(
            !throttle.is_locked_out_at("alice", "10.0.0.9", later),
            "the count started again"
        );
    }

    #[test]
    fn an_address_is_locked_out_whatever_username_it_tries() {
        let throttle = throttle(100, 2);
        let now = Instant::now();
        throttle.record_failure_at("a", "192.0.2.1", now);
        throttle.record_failure_at("b", "192.0.2.1", now);
        assert!(throttle.is_locked_out_at("c", "192.0.2.1", now));
        assert!(!throttle.is_locked_out_at("c", "192.0.2.2", now));
    }

    #[test]
    fn success_resets_the_username_but_not_the_address() {
        let throttle = throttle(2, 3);
        let now = Instant::now();
        throttle.record_failure_at("alice", "192.0.2.1", now);
        throttle.record_failure_at("alice", "192.0.2.1", now);
        throttle.record_success("alice");
        assert!(!throttle.is_locked_out_at("alice", "192.0.2.2", now));
        throttle.record_failure_at("carol", "192.0.2.1", now);
        assert!(throttle.is_locked_out_at("dave", "192.0.2.1", now));
    }

    #[test]
    fn a_limit_of_zero_disables_the_check() {
        let throttle = throttle(0, 0);
        let now = Instant::now();
        for _ in 0..1000 {
            throttle.record_failure_at("alice", "192.0.2.1", now);
        }
        assert!(!throttle.is_locked_out_at("alice", "192.0.2.1", now));
    }
}
