//! The data set's shape and the request mix: which call a request makes, the caller IDs,
//! PINs, card numbers and amounts it carries, and the MOR hash that makes it valid.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use morcc_domain::{ApiCall, HashedParams};

/// The API user the seed creates (an admin, owner 0).
pub const API_USER: &str = "bench";
/// Its password.
pub const API_PASSWORD: &str = "bench-password";
/// `API_Secret_Key` of owner 0.
pub const API_SECRET: &str = "bench-secret-key";
/// The opening balance of every seeded card, as stored.
pub const CARD_OPENING_BALANCE: &str = "100.000000000000000";
/// The opening balance of every card of the sale group, as stored: what a sale leaves it.
pub const SALE_CARD_BALANCE: &str = "10.000000000000000";
/// The sale group's price (net of tax).
pub const SALE_GROUP_PRICE: &str = "10.000000000000000";
/// Device users (customers) that own the seeded devices.
pub const DEVICE_USERS_MAX: usize = 1000;
/// `description` of the bench's card payments.
const PAYMENT_DESCRIPTION: &str = "bench";

/// How big the seeded data set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Cards, all sold, each with a caller ID.
    pub cards: usize,
    /// Card groups the cards are spread over (card `i` is in group `i % groups + 1`).
    pub groups: usize,
    /// Devices, each with one caller ID.
    pub devices: usize,
    /// Free PIN cards of the sale group (unsold, no caller ID), topped back up to this many
    /// before every run that sells.
    pub sale_cards: usize,
}

impl Shape {
    /// The card group sales sell from: the one after the groups of the sold cards.
    pub fn sale_group(&self) -> usize {
        self.groups + 1
    }

    /// Customers owning the devices (ids 2..), ten devices each, at most [`DEVICE_USERS_MAX`].
    pub fn device_users(&self) -> usize {
        self.devices.div_ceil(10).clamp(1, DEVICE_USERS_MAX)
    }
}

/// Caller ID of card `i` (0-based; its row id is `i + 1`; cards of the sale group have none).
pub fn card_callerid(i: usize) -> String {
    format!("3706{i:07}")
}

/// PIN of card `i`.
pub fn card_pin(i: usize) -> String {
    format!("{i:08}")
}

/// Number of card `i`.
pub fn card_number(i: usize) -> String {
    format!("{i:010}")
}

/// Caller ID of device `d` (0-based).
pub fn device_callerid(d: usize) -> String {
    format!("3705{d:07}")
}

/// Shares of each kind of request, in percent (any total above 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    shares: [u32; Kind::COUNT],
}

impl Mix {
    /// The mix: 70 % look-ups, 25 % top-ups, 5 % PIN transfers.
    pub const STANDARD: Mix = Mix {
        shares: [70, 25, 5, 0, 0],
    };

    /// `70,25,5` (look-ups, top-ups, PIN transfers), optionally followed by sales and card
    /// payments (`40,20,10,15,15`); or one kind alone by name (`lookup`, `topup`, `transfer`,
    /// `sale`, `payment`), or `standard`.
    pub fn parse(text: &str) -> Result<Mix, String> {
        if text == "standard" {
            return Ok(Mix::STANDARD);
        }
        if let Some(kind) = Kind::ALL.into_iter().find(|kind| kind.flag_name() == text) {
            return Ok(Mix::only(kind));
        }
        let parts: Vec<u32> = text
            .split(',')
            .map(|part| part.trim().parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("mix {text:?}: expected L,T,P[,S[,A]] percentages or a kind"))?;
        if !(3..=Kind::COUNT).contains(&parts.len()) || parts.iter().all(|share| *share == 0) {
            return Err(format!(
                "mix {text:?}: expected three to five percentages, not all 0"
            ));
        }
        let mut shares = [0; Kind::COUNT];
        shares[..parts.len()].copy_from_slice(&parts);
        Ok(Mix { shares })
    }

    /// One kind of request alone.
    pub fn only(kind: Kind) -> Mix {
        let mut shares = [0; Kind::COUNT];
        shares[kind.index()] = 100;
        Mix { shares }
    }

    /// Whether some requests are of `kind`.
    pub fn includes(&self, kind: Kind) -> bool {
        self.shares[kind.index()] > 0
    }

