//! `ghor serve --demo`: registers the demo registry through the API, gives each demo
//! organisation its own institution token, prints the page's address with a viewer
//! token, and runs the simulator until shutdown.

use std::collections::BTreeMap;

use chrono::Utc;
use ghor_domain::{RegionCode, Role, Scope, Slug};
use ghor_server::auth::{issue, TokenRequest};
use ghor_server::supervise::Tasks;
use ghor_store::TokenStore;

use crate::client::Client;
use crate::{registry, sim};

const HOSPITALS: &str = include_str!("../data/hospitals-noord.csv");
const CARE: &str = include_str!("../data/demo-care-locations.csv");
const REGIONS: [&str; 3] = ["VR01", "VR02", "VR03"];

async fn token(store: &dyn TokenStore, name: &str, role: Role, organisation: Option<&str>) -> anyhow::Result<String> {
    let regions = REGIONS.iter().filter_map(|r| RegionCode::try_from(*r).ok()).collect();
    let request = TokenRequest {
        name: name.to_owned(),
        role,
        regions,
        national: false,
        organisation: organisation.map(Slug::try_from).transpose().map_err(anyhow::Error::msg)?,
        scope: Scope::Live,
        valid_for: chrono::Duration::days(30),
    };
    let (secret, _) = issue(store, request, Utc::now()).await.map_err(|p| anyhow::anyhow!(p.detail))?;
    Ok(secret)
}

/// How many locations the picture shows as reporting, over all regions.
async fn reporting(client: &Client) -> usize {
    let Ok(picture) = client.get("/v1/picture").await else { return 0 };
    let regions = picture["regions"].as_object().into_iter().flat_map(|r| r.values());
    regions.filter_map(|r| r["view"]["totals"]["reporting"].as_u64()).sum::<u64>() as usize
}

/// How many locations the registry shows.
async fn registered(client: &Client) -> usize {
    let Ok(registry) = client.get("/v1/registry/locations").await else { return 0 };
    registry["locations"].as_array().map_or(0, Vec::len)
}

/// Waits until `done` holds, at most 30 s (the demo goes on either way).
async fn settle(mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done().await && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Gives every demo location a synthetic crisiscoördinator and deputy, so the
/// informatiemanager's call list has someone to call.
async fn contacts(admin: &Client, rows: &[registry::Row]) -> anyhow::Result<()> {
    for (n, row) in rows.iter().enumerate() {
        let contacts = serde_json::json!({ "contacts": [
            { "role": "crisiscoordinator", "name": format!("Crisiscoördinator {} (synthetisch)", row.id),
              "phone_24_7": format!("+31 6 0000 {:04}", 2 * n), "verified_on": Utc::now().date_naive() },
            { "role": "crisiscoordinator_vervanger", "name": format!("Vervanger {} (synthetisch)", row.id),
              "phone_24_7": format!("+31 6 0000 {:04}", 2 * n + 1), "fallback": "receptie, dag en nacht",
              "verified_on": Utc::now().date_naive() },
        ] });
        admin.put(&format!("/v1/registry/locations/{}/contacts", row.id), &contacts).await?;
    }
    Ok(())
}

pub async fn start(url: &str, store: &dyn TokenStore, rate: f64, scenario: bool, tasks: Tasks) -> anyhow::Result<()> {
    let mut shutdown = tasks.shutdown();
    let admin = Client::new(url, &token(store, "demo netwerkfunctionaris", Role::Netwerkfunctionaris, None).await?);
    let mut rows = registry::read_csv(HOSPITALS).map_err(anyhow::Error::msg)?;
    rows.extend(registry::read_csv(CARE).map_err(anyhow::Error::msg)?);
    let (stored, known, refused) = registry::post_all(&admin, &registry::events(&rows), false).await?;
    eprintln!("demo registry: {stored} registered, {known} already known, {refused} refused");
    // The picture follows the log: the simulator plays the locations once the picture holds them.
    let locations = rows.len() - refused.min(rows.len());
    settle(async || registered(&admin).await >= locations).await;

    contacts(&admin, &rows).await?;

    let mut clients = BTreeMap::new();
    for row in &rows {
        let (org, name) = &row.organisation;
        if !clients.contains_key(org) {
            let secret = token(store, &format!("{name} (demo)"), Role::Institution, Some(org)).await?;
            clients.insert(org.clone(), admin.with_token(&secret));
        }
    }
    let viewer = token(store, "demo ROT", Role::Rot, None).await?;
    // One care location's own page, to try the warm phase from the institution's side.
    let home = rows.iter().find(|r| r.id.starts_with("demo-vvt")).map(|r| r.organisation.clone());
    let manager = token(store, "demo informatiemanager", Role::Informatiemanager, None).await?;
    let mut simulator =
        sim::Simulator::new(admin.with_token(&manager), clients, Utc::now().timestamp() as u64, scenario).await?;
    let sent = simulator.report_all().await?;
    eprintln!("demo: {} locations reported {sent} values", simulator.locations());
    // Show the address once the picture holds every first report.
    settle(async || reporting(&admin).await >= simulator.locations()).await;
    println!("open the live picture: {url}/#token={viewer}");
    println!("informatiemanager token (VR01-VR03): {manager}");
    if let Some((org, name)) = home {
        let secret = token(store, &format!("{name} (demo, page)"), Role::Institution, Some(&org)).await?;
        println!("institution page of {name}: {url}/#token={secret}");
    }
    tasks.hold("demo_simulator", async move {
        simulator.run(rate, async move { shutdown.recv().await }).await;
    });
    Ok(())
}
