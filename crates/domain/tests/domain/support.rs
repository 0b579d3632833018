//! Builders for rows and requests, a ledger mock seeded from a small world of rows, a log of
//! the writes a request makes, and a `Store` that runs the work once on a mock ledger.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use morcc_domain::hash::sha1_hex;
use morcc_domain::ports::{MockAuditLog, MockCodeGenerator, MockDirectory, MockLedger};
use morcc_domain::pricing::OptionalTax;
use morcc_domain::{
    cc_by_cli, Account, BigDecimal, Caller, CallerId, Card, CardGroup, CardGroupId, CardId,
    CardKey, CardNumber, CardReply, CardRequest, CcError, Currency, Device, DeviceId, DeviceReply,
    DeviceUser, FailedAttempt, Holder, Ledger, Money, NewCard, OwnerId, Payment, Pin, Reply, Sale,
    SoldCard, Store, Tax, TaxId, UnitError, User, UserId, UserType,
};

/// The system currency (`currencies.id` = 1).
pub const SYSTEM_CURRENCY: &str = "USD";
/// The owner of the admin's card groups, users and settings.
pub const ADMIN_OWNER: OwnerId = OwnerId(0);
/// A reseller that owns rows the admin must not touch.
pub const OTHER_OWNER: OwnerId = OwnerId(5);
/// The caller ID most tests use.
pub const CLI: &str = "4444";

// Values.

pub fn money(text: &str) -> Money {
    Money::parse_stored(text).expect("test money is a plain decimal")
}

pub fn decimal(text: &str) -> BigDecimal {
    BigDecimal::from_str(text).expect("test decimal")
}

pub fn cli(text: &str) -> CallerId {
    CallerId::parse(text).expect("test caller ID")
}

pub fn pin(text: &str) -> Pin {
    Pin::parse(text).expect("test PIN")
}

/// A tax row: `rates[0]` is tax1, the others are enabled tax2..tax4.
pub fn tax(rates: &[&str], compound: bool) -> Tax {
    let optional = |index: usize| OptionalTax {
        enabled: rates.get(index).is_some(),
        percent: decimal(rates.get(index).copied().unwrap_or("0")),
    };
    Tax::from_row(
        decimal(rates[0]),
        [optional(1), optional(2), optional(3)],
        compound,
    )
}

pub fn currency(name: &str, rate: &str) -> Currency {
    Currency {
        name: name.to_owned(),
        exchange_rate: decimal(rate),
        active: true,
    }
}

// Rows.

/// The admin as an authenticated caller.
pub fn admin() -> Caller {
    Caller {
        id: UserId(1),
        owner: ADMIN_OWNER,
        usertype: UserType::Admin,
    }
}

/// A reseller (user id [`OTHER_OWNER`]) as an authenticated caller: it owns the rows of
/// [`OTHER_OWNER`].
pub fn reseller() -> Caller {
    Caller {
        id: UserId(OTHER_OWNER.0),
        owner: OTHER_OWNER,
        usertype: UserType::Reseller,
    }
}

/// A caller of this type acting for the admin's rows (owner 0), as accountants do.
pub fn caller_of_type(usertype: UserType) -> Caller {
    Caller {
        usertype,
        ..admin()
    }
}

/// A card group of the admin: default code lengths, no tax, the system currency, shown
/// (not hidden), named `group <id>`, priced 0.
pub fn group(id: i64) -> CardGroup {
    CardGroup {
        id: CardGroupId(id),
        owner_id: ADMIN_OWNER,
        number_length: 0,
        pin_length: 0,
        tax_id: None,
        currency: String::new(),
        name: format!("group {id}"),
        description: String::new(),
        image: "example.jpg".to_owned(),
        price: Money::zero(),
        hidden: false,
    }
}

