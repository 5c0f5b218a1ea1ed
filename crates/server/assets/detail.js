// ghor — the location detail panel: every dimension and key with its state, value, when it
// was observed, its source (bron) and who reported it; the recent changes (from
// GET /v1/picture/locations/{id}/history); and for GHOR roles only the 24/7 contacts (the
// contacts endpoint refuses everyone else, so other roles never ask). The informatiemanager
// can open the report form from here to report on the location's behalf (bron: telefoon).
// While the page looks back (lookback.js) the panel shows the location at the same moment
// and clock (GET /v1/picture/locations/{id}?at=&clock=), and the changes up to it.
// "Verloop": per dimension, on demand, every value the location reported of it
// (GET /v1/picture/locations/{id}/timeline) as a chart drawn here in SVG (the figure a
// person looks at, one series per key, each point by its state, late ones hollow, withdrawn
// ones crossed out and not joined) with the exact values in a table under it, and the same
// as a CSV file (timeline.csv) fetched with the page's sign-in. Looking back, up to the moment.

import {
  $, t, el, has, num, fmtClock, parseTime, label, keyLabel, keyType, byOrder, badge, addTexts, state, on, api,
  problemText, showDialog, may, ICON, isObject, LatestRequest, isoTime, fmtMoment, clockWords,
  fmtNum, fmtDays, fmtDay, stateColour, order, dimensionInfo, apiFile, saveFile,
} from './core.js';
import { summaryLines, keyWords, valueText } from './picture.js';
import { openReport, mayReportFor, reportsOwn } from './report.js';

addTexts({
  nl: {
    close: 'Sluiten',
    detailOrganisation: 'Organisatie',
    detailType: 'Soort',
    detailInterval: (m) => `Verwacht meldinterval ${m} min`,
    detailIncidents: 'In incidentgebied',
    detailDimensions: 'Toestand per dimensie',
    observed: 'Waargenomen',
    bron: 'Bron',
    reportedBy: 'Gemeld door',
    confirmed: 'bevestigd',
    unconfirmed: 'onbevestigd',
    prognosis: 'Prognose',
    history: 'Recente wijzigingen',
    historyLoading: 'Recente wijzigingen laden…',
    historyEmpty: 'Geen recente wijzigingen gevonden.',
    historyFailed: (why) => `Recente wijzigingen niet te laden: ${why}`,
    historyScope: 'Uit de nieuwste gebeurtenissen van het logboek.',
    contacts: 'Contactpersonen 24/7',
    contactsNone: 'Geen contactpersonen vastgelegd. De netwerkfunctionaris van de GHOR legt ze vast.',
    contactsFailed: (why) => `Contactpersonen niet te laden: ${why}`,
    verifiedOn: (d) => `gecontroleerd ${d}`,
    reportOnBehalf: 'Melden namens deze locatie (telefoon)',
    reportOwn: 'Status wijzigen',
    detailGone: 'Deze locatie is niet (meer) zichtbaar voor uw rol.',
    noValues: 'Nog niets gemeld.',
    rejectedIntake: (r) => `Laatste bericht van het eigen systeem geweigerd: ${r}`,
    evRegistered: 'Locatie geregistreerd', evOverdue: 'Melding te laat', evRetracted: 'Waarneming ingetrokken',
    evRejected: 'Bericht van eigen systeem geweigerd',
    detailPast: (when, clock) => `Terugkijken: zo stond deze locatie er ${when} voor (${clock}).`,
    detailPastLoading: (when) => `Het beeld van deze locatie op ${when} wordt geladen…`,
    detailPastFailed: (why) => `Het beeld van deze locatie op dit moment kon niet worden geladen. ${why}`,
    detailPastMissing: 'Deze locatie stond op dit moment nog niet in ghor, of is niet zichtbaar voor uw rol.',
    historyPast: 'Wijzigingen tot dit moment',
    historyPastScope: 'Wat tot dit moment gemeld was, uit de nieuwste gebeurtenissen van het logboek.',
    historyPastEmpty: 'Geen wijzigingen tot dit moment gevonden.',
  },
  en: {
    close: 'Close',
    detailOrganisation: 'Organisation',
    detailType: 'Type',
    detailInterval: (m) => `Expected report interval ${m} min`,
    detailIncidents: 'In incident area',
    detailDimensions: 'State per dimension',
    observed: 'Observed',
    bron: 'Source',
    reportedBy: 'Reported by',
    confirmed: 'confirmed',
    unconfirmed: 'unconfirmed',
    prognosis: 'Prognosis',
    history: 'Recent changes',
    historyLoading: 'Loading recent changes…',
    historyEmpty: 'No recent changes found.',
    historyFailed: (why) => `Recent changes could not be loaded: ${why}`,
    historyScope: "From the newest events of the log.",
    contacts: '24/7 contacts',
    contactsNone: "No contacts recorded. The GHOR's netwerkfunctionaris records them.",
    contactsFailed: (why) => `Contacts could not be loaded: ${why}`,
    verifiedOn: (d) => `verified ${d}`,
    reportOnBehalf: "Report on this location's behalf (phone)",
    reportOwn: 'Change status',
    detailGone: 'This location is not (or no longer) visible to your role.',
    noValues: 'Nothing reported yet.',
    rejectedIntake: (r) => `Last message of its own system refused: ${r}`,
    evRegistered: 'Location registered', evOverdue: 'Report overdue', evRetracted: 'Observation retracted',
    evRejected: 'Message of its own system refused',
    detailPast: (when, clock) => `Looking back: this is how this location stood at ${when} (${clock}).`,
    detailPastLoading: (when) => `Loading the picture of this location at ${when}…`,
    detailPastFailed: (why) => `The picture of this location at this moment could not be loaded. ${why}`,
    detailPastMissing: 'This location was not in ghor yet at this moment, or is not visible to your role.',
    historyPast: 'Changes up to this moment',
    historyPastScope: 'What had been reported up to this moment, from the newest events of the log.',
    historyPastEmpty: 'No changes found up to this moment.',
  },
});

/** Events about a location that are not a status observation, by their type's stem. */
const OTHER_EVENTS = {
  'location.registered': 'evRegistered', 'report.overdue': 'evOverdue', 'observation.retracted': 'evRetracted',
  'intake.rejected': 'evRejected',
};

/** The most changes the panel lists; looking back it asks for more, to keep those up to the moment. */
const HISTORY_SHOWN = 15;
const HISTORY_PAST = 100;

/**
 * The open panel: which location, and what was fetched for it. Looking back, `past` is the
 * location at a moment ({ key, at, clock, seq, loc }), `pastWanted` the moment asked for.
 */
const open = {
  id: null, region: null, lastReport: undefined, history: null, historyError: null, contacts: null, contactsError: null,
  past: null, pastWanted: null, pastError: null,
};

/** The location at the moment the page shows: one request on its way, the latest moment next. */
const pastFetch = new LatestRequest(onPastAnswer);

export function openDetail(id, region) {
  pastFetch.cancel();
  Object.assign(open, { id, region, lastReport: undefined, history: null, historyError: null, contacts: null, contactsError: null,
    past: null, pastWanted: null, pastError: null });
  forgetTimelines();
  const dialog = $('detail');
  renderDetail();
  showDialog(dialog);
  if (may('read_contacts')) loadContacts(id);
}

function closeDetail() {
  open.id = null;
  pastFetch.cancel();
  forgetTimelines();
}

/** The key of the moment the page shows, for the open location. */
function pastKey() {
  return state.past && open.id ? `${open.id}|${state.past.at}|${state.past.clock}` : null;
}

/** Asks for the open location at the moment the page shows, unless it is there or asked for. */
function wantPast() {
  const key = pastKey();
  if (!key || (open.past && open.past.key === key) || open.pastWanted === key) return;
  open.pastWanted = key;
  const { at, clock } = state.past;
  pastFetch.want(`/v1/picture/locations/${encodeURIComponent(open.id)}?at=${encodeURIComponent(isoTime(at))}&clock=${encodeURIComponent(clock)}`,
    { key, id: open.id, at, clock });
}

