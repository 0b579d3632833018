//! Starting the app and talking to it.

use std::net::TcpListener;
use std::str::FromStr;
use std::sync::Arc;

use morcc::cli::ServeArgs;
use morcc_adapters::testing::ScratchDatabase;
use morcc_adapters::{admin, Database};
use morcc_domain::{
    settings, ApiCall, BigDecimal, CallerId, Card, CardGroupId, CardId, CardNumber, HashedParams,
    Holder, Money, OwnerId, Pin, TaxId, UserId, UserType,
};

/// The API user every test calls as, and its secret key.
pub const USER: &str = "admin";
pub const PASSWORD: &str = "adminpass";
pub const KEY: &str = "secret";

/// Runs each scenario once on SQLite and, when configured, once on MySQL.
macro_rules! scenarios {
    ($($(#[$doc:meta])* async fn $name:ident($app:ident) $body:block)*) => {
        $(
            $(#[$doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn scenario($app: $crate::support::TestApp) $body

                #[actix_web::test]
                async fn sqlite() {
                    scenario($crate::support::TestApp::sqlite().await).await
                }

                #[cfg(feature = "mysql")]
                #[actix_web::test]
                async fn mysql() {
                    scenario($crate::support::TestApp::mysql().await).await
                }
            }
        )*
    };
}
pub(crate) use scenarios;

/// The default options but no settings cache: the scenarios change settings between requests
/// and expect the next request to see the change (the cache has tests of its own).
pub fn uncached() -> ServeArgs {
    ServeArgs {
        cache_ttl_ms: 0,
        ..ServeArgs::default()
    }
}

/// A running morcc and its database.
pub struct TestApp {
    pub address: String,
    pub db: Arc<Database>,
    pub group: CardGroupId,
    client: reqwest::Client,
    _scratch: ScratchDatabase,
}

/// A reply: status, headers and the body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub disposition: Option<String>,
    pub body: String,
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        TestApp::sqlite_with(uncached()).await
    }

    /// An app on SQLite served with these options.
    pub async fn sqlite_with(options: ServeArgs) -> TestApp {
        TestApp::start(
            ScratchDatabase::sqlite().expect("a scratch SQLite database"),
            options,
        )
    }

    #[cfg(feature = "mysql")]
    pub async fn mysql() -> TestApp {
        TestApp::mysql_with(uncached()).await
    }

    /// An app on MySQL served with these options. A build with the `mysql` feature fails its
    /// MySQL tests, with the reason, when `MORCC_TEST_MYSQL_URL` names no server.
    #[cfg(feature = "mysql")]
    pub async fn mysql_with(options: ServeArgs) -> TestApp {
        let server = std::env::var("MORCC_TEST_MYSQL_URL")
            .expect("MORCC_TEST_MYSQL_URL must name a MySQL server for the mysql tests");
        TestApp::start(
            ScratchDatabase::mysql(&server).expect("a scratch MySQL database"),
            options,
        )
    }

    /// Seeds an admin API user with GET allowed and a secret key, and a card group, then
    /// starts the server on a free port.
    fn start(scratch: ScratchDatabase, options: ServeArgs) -> TestApp {
        let db = Arc::new(scratch.database().clone());
        admin::create_user(
            &db,
            USER,
            PASSWORD,
            &UserType::Admin,
            OwnerId(0),
            &Money::zero(),
        )
        .unwrap();
        for (name, value) in [
            (settings::ALLOW_API, "1"),
            (settings::ALLOW_GET_API, "1"),
            (settings::API_SECRET_KEY, KEY),
        ] {
            admin::set_setting(&db, name, value, OwnerId(0)).unwrap();
        }
        let group = admin::create_card_group(
            &db,
            &admin::CardGroupSpec {
                name: "Group one".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let options = ServeArgs {
            workers: Some(2),
            ..options
        };
        let server = morcc::server::start(db.clone(), listener, &options).unwrap();
        actix_web::rt::spawn(server);
        TestApp {
            address,
            db,
            group,
            client: reqwest::Client::new(),
            _scratch: scratch,
        }
    }

    /// The signed parameters of a request as the admin: `u`, `p` and the right `hash`.
    pub fn signed(&self, params: &[(&str, &str)]) -> Vec<(String, String)> {
        signed_with(params, USER, PASSWORD, KEY)
    }

    /// POSTs signed parameters as a form to `/api/cc_by_cli`.
    pub async fn call(&self, params: &[(&str, &str)]) -> Answer {
        self.post_form("/api/cc_by_cli", &self.signed(params)).await
    }

    /// POSTs signed parameters of `call`, as the admin, to `/api/<call>`.
    pub async fn request(&self, call: ApiCall, params: &[(&str, &str)]) -> Answer {
        let signed = signed_call(call, params, USER, PASSWORD, KEY);
        self.post_form(&format!("/api/{}", call.name()), &signed)
            .await
    }

    /// POSTs signed parameters of `call`, as the admin, to `path` (an alias or a `/billing`
    /// path of the call).
    pub async fn request_at(&self, path: &str, call: ApiCall, params: &[(&str, &str)]) -> Answer {
        let signed = signed_call(call, params, USER, PASSWORD, KEY);
        self.post_form(path, &signed).await
    }

    /// POSTs the parameters of `call`, signed with `key`, as `user` to `/api/<call>`.
    pub async fn request_as(
        &self,
        call: ApiCall,
        params: &[(&str, &str)],
        user: &str,
        password: &str,
        key: &str,
    ) -> Answer {
        let signed = signed_call(call, params, user, password, key);
        self.post_form(&format!("/api/{}", call.name()), &signed)
            .await
    }

    /// POSTs exactly these parameters as a form.
    pub async fn post_form(&self, path: &str, params: &[(String, String)]) -> Answer {
        self.post_form_at(&self.address, path, params).await
    }

    /// GETs with exactly these parameters in the query string.
    pub async fn get(&self, path: &str, params: &[(String, String)]) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .query(params)
            .send()
            .await
            .unwrap();
        Answer::read(response).await
    }

    /// Starts another morcc instance on the same database (its own throttle and caches, as a
    /// second process would have) and returns its base address.
    pub fn another_instance(&self, options: ServeArgs) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let options = ServeArgs {
            workers: Some(2),
            ..options
        };
        actix_web::rt::spawn(morcc::server::start(self.db.clone(), listener, &options).unwrap());
        address
    }

    /// POSTs exactly these parameters as a form to the instance at `base`.
    pub async fn post_form_at(
        &self,
        base: &str,
        path: &str,
        params: &[(String, String)],
    ) -> Answer {
        let response = self
            .client
            .post(format!("{base}{path}"))
            .form(params)
            .send()
            .await
            .unwrap();
        Answer::read(response).await
    }

    /// Sends an arbitrary request.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::read(request.send().await.unwrap()).await
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn card(&self, callerid: &str) -> Option<Card> {
        admin::card_by_callerid(&self.db, &CallerId::parse(callerid).unwrap()).unwrap()
    }

    /// Checks the ledger invariant for a card: its balance equals the sum of its payments
    /// (every card these tests touch starts at zero or records its opening balance).
    pub fn payments_sum(&self, holder: Holder) -> Money {
        admin::payments_sum_for(&self.db, holder).unwrap()
    }
}

