//! A three-node MariaDB Galera cluster of the test's own, on loopback: for black-box tests of
//! what an application sees when it runs on a cluster (and when one node dies). Facts behind
//! the settings: /work/shared/notes/galera.md.
//!
//! Every node is a `mariadbd --no-defaults` with all its settings on the command line, its own
//! data directory under one temporary directory, and four ports of its own bound to 127.0.0.1
//! (MySQL, group communication, IST, SST). Node 0 is installed with `mariadb-install-db` and
//! bootstraps the cluster; nodes 1 and 2 start on an empty data directory and receive node 0's
//! by rsync SST, so root over TCP without a password works everywhere. Nodes run as the `mysql`
//! user when the tests run as root (the rsync SST drops privileges to it).

use std::collections::HashMap;
use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::procs::{
    find_program, free_port, install_datadir, running_as_root, MysqlServer, TempDir,
};

/// The Galera 4 provider of Debian's `galera-4` package.
const PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";

const NODES: usize = 3;

/// Failure detection in about 3 s instead of about 6 s. The keepalive must stay under a third of
/// the suspect timeout; much shorter timeouts risk false partitions on two busy cores.
const FAILURE_DETECTION: &str = "evs.keepalive_period=PT0.5S;evs.suspect_timeout=PT2S;\
                                 evs.inactive_timeout=PT4S;evs.install_timeout=PT3S";

/// How long one node may take to start and be synced (an SST included), and the cluster to
/// agree on its size again.
const NODE_TIMEOUT: Duration = Duration::from_secs(90);

/// The ports of one node, all bound to 127.0.0.1.
#[derive(Debug, Clone, Copy)]
struct Ports {
    mysql: u16,
    /// `gmcast.listen_addr`, listed in every node's `wsrep_cluster_address`.
    group: u16,
    /// `ist.recv_addr`: open while the node receives an incremental state transfer.
    ist: u16,
    /// `wsrep_sst_receive_address`: open while the node receives a full state transfer.
    sst: u16,
}

#[derive(Debug)]
struct Node {
    dir: PathBuf,
    ports: Ports,
    child: Option<Child>,
    server: MysqlServer,
}

/// Three MariaDB Galera nodes. Dropping it kills every node (SIGKILL, with the state-transfer
/// processes they started) and removes their files, also when the test panics.
#[derive(Debug)]
pub struct GaleraCluster {
    mariadbd: PathBuf,
    cluster_name: String,
    nodes: Vec<Node>,
    // Removed after the nodes are killed (`Drop::drop` runs before the fields are dropped).
    _dir: TempDir,
}

