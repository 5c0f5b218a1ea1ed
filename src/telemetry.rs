//! Spans exported by OTLP (OpenTelemetry's protocol, over HTTP with JSON) when the
//! environment names a collector the standard way: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), `OTEL_SERVICE_NAME` (default `ghor-<command>`),
//! `OTEL_BSP_SCHEDULE_DELAY` and the other batching settings. A report's trace runs from
//! its HTTP request through the log (`ghor_store::trace`) into the projector, the gateway
//! and the notifier, whichever process runs them.

use std::sync::OnceLock;

use anyhow::Context;
use opentelemetry::trace::TracerProvider;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// The tracer spans are exported with, when a collector is configured.
pub fn tracer() -> anyhow::Result<Option<SdkTracer>> {
    let configured = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    if !configured {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .build()
        .context("OTEL_EXPORTER_OTLP_ENDPOINT: cannot export spans there")?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        let command = std::env::args().nth(1).filter(|a| !a.starts_with('-')).unwrap_or_else(|| "serve".into());
        resource = resource.with_service_name(format!("ghor-{command}"));
    }
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
    let tracer = provider.tracer("ghor");
    let _ = PROVIDER.set(provider);
    ghor_store::trace::enable();
    Ok(Some(tracer))
}

/// Sends the spans still waiting (at exit).
pub fn flush() {
    if let Some(provider) = PROVIDER.get() {
        if let Err(e) = provider.shutdown() {
            eprintln!("spans not all exported: {e}");
        }
    }
}
