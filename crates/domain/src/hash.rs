//! The MOR API hash (spec §3 step 4) and constant-time comparison of secrets.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::api::ApiCall;

/// The values a request's hash covers: those of its call's hashed parameters
/// ([`ApiCall::hashed_parameters`]), in order, each as sent (`None` when not sent, which
/// contributes nothing).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HashedParams<'a> {
    values: Vec<Option<&'a str>>,
}

impl std::fmt::Debug for HashedParams<'_> {
    // How many, not what: the values include PINs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashedParams")
            .field("values", &self.values.len())
            .finish_non_exhaustive()
    }
}

impl<'a> HashedParams<'a> {
    /// The values of `call`'s hashed parameters, each found by its name with `value`.
    pub fn of(call: ApiCall, value: impl Fn(&str) -> Option<&'a str>) -> HashedParams<'a> {
        HashedParams {
            values: call
                .hashed_parameters()
                .iter()
                .map(|name| value(name))
                .collect(),
        }
    }

    /// The values `cc_by_cli` hashes, by name: the same as [`HashedParams::of`] with
    /// [`ApiCall::CcByCli`], for callers that hold the four values rather than a request.
    pub fn cc_by_cli(
        pin: Option<&'a str>,
        amount: Option<&'a str>,
        callerid: Option<&'a str>,
        cardgroup_id: Option<&'a str>,
    ) -> HashedParams<'a> {
        HashedParams::of(ApiCall::CcByCli, |name| match name {
            "pin" => pin,
            "amount" => amount,
            "callerid" => callerid,
            "cardgroup_id" => cardgroup_id,
            _ => None,
        })
    }

    /// The string MOR hashes: the present values concatenated in order, then the key.
    fn hash_input(&self, secret_key: &str) -> String {
        self.values
            .iter()
            .flatten()
            .copied()
            .chain(std::iter::once(secret_key))
            .collect()
    }

    /// The hash a client must send: `sha1_hex(values in order + key)`.
    pub fn mor_hash(&self, secret_key: &str) -> String {
        sha1_hex(&self.hash_input(secret_key))
    }

    /// Whether `supplied` is the right hash for `secret_key`, compared in constant time.
    pub fn verify(&self, secret_key: &str, supplied: &str) -> bool {
        constant_time_eq(&self.mor_hash(secret_key), &supplied.to_ascii_lowercase())
    }
}

/// Lower-case hex SHA1 of a string: MOR's password storage and API hash.
pub fn sha1_hex(text: &str) -> String {
    hex::encode(Sha1::digest(text.as_bytes()))
}

