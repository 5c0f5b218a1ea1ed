//! A region's deployment as `deploy/` describes it, on loopback: three NATS nodes started
//! from `deploy/nats/cluster.conf` (the region's server and accounts included); the ghor processes of
//! `deploy/compose.yaml` — two ingest, a projector, two gateways, a notifier — each reading
//! `deploy/ghor.toml`; and Caddy in front from `deploy/Caddyfile`, through which clients
//! reach it all. Only this machine's addresses and sizes are given in the environment and
//! on the command line (which win over the files, as in production).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::harness::{Ghor, DEADLINE};

pub fn deploy(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy").join(path)
}

/// A free port below the kernel's ephemeral range (32768 and up), where the ports other
/// tests bind as `:0` never come from, and never one handed out before in this run: between
/// choosing it and the process binding it, nothing else takes it.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let port = 20_000 + rand::random::<u16>() % 12_000;
        if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
}

/// One NATS server started from a file of `deploy/nats/`: its process, client and
/// monitoring ports.
pub struct Node {
    pub name: String,
    pub client_port: u16,
    pub monitor_port: u16,
    config: &'static str,
    child: Option<Child>,
    command: Vec<(String, String)>,
}

/// The running deployment.
pub struct Topology {
    pub nodes: Vec<Node>,
    /// The ingest processes' and the gateways' own addresses, in start order.
    pub ingests: Vec<String>,
    pub gateways: Vec<String>,
    /// Every ghor process, by name (`ingest-1`, …).
    pub processes: Vec<Process>,
    /// Where clients reach it: the proxy.
    pub url: String,
    _proxy: Child,
}

/// One ghor process: how it is started, where it listens, and the process while it runs.
pub struct Process {
    pub name: String,
    args: Vec<String>,
    pub url: String,
    pub child: Option<Child>,
}

/// The password of the `ghor` NATS user in `deploy/nats/accounts.conf`.
pub const NATS_PASSWORD: &str = "loopback-ghor";

