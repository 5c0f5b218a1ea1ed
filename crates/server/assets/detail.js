// ghor — the location detail panel: every dimension and key with its state, value, when it
// was observed, its source (bron) and who reported it; the recent changes (from
// GET /v1/picture/locations/{id}/history); and for GHOR roles only the 24/7 contacts (the
// contacts endpoint refuses everyone else, so other roles never ask). The informatiemanager
// can open the report form from here to report on the location's behalf (bron: telefoon).
// While the page looks back (lookback.js) the panel shows the location at the same moment
// and clock (GET /v1/picture/locations/{id}?at=&clock=), and the changes up to it.

import {
  $, t, el, has, num, fmtClock, parseTime, label, keyLabel, keyType, byOrder, badge, addTexts, state, on, api,
  problemText, showDialog, may, ICON, isObject, LatestRequest, isoTime, fmtMoment, clockWords,
} from './core.js';
import { summaryLines, keyWords } from './picture.js';
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
  const dialog = $('detail');
  renderDetail();
  showDialog(dialog);
  if (may('read_contacts')) loadContacts(id);
}

function closeDetail() {
  open.id = null;
  pastFetch.cancel();
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
    $('detail-body').replaceChildren(...[pastNote(), why ? el('p', { class: open.pastError ? 'error' : 'note' }, why) : null].filter(Boolean));
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
  $('detail-body').replaceChildren(...[
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
    contactsSection(),
    el('section', { id: 'detail-history' }, el('h3', {}, t(state.past ? 'historyPast' : 'history')),
      el('p', { class: 'meta' }, t(state.past ? 'historyPastScope' : 'historyScope')), historyList()),
  ].filter(Boolean));
}

on('render', () => { if ($('detail').open) renderDetail(); });
on('signedOut', () => { if ($('detail').open) $('detail').close(); });

export function bindDetail() {
  const dialog = $('detail');
  dialog.addEventListener('close', closeDetail);
  dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
}
