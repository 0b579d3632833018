//! `morcc serve`: connect, migrate, seed the demo on a first start, and serve HTTP.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{dev::Server, App, HttpServer};
use morcc_adapters::{CachedDirectory, Database, PoolSettings, SecureCodes};
use morcc_http::{HealthCheck, HttpLimits, LoginThrottle, Services, ThrottleLimits};

use crate::cli::{DatabaseArgs, ServeArgs, DEFAULT_DATABASE_URL};
use crate::demo;
use crate::error::AppError;
use crate::scrape;

/// Opens the database named on the command line and runs pending migrations.
pub fn open_database(args: &DatabaseArgs) -> Result<Database, AppError> {
    let settings = PoolSettings {
        max_size: args.pool_size,
        connection_timeout: Duration::from_secs(args.pool_timeout.max(1)),
        sqlite_synchronous: args.sqlite_synchronous.into(),
        ..PoolSettings::default()
    };
    let database = Database::connect(&args.url, settings)?;
    database.run_migrations()?;
    Ok(database)
}

/// Serves until SIGINT or SIGTERM; requests in flight are finished first.
pub fn serve(database_args: &DatabaseArgs, options: &ServeArgs) -> Result<(), AppError> {
    let database = Arc::new(open_database(database_args)?);
    let listener = TcpListener::bind(&options.bind).map_err(|source| AppError::Listen {
        what: "the API",
        address: options.bind.clone(),
        source,
    })?;
    let address = listener.local_addr()?;
    // Only the default SQLite file gets demo data, and only on its first start: any other
    // database is left exactly as its owner made it.
    if database_args.url == DEFAULT_DATABASE_URL && morcc_adapters::admin::is_fresh(&database)? {
        let demo = demo::seed(&database)?;
        println!("{}", demo.instructions(address));
    }
    let retention = Duration::from_secs(options.idempotency_retention_hours.saturating_mul(3600));
    actix_web::rt::System::new().block_on(async {
        let metrics = match &options.metrics_bind {
            Some(address) => Some(scrape::start(address, database.clone())?),
            None => None,
        };
        tracing::info!(%address, backend = ?database.backend(), "morcc listening");
        let api = start(database.clone(), listener, options)?;
        actix_web::rt::spawn(purge_expired_keys(database, retention));
        if let Some(metrics) = metrics {
            // Stops with the API: both servers heed SIGTERM.
            actix_web::rt::spawn(metrics);
        }
        api.await?;
        Ok::<(), AppError>(())
    })
}

/// How often expired idempotency keys are looked for.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Deletes the idempotency keys past `retention`, every minute, on a blocking thread and in
/// small batches, so requests never wait behind it.
async fn purge_expired_keys(database: Arc<Database>, retention: Duration) {
    let mut ticks = actix_web::rt::time::interval(PURGE_EVERY);
    loop {
        ticks.tick().await;
        let database = database.clone();
        match actix_web::web::block(move || database.purge_idempotency_keys(retention)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(purged)) => tracing::info!(purged, "expired idempotency keys purged"),
            Ok(Err(error)) => tracing::warn!(cause = %error, "idempotency keys not purged"),
            Err(_) => tracing::warn!("idempotency keys not purged: no blocking thread"),
        }
    }
}

/// Starts the HTTP server on `listener`; the returned future runs it until shutdown.
pub fn start(
    database: Arc<Database>,
    listener: TcpListener,
    options: &ServeArgs,
) -> std::io::Result<Server> {
    // Users, settings and the catalog's rows are reused for the same short time.
    let cache_ttl = Duration::from_millis(options.cache_ttl_ms);
    let services = Services {
        store: Arc::new(Database::clone(&database).with_catalog_cached_for(cache_ttl)),
        directory: Arc::new(CachedDirectory::new(Database::clone(&database), cache_ttl)),
        audit: database.clone(),
        codes: Arc::new(SecureCodes),
        health: Arc::new(DatabaseHealth(database)),
        throttle: Arc::new(LoginThrottle::new(ThrottleLimits {
            per_username: options.max_failed_logins_per_username,
            per_address: options.max_failed_logins_per_address,
            window: Duration::from_secs(options.failed_login_window),
        })),
    };
    let limits = HttpLimits {
        body_limit: options.body_limit,
    };
    let mut server = HttpServer::new(move || {
        App::new().configure(morcc_http::configure(services.clone(), limits))
    })
    .listen(listener)?
    .shutdown_timeout(30);
    if let Some(workers) = options.workers {
        server = server.workers(workers.max(1));
    }
    Ok(server.run())
}

struct DatabaseHealth(Arc<Database>);

impl HealthCheck for DatabaseHealth {
    fn is_healthy(&self) -> bool {
        self.0.ping().is_ok()
    }
}
