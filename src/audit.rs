//! `ghor audit`: tamper evidence from the command line (issue 12). Makes the audit key,
//! lists the signed tree heads, checks the archive against them, and prints the inclusion
//! and consistency proofs a third party checks against a published head (RFC 9162). Reads
//! the database alone (the embedded store's file, or PostgreSQL), as an auditor would.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use ghor_domain::Scope;
use ghor_server::audit::{self, AuditKey};
use ghor_store::{AuditStore, ReadModel};
use uuid::Uuid;

#[derive(Subcommand)]
pub enum Command {
    /// Make a new audit key: the secret for GHOR_AUDIT_KEY and the public key to publish.
    Keygen,
    /// The signed tree heads of a scope, oldest first, one JSON object per line.
    Heads(Store),
    /// Check the archive against the signed tree heads; names the first event altered,
    /// missing or out of place, and exits with 1 when there is one.
    Verify {
        #[command(flatten)]
        store: Store,
        /// A public key (hex) the heads may be signed with; repeat it for the keys before a
        /// rotation. Default: the newest head's.
        #[arg(long)]
        public_key: Vec<String>,
    },
    /// The inclusion proof (JSON) of one event in the newest signed tree that holds it.
    Prove {
        #[command(flatten)]
        store: Store,
        /// The event's source, e.g. /locations/umcg.
        source: String,
        /// The event's id.
        id: Uuid,
    },
    /// The consistency proof (JSON) between two signed tree heads, by their sizes.
    Consistency {
        #[command(flatten)]
        store: Store,
        first: u64,
        second: u64,
    },
}

/// Where the archive and the tree heads are.
#[derive(Args)]
pub struct Store {
    #[arg(long, env = "GHOR_DATA_DIR", default_value = "ghor-data")]
    data_dir: PathBuf,
    /// PostgreSQL of a production ghor.
    #[arg(long, env = "GHOR_DATABASE", hide_env_values = true)]
    database: Option<String>,
    #[arg(long, default_value = "live", value_parser = crate::parse_scope)]
    scope: Scope,
}

impl Store {
    async fn open(&self) -> anyhow::Result<(Arc<dyn AuditStore>, Arc<dyn ReadModel>)> {
        Ok(match &self.database {
            Some(url) => {
                let db = Arc::new(ghor_store::postgres::Postgres::connect(url).await?);
                (db.clone(), db)
            }
            None => {
                let db = Arc::new(
                    ghor_store::Embedded::open(&self.data_dir)
                        .await
                        .with_context(|| format!("cannot open the embedded store in {}", self.data_dir.display()))?,
                );
                (db.clone(), db)
            }
        })
    }
}

/// How `serve` and `project` sign tree heads.
#[derive(Args)]
#[command(next_help_heading = "Tamper evidence")]
pub struct Signing {
    /// The audit key (base64, from `ghor audit keygen`): with it, tree heads over the log
    /// are signed where the projector runs. Keep it secret; publish its public key.
    #[arg(long, env = "GHOR_AUDIT_KEY", hide_env_values = true)]
    audit_key: Option<String>,
    /// Seconds between signed tree heads (when the log has grown).
    #[arg(long, env = "GHOR_TREE_HEAD_EVERY", default_value_t = 300)]
    tree_head_every: u64,
}

impl Signing {
    pub fn tree_heads(&self) -> anyhow::Result<Option<(AuditKey, Duration)>> {
        // Empty (a deployment's unset secret, `GHOR_AUDIT_KEY=`) is none.
        let Some(secret) = self.audit_key.as_ref().filter(|k| !k.is_empty()) else { return Ok(None) };
        let key = AuditKey::from_secret(secret).map_err(|e| anyhow::anyhow!("GHOR_AUDIT_KEY: {e}"))?;
        Ok(Some((key, Duration::from_secs(self.tree_head_every.max(1)))))
    }
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Keygen => {
            let key = AuditKey::generate();
            println!("GHOR_AUDIT_KEY={}", key.secret());
            println!("public key: {}", hex::encode(key.public()));
        }
        Command::Heads(store) => {
            let (audit, _) = store.open().await?;
            for head in audit.tree_heads(store.scope).await? {
                println!("{}", audit::head_json(store.scope, &head));
            }
        }
        Command::Verify { store, public_key } => {
            let trusted = public_key
                .iter()
                .map(|k| hex::decode(k.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()))
                .map(|k| k.context("--public-key: give the 32-byte key in hex, as `ghor audit keygen` prints it"))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (audit, read_model) = store.open().await?;
            match audit::verify(&*audit, &*read_model, store.scope, &trusted).await? {
                Ok(v) => println!(
                    "the archive of {} holds what was signed: {} events checked against {} signed tree heads, the newest at size {} ({}) with root {}",
                    store.scope,
                    v.events,
                    v.heads,
                    v.newest.size,
                    v.newest.time.to_rfc3339(),
                    hex::encode(v.newest.root)
                ),
                Err(finding) => {
                    eprintln!("TAMPERED: {finding}");
                    std::process::exit(1);
                }
            }
        }
        Command::Prove { store, source, id } => {
            let (audit, read_model) = store.open().await?;
            let seq = read_model.find_archived(store.scope, &[(source.clone(), id)]).await?.pop().flatten();
            let seq = seq.with_context(|| format!("no archived event {source} {id} in {}", store.scope))?;
            let proof = audit::prove(&*audit, store.scope, seq).await?;
            let proof = proof.with_context(|| format!("event {seq} is not covered by a signed tree head yet"))?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
        }
        Command::Consistency { store, first, second } => {
            let (audit, _) = store.open().await?;
            let proof = audit::consistency(&*audit, store.scope, first, second).await?;
            let proof = proof.with_context(|| format!("no signed tree heads of sizes {first} and {second}"))?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
        }
    }
    Ok(())
}
