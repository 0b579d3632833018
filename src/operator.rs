//! The operator's subcommands: everything an operator would otherwise do in SQL.

use morcc_adapters::{admin, AdapterError, Database};
use morcc_domain::{
    settings, BigDecimal, CallerId, CardGroupId, CardNumber, Directory, HashedParams, Money,
    OwnerId, Pin, TaxId, Transact, UserId, UserType,
};

use crate::cli::{
    AllowApiPaymentsArgs, AssignTaxArgs, CreateCardArgs, CreateCardGroupArgs, CreateDeviceArgs,
    CreateTaxArgs, CreateUserArgs, DatabaseArgs, HashArgs, OperatorCommand as Command,
    SetCurrencyActiveArgs, SetExchangeRateArgs, SetSettingArgs, Switch, UpdateCardArgs,
    UpdateCardGroupArgs,
};
use crate::error::AppError;
use crate::server::open_database;

/// Runs one subcommand other than `serve`, printing what it created. A row it needs that
/// does not exist (a card group, a card, a currency) is reported as such.
pub fn run(database_args: &DatabaseArgs, command: Command) -> Result<(), AppError> {
    run_command(database_args, command).map_err(|error| match error {
        AppError::Database(AdapterError::NotFound(what)) => {
            AppError::Invalid(format!("{what} was not found"))
        }
        error => error,
    })
}

fn run_command(database_args: &DatabaseArgs, command: Command) -> Result<(), AppError> {
    if let Command::Hash(args) = &command {
        if let Some(key) = &args.key {
            println!("{}", hash_of(args, key.expose()));
            return Ok(());
        }
    }
    let database = open_database(database_args)?;
    match command {
        Command::Migrate => println!("migrations are up to date"),
        Command::Hash(args) => hash_with_stored_key(&database, &args)?,
        Command::CreateUser(args) => create_user(&database, &args)?,
        Command::CreateCardGroup(args) => create_card_group(&database, args)?,
        Command::UpdateCardGroup(args) => update_card_group(&database, args)?,
        Command::CreateCard(args) => create_card(&database, &args)?,
        Command::UpdateCard(args) => update_card(&database, &args)?,
        Command::CreateDevice(args) => create_device(&database, &args)?,
        Command::SetSetting(args) => set_setting(&database, &args)?,
        Command::AllowApiPayments(args) => allow_api_payments(&database, &args)?,
        Command::SetExchangeRate(args) => set_exchange_rate(&database, &args)?,
        Command::SetCurrencyActive(args) => set_currency_active(&database, &args)?,
        Command::CreateTax(args) => create_tax(&database, &args)?,
        Command::AssignTax(args) => assign_tax(&database, &args)?,
        Command::CreateCards(args) => crate::batch::create_cards(&database, &args)?,
        Command::Groups(args) => crate::reports::groups(&database, &args)?,
        Command::Cards(args) => crate::reports::cards(&database, &args)?,
        Command::Card(args) => crate::reports::card(&database, &args)?,
        Command::Payments(args) => crate::reports::payments(&database, &args)?,
    }
    Ok(())
}

/// `hash` without `--key`: the owner's `API_Secret_Key` from the database.
fn hash_with_stored_key(database: &Database, args: &HashArgs) -> Result<(), AppError> {
    let key = database
        .setting(settings::API_SECRET_KEY, OwnerId(args.owner_id))
        .map_err(morcc_adapters::AdapterError::from)?
        .filter(|key| !key.is_empty())
        .ok_or_else(|| {
            AppError::Invalid(format!("owner {} has no API_Secret_Key", args.owner_id))
        })?;
    println!("{}", hash_of(args, &key));
    Ok(())
}

fn create_user(database: &Database, args: &CreateUserArgs) -> Result<(), AppError> {
    let id = admin::create_user(
        database,
        &args.username,
        args.password.expose(),
        &UserType::parse(&args.usertype),
        OwnerId(args.owner_id),
        &money(&args.balance)?,
    )?;
    println!("user {id} created");
    Ok(())
}

fn create_card_group(database: &Database, args: CreateCardGroupArgs) -> Result<(), AppError> {
    let group = admin::CardGroupSpec {
        name: args.name,
        owner_id: OwnerId(args.owner_id),
        number_length: args.number_length,
        pin_length: args.pin_length,
        tax_id: args.tax_id.map(TaxId),
        currency: args.currency,
        price: price(&args.price)?,
        image: image(args.image)?,
        description: description(args.description)?,
    };
    println!(
        "card group {} created",
        admin::create_card_group(database, &group)?
    );
    Ok(())
}

