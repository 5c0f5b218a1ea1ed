//! Prometheus metrics, named `ghor_<name>_<unit>[_total]` with bounded labels only. Every
//! metric is declared here once; `docs/metrics.md` explains each to operators, and a test
//! holds the two together. What a scrape can read from the parts themselves (how far each
//! reader is, whether the picture follows the log) is read at the scrape ([`Metrics::observe`]);
//! the rest is counted where it happens.

use std::collections::BTreeMap;

use chrono::Utc;
use ghor_domain::vocab::{Channel, DeliveryState};
use ghor_domain::{Event, Scope};
use ghor_store::EventLog;
use prometheus::core::Collector;
use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets from a millisecond to ten seconds.
const SECONDS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How long a scrape waits for the log to answer.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a websocket session ended, as `ghor_websocket_ends_total` counts it.
pub const SESSION_ENDS: &[&str] = &[
    "client_closed",
    "send_failed",
    "silent",
    "bad_hello",
    "unauthorised",
    "forbidden",
    "over_limit",
    "server_full",
    "server_stopping",
    "server_error",
];

/// What a session sends, as `ghor_websocket_messages_total` counts it.
pub const MESSAGE_KINDS: &[&str] = &["snapshot", "delta", "heartbeat", "status", "error"];

/// Why a session was sent a whole snapshot.
pub const SNAPSHOT_REASONS: &[&str] = &["initial", "epoch_changed", "resume_unavailable", "lagged"];

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Events through ingest (HTTP and the intake streams), by outcome (stored, duplicate,
    /// rejected).
    pub ingest_events: IntCounterVec,
    /// Events refused, by the stable code of the first thing wrong with them.
    pub ingest_rejections: IntCounterVec,
    /// Time from request to the log's answer, by endpoint kind (single, batch).
    pub ingest_seconds: HistogramVec,
    /// Time the log takes to append a batch of events, by scope.
    pub append_seconds: HistogramVec,
    /// 1 while the log answers (JetStream: its stream has a leader), 0 while it does not.
    pub log_reachable: IntGaugeVec,
    /// Bytes the log holds, and at most may hold where it has a limit.
    pub log_bytes: IntGaugeVec,
    pub log_limit_bytes: IntGaugeVec,
    /// The sequence each reader has folded up to, by reader and scope.
    pub reader_position: IntGaugeVec,
    /// How many events a reader trails the log by.
    pub lag_events: IntGaugeVec,
    /// How long ago the oldest event a reader has not folded yet was received (0 when it
    /// has folded everything).
    pub lag_seconds: GaugeVec,
    /// 1 while a gateway's picture follows its log, 0 while it does not.
    pub picture_current: IntGaugeVec,
    /// At the national level: how long ago it last heard from each region's log, and how
    /// many of the region's events it has yet to take in.
    pub link_silence_seconds: GaugeVec,
    pub link_lag_events: IntGaugeVec,
    pub websocket_clients: IntGauge,
    /// Messages sent to websocket clients, by kind.
    pub websocket_messages: IntCounterVec,
    /// Whole snapshots sent, by reason (`lagged`: a client fell behind the history).
    pub websocket_snapshots: IntCounterVec,
    /// Websocket sessions ended or refused, by reason.
    pub websocket_ends: IntCounterVec,
    /// From an event's `received` to the websocket send of the delta carrying it.
    pub push_seconds: Histogram,
    /// Notification attempts, by channel and outcome.
    pub notifications: IntCounterVec,
    /// Supervised tasks started again after a failure, by kind of task.
    pub task_restarts: IntCounterVec,
    /// 1, labelled with this build's version.
    pub build_info: IntGaugeVec,
    /// When this process started, in seconds since the epoch.
    pub start_time: Gauge,
}

/// Panics on a metric definition that Prometheus refuses: a programming error, caught by
/// every test that starts a server.
fn defined<T>(metric: prometheus::Result<T>) -> T {
    metric.unwrap_or_else(|e| panic!("metric definition: {e}"))
}

fn counters(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    defined(IntCounterVec::new(Opts::new(name, help), labels))
}

fn gauges(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    defined(IntGaugeVec::new(Opts::new(name, help), labels))
}

fn histograms(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    defined(HistogramVec::new(HistogramOpts::new(name, help).buckets(SECONDS.to_vec()), labels))
}

