fn main() -> std::process::ExitCode {
    morcc::run(morcc::cli::Cli::parse_or_exit(std::env::args_os()))
}
