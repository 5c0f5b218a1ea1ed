//! `ghor sim` and the demo's simulator: reports plausible changes for the registered
//! locations through the HTTP API, as each institution would. First a full picture,
//! then a random walk with now and then a power cut, an SEH stop or a help request.
//! In scenario mode it leaves alone every value a person reported, so a scenario can be
//! played through by hand while the rest of the chain stays alive.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::client::Client;

/// A location as the simulator plays it.
struct Played {
    id: String,
    organisation: String,
    kind: String,
    /// Bed type → (operational, occupied).
    beds: BTreeMap<&'static str, (u32, u32)>,
    power_out: Option<u32>,
    seh_stopped: bool,
    help_open: Option<String>,
}

impl Played {
    fn hospital(&self) -> bool {
        self.kind == "ziekenhuis"
    }
}

pub struct Simulator {
    /// The client to report with, per organisation (institution tokens), or one for all.
    clients: BTreeMap<String, Client>,
    fallback: Client,
    locations: Vec<Played>,
    rng: StdRng,
    /// Scenario mode: what someone else reported stays as they reported it.
    scenario: bool,
    /// The names this simulator reports under (its tokens' actors), to tell its own values
    /// from a person's, also those of an earlier run.
    own: HashSet<String>,
}

fn bed_plan(kind: &str, rng: &mut StdRng) -> BTreeMap<&'static str, (u32, u32)> {
    let mut beds = BTreeMap::new();
    let mut add = |t: &'static str, lo: u32, hi: u32, rng: &mut StdRng| {
        let op = rng.gen_range(lo..=hi);
        beds.insert(t, (op, op * rng.gen_range(70..95) / 100));
    };
    match kind {
        "ziekenhuis" => {
            add("ic", 6, 40, rng);
            add("klinisch", 150, 700, rng);
            add("kinderafdeling", 10, 40, rng);
        }
        "verpleeg_verzorgingshuis" => {
            add("vvt_somatisch", 30, 90, rng);
            add("vvt_pg", 20, 60, rng);
        }
        "ggz" => add("ggz_crisis", 8, 24, rng),
        "gehandicaptenzorg" => add("cohort", 4, 10, rng),
        _ => {}
    }
    beds
}

