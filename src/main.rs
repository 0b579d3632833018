use clap::Parser;
use morcc::cli::{Cli, Command};
use morcc::{operator, server, telemetry};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let outcome = match cli.command.unwrap_or_default() {
        Command::Serve => server::serve(&cli.database, &cli.serve),
        Command::Operator(command) => operator::run(&cli.database, command),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("morcc: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
