//! The registry of locations as CSV: rows read from the file, and the registration events
//! that register them (organisations first). Ids derive from the content, so the same file
//! gives the same events, and importing it again stores nothing new. `ghor registry
//! import` and the demo post them; no I/O here.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use uuid::Uuid;

const NAMESPACE: Uuid = Uuid::from_u128(0x6768_6f72_0000_4000_8000_0000_0000_0002);

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
pub fn read_csv(text: &str) -> Result<Vec<Row>, String> {
    let body: String = text.lines().filter(|l| !l.trim_start().starts_with('#')).map(|l| format!("{l}\n")).collect();
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body.as_bytes());
    let headers = reader.headers().map_err(|e| format!("the header line cannot be read: {e}"))?;
    let headers: Vec<String> = headers.iter().map(|h| h.to_lowercase()).collect();
    let column = |names: &[&str]| names.iter().find_map(|n| headers.iter().position(|h| h == n));
    let required = |names: &[&str]| column(names).ok_or_else(|| format!("the CSV has no column {:?}", names[0]));
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
        let record = record.map_err(|e| format!("a line cannot be read: {e}"))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let get = |c: usize| record.get(c).unwrap_or_default().to_owned();
        let number = |c: usize, what: &str| -> Result<f64, String> {
            get(c).parse().map_err(|_| format!("line {line}: {what} {:?} is not a number", get(c)))
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
                    json!(v.parse::<u32>().map_err(|_| format!("line {line}: {field} is not a whole number"))?);
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
