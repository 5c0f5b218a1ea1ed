//! Where ingest finds a location's registration (its organisation and region), to decide
//! who may report for it. Beside a gateway that is the gateway's picture; an ingest-only
//! process keeps a [`RegistrationFold`]: the same fold over the log's registrations alone,
//! so that it never reads back the reports it appends.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use ghor_domain::payload::LocationInfo;
use ghor_domain::{Event, Picture, Slug};
use ghor_store::{EventLog, LogEntry, ReadModel, StoreError};
use tokio::sync::watch;

use crate::gateway::Gateway;
use crate::shutdown::Shutdown;
use crate::supervise::Tasks;

/// How long a lookup waits for a registration the log has but the fold has not reached.
const CATCH_UP: Duration = Duration::from_secs(2);

/// A location's current registration, as ingest needs it.
#[async_trait]
pub trait Registrations: Send + Sync {
    /// The registration the picture holds; one appended a moment ago counts too (the
    /// lookup waits briefly for the fold to reach it).
    async fn location(&self, id: &Slug) -> Option<LocationInfo>;
}

fn registered(picture: &Picture, id: &Slug) -> Option<LocationInfo> {
    picture.locations.get(id).and_then(|l| l.info.as_ref()).map(|info| info.value.clone())
}

#[async_trait]
impl Registrations for Gateway {
    async fn location(&self, id: &Slug) -> Option<LocationInfo> {
        if let Some(info) = registered(&self.state().picture, id) {
            return Some(info);
        }
        self.caught_up_with_log(CATCH_UP).await;
        registered(&self.state().picture, id)
    }
}

/// The registrations of one scope's log, folded as they are appended.
pub struct RegistrationFold {
    log: Arc<dyn EventLog>,
    picture: RwLock<Picture>,
    /// The sequence of the newest registration folded.
    position: watch::Sender<u64>,
}

impl RegistrationFold {
    /// Starts from the newest snapshot (or the beginning); `tasks` follows the registrations.
    pub async fn start(
        log: Arc<dyn EventLog>,
        read_model: Arc<dyn ReadModel>,
        tasks: &Tasks,
        shutdown: Shutdown,
    ) -> Result<Arc<RegistrationFold>, StoreError> {
        let (seq, picture) = crate::reader::starting_point(&*log, &*read_model).await?;
        let fold = Arc::new(RegistrationFold { log, picture: RwLock::new(picture), position: watch::channel(seq).0 });
        let follower = fold.clone();
        tasks.spawn("registration_follower", move || follower.clone().follow(shutdown.clone()));
        Ok(fold)
    }

    /// Folds registrations as they are appended until shutdown; fails when the log cannot
    /// be read (and is started again from the last one folded).
    async fn follow(self: Arc<Self>, mut shutdown: Shutdown) -> Result<(), StoreError> {
        let after = *self.position.borrow();
        let mut entries = self.log.registrations(after).await?;
        loop {
            let next = tokio::select! {
                next = entries.next() => next,
                _ = shutdown.recv() => return Ok(()),
            };
            match next {
                Some(entry) => self.fold(entry?),
                None => return Err(StoreError::Unavailable("the log's registrations ended".into())),
            }
        }
    }

    fn fold(&self, entry: LogEntry) {
        if entry.seq <= *self.position.borrow() {
            return; // positions only grow: a reader that came back from earlier is not believed
        }
        match Event::from_stored(&entry.body) {
            Ok(event) => self.picture.write().unwrap_or_else(|poison| poison.into_inner()).apply(&event),
            Err(e) => {
                tracing::warn!(scope = %self.log.scope(), seq = entry.seq, error = ?e, "skipped an undecodable registration")
            }
        }
        self.position.send_replace(entry.seq);
    }

    fn lookup(&self, id: &Slug) -> Option<LocationInfo> {
        registered(&self.picture.read().unwrap_or_else(|poison| poison.into_inner()), id)
    }
}

#[async_trait]
impl Registrations for RegistrationFold {
    async fn location(&self, id: &Slug) -> Option<LocationInfo> {
        if let Some(info) = self.lookup(id) {
            return Some(info);
        }
        // Not folded (yet): the log says whether it was ever registered, and where.
        let Ok(Some(seq)) = self.log.newest_registration(id).await else {
            return None;
        };
        let mut position = self.position.subscribe();
        let _ = tokio::time::timeout(CATCH_UP, position.wait_for(|folded| *folded >= seq)).await;
        self.lookup(id)
    }
}
