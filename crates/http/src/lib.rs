//! The HTTP face of morcc: MOR's `cc_by_cli` call over actix-web.
//!
//! This crate turns requests into the domain's inputs ([`params`]), runs the filters and the
//! call of `morcc-domain` on a blocking thread, and renders MOR's XML replies ([`reply`]) with
//! the texts of spec §6 (which the domain's errors carry). It knows HTTP and XML and nothing
//! about the database.

pub mod endpoint;
pub mod params;
pub mod reply;
pub mod throttle;

pub use endpoint::{configure, HealthCheck, HttpLimits, Services, ROUTES};
pub use throttle::{LoginThrottle, ThrottleLimits};
