//! The evaluation of an incident or exercise, from the log alone: the log is folded from
//! before the incident opened to its end, and along the way it notes how the incident
//! changed (state, GRIP), when each location in its area first reported, how long each
//! spent at each disbalance level, which alerts were raised (thresholds crossed), when,
//! and how long until someone acknowledged them, and how the uitvragen of the incident
//! were answered. Laid out as a [`Document`] with charts, and as CSV.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ghor_domain::payload::Status;
use ghor_domain::picture::Touched;
use ghor_domain::view::{Alert, Views};
use ghor_domain::vocab::{DisbalanceLevel, IncidentState, Lang};
use ghor_domain::{Event, Payload, Picture, RegionCode, Slug};

use super::beeld::moment_label;
use super::{csv_cell, words, Block, Chart, Document, Figure, Section, Series};

/// What happened in one incident, worked out from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub incident: Slug,
    pub name: String,
    pub region: RegionCode,
    /// When it was first observed active.
    pub opened: DateTime<Utc>,
    /// When it was closed or scaled down for the last time, if it was.
    pub ended: Option<DateTime<Utc>>,
    /// The end of what was evaluated: its end, or the last event read.
    pub until: DateTime<Utc>,
    pub changes: Vec<Change>,
    /// Every location in its area (at its end), by name.
    pub locations: Vec<Outcome>,
    pub alerts: Vec<AlertOutcome>,
    pub uitvragen: Vec<UitvraagOutcome>,
}

