//! Short-lived caches of rows that change rarely but are read on every request: users and
//! settings in front of a [`Directory`] (the filters read six of them), and the catalog's card
//! groups, taxes and currencies for the ledger ([`CatalogCache`]).
//!
//! An entry lives `ttl` from the moment it was read, so a changed password, a blocked user, a
//! new setting, price or exchange rate takes effect within `ttl` on every morcc instance,
//! without invalidation messages between them. Answers that name nothing (an unknown username)
//! are cached too, so probing costs no more database reads; the number of entries is bounded.
//! A balance is never cached: cards and users are the ledger's, read locked.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use morcc_domain::{
    Account, CardGroup, CardGroupId, Currency, Directory, OwnerId, StoreError, Tax, TaxId,
};

/// Entries kept per table at most; past this, expired ones are dropped and, if that is not
/// enough, new answers go uncached until room returns.
const MAX_ENTRIES: usize = 10_000;

/// A [`Directory`] whose answers are reused for `ttl`. Its `Debug` form shows how many
/// entries it holds, never what they are (settings hold the API secret key).
pub struct CachedDirectory<D> {
    inner: D,
    ttl: Duration,
    accounts: Table<String, Option<Account>>,
    settings: Table<(String, OwnerId), Option<String>>,
}

impl<D: Directory> CachedDirectory<D> {
    /// Caches `inner`'s answers for `ttl`; a zero `ttl` caches nothing.
    pub fn new(inner: D, ttl: Duration) -> CachedDirectory<D> {
        CachedDirectory {
            inner,
            ttl,
            accounts: Table::default(),
            settings: Table::default(),
        }
    }
}

impl<D: fmt::Debug> fmt::Debug for CachedDirectory<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedDirectory")
            .field("inner", &self.inner)
            .field("ttl", &self.ttl)
            .field("accounts", &self.accounts.lock().len())
            .field("settings", &self.settings.lock().len())
            .finish()
    }
}

impl<D: Directory> Directory for CachedDirectory<D> {
    fn account_by_username(&self, username: &str) -> Result<Option<Account>, StoreError> {
        self.accounts
            .get_or_read(username.to_owned(), self.ttl, || {
                self.inner.account_by_username(username)
            })
    }

    fn setting(&self, name: &str, owner: OwnerId) -> Result<Option<String>, StoreError> {
        self.settings
            .get_or_read((name.to_owned(), owner), self.ttl, || {
                self.inner.setting(name, owner)
            })
    }
}

/// The catalog's rows ([`morcc_domain::Catalog`]) as a unit of work last read them, shared by
/// every unit of work of a [`crate::Database`]; a zero `ttl` caches nothing.
#[derive(Default)]
pub(crate) struct CatalogCache {
    pub(crate) ttl: Duration,
    pub(crate) card_groups: Table<CardGroupId, Option<CardGroup>>,
    pub(crate) taxes: Table<TaxId, Option<Tax>>,
    pub(crate) currencies: Table<String, Option<Currency>>,
    pub(crate) system_currency: Table<(), Option<Currency>>,
}

impl CatalogCache {
    pub(crate) fn new(ttl: Duration) -> CatalogCache {
        CatalogCache {
            ttl,
            ..CatalogCache::default()
        }
    }
}

impl fmt::Debug for CatalogCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatalogCache")
            .field("ttl", &self.ttl)
            .field("card_groups", &self.card_groups.lock().len())
            .finish_non_exhaustive()
    }
}

/// No `Debug`: the values may be secrets (password hashes, the API secret key).
pub(crate) struct Table<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> Table<K, V> {
    /// The value kept under `key` if it was read less than `ttl` ago, else `read`'s (kept
    /// when it succeeds).
    pub(crate) fn get_or_read(
        &self,
        key: K,
        ttl: Duration,
        read: impl FnOnce() -> Result<V, StoreError>,
    ) -> Result<V, StoreError> {
        if ttl.is_zero() {
            return read();
        }
        let now = Instant::now();
        if let Some((read_at, value)) = self.lock().get(&key) {
            if now.duration_since(*read_at) < ttl {
                return Ok(value.clone());
            }
        }
        // Read outside the lock: a slow database must not serialise every request on it.
        let value = read()?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (read_at, _)| now.duration_since(*read_at) < ttl);
        }
        if entries.len() < MAX_ENTRIES {
            entries.insert(key, (now, value.clone()));
        }
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        // Entries are plain values; one written by a thread that panicked is still whole.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory that counts its reads and answers from a value the test can change.
    #[derive(Default)]
    struct Counting {
        reads: AtomicUsize,
        value: Mutex<Option<String>>,
    }

    impl Directory for &Counting {
        fn account_by_username(&self, _: &str) -> Result<Option<Account>, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        }
        fn setting(&self, _: &str, _: OwnerId) -> Result<Option<String>, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.value.lock().unwrap().clone())
        }
    }

    #[test]
    fn answers_are_reused_until_they_expire() {
        let inner = Counting::default();
        *inner.value.lock().unwrap() = Some("1".into());
        let cache = CachedDirectory::new(&inner, Duration::from_millis(100));
        for _ in 0..5 {
            assert_eq!(
                cache.setting("Allow_API", OwnerId(0)).unwrap().as_deref(),
                Some("1")
            );
            assert_eq!(cache.account_by_username("nobody").unwrap(), None);
        }
        assert_eq!(inner.reads.load(Ordering::SeqCst), 2);
        *inner.value.lock().unwrap() = Some("0".into());
        assert_eq!(
            cache.setting("Allow_API", OwnerId(0)).unwrap().as_deref(),
            Some("1"),
            "still cached"
        );
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(
            cache.setting("Allow_API", OwnerId(0)).unwrap().as_deref(),
            Some("0"),
            "read again"
        );
        assert_eq!(
            cache.setting("Allow_API", OwnerId(5)).unwrap().as_deref(),
            Some("0")
        );
        assert_eq!(
            inner.reads.load(Ordering::SeqCst),
            4,
            "each owner is its own entry"
        );
    }

    #[test]
    fn a_zero_ttl_reads_every_time() {
        let inner = Counting::default();
        let cache = CachedDirectory::new(&inner, Duration::ZERO);
        for _ in 0..3 {
            cache.setting("Allow_API", OwnerId(0)).unwrap();
        }
        assert_eq!(inner.reads.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn the_number_of_entries_is_bounded() {
        let inner = Counting::default();
        let cache = CachedDirectory::new(&inner, Duration::from_secs(60));
        for n in 0..MAX_ENTRIES + 50 {
            cache.account_by_username(&format!("probe{n}")).unwrap();
        }
        assert_eq!(cache.accounts.lock().len(), MAX_ENTRIES);
        // Uncached answers are still answered.
        assert_eq!(cache.account_by_username("probe-extra").unwrap(), None);
    }
}
