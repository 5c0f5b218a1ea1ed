//! `ghor registry import`: locations from a CSV file, registered through the HTTP API as
//! events (organisations first), with progress and a line per refused row. Ids derive
//! from the content, so importing an unchanged file again stores nothing new.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::client::Client;

const NAMESPACE: Uuid = Uuid::from_u128(0x6768_6f72_0000_4000_8000_0000_0000_0002);
const BATCH: usize = 100;

/// One CSV row as a location registration; the organisation with its name.
pub struct Row {
    pub line: usize,
    pub id: String,
    pub region: String,
    pub organisation: (String, String),
    pub data: Value,
}

/// Reads the CSV: `id,name,type,region,lat,lon` are required; `organisation`,
/// `organisation_name`, `municipality` (or `city`), `address`, `roaz`,
/// `report_interval_cold_minutes` and `report_interval_warm_minutes` are optional.
/// Lines starting with `#` are comments.
pub fn read_csv(text: &str) -> anyhow::Result<Vec<Row>> {
    let body: String = text.lines().filter(|l| !l.trim_start().starts_with('#')).map(|l| format!("{l}\n")).collect();
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body.as_bytes());
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.to_lowercase()).collect();
    let column = |names: &[&str]| names.iter().find_map(|n| headers.iter().position(|h| h == n));
    let required = |names: &[&str]| column(names).with_context(|| format!("the CSV has no column {:?}", names[0]));
    let (id, name, kind, region) =
        (required(&["id"])?, required(&["name"])?, required(&["type"])?, required(&["region"])?);
    let (lat, lon) = (required(&["lat", "approx_lat"])?, required(&["lon", "approx_lon"])?);
    let optional = [
        ("municipality", column(&["municipality", "city"])),
        ("address", column(&["address"])),
        ("roaz", column(&["roaz"])),
    ];
    let intervals = [
        ("report_interval_cold_minutes", column(&["report_interval_cold_minutes"])),
        ("report_interval_warm_minutes", column(&["report_interval_warm_minutes"])),
    ];
    let (org, org_name) = (column(&["organisation"]), column(&["organisation_name"]));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.context("a line cannot be read")?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let get = |c: usize| record.get(c).unwrap_or_default().to_owned();
        let number = |c: usize, what: &str| -> anyhow::Result<f64> {
            get(c).parse().with_context(|| format!("line {line}: {what} {:?} is not a number", get(c)))
        };
        let mut data = json!({
            "name": get(name),
            "type": get(kind),
            "region": get(region),
            "point": { "lat": number(lat, "lat")?, "lon": number(lon, "lon")? },
        });
        for (field, c) in optional {
            if let Some(v) = c.map(get).filter(|v| !v.is_empty()) {
                data[field] = json!(v);
            }
        }
        for (field, c) in intervals {
            if let Some(v) = c.map(get).filter(|v| !v.is_empty()) {
                data[field] =
                    json!(v.parse::<u32>().with_context(|| format!("line {line}: {field} is not a whole number"))?);
            }
        }
        let organisation = org.map(get).filter(|o| !o.is_empty()).unwrap_or_else(|| get(id));
        let organisation_name = org_name.map(get).filter(|o| !o.is_empty()).unwrap_or_else(|| get(name));
        data["organisation"] = json!(organisation);
        rows.push(Row {
            line,
            id: get(id),
            region: get(region),
            organisation: (organisation, organisation_name),
            data,
        });
    }
    Ok(rows)
}

fn event(source: String, event_type: &str, subject: Option<&str>, data: Value) -> Value {
    let id = Uuid::new_v5(&NAMESPACE, format!("{source}|{event_type}|{subject:?}|{data}").as_bytes());
    let mut e =
        json!({ "specversion": "1.0", "id": id, "source": source, "type": event_type, "bron": "overig", "data": data });
    if let Some(s) = subject {
        e["subject"] = json!(s);
    }
    e
}

/// The events that register these rows: each organisation once (in the region of its
/// first location), then every location. Each carries the CSV line it came from.
pub fn events(rows: &[Row]) -> Vec<(usize, Value)> {
    let mut organisations: BTreeMap<&str, (usize, &str, &str)> = BTreeMap::new();
    for r in rows {
        organisations.entry(&r.organisation.0).or_insert((r.line, &r.region, &r.organisation.1));
    }
    let orgs = organisations.iter().map(|(id, (line, region, name))| {
        (
            *line,
            event(
                format!("/regions/{region}"),
                "nl.ghor.organisation.registered.v1",
                Some(id),
                json!({ "name": name }),
            ),
        )
    });
    let locations = rows.iter().map(|r| {
        (r.line, event(format!("/locations/{}", r.id), "nl.ghor.location.registered.v1", None, r.data.clone()))
    });
    orgs.chain(locations).collect()
}

/// Imports a CSV file through the API; prints progress and every refused row.
pub async fn import(path: &Path, client: &Client) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows = read_csv(&text).with_context(|| format!("{} is not a location CSV", path.display()))?;
    let events = events(&rows);
    let (stored, duplicate, refused) = post_all(client, &events, true).await?;
    eprintln!("{}: {stored} stored, {duplicate} already known, {refused} refused", path.display());
    if refused > 0 {
        bail!("{refused} rows were refused; fix them and import again (stored rows are not stored twice)");
    }
    Ok(())
}

/// Posts events in batches; returns (stored, duplicate, refused).
pub async fn post_all(
    client: &Client,
    events: &[(usize, Value)],
    progress: bool,
) -> anyhow::Result<(usize, usize, usize)> {
    let (mut stored, mut duplicate, mut refused) = (0, 0, 0);
    for (n, chunk) in events.chunks(BATCH).enumerate() {
        let body: Vec<Value> = chunk.iter().map(|(_, e)| e.clone()).collect();
        let answer = client.post("/v1/events/batch", &Value::Array(body)).await?;
        let results = answer["results"].as_array().cloned().unwrap_or_default();
        for (result, (line, _)) in results.iter().zip(chunk) {
            match result["status"].as_str() {
                Some("stored") => stored += 1,
                Some("duplicate") => duplicate += 1,
                _ => {
                    refused += 1;
                    eprintln!("line {line}: {}", result["problem"]["detail"].as_str().unwrap_or("refused"));
                }
            }
        }
        if progress {
            eprintln!("imported {}/{}", (n * BATCH + chunk.len()).min(events.len()), events.len());
        }
    }
    Ok((stored, duplicate, refused))
}