impl Metrics {
    pub fn new() -> Metrics {
        let metrics = Metrics {
            registry: Registry::new(),
            ingest_events: counters("ghor_ingest_events_total", "Events through ingest by outcome", &["outcome"]),
            ingest_rejections: counters(
                "ghor_ingest_rejections_total",
                "Events refused by ingest, by the stable code of the first thing wrong",
                &["reason"],
            ),
            ingest_seconds: histograms(
                "ghor_ingest_duration_seconds",
                "Ingest request duration until the log answered",
                &["kind"],
            ),
            append_seconds: histograms("ghor_log_append_duration_seconds", "Time the log takes to append", &["scope"]),
            log_reachable: gauges("ghor_log_reachable", "1 while the log answers, 0 while it does not", &["scope"]),
            log_bytes: gauges("ghor_log_bytes", "Bytes the log holds", &["scope"]),
            log_limit_bytes: gauges("ghor_log_limit_bytes", "Bytes the log may hold at most", &["scope"]),
            reader_position: gauges(
                "ghor_reader_position",
                "Sequence a reader has folded up to (its rate is the fold rate)",
                &["reader", "scope"],
            ),
            lag_events: gauges("ghor_lag_events", "Events a reader trails the log by", &["reader", "scope"]),
            lag_seconds: defined(GaugeVec::new(
                Opts::new("ghor_lag_seconds", "Age of the oldest event a reader has not folded yet"),
                &["reader", "scope"],
            )),
            link_silence_seconds: defined(GaugeVec::new(
                Opts::new("ghor_national_link_silence_seconds", "Since the national level last heard from the region"),
                &["scope", "region"],
            )),
            link_lag_events: gauges(
                "ghor_national_link_lag_events",
                "Events of the region the national level has yet to take in",
                &["scope", "region"],
            ),
            picture_current: gauges(
                "ghor_picture_current",
                "1 while the gateway's picture follows the log, 0 while it does not",
                &["scope"],
            ),
            websocket_clients: defined(IntGauge::new("ghor_websocket_clients", "Open websocket sessions")),
            websocket_messages: counters(
                "ghor_websocket_messages_total",
                "Messages sent to websocket clients by kind",
                &["kind"],
            ),
            websocket_snapshots: counters(
                "ghor_websocket_snapshots_total",
                "Whole snapshots sent to websocket clients by reason",
                &["reason"],
            ),
            websocket_ends: counters(
                "ghor_websocket_ends_total",
                "Websocket sessions ended or refused by reason",
                &["reason"],
            ),
            push_seconds: defined(Histogram::with_opts(
                HistogramOpts::new("ghor_push_delay_seconds", "From an event's received to the websocket send")
                    .buckets(SECONDS.to_vec()),
            )),
            notifications: counters(
                "ghor_notifications_total",
                "Notification attempts by channel and outcome",
                &["channel", "outcome"],
            ),
            task_restarts: counters(
                "ghor_task_restarts_total",
                "Supervised tasks restarted after a failure",
                &["task"],
            ),
            build_info: gauges("ghor_build_info", "This build of ghor", &["version"]),
            start_time: defined(Gauge::new(
                "ghor_process_start_time_seconds",
                "When this process started, in seconds since the epoch",
            )),
        };
        let Metrics {
            registry,
            ingest_events,
            ingest_rejections,
            ingest_seconds,
            append_seconds,
            log_reachable,
            log_bytes,
            log_limit_bytes,
            reader_position,
            lag_events,
            lag_seconds,
            link_silence_seconds,
            link_lag_events,
            picture_current,
            websocket_clients,
            websocket_messages,
            websocket_snapshots,
            websocket_ends,
            push_seconds,
            notifications,
            task_restarts,
            build_info,
            start_time,
        } = &metrics;
        let all: [Box<dyn Collector>; 22] = [
            Box::new(ingest_events.clone()),
            Box::new(ingest_rejections.clone()),
            Box::new(ingest_seconds.clone()),
            Box::new(append_seconds.clone()),
            Box::new(log_reachable.clone()),
            Box::new(log_bytes.clone()),
            Box::new(log_limit_bytes.clone()),
            Box::new(reader_position.clone()),
            Box::new(lag_events.clone()),
            Box::new(lag_seconds.clone()),
            Box::new(link_silence_seconds.clone()),
            Box::new(link_lag_events.clone()),
            Box::new(picture_current.clone()),
            Box::new(websocket_clients.clone()),
            Box::new(websocket_messages.clone()),
            Box::new(websocket_snapshots.clone()),
            Box::new(websocket_ends.clone()),
            Box::new(push_seconds.clone()),
            Box::new(notifications.clone()),
            Box::new(task_restarts.clone()),
            Box::new(build_info.clone()),
            Box::new(start_time.clone()),
        ];
        for c in all {
            registry.register(c).unwrap_or_else(|e| panic!("metric registration: {e}"));
        }
        // Every series of a bounded label set is there from the start, at 0: a rate or an
        // alert over it then has something to read before the first occurrence.
        for outcome in ["stored", "duplicate", "rejected"] {
            ingest_events.with_label_values(&[outcome]);
        }
        for kind in MESSAGE_KINDS {
            websocket_messages.with_label_values(&[kind]);
        }
        for reason in SNAPSHOT_REASONS {
            websocket_snapshots.with_label_values(&[reason]);
        }
        for reason in SESSION_ENDS {
            websocket_ends.with_label_values(&[reason]);
        }
        for channel in Channel::ALL {
            for outcome in DeliveryState::ALL {
                notifications.with_label_values(&[channel.as_str(), outcome.as_str()]);
            }
        }
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        start_time.set(Utc::now().timestamp() as f64);
        metrics
    }

