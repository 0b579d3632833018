//! The HTTP load generator: N keep-alive HTTP/1.1 connections on one single-threaded tokio
//! runtime, each sending one request at a time (closed loop), written by hand so that the
//! generator costs little CPU next to morcc and the database on the same cores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::stats::{CpuMeter, Recorder, RunReport};
use crate::workload::{Kind, Rng, Workload};

/// How long one request may take before it counts as a timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a run does and for how long.
#[derive(Debug, Clone, Copy)]
pub struct RunPlan {
    /// Connections (HTTP) or threads (direct).
    pub concurrency: usize,
    /// Seconds not measured at the start.
    pub warmup: Duration,
    /// Seconds measured.
    pub measure: Duration,
}

/// Drives morcc at `address` and reports what it measured.
pub fn run_http(
    address: SocketAddr,
    workload: Arc<Workload>,
    plan: RunPlan,
    meter_pids: (Option<u32>, Option<String>),
    label: &str,
) -> Result<RunReport, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    let started = Instant::now();
    let measure_from = started + plan.warmup;
    let deadline = measure_from + plan.measure;
    let (recorders, cpu) = runtime.block_on(async move {
        let mut tasks = Vec::with_capacity(plan.concurrency);
        for index in 0..plan.concurrency {
            let workload = workload.clone();
            tasks.push(tokio::spawn(connection_loop(
                address,
                workload,
                Rng::new(0x5EED_0000 + index as u64 * 7919),
                measure_from,
                deadline,
            )));
        }
        // CPU is measured over the measured window only.
        tokio::time::sleep_until(measure_from.into()).await;
        let meter = CpuMeter::start(meter_pids.0, meter_pids.1.clone());
        tokio::time::sleep_until(deadline.into()).await;
        let cpu = meter.finish();
        let mut recorders = Vec::with_capacity(tasks.len());
        for task in tasks {
            if let Ok(recorder) = task.await {
                recorders.push(recorder);
            }
        }
        (recorders, cpu)
    });
    let mut merged = Recorder::default();
    for recorder in recorders {
        merged.merge(recorder);
    }
    let mut report = RunReport::new(label, plan.concurrency, plan.measure, merged);
    report.cpu = cpu;
    Ok(report)
}

async fn connection_loop(
    address: SocketAddr,
    workload: Arc<Workload>,
    mut rng: Rng,
    measure_from: Instant,
    deadline: Instant,
) -> Recorder {
    let mut recorder = Recorder::default();
    let mut connection: Option<Connection> = None;
    let mut request = Vec::with_capacity(512);
    while Instant::now() < deadline {
        let op = workload.next_op(&mut rng);
        let body = op.form_body();
        request.clear();
        request.extend_from_slice(b"POST ");
        request.extend_from_slice(op.path().as_bytes());
        request.extend_from_slice(
            b" HTTP/1.1\r\nHost: bench\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ",
        );
        request.extend_from_slice(body.len().to_string().as_bytes());
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(body.as_bytes());
        let sent = Instant::now();
        let outcome = match &mut connection {
            Some(conn) => conn.exchange(&request).await,
            None => match Connection::open(address).await {
                Ok(conn) => connection.insert(conn).exchange(&request).await,
                Err(error) => Err(error),
            },
        };
        let latency = sent.elapsed();
        let outcome = match outcome {
            Ok(body) => classify(op.kind, &body),
            Err(error) => {
                connection = None;
                tokio::time::sleep(Duration::from_millis(10)).await;
                Err(error)
            }
        };
        workload.completed(&op, outcome.is_ok());
        recorder.sent += 1;
        if sent >= measure_from && sent < deadline {
            recorder.record(op.kind, latency, outcome);
        }
    }
    recorder
}

/// The outcome a MOR XML reply to a request of `kind` reports: success, or the text of its
/// `<error>`.
pub fn classify(kind: Kind, body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    if text.contains(kind.success_marker()) {
        return Ok(());
    }
    match text
        .split_once("<error>")
        .and_then(|(_, rest)| rest.split_once("</error>"))
    {
        Some((error, _)) => Err(error.to_owned()),
        None => Err("unrecognised reply".to_owned()),
    }
}

/// One keep-alive connection.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(address: SocketAddr) -> Result<Connection, String> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| format!("connect: {}", e.kind()))?;
        stream.set_nodelay(true).map_err(|e| format!("{e}"))?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(4096),
        })
    }

    /// Sends a request and returns the body of its reply (HTTP 200 only).
    async fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, String> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange_inner(request)).await {
            Ok(outcome) => outcome,
            Err(_) => Err("timeout".to_owned()),
        }
    }

    async fn exchange_inner(&mut self, request: &[u8]) -> Result<Vec<u8>, String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("write: {}", e.kind()))?;
        self.buffer.clear();
        let header_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..header_end])
            .map_err(|_| "reply head is not UTF-8".to_owned())?;
        let status = head.get(9..12).unwrap_or_default().to_owned();
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())
                    .flatten()
            })
            .ok_or_else(|| format!("HTTP {status} without Content-Length"))?;
        while self.buffer.len() < header_end + length {
            self.fill().await?;
        }
        if status != "200" {
            return Err(format!("HTTP {status}"));
        }
        Ok(self.buffer[header_end..header_end + length].to_vec())
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 4096];
        let read = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {}", e.kind()))?;
        if read == 0 {
            return Err("connection closed".to_owned());
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::classify;
    use crate::workload::Kind;

    #[test]
    fn replies_are_classified() {
        assert_eq!(
            classify(
                Kind::Lookup,
                b"<page>\n  <response>\n    <status>ok</status>"
            ),
            Ok(())
        );
        assert_eq!(
            classify(
                Kind::Topup,
                b"<page>\n  <error>Card was not found</error>\n</page>"
            ),
            Err("Card was not found".to_owned())
        );
        assert_eq!(
            classify(
                Kind::Transfer,
                b"<status>\n  <error>Bad login</error>\n</status>"
            ),
            Err("Bad login".to_owned())
        );
    }

    #[test]
    fn card_call_replies_are_classified_by_their_own_envelope() {
        let sold = b"<page>\n  <cards>\n    <card>\n      <pin>8870</pin>";
        assert_eq!(classify(Kind::Sale, sold), Ok(()));
        assert_eq!(
            classify(
                Kind::Sale,
                b"<page>\n  <status>\n    <error>Free cards was not found</error>"
            ),
            Err("Free cards was not found".to_owned())
        );
        let paid = b"<page>\n  <status>\n    <success>Calling Card balance successfully updated";
        assert_eq!(classify(Kind::Payment, paid), Ok(()));
        // A cc_by_cli success is not a payment's.
        assert!(classify(Kind::Payment, b"<status>ok</status>").is_err());
    }
}
