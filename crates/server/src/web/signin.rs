//! Signing in with the region's identity provider: OpenID Connect, authorization code
//! with PKCE (S256), state and nonce. The provider says who someone is, and what they may
//! do in ghor: in its `ghor` claims (role, regions, organisation), or by the groups they
//! are in, each mapped to rights by ghor's configuration (`--oidc-group`); ghor then issues a session token for them like any other token (kept hashed,
//! revocable, in the security log) and keeps it in an HttpOnly cookie. A request that
//! comes with that cookie and changes something must also carry the page's CSRF token
//! (`X-CSRF-Token`, the double submit of the `ghor_csrf` cookie); SameSite=Strict keeps
//! the session cookie off other sites' requests besides.
//!
//! What goes wrong sends the browser back to the page with `#signin-error=<code>`, and the
//! page says what to do: `denied`, `expired`, `unavailable`, `no-role`, `invalid`.

use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, NoContent, Response};
use axum::Json;
use base64::Engine;
use chrono::Utc;
use ghor_domain::{RegionCode, Role, Slug};
use openidconnect::core::{
    CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use rand::RngCore;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::auth::{authenticate, issue, TokenRequest};
use crate::problem::Problem;
use crate::{policy, security};

/// The cookie that holds the session token.
pub const SESSION: &str = "ghor_session";
/// The cookie the page reads and sends back as `X-CSRF-Token`.
const CSRF: &str = "ghor_csrf";
/// The header that carries it.
const CSRF_HEADER: &str = "x-csrf-token";
/// The cookie that carries a sign-in from the login to the callback.
const LOGIN: &str = "ghor_login";
/// How long a sign-in may take at the provider.
const LOGIN_SECONDS: u32 = 600;
/// How long a session lasts; then the provider is asked again.
const SESSION_HOURS: i64 = 12;
/// How long the provider's discovery document and signing keys are kept before they are
/// fetched again.
const DISCOVERY_FRESH: std::time::Duration = std::time::Duration::from_secs(3600);
/// How long the provider gets to answer.
const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The identity provider ghor signs people in with.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer; its discovery document is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Never printed: no log line may hold it.
    pub client_secret: SecretString,
    /// The claim that lists someone's groups (`groups` for Keycloak and Entra ID).
    pub groups_claim: String,
    /// The rights of each group's members; of the groups someone is in, the one given first
    /// counts.
    pub groups: Vec<GroupRights>,
}

/// A group at the identity provider and the rights its members get in ghor, written
/// `GROUP=ROLE:REGION,REGION` (`GROUP=admin:national`; for institution staff
/// `GROUP=institution:VR01:umcg`, the organisation last).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRights {
    pub group: String,
    pub role: Role,
    pub regions: Vec<RegionCode>,
    pub national: bool,
    pub organisation: Option<Slug>,
}

impl FromStr for GroupRights {
    type Err = String;

