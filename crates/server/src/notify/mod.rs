//! The notifier (§3.7, §5): follows the log of a scope from its own checkpoint, folds the
//! picture itself (the one pure fold), and derives from events ([`derive`]) the
//! notifications to send: an uitvraag opened, a round of its reminders due, a
//! handelingsperspectief published, a report overdue; and an alert condition started in a
//! region that someone subscribed to. Never from an HTTP handler.
//!
//! # Subscriptions
//! For an event that can start a condition (a status, a retraction, an overdue report, a
//! registration), the notifier computes the [`Conditions`] of each region it may change
//! that holds subscriptions, before and after folding it; each condition that started is
//! told to each subscription to its kind in that region (read from the store then), on the
//! subscription's own channels, under an id derived from (event, condition, subscription,
//! channel). A subscription whose token is revoked or expired is told nothing.
//!
//! # At least once, with the same ids
//! Each notification goes to each receiver (an email per contact of the roles it is for, a
//! post per webhook endpoint of the location's organisation) under an id derived from
//! (cause event, location, channel, receiver): the email's Message-ID, the webhook's
//! `webhook-id`. Every outcome (delivered; failed, retried with exponential backoff;
//! given up after `give_up`) is written back as an event. The checkpoint moves past an
//! event only once all its notifications are delivered or given up and their outcomes are
//! in the log; a notifier that restarts derives the rest again from the checkpoint and
//! sends them with the same ids, skipping those whose final outcome it finds in the log.
//!
//! # Bounds
//! At most `concurrency` attempts in flight and `queue` deliveries waiting (reading the log
//! waits when the queue is full); retries back off up to [`MAX_BACKOFF`].
//!
//! # Layout
//! - [`derive`]: which notices an event calls for, with their Dutch text (pure).
//! - [`channel`]: email (SMTP) and signed webhooks.

pub mod channel;
pub mod derive;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ghor_domain::condition::{Conditions, Started};
use ghor_domain::payload::{NotificationData, Payload};
use ghor_domain::values::{Count, ShortText};
use ghor_domain::vocab::{Channel, ContactRole, DeliveryState};
use ghor_domain::{Event, Picture, RegionCode, Scope, Slug, Source};
use ghor_store::trace;
use ghor_store::{ContactStore, EventLog, NotifyStore, ReadModel, StoreError, Subscription, TokenStore};
use prometheus::IntCounterVec;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;

use self::channel::Mailer;
use self::derive::{Context, Notice};
use crate::reader::{read_ahead, Decoded};
use crate::scheduler::{system_event, NAMESPACE};
use crate::shutdown::Shutdown;
use crate::web::webhooks::secret_key;

/// The longest pause between two attempts of one delivery.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often the checkpoint is moved, when it can be.
const COMMIT_EVERY: Duration = Duration::from_millis(250);
/// Log entries folded at once while restoring.
const BATCH: usize = 1000;
/// Outcome events appended in one write at most.
const RECORD_BATCH: usize = 500;

/// An outcome event, and who waits for it to be in the log.
type Outcome = (Event, oneshot::Sender<()>);

/// Appends outcome events as they come, all that wait in one write: a delivery counts as
/// done only once its outcome is in the log, and the time between the two is when a kill
/// makes a repeat, so it is kept short under load. What the log refuses is tried again.
async fn recorder(log: Arc<dyn EventLog>, mut waiting: mpsc::Receiver<Outcome>) {
    let mut batch: Vec<Outcome> = Vec::new();
    let mut pause = Duration::from_millis(200);
    loop {
        if batch.is_empty() {
            match waiting.recv().await {
                Some(outcome) => batch.push(outcome),
                None => return,
            }
        }
        while batch.len() < RECORD_BATCH {
            match waiting.try_recv() {
                Ok(outcome) => batch.push(outcome),
                Err(_) => break,
            }
        }
        let events: Vec<Event> = batch.iter().map(|(e, _)| e.clone()).collect();
        let mut results = log.append(&events).await.into_iter();
        let mut refused = Vec::new();
        for (event, done) in batch.drain(..) {
            match results.next() {
                Some(Ok(_)) => {
                    let _ = done.send(());
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "cannot record a notification outcome; retrying");
                    refused.push((event, done));
                }
                None => refused.push((event, done)),
            }
        }
        batch = refused;
        if batch.is_empty() {
            pause = Duration::from_millis(200);
        } else {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(10));
        }
    }
}