function onPastAnswer(job, answer, superseded) {
  if (job.id !== open.id) return;
  if (answer.ok && isObject(answer.body)) {
    const body = answer.body;
    open.past = { key: job.key, at: job.at, clock: job.clock, seq: body.seq, loc: isObject(body.location) ? body.location : null };
    open.pastError = null;
  } else if (!superseded) {
    open.pastError = problemText(answer);
    // Still indexing after a start: asked again once the server said it may be ready.
    if (answer.status === 503) setTimeout(() => { if (open.pastWanted === job.key) { open.pastWanted = null; renderDetail(); } }, (answer.retryAfter || 2) * 1000);
  }
  renderDetail();
}

async function loadHistory(id) {
  const limit = state.past ? HISTORY_PAST : HISTORY_SHOWN;
  const answer = await api('GET', `/v1/picture/locations/${encodeURIComponent(id)}/history?limit=${limit}`);
  if (open.id !== id) return;
  open.history = answer.ok ? answer.body.changes : null;
  open.historyError = answer.ok ? null : problemText(answer);
  renderDetail();
}

async function loadContacts(id) {
  const answer = await api('GET', `/v1/registry/locations/${encodeURIComponent(id)}/contacts`);
  if (open.id !== id) return;
  open.contacts = answer.ok ? answer.body.contacts : null;
  open.contactsError = answer.ok ? null : problemText(answer);
  renderDetail();
}

/** The region's view the panel goes by: the live one, or the past moment's. */
function regionView() {
  const regions = state.past ? state.past.regions : state.regions;
  return has(regions, open.region) ? regions[open.region] : null;
}

/** An incident by its name, as the region's view holds it. */
function incidentName(id) {
  const view = regionView();
  const incident = view && view.incidents && view.incidents[id];
  return incident && incident.name ? incident.name : id;
}

function liveLocation() {
  const view = state.regions[open.region];
  return view && has(view.locations, open.id) ? view.locations[open.id] : null;
}

/** The location as the panel shows it: live, or at the moment looked back to (once fetched). */
function currentLocation() {
  if (state.past) return open.past ? open.past.loc : null;
  return liveLocation();
}

function valueRow(dim, key, v, loc) {
  const summary = summaryLines(dim, { values: { [key]: v } });
  const limit = num(loc.interval_minutes) * 60000 || null;
  return el('tr', { 'data-dimension': dim, 'data-key': key },
    // A help request's urgency and category head its value already: no key line (its id means nothing to a reader).
    el('th', { scope: 'row' }, label('Dimension', dim), key !== '-' && dim !== 'help_request' ? el('div', { class: 'meta' }, keyWords(dim, key, v)) : null),
    el('td', {}, v.state ? badge(v.state) : null, el('div', { class: 'sum' }, summary),
      v.prognose ? el('div', { class: 'meta' }, `${t('prognosis')}: ${v.prognose}`) : null),
    el('td', {}, fmtClock(v.time), el('span', { class: 'age', 'data-time': parseTime(v.time), 'data-oldest': parseTime(v.time), 'data-limit': limit })),
    el('td', { 'data-bron': v.bron }, label('Bron', v.bron), el('div', { class: 'meta' }, v.bevestigd ? t('confirmed') : t('unconfirmed'))),
    el('td', { class: 'actor' }, v.actor || '–'));
}

/** The changes listed: the newest, or looking back the newest up to the moment by its clock. */
function historyShown() {
  const p = state.past && open.past;
  const upTo = !p ? () => true
    : p.clock === 'observed' ? (c) => parseTime(c.time) <= p.at
      : (c) => typeof p.seq === 'number' && c.seq <= p.seq;
  return open.history.filter(upTo).slice(0, HISTORY_SHOWN);
}

function historyList() {
  if (open.historyError) return el('p', { class: 'error' }, t('historyFailed', open.historyError));
  if (!open.history) return el('p', { class: 'meta' }, t('historyLoading'));
  const changes = historyShown();
  if (!changes.length) return el('p', { class: 'meta' }, t(state.past ? 'historyPastEmpty' : 'historyEmpty'));
  return el('ol', { class: 'history' }, changes.map((c) => {
    const m = /^nl\.ghor\.([a-z_]+)\.([a-z_]+)\.v\d+$/.exec(c.type || '') || [];
    const dim = m[1];
    const other = OTHER_EVENTS[`${m[1]}.${m[2]}`];
    // A help request by its urgency and category, never by its id.
    const what = [other ? t(other) : has(state.vocab && state.vocab.vocabularies && state.vocab.vocabularies.Dimension, dim) ? label('Dimension', dim) : c.type,
      c.subject && dim !== 'help_request' ? keyLabel(dim, c.subject) : null].filter(Boolean).join(' ');
    const summary = !other && dim && c.data ? summaryLines(dim, { values: { [c.subject || '-']: { data: c.data } } }) : [];
    return el('li', { 'data-seq': c.seq },
      el('span', { class: 'meta' }, `${fmtClock(c.time)} · #${c.seq}`), ' ', el('strong', {}, what), ' ',
      el('span', { class: 'sum inline' }, summary.map((n) => n.textContent).join(' · ')),
      el('div', { class: 'meta' }, `${label('Bron', c.bron)} · ${c.actor || ''}`));
  }));
}

function contactsSection() {
  if (!may('read_contacts')) return null; // §7: contacts are personal data, for GHOR roles only
  let body;
  if (open.contactsError) body = el('p', { class: 'error' }, t('contactsFailed', open.contactsError));
  else if (!open.contacts) body = el('p', { class: 'meta' }, '…');
  else if (!open.contacts.length) body = el('p', { class: 'meta' }, t('contactsNone'));
  else {
    body = el('ul', { class: 'list compact' }, open.contacts.map((c) => el('li', { 'data-contact-role': c.role },
      el('strong', {}, label('ContactRole', c.role)), ': ', c.name, ' · ',
      el('a', { href: `tel:${c.phone_24_7.replace(/[^+\d]/g, '')}` }, c.phone_24_7),
      c.fallback ? ` · ${c.fallback}` : '', el('div', { class: 'meta' }, t('verifiedOn', c.verified_on)))));
  }
  return el('section', { id: 'detail-contacts' }, el('h3', {}, t('contacts')), body);
}

/** Looking back: which moment the panel shows, and whether a newer one is on its way. */
function pastNote() {
  if (!state.past) return null;
  const p = open.past;
  const loading = !p || p.key !== pastKey();
  return el('p', { class: 'lb-detail-note', id: 'detail-past', 'data-at': p ? p.at : null },
    el('span', { 'aria-hidden': 'true' }, '◷ '),
    p ? t('detailPast', fmtMoment(p.at), clockWords(p.clock)) : t('detailPastLoading', fmtMoment(state.past.at)),
    p && loading && !open.pastError ? el('span', { class: 'meta' }, ` ${t('lbLoading', fmtMoment(state.past.at))}`) : null);
}

// ---------------------------------------------------------------- Verloop: a dimension's timeline