    fn from_str(s: &str) -> Result<GroupRights, String> {
        let form = "write GROUP=ROLE:VR01,VR02 (GROUP=admin:national; GROUP=institution:VR01:organisation)";
        let (group, rights) = s.rsplit_once('=').ok_or_else(|| format!("{s:?} has no '=': {form}"))?;
        let mut parts = rights.split(':');
        let role = parts.next().unwrap_or_default();
        let role = Role::parse(role).ok_or_else(|| format!("{role:?} is no role; one of {}", Role::expected()))?;
        let regions = parts.next().ok_or_else(|| format!("{s:?} names no regions: {form}"))?;
        let national = regions == "national";
        let regions = if national {
            Vec::new()
        } else {
            regions
                .split(',')
                .map(|r| RegionCode::try_from(r.trim()).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?
        };
        let organisation = parts.next().map(Slug::try_from).transpose().map_err(|e| e.to_string())?;
        if group.is_empty() || parts.next().is_some() {
            return Err(format!("{s:?}: {form}"));
        }
        Ok(GroupRights { group: group.to_owned(), role, regions, national, organisation })
    }
}

/// The client as discovery made it: authorization endpoint set, token and userinfo as the
/// provider says.
type Discovered =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// Signing in: the settings, where the provider sends people back, and the provider's
/// client once discovered, with when (asked again after a failure, and when older than
/// [`DISCOVERY_FRESH`], so that the provider's new signing keys are found).
pub struct SignIn {
    settings: OidcSettings,
    redirect: RedirectUrl,
    /// Cookies only over https when the page is (a loopback test runs over http).
    secure: bool,
    http: openidconnect::reqwest::Client,
    discovered: tokio::sync::Mutex<Option<(std::time::Instant, Arc<Discovered>)>>,
}

/// What the provider says of someone's rights in ghor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct GhorClaims {
    ghor_role: Option<String>,
    #[serde(default)]
    ghor_regions: Vec<String>,
    #[serde(default)]
    ghor_national: bool,
    ghor_organisation: Option<String>,
    /// The rest, the groups claim among them.
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

impl GhorClaims {
    /// The groups the claim named `claim` lists (an array, or one group as a string).
    fn groups(&self, claim: &str) -> Vec<&str> {
        match self.other.get(claim) {
            Some(serde_json::Value::Array(groups)) => groups.iter().filter_map(|g| g.as_str()).collect(),
            Some(serde_json::Value::String(group)) => vec![group.as_str()],
            _ => Vec::new(),
        }
    }
}

impl AdditionalClaims for GhorClaims {}

type GhorIdToken = IdToken<GhorClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// Why a sign-in ends without a session: the code the page words.
#[derive(Debug, Clone, Copy)]
enum Failure {
    Denied,
    Expired,
    Unavailable,
    NoRole,
    Invalid,
}

impl Failure {
    fn code(self) -> &'static str {
        match self {
            Failure::Denied => "denied",
            Failure::Expired => "expired",
            Failure::Unavailable => "unavailable",
            Failure::NoRole => "no-role",
            Failure::Invalid => "invalid",
        }
    }
}

impl SignIn {
    /// `public_url`: the page's address as browsers reach it.
    pub fn new(settings: OidcSettings, public_url: &str) -> anyhow::Result<SignIn> {
        IssuerUrl::new(settings.issuer.clone())?;
        let redirect = RedirectUrl::new(format!("{}/auth/callback", public_url.trim_end_matches('/')))?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // The provider's answers are read as they come: a redirect there is no answer.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()?;
        Ok(SignIn {
            secure: public_url.starts_with("https://"),
            settings,
            redirect,
            http,
            discovered: Default::default(),
        })
    }

    async fn client(&self) -> Result<Arc<Discovered>, Failure> {
        let mut discovered = self.discovered.lock().await;
        if let Some((_, client)) = discovered.as_ref().filter(|(when, _)| when.elapsed() < DISCOVERY_FRESH) {
            return Ok(client.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|_| Failure::Unavailable)?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| {
            tracing::warn!(issuer = %self.settings.issuer, error = %chain(&e), "the identity provider cannot be discovered");
            Failure::Unavailable
        })?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.expose_secret().to_owned())),
        )
        .set_redirect_uri(self.redirect.clone());
        let client = Arc::new(client);
        *discovered = Some((std::time::Instant::now(), client.clone()));
        Ok(client)
    }

    /// A cookie with this server's attributes; `max_age` 0 removes it.
    fn cookie(
        &self,
        name: &str,
        value: &str,
        path: &str,
        same_site: &str,
        http_only: bool,
        max_age: i64,
    ) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let http_only = if http_only { "; HttpOnly" } else { "" };
        let cookie = format!("{name}={value}; Path={path}; Max-Age={max_age}; SameSite={same_site}{http_only}{secure}");
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A cookie's value from a request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// A request signed in by the session cookie changes something only with the page's CSRF
/// token in `X-CSRF-Token`.
pub fn check_csrf(headers: &HeaderMap) -> Result<(), Problem> {
    let sent = headers.get(CSRF_HEADER).and_then(|h| h.to_str().ok());
    let expected = cookie(headers, CSRF);
    match (sent, expected) {
        (Some(sent), Some(expected)) if !expected.is_empty() && sent.as_bytes() == expected.as_bytes() => Ok(()),
        _ => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "The request lacks the page's CSRF token",
            "A request signed in by the session cookie that changes something must send the ghor_csrf cookie's \
             value in the X-CSRF-Token header. Reload the page.",
        )),
    }
}

