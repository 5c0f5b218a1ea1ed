//! The one policy (§7): may this caller do this action on this target? Every endpoint,
//! every stream subscription and every ingest decision asks [`decide`]; `/v1/me` lists
//! what [`capabilities`] grants, so the page shows what a token allows instead of knowing
//! role names; [`visibility`] says what of a region's view the caller sees.
//!
//! # The role table
//! [`grants`] is the only place that names roles: what each may do ([`Capability`]), which
//! tokens it may mint, which provenance (`bron`) it may claim, whether it acts for one
//! organisation and in which scope it works. Everything else follows from it.
//!
//! # Bounds
//! Every read and write is bounded by
//! - **scope**: a caller reads and writes only its own scope's log, picture and contacts
//!   (the handlers pick them by `Caller::scope`, so another scope's data is never even
//!   looked at); tokens are the one target that carries a scope of its own, checked here;
//!   a role bound to a scope (OTO: `oefening`) may do nothing outside it;
//! - **region**: the target's region must be one of the token's (a national token has all);
//! - **organisation**: a caller that acts for an organisation (an institution) reads and
//!   reports only that organisation's locations.
//!
//! # Provenance (`bron`) by role
//! `bron` says how an observation reached ghor. Claiming it is part of the write:
//! - `api` (the writer's own system) and `formulier` (ghor's form) anyone who writes may
//!   claim: that is how it writes;
//! - `telefoon` means the GHOR took it by phone, `ovdg` that the GHOR's officer in the field
//!   passed it on, `lcms` that the GHOR took it from the national crisis management system,
//!   `overig` any other way the GHOR relayed it: only roles that report on someone's
//!   behalf (informatiemanager, OTO in its exercises) may claim them. An institution
//!   cannot, or its own report would read as one the GHOR checked by phone;
//! - the netwerkfunctionaris and the administrator write registrations and thresholds,
//!   never observations: besides `api` and `formulier` they may say a registration was
//!   taken down by `telefoon` or came another way (`overig`: `ghor registry import`
//!   from a CSV list claims it), but never that it came from the field (`ovdg`) or LCMS.

use std::fmt;

use ghor_domain::vocab::{Audience, Bron};
use ghor_domain::{RegionCode, Role, Scope, Slug};
use serde::Serialize;

use crate::auth::Caller;
use crate::gateway::visibility::Visibility;
use crate::problem::Problem;

/// What a role may do; the wire names are what `/v1/me` lists under `may`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// The picture of its regions, in aggregate at least.
    ReadPicture,
    /// Every location of its regions in detail.
    ReadLocations,
    /// The locations of its own organisation in detail.
    ReadOwnLocations,
    /// Status of its own organisation's locations.
    Report,
    /// Status of any location of its regions, on the institution's behalf.
    ReportOnBehalf,
    /// Acknowledge alerts.
    Acknowledge,
    /// Open, change and close incidents.
    ManageIncidents,
    /// Ask an area (uitvraag), record calls to those who did not answer, publish
    /// handelingsperspectief and issue the beeld: the informatiemanager's warm phase.
    AskAndAdvise,
    /// Set thresholds (a region's configuration).
    SetThresholds,
    /// Register locations and organisations.
    Register,
    /// Subscribe to alerts of its regions, on its own email or webhook (issue 9).
    Subscribe,
    /// Read the 24/7 contacts of locations (personal data).
    ReadContacts,
    /// Keep those contacts.
    WriteContacts,
    /// Read the quarantine (events the projector could not fold).
    ReadQuarantine,
    /// Create, list and revoke tokens (which ones: [`Grants::mints`]).
    IssueTokens,
    /// Break parts on purpose (tests, with `--fault-injection`).
    InjectFaults,
}

impl Capability {
    /// Whether it changes the picture or what is sent from it: none of these is offered
    /// where the picture takes no changes (the national level, fed by the regions' logs).
    pub fn changes(self) -> bool {
        use Capability::*;
        matches!(
            self,
            Report
                | ReportOnBehalf
                | Acknowledge
                | ManageIncidents
                | AskAndAdvise
                | SetThresholds
                | Register
                | Subscribe
                | WriteContacts
        )
    }

    pub const ALL: &'static [Capability] = &[
        Capability::ReadPicture,
        Capability::ReadLocations,
        Capability::ReadOwnLocations,
        Capability::Report,
        Capability::ReportOnBehalf,
        Capability::Acknowledge,
        Capability::ManageIncidents,
        Capability::AskAndAdvise,
        Capability::SetThresholds,
        Capability::Register,
        Capability::Subscribe,
        Capability::ReadContacts,
        Capability::WriteContacts,
        Capability::ReadQuarantine,
        Capability::IssueTokens,
        Capability::InjectFaults,
    ];
}

