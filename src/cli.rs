//! The command line.

use clap::{Args, Parser, Subcommand};

use morcc_adapters::{admin, PoolSettings, SqliteSynchronous};
use morcc_domain::ApiCall;
use morcc_http::ThrottleLimits;

use crate::telemetry::LogFormat;

/// Where `serve` listens unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The largest request body `serve` accepts unless told otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// How long users and settings are cached unless told otherwise.
pub const DEFAULT_CACHE_TTL_MS: u64 = 1000;
/// Hours an idempotency key is kept unless told otherwise (a day, as Stripe keeps them).
pub const DEFAULT_IDEMPOTENCY_RETENTION_HOURS: u64 = 24;

/// The database used when none is named: an SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://morcc.db";

/// morcc: a MOR-compatible calling-card API service (`cc_by_cli` and the card calls).
///
/// Without a subcommand it serves the API, as `morcc serve` does.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// How to serve when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log format.
    #[arg(long, env = "MORCC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the command line, or exits with clap's message (as `Parser::parse` does).
    pub fn parse_or_exit<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_checked(args).unwrap_or_else(|error| error.exit())
    }

    /// Parses the command line. A serving flag before a subcommand (`morcc --bind X migrate`,
    /// or `morcc --bind X serve`, whose `serve` would take its own defaults) is refused
    /// rather than silently ignored: serving flags go after `serve` or without a subcommand.
    pub fn try_parse_checked<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(args)?;
        if let Some((subcommand, _)) = matches.subcommand() {
            let serving = ServeArgs::augment_args(clap::Command::new("serve"));
            for flag in serving.get_arguments() {
                let id = flag.get_id().as_str();
                if matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
                    return Err(command.error(
                        clap::error::ErrorKind::ArgumentConflict,
                        format!("--{} is a serving flag: give it after `serve`, not before `{subcommand}`", flag.get_long().unwrap_or(id)),
                    ));
                }
            }
        }
        Cli::from_arg_matches(&matches).map_err(|error| error.format(&mut command))
    }

    /// The subcommand to run: `serve` with the top-level serving flags when none was named.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

/// Where the data lives; every subcommand that touches it takes the same option.
#[derive(Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` (relative, or absolute as `sqlite:///var/lib/morcc/cards.db`) or
    /// `mysql://USER:PASSWORD@HOST:PORT/DATABASE` (needs the `mysql` feature).
    #[arg(long = "database-url", env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub url: String,
    /// Most database connections held open (default: 4 on SQLite, its cap; 8 on MySQL).
    #[arg(long, env = "MORCC_POOL_SIZE", global = true)]
    pub pool_size: Option<u32>,
    /// Seconds to wait for a free connection before a request fails. Longer than a Galera
    /// cluster's commit freeze while it evicts a dead node (about 6 s), so that a node's loss
    /// only slows requests down.
    #[arg(long, env = "MORCC_POOL_TIMEOUT", default_value_t = PoolSettings::default().connection_timeout.as_secs(), global = true)]
    pub pool_timeout: u64,
    /// When an SQLite commit reaches the disk: `full` (before the reply; survives a power
    /// cut) or `normal` (faster; the last replies can be lost on a power cut or OS crash).
    #[arg(long, env = "MORCC_SQLITE_SYNCHRONOUS", value_enum, default_value_t = SqliteSync::Full, global = true)]
    pub sqlite_synchronous: SqliteSync,
}

/// `--sqlite-synchronous`, as the command line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSync {
    /// Every commit synced to disk before it is acknowledged.
    Full,
    /// Commits synced at WAL checkpoints only.
    Normal,
}

impl From<SqliteSync> for SqliteSynchronous {
    fn from(choice: SqliteSync) -> SqliteSynchronous {
        match choice {
            SqliteSync::Full => SqliteSynchronous::Full,
            SqliteSync::Normal => SqliteSynchronous::Normal,
        }
    }
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default). Runs pending migrations first.
    #[command(after_help = "Example:\n  morcc serve --bind 0.0.0.0:8080")]
    Serve(ServeArgs),
    #[command(flatten)]
    Operator(OperatorCommand),
}

