//! Starts `ghor serve` on port 0 with a fresh data dir, tokens for every role and a small
//! registry, and offers HTTP and websocket clients. Waits for conditions, never for time.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use ghor_domain::Scope;
use ghor_store::nats::{connect, NatsLog, StreamSettings};
use ghor_store::postgres::Postgres;
use ghor_store::testing::{NatsCluster, NatsServer, TestDatabase};
use ghor_store::{ContactStore, Embedded, EventLog, NotifyStore, ReadModel, TokenStore};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

pub const BIN: &str = env!("CARGO_BIN_EXE_ghor");
/// The tests run JetStream with a 1-second duplicate window, so idempotency beyond the
/// window (the archive) is what they exercise.
pub const DUPLICATE_WINDOW_SECS: u64 = 1;
/// The longest any condition may take to hold.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// The tokens the harness creates, by name.
pub const TOKENS: &[(&str, &[&str])] = &[
    ("admin", &["--role", "admin", "--name", "beheer", "--national"]),
    ("netwerk", &["--role", "netwerkfunctionaris", "--name", "netwerk noord", "--region", "VR01", "--region", "VR02"]),
    ("im", &["--role", "informatiemanager", "--name", "IM Groningen", "--region", "VR01"]),
    ("im2", &["--role", "informatiemanager", "--name", "IM Fryslan", "--region", "VR02"]),
    ("rot", &["--role", "rot", "--name", "ROT Groningen", "--region", "VR01"]),
    ("keten", &["--role", "ketenpartner", "--name", "Ketenpartner", "--region", "VR01"]),
    ("bestuur", &["--role", "bestuur", "--name", "Bestuur", "--region", "VR01"]),
    ("umcg", &["--role", "institution", "--name", "UMCG ZIS", "--region", "VR01", "--organisation", "umcg"]),
    ("martini", &["--role", "institution", "--name", "Martini ZIS", "--region", "VR01", "--organisation", "martini"]),
    ("oto", &["--role", "oto", "--name", "OTO", "--scope", "oefening", "--national"]),
];

/// Which backbone a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file in the data dir.
    Embedded,
    /// A real nats-server with JetStream and a fresh PostgreSQL database.
    Production,
    /// A region's deployment from `deploy/` on loopback ([`crate::topology`]): 3 NATS nodes,
    /// a fresh PostgreSQL database, two ingest processes, a projector, two gateways and a
    /// notifier, reached through the proxy. Restarting it restarts every ghor process.
    Deployment,
}

/// A running ghor with its tokens.
pub struct Ghor {
    /// On a deployment: its processes (stopped first when this is dropped, before the
    /// database they use).
    pub topology: Option<crate::topology::Topology>,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub tokens: BTreeMap<String, String>,
    pub http: reqwest::Client,
    pub backend: Backend,
    pub nats: Option<NatsServer>,
    /// How ghor reaches NATS (with credentials when the server requires them).
    pub nats_url: Option<String>,
    pub database: Option<TestDatabase>,
    /// Organisations that publish on NATS from an account of their own.
    pub intake_accounts: Vec<String>,
    /// The JetStream cluster it runs on, when it runs on one.
    pub cluster: Option<NatsCluster>,
    /// Replicas of each stream (the cluster's size on a cluster).
    pub replicas: usize,
    /// Environment the server is started with (e.g. the notifier's settings).
    pub env: Vec<(String, String)>,
    /// Where the server's standard error goes from its next start (the test's own when none).
    pub stderr_to: Option<PathBuf>,
    child: Option<Child>,
}

/// Runs a `ghor` command against the data dir (and the database, on production).
pub async fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).arg("--data-dir").arg(dir).output().await.expect("run ghor");
    assert!(out.status.success(), "ghor {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
}

impl Ghor {
    /// A server with tokens and the registry: umcg and martini (VR01), mcl (VR02).
    pub async fn start() -> Ghor {
        Ghor::start_on(Backend::Embedded).await
    }

    pub async fn bare() -> Ghor {
        Ghor::bare_on(Backend::Embedded).await
    }