/// Which tokens a role may create, list and revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mints {
    None,
    /// Tokens of these roles, in its own scope and within its own regions, never national.
    Within(&'static [Role]),
    /// Any token: any role, scope and regions, national ones too.
    Any,
}

/// One role's row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Grants {
    pub may: &'static [Capability],
    pub mints: Mints,
    /// The provenance it may claim for what it writes (see the module's doc).
    pub bron: &'static [Bron],
    /// Whether its tokens act for one organisation (and must name it).
    pub organisation: bool,
    /// The one scope it works in, if it is bound to one.
    pub scope: Option<Scope>,
}

/// Every `bron`: for those who relay what others observed.
const ANY_BRON: &[Bron] = Bron::ALL;
/// A writer's own system or ghor's form.
const OWN_BRON: &[Bron] = &[Bron::Api, Bron::Formulier];
/// Registrations may also be taken down by phone, or imported from a list (`overig`).
const REGISTRY_BRON: &[Bron] = &[Bron::Api, Bron::Formulier, Bron::Telefoon, Bron::Overig];

/// The role table (§7), declared once.
pub fn grants(role: Role) -> Grants {
    use Capability::*;
    match role {
        Role::Institution => Grants {
            may: &[ReadPicture, ReadOwnLocations, Report],
            mints: Mints::None,
            bron: OWN_BRON,
            organisation: true,
            scope: None,
        },
        Role::Informatiemanager => Grants {
            may: &[
                ReadPicture,
                ReadLocations,
                ReportOnBehalf,
                Acknowledge,
                ManageIncidents,
                AskAndAdvise,
                SetThresholds,
                Subscribe,
                ReadContacts,
                ReadQuarantine,
            ],
            mints: Mints::None,
            bron: ANY_BRON,
            organisation: false,
            scope: None,
        },
        Role::Netwerkfunctionaris => Grants {
            may: &[ReadPicture, ReadLocations, Register, ReadContacts, WriteContacts, IssueTokens],
            mints: Mints::Within(&[Role::Institution, Role::Rot, Role::Ketenpartner, Role::Bestuur]),
            bron: REGISTRY_BRON,
            organisation: false,
            scope: None,
        },
        // The informatiemanager's part in exercises, which also sets the exercise's registry up.
        Role::Oto => Grants {
            may: &[
                ReadPicture,
                ReadLocations,
                ReportOnBehalf,
                Acknowledge,
                ManageIncidents,
                AskAndAdvise,
                SetThresholds,
                Register,
                Subscribe,
                ReadContacts,
                ReadQuarantine,
            ],
            mints: Mints::None,
            bron: ANY_BRON,
            organisation: false,
            scope: Some(Scope::Oefening),
        },
        Role::Rot => Grants {
            may: &[ReadPicture, ReadLocations, Subscribe],
            mints: Mints::None,
            bron: &[],
            organisation: false,
            scope: None,
        },
        Role::Ketenpartner | Role::Bestuur => {
            Grants { may: &[ReadPicture], mints: Mints::None, bron: &[], organisation: false, scope: None }
        }
        // Tokens and configuration, and the registry; it reports no status and runs no incident.
        Role::Admin => Grants {
            may: &[
                ReadPicture,
                ReadLocations,
                Register,
                SetThresholds,
                ReadContacts,
                WriteContacts,
                ReadQuarantine,
                IssueTokens,
                InjectFaults,
            ],
            mints: Mints::Any,
            bron: REGISTRY_BRON,
            organisation: false,
            scope: None,
        },
    }
}

/// What a token of `role` must say about its organisation and scope: checked when it is made.
pub fn acts_for_organisation(role: Role) -> bool {
    grants(role).organisation
}

/// The scope a token of `role` is bound to, if any.
pub fn bound_scope(role: Role) -> Option<Scope> {
    grants(role).scope
}

/// A token as the target of a token action.
#[derive(Debug, Clone, Copy)]
pub struct TokenTarget<'a> {
    pub role: Role,
    /// Empty: national.
    pub regions: &'a [RegionCode],
    pub scope: Scope,
    /// For a new institution token: the regions where its organisation has registered
    /// locations (none known: no bound yet).
    pub organisation_regions: &'a [RegionCode],
}

