//! The data set's shape and the request mix: which caller IDs, PINs and amounts a request
//! carries, and the MOR hash that makes it valid.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use morcc_domain::HashedParams;

/// The API user the seed creates (an admin, owner 0).
pub const API_USER: &str = "bench";
/// Its password.
pub const API_PASSWORD: &str = "bench-password";
/// `API_Secret_Key` of owner 0.
pub const API_SECRET: &str = "bench-secret-key";
/// The opening balance of every seeded card, as stored.
pub const CARD_OPENING_BALANCE: &str = "100.000000000000000";
/// Device users (customers) that own the seeded devices.
pub const DEVICE_USERS_MAX: usize = 1000;

/// How big the seeded data set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Cards, all sold, each with a caller ID.
    pub cards: usize,
    /// Card groups the cards are spread over (card `i` is in group `i % groups + 1`).
    pub groups: usize,
    /// Devices, each with one caller ID.
    pub devices: usize,
}

impl Shape {
    /// Customers owning the devices (ids 2..), ten devices each, at most [`DEVICE_USERS_MAX`].
    pub fn device_users(&self) -> usize {
        self.devices.div_ceil(10).clamp(1, DEVICE_USERS_MAX)
    }
}

/// Caller ID of card `i` (0-based; its row id is `i + 1`).
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

/// Percentages of look-ups, top-ups and PIN transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    /// Look-ups (amount 0).
    pub lookups: u32,
    /// Top-ups of a card or a device's user.
    pub topups: u32,
    /// PIN transfers between two cards of one group.
    pub transfers: u32,
}

impl Mix {
    /// The mix: 70 % look-ups, 25 % top-ups, 5 % PIN transfers.
    pub const STANDARD: Mix = Mix {
        lookups: 70,
        topups: 25,
        transfers: 5,
    };

    /// `70,25,5`, or `lookup`, `topup`, `transfer` for a pure workload.
    pub fn parse(text: &str) -> Result<Mix, String> {
        match text {
            "standard" => return Ok(Mix::STANDARD),
            "lookup" => return Ok(Mix::new(100, 0, 0)),
            "topup" => return Ok(Mix::new(0, 100, 0)),
            "transfer" => return Ok(Mix::new(0, 0, 100)),
            _ => {}
        }
        let parts: Vec<u32> = text
            .split(',')
            .map(|part| part.trim().parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("mix {text:?}: expected L,T,P percentages"))?;
        match parts.as_slice() {
            [l, t, p] if l + t + p > 0 => Ok(Mix::new(*l, *t, *p)),
            _ => Err(format!(
                "mix {text:?}: expected three percentages, not all 0"
            )),
        }
    }

    const fn new(lookups: u32, topups: u32, transfers: u32) -> Mix {
        Mix {
            lookups,
            topups,
            transfers,
        }
    }

    fn total(&self) -> u32 {
        self.lookups + self.topups + self.transfers
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}% look-ups / {}% top-ups / {}% PIN transfers",
            self.lookups, self.topups, self.transfers
        )
    }
}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Amount 0: the balance of a card or a device's user.
    Lookup,
    /// A positive amount.
    Topup,
    /// `pin` of one card, `callerid` of another card in its group.
    Transfer,
}

impl Kind {
    /// All kinds, in report order.
    pub const ALL: [Kind; 3] = [Kind::Lookup, Kind::Topup, Kind::Transfer];

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
        }
    }
}

/// Whose caller ID a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Card `i`.
    Card(usize),
    /// Device `d`.
    Device(usize),
}

/// One request, with everything it sends.
#[derive(Debug, Clone)]
pub struct Op {
    /// What it does.
    pub kind: Kind,
    /// The caller ID's holder.
    pub target: Target,
    /// `callerid`.
    pub callerid: String,
    /// `amount`.
    pub amount: Option<String>,
    /// `pin`.
    pub pin: Option<String>,
    /// `hash`.
    pub hash: String,
    /// For a transfer: the card whose PIN is sent (drained by it).
    source: Option<usize>,
    /// The target card was drained when the request was drawn: a success refills it.
    refills: bool,
}

impl Op {
    /// The request as a form body (`application/x-www-form-urlencoded`). Every value is
    /// digits, dots or plain letters, so nothing needs escaping.
    pub fn form_body(&self) -> String {
        let mut body = String::with_capacity(160);
        body.push_str("u=");
        body.push_str(API_USER);
        body.push_str("&p=");
        body.push_str(API_PASSWORD);
        body.push_str("&callerid=");
        body.push_str(&self.callerid);
        if let Some(amount) = &self.amount {
            body.push_str("&amount=");
            body.push_str(amount);
        }
        if let Some(pin) = &self.pin {
            body.push_str("&pin=");
            body.push_str(pin);
        }
        body.push_str("&hash=");
        body.push_str(&self.hash);
        body
    }
}

/// Card states of [`Workload`]: may be drained, being drained, drained.
const AVAILABLE: u8 = 0;
const CLAIMED: u8 = 1;
const DRAINED: u8 = 2;

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
        let roll = rng.below(self.mix.total() as usize) as u32;
        let kind = if roll < self.mix.lookups {
            Kind::Lookup
        } else if roll < self.mix.lookups + self.mix.topups {
            Kind::Topup
        } else {
            Kind::Transfer
        };
        if kind == Kind::Transfer {
            if let Some(op) = self.transfer(rng) {
                return op;
            }
        }
        let kind = if kind == Kind::Transfer {
            Kind::Topup
        } else {
            kind
        };
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
        let hashed = HashedParams::cc_by_cli(None, Some(amount), Some(&callerid), None);
        Op {
            kind,
            target,
            source: None,
            refills: kind == Kind::Topup && self.is_drained(target),
            hash: hashed.mor_hash(API_SECRET),
            callerid,
            amount: Some(amount.to_owned()),
            pin: None,
        }
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
            let claimed = self.drained[source].compare_exchange(
                AVAILABLE,
                CLAIMED,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
            if claimed.is_err() {
                continue;
            }
            let callerid = card_callerid(holder);
            let pin = card_pin(source);
            let hashed = HashedParams::cc_by_cli(Some(&pin), None, Some(&callerid), None);
            return Some(Op {
                kind: Kind::Transfer,
                target: Target::Card(holder),
                source: Some(source),
                refills: self.is_drained(Target::Card(holder)),
                hash: hashed.mor_hash(API_SECRET),
                callerid,
                amount: None,
                pin: Some(pin),
            });
        }
        None
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