/// A sold, active card without a caller ID. Its PIN is `9000<id>`.
pub fn card(id: i64, group: i64, balance: &str) -> Card {
    Card {
        id: CardId(id),
        cardgroup_id: CardGroupId(group),
        number: CardNumber::parse(&format!("{id:010}")).unwrap(),
        pin: pin(&format!("9000{id}")),
        balance: money(balance),
        sold: true,
        active: true,
        callerid: None,
        hidden: false,
    }
}

/// The PIN of `card(id, ..)`.
pub fn pin_of(id: i64) -> String {
    format!("9000{id}")
}

/// An unsold, inactive card without a caller ID: free when its balance is above zero.
pub fn unsold_card(id: i64, group: i64, balance: &str) -> Card {
    Card {
        sold: false,
        active: false,
        ..card(id, group, balance)
    }
}

/// `card` with another number.
pub fn with_number(card: Card, number: &str) -> Card {
    Card {
        number: CardNumber::parse(number).expect("test card number"),
        ..card
    }
}

/// A card bound to `callerid`.
pub fn card_with_cli(id: i64, group: i64, balance: &str, callerid: &str) -> Card {
    Card {
        callerid: Some(cli(callerid)),
        ..card(id, group, balance)
    }
}

/// A device as MOR stores it: `devices.user_id` (-1 for a provider's), no `providers` row.
pub fn device(id: i64, user_id: i64) -> Device {
    Device {
        id: DeviceId(id),
        user: DeviceUser::from_mor(user_id, false),
    }
}

pub fn user(id: i64, owner: OwnerId, balance: &str) -> User {
    User {
        id: UserId(id),
        owner_id: owner,
        balance: money(balance),
        tax_id: None,
    }
}

// Requests.

/// A request for `callerid` with nothing else sent.
pub fn ask(callerid: &str) -> CardRequest {
    CardRequest {
        callerid: Some(callerid.to_owned()),
        ..CardRequest::default()
    }
}

/// Adds the other parameters to a request.
pub trait RequestExt {
    fn amount(self, amount: &str) -> Self;
    fn group(self, cardgroup_id: &str) -> Self;
    fn pin(self, pin: &str) -> Self;
}

impl RequestExt for CardRequest {
    fn amount(self, amount: &str) -> Self {
        CardRequest {
            amount: Some(amount.to_owned()),
            ..self
        }
    }

    fn group(self, cardgroup_id: &str) -> Self {
        CardRequest {
            cardgroup_id: Some(cardgroup_id.to_owned()),
            ..self
        }
    }

    fn pin(self, pin: &str) -> Self {
        CardRequest {
            pin: Some(pin.to_owned()),
            ..self
        }
    }
}

// The world a ledger reads.

/// The rows a ledger mock answers reads from. Reads may happen any number of times; writes
/// are expected only where a test sets them up ([`allow_writes`]), so a stray write panics.
#[derive(Debug, Clone)]
pub struct World {
    /// `(callerids.cli, device)`.
    pub devices: Vec<(String, Device)>,
    pub users: Vec<User>,
    pub cards: Vec<Card>,
    pub groups: Vec<CardGroup>,
    pub taxes: Vec<(TaxId, Tax)>,
    /// Currencies other than the system one.
    pub currencies: Vec<Currency>,
    /// `currencies.id` = 1, if the row exists.
    pub system: Option<Currency>,
}

impl Default for World {
    fn default() -> Self {
        World {
            devices: Vec::new(),
            users: Vec::new(),
            cards: Vec::new(),
            groups: vec![group(1)],
            taxes: Vec::new(),
            currencies: Vec::new(),
            system: Some(currency(SYSTEM_CURRENCY, "1")),
        }
    }
}

