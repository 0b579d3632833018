//! The call itself (spec §4): find the device or card a caller ID belongs to, then top it up,
//! create, move or transfer, in one transaction (a look-up that changes nothing is answered
//! from plain reads).

use crate::account::Caller;
use crate::codes::{CallerId, Pin};
use crate::error::{CcError, StoreError};
use crate::fresh_codes::{insert_with_fresh_codes, ChosenCodes};
use crate::idempotency::{read_once, refused_once, transact_once, without_key, Answered, Once};
use crate::ids::{CardGroupId, TaxId};
use crate::model::{
    CallerIdHolder, Card, CardGroup, Device, DeviceUser, Holder, NewCard, Payment, Sale, User,
};
use crate::money::Money;
use crate::ports::{CardKey, CodeGenerator, Ledger, Store};
use crate::pricing::{Currency, PricedTopUp, Pricing, Tax};
use crate::reference;
use crate::reply::{CardReply, DeviceReply, Reply};

/// The call's parameters, each as sent (`None` when not sent).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CardRequest {
    /// `callerid`.
    pub callerid: Option<String>,
    /// `pin`.
    pub pin: Option<String>,
    /// `amount`.
    pub amount: Option<String>,
    /// `cardgroup_id` (or its alias `cardgroup`).
    pub cardgroup_id: Option<String>,
}

impl std::fmt::Debug for CardRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardRequest")
            .field("callerid", &self.callerid)
            .field("pin", &self.pin.as_ref().map(|_| "<redacted>"))
            .field("amount", &self.amount)
            .field("cardgroup_id", &self.cardgroup_id)
            .finish()
    }
}

/// Serves one `cc_by_cli` request for an authenticated caller. Bad input is refused before
/// storage is touched; everything else happens inside one [`Transact::transact`](crate::Transact::transact), except a
/// look-up that turns out to change nothing, which is answered from [`Transact::read`](crate::Transact::read).
pub fn cc_by_cli(
    store: &dyn Store,
    codes: &dyn CodeGenerator,
    caller: &Caller,
    request: &CardRequest,
) -> Result<Reply, CcError> {
    without_key(cc_by_cli_once(store, codes, caller, request, None))
}

/// [`cc_by_cli`] for a request that may carry an idempotency key ([`crate::idempotency`]).
pub fn cc_by_cli_once(
    store: &dyn Store,
    codes: &dyn CodeGenerator,
    caller: &Caller,
    request: &CardRequest,
    once: Option<&Once<'_, Reply>>,
) -> Result<Answered<Reply>, CcError> {
    let call = match Call::parse(request) {
        Ok(call) => call,
        Err(refusal) => return refused_once(store, once, refusal),
    };
    let mut work = |ledger: &mut dyn Ledger| {
        Session {
            ledger,
            codes,
            caller,
        }
        .run(&call)
    };
    if call.is_look_up() {
        // Most look-ups read a sold, active card and write nothing: no transaction, no locks.
        // One that must write (a card to mark sold, a card to create) starts over below.
        match read_once(store, once, &mut work) {
            // A look-up that lost a race (a busy SQLite file) also gets the transaction's
            // retries.
            Err(CcError::Storage(StoreError::ReadOnly | StoreError::Conflict(_))) => {}
            outcome => return outcome,
        }
    }
    transact_once(store, once, &mut work)
}

/// The request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    callerid: CallerId,
    intent: Intent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Intent {
    /// No PIN: add `amount` (zero for a look-up), possibly in another card group.
    TopUp { amount: Money, group: GroupChoice },
    /// A PIN was sent (`amount` is ignored). `None`: a PIN no card can have.
    Pin(Option<Pin>),
}

/// The `cardgroup_id` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupChoice {
    Absent,
    Invalid,
    Id(CardGroupId),
}

impl Call {
    /// A request that adds nothing and moves nothing: no PIN, a zero amount.
    pub fn is_look_up(&self) -> bool {
        matches!(&self.intent, Intent::TopUp { amount, .. } if amount.is_zero())
    }

