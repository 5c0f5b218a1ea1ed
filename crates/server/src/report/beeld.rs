//! The beeld: the situational report of a region at a moment, for the ROT and the bestuur.
//! It is laid out from the region's view then, compared with the moment of the previous
//! beeld issued (or an hour earlier when none was), and says only what the reader may see
//! of the picture: [`Shown`] is the region's view as the API gives it to that reader.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ghor_domain::payload::{BeeldData, Status};
use ghor_domain::picture::{LocationState, Observation};
use ghor_domain::view::RegionView;
use ghor_domain::vocab::{
    AcuteFunction, AnswerState, BedType, CareType, Dimension, DisbalanceLevel, FunctionStatus, Lang, State,
    UtilityStatus,
};
use ghor_domain::{Picture, RegionCode, Slug};
use serde_json::Value;

use super::{words, Block, Document, Figure, Section};
use crate::gateway::lookback::Clock;

/// The region's picture at one moment, and what the reader may see of it.
pub struct Moment<'a> {
    pub at: DateTime<Utc>,
    pub picture: &'a Picture,
    pub view: &'a RegionView,
    pub shown: &'a Shown,
}

/// The region's view as the reader may see it (the API's filtered view): which locations
/// and which of their dimensions, which figures of the totals, which alerts.
pub struct Shown(pub Value);

impl Shown {
    /// Whether the reader sees `dimension` of `location`.
    pub fn sees(&self, location: &Slug, dimension: Dimension) -> bool {
        self.0["locations"][location.as_str()]["dimensions"].get(dimension.as_str()).is_some()
    }

    /// Whether a figure of the totals (`beds`, `ic`) is shown, not withheld.
    fn figure(&self, field: &str, key: Option<&str>) -> bool {
        let figure = &self.0["totals"][field];
        let figure = key.map_or(figure, |k| &figure[k]);
        !figure.is_null() && figure.get("withheld").is_none()
    }

    fn alert(&self, id: &str) -> bool {
        self.0["alerts"].get(id).is_some()
    }
}

/// The moment a beeld at `at` compares with: the previous beeld's (of those issued by now,
/// in `now`), or an hour earlier.
pub fn compared_with(now: &Picture, region: RegionCode, at: DateTime<Utc>) -> DateTime<Utc> {
    previous(now, region, at).map_or(at - Duration::hours(1), |(_, b)| b.value.at)
}

/// The newest beeld issued of `region` of a moment before `at`.
fn previous(picture: &Picture, region: RegionCode, at: DateTime<Utc>) -> Option<(&Slug, &Observation<BeeldData>)> {
    issued(picture, region).filter(|(_, b)| b.value.at < at).max_by_key(|(_, b)| (b.value.at, b.time))
}

fn issued(picture: &Picture, region: RegionCode) -> impl Iterator<Item = (&Slug, &Observation<BeeldData>)> {
    picture.beelden.get(&region).into_iter().flatten()
}

