//! `ghor replay`: a region's picture at a past moment, from a terminal, against a running
//! ghor: as known then (what the log had received) or as observed then (`--observed`,
//! also what was reported later), as far as the token may see it. Text for a person, or
//! the API's answer as it is with `--json`.

use anyhow::Context;
use chrono::{DateTime, Local, Utc};
use clap::Args;
use ghor_domain::rules::worst;
use ghor_domain::vocab::{BedType, Lang, State};
use serde_json::Value;

use crate::client::Remote;

#[derive(Args)]
pub struct Replay {
    /// The moment, RFC 3339 with an offset, e.g. 2026-11-22T14:00:00+01:00.
    #[arg(long, value_parser = parse_moment)]
    at: DateTime<Utc>,
    /// As observed then, including reports that arrived later (default: as known then).
    #[arg(long)]
    observed: bool,
    #[arg(long)]
    region: String,
    /// Print the API's answer (JSON) instead of text.
    #[arg(long)]
    json: bool,
    /// A token that may read the region.
    #[command(flatten)]
    server: Remote,
}

fn parse_moment(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}: give a moment with an offset, e.g. 2026-11-22T14:00:00+01:00 or …T13:00:00Z"))
}

pub async fn run(replay: Replay) -> anyhow::Result<()> {
    let clock = if replay.observed { "observed" } else { "known" };
    let at = replay.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let path = format!("/v1/picture/regions/{}?at={}&clock={clock}", replay.region, at.replace('+', "%2B"));
    let body = replay.server.client().get(&path).await?;
    if replay.json {
        println!("{}", serde_json::to_string_pretty(&body).context("write the answer")?);
    } else {
        print!("{}", region_text(&body));
    }
    Ok(())
}

/// A region's past picture in a few lines: what it was, the headline figures, the alerts
/// and every location's state.
fn region_text(body: &Value) -> String {
    let view = &body["view"];
    let local = |v: &Value| {
        v.as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "–".into())
    };
    let clock = match body["clock"].as_str() {
        Some("observed") => "as observed (with what was reported later)",
        _ => "as known then",
    };
    let mut out = format!(
        "{} {} at {} ({clock}), log position {}\n",
        view["region"].as_str().unwrap_or("?"),
        view["name"].as_str().unwrap_or(""),
        local(&body["at"]),
        body["seq"]
    );
    if let Some(seq) = body["held_back"].as_u64() {
        out += &format!("stopped at log position {seq}: an event this ghor cannot read yet; upgrade ghor\n");
    }
    let totals = &view["totals"];
    out += &format!(
        "locations {}: {} reporting, {} not\n",
        totals["locations"], totals["reporting"], totals["not_reporting"]
    );
    for (id, incident) in view["incidents"].as_object().into_iter().flatten() {
        out += &format!("incident {} ({id}): GRIP {}\n", incident["name"].as_str().unwrap_or("?"), incident["grip"]);
    }
    let beds: Vec<String> = totals["beds"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(t, c)| {
            let label = BedType::parse(t).map_or(t.as_str(), |t| t.label(Lang::Nl));
            match c["withheld"].as_bool() {
                Some(true) => format!("{label} withheld"),
                _ => format!("{label} {}/{}", c["free"], c["operational"]),
            }
        })
        .collect();
    if !beds.is_empty() {
        out += &format!("beds free/operational: {}\n", beds.join(" · "));
    }
    let alerts = view["alerts"].as_object().map_or(0, |a| a.len());
    out += &format!("alerts: {alerts}\n");
    for (id, alert) in view["alerts"].as_object().into_iter().flatten() {
        out += &format!("  {:<9} {id} since {}\n", state_label(&alert["state"]), local(&alert["since"]));
    }
    for (id, l) in view["locations"].as_object().into_iter().flatten() {
        let worst = worst(
            l["dimensions"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, d)| d["state"].as_str().and_then(State::parse)),
        );
        out += &format!(
            "  {:<9} {} ({id}), last report {}\n",
            worst.map_or("–", |s| s.label(Lang::Nl)),
            l["name"].as_str().unwrap_or("?"),
            local(&l["last_report"])
        );
    }
    out
}

fn state_label(state: &Value) -> &'static str {
    state.as_str().and_then(State::parse).map_or("?", |s| s.label(Lang::Nl))
}