    /// Checks what can be checked without storage: the caller ID, then the amount (only when
    /// no PIN makes it irrelevant).
    pub fn parse(request: &CardRequest) -> Result<Call, CcError> {
        let callerid = CallerId::parse(request.callerid.as_deref().unwrap_or_default())
            .map_err(|_| CcError::CallerIdRequired)?;
        let intent = match request.pin.as_deref().filter(|pin| !pin.is_empty()) {
            Some(pin) => Intent::Pin(Pin::parse(pin)),
            None => Intent::TopUp {
                amount: Money::parse_amount(request.amount.as_deref().unwrap_or_default())
                    .map_err(|_| CcError::InvalidAmount)?,
                group: match request.cardgroup_id.as_deref() {
                    None | Some("") => GroupChoice::Absent,
                    Some(raw) => {
                        CardGroupId::parse(raw).map_or(GroupChoice::Invalid, GroupChoice::Id)
                    }
                },
            },
        };
        Ok(Call { callerid, intent })
    }
}

/// One run of the call on one ledger: a transaction's, or a look-up's whose writes fail.
struct Session<'a> {
    ledger: &'a mut dyn Ledger,
    codes: &'a dyn CodeGenerator,
    caller: &'a Caller,
}

impl Session<'_> {
    fn run(&mut self, call: &Call) -> Result<Reply, CcError> {
        match &call.intent {
            Intent::TopUp { amount, group } => match self.ledger.lock_holder_of(&call.callerid)? {
                Some(CallerIdHolder::Device(device)) => self.device_path(device, &call.intent),
                Some(CallerIdHolder::Card(card)) => self.card_path(card, amount, *group),
                None => self.no_card_path(&call.callerid, amount, *group),
            },
            // A transfer locks its two cards together (in id order), so only the device is
            // looked for first.
            Intent::Pin(pin) => match self.ledger.device_by_cli(&call.callerid)? {
                Some(device) => self.device_path(device, &call.intent),
                None => self.pin_path(&call.callerid, pin.as_ref()),
            },
        }
    }

    // A. The caller ID belongs to a device.

    fn device_path(&mut self, device: Device, intent: &Intent) -> Result<Reply, CcError> {
        let DeviceUser::User(user_id) = device.user else {
            return Err(CcError::CallerIdBelongsToProvider);
        };
        let mut user = self
            .ledger
            .lock_user(user_id)?
            .filter(|user| user.owner_id == self.caller.owner)
            .ok_or(CcError::DeviceNotOwned)?;
        let tax = self.tax(user.tax_id)?;
        match intent {
            Intent::TopUp { amount, .. } => self.top_up_user(&mut user, amount, &tax)?,
            Intent::Pin(pin) => self.pin_to_user(&mut user, pin.as_ref())?,
        }
        Ok(Reply::Device(DeviceReply {
            device_id: device.id,
            user_id: user.id,
            new_balance_with_vat: tax.add(&user.balance.to_figure()),
            new_balance: user.balance,
        }))
    }

    /// Without PIN: the user gains `amount` with the user's tax removed, no conversion.
    fn top_up_user(&mut self, user: &mut User, amount: &Money, tax: &Tax) -> Result<(), CcError> {
        if amount.is_zero() {
            return Ok(());
        }
        let system = self.system_currency()?;
        let pricing = Pricing {
            tax: tax.clone(),
            currency: system.clone(),
            system,
        };
        let priced = pricing.price(amount);
        user.balance = &user.balance + &priced.net;
        self.ledger.update_user_balance(user.id, &user.balance)?;
        self.record_top_up(Holder::User(user.id), &priced, "cc_by_cli: user top-up")
    }

    /// With PIN: the caller's card with that PIN gives its whole balance to the user.
    fn pin_to_user(&mut self, user: &mut User, pin: Option<&Pin>) -> Result<(), CcError> {
        let mut card = self.owned_card_by_pin(pin)?;
        if !card.balance.is_positive() {
            return Err(CcError::PinBalanceZero);
        }
        let moved = std::mem::replace(&mut card.balance, Money::zero());
        card.sold = false;
        user.balance = &user.balance + &moved;
        self.ledger.update_card(&card)?;
        self.ledger.update_user_balance(user.id, &user.balance)?;
        self.record_transfer(Holder::Card(card.id), Holder::User(user.id), &moved)
    }

    // B. No device, no PIN.

    /// No card has the caller ID: a new one is sold in the group named, if one is.
    fn no_card_path(
        &mut self,
        callerid: &CallerId,
        amount: &Money,
        choice: GroupChoice,
    ) -> Result<Reply, CcError> {
        if choice == GroupChoice::Absent && amount.is_zero() {
            return Err(CcError::CardNotFound);
        }
        let group = self.owned_group(choice)?;
        self.sell_new_card(&group, callerid, amount)
    }

    /// The card with the caller ID: topped up, or moved to the other group named.
    fn card_path(
        &mut self,
        card: Card,
        amount: &Money,
        choice: GroupChoice,
    ) -> Result<Reply, CcError> {
        let group = self.owned_group_of(&card)?;
        match choice {
            GroupChoice::Absent => self.top_up_card(card, &group, amount),
            GroupChoice::Id(id) if id == group.id => self.top_up_card(card, &group, amount),
            GroupChoice::Invalid | GroupChoice::Id(_) => {
                let new_group = self.owned_group(choice)?;
                self.move_card(card, &new_group, amount)
            }
        }
    }

    /// A new card in `group` for `callerid`, with the priced `amount` as its balance.
    fn sell_new_card(
        &mut self,
        group: &CardGroup,
        callerid: &CallerId,
        amount: &Money,
    ) -> Result<Reply, CcError> {
        let priced = self.price_for_group(group, amount)?;
        let balance = priced
            .as_ref()
            .map_or_else(Money::zero, |priced| priced.net.clone());
        let card = self.create_card(group, callerid, balance)?;
        self.credited_card_reply(card, group, priced.as_ref(), "cc_by_cli: new card")
    }

    /// Adds the priced `amount` to the card (zero is a look-up) and marks it sold and active.
    fn top_up_card(
        &mut self,
        mut card: Card,
        group: &CardGroup,
        amount: &Money,
    ) -> Result<Reply, CcError> {
        let priced = self.price_for_group(group, amount)?;
        let unchanged = priced.is_none() && card.sold && card.active;
        if !unchanged {
            if let Some(priced) = &priced {
                card.balance = &card.balance + &priced.net;
            }
            card.sold = true;
            card.active = true;
            self.ledger.update_card(&card)?;
        }
        self.credited_card_reply(card, group, priced.as_ref(), "cc_by_cli: card top-up")
    }

    /// Moves the customer to `new_group`: a new card there holds the caller ID and the old
    /// balance as it is plus the priced `amount`; the old card is left empty and unsold.
    fn move_card(
        &mut self,
        mut old: Card,
        new_group: &CardGroup,
        amount: &Money,
    ) -> Result<Reply, CcError> {
        let priced = self.price_for_group(new_group, amount)?;
        let carried = std::mem::replace(&mut old.balance, Money::zero());
        let callerid = old
            .callerid
            .take()
            .ok_or(CcError::Inconsistent("card found by caller ID has none"))?;
        old.sold = false;
        // The old card gives up the caller ID first: `cards.callerid` is unique.
        self.ledger.update_card(&old)?;
        let opening = priced
            .as_ref()
            .map_or_else(|| carried.clone(), |priced| &carried + &priced.net);
        let card = self.create_card(new_group, &callerid, opening)?;
        if !carried.is_zero() {
            self.record_transfer(Holder::Card(old.id), Holder::Card(card.id), &carried)?;
        }
        self.credited_card_reply(
            card,
            new_group,
            priced.as_ref(),
            "cc_by_cli: top-up on move",
        )
    }

    // C. No device, PIN given.

    fn pin_path(&mut self, callerid: &CallerId, pin: Option<&Pin>) -> Result<Reply, CcError> {
        let Some(pin) = pin else {
            return Err(CcError::PinNotFound);
        };
        // Both sides of a transfer at once, so they are locked in id order.
        let keys = [
            CardKey::Pin(pin.clone()),
            CardKey::CallerId(callerid.clone()),
        ];
        let mut found = self.ledger.lock_cards(&keys)?.into_iter();
        let (pin_card, holder) = (found.next().flatten(), found.next().flatten());
        let mut pin_card = self.owned(pin_card)?;
        let Some(mut holder) = holder else {
            if pin_card.sold {
                return Err(CcError::CardAlreadySold);
            }
            pin_card.callerid = Some(callerid.clone());
            pin_card.sold = true;
            pin_card.active = true;
            self.ledger.update_card(&pin_card)?;
            // Activating an unsold PIN card is a sale (card_calls.md §3), recorded as one.
            let currency = self.system_currency()?.name;
            let sale = Sale::of(self.caller, "", currency, std::slice::from_ref(&pin_card));
            self.ledger.record_sale(&sale)?;
            let tax_id = self.owned_group_of(&pin_card)?.tax_id;
            return self.card_reply(pin_card, tax_id);
        };
        let holder_group = self.owned_group_of(&holder)?;
        if holder.id == pin_card.id {
            return self.card_reply(holder, holder_group.tax_id);
        }
        if holder.cardgroup_id == pin_card.cardgroup_id {
            // Same group: the card with the caller ID takes the PIN card's balance.
            if !pin_card.balance.is_positive() {
                return Err(CcError::PinBalanceZero);
            }
            let moved = std::mem::replace(&mut pin_card.balance, Money::zero());
            pin_card.sold = false;
            holder.balance = &holder.balance + &moved;
            holder.sold = true;
            holder.active = true;
            self.ledger.update_card(&pin_card)?;
            self.ledger.update_card(&holder)?;
            self.record_transfer(Holder::Card(pin_card.id), Holder::Card(holder.id), &moved)?;
            self.card_reply(holder, holder_group.tax_id)
        } else {
            // Another group: the caller ID and its balance move to the PIN card. The PIN is the
            // card's bearer secret, so a caller ID the PIN card already holds is replaced.
            if !holder.balance.is_positive() {
                return Err(CcError::PinBalanceZero);
            }
            let moved = std::mem::replace(&mut holder.balance, Money::zero());
            holder.callerid = None;
            holder.sold = false;
            pin_card.callerid = Some(callerid.clone());
            pin_card.balance = &pin_card.balance + &moved;
            pin_card.sold = true;
            pin_card.active = true;
            // The holder gives up the caller ID first: `cards.callerid` is unique.
            self.ledger.update_card(&holder)?;
            self.ledger.update_card(&pin_card)?;
            self.record_transfer(Holder::Card(holder.id), Holder::Card(pin_card.id), &moved)?;
            let tax_id = self.owned_group_of(&pin_card)?.tax_id;
            self.card_reply(pin_card, tax_id)
        }
    }

    // Look-ups.

    /// The card with this PIN whose group the caller owns.
    fn owned_card_by_pin(&mut self, pin: Option<&Pin>) -> Result<Card, CcError> {
        let Some(pin) = pin else {
            return Err(CcError::PinNotFound);
        };
        let card = self.ledger.lock_card_by_pin(pin)?;
        self.owned(card)
    }

    /// A card found by PIN, if the caller owns its group; else `PIN number not found`.
    fn owned(&mut self, card: Option<Card>) -> Result<Card, CcError> {
        let Some(card) = card else {
            return Err(CcError::PinNotFound);
        };
        match self.ledger.card_group(card.cardgroup_id)? {
            Some(group) if group.owner_id == self.caller.owner => Ok(card),
            _ => Err(CcError::PinNotFound),
        }
    }

    /// The group of a card found by caller ID, which the caller must own.
    fn owned_group_of(&mut self, card: &Card) -> Result<CardGroup, CcError> {
        self.ledger
            .card_group(card.cardgroup_id)?
            .filter(|group| group.owner_id == self.caller.owner)
            .ok_or(CcError::CardNotOwned)
    }

    /// The group named by `cardgroup_id`, which must exist and be the caller's.
    fn owned_group(&mut self, choice: GroupChoice) -> Result<CardGroup, CcError> {
        let GroupChoice::Id(id) = choice else {
            return Err(CcError::InvalidCardGroup);
        };
        self.ledger
            .card_group(id)?
            .filter(|group| group.owner_id == self.caller.owner)
            .ok_or(CcError::InvalidCardGroup)
    }

    fn tax(&mut self, id: Option<TaxId>) -> Result<Tax, CcError> {
        Ok(reference::tax(self.ledger, id)?)
    }

    fn system_currency(&mut self) -> Result<Currency, CcError> {
        Ok(reference::system_currency(self.ledger)?)
    }

    /// Prices a top-up in `group`: its currency (blank or unknown: the system currency), its
    /// tax. `None` for a zero amount, which changes nothing.
    fn price_for_group(
        &mut self,
        group: &CardGroup,
        amount: &Money,
    ) -> Result<Option<PricedTopUp>, CcError> {
        if amount.is_zero() {
            return Ok(None);
        }
        let system = self.system_currency()?;
        let named = group.currency.trim();
        let currency = match named {
            "" => None,
            name if name == system.name => None,
            name => self.ledger.currency(name)?,
        };
        let currency = match currency {
            Some(currency) if !currency.is_usable() => {
                return Err(CcError::Inconsistent(
                    "currency exchange rate is not positive",
                ))
            }
            Some(currency) => currency,
            None => system.clone(),
        };
        let tax = self.tax(group.tax_id)?;
        Ok(Some(
            Pricing {
                tax,
                currency,
                system,
            }
            .price(amount),
        ))
    }

    // Writes.

    /// Inserts a sold, active card with fresh codes, retrying on a taken number or PIN.
    fn create_card(
        &mut self,
        group: &CardGroup,
        callerid: &CallerId,
        balance: Money,
    ) -> Result<Card, CcError> {
        let ledger = &mut *self.ledger;
        let inserted =
            insert_with_fresh_codes(group, self.codes, ChosenCodes::default(), |number, pin| {
                ledger.insert_card(&NewCard {
                    cardgroup_id: group.id,
                    owner_id: group.owner_id,
                    number: number.clone(),
                    pin: pin.clone(),
                    balance: balance.clone(),
                    callerid: callerid.clone(),
                })
            });
        match inserted {
            Err(StoreError::Duplicate) => Err(CcError::CodesExhausted),
            outcome => Ok(outcome?),
        }
    }

    fn record_top_up(
        &mut self,
        holder: Holder,
        priced: &PricedTopUp,
        description: &str,
    ) -> Result<(), CcError> {
        self.ledger.record_payment(&Payment {
            holder,
            amount: priced.net.clone(),
            tax: priced.tax.clone(),
            gross: priced.gross.clone(),
            currency: priced.currency.clone(),
            owner_id: self.caller.owner,
            description: description.to_owned(),
        })?;
        Ok(())
    }

    /// A transfer: the debit of `from` and the credit of `to`, in the system currency.
    fn record_transfer(&mut self, from: Holder, to: Holder, moved: &Money) -> Result<(), CcError> {
        let currency = self.system_currency()?.name;
        for (holder, amount) in [(from, -moved), (to, moved.clone())] {
            self.ledger.record_payment(&Payment {
                holder,
                amount,
                tax: Money::zero(),
                gross: moved.clone(),
                currency: currency.clone(),
                owner_id: self.caller.owner,
                description: "cc_by_cli: balance transfer".to_owned(),
            })?;
        }
        Ok(())
    }

    /// The reply showing `card` of `group`, after the payments row of the top-up `priced`
    /// credited to it, when one was asked for.
    fn credited_card_reply(
        &mut self,
        card: Card,
        group: &CardGroup,
        priced: Option<&PricedTopUp>,
        description: &str,
    ) -> Result<Reply, CcError> {
        if let Some(priced) = priced {
            self.record_top_up(Holder::Card(card.id), priced, description)?;
        }
        self.card_reply(card, group.tax_id)
    }

    fn card_reply(&mut self, card: Card, tax_id: Option<TaxId>) -> Result<Reply, CcError> {
        let tax = self.tax(tax_id)?;
        Ok(Reply::Card(CardReply {
            balance_with_vat: tax.add(&card.balance.to_figure()),
            card,
        }))
    }
}