pub fn signed_with(
    params: &[(&str, &str)],
    user: &str,
    password: &str,
    key: &str,
) -> Vec<(String, String)> {
    signed_call(ApiCall::CcByCli, params, user, password, key)
}

/// `u`, `p`, the parameters and the right `hash` of `call` for them.
pub fn signed_call(
    call: ApiCall,
    params: &[(&str, &str)],
    user: &str,
    password: &str,
    key: &str,
) -> Vec<(String, String)> {
    let value = |name: &str| {
        params
            .iter()
            .find(|(param, _)| *param == name)
            .map(|(_, value)| *value)
    };
    let hash = HashedParams::of(call, |name| match name {
        "cardgroup_id" => value("cardgroup_id").or_else(|| value("cardgroup")),
        name => value(name),
    })
    .mor_hash(key);
    let mut all: Vec<(String, String)> =
        vec![("u".into(), user.into()), ("p".into(), password.into())];
    all.extend(
        params
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    all.push(("hash".into(), hash));
    all
}

impl Answer {
    async fn read(response: reqwest::Response) -> Answer {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().unwrap().to_owned())
        };
        let (content_type, disposition) = (header("content-type"), header("content-disposition"));
        let status = response.status().as_u16();
        Answer {
            status,
            content_type,
            disposition,
            body: response.text().await.unwrap(),
        }
    }

    /// The body is exactly this action error.
    pub fn assert_action_error(&self, text: &str) {
        assert_eq!(self.status, 200);
        assert_eq!(self.body, action_error(text));
    }

    /// The body is exactly this filter error.
    pub fn assert_filter_error(&self, text: &str) {
        assert_eq!(self.status, 200);
        assert_eq!(self.body, format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<status>\n  <error>{text}</error>\n</status>\n"));
    }
}

impl Answer {
    /// The body is exactly this action error of `card_group_get`, `card_from_group_sell` or
    /// `card_payment_add` (card_calls.md §1: `<page><status><error>`). `card_balance_get`'s
    /// are cc_by_cli's envelope: [`Answer::assert_action_error`].
    #[track_caller]
    pub fn assert_card_error(&self, text: &str) {
        assert_eq!(self.status, 200);
        assert_eq!(self.body, card_error(text));
    }
}

/// The error texts card_calls.md §6 adds to cc_by_cli's.
pub const CARD_ERRORS: [&str; 8] = [
    "Cardgroup was not found",
    "Free cards was not found",
    "Card is already sold",
    "Calling Card was not found",
    "You are not authorized to use this functionality",
    "Feature Disabled",
    "Currency was not found",
    "Currency disabled",
];