/// How the notifier sends.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Where the page is: the deep links in every message start here.
    pub public_url: String,
    /// The SMTP relay (`smtp://`, `smtps://`, `?tls=required` for STARTTLS); none: no email.
    /// It may hold the relay's password: it never prints.
    pub smtp_url: Option<SecretString>,
    /// The sender's address.
    pub smtp_from: String,
    /// After this many unanswered reminders the vervanger is told too.
    pub escalate_after: u32,
    /// How long a delivery is retried before it is given up.
    pub give_up: Duration,
    /// The first pause before a retry; it doubles up to [`MAX_BACKOFF`].
    pub first_backoff: Duration,
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// Deliveries waiting at most (reading the log waits beyond).
    pub queue: usize,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            public_url: "http://localhost:8080".into(),
            smtp_url: None,
            smtp_from: "ghor@localhost".into(),
            escalate_after: 2,
            give_up: Duration::from_secs(3600),
            first_backoff: Duration::from_secs(1),
            concurrency: 32,
            queue: 4096,
        }
    }
}

/// The stores and channels a notifier of one scope uses.
pub struct Notifier {
    pub log: Arc<dyn EventLog>,
    pub read_model: Arc<dyn ReadModel>,
    pub contacts: Arc<dyn ContactStore>,
    pub store: Arc<dyn NotifyStore>,
    /// Whether a subscription's token still holds.
    pub tokens: Arc<dyn TokenStore>,
    pub settings: NotifySettings,
    mailer: Option<Mailer>,
    http: reqwest::Client,
    /// Attempts by channel and outcome (`ghor_notifications_total`).
    attempts: IntCounterVec,
}

/// One notice to one receiver.
#[derive(Clone)]
struct Delivery {
    seq: u64,
    id: Uuid,
    notice: Arc<Notice>,
    to: Receiver,
}

#[derive(Clone)]
enum Receiver {
    /// A contact's email (`role` its functional role), or a subscription's (none).
    Email {
        role: Option<ContactRole>,
        address: String,
    },
    Webhook {
        url: String,
        key: Vec<u8>,
    },
}

impl Receiver {
    fn channel(&self) -> Channel {
        match self {
            Receiver::Email { .. } => Channel::Email,
            Receiver::Webhook { .. } => Channel::Webhook,
        }
    }
    fn role(&self) -> Option<ContactRole> {
        match self {
            Receiver::Email { role, .. } => *role,
            Receiver::Webhook { .. } => None,
        }
    }
}

/// The id of a notification to one receiver: the same on every derivation.
fn delivery_id(notice: &Notice, to: &Receiver) -> Uuid {
    let receiver = match to {
        Receiver::Email { role, address } => {
            format!("{}|{}", role.map_or("", ContactRole::as_str), address.to_lowercase())
        }
        Receiver::Webhook { url, .. } => url.clone(),
    };
    let location = notice.location.as_ref().map_or_else(|| notice.region.to_string(), Slug::to_string);
    let key = format!("notification|{}|{location}|{}|{receiver}", notice.cause, to.channel());
    Uuid::new_v5(&NAMESPACE, key.as_bytes())
}

/// The id of what a subscription is told of a condition an event started, on one channel:
/// the same on every derivation.
fn subscription_delivery_id(cause: Uuid, condition: &str, subscription: Uuid, channel: Channel) -> Uuid {
    let key = format!("subscription|{cause}|{condition}|{subscription}|{channel}");
    Uuid::new_v5(&NAMESPACE, key.as_bytes())
}

/// Whether folding `event` may start a condition one can subscribe to.
fn may_start_condition(event: &Event) -> bool {
    matches!(
        event.payload,
        Payload::Status(_) | Payload::Retracted(_) | Payload::ReportOverdue(_) | Payload::LocationRegistered(_)
    )
}

impl Notifier {
    pub fn new(
        log: Arc<dyn EventLog>,
        read_model: Arc<dyn ReadModel>,
        contacts: Arc<dyn ContactStore>,
        store: Arc<dyn NotifyStore>,
        tokens: Arc<dyn TokenStore>,
        settings: NotifySettings,
        attempts: IntCounterVec,
    ) -> anyhow::Result<Notifier> {
        let mailer =
            settings.smtp_url.as_ref().map(|url| Mailer::new(url.expose_secret(), &settings.smtp_from)).transpose()?;
        let http = reqwest::Client::builder().build()?;
        Ok(Notifier { log, read_model, contacts, store, tokens, settings, mailer, http, attempts })
    }

    fn scope(&self) -> Scope {
        self.log.scope()
    }

    /// What deriving a notice needs to know besides the picture and the event.
    fn context(&self, now: chrono::DateTime<Utc>) -> Context {
        Context {
            public_url: self.settings.public_url.trim_end_matches('/').to_owned(),
            escalate_after: self.settings.escalate_after,
            scope: self.scope(),
            now,
        }
    }