addTexts({
  nl: {
    tlTitle: 'Verloop',
    tlIntro: 'Kies een dimensie voor haar verloop: elke melding met wanneer ze is waargenomen en ontvangen, door wie, en haar toestand.',
    tlLoading: 'Verloop laden…',
    tlUpdating: 'Bijwerken…',
    tlFailed: (why) => `Het verloop kon niet worden geladen: ${why}`,
    tlEmpty: 'Geen meldingen gevonden.',
    tlEmptyPast: 'Geen meldingen tot dit moment.',
    tlSummary: (n, from, to) => (n === 1 ? `1 waarde, waargenomen ${from}` : `${n} waarden, waargenomen van ${from} tot ${to}`),
    tlLateCount: (n) => `${n} laat ontvangen`,
    tlRetractedCount: (n) => `${n} ingetrokken`,
    tlLate: (d) => `laat ontvangen: ${d} na waarneming`,
    tlRetracted: 'ingetrokken door de melder',
    tlNow: 'nu',
    tlUpTo: (hm) => `tot ${hm}`,
    tlPast: (when, clock) => `Tot ${when} (${clock}).`,
    tlPastHidden: (n) => `${n === 1 ? '1 waarde' : `${n} waarden`} van vóór dit moment kwam pas later binnen en ontbreekt hier, zoals toen (de CSV heeft ze wel, met hun ontvangsttijd).`,
    tlTruncated: 'Alleen de nieuwste gebeurtenissen van deze locatie zijn doorzocht: oudere waarden ontbreken.',
    tlCsv: 'CSV downloaden',
    tlCsvAria: (d) => `CSV downloaden: verloop ${d}`,
    tlCsvBusy: 'CSV wordt opgehaald…',
    tlCsvSaved: (name) => `Opgeslagen als ${name}.`,
    tlCsvFailed: (why) => `De CSV kon niet worden opgehaald: ${why}`,
    tlTable: (n) => `Alle waarden als tabel (${n})`,
    tlTableNewest: (n, all) => `De nieuwste ${n} van ${all}; de CSV bevat ze alle.`,
    tlCaption: (d) => `Verloop ${d}: elke gemelde waarde, oudste eerst`,
    tlColObserved: 'Waargenomen', tlColReceived: 'Ontvangen', tlColKey: 'Soort', tlColValue: 'Waarde',
    tlColState: 'Toestand', tlColWho: 'Gemeld door', tlColNotes: 'Bijzonderheden',
    tlInfo: 'informatie',
    tlYes: 'ja', tlNo: 'nee',
    tlFreeOf: (f, o) => `${f} vrij van ${o}`,
    tlCanTake: (n) => `${n} op te nemen`,
    tlAxisBedsFree: 'Vrije bedden (operationeel − bezet)',
    tlAxisPlacesFree: 'Vrije behandelplaatsen (operationeel − in gebruik)',
    tlAxisSupplyDays: 'Dagen voorraad (voorraad ÷ verbruik per dag)',
    tlAxisUnfilled: 'Open diensten komende 24 uur',
    tlAxisHours: 'Uren zelfredzaam',
    tlAxisCapacity: 'Op te nemen slachtoffers',
    tlAxisVisits: 'Bezoeken in gevaar',
    tlAxisClients: 'Op te vangen cliënten',
    tlAxisRelocate: 'Te verplaatsen cliënten',
    tlAxisMoments: 'Meldingen in de tijd',
    tlAuxLine: 'lichte lijn: operationeel',
    tlLegendLate: 'open: laat ontvangen',
    tlLegendRetracted: 'doorgekruist: ingetrokken (niet verbonden)',
    tlChartAria: (d, n, from, to) => `Grafiek van het verloop ${d}: ${n} ${n === 1 ? 'waarde' : 'waarden'} van ${from} tot ${to}. De tabel eronder heeft ze alle.`,
  },
  en: {
    tlTitle: 'Timeline',
    tlIntro: 'Choose a dimension for its timeline: every report with when it was observed and received, by whom, and its state.',
    tlLoading: 'Loading the timeline…',
    tlUpdating: 'Updating…',
    tlFailed: (why) => `The timeline could not be loaded: ${why}`,
    tlEmpty: 'No reports found.',
    tlEmptyPast: 'No reports up to this moment.',
    tlSummary: (n, from, to) => (n === 1 ? `1 value, observed ${from}` : `${n} values, observed from ${from} to ${to}`),
    tlLateCount: (n) => `${n} received late`,
    tlRetractedCount: (n) => `${n} withdrawn`,
    tlLate: (d) => `received late: ${d} after it was observed`,
    tlRetracted: 'withdrawn by its reporter',
    tlNow: 'now',
    tlUpTo: (hm) => `up to ${hm}`,
    tlPast: (when, clock) => `Up to ${when} (${clock}).`,
    tlPastHidden: (n) => `${n === 1 ? '1 value' : `${n} values`} from before this moment arrived only later and is left out, as then (the CSV has them, with when they arrived).`,
    tlTruncated: 'Only the newest events of this location were searched: older values are missing.',
    tlCsv: 'Download CSV',
    tlCsvAria: (d) => `Download CSV: timeline ${d}`,
    tlCsvBusy: 'Fetching the CSV…',
    tlCsvSaved: (name) => `Saved as ${name}.`,
    tlCsvFailed: (why) => `The CSV could not be fetched: ${why}`,
    tlTable: (n) => `All values as a table (${n})`,
    tlTableNewest: (n, all) => `The newest ${n} of ${all}; the CSV has them all.`,
    tlCaption: (d) => `Timeline ${d}: every reported value, oldest first`,
    tlColObserved: 'Observed', tlColReceived: 'Received', tlColKey: 'Kind', tlColValue: 'Value',
    tlColState: 'State', tlColWho: 'Reported by', tlColNotes: 'Remarks',
    tlInfo: 'information',
    tlYes: 'yes', tlNo: 'no',
    tlFreeOf: (f, o) => `${f} free of ${o}`,
    tlCanTake: (n) => `${n} can be taken in`,
    tlAxisBedsFree: 'Free beds (operational − occupied)',
    tlAxisPlacesFree: 'Free treatment places (operational − in use)',
    tlAxisSupplyDays: 'Days of supply (on hand ÷ daily use)',
    tlAxisUnfilled: 'Unfilled shifts next 24 hours',
    tlAxisHours: 'Hours self-sufficient',
    tlAxisCapacity: 'Casualties that can be taken in',
    tlAxisVisits: 'Visits at risk',
    tlAxisClients: 'Clients that can be taken in',
    tlAxisRelocate: 'Clients to relocate',
    tlAxisMoments: 'Reports over time',
    tlAuxLine: 'faint line: operational',
    tlLegendLate: 'hollow: received late',
    tlLegendRetracted: 'crossed out: withdrawn (not joined)',
    tlChartAria: (d, n, from, to) => `Chart of the timeline ${d}: ${n} ${n === 1 ? 'value' : 'values'} from ${from} to ${to}. The table below has them all.`,
  },
});

/**
 * The figure a person looks at in a numeric dimension, from what was reported: `value`
 * (null: none, e.g. supplies without use), an `aux` line drawn faintly (operational beds),
 * the figure in words, and the chart's axis.
 */