    /// A kind drawn with the mix's shares.
    fn draw(&self, rng: &mut Rng) -> Kind {
        let total: u32 = self.shares.iter().sum();
        let mut roll = rng.below(total as usize) as u32;
        for kind in Kind::ALL {
            let share = self.shares[kind.index()];
            if roll < share {
                return kind;
            }
            roll -= share;
        }
        unreachable!("a roll below the total falls in some share")
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = Kind::ALL
            .into_iter()
            .filter(|kind| self.includes(*kind))
            .map(|kind| format!("{}% {}s", self.shares[kind.index()], kind.name()))
            .collect();
        f.write_str(&parts.join(" / "))
    }
}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `cc_by_cli` with amount 0: the balance of a card or a device's user.
    Lookup,
    /// `cc_by_cli` with a positive amount.
    Topup,
    /// `cc_by_cli` with the `pin` of one card and the `callerid` of another card in its group.
    Transfer,
    /// `card_from_group_sell` of one card of the sale group.
    Sale,
    /// `card_payment_add` onto a sold card, by number.
    Payment,
}

impl Kind {
    /// How many kinds there are (the length of per-kind arrays).
    pub const COUNT: usize = 5;

    /// All kinds, in report order.
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::Lookup,
        Kind::Topup,
        Kind::Transfer,
        Kind::Sale,
        Kind::Payment,
    ];

    /// Index into per-kind arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lookup => "look-up",
            Kind::Topup => "top-up",
            Kind::Transfer => "PIN transfer",
            Kind::Sale => "sale",
            Kind::Payment => "card payment",
        }
    }

    /// Its name in `--mix`.
    pub fn flag_name(self) -> &'static str {
        match self {
            Kind::Lookup => "lookup",
            Kind::Topup => "topup",
            Kind::Transfer => "transfer",
            Kind::Sale => "sale",
            Kind::Payment => "payment",
        }
    }

    /// The API call that does it.
    pub fn call(self) -> ApiCall {
        match self {
            Kind::Lookup | Kind::Topup | Kind::Transfer => ApiCall::CcByCli,
            Kind::Sale => ApiCall::CardFromGroupSell,
            Kind::Payment => ApiCall::CardPaymentAdd,
        }
    }

    /// Text only a successful reply of its call contains: the calls answer success in
    /// different envelopes, and their errors all in `<error>`.
    pub fn success_marker(self) -> &'static str {
        match self {
            Kind::Lookup | Kind::Topup | Kind::Transfer => "<status>ok</status>",
            Kind::Sale => "<card>",
            Kind::Payment => "<success>",
        }
    }
}

/// Whose balance a request reads or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Card `i`.
    Card(usize),
    /// Device `d`.
    Device(usize),
    /// A free card of the sale group, whichever the sale takes.
    SaleGroup,
}

/// One request, with everything it sends.
#[derive(Debug, Clone)]
pub struct Op {
    /// What it does.
    pub kind: Kind,
    /// Whose balance it reads or changes.
    pub target: Target,
    /// The call's own parameters, as sent (`u`, `p` and `hash` aside).
    params: Vec<(&'static str, String)>,
    /// `hash`.
    pub hash: String,
    /// For a transfer: the card whose PIN is sent (drained by it).
    source: Option<usize>,
    /// For a card payment: its card, held from transfers until the payment completes.
    held: Option<usize>,
    /// The target card was drained when the request was drawn: a success refills it.
    refills: bool,
}

impl Op {
    /// A request of `kind` with `params`, signed with the bench's API secret.
    fn signed(kind: Kind, target: Target, params: Vec<(&'static str, String)>) -> Op {
        let hash =
            HashedParams::of(kind.call(), |name| find_param(&params, name)).mor_hash(API_SECRET);
        Op {
            kind,
            target,
            params,
            hash,
            source: None,
            held: None,
            refills: false,
        }
    }

    /// The value of parameter `name`, when sent.
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name)
    }

    /// The path it is posted to.
    pub fn path(&self) -> String {
        format!("/api/{}", self.kind.call().name())
    }

    /// The request as a form body (`application/x-www-form-urlencoded`). Every value is
    /// digits, dots or plain letters, so nothing needs escaping.
    pub fn form_body(&self) -> String {
        let mut body = String::with_capacity(160);
        body.push_str("u=");
        body.push_str(API_USER);
        body.push_str("&p=");
        body.push_str(API_PASSWORD);
        for (name, value) in &self.params {
            body.push('&');
            body.push_str(name);
            body.push('=');
            body.push_str(value);
        }
        body.push_str("&hash=");
        body.push_str(&self.hash);
        body
    }
}

fn find_param<'a>(params: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(param, _)| *param == name)
        .map(|(_, value)| value.as_str())
}

/// Card states of [`Workload`]: may be drained, being drained, drained, being paid onto.
const AVAILABLE: u8 = 0;
const CLAIMED: u8 = 1;
const DRAINED: u8 = 2;
const PAYING: u8 = 3;
/// Cards a payment tries to hold before it settles for a top-up instead.
const PAYMENT_TRIES: usize = 64;

const AMOUNTS: [&str; 5] = ["1", "2.50", "5", "10", "0.01"];