/// Whether sign-in with an identity provider is on, and where it starts.
#[derive(Serialize, JsonSchema)]
pub struct AuthConfig {
    oidc: Option<OidcLogin>,
}

#[derive(Serialize, JsonSchema)]
pub struct OidcLogin {
    /// Open it in the browser (`?next=/path` to come back there).
    login: &'static str,
}

/// `GET /v1/auth`: what the sign-in form offers.
pub async fn config(State(state): State<Arc<AppState>>) -> Json<AuthConfig> {
    Json(AuthConfig { oidc: state.signin.as_ref().map(|_| OidcLogin { login: "/auth/login" }) })
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// What the login cookie carries to the callback.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

/// A page of this server to return to: a path, never another site (`//host`, `/\host`).
fn local(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && n.len() <= 2000 => n,
        _ => "/".to_owned(),
    }
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Back to the page, which says what went wrong and what to do.
fn failed(signin: &SignIn, failure: Failure) -> Response {
    let mut response = see_other(&format!("/#signin-error={}", failure.code()));
    response.headers_mut().append(SET_COOKIE, signin.cookie(LOGIN, "", "/auth", "Lax", true, 0));
    response
}

fn not_configured() -> Problem {
    Problem::not_found("Signing in with an identity provider is not configured on this server (--oidc-issuer).")
}

/// `GET /auth/login`: to the provider, with PKCE, state and nonce remembered in a cookie
/// that only the callback reads.
pub async fn login(State(state): State<Arc<AppState>>, Query(query): Query<LoginQuery>) -> Result<Response, Problem> {
    let signin = state.signin.as_ref().ok_or_else(not_configured)?;
    let client = match signin.client().await {
        Ok(client) => client,
        Err(failure) => return Ok(failed(signin, failure)),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("ghor".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: local(query.next),
    };
    let pending =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&pending).unwrap_or_default());
    let mut response = see_other(url.as_str());
    let cookie = signin.cookie(LOGIN, &pending, "/auth", "Lax", true, i64::from(LOGIN_SECONDS));
    response.headers_mut().append(SET_COOKIE, cookie);
    Ok(response)
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: the provider's answer. The code is traded (with the PKCE verifier)
/// for tokens; the ID token's signature, issuer, audience, expiry and nonce are checked;
/// its `ghor` claims become a session token's rights.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, Problem> {
    let signin = state.signin.as_ref().ok_or_else(not_configured)?;
    let session = match session_for(&state, signin, &headers, query).await {
        Ok(session) => session,
        Err(failure) => {
            security::authentication_failed("GET", "/auth/callback", failure.code());
            return Ok(failed(signin, failure));
        }
    };
    let (secret, next) = session;
    let mut csrf = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut csrf);
    let max_age = SESSION_HOURS * 3600;
    let mut response = see_other(&next);
    let cookies = response.headers_mut();
    cookies.append(SET_COOKIE, signin.cookie(LOGIN, "", "/auth", "Lax", true, 0));
    cookies.append(SET_COOKIE, signin.cookie(SESSION, &secret, "/", "Strict", true, max_age));
    cookies.append(SET_COOKIE, signin.cookie(CSRF, &hex::encode(csrf), "/", "Strict", false, max_age));
    Ok(response)
}

