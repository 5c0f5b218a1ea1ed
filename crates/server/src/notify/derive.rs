//! Which notifications an event calls for, decided from the picture as folded up to and
//! including that event: pure, so every restart derives the same ones, with the same ids.
//! Whom (which contacts, which endpoints) is for the notifier to look up; this says about
//! which location, for which functional roles, and with what text. An alert condition that
//! an event started ([`ghor_domain::condition`]) is told to each subscription to it
//! ([`subscription_notice`]): about a location, or about the region itself.

use chrono::{DateTime, Utc};
use ghor_domain::condition::Started;
use ghor_domain::payload::Payload;
use ghor_domain::vocab::{AnswerState, ContactRole, Lang, NotificationKind, SubscriptionKind};
use ghor_domain::{Event, Picture, RegionCode, Scope, Slug};
use ghor_store::Subscription;
use serde_json::{json, Value};
use uuid::Uuid;

/// One notification about one location (or, for a subscription to a region's own
/// condition, about the region), before it is addressed to anyone.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The event that called for it.
    pub cause: Uuid,
    pub kind: NotificationKind,
    /// The uitvraag or handelingsperspectief it is about.
    pub about: Option<Slug>,
    /// None: the notice is about the region itself (its IC capacity).
    pub location: Option<Slug>,
    /// The location's region (or the region), stamped on the outcome events.
    pub region: RegionCode,
    /// The location whose record the outcome events join (a notification event is about a
    /// location): the notice's own, or for a region's own condition the location whose
    /// report started it.
    pub recorded_at: Option<Slug>,
    /// The location's organisation, whose webhook endpoints hear of it; none for a
    /// subscription's notice, which goes to the subscription's own channels only.
    pub organisation: Option<Slug>,
    /// The functional roles whose contacts get it by email.
    pub roles: Vec<ContactRole>,
    pub oefening: bool,
    pub subject: String,
    pub body: String,
    /// What a machine receiver gets as the CloudEvent's `data`.
    pub data: Value,
}

/// What the notices are built with: where the page is, and after how many unanswered
/// reminders the vervanger is told too.
#[derive(Debug, Clone)]
pub struct Context {
    pub public_url: String,
    pub escalate_after: u32,
    pub scope: Scope,
    /// The notifier's clock: nothing is asked after its deadline.
    pub now: DateTime<Utc>,
}

/// The notices `event` calls for, once folded into `picture`.
pub fn notices(picture: &Picture, event: &Event, cx: &Context) -> Vec<Notice> {
    match &event.payload {
        Payload::UitvraagOpened { uitvraag, .. } => uitvraag_notices(picture, event, uitvraag, None, cx),
        Payload::UitvraagReminderDue { uitvraag, data } => {
            uitvraag_notices(picture, event, uitvraag, Some(data.round.get()), cx)
        }
        Payload::HandelingsperspectiefPublished { advice, .. } => {
            let Some(a) = picture.handelingsperspectieven.get(advice).filter(|a| a.published.id == event.id) else {
                return Vec::new();
            };
            let d = &a.published.value;
            let link = |l: &Slug| format!("{}/?handelingsperspectief={advice}&location={l}", cx.public_url);
            a.addressed
                .iter()
                .filter_map(|l| {
                    let text = format!(
                        "Handelingsperspectief van de GHOR ({}), urgentie {}:\n\n{}\n\n{}\n\nBevestig dat u het gelezen hebt: {}\n",
                        a.region,
                        d.urgency.label(Lang::Nl).to_lowercase(),
                        d.title.as_str(),
                        d.text.as_str(),
                        link(l),
                    );
                    let data = json!({
                        "kind": NotificationKind::Handelingsperspectief, "handelingsperspectief": advice,
                        "location": l, "title": d.title.as_str(), "text": d.text.as_str(), "urgency": d.urgency,
                        "link": link(l),
                    });
                    notice(picture, event, NotificationKind::Handelingsperspectief, Some(advice), l, &[ContactRole::Crisiscoordinator], format!("Handelingsperspectief: {}", d.title.as_str()), text, data, cx)
                })
                .collect()
        }
        Payload::ReportOverdue(o) => {
            let Some(l) = event.location() else { return Vec::new() };
            let Some(state) = picture.locations.get(l) else { return Vec::new() };
            // Reported since: nothing to remind of.
            if state.overdue_since() != Some(o.due) {
                return Vec::new();
            }
            let link = format!("{}/?location={l}", cx.public_url);
            let text = format!(
                "De GHOR heeft sinds {} geen melding van uw locatie ontvangen (verwacht elke {} minuten).\n\nGeef de actuele stand door: {link}\n",
                when(o.due),
                o.interval_minutes.get(),
            );
            let data = json!({ "kind": NotificationKind::TeLaat, "location": l, "due": o.due, "link": link });
            notice(
                picture,
                event,
                NotificationKind::TeLaat,
                None,
                l,
                &[ContactRole::Crisiscoordinator],
                "Melding te laat".into(),
                text,
                data,
                cx,
            )
            .into_iter()
            .collect()
        }
        _ => Vec::new(),
    }
}

