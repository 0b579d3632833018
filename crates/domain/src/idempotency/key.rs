//! The values of idempotency: a client's key, the fingerprint of a request, a kept reply.

use crate::api::ApiCall;
use crate::codes::is_printable;
use crate::hash::sha1_hex;

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
