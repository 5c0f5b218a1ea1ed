// ghor — the ROT/VIC dashboard: headline tiles, active alerts (acknowledged by whoever
// may: `may('acknowledge')`) and their raised/cleared feed, incidents, the locations table (grouped
// by category, sortable and filterable), the national table of regions, and for
// aggregate-only roles the count of locations per state instead of locations.

import {
  $, t, el, has, num, fmtNum, fmtClock, parseTime, label, byOrder, orderIndex, compareText, badge,
  addTexts, state, on, selectRegion, postEvent, problemText, may, ALL_REGIONS, severity, worstState,
  statesWorstFirst, eventType,
} from './core.js';
import { totalsTiles, sumTotals, alertWhat, dimensionCell, withheld } from './picture.js';
import { openDetail } from './detail.js';
import { updateAlarm } from './alarm.js';

addTexts({
  nl: {
    alertFeed: 'Verloop meldingen',
    feedEmpty: 'Nog geen wijzigingen sinds deze pagina openging.',
    raised: 'Gemeld',
    cleared: 'Opgeheven',
    acknowledge: 'Bevestigen',
    acknowledgeAria: (what) => `Melding bevestigen: ${what}`,
    acknowledging: 'Bevestigen…',
    acknowledgedStored: (what, seq) => `Bevestiging opgeslagen (volgnummer ${seq}): ${what}`,
    acknowledgeFailed: (why) => `Bevestigen mislukt: ${why}`,
    regionsTitle: "Regio's",
    statesTitle: 'Locaties per toestand',
    filterType: 'Soort',
    filterState: 'Toestand',
    filterDisbalance: 'Disbalans',
    filterIncident: 'Incidentgebied',
    filterAll: 'Alle',
    stateAtLeast: (s) => `${s} of erger`,
    staleOrOverdue: 'Verouderd of te laat',
    anyDisbalance: 'Elke getroffen disbalans',
    inAnyIncident: 'In een incidentgebied',
    shownOf: (a, b) => `${a} van ${b} locaties getoond`,
    sortBy: (c) => `Sorteren op ${c}`,
    lastReport: 'Laatste melding',
    noneMatch: 'Geen locaties voldoen aan de filters. Zet een filter op "Alle".',
    openDetail: (n) => `Details van ${n}`,
    regionCol: 'Regio',
    locationsCol: 'Locaties',
    notReportingCol: 'Niet gemeld',
    alertsCol: 'Kritieke meldingen',
    incidentsCol: 'Incidenten',
    showRegion: (n) => `Toon ${n}`,
    dimensionCol: 'Dimensie',
    aggregateNote: (role) => `U kijkt als ${role}: u ziet het beeld van de keten in totalen (capaciteit, aantallen locaties per toestand, meldingen op regioniveau en incidenten). Gegevens per locatie zijn afgeschermd, zo is het met de instellingen afgesproken.`,
    totalsNational: (n) => `Totalen van ${n} regio's (landelijk)`,
    neverReported: 'nooit gemeld',
  },
  en: {
    alertFeed: 'Alert history',
    feedEmpty: 'No changes since this page opened.',
    raised: 'Raised',
    cleared: 'Cleared',
    acknowledge: 'Acknowledge',
    acknowledgeAria: (what) => `Acknowledge alert: ${what}`,
    acknowledging: 'Acknowledging…',
    acknowledgedStored: (what, seq) => `Acknowledgement stored (sequence ${seq}): ${what}`,
    acknowledgeFailed: (why) => `Acknowledging failed: ${why}`,
    regionsTitle: 'Regions',
    statesTitle: 'Locations per state',
    filterType: 'Type',
    filterState: 'State',
    filterDisbalance: 'Disbalance',
    filterIncident: 'Incident area',
    filterAll: 'All',
    stateAtLeast: (s) => `${s} or worse`,
    staleOrOverdue: 'Stale or overdue',
    anyDisbalance: 'Any affected disbalance',
    inAnyIncident: 'In an incident area',
    shownOf: (a, b) => `${a} of ${b} locations shown`,
    sortBy: (c) => `Sort by ${c}`,
    lastReport: 'Last report',
    noneMatch: 'No locations match the filters. Set a filter to "All".',
    openDetail: (n) => `Details of ${n}`,
    regionCol: 'Region',
    locationsCol: 'Locations',
    notReportingCol: 'Not reporting',
    alertsCol: 'Critical alerts',
    incidentsCol: 'Incidents',
    showRegion: (n) => `Show ${n}`,
    dimensionCol: 'Dimension',
    aggregateNote: (role) => `You are viewing as ${role}: you see the chain's picture in aggregate (capacity, locations per state, region-wide alerts and incidents). Location-level data is withheld, as agreed with the institutions.`,
    totalsNational: (n) => `Totals of ${n} regions (national)`,
    neverReported: 'never reported',
  },
});