/// The opening (`round` none) to every addressed location; a round of reminders to those
/// that have not answered (in full) at this point of the log, and from round
/// `escalate_after + 1` on to the vervanger as well.
fn uitvraag_notices(
    picture: &Picture,
    event: &Event,
    uitvraag: &Slug,
    round: Option<u32>,
    cx: &Context,
) -> Vec<Notice> {
    let Some(u) = picture.uitvragen.get(uitvraag) else { return Vec::new() };
    let d = &u.opened.value;
    if u.closed.is_some() || cx.now >= d.deadline || (round.is_none() && u.opened.id != event.id) {
        return Vec::new();
    }
    let (kind, roles): (NotificationKind, &[ContactRole]) = match round {
        None => (NotificationKind::Uitvraag, &[ContactRole::Crisiscoordinator]),
        Some(r) if r > cx.escalate_after => {
            (NotificationKind::Escalatie, &[ContactRole::Crisiscoordinator, ContactRole::CrisiscoordinatorVervanger])
        }
        Some(_) => (NotificationKind::Herinnering, &[ContactRole::Crisiscoordinator]),
    };
    let asked: Vec<String> = d
        .asked
        .iter()
        .map(|a| {
            let keys: Vec<&str> = a.keys.iter().map(|k| k.as_str()).collect();
            let label = a.dimension.label(Lang::Nl);
            if keys.is_empty() {
                label.to_owned()
            } else {
                format!("{label} ({})", keys.join(", "))
            }
        })
        .collect();
    let waiting = |l: &&Slug| round.is_none() || matches!(u.answer(l).state, AnswerState::Open | AnswerState::Deels);
    u.addressed
        .iter()
        .filter(waiting)
        .filter_map(|l| {
            let link = format!("{}/?uitvraag={uitvraag}&location={l}", cx.public_url);
            let lead = match (kind, round) {
                (NotificationKind::Escalatie, Some(r)) => format!("Escalatie: ook na {} herinneringen is deze uitvraag van uw locatie nog niet beantwoord.\n\n", r - 1),
                (_, Some(r)) => format!("Herinnering {r}: deze uitvraag is van uw locatie nog niet (volledig) beantwoord.\n\n"),
                _ => String::new(),
            };
            let text = format!(
                "{lead}Uitvraag van de GHOR ({}): {}\n\n{}Gevraagd: {}\nAntwoord vóór: {}\n\nBeantwoord via: {link}\nNiet getroffen? Dat meldt u via dezelfde link met één klik.\n",
                u.region,
                d.title.as_str(),
                d.question.as_ref().map(|q| format!("{}\n\n", q.as_str())).unwrap_or_default(),
                asked.join(", "),
                when(d.deadline),
            );
            let prefix = match kind {
                NotificationKind::Herinnering => "Herinnering uitvraag",
                NotificationKind::Escalatie => "Escalatie uitvraag",
                _ => "Uitvraag",
            };
            let subject = format!("{prefix}: {} (vóór {})", d.title.as_str(), when(d.deadline));
            let data = json!({
                "kind": kind, "uitvraag": uitvraag, "location": l, "round": round, "title": d.title.as_str(),
                "question": d.question.as_ref().map(|q| q.as_str()), "asked": d.asked, "deadline": d.deadline,
                "link": link,
            });
            notice(picture, event, kind, Some(uitvraag), l, roles, subject, text, data, cx)
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn notice(
    picture: &Picture,
    event: &Event,
    kind: NotificationKind,
    about: Option<&Slug>,
    location: &Slug,
    roles: &[ContactRole],
    subject: String,
    body: String,
    data: Value,
    cx: &Context,
) -> Option<Notice> {
    let state = picture.locations.get(location)?;
    let info = &state.info.as_ref()?.value;
    let (subject, body, data) = marked(cx, subject, body, data);
    let body = format!("{body}\nLocatie: {} ({location})\n-- \nghor, GHOR-informatievoorziening\n", info.name.as_str());
    Some(Notice {
        cause: event.id,
        kind,
        about: about.cloned(),
        location: Some(location.clone()),
        region: state.region().unwrap_or(event.stamp.region),
        recorded_at: Some(location.clone()),
        organisation: Some(info.organisation.clone()),
        roles: roles.to_vec(),
        oefening: cx.scope == Scope::Oefening,
        subject,
        body,
        data,
    })
}

/// In an exercise, the subject, body and data say OEFENING.
fn marked(cx: &Context, subject: String, body: String, mut data: Value) -> (String, String, Value) {
    if cx.scope == Scope::Oefening {
        data["oefening"] = json!(true);
        (
            format!("[OEFENING] {subject}"),
            format!("OEFENING — dit bericht hoort bij een oefening, niet bij een echte crisis.\n\n{body}\nOEFENING\n"),
            data,
        )
    } else {
        (subject, body, data)
    }
}

/// What `subscription` is told of a condition that `event` started in its region.
pub fn subscription_notice(
    picture: &Picture,
    event: &Event,
    started: &Started,
    subscription: &Subscription,
    cx: &Context,
) -> Notice {
    let region = subscription.region;
    let region_name = &region.info().name;
    let place = started.location.as_ref().map(|l| {
        let name = picture.locations.get(l).and_then(|s| s.info.as_ref()).map_or(l.as_str(), |i| i.value.name.as_str());
        (l, name.to_owned())
    });
    let link = match &place {
        Some((l, _)) => format!("{}/?location={l}", cx.public_url),
        None => format!("{}/?region={region}", cx.public_url),
    };
    let at = |(l, name): &(&Slug, String)| format!("{name} ({l})");
    let (subject, what) = match (started.kind, &place) {
        (SubscriptionKind::IcFreeBelow, _) => {
            let (free, below) = (started.ic_free.unwrap_or(0), subscription.value.unwrap_or(0));
            (
                format!("IC-bedden vrij onder {below} in {region_name}"),
                format!("In {region_name} ({region}) zijn nog {free} operationele IC-bedden vrij: minder dan {below}."),
            )
        }
        (SubscriptionKind::SehStop, Some(p)) => {
            (format!("SEH-stop: {}", p.1), format!("{} meldt een SEH-stop.", at(p)))
        }
        (SubscriptionKind::UtilityDownWithoutBackup, Some(p)) => {
            let utility = started.condition.rsplit('/').next().and_then(ghor_domain::vocab::Utility::parse);
            let label = utility.map_or("Een nutsvoorziening", |u| u.label(Lang::Nl));
            (
                format!("{label} uitgevallen zonder noodvoorziening: {}", p.1),
                format!("{} meldt: {label} uitgevallen, zonder noodvoorziening.", at(p)),
            )
        }
        (SubscriptionKind::ReportOverdue, Some(p)) => {
            (format!("Melding te laat: {}", p.1), format!("{} heeft binnen zijn meldinterval niets gemeld.", at(p)))
        }
        (_, None) => (started.kind.label(Lang::Nl).to_owned(), format!("In {region_name} ({region}).")),
    };
    let body = format!(
        "{what}\n\nBekijk het beeld: {link}\n\nU krijgt dit bericht omdat u bent geabonneerd op \"{}\" in {region_name} (abonnement {}).\n",
        started.kind.label(Lang::Nl),
        subscription.id,
    );
    let data = json!({
        "kind": NotificationKind::Abonnement, "subscription": subscription.id, "condition": started.kind,
        "alert": started.condition, "region": region, "location": started.location, "value": subscription.value,
        "ic_free": started.ic_free, "link": link,
    });
    let (subject, body, data) = marked(cx, subject, body, data);
    Notice {
        cause: event.id,
        kind: NotificationKind::Abonnement,
        about: None,
        location: started.location.clone(),
        region,
        recorded_at: started.location.clone().or_else(|| event.location().cloned()),
        organisation: None,
        roles: Vec::new(),
        oefening: cx.scope == Scope::Oefening,
        subject,
        body: format!("{body}-- \nghor, GHOR-informatievoorziening\n"),
        data,
    }
}

/// A moment as the message says it.
fn when(t: DateTime<Utc>) -> String {
    t.format("%d-%m-%Y %H:%M UTC").to_string()
}