impl World {
    /// A ledger mock whose reads answer from this world and which expects no write.
    pub fn ledger(&self) -> MockLedger {
        let mut ledger = MockLedger::new();
        let devices = self.devices.clone();
        ledger.expect_device_by_cli().returning(move |callerid| {
            Ok(devices
                .iter()
                .find(|(cli, _)| cli == callerid.as_str())
                .map(|(_, device)| device.clone()))
        });
        let users = self.users.clone();
        ledger
            .expect_lock_user()
            .returning(move |id| Ok(users.iter().find(|user| user.id == id).cloned()));
        let cards = self.cards.clone();
        ledger.expect_lock_card_by_cli().returning(move |callerid| {
            Ok(cards
                .iter()
                .find(|card| card.callerid.as_ref() == Some(callerid))
                .cloned())
        });
        let cards = self.cards.clone();
        ledger
            .expect_lock_card_by_pin()
            .returning(move |pin| Ok(cards.iter().find(|card| &card.pin == pin).cloned()));
        let cards = self.cards.clone();
        ledger.expect_lock_cards().returning(move |keys| {
            Ok(keys
                .iter()
                .map(|key| {
                    cards
                        .iter()
                        .find(|card| match key {
                            CardKey::Pin(pin) => &card.pin == pin,
                            CardKey::CallerId(cli) => card.callerid.as_ref() == Some(cli),
                        })
                        .cloned()
                })
                .collect())
        });
        let cards = self.cards.clone();
        ledger
            .expect_lock_card_by_number()
            .returning(move |number| Ok(cards.iter().find(|card| &card.number == number).cloned()));
        let cards = self.cards.clone();
        ledger.expect_free_card_count().returning(move |group| {
            Ok(u64::try_from(free_cards(&cards, group, usize::MAX).len()).expect("few cards"))
        });
        let cards = self.cards.clone();
        ledger
            .expect_lock_free_cards()
            .returning(move |group, limit| Ok(free_cards(&cards, group, limit)));
        let groups = self.groups.clone();
        ledger
            .expect_card_group()
            .returning(move |id| Ok(groups.iter().find(|group| group.id == id).cloned()));
        let taxes = self.taxes.clone();
        ledger.expect_tax().returning(move |id| {
            Ok(taxes
                .iter()
                .find(|(tax_id, _)| *tax_id == id)
                .map(|(_, tax)| tax.clone()))
        });
        let currencies: Vec<Currency> = self
            .system
            .iter()
            .cloned()
            .chain(self.currencies.iter().cloned())
            .collect();
        ledger.expect_currency().returning(move |name| {
            Ok(currencies
                .iter()
                .find(|currency| currency.name == name)
                .cloned())
        });
        let system = self.system.clone();
        ledger
            .expect_system_currency()
            .returning(move || Ok(system.clone()));
        ledger
    }
}

/// The free cards ([`Card::is_free`]) of `group` among `cards`, in order of number (as text),
/// then id, at most `limit`: what the ledger's `free_card_count` and `lock_free_cards` see.
pub fn free_cards(cards: &[Card], group: CardGroupId, limit: usize) -> Vec<Card> {
    let mut free: Vec<Card> = cards
        .iter()
        .filter(|card| card.cardgroup_id == group && card.is_free())
        .cloned()
        .collect();
    free.sort_by(|a, b| (a.number.as_str(), a.id).cmp(&(b.number.as_str(), b.id)));
    free.truncate(limit);
    free
}

// Writes.

/// One write a request made, in the order it made them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    UpdateCard(Card),
    InsertCard(NewCard),
    UserBalance(UserId, Money),
    Payment(Payment),
    Sale(Sale),
}

/// The writes a ledger received.
#[derive(Debug, Clone, Default)]
pub struct Writes(Arc<Mutex<Vec<Write>>>);

impl Writes {
    fn push(&self, write: Write) {
        self.0.lock().expect("writes log").push(write);
    }

    pub fn all(&self) -> Vec<Write> {
        self.0.lock().expect("writes log").clone()
    }

    pub fn payments(&self) -> Vec<Payment> {
        self.all()
            .into_iter()
            .filter_map(|write| match write {
                Write::Payment(payment) => Some(payment),
                _ => None,
            })
            .collect()
    }

