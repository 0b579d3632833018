//! Batches of cards: a card group's print run, as MOR X7's `calling_cards_create` makes it.
//!
//! A batch is first [planned](plan) (read only: the group, the balance, the numbers it is to
//! have), then [created](create) in chunks of [`CHUNK_SIZE`] cards. Each chunk is one unit of
//! work of its own (one transaction, one pool checkout, so on MySQL well inside the watchdog's
//! deadline, [`crate::PoolSettings::statement_deadline`]): it passes over the numbers that are
//! taken by then, draws the PINs, and writes its cards with one multi-row `INSERT`. A chunk
//! that fails leaves the chunks before it committed and is reported with them
//! ([`Interrupted`]).
//!
//! Stock cards are not sales: no `payments` row is written; a card's balance is its opening
//! value (by default the group's `price`, net, in the system currency).

use std::collections::HashSet;
use std::str::FromStr;

use bigdecimal::ToPrimitive;

use diesel::dsl::{max, sql};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use morcc_domain::fresh_codes::{insert_with_fresh_codes, ChosenCodes, CODE_ATTEMPTS};
use morcc_domain::{
    BigDecimal, CardGroup, CardGroupId, CardNumber, Money, Pin, StoreError, Transact,
};

use crate::connection::{AnyConnection, Database};
use crate::error::{card_write_error, store_error};
use crate::money_sql;
use crate::schema::cards;
use crate::SecureCodes;

/// The most cards one batch makes: a typo in `--till` must not start a run of days.
pub const MAX_BATCH: u64 = 1_000_000;

/// Cards per chunk: one multi-row `INSERT` and one transaction.
pub const CHUNK_SIZE: usize = 1_000;

/// Which numbers a batch's cards get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Numbers {
    /// `count` free numbers of the group's length, in order, from the one after the group's
    /// highest number of that length (from 1 followed by zeros when it has none); numbers
    /// any card holds are passed over.
    Count(u64),
    /// Every number from `from` to `till`, both included, with their leading zeros; numbers
    /// any card holds are passed over. Both have the group's number length.
    Range {
        /// The first number.
        from: String,
        /// The last number.
        till: String,
    },
}

/// A batch to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRequest {
    /// The card group the cards belong to (and whose owner owns them).
    pub cardgroup_id: CardGroupId,
    /// Their numbers.
    pub numbers: Numbers,
    /// Each card's opening balance, net, in the system currency; `None`: the group's price.
    pub balance: Option<Money>,
}

/// Why a batch was refused before any card was made.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The request cannot be made as it is; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// The card group does not exist.
    #[error("card group {0} was not found")]
    NoGroup(CardGroupId),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A planned batch: its group, the balance of its cards and the numbers to try, in order.
#[derive(Debug, Clone)]
pub struct Batch {
    group: CardGroup,
    balance: Money,
    numbers: Vec<String>,
}

impl Batch {
    /// The card group.
    pub fn group(&self) -> &CardGroup {
        &self.group
    }

    /// Each card's opening balance.
    pub fn balance(&self) -> &Money {
        &self.balance
    }

    /// How many numbers the batch tries: the `T` of "created C of T".
    pub fn total(&self) -> usize {
        self.numbers.len()
    }

    /// The first and last number tried.
    pub fn bounds(&self) -> Option<(&str, &str)> {
        Some((self.numbers.first()?, self.numbers.last()?))
    }
}

/// A card a batch made, for the printer's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCard {
    /// Its number.
    pub number: CardNumber,
    /// Its PIN (`Debug` does not show it).
    pub pin: Pin,
    /// Its opening balance.
    pub balance: Money,
}

/// A chunk that was committed.
#[derive(Debug)]
pub struct ChunkDone<'a> {
    /// Numbers of the batch tried so far, this chunk's included.
    pub tried: usize,
    /// The cards this chunk made (fewer than it tried when some numbers were taken).
    pub created: &'a [CreatedCard],
}

/// What a batch made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    /// Cards made.
    pub created: usize,
    /// Numbers tried; the others were taken.
    pub total: usize,
}