impl Node {
    /// A server from `deploy/{config}` with this environment (besides its name and ports),
    /// started.
    pub fn start_from(config: &'static str, name: &str, env: &[(&str, String)]) -> Node {
        let (client_port, monitor_port) = (free_port(), free_port());
        let mut command = vec![
            ("NATS_SERVER_NAME".to_owned(), name.to_owned()),
            ("NATS_PORT".to_owned(), client_port.to_string()),
            ("NATS_MONITOR_PORT".to_owned(), monitor_port.to_string()),
        ];
        command.extend(env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let mut node = Node { name: name.to_owned(), client_port, monitor_port, config, child: None, command };
        node.start();
        node
    }

    fn start(&mut self) {
        let binary = std::env::var_os("GHOR_NATS_SERVER").map_or_else(|| PathBuf::from("nats-server"), PathBuf::from);
        let child = Command::new(binary)
            .arg("-c")
            .arg(deploy(self.config))
            .envs(self.command.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server (tests/run installs it; or set GHOR_NATS_SERVER)");
        self.child = Some(child);
    }

    /// Kills the node (SIGKILL).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same ports and store.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        self.start();
    }

    /// Whether the node says it is healthy: JetStream with a meta leader, its streams current.
    pub async fn healthy(&self, http: &reqwest::Client) -> bool {
        let url = format!("http://127.0.0.1:{}/healthz", self.monitor_port);
        http.get(url).send().await.is_ok_and(|r| r.status().is_success())
    }
}

impl Topology {
    /// Starts the NATS nodes, waits until JetStream is healthy on all three, then the ghor
    /// processes; points `ghor` at them.
    pub async fn start(ghor: &mut Ghor) -> Topology {
        let ports: Vec<(u16, u16, u16)> = (0..3).map(|_| (free_port(), free_port(), free_port())).collect();
        let nowhere = free_port();
        let routes: Vec<String> =
            ports.iter().map(|(_, cluster, _)| format!("nats-route://127.0.0.1:{cluster}")).collect();
        let mut nodes: Vec<Node> = ports
            .iter()
            .enumerate()
            .map(|(i, (client, cluster, monitor))| {
                let name = format!("nats-{}", i + 1);
                let store = ghor.dir.path().join(&name).display().to_string();
                let mut command = vec![
                    ("NATS_SERVER_NAME".to_owned(), name.clone()),
                    ("NATS_PORT".to_owned(), client.to_string()),
                    ("NATS_MONITOR_PORT".to_owned(), monitor.to_string()),
                    ("NATS_CLUSTER_PORT".to_owned(), cluster.to_string()),
                    ("NATS_STORE_DIR".to_owned(), store),
                    ("GHOR_NATS_PASSWORD".to_owned(), NATS_PASSWORD.to_owned()),
                    ("UMCG_NATS_PASSWORD".to_owned(), "loopback-umcg".to_owned()),
                    // A region on its own: its leaf link points where no national level
                    // answers (it keeps trying, and the region works on regardless).
                    ("NATS_DOMAIN".to_owned(), "vr01".to_owned()),
                    ("NATS_NATIONAL_URL".to_owned(), format!("nats-leaf://leaf:unused@127.0.0.1:{nowhere}")),
                ];
                for (j, route) in routes.iter().enumerate() {
                    command.push((format!("NATS_ROUTE_{}", j + 1), route.clone()));
                }
                Node {
                    name,
                    client_port: *client,
                    monitor_port: *monitor,
                    config: "nats/cluster.conf",
                    child: None,
                    command,
                }
            })
            .collect();
        for node in &mut nodes {
            node.start();
        }
        let deadline = tokio::time::Instant::now() + DEADLINE * 2;
        for node in &nodes {
            while !node.healthy(&ghor.http).await {
                assert!(tokio::time::Instant::now() < deadline, "{} never became healthy", node.name);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let servers: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.client_port)).collect();
        ghor.nats_url = Some(format!("nats://ghor:{NATS_PASSWORD}@{}", servers.join(",nats://")));
        ghor.replicas = 3;

        // The file, and what differs on this machine: every process's metrics on a port of its
        // own, a stream limit the test machine's disk holds, where the page is.
        let (gateway_ports, proxy_port) = ([free_port(), free_port()], free_port());
        let machine = [
            ("GHOR_CONFIG", deploy("ghor.toml").display().to_string()),
            ("GHOR_METRICS_LISTEN", "127.0.0.1:0".to_owned()),
            ("GHOR_LOG_MAX_BYTES", (1u64 << 30).to_string()),
            ("GHOR_PUBLIC_URL", format!("http://127.0.0.1:{proxy_port}")),
        ];
        // A test's own settings come after these and so win.
        let own = std::mem::take(&mut ghor.env);
        ghor.env = machine.into_iter().map(|(k, v)| (k.to_owned(), v)).chain(own).collect();

        let listen = |port: u16| format!("127.0.0.1:{port}");
        let (g1, g2) = (listen(gateway_ports[0]), listen(gateway_ports[1]));
        let (i1, i2, p, n) = (listen(free_port()), listen(free_port()), listen(free_port()), listen(free_port()));
        let roles = [
            ("ingest-1", vec!["ingest", "--listen", &i1, "--overdue-every", "1"]),
            ("ingest-2", vec!["ingest", "--listen", &i2, "--overdue-every", "1"]),
            ("projector", vec!["project", "--listen", &p]),
            ("gateway-1", vec!["gateway", "--listen", &g1, "--overdue-every", "1"]),
            ("gateway-2", vec!["gateway", "--listen", &g2, "--overdue-every", "1"]),
            ("notifier", vec!["notify", "--listen", &n]),
        ];
        let mut processes: Vec<Process> = roles
            .iter()
            .map(|(name, args)| Process {
                name: (*name).to_owned(),
                args: args.iter().map(|a| (*a).to_owned()).collect(),
                url: format!("http://{}", args[2]),
                child: None,
            })
            .collect();
        start_all(ghor, &mut processes).await;
        let of = |role: &str| processes.iter().filter(|p| p.name.starts_with(role)).map(|p| p.url.clone()).collect();
        let (ingests, gateways): (Vec<String>, Vec<String>) = (of("ingest"), of("gateway"));

        // The proxy, from deploy/Caddyfile, in front of them all.
        let url = format!("http://127.0.0.1:{proxy_port}");
        let hosts =
            |urls: &[String]| urls.iter().map(|u| u.trim_start_matches("http://")).collect::<Vec<_>>().join(" ");
        let caddy_home = ghor.dir.path().join("caddy");
        let proxy = Command::new(std::env::var_os("GHOR_CADDY").unwrap_or_else(|| "caddy".into()))
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(deploy("Caddyfile"))
            .env("GHOR_SITE", &url)
            .env("GHOR_INGESTS", hosts(&ingests))
            .env("GHOR_GATEWAYS", hosts(&gateways))
            .env("GHOR_CADDY_ADMIN", format!("127.0.0.1:{}", free_port()))
            .env("XDG_DATA_HOME", &caddy_home)
            .env("XDG_CONFIG_HOME", &caddy_home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("caddy (Debian's caddy package; tests/run installs it)");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while ghor.http.get(format!("{url}/readyz")).send().await.map_or(true, |r| !r.status().is_success()) {
            assert!(tokio::time::Instant::now() < deadline, "the proxy never answered for the gateways");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Topology { nodes, ingests, gateways, processes, url, _proxy: proxy }
    }

    /// Stops every ghor process: SIGKILL, or SIGTERM as an orchestrator does (then waits);
    /// the exit statuses.
    pub async fn stop_all(&mut self, gently: bool) -> Vec<std::process::ExitStatus> {
        let mut statuses = Vec::new();
        for process in &mut self.processes {
            if let Some(mut child) = process.child.take() {
                if gently {
                    let pid = child.id().expect("pid").to_string();
                    let sent = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill");
                    assert!(sent.success(), "SIGTERM sent to {}", process.name);
                } else {
                    let _ = child.start_kill();
                }
                let status = tokio::time::timeout(DEADLINE, child.wait()).await;
                statuses.push(status.expect("it exits in time").expect("wait"));
            }
        }
        statuses
    }

    /// Starts every stopped ghor process again on its address.
    pub async fn start_again(&mut self, ghor: &Ghor) {
        start_all(ghor, &mut self.processes).await;
    }

    /// A ghor process by name.
    pub fn process(&mut self, name: &str) -> &mut Process {
        self.processes.iter_mut().find(|p| p.name == name).unwrap_or_else(|| panic!("no process {name}"))
    }
}

/// Starts the processes that are not running, side by side, each until it is ready.
async fn start_all(ghor: &Ghor, processes: &mut [Process]) {
    let stopped: Vec<&mut Process> = processes.iter_mut().filter(|p| p.child.is_none()).collect();
    let started = futures::future::join_all(stopped.iter().map(|p| {
        let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
        async move { ghor.spawn(&args).await }
    }))
    .await;
    for (process, (url, child)) in stopped.into_iter().zip(started) {
        assert_eq!(url, process.url, "{} listens where it was told", process.name);
        process.child = Some(child);
    }
}
