//! The XML documents of the four card calls (card_calls.md §2 to §5).

use morcc_domain::{CardBalance, CardGroupShown, CardPayment, CardsSold};
use serde::Serialize;

use crate::reply::render;

/// Where an image named in `cardgroups.image` is served (card_calls.md §2).
const IMAGE_PATH: &str = "/billing/cards/";

#[derive(Serialize)]
#[serde(rename = "page")]
struct CardGroupPage<'a> {
    cardgroup: CardGroupElement<'a>,
}

#[derive(Serialize)]
struct CardGroupElement<'a> {
    name: &'a str,
    /// MOR's spelling, which clients parse.
    iamge_link: String,
    description: &'a str,
    price: String,
    price_with_tax: String,
    currency: &'a str,
    free_cards_size: u64,
    pin_length: usize,
    number_length: usize,
}

/// `card_group_get`: numbers printed with `digits` decimals.
pub fn card_group(shown: &CardGroupShown, digits: u32) -> String {
    let group = &shown.group;
    render(&CardGroupPage {
        cardgroup: CardGroupElement {
            name: &group.name,
            iamge_link: format!("{IMAGE_PATH}{}", group.image),
            description: &group.description,
            price: group.price.display(digits),
            price_with_tax: shown.price_with_tax.display(digits),
            currency: &shown.currency,
            free_cards_size: shown.free_cards,
            pin_length: group.pin_length,
            number_length: group.number_length,
        },
    })
}

#[derive(Serialize)]
#[serde(rename = "page")]
struct CardsPage<'a> {
    cards: CardsElement<'a>,
}

#[derive(Serialize)]
struct CardsElement<'a> {
    card: Vec<SoldCardElement<'a>>,
}

#[derive(Serialize)]
struct SoldCardElement<'a> {
    pin: &'a str,
    number: &'a str,
    balance_without_vat: String,
    currency: &'a str,
}

/// `card_from_group_sell`: one `card` per card sold.
pub fn cards_sold(sold: &CardsSold) -> String {
    render(&CardsPage {
        cards: CardsElement {
            card: sold
                .cards
                .iter()
                .map(|card| SoldCardElement {
                    pin: card.pin.expose(),
                    number: card.number.as_str(),
                    balance_without_vat: card.balance.plain(),
                    currency: &sold.currency,
                })
                .collect(),
        },
    })
}

#[derive(Serialize)]
#[serde(rename = "page")]
struct BalancePage<'a> {
    calling_card: BalanceElement<'a>,
}

#[derive(Serialize)]
struct BalanceElement<'a> {
    balance: String,
    currency: &'a str,
}

/// `card_balance_get`.
pub fn card_balance(balance: &CardBalance) -> String {
    render(&BalancePage {
        calling_card: BalanceElement {
            balance: balance.balance.plain(),
            currency: &balance.currency,
        },
    })
}

#[derive(Serialize)]
#[serde(rename = "page")]
struct PaymentPage<'a> {
    status: SuccessElement,
    calling_card_group: NameElement<'a>,
    calling_card: NumberElement<'a>,
    add_payment: AddPaymentElement<'a>,
}

#[derive(Serialize)]
struct SuccessElement {
    success: &'static str,
}

#[derive(Serialize)]
struct NameElement<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct NumberElement<'a> {
    number: &'a str,
}

#[derive(Serialize)]
struct AddPaymentElement<'a> {
    currency: &'a str,
    amount_with_tax: String,
    details: DetailsElement<'a>,
}

#[derive(Serialize)]
struct DetailsElement<'a> {
    current_balance: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    converted_to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchange_rate: Option<String>,
    amount_with_tax: String,
    amount_without_tax: String,
    new_balance: String,
    description: &'a str,
}

