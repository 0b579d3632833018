//! Idempotency keys: a request that changes money or cards, sent again with the same key and
//! the same parameters, applies once and is answered with the reply of the first, byte for
//! byte (Stripe's `Idempotency-Key`; the IETF httpapi draft of that header).
//!
//! The key, its caller, a fingerprint of the request and the reply body are written in the
//! same transaction as the change ([`transact_once`]), so they commit or vanish together. A
//! request that changes nothing (a look-up, an error) stores nothing: its repeat runs again.

use crate::api::ApiCall;
use crate::codes::is_printable;
use crate::hash::sha1_hex;
use crate::ids::UserId;
use crate::ports::{Ledger, Store, Transact, UnitFailure};

/// The widest key accepted: the column's width.
pub const MAX_KEY_LENGTH: usize = 255;

/// A client's idempotency key: 1 to [`MAX_KEY_LENGTH`] printable characters, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// The key is empty, too long or holds a character no reply could carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the idempotency key is empty, longer than 255 characters or not printable")]
pub struct InvalidKey;

impl IdempotencyKey {
    /// A key as sent.
    /// A key that held bytes that are not UTF-8 reaches here with U+FFFD in their place: it is
    /// refused, as two such keys could read alike and a second payment would be taken for a
    /// copy of the first.
    pub fn parse(raw: &str) -> Result<IdempotencyKey, InvalidKey> {
        if raw.is_empty()
            || raw.chars().count() > MAX_KEY_LENGTH
            || !is_printable(raw)
            || raw.contains(char::REPLACEMENT_CHARACTER)
        {
            return Err(InvalidKey);
        }
        Ok(IdempotencyKey(raw.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a request of `call` may carry a key: the calls that can change money or cards.
pub fn applies_to(call: ApiCall) -> bool {
    matches!(
        call,
        ApiCall::CcByCli | ApiCall::CardFromGroupSell | ApiCall::CardPaymentAdd
    )
}

/// The parameters that never enter a fingerprint: the password, the hash (it follows from the
/// others and the key), `test` (it only changes the headers) and the key itself.
const NOT_FINGERPRINTED: [&str; 4] = ["p", "hash", "test", "idempotency_key"];

/// What identifies a request beyond its key: its call and its parameters (SHA1 hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of `call` with these parameters (name, value), in any order.
    pub fn of<'a>(call: ApiCall, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut params: Vec<(&str, &str)> = params
            .into_iter()
            .filter(|(name, _)| !NOT_FINGERPRINTED.contains(name))
            .collect();
        params.sort_unstable();
        // Each part prefixed with its length, so no two parameter lists read alike.
        let text: String = std::iter::once(call.name())
            .chain(params.iter().flat_map(|(name, value)| [*name, *value]))
            .map(|part| format!("{}:{part}", part.len()))
            .collect();
        Fingerprint(sha1_hex(&text))
    }

    /// A fingerprint as stored.
    pub fn from_stored(text: String) -> Fingerprint {
        Fingerprint(text)
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reply kept under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReply {
    /// The fingerprint of the request that made it.
    pub fingerprint: Fingerprint,
    /// The reply body, exactly as sent.
    pub body: String,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_and_at_most_255_characters() {
        assert!(IdempotencyKey::parse("order-42").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for raw in ["", "a\u{0}b", "line\nbreak", "ord\u{FFFD}"] {
            assert_eq!(IdempotencyKey::parse(raw), Err(InvalidKey), "{raw:?}");
        }
        assert_eq!(IdempotencyKey::parse(&"k".repeat(256)), Err(InvalidKey));
    }

    #[test]
    fn fingerprints_ignore_order_secrets_test_and_the_key() {
        let base = Fingerprint::of(
            ApiCall::CcByCli,
            [("u", "admin"), ("callerid", "4444"), ("amount", "5")],
        );
        let reordered = Fingerprint::of(
            ApiCall::CcByCli,
            [
                ("amount", "5"),
                ("p", "secret"),
                ("hash", "abc"),
                ("test", "1"),
                ("idempotency_key", "k"),
                ("callerid", "4444"),
                ("u", "admin"),
            ],
        );
        assert_eq!(base, reordered);
        let other_amount = Fingerprint::of(
            ApiCall::CcByCli,
            [("u", "admin"), ("callerid", "4444"), ("amount", "6")],
        );
        assert_ne!(base, other_amount);
        let other_call = Fingerprint::of(
            ApiCall::CardPaymentAdd,
            [("u", "admin"), ("callerid", "4444"), ("amount", "5")],
        );
        assert_ne!(base, other_call);
        // Lengths keep `a=bc` and `ab=c` apart.
        assert_ne!(
            Fingerprint::of(ApiCall::CcByCli, [("a", "bc")]),
            Fingerprint::of(ApiCall::CcByCli, [("ab", "c")])
        );
    }

    #[test]
    fn only_calls_that_change_money_or_cards_take_keys() {
        let keyed: Vec<ApiCall> = ApiCall::ALL
            .into_iter()
            .filter(|call| applies_to(*call))
            .collect();
        assert_eq!(
            keyed,
            [
                ApiCall::CcByCli,
                ApiCall::CardFromGroupSell,
                ApiCall::CardPaymentAdd
            ]
        );
    }
}