const FIGURES = {
  beds: { value: (d) => Math.max(0, num(d.operational) - num(d.occupied)), aux: (d) => num(d.operational),
    text: (d) => t('tlFreeOf', fmtNum(Math.max(0, num(d.operational) - num(d.occupied))), fmtNum(d.operational)), axis: 'tlAxisBedsFree' },
  treatment_places: { value: (d) => Math.max(0, num(d.operational) - num(d.in_use)), aux: (d) => num(d.operational),
    text: (d) => t('tlFreeOf', fmtNum(Math.max(0, num(d.operational) - num(d.in_use))), fmtNum(d.operational)), axis: 'tlAxisPlacesFree' },
  supplies: { value: (d) => (num(d.daily_use) > 0 ? num(d.on_hand) / num(d.daily_use) : null),
    text: (d) => (num(d.daily_use) > 0 ? fmtDays(num(d.on_hand) / num(d.daily_use)) : t('noUse')), axis: 'tlAxisSupplyDays', fraction: true },
  staffing: { value: (d) => num(d.unfilled_shifts_24h), text: (d) => t('unfilled', fmtNum(d.unfilled_shifts_24h)), axis: 'tlAxisUnfilled' },
  self_sufficiency: { value: (d) => num(d.hours), text: (d) => t('selfSufficient', fmtNum(d.hours)), axis: 'tlAxisHours' },
  casualty_reception: { value: (d) => num(d.capacity), text: (d) => t('tlCanTake', fmtNum(d.capacity)), axis: 'tlAxisCapacity' },
  home_care: { value: (d) => num(d.visits_at_risk), text: (d) => t('visitsAtRisk', fmtNum(d.visits_at_risk)), axis: 'tlAxisVisits' },
  receiving_capacity: { value: (d) => num(d.clients), text: (d) => t('receiving', fmtNum(d.clients)), axis: 'tlAxisClients' },
  relocation_need: { value: (d) => num(d.lopend) + num(d.rolstoel) + num(d.liggend),
    text: (d) => t('toRelocate', fmtNum(num(d.lopend) + num(d.rolstoel) + num(d.liggend))), axis: 'tlAxisRelocate' },
};
/** Dimensions whose reports are moments on a line (no figure, no scale of their own). */
const MOMENTS_ONLY = new Set(['help_request', 'note', 'not_affected', 'preparedness']);
/** The most rows the table under a chart lists (the newest); the CSV has every value. */
const TABLE_MAX = 200;
/** A timeline spans at least this much, so that a single value is not at both ends. */
const SPAN_MIN_MS = 30 * 60000;
/** Shapes and dashes that tell the series (keys) apart; colour tells the state. */
const SHAPES = ['circle', 'square', 'diamond', 'triangle'];
const DASHES = [null, '9 5', '2 4', '12 4 3 4', '5 3'];
const INK = '#111111';
const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * The timelines of the open location: which dimensions are open, what was asked and
 * fetched for each (one request on its way per dimension, the latest next), the CSV
 * downloads, and the nodes drawn (kept while nothing they show changed, so that a live
 * update elsewhere neither moves the focus nor hides a tooltip).
 */
const tl = { opened: new Set(), asked: {}, got: {}, csv: {}, fetch: {}, items: {}, tableShut: new Set(), section: null };
/** A chart's model by its holder, drawn again when the holder's width changes. */
const charts = new WeakMap();
const resizes = typeof ResizeObserver === 'function'
  ? new ResizeObserver((entries) => requestAnimationFrame(() => { for (const e of entries) drawChart(e.target); }))
  : null;

function forgetTimelines() {
  for (const f of Object.values(tl.fetch)) f.cancel();
  for (const item of Object.values(tl.items)) unobserveCharts(item.node);
  Object.assign(tl, { opened: new Set(), asked: {}, got: {}, csv: {}, fetch: {}, items: {}, tableShut: new Set(), section: null });
}