/// `card_payment_add`: every figure a plain decimal.
pub fn card_payment(payment: &CardPayment) -> String {
    render(&PaymentPage {
        status: SuccessElement {
            success: "Calling Card balance successfully updated",
        },
        calling_card_group: NameElement {
            name: &payment.group_name,
        },
        calling_card: NumberElement {
            number: payment.number.as_str(),
        },
        add_payment: AddPaymentElement {
            currency: &payment.currency,
            amount_with_tax: payment.paid.plain(),
            details: DetailsElement {
                current_balance: payment.current_balance.plain(),
                converted_to: payment
                    .conversion
                    .as_ref()
                    .map(|conversion| conversion.converted_to.as_str()),
                exchange_rate: payment
                    .conversion
                    .as_ref()
                    .map(|conversion| conversion.exchange_rate.plain()),
                amount_with_tax: payment.amount_with_tax.plain(),
                amount_without_tax: payment.amount_without_tax.plain(),
                new_balance: payment.new_balance.plain(),
                description: &payment.description,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use morcc_domain::money::Figure;
    use morcc_domain::{
        Card, CardGroup, CardGroupId, CardId, CardNumber, Conversion, Money, OwnerId, Pin,
    };

    fn money(text: &str) -> Money {
        Money::parse_stored(text).unwrap()
    }

    fn group() -> CardGroup {
        CardGroup {
            id: CardGroupId(1),
            owner_id: OwnerId(0),
            number_length: 10,
            pin_length: 4,
            tax_id: None,
            currency: String::new(),
            name: "Test_cardgroup".into(),
            description: "10 minutes cards".into(),
            image: "example.jpg".into(),
            price: money("10.084033613445378"),
            hidden: false,
        }
    }

    /// The example of card_calls.md §2: a group priced 10.084033613445378 with one 21 % tax.
    #[test]
    fn the_spec_s_card_group() {
        let shown = CardGroupShown {
            price_with_tax: Figure::new(
                money("10.084033613445378").as_decimal() * money("1.21").as_decimal(),
            ),
            currency: "USD".into(),
            free_cards: 21,
            group: group(),
        };
        assert_eq!(
            card_group(&shown, 4),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <cardgroup>
    <name>Test_cardgroup</name>
    <iamge_link>/billing/cards/example.jpg</iamge_link>
    <description>10 minutes cards</description>
    <price>10.0840</price>
    <price_with_tax>12.2017</price_with_tax>
    <currency>USD</currency>
    <free_cards_size>21</free_cards_size>
    <pin_length>4</pin_length>
    <number_length>10</number_length>
  </cardgroup>
</page>
"
        );
    }

    fn card(id: i64, pin: &str, number: &str, balance: &str) -> Card {
        Card {
            id: CardId(id),
            cardgroup_id: CardGroupId(1),
            number: CardNumber::parse(number).unwrap(),
            pin: Pin::parse(pin).unwrap(),
            balance: money(balance),
            sold: true,
            active: true,
            callerid: None,
            hidden: false,
        }
    }

    #[test]
    fn the_spec_s_cards_sold_one_element_per_card() {
        let sold = CardsSold {
            cards: vec![
                card(6, "8870", "1111111006", "10.084033613445378"),
                card(7, "0071", "1111111007", "20"),
            ],
            currency: "USD".into(),
        };
        assert_eq!(
            cards_sold(&sold),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <cards>
    <card>
      <pin>8870</pin>
      <number>1111111006</number>
      <balance_without_vat>10.084033613445378</balance_without_vat>
      <currency>USD</currency>
    </card>
    <card>
      <pin>0071</pin>
      <number>1111111007</number>
      <balance_without_vat>20.0</balance_without_vat>
      <currency>USD</currency>
    </card>
  </cards>
</page>
"
        );
    }

    #[test]
    fn the_spec_s_balance() {
        let balance = CardBalance {
            balance: money("20"),
            currency: "USD".into(),
        };
        assert_eq!(
            card_balance(&balance),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <calling_card>
    <balance>20.0</balance>
    <currency>USD</currency>
  </calling_card>
</page>
"
        );
    }

    fn payment(conversion: Option<Conversion>) -> CardPayment {
        CardPayment {
            group_name: "Test_cardgroup".into(),
            number: CardNumber::parse("1111111001").unwrap(),
            paid: money("5"),
            currency: "EUR".into(),
            conversion,
            amount_with_tax: money("6.770196145039483"),
            amount_without_tax: money("6.321378286684858"),
            current_balance: money("10.084033613445378"),
            new_balance: money("16.405411900130236"),
            description: "refill".into(),
        }
    }

    #[test]
    fn the_spec_s_payment() {
        let converted = payment(Some(Conversion {
            converted_to: "USD".into(),
            exchange_rate: money("0.73853104"),
        }));
        assert_eq!(
            card_payment(&converted),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <status>
    <success>Calling Card balance successfully updated</success>
  </status>
  <calling_card_group>
    <name>Test_cardgroup</name>
  </calling_card_group>
  <calling_card>
    <number>1111111001</number>
  </calling_card>
  <add_payment>
    <currency>EUR</currency>
    <amount_with_tax>5.0</amount_with_tax>
    <details>
      <current_balance>10.084033613445378</current_balance>
      <converted_to>USD</converted_to>
      <exchange_rate>0.73853104</exchange_rate>
      <amount_with_tax>6.770196145039483</amount_with_tax>
      <amount_without_tax>6.321378286684858</amount_without_tax>
      <new_balance>16.405411900130236</new_balance>
      <description>refill</description>
    </details>
  </add_payment>
</page>
"
        );
        let unconverted = card_payment(&payment(None));
        assert!(!unconverted.contains("converted_to") && !unconverted.contains("exchange_rate"));
    }
}