/// One change of the incident: its state and GRIP from `time`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub time: DateTime<Utc>,
    pub state: IncidentState,
    pub grip: u8,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub id: Slug,
    pub name: String,
    /// Its first report observed at or after the opening.
    pub first_report: Option<DateTime<Utc>>,
    /// Time spent at each level (its highest disbalance) between the opening and the end.
    pub at_level: BTreeMap<DisbalanceLevel, Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertOutcome {
    pub id: String,
    pub alert: Alert,
    /// The value of the threshold it crossed, as it was set then.
    pub threshold: Option<u32>,
    /// When what ended it was observed; none while it held at the end.
    pub cleared: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UitvraagOutcome {
    pub title: String,
    pub opened: DateTime<Utc>,
    pub addressed: u32,
    /// Minutes from the opening until each location answered in full (or said it was not
    /// affected), ascending.
    pub answered_minutes: Vec<i64>,
}

/// An evaluation under way: the picture and views folded so far, and what was noted.
pub struct Evaluating {
    incident: Slug,
    picture: Picture,
    views: Views,
    changes: Vec<Change>,
    /// When each location reported anything (observed), to find its first after the opening.
    reports: BTreeMap<Slug, Vec<DateTime<Utc>>>,
    disbalances: BTreeMap<Slug, Vec<(DateTime<Utc>, String, DisbalanceLevel)>>,
    alerts: BTreeMap<(String, DateTime<Utc>), AlertOutcome>,
    last: Option<DateTime<Utc>>,
}

impl Evaluating {
    /// Starts from `picture`, a prefix of the log from before the incident opened.
    pub fn new(picture: Picture, incident: Slug) -> Evaluating {
        let mut disbalances: BTreeMap<Slug, Vec<_>> = BTreeMap::new();
        // The disbalances already reported when the window opens count from its start.
        for (id, location) in &picture.locations {
            for o in location.slots.values().flat_map(|s| s.values()) {
                if let Status::Disbalance { key, data } = &o.value {
                    disbalances.entry(id.clone()).or_default().push((o.time, key.as_str().to_owned(), data.level));
                }
            }
        }
        Evaluating {
            incident,
            views: Views::of(&picture),
            picture,
            changes: Vec::new(),
            reports: BTreeMap::new(),
            disbalances,
            alerts: BTreeMap::new(),
            last: None,
        }
    }

    /// Folds the next event of the log in and notes what it did.
    pub fn step(&mut self, event: &Event) {
        let mut touched = Touched::default();
        self.picture.apply_noting(event, &mut touched);
        self.views.update(&self.picture, &touched);
        self.last = Some(event.stamp.received);
        match (&event.payload, event.location()) {
            (Payload::Incident { incident, data, .. }, _) if *incident == self.incident => self.changes.push(Change {
                time: event.time,
                state: data.state,
                grip: data.grip,
                actor: event.stamp.actor.clone(),
            }),
            (Payload::Status(status), Some(id)) => {
                self.reports.entry(id.clone()).or_default().push(event.time);
                if let Status::Disbalance { key, data } = status {
                    let observed = (event.time, key.as_str().to_owned(), data.level);
                    self.disbalances.entry(id.clone()).or_default().push(observed);
                }
            }
            _ => {}
        }
        // The alerts of the incident's region as they stand after this event: one gone (or
        // begun again) was cleared by what this observed.
        let Some(region) = self.picture.incidents.get(&self.incident).map(|i| i.value.0) else { return };
        let Some(view) = self.views.get(region) else { return };
        for (key, outcome) in self.alerts.iter_mut().filter(|(_, o)| o.cleared.is_none()) {
            match view.alerts.get(&key.0).filter(|a| a.since == key.1) {
                Some(now) => outcome.alert = now.clone(),
                None => outcome.cleared = Some(event.time),
            }
        }
        for (id, alert) in &view.alerts {
            self.alerts.entry((id.clone(), alert.since)).or_insert_with(|| AlertOutcome {
                id: id.clone(),
                alert: alert.clone(),
                threshold: alert.threshold.map(|key| self.picture.threshold(region, key)),
                cleared: None,
            });
        }
    }

    /// What happened to the incident; `None` when it was never active.
    pub fn finish(mut self) -> Option<Evaluation> {
        let incident = &self.incident;
        let opened = *self.picture.incidents_opened.get(incident)?;
        let now = self.picture.incidents.get(incident)?;
        let (region, data) = &now.value;
        let mut changes = self.changes;
        changes.sort_by_key(|c| c.time);
        let ended = changes
            .iter()
            .rev()
            .take_while(|c| matches!(c.state, IncidentState::Gesloten | IncidentState::Afgeschaald))
            .last()
            .map(|c| c.time);
        let until = ended.or(self.last).unwrap_or(opened).max(opened);
        let mut locations: Vec<Outcome> = self
            .picture
            .locations
            .iter()
            .filter_map(|(id, l)| {
                let info = &l.info.as_ref()?.value;
                let reports = self.reports.get(id).into_iter().flatten();
                data.area.holds(*region, info).then(|| Outcome {
                    id: id.clone(),
                    name: info.name.as_str().to_owned(),
                    first_report: reports.filter(|t| **t >= opened && **t <= until).min().copied(),
                    at_level: time_at_level(self.disbalances.remove(id).unwrap_or_default(), opened, until),
                })
            })
            .collect();
        locations.sort_by(|a, b| a.name.cmp(&b.name));
        let alerts = self.alerts.into_values().filter(|a| a.alert.since >= opened && a.alert.since <= until).collect();
        let uitvragen = self
            .picture
            .uitvragen
            .values()
            .filter(|u| u.opened.value.incident.as_ref() == Some(incident))
            .map(|u| {
                let view = u.view(|_| true);
                let mut answered_minutes: Vec<i64> = view
                    .locations
                    .values()
                    .filter_map(|a| a.answered)
                    .map(|t| (t - u.opened.time).num_minutes())
                    .collect();
                answered_minutes.sort_unstable();
                UitvraagOutcome {
                    title: view.title,
                    opened: u.opened.time,
                    addressed: u.addressed.len() as u32,
                    answered_minutes,
                }
            })
            .collect();
        Some(Evaluation {
            incident: incident.clone(),
            name: data.name.as_str().to_owned(),
            region: *region,
            opened,
            ended,
            until,
            changes,
            locations,
            alerts,
            uitvragen,
        })
    }
}

impl Evaluation {
    /// The share of the area's locations that had reported, at each first report.
    fn coverage(&self) -> Vec<(DateTime<Utc>, f64)> {
        let total = self.locations.len().max(1) as f64;
        let mut firsts: Vec<DateTime<Utc>> = self.locations.iter().filter_map(|l| l.first_report).collect();
        firsts.sort_unstable();
        let mut points = vec![(self.opened, 0.0)];
        points.extend(firsts.iter().enumerate().map(|(i, t)| (*t, 100.0 * (i + 1) as f64 / total)));
        points
    }
}

/// How long a location spent at each highest level of its disbalances between `from` and
/// `until`, from its observations (time, disbalance, level) in any order.
fn time_at_level(
    mut observed: Vec<(DateTime<Utc>, String, DisbalanceLevel)>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> BTreeMap<DisbalanceLevel, Duration> {
    observed.sort();
    let mut current: BTreeMap<String, DisbalanceLevel> = BTreeMap::new();
    let mut spent: BTreeMap<DisbalanceLevel, Duration> = BTreeMap::new();
    let mut since = from;
    let mut level = None;
    for (time, disbalance, new) in observed.into_iter().chain([(until, String::new(), DisbalanceLevel::NietGetroffen)])
    {
        if time > since {
            if let Some(level) = level {
                let end = time.min(until);
                if end > since {
                    *spent.entry(level).or_insert_with(Duration::zero) += end - since;
                }
            }
            since = time.max(from);
        }
        if time >= until {
            break;
        }
        current.insert(disbalance, new);
        level = current.values().max().copied();
    }
    spent
}

/// The evaluation laid out; `sees` says which locations the reader may see by name (the
/// others count in every figure but show in no row).
pub fn document(
    e: &Evaluation,
    lang: Lang,
    scope_label: &str,
    made: DateTime<Utc>,
    sees: &dyn Fn(&Slug) -> bool,
) -> Document {
    let t = words(lang);
    // What a table says when it lists no one, also when it is because of who reads it.
    let unnamed = e.locations.iter().any(|l| !sees(&l.id));
    let none = |nl: &'static str, en: &'static str| {
        if unnamed {
            t(
                "Locaties worden voor uw rol niet bij naam genoemd; de aantallen hierboven tellen ze wel mee.",
                "Locations are not named for your role; the figures above do count them.",
            )
        } else {
            t(nl, en)
        }
    };
    let when = |at| moment_label(at, lang);
    let minutes = |d: Duration| format!("{} min", d.num_minutes());
    let reported: Vec<i64> =
        e.locations.iter().filter_map(|l| l.first_report.map(|f| (f - e.opened).num_minutes())).collect();
    let mut sorted = reported.clone();
    sorted.sort_unstable();
    // Of an even count, the mean of the middle two.
    let median = |v: &[i64]| match v.len() {
        0 => "—".to_owned(),
        n => format!("{} min", (v[(n - 1) / 2] + v[n / 2]) / 2),
    };

    let mut sections = vec![Section {
        heading: t("Samenvatting", "Summary").to_owned(),
        blocks: vec![Block::Figures(vec![
            figure(t("Duur", "Duration"), hours(e.until - e.opened)),
            figure(t("Hoogste GRIP", "Highest GRIP"), e.changes.iter().map(|c| c.grip).max().unwrap_or(0).to_string()),
            figure(
                t("Locaties die meldden", "Locations that reported"),
                format!("{} / {}", reported.len(), e.locations.len()),
            ),
            figure(t("Mediane tijd tot eerste melding", "Median time to first report"), median(&sorted)),
            figure(t("Alarmen", "Alerts"), e.alerts.len().to_string()),
            figure(
                t("Alarmen bevestigd", "Alerts acknowledged"),
                e.alerts.iter().filter(|a| a.alert.acknowledged_at.is_some()).count().to_string(),
            ),
        ])],
    }];

    let grip = Series {
        label: "GRIP".to_owned(),
        points: e.changes.iter().map(|c| (c.time, f64::from(c.grip))).collect(),
        step: true,
    };
    let mut course = Section::table(
        t("Verloop van het incident", "Course of the incident"),
        &[(t("Moment", "Moment"), false), (t("Status", "State"), false), ("GRIP", true), (t("Door", "By"), false)],
        e.changes
            .iter()
            .map(|c| vec![when(c.time), c.state.label(lang).to_owned(), c.grip.to_string(), c.actor.clone()])
            .collect(),
        t("Geen wijzigingen.", "No changes."),
    );
    course.blocks.insert(
        0,
        Block::Chart(Chart {
            title: t("GRIP in de tijd", "GRIP over time").to_owned(),
            y_label: t("GRIP-niveau", "GRIP level").to_owned(),
            from: e.opened,
            to: e.until,
            y_max: 5.0,
            series: vec![grip],
        }),
    );
    sections.push(course);

    let mut coverage = Section::table(
        t("Melddekking en tijd tot eerste melding", "Reporting coverage and time to first report"),
        &[
            (t("Locatie", "Location"), false),
            (t("Eerste melding", "First report"), false),
            (t("Na opening", "After opening"), true),
        ],
        e.locations
            .iter()
            .filter(|l| sees(&l.id))
            .map(|l| {
                vec![
                    l.name.clone(),
                    l.first_report.map(&when).unwrap_or_else(|| t("niet gemeld", "not reported").to_owned()),
                    l.first_report.map(|f| minutes(f - e.opened)).unwrap_or_default(),
                ]
            })
            .collect(),
        none("Geen locaties in het gebied.", "No locations in the area."),
    );
    coverage.blocks.insert(
        0,
        Block::Chart(Chart {
            title: t("Melddekking", "Reporting coverage").to_owned(),
            y_label: t("% van de locaties in het gebied", "% of the locations in the area").to_owned(),
            from: e.opened,
            to: e.until,
            y_max: 100.0,
            series: vec![Series { label: t("gemeld", "reported").to_owned(), points: e.coverage(), step: true }],
        }),
    );
    sections.push(coverage);

    let levels = [DisbalanceLevel::Zelfredzaam, DisbalanceLevel::KetenhulpNodig, DisbalanceLevel::Kantelpunt];
    let mut columns = vec![(t("Locatie", "Location"), false)];
    columns.extend(levels.iter().map(|l| (l.label(lang), true)));
    let mut at_level = Section::table(
        t("Tijd per disbalansniveau", "Time per disbalance level"),
        &columns,
        e.locations
            .iter()
            .filter(|l| sees(&l.id) && !l.at_level.is_empty())
            .map(|l| {
                let mut row = vec![l.name.clone()];
                row.extend(levels.iter().map(|level| l.at_level.get(level).map(|d| hours(*d)).unwrap_or_default()));
                row
            })
            .collect(),
        none("Geen disbalansen gemeld.", "No disbalances reported."),
    );
    let totals: Vec<Figure> = levels
        .iter()
        .map(|level| {
            let total = e.locations.iter().filter_map(|l| l.at_level.get(level)).fold(Duration::zero(), |a, d| a + *d);
            figure(
                &format!(
                    "{} {}",
                    level.label(lang),
                    t("(uren:minuten, alle locaties samen)", "(hours:minutes, all locations together)")
                ),
                hours(total),
            )
        })
        .collect();
    at_level.blocks.insert(0, Block::Figures(totals));
    sections.push(at_level);

    let named = |a: &AlertOutcome| a.alert.location.as_ref().is_none_or(sees);
    let mut alerts = Section::table(
        t("Alarmen en drempels", "Alerts and thresholds"),
        &[
            (t("Sinds", "Since"), false),
            (t("Niveau", "Level"), false),
            (t("Waar", "Where"), false),
            (t("Drempel", "Threshold"), false),
            (t("Bevestigd na", "Acknowledged after"), true),
            (t("Opgeheven", "Cleared"), false),
        ],
        e.alerts
            .iter()
            .filter(|a| named(a))
            .map(|a| {
                let where_ = a.alert.location.as_ref().and_then(|l| e.locations.iter().find(|o| &o.id == l));
                vec![
                    when(a.alert.since),
                    a.alert.state.label(lang).to_owned(),
                    where_.map_or_else(|| t("regio", "region").to_owned(), |o| o.name.clone()),
                    match (a.alert.threshold, a.threshold) {
                        (Some(key), Some(value)) => format!("{} {value}", key.label(lang)),
                        _ => String::new(),
                    },
                    a.alert
                        .acknowledged_at
                        .map(|at| minutes(at - a.alert.since))
                        .unwrap_or_else(|| t("niet", "not").to_owned()),
                    a.cleared.map(&when).unwrap_or_else(|| t("hield aan tot het einde", "held to the end").to_owned()),
                ]
            })
            .collect(),
        t("Geen alarmen tijdens het incident.", "No alerts during the incident."),
    );
    let hidden = e.alerts.iter().filter(|a| !named(a)).count();
    if hidden > 0 {
        let note = format!(
            "{hidden} {}",
            t(
                "alarmen op locaties die voor uw rol niet bij naam genoemd worden.",
                "alerts at locations not named for your role."
            )
        );
        alerts.blocks.push(Block::Paragraph(note));
    }
    sections.push(alerts);

    sections.push(Section::table(
        t("Uitvragen", "Enquiries"),
        &[
            (t("Uitvraag", "Enquiry"), false),
            (t("Geopend", "Opened"), false),
            (t("Gevraagd", "Asked"), true),
            (t("Beantwoord", "Answered"), true),
            (t("Mediane antwoordtijd", "Median response time"), true),
            (t("Langste", "Longest"), true),
        ],
        e.uitvragen
            .iter()
            .map(|u| {
                vec![
                    u.title.clone(),
                    when(u.opened),
                    u.addressed.to_string(),
                    u.answered_minutes.len().to_string(),
                    median(&u.answered_minutes),
                    u.answered_minutes.last().map(|m| format!("{m} min")).unwrap_or_else(|| "—".to_owned()),
                ]
            })
            .collect(),
        t("Geen uitvragen bij dit incident.", "No enquiries for this incident."),
    ));

    let title = format!("{} {}", t("Evaluatie", "Evaluation"), e.name);
    Document {
        lang,
        subtitle: format!("{} {} {} {}", t("Van", "From"), when(e.opened), t("tot", "to"), when(e.until)),
        meta: vec![
            (t("Incident", "Incident").to_owned(), format!("{} ({})", e.name, e.incident)),
            (t("Regio", "Region").to_owned(), e.region.to_string()),
            (
                t("Einde", "End").to_owned(),
                e.ended.map_or_else(
                    || t("nog actief: tot de laatste melding", "still active: to the last report").to_owned(),
                    |_| t("gesloten of afgeschaald", "closed or scaled down").to_owned(),
                ),
            ),
            (t("Gemaakt op", "Made on").to_owned(), when(made)),
            (t("Omgeving", "Environment").to_owned(), scope_label.to_owned()),
            (
                t("Bron", "Source").to_owned(),
                t(
                    "het log van ghor, van vóór de opening tot het einde",
                    "ghor's log, from before the opening to the end",
                )
                .to_owned(),
            ),
        ],
        footer: format!("ghor · {title}"),
        title,
        sections,
    }
}

/// Every figure of the evaluation in one long table: what, about whom, the measure, its
/// value and the moment it belongs to.
pub fn csv(e: &Evaluation, sees: &dyn Fn(&Slug) -> bool) -> String {
    let mut out = String::from("section,subject,measure,value,time\n");
    let mut row = |section: &str, subject: &str, measure: &str, value: String, time: Option<DateTime<Utc>>| {
        let time = time.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default();
        let cells = [section, subject, measure, &value, &time].map(csv_cell);
        out.push_str(&cells.join(","));
        out.push('\n');
    };
    for c in &e.changes {
        row("incident", e.incident.as_str(), "state", c.state.as_str().to_owned(), Some(c.time));
        row("incident", e.incident.as_str(), "grip", c.grip.to_string(), Some(c.time));
    }
    // The area's figures, for every reader.
    let reported = e.locations.iter().filter(|l| l.first_report.is_some()).count();
    row("area", e.incident.as_str(), "locations", e.locations.len().to_string(), None);
    row("area", e.incident.as_str(), "locations_reported", reported.to_string(), Some(e.until));
    let mut firsts: Vec<DateTime<Utc>> = e.locations.iter().filter_map(|l| l.first_report).collect();
    firsts.sort_unstable();
    for (n, t) in firsts.iter().enumerate() {
        row("coverage", e.incident.as_str(), "locations_reported", (n + 1).to_string(), Some(*t));
    }
    for level in DisbalanceLevel::ALL {
        let total = e.locations.iter().filter_map(|l| l.at_level.get(level)).fold(Duration::zero(), |a, d| a + *d);
        if total > Duration::zero() {
            row(
                "area",
                e.incident.as_str(),
                &format!("minutes_{}", level.as_str()),
                total.num_minutes().to_string(),
                None,
            );
        }
    }
    for l in e.locations.iter().filter(|l| sees(&l.id)) {
        let minutes = l.first_report.map(|f| (f - e.opened).num_minutes().to_string()).unwrap_or_default();
        row("first_report", l.id.as_str(), "minutes_after_opening", minutes, l.first_report);
        for (level, d) in &l.at_level {
            row("disbalance", l.id.as_str(), &format!("minutes_{}", level.as_str()), d.num_minutes().to_string(), None);
        }
    }
    for a in e.alerts.iter().filter(|a| a.alert.location.as_ref().is_none_or(sees)) {
        row("alert", &a.id, "raised", a.alert.state.as_str().to_owned(), Some(a.alert.since));
        if let Some(at) = a.alert.acknowledged_at {
            row("alert", &a.id, "acknowledged_after_minutes", (at - a.alert.since).num_minutes().to_string(), Some(at));
        }
        if let Some(at) = a.cleared {
            row("alert", &a.id, "cleared", String::new(), Some(at));
        }
    }
    for u in &e.uitvragen {
        row("uitvraag", &u.title, "addressed", u.addressed.to_string(), Some(u.opened));
        for m in &u.answered_minutes {
            row("uitvraag", &u.title, "answered_after_minutes", m.to_string(), None);
        }
    }
    out
}

fn figure(label: &str, value: String) -> Figure {
    Figure { label: label.to_owned(), value, change: String::new() }
}

/// A duration as hours and minutes: "3 u 05" / "3 h 05" reads the same.
fn hours(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_590_400 + minutes * 60, 0).unwrap_or_default()
    }

    #[test]
    fn time_at_each_level_counts_the_highest_disbalance_within_the_window() {
        use DisbalanceLevel::*;
        let observed = vec![
            (at(30), "tekort_personeel".to_owned(), Kantelpunt),
            (at(-60), "uitval_nutsvoorzieningen".to_owned(), KetenhulpNodig),
            (at(90), "tekort_personeel".to_owned(), Zelfredzaam),
            (at(200), "uitval_nutsvoorzieningen".to_owned(), NietGetroffen),
        ];
        let spent = time_at_level(observed, at(0), at(120));
        assert_eq!(spent.get(&KetenhulpNodig), Some(&(Duration::minutes(30) + Duration::minutes(30))));
        assert_eq!(spent.get(&Kantelpunt), Some(&Duration::minutes(60)));
        assert_eq!(spent.get(&NietGetroffen), None);
    }
}