/// What a caller wants to do, with the facts about its target the decision needs.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// A region's view (HTTP or stream), as [`visibility`] trims it.
    ReadPicture {
        region: RegionCode,
    },
    /// A location's detail and history.
    ReadLocation {
        region: RegionCode,
        organisation: &'a Slug,
    },
    ReadContacts {
        region: RegionCode,
        organisation: &'a Slug,
    },
    WriteContacts {
        region: RegionCode,
        organisation: &'a Slug,
    },
    /// Status (or a retraction) of a registered location.
    Report {
        location: &'a Slug,
        region: RegionCode,
        organisation: &'a Slug,
        bron: Bron,
    },
    /// A location's registration in `region`; `registered_in` where it is registered now.
    RegisterLocation {
        region: RegionCode,
        registered_in: Option<RegionCode>,
        bron: Bron,
    },
    RegisterOrganisation {
        region: RegionCode,
        bron: Bron,
    },
    /// What an organisation agreed to share of its locations in `region`.
    RecordAgreement {
        region: RegionCode,
        bron: Bron,
    },
    ManageIncidents {
        region: RegionCode,
        bron: Bron,
    },
    /// An uitvraag, a call to one of its locations, or a handelingsperspectief, of `region`.
    AskAndAdvise {
        region: RegionCode,
        bron: Bron,
    },
    Acknowledge {
        region: RegionCode,
        bron: Bron,
    },
    SetThreshold {
        region: RegionCode,
        bron: Bron,
    },
    /// An event type only ghor itself writes; `writer` says which part.
    WriteOwnEvent {
        event_type: &'a str,
        writer: &'static str,
    },
    ReadQuarantine,
    /// One's own subscriptions to alerts: listing and deleting them.
    OwnSubscriptions,
    /// A subscription to the alerts of `region`.
    Subscribe {
        region: RegionCode,
    },
    /// One quarantined event, of the region it was stamped with (unknown when it could
    /// not be read): only a national caller sees one of no known region.
    ReadQuarantined {
        region: Option<RegionCode>,
    },
    IssueToken(TokenTarget<'a>),
    /// The token endpoint at all; which tokens it lists: [`Action::SeeToken`].
    ListTokens,
    SeeToken(TokenTarget<'a>),
    RevokeToken(TokenTarget<'a>),
    InjectFaults,
}

/// A refusal: which field of the request it concerns (if one) and why, for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub field: Option<&'static str>,
    pub reason: String,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl From<Denied> for Problem {
    fn from(d: Denied) -> Problem {
        Problem::forbidden(d.field, d.reason)
    }
}

fn deny(field: Option<&'static str>, reason: impl Into<String>) -> Result<(), Denied> {
    Err(Denied { field, reason: reason.into() })
}

/// What this caller may do now: its role's capabilities, none outside the scope its role
/// is bound to.
pub fn capabilities(caller: &Caller) -> &'static [Capability] {
    let g = grants(caller.role());
    if g.scope.is_some_and(|s| s != caller.scope()) {
        return &[];
    }
    g.may
}

/// The `bron` values this caller may claim.
pub fn bron(caller: &Caller) -> &'static [Bron] {
    if capabilities(caller).is_empty() {
        return &[];
    }
    grants(caller.role()).bron
}

/// The roles whose tokens this caller may create.
pub fn mintable(caller: &Caller) -> Vec<Role> {
    if !may(caller, Capability::IssueTokens) {
        return Vec::new();
    }
    match grants(caller.role()).mints {
        Mints::None => Vec::new(),
        Mints::Within(roles) => roles.to_vec(),
        Mints::Any => Role::ALL.to_vec(),
    }
}

pub fn may(caller: &Caller, capability: Capability) -> bool {
    capabilities(caller).contains(&capability)
}

/// Whether `region` is one of the caller's (a national token has every region).
pub fn in_regions(caller: &Caller, region: RegionCode) -> bool {
    caller.token.regions.is_empty() || caller.token.regions.contains(&region)
}

/// What of a region's view this caller sees: every location, its organisation's, or none
/// (aggregates only).
pub fn visibility(caller: &Caller) -> Visibility {
    if may(caller, Capability::ReadLocations) {
        return Visibility::Full;
    }
    let own = caller.token.organisation.clone().filter(|_| may(caller, Capability::ReadOwnLocations));
    Visibility::Agreed { own, audience: Audience::of(caller.role()) }
}