/// `update-card-group`: clap requires at least one change; each is checked before any is made.
fn update_card_group(database: &Database, args: UpdateCardGroupArgs) -> Result<(), AppError> {
    let change = admin::CardGroupChange {
        price: args.price.as_deref().map(price).transpose()?,
        image: args.image.map(image).transpose()?,
        description: args.description.map(description).transpose()?,
        hidden: args.hidden,
    };
    if change == admin::CardGroupChange::default() {
        return Err(AppError::Invalid(
            "name a change: --price, --image, --description or --hidden".into(),
        ));
    }
    let id = CardGroupId(args.cardgroup_id);
    admin::update_card_group(database, id, &change)?;
    println!("card group {id} updated");
    Ok(())
}

fn create_card(database: &Database, args: &CreateCardArgs) -> Result<(), AppError> {
    let card = admin::CardSpec {
        cardgroup_id: CardGroupId(args.cardgroup_id),
        balance: money(&args.balance)?,
        pin: args
            .pin
            .as_deref()
            .map(|pin| Pin::parse(pin).ok_or_else(|| invalid("PIN")))
            .transpose()?,
        number: args.number.as_deref().map(card_number).transpose()?,
        callerid: args
            .callerid
            .as_deref()
            .map(|cli| CallerId::parse(cli).map_err(|_| invalid("caller ID")))
            .transpose()?,
        sold: args.sold,
    };
    println!("card {} created", admin::create_card(database, &card)?);
    Ok(())
}

fn update_card(database: &Database, args: &UpdateCardArgs) -> Result<(), AppError> {
    let number = card_number(&args.number)?;
    admin::set_card_hidden(database, &number, args.hidden)?;
    let state = if args.hidden { "hidden" } else { "shown" };
    println!("card {} {state}", number.as_str());
    Ok(())
}

fn create_device(database: &Database, args: &CreateDeviceArgs) -> Result<(), AppError> {
    let cli = CallerId::parse(&args.callerid).map_err(|_| invalid("caller ID"))?;
    let id = admin::create_device(database, &args.name, args.user_id, &cli)?;
    println!("device {id} created");
    Ok(())
}

fn set_setting(database: &Database, args: &SetSettingArgs) -> Result<(), AppError> {
    admin::set_setting(database, &args.name, &args.value, OwnerId(args.owner_id))?;
    // The secret key is not echoed: terminals are recorded and scrolled back.
    let shown = if args.name == settings::API_SECRET_KEY {
        "<set>"
    } else {
        args.value.as_str()
    };
    println!("{} = {} (owner {})", args.name, shown, args.owner_id);
    Ok(())
}

fn allow_api_payments(database: &Database, args: &AllowApiPaymentsArgs) -> Result<(), AppError> {
    let (value, state) = match args.state {
        Switch::On => ("1", "allowed"),
        Switch::Off => ("0", "refused"),
    };
    let name = settings::API_ALLOW_PAYMENTS_OVER_API;
    admin::set_setting(database, name, value, settings::SYSTEM)?;
    println!("card_payment_add {state} ({name} = {value})");
    Ok(())
}

fn set_exchange_rate(database: &Database, args: &SetExchangeRateArgs) -> Result<(), AppError> {
    let rate = money(&args.rate)?;
    if !rate.is_positive() {
        return Err(AppError::Invalid(
            "an exchange rate must be positive".into(),
        ));
    }
    admin::set_exchange_rate(database, &args.name, rate.as_decimal())?;
    println!("{} rate {}", args.name, args.rate);
    Ok(())
}

/// `set-currency-active`. The system currency cannot be disabled: a payment without a currency
/// is in it, so disabling it would refuse it only when named.
fn set_currency_active(database: &Database, args: &SetCurrencyActiveArgs) -> Result<(), AppError> {
    if !args.active {
        let system = database
            .read(|ledger| ledger.system_currency())
            .map_err(AdapterError::from)?;
        if system.is_some_and(|system| system.name == args.currency) {
            return Err(AppError::Invalid(format!(
                "{} is the system currency (currencies id 1): it cannot be disabled",
                args.currency
            )));
        }
    }
    admin::set_currency_active(database, &args.currency, args.active)?;
    let state = if args.active { "active" } else { "inactive" };
    println!("currency {} {state}", args.currency);
    Ok(())
}

