//! The two ways a notification leaves ghor: email over SMTP (lettre; STARTTLS or TLS as
//! the `--smtp-url` says, plain for a local relay) and a webhook: a CloudEvent in the HTTP
//! binding's structured mode, signed by the Standard Webhooks scheme. Each sends one
//! message with its deterministic id and says why it failed, in words fit for the log
//! (never the address or the URL).

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

use super::derive::Notice;

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The header that marks an exercise's message, for people's mail filters and machines.
pub const OEFENING_HEADER: &str = "X-Ghor-Oefening";

#[derive(Clone)]
struct Oefening;

impl Header for Oefening {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(OEFENING_HEADER)
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Oefening)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "true".to_owned())
    }
}

/// An SMTP relay and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// From a URL as lettre reads it: `smtp://host:25` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://host:465` (TLS), with `user:password@` when the relay wants it.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?
            .timeout(Some(ATTEMPT_TIMEOUT))
            .build();
        let from = from.parse().map_err(|e| anyhow::anyhow!("--smtp-from {from:?}: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends `notice` to `to` with Message-ID `<id@ghor>`.
    pub async fn send(&self, notice: &Notice, to: &str, id: Uuid) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|_| "the contact's email address is not one".to_owned())?;
        let mut builder = Message::builder()
            .message_id(Some(format!("<{id}@ghor>")))
            .from(self.from.clone())
            .to(to)
            .subject(notice.subject.clone())
            .header(ContentType::TEXT_PLAIN);
        if notice.oefening {
            builder = builder.header(Oefening);
        }
        let message = builder.body(notice.body.clone()).map_err(|e| format!("the message cannot be built: {e}"))?;
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("SMTP: {}", smtp_reason(&e))),
            Err(_) => Err("SMTP: no answer in time".into()),
        }
    }
}

/// What went wrong, without the server's own words (which may echo an address).
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = e.status() {
        format!("refused with {code}")
    } else if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_tls() {
        "TLS failed".into()
    } else {
        "the mail server cannot be reached".into()
    }
}

/// The CloudEvent a webhook receives: structured mode, with the notification's id as its
/// id, so a receiver drops repeats by it as by `webhook-id`; in an exercise the `oefening`
/// extension says so.
pub fn cloud_event(notice: &Notice, id: Uuid) -> Value {
    let source = match &notice.location {
        Some(l) => format!("/locations/{l}"),
        None => format!("/regions/{}", notice.region),
    };
    let subject = match (&notice.about, &notice.location) {
        (Some(about), _) => about.to_string(),
        (None, Some(l)) => l.to_string(),
        (None, None) => notice.region.to_string(),
    };
    let mut event = json!({
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": format!("nl.ghor.notice.{}.v1", notice.kind.as_str()),
        "subject": subject,
        "datacontenttype": "application/json",
        "cause": notice.cause,
        "data": notice.data,
    });
    if notice.oefening {
        event["oefening"] = json!(true);
    }
    event
}

/// `v1,` and the base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}` with the key.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_mac());
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// HMAC takes a key of any length; this is never reached.
fn unreachable_mac() -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(b"ghor").unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// Posts `notice` as a signed CloudEvent; 2xx is delivered.
pub async fn post(http: &reqwest::Client, url: &str, key: &[u8], notice: &Notice, id: Uuid) -> Result<(), String> {
    let body = serde_json::to_vec(&cloud_event(notice, id)).map_err(|e| format!("the event cannot be written: {e}"))?;
    let timestamp = Utc::now().timestamp();
    let id = id.to_string();
    let mut request = http
        .post(url)
        .timeout(ATTEMPT_TIMEOUT)
        .header("content-type", "application/cloudevents+json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature(key, &id, timestamp, &body));
    if notice.oefening {
        request = request.header(OEFENING_HEADER, "true");
    }
    match request.body(body).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("webhook: answered HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Err("webhook: no answer in time".into()),
        Err(e) if e.is_connect() => Err("webhook: the endpoint cannot be reached".into()),
        Err(_) => Err("webhook: the request failed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_example_does() {
        // The example of the Standard Webhooks specification (spec/standard-webhooks.md).
        let key = base64::engine::general_purpose::STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("base64");
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