/// The beeld of `then.view`'s region at `then.at`, compared with `base`; `now` is the
/// picture now, which holds every beeld issued (also those issued after `then.at`).
pub fn document(lang: Lang, clock: Clock, scope_label: &str, now: &Picture, then: &Moment, base: &Moment) -> Document {
    let t = words(lang);
    let region = then.view.region;
    // This beeld is an issued one when one was issued of exactly this moment.
    let mut of_region: Vec<_> = issued(now, region).collect();
    of_region.sort_by_key(|(_, b)| (b.value.at, b.time));
    // The last issued of exactly this moment (a correction replaces the one before).
    let this = of_region.iter().rposition(|(_, b)| b.value.at == then.at && clock == Clock::Known);
    let prior = previous(now, region, then.at);
    let when = |at| moment_label(at, lang);
    let since = match prior {
        Some(_) => {
            format!("{} {}", t("sinds het vorige beeld,", "since the previous beeld,"), near(base.at, then.at, lang))
        }
        None => format!("{} {}", t("sinds", "since"), near(base.at, then.at, lang)),
    };

    let mut meta = vec![(t("Moment", "Moment").to_owned(), when(then.at))];
    meta.push((
        t("Klok", "Clock").to_owned(),
        match clock {
            Clock::Known => t("zoals toen bekend", "as known then"),
            Clock::Observed => t("zoals waargenomen (met late meldingen)", "as observed (with late reports)"),
        }
        .to_owned(),
    ));
    let status = match this {
        Some(n) => {
            let (_, b) = of_region[n];
            format!("{} {} — {} {}", t("Beeld", "Beeld"), n + 1, t("uitgegeven door", "issued by"), b.actor)
        }
        None => t("Concept: niet uitgegeven", "Draft: not issued").to_owned(),
    };
    meta.push((t("Status", "Status").to_owned(), status));
    meta.push((
        t("Vorig beeld", "Previous beeld").to_owned(),
        prior.map_or_else(|| t("geen", "none").to_owned(), |(_, b)| when(b.value.at)),
    ));
    meta.push((t("Omgeving", "Environment").to_owned(), scope_label.to_owned()));

    let mut sections = Vec::new();
    if let Some(summary) = this.and_then(|n| of_region[n].1.value.summary.as_ref()) {
        let paragraphs = summary.as_str().lines().filter(|l| !l.trim().is_empty());
        sections.push(Section {
            heading: t("Duiding van de informatiemanager", "The information manager's interpretation").to_owned(),
            blocks: paragraphs.map(|p| Block::Paragraph(p.to_owned())).collect(),
        });
    }
    let overview = vec![Block::Figures(key_figures(lang, then, base, &since))];
    sections.push(Section { heading: t("Samenvatting", "Summary").to_owned(), blocks: overview });
    sections.push(incidents(lang, then));
    sections.push(beds(lang, then, base, &since));
    sections.push(acute_functions(lang, then));
    sections.push(disbalances(lang, then));
    sections.push(utilities(lang, then));
    sections.push(staffing(lang, then));
    sections.push(help_requests(lang, then));
    sections.push(relocation(lang, then));
    sections.push(uitvragen(lang, then));
    sections.push(changes(lang, then, base, &since));

    let title = format!("{} {} ({})", t("Beeld", "Situation report"), then.view.name, region);
    Document {
        lang,
        subtitle: format!(
            "{} {}",
            t("Zorgcontinuïteit in de regio op", "Continuity of care in the region at"),
            when(then.at)
        ),
        footer: format!("ghor · {title} · {}", when(then.at)),
        title,
        meta,
        sections,
    }
}

/// The figures the ROT looks at first, with what they changed by.
fn key_figures(lang: Lang, then: &Moment, base: &Moment, since: &str) -> Vec<Figure> {
    let t = words(lang);
    let (now, was) = (&then.view.totals, &base.view.totals);
    let mut figures = vec![
        Figure {
            label: t("Actieve incidenten (hoogste GRIP)", "Active incidents (highest GRIP)").to_owned(),
            value: format!("{} (GRIP {})", now.active_incidents, now.max_grip),
            change: change(now.active_incidents, was.active_incidents, since),
        },
        Figure {
            label: t("Locaties die melden", "Locations reporting").to_owned(),
            value: format!("{} / {}", now.reporting, now.locations),
            change: change(now.reporting, was.reporting, since),
        },
    ];
    let mut single = |label: &str, field: &str, value: fn(&ghor_domain::view::Totals) -> u32| {
        if then.shown.figure(field, None) {
            let was = base.shown.figure(field, None).then(|| value(was));
            let change = was.map(|w| change(value(now), w, since)).unwrap_or_default();
            figures.push(Figure { label: label.to_owned(), value: value(now).to_string(), change });
        }
    };
    single(t("Open hulpvragen", "Open help requests"), "open_help_requests", |t| t.open_help_requests);
    single(t("Nutsvoorzieningen uitgevallen", "Utilities down"), "utilities_down", |t| t.utilities_down);
    single(t("Open diensten 24 uur", "Unfilled shifts 24 h"), "unfilled_shifts_24h", |t| t.unfilled_shifts_24h);
    if then.shown.figure("beds", Some(BedType::Ic.as_str())) {
        let free = |v: &RegionView| v.totals.beds.get(&BedType::Ic).map_or(0, |c| c.free);
        let was = base.shown.figure("beds", Some(BedType::Ic.as_str())).then(|| free(base.view));
        figures.push(Figure {
            label: t("IC-bedden vrij", "ICU beds free").to_owned(),
            value: free(then.view).to_string(),
            change: was.map(|w| change(free(then.view), w, since)).unwrap_or_default(),
        });
    }
    let stops: u32 = now.acute_function_stops.values().sum();
    figures.push(Figure {
        label: t("Acute functies gestopt", "Acute functions stopped").to_owned(),
        value: stops.to_string(),
        change: change(stops, was.acute_function_stops.values().sum(), since),
    });
    figures
}