    pub async fn start_on(backend: Backend) -> Ghor {
        let ghor = Ghor::bare_on(backend).await;
        ghor.register_defaults().await;
        ghor
    }

    async fn register_defaults(&self) {
        self.register(&[
            ("umcg", "umcg", "ziekenhuis", "VR01", 53.222, 6.576),
            ("martini", "martini", "ziekenhuis", "VR01", 53.199, 6.552),
            ("mcl", "mcl", "ziekenhuis", "VR02", 53.186, 5.802),
        ])
        .await;
    }

    /// A server with tokens but no registry.
    pub async fn bare_on(backend: Backend) -> Ghor {
        let nats = (backend == Backend::Production).then(|| {
            let server = NatsServer::start();
            let url = server.url.clone();
            (server, url)
        });
        Ghor::bare_with(backend, nats, Vec::new()).await
    }

    /// On the production backbone with a NATS server of the test's own (e.g. with accounts,
    /// users and permissions), the URL ghor connects with, and the organisations that
    /// publish from accounts of their own.
    pub async fn start_with_nats(nats: NatsServer, url: String, intake_accounts: &[&str]) -> Ghor {
        let intake_accounts = intake_accounts.iter().map(|a| (*a).to_owned()).collect();
        let ghor = Ghor::bare_with(Backend::Production, Some((nats, url)), intake_accounts).await;
        ghor.register_defaults().await;
        ghor
    }

    async fn bare_with(backend: Backend, nats: Option<(NatsServer, String)>, intake_accounts: Vec<String>) -> Ghor {
        Ghor::bare_with_env(backend, nats, intake_accounts, Vec::new()).await
    }

    async fn bare_with_env(
        backend: Backend,
        nats: Option<(NatsServer, String)>,
        intake_accounts: Vec<String>,
        env: Vec<(String, String)>,
    ) -> Ghor {
        let (nats, nats_url) = match nats {
            Some((server, url)) => (Some(server), Some(url)),
            None => (None, None),
        };
        let mut ghor = Ghor::with_tokens(backend, nats, nats_url, intake_accounts).await;
        ghor.env = env;
        ghor.launch("127.0.0.1:0").await;
        ghor
    }

    /// With the default registry, started with this environment (`GHOR_*` settings).
    pub async fn start_with_env(backend: Backend, env: &[(&str, String)]) -> Ghor {
        let nats = (backend == Backend::Production).then(|| {
            let server = NatsServer::start();
            let url = server.url.clone();
            (server, url)
        });
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let ghor = Ghor::bare_with_env(backend, nats, Vec::new(), env).await;
        ghor.register_defaults().await;
        ghor
    }

    /// On the production backbone with this database (e.g. on a PostgreSQL server of the
    /// test's own, to crash and restart), with the default registry.
    pub async fn start_on_database(database: TestDatabase) -> Ghor {
        let nats = NatsServer::start();
        let url = nats.url.clone();
        let mut ghor =
            Ghor::with_tokens_on(Backend::Production, Some(nats), Some(url), Vec::new(), Some(database)).await;
        ghor.launch("127.0.0.1:0").await;
        ghor.register_defaults().await;
        ghor
    }

    /// On a JetStream cluster, started as the README's production command says: every
    /// node's URL in `--nats`, three replicas; with the default registry.
    pub async fn start_on_cluster(cluster: NatsCluster) -> Ghor {
        await_jetstream(&cluster.urls()).await;
        let mut ghor = Ghor::with_tokens(Backend::Production, None, Some(cluster.urls()), Vec::new()).await;
        ghor.replicas = cluster.nodes.len();
        ghor.cluster = Some(cluster);
        ghor.launch("127.0.0.1:0").await;
        ghor.register_defaults().await;
        ghor
    }

    /// On the production backbone over NATS at `url` (servers of the test's own, e.g. a
    /// region's from `deploy/`), with a fresh database and the default registry.
    pub async fn start_on_nats(url: String) -> Ghor {
        let mut ghor = Ghor::with_tokens(Backend::Production, None, Some(url), Vec::new()).await;
        ghor.launch("127.0.0.1:0").await;
        ghor.register_defaults().await;
        ghor
    }