impl GaleraCluster {
    /// Installs and starts three nodes, one after the other, and returns once all three report
    /// `wsrep_cluster_size` 3, `Synced` and `wsrep_ready` ON. `Err` says what is missing on this
    /// machine (galera-4, mariadb-server, rsync); any other failure panics with the error log of
    /// the node that failed.
    pub fn start() -> Result<GaleraCluster, String> {
        const HINT: &str = "apt-get install mariadb-server galera-4 rsync";
        if !Path::new(PROVIDER).is_file() {
            return Err(format!("galera-4 is not installed: no {PROVIDER} ({HINT})"));
        }
        let mariadbd = find_program(&["mariadbd", "mysqld"])
            .ok_or(format!("mariadbd is not installed ({HINT})"))?;
        let install = find_program(&["mariadb-install-db", "mysql_install_db"])
            .ok_or(format!("mariadb-install-db is not installed ({HINT})"))?;
        find_program(&["rsync"]).ok_or(format!("rsync is not installed ({HINT})"))?;
        find_program(&["wsrep_sst_rsync"])
            .ok_or(format!("wsrep_sst_rsync is not installed ({HINT})"))?;
        // wsrep_sst_rsync waits for its rsync daemon's port with one of these.
        find_program(&["ss", "lsof", "sockstat"]).ok_or(
            "wsrep_sst_rsync needs ss, lsof or sockstat (apt-get install iproute2)".to_owned(),
        )?;

        let dir = TempDir::new("morcc-galera");
        let cluster_name = dir.path().file_name().map_or_else(
            || "morcc-galera".to_owned(),
            |name| name.to_string_lossy().into(),
        );
        let mut nodes = Vec::with_capacity(NODES);
        for (index, ports) in cluster_ports().into_iter().enumerate() {
            let node_dir = dir.path().join(format!("node{index}"));
            fs::create_dir_all(node_dir.join("data")).map_err(|error| error.to_string())?;
            nodes.push(Node {
                dir: node_dir,
                ports,
                child: None,
                server: MysqlServer::new(&format!("mysql://root@127.0.0.1:{}", ports.mysql))?,
            });
        }
        if running_as_root() {
            let output = Command::new("chown")
                .args(["-R", "mysql:mysql"])
                .arg(dir.path())
                .output()
                .map_err(|error| format!("chown: {error}"))?;
            if !output.status.success() {
                return Err(format!(
                    "cannot give the data directories to the mysql user (mariadb-server \
                     creates it): {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }

        install_datadir(&install, &nodes[0].dir.join("data"), "mysql")?;

        let mut cluster = GaleraCluster {
            mariadbd,
            cluster_name,
            nodes,
            _dir: dir,
        };
        // One at a time: each joiner takes a full copy from a donor, and nodes started together
        // on two cores can miss each other's keepalives and partition.
        for node in 0..NODES {
            let extra = if node == 0 {
                vec!["--wsrep-new-cluster".to_owned()]
            } else {
                Vec::new()
            };
            cluster.spawn(node, &extra);
            cluster.wait_node_synced(node);
        }
        if let Err(error) = cluster.wait_synced(NODE_TIMEOUT) {
            panic!(
                "the Galera cluster did not form: {error}\n{}",
                cluster.all_logs()
            );
        }
        Ok(cluster)
    }

    /// `mysql://root@127.0.0.1:PORT` of `node` (0, 1 or 2), no database.
    pub fn url(&self, node: usize) -> String {
        self.nodes[node].server.url.clone()
    }

    /// The node's command-line client, to run SQL on it.
    pub fn server(&self, node: usize) -> &MysqlServer {
        &self.nodes[node].server
    }

    /// SIGKILL: the node dies as in a crash (its state-transfer helpers with it). Returns at
    /// once; the other nodes notice in about 3 s.
    pub fn kill(&mut self, node: usize) {
        if let Some(mut child) = self.nodes[node].child.take() {
            // Each node leads its own process group: `-PID` reaches rsync and the SST script.
            let group = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if !group.is_ok_and(|status| status.success()) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }

    /// Starts a killed node again: `mariadbd --wsrep-recover` finds its last committed position,
    /// which the new start passes as `--wsrep-start-position` so that the node catches up with
    /// only what it missed (IST). Returns once the node is synced and the cluster size is 3.
    pub fn restart(&mut self, node: usize) {
        assert!(
            self.nodes[node].child.is_none(),
            "Galera node {node} is running: kill it first"
        );
        let recover_log = self.nodes[node].dir.join("recover.log");
        let _ = fs::remove_file(&recover_log);
        let output = self
            .command(node, &recover_log)
            .arg("--wsrep-recover")
            .output()
            .expect("mariadbd --wsrep-recover runs");
        let log = fs::read_to_string(&recover_log).unwrap_or_default();
        let position = log
            .lines()
            .rev()
            .find_map(|line| line.split_once("WSREP: Recovered position: "))
            .map(|(_, position)| position.trim().to_owned());
        let Some(position) = position.filter(|_| output.status.success()) else {
            panic!(
                "mariadbd --wsrep-recover of Galera node {node} failed ({}):\n{log}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        };
        // A node killed before it ever held the cluster's state has no position: full SST.
        let extra = if position.ends_with(":-1") {
            Vec::new()
        } else {
            vec![format!("--wsrep-start-position={position}")]
        };
        self.spawn(node, &extra);
        self.wait_node_synced(node);
        if let Err(error) = self.wait_synced(NODE_TIMEOUT) {
            panic!(
                "Galera node {node} restarted but the cluster did not settle: {error}\n{}",
                self.all_logs()
            );
        }
    }

    /// Waits until every node reports `wsrep_cluster_size` 3, `wsrep_local_state_comment`
    /// `Synced` and `wsrep_ready` ON; `Err` describes the last state seen.
    pub fn wait_synced(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut problems = Vec::new();
            for (index, node) in self.nodes.iter().enumerate() {
                if node.child.is_none() {
                    return Err(format!("node {index} is not running"));
                }
                let state = wsrep_state(&node.server);
                if !is_synced(&state, NODES) {
                    problems.push(format!("node {index}: {}", describe(&state)));
                }
            }
            if problems.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "not synced after {timeout:?}: {}",
                    problems.join("; ")
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A `SHOW GLOBAL STATUS LIKE 'variable'` value of the node; `None` when it does not answer.
    pub fn status(&self, node: usize, variable: &str) -> Option<String> {
        let output = self.nodes[node]
            .server
            .execute(&format!("SHOW GLOBAL STATUS LIKE '{variable}'"))
            .ok()?;
        let line = output.lines().next()?;
        Some(line.split_once('\t')?.1.to_owned())
    }

    /// The node's error log (and whatever it wrote to stderr before opening it).
    pub fn error_log(&self, node: usize) -> String {
        let dir = &self.nodes[node].dir;
        let mut text = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        let stderr = fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
        if !stderr.trim().is_empty() {
            text.push_str("\n--- stderr ---\n");
            text.push_str(&stderr);
        }
        text
    }

    /// `mariadbd` with every setting of the node, logging to `log`.
    fn command(&self, node: usize, log: &Path) -> Command {
        let Node { dir, ports, .. } = &self.nodes[node];
        let peers: Vec<String> = self
            .nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.ports.group))
            .collect();
        let mut command = Command::new(&self.mariadbd);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--port={}", ports.mysql))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
            .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
            // Its own: a starting server deletes every `#sql*` file in its tmpdir, and a shared
            // /tmp would lose another server's temporary tables (seen: a bootstrap failing).
            .arg(format!("--tmpdir={}", dir.display()))
            .arg(format!("--log-error={}", log.display()))
            .arg("--innodb-buffer-pool-size=64M")
            .arg("--innodb-use-native-aio=0")
            .arg("--max-connections=300")
            .arg("--binlog-format=ROW")
            .arg("--innodb-autoinc-lock-mode=2")
            .arg("--default-storage-engine=InnoDB")
            .arg("--wsrep-on=ON")
            .arg(format!("--wsrep-provider={PROVIDER}"))
            .arg(format!("--wsrep-cluster-name={}", self.cluster_name))
            .arg(format!(
                "--wsrep-cluster-address=gcomm://{}",
                peers.join(",")
            ))
            .arg(format!("--wsrep-node-name=node{node}"))
            .arg("--wsrep-node-address=127.0.0.1")
            .arg(format!(
                "--wsrep-node-incoming-address=127.0.0.1:{}",
                ports.mysql
            ))
            .arg(format!(
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{};\
                 ist.recv_addr=127.0.0.1:{};gcache.size=32M;{FAILURE_DETECTION}",
                ports.group, ports.ist
            ))
            .arg("--wsrep-sst-method=rsync")
            .arg(format!(
                "--wsrep-sst-receive-address=127.0.0.1:{}",
                ports.sst
            ));
        if running_as_root() {
            command.arg("--user=mysql");
        }
        command.stdin(Stdio::null()).stdout(Stdio::null());
        command
    }

    /// Starts the node's `mariadbd` in a process group of its own.
    fn spawn(&mut self, node: usize, extra: &[String]) {
        assert!(
            self.nodes[node].child.is_none(),
            "Galera node {node} is running"
        );
        let dir = self.nodes[node].dir.clone();
        let stderr = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("stderr.log"))
            .expect("a stderr file for mariadbd");
        let child = self
            .command(node, &dir.join("error.log"))
            .args(extra)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .expect("mariadbd starts");
        self.nodes[node].child = Some(child);
    }

    /// Waits until the node itself is synced with the cluster (any size); panics with its error
    /// log if it exits or takes too long.
    fn wait_node_synced(&mut self, node: usize) {
        let deadline = Instant::now() + NODE_TIMEOUT;
        loop {
            let state = wsrep_state(&self.nodes[node].server);
            if is_synced(&state, 0) {
                return;
            }
            if let Some(Ok(Some(status))) = self.nodes[node].child.as_mut().map(Child::try_wait) {
                self.nodes[node].child = None;
                panic!(
                    "Galera node {node} exited with {status}:\n{}",
                    self.error_log(node)
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "Galera node {node} was not synced within {NODE_TIMEOUT:?} ({}):\n{}",
                    describe(&state),
                    self.error_log(node)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn all_logs(&self) -> String {
        (0..NODES)
            .map(|node| format!("=== error log of node {node} ===\n{}", self.error_log(node)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for GaleraCluster {
    fn drop(&mut self) {
        for node in 0..self.nodes.len() {
            self.kill(node);
        }
    }
}

/// The node's `wsrep_cluster_size`, `wsrep_local_state_comment` and `wsrep_ready` (empty when
/// it does not answer).
fn wsrep_state(server: &MysqlServer) -> HashMap<String, String> {
    server
        .execute(
            "SHOW GLOBAL STATUS WHERE Variable_name IN \
             ('wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_ready')",
        )
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect()
}

/// Synced and ready, in a cluster of `size` nodes (any size when 0).
fn is_synced(state: &HashMap<String, String>, size: usize) -> bool {
    let value = |name: &str| state.get(name).map(String::as_str);
    value("wsrep_local_state_comment") == Some("Synced")
        && value("wsrep_ready") == Some("ON")
        && (size == 0 || value("wsrep_cluster_size") == Some(size.to_string().as_str()))
}

fn describe(state: &HashMap<String, String>) -> String {
    if state.is_empty() {
        return "not answering".to_owned();
    }
    let value = |name: &str| state.get(name).map_or("?", String::as_str);
    format!(
        "size {}, {}, ready {}",
        value("wsrep_cluster_size"),
        value("wsrep_local_state_comment"),
        value("wsrep_ready")
    )
}

/// Four ports per node, free on 127.0.0.1 and below the ephemeral range, so that neither an
/// outgoing connection nor another test's port-0 listener can take the port of a node while it
/// is down (or its IST/SST port, which is only bound during a state transfer). Blocks handed to
/// clusters of the same test process never overlap.
fn cluster_ports() -> Vec<Ports> {
    static NEXT: Mutex<u16> = Mutex::new(0);
    let ephemeral_low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u16, ephemeral_low.saturating_sub(1));
    let mut ports = Vec::with_capacity(4 * NODES);
    if high <= low + 1_000 {
        // An unusual ephemeral range: fall back to ports the system hands out.
        while ports.len() < 4 * NODES {
            let port = free_port();
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
    } else {
        let mut next = NEXT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if *next == 0 {
            *next = rand::rng().random_range(low..high);
        }
        let mut tried = 0;
        while ports.len() < 4 * NODES {
            let port = *next;
            *next = if port + 1 >= high { low } else { port + 1 };
            tried += 1;
            assert!(
                tried < high - low,
                "no free loopback ports for a Galera cluster"
            );
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                ports.push(port);
            }
        }
    }
    ports
        .chunks(4)
        .map(|chunk| Ports {
            mysql: chunk[0],
            group: chunk[1],
            ist: chunk[2],
            sst: chunk[3],
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

/// Runs `sql` on `server` until it succeeds, for at most `timeout` (a statement that hangs past
/// it fails the test too). Returns how long it took.
fn write_within(server: &MysqlServer, sql: &str, timeout: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let (sender, receiver) = std::sync::mpsc::channel();
    let (server, sql) = (server.clone(), sql.to_owned());
    std::thread::spawn(move || {
        let mut last = String::new();
        while started.elapsed() < timeout {
            match server.execute(&sql) {
                Ok(_) => {
                    let _ = sender.send(Ok(started.elapsed()));
                    return;
                }
                Err(error) => last = error,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = sender.send(Err(last));
    });
    receiver
        .recv_timeout(timeout + Duration::from_secs(1))
        .unwrap_or_else(|_| Err(format!("the statement hung for more than {timeout:?}")))
}

/// The rows of the smoke table as node `node` sees them once it has applied every earlier
/// commit of the cluster (`wsrep_sync_wait = 1`).
fn causal_read(cluster: &GaleraCluster, node: usize) -> String {
    cluster
        .server(node)
        .execute(
            "SET SESSION wsrep_sync_wait = 1; \
             SELECT node, note FROM smoke.notes ORDER BY node, note",
        )
        .unwrap_or_else(|error| panic!("a causal read on node {node}: {error}"))
}

#[test]
fn galera_cluster_smoke() {
    let started = Instant::now();
    let mut cluster = GaleraCluster::start()
        .expect("a three-node Galera cluster (apt-get install mariadb-server galera-4 rsync)");
    eprintln!("galera: 3 nodes synced in {:.1?}", started.elapsed());
    for node in 0..3 {
        let port = MysqlServer::new(&cluster.url(node))
            .and_then(|server| server.execute("SELECT @@port"))
            .unwrap_or_else(|error| panic!("node {node} by its URL: {error}"));
        assert!(
            cluster.url(node).ends_with(&format!(":{}", port.trim())),
            "{} is node {node}'s",
            cluster.url(node)
        );
    }

    cluster
        .server(0)
        .execute(
            "CREATE DATABASE smoke; CREATE TABLE smoke.notes (id INT AUTO_INCREMENT PRIMARY KEY, \
             node INT NOT NULL, note VARCHAR(32) NOT NULL) ENGINE=InnoDB",
        )
        .expect("a table created on node 0");
    cluster
        .server(1)
        .execute("INSERT INTO smoke.notes (node, note) VALUES (1, 'all up')")
        .expect("an insert on node 1");
    assert_eq!(
        causal_read(&cluster, 2),
        "1\tall up\n",
        "node 2 sees node 1's row"
    );

    cluster.kill(1);
    let killed = Instant::now();
    for node in [0, 2] {
        let sql = format!("INSERT INTO smoke.notes (node, note) VALUES ({node}, 'node 1 down')");
        let took = write_within(cluster.server(node), &sql, Duration::from_secs(10))
            .unwrap_or_else(|error| {
                panic!(
                    "node {node} took no write within 10 s of node 1's death: {error}\n{}",
                    cluster.error_log(node)
                )
            });
        eprintln!("galera: write on node {node} committed {took:.1?} after its insert began");
    }
    let deadline = killed + Duration::from_secs(10);
    while [0, 2]
        .iter()
        .any(|&node| cluster.status(node, "wsrep_cluster_size").as_deref() != Some("2"))
    {
        assert!(
            Instant::now() < deadline,
            "nodes 0 and 2 did not see node 1 leave within 10 s:\n{}",
            cluster.error_log(0)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "galera: node 1's death noticed (cluster size 2) {:.1?} after the kill",
        killed.elapsed()
    );

    let error_log = cluster.nodes[1].dir.join("error.log");
    let log_before = fs::metadata(&error_log).map_or(0, |metadata| metadata.len());
    let restarting = Instant::now();
    cluster.restart(1);
    eprintln!(
        "galera: node 1 recovered, restarted and synced in {:.1?}",
        restarting.elapsed()
    );
    let restart_log = fs::read(&error_log).unwrap_or_default();
    let restart_log =
        String::from_utf8_lossy(restart_log.get(log_before as usize..).unwrap_or_default());
    assert!(
        restart_log.contains("IST received"),
        "node 1 caught up by IST, not a full copy:\n{restart_log}"
    );
    assert_eq!(
        causal_read(&cluster, 1),
        "0\tnode 1 down\n1\tall up\n2\tnode 1 down\n",
        "node 1 has the rows written while it was down"
    );
    cluster
        .server(1)
        .execute("INSERT INTO smoke.notes (node, note) VALUES (1, 'back')")
        .expect("an insert on the restarted node 1");
    assert!(
        causal_read(&cluster, 0).contains("1\tback\n"),
        "node 0 sees node 1's new row"
    );
    eprintln!("galera: smoke test done in {:.1?}", started.elapsed());
}