/** Roles that acknowledge alerts (an acknowledgement is an event in the log). */
const FEED_MAX = 200;

// ---------------------------------------------------------------- focus across re-renders

/** Re-renders `container` with `fn`, giving focus back to the control that had it. */
export function keepFocus(container, fn) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focus : null;
  fn();
  if (key) {
    const again = container.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

// ---------------------------------------------------------------- tiles

export function renderTotals(views, titleKey, ages) {
  const code = state.region;
  $('totals-title').textContent = titleKey ? t(titleKey)
    : code === ALL_REGIONS ? t('totalsNational', views.length) : t('totals');
  $('totals').replaceChildren(...totalsTiles(views, ages));
}

// ---------------------------------------------------------------- alerts

/** Alert ids seen per region at the last applied message, and the raised/cleared feed. */
const alertsSeen = {};
const feed = [];

/** After every snapshot or delta: what was raised, what cleared. */
function noteAlertChanges() {
  const now = Date.now();
  for (const [code, view] of Object.entries(state.regions)) {
    const current = view.alerts || {};
    const before = alertsSeen[code];
    const seen = {};
    for (const [id, a] of Object.entries(current)) {
      seen[id] = { alert: a, what: alertWhat(view, a) };
      if (!before || !has(before, id)) feed.unshift({ kind: 'raised', at: parseTime(a.since) || now, id, region: code, alert: a, what: seen[id].what });
    }
    for (const [id, old] of Object.entries(before || {})) {
      if (!has(current, id)) feed.unshift({ kind: 'cleared', at: now, id, region: code, alert: old.alert, what: old.what });
    }
    alertsSeen[code] = seen;
  }
  feed.sort((a, b) => b.at - a.at);
  feed.length = Math.min(feed.length, FEED_MAX);
}
on('applied', noteAlertChanges);
on('signedOut', () => { feed.length = 0; for (const k of Object.keys(alertsSeen)) delete alertsSeen[k]; });

const acking = new Set();

async function acknowledge(code, id, what) {
  acking.add(id);
  showAckStatus(t('acknowledging'));
  renderAlertsNow();
  const answer = await postEvent({ source: `/regions/${code}`, type: eventType('alert.acknowledged'), subject: id, data: {} });
  acking.delete(id);
  showAckStatus(answer.ok ? t('acknowledgedStored', what, answer.body && answer.body.seq) : t('acknowledgeFailed', problemText(answer)));
  renderAlertsNow();
}

function showAckStatus(text) {
  $('ack-status').textContent = text;
  $('ack-status').hidden = !text;
}

let lastViews = [];
function renderAlertsNow() { renderAlerts(lastViews); }

export function renderAlerts(views) {
  lastViews = views;
  const mayAck = may('acknowledge');
  const alerts = views.flatMap(([code, view]) => Object.entries(view.alerts || {}).map(([id, a]) => ({ code, view, id, a })))
    .sort((x, y) => parseTime(y.a.since) - parseTime(x.a.since) || x.id.localeCompare(y.id));
  $('alert-count').textContent = `(${alerts.length})`;
  updateAlarm(alerts.map(({ a }) => a));
  const items = alerts.map(({ code, view, id, a }) => {
    const what = alertWhat(view, a);
    const ack = a.acknowledged
      ? el('span', { class: 'ack' }, `✓ ${t('acknowledged')}`)
      : mayAck ? el('button', { type: 'button', class: 'small', 'data-ack': id, 'data-focus': `ack:${id}`,
        'aria-label': t('acknowledgeAria', what), disabled: acking.has(id) },
        acking.has(id) ? t('acknowledging') : t('acknowledge')) : null;
    const node = el('li', { 'data-alert': id, 'data-state': a.state, 'data-acknowledged': String(!!a.acknowledged) },
      badge(a.state), ' ',
      el('span', { class: 'meta' }, `${t('since')} ${fmtClock(a.since)} `, el('span', { class: 'age inline', 'data-time': parseTime(a.since), 'data-oldest': parseTime(a.since) })),
      el('span', { class: 'alert-what' }, what), ack);
    const button = node.querySelector('button[data-ack]');
    if (button) button.addEventListener('click', () => acknowledge(code, id, what));
    return node;
  });
  keepFocus($('alerts'), () => $('alerts').replaceChildren(...(items.length ? items : [el('li', { class: 'empty' }, t('noAlerts'))])));
  const shown = new Set(views.map(([c]) => c));
  const entries = feed.filter((f) => shown.has(f.region)).slice(0, 30).map((f) => el('li', { 'data-feed': f.kind, 'data-alert': f.id },
    el('span', { class: `feed-kind ${f.kind}` }, f.kind === 'raised' ? `▲ ${t('raised')}` : `▼ ${t('cleared')}`), ' ',
    el('span', { class: 'meta' }, fmtClock(f.at, true)), ' ', badge(f.alert.state), ' ', f.what));
  $('alert-feed').replaceChildren(...(entries.length ? entries : [el('li', { class: 'empty' }, t('feedEmpty'))]));
}

// ---------------------------------------------------------------- incidents

export function renderIncidents(views) {
  const seen = new Set();
  const incidents = views.flatMap(([, v]) => Object.entries(v.incidents || {}))
    .filter(([id, i]) => i.state !== 'gesloten' && !seen.has(id) && seen.add(id))
    .sort((a, b) => num(b[1].grip) - num(a[1].grip) || (parseTime(b[1].time) || 0) - (parseTime(a[1].time) || 0));
  const items = incidents.map(([id, i]) => el('li', { 'data-incident': id, 'data-grip': num(i.grip) },
    el('div', { class: 'incident-name' }, i.name || id),
    el('div', {},
      el('span', { class: 'pill' }, label('IncidentState', i.state)),
      el('span', { class: 'pill' }, t('grip', num(i.grip))),
      i.theme ? el('span', { class: 'meta' }, label('Theme', i.theme)) : null),
    el('div', { class: 'meta' }, `${t('since')} ${fmtClock(i.time)} `, el('span', { class: 'age inline', 'data-time': parseTime(i.time), 'data-oldest': parseTime(i.time) })),
    i.handelingsperspectief ? el('div', { class: 'perspective' }, i.handelingsperspectief) : null));
  $('incidents').replaceChildren(...(items.length ? items : [el('li', { class: 'empty' }, t('noIncidents'))]));
}

// ---------------------------------------------------------------- locations: filters and sort

const filters = { type: '', state: '', disbalance: '', incident: '' };
const sort = { key: 'name', dir: 1 };

/** The worst state over a location's dimensions; `verouderd` when overdue or a value is too old. */
export function locationState(loc, now = Date.now()) {
  if (loc.overdue_since) return 'verouderd';
  const worst = worstState(Object.values(loc.dimensions || {}).map((dv) => dv.state));
  if (worst !== 'kritiek' && worst !== 'aandacht' && isStale(loc, now)) return 'verouderd';
  return worst || 'onbekend';
}

function isStale(loc, now) {
  const limit = num(loc.interval_minutes) * 60000;
  if (!limit) return false;
  return Object.values(loc.dimensions || {}).some((dv) =>
    Object.values(dv.values || {}).some((v) => now - parseTime(v.time) > limit));
}

const DISBALANCE_AFFECTED = (level) => orderIndex('DisbalanceLevel', level) > 0;

function matches(loc) {
  if (filters.type && loc.type !== filters.type) return false;
  if (filters.state) {
    const s = locationState(loc);
    if (filters.state === 'verouderd' ? s !== 'verouderd' : severity(s) < severity(filters.state) || s === 'verouderd') return false;
  }
  if (filters.disbalance) {
    const values = ((loc.dimensions || {}).disbalance || {}).values || {};
    const hit = Object.entries(values).some(([k, v]) => !v.retracted && DISBALANCE_AFFECTED(v.data && v.data.level) &&
      (filters.disbalance === '*' || filters.disbalance === k));
    if (!hit) return false;
  }
  if (filters.incident) {
    const ids = loc.incidents || [];
    if (filters.incident === '*' ? ids.length === 0 : !ids.includes(filters.incident)) return false;
  }
  return true;
}

function sortValue(id, loc) {
  if (sort.key === 'name') return null;
  if (sort.key === 'last_report') return parseTime(loc.last_report) || 0;
  const dv = (loc.dimensions || {})[sort.key.slice(4)];
  return dv && dv.state ? severity(dv.state) : -1;
}

function sortedLocations(views) {
  const rows = views.flatMap(([code, v]) => Object.entries(v.locations || {}).map(([id, loc]) => [id, loc, code]));
  const byName = (a, b) => compareText(a[1].name || a[0], b[1].name || b[0]) || a[0].localeCompare(b[0]);
  return rows.sort((a, b) =>
    orderIndex('Category', a[1].category) - orderIndex('Category', b[1].category) ||
    String(a[1].category).localeCompare(String(b[1].category)) ||
    (sort.key === 'name' ? sort.dir * byName(a, b) : sort.dir * (sortValue(...a) - sortValue(...b)) || byName(a, b)));
}

function filterSelect(key, title, options) {
  const select = el('select', { id: `filter-${key}`, 'data-filter': key, 'data-focus': `filter:${key}` },
    el('option', { value: '' }, t('filterAll')),
    options.map(([value, text]) => el('option', { value }, text)));
  select.value = options.some(([v]) => v === filters[key]) ? filters[key] : '';
  filters[key] = select.value;
  select.addEventListener('change', () => { filters[key] = select.value; rerender(); });
  return el('div', { class: 'control' }, el('label', { for: `filter-${key}` }, title), select);
}

let rerender = () => {};
export function setRerender(fn) { rerender = fn; }

function renderFilters(rows, views) {
  const types = [...new Set(rows.map(([, l]) => l.type))].sort((a, b) => compareText(label('LocationType', a), label('LocationType', b)));
  const disbalances = [...new Set(rows.flatMap(([, l]) => Object.keys(((l.dimensions || {}).disbalance || {}).values || {})))];
  const incidents = views.flatMap(([, v]) => Object.entries(v.incidents || {})).filter(([, i]) => i.state === 'actief');
  keepFocus($('filters'), () => $('filters').replaceChildren(
    filterSelect('type', t('filterType'), types.map((ty) => [ty, label('LocationType', ty)])),
    filterSelect('state', t('filterState'), [
      ['kritiek', label('State', 'kritiek')],
      ['aandacht', t('stateAtLeast', label('State', 'aandacht'))],
      ['verouderd', t('staleOrOverdue')],
    ]),
    filterSelect('disbalance', t('filterDisbalance'), [['*', t('anyDisbalance')],
      ...byOrder('Disbalance', disbalances.map((d) => [d])).map(([d]) => [d, label('Disbalance', d)])]),
    filterSelect('incident', t('filterIncident'), [['*', t('inAnyIncident')],
      ...incidents.map(([id, i]) => [id, `${i.name || id} (${t('grip', num(i.grip))})`])]),
    el('span', { id: 'filter-count', class: 'meta' }),
  ));
}

function regionDimensions(locations) {
  const present = new Set();
  for (const loc of locations) for (const d of Object.keys(loc.dimensions || {})) present.add(d);
  return [...present].sort((a, b) => orderIndex('Dimension', a) - orderIndex('Dimension', b) || a.localeCompare(b));
}

function sortHeader(key, text, extra) {
  const active = sort.key === key;
  const arrow = active ? (sort.dir > 0 ? ' ▲' : ' ▼') : '';
  const button = el('button', { type: 'button', class: 'sort', 'data-sort': key, 'data-focus': `sort:${key}`,
    'aria-label': t('sortBy', text) }, text, el('span', { 'aria-hidden': 'true' }, arrow));
  button.addEventListener('click', () => {
    // Names sort A→Z first; states and ages worst/oldest first.
    if (active) sort.dir = -sort.dir;
    else { sort.key = key; sort.dir = key === 'name' || key === 'last_report' ? 1 : -1; }
    rerender();
  });
  return el('th', Object.assign({ scope: 'col', 'aria-sort': active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none' }, extra), button);
}

function locationRow(id, loc, code, dims) {
  const typeLine = [label('LocationType', loc.type), loc.municipality].filter(Boolean).join(' · ');
  const open = el('button', { type: 'button', class: 'link loc-name', 'data-open': id, 'data-focus': `open:${id}`,
    'aria-label': t('openDetail', loc.name || id) }, loc.name || id);
  open.addEventListener('click', () => openDetail(id, code));
  const nameCell = el('th', { scope: 'row', class: 'loc' },
    open,
    el('div', { class: 'loc-type' }, typeLine),
    loc.overdue_since ? el('div', { class: 'tag-overdue' }, `⌛ ${t('overdue', fmtClock(loc.overdue_since))}`) : null);
  const last = loc.last_report
    ? el('td', { class: 'dim last' }, fmtClock(loc.last_report), el('span', { class: 'age', 'data-time': parseTime(loc.last_report),
      'data-oldest': parseTime(loc.last_report), 'data-limit': num(loc.interval_minutes) * 60000 || null }))
    : el('td', { class: 'dim last', 'data-state': 'none' }, t('neverReported'));
  return el('tr', { 'data-location': id, 'data-overdue': loc.overdue_since ? 'true' : null, 'data-state': locationState(loc) },
    nameCell, last, dims.map((d) => dimensionCell(d, loc)));
}

export function renderLocations(views) {
  const all = sortedLocations(views);
  renderFilters(all, views);
  const rows = all.filter(([, loc]) => matches(loc));
  const dims = regionDimensions(all.map(([, l]) => l));
  const head = el('thead', {}, el('tr', {},
    sortHeader('name', t('location')),
    sortHeader('last_report', t('lastReport')),
    dims.map((d) => sortHeader(`dim:${d}`, label('Dimension', d), { 'data-dimension': d }))));
  const body = el('tbody', {});
  let category;
  for (const [id, loc, code] of rows) {
    if (loc.category !== category) {
      category = loc.category;
      body.append(el('tr', { class: 'group', 'data-category': category },
        el('th', { scope: 'rowgroup', colspan: dims.length + 2 }, label('Category', category))));
    }
    body.append(locationRow(id, loc, code, dims));
  }
  if (!all.length) body.append(el('tr', {}, el('td', { colspan: dims.length + 2 }, t('noLocations'))));
  else if (!rows.length) body.append(el('tr', {}, el('td', { colspan: dims.length + 2 }, t('noneMatch'))));
  const table = $('locations');
  keepFocus(table, () => table.replaceChildren(el('caption', { class: 'sr-only' }, t('tableCaption', rows.length)), head, body));
  $('filter-count').textContent = t('shownOf', rows.length, all.length);
}

// ---------------------------------------------------------------- national view

export function renderRegionsTable(views) {
  const head = el('thead', {}, el('tr', {}, [t('regionCol'), t('locationsCol'), t('notReportingCol'),
    t('beds', label('BedType', 'ic')), t('beds', label('BedType', 'klinisch')), t('acuteStops'), t('alertsCol'), t('incidentsCol')]
    .map((h) => el('th', { scope: 'col' }, h))));
  const capacity = (c) => (!c ? '–' : withheld(c) ? t('withheld') : `${fmtNum(c.free)} / ${fmtNum(c.operational)} ${t('free')}`);
  const body = el('tbody', {}, views.map(([code, v]) => {
    const tot = v.totals || {};
    const beds = tot.beds || {};
    const critical = Object.values(v.alerts || {}).filter((a) => a.state === 'kritiek').length;
    const button = el('button', { type: 'button', class: 'link', 'data-region': code, 'data-focus': `region:${code}`,
      'aria-label': t('showRegion', v.name || code) }, `${code} — ${v.name || ''}`);
    button.addEventListener('click', () => selectRegion(code));
    return el('tr', { 'data-region': code },
      el('th', { scope: 'row' }, button),
      el('td', {}, fmtNum(tot.locations)),
      el('td', { 'data-level': num(tot.not_reporting) > 0 ? 'aandacht' : null }, fmtNum(tot.not_reporting)),
      el('td', {}, capacity(beds.ic)),
      el('td', {}, capacity(beds.klinisch)),
      el('td', {}, fmtNum(Object.values(tot.acute_function_stops || {}).reduce((a, b) => a + num(b), 0))),
      el('td', {}, critical ? [badge('kritiek'), ' ', fmtNum(critical)] : '0'),
      el('td', {}, num(tot.active_incidents) ? `${fmtNum(tot.active_incidents)} · ${t('maxGrip', num(tot.max_grip))}` : '0'));
  }));
  keepFocus($('regions-table'), () => $('regions-table').replaceChildren(head, body));
}

// ---------------------------------------------------------------- aggregate roles

/** Counts of locations per state and dimension: what aggregate-only roles see instead of locations. */
export function renderStatesTable(views) {
  const tot = sumTotals(views.map(([, v]) => v));
  const states = tot.states || {};
  const dims = Object.keys(states).sort((a, b) => orderIndex('Dimension', a) - orderIndex('Dimension', b));
  const head = el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('dimensionCol')),
    statesWorstFirst().map((s) => el('th', { scope: 'col' }, badge(s)))));
  // Counts over too few reporting locations come withheld; then the whole row is, since a
  // count shown as 0 beside them would still say what those few reported.
  const cell = (counts, s) => (Object.values(counts).some(withheld) ? t('withheld') : fmtNum(num(counts[s])));
  const body = el('tbody', {}, dims.map((d) => el('tr', { 'data-dimension': d },
    el('th', { scope: 'row' }, label('Dimension', d)),
    statesWorstFirst().map((s) => el('td', { 'data-state-count': s }, cell(states[d], s))))));
  if (!dims.length) body.append(el('tr', {}, el('td', { colspan: statesWorstFirst().length + 1 }, t('noLocations'))));
  $('states-table').replaceChildren(el('caption', { class: 'sr-only' }, t('statesTitle')), head, body);
}

export function aggregateNote() {
  return t('aggregateNote', label('Role', state.me.role));
}

