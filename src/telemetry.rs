//! Structured logs: text for a terminal, JSON for a log pipeline; `RUST_LOG` filters them.

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Writes the lines still queued when dropped: keep it until the program ends.
pub type LogFlush = WorkerGuard;

/// Installs the global subscriber (info and above unless `RUST_LOG` says otherwise).
///
/// Lines go to standard error from a thread of their own, so a request formats its line but
/// never waits for the `write` (issue 14). When lines come faster than the terminal or the
/// pipe takes them, the queue fills and requests wait after all: no line is dropped.
pub fn init(format: LogFormat) -> LogFlush {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, flush) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("morcc-log")
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    // A second call (tests) finds a subscriber installed already; that is fine.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    flush
}