/// The session token's secret and where to go next, or why not.
async fn session_for(
    state: &AppState,
    signin: &SignIn,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<(String, String), Failure> {
    let pending = cookie(headers, LOGIN)
        .and_then(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|bytes| serde_json::from_slice::<Pending>(&bytes).ok())
        .ok_or(Failure::Expired)?;
    if query.state.as_deref() != Some(pending.state.as_str()) {
        return Err(Failure::Expired);
    }
    if let Some(error) = query.error {
        tracing::info!(%error, "the identity provider refused the sign-in");
        return Err(Failure::Denied);
    }
    let code = query.code.ok_or(Failure::Invalid)?;
    let client = signin.client().await?;
    let exchange = client.exchange_code(AuthorizationCode::new(code)).map_err(|_| Failure::Unavailable)?;
    let answer =
        exchange.set_pkce_verifier(PkceCodeVerifier::new(pending.verifier)).request_async(&signin.http).await.map_err(
            |e| {
                tracing::warn!(error = %chain(&e), "the identity provider did not trade the code for tokens");
                Failure::Invalid
            },
        )?;
    let id_token = answer.extra_fields().id_token().ok_or(Failure::Invalid)?;
    let id_token = GhorIdToken::from_str(&id_token.to_string()).map_err(|_| Failure::Invalid)?;
    let verifier = client.id_token_verifier();
    let claims = match id_token.claims(&verifier, &Nonce::new(pending.nonce)) {
        Ok(claims) => claims,
        Err(e) => {
            tracing::warn!(error = %chain(&e), "the identity provider's ID token does not verify");
            // Perhaps signed with a key the provider rotated in: the next sign-in asks again.
            *signin.discovered.lock().await = None;
            return Err(Failure::Invalid);
        }
    };
    let subject = claims.subject().as_str().to_owned();
    // Who it is, by the first standard claim that names them.
    let name = [
        claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        claims.preferred_username().map(|u| u.as_str()),
        claims.email().map(|e| e.as_str()),
    ]
    .into_iter()
    .flatten()
    .find(|n| !n.trim().is_empty())
    .unwrap_or(&subject);
    let request = rights(&signin.settings, claims.additional_claims(), name).ok_or_else(|| {
        tracing::info!(%subject, "an account without (valid) ghor claims tried to sign in");
        Failure::NoRole
    })?;
    let (secret, info) = issue(&*state.backbone.tokens, request, Utc::now()).await.map_err(|problem| {
        if problem.status == 422 {
            tracing::info!(%subject, detail = %problem.detail, "the ghor claims do not make a valid token");
            Failure::NoRole
        } else {
            Failure::Unavailable
        }
    })?;
    security::token_issued(None, info.id, &info.name, info.role.as_str());
    Ok((secret, local(Some(pending.next))))
}

/// The session token the claims ask for: by the `ghor` claims when they name a role, else
/// by the first group mapping (in the order given) whose group the person is in; none when
/// neither gives valid rights.
fn rights(settings: &OidcSettings, claims: &GhorClaims, name: &str) -> Option<TokenRequest> {
    let (role, regions, national, organisation) = match &claims.ghor_role {
        Some(role) => (
            Role::parse(role)?,
            claims.ghor_regions.iter().map(|r| RegionCode::try_from(r.as_str()).ok()).collect::<Option<Vec<_>>>()?,
            claims.ghor_national,
            claims.ghor_organisation.as_deref().map(Slug::try_from).transpose().ok()?,
        ),
        None => {
            let groups = claims.groups(&settings.groups_claim);
            let g = settings.groups.iter().find(|g| groups.contains(&g.group.as_str()))?;
            (g.role, g.regions.clone(), g.national, g.organisation.clone())
        }
    };
    Some(TokenRequest {
        name: name.chars().take(100).collect(),
        role,
        regions,
        national,
        organisation,
        scope: policy::bound_scope(role).unwrap_or(ghor_domain::Scope::Live),
        valid_for: chrono::Duration::hours(SESSION_HOURS),
    })
}

/// `POST /auth/logout`: the session token revoked and the cookies cleared.
pub async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, Problem> {
    let signin = state.signin.as_ref().ok_or_else(not_configured)?;
    if let Some(secret) = cookie(&headers, SESSION) {
        check_csrf(&headers)?;
        if let Ok(caller) = authenticate(&state.tokens, Some(&format!("Bearer {secret}")), Utc::now()).await {
            state.backbone.tokens.revoke(caller.token.id).await?;
            security::token_revoked(Some(&caller), caller.token.id);
        }
    }
    let mut response = NoContent.into_response();
    let cookies = response.headers_mut();
    cookies.append(SET_COOKIE, signin.cookie(SESSION, "", "/", "Strict", true, 0));
    cookies.append(SET_COOKIE, signin.cookie(CSRF, "", "/", "Strict", false, 0));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(groups: &[&str]) -> OidcSettings {
        OidcSettings {
            issuer: "http://idp.example".into(),
            client_id: "ghor".into(),
            client_secret: SecretString::from("s"),
            groups_claim: "groups".into(),
            groups: groups.iter().map(|g| g.parse().expect("a group mapping")).collect(),
        }
    }

    fn claims(json: serde_json::Value) -> GhorClaims {
        serde_json::from_value(json).expect("claims")
    }

    #[test]
    fn a_group_mapping_is_read_or_refused_with_the_form_to_write() {
        let rot: GroupRights = "/GHOR/ROT Groningen=rot:VR01,VR02".parse().expect("valid");
        assert_eq!(
            (rot.group.as_str(), rot.role, rot.regions.len(), rot.national),
            ("/GHOR/ROT Groningen", Role::Rot, 2, false)
        );
        let admin: GroupRights = "ghor-beheer=admin:national".parse().expect("valid");
        assert!(admin.national && admin.regions.is_empty());
        let staff: GroupRights = "umcg-crisis=institution:VR01:umcg".parse().expect("valid");
        assert_eq!(staff.organisation.as_ref().map(Slug::as_str), Some("umcg"));
        for wrong in [
            "rot:VR01",
            "g=chef:VR01",
            "g=rot",
            "g=rot:VR99",
            "g=institution:VR01:UMCG!",
            "=rot:VR01",
            "g=rot:VR01:a:b",
        ] {
            let error = wrong.parse::<GroupRights>().expect_err(wrong);
            assert!(!error.is_empty(), "{wrong}");
        }
    }

    #[test]
    fn the_ghor_claims_count_first_then_the_first_group_someone_is_in() {
        let s = settings(&["vic=rot:VR03", "im-noord=informatiemanager:VR01,VR02"]);
        let by_claims =
            claims(serde_json::json!({ "ghor_role": "bestuur", "ghor_regions": ["VR01"], "groups": ["vic"] }));
        let r = rights(&s, &by_claims, "sub").expect("rights");
        assert_eq!((r.role, r.regions.len()), (Role::Bestuur, 1));
        let by_group = claims(serde_json::json!({ "groups": ["other", "im-noord"] }));
        let r = rights(&s, &by_group, "Ilse IM").expect("rights");
        assert_eq!((r.role, r.name.as_str()), (Role::Informatiemanager, "Ilse IM"));
        // In two groups: the mapping given first counts.
        let both = claims(serde_json::json!({ "groups": ["im-noord", "vic"] }));
        assert_eq!(rights(&s, &both, "sub").map(|r| r.role), Some(Role::Rot));
        let one_group = claims(serde_json::json!({ "groups": "vic" }));
        assert_eq!(rights(&s, &one_group, "sub").map(|r| r.role), Some(Role::Rot));
        // No claim, no group of ours, or a claim that names nothing valid: no rights at all.
        assert!(rights(&s, &claims(serde_json::json!({ "groups": ["other"] })), "sub").is_none());
        assert!(rights(&s, &claims(serde_json::json!({ "ghor_role": "chef", "groups": ["vic"] })), "sub").is_none());
        assert!(
            rights(&s, &claims(serde_json::json!({ "ghor_role": "rot", "ghor_regions": ["VR99"] })), "sub").is_none()
        );
    }
}