/// A batch that stopped part of the way: the chunks before `next_number` are committed, the
/// rest was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("created {created} of {total} cards, then stopped at number {next_number}: {cause}")]
pub struct Interrupted {
    /// Cards made and committed.
    pub created: usize,
    /// Numbers the batch was to try.
    pub total: usize,
    /// The first number of the chunk that failed: none from it on was made.
    pub next_number: String,
    /// Why.
    pub cause: String,
}

/// Checks a request and finds its group, balance and numbers, changing nothing.
pub fn plan(db: &Database, request: &BatchRequest) -> Result<Batch, BatchError> {
    // What can be judged without the database first.
    let wanted = match &request.numbers {
        Numbers::Count(count) if (1..=MAX_BATCH).contains(count) => {
            Wanted::Count(usize::try_from(*count).unwrap_or(usize::MAX))
        }
        Numbers::Count(_) => {
            return Err(BatchError::Invalid(format!(
                "--count must be from 1 to {MAX_BATCH}"
            )))
        }
        Numbers::Range { from, till } => Wanted::Range(NumberRange::parse(from, till)?),
    };
    let group = db
        .read(|ledger| ledger.card_group(request.cardgroup_id))?
        .ok_or(BatchError::NoGroup(request.cardgroup_id))?;
    let balance = request
        .balance
        .clone()
        .unwrap_or_else(|| group.price.clone());
    money_sql::to_sql(&balance).map_err(|_| {
        BatchError::Invalid("the balance has more than 15 digits before the point".into())
    })?;
    let wanted_count = match &wanted {
        Wanted::Count(count) => *count,
        Wanted::Range(range) => range.count,
    };
    let pin_digits = group.pin_digits();
    let pin_space = u32::try_from(pin_digits)
        .ok()
        .and_then(|digits| 10u64.checked_pow(digits))
        .unwrap_or(u64::MAX);
    if u64::try_from(wanted_count).unwrap_or(u64::MAX) > pin_space {
        return Err(BatchError::Invalid(format!(
            "card group {} has {pin_digits}-digit PINs: there are not {wanted_count} of them",
            group.id
        )));
    }
    let length = group.number_digits();
    let numbers = match wanted {
        Wanted::Range(range) if range.length() != length => {
            return Err(BatchError::Invalid(format!(
                "card group {} has {length}-digit numbers: --from and --till must have {length} digits (leading zeros included), not {}",
                group.id,
                range.length()
            )))
        }
        Wanted::Range(range) => range.numbers(),
        Wanted::Count(count) => next_free_numbers(db, &group, count)?,
    };
    Ok(Batch {
        group,
        balance,
        numbers,
    })
}

/// The numbers asked for, once checked.
enum Wanted {
    Count(usize),
    Range(NumberRange),
}

