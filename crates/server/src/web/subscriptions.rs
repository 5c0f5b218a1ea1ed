//! Subscriptions to alerts (issue 9): a GHOR user asks to be told, by email and/or a signed
//! webhook, when an alert condition of one kind starts in one of its regions. Each token
//! lists and deletes only its own; the channels (personal data, a secret) are kept in the
//! store beside the log, and a webhook's secret is never answered. What is told, and when,
//! the notifier derives from the log ([`crate::notify`]).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::NoContent;
use axum::Json;
use chrono::{DateTime, Utc};
use ghor_domain::error::ErrorCode;
use ghor_domain::vocab::SubscriptionKind;
use ghor_domain::{FieldError, RegionCode};
use ghor_store::{Subscription, Webhook, EMAIL_PATTERN};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::api::{email_fault, EMAIL_MAX};
use super::openapi::{Body, Created, Holds, UuidPath};
use super::webhooks::{check_endpoint, Shown};
use super::AppState;
use crate::auth::Caller;
use crate::policy::{self, Action};
use crate::problem::Problem;

/// The most subscriptions one token holds per scope.
pub const MAX_PER_TOKEN: usize = 20;
/// The bounds of `ic_free_below`'s number.
const VALUE_RANGE: (u32, u32) = (1, 100_000);
/// The fields a new subscription has.
const FIELDS: &[&str] = &["region", "kind", "value", "email", "webhook"];

/// A new subscription: the region, the kind of alert (`ic_free_below` with its `value`),
/// and where to tell it: an email address, a webhook, or both.
#[derive(JsonSchema)]
#[schemars(
    deny_unknown_fields,
    extend("anyOf" = [{ "required": ["email"] }, { "required": ["webhook"] }]),
    extend("if" = { "properties": { "kind": { "const": "ic_free_below" } } }),
    extend("then" = { "required": ["value"], "properties": { "value": { "type": "integer" } } }),
    extend("else" = { "properties": { "value": { "type": "null" } } })
)]
#[allow(dead_code)] // read by `parse`, field by field, each mistake named
pub struct NewSubscription {
    region: RegionCode,
    kind: SubscriptionKind,
    #[schemars(range(min = VALUE_RANGE.0, max = VALUE_RANGE.1))]
    value: Option<u32>,
    #[schemars(length(max = EMAIL_MAX), regex(pattern = EMAIL_PATTERN))]
    email: Option<String>,
    webhook: Option<Webhook>,
}

impl Holds for NewSubscription {}

/// A subscription as answered: its webhook's URL, never its secret.
#[derive(Serialize, JsonSchema)]
pub struct ShownSubscription {
    id: Uuid,
    region: RegionCode,
    kind: SubscriptionKind,
    value: Option<u32>,
    email: Option<String>,
    webhook: Option<Shown>,
    created: DateTime<Utc>,
}

impl ShownSubscription {
    fn of(s: &Subscription) -> ShownSubscription {
        ShownSubscription {
            id: s.id,
            region: s.region,
            kind: s.kind,
            value: s.value,
            email: s.email.clone(),
            webhook: s.webhook.as_ref().map(Shown::of),
            created: s.created,
        }
    }
}