/// The subcommands that change or read the data and exit.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Run pending database migrations and exit.
    #[command(
        after_help = "Example:\n  morcc --database-url mysql://morcc:secret@db:3306/mor migrate"
    )]
    Migrate,
    /// Print the MOR API hash of a request, as MOR's "Generate hash" page does.
    #[command(after_help = "Examples:\n  \
        morcc hash --callerid 37060000001 --amount 10 --cardgroup-id 1 --key KEY\n  \
        morcc hash --call card_payment_add --number 1111111001 --amount 5 --key KEY")]
    Hash(Box<HashArgs>),
    /// Create a user (password stored as MOR does: SHA1 hex).
    #[command(
        after_help = "Example:\n  morcc create-user --username shop --password 'pw' --usertype reseller"
    )]
    CreateUser(CreateUserArgs),
    /// Create a card group.
    #[command(after_help = "Example:\n  \
        morcc create-card-group --name \"10 minutes\" --price 10 --description \"10 minutes cards\"")]
    CreateCardGroup(CreateCardGroupArgs),
    /// Change a card group's price, picture, description or visibility to the API.
    #[command(after_help = "Examples:\n  \
        morcc update-card-group --cardgroup-id 1 --price 12.5 --image ten.jpg\n  \
        morcc update-card-group --cardgroup-id 1 --hidden true")]
    UpdateCardGroup(UpdateCardGroupArgs),
    /// Create a calling card.
    #[command(after_help = "Example:\n  morcc create-card --cardgroup-id 1 --balance 10")]
    CreateCard(CreateCardArgs),
    /// Hide a card from the API (card_group_get, card_from_group_sell, card_balance_get,
    /// card_payment_add), or show it again.
    #[command(after_help = "Example:\n  morcc update-card --number 1111111001 --hidden true")]
    UpdateCard(UpdateCardArgs),
    /// Create a device of a user with a caller ID.
    #[command(after_help = "Example:\n  morcc create-device --user-id 2 --callerid 37060000002")]
    CreateDevice(CreateDeviceArgs),
    /// Set a setting (a row of `conflines`).
    #[command(after_help = "Example:\n  morcc set-setting Allow_API 1")]
    SetSetting(SetSettingArgs),
    /// Allow or refuse `card_payment_add` (the setting API_Allow_payments_ower_API).
    #[command(after_help = "Example:\n  morcc allow-api-payments on")]
    AllowApiPayments(AllowApiPaymentsArgs),
    /// Create or update a currency's exchange rate (relative to the system currency, rate 1).
    #[command(after_help = "Example:\n  morcc set-exchange-rate EUR 0.92")]
    SetExchangeRate(SetExchangeRateArgs),
    /// Enable or disable a currency: `card_payment_add` refuses a disabled one.
    #[command(after_help = "Example:\n  morcc set-currency-active --currency EUR --active false")]
    SetCurrencyActive(SetCurrencyActiveArgs),
    /// Create a tax row; prints its id.
    #[command(after_help = "Example:\n  morcc create-tax --tax1 21")]
    CreateTax(CreateTaxArgs),
    /// Give a card group or a user a tax.
    #[command(after_help = "Example:\n  morcc assign-tax --tax-id 1 --cardgroup-id 1")]
    AssignTax(AssignTaxArgs),
    /// Create a batch of cards in a card group (a print run): numbers from a range or after
    /// the group's highest, random PINs, the group's price as balance; optionally a CSV file of
    /// number,pin,balance for the printer.
    #[command(after_help = "Examples:\n  \
        morcc create-cards --cardgroup-id 1 --count 5000 --out batch-7.csv\n  \
        morcc create-cards --cardgroup-id 1 --from 0000100000 --till 0000104999 --balance 5")]
    CreateCards(CreateCardsArgs),
    /// List the card groups: price, currency, tax, and free and sold cards.
    #[command(after_help = "Examples:\n  morcc groups\n  morcc groups --json")]
    Groups(GroupsArgs),
    /// List a card group's cards (PINs hidden unless --show-pins).
    #[command(after_help = "Examples:\n  \
        morcc cards --cardgroup-id 1 --unsold\n  \
        morcc cards --cardgroup-id 1 --callerid 37060000001 --json")]
    Cards(CardsArgs),
    /// Show a card and its payments, newest first (its PIN hidden unless --show-pins).
    #[command(after_help = "Examples:\n  morcc card 1000000001\n  morcc card 1000000001 --json")]
    Card(CardArgs),
    /// List payments, newest first: all, or a card's or a user's, since a day.
    #[command(after_help = "Examples:\n  \
        morcc payments --since 2026-12-01\n  \
        morcc payments --card 1000000001\n  \
        morcc payments --user shop --json")]
    Payments(PaymentsArgs),
}

