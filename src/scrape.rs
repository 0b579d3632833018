//! `--metrics-bind`: Prometheus' text format at `GET /metrics` on a listener of its own, so a
//! scrape never queues behind API requests and several instances on one host never collide
//! unless told to. The recorder is installed only then: without it the counters cost nothing.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{dev::Server, web, App, HttpResponse, HttpServer};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use morcc_adapters::{Database, POOL_WAITS, TRANSACTION_RETRIES};
use morcc_http::observe::{IDEMPOTENT_REPLAYS, LOGIN_REFUSALS, REQUESTS, REQUEST_DURATION};

use crate::error::AppError;

/// `morcc_db_pool_connections{state}`: the pool's connections, `in_use` or `idle`, read at
/// each scrape.
const POOL_CONNECTIONS: &str = "morcc_db_pool_connections";

/// Request durations' buckets, in seconds: a millisecond to the pool's timeout and beyond.
const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Binds `address` (a failure is a startup error), installs the recorder and returns the
/// server of `/metrics`, to be run beside the API's.
pub fn start(address: &str, database: Arc<Database>) -> Result<Server, AppError> {
    let listener = TcpListener::bind(address).map_err(|source| AppError::Listen {
        what: "metrics",
        address: address.to_owned(),
        source,
    })?;
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(REQUEST_DURATION.to_owned()),
            &DURATION_BUCKETS,
        )
        .map_err(|error| AppError::Invalid(format!("metrics: {error}")))?
        .install_recorder()
        .map_err(|error| AppError::Invalid(format!("metrics: {error}")))?;
    describe();
    let state = web::Data::new(Scrape { handle, database });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(metrics))
    })
    .listen(listener)?
    .workers(1)
    .run();
    Ok(server)
}

struct Scrape {
    handle: PrometheusHandle,
    database: Arc<Database>,
}

async fn metrics(scrape: web::Data<Scrape>) -> HttpResponse {
    let pool = scrape.database.pool_connections();
    metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set(pool.in_use);
    metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(pool.idle);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(scrape.handle.render())
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        REQUESTS,
        "API requests by call and outcome (ok or the error's slug)."
    );
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "API request durations by call."
    );
    describe_counter!(
        TRANSACTION_RETRIES,
        "Units of work run again after a lost race, by cause."
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database pool connections, in_use or idle."
    );
    describe_counter!(
        POOL_WAITS,
        "Checkouts that found no idle database connection."
    );
    describe_counter!(
        LOGIN_REFUSALS,
        "Requests refused by the failed-login limit."
    );
    describe_counter!(
        IDEMPOTENT_REPLAYS,
        "Requests answered with the reply kept under their idempotency key."
    );
}
