//! The operator's read-only subcommands: `groups`, `cards`, `card` and `payments`, as tables
//! for a person or, with `--json`, as JSON for a script (the keys are the tables' columns).
//!
//! Money is printed exactly, never through a float: tables show the value with its trailing
//! zeros dropped (`10.0`, `10.084033613445378`), JSON the stored decimal string
//! (`"10.000000000000000"`, as the `DECIMAL(30,15)` column holds it). PINs are shown only with
//! `--show-pins`.

use comfy_table::{presets, CellAlignment, Table};
use morcc_adapters::admin::reports::{self, CardFilter, Day, Payer, PaymentFilter, PaymentRecord};
use morcc_adapters::Database;
use morcc_domain::{Card, CardGroupId, CardNumber, Money};
use serde::Serialize;

use crate::cli::{CardArgs, CardsArgs, GroupsArgs, PaymentsArgs};
use crate::error::AppError;

/// `groups`: every card group with its price and stock.
pub fn groups(database: &Database, args: &GroupsArgs) -> Result<(), AppError> {
    let groups: Vec<GroupRow> = reports::card_groups(database)?
        .into_iter()
        .map(|stock| GroupRow {
            id: stock.group.id.0,
            name: stock.group.name,
            price: stock.group.price,
            currency: stock.group.currency,
            tax_id: stock.group.tax_id.map(|id| id.0),
            free: stock.free,
            sold: stock.sold,
        })
        .collect();
    if args.json {
        return print_json(&groups.iter().map(GroupRow::json).collect::<Vec<_>>());
    }
    if groups.is_empty() {
        println!("no card groups");
        return Ok(());
    }
    let mut table = table(&["id", "name", "price", "currency", "tax_id", "free", "sold"]);
    for group in &groups {
        table.add_row(vec![
            group.id.to_string(),
            group.name.clone(),
            group.price.plain(),
            if group.currency.is_empty() {
                "(system)".to_owned()
            } else {
                group.currency.clone()
            },
            group
                .tax_id
                .map_or_else(|| "-".to_owned(), |id| id.to_string()),
            group.free.to_string(),
            group.sold.to_string(),
        ]);
    }
    right_align(&mut table, &[0, 2, 4, 5, 6]);
    println!("{table}");
    Ok(())
}

/// `cards`: a group's cards, filtered.
pub fn cards(database: &Database, args: &CardsArgs) -> Result<(), AppError> {
    let filter = CardFilter {
        sold: match (args.sold, args.unsold) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        callerid: args.callerid.clone(),
        number: args.number.clone(),
    };
    let cards = reports::cards(database, CardGroupId(args.cardgroup_id), &filter)?;
    if args.json {
        let shown: Vec<_> = cards
            .iter()
            .map(|card| CardJson::of(card, args.show_pins))
            .collect();
        return print_json(&shown);
    }
    if cards.is_empty() {
        println!("no cards");
        return Ok(());
    }
    let mut columns = CARD_FIELDS.to_vec();
    if args.show_pins {
        columns.push("pin");
    }
    let mut table = table(&columns);
    for card in &cards {
        let mut row = card_cells(card);
        if args.show_pins {
            row.push(card.pin.expose().to_owned());
        }
        table.add_row(row);
    }
    right_align(&mut table, &[0, 2, 3]);
    println!("{table}");
    Ok(())
}

/// `card NUMBER`: the card and its payments, newest first.
pub fn card(database: &Database, args: &CardArgs) -> Result<(), AppError> {
    let number = CardNumber::parse(&args.number)
        .ok_or_else(|| AppError::Invalid(format!("not a card number: {:?}", args.number)))?;
    let card = reports::card(database, &number)?
        .ok_or_else(|| AppError::Invalid(format!("card {} was not found", args.number)))?;
    let payments = reports::card_payments(database, &card)?;
    if args.json {
        return print_json(&CardView {
            card: CardShown {
                card: CardJson::of(&card, args.show_pins),
                hidden: card.hidden,
            },
            payments: payments.iter().map(PaymentJson::of).collect(),
        });
    }
    let mut fields = table(&["field", "value"]);
    for (name, value) in CARD_FIELDS.into_iter().zip(card_cells(&card)) {
        fields.add_row(vec![name.to_owned(), value]);
    }
    fields.add_row(vec!["hidden".to_owned(), yes_no(card.hidden)]);
    if args.show_pins {
        fields.add_row(vec!["pin".to_owned(), card.pin.expose().to_owned()]);
    }
    println!("{fields}");
    println!();
    if payments.is_empty() {
        println!("no payments");
    } else {
        println!("payments, newest first:");
        println!("{}", payments_table(&payments));
    }
    Ok(())
}