    pub fn sales(&self) -> Vec<Sale> {
        self.all()
            .into_iter()
            .filter_map(|write| match write {
                Write::Sale(sale) => Some(sale),
                _ => None,
            })
            .collect()
    }

    /// Everything but the payments rows (sales included, so a stray sale shows).
    pub fn balances(&self) -> Vec<Write> {
        self.all()
            .into_iter()
            .filter(|write| !matches!(write, Write::Payment(_)))
            .collect()
    }
}

/// The id `insert_card` gives the first card it inserts (then 101, 102, ...).
pub const FIRST_NEW_CARD_ID: i64 = 100;

/// Lets the ledger accept every write, succeeding, and logs them.
pub fn allow_writes(ledger: &mut MockLedger) -> Writes {
    let writes = Writes::default();
    let log = writes.clone();
    ledger.expect_update_card().returning(move |card| {
        log.push(Write::UpdateCard(card.clone()));
        Ok(())
    });
    let log = writes.clone();
    let inserted = AtomicUsize::new(0);
    ledger.expect_insert_card().returning(move |card| {
        log.push(Write::InsertCard(card.clone()));
        let n = i64::try_from(inserted.fetch_add(1, Ordering::SeqCst)).expect("few inserts");
        Ok(card.clone().stored_as(CardId(FIRST_NEW_CARD_ID + n)))
    });
    let log = writes.clone();
    ledger
        .expect_update_user_balance()
        .returning(move |id, balance| {
            log.push(Write::UserBalance(id, balance.clone()));
            Ok(())
        });
    let log = writes.clone();
    ledger.expect_record_payment().returning(move |payment| {
        log.push(Write::Payment(payment.clone()));
        Ok(())
    });
    let log = writes.clone();
    ledger.expect_record_sale().returning(move |sale| {
        log.push(Write::Sale(sale.clone()));
        Ok(())
    });
    writes
}

/// The sale `caller` makes of `cards` (`(card id, group id, balance)`), in the system
/// currency.
pub fn sale_of(caller: &Caller, email: &str, cards: &[(i64, i64, &str)]) -> Sale {
    Sale {
        seller: caller.id,
        owner_id: caller.owner,
        email: email.to_owned(),
        currency: SYSTEM_CURRENCY.to_owned(),
        cards: cards
            .iter()
            .map(|(id, group, balance)| SoldCard {
                card_id: CardId(*id),
                cardgroup_id: CardGroupId(*group),
                price: money(balance),
            })
            .collect(),
    }
}

/// The fields of a payments row that the contract fixes (all but the free-text description).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub holder: Holder,
    pub amount: Money,
    pub tax: Money,
    pub gross: Money,
    pub currency: String,
    pub owner: OwnerId,
}

/// A payments row written for the admin.
pub fn row(holder: Holder, amount: &str, tax: &str, gross: &str, currency: &str) -> Row {
    Row {
        holder,
        amount: money(amount),
        tax: money(tax),
        gross: money(gross),
        currency: currency.to_owned(),
        owner: ADMIN_OWNER,
    }
}

/// The contract's fields of the payments rows written.
pub fn rows(payments: &[Payment]) -> Vec<Row> {
    payments
        .iter()
        .map(|payment| Row {
            holder: payment.holder,
            amount: payment.amount.clone(),
            tax: payment.tax.clone(),
            gross: payment.gross.clone(),
            currency: payment.currency.clone(),
            owner: payment.owner_id,
        })
        .collect()
}

// The store and the call.

/// A store that runs the work once on a mock ledger, and counts the units of work and, among
/// them, the look-ups.
#[derive(Debug)]
pub struct TestStore {
    ledger: Mutex<MockLedger>,
    transactions: AtomicUsize,
    look_ups: AtomicUsize,
}

