//! `ghor uitvraag`: the informatiemanager's warm phase from a terminal, against a running
//! ghor with an informatiemanager's token: ask an area, follow who answered and whom to
//! call next, record a call, close it. Everything it writes is an event through
//! `/v1/events`, exactly as the page writes it.

use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use ghor_domain::vocab::{AnswerState, CallOutcome, Lang};
use serde_json::{json, Value};

use crate::client::Remote;

#[derive(Subcommand)]
pub enum Command {
    /// Ask the locations of an area for some dimensions by a deadline.
    Open(Open),
    /// Who answered and whom to call next; --watch follows it until it is closed.
    Status {
        id: String,
        /// Show it again every 10 seconds (Ctrl-C stops).
        #[arg(long)]
        watch: bool,
        #[command(flatten)]
        server: Remote,
    },
    /// Record what came of a call to a location that has not answered.
    Call {
        id: String,
        location: String,
        /// geen_gehoor, ingesproken, meldt_zelf or doorgegeven.
        #[arg(value_parser = parse_outcome)]
        outcome: CallOutcome,
        #[arg(long)]
        note: Option<String>,
        /// The region recording it (one of the token's).
        #[arg(long)]
        region: String,
        #[command(flatten)]
        server: Remote,
    },
    /// Close it: who had answered by now is the result.
    Close {
        id: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        region: String,
        #[command(flatten)]
        server: Remote,
    },
}

#[derive(Args)]
pub struct Open {
    /// The region that asks (one of the token's).
    #[arg(long)]
    region: String,
    /// Its identifier (lowercase letters, digits and hyphens); made from the title when absent.
    #[arg(long)]
    id: Option<String>,
    #[arg(long)]
    title: String,
    #[arg(long)]
    question: Option<String>,
    /// A dimension to report, with keys if only some: `beds:ic,klinisch`, `utility`.
    #[arg(long = "ask", required = true)]
    asked: Vec<String>,
    /// A circle: `lat,lon,radius_km`.
    #[arg(long)]
    circle: Option<String>,
    /// Municipalities (when no circle is drawn).
    #[arg(long = "municipality")]
    municipalities: Vec<String>,
    /// Further regions (when neither a circle nor municipalities are given).
    #[arg(long = "in-region")]
    regions: Vec<String>,
    /// Only locations of these categories (acuut, care, overig).
    #[arg(long = "category")]
    categories: Vec<String>,
    /// Only locations of these types (ziekenhuis, verpleeg_verzorgingshuis, …).
    #[arg(long = "type")]
    types: Vec<String>,
    /// Minutes from now, or a moment such as 2026-11-22T15:00:00Z.
    #[arg(long, default_value = "60")]
    deadline: String,
    /// Minutes between reminders to those who have not answered.
    #[arg(long)]
    renotify: Option<u32>,
    #[arg(long)]
    incident: Option<String>,
    #[command(flatten)]
    server: Remote,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Open(open) => {
            let client = open.server.client();
            let id = open.id.clone().unwrap_or_else(|| slug_of(&open.title, Utc::now()));
            let event = event(&format!("/regions/{}", open.region), "uitvraag.opened", &id, open.data()?);
            client.post("/v1/events", &event).await?;
            eprintln!("asked: {id}; `ghor uitvraag status {id} --watch` follows the answers");
            println!("{id}");
            Ok(())
        }
        Command::Status { server, id, watch } => {
            let client = server.client();
            loop {
                let body = client.get(&format!("/v1/uitvragen/{id}")).await?;
                print!("{}", status_text(&body, Utc::now()));
                if !watch || body["uitvraag"]["closed"].is_string() {
                    return Ok(());
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(10)) => println!(),
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                }
            }
        }
        Command::Call { server, id, location, outcome, note, region } => {
            let data = json!({ "location": location, "outcome": outcome, "note": note });
            server
                .client()
                .post("/v1/events", &event(&format!("/regions/{region}"), "uitvraag_call.recorded", &id, data))
                .await?;
            eprintln!("recorded: {location} {}", outcome.label(Lang::Nl));
            Ok(())
        }
        Command::Close { server, id, reason, region } => {
            let data = json!({ "reason": reason });
            server
                .client()
                .post("/v1/events", &event(&format!("/regions/{region}"), "uitvraag.closed", &id, data))
                .await?;
            eprintln!("closed: {id}");
            Ok(())
        }
    }
}