/// "+3 since 14:00", or "unchanged since 14:00".
fn change(now: u32, was: u32, since: &str) -> String {
    let delta = i64::from(now) - i64::from(was);
    match delta {
        0 => format!("= {since}"),
        d => format!("{d:+} {since}"),
    }
}

fn incidents(lang: Lang, then: &Moment) -> Section {
    let t = words(lang);
    let rows = then
        .view
        .incidents
        .values()
        .map(|i| {
            vec![
                i.name.clone(),
                i.state.label(lang).to_owned(),
                i.grip.to_string(),
                i.opened.map(|o| moment_label(o, lang)).unwrap_or_default(),
                i.not_reported.len().to_string(),
            ]
        })
        .collect();
    Section::table(
        t("Incidenten", "Incidents"),
        &[
            (t("Incident", "Incident"), false),
            (t("Status", "State"), false),
            ("GRIP", true),
            (t("Actief sinds", "Active since"), false),
            (t("Nog niet gemeld", "Not yet reported"), true),
        ],
        rows,
        t("Geen incidenten in deze regio.", "No incidents in this region."),
    )
}

fn beds(lang: Lang, then: &Moment, base: &Moment, since: &str) -> Section {
    let t = words(lang);
    let withheld = t("afgeschermd: te weinig locaties", "withheld: too few locations");
    // The age of a total is that of the oldest report in it.
    let mut oldest: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for id in then.view.locations.keys() {
        for o in then.picture.locations.get(id).into_iter().flat_map(|l| current(l, Dimension::Beds)) {
            let key = o.value.key();
            let t = oldest.entry(key).or_insert(o.time);
            *t = (*t).min(o.time);
        }
    }
    let rows = then
        .view
        .totals
        .beds
        .iter()
        .map(|(bed, c)| {
            if !then.shown.figure("beds", Some(bed.as_str())) {
                let mut row = vec![String::new(); 7];
                (row[0], row[6]) = (bed.label(lang).to_owned(), withheld.to_owned());
                return row;
            }
            let was = base.view.totals.beds.get(bed).filter(|_| base.shown.figure("beds", Some(bed.as_str())));
            vec![
                bed.label(lang).to_owned(),
                c.operational.to_string(),
                c.occupied.to_string(),
                c.free.to_string(),
                was.map(|w| change(c.free, w.free, since)).unwrap_or_default(),
                c.surge_24h.to_string(),
                oldest.get(bed.as_str()).map(|o| near(*o, then.at, lang)).unwrap_or_default(),
            ]
        })
        .collect();
    Section::table(
        t("Capaciteit per beddentype", "Capacity by bed type"),
        &[
            (t("Beddentype", "Bed type"), false),
            (t("Operationeel", "Operational"), true),
            (t("Bezet", "Occupied"), true),
            (t("Vrij", "Free"), true),
            (t("Verloop vrij", "Change in free"), false),
            (t("Extra binnen 24 uur", "Extra within 24 h"), true),
            (t("Oudste melding", "Oldest report"), false),
        ],
        rows,
        t("Geen bedden gemeld.", "No beds reported."),
    )
}

/// The region's locations whose `dimension` the reader sees, with their name and state.
fn seen<'a>(then: &'a Moment, dimension: Dimension) -> impl Iterator<Item = (&'a Slug, String, &'a LocationState)> {
    then.view.locations.iter().filter(move |(id, _)| then.shown.sees(id, dimension)).filter_map(|(id, l)| {
        let state = then.picture.locations.get(id)?;
        Some((id, l.name.clone(), state))
    })
}

/// A location's current observations of `dimension`, leaving out the withdrawn.
fn current(location: &LocationState, dimension: Dimension) -> impl Iterator<Item = &Observation<Status>> {
    location.slots.get(&dimension).into_iter().flat_map(|s| s.values()).filter(|o| !location.retracted.contains(&o.id))
}

