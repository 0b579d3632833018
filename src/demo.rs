//! Demo data for the first start of the default SQLite database, and the curl line that
//! exercises it.

use std::net::SocketAddr;

use morcc_adapters::{admin, Database};
use morcc_domain::{settings, HashedParams, Money, OwnerId, UserType};
use rand::distr::{Alphanumeric, SampleString};

use crate::error::AppError;

/// What the demo created, with the secrets the operator needs once (printed by
/// [`Demo::instructions`], never by `Debug`).
pub struct Demo {
    username: String,
    password: String,
    secret_key: String,
    cardgroup_id: i64,
}

/// Creates an admin with a generated password, enables the API (and GET) with a generated
/// secret key, and creates a card group.
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
    let spec = admin::CardGroupSpec {
        name: "Demo calling cards".into(),
        ..Default::default()
    };
    let group = admin::create_card_group(database, &spec)?;
    Ok(Demo {
        username: "admin".into(),
        password,
        secret_key,
        cardgroup_id: group.0,
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
    /// The text printed on the first start: the credentials and a curl line that sells a card.
    pub fn instructions(&self, listening: SocketAddr) -> String {
        let host = if listening.ip().is_unspecified() {
            format!("127.0.0.1:{}", listening.port())
        } else {
            listening.to_string()
        };
        let (callerid, amount, cardgroup_id) = ("37060000001", "10", self.cardgroup_id.to_string());
        let hash = HashedParams {
            pin: None,
            amount: Some(amount),
            callerid: Some(callerid),
            cardgroup_id: Some(&cardgroup_id),
        }
        .mor_hash(&self.secret_key);
        format!(
            "First start: demo data created.\n\
             \x20 API user:      {user} / {password}\n\
             \x20 API secret:    {key}\n\
             \x20 card group id: {cardgroup_id}\n\
             Sell a card with 10.00 on it to caller ID {callerid}:\n\
             \x20 curl -s -d 'u={user}&p={password}&callerid={callerid}&amount={amount}&cardgroup_id={cardgroup_id}&hash={hash}&test=1' http://{host}/api/cc_by_cli\n\
             Hash other requests with: morcc hash --callerid ... --amount ... --key {key}",
            user = self.username,
            password = self.password,
            key = self.secret_key,
        )
    }
}