    /// The national level over NATS at `url`: `ghor national --regions REGIONS`, with a fresh
    /// database; its registry is what the regions' logs bring.
    pub async fn start_national(url: String, regions: &str) -> Ghor {
        let mut ghor = Ghor::with_tokens(Backend::Production, None, Some(url), Vec::new()).await;
        let (url, child) = ghor.spawn(&["national", "--regions", regions, "--listen", "127.0.0.1:0"]).await;
        ghor.url = url;
        ghor.child = Some(child);
        ghor
    }

    /// A server not started yet, with its stores and the tokens of [`TOKENS`].
    async fn with_tokens(
        backend: Backend,
        nats: Option<NatsServer>,
        nats_url: Option<String>,
        intake_accounts: Vec<String>,
    ) -> Ghor {
        let database = match backend {
            Backend::Embedded => None,
            Backend::Production | Backend::Deployment => Some(TestDatabase::create().await),
        };
        Ghor::with_tokens_on(backend, nats, nats_url, intake_accounts, database).await
    }

    /// The same with the database given.
    async fn with_tokens_on(
        backend: Backend,
        nats: Option<NatsServer>,
        nats_url: Option<String>,
        intake_accounts: Vec<String>,
        database: Option<TestDatabase>,
    ) -> Ghor {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ghor = Ghor {
            url: String::new(),
            dir,
            tokens: BTreeMap::new(),
            // Idle connections are let go before the server's own 10 s
            // (`--header-read-seconds`), so a request never goes out on one the server is
            // closing at that moment.
            http: reqwest::Client::builder().pool_idle_timeout(Duration::from_secs(5)).build().expect("an HTTP client"),
            backend,
            nats,
            nats_url,
            database,
            intake_accounts,
            cluster: None,
            replicas: 1,
            env: Vec::new(),
            stderr_to: None,
            child: None,
            topology: None,
        };
        for (name, args) in TOKENS {
            let mut full = vec!["token", "create"];
            full.extend_from_slice(args);
            let secret = ghor.cli(&full).await;
            ghor.tokens.insert((*name).to_owned(), secret);
        }
        ghor
    }

    /// The arguments that point a `ghor` command at this backbone.
    pub fn backend_args(&self) -> Vec<String> {
        let mut args = vec!["--data-dir".to_owned(), self.dir.path().display().to_string()];
        if let (Some(nats), Some(db)) = (&self.nats_url, &self.database) {
            args.extend(["--nats".to_owned(), nats.clone(), "--database".to_owned(), db.url.clone()]);
            for account in &self.intake_accounts {
                args.extend(["--intake-account".to_owned(), account.clone()]);
            }
            args.extend(["--replicas".to_owned(), self.replicas.to_string()]);
        }
        args
    }

    /// Runs a `ghor` command against this backbone's stores; returns its standard output.
    pub async fn cli(&self, args: &[&str]) -> String {
        let mut command = Command::new(BIN);
        command.args(args).arg("--data-dir").arg(self.dir.path());
        if let Some(db) = &self.database {
            command.args(["--database", &db.url]);
        }
        let out = command.output().await.expect("run ghor");
        assert!(out.status.success(), "ghor {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
    }

    /// The log of a scope, opened beside the server (as another process would).
    pub async fn log(&self, scope: Scope) -> Arc<dyn EventLog> {
        match &self.nats_url {
            Some(url) => NatsLog::open(
                connect(url).await.expect("nats"),
                scope,
                &StreamSettings {
                    replicas: self.replicas,
                    duplicate_window: self.duplicate_window(),
                    max_bytes: self.setting("GHOR_LOG_MAX_BYTES").unwrap_or(-1),
                    ..stream_settings()
                },
            )
            .await
            .expect("open the stream"),
            None => Embedded::open(self.dir.path()).await.expect("open store").log(scope).await.expect("log"),
        }
    }

    /// The log's duplicate window: the harness's, unless this server was started with
    /// another (`GHOR_DUPLICATE_WINDOW`).
    fn duplicate_window(&self) -> Duration {
        Duration::from_secs(self.setting("GHOR_DUPLICATE_WINDOW").unwrap_or(DUPLICATE_WINDOW_SECS))
    }

    /// A setting this server was started with in its environment (the last one given wins).
    fn setting<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.env.iter().rev().find(|(k, _)| k == name).and_then(|(_, v)| v.parse().ok())
    }

