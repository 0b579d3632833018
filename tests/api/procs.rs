//! Processes and databases of the reliability tests: spawned `morcc` servers, scratch databases
//! whose URL a spawned server can be given, a private MariaDB server that a test may kill, and
//! the command-line clients used to read the whole ledger.
// The MySQL parts serve only tests built with the `mysql` feature.
#![cfg_attr(not(feature = "mysql"), allow(dead_code))]

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use morcc_adapters::{Database, PoolSettings};
use morcc_domain::{BigDecimal, Money};
use rand::Rng;

/// A directory under the system's temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{:012x}",
            std::process::id(),
            rand::rng().random::<u64>() & 0xffff_ffff_ffff
        ));
        fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A program found on `PATH` or in the system's sbin directories (`mariadbd` lives in
/// `/usr/sbin`, which is not always on a user's `PATH`).
pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/sbin"].map(PathBuf::from));
    names.iter().find_map(|name| {
        dirs.iter()
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// A free loopback port (bound, read, released: another process could take it in between,
/// which on a test machine it does not).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Opens a pool on `url` for seeding and reading, as the operator's tools do.
pub fn connect(url: &str) -> Database {
    let settings = PoolSettings {
        max_size: Some(2),
        connection_timeout: Duration::from_secs(20),
        ..PoolSettings::default()
    };
    Database::connect(url, settings).expect("a connection to the test database")
}

// ---------------------------------------------------------------------------------------------
// Databases a spawned server can be pointed at.

/// A migrated database with a URL: an SQLite file in a temporary directory, or a database of
/// its own on a MySQL server, dropped with this value.
#[derive(Debug)]
pub struct UrlDatabase {
    pub url: String,
    pub db: Database,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] TempDir),
    Mysql {
        server: MysqlServer,
        name: String,
    },
    /// Another server's view of a database that another value owns (a Galera node's copy).
    View {
        server: MysqlServer,
        name: String,
    },
}

impl UrlDatabase {
    pub fn sqlite() -> UrlDatabase {
        let dir = TempDir::new("morcc-reliability-sqlite");
        let url = format!("sqlite://{}", dir.path().join("morcc.db").display());
        let db = connect(&url);
        db.run_migrations().expect("migrations");
        UrlDatabase {
            url,
            db,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh database on the server, or `None` (with the reason) when it cannot be made.
    pub fn mysql(server: &MysqlServer) -> Result<UrlDatabase, String> {
        let name = format!("morcc_rel_{:016x}", rand::rng().random::<u64>());
        server.execute(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))?;
        let url = format!("{}/{name}", server.url);
        let db = connect(&url);
        db.run_migrations().map_err(|error| error.to_string())?;
        Ok(UrlDatabase {
            url,
            db,
            cleanup: Cleanup::Mysql {
                server: server.clone(),
                name,
            },
        })
    }

    /// The same MySQL database as seen through `server` (another node of a cluster); dropping
    /// the view leaves the database alone.
    pub fn view_on(&self, server: &MysqlServer) -> UrlDatabase {
        let (Cleanup::Mysql { name, .. } | Cleanup::View { name, .. }) = &self.cleanup else {
            panic!("only a MySQL database has views on other servers");
        };
        let url = format!("{}/{name}", server.url);
        UrlDatabase {
            db: connect(&url),
            url,
            cleanup: Cleanup::View {
                server: server.clone(),
                name: name.clone(),
            },
        }
    }

    /// The sums over the whole database, read with the backend's command-line client; `None`
    /// when that client is not installed (the per-holder audit still runs).
    pub fn whole_ledger(&self) -> Option<WholeLedger> {
        match &self.cleanup {
            Cleanup::Mysql { server, name } | Cleanup::View { server, name } => {
                server.whole_ledger(name)
            }
            Cleanup::Sqlite(dir) => sqlite_whole_ledger(&dir.path().join("morcc.db")),
        }
    }
}

impl Drop for UrlDatabase {
    fn drop(&mut self) {
        if let Cleanup::Mysql { server, name } = &self.cleanup {
            if let Err(error) = server.execute(&format!("DROP DATABASE IF EXISTS {name}")) {
                eprintln!("could not drop {name}: {error}");
            }
        }
    }
}

/// Every payments row and every balance of the database, summed exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholeLedger {
    pub payments: usize,
    pub payments_sum: Money,
    pub cards: usize,
    pub balances_sum: Money,
}

fn sum_lines(text: &str) -> (usize, Money) {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && *line != "NULL")
        .fold((0, Money::zero()), |(count, sum), line| {
            let value: BigDecimal = line.parse().expect("a decimal from the database");
            (count + 1, &sum + &Money::from_decimal(value))
        })
}

