//! Prometheus metrics, named `ghor_<name>_<unit>[_total]` with bounded labels only.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// Events through ingest, by outcome (stored, duplicate, rejected).
    pub ingest_events: IntCounterVec,
    /// Time from request to the log's answer, by endpoint kind (single, batch).
    pub ingest_seconds: HistogramVec,
    pub websocket_clients: IntGauge,
    /// How far each reader trails the log, by reader (gateway, projector) and scope.
    pub lag_events: IntGaugeVec,
    /// Supervised tasks started again after a failure, by kind of task.
    pub task_restarts: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let ingest_events =
            IntCounterVec::new(Opts::new("ghor_ingest_events_total", "Events through ingest by outcome"), &["outcome"])
                .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let ingest_seconds = HistogramVec::new(
            HistogramOpts::new("ghor_ingest_duration_seconds", "Ingest request duration until the log answered")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            &["kind"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let websocket_clients = IntGauge::new("ghor_websocket_clients", "Open websocket sessions")
            .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let lag_events =
            IntGaugeVec::new(Opts::new("ghor_lag_events", "Events a reader trails the log by"), &["reader", "scope"])
                .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let task_restarts = IntCounterVec::new(
            Opts::new("ghor_task_restarts_total", "Supervised tasks restarted after a failure"),
            &["task"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        for c in [
            Box::new(ingest_events.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(ingest_seconds.clone()),
            Box::new(websocket_clients.clone()),
            Box::new(lag_events.clone()),
            Box::new(task_restarts.clone()),
        ] {
            registry.register(c).unwrap_or_else(|e| panic!("metric registration: {e}"));
        }
        Metrics { registry, ingest_events, ingest_seconds, websocket_clients, lag_events, task_restarts }
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
