//! The strings that identify a card or a phone: caller IDs, PINs and card numbers.

use std::fmt;

/// The widest caller ID, PIN or card number a column holds (`VARCHAR(255)`).
pub const MAX_CODE_LENGTH: usize = 255;

/// Whether every character can stand in an XML 1.0 reply as text: no control characters
/// (U+0000 to U+001F, U+007F to U+009F) and no non-characters U+FFFE, U+FFFF. A code the reply
/// echoes must be printable, or the client could not parse the reply to a request that did
/// succeed, and would send it again.
pub fn is_printable(code: &str) -> bool {
    code.chars().all(is_printable_char)
}

/// Whether one character can stand in an XML 1.0 reply as text ([`is_printable`]).
pub fn is_printable_char(c: char) -> bool {
    !c.is_control() && c != '\u{FFFE}' && c != '\u{FFFF}'
}

/// A caller ID (CLI): the phone number a customer calls from. Matched exactly, as sent.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CallerId(String);

/// The caller ID is blank, or longer than any stored caller ID can be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("callerid must be specified")]
pub struct CallerIdRequired;

impl CallerId {
    /// A caller ID as sent; blank (empty or only white space), wider than
    /// [`MAX_CODE_LENGTH`] characters, or holding a character no reply could carry
    /// ([`is_printable`]) is refused.
    pub fn parse(raw: &str) -> Result<CallerId, CallerIdRequired> {
        if raw.trim().is_empty() || raw.chars().count() > MAX_CODE_LENGTH || !is_printable(raw) {
            return Err(CallerIdRequired);
        }
        Ok(CallerId(raw.to_owned()))
    }

    /// The caller ID as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CallerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallerId({:?})", self.0)
    }
}

/// A calling card's PIN: a bearer secret, so its `Debug` form never shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pin(String);

/// Whether a card can have `raw` as its PIN or number: not empty, no wider than
/// [`MAX_CODE_LENGTH`] characters, [printable](is_printable).
fn is_card_code(raw: &str) -> bool {
    !raw.is_empty() && raw.chars().count() <= MAX_CODE_LENGTH && is_printable(raw)
}

impl Pin {
    /// A PIN as sent or stored; `None` when no card can have it (see `is_card_code`).
    pub fn parse(raw: &str) -> Option<Pin> {
        is_card_code(raw).then(|| Pin(raw.to_owned()))
    }

    /// The PIN itself, for storage and for the card reply.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// A calling card's number, as printed on the card.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CardNumber(String);

impl CardNumber {
    /// A card number as sent, chosen or stored; `None` when no card can have it
    /// (see `is_card_code`).
    pub fn parse(raw: &str) -> Option<CardNumber> {
        is_card_code(raw).then(|| CardNumber(raw.to_owned()))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_or_overlong_caller_ids_are_refused() {
        assert_eq!(CallerId::parse(""), Err(CallerIdRequired));
        assert_eq!(CallerId::parse("  \t"), Err(CallerIdRequired));
        assert_eq!(CallerId::parse(&"1".repeat(256)), Err(CallerIdRequired));
        assert_eq!(
            CallerId::parse(&"1".repeat(255)).unwrap().as_str().len(),
            255
        );
        assert_eq!(CallerId::parse("+370 600").unwrap().as_str(), "+370 600");
    }

    #[test]
    fn codes_with_characters_no_xml_reply_can_carry_are_refused() {
        for raw in [
            "44\u{1}44",
            "4444\u{0}",
            "44\n44",
            "\u{FFFE}4444",
            "44\u{7F}",
            "44\u{85}",
        ] {
            assert_eq!(CallerId::parse(raw), Err(CallerIdRequired), "{raw:?}");
            assert_eq!(Pin::parse(raw), None, "{raw:?}");
        }
        assert!(CallerId::parse("+370 (600) 12-34 ext. ä").is_ok());
    }

    #[test]
    fn a_pin_never_shows_in_debug_output() {
        let pin = Pin::parse("123456").unwrap();
        assert!(!format!("{pin:?}").contains("123456"));
        assert_eq!(pin.expose(), "123456");
        assert_eq!(Pin::parse(""), None);
        assert_eq!(Pin::parse(&"9".repeat(256)), None);
    }
}