    /// How often the live log holds the event with this id.
    pub async fn copies_in_log(&self, id: &str) -> usize {
        let entries = self.log(Scope::Live).await.read(0, 100_000).await.expect("read the log");
        entries.iter().filter(|e| e.json()["id"] == id).count()
    }

    /// The read model and stores, opened beside the server.
    pub async fn stores(&self) -> Stores {
        match &self.database {
            Some(db) => {
                let pg = Arc::new(Postgres::connect(&db.url).await.expect("postgres"));
                Stores { read_model: pg.clone(), tokens: pg.clone(), contacts: pg.clone(), notify: pg }
            }
            None => {
                let db = Arc::new(Embedded::open(self.dir.path()).await.expect("open store"));
                Stores { read_model: db.clone(), tokens: db.clone(), contacts: db.clone(), notify: db }
            }
        }
    }

    async fn launch(&mut self, listen: &str) {
        if self.backend == Backend::Deployment {
            match self.topology.take() {
                Some(mut topology) => {
                    topology.start_again(self).await;
                    self.topology = Some(topology);
                }
                None => {
                    let topology = crate::topology::Topology::start(self).await;
                    self.url = topology.url.clone();
                    self.topology = Some(topology);
                }
            }
            return;
        }
        let (url, child) = self.spawn(&["serve", "--listen", listen, "--overdue-every", "1"]).await;
        self.url = url;
        self.child = Some(child);
    }

    /// Starts another process of one role (`ingest`, `gateway`, `project`) on this
    /// backbone; returns its address and the process (killed when dropped).
    pub async fn spawn_role(&self, role: &str) -> (String, Child) {
        self.spawn(&[role, "--listen", "127.0.0.1:0"]).await
    }

    /// Runs `ghor ARGS` on this backbone and waits for the line with its address.
    pub(crate) async fn spawn(&self, args: &[&str]) -> (String, Child) {
        let mut child = Command::new(BIN)
            .args(args)
            .args(self.backend_args())
            .env("GHOR_DUPLICATE_WINDOW", DUPLICATE_WINDOW_SECS.to_string())
            .env("GHOR_FAULT_INJECTION", "true")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(match &self.stderr_to {
                Some(path) => Stdio::from(
                    std::fs::OpenOptions::new().create(true).append(true).open(path).expect("the server's log file"),
                ),
                None => Stdio::inherit(),
            })
            .kill_on_drop(true)
            .spawn()
            .expect("spawn ghor");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        // A deployment starts six processes at once beside its three NATS nodes.
        let patience = if self.backend == Backend::Deployment { DEADLINE * 4 } else { DEADLINE };
        let line = tokio::time::timeout(patience, lines.next_line())
            .await
            .expect("ghor starts in time")
            .expect("read")
            .expect("a line");
        let url = line.strip_prefix("ghor listening on ").expect("listening line").to_owned();
        // Ready once it has folded the log as it found it.
        let deadline = tokio::time::Instant::now() + patience;
        while self.http.get(format!("{url}/readyz")).send().await.map(|r| r.status().as_u16()).ok() != Some(200) {
            assert!(tokio::time::Instant::now() < deadline, "ghor {args:?} did not become ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (url, child)
    }

    /// The same server's clients, pointed at another process of it.
    pub fn at(&self, url: &str) -> Ghor {
        Ghor {
            url: url.to_owned(),
            dir: tempfile::tempdir().expect("tempdir"),
            tokens: self.tokens.clone(),
            http: self.http.clone(),
            backend: self.backend,
            nats: None,
            nats_url: None,
            database: None,
            intake_accounts: Vec::new(),
            cluster: None,
            replicas: self.replicas,
            env: self.env.clone(),
            stderr_to: None,
            child: None,
            topology: None,
        }
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and data.
    pub async fn restart(&mut self) {
        let listen = self.url.trim_start_matches("http://").to_owned();
        self.kill().await;
        self.launch(&listen).await;
    }

    /// Sends SIGTERM, as systemd and Kubernetes stop a service, and waits for the exit (on a
    /// deployment: of every ghor process; the worst status).
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        if let Some(topology) = &mut self.topology {
            let statuses = topology.stop_all(true).await;
            return statuses.iter().find(|s| !s.success()).or(statuses.first()).copied().expect("processes");
        }
        let mut child = self.child.take().expect("a running server");
        let pid = child.id().expect("pid").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill");
        assert!(sent.success(), "SIGTERM sent");
        tokio::time::timeout(DEADLINE, child.wait()).await.expect("ghor exits in time after SIGTERM").expect("wait")
    }

    /// Starts the server again on the same port and data, after it stopped.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        if self.topology.is_some() {
            return self.launch("").await;
        }
        let listen = self.url.trim_start_matches("http://").to_owned();
        self.launch(&listen).await;
    }

