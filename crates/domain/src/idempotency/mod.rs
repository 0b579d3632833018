//! Idempotency keys: a request that changes money or cards, sent again with the same key and
//! the same parameters, applies once and is answered with the reply of the first, byte for
//! byte (Stripe's `Idempotency-Key`; the IETF httpapi draft of that header).
//!
//! The key, its caller, a fingerprint of the request and the reply body are written in the
//! same transaction as the change ([`transact_once`]), so they commit or vanish together. A
//! request that changes nothing (a look-up, an error) stores nothing: its repeat runs again.

pub(crate) mod key;

pub use key::{applies_to, Fingerprint, IdempotencyKey, InvalidKey, StoredReply, MAX_KEY_LENGTH};

use crate::ids::UserId;
use crate::ports::{Ledger, Store, Transact, UnitFailure};

/// A request that carries a key, with the renderer of its reply.
pub struct Once<'a, T> {
    /// The API user: keys are per user.
    pub user: UserId,
    /// The key.
    pub key: &'a IdempotencyKey,
    /// The request's fingerprint.
    pub fingerprint: &'a Fingerprint,
    /// The reply body of a success, rendered inside the transaction so that it is stored with
    /// the change.
    pub render: &'a dyn Fn(&T) -> String,
}

impl<T> std::fmt::Debug for Once<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Once")
            .field("user", &self.user)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// How a request with a key was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered<T> {
    /// It ran now.
    Ran(T),
    /// An earlier request with the same key and parameters ran: its reply body.
    Replayed(String),
    /// The key was used before with other parameters: nothing ran.
    KeyReused,
}

impl<T> Answered<T> {
    /// What a request without a key got: it always runs.
    fn ran(self) -> Option<T> {
        match self {
            Answered::Ran(value) => Some(value),
            Answered::Replayed(_) | Answered::KeyReused => None,
        }
    }
}

/// Runs `work` in one transaction, as [`Transact::transact`]; with a key, first answers a
/// reply kept under it, else claims the key (a copy in flight waits for the claim, then runs
/// again and is answered from the first's reply), and keeps the reply with the change when
/// `work` changed something.
pub fn transact_once<T, E: UnitFailure>(
    store: &dyn Store,
    once: Option<&Once<'_, T>>,
    mut work: impl FnMut(&mut dyn Ledger) -> Result<T, E>,
) -> Result<Answered<T>, E> {
    let Some(once) = once else {
        return store.transact(work).map(Answered::Ran);
    };
    store.transact(|ledger| {
        if let Some(kept) = kept_answer(ledger, once)? {
            return Ok(kept);
        }
        ledger.claim_key(once.user, once.key, once.fingerprint)?;
        let value = work(ledger)?;
        let body = ledger.has_written().then(|| (once.render)(&value));
        ledger.settle_key(once.user, once.key, body)?;
        Ok(Answered::Ran(value))
    })
}

/// Runs `work` as a look-up, as [`Transact::read`]; with a key, a reply kept under it is
/// answered instead. A look-up stores nothing.
pub fn read_once<T, E: UnitFailure>(
    store: &dyn Store,
    once: Option<&Once<'_, T>>,
    mut work: impl FnMut(&mut dyn Ledger) -> Result<T, E>,
) -> Result<Answered<T>, E> {
    store.read(|ledger| {
        if let Some(once) = once {
            if let Some(kept) = kept_answer(ledger, once)? {
                return Ok(kept);
            }
        }
        work(ledger).map(Answered::Ran)
    })
}

/// The answer to a request refused before any storage was touched (bad input): with a key,
/// the reply kept under it if there is one (a key reused with other parameters is refused as
/// such, whatever they are); else `refusal`.
pub fn refused_once<T, E: UnitFailure + Clone>(
    store: &dyn Store,
    once: Option<&Once<'_, T>>,
    refusal: E,
) -> Result<Answered<T>, E> {
    match once {
        None => Err(refusal),
        Some(_) => read_once(store, once, |_| Err(refusal.clone())),
    }
}

/// The answer a kept reply gives this request, if one is kept under its key.
fn kept_answer<T, E: UnitFailure>(
    ledger: &mut dyn Ledger,
    once: &Once<'_, T>,
) -> Result<Option<Answered<T>>, E> {
    Ok(ledger.kept_reply(once.user, once.key)?.map(|kept| {
        match kept.fingerprint == *once.fingerprint {
            true => Answered::Replayed(kept.body),
            false => Answered::KeyReused,
        }
    }))
}

/// The value of a request without a key, which always runs.
pub(crate) fn without_key<T, E>(answered: Result<Answered<T>, E>) -> Result<T, E> {
    answered.map(|answered| answered.ran().expect("a request without a key always runs"))
}