/// Decides whether `caller` may do `action`; the refusal names the field it concerns.
pub fn decide(caller: &Caller, action: &Action<'_>) -> Result<(), Denied> {
    use Capability::*;
    let role = caller.role();
    let need = |capability: Capability, field: Option<&'static str>, reason: String| {
        if may(caller, capability) {
            Ok(())
        } else {
            deny(field, reason)
        }
    };
    let within = |region: RegionCode, field: Option<&'static str>, reason: String| {
        if in_regions(caller, region) {
            Ok(())
        } else {
            deny(field, reason)
        }
    };
    match *action {
        Action::ReadPicture { region } => {
            need(ReadPicture, None, format!("A {role} token may not read the picture."))?;
            within(region, None, format!("This token may not see {region}."))
        }
        Action::ReadLocation { region, organisation } => sees_location(caller, region, organisation),
        Action::ReadContacts { region, organisation } => {
            need(ReadContacts, None, "Contacts are personal data, visible to GHOR roles only.".into())?;
            sees_location(caller, region, organisation)
        }
        Action::WriteContacts { region, organisation } => {
            need(WriteContacts, None, "The GHOR's netwerkfunctionaris keeps the contacts.".into())?;
            sees_location(caller, region, organisation)
        }
        Action::Report { location, region, organisation, bron } => {
            if may(caller, ReportOnBehalf) {
                within(
                    region,
                    Some("source"),
                    format!("/locations/{location} lies in {region}, outside this token's regions"),
                )?;
            } else if may(caller, Report) {
                let own = caller.token.organisation.as_ref();
                if own != Some(organisation) {
                    return deny(
                        Some("source"),
                        format!(
                            "this token reports for organisation {}; /locations/{location} belongs to another organisation",
                            own.map_or("-", Slug::as_str)
                        ),
                    );
                }
                within(
                    region,
                    Some("source"),
                    format!("/locations/{location} lies in {region}, outside this token's regions"),
                )?;
            } else {
                return deny(Some("source"), format!("a {role} token may read but not report status"));
            }
            claims(caller, bron)
        }
        Action::RegisterLocation { region, registered_in, bron } => {
            need(
                Register,
                Some("source"),
                format!("a {role} token may not register locations; the GHOR's netwerkfunctionaris does"),
            )?;
            within(region, Some("data.region"), format!("this token may not register locations in {region}"))?;
            if let Some(old) = registered_in {
                within(
                    old,
                    Some("source"),
                    format!("this location is registered in {old}, outside this token's regions"),
                )?;
            }
            claims(caller, bron)
        }
        Action::RegisterOrganisation { region, bron } => {
            region_write(caller, Register, region, bron, "nl.ghor.organisation.registered.v1")
        }
        Action::RecordAgreement { region, bron } => {
            region_write(caller, Register, region, bron, "nl.ghor.agreement.recorded.v1")
        }
        Action::ManageIncidents { region, bron } => region_write(caller, ManageIncidents, region, bron, "incident"),
        Action::AskAndAdvise { region, bron } => {
            region_write(caller, AskAndAdvise, region, bron, "uitvraag and handelingsperspectief")
        }
        Action::Acknowledge { region, bron } => {
            region_write(caller, Acknowledge, region, bron, "nl.ghor.alert.acknowledged.v1")
        }
        Action::SetThreshold { region, bron } => {
            region_write(caller, SetThresholds, region, bron, "nl.ghor.threshold.set.v1")
        }
        Action::WriteOwnEvent { event_type, writer } => {
            deny(Some("type"), format!("{event_type} events are written by {writer}, not by clients"))
        }
        Action::OwnSubscriptions => need(
            Subscribe,
            None,
            format!("A {role} token may not subscribe to alerts; GHOR roles that follow locations do."),
        ),
        Action::Subscribe { region } => {
            need(
                Subscribe,
                None,
                format!("A {role} token may not subscribe to alerts; GHOR roles that follow locations do."),
            )?;
            within(region, Some("region"), format!("{region} lies outside this token's regions"))
        }
        Action::ReadQuarantine => {
            need(ReadQuarantine, None, "The quarantine is for the informatiemanager and administrators.".into())
        }
        Action::ReadQuarantined { region } => {
            need(ReadQuarantine, None, "The quarantine is for the informatiemanager and administrators.".into())?;
            let national = caller.token.regions.is_empty();
            if region.map_or(national, |r| in_regions(caller, r)) {
                Ok(())
            } else {
                Err(Denied { field: None, reason: "This quarantined event is of another region.".into() })
            }
        }
        Action::IssueToken(target) => {
            manages(caller, &target)?;
            if matches!(grants(role).mints, Mints::Within(_)) && acts_for_organisation(target.role) {
                let outside = target.regions.iter().find(|r| !target.organisation_regions.contains(r));
                if let (Some(r), false) = (outside, target.organisation_regions.is_empty()) {
                    return deny(
                        Some("regions"),
                        format!("The organisation has no location in {r}; its token may not report there."),
                    );
                }
            }
            Ok(())
        }
        Action::ListTokens => {
            need(IssueTokens, None, "Tokens are managed by administrators and netwerkfunctionarissen.".into())
        }
        Action::SeeToken(target) => manages(caller, &target),
        Action::RevokeToken(target) => manages(caller, &target)
            .map_err(|d| Denied { field: None, reason: format!("This token may not revoke that token: {}", d.reason) }),
        Action::InjectFaults => need(InjectFaults, None, "Only an admin token may inject faults.".into()),
    }
}