    /// `/readyz`'s status.
    pub async fn ready(&self) -> u16 {
        self.http.get(format!("{}/readyz", self.url)).send().await.map_or(0, |r| r.status().as_u16())
    }

    /// The server process's id, while it runs (to read its memory from `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub async fn kill(&mut self) {
        if let Some(topology) = &mut self.topology {
            topology.stop_all(false).await;
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    pub fn token(&self, name: &str) -> &str {
        self.tokens.get(name).unwrap_or_else(|| panic!("no token {name}"))
    }

    pub async fn register(&self, locations: &[(&str, &str, &str, &str, f64, f64)]) {
        let mut events = Vec::new();
        for (id, org, kind, region, lat, lon) in locations {
            events.push(event(
                &format!("/regions/{region}"),
                "nl.ghor.organisation.registered.v1",
                Some(org),
                json!({ "name": format!("Organisatie {org}") }),
            ));
            events.push(event(
                &format!("/locations/{id}"),
                "nl.ghor.location.registered.v1",
                None,
                json!({ "name": format!("Locatie {id}"), "organisation": org, "type": kind, "region": region, "point": { "lat": lat, "lon": lon } }),
            ));
        }
        let (status, body) = self.post("netwerk", "/v1/events/batch", &Value::Array(events)).await;
        assert_eq!(status, 200, "{body}");
        for r in body["results"].as_array().expect("results") {
            assert_ne!(r["status"], "rejected", "{r}");
        }
        // The picture follows the log: wait until it holds the registry.
        let last = body["results"].as_array().into_iter().flatten().filter_map(|r| r["seq"].as_u64()).max();
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while self.get("netwerk", "/v1/picture").await.1["seq"].as_u64() < last {
            assert!(tokio::time::Instant::now() < deadline, "the registry never reached the picture");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.url)).bearer_auth(self.token(token)).json(body)).await
    }

    pub async fn put(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.put(format!("{}{path}", self.url)).bearer_auth(self.token(token)).json(body)).await
    }

    pub async fn post_raw(&self, token: Option<&str>, path: &str, body: Vec<u8>) -> (u16, Value, Option<String>) {
        let mut request =
            self.http.post(format!("{}{path}", self.url)).header("content-type", "application/json").body(body);
        if let Some(t) = token {
            request = request.bearer_auth(self.tokens.get(t).map(String::as_str).unwrap_or(t));
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body, content_type)
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.url)).bearer_auth(self.token(token))).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Reports IC beds for a location as `token`; returns the receipt.
    pub async fn report_beds(&self, token: &str, location: &str, operational: u32, occupied: u32) -> Value {
        let e = event(
            &format!("/locations/{location}"),
            "nl.ghor.beds.reported.v1",
            Some("ic"),
            json!({ "operational": operational, "occupied": occupied }),
        );
        let (status, body) = self.post(token, "/v1/events", &e).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn stream(&self, token: &str, regions: &[&str], resume: Option<(&str, u64)>) -> Stream {
        let mut hello = json!({ "regions": regions });
        if let Some((epoch, seq)) = resume {
            hello["resume"] = json!({ "epoch": epoch, "seq": seq });
        }
        self.stream_with(token, hello).await
    }

    /// A stream whose hello says `hello` (regions, resume, focus, encoding) besides its ticket.
    pub async fn stream_with(&self, token: &str, hello: Value) -> Stream {
        self.try_stream_with(token, hello).await.unwrap_or_else(|e| panic!("open a stream: {e}"))
    }

    /// The same, or why the server could not be reached (it died or is not up yet).
    pub async fn try_stream_with(&self, token: &str, mut hello: Value) -> Result<Stream, String> {
        let ticket =
            self.http.post(format!("{}/v1/stream/ticket", self.url)).bearer_auth(self.token(token)).json(&json!({}));
        let response = ticket.send().await.map_err(|e| format!("ticket: {e}"))?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.map_err(|e| format!("ticket: {e}"))?;
        assert_eq!(status, 200, "{body}");
        let ws_url = format!("{}/v1/stream", self.url.replace("http://", "ws://"));
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.map_err(|e| format!("websocket: {e}"))?;
        hello["type"] = json!("hello");
        hello["ticket"] = body["ticket"].clone();
        ws.send(Message::Text(hello.to_string().into())).await.map_err(|e| format!("hello: {e}"))?;
        let resumed = hello["resume"]["epoch"].as_str().zip(hello["resume"]["seq"].as_u64());
        Ok(Stream {
            ws,
            epoch: String::new(),
            seq: 0,
            regions: json!({}),
            snapshots: Vec::new(),
            current: None,
            closed: None,
            resumed: resumed.map(|(e, s)| (e.to_owned(), s)),
            compressed: 0,
        })
    }
}