/// `payments`: newest first, filtered.
pub fn payments(database: &Database, args: &PaymentsArgs) -> Result<(), AppError> {
    let since = args
        .since
        .as_deref()
        .map(|text| {
            Day::parse(text).ok_or_else(|| {
                AppError::Invalid(format!(
                    "--since takes a day written YYYY-MM-DD (such as 2026-12-01), not {text:?}"
                ))
            })
        })
        .transpose()?;
    let of = match (&args.card, &args.user) {
        (Some(number), _) => {
            Some(Payer::Card(CardNumber::parse(number).ok_or_else(|| {
                AppError::Invalid(format!("not a card number: {number:?}"))
            })?))
        }
        (None, Some(username)) => Some(Payer::User(username.clone())),
        (None, None) => None,
    };
    let payments = reports::payments(database, &PaymentFilter { since, of })?;
    if args.json {
        return print_json(&payments.iter().map(PaymentJson::of).collect::<Vec<_>>());
    }
    if payments.is_empty() {
        println!("no payments");
    } else {
        println!("{}", payments_table(&payments));
    }
    Ok(())
}

/// A row of `groups`.
struct GroupRow {
    id: i64,
    name: String,
    price: Money,
    currency: String,
    tax_id: Option<i64>,
    free: u64,
    sold: u64,
}

impl GroupRow {
    fn json(&self) -> GroupJson<'_> {
        GroupJson {
            id: self.id,
            name: &self.name,
            price: self.price.to_stored_string(),
            currency: &self.currency,
            tax_id: self.tax_id,
            free: self.free,
            sold: self.sold,
        }
    }
}

/// A card group as `groups --json` prints it.
#[derive(Serialize)]
struct GroupJson<'a> {
    id: i64,
    name: &'a str,
    price: String,
    /// As stored: blank for the system currency.
    currency: &'a str,
    tax_id: Option<i64>,
    free: u64,
    sold: u64,
}

/// A card as `cards --json` prints it; `pin` only with `--show-pins`.
#[derive(Serialize)]
struct CardJson<'a> {
    id: i64,
    number: &'a str,
    cardgroup_id: i64,
    balance: String,
    sold: bool,
    callerid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<&'a str>,
}

impl<'a> CardJson<'a> {
    fn of(card: &'a Card, show_pin: bool) -> CardJson<'a> {
        CardJson {
            id: card.id.0,
            number: card.number.as_str(),
            cardgroup_id: card.cardgroup_id.0,
            balance: card.balance.to_stored_string(),
            sold: card.sold,
            callerid: card.callerid.as_ref().map(|cli| cli.as_str()),
            pin: show_pin.then(|| card.pin.expose()),
        }
    }
}

/// `card --json`.
#[derive(Serialize)]
struct CardView<'a> {
    card: CardShown<'a>,
    payments: Vec<PaymentJson<'a>>,
}

/// The card of `card --json`: as `cards` prints it, and whether it is hidden from the API.
#[derive(Serialize)]
struct CardShown<'a> {
    #[serde(flatten)]
    card: CardJson<'a>,
    hidden: bool,
}

/// A payment as `payments --json` prints it.
#[derive(Serialize)]
struct PaymentJson<'a> {
    id: i64,
    date: &'a str,
    paymenttype: &'a str,
    card_number: Option<&'a str>,
    username: Option<&'a str>,
    amount: String,
    currency: &'a str,
    gross: String,
    tax: String,
    description: &'a str,
}

impl<'a> PaymentJson<'a> {
    fn of(payment: &'a PaymentRecord) -> PaymentJson<'a> {
        PaymentJson {
            id: payment.id,
            date: &payment.date,
            paymenttype: &payment.paymenttype,
            card_number: payment.card_number.as_deref(),
            username: payment.username.as_deref(),
            amount: payment.amount.to_stored_string(),
            currency: &payment.currency,
            gross: payment.gross.to_stored_string(),
            tax: payment.tax.to_stored_string(),
            description: &payment.description,
        }
    }
}

/// The names of the cells every card shows ([`card_cells`]), in order.
const CARD_FIELDS: [&str; 6] = [
    "id",
    "number",
    "cardgroup_id",
    "balance",
    "sold",
    "callerid",
];

/// The cells every card shows, named by [`CARD_FIELDS`].
fn card_cells(card: &Card) -> Vec<String> {
    vec![
        card.id.to_string(),
        card.number.as_str().to_owned(),
        card.cardgroup_id.to_string(),
        card.balance.plain(),
        yes_no(card.sold),
        card.callerid
            .as_ref()
            .map_or_else(|| "-".to_owned(), |cli| cli.as_str().to_owned()),
    ]
}

fn payments_table(payments: &[PaymentRecord]) -> Table {
    let mut table = table(&[
        "id",
        "date",
        "paymenttype",
        "card_number",
        "username",
        "amount",
        "currency",
        "gross",
        "tax",
        "description",
    ]);
    let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    for payment in payments {
        table.add_row(vec![
            payment.id.to_string(),
            payment.date.clone(),
            payment.paymenttype.clone(),
            or_dash(&payment.card_number),
            or_dash(&payment.username),
            payment.amount.plain(),
            payment.currency.clone(),
            payment.gross.plain(),
            payment.tax.plain(),
            payment.description.clone(),
        ]);
    }
    right_align(&mut table, &[0, 5, 7, 8]);
    table
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

/// A table with these column names, in plain ASCII (it pastes into a ticket as Markdown).
fn table(columns: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::ASCII_MARKDOWN)
        .set_header(columns.to_vec());
    table
}

fn right_align(table: &mut Table, columns: &[usize]) {
    for &index in columns {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn print_json(value: &impl Serialize) -> Result<(), AppError> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    println!("{text}");
    Ok(())
}