/// Whether `text` is one of the error texts of either spec.
pub fn is_spec_error(text: &str) -> bool {
    crate::checks::SPEC_ERRORS.contains(&text) || CARD_ERRORS.contains(&text)
}

/// The action error of `card_group_get`, `card_from_group_sell` and `card_payment_add`.
pub fn card_error(text: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <status>\n    <error>{text}</error>\n  </status>\n</page>\n"
    )
}

/// Adds a user of `usertype` with the password `pw`.
pub fn add_user(app: &TestApp, name: &str, usertype: UserType, owner: OwnerId) -> UserId {
    admin::create_user(&app.db, name, "pw", &usertype, owner, &Money::zero()).unwrap()
}

/// The id of the user every test calls as.
pub fn admin_id(app: &TestApp) -> UserId {
    admin::user_id(&app.db, USER)
        .unwrap()
        .expect("the admin exists")
}

/// An unsold card with no caller ID (free when `balance` is above zero), its PIN drawn.
pub fn add_card(app: &TestApp, group: CardGroupId, number: &str, balance: &str) -> CardId {
    add_card_with(app, group, number, None, balance, false, None)
}

/// A card with these codes, balance (an opening: no payment), sold flag and caller ID.
pub fn add_card_with(
    app: &TestApp,
    group: CardGroupId,
    number: &str,
    pin: Option<&str>,
    balance: &str,
    sold: bool,
    callerid: Option<&str>,
) -> CardId {
    let spec = admin::CardSpec {
        cardgroup_id: group,
        balance: money(balance),
        pin: pin.map(|pin| Pin::parse(pin).unwrap()),
        number: Some(CardNumber::parse(number).unwrap()),
        callerid: callerid.map(|cli| CallerId::parse(cli).unwrap()),
        sold,
    };
    admin::create_card(&app.db, &spec).unwrap()
}

/// A row of `taxes` with these rates (the others off).
pub fn add_tax(app: &TestApp, rates: &[&str], compound: bool) -> TaxId {
    let mut values: [BigDecimal; 4] = Default::default();
    let mut enabled = [false; 4];
    for (index, rate) in rates.iter().enumerate() {
        values[index] = BigDecimal::from_str(rate).unwrap();
        enabled[index] = true;
    }
    let spec = admin::TaxSpec {
        values,
        enabled,
        compound,
    };
    admin::create_tax(&app.db, &spec).unwrap()
}

/// The card with this number.
pub fn card_numbered(app: &TestApp, number: &str) -> Card {
    admin::card_by_number(&app.db, &CardNumber::parse(number).unwrap())
        .unwrap()
        .unwrap_or_else(|| panic!("no card {number}"))
}

pub fn action_error(text: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <error>{text}</error>\n</page>\n"
    )
}

/// The golden card reply.
pub fn card_reply(card: &Card, balance: &str, balance_with_vat: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <response>
    <status>ok</status>
    <card>
      <id>{id}</id>
      <cardgroup_id>{group}</cardgroup_id>
      <balance>{balance}</balance>
      <balance_with_vat>{balance_with_vat}</balance_with_vat>
      <callerid>{callerid}</callerid>
      <pin>{pin}</pin>
      <number>{number}</number>
    </card>
  </response>
</page>
",
        id = card.id,
        group = card.cardgroup_id,
        callerid = card.callerid.as_ref().map_or("", |cli| cli.as_str()),
        pin = card.pin.expose(),
        number = card.number.as_str(),
    )
}

/// The golden device reply.
pub fn device_reply(device_id: i64, user_id: i64, balance: &str, balance_with_vat: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <response>
    <status>ok</status>
    <device_id>{device_id}</device_id>
    <user_id>{user_id}</user_id>
    <new_balance>{balance}</new_balance>
    <new_balance_with_vat>{balance_with_vat}</new_balance_with_vat>
  </response>
</page>
"
    )
}

pub fn money(text: &str) -> Money {
    Money::parse_stored(text).unwrap()
}

/// The admin API user of [`USER`], and the API on with the key [`KEY`].
pub fn seed_admin(db: &Database) -> Result<UserId, morcc_adapters::AdapterError> {
    let admin = admin::create_user(
        db,
        USER,
        PASSWORD,
        &UserType::Admin,
        OwnerId(0),
        &Money::zero(),
    )?;
    for (name, value) in [(settings::ALLOW_API, "1"), (settings::API_SECRET_KEY, KEY)] {
        admin::set_setting(db, name, value, OwnerId(0))?;
    }
    Ok(admin)
}

/// [`seed_admin`] and a card group: what a database needs before a morcc process of a test's
/// own serves it.
pub fn seed_api(db: &Database) -> Result<CardGroupId, morcc_adapters::AdapterError> {
    seed_admin(db)?;
    admin::create_card_group(
        db,
        &admin::CardGroupSpec {
            name: "g".into(),
            ..Default::default()
        },
    )
}