function unobserveCharts(node) {
  if (resizes) for (const holder of node.querySelectorAll('.tl-chart')) resizes.unobserve(holder);
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A figure with the decimals it has (a percentage, days), in the page's language. */
function fmtExact(n) {
  return new Intl.NumberFormat(state.lang === 'en' ? 'en-GB' : 'nl-NL', { maximumFractionDigits: 2 }).format(n);
}

/** "60 min", "2 u 5 min": how long after it was observed a value came in. */
function fmtDelay(seconds) {
  const minutes = Math.round(num(seconds) / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} ${t('hourUnit')} ${minutes % 60} min`;
}

/** The field of a dimension whose vocabulary is its category (utility: status), as the server describes its reports. */
function categoryField(dim) {
  const info = dimensionInfo(dim);
  const vocabularies = (state.vocab && state.vocab.vocabularies) || {};
  for (const report of (info && info.reports) || []) {
    const field = (report.fields || []).find((f) => f.required && has(vocabularies, f.kind));
    if (field) return { name: field.name, kind: field.kind, label: field.label };
  }
  return null;
}

function chartKind(dim) {
  if (has(FIGURES, dim)) return 'number';
  if (MOMENTS_ONLY.has(dim) || !categoryField(dim)) return 'moments';
  return 'category';
}

/** A reported field's value in words: counts and decimals, yes/no, a vocabulary's label, a time. */
function fieldValue(kind, v) {
  if (typeof v === 'boolean') return t(v ? 'tlYes' : 'tlNo');
  if (typeof v === 'number') return kind === 'percent' ? `${fmtExact(v)} %` : fmtExact(v);
  if (kind === 'datetime') return fmtClock(v);
  if (kind && has(state.vocab && state.vocab.vocabularies, kind)) return label(kind, v);
  return String(v);
}

/** What was reported, field by field, with the labels the server gives the fields ("Bezet: 12"). */
function reportedFields(dim, data) {
  const info = dimensionInfo(dim);
  const fields = ((info && info.reports) || []).flatMap((r) => r.fields || []);
  const names = [...new Set([...fields.map((f) => f.name), ...Object.keys(data)])];
  const parts = [];
  for (const name of names) {
    if (!has(data, name) || data[name] === null || data[name] === undefined || (isObject(data[name]) || Array.isArray(data[name]))) continue;
    const field = fields.find((f) => f.name === name);
    const title = field && field.label ? field.label[state.lang] || field.label.nl : name;
    parts.push(`${title}: ${fieldValue(field ? field.kind : null, data[name])}`);
  }
  return parts;
}

/** A point's figure or category in words, as its series shows it. */
function figureText(dim, p) {
  const data = isObject(p.data) ? p.data : {};
  if (has(FIGURES, dim)) return FIGURES[dim].text(data);
  const cat = chartKind(dim) === 'category' ? categoryField(dim) : null;
  if (cat) return data[cat.name] ? label(cat.kind, data[cat.name]) : '–';
  return valueText(dim, p.key, { data });
}

/** What a series is called: its key's label (a help request by its urgency and category), or the dimension's. */
function seriesName(dim, key, points) {
  if (key === '-') return label('Dimension', dim);
  const latest = points.slice().reverse().find((p) => p.key === key && isObject(p.data) && (dim !== 'help_request' || p.data.category));
  return keyWords(dim, key, latest ? { data: latest.data } : null) || key;
}

/** The points, their series and scales, ready to be drawn at any width. */
function chartModel(dim, points, end, past) {
  const kind = chartKind(dim);
  const figure = FIGURES[dim] || null;
  const cat = kind === 'category' ? categoryField(dim) : null;
  const keys = byOrder(keyType(dim) || 'Dimension', [...new Set(points.map((p) => p.key))].map((k) => [k])).map(([k]) => k);
  let categories = [];
  if (cat) {
    const all = order(cat.kind);
    const present = new Set(points.map((p) => isObject(p.data) && p.data[cat.name]).filter(Boolean));
    // A short vocabulary whole (normaal, verstoord, uitgevallen), a long one only as far as reported.
    categories = all.length <= 5 ? all : all.filter((c) => present.has(c));
    for (const c of present) if (!categories.includes(c)) categories.push(c);
  }
  const series = keys.map((key, index) => {
    const name = seriesName(dim, key, points);
    return {
      key, index, name,
      points: points.filter((p) => p.key === key).map((p) => {
        const data = isObject(p.data) ? p.data : {};
        let y = null;
        if (figure) y = figure.value(data);
        else if (cat) y = data[cat.name] ? categories.indexOf(data[cat.name]) : null;
        else y = 0;
        return { p, t: parseTime(p.time), y: y === null || y < 0 || !Number.isFinite(y) ? null : y,
          aux: figure && figure.aux ? figure.aux(data) : null, title: pointTitle(dim, p, name) };
      }),
    };
  });
  const times = points.map((p) => parseTime(p.time));
  const last = Math.max(end, ...times);
  const first = Math.min(...times, last - SPAN_MIN_MS);
  return { dim, kind, figure, cat, categories, series, first, last, end, past, count: points.length };
}

/** A point's tooltip: which, when, the figure, its state in words, late or withdrawn, who and how. */
function pointTitle(dim, p, name) {
  return [
    `${name} · ${fmtClock(p.time, true)}`,
    figureText(dim, p),
    p.state ? label('State', p.state) : t('tlInfo'),
    p.late ? t('tlLate', fmtDelay(p.delay_seconds)) : null,
    p.retracted ? t('tlRetracted') : null,
    `${p.actor || '–'} · ${label('Bron', p.bron)}`,
  ].filter(Boolean).join('\n');
}

/**
 * A point's marker: its series' shape, its state's colour and icon; hollow when late,
 * crossed out when withdrawn; `plain` (the legend's series) the shape alone.
 */
function marker({ shape, state: s, late, retracted, plain }, r = 8.5) {
  const colour = (s && stateColour(s)) || INK;
  const fill = retracted || late || plain ? '#ffffff' : colour;
  const stroke = retracted ? '#555555' : late || plain ? colour : '#ffffff';
  const attrs = { fill, stroke, 'stroke-width': late || plain ? 2.5 : 1.5, 'stroke-dasharray': retracted ? '2 2' : null, class: 'tl-shape' };
  let body;
  const k = r * 1.25;
  if (shape === 'square') body = svg('rect', Object.assign({ x: -r * 0.9, y: -r * 0.9, width: r * 1.8, height: r * 1.8 }, attrs));
  else if (shape === 'diamond') body = svg('path', Object.assign({ d: `M0,${-k}L${k},0L0,${k}L${-k},0Z` }, attrs));
  else if (shape === 'triangle') body = svg('path', Object.assign({ d: `M0,${-k}L${k},${r * 0.85}L${-k},${r * 0.85}Z` }, attrs));
  else body = svg('circle', Object.assign({ r }, attrs));
  const g = svg('g', {}, body);
  if (plain) return g;
  if (retracted) {
    const c = r + 3;
    g.append(svg('path', { d: `M${-c},${-c}L${c},${c}M${-c},${c}L${c},${-c}`, stroke: INK, 'stroke-width': 2.5, 'stroke-linecap': 'round', class: 'tl-cross' }));
  } else {
    g.append(svg('text', { class: 'tl-glyph', 'text-anchor': 'middle', 'dominant-baseline': 'central', y: shape === 'triangle' ? 1.5 : 0,
      fill: late ? colour : '#ffffff' }, s ? ICON[s] || '?' : 'i'));
  }
  return g;
}

/** A little picture for the legend: a line in a series' dash, and/or a marker. */
function swatch(line, mark) {
  return svg('svg', { class: 'tl-swatch', width: 34, height: 20, viewBox: '-17 -10 34 20', 'aria-hidden': 'true', focusable: 'false' },
    line ? svg('path', { d: 'M-16,0H16', stroke: line.colour || INK, 'stroke-width': line.width || 2.2, 'stroke-dasharray': line.dash || null, opacity: line.opacity || 1 }) : null,
    mark ? marker(mark, 6) : null);
}

/** Whole-number (or, for days, fractional) steps of an axis from 0 to at least `max`. */
function valueTicks(max, count, fraction) {
  const top = Math.max(max, fraction ? 0.5 : 1);
  const raw = top / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw - 1e-9);
  if (!fraction) step = Math.max(1, Math.ceil(step));
  const ticks = [];
  for (let v = 0; v <= top + step - 1e-9; v += step) { ticks.push(Math.round(v * 100) / 100); if (v >= top) break; }
  return ticks;
}

/** Minutes between time ticks, the smallest that leaves room for every label. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160, 43200];

/** Ticks in the page's local time (whole minutes, hours or midnights) between x0 and x1. */
function timeTicks(x0, x1, room) {
  const span = (x1 - x0) / 60000;
  const step = TIME_STEPS.find((s) => span / s <= room) || TIME_STEPS[TIME_STEPS.length - 1];
  const ticks = [];
  if (step < 1440) {
    const day = new Date(x0);
    day.setHours(0, 0, 0, 0);
    const from = new Date(x0);
    let k = Math.ceil((from.getHours() * 60 + from.getMinutes()) / step);
    for (let i = 0; i < 500; i++, k++) {
      const tick = new Date(day);
      tick.setMinutes(k * step);
      if (tick.getTime() > x1) break;
      if (tick.getTime() >= x0) ticks.push(tick.getTime());
    }
  } else {
    const tick = new Date(x0);
    tick.setHours(0, 0, 0, 0);
    if (tick.getTime() < x0) tick.setDate(tick.getDate() + 1);
    for (let i = 0; i < 500 && tick.getTime() <= x1; i++) { ticks.push(tick.getTime()); tick.setDate(tick.getDate() + step / 1440); }
  }
  return { ticks, days: step >= 1440 };
}

function hhmm(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Draws a chart into its holder at the holder's width (again only when that changed). */
function drawChart(holder) {
  const model = charts.get(holder);
  if (!model || !holder.isConnected) return;
  const width = Math.floor(holder.clientWidth);
  if (width < 120 || holder.dataset.width === String(width)) return;
  holder.dataset.width = String(width);
  const fs = parseFloat(getComputedStyle(holder).fontSize) || 14;
  holder.replaceChildren(chartSvg(model, width, fs));
}

/** The chart as SVG, `w` pixels wide, its text at the page's size `fs` (it never scales down). */
function chartSvg(m, w, fs) {
  const charW = fs * 0.6;
  const top = fs * 1.6;          // room for the label of the end line
  const axisH = fs * 2.9;        // the times, and the day under them where it changes
  const right = fs * 0.9;
  const number = m.kind === 'number';
  let left;
  let plotH;
  let ticks = [];
  let lanes = [];
  const fmtValue = (v) => (m.figure && m.figure.fraction ? fmtExact(v) : fmtNum(v));
  if (number) {
    plotH = Math.round(Math.min(260, Math.max(150, w * 0.32)));
    const values = m.series.flatMap((s) => s.points.flatMap((q) => [q.y, q.aux])).filter((v) => v !== null && Number.isFinite(v));
    ticks = valueTicks(Math.max(0, ...values), Math.max(2, Math.floor(plotH / (fs * 2.6))), !!(m.figure && m.figure.fraction));
    left = Math.max(...ticks.map((v) => fmtValue(v).length)) * charW + fs;
  } else {
    const rowH = Math.max(26, fs * 1.8);
    const rows = m.kind === 'category' ? Math.max(1, m.categories.length) : 1;
    const named = m.series.length > 1 || (m.series[0] && m.series[0].key !== '-');
    let y = top;
    lanes = m.series.map((s) => {
      const head = named ? fs * 1.5 : 0;
      const lane = { s, y, head, rowH, rows, h: head + rows * rowH };
      y += lane.h + fs * 0.5;
      return lane;
    });
    plotH = y - top - fs * 0.5;
    const longest = m.kind === 'category' ? Math.max(...m.categories.map((c) => label(m.cat.kind, c).length)) : 0;
    left = m.kind === 'category' ? Math.min(w * 0.32, longest * charW + fs) : fs * 0.6;
  }
  const plotW = Math.max(40, w - left - right);
  const h = Math.round(top + plotH + axisH);
  const span = Math.max(m.last - m.first, SPAN_MIN_MS);
  const pad = span * 0.035;
  const x0 = m.first - pad;
  const x1 = m.last + pad;
  const x = (ms) => left + ((ms - x0) / (x1 - x0)) * plotW;
  const dimName = label('Dimension', m.dim);
  const times = m.series.flatMap((s) => s.points.map((q) => q.t));
  const root = svg('svg', {
    class: 'tl-svg', width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img', focusable: 'false',
    'aria-label': t('tlChartAria', dimName, m.count, fmtClock(Math.min(...times)), fmtClock(Math.max(...times))),
    'data-end': m.end, 'data-first': Math.min(...times), 'data-last': Math.max(...times),
  });
  const grid = svg('g', { class: 'tl-grid', 'aria-hidden': 'true' });
  root.append(grid);
  // Time: a light line and a label per tick; the day under the first one and where it changes.
  const room = Math.max(2, Math.floor(plotW / (charW * 5 + fs * 1.4)));
  const tt = timeTicks(x0, x1, room);
  let lastDay = '';
  for (const tick of tt.ticks) {
    const tx = x(tick);
    grid.append(svg('line', { x1: tx, x2: tx, y1: top, y2: top + plotH, class: 'tl-gridline' }));
    const day = fmtDay(tick);
    const text = tt.days ? day : hhmm(tick);
    const half = (text.length * charW) / 2;
    grid.append(svg('text', { x: Math.min(Math.max(tx, half), w - half), y: top + plotH + fs * 1.25, 'text-anchor': 'middle', class: 'tl-tick' }, text));
    if (!tt.days && day !== lastDay) {
      grid.append(svg('text', { x: Math.max(tx, left + day.length * charW * 0.5), y: top + plotH + fs * 2.5, 'text-anchor': 'middle', class: 'tl-day' }, day));
    }
    lastDay = day;
  }
  grid.append(svg('line', { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, class: 'tl-axis' }));
  // The end: now, or the moment looked back to.
  const ex = x(m.end);
  root.append(svg('g', { class: 'tl-end', 'data-end': m.end },
    svg('line', { x1: ex, x2: ex, y1: top - fs * 0.3, y2: top + plotH, class: m.past ? 'tl-endline past' : 'tl-endline' }),
    svg('text', { x: ex, y: top - fs * 0.5, 'text-anchor': 'end', class: 'tl-endlabel' },
      m.past ? t('tlUpTo', hhmm(m.end)) : t('tlNow'))));
  const markers = svg('g', { class: 'tl-points' });
  if (number) {
    const yTop = ticks[ticks.length - 1] || 1;
    const y = (v) => top + plotH - (v / yTop) * plotH;
    for (const v of ticks) {
      grid.append(svg('line', { x1: left, x2: left + plotW, y1: y(v), y2: y(v), class: v === 0 ? 'tl-axis' : 'tl-gridline' }));
      grid.append(svg('text', { x: left - fs * 0.4, y: y(v), 'text-anchor': 'end', 'dominant-baseline': 'central', class: 'tl-tick' }, fmtValue(v)));
    }
    for (const s of m.series) {
      const joined = s.points.filter((q) => !q.p.retracted && q.y !== null);
      const dash = DASHES[s.index % DASHES.length];
      if (m.figure.aux && joined.length) {
        root.append(svg('polyline', { class: 'tl-aux', points: joined.map((q) => `${x(q.t)},${y(q.aux)}`).join(' '),
          'stroke-dasharray': dash, 'data-key': s.key }));
      }
      if (joined.length > 1) {
        root.append(svg('polyline', { class: 'tl-line', points: joined.map((q) => `${x(q.t)},${y(q.y)}`).join(' '), 'stroke-dasharray': dash, 'data-key': s.key }));
      }
      for (const q of s.points) if (q.y !== null) markers.append(pointNode(q, s, x(q.t), y(q.y)));
    }
  } else {
    for (const lane of lanes) {
      const rowY = (i) => lane.y + lane.head + (lane.rows - 1 - i + 0.5) * lane.rowH;
      if (lane.head) grid.append(svg('text', { x: left, y: lane.y + fs * 1.05, class: 'tl-lane' }, lane.s.name));
      grid.append(svg('rect', { x: left, width: plotW, y: lane.y + lane.head, height: lane.rows * lane.rowH, class: 'tl-laneband' }));
      if (m.kind === 'category') {
        m.categories.forEach((c, i) => {
          grid.append(svg('line', { x1: left, x2: left + plotW, y1: rowY(i), y2: rowY(i), class: 'tl-gridline' }));
          grid.append(svg('text', { x: left - fs * 0.4, y: rowY(i), 'text-anchor': 'end', 'dominant-baseline': 'central', class: 'tl-tick' }, label(m.cat.kind, c)));
        });
        // The band: each category held from its report until the next one (or the end).
        const held = lane.s.points.filter((q) => !q.p.retracted && q.y !== null);
        const steps = [];
        held.forEach((q, i) => {
          const until = i + 1 < held.length ? held[i + 1].t : m.end;
          const colour = (q.p.state && stateColour(q.p.state)) || INK;
          root.append(svg('rect', { class: 'tl-band', x: x(q.t), width: Math.max(1, x(until) - x(q.t)), y: rowY(q.y) - lane.rowH * 0.32,
            height: lane.rowH * 0.64, fill: colour }));
          steps.push(i === 0 ? `M${x(q.t)},${rowY(q.y)}` : `V${rowY(q.y)}`, `H${x(until)}`);
        });
        const path = steps.join('');
        if (path) root.append(svg('path', { class: 'tl-step', d: path, 'data-key': lane.s.key }));
      } else {
        grid.append(svg('line', { x1: left, x2: left + plotW, y1: rowY(0), y2: rowY(0), class: 'tl-gridline' }));
      }
      for (const q of lane.s.points) markers.append(pointNode(q, lane.s, x(q.t), rowY(q.y === null ? 0 : q.y)));
    }
  }
  root.append(markers);
  return root;
}

/** One point on the chart, with its tooltip (state in words, late, withdrawn) and a wider area to hover. */
function pointNode(q, s, cx, cy) {
  const p = q.p;
  const g = svg('g', { class: 'tl-point', transform: `translate(${cx.toFixed(1)},${cy.toFixed(1)})`, 'data-id': p.id, 'data-key': p.key,
    'data-state': p.state || 'info', 'data-late': String(!!p.late), 'data-retracted': String(!!p.retracted) },
  svg('title', {}, q.title),
  svg('circle', { r: 14, class: 'tl-hit' }),
  marker({ shape: SHAPES[s.index % SHAPES.length], state: p.state, late: p.late, retracted: p.retracted }));
  return g;
}

/** Asks for a dimension's timeline again when the location's values of it changed (a report, a withdrawal) or the moment did. */
function wantTimeline(dim, loc) {
  const past = state.past ? { at: state.past.at, clock: state.past.clock } : null;
  const key = JSON.stringify([open.id, dim, past, (loc.dimensions || {})[dim] || null]);
  if (tl.asked[dim] === key) return;
  tl.asked[dim] = key;
  let url = `/v1/picture/locations/${encodeURIComponent(open.id)}/timeline?dimension=${encodeURIComponent(dim)}`;
  if (past) url += `&to=${encodeURIComponent(isoTime(past.at))}`;
  if (!tl.fetch[dim]) tl.fetch[dim] = new LatestRequest(onTimeline);
  tl.fetch[dim].want(url, { key, id: open.id, dim, past });
}

function onTimeline(job, answer, superseded) {
  if (job.id !== open.id) return;
  if (answer.ok && isObject(answer.body) && Array.isArray(answer.body.points)) {
    tl.got[job.dim] = { key: job.key, body: answer.body, past: job.past, end: job.past ? job.past.at : Date.now(), error: null };
  } else if (!superseded) {
    tl.got[job.dim] = Object.assign({}, tl.got[job.dim], { key: job.key, error: problemText(answer) });
  }
  // Asked for again (the same address) while this was on its way: once more, for what came since.
  if (tl.asked[job.dim] !== job.key && !tl.fetch[job.dim].loading) tl.asked[job.dim] = null;
  renderDetail();
}

/** Fetches the dimension's CSV (the same span as its chart) with the page's sign-in and saves it. */
async function downloadCsv(dim, past) {
  const id = open.id;
  if ((tl.csv[dim] || {}).busy) return;
  tl.csv[dim] = { busy: true };
  renderDetail();
  let url = `/v1/picture/locations/${encodeURIComponent(id)}/timeline.csv?dimension=${encodeURIComponent(dim)}`;
  if (past) url += `&to=${encodeURIComponent(isoTime(past.at))}`;
  const answer = await apiFile(url, 'text/csv');
  if (open.id !== id) return;
  if (answer.ok) {
    const name = answer.filename || `${id}-${dim}.csv`;
    saveFile(answer.blob, name);
    tl.csv[dim] = { saved: name };
  } else {
    tl.csv[dim] = { error: problemText(answer) };
  }
  renderDetail();
}

/** What the chart's marks mean: the series by shape and dash, the states by colour and icon, late and withdrawn. */
function legend(m, points) {
  const items = [];
  if (m.kind === 'number' && (m.series.length > 1 || m.series[0].key !== '-')) {
    for (const s of m.series) {
      items.push(el('li', { 'data-legend-key': s.key }, swatch({ dash: DASHES[s.index % DASHES.length] }, { shape: SHAPES[s.index % SHAPES.length], plain: true }), s.name));
    }
  }
  if (m.kind === 'number' && m.figure.aux) items.push(el('li', {}, swatch({ colour: '#8a8a8a', width: 2, opacity: 0.75 }), t('tlAuxLine')));
  const states = new Set(points.filter((p) => !p.retracted).map((p) => p.state || null));
  for (const s of order('State').filter((x) => states.has(x))) items.push(el('li', { 'data-legend-state': s }, swatch(null, { state: s }), label('State', s)));
  if (states.has(null)) items.push(el('li', { 'data-legend-state': 'info' }, swatch(null, {}), t('tlInfo')));
  if (points.some((p) => p.late && !p.retracted)) items.push(el('li', { 'data-legend': 'late' }, swatch(null, { plain: true }), t('tlLegendLate')));
  if (points.some((p) => p.retracted)) items.push(el('li', { 'data-legend': 'retracted' }, swatch(null, { retracted: true }), t('tlLegendRetracted')));
  return el('ul', { class: 'tl-legend' }, items);
}

/** The exact values under the chart: observed, received, which, what was reported, state, who and how, late or withdrawn. */
function pointsTable(dim, m, points) {
  const keyed = points.some((p) => p.key !== '-');
  const names = new Map(m.series.map((s) => [s.key, s.name]));
  const cols = [['observed', 'tlColObserved'], ['received', 'tlColReceived'], keyed ? ['key', 'tlColKey'] : null, ['value', 'tlColValue'],
    ['state', 'tlColState'], ['who', 'tlColWho'], ['notes', 'tlColNotes']].filter(Boolean);
  const shown = points.slice(-TABLE_MAX);
  const cell = (col, ...content) => el('td', { 'data-col': col, 'data-label': t(cols.find((c) => c[0] === col)[1]) }, ...content);
  const rows = shown.map((p) => {
    const data = isObject(p.data) ? p.data : {};
    const fields = reportedFields(dim, data);
    const notes = [
      p.late ? el('div', { class: 'tl-note-late' }, t('tlLate', fmtDelay(p.delay_seconds))) : null,
      p.retracted ? el('div', { class: 'tl-note-retracted' }, t('tlRetracted')) : null,
    ].filter(Boolean);
    return el('tr', { 'data-point': p.id, 'data-point-key': p.key, 'data-late': String(!!p.late), 'data-retracted': String(!!p.retracted),
      class: p.retracted ? 'tl-withdrawn' : null },
    cell('observed', fmtClock(p.time, true)),
    cell('received', fmtClock(p.received, true)),
    keyed ? cell('key', names.get(p.key) || p.key) : null,
    cell('value', el('strong', { class: 'tl-figure' }, figureText(dim, p)), fields.length ? el('div', { class: 'meta tl-fields' }, fields.join(' · ')) : null),
    cell('state', p.state ? badge(p.state) : t('tlInfo')),
    cell('who', p.actor || '–', el('div', { class: 'meta' }, label('Bron', p.bron))),
    cell('notes', notes.length ? notes : '–'));
  });
  const details = el('details', { class: 'tl-values', open: !tl.tableShut.has(dim) },
    el('summary', {}, t('tlTable', points.length)),
    shown.length < points.length ? el('p', { class: 'meta' }, t('tlTableNewest', shown.length, points.length)) : null,
    el('div', { class: 'table-wrap' }, el('table', { class: 'grid tl-table' },
      el('caption', { class: 'sr-only' }, t('tlCaption', label('Dimension', dim))),
      el('thead', {}, el('tr', {}, cols.map(([, key]) => el('th', { scope: 'col' }, t(key))))),
      el('tbody', {}, rows))));
  details.addEventListener('toggle', () => { if (details.open) tl.tableShut.delete(dim); else tl.tableShut.add(dim); });
  return details;
}

/** An open timeline: what it covers, the CSV, the chart and its table (or why there is none yet). */
function timelinePanel(dim, got, loading, id) {
  const csv = tl.csv[dim] || {};
  const parts = [];
  if (!got || (!got.body && !got.error)) parts.push(el('p', { class: 'meta', role: 'status' }, t('tlLoading')));
  if (got && got.error) parts.push(el('p', { class: 'error', role: 'alert' }, t('tlFailed', got.error)));
  if (got && got.body) {
    let points = got.body.points.filter((p) => isObject(p) && Number.isFinite(parseTime(p.time)));
    let later = 0;
    // As known then: what had come in by the moment (the server cuts by when observed).
    if (got.past && got.past.clock !== 'observed') {
      const known = points.filter((p) => parseTime(p.received) <= got.past.at);
      later = points.length - known.length;
      points = known;
    }
    const late = points.filter((p) => p.late).length;
    const withdrawn = points.filter((p) => p.retracted).length;
    const summary = points.length ? [t('tlSummary', points.length, fmtClock(points[0].time), fmtClock(points[points.length - 1].time)),
      late ? t('tlLateCount', late) : null, withdrawn ? t('tlRetractedCount', withdrawn) : null].filter(Boolean).join(' · ')
      : t(got.past ? 'tlEmptyPast' : 'tlEmpty');
    const button = el('button', { type: 'button', class: 'tl-csv', 'data-csv': dim, 'data-focus': `tl-csv:${dim}`,
      'aria-label': t('tlCsvAria', label('Dimension', dim)), 'aria-disabled': csv.busy ? 'true' : null }, `⤓ ${t('tlCsv')}`);
    button.addEventListener('click', () => downloadCsv(dim, got.past));
    parts.push(el('div', { class: 'tl-bar' },
      el('p', { class: 'tl-summary' }, summary, loading ? el('span', { class: 'meta' }, ` · ${t('tlUpdating')}`) : null),
      button));
    parts.push(el('p', { class: csv.error ? 'error tl-csv-status' : 'meta tl-csv-status', role: 'status' },
      csv.busy ? t('tlCsvBusy') : csv.error ? t('tlCsvFailed', csv.error) : csv.saved ? t('tlCsvSaved', csv.saved) : ''));
    if (got.past) parts.push(el('p', { class: 'meta tl-past' }, t('tlPast', fmtMoment(got.past.at), clockWords(got.past.clock)), later ? ` ${t('tlPastHidden', later)}` : ''));
    if (got.body.truncated) parts.push(el('p', { class: 'meta' }, t('tlTruncated')));
    if (points.length) {
      const m = chartModel(dim, points, got.end, !!got.past);
      const axis = m.kind === 'number' ? t(m.figure.axis)
        : m.kind === 'category' ? (m.cat.label && (m.cat.label[state.lang] || m.cat.label.nl)) || label('Dimension', dim) : t('tlAxisMoments');
      const holder = el('div', { class: 'tl-chart', 'data-dimension-chart': dim, 'data-end': got.end, 'data-points': points.length });
      charts.set(holder, m);
      if (resizes) resizes.observe(holder);
      parts.push(el('figure', { class: 'tl-figure-wrap' }, el('figcaption', { class: 'tl-axis-title' }, axis), legend(m, points), holder));
      parts.push(pointsTable(dim, m, points));
    }
  }
  return el('div', { id, class: 'tl-panel', 'data-loading': loading ? 'true' : null }, parts);
}

/** One dimension's entry: its toggle, and when open its panel; built again only when what it shows changed. */
function timelineItem(dim, loc) {
  const isOpen = tl.opened.has(dim);
  if (isOpen) wantTimeline(dim, loc);
  const got = tl.got[dim] || null;
  const loading = isOpen && (!got || got.key !== tl.asked[dim]);
  const sig = JSON.stringify([state.lang, isOpen, got && got.key, got && got.error, loading, tl.csv[dim] || null, !!state.vocab]);
  const cached = tl.items[dim];
  if (cached && cached.sig === sig) return cached.node;
  if (cached) unobserveCharts(cached.node);
  const panelId = `tl-panel-${dim}`;
  const toggle = el('button', { type: 'button', class: 'tl-toggle', 'aria-expanded': String(isOpen), 'aria-controls': isOpen ? panelId : null,
    'data-timeline-toggle': dim, 'data-focus': `tl:${dim}` },
  el('span', { class: 'tl-caret', 'aria-hidden': 'true' }, isOpen ? '▾' : '▸'), el('span', { class: 'sr-only' }, `${t('tlTitle')}: `), label('Dimension', dim));
  toggle.addEventListener('click', () => {
    if (tl.opened.has(dim)) tl.opened.delete(dim);
    else { tl.opened.add(dim); tl.asked[dim] = null; }
    renderDetail();
  });
  const node = el('li', { class: 'tl-item', 'data-timeline': dim, 'data-open': isOpen ? 'true' : null },
    el('h4', { class: 'tl-head' }, toggle), isOpen ? timelinePanel(dim, got, loading, panelId) : null);
  tl.items[dim] = { sig, node };
  return node;
}

/** The "Verloop" section: one entry per dimension the location has; the same node across renders. */
function timelineSection(loc) {
  if (!tl.section) {
    tl.section = el('section', { id: 'detail-timeline', 'aria-labelledby': 'detail-timeline-title' },
      el('h3', { id: 'detail-timeline-title' }), el('p', { class: 'meta' }), el('ul', { class: 'tl-list' }));
  }
  const [title, intro, list] = tl.section.children;
  if (title.textContent !== t('tlTitle')) title.textContent = t('tlTitle');
  if (intro.textContent !== t('tlIntro')) intro.textContent = t('tlIntro');
  const dims = byOrder('Dimension', Object.keys(loc.dimensions || {}).map((d) => [d])).map(([d]) => d);
  place(list, dims.map((d) => timelineItem(d, loc)));
  return tl.section;
}

/** Draws the charts that are not drawn at their width yet. */
function drawCharts() {
  if (tl.section) for (const holder of tl.section.querySelectorAll('.tl-chart')) drawChart(holder);
}

/**
 * Puts `nodes` into `parent` in that order, moving nothing that is in place already and
 * removing what is not among them: nodes kept across renders keep focus and hover.
 */
function place(parent, nodes) {
  const keep = new Set(nodes);
  for (const child of [...parent.childNodes]) if (!keep.has(child)) child.remove();
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) { cursor = cursor.nextSibling; continue; }
    parent.insertBefore(node, cursor);
  }
}

/** Runs `fn` (a re-render of `container`), then gives focus back to the control that had it, found by its `data-focus`. */
function keepingFocus(container, fn) {
  const active = document.activeElement;
  const key = active && container.contains(active) && active.dataset ? active.dataset.focus : null;
  fn();
  if (key && !container.contains(document.activeElement)) {
    const again = container.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

export function renderDetail() {
  if (!open.id) return;
  if (state.past) wantPast();
  else if (open.past || open.pastWanted) {
    pastFetch.cancel();
    Object.assign(open, { past: null, pastWanted: null, pastError: null });
  }
  const loc = currentLocation();
  const named = loc || liveLocation();
  $('detail-title').textContent = named ? named.name : open.id;
  if (!loc) {
    const why = !state.past ? t('detailGone')
      : open.pastError ? t('detailPastFailed', open.pastError)
        : open.past ? t('detailPastMissing') : null;
    const body = $('detail-body');
    keepingFocus(body, () => place(body, [pastNote(), why ? el('p', { class: open.pastError ? 'error' : 'note' }, why) : null].filter(Boolean)));
    return;
  }
  // A new report: fetch the recent changes again.
  const reportKey = `${state.past ? 'past' : 'live'}|${loc.last_report || ''}`;
  if (open.lastReport !== reportKey) {
    open.lastReport = reportKey;
    loadHistory(open.id);
  }
  const rows = byOrder('Dimension', Object.entries(loc.dimensions || {})).flatMap(([dim, dv]) =>
    byOrder(keyType(dim) || 'Dimension', Object.entries(dv.values || {})).map(([key, v]) => valueRow(dim, key, v, loc)));
  // A report is about now: not offered in a past picture.
  const report = mayReportFor(loc) && !state.past
    ? el('button', { type: 'button', id: 'detail-report', 'data-focus': `detail-report:${open.id}` }, reportsOwn() ? t('reportOwn') : t('reportOnBehalf'))
    : null;
  if (report) report.addEventListener('click', () => { const { id, region } = open; $('detail').close(); openReport(id, region); });
  const facts = el('dl', { class: 'facts' },
    el('dt', {}, t('detailOrganisation')), el('dd', {}, loc.organisation_name || loc.organisation),
    el('dt', {}, t('detailType')), el('dd', {}, [label('Category', loc.category), label('LocationType', loc.type), loc.municipality].filter(Boolean).join(' · ')),
    el('dt', {}, t('lastReport')), el('dd', {}, loc.last_report ? [fmtClock(loc.last_report), ' ', el('span', { class: 'age inline', 'data-time': parseTime(loc.last_report), 'data-oldest': parseTime(loc.last_report) })] : t('neverReported')),
    loc.incidents && loc.incidents.length ? [el('dt', {}, t('detailIncidents')), el('dd', {}, loc.incidents.map((i) => incidentName(i)).join(', '))] : null);
  const body = $('detail-body');
  keepingFocus(body, () => place(body, [
    pastNote(),
    open.pastError ? el('p', { class: 'error' }, t('detailPastFailed', open.pastError)) : null,
    facts,
    el('p', { class: 'meta' }, t('detailInterval', num(loc.interval_minutes))),
    loc.overdue_since ? el('p', { class: 'tag-overdue' }, `${ICON.verouderd} ${t('overdue', fmtClock(loc.overdue_since))}`) : null,
    loc.rejected ? el('p', { class: 'error' }, t('rejectedIntake', loc.rejected.reason)) : null,
    report,
    el('h3', {}, t('detailDimensions')),
    rows.length ? el('div', { class: 'table-wrap' }, el('table', { class: 'grid detail-values' },
      el('thead', {}, el('tr', {}, [t('dimensionCol'), t('filterState'), t('observed'), t('bron'), t('reportedBy')].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))) : el('p', { class: 'meta' }, t('noValues')),
    rows.length ? timelineSection(loc) : null,
    contactsSection(),
    el('section', { id: 'detail-history' }, el('h3', {}, t(state.past ? 'historyPast' : 'history')),
      el('p', { class: 'meta' }, t(state.past ? 'historyPastScope' : 'historyScope')), historyList()),
  ].filter(Boolean)));
  drawCharts();
}

on('render', () => { if ($('detail').open) renderDetail(); });
on('signedOut', () => { if ($('detail').open) $('detail').close(); });

export function bindDetail() {
  const dialog = $('detail');
  dialog.addEventListener('close', closeDetail);
  dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
}