fn whole_ledger_from(payments: &str, cards: &str, users: &str) -> WholeLedger {
    let (payments, payments_sum) = sum_lines(payments);
    let (cards, cards_sum) = sum_lines(cards);
    let (_, users_sum) = sum_lines(users);
    WholeLedger {
        payments,
        payments_sum,
        cards,
        balances_sum: &cards_sum + &users_sum,
    }
}

const ALL_PAYMENTS: &str = "SELECT amount FROM payments";
const ALL_CARD_BALANCES: &str = "SELECT balance FROM cards";
const ALL_USER_BALANCES: &str = "SELECT balance FROM users";

fn sqlite_whole_ledger(file: &Path) -> Option<WholeLedger> {
    let sqlite3 = find_program(&["sqlite3"])?;
    let query = |sql: &str| {
        let output = Command::new(&sqlite3).arg(file).arg(sql).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    Some(whole_ledger_from(
        &query(ALL_PAYMENTS)?,
        &query(ALL_CARD_BALANCES)?,
        &query(ALL_USER_BALANCES)?,
    ))
}

/// A MySQL/MariaDB server reached with its command-line client (`mariadb` or `mysql`).
#[derive(Debug, Clone)]
pub struct MysqlServer {
    /// `mysql://user[:password]@host:port`, no database.
    pub url: String,
    client: PathBuf,
    args: Vec<String>,
}

impl MysqlServer {
    /// The server named by `MORCC_TEST_MYSQL_URL`, or why it cannot be used.
    pub fn from_env() -> Result<MysqlServer, String> {
        let url = std::env::var("MORCC_TEST_MYSQL_URL")
            .map_err(|_| "MORCC_TEST_MYSQL_URL is not set".to_owned())?;
        MysqlServer::new(&url)
    }

    /// Parses `mysql://user[:password]@host[:port]`.
    pub fn new(url: &str) -> Result<MysqlServer, String> {
        let client = find_program(&["mariadb", "mysql"])
            .ok_or("the mariadb/mysql command-line client is not installed")?;
        let url = url.trim_end_matches('/').to_owned();
        let rest = url
            .strip_prefix("mysql://")
            .ok_or_else(|| format!("not a mysql:// URL: {url}"))?;
        let (credentials, address) = rest.rsplit_once('@').unwrap_or(("root", rest));
        let (user, password) = credentials
            .split_once(':')
            .map_or((credentials, None), |(user, password)| {
                (user, Some(password))
            });
        let (host, port) = address.split_once(':').unwrap_or((address, "3306"));
        let mut args = vec![
            "--no-defaults".to_owned(),
            "--protocol=tcp".to_owned(),
            format!("--host={host}"),
            format!("--port={port}"),
            format!("--user={user}"),
            "--batch".to_owned(),
            "--skip-column-names".to_owned(),
        ];
        if let Some(password) = password {
            args.push(format!("--password={password}"));
        }
        Ok(MysqlServer { url, client, args })
    }

    /// Runs SQL; its output, or the client's error.
    pub fn execute(&self, sql: &str) -> Result<String, String> {
        let output = Command::new(&self.client)
            .args(&self.args)
            .arg("-e")
            .arg(sql)
            .output()
            .map_err(|error| error.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    fn whole_ledger(&self, database: &str) -> Option<WholeLedger> {
        let query = |sql: &str| self.execute(&format!("USE {database}; {sql}")).ok();
        Some(whole_ledger_from(
            &query(ALL_PAYMENTS)?,
            &query(ALL_CARD_BALANCES)?,
            &query(ALL_USER_BALANCES)?,
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Spawned morcc servers.

/// A `morcc serve` process of the binary under test, killed when dropped.
#[derive(Debug)]
pub struct Morcc {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    log: PathBuf,
}

/// How a spawned server is configured.
#[derive(Debug, Clone, Copy)]
pub struct MorccOptions {
    pub workers: usize,
    pub pool_size: u32,
    pub pool_timeout_secs: u64,
}

impl Default for MorccOptions {
    fn default() -> Self {
        MorccOptions {
            workers: 2,
            pool_size: 8,
            pool_timeout_secs: 3,
        }
    }
}

impl Morcc {
    /// Starts `morcc serve` on a free port with the database at `url`; its log goes to
    /// `dir/name.log`. Returns once it listens.
    pub fn spawn(url: &str, dir: &Path, name: &str, options: MorccOptions) -> Morcc {
        Morcc::spawn_with(url, dir, name, options, &[])
    }

    /// [`Morcc::spawn`] with more `serve` flags.
    pub fn spawn_with(
        url: &str,
        dir: &Path,
        name: &str,
        options: MorccOptions,
        flags: &[&str],
    ) -> Morcc {
        let log = dir.join(format!("{name}.log"));
        let file = fs::File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_morcc"))
            .args(["serve", "--database-url", url, "--bind", "127.0.0.1:0"])
            .args(["--workers", &options.workers.to_string()])
            .args(["--pool-size", &options.pool_size.to_string()])
            .args(["--pool-timeout", &options.pool_timeout_secs.to_string()])
            .args(["--log-format", "json"])
            .args(flags)
            .env("RUST_LOG", "warn,morcc::server=info")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("the morcc binary starts");
        let mut morcc = Morcc {
            child,
            address: String::new(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = fs::read_to_string(&morcc.log).unwrap_or_default();
            if let Some(address) = listening_address(&text) {
                morcc.address = format!("http://{address}");
                return morcc;
            }
            if let Ok(Some(status)) = morcc.child.try_wait() {
                panic!("morcc {name} exited with {status} before listening:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "morcc {name} did not listen within 60 s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// SIGKILL: no shutdown, no flush, requests in flight are cut.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Morcc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The address in the JSON line `morcc listening` (`"address":"127.0.0.1:PORT"`).
fn listening_address(log: &str) -> Option<String> {
    let line = log.lines().find(|line| line.contains("morcc listening"))?;
    let start = line.find("\"address\":\"")? + "\"address\":\"".len();
    let end = start + line[start..].find('"')?;
    Some(line[start..end].to_owned())
}

// ---------------------------------------------------------------------------------------------
// A private MariaDB server.

/// A MariaDB server of the test's own: its own data directory and port, started and killed by
/// the test. Removed (process and files) when dropped.
#[derive(Debug)]
pub struct PrivateMariaDb {
    dir: TempDir,
    port: u16,
    mariadbd: PathBuf,
    child: Option<Child>,
    pub server: MysqlServer,
}

impl PrivateMariaDb {
    /// Initialises a data directory and starts the server; `Err` says why it cannot be done
    /// on this machine (programs missing), so the caller can skip.
    pub fn start() -> Result<PrivateMariaDb, String> {
        let mariadbd = find_program(&["mariadbd", "mysqld"])
            .ok_or("mariadbd is not installed (apt-get install mariadb-server)")?;
        let install = find_program(&["mariadb-install-db", "mysql_install_db"])
            .ok_or("mariadb-install-db is not installed (apt-get install mariadb-server)")?;
        let dir = TempDir::new("morcc-mariadb");
        install_datadir(&install, &dir.path().join("data"), "root")?;
        let port = free_port();
        let server = MysqlServer::new(&format!("mysql://root@127.0.0.1:{port}"))?;
        let mut mariadb = PrivateMariaDb {
            dir,
            port,
            mariadbd,
            child: None,
            server,
        };
        mariadb.restart();
        Ok(mariadb)
    }

    /// Starts the server on its data directory and port (again, after [`Self::kill`]) and
    /// waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the private MariaDB is running");
        let dir = self.dir.path();
        let mut command = Command::new(&self.mariadbd);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
            .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
            // Its own: a starting server deletes every `#sql*` file in its tmpdir, and a shared
            // /tmp would lose another server's temporary tables (seen: a bootstrap failing).
            .arg(format!("--tmpdir={}", dir.display()))
            .arg(format!("--log-error={}", dir.join("error.log").display()))
            .arg("--skip-grant-tables")
            .arg("--innodb-buffer-pool-size=64M")
            .arg("--innodb-use-native-aio=0")
            .arg("--max-connections=300");
        if running_as_root() {
            command.arg("--user=root");
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.server.execute("SELECT 1").is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("mariadbd exited with {status}:\n{}", self.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd did not answer within 60 s:\n{}",
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: the server dies as in a crash; InnoDB recovers at the next start.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn error_log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = fs::File::open(self.dir.path().join("error.log")) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for PrivateMariaDb {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Initialises a MariaDB data directory with `mariadb-install-db` (root may log in over TCP
/// without a password), owned by `user` when the tests run as root.
pub fn install_datadir(install: &Path, datadir: &Path, user: &str) -> Result<(), String> {
    let mut command = Command::new(install);
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        // Not the shared /tmp: a server starting meanwhile deletes every `#sql*` file there,
        // the bootstrap's temporary tables included.
        .arg(format!(
            "--tmpdir={}",
            datadir.parent().unwrap_or(datadir).display()
        ))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db");
    if running_as_root() {
        command.arg(format!("--user={user}"));
    }
    let output = command
        .output()
        .map_err(|error| format!("{}: {error}", install.display()))?;
    if !output.status.success() {
        return Err(format!(
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

/// Whether the tests run as root (servers must then be told which user to run as).
pub fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("Uid:"))
                .map(|line| line.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
