//! morcc as its own process, so that its peak memory (VmHWM) and CPU are its own and not the
//! load generator's.
//!
//! By default the bench starts itself with the hidden first argument [`CHILD_ARG`], which runs
//! exactly what `morcc`'s `main` runs (the `morcc` library's command line, telemetry and
//! `serve`), built with the same profile and features as the bench. `--morcc-bin` starts
//! another binary instead (e.g. `target/release/morcc`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::stats::process_status_kib;

/// The hidden argument that makes the bench binary run morcc's server.
pub const CHILD_ARG: &str = "__morcc";

/// Runs morcc's `main` with `args` (after [`CHILD_ARG`]).
pub fn run_child(args: Vec<String>) -> std::process::ExitCode {
    morcc::run(morcc::cli::Cli::parse_or_exit(
        std::iter::once("morcc".to_owned()).chain(args),
    ))
}

/// How to start morcc.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Another morcc binary than the bench's built-in copy.
    pub binary: Option<PathBuf>,
    /// `--workers`.
    pub workers: Option<usize>,
    /// `--pool-size`.
    pub pool_size: Option<u32>,
    /// Where morcc's log (stderr) goes; `None`: discarded.
    pub log: Option<PathBuf>,
    /// Extra arguments for morcc.
    pub extra_args: Vec<String>,
}

/// A running morcc, stopped when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Where it listens.
    pub address: SocketAddr,
}

impl Server {
    /// Starts morcc on `database_url` on a free local port and waits until `/healthz`
    /// answers 200.
    pub fn start(database_url: &str, options: &ServerOptions) -> Result<Server, String> {
        let address = free_port()?;
        let mut command = match &options.binary {
            Some(binary) => Command::new(binary),
            None => {
                let mut own =
                    Command::new(std::env::current_exe().map_err(|e| format!("own path: {e}"))?);
                own.arg(CHILD_ARG);
                own
            }
        };
        command
            .arg("--database-url")
            .arg(database_url)
            .arg("--bind")
            .arg(address.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(workers) = options.workers {
            command.arg("--workers").arg(workers.to_string());
        }
        if let Some(pool_size) = options.pool_size {
            command.arg("--pool-size").arg(pool_size.to_string());
        }
        command.args(&options.extra_args);
        match &options.log {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .map_err(|e| format!("log file {}: {e}", path.display()))?;
                command.stderr(file);
            }
            None => {
                command.stderr(Stdio::null());
            }
        }
        let child = command
            .spawn()
            .map_err(|e| format!("starting morcc: {e}"))?;
        let mut server = Server { child, address };
        server.wait_healthy(Duration::from_secs(60))?;
        Ok(server)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        process_status_kib(self.pid(), "VmHWM")
    }

    fn wait_healthy(&mut self, patience: Duration) -> Result<(), String> {
        let deadline = Instant::now() + patience;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("morcc exited at start: {status}"));
            }
            if healthz(self.address).unwrap_or(false) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("morcc did not answer /healthz in time".to_owned());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    listener.local_addr().map_err(|e| format!("free port: {e}"))
}

fn healthz(address: SocketAddr) -> std::io::Result<bool> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    Ok(reply.starts_with(b"HTTP/1.1 200"))
}
