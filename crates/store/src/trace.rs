//! Trace context across the log (W3C Trace Context): an append to JetStream carries the
//! current span's `traceparent` in the message's headers, and whoever reads the event
//! later (projector, gateway, notifier; other processes) links its own span to it, so a
//! report can be followed in the tracing backend from its HTTP request to the websocket
//! push and the email. Only while an exporter is configured ([`enable`]): otherwise no span
//! has a context, nothing is carried and the readers make no spans.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The message header the context travels in (W3C Trace Context's name).
pub const HEADER: &str = "traceparent";
/// Links one batch's span keeps at most: a reader catching up folds thousands of events.
const MAX_LINKS: usize = 32;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Says that spans are exported (the binary installed an exporter).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether spans are exported, so worth making.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The current span's context as a `traceparent`; none when it has none.
pub fn current() -> Option<String> {
    if !enabled() {
        return None;
    }
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid().then(|| format!("00-{}-{}-{:02x}", sc.trace_id(), sc.span_id(), sc.trace_flags().to_u8()))
}

/// The span context a `traceparent` names (version 00), if it is well-formed.
pub fn parse(traceparent: &str) -> Option<SpanContext> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || parts.next().is_some() || trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
        return None;
    }
    let trace = TraceId::from_hex(trace).ok()?;
    let span = SpanId::from_hex(span).ok()?;
    let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()?);
    let context = SpanContext::new(trace, span, flags, true, TraceState::default());
    context.is_valid().then_some(context)
}

/// Makes `span` a child of the trace a `traceparent` names (a caller's, or an event's).
pub fn follow(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(remote) = traceparent.and_then(parse) {
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
    }
}

/// A span for one batch of events a reader (`stage`) handles, linked to the traces of the
/// events that carried one; `Span::none()` while nothing is exported.
pub fn batch<'a>(stage: &'static str, traces: impl IntoIterator<Item = Option<&'a str>>) -> tracing::Span {
    if !enabled() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!("log.batch", stage);
    for remote in traces.into_iter().flatten().filter_map(parse).take(MAX_LINKS) {
        span.add_link(remote);
    }
    span
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_traceparent_is_read_or_refused_whole() {
        let context = parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").expect("valid");
        assert_eq!(context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(context.is_remote() && context.is_sampled());
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