/// A small, fast, non-cryptographic generator (xorshift64*): the load generator must cost
/// little CPU, and the requests need not be unpredictable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded; a zero seed is replaced.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The mix over a seeded data set, shared by every connection or thread of a run.
///
/// PIN transfers drain the PIN's card; a card drained by the benchmark is not picked as a
/// PIN card again until a request drawn after the drain tops it up, so transfers keep
/// succeeding (a transfer from an empty card would answer `PIN number balance is zero`).
/// A drained card is also unsold (cc_by_cli §4 C), and `card_payment_add` finds only sold
/// cards, so a payment goes only to a card not drained, held from transfers meanwhile.
#[derive(Debug)]
pub struct Workload {
    shape: Shape,
    mix: Mix,
    drained: Arc<[AtomicU8]>,
    cards_only: bool,
}

impl Workload {
    /// A workload on `shape` with `mix`.
    pub fn new(shape: Shape, mix: Mix) -> Workload {
        Workload {
            shape,
            mix,
            drained: (0..shape.cards).map(|_| AtomicU8::new(AVAILABLE)).collect(),
            cards_only: false,
        }
    }

    /// Look-ups and top-ups of cards only (no device caller IDs): the latency of a card
    /// look-up against the number of cards.
    pub fn cards_only(mut self) -> Workload {
        self.cards_only = true;
        self
    }

    /// The same data set (and the same knowledge of drained cards) with another mix.
    pub fn with_mix(&self, mix: Mix) -> Workload {
        Workload {
            shape: self.shape,
            mix,
            drained: self.drained.clone(),
            cards_only: self.cards_only,
        }
    }

    /// The mix.
    pub fn mix(&self) -> Mix {
        self.mix
    }

    /// Draws the next request.
    pub fn next_op(&self, rng: &mut Rng) -> Op {
        match self.mix.draw(rng) {
            // With every PIN card of the group drawn taken, a top-up goes instead.
            Kind::Transfer => self
                .transfer(rng)
                .unwrap_or_else(|| self.by_callerid(Kind::Topup, rng)),
            Kind::Sale => self.sale(),
            // With no sold card free of transfers found, a top-up goes instead.
            Kind::Payment => self
                .payment(rng)
                .unwrap_or_else(|| self.by_callerid(Kind::Topup, rng)),
            kind => self.by_callerid(kind, rng),
        }
    }

    /// A look-up or top-up of a caller ID drawn among all cards and devices.
    fn by_callerid(&self, kind: Kind, rng: &mut Rng) -> Op {
        let population = if self.cards_only {
            self.shape.cards
        } else {
            self.shape.cards + self.shape.devices
        };
        let pick = rng.below(population);
        let (target, callerid) = if pick < self.shape.cards {
            (Target::Card(pick), card_callerid(pick))
        } else {
            let device = pick - self.shape.cards;
            (Target::Device(device), device_callerid(device))
        };
        let amount = match kind {
            Kind::Lookup => "0",
            _ => AMOUNTS[rng.below(AMOUNTS.len())],
        };
        let mut op = Op::signed(
            kind,
            target,
            vec![("amount", amount.to_owned()), ("callerid", callerid)],
        );
        op.refills = kind == Kind::Topup && self.is_drained(target);
        op
    }

    /// A transfer from a card not drained by the benchmark to another card of its group.
    fn transfer(&self, rng: &mut Rng) -> Option<Op> {
        let groups = self.shape.groups.max(1);
        let per_group = self.shape.cards / groups;
        if per_group < 2 {
            return None;
        }
        let holder = rng.below(per_group * groups);
        let group = holder % groups;
        for _ in 0..8 {
            let source = rng.below(per_group) * groups + group;
            if source == holder {
                continue;
            }
            if !self.take(source, CLAIMED) {
                continue;
            }
            let target = Target::Card(holder);
            let mut op = Op::signed(
                Kind::Transfer,
                target,
                vec![
                    ("pin", card_pin(source)),
                    ("callerid", card_callerid(holder)),
                ],
            );
            op.source = Some(source);
            op.refills = self.is_drained(target);
            return Some(op);
        }
        None
    }

    /// One card of the sale group (the first free one, whichever that is when it runs).
    fn sale(&self) -> Op {
        Op::signed(
            Kind::Sale,
            Target::SaleGroup,
            vec![
                ("id", self.shape.sale_group().to_string()),
                ("quantity", "1".to_owned()),
            ],
        )
    }

