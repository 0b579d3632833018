//! Request parameters (spec §1, §2): from the query string, a form body or a JSON object body;
//! a name in the body beats the same name in the query string.

use std::collections::HashMap;

use morcc_domain::{
    ApiCall, CardRequest, Credentials, HashedParams, Method, PaymentRequest, SaleRequest,
};
use serde_json::value::RawValue;

/// The parameters of one request, each as sent.
#[derive(Default, PartialEq, Eq)]
pub struct Params {
    values: HashMap<String, String>,
}

impl std::fmt::Debug for Params {
    // Names only: the values hold the password, the hash and PINs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

/// How a body is encoded, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/json`.
    Json,
    /// Anything else: the body carries no parameters.
    Other,
}

impl BodyKind {
    /// Reads a `Content-Type` header value (parameters such as `charset` are ignored).
    pub fn from_content_type(content_type: Option<&str>) -> BodyKind {
        let essence = content_type
            .and_then(|value| value.split(';').next())
            .map(|value| value.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("application/x-www-form-urlencoded") => BodyKind::Form,
            Some("application/json") => BodyKind::Json,
            _ => BodyKind::Other,
        }
    }
}

impl Params {
    /// Collects the query string's parameters, then lets the body's override them. Within one
    /// source a repeated name keeps its last value. Undecodable input yields fewer parameters,
    /// never an error: the filters then answer as for any incomplete request.
    pub fn collect(query: &str, body_kind: BodyKind, body: &[u8]) -> Params {
        let mut values = HashMap::new();
        values.extend(form_pairs(query.as_bytes()));
        match body_kind {
            BodyKind::Form => values.extend(form_pairs(body)),
            BodyKind::Json => values.extend(json_pairs(body)),
            BodyKind::Other => {}
        }
        Params { values }
    }

    /// Every parameter sent, as (name, value), in no particular order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// `cardgroup_id`, or its alias `cardgroup` (spec §1).
    fn cardgroup_id(&self) -> Option<&str> {
        self.get("cardgroup_id").or_else(|| self.get("cardgroup"))
    }

    /// A parameter by its canonical name, aliases included: the hash treats `cardgroup` as
    /// `cardgroup_id`.
    fn canonical(&self, name: &str) -> Option<&str> {
        match name {
            "cardgroup_id" => self.cardgroup_id(),
            name => self.get(name),
        }
    }

    /// Whether the reply is rendered inline (`test=1`).
    pub fn is_test(&self) -> bool {
        self.get("test") == Some("1")
    }

    /// What the filters of `call` check.
    pub fn credentials(&self, call: ApiCall, method: Method) -> Credentials<'_> {
        Credentials {
            call,
            username: self.get("u"),
            password: self.get("p"),
            hash: self.get("hash"),
            hashed: HashedParams::of(call, |name| self.canonical(name)),
            method,
        }
    }

    /// What the call itself reads.
    pub fn card_request(&self) -> CardRequest {
        let owned = |value: Option<&str>| value.map(str::to_owned);
        CardRequest {
            callerid: owned(self.get("callerid")),
            pin: owned(self.get("pin")),
            amount: owned(self.get("amount")),
            cardgroup_id: owned(self.cardgroup_id()),
        }
    }

    /// What `card_from_group_sell` reads.
    pub fn sale_request(&self) -> SaleRequest<'_> {
        SaleRequest {
            id: self.get("id"),
            quantity: self.get("quantity"),
            number: self.get("number"),
            email: self.get("email"),
        }
    }

    /// What `card_payment_add` reads.
    pub fn payment_request(&self) -> PaymentRequest<'_> {
        PaymentRequest {
            number: self.get("number"),
            amount: self.get("amount"),
            currency: self.get("currency"),
            description: self.get("description"),
        }
    }
}

fn form_pairs(input: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(input).map(|(name, value)| (name.into_owned(), value.into_owned()))
}