fn acute_functions(lang: Lang, then: &Moment) -> Section {
    let t = words(lang);
    let mut rows = Vec::new();
    for (_, name, location) in seen(then, Dimension::AcuteFunction) {
        for o in current(location, Dimension::AcuteFunction) {
            if let Status::AcuteFunction { key, data } = &o.value {
                if data.status != FunctionStatus::Open {
                    rows.push(vec![
                        key.label(lang).to_owned(),
                        name.clone(),
                        data.status.label(lang).to_owned(),
                        data.reason.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default(),
                        data.expected_end.map(|e| moment_label(e, lang)).unwrap_or_default(),
                        near(o.time, then.at, lang),
                    ]);
                }
            }
        }
    }
    let mut section = Section::table(
        t("Acute functiestops", "Acute function stops"),
        &[
            (t("Functie", "Function"), false),
            (t("Locatie", "Location"), false),
            (t("Status", "Status"), false),
            (t("Reden", "Reason"), false),
            (t("Verwacht einde", "Expected end"), false),
            (t("Gemeld", "Reported"), false),
        ],
        rows,
        t("Geen stops gemeld die u kunt zien.", "No stops reported that you can see."),
    );
    // The region's count per function, also of locations the reader does not see.
    let counts: Vec<String> = AcuteFunction::ALL
        .iter()
        .filter_map(|f| then.view.totals.acute_function_stops.get(f).filter(|n| **n > 0).map(|n| (f, n)))
        .filter(|(f, _)| then.shown.figure("acute_function_stops", Some(f.as_str())))
        .map(|(f, n)| format!("{} {n}", f.label(lang)))
        .collect();
    if !counts.is_empty() {
        let line = format!("{}: {}.", t("Stops in de regio", "Stops in the region"), counts.join(", "));
        section.blocks.insert(0, Block::Paragraph(line));
    }
    section
}

fn disbalances(lang: Lang, then: &Moment) -> Section {
    let t = words(lang);
    let mut per_level: BTreeMap<DisbalanceLevel, u32> = BTreeMap::new();
    let mut rows = Vec::new();
    let mut counted = 0;
    for (_, name, location) in seen(then, Dimension::Disbalance) {
        let levels: Vec<_> = current(location, Dimension::Disbalance)
            .filter_map(|o| match &o.value {
                Status::Disbalance { key, data } => Some((data.level, *key)),
                _ => None,
            })
            .collect();
        let Some(highest) = levels.iter().map(|(level, _)| *level).max() else { continue };
        counted += 1;
        *per_level.entry(highest).or_default() += 1;
        if highest >= DisbalanceLevel::KetenhulpNodig {
            let which: Vec<_> =
                levels.iter().filter(|(l, _)| *l == highest).map(|(_, d)| d.label(lang).to_owned()).collect();
            rows.push(vec![name, highest.label(lang).to_owned(), which.join(", ")]);
        }
    }
    rows.sort_by(|a, b| b[1].cmp(&a[1]).then(a[0].cmp(&b[0])));
    let levels = DisbalanceLevel::ALL
        .iter()
        .rev()
        .map(|l| Figure {
            label: l.label(lang).to_owned(),
            value: per_level.get(l).copied().unwrap_or(0).to_string(),
            change: String::new(),
        })
        .collect();
    let mut section = Section::table(
        t("Locaties per disbalansniveau", "Locations by disbalance level"),
        &[
            (t("Locatie", "Location"), false),
            (t("Hoogste niveau", "Highest level"), false),
            (t("Disbalansen", "Disbalances"), false),
        ],
        rows,
        t(
            "Geen locatie heeft ketenhulp nodig of staat op een kantelpunt.",
            "No location needs chain support or is at a tipping point.",
        ),
    );
    let over = format!(
        "{} {counted} {}",
        t("Hoogste niveau per locatie, over de", "Highest level per location, over the"),
        t("locaties die een disbalans meldden.", "locations that reported a disbalance.")
    );
    if then.shown.0["locations"].as_object().is_some_and(|l| l.is_empty()) {
        // One who sees no location gets the region's count per state instead.
        let states = &then.shown.0["totals"]["states"]["disbalance"];
        let counts = State::ALL.iter().filter_map(|s| {
            let value = states[s.as_str()].as_u64().map(|n| n.to_string());
            let value = value
                .or_else(|| states[s.as_str()].get("withheld").map(|_| t("afgeschermd", "withheld").to_owned()))?;
            Some(Figure { label: s.label(lang).to_owned(), value, change: String::new() })
        });
        let note = t(
            "Locaties per staat van hun disbalansen in de regio.",
            "Locations by the state of their disbalances in the region.",
        );
        section.blocks = vec![Block::Figures(counts.collect()), Block::Paragraph(note.to_owned())];
        return section;
    }
    section.blocks.splice(0..0, [Block::Figures(levels), Block::Paragraph(over)]);
    section
}

