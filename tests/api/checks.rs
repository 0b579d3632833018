//! What the reliability tests assert: replies are well-formed XML with a status or one of the
//! spec's error texts, every card's and user's balance equals the sum of its payments, and a
//! fingerprint of the data that hostile requests must leave unchanged.

use std::collections::BTreeMap;

use morcc_adapters::{admin, Database};
use morcc_domain::{CardGroupId, CardId, Holder, Money, UserId};

/// Every error text of spec §6.
pub const SPEC_ERRORS: [&str; 17] = [
    "Bad login",
    "API Requests are disabled",
    "GET Requests are disabled",
    "API must have Secret Key",
    "Incorrect hash",
    "Access Denied",
    "Callerid must be specified",
    "Callerid belongs to provider",
    "Device allready have such callerid, but you do not have permission to change user's balance",
    "Supplied Cardgroup_id is invalid",
    "Card was not found",
    "You do not have permission to access card",
    "PIN number not found",
    "PIN number balance is zero",
    "Cannot sell already sold card",
    "Invalid amount",
    "Failed to make transaction",
];

pub const TRANSACTION_FAILED: &str = "Failed to make transaction";

/// An XML element: its name, its child elements and its text (unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The text of the element at this path of child names.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        let mut element = self;
        for name in path {
            element = element.child(name)?;
        }
        Some(&element.text)
    }
}

/// Parses the subset of XML 1.0 a MOR reply may use (a declaration, elements without
/// attributes, text with the five predefined entities and character references), refusing
/// anything that is not well-formed: unbalanced or mismatched tags, a raw `<` or `&` in text,
/// an unknown entity, a character XML forbids, more than one root, trailing content.
pub fn parse_xml(body: &str) -> Result<Element, String> {
    const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    let rest = body.strip_prefix(DECLARATION).ok_or("no XML declaration")?;
    if let Some(bad) = rest.chars().find(|&c| !is_xml_char(c)) {
        return Err(format!("a character XML forbids: {:?}", bad));
    }
    let mut parser = Parser {
        input: rest,
        pos: 0,
    };
    parser.skip_space();
    let root = parser.element()?;
    parser.skip_space();
    if parser.pos != parser.input.len() {
        return Err(format!(
            "content after the root: {:?}",
            &parser.input[parser.pos..]
        ));
    }
    Ok(root)
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start_matches([' ', '\t', '\n', '\r']);
        self.pos = self.input.len() - trimmed.len();
    }

    fn name(&mut self) -> Result<String, String> {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if end == 0 || rest.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Err(format!("not a name at {:?}", rest));
        }
        self.pos += end;
        Ok(rest[..end].to_owned())
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            Ok(())
        } else {
            Err(format!("expected {token:?} at {:?}", self.rest()))
        }
    }

    fn element(&mut self) -> Result<Element, String> {
        self.expect("<")?;
        let name = self.name()?;
        self.skip_space();
        if self.rest().starts_with("/>") {
            self.pos += 2;
            return Ok(Element {
                name,
                children: Vec::new(),
                text: String::new(),
            });
        }
        self.expect(">")?;
        let mut children = Vec::new();
        let mut text = String::new();
        loop {
            let rest = self.rest();
            if rest.starts_with("</") {
                self.pos += 2;
                let closing = self.name()?;
                if closing != name {
                    return Err(format!("<{name}> closed by </{closing}>"));
                }
                self.skip_space();
                self.expect(">")?;
                break;
            } else if rest.starts_with('<') {
                children.push(self.element()?);
            } else if rest.is_empty() {
                return Err(format!("<{name}> is not closed"));
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                text.push_str(&unescape(&rest[..end])?);
                self.pos += end;
            }
        }
        if !children.is_empty() && !text.trim().is_empty() {
            return Err(format!("<{name}> mixes text and elements"));
        }
        if !children.is_empty() {
            text.clear();
        }
        Ok(Element {
            name,
            children,
            text,
        })
    }
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .ok_or_else(|| format!("a raw & in {raw:?}"))?;
        let entity = &rest[at + 1..at + end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16)
                } else if let Some(decimal) = entity.strip_prefix('#') {
                    decimal.parse()
                } else {
                    return Err(format!("unknown entity &{entity};"));
                }
                .map_err(|_| format!("bad character reference &{entity};"))?;
                char::from_u32(code)
                    .filter(|&c| is_xml_char(c))
                    .ok_or_else(|| {
                        format!("character reference to a forbidden character &{entity};")
                    })?
            }
        };
        out.push(c);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What a reply said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `<page><response><status>ok</status>...`.
    Ok(Element),
    /// `<page><error>TEXT</error></page>`.
    ActionError(String),
    /// `<status><error>TEXT</error></status>`.
    FilterError(String),
}

