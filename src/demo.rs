//! Demo data for the first start of the default SQLite database, and the curl lines that
//! exercise it: one per call of the API.

use std::net::SocketAddr;

use morcc_adapters::{admin, AdapterError, Database};
use morcc_domain::{
    settings, ApiCall, CardGroupId, CardNumber, HashedParams, Money, OwnerId, StoreError, Transact,
    UserType,
};
use rand::distr::{Alphanumeric, SampleString};

use crate::error::AppError;

/// How many PIN cards the demo puts on sale, and what each holds (also the group's price).
pub const DEMO_CARDS: usize = 5;
const DEMO_CARD_VALUE: &str = "10";

/// What the demo created, with the secrets the operator needs once (printed by
/// [`Demo::instructions`], never by `Debug`).
pub struct Demo {
    username: String,
    password: String,
    secret_key: String,
    cardgroup_id: i64,
    /// The number of the card `card_from_group_sell` sells first.
    first_for_sale: CardNumber,
}

/// Creates an admin with a generated password, enables the API (and GET) with a generated
/// secret key and payments over the API, and creates a card group priced 10 with
/// [`DEMO_CARDS`] unsold PIN cards of 10 each (no caller ID, so for sale).
pub fn seed(database: &Database) -> Result<Demo, AppError> {
    let password = random_text(16);
    let secret_key = random_text(24);
    let system = OwnerId(0);
    admin::create_user(
        database,
        "admin",
        &password,
        &UserType::Admin,
        system,
        &Money::zero(),
    )?;
    admin::set_setting(database, settings::ALLOW_API, "1", system)?;
    admin::set_setting(database, settings::ALLOW_GET_API, "1", system)?;
    admin::set_setting(database, settings::API_SECRET_KEY, &secret_key, system)?;
    admin::set_setting(database, settings::API_ALLOW_PAYMENTS_OVER_API, "1", system)?;
    let value = Money::parse_amount(DEMO_CARD_VALUE).expect("a plain decimal");
    let spec = admin::CardGroupSpec {
        name: "Demo calling cards".into(),
        price: value.clone(),
        description: "Demo PIN cards of 10".into(),
        ..Default::default()
    };
    let group = admin::create_card_group(database, &spec)?;
    for _ in 0..DEMO_CARDS {
        admin::create_card(
            database,
            &admin::CardSpec {
                cardgroup_id: group,
                balance: value.clone(),
                pin: None,
                number: None,
                callerid: None,
                sold: false,
            },
        )?;
    }
    Ok(Demo {
        username: "admin".into(),
        password,
        secret_key,
        cardgroup_id: group.0,
        first_for_sale: first_for_sale(database, group)?,
    })
}

/// The card a sale of one card takes first: asked of the same query the sale uses, so the
/// printed lines cannot disagree with it.
fn first_for_sale(database: &Database, group: CardGroupId) -> Result<CardNumber, AppError> {
    let free = database
        .read(|ledger| ledger.lock_free_cards(group, 1))
        .map_err(AdapterError::from)?;
    free.into_iter()
        .next()
        .map(|card| card.number)
        .ok_or_else(|| {
            AppError::Database(AdapterError::Store(StoreError::Failure(
                "the demo cards are not for sale".into(),
            )))
        })
}

fn random_text(length: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), length)
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("username", &self.username)
            .field("cardgroup_id", &self.cardgroup_id)
            .finish_non_exhaustive()
    }
}

impl Demo {
    /// The text printed on the first start: the credentials and one curl line per call, in an
    /// order in which each works (the card sold by the sale line is the one whose balance is
    /// read and topped up).
    pub fn instructions(&self, listening: SocketAddr) -> String {
        let host = if listening.ip().is_unspecified() {
            format!("127.0.0.1:{}", listening.port())
        } else {
            listening.to_string()
        };
        let cardgroup_id = self.cardgroup_id.to_string();
        let number = self.first_for_sale.as_str();
        let callerid = "37060000001";
        let curl = |call: ApiCall, params: &[(&str, &str)]| self.curl(&host, call, params);
        format!(
            "First start: demo data created.\n\
             \x20 API user:      {user} / {password}\n\
             \x20 API secret:    {key}\n\
             \x20 card group id: {cardgroup_id} ({DEMO_CARDS} PIN cards of {DEMO_CARD_VALUE} for sale)\n\
             Sell a card with 10.00 on it to caller ID {callerid}:\n\
             \x20 {cc_by_cli}\n\
             Show the card group (price, cards for sale):\n\
             \x20 {group_get}\n\
             Sell one PIN card of the group (the first for sale: number {number}):\n\
             \x20 {sell}\n\
             Read that card's balance:\n\
             \x20 {balance}\n\
             Add 5.00 to it:\n\
             \x20 {payment}\n\
             Hash other requests with: morcc hash --call NAME --number ... --amount ... --key {key}",
            user = self.username,
            password = self.password,
            key = self.secret_key,
            cc_by_cli = curl(
                ApiCall::CcByCli,
                &[
                    ("callerid", callerid),
                    ("amount", "10"),
                    ("cardgroup_id", &cardgroup_id),
                ]
            ),
            group_get = curl(ApiCall::CardGroupGet, &[("id", &cardgroup_id)]),
            sell = curl(
                ApiCall::CardFromGroupSell,
                &[("id", &cardgroup_id), ("quantity", "1")]
            ),
            balance = curl(ApiCall::CardBalanceGet, &[("number", number)]),
            payment = curl(
                ApiCall::CardPaymentAdd,
                &[("number", number), ("amount", "5")]
            ),
        )
    }

    /// A curl line that POSTs `params` to `call` as the demo's admin, with their hash.
    fn curl(&self, host: &str, call: ApiCall, params: &[(&str, &str)]) -> String {
        let hash = HashedParams::of(call, |name| {
            params
                .iter()
                .find(|(param, _)| *param == name)
                .map(|(_, value)| *value)
        })
        .mor_hash(&self.secret_key);
        let params: String = params
            .iter()
            .map(|(name, value)| format!("&{name}={value}"))
            .collect();
        format!(
            "curl -s -d 'u={user}&p={password}{params}&hash={hash}&test=1' http://{host}/api/{call}",
            user = self.username,
            password = self.password,
            call = call.name(),
        )
    }
}
