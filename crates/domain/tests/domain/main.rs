//! The integration tests of the domain crate: the filters (`authenticate`) and every branch of
//! the calls (`cc_by_cli` and the card calls), through the public API, on mockall mocks of the
//! ports.

mod card_balance_get;
mod card_call_filters;
mod card_from_group_sell;
mod card_group_get;
mod card_path;
mod card_payment_add;
mod device_path;
mod filters;
mod idempotency;
mod look_ups;
mod parsing;
mod pin_path;
mod support;
mod taxes;