/// The members of a JSON object: strings as they are, numbers and booleans by their literal
/// text as sent (`100.50` stays `100.50`, `1e3` stays `1e3`, which the amount grammar then
/// refuses). Null, arrays, objects and a body that is not a JSON object contribute nothing;
/// a repeated member keeps its last value.
fn json_pairs(body: &[u8]) -> Vec<(String, String)> {
    let Ok(members) = serde_json::from_slice::<HashMap<String, Box<RawValue>>>(body) else {
        return Vec::new();
    };
    members
        .into_iter()
        .filter_map(|(name, value)| {
            let literal = value.get();
            let text = match literal.as_bytes().first()? {
                b'"' => serde_json::from_str::<String>(literal).ok()?,
                b'n' | b'[' | b'{' => return None,
                _ => literal.to_owned(),
            };
            Some((name, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_body_beats_the_query_string() {
        let params = Params::collect("u=query&amount=1", BodyKind::Form, b"u=body");
        assert_eq!(params.get("u"), Some("body"));
        assert_eq!(params.get("amount"), Some("1"));
    }

    #[test]
    fn json_numbers_keep_their_literal_text() {
        let params = Params::collect(
            "",
            BodyKind::Json,
            br#"{"amount": 100.50, "callerid": "4444", "cardgroup_id": 1, "x": null}"#,
        );
        assert_eq!(params.get("amount"), Some("100.50"));
        assert_eq!(params.get("callerid"), Some("4444"));
        assert_eq!(params.get("cardgroup_id"), Some("1"));
        assert_eq!(params.get("x"), None);
    }

    #[test]
    fn json_numbers_in_any_notation_and_booleans_are_taken_literally() {
        let params = Params::collect(
            "",
            BodyKind::Json,
            br#"{"amount": 1e3, "pin": 0.10, "test": true, "cardgroup_id": -1, "u": "a\u0062"}"#,
        );
        assert_eq!(params.get("amount"), Some("1e3"));
        assert_eq!(params.get("pin"), Some("0.10"));
        assert_eq!(params.get("test"), Some("true"));
        assert_eq!(params.get("cardgroup_id"), Some("-1"));
        assert_eq!(params.get("u"), Some("ab"));
    }

    #[test]
    fn a_body_of_another_type_or_malformed_json_is_ignored() {
        assert_eq!(
            Params::collect("u=a", BodyKind::Other, b"u=b").get("u"),
            Some("a")
        );
        assert_eq!(
            Params::collect("u=a", BodyKind::Json, b"{not json").get("u"),
            Some("a")
        );
        assert_eq!(
            Params::collect("u=a", BodyKind::Json, b"[1,2]").get("u"),
            Some("a")
        );
    }

    #[test]
    fn cardgroup_is_an_alias_of_cardgroup_id() {
        let alias = Params::collect("cardgroup=7", BodyKind::Other, b"");
        assert_eq!(alias.card_request().cardgroup_id.as_deref(), Some("7"));
        let key = "k";
        let hashed_alias = alias.credentials(ApiCall::CcByCli, Method::Post).hashed;
        let canonical = Params::collect("cardgroup_id=7", BodyKind::Other, b"");
        let hashed_canonical = canonical.credentials(ApiCall::CcByCli, Method::Post).hashed;
        assert_eq!(hashed_alias.mor_hash(key), hashed_canonical.mor_hash(key));
        assert_ne!(
            hashed_alias.mor_hash(key),
            Params::collect("", BodyKind::Other, b"")
                .credentials(ApiCall::CcByCli, Method::Post)
                .hashed
                .mor_hash(key)
        );
        let both = Params::collect("cardgroup=7&cardgroup_id=8", BodyKind::Other, b"");
        assert_eq!(both.card_request().cardgroup_id.as_deref(), Some("8"));
    }

    #[test]
    fn percent_encoding_and_plus_are_decoded_and_invalid_utf8_is_replaced() {
        let params = Params::collect("callerid=%2B370+600&pin=%FF", BodyKind::Other, b"");
        assert_eq!(params.get("callerid"), Some("+370 600"));
        assert_eq!(params.get("pin"), Some("\u{FFFD}"));
    }

    #[test]
    fn content_types_are_read_by_their_essence() {
        assert_eq!(
            BodyKind::from_content_type(Some("application/x-www-form-urlencoded; charset=UTF-8")),
            BodyKind::Form
        );
        assert_eq!(
            BodyKind::from_content_type(Some("Application/JSON")),
            BodyKind::Json
        );
        assert_eq!(
            BodyKind::from_content_type(Some("text/plain")),
            BodyKind::Other
        );
        assert_eq!(BodyKind::from_content_type(None), BodyKind::Other);
    }

    #[test]
    fn debug_output_shows_no_values() {
        let params = Params::collect("p=hunter2&hash=abc&pin=1234", BodyKind::Other, b"");
        let shown = format!("{params:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("abc") && !shown.contains("1234"));
    }

    proptest! {
        #[test]
        fn any_input_is_parsed_without_panicking(query in "\\PC{0,64}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            for kind in [BodyKind::Form, BodyKind::Json, BodyKind::Other] {
                let params = Params::collect(&query, kind, &body);
                let _ = params.card_request();
                for call in ApiCall::ALL {
                    let _ = params.credentials(call, Method::Get);
                }
            }
        }

        #[test]
        fn encoded_values_round_trip(value in "\\PC{0,32}") {
            let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("callerid", &value).finish();
            let params = Params::collect(&query, BodyKind::Other, b"");
            prop_assert_eq!(params.get("callerid"), Some(value.as_str()));
        }
    }
}