/// How `serve` listens (accepted with or without the `serve` word).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MORCC_BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "MORCC_WORKERS")]
    pub workers: Option<usize>,
    /// Largest request body in bytes; larger ones answer 413.
    #[arg(long, env = "MORCC_BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Failed logins or hashes of one username before it is refused for the rest of the
    /// window (0: no limit).
    #[arg(long, env = "MORCC_MAX_FAILED_LOGINS_PER_USERNAME", default_value_t = ThrottleLimits::default().per_username)]
    pub max_failed_logins_per_username: u32,
    /// Failed logins or hashes from one client address before it is refused (0: no limit).
    #[arg(long, env = "MORCC_MAX_FAILED_LOGINS_PER_ADDRESS", default_value_t = ThrottleLimits::default().per_address)]
    pub max_failed_logins_per_address: u32,
    /// Seconds a failed-login window lasts.
    #[arg(long, env = "MORCC_FAILED_LOGIN_WINDOW", default_value_t = ThrottleLimits::default().window.as_secs())]
    pub failed_login_window: u64,
    /// Milliseconds users, settings, card groups, taxes and currencies are reused before they
    /// are read again (0: every request reads them). A change (a password, a price, an
    /// exchange rate) takes effect within this time on every instance. Balances are never
    /// reused.
    #[arg(long, env = "MORCC_CACHE_TTL_MS", default_value_t = DEFAULT_CACHE_TTL_MS)]
    pub cache_ttl_ms: u64,
    /// Hours an idempotency key (and the reply kept under it) is kept; a copy of a request
    /// sent later runs again. Expired keys are purged in the background.
    #[arg(long, env = "MORCC_IDEMPOTENCY_RETENTION_HOURS", default_value_t = DEFAULT_IDEMPOTENCY_RETENTION_HOURS, value_parser = clap::value_parser!(u64).range(1..))]
    pub idempotency_retention_hours: u64,
    /// Serve Prometheus metrics at `GET /metrics` on this address of its own (for example
    /// 127.0.0.1:9187). Off when not given.
    #[arg(long, env = "MORCC_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<String>,
}