impl Open {
    /// The `data` of the opening; what ghor refuses it words itself, naming the field.
    fn data(&self) -> anyhow::Result<Value> {
        let asked: Vec<Value> = self
            .asked
            .iter()
            .map(|a| match a.split_once(':') {
                Some((dimension, keys)) => {
                    json!({ "dimension": dimension, "keys": keys.split(',').collect::<Vec<_>>() })
                }
                None => json!({ "dimension": a }),
            })
            .collect();
        let mut area = json!({ "regions": self.regions });
        if let Some(circle) = &self.circle {
            let parts: Vec<f64> =
                circle.split(',').map(|p| p.trim().parse::<f64>()).collect::<Result<_, _>>().ok().unwrap_or_default();
            let [lat, lon, radius_km] = parts[..] else {
                bail!("--circle: give lat,lon,radius_km, such as 53.2,6.56,15");
            };
            area["circle"] = json!({ "center": { "lat": lat, "lon": lon }, "radius_km": radius_km });
        }
        for (field, values) in
            [("municipalities", &self.municipalities), ("categories", &self.categories), ("types", &self.types)]
        {
            if !values.is_empty() {
                area[field] = json!(values);
            }
        }
        let deadline = match self.deadline.parse::<i64>() {
            Ok(minutes) => Utc::now() + chrono::Duration::minutes(minutes),
            Err(_) => DateTime::parse_from_rfc3339(&self.deadline)
                .with_context(|| {
                    format!(
                        "--deadline: {:?} is neither minutes nor a moment such as 2026-11-22T15:00:00Z",
                        self.deadline
                    )
                })?
                .with_timezone(&Utc),
        };
        let mut data = json!({ "title": self.title, "area": area, "asked": asked, "deadline": deadline });
        for (field, value) in [
            ("question", json!(self.question)),
            ("renotify_minutes", json!(self.renotify)),
            ("incident", json!(self.incident)),
        ] {
            if !value.is_null() {
                data[field] = value;
            }
        }
        Ok(data)
    }
}

/// A CloudEvent of the warm phase (`type_stem` such as `uitvraag.opened`), observed now.
fn event(source: &str, type_stem: &str, subject: &str, data: Value) -> Value {
    json!({
        "specversion": "1.0",
        "id": uuid::Uuid::now_v7().to_string(),
        "source": source,
        "type": format!("nl.ghor.{type_stem}.v1"),
        "subject": subject,
        "time": Utc::now().to_rfc3339(),
        "bron": "api",
        "data": data,
    })
}

/// An identifier from a title: its words in lowercase, and the minute it was asked.
fn slug_of(title: &str, now: DateTime<Utc>) -> String {
    let words: String = title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let stem: String = words.chars().take(48).collect();
    format!("{}-{}", stem.trim_end_matches('-'), now.format("%d%H%M"))
}

fn parse_outcome(s: &str) -> Result<CallOutcome, String> {
    CallOutcome::parse(s).ok_or_else(|| format!("one of: {}", CallOutcome::expected()))
}

/// What `status` prints: the question, the counts and the call list with contacts.
fn status_text(body: &Value, now: DateTime<Utc>) -> String {
    let u = &body["uitvraag"];
    let clock = |v: &Value| {
        v.as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
            .unwrap_or_else(|| "–".into())
    };
    let mut out = format!(
        "{} ({}), asked by {} at {}\n",
        u["title"].as_str().unwrap_or("?"),
        body["id"].as_str().unwrap_or("?"),
        u["asked_by"].as_str().unwrap_or("?"),
        clock(&u["opened"])
    );
    let deadline =
        u["deadline"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc));
    match (u["closed"].is_string(), deadline) {
        (true, _) => out += &format!("closed at {}: the result is final\n", clock(&u["closed"])),
        (false, Some(d)) if d < now => {
            out += &format!("deadline {} passed {} minutes ago\n", clock(&u["deadline"]), (now - d).num_minutes())
        }
        (false, Some(d)) => {
            out += &format!("deadline {} (in {} minutes)\n", clock(&u["deadline"]), (d - now).num_minutes())
        }
        (false, None) => {}
    }
    let counts: Vec<String> = AnswerState::ALL
        .iter()
        .map(|s| format!("{} {}", u["counts"][s.as_str()].as_u64().unwrap_or(0), s.label(Lang::Nl).to_lowercase()))
        .collect();
    out += &format!("{}\n", counts.join(" · "));
    let list = body["call_list"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        out += "call list: nobody left to call\n";
        return out;
    }
    out += "call list, in this order:\n";
    for (n, c) in list.iter().enumerate() {
        let state = c["state"].as_str().and_then(AnswerState::parse).map_or("?", |s| s.label(Lang::Nl));
        let calls = c["calls"].as_array().map_or(0, Vec::len);
        let last = c["calls"]
            .as_array()
            .and_then(|a| a.last())
            .and_then(|l| l["outcome"].as_str())
            .and_then(CallOutcome::parse);
        out += &format!(
            "{:>3}. {} ({}, {}) — {state}",
            n + 1,
            c["name"].as_str().unwrap_or("?"),
            c["id"].as_str().unwrap_or("?"),
            c["region"].as_str().unwrap_or("?")
        );
        if let Some(last) = last {
            out += &format!(", called {calls}×, last: {}", last.label(Lang::Nl));
        }
        out += "\n";
        match c["contacts"].as_array() {
            Some(contacts) if !contacts.is_empty() => {
                for contact in contacts {
                    out += &format!(
                        "       {}: {} {}",
                        contact["role"].as_str().unwrap_or("?"),
                        contact["name"].as_str().unwrap_or("?"),
                        contact["phone_24_7"].as_str().unwrap_or("?")
                    );
                    if let Some(fallback) = contact["fallback"].as_str() {
                        out += &format!(" (else {fallback})");
                    }
                    out += "\n";
                }
            }
            Some(_) => out += "       no contacts known: ask the netwerkfunctionaris to add them\n",
            None => {}
        }
    }
    out
}
