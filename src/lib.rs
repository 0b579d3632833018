//! The morcc program: configuration, wiring and the operator's subcommands.
//!
//! `main.rs` only parses the command line; everything it runs lives here so that the
//! black-box tests can start the same server on port 0.

pub mod batch;
pub mod cli;
pub mod demo;
pub mod error;
pub mod operator;
pub mod reports;
pub mod scrape;
pub mod server;
pub mod telemetry;

/// Runs the parsed command line as `main` does: serves or runs one operator subcommand, and
/// reports a failure on standard error.
pub fn run(cli: cli::Cli) -> std::process::ExitCode {
    let logs = telemetry::init(cli.log_format);
    let database = cli.database.clone();
    let outcome = match cli.into_command() {
        cli::Command::Serve(options) => server::serve(&database, &options),
        cli::Command::Operator(command) => operator::run(&database, command),
    };
    // Every log line is out before the last word.
    drop(logs);
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("morcc: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