    /// Follows the log until shutdown; any store failure ends it (its supervisor starts it
    /// again from the checkpoint).
    pub async fn run(self: Arc<Self>, mut shutdown: Shutdown) -> Result<(), StoreError> {
        let scope = self.scope();
        let epoch = self.log.epoch();
        let (mut checkpoint, mut picture, done) = self.restore().await?;
        tracing::info!(%scope, checkpoint, already_done = done.len(), "notifier follows the log");
        let mut batches = read_ahead(self.log.clone(), checkpoint, Decoded::of, shutdown.clone());
        let queue = Arc::new(Semaphore::new(self.settings.queue.max(1)));
        let in_flight = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let (completed_tx, mut completed) = mpsc::unbounded_channel::<u64>();
        // Per sequence, the deliveries still open; everything read up to `read` otherwise done.
        let mut open: BTreeMap<u64, usize> = BTreeMap::new();
        let mut read = checkpoint;
        let mut tasks = JoinSet::new();
        let (outcomes, waiting_outcomes) = mpsc::channel(self.settings.queue.max(1));
        tasks.spawn(recorder(self.log.clone(), waiting_outcomes));
        let mut commit = tokio::time::interval(COMMIT_EVERY);
        loop {
            tokio::select! {
                batch = batches.recv() => {
                    let Some(batch) = batch else { return Ok(()) };
                    let batch = batch?;
                    // Read once a batch: the regions someone subscribed to, and how.
                    let subscriptions = self.store.subscriptions(scope).await?;
                    for entry in batch {
                        let Ok(event) = entry.event else {
                            read = entry.seq; // quarantined by the projector; nothing to send
                            continue;
                        };
                        let before = watched(&picture, &event, &subscriptions);
                        picture.apply(&event);
                        let mut deliveries = self.deliveries(&picture, &event, entry.seq, &done).await?;
                        if !before.is_empty() {
                            let told = self.subscription_deliveries(&picture, &event, entry.seq, &before, &subscriptions, &done);
                            deliveries.extend(told.await?);
                        }
                        if !deliveries.is_empty() {
                            open.insert(entry.seq, deliveries.len());
                        }
                        for delivery in deliveries {
                            let permit = tokio::select! {
                                permit = queue.clone().acquire_owned() => permit.map_err(|e| StoreError::Internal(e.to_string()))?,
                                _ = shutdown.recv() => return Ok(()),
                            };
                            let (me, in_flight, done_tx, stop) = (self.clone(), in_flight.clone(), completed_tx.clone(), shutdown.clone());
                            let outcomes = outcomes.clone();
                            let span = trace::batch("notify", [entry.trace.as_deref()]);
                            tasks.spawn(async move {
                                if me.deliver(&delivery, &in_flight, &outcomes, stop).await {
                                    let _ = done_tx.send(delivery.seq);
                                }
                                drop(permit);
                            }.instrument(span));
                        }
                        read = entry.seq;
                    }
                }
                Some(seq) = completed.recv() => {
                    if let Some(left) = open.get_mut(&seq) {
                        *left -= 1;
                        if *left == 0 {
                            open.remove(&seq);
                        }
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = commit.tick() => {
                    let safe = open.keys().next().map_or(read, |first| first - 1);
                    if safe > checkpoint {
                        self.store.set_notifier_checkpoint(scope, epoch, Some(checkpoint), safe).await?;
                        checkpoint = safe;
                    }
                }
                _ = shutdown.recv() => return Ok(()),
            }
        }
    }

    /// The picture at the checkpoint (the newest snapshot at or before it, then the log),
    /// and the notifications after it whose final outcome is in the log already. A
    /// notifier without a checkpoint in this log's epoch starts at the log's end: it does
    /// not send what was asked before it ever ran.
    async fn restore(&self) -> Result<(u64, Picture, HashSet<Uuid>), StoreError> {
        let (scope, epoch) = (self.scope(), self.log.epoch());
        let checkpoint = match self.store.notifier_checkpoint(scope).await? {
            Some((e, seq)) if e == epoch => seq,
            found => {
                let end = self.log.last_seq().await?;
                if found.is_some() {
                    tracing::warn!(%scope, "the log has a new epoch; the notifier starts at its end");
                }
                self.store.set_notifier_checkpoint(scope, epoch, None, end).await?;
                end
            }
        };
        let (mut seq, mut picture) = self.read_model.snapshot(scope, epoch, checkpoint).await?.unwrap_or_default();
        let mut done = HashSet::new();
        loop {
            let entries = self.log.read(seq, BATCH).await?;
            let Some(last) = entries.last().map(|e| e.seq) else { break };
            for entry in entries {
                let Ok(event) = Event::from_stored(&entry.body) else { continue };
                if entry.seq <= checkpoint {
                    picture.apply(&event);
                } else if let Payload::Notification { notification, state, .. } = &event.payload {
                    if *state != DeliveryState::Mislukt {
                        done.extend(Uuid::parse_str(notification.as_str()).ok());
                    }
                }
            }
            seq = last;
        }
        Ok((checkpoint, picture, done))
    }

    /// The deliveries `event` calls for: its notices, each to the emails of the contacts of
    /// its roles and to the webhook endpoints of the location's organisation, in this
    /// scope; less those already done.
    async fn deliveries(
        &self,
        picture: &Picture,
        event: &Event,
        seq: u64,
        done: &HashSet<Uuid>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let cx = self.context(Utc::now());
        let notices = derive::notices(picture, event, &cx);
        let mut deliveries = Vec::new();
        let mut hooks: BTreeMap<Slug, Vec<ghor_store::Webhook>> = BTreeMap::new();
        for notice in notices {
            let mut receivers = Vec::new();
            if let (Some(_), Some(location)) = (&self.mailer, &notice.location) {
                for c in self.contacts.contacts(self.scope(), location).await? {
                    if let Some(address) = c.email.filter(|_| notice.roles.contains(&c.role)) {
                        receivers.push(Receiver::Email { role: Some(c.role), address });
                    }
                }
            }
            if let Some(organisation) = notice.organisation.as_ref().filter(|o| !hooks.contains_key(*o)) {
                let found = self.store.webhooks(self.scope(), organisation).await?;
                hooks.insert(organisation.clone(), found);
            }
            for hook in notice.organisation.as_ref().and_then(|o| hooks.get(o)).into_iter().flatten() {
                receivers.extend(webhook_receiver(hook));
            }
            let notice = Arc::new(notice);
            for to in receivers {
                let id = delivery_id(&notice, &to);
                if !done.contains(&id) {
                    deliveries.push(Delivery { seq, id, notice: notice.clone(), to });
                }
            }
        }
        Ok(deliveries)
    }

    /// The deliveries to subscriptions that `event` calls for: each condition it started in
    /// a region of `before` (the conditions there before it was folded), to each
    /// subscription to its kind there whose token still holds, on its own channels; less
    /// those already done.
    async fn subscription_deliveries(
        &self,
        picture: &Picture,
        event: &Event,
        seq: u64,
        before: &[(RegionCode, Conditions)],
        subscriptions: &[Subscription],
        done: &HashSet<Uuid>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut told: Vec<(&Subscription, Started)> = Vec::new();
        for (region, was) in before {
            let now = Conditions::of(picture, *region);
            if now == *was {
                continue;
            }
            for s in subscriptions.iter().filter(|s| s.region == *region) {
                told.extend(now.started_since(was, *region, s.kind, s.value).into_iter().map(|c| (s, c)));
            }
        }
        if told.is_empty() {
            return Ok(Vec::new());
        }
        let mut owners: Vec<Uuid> = told.iter().map(|(s, _)| s.owner).collect();
        owners.sort();
        owners.dedup();
        let now = Utc::now();
        let holding: HashSet<Uuid> = self
            .tokens
            .by_ids(&owners)
            .await?
            .into_iter()
            .flatten()
            .filter(|t| !t.revoked && t.expires > now && t.scope == self.scope())
            .map(|t| t.id)
            .collect();
        let cx = self.context(now);
        let mut deliveries = Vec::new();
        for (s, started) in told.into_iter().filter(|(s, _)| holding.contains(&s.owner)) {
            let notice = Arc::new(derive::subscription_notice(picture, event, &started, s, &cx));
            let mut receivers = Vec::new();
            if let (Some(_), Some(address)) = (&self.mailer, &s.email) {
                receivers.push(Receiver::Email { role: None, address: address.clone() });
            }
            receivers.extend(s.webhook.as_ref().and_then(webhook_receiver));
            for to in receivers {
                let id = subscription_delivery_id(event.id, &started.condition, s.id, to.channel());
                if !done.contains(&id) {
                    deliveries.push(Delivery { seq, id, notice: notice.clone(), to });
                }
            }
        }
        Ok(deliveries)
    }

    /// Tries until delivered or given up, writing each outcome; true once the final one is
    /// in the log (false at shutdown: a restart sends it again).
    async fn deliver(
        &self,
        d: &Delivery,
        in_flight: &Semaphore,
        recorder: &mpsc::Sender<Outcome>,
        mut shutdown: Shutdown,
    ) -> bool {
        let started = tokio::time::Instant::now();
        let mut backoff = self.settings.first_backoff;
        let mut attempt = 1u32;
        loop {
            let result = {
                let Ok(_permit) = in_flight.acquire().await else { return false };
                self.send(d).await
            };
            let remaining = self.settings.give_up.saturating_sub(started.elapsed());
            let (state, reason) = match result {
                Ok(()) => (DeliveryState::Afgeleverd, None),
                Err(reason) if remaining.is_zero() => {
                    (DeliveryState::Opgegeven, Some(format!("{reason}; opgegeven na poging {attempt}")))
                }
                Err(reason) => (DeliveryState::Mislukt, Some(reason)),
            };
            self.attempts.with_label_values(&[d.to.channel().as_str(), state.as_str()]).inc();
            if !self.record(recorder, d, state, attempt, reason, &mut shutdown).await {
                return false;
            }
            if state != DeliveryState::Mislukt {
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff.min(remaining)) => {}
                _ = shutdown.recv() => return false,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
            attempt += 1;
        }
    }

    async fn send(&self, d: &Delivery) -> Result<(), String> {
        match &d.to {
            Receiver::Email { address, .. } => match &self.mailer {
                Some(mailer) => mailer.send(&d.notice, address, d.id).await,
                None => Err("no SMTP relay is configured".into()),
            },
            Receiver::Webhook { url, key } => channel::post(&self.http, url, key, &d.notice, d.id).await,
        }
    }

    /// Has the outcome event appended (see [`recorder`]); false at shutdown.
    async fn record(
        &self,
        recorder: &mpsc::Sender<Outcome>,
        d: &Delivery,
        state: DeliveryState,
        attempt: u32,
        reason: Option<String>,
        shutdown: &mut Shutdown,
    ) -> bool {
        // A reason the log's text refuses (too long, or a number that looks like a BSN)
        // is said without its details.
        let reason = reason.and_then(|r| {
            ShortText::try_from(r.chars().take(200).collect::<String>())
                .or_else(|_| ShortText::try_from("niet afgeleverd".to_owned()))
                .ok()
        });
        let Ok(notification) = Slug::try_from(d.id.to_string()) else { return false };
        let data = NotificationData {
            cause: d.notice.cause,
            kind: d.notice.kind,
            about: d.notice.about.clone(),
            channel: d.to.channel(),
            contact_role: d.to.role(),
            attempt: Count::new(attempt).unwrap_or_default(),
            reason,
        };
        let key = format!("outcome|{}|{}|{attempt}", d.id, state.as_str());
        let payload = Payload::Notification { notification, state, data };
        // Every cause of a notice is a location's event; were one not, there is no record
        // to add to, and a restart sends it again under the same id.
        let Some(at) = d.notice.recorded_at.clone() else { return true };
        let event = system_event(&key, Source::Location(at), Utc::now(), d.notice.region, &*self.log, payload);
        let (done, recorded) = oneshot::channel();
        tokio::select! {
            sent = recorder.send((event, done)) => if sent.is_err() { return false },
            _ = shutdown.recv() => return false,
        }
        tokio::select! {
            recorded = recorded => recorded.is_ok(),
            _ = shutdown.recv() => false,
        }
    }
}

/// The regions whose conditions `event` may change and someone subscribed to, each with its
/// conditions before the event is folded; none for an event that starts no condition.
fn watched(picture: &Picture, event: &Event, subscriptions: &[Subscription]) -> Vec<(RegionCode, Conditions)> {
    if subscriptions.is_empty() || !may_start_condition(event) {
        return Vec::new();
    }
    let mut regions = vec![picture.region_of(event), event.stamp.region];
    if let Payload::LocationRegistered(info) = &event.payload {
        regions.push(info.region);
    }
    regions.sort();
    regions.dedup();
    regions
        .into_iter()
        .filter(|r| subscriptions.iter().any(|s| s.region == *r))
        .map(|r| (r, Conditions::of(picture, r)))
        .collect()
}

/// The receiver of a webhook endpoint; none (logged) when its stored secret cannot be read.
fn webhook_receiver(hook: &ghor_store::Webhook) -> Option<Receiver> {
    let key = secret_key(&hook.secret);
    if key.is_none() {
        tracing::error!(url = %hook.url, "a webhook secret cannot be read; endpoint skipped");
    }
    key.map(|key| Receiver::Webhook { url: hook.url.clone(), key })
}
