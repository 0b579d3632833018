//! Brute-force protection: failed logins and hashes are counted per username and per client
//! address; over the limit the answer is `Bad login` without a database look-up.
//!
//! Counts are kept in memory in fixed windows: a window starts with the first failure of a key
//! and ends `window` later, when the key's count starts again at zero. So that N instances do
//! not give an attacker N times the attempts, each failure also brings in the count of the
//! shared audit log (every instance's failures, [`RecentFailures`]): a key over the limit
//! anywhere is over it here from this instance's next failure of it on, so the whole cluster
//! allows at most one more attempt per instance than the limit. Refusals are not failures:
//! they are neither counted nor recorded.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use morcc_domain::RecentFailures;

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

/// Keys (and trusted pairs) tracked at most. Past this, expired windows are purged (at most
/// once a second); if the map is still full, new keys go untracked until room returns, so memory
/// stays bounded whatever a client sends.
const MAX_TRACKED_KEYS: usize = 100_000;

/// Usernames longer than any `users.username` are not tracked: no user has one.
const MAX_USERNAME_LENGTH: usize = 255;

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

#[derive(Debug)]
struct State {
    windows: HashMap<Key, Window>,
    /// (username, address) pairs that logged in successfully: a username's lockout does not
    /// apply to them, so an attacker who fails on purpose cannot lock the real client out.
    trusted: HashSet<(String, String)>,
    next_purge: Instant,
}

