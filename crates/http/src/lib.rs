//! The HTTP face of morcc: MOR's calling-card API (`cc_by_cli` and the four card calls) over
//! actix-web.
//!
//! This crate turns requests into the domain's inputs ([`params`]), runs the filters and the
//! call of `morcc-domain` on a blocking thread, and renders MOR's XML replies ([`reply`]) with
//! the texts of spec §6 (which the domain's errors carry). It knows HTTP and XML and nothing
//! about the database.

pub mod card_reply;
pub mod endpoint;
pub mod observe;
pub mod params;
pub mod reply;
pub mod throttle;

pub use endpoint::{call_names, configure, routes, HealthCheck, HttpLimits, Services};
pub use throttle::{LoginThrottle, ThrottleLimits};
