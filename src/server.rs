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
    let database = open_database(database_args)?;
    let listener = TcpListener::bind(&options.bind)?;
    let address = listener.local_addr()?;
    // Only the default SQLite file gets demo data, and only on its first start: any other
    // database is left exactly as its owner made it.
    if database_args.url == DEFAULT_DATABASE_URL && morcc_adapters::admin::is_fresh(&database)? {
        let demo = demo::seed(&database)?;
        println!("{}", demo.instructions(address));
    }
    tracing::info!(%address, backend = ?database.backend(), "morcc listening");
    actix_web::rt::System::new().block_on(start(Arc::new(database), listener, options)?)?;
    Ok(())
}

/// Starts the HTTP server on `listener`; the returned future runs it until shutdown.
pub fn start(
    database: Arc<Database>,
    listener: TcpListener,
    options: &ServeArgs,
) -> std::io::Result<Server> {
    let services = Services {
        store: database.clone(),
        directory: Arc::new(CachedDirectory::new(
            Database::clone(&database),
            Duration::from_millis(options.cache_ttl_ms),
        )),
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