/// The failure counts of one morcc instance.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: ThrottleLimits,
    state: Mutex<State>,
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(limits: ThrottleLimits) -> LoginThrottle {
        let state = State {
            windows: HashMap::new(),
            trusted: HashSet::new(),
            next_purge: Instant::now(),
        };
        LoginThrottle {
            limits,
            state: Mutex::new(state),
        }
    }

    /// Whether a request for `username` from `address` must be refused unseen.
    pub fn is_locked_out(&self, username: &str, address: &str) -> bool {
        self.is_locked_out_at(username, address, Instant::now())
    }

    /// Counts a failed login or hash, and takes in what the shared log counted of the same
    /// username and address (this failure included) when that is larger.
    pub fn record_failure(&self, username: &str, address: &str, shared: RecentFailures) {
        self.record_failure_at(username, address, shared, Instant::now());
    }

    /// How long failures are remembered.
    pub fn window(&self) -> Duration {
        self.limits.window
    }

    /// A successful login forgets the username's failures and trusts the pair from now on
    /// (not the address's failures: one valid account must not reset the count of an address
    /// that probes others).
    pub fn record_success(&self, username: &str, address: &str) {
        let mut state = self.lock();
        state.windows.remove(&Key::Username(username.to_owned()));
        let pair = (username.to_owned(), address.to_owned());
        if state.trusted.len() < MAX_TRACKED_KEYS && !state.trusted.contains(&pair) {
            state.trusted.insert(pair);
        }
    }

    fn is_locked_out_at(&self, username: &str, address: &str, now: Instant) -> bool {
        let state = self.lock();
        let over = |key: Key, limit: u32| {
            limit > 0
                && state.windows.get(&key).is_some_and(|window| {
                    now.duration_since(window.started) < self.limits.window
                        && window.failures >= limit
                })
        };
        let trusted = || {
            state
                .trusted
                .contains(&(username.to_owned(), address.to_owned()))
        };
        over(Key::Address(address.to_owned()), self.limits.per_address)
            || (over(Key::Username(username.to_owned()), self.limits.per_username) && !trusted())
    }

    fn record_failure_at(
        &self,
        username: &str,
        address: &str,
        shared: RecentFailures,
        now: Instant,
    ) {
        let mut state = self.lock();
        if state.windows.len() >= MAX_TRACKED_KEYS && now >= state.next_purge {
            let window = self.limits.window;
            state
                .windows
                .retain(|_, tracked| now.duration_since(tracked.started) < window);
            state.next_purge = now + Duration::from_secs(1);
        }
        let username = (username.chars().count() <= MAX_USERNAME_LENGTH)
            .then(|| (Key::Username(username.to_owned()), shared.by_username));
        for (key, shared_failures) in username
            .into_iter()
            .chain([(Key::Address(address.to_owned()), shared.by_address)])
        {
            if !state.windows.contains_key(&key) && state.windows.len() >= MAX_TRACKED_KEYS {
                continue;
            }
            let window = state.windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.duration_since(window.started) >= self.limits.window {
                *window = Window {
                    started: now,
                    failures: 0,
                };
            }
            window.failures = window.failures.saturating_add(1).max(shared_failures);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state holds counters only; one left half-updated by a panicking thread is harmless.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl LoginThrottle {
        /// A failure that no other instance has seen.
        fn record_failure_at_now(&self, username: &str, address: &str, now: Instant) {
            self.record_failure_at(username, address, RecentFailures::default(), now);
        }
    }

    #[test]
    fn the_shared_count_of_other_instances_locks_out_here_too() {
        let throttle = throttle(5, 100);
        let now = Instant::now();
        let shared = RecentFailures {
            by_username: 5,
            by_address: 5,
        };
        throttle.record_failure_at("alice", "10.0.0.1", shared, now);
        assert!(throttle.is_locked_out_at("alice", "10.0.0.2", now));
        let fewer = RecentFailures {
            by_username: 0,
            by_address: 0,
        };
        throttle.record_failure_at("bob", "10.0.0.3", fewer, now);
        assert!(
            !throttle.is_locked_out_at("bob", "10.0.0.3", now),
            "the local count stands"
        );
    }

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
            throttle.record_failure_at_now("alice", &format!("10.0.0.{attempt}"), start);
        }
        assert!(throttle.is_locked_out_at("alice", "10.0.0.9", start));
        assert!(!throttle.is_locked_out_at("bob", "10.0.0.9", start));
        let later = start + Duration::from_secs(61);
        assert!(!throttle.is_locked_out_at("alice", "10.0.0.9", later));
        throttle.record_failure_at_now("alice", "10.0.0.9", later);
        assert!(
            !throttle.is_locked_out_at("alice", "10.0.0.9", later),
            "the count started again"
        );
    }

    #[test]
    fn an_address_is_locked_out_whatever_username_it_tries() {
        let throttle = throttle(100, 2);
        let now = Instant::now();
        throttle.record_failure_at_now("a", "192.0.2.1", now);
        throttle.record_failure_at_now("b", "192.0.2.1", now);
        assert!(throttle.is_locked_out_at("c", "192.0.2.1", now));
        assert!(!throttle.is_locked_out_at("c", "192.0.2.2", now));
    }

    #[test]
    fn success_resets_the_username_but_not_the_address() {
        let throttle = throttle(2, 3);
        let now = Instant::now();
        throttle.record_failure_at_now("alice", "192.0.2.1", now);
        throttle.record_failure_at_now("alice", "192.0.2.1", now);
        throttle.record_success("alice", "192.0.2.1");
        assert!(!throttle.is_locked_out_at("alice", "192.0.2.2", now));
        throttle.record_failure_at_now("carol", "192.0.2.1", now);
        assert!(throttle.is_locked_out_at("dave", "192.0.2.1", now));
    }

    #[test]
    fn a_username_locked_out_by_others_stays_open_to_an_address_it_logged_in_from() {
        let throttle = throttle(3, 100);
        let now = Instant::now();
        throttle.record_success("api", "192.0.2.10");
        for attacker in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
            throttle.record_failure_at_now("api", attacker, now);
        }
        assert!(throttle.is_locked_out_at("api", "198.51.100.4", now));
        assert!(!throttle.is_locked_out_at("api", "192.0.2.10", now));
    }

    #[test]
    fn overlong_usernames_are_not_tracked_but_their_address_is() {
        let throttle = throttle(1, 2);
        let now = Instant::now();
        let long = "u".repeat(MAX_USERNAME_LENGTH + 1);
        throttle.record_failure_at_now(&long, "192.0.2.1", now);
        assert_eq!(throttle.lock().windows.len(), 1);
        throttle.record_failure_at_now(&long, "192.0.2.1", now);
        assert!(throttle.is_locked_out_at("anyone", "192.0.2.1", now));
    }

    #[test]
    fn the_number_of_tracked_keys_is_bounded() {
        let throttle = throttle(5, 5);
        let now = Instant::now();
        for n in 0..MAX_TRACKED_KEYS {
            throttle.record_failure_at_now(&format!("user{n}"), "192.0.2.1", now);
        }
        throttle.record_failure_at_now("one-more", "192.0.2.99", now);
        assert!(throttle.lock().windows.len() <= MAX_TRACKED_KEYS);
    }

    #[test]
    fn a_limit_of_zero_disables_the_check() {
        let throttle = throttle(0, 0);
        let now = Instant::now();
        for _ in 0..1000 {
            throttle.record_failure_at_now("alice", "192.0.2.1", now);
        }
        assert!(!throttle.is_locked_out_at("alice", "192.0.2.1", now));
    }
}