fn utilities(lang: Lang, then: &Moment) -> Section {
    let t = words(lang);
    let mut rows = Vec::new();
    for (_, name, location) in seen(then, Dimension::Utility) {
        for o in current(location, Dimension::Utility) {
            if let Status::Utility { key, data } = &o.value {
                if data.status != UtilityStatus::Normaal || data.on_backup {
                    rows.push(vec![
                        name.clone(),
                        key.label(lang).to_owned(),
                        data.status.label(lang).to_owned(),
                        if data.on_backup { t("ja", "yes") } else { t("nee", "no") }.to_owned(),
                        data.backup_hours_left.map(|h| h.get().to_string()).unwrap_or_default(),
                        near(o.time, then.at, lang),
                    ]);
                }
            }
        }
    }
    let mut section = Section::table(
        t("Nutsvoorzieningen en ICT", "Utilities and ICT"),
        &[
            (t("Locatie", "Location"), false),
            (t("Voorziening", "Utility"), false),
            (t("Status", "Status"), false),
            (t("Op noodvoorziening", "On backup"), false),
            (t("Uren noodvoorziening over", "Backup hours left"), true),
            (t("Gemeld", "Reported"), false),
        ],
        rows,
        t("Geen verstoringen gemeld die u kunt zien.", "No disruptions reported that you can see."),
    );
    let totals = &then.view.totals;
    let mut figures = Vec::new();
    for (label, field, value) in [
        (t("Uitgevallen", "Down"), "utilities_down", totals.utilities_down),
        (t("Locaties op noodstroom", "Locations on backup power"), "on_backup_power", totals.on_backup_power),
    ] {
        if then.shown.figure(field, None) {
            figures.push(Figure { label: label.to_owned(), value: value.to_string(), change: String::new() });
        }
    }
    let figures = if figures.is_empty() {
        Block::Paragraph(
            t("Aantallen afgeschermd: te weinig locaties.", "Figures withheld: too few locations.").to_owned(),
        )
    } else {
        Block::Figures(figures)
    };
    section.blocks.insert(0, figures);
    section
}

fn staffing(lang: Lang, then: &Moment) -> Section {
    let t = words(lang);
    let mut rows = Vec::new();
    for (_, name, location) in seen(then, Dimension::Staffing) {
        for o in current(location, Dimension::Staffing) {
            if let Status::Staffing { key, data } = &o.value {
                if data.critical || data.unfilled_shifts_24h.get() > 0 {
                    rows.push(vec![
                        name.clone(),
                        key.label(lang).to_owned(),
                        data.unfilled_shifts_24h.get().to_string(),
                        data.absence_percent.map(|p| format!("{}%", p.get())).unwrap_or_default(),
                        if data.critical { t("kritiek", "critical") } else { "" }.to_owned(),
                        near(o.time, then.at, lang),
                    ]);
                }
            }
        }
    }
    Section::table(
        t("Personeel", "Staffing"),
        &[
            (t("Locatie", "Location"), false),
            (t("Functie", "Role"), false),
            (t("Open diensten 24 uur", "Unfilled shifts 24 h"), true),
            (t("Verzuim", "Absence"), true),
            (t("Tekort", "Shortage"), false),
            (t("Gemeld", "Reported"), false),
        ],
        rows,
        t("Geen open diensten gemeld die u kunt zien.", "No unfilled shifts reported that you can see."),
    )
}

