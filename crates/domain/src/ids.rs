//! Row identifiers. Distinct types so that a card id can never be passed as a user id.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// `cards.id`.
    CardId
);
id_type!(
    /// `cardgroups.id`.
    CardGroupId
);
id_type!(
    /// `users.id`.
    UserId
);
id_type!(
    /// `devices.id`.
    DeviceId
);
id_type!(
    /// `taxes.id`.
    TaxId
);
id_type!(
    /// The owner of users, card groups and settings: 0 for the admin, else a reseller's user id.
    OwnerId
);

impl CardGroupId {
    /// Parses the request's `cardgroup_id`: a positive decimal integer, nothing else.
    pub fn parse(raw: &str) -> Option<CardGroupId> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(CardGroupId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_group_ids_are_positive_integers() {
        assert_eq!(CardGroupId::parse("1"), Some(CardGroupId(1)));
        assert_eq!(CardGroupId::parse("007"), Some(CardGroupId(7)));
        for raw in [
            "",
            "0",
            "-1",
            "+1",
            "1.0",
            "1e2",
            " 1",
            "abc",
            "99999999999999999999",
        ] {
            assert_eq!(CardGroupId::parse(raw), None, "{raw:?}");
        }
    }
}