impl Default for ServeArgs {
    /// The command line's defaults, for starting a server from code (tests, benchmarks).
    fn default() -> Self {
        let throttle = ThrottleLimits::default();
        ServeArgs {
            bind: DEFAULT_BIND.to_owned(),
            workers: None,
            body_limit: DEFAULT_BODY_LIMIT,
            max_failed_logins_per_username: throttle.per_username,
            max_failed_logins_per_address: throttle.per_address,
            failed_login_window: throttle.window.as_secs(),
            cache_ttl_ms: DEFAULT_CACHE_TTL_MS,
            idempotency_retention_hours: DEFAULT_IDEMPOTENCY_RETENTION_HOURS,
            metrics_bind: None,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct HashArgs {
    /// The call whose hashed parameters count (only they are hashed, in its order).
    #[arg(long, value_name = "NAME", default_value = "cc_by_cli", value_parser = api_call_parser())]
    pub call: ApiCall,
    /// The request's `pin`, as sent (leave out when the request has none).
    #[arg(long)]
    pub pin: Option<String>,
    /// The request's `amount`, as sent.
    #[arg(long)]
    pub amount: Option<String>,
    /// The request's `callerid`, as sent.
    #[arg(long)]
    pub callerid: Option<String>,
    /// The request's `cardgroup_id`, as sent.
    #[arg(long = "cardgroup-id")]
    pub cardgroup_id: Option<String>,
    /// The request's `id` (a card group), as sent.
    #[arg(long)]
    pub id: Option<String>,
    /// The request's `quantity`, as sent.
    #[arg(long)]
    pub quantity: Option<String>,
    /// The request's `number` (a card number), as sent.
    #[arg(long)]
    pub number: Option<String>,
    /// The request's `email`, as sent.
    #[arg(long)]
    pub email: Option<String>,
    /// The request's `description`, as sent.
    #[arg(long)]
    pub description: Option<String>,
    /// The request's `currency`, as sent.
    #[arg(long)]
    pub currency: Option<String>,
    /// The secret key; without it, `API_Secret_Key` of `--owner-id` is read from the database.
    #[arg(long, env = "MORCC_API_SECRET_KEY")]
    pub key: Option<Secret>,
    /// Whose key to read: 0 for the admin, a reseller's user id for a reseller.
    #[arg(long, default_value_t = 0)]
    pub owner_id: i64,
}

impl HashArgs {
    /// The request parameters given, by their names in a request, in the order of the flags.
    pub fn parameters(&self) -> [(&'static str, Option<&str>); 10] {
        [
            ("pin", self.pin.as_deref()),
            ("amount", self.amount.as_deref()),
            ("callerid", self.callerid.as_deref()),
            ("cardgroup_id", self.cardgroup_id.as_deref()),
            ("id", self.id.as_deref()),
            ("quantity", self.quantity.as_deref()),
            ("number", self.number.as_deref()),
            ("email", self.email.as_deref()),
            ("description", self.description.as_deref()),
            ("currency", self.currency.as_deref()),
        ]
    }
}

/// `--call`: one of the API's call names ([`ApiCall::name`]); clap lists them on a bad one.
fn api_call_parser() -> impl clap::builder::TypedValueParser<Value = ApiCall> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(ApiCall::ALL.map(ApiCall::name)).map(|name| {
        ApiCall::ALL
            .into_iter()
            .find(|call| call.name() == name)
            .expect("PossibleValuesParser admits only the calls' names")
    })
}

#[derive(Debug, Clone, Args)]
pub struct CreateUserArgs {
    /// The login name (`u` of API requests).
    #[arg(long)]
    pub username: String,
    /// The password (MOR stores its SHA1).
    #[arg(long, env = "MORCC_NEW_USER_PASSWORD")]
    pub password: Secret,
    /// admin, accountant, reseller or user.
    #[arg(long, default_value = "user")]
    pub usertype: String,
    /// The user's owner: 0 for the admin, or a reseller's user id.
    #[arg(long, default_value_t = 0)]
    pub owner_id: i64,
    /// Opening balance, a plain decimal in the system currency.
    #[arg(long, default_value = "0")]
    pub balance: String,
}

#[derive(Debug, Clone, Args)]
pub struct CreateCardGroupArgs {
    /// The group's name.
    #[arg(long)]
    pub name: String,
    /// The group's owner: 0 for the admin, or a reseller's user id.
    #[arg(long, default_value_t = 0)]
    pub owner_id: i64,
    /// Digits of a new card's number.
    #[arg(long, default_value_t = 10)]
    pub number_length: usize,
    /// Digits of a new card's PIN.
    #[arg(long, default_value_t = 6)]
    pub pin_length: usize,
    /// Currency its cards are priced in (blank: the system currency).
    #[arg(long, default_value = "")]
    pub currency: String,
    /// The tax its prices include (see `create-tax`; default: none).
    #[arg(long)]
    pub tax_id: Option<i64>,
    /// A card's price, a plain decimal net of tax in the system currency (card_group_get
    /// shows it, and with the group's tax).
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub price: String,
    /// The picture's file name, linked as /billing/cards/FILE.
    #[arg(long, value_name = "FILE", default_value = admin::DEFAULT_CARD_GROUP_IMAGE)]
    pub image: String,
    /// What the cards are, as card_group_get shows it.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub description: String,
}

#[derive(Debug, Clone, Args)]
#[command(group(
    clap::ArgGroup::new("change")
        .args(["price", "image", "description", "hidden"])
        .required(true)
        .multiple(true)
))]
pub struct UpdateCardGroupArgs {
    /// The card group to change.
    #[arg(long = "cardgroup-id")]
    pub cardgroup_id: i64,
    /// A new price, a plain decimal net of tax in the system currency.
    #[arg(long, allow_hyphen_values = true)]
    pub price: Option<String>,
    /// A new picture file name, linked as /billing/cards/FILE.
    #[arg(long, value_name = "FILE")]
    pub image: Option<String>,
    /// A new description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// true hides the group and its cards from the API; false shows them again.
    #[arg(long, value_name = "true|false")]
    pub hidden: Option<bool>,
}

#[derive(Debug, Clone, Args)]
pub struct CreateCardArgs {
    /// The card group the card belongs to.
    #[arg(long = "cardgroup-id")]
    pub cardgroup_id: i64,
    /// Opening balance, a plain decimal (no payments row is written for it).
    #[arg(long, default_value = "0")]
    pub balance: String,
    /// A PIN (default: random digits of the group's PIN length).
    #[arg(long)]
    pub pin: Option<String>,
    /// The card's number (default: random digits of the group's number length).
    #[arg(long)]
    pub number: Option<String>,
    /// A caller ID to bind the card to (default: none).
    #[arg(long)]
    pub callerid: Option<String>,
    /// Mark the card sold.
    #[arg(long)]
    pub sold: bool,
}