fn create_tax(database: &Database, args: &CreateTaxArgs) -> Result<(), AppError> {
    let optional = |value: &Option<String>| value.as_deref().map(percent).transpose();
    let others = [
        optional(&args.tax2)?,
        optional(&args.tax3)?,
        optional(&args.tax4)?,
    ];
    let tax = admin::TaxSpec {
        enabled: [
            true,
            others[0].is_some(),
            others[1].is_some(),
            others[2].is_some(),
        ],
        values: [
            percent(&args.tax1)?,
            others[0].clone().unwrap_or_default(),
            others[1].clone().unwrap_or_default(),
            others[2].clone().unwrap_or_default(),
        ],
        compound: args.compound,
    };
    println!("tax {} created", admin::create_tax(database, &tax)?);
    Ok(())
}

fn assign_tax(database: &Database, args: &AssignTaxArgs) -> Result<(), AppError> {
    let tax = TaxId(args.tax_id);
    match (args.cardgroup_id, args.user_id) {
        (Some(group), _) => admin::set_card_group_tax(database, CardGroupId(group), Some(tax))?,
        (None, Some(user)) => admin::set_user_tax(database, UserId(user), Some(tax))?,
        (None, None) => return Err(AppError::Invalid("name --cardgroup-id or --user-id".into())),
    }
    println!("tax {tax} assigned");
    Ok(())
}

/// The hash of `--call`'s hashed parameters. A given parameter the call does not hash is
/// left out, and said so on standard error: a client sends it, but it does not count.
fn hash_of(args: &HashArgs, key: &str) -> String {
    let given = args.parameters();
    let hashed = args.call.hashed_parameters();
    for (name, _) in given
        .iter()
        .filter(|(name, value)| value.is_some() && !hashed.contains(name))
    {
        eprintln!(
            "morcc: {} does not hash --{} (left out)",
            args.call.name(),
            name.replace('_', "-")
        );
    }
    HashedParams::of(args.call, |name| {
        given
            .iter()
            .find(|(given, _)| *given == name)
            .and_then(|(_, value)| *value)
    })
    .mor_hash(key)
}

fn invalid(what: &str) -> AppError {
    AppError::Invalid(format!("not a usable {what}"))
}

/// A card number as the operator chose it: printable, and no wider than its column.
fn card_number(text: &str) -> Result<CardNumber, AppError> {
    CardNumber::parse(text).ok_or_else(|| invalid("card number"))
}

/// A card group's price: a plain decimal (digits, optionally a point and digits; at most 15 of
/// each, as its column holds them), taken exactly.
fn price(text: &str) -> Result<Money, AppError> {
    if text.is_empty() {
        return Err(AppError::Invalid("not a price: an empty value".into()));
    }
    Money::parse_amount(text).map_err(|_| {
        AppError::Invalid(format!(
            "not a price: {text} (a plain decimal such as 10 or 12.50, not negative, at most 15 digits before and after the point)"
        ))
    })
}

/// A card group's picture: a file name, linked as `/billing/cards/FILE`.
fn image(name: String) -> Result<String, AppError> {
    let usable = !name.is_empty()
        && name.chars().count() <= 255
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if !usable {
        return Err(AppError::Invalid(format!(
            "not a usable picture file name: {name:?} (a file name, 1 to 255 characters, no / or \\)"
        )));
    }
    Ok(name)
}

/// A card group's description: any text without control characters (it is sent in XML).
fn description(text: String) -> Result<String, AppError> {
    if text.chars().any(char::is_control) || text.len() > 65_535 {
        return Err(AppError::Invalid(
            "not a usable description: no control characters (line breaks included), at most 65535 bytes".into(),
        ));
    }
    Ok(text)
}

fn money(text: &str) -> Result<Money, AppError> {
    Money::parse_stored(text).map_err(|_| AppError::Invalid(format!("not a decimal: {text}")))
}

/// A tax rate: a decimal percentage, not negative (a rate of -100 % or less cannot be removed
/// from a price).
fn percent(text: &str) -> Result<BigDecimal, AppError> {
    let rate = money(text)?;
    if rate < Money::zero() {
        return Err(AppError::Invalid(format!(
            "a tax rate cannot be negative: {text}"
        )));
    }
    Ok(rate.as_decimal().clone())
}