fn help_requests(lang: Lang, then: &Moment) -> Section {
    let t = words(lang);
    let mut rows = Vec::new();
    for (_, name, location) in seen(then, Dimension::HelpRequest) {
        for o in current(location, Dimension::HelpRequest) {
            if let Status::HelpRequest { change, .. } = &o.value {
                if let Some(request) = change.request() {
                    rows.push(vec![
                        name.clone(),
                        request.category.label(lang).to_owned(),
                        request.urgency.label(lang).to_owned(),
                        change.status().label(lang).to_owned(),
                        request.text.as_str().to_owned(),
                        near(o.time, then.at, lang),
                    ]);
                }
            }
        }
    }
    Section::table(
        t("Open hulpvragen", "Open help requests"),
        &[
            (t("Locatie", "Location"), false),
            (t("Categorie", "Category"), false),
            (t("Urgentie", "Urgency"), false),
            (t("Status", "Status"), false),
            (t("Vraag", "Request"), false),
            (t("Gemeld", "Reported"), false),
        ],
        rows,
        t("Geen open hulpvragen die u kunt zien.", "No open help requests that you can see."),
    )
}

fn relocation(lang: Lang, then: &Moment) -> Section {
    let t = words(lang);
    let withheld = t("afgeschermd", "withheld");
    let rows = CareType::ALL
        .iter()
        .filter_map(|care| then.view.totals.relocation.get(care).map(|n| (care, n)))
        .map(|(care, n)| {
            if !then.shown.figure("relocation", Some(care.as_str())) {
                return vec![care.label(lang).to_owned(), withheld.to_owned(), String::new(), String::new()];
            }
            let balance = i64::from(n.capacity) - i64::from(n.need);
            vec![care.label(lang).to_owned(), n.need.to_string(), n.capacity.to_string(), format!("{balance:+}")]
        })
        .collect();
    Section::table(
        t("Verplaatsing: behoefte en opvangcapaciteit", "Relocation: need and receiving capacity"),
        &[
            (t("Zorgsoort", "Care type"), false),
            (t("Te verplaatsen cliënten", "Clients to relocate"), true),
            (t("Opvangcapaciteit", "Receiving capacity"), true),
            (t("Saldo", "Balance"), true),
        ],
        rows,
        t(
            "Geen verplaatsingsbehoefte of opvangcapaciteit gemeld.",
            "No relocation need or receiving capacity reported.",
        ),
    )
}

fn uitvragen(lang: Lang, then: &Moment) -> Section {
    let t = words(lang);
    let count =
        |u: &ghor_domain::warm::UitvraagView, s: AnswerState| u.counts.get(&s).copied().unwrap_or(0).to_string();
    let rows = then
        .view
        .uitvragen
        .values()
        .filter(|u| !u.counts.is_empty())
        .map(|u| {
            vec![
                u.title.clone(),
                moment_label(u.deadline, lang),
                if u.closed.is_some() { t("gesloten", "closed") } else { t("open", "open") }.to_owned(),
                count(u, AnswerState::Beantwoord),
                count(u, AnswerState::Deels),
                count(u, AnswerState::NietGetroffen),
                count(u, AnswerState::Open),
            ]
        })
        .collect();
    Section::table(
        t("Uitvragen", "Enquiries"),
        &[
            (t("Uitvraag", "Enquiry"), false),
            (t("Antwoord vóór", "Answer by"), false),
            (t("Status", "State"), false),
            (t("Beantwoord", "Answered"), true),
            (t("Deels", "Partly"), true),
            (t("Niet getroffen", "Not affected"), true),
            (t("Geen antwoord", "No answer"), true),
        ],
        rows,
        t("Geen uitvragen in deze regio.", "No enquiries in this region."),
    )
}