pub async fn list(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Subscriptions>, Problem> {
    policy::decide(&caller, &Action::OwnSubscriptions)?;
    let mine = state.backbone.notify.subscriptions_of(caller.scope(), caller.token.id).await?;
    Ok(Json(Subscriptions { subscriptions: mine.iter().map(ShownSubscription::of).collect(), max: MAX_PER_TOKEN }))
}

/// The caller's subscriptions, and how many it may hold.
#[derive(Serialize, JsonSchema)]
pub struct Subscriptions {
    subscriptions: Vec<ShownSubscription>,
    max: usize,
}

/// A subscription made.
#[derive(Serialize, JsonSchema)]
pub struct Made {
    id: Uuid,
    subscription: ShownSubscription,
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    body: Body<NewSubscription>,
) -> Result<Created<Made>, Problem> {
    policy::decide(&caller, &Action::OwnSubscriptions)?;
    if state.read_only(caller.scope()) {
        let why = "the national level sends no notifications: subscribe at the region's ghor";
        return Err(ghor_store::StoreError::ReadOnly(why.into()).into());
    }
    let body = body.json(state.limits.body_bytes)?;
    let subscription = parse(&caller, body)?;
    policy::decide(&caller, &Action::Subscribe { region: subscription.region })?;
    if !state.backbone.notify.add_subscription(caller.scope(), &subscription, MAX_PER_TOKEN).await? {
        let e = FieldError::new("subscriptions", ErrorCode::TooMany, "this token holds the most subscriptions it may");
        return Err(Problem::invalid(e.with("max", MAX_PER_TOKEN)));
    }
    Ok(Created(Made { id: subscription.id, subscription: ShownSubscription::of(&subscription) }))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(UuidPath { id }): Path<UuidPath>,
) -> Result<NoContent, Problem> {
    policy::decide(&caller, &Action::OwnSubscriptions)?;
    let missing = || Problem::not_found(format!("This token has no subscription {id:?}."));
    let uuid = Uuid::parse_str(&id).map_err(|_| missing())?;
    if state.backbone.notify.remove_subscription(caller.scope(), caller.token.id, uuid).await? {
        Ok(NoContent)
    } else {
        Err(missing())
    }
}

/// One field of the body, read as `T`; the problem names it.
fn field<T: DeserializeOwned>(body: &Map<String, Value>, name: &str) -> Result<Option<T>, Problem> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| Problem::invalid(FieldError::from_serde(name, &e.to_string()))),
    }
}

/// A new subscription of `caller` from the request body: every mistake names its field.
fn parse(caller: &Caller, body: Value) -> Result<Subscription, Problem> {
    let Value::Object(body) = body else {
        return Err(Problem::invalid(FieldError::new("", ErrorCode::NotAnObject, "send a JSON object")));
    };
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let e = FieldError::new(unknown, ErrorCode::UnknownField, "is not a field of a subscription");
        return Err(Problem::invalid(e));
    }
    let required = |name: &str, reason: &str| Problem::invalid(FieldError::new(name, ErrorCode::Required, reason));
    let region: String = field(&body, "region")?.ok_or_else(|| required("region", "name a region (VRxx)"))?;
    let region = RegionCode::try_from(region.as_str())
        .map_err(|_| Problem::invalid(FieldError::new("region", ErrorCode::NotARegion, "is not a safety region")))?;
    let kind: String = field(&body, "kind")?.ok_or_else(|| required("kind", "name the kind of alert"))?;
    let kind = SubscriptionKind::parse(&kind).ok_or_else(|| {
        let e = FieldError::new("kind", ErrorCode::NotInVocabulary, "is not a kind of alert one may subscribe to");
        Problem::invalid(e.with("allowed", SubscriptionKind::expected()))
    })?;
    let value: Option<u32> = field(&body, "value")?;
    match (kind, value) {
        (SubscriptionKind::IcFreeBelow, None) => {
            return Err(required("value", "ic_free_below needs the number of free IC beds to stay above"))
        }
        (SubscriptionKind::IcFreeBelow, Some(v)) if !(VALUE_RANGE.0..=VALUE_RANGE.1).contains(&v) => {
            let e = FieldError::new("value", ErrorCode::OutOfRange, "out of range");
            return Err(Problem::invalid(e.with("min", VALUE_RANGE.0).with("max", VALUE_RANGE.1)));
        }
        (SubscriptionKind::IcFreeBelow, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            let e = FieldError::new("value", ErrorCode::Malformed, "only ic_free_below takes a value");
            return Err(Problem::invalid(e));
        }
    }
    let email: Option<String> = field(&body, "email")?;
    if let Some(reason) = email.as_deref().and_then(email_fault) {
        let e = FieldError::new("email", ErrorCode::NotAnEmail, &reason);
        return Err(Problem::invalid(e.with("max", EMAIL_MAX)));
    }
    let webhook: Option<Webhook> = field(&body, "webhook")?;
    if let Some(w) = &webhook {
        check_endpoint(w, "webhook")?;
    }
    if email.is_none() && webhook.is_none() {
        return Err(required("email", "give an email address, a webhook, or both"));
    }
    Ok(Subscription {
        id: Uuid::now_v7(),
        owner: caller.token.id,
        region,
        kind,
        value,
        email,
        webhook,
        created: Utc::now(),
    })
}
