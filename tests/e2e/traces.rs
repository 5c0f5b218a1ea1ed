//! Traces across the log: with an OTLP collector configured (the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT`), a report's HTTP request joins the caller's trace
//! (`traceparent`), the event carries it in its NATS headers, and the projector of one
//! process and the gateway of another link their spans to it. The collector here is an
//! OTLP/HTTP endpoint in the test that keeps what it is sent (JSON, as ghor exports it).

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use serde_json::{json, Value};

use crate::harness::{event, wait_for, Backend, Ghor};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The spans a collector was sent, each with its service's name.
type Kept = Arc<Mutex<Vec<(String, Value)>>>;

/// An OTLP/HTTP endpoint that keeps every export request's spans, with their service.
async fn collector() -> (String, Kept) {
    let spans: Kept = Arc::default();
    let keep = |State(spans): State<Kept>, body: axum::body::Bytes| async move {
        let export: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let mut kept = spans.lock().expect("spans");
        for resource in export["resourceSpans"].as_array().into_iter().flatten() {
            let service = resource["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == "service.name")
                .and_then(|a| a["value"]["stringValue"].as_str())
                .unwrap_or_default()
                .to_owned();
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    kept.push((service.clone(), span.clone()));
                }
            }
        }
        axum::Json(json!({}))
    };
    let app = axum::Router::new().route("/v1/traces", post(keep)).with_state(spans.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the collector");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, spans)
}

/// The value of a span's attribute as text.
fn attribute(span: &Value, key: &str) -> Option<String> {
    let value = &span["attributes"].as_array()?.iter().find(|a| a["key"] == key)?["value"];
    value["stringValue"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reports_trace_runs_through_the_log_into_the_projector_and_another_processs_gateway() {
    let (collector, spans) = collector().await;
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", collector), ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned())];
    let ghor = Ghor::start_with_env(Backend::Production, &env).await;
    let (_gateway, _process) = ghor.spawn_role("gateway").await;

    let report =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 30, "occupied": 12 }));
    let response = ghor
        .http
        .post(format!("{}/v1/events", ghor.url))
        .bearer_auth(ghor.token("umcg"))
        .header("traceparent", format!("00-{TRACE}-00f067aa0ba902b7-01"))
        .json(&report)
        .send()
        .await
        .expect("report");
    assert_eq!(response.status(), 201);

    let linked = |span: &Value| span["links"].as_array().into_iter().flatten().any(|l| l["traceId"] == TRACE);
    let seen = |service: &str, what: &dyn Fn(&Value) -> bool| {
        spans.lock().expect("spans").iter().any(|(s, span)| s == service && what(span))
    };
    wait_for(async || {
        seen("ghor-serve", &|s| s["name"] == "request" && s["traceId"] == TRACE)
            && seen("ghor-serve", &|s| attribute(s, "stage").as_deref() == Some("project") && linked(s))
            && seen("ghor-gateway", &|s| attribute(s, "stage").as_deref() == Some("push") && linked(s))
    })
    .await;
    // The request's span is the caller's child, not a trace of its own.
    assert!(seen("ghor-serve", &|s| s["name"] == "request" && s["parentSpanId"] == "00f067aa0ba902b7"));
}