impl Simulator {
    /// Plays every location the fallback client may see.
    pub async fn new(
        fallback: Client,
        clients: BTreeMap<String, Client>,
        seed: u64,
        scenario: bool,
    ) -> anyhow::Result<Simulator> {
        let registry = fallback.get("/v1/registry/locations").await?;
        let mut rng = StdRng::seed_from_u64(seed);
        let locations = registry["locations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|l| {
                let kind = l["type"].as_str().unwrap_or_default().to_owned();
                Played {
                    id: l["id"].as_str().unwrap_or_default().to_owned(),
                    organisation: l["organisation"].as_str().unwrap_or_default().to_owned(),
                    beds: bed_plan(&kind, &mut rng),
                    kind,
                    power_out: None,
                    seh_stopped: false,
                    help_open: None,
                }
            })
            .collect();
        let mut own = HashSet::new();
        for client in clients.values().chain([&fallback]) {
            own.extend(client.get("/v1/me").await?["actor"].as_str().map(str::to_owned));
        }
        Ok(Simulator { clients, fallback, locations, rng, scenario, own })
    }

    pub fn locations(&self) -> usize {
        self.locations.len()
    }

    /// Reports the full status of every location once.
    pub async fn report_all(&mut self) -> anyhow::Result<usize> {
        let mut sent = 0;
        for i in 0..self.locations.len() {
            let events = self.full_status(i);
            sent += events.len();
            self.send(i, events).await?;
        }
        Ok(sent)
    }

    /// Reports `per_second` changes per second until `stop` resolves.
    pub async fn run(&mut self, per_second: f64, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second.max(0.01)));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = &mut stop => return,
            }
            if self.locations.is_empty() {
                continue;
            }
            let i = self.rng.gen_range(0..self.locations.len());
            let events = self.change(i);
            if let Err(e) = self.send(i, events).await {
                tracing::warn!(error = %e, "simulator could not report");
            }
        }
    }

    async fn send(&self, i: usize, mut events: Vec<Value>) -> anyhow::Result<()> {
        let loc = &self.locations[i];
        let client = self.clients.get(&loc.organisation).unwrap_or(&self.fallback);
        if self.scenario {
            let current = client.get(&format!("/v1/picture/locations/{}", loc.id)).await?;
            events.retain(|e| !self.reported_by_someone_else(&current["location"], e));
            if events.is_empty() {
                return Ok(());
            }
        }
        let answer = client.post("/v1/events/batch", &Value::Array(events)).await?;
        for r in answer["results"].as_array().into_iter().flatten() {
            if r["status"] == "rejected" {
                tracing::warn!(location = %loc.id, problem = %r["problem"], "simulated report refused");
            }
        }
        Ok(())
    }

    /// Whether the value `event` would replace was reported by someone other than this
    /// simulator: the dimension is the event's family, the key its subject (a dimension
    /// without keys holds one value).
    fn reported_by_someone_else(&self, location: &Value, event: &Value) -> bool {
        let family = event["type"].as_str().and_then(|t| t.strip_prefix("nl.ghor.")?.split('.').next());
        let values = &location["dimensions"][family.unwrap_or_default()]["values"];
        let replaced: Vec<&Value> = match event["subject"].as_str() {
            Some(key) => values.get(key).into_iter().collect(),
            None => values.as_object().into_iter().flat_map(|v| v.values()).collect(),
        };
        replaced.iter().any(|v| v["actor"].as_str().is_some_and(|actor| !self.own.contains(actor)))
    }

    fn event(&self, i: usize, event_type: &str, subject: Option<&str>, data: Value) -> Value {
        let mut e = json!({
            "specversion": "1.0",
            "id": Uuid::now_v7(),
            "source": format!("/locations/{}", self.locations[i].id),
            "type": format!("nl.ghor.{event_type}.v1"),
            "time": Utc::now(),
            "bron": "api",
            "data": data,
        });
        if let Some(s) = subject {
            e["subject"] = json!(s);
        }
        e
    }

    fn beds(&self, i: usize) -> Vec<Value> {
        self.locations[i]
            .beds
            .iter()
            .map(|(t, (op, occ))| {
                self.event(i, "beds.reported", Some(t), json!({ "operational": op, "occupied": occ }))
            })
            .collect()
    }

    fn power(&self, i: usize) -> Value {
        let data = match self.locations[i].power_out {
            Some(hours) => {
                json!({ "status": "uitgevallen", "on_backup": true, "backup_hours_left": hours })
            }
            None => json!({ "status": "normaal" }),
        };
        self.event(i, "utility.reported", Some("stroom"), data)
    }

    fn full_status(&mut self, i: usize) -> Vec<Value> {
        let mut events = self.beds(i);
        events.push(self.event(i, "judgement.reported", None, json!({ "care_next_24h": "ja" })));
        events.push(self.power(i));
        let days: u32 = self.rng.gen_range(5..30);
        let (supply, staff) = if self.locations[i].hospital() {
            ("ffp2", "verpleegkundige")
        } else {
            ("incontinentiemateriaal", "verzorgende")
        };
        events.push(self.event(
            i,
            "supplies.reported",
            Some(supply),
            json!({ "on_hand": days * 100, "daily_use": 100 }),
        ));
        let unfilled: u32 = self.rng.gen_range(0..3);
        events.push(self.event(i, "staffing.reported", Some(staff), json!({ "unfilled_shifts_24h": unfilled })));
        if self.locations[i].hospital() {
            events.push(self.event(i, "acute_function.reported", Some("seh"), json!({ "status": "open" })));
            for (t, n) in [("t1", 2), ("t2", 5), ("t3", 12)] {
                events.push(self.event(i, "casualty_reception.reported", Some(t), json!({ "capacity": n })));
            }
        } else if self.locations[i].kind == "thuiszorg" {
            events.push(self.event(
                i,
                "home_care.reported",
                None,
                json!({ "clients": 420, "electricity_dependent": 35, "visits_at_risk": 0 }),
            ));
        } else {
            let capacity: u32 = self.rng.gen_range(0..6);
            events.push(self.event(
                i,
                "receiving_capacity.reported",
                Some("somatisch"),
                json!({ "clients": capacity }),
            ));
            events.push(self.event(
                i,
                "disbalance.reported",
                Some("uitval_nutsvoorzieningen"),
                json!({ "level": "niet_getroffen" }),
            ));
        }
        events
    }

    /// One plausible change at location `i`.
    fn change(&mut self, i: usize) -> Vec<Value> {
        let roll: u32 = self.rng.gen_range(0..100);
        let loc = &mut self.locations[i];
        match roll {
            0..=59 if !loc.beds.is_empty() => {
                let keys: Vec<&'static str> = loc.beds.keys().copied().collect();
                let t = keys[self.rng.gen_range(0..keys.len())];
                if let Some((op, occ)) = loc.beds.get_mut(t) {
                    let step: i64 = self.rng.gen_range(-2..=2);
                    *occ = (i64::from(*occ) + step).clamp(0, i64::from(*op)) as u32;
                }
                let (op, occ) = loc.beds[t];
                vec![self.event(i, "beds.reported", Some(t), json!({ "operational": op, "occupied": occ }))]
            }
            60..=74 => {
                // A power cut on generator, running down, then restored.
                loc.power_out = match loc.power_out {
                    None => Some(self.rng.gen_range(8..48)),
                    Some(h) if h > 4 && self.rng.gen_bool(0.7) => Some(h - 4),
                    Some(_) => None,
                };
                let judgement = if loc.power_out.is_some_and(|h| h < 12) { "met_moeite" } else { "ja" };
                vec![self.power(i), self.event(i, "judgement.reported", None, json!({ "care_next_24h": judgement }))]
            }
            75..=84 if loc.hospital() => {
                loc.seh_stopped = !loc.seh_stopped && self.rng.gen_bool(0.4);
                let data = if loc.seh_stopped {
                    json!({ "status": "stop", "reason": "Volle SEH, geen opnamecapaciteit" })
                } else {
                    json!({ "status": "open" })
                };
                vec![self.event(i, "acute_function.reported", Some("seh"), data)]
            }
            85..=92 => match loc.help_open.take() {
                Some(id) => vec![self.event(i, "help_request.closed", Some(&id), json!({}))],
                None => {
                    let id = format!("hv-{}", self.rng.gen_range(1000..9999));
                    loc.help_open = Some(id.clone());
                    let data = json!({ "category": "personeel", "urgency": "hoog", "text": "Twee verpleegkundigen nodig voor de nachtdienst" });
                    vec![self.event(i, "help_request.opened", Some(&id), data)]
                }
            },
            _ => {
                let unfilled: u32 = self.rng.gen_range(0..7);
                let staff = if loc.hospital() { "verpleegkundige" } else { "verzorgende" };
                vec![self.event(i, "staffing.reported", Some(staff), json!({ "unfilled_shifts_24h": unfilled }))]
            }
        }
    }
}