    /// Asks the log now whether it answers and how full it is. The limit is there only
    /// where the log has one.
    pub async fn observe_log(&self, log: &dyn EventLog) {
        let scope = [log.scope().as_str()];
        // One question answers both: a log that says how full it is answers.
        let usage = tokio::time::timeout(PROBE_TIMEOUT, log.usage()).await;
        self.log_reachable.with_label_values(&scope).set(i64::from(matches!(usage, Ok(Ok(_)))));
        if let Ok(Ok(usage)) = usage {
            self.log_bytes.with_label_values(&scope).set(usage.bytes as i64);
            match usage.limit {
                Some(limit) => self.log_limit_bytes.with_label_values(&scope).set(limit as i64),
                None => drop(self.log_limit_bytes.remove_label_values(&scope)),
            }
        }
    }

    /// At the national level: asks the log now how current each region's link is (a region
    /// never heard from counts from this process's start).
    pub async fn observe_links(&self, log: &dyn EventLog) {
        let Ok(Ok(links)) = tokio::time::timeout(PROBE_TIMEOUT, log.links()).await else { return };
        let never = (Utc::now().timestamp() as f64 - self.start_time.get()).max(0.0);
        for link in links {
            let region = link.region.to_string();
            let labels = [log.scope().as_str(), region.as_str()];
            let silence = link.last_contact.map_or(never, |ago| ago.as_secs_f64());
            self.link_silence_seconds.with_label_values(&labels).set(silence);
            self.link_lag_events.with_label_values(&labels).set(link.lag as i64);
        }
    }

    /// Sets what a reader's position says: where it is, how many events it trails `log`'s
    /// end by, and how long ago the oldest of those was received.
    pub async fn observe_reader(&self, reader: &str, log: &dyn EventLog, position: u64, end: u64) {
        let labels = [reader, log.scope().as_str()];
        self.reader_position.with_label_values(&labels).set(position as i64);
        self.lag_events.with_label_values(&labels).set(end.saturating_sub(position) as i64);
        let waiting = match end > position {
            true => log.read(position, 1).await.ok().and_then(|entries| entries.into_iter().next()),
            false => None,
        };
        let received = waiting.and_then(|entry| Event::from_stored(&entry.body).ok()).map(|e| e.stamp.received);
        let age = received.map_or(0.0, |r| (Utc::now() - r).num_milliseconds().max(0) as f64 / 1000.0);
        self.lag_seconds.with_label_values(&labels).set(age);
    }

    /// Whether each gateway's picture follows its log now.
    pub fn observe_currency(&self, current: &BTreeMap<Scope, bool>) {
        for (scope, current) in current {
            self.picture_current.with_label_values(&[scope.as_str()]).set(i64::from(*current));
        }
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics cannot be encoded");
        }
        String::from_utf8(out).unwrap_or_else(|e| {
            tracing::error!(error = %e, "metrics are not UTF-8");
            String::new()
        })
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