/// Waits until JetStream answers on these servers (a new cluster first elects a leader).
async fn await_jetstream(urls: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let servers: Vec<&str> = urls.split(',').collect();
    loop {
        if let Ok(client) = async_nats::connect(servers.as_slice()).await {
            if async_nats::jetstream::new(client).query_account().await.is_ok() {
                return;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "JetStream on {urls} never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn stream_settings() -> StreamSettings {
    StreamSettings { duplicate_window: Duration::from_secs(DUPLICATE_WINDOW_SECS), ..StreamSettings::default() }
}

/// The stores beside a running server.
pub struct Stores {
    pub read_model: Arc<dyn ReadModel>,
    pub tokens: Arc<dyn TokenStore>,
    pub contacts: Arc<dyn ContactStore>,
    pub notify: Arc<dyn NotifyStore>,
}

/// Waits, up to [`DEADLINE`], until `done` holds.
pub async fn wait_for(done: impl AsyncFnMut() -> bool) {
    wait_for_within(DEADLINE, "condition", done).await;
}

/// Waits, up to `limit`, until `done` holds (for conditions that take longer by nature,
/// such as a thousand clients catching up); says `what` was not reached when it was not.
pub async fn wait_for_within(limit: Duration, what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} not reached within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client event with a fresh id and time now.
pub fn event(source: &str, event_type: &str, subject: Option<&str>, data: Value) -> Value {
    let mut e = json!({
        "specversion": "1.0",
        "id": uuid::Uuid::now_v7().to_string(),
        "source": source,
        "type": event_type,
        "time": chrono::Utc::now().to_rfc3339(),
        "data": data,
    });
    if let Some(s) = subject {
        e["subject"] = json!(s);
    }
    e
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A dashboard client: applies snapshots and deltas, and fails on any broken chain.
pub struct Stream {
    ws: Ws,
    pub epoch: String,
    pub seq: u64,
    pub regions: Value,
    /// Reasons of the snapshots received.
    pub snapshots: Vec<String>,
    /// What the server last said of its picture: does it follow the log?
    pub current: Option<bool>,
    /// How the connection ended: the close frame's code and reason (`None` while open, and
    /// for a connection that broke without one).
    pub closed: Option<(u16, String)>,
    resumed: Option<(String, u64)>,
    /// Messages that came gzip-compressed (binary frames).
    pub compressed: usize,
}

impl Stream {
    /// The next message as JSON, within the deadline.
    pub async fn next(&mut self) -> Value {
        self.try_next().await.expect("stream open")
    }

    /// The same, or `None` once the connection has ended (closed, reset, or its server
    /// died); a connection that stays silent past the deadline fails.
    pub async fn try_next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(DEADLINE, self.ws.next()).await.expect("a message in time");
            match message? {
                Ok(Message::Text(t)) => return Some(serde_json::from_str(&t).expect("json")),
                Ok(Message::Binary(gzip)) => {
                    self.compressed += 1;
                    let text = flate2::read::GzDecoder::new(&gzip[..]);
                    return Some(serde_json::from_reader(text).expect("gzip of json"));
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Applies one message; panics on a gap.
    pub fn apply(&mut self, m: &Value) {
        match m["type"].as_str() {
            Some("snapshot") => {
                let seq = m["seq"].as_u64().expect("seq");
                if m["epoch"] == self.epoch.as_str() {
                    assert!(seq >= self.seq, "a snapshot went back from {} to {seq}: {m}", self.seq);
                }
                self.epoch = m["epoch"].as_str().expect("epoch").to_owned();
                self.seq = seq;
                self.regions = m["regions"].clone();
                self.snapshots.push(m["reason"].as_str().unwrap_or_default().to_owned());
                self.resumed = None;
            }
            Some("delta") | Some("heartbeat") => {
                if self.epoch.is_empty() {
                    let (epoch, seq) = self.resumed.take().expect("a delta before any snapshot must follow a resume");
                    self.epoch = epoch;
                    self.seq = seq;
                }
                assert_eq!(m["epoch"], self.epoch.as_str(), "epoch changed without a snapshot: {m}");
                if m["type"] == "delta" {
                    assert_eq!(
                        m["from"].as_u64(),
                        Some(self.seq),
                        "gap: the delta does not chain on {}: {m}",
                        self.seq
                    );
                    for (region, patch) in m["changes"].as_object().expect("changes") {
                        let target =
                            self.regions.as_object_mut().expect("regions").entry(region.clone()).or_insert(json!({}));
                        merge(target, patch);
                    }
                    self.seq = m["to"].as_u64().expect("to");
                } else {
                    let seq = m["seq"].as_u64().expect("seq");
                    assert!(seq >= self.seq, "heartbeat went back: {m}");
                    self.seq = seq;
                }
            }
            Some("status") => self.current = m["current"].as_bool(),
            Some("error") => panic!("stream error: {m}"),
            other => panic!("unknown message type {other:?}: {m}"),
        }
    }

    /// Reads and applies messages until `done` holds for the picture.
    pub async fn until(&mut self, mut done: impl FnMut(&Value) -> bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while !done(&self.regions) {
            assert!(tokio::time::Instant::now() < deadline, "condition not reached; picture: {}", self.regions);
            let m = self.next().await;
            self.apply(&m);
        }
    }

    /// Reads and applies messages until the server says its picture is (`true`) or is not
    /// (`false`) current.
    pub async fn until_current(&mut self, current: bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while self.current != Some(current) {
            assert!(tokio::time::Instant::now() < deadline, "the server never said current = {current}");
            let m = self.next().await;
            self.apply(&m);
        }
    }

    /// Reads until the server ends the connection; returns the last message before it and
    /// keeps the close frame in `closed`.
    pub async fn until_closed(&mut self) -> Option<Value> {
        let mut last = None;
        loop {
            let message = tokio::time::timeout(DEADLINE, self.ws.next()).await.expect("the server closes in time");
            match message {
                Some(Ok(Message::Text(t))) => last = Some(serde_json::from_str(&t).expect("json")),
                Some(Ok(Message::Close(frame))) => {
                    self.closed = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                    return last;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return last,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// RFC 7396 apply.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The occupied IC beds of a location in a streamed or fetched region view.
pub fn ic_occupied(region_view: &Value, location: &str) -> Option<u64> {
    region_view["locations"][location]["dimensions"]["beds"]["values"]["ic"]["data"]["occupied"].as_u64()
}
