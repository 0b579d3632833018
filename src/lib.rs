//! The morcc program: configuration, wiring and the operator's subcommands.
//!
//! `main.rs` only parses the command line; everything it runs lives here so that the
//! black-box tests can start the same server on port 0.

pub mod cli;
pub mod demo;
pub mod operator;
pub mod server;
pub mod telemetry;
