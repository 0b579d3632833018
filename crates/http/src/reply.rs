//! The XML documents MOR answers (spec §5, §6), rendered with serde-xml-rs.

use morcc_domain::{ApiCall, CardReply, DeviceReply, Reply};
use serde::Serialize;

/// `<page><response>` of a card reply.
#[derive(Serialize)]
#[serde(rename = "page")]
struct CardPage<'a> {
    response: CardResponse<'a>,
}

#[derive(Serialize)]
struct CardResponse<'a> {
    status: &'static str,
    card: CardElement<'a>,
}

#[derive(Serialize)]
struct CardElement<'a> {
    id: i64,
    cardgroup_id: i64,
    balance: String,
    balance_with_vat: String,
    callerid: &'a str,
    pin: &'a str,
    number: &'a str,
}

/// `<page><response>` of a device reply.
#[derive(Serialize)]
#[serde(rename = "page")]
struct DevicePage {
    response: DeviceResponse,
}

#[derive(Serialize)]
struct DeviceResponse {
    status: &'static str,
    device_id: i64,
    user_id: i64,
    new_balance: String,
    new_balance_with_vat: String,
}

/// A filter error: `<status><error>` with no `<page>`.
#[derive(Serialize)]
#[serde(rename = "status")]
struct FilterErrorDocument<'a> {
    error: &'a str,
}

/// An action error: `<page><error>`.
#[derive(Serialize)]
#[serde(rename = "page")]
struct ActionErrorDocument<'a> {
    error: &'a str,
}

/// An action error of the card calls: `<page><status><error>`.
#[derive(Serialize)]
#[serde(rename = "page")]
struct StatusErrorDocument<'a> {
    status: ErrorElement<'a>,
}

#[derive(Serialize)]
struct ErrorElement<'a> {
    error: &'a str,
}

/// How a call wraps its action errors (spec §6; card_calls.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionEnvelope {
    /// `<page><error>`: cc_by_cli and card_balance_get.
    Page,
    /// `<page><status><error>`: the other card calls.
    PageStatus,
}

impl ActionEnvelope {
    /// The envelope of `call`'s action errors.
    pub fn of(call: ApiCall) -> ActionEnvelope {
        match call {
            ApiCall::CcByCli | ApiCall::CardBalanceGet => ActionEnvelope::Page,
            ApiCall::CardGroupGet | ApiCall::CardFromGroupSell | ApiCall::CardPaymentAdd => {
                ActionEnvelope::PageStatus
            }
        }
    }

    /// The XML of an action error in this envelope.
    pub fn error(self, text: &str) -> String {
        match self {
            ActionEnvelope::Page => action_error(text),
            ActionEnvelope::PageStatus => render(&StatusErrorDocument {
                status: ErrorElement { error: text },
            }),
        }
    }
}

/// The XML of a successful call, numbers printed with `digits` decimals.
pub fn success(reply: &Reply, digits: u32) -> String {
    match reply {
        Reply::Card(CardReply {
            card,
            balance_with_vat,
        }) => render(&CardPage {
            response: CardResponse {
                status: "ok",
                card: CardElement {
                    id: card.id.0,
                    cardgroup_id: card.cardgroup_id.0,
                    balance: card.balance.display(digits),
                    balance_with_vat: balance_with_vat.display(digits),
                    callerid: card
                        .callerid
                        .as_ref()
                        .map_or("", |callerid| callerid.as_str()),
                    pin: card.pin.expose(),
                    number: card.number.as_str(),
                },
            },
        }),
        Reply::Device(DeviceReply {
            device_id,
            user_id,
            new_balance,
            new_balance_with_vat,
        }) => render(&DevicePage {
            response: DeviceResponse {
                status: "ok",
                device_id: device_id.0,
                user_id: user_id.0,
                new_balance: new_balance.display(digits),
                new_balance_with_vat: new_balance_with_vat.display(digits),
            },
        }),
    }
}

/// The XML of a filter error (spec §6).
pub fn filter_error(text: &str) -> String {
    render(&FilterErrorDocument { error: text })
}

/// The XML of an action error (spec §6).
pub fn action_error(text: &str) -> String {
    render(&ActionErrorDocument { error: text })
}

/// The declaration, then the document indented by 2 spaces, then a newline.
pub(crate) fn render<T: Serialize>(document: &T) -> String {
    let config = serde_xml_rs::SerdeXml::new().emitter(
        xml::EmitterConfig::new()
            .perform_indent(true)
            .indent_string("  "),
    );
    match config.to_string(document) {
        Ok(mut xml) => {
            xml.push('\n');
            xml
        }
        // Our documents are flat structs of strings and integers: serialising them cannot fail.
        // Should it ever, a well-formed error document is still the right answer.
        Err(_) => FALLBACK.to_owned(),
    }
}

const FALLBACK: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <error>Failed to make transaction</error>\n</page>\n";

#[cfg(test)]
mod tests {
    use super::*;
    use morcc_domain::money::Figure;
    use morcc_domain::{Card, CardGroupId, CardId, CardNumber, DeviceId, Money, Pin, UserId};

    fn money(text: &str) -> Money {
        Money::parse_stored(text).unwrap()
    }

    #[test]
    fn card_reply() {
        let reply = Reply::Card(CardReply {
            card: Card {
                id: CardId(22),
                cardgroup_id: CardGroupId(1),
                number: CardNumber::parse("0123456789").unwrap(),
                pin: Pin::parse("123456").unwrap(),
                balance: money("90"),
                sold: true,
                active: true,
                callerid: Some(morcc_domain::CallerId::parse("4444").unwrap()),
                hidden: false,
            },
            balance_with_vat: Figure::new(money("90").as_decimal().clone()),
        });
        assert_eq!(
            success(&reply, 4),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <response>
    <status>ok</status>
    <card>
      <id>22</id>
      <cardgroup_id>1</cardgroup_id>
      <balance>90.0000</balance>
      <balance_with_vat>90.0000</balance_with_vat>
      <callerid>4444</callerid>
      <pin>123456</pin>
      <number>0123456789</number>
    </card>
  </response>
</page>
"
        );
    }

    #[test]
    fn device_reply() {
        let reply = Reply::Device(DeviceReply {
            device_id: DeviceId(5),
            user_id: UserId(3),
            new_balance: money("12.5"),
            new_balance_with_vat: Figure::new(money("13.75").as_decimal().clone()),
        });
        assert_eq!(
            success(&reply, 2),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <response>
    <status>ok</status>
    <device_id>5</device_id>
    <user_id>3</user_id>
    <new_balance>12.50</new_balance>
    <new_balance_with_vat>13.75</new_balance_with_vat>
  </response>
</page>
"
        );
    }

    #[test]
    fn error_envelopes() {
        assert_eq!(
            filter_error("Bad login"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<status>\n  <error>Bad login</error>\n</status>\n"
        );
        assert_eq!(
            action_error("Card was not found"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <error>Card was not found</error>\n</page>\n"
        );
        assert_eq!(action_error("Failed to make transaction"), FALLBACK);
        assert_eq!(
            ActionEnvelope::PageStatus.error("Free cards was not found"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <status>\n    <error>Free cards was not found</error>\n  </status>\n</page>\n"
        );
        assert_eq!(
            ActionEnvelope::of(ApiCall::CardBalanceGet).error("Calling Card was not found"),
            action_error("Calling Card was not found")
        );
    }

    #[test]
    fn text_is_escaped() {
        let xml = action_error("<a href=\"x\">&'");
        assert!(
            xml.contains("<error>&lt;a href=\"x\"&gt;&amp;'</error>"),
            "{xml}"
        );
    }
}
