//! The webhook endpoints of an organisation's own systems, per scope: where the notifier
//! posts signed CloudEvents about its locations. Kept beside the contacts, under the same
//! capabilities (the netwerkfunctionaris keeps them, GHOR roles read them); the signing
//! secret is taken when set and never answered again.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use base64::Engine;
use ghor_domain::error::ErrorCode;
use ghor_domain::{FieldError, RegionCode, Slug};
use ghor_store::Webhook;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::openapi::{Body, Holds, OrganisationPath};
use super::AppState;
use crate::auth::Caller;
use crate::policy::{self, Action};
use crate::problem::Problem;

/// The most endpoints one organisation has per scope.
const MAX_ENDPOINTS: usize = 5;
/// The longest endpoint URL.
const URL_MAX: usize = 2000;
/// The bounds on a secret's key bytes (Standard Webhooks: 24 to 64).
const SECRET_BYTES: (usize, usize) = (24, 64);

/// The regions the organisation has registered locations in, once the caller may do
/// `action` in every one of them (its endpoints hear about all its locations).
fn organisation_regions(
    state: &AppState,
    caller: &Caller,
    organisation: &str,
    action: impl Fn(RegionCode, &Slug) -> Action<'_>,
) -> Result<Slug, Problem> {
    let missing = || Problem::not_found(format!("No organisation {organisation:?} has registered locations."));
    let org = Slug::try_from(organisation).map_err(|_| missing())?;
    let regions: BTreeSet<RegionCode> = {
        let gateway = state.gateway(caller.scope())?;
        let st = gateway.state();
        st.picture
            .locations
            .values()
            .filter(|l| l.info.as_ref().is_some_and(|i| i.value.organisation == org))
            .filter_map(|l| l.region())
            .collect()
    };
    if regions.is_empty() {
        return Err(missing());
    }
    for region in regions {
        policy::decide(caller, &action(region, &org))?;
    }
    Ok(org)
}

/// An endpoint as answered: its URL, never its secret.
#[derive(Serialize, JsonSchema)]
pub struct Shown {
    url: String,
    secret_set: bool,
}

impl Shown {
    pub(super) fn of(w: &Webhook) -> Shown {
        Shown { url: w.url.clone(), secret_set: !w.secret.is_empty() }
    }
}

/// An organisation's endpoints.
#[derive(Serialize, JsonSchema)]
pub struct Endpoints {
    organisation: Slug,
    webhooks: Vec<Shown>,
}

impl Endpoints {
    fn of(organisation: Slug, webhooks: &[Webhook]) -> Json<Endpoints> {
        Json(Endpoints { organisation, webhooks: webhooks.iter().map(Shown::of).collect() })
    }
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(OrganisationPath { organisation }): Path<OrganisationPath>,
) -> Result<Json<Endpoints>, Problem> {
    let org = organisation_regions(&state, &caller, &organisation, |region, organisation| Action::ReadContacts {
        region,
        organisation,
    })?;
    let webhooks = state.backbone.notify.webhooks(caller.scope(), &org).await?;
    Ok(Endpoints::of(org, &webhooks))
}

/// An organisation's endpoints, all of them: what is sent replaces what was kept.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoints {
    #[schemars(length(max = MAX_ENDPOINTS))]
    webhooks: Vec<Webhook>,
}

impl Holds for NewEndpoints {}

pub async fn put(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(OrganisationPath { organisation }): Path<OrganisationPath>,
    body: Body<NewEndpoints>,
) -> Result<Json<Endpoints>, Problem> {
    let org = organisation_regions(&state, &caller, &organisation, |region, organisation| Action::WriteContacts {
        region,
        organisation,
    })?;
    let body = body.json(state.limits.body_bytes)?;
    let NewEndpoints { webhooks } = serde_json::from_value(body)
        .map_err(|e| Problem::invalid(FieldError::from_serde("webhooks", &e.to_string())))?;
    if webhooks.len() > MAX_ENDPOINTS {
        let e = FieldError::new("webhooks", ErrorCode::TooMany, "too many endpoints for one organisation");
        return Err(Problem::invalid(e.with("max", MAX_ENDPOINTS)));
    }
    for (i, w) in webhooks.iter().enumerate() {
        check_endpoint(w, &format!("webhooks[{i}]"))?;
    }
    state.backbone.notify.set_webhooks(caller.scope(), &org, &webhooks).await?;
    Ok(Endpoints::of(org, &webhooks))
}

/// An endpoint's URL and secret, or the problem naming `{field}.url` or `{field}.secret`.
pub(super) fn check_endpoint(w: &Webhook, field: &str) -> Result<(), Problem> {
    if let Some(reason) = url_fault(&w.url) {
        let e = FieldError::new(&format!("{field}.url"), ErrorCode::NotAWebhookUrl, &reason);
        return Err(Problem::invalid(e.with("max", URL_MAX)));
    }
    if let Some(reason) = secret_fault(&w.secret) {
        let e = FieldError::new(&format!("{field}.secret"), ErrorCode::NotASecret, &reason);
        return Err(Problem::invalid(e.with("min", SECRET_BYTES.0).with("max", SECRET_BYTES.1)));
    }
    Ok(())
}

fn url_fault(url: &str) -> Option<String> {
    if url.len() > URL_MAX {
        return Some(format!("at most {URL_MAX} characters"));
    }
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.password().is_none() => None,
        Ok(_) => Some("give an http or https URL with a host and without a password in it".into()),
        Err(e) => Some(format!("is not a URL: {e}")),
    }
}

/// The key bytes of a `whsec_<base64>` secret.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_")?;
    base64::engine::general_purpose::STANDARD.decode(encoded).ok()
}

fn secret_fault(secret: &str) -> Option<String> {
    let (min, max) = SECRET_BYTES;
    match secret_key(secret) {
        Some(key) if (min..=max).contains(&key.len()) => None,
        Some(key) => Some(format!("the key is {} bytes; give {min} to {max}", key.len())),
        None => Some("give whsec_ followed by the key in base64".into()),
    }
}