impl Outcome {
    /// A short label for tallies: `ok` or the error text.
    pub fn label(&self) -> String {
        match self {
            Outcome::Ok(_) => "ok".into(),
            Outcome::ActionError(text) | Outcome::FilterError(text) => text.clone(),
        }
    }
}

/// Checks a 200 reply: well-formed XML that is a success or carries one of the spec's error
/// texts in the right envelope.
pub fn classify(body: &str) -> Result<Outcome, String> {
    let root = parse_xml(body).map_err(|error| format!("{error} in {body:?}"))?;
    let outcome = match (root.name.as_str(), root.children.as_slice()) {
        ("page", [response]) if response.name == "response" => {
            if response.text_at(&["status"]) != Some("ok") {
                return Err(format!("a response without <status>ok</status>: {body:?}"));
            }
            Outcome::Ok(response.clone())
        }
        ("page", [error]) if error.name == "error" => Outcome::ActionError(error.text.clone()),
        ("status", [error]) if error.name == "error" => Outcome::FilterError(error.text.clone()),
        _ => return Err(format!("not a MOR reply: {body:?}")),
    };
    if let Outcome::ActionError(text) | Outcome::FilterError(text) = &outcome {
        if !SPEC_ERRORS.contains(&text.as_str()) {
            return Err(format!("an error text the spec does not list: {text:?}"));
        }
    }
    Ok(outcome)
}

// ---------------------------------------------------------------------------------------------
// The ledger.

/// The result of checking every card of some groups and some users against their payments.
#[derive(Debug, Clone)]
pub struct Audit {
    pub cards: usize,
    pub users: usize,
    pub payments: usize,
    pub balances_sum: Money,
    pub payments_sum: Money,
    pub openings_sum: Money,
    /// How many payments rows carry each amount (positive and negative).
    pub amounts: BTreeMap<Money, usize>,
    /// How many top-up rows (money paid in, not moved between holders) carry each amount.
    pub top_ups: BTreeMap<Money, usize>,
}

/// The description of the payments rows that move money between holders.
const TRANSFER: &str = "cc_by_cli: balance transfer";

