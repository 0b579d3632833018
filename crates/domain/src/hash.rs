//! The MOR API hash (spec §3 step 4) and constant-time comparison of secrets.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// The request parameters that enter the hash, in MOR's order, each as sent (`None` when not
/// sent, which contributes nothing).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct HashedParams<'a> {
    /// `pin`.
    pub pin: Option<&'a str>,
    /// `amount`.
    pub amount: Option<&'a str>,
    /// `callerid`.
    pub callerid: Option<&'a str>,
    /// `cardgroup_id` (or its alias `cardgroup`).
    pub cardgroup_id: Option<&'a str>,
}

impl std::fmt::Debug for HashedParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashedParams")
            .field("pin", &self.pin.map(|_| "<redacted>"))
            .field("amount", &self.amount)
            .field("callerid", &self.callerid)
            .field("cardgroup_id", &self.cardgroup_id)
            .finish()
    }
}

impl HashedParams<'_> {
    /// The string MOR hashes: the present values concatenated in order, then the key.
    fn hash_input(&self, secret_key: &str) -> String {
        [self.pin, self.amount, self.callerid, self.cardgroup_id]
            .into_iter()
            .flatten()
            .chain(std::iter::once(secret_key))
            .collect()
    }

    /// The hash a client must send: `sha1_hex(pin + amount + callerid + cardgroup_id + key)`.
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

    #[test]
    fn the_spec_s_first_example() {
        let params = HashedParams {
            cardgroup_id: Some("1"),
            callerid: Some("4444"),
            amount: Some("100"),
            pin: None,
        };
        assert_eq!(params.hash_input("secret"), "10044441secret");
        assert_eq!(
            params.mor_hash("secret"),
            "c30c6ca5d3f0e1376203f74ea0b2a3a89993fe33"
        );
    }

    #[test]
    fn the_spec_s_second_example() {
        let params = HashedParams {
            pin: Some("222"),
            amount: Some("50"),
            callerid: Some("7777"),
            cardgroup_id: Some("1"),
        };
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

    #[test]
    fn absent_and_empty_parameters_contribute_nothing() {
        let only_callerid = HashedParams {
            callerid: Some("4444"),
            ..Default::default()
        };
        let with_empties = HashedParams {
            pin: Some(""),
            amount: Some(""),
            callerid: Some("4444"),
            cardgroup_id: Some(""),
        };
        assert_eq!(only_callerid.mor_hash("k"), sha1_hex("4444k"));
        assert_eq!(with_empties.mor_hash("k"), only_callerid.mor_hash("k"));
    }

    #[test]
    fn debug_output_hides_the_pin() {
        let params = HashedParams {
            pin: Some("8675309"),
            callerid: Some("4444"),
            ..Default::default()
        };
        let shown = format!("{params:?}");
        assert!(
            !shown.contains("8675309") && shown.contains("4444"),
            "{shown}"
        );
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
            pin in proptest::option::of("\\PC{0,8}"),
            amount in proptest::option::of("\\PC{0,8}"),
            callerid in proptest::option::of("\\PC{0,8}"),
            cardgroup_id in proptest::option::of("\\PC{0,8}"),
            key in "\\PC{0,16}",
        ) {
            let params = HashedParams {
                pin: pin.as_deref(),
                amount: amount.as_deref(),
                callerid: callerid.as_deref(),
                cardgroup_id: cardgroup_id.as_deref(),
            };
            let expected = format!(
                "{}{}{}{}{}",
                pin.as_deref().unwrap_or_default(), amount.as_deref().unwrap_or_default(),
                callerid.as_deref().unwrap_or_default(), cardgroup_id.as_deref().unwrap_or_default(), key
            );
            let hash = params.mor_hash(&key);
            prop_assert_eq!(&hash, &sha1_hex(&expected));
            prop_assert_eq!(hash.len(), 40);
            prop_assert!(params.verify(&key, &hash));
        }

        #[test]
        fn constant_time_eq_agrees_with_eq(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            prop_assert_eq!(constant_time_eq(&a, &b), a == b);
        }
    }
}
