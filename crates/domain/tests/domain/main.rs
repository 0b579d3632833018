//! The integration tests of the domain crate: the filters (`authenticate`) and every branch of
//! the call (`cc_by_cli`), through the public API, on mockall mocks of the ports.

mod card_path;
mod device_path;
mod filters;
mod look_ups;
mod parsing;
mod pin_path;
mod support;
mod taxes;