#[derive(Debug, Clone, Args)]
pub struct UpdateCardArgs {
    /// The card's number, exactly as stored.
    #[arg(long)]
    pub number: String,
    /// true hides the card from the API; false shows it again.
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
    pub hidden: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CreateDeviceArgs {
    /// The user whose balance the device's calls use (-1: a provider's device).
    #[arg(long)]
    pub user_id: i64,
    /// The device's caller ID.
    #[arg(long)]
    pub callerid: String,
    /// The device's name.
    #[arg(long, default_value = "")]
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct SetSettingArgs {
    /// The setting's name, e.g. `Allow_API` or `API_Secret_Key`.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Whose setting: 0 for the admin's, or a reseller's user id.
    #[arg(long, default_value_t = 0)]
    pub owner_id: i64,
}

#[derive(Debug, Clone, Args)]
pub struct AllowApiPaymentsArgs {
    /// on (the setting 1): card_payment_add tops cards up; off (0): it answers Feature Disabled.
    #[arg(value_enum, value_name = "on|off")]
    pub state: Switch,
}

/// `on` or `off`, as the command line spells a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    /// Turned on.
    On,
    /// Turned off.
    Off,
}

#[derive(Debug, Clone, Args)]
pub struct SetExchangeRateArgs {
    /// Currency name, e.g. EUR.
    pub name: String,
    /// Units of this currency per unit of the system currency.
    pub rate: String,
}

#[derive(Debug, Clone, Args)]
pub struct SetCurrencyActiveArgs {
    /// The currency's name, exactly as stored, e.g. EUR.
    #[arg(long)]
    pub currency: String,
    /// true enables it; false makes card_payment_add answer Currency disabled for it.
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
    pub active: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CreateTaxArgs {
    /// Tax 1 in percent (always counts).
    #[arg(long, default_value = "0")]
    pub tax1: String,
    /// Tax 2 in percent; each of taxes 2 to 4 that is given is enabled.
    #[arg(long)]
    pub tax2: Option<String>,
    /// Tax 3 in percent.
    #[arg(long)]
    pub tax3: Option<String>,
    /// Tax 4 in percent.
    #[arg(long)]
    pub tax4: Option<String>,
    /// Compound (multiply) instead of additive.
    #[arg(long)]
    pub compound: bool,
}

#[derive(Debug, Clone, Args)]
pub struct AssignTaxArgs {
    /// The tax to give.
    #[arg(long)]
    pub tax_id: i64,
    /// The card group that gets it.
    #[arg(
        long = "cardgroup-id",
        conflicts_with = "user_id",
        required_unless_present = "user_id"
    )]
    pub cardgroup_id: Option<i64>,
    /// The user that gets it.
    #[arg(long)]
    pub user_id: Option<i64>,
}