/// What changed since the moment compared with: every headline figure that moved, and the
/// alerts raised since.
fn changes(lang: Lang, then: &Moment, base: &Moment, since: &str) -> Section {
    let t = words(lang);
    let mut rows = Vec::new();
    let mut moved = |label: String, was: u32, now: u32| {
        if was != now {
            rows.push(vec![label, was.to_string(), now.to_string(), format!("{:+}", i64::from(now) - i64::from(was))]);
        }
    };
    let (now, was) = (&then.view.totals, &base.view.totals);
    moved(t("Locaties die melden", "Locations reporting").to_owned(), was.reporting, now.reporting);
    moved(t("Actieve incidenten", "Active incidents").to_owned(), was.active_incidents, now.active_incidents);
    moved("GRIP".to_owned(), u32::from(was.max_grip), u32::from(now.max_grip));
    for bed in BedType::ALL {
        let shown = then.shown.figure("beds", Some(bed.as_str())) && base.shown.figure("beds", Some(bed.as_str()));
        let free = |totals: &ghor_domain::view::Totals| totals.beds.get(bed).map_or(0, |c| c.free);
        if shown {
            moved(format!("{} {}", bed.label(lang), t("vrij", "free")), free(was), free(now));
        }
    }
    for (label, field, value) in [
        (
            t("Open hulpvragen", "Open help requests"),
            "open_help_requests",
            (|t: &ghor_domain::view::Totals| t.open_help_requests) as fn(&_) -> u32,
        ),
        (t("Nutsvoorzieningen uitgevallen", "Utilities down"), "utilities_down", |t| t.utilities_down),
        (t("Open diensten 24 uur", "Unfilled shifts 24 h"), "unfilled_shifts_24h", |t| t.unfilled_shifts_24h),
    ] {
        if then.shown.figure(field, None) && base.shown.figure(field, None) {
            moved(label.to_owned(), value(was), value(now));
        }
    }
    moved(
        t("Acute functies gestopt", "Acute functions stopped").to_owned(),
        was.acute_function_stops.values().sum(),
        now.acute_function_stops.values().sum(),
    );
    let mut section = Section::table(
        &format!("{} {since}", t("Veranderd", "Changed")),
        &[
            (t("Gegeven", "Figure"), false),
            (t("Toen", "Then"), true),
            (t("Nu", "Now"), true),
            (t("Verschil", "Difference"), true),
        ],
        rows,
        t("Geen van de kerngetallen is veranderd.", "None of the key figures changed."),
    );
    let mut raised: Vec<_> = then
        .view
        .alerts
        .iter()
        .filter(|(id, a)| then.shown.alert(id) && !base.view.alerts.contains_key(*id) && a.since > base.at)
        .map(|(_, a)| {
            let location = a.location.as_ref().and_then(|l| then.view.locations.get(l)).map(|l| l.name.clone());
            let key = a.key.as_deref().map(|k| a.dimension.and_then(|d| d.key_label(k, lang)).unwrap_or(k).to_owned());
            let what = [a.dimension.map(|d| d.label(lang).to_owned()), key].into_iter().flatten();
            vec![
                a.state.label(lang).to_owned(),
                location.unwrap_or_else(|| t("regio", "region").to_owned()),
                what.collect::<Vec<_>>().join(" "),
                near(a.since, then.at, lang),
            ]
        })
        .collect();
    raised.sort_by(|a, b| a[3].cmp(&b[3]));
    let alerts = Section::table(
        "",
        &[
            (t("Alarm", "Alert"), false),
            (t("Waar", "Where"), false),
            (t("Wat", "What"), false),
            (t("Sinds", "Since"), false),
        ],
        raised,
        t("Geen nieuwe alarmen.", "No new alerts."),
    );
    section.blocks.push(Block::Paragraph(t("Nieuwe alarmen:", "New alerts:").to_owned()));
    section.blocks.extend(alerts.blocks);
    section
}

/// A moment beside `then`: its time alone on the same day, else day, date and time.
pub fn near(at: DateTime<Utc>, then: DateTime<Utc>, lang: Lang) -> String {
    let amsterdam = chrono_tz::Europe::Amsterdam;
    let label = moment_label(at, lang);
    if at.with_timezone(&amsterdam).date_naive() == then.with_timezone(&amsterdam).date_naive() {
        label.rsplit(' ').next().unwrap_or_default().to_owned()
    } else {
        // "di 1 dec 2026 14:00" → "di 1 dec 14:00"
        let parts: Vec<&str> = label.split(' ').collect();
        [&parts[..3], &parts[4..]].concat().join(" ")
    }
}

/// A moment as the Dutch crisis organisation reads it: local time, day and date.
pub fn moment_label(at: DateTime<Utc>, lang: Lang) -> String {
    use chrono::{Datelike, Timelike};
    let local = at.with_timezone(&chrono_tz::Europe::Amsterdam);
    let weekday = local.weekday().num_days_from_monday() as usize;
    let month = local.month0() as usize;
    let (days, months) = match lang {
        Lang::Nl => (
            ["ma", "di", "wo", "do", "vr", "za", "zo"],
            ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
        ),
        Lang::En => (
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        ),
    };
    format!(
        "{} {} {} {} {:02}:{:02}",
        days[weekday],
        local.day(),
        months[month],
        local.year(),
        local.hour(),
        local.minute()
    )
}
