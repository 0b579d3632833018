//! The operator's subcommands: everything an operator would otherwise do in SQL.

use morcc_adapters::{admin, Database};
use morcc_domain::{
    settings, BigDecimal, CallerId, CardGroupId, CardNumber, Directory, HashedParams, Money,
    OwnerId, Pin, TaxId, UserId, UserType,
};

use crate::cli::{
    AssignTaxArgs, CreateCardArgs, CreateCardGroupArgs, CreateDeviceArgs, CreateTaxArgs,
    CreateUserArgs, DatabaseArgs, HashArgs, OperatorCommand as Command, SetExchangeRateArgs,
    SetSettingArgs,
};
use crate::error::AppError;
use crate::server::open_database;

/// Runs one subcommand other than `serve`, printing what it created.
pub fn run(database_args: &DatabaseArgs, command: Command) -> Result<(), AppError> {
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
        Command::CreateCard(args) => create_card(&database, &args)?,
        Command::CreateDevice(args) => create_device(&database, &args)?,
        Command::SetSetting(args) => set_setting(&database, &args)?,
        Command::SetExchangeRate(args) => set_exchange_rate(&database, &args)?,
        Command::CreateTax(args) => create_tax(&database, &args)?,
        Command::AssignTax(args) => assign_tax(&database, &args)?,
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
    };
    println!(
        "card group {} created",
        admin::create_card_group(database, &group)?
    );
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

fn hash_of(args: &HashArgs, key: &str) -> String {
    HashedParams {
        pin: args.pin.as_deref(),
        amount: args.amount.as_deref(),
        callerid: args.callerid.as_deref(),
        cardgroup_id: args.cardgroup_id.as_deref(),
    }
    .mor_hash(key)
}

fn invalid(what: &str) -> AppError {
    AppError::Invalid(format!("not a usable {what}"))
}

/// A card number as the operator chose it: printable, and no wider than its column.
fn card_number(text: &str) -> Result<CardNumber, AppError> {
    CardNumber::parse(text).ok_or_else(|| invalid("card number"))
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