    /// A payment onto a sold card drawn among those not drained, by its number, in the
    /// system currency.
    fn payment(&self, rng: &mut Rng) -> Option<Op> {
        for _ in 0..PAYMENT_TRIES {
            let card = rng.below(self.shape.cards);
            if !self.take(card, PAYING) {
                continue;
            }
            let mut op = Op::signed(
                Kind::Payment,
                Target::Card(card),
                vec![
                    ("number", card_number(card)),
                    ("amount", AMOUNTS[rng.below(AMOUNTS.len())].to_owned()),
                    ("description", PAYMENT_DESCRIPTION.to_owned()),
                ],
            );
            op.held = Some(card);
            return Some(op);
        }
        None
    }

    /// Moves an available `card` to `state` (claimed by a transfer, held by a payment); false
    /// when another request has it or it is drained.
    fn take(&self, card: usize, state: u8) -> bool {
        self.drained[card]
            .compare_exchange(AVAILABLE, state, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    fn is_drained(&self, target: Target) -> bool {
        matches!(target, Target::Card(card) if self.drained[card].load(Ordering::Acquire) == DRAINED)
    }

    /// Notes the outcome: a drained card that a later request refilled may be drained again.
    pub fn completed(&self, op: &Op, ok: bool) {
        // A failed transfer leaves its PIN card marked drained too: it may well be empty.
        if let Some(source) = op.source {
            self.drained[source].store(DRAINED, Ordering::Release);
        }
        // A payment only adds: its card is as drainable as before.
        if let Some(card) = op.held {
            self.drained[card].store(AVAILABLE, Ordering::Release);
        }
        if let (true, true, Target::Card(card)) = (ok, op.refills, op.target) {
            let _ = self.drained[card].compare_exchange(
                DRAINED,
                AVAILABLE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            cards: 100,
            groups: 5,
            devices: 10,
            sale_cards: 50,
        }
    }

    #[test]
    fn three_percentages_still_parse_and_five_add_sales_and_payments() {
        assert_eq!(Mix::parse("70,25,5"), Ok(Mix::STANDARD));
        let five = Mix::parse("40,20,10,15,15").unwrap();
        assert!(Kind::ALL.into_iter().all(|kind| five.includes(kind)));
        assert!(!Mix::parse("70,25,5").unwrap().includes(Kind::Sale));
        assert!(Mix::parse("0,0,0").is_err());
        assert!(Mix::parse("1,2").is_err());
        assert!(Mix::parse("1,2,3,4,5,6").is_err());
    }

    #[test]
    fn a_kind_by_name_is_that_kind_alone() {
        for kind in Kind::ALL {
            let mix = Mix::parse(kind.flag_name()).unwrap();
            let workload = Workload::new(shape(), mix);
            let mut rng = Rng::new(7);
            for _ in 0..20 {
                let op = workload.next_op(&mut rng);
                assert_eq!(op.kind, kind);
                workload.completed(&op, true);
            }
        }
    }

    #[test]
    fn sales_and_payments_carry_their_call_s_parameters_and_hash() {
        let mut rng = Rng::new(3);
        let sale = Workload::new(shape(), Mix::only(Kind::Sale)).next_op(&mut rng);
        assert_eq!(sale.path(), "/api/card_from_group_sell");
        assert_eq!(sale.param("id"), Some("6"));
        assert_eq!(sale.param("quantity"), Some("1"));
        // card_calls.md §1: email, id, quantity, then the key.
        let expected = morcc_domain::hash::sha1_hex(&format!("61{API_SECRET}"));
        assert_eq!(sale.hash, expected);

        let payment = Workload::new(shape(), Mix::only(Kind::Payment)).next_op(&mut rng);
        assert_eq!(payment.path(), "/api/card_payment_add");
        let number = payment.param("number").unwrap();
        let amount = payment.param("amount").unwrap();
        // description, number, amount, currency, then the key.
        let expected = morcc_domain::hash::sha1_hex(&format!(
            "{PAYMENT_DESCRIPTION}{number}{amount}{API_SECRET}"
        ));
        assert_eq!(payment.hash, expected);
    }

    #[test]
    fn a_payment_never_goes_to_a_card_a_transfer_left_unsold() {
        let shape = Shape {
            cards: 4,
            groups: 1,
            devices: 0,
            sale_cards: 0,
        };
        let workload = Workload::new(shape, Mix::only(Kind::Payment));
        for card in [0, 1, 2] {
            workload.drained[card].store(DRAINED, Ordering::Release);
        }
        let mut rng = Rng::new(11);
        let payment = workload.next_op(&mut rng);
        assert_eq!(payment.param("number"), Some(card_number(3).as_str()));
        // Held: no transfer takes its PIN, and no other payment waits on it meanwhile.
        assert_eq!(workload.next_op(&mut rng).kind, Kind::Topup);
        workload.completed(&payment, true);
        assert_eq!(workload.next_op(&mut rng).kind, Kind::Payment);
    }
}