/// Compares two secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The hashed values of `call` for a request that sent `sent`.
    fn hashed<'a>(call: ApiCall, sent: &'a [(&'a str, &'a str)]) -> HashedParams<'a> {
        HashedParams::of(call, |name| {
            sent.iter()
                .find(|(sent_name, _)| *sent_name == name)
                .map(|(_, value)| *value)
        })
    }

    #[test]
    fn the_spec_s_first_example() {
        let params = hashed(
            ApiCall::CcByCli,
            &[
                ("cardgroup_id", "1"),
                ("callerid", "4444"),
                ("amount", "100"),
            ],
        );
        assert_eq!(params.hash_input("secret"), "10044441secret");
        assert_eq!(
            params.mor_hash("secret"),
            "c30c6ca5d3f0e1376203f74ea0b2a3a89993fe33"
        );
    }

    #[test]
    fn the_spec_s_second_example() {
        let params = hashed(
            ApiCall::CcByCli,
            &[
                ("pin", "222"),
                ("amount", "50"),
                ("callerid", "7777"),
                ("cardgroup_id", "1"),
            ],
        );
        assert_eq!(params.hash_input("secret"), "2225077771secret");
        assert_eq!(
            params.mor_hash("secret"),
            "706362c196bf05072e6bd43deb91c6ab71ed2cad"
        );
        assert!(params.verify("secret", "706362c196bf05072e6bd43deb91c6ab71ed2cad"));
        assert!(params.verify("secret", "706362C196BF05072E6BD43DEB91C6AB71ED2CAD"));
        assert!(!params.verify("secret2", "706362c196bf05072e6bd43deb91c6ab71ed2cad"));
        assert!(!params.verify("secret", ""));
    }

    /// The examples of card_calls.md §1, with parameters that are not hashed sent as well.
    #[test]
    fn the_card_calls_examples() {
        type Example<'a> = (ApiCall, &'a [(&'a str, &'a str)], &'a str);
        let examples: [Example; 6] = [
            (
                ApiCall::CardGroupGet,
                &[("id", "1")],
                "bc2f114099d16656d37e45fd9e8744cb9386d462",
            ),
            (
                ApiCall::CardFromGroupSell,
                &[
                    ("quantity", "1"),
                    ("id", "1"),
                    ("email", "test@test.lt"),
                    ("number", "5"),
                ],
                "be191f49ac6cf3004a89de3498a1275a7d15df03",
            ),
            (
                ApiCall::CardFromGroupSell,
                &[("id", "3"), ("quantity", "2")],
                "1a9ce54d9d4c3129b35270f5842430ab3345dd71",
            ),
            (
                ApiCall::CardBalanceGet,
                &[("number", "1111111000"), ("id", "9")],
                "0540cea252d6367fb32737b0cd22c0822330ec41",
            ),
            (
                ApiCall::CardPaymentAdd,
                &[
                    ("currency", "EUR"),
                    ("amount", "5"),
                    ("number", "1111111001"),
                    ("description", "refill"),
                ],
                "7ff6257c767cfb9b9cbde4e4f70a2d515e8e135f",
            ),
            (
                ApiCall::CardPaymentAdd,
                &[("number", "1111111001"), ("amount", "5")],
                "10c52385b238b26d8f3a6ce5c258486f62341cdf",
            ),
        ];
        for (call, sent, expected) in examples {
            assert_eq!(
                hashed(call, sent).mor_hash("secret"),
                expected,
                "{call:?} {sent:?}"
            );
        }
    }

    #[test]
    fn absent_and_empty_parameters_contribute_nothing() {
        let only_callerid = hashed(ApiCall::CcByCli, &[("callerid", "4444")]);
        let with_empties = hashed(
            ApiCall::CcByCli,
            &[
                ("pin", ""),
                ("amount", ""),
                ("callerid", "4444"),
                ("cardgroup_id", ""),
            ],
        );
        assert_eq!(only_callerid.mor_hash("k"), sha1_hex("4444k"));
        assert_eq!(with_empties.mor_hash("k"), only_callerid.mor_hash("k"));
    }

    #[test]
    fn debug_output_hides_the_values() {
        let params = hashed(
            ApiCall::CcByCli,
            &[("pin", "8675309"), ("callerid", "4444")],
        );
        let shown = format!("{params:?}");
        assert!(!shown.contains("8675309"), "{shown}");
    }

    #[test]
    fn sha1_of_a_known_password() {
        assert_eq!(
            sha1_hex("admin"),
            "d033e22ae348aeb5660fc2140aec35850c4da997"
        );
    }

    proptest! {
        #[test]
        fn the_hash_is_sha1_of_the_concatenation(
            pin in "\\PC{0,8}",
            amount in "\\PC{0,8}",
            callerid in "\\PC{0,8}",
            key in "\\PC{0,16}",
        ) {
            let sent = [("pin", pin.as_str()), ("amount", amount.as_str()), ("callerid", callerid.as_str())];
            let params = hashed(ApiCall::CcByCli, &sent);
            let hash = params.mor_hash(&key);
            prop_assert_eq!(&hash, &sha1_hex(&format!("{pin}{amount}{callerid}{key}")));
            prop_assert_eq!(hash.len(), 40);
            prop_assert!(params.verify(&key, &hash));
        }

        #[test]
        fn constant_time_eq_agrees_with_eq(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            prop_assert_eq!(constant_time_eq(&a, &b), a == b);
        }
    }
}