/// A region's event (`/regions/VRxx` as source) that needs `capability`.
fn region_write(
    caller: &Caller,
    capability: Capability,
    region: RegionCode,
    bron: Bron,
    what: &str,
) -> Result<(), Denied> {
    let role = caller.role();
    if !may(caller, capability) {
        return deny(Some("source"), format!("a {role} token may not write {what} events"));
    }
    if !in_regions(caller, region) {
        return deny(Some("source"), format!("this token may not act in {region}"));
    }
    claims(caller, bron)
}

/// Whether the caller may claim `bron` for what it writes (see the module's doc).
fn claims(caller: &Caller, claimed: Bron) -> Result<(), Denied> {
    let allowed = bron(caller);
    if allowed.contains(&claimed) {
        return Ok(());
    }
    let list: Vec<&str> = allowed.iter().map(|b| b.as_str()).collect();
    deny(
        Some("bron"),
        format!(
            "a {} token may not claim bron {claimed} (how the GHOR received what others saw); claim one of {}",
            caller.role(),
            list.join(", ")
        ),
    )
}

/// A location's detail: in the caller's regions, and of an organisation it sees.
fn sees_location(caller: &Caller, region: RegionCode, organisation: &Slug) -> Result<(), Denied> {
    if in_regions(caller, region) && visibility(caller).sees_organisation(organisation) {
        Ok(())
    } else {
        deny(None, "This token may not see the detail of this location.")
    }
}

/// Whether the caller may create, see or revoke a token like `target`; says which
/// field is not allowed, and why.
fn manages(caller: &Caller, target: &TokenTarget<'_>) -> Result<(), Denied> {
    let role = caller.role();
    if !may(caller, Capability::IssueTokens) {
        return deny(Some("role"), format!("A {role} token may not create tokens."));
    }
    match grants(role).mints {
        Mints::Any => Ok(()),
        Mints::None => deny(Some("role"), format!("A {role} token may not create tokens.")),
        Mints::Within(roles) => {
            if !roles.contains(&target.role) {
                return deny(Some("role"), format!("A {role} token may not create {} tokens.", target.role));
            }
            if target.scope != caller.scope() {
                return deny(
                    Some("scope"),
                    format!(
                        "This token works in {}; it may create tokens for {} only.",
                        caller.scope(),
                        caller.scope()
                    ),
                );
            }
            if target.regions.is_empty() {
                return deny(Some("national"), "Only an administrator creates national tokens.");
            }
            if let Some(r) = target.regions.iter().find(|r| !in_regions(caller, **r)) {
                return deny(Some("regions"), format!("{r} lies outside this token's regions."));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_is_in_the_table_and_writers_can_claim_their_own_bron() {
        for role in Role::ALL {
            let g = grants(*role);
            assert!(g.may.contains(&Capability::ReadPicture), "{role} reads the picture");
            let writes = g.may.iter().any(|c| {
                matches!(
                    c,
                    Capability::Report
                        | Capability::ReportOnBehalf
                        | Capability::Register
                        | Capability::Acknowledge
                        | Capability::ManageIncidents
                        | Capability::SetThresholds
                )
            });
            assert_eq!(writes, g.bron.contains(&Bron::Api), "{role}: a writer may claim api, a reader nothing");
            let relays = g.bron.iter().any(|b| matches!(b, Bron::Ovdg | Bron::Lcms));
            assert_eq!(
                relays,
                g.may.contains(&Capability::ReportOnBehalf),
                "{role}: only who reports on behalf relays"
            );
        }
    }
}