impl TestStore {
    pub fn new(ledger: MockLedger) -> Self {
        TestStore {
            ledger: Mutex::new(ledger),
            transactions: AtomicUsize::new(0),
            look_ups: AtomicUsize::new(0),
        }
    }

    /// The units of work run, look-ups included.
    pub fn transactions(&self) -> usize {
        self.transactions.load(Ordering::SeqCst)
    }

    /// The units of work run as look-ups (`Store::run_look_up`).
    pub fn look_ups(&self) -> usize {
        self.look_ups.load(Ordering::SeqCst)
    }
}

impl Store for TestStore {
    fn run_unit(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
    ) -> Result<(), UnitError> {
        self.transactions.fetch_add(1, Ordering::SeqCst);
        let mut ledger = self.ledger.lock().expect("ledger");
        work(&mut *ledger)
    }

    fn run_look_up(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
    ) -> Result<(), UnitError> {
        self.look_ups.fetch_add(1, Ordering::SeqCst);
        self.run_unit(work)
    }
}

/// A code generator that gives `length` digits of a counter: 1, 2, 3, ... zero-padded.
pub fn codes() -> MockCodeGenerator {
    let mut codes = MockCodeGenerator::new();
    let next = AtomicUsize::new(1);
    codes
        .expect_digits()
        .returning(move |length| format!("{:0>length$}", next.fetch_add(1, Ordering::SeqCst)));
    codes
}

/// Runs one request of the admin on `ledger`.
pub fn run(ledger: MockLedger, request: &CardRequest) -> Result<Reply, CcError> {
    run_as(&admin(), ledger, request)
}

pub fn run_as(
    caller: &Caller,
    ledger: MockLedger,
    request: &CardRequest,
) -> Result<Reply, CcError> {
    let store = TestStore::new(ledger);
    let result = cc_by_cli(&store, &codes(), caller, request);
    assert_eq!(store.transactions(), 1, "one request is one transaction");
    result
}

pub fn card_reply(result: Result<Reply, CcError>) -> CardReply {
    match result {
        Ok(Reply::Card(reply)) => reply,
        other => panic!("expected a card reply, got {other:?}"),
    }
}

pub fn device_reply(result: Result<Reply, CcError>) -> DeviceReply {
    match result {
        Ok(Reply::Device(reply)) => reply,
        other => panic!("expected a device reply, got {other:?}"),
    }
}

// The filters.

/// An account whose password is `password`.
pub fn account(id: i64, username: &str, usertype: &str, password: &str) -> Account {
    Account {
        id: UserId(id),
        username: username.to_owned(),
        usertype: UserType::parse(usertype),
        owner_id: ADMIN_OWNER,
        password_sha1: sha1_hex(password),
        blocked: false,
    }
}

/// A directory of these accounts and settings `(name, owner, value)`.
pub fn directory(accounts: Vec<Account>, settings: &[(&str, i64, &str)]) -> MockDirectory {
    let mut directory = MockDirectory::new();
    directory
        .expect_account_by_username()
        .returning(move |username| {
            Ok(accounts
                .iter()
                .find(|account| account.username == username)
                .cloned())
        });
    let settings: Vec<(String, OwnerId, String)> = settings
        .iter()
        .map(|(name, owner, value)| ((*name).to_owned(), OwnerId(*owner), (*value).to_owned()))
        .collect();
    directory.expect_setting().returning(move |name, owner| {
        Ok(settings
            .iter()
            .find(|(setting, of, _)| setting == name && *of == owner)
            .map(|(_, _, value)| value.clone()))
    });
    directory
}

/// An audit log that keeps what it is given.
pub fn audit_log() -> (MockAuditLog, Arc<Mutex<Vec<FailedAttempt>>>) {
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&recorded);
    let mut audit = MockAuditLog::new();
    audit.expect_record_failure().returning(move |attempt| {
        log.lock().expect("audit log").push(attempt.clone());
    });
    (audit, recorded)
}