/// Checks, for every card of `groups` and every user of `users`, that its balance equals its
/// opening balance (zero unless `openings` says otherwise; an opening writes no payment) plus
/// the sum of its payments rows, and sums them all. Panics on a mismatch.
pub fn audit(
    db: &Database,
    groups: &[CardGroupId],
    users: &[UserId],
    openings: &BTreeMap<CardId, Money>,
) -> Audit {
    let mut audit = Audit {
        cards: 0,
        users: users.len(),
        payments: 0,
        balances_sum: Money::zero(),
        payments_sum: Money::zero(),
        openings_sum: Money::zero(),
        amounts: BTreeMap::new(),
        top_ups: BTreeMap::new(),
    };
    let mut holders: Vec<(Holder, Money)> = Vec::new();
    for group in groups {
        for card in admin::cards_in_group(db, *group).expect("cards") {
            audit.cards += 1;
            let opening = openings.get(&card.id).cloned().unwrap_or_else(Money::zero);
            audit.openings_sum = &audit.openings_sum + &opening;
            holders.push((Holder::Card(card.id), &card.balance - &opening));
        }
    }
    for user in users {
        let balance = admin::user_balance(db, *user)
            .expect("a user balance")
            .expect("the user exists");
        holders.push((Holder::User(*user), balance));
    }
    for (holder, balance) in holders {
        let payments = admin::payments_for(db, holder).expect("payments");
        let sum = payments
            .iter()
            .fold(Money::zero(), |sum, payment| &sum + &payment.amount);
        assert_eq!(
            balance, sum,
            "{holder:?}: balance change {balance:?} but its payments add up to {sum:?}: {payments:#?}"
        );
        for payment in &payments {
            assert!(payment.completed, "an incomplete payment {payment:?}");
            *audit.amounts.entry(payment.amount.clone()).or_default() += 1;
            if payment.description != TRANSFER {
                *audit.top_ups.entry(payment.amount.clone()).or_default() += 1;
            }
        }
        audit.payments += payments.len();
        audit.balances_sum = &audit.balances_sum + &balance;
        audit.payments_sum = &audit.payments_sum + &sum;
    }
    assert_eq!(audit.balances_sum, audit.payments_sum);
    // From here on: the balances themselves, openings included.
    audit.balances_sum = &audit.balances_sum + &audit.openings_sum;
    audit
}

/// Everything a refused request must leave as it was: every card (id, group, balance, caller
/// ID, sold, active, PIN) of the first card groups, every user's balance, every payment row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    cards: Vec<String>,
    users: Vec<Option<Money>>,
    payments: Vec<String>,
}

/// Card groups and users are probed by id; the tests' data lives well within these ranges,
/// and a request that created rows would create them right after the last one.
const PROBED_GROUPS: i64 = 8;
const PROBED_USERS: i64 = 16;

pub fn fingerprint(db: &Database) -> Fingerprint {
    let mut cards = Vec::new();
    let mut payments = Vec::new();
    let mut card_ids: Vec<CardId> = Vec::new();
    for group in 1..=PROBED_GROUPS {
        for card in admin::cards_in_group(db, CardGroupId(group)).expect("cards") {
            card_ids.push(card.id);
            cards.push(format!(
                "{} {} {:?} {:?} {} {} {}",
                card.id,
                card.cardgroup_id,
                card.balance,
                card.callerid,
                card.sold,
                card.active,
                card.pin.expose()
            ));
        }
    }
    let users: Vec<Option<Money>> = (1..=PROBED_USERS)
        .map(|id| admin::user_balance(db, UserId(id)).expect("a user balance"))
        .collect();
    let holders = card_ids.into_iter().map(Holder::Card).chain(
        users
            .iter()
            .enumerate()
            .filter(|(_, balance)| balance.is_some())
            .map(|(index, _)| Holder::User(UserId(index as i64 + 1))),
    );
    for holder in holders {
        for payment in admin::payments_for(db, holder).expect("payments") {
            payments.push(format!("{holder:?} {payment:?}"));
        }
    }
    Fingerprint {
        cards,
        users,
        payments,
    }
}

#[test]
fn the_xml_checker_refuses_what_is_not_well_formed() {
    let ok = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <error>Card was not found</error>\n</page>\n";
    assert_eq!(
        classify(ok),
        Ok(Outcome::ActionError("Card was not found".into()))
    );
    let escaped = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>\n  <b>&lt;&amp;&gt;&#39;&#x22;</b>\n</a>\n";
    assert_eq!(parse_xml(escaped).unwrap().text_at(&["b"]), Some("<&>'\""));
    for bad in [
        "<page><error>x</error></page>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><page><error>a & b</error></page>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><page><error>a < b</error></page>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><page><error>x</page></error>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><page><error>x</error>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><page/><page/>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><page>\u{0}</page>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><page>&#0;</page>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><page>&nbsp;</page>",
    ] {
        assert!(parse_xml(bad).is_err(), "accepted {bad:?}");
    }
    let unknown =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <error>Oops</error>\n</page>\n";
    assert!(classify(unknown).is_err());
}