/// Makes a planned batch, chunk by chunk; `on_chunk` hears of each chunk once it is committed
/// (an error from it stops the batch there). Numbers taken by then are passed over.
pub fn create(
    db: &Database,
    batch: &Batch,
    mut on_chunk: impl FnMut(&ChunkDone<'_>) -> Result<(), String>,
) -> Result<Created, Interrupted> {
    let mut drawn = HashSet::new();
    let mut created = 0;
    let mut tried = 0;
    for numbers in batch.numbers.chunks(CHUNK_SIZE) {
        let stopped = |cause: String| Interrupted {
            created,
            total: batch.total(),
            next_number: numbers[0].clone(),
            cause,
        };
        let cards = create_chunk(db, batch, numbers, &mut drawn)
            .map_err(|error| stopped(error.to_string()))?;
        tried += numbers.len();
        created += cards.len();
        on_chunk(&ChunkDone {
            tried,
            created: &cards,
        })
        .map_err(|cause| Interrupted {
            created,
            total: batch.total(),
            next_number: batch.numbers.get(tried).cloned().unwrap_or_default(),
            cause,
        })?;
    }
    Ok(Created {
        created,
        total: batch.total(),
    })
}

/// One chunk in one transaction: the numbers not taken, fresh PINs, one `INSERT`. A number or
/// PIN taken meanwhile by another writer (the unique keys) runs the chunk again.
fn create_chunk(
    db: &Database,
    batch: &Batch,
    numbers: &[String],
    drawn: &mut HashSet<String>,
) -> Result<Vec<CreatedCard>, StoreError> {
    let balance = money_sql::to_sql(&batch.balance)?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let outcome = db.in_transaction(|conn| {
            let taken = taken_numbers(conn, numbers)?;
            let free = numbers
                .iter()
                .filter(|number| !taken.contains(number.as_str()))
                .map(|number| {
                    CardNumber::parse(number)
                        .ok_or_else(|| StoreError::Failure(format!("not a card number: {number}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let pins = fresh_pins(conn, &batch.group, &free, drawn)?;
            let cards: Vec<CreatedCard> = free
                .into_iter()
                .zip(pins)
                .map(|(number, pin)| CreatedCard {
                    number,
                    pin,
                    balance: batch.balance.clone(),
                })
                .collect();
            insert(conn, &batch.group, &balance, &cards)?;
            Ok::<_, StoreError>(cards)
        });
        match outcome {
            Err(StoreError::Duplicate) if attempts < CODE_ATTEMPTS => continue,
            Err(StoreError::Duplicate) => {
                return Err(StoreError::Failure(
                    "numbers or PINs kept being taken by another writer".into(),
                ))
            }
            outcome => return outcome,
        }
    }
}

/// PINs for `numbers`, by the new-card code rule (the group's PIN length, drawn from
/// [`SecureCodes`], drawn again when taken): none drawn before in this batch, none held by a
/// card.
fn fresh_pins(
    conn: &mut AnyConnection,
    group: &CardGroup,
    numbers: &[CardNumber],
    drawn: &mut HashSet<String>,
) -> Result<Vec<Pin>, StoreError> {
    let mut pins: Vec<Option<Pin>> = vec![None; numbers.len()];
    for _ in 0..CODE_ATTEMPTS {
        let mut new = Vec::new();
        for (slot, number) in pins.iter_mut().zip(numbers) {
            if slot.is_some() {
                continue;
            }
            let chosen = ChosenCodes {
                number: Some(number),
                pin: None,
            };
            let pin = insert_with_fresh_codes(group, &SecureCodes, chosen, |_, pin| {
                if drawn.insert(pin.expose().to_owned()) {
                    Ok(pin.clone())
                } else {
                    Err(StoreError::Duplicate)
                }
            })
            .map_err(|_| pin_space_full(group))?;
            new.push(pin.expose().to_owned());
            *slot = Some(pin);
        }
        let taken = taken_pins(conn, &new)?;
        if taken.is_empty() {
            return Ok(pins.into_iter().flatten().collect());
        }
        for slot in &mut pins {
            if slot
                .as_ref()
                .is_some_and(|pin| taken.contains(pin.expose()))
            {
                *slot = None;
            }
        }
    }
    Err(pin_space_full(group))
}

fn pin_space_full(group: &CardGroup) -> StoreError {
    StoreError::Failure(format!(
        "no free {}-digit PIN found: nearly all are taken",
        group.pin_digits()
    ))
}

/// Writes a chunk's cards with one multi-row `INSERT`: unsold, active, no caller ID, owned by
/// the group's owner.
fn insert(
    conn: &mut AnyConnection,
    group: &CardGroup,
    balance: &str,
    cards: &[CreatedCard],
) -> Result<(), StoreError> {
    if cards.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = cards
        .iter()
        .map(|card| {
            (
                cards::cardgroup_id.eq(group.id.0),
                cards::number.eq(card.number.as_str()),
                cards::pin.eq(card.pin.expose()),
                cards::balance.eq(balance),
                cards::sold.eq(0),
                cards::active.eq(1),
                cards::owner_id.eq(group.owner_id.0),
            )
        })
        .collect();
    // Each backend's own connection: diesel's enum connection has no multi-row INSERT for
    // SQLite (which has one, for rows without DEFAULT values, as these are).
    let statement = diesel::insert_into(cards::table).values(&rows);
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(inner) => statement.execute(inner),
        AnyConnection::Sqlite(inner) => statement.execute(inner),
    }
    .map(drop)
    .map_err(card_write_error)
}

/// Which of `numbers` a card holds. MySQL's PAD SPACE unique key takes `1 ` for `1`, so a
/// stored number is compared without its trailing spaces: what the key would refuse counts as
/// taken (SQLite finds exact matches only, where the key is exact too).
fn taken_numbers(
    conn: &mut AnyConnection,
    numbers: &[String],
) -> Result<HashSet<String>, StoreError> {
    let found = cards::table
        .filter(cards::number.eq_any(numbers))
        .select(cards::number)
        .load::<String>(conn);
    without_trailing_spaces(found)
}

/// Which of `pins` a card holds (compared as [`taken_numbers`] compares).
fn taken_pins(conn: &mut AnyConnection, pins: &[String]) -> Result<HashSet<String>, StoreError> {
    if pins.is_empty() {
        return Ok(HashSet::new());
    }
    let found = cards::table
        .filter(cards::pin.eq_any(pins))
        .select(cards::pin)
        .load::<String>(conn);
    without_trailing_spaces(found)
}

/// Stored codes as [`taken_numbers`] compares them: without their trailing spaces.
fn without_trailing_spaces(found: QueryResult<Vec<String>>) -> Result<HashSet<String>, StoreError> {
    Ok(found
        .map_err(store_error)?
        .into_iter()
        .map(|code| code.trim_end_matches(' ').to_owned())
        .collect())
}

/// `count` free numbers of the group's length from the one after its highest (see
/// [`Numbers::Count`]); refused when the numbers of that length run out first.
fn next_free_numbers(
    db: &Database,
    group: &CardGroup,
    count: usize,
) -> Result<Vec<String>, BatchError> {
    let length = group.number_digits();
    // A checkout per query: a long search stays well inside MySQL's statement deadline.
    let highest = highest_number(&mut *db.connection()?, group.id, length)?;
    let mut next = match &highest {
        Some(highest) => increment(highest),
        None => Some(lowest_of_length(length)),
    };
    let mut numbers = Vec::with_capacity(count);
    while numbers.len() < count {
        let Some(first) = next.take() else { break };
        let mut window = vec![first];
        while window.len() < CHUNK_SIZE {
            match increment(&window[window.len() - 1]) {
                Some(number) => window.push(number),
                None => break,
            }
        }
        next = increment(&window[window.len() - 1]);
        let taken = taken_numbers(&mut *db.connection()?, &window)?;
        let wanted = count - numbers.len();
        numbers.extend(
            window
                .into_iter()
                .filter(|number| !taken.contains(number))
                .take(wanted),
        );
    }
    if numbers.len() < count {
        let after = highest.map_or_else(String::new, |highest| format!(" after {highest}"));
        return Err(BatchError::Invalid(format!(
            "card group {} has only {} free {length}-digit numbers{after}: choose them with --from and --till",
            group.id,
            numbers.len()
        )));
    }
    Ok(numbers)
}

/// The group's highest number of `length` digits (only digits), if it has one.
fn highest_number(
    conn: &mut AnyConnection,
    group: CardGroupId,
    length: usize,
) -> Result<Option<String>, StoreError> {
    let digits_only = match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => format!(
            "CHAR_LENGTH(`cards`.`number`) = {length} AND `cards`.`number` NOT REGEXP '[^0-9]'"
        ),
        AnyConnection::Sqlite(_) => {
            format!("length(`cards`.`number`) = {length} AND `cards`.`number` NOT GLOB '*[^0-9]*'")
        }
    };
    cards::table
        .filter(cards::cardgroup_id.eq(group.0))
        .filter(sql::<Bool>(&digits_only))
        .select(max(cards::number))
        .first::<Option<String>>(conn)
        .map_err(store_error)
}

/// `1` followed by zeros, `length` digits in all.
fn lowest_of_length(length: usize) -> String {
    format!("1{}", "0".repeat(length.saturating_sub(1)))
}

/// The next number of the same length (leading zeros kept); `None` after all nines.
fn increment(number: &str) -> Option<String> {
    let mut digits = number.as_bytes().to_vec();
    for digit in digits.iter_mut().rev() {
        if *digit == b'9' {
            *digit = b'0';
        } else {
            *digit += 1;
            return String::from_utf8(digits).ok();
        }
    }
    None
}

/// `--from` and `--till`: digits of one length, in order, at most [`MAX_BATCH`] numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NumberRange {
    from: String,
    count: usize,
}

impl NumberRange {
    fn parse(from: &str, till: &str) -> Result<NumberRange, BatchError> {
        let invalid = |why: String| Err(BatchError::Invalid(why));
        for (flag, value) in [("--from", from), ("--till", till)] {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return invalid(format!(
                    "{flag} must be a card number of digits only, not {value:?}"
                ));
            }
        }
        if from.len() != till.len() {
            return invalid(format!(
                "--from and --till must have the same number of digits (leading zeros included): {from} has {}, {till} has {}",
                from.len(),
                till.len()
            ));
        }
        if from > till {
            return invalid(format!("--from {from} is after --till {till}"));
        }
        let decimal = |digits: &str| BigDecimal::from_str(digits).expect("digits are a decimal");
        let span = decimal(till) - decimal(from) + BigDecimal::from(1);
        let Some(count) = span
            .to_u64()
            .filter(|count| *count <= MAX_BATCH)
            .and_then(|count| usize::try_from(count).ok())
        else {
            return invalid(format!(
                "--from {from} --till {till} names {span} numbers: at most {MAX_BATCH} in one batch"
            ));
        };
        Ok(NumberRange {
            from: from.to_owned(),
            count,
        })
    }

    fn length(&self) -> usize {
        self.from.len()
    }

    /// Every number of the range, in order.
    fn numbers(&self) -> Vec<String> {
        let mut numbers = Vec::with_capacity(self.count);
        let mut next = Some(self.from.clone());
        while numbers.len() < self.count {
            let Some(number) = next else { break };
            next = increment(&number);
            numbers.push(number);
        }
        numbers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_count_up_keeping_their_leading_zeros() {
        assert_eq!(increment("0000000009").as_deref(), Some("0000000010"));
        assert_eq!(increment("0999").as_deref(), Some("1000"));
        assert_eq!(increment("1234").as_deref(), Some("1235"));
        assert_eq!(increment("9999"), None);
        assert_eq!(lowest_of_length(10), "1000000000");
        assert_eq!(lowest_of_length(1), "1");
    }

    #[test]
    fn a_range_holds_every_number_from_its_first_to_its_last() {
        let range = NumberRange::parse("0098", "0102").unwrap();
        assert_eq!(range.numbers(), ["0098", "0099", "0100", "0101", "0102"]);
        assert_eq!(range.length(), 4);
        assert_eq!(NumberRange::parse("7", "7").unwrap().numbers(), ["7"]);
        // Wider than any integer type: counted exactly.
        let wide = format!("{}8", "9".repeat(40));
        let range = NumberRange::parse(&wide, &format!("{}9", "9".repeat(40))).unwrap();
        assert_eq!(range.numbers().len(), 2);
    }

    #[test]
    fn a_bad_range_is_refused_with_its_reason() {
        let why = |from: &str, till: &str| match NumberRange::parse(from, till) {
            Err(BatchError::Invalid(why)) => why,
            other => panic!("{from}..{till}: {other:?}"),
        };
        assert!(why("12a", "123").contains("digits only"));
        assert!(why("", "123").contains("digits only"));
        assert!(why("-12", "123").contains("digits only"));
        assert!(why("012", "0123").contains("same number of digits"));
        assert!(why("0200", "0100").contains("after"));
        assert!(why("0000000", "1000000").contains("at most 1000000"));
        assert_eq!(
            NumberRange::parse("0000001", "1000000").unwrap().count,
            1_000_000
        );
    }
}