#[derive(Debug, Clone, Args)]
#[command(group(
    clap::ArgGroup::new("numbers")
        .args(["count", "from"])
        .required(true)
))]
pub struct CreateCardsArgs {
    /// The card group the cards belong to; its lengths make their numbers and PINs.
    #[arg(long = "cardgroup-id")]
    pub cardgroup_id: i64,
    /// How many cards: numbered on from the group's highest number of its length (from 1
    /// and zeros when it has none), passing over numbers any card holds.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=admin::batch::MAX_BATCH))]
    pub count: Option<u64>,
    /// The first number of a range (the group's number length, leading zeros kept); numbers
    /// any card holds are passed over.
    #[arg(
        long,
        value_name = "NUMBER",
        requires = "till",
        allow_hyphen_values = true
    )]
    pub from: Option<String>,
    /// The last number of the range, included.
    #[arg(
        long,
        value_name = "NUMBER",
        requires = "from",
        allow_hyphen_values = true
    )]
    pub till: Option<String>,
    /// Each card's opening balance, a plain decimal, net, in the system currency (default:
    /// the group's price).
    #[arg(long, allow_hyphen_values = true)]
    pub balance: Option<String>,
    /// Write number,pin,balance of the cards created to this new CSV file (mode 0600: PINs
    /// are secrets), for the printer.
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct GroupsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CardsArgs {
    /// The card group whose cards to list.
    #[arg(long = "cardgroup-id")]
    pub cardgroup_id: i64,
    /// Only sold cards.
    #[arg(long, conflicts_with = "unsold")]
    pub sold: bool,
    /// Only unsold cards.
    #[arg(long)]
    pub unsold: bool,
    /// Only the card bound to this caller ID.
    #[arg(long)]
    pub callerid: Option<String>,
    /// Only the card with this number.
    #[arg(long)]
    pub number: Option<String>,
    /// Show the PINs too.
    #[arg(long)]
    pub show_pins: bool,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CardArgs {
    /// The card's number, exactly as stored.
    pub number: String,
    /// Show the PIN too.
    #[arg(long)]
    pub show_pins: bool,
    /// Print a JSON object {"card": ..., "payments": [...]} instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PaymentsArgs {
    /// Only payments added on this day (YYYY-MM-DD, as the database keeps dates) or later.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub since: Option<String>,
    /// Only the payments of the card with this number.
    #[arg(long, value_name = "NUMBER", conflicts_with = "user")]
    pub card: Option<String>,
    /// Only the payments of the user with this username.
    #[arg(long, value_name = "USERNAME")]
    pub user: Option<String>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl std::fmt::Debug for DatabaseArgs {
    // The URL of a MySQL server carries its password: show the scheme only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self.url.split_once("://").map_or("?", |(scheme, _)| scheme);
        f.debug_struct("DatabaseArgs")
            .field("url", &format_args!("{scheme}://<redacted>"))
            .field("pool_size", &self.pool_size)
            .field("pool_timeout", &self.pool_timeout)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .finish()
    }
}

/// A password or key given on the command line: usable, but never shown by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(text.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand and every flag explains itself in one line.
    #[test]
    fn every_subcommand_and_flag_has_a_description() {
        use clap::CommandFactory;
        let cli = Cli::command();
        for command in cli.get_subcommands() {
            let name = command.get_name();
            assert!(command.get_about().is_some(), "subcommand {name}");
            for arg in command.get_arguments() {
                assert!(
                    arg.get_help().is_some(),
                    "{name}: {} has no description",
                    arg.get_id()
                );
            }
        }
    }

    /// Every subcommand's help ends with an example of itself.
    #[test]
    fn every_subcommand_shows_an_example() {
        use clap::CommandFactory;
        for command in Cli::command().get_subcommands() {
            let name = command.get_name();
            let help = command
                .get_after_help()
                .map(|help| help.to_string())
                .unwrap_or_default();
            assert!(
                help.starts_with("Example") && help.contains(&format!(" {name}")),
                "{name} shows no example"
            );
        }
    }

    /// `morcc` alone serves, with the top-level flags; `serve` takes the same flags.
    #[test]
    fn without_a_subcommand_morcc_serves() {
        let bare = Cli::parse_from(["morcc", "--bind", "127.0.0.1:9"]).into_command();
        assert!(matches!(bare, Command::Serve(options) if options.bind == "127.0.0.1:9"));
        let named = Cli::parse_from(["morcc", "serve", "--bind", "127.0.0.1:9"]).into_command();
        assert!(matches!(named, Command::Serve(options) if options.bind == "127.0.0.1:9"));
        assert!(Cli::try_parse_checked(["morcc", "migrate", "--bind", "127.0.0.1:9"]).is_err());
        for subcommand in ["serve", "migrate"] {
            assert!(
                Cli::try_parse_checked(["morcc", "--bind", "127.0.0.1:9", subcommand]).is_err(),
                "a serving flag before {subcommand} is refused, not ignored"
            );
        }
        assert!(
            Cli::try_parse_checked(["morcc", "--database-url", "sqlite://x.db", "migrate"]).is_ok()
        );
    }

    #[test]
    fn debug_output_shows_no_password_key_or_database_credentials() {
        let cli = Cli::parse_from([
            "morcc",
            "--database-url",
            "mysql://morcc:dbHunter2@db:3306/mor",
            "create-user",
            "--username",
            "ops",
            "--password",
            "userHunter2",
        ]);
        let shown = format!("{cli:?}");
        assert!(
            !shown.contains("dbHunter2") && !shown.contains("userHunter2"),
            "{shown}"
        );
        let hash = Cli::parse_from(["morcc", "hash", "--callerid", "1", "--key", "keyHunter2"]);
        assert!(!format!("{hash:?}").contains("keyHunter2"));
    }
}
