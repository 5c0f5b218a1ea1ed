// ghor — the ROT/VIC dashboard and the informatiemanager's worklist: headline tiles (some
// of them filters of the table), the locations table (a compact set of columns, more by
// choice; sticky name column and header; sorted by state or by a value; rows updated in
// place and held still under the pointer), the alerts as things to act on (where, what,
// the value, the rule; kritiek first; acknowledged ones apart, with who and when) and
// their raised/cleared feed, incidents, the national table of regions, and for
// aggregate-only roles the count of locations per state instead of locations. Of a past
// moment too (lookback.js): then nothing is acknowledged, and the feed ends at the moment.

import {
  $, t, el, has, num, isObject, fmtNum, fmtClock, parseTime, label, keyLabel, byOrder, orderIndex, compareText, badge,
  addTexts, state, on, selectRegion, postEvent, problemText, may, ALL_REGIONS, severity, worstState,
  statesWorstFirst, eventType, ICON, api, pictureNow, liveRegions,
} from './core.js';
import {
  totalsTiles, sumTotals, alertParts, alertWhat, withheld, summaryLines, openHelpRequests, helpHeading,
} from './picture.js';
import { openDetail } from './detail.js';
import { updateAlarm } from './alarm.js';
import { linkDownMark } from './federation.js';
import { evaluationControl, closedIncidentsItem, mayEvaluate } from './evaluatie.js';

addTexts({
  nl: {
    alertFeed: 'Verloop meldingen',
    feedEmpty: 'Nog geen meldingen verschenen of verdwenen.',
    raised: 'Gemeld',
    cleared: 'Opgeheven',
    acknowledge: 'Bevestigen',
    acknowledgeAria: (what) => `Melding bevestigen: ${what}`,
    acknowledging: 'Bevestigen…',
    acknowledgedStored: (what, at) => `Bevestiging opgeslagen om ${at}: ${what}`,
    acknowledgeFailed: (why) => `Bevestigen mislukt: ${why}`,
    wlAcknowledgedBy: (who, at) => `bevestigd${who ? ` door ${who}` : ''}${at ? ` om ${at}` : ''}`,
    wlAlertsOpen: (n) => `${n} open`,
    wlAlertsAcked: (n) => `${n} bevestigd`,
    wlGroupAcked: (n) => `Bevestigd (${n})`,
    wlGroupState: (s, n) => `${s} (${n})`,
    wlAlertCleared: 'opgeheven',
    wlAlertsHeld: (n) => (n === 1 ? '1 nieuwe melding verschijnt zodra de muisaanwijzer de lijst verlaat.'
      : `${n} nieuwe meldingen verschijnen zodra de muisaanwijzer de lijst verlaat.`),
    wlOpenLocation: (n) => `Details van ${n}`,
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
    noneMatch: 'Geen locaties voldoen aan de filters. Haal een filter weg.',
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
    // the worklist
    wlColState: 'Toestand',
    wlColBackup: 'Noodstroom',
    wlMetricIcFree: 'IC vrij',
    wlMetricBackupHours: 'uren over',
    wlMetricUnfilled: 'open diensten',
    wlMetricUrgency: 'urgentie',
    wlMetricDays: 'dagen over',
    wlMetricLevel: 'niveau',
    wlMetricOldest: 'oudste eerst',
    wlSortByMetric: (col, m) => `Sorteren op ${col}: ${m}`,
    wlColumns: 'Kolommen',
    wlColumnsShown: (a, b) => `Kolommen (${a}/${b})`,
    wlAllTypes: 'Alle soorten',
    wlAllStates: 'Alle toestanden',
    wlAllDisbalances: 'Alle disbalansen',
    wlAllAreas: 'Alle gebieden',
    wlColumnsDefault: 'Standaardkolommen',
    wlRemoveFilter: (f) => `Filter weghalen: ${f}`,
    wlChipBackup: 'Op noodstroom',
    wlChipHelp: 'Open hulpvragen',
    wlChipSilentIncident: (names) => `Niet gemeld sinds start van ${names}`,
    wlChipSilent: 'Niet gemeld (te laat of nog nooit)',
    wlChipUtilityDown: 'Nutsvoorziening uitgevallen',
    wlChipStops: 'Stops acute functies',
    wlChipShifts: 'Open diensten 24 u',
    wlChipSupplies: 'Voorraad onder de lijn',
    wlTileFilter: (f) => `Toon in de tabel: ${f}`,
    wlOrderHeld: 'Volgorde vastgehouden zolang de muisaanwijzer op de tabel staat.',
    wlIcFree: (f, o) => `IC ${f}/${o} vrij`,
    wlBedsFree: (f, o) => `${f}/${o} vrij`,
    wlBackupLeft: (h) => `noodstroom ${h} u`,
    wlBackupUnknown: 'noodstroom, ? u',
    wlHoursLeftShort: (h) => `nog ${h} u`,
    wlHoursUnknown: 'uren onbekend',
    wlNotOnBackup: 'geen noodstroom',
    wlShiftsOpen: (n) => `${n} open`,
    wlShiftsCritical: 'kritiek tekort gemeld',
    wlNoOpenHelp: 'geen open',
    wlMoreHelp: (n) => `+${n}`,
    wlLateSince: (hm) => `te laat sinds ${hm}`,
    wlAllGood: 'niets kritiek',
  },
  en: {
    alertFeed: 'Alert history',
    feedEmpty: 'No alerts raised or cleared yet.',
    raised: 'Raised',
    cleared: 'Cleared',
    acknowledge: 'Acknowledge',
    acknowledgeAria: (what) => `Acknowledge alert: ${what}`,
    acknowledging: 'Acknowledging…',
    acknowledgedStored: (what, at) => `Acknowledgement stored at ${at}: ${what}`,
    acknowledgeFailed: (why) => `Acknowledging failed: ${why}`,
    wlAcknowledgedBy: (who, at) => `acknowledged${who ? ` by ${who}` : ''}${at ? ` at ${at}` : ''}`,
    wlAlertsOpen: (n) => `${n} open`,
    wlAlertsAcked: (n) => `${n} acknowledged`,
    wlGroupAcked: (n) => `Acknowledged (${n})`,
    wlGroupState: (s, n) => `${s} (${n})`,
    wlAlertCleared: 'cleared',
    wlAlertsHeld: (n) => (n === 1 ? '1 new alert appears once the pointer leaves the list.'
      : `${n} new alerts appear once the pointer leaves the list.`),
    wlOpenLocation: (n) => `Details of ${n}`,
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
    noneMatch: 'No locations match the filters. Remove a filter.',
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
    wlColState: 'State',
    wlColBackup: 'Backup power',
    wlMetricIcFree: 'ICU free',
    wlMetricBackupHours: 'hours left',
    wlMetricUnfilled: 'unfilled shifts',
    wlMetricUrgency: 'urgency',
    wlMetricDays: 'days left',
    wlMetricLevel: 'level',
    wlMetricOldest: 'oldest first',
    wlSortByMetric: (col, m) => `Sort by ${col}: ${m}`,
    wlColumns: 'Columns',
    wlColumnsShown: (a, b) => `Columns (${a}/${b})`,
    wlAllTypes: 'All types',
    wlAllStates: 'All states',
    wlAllDisbalances: 'All disbalances',
    wlAllAreas: 'All areas',
    wlColumnsDefault: 'Default columns',
    wlRemoveFilter: (f) => `Remove filter: ${f}`,
    wlChipBackup: 'On backup power',
    wlChipHelp: 'Open help requests',
    wlChipSilentIncident: (names) => `Not reported since ${names} started`,
    wlChipSilent: 'Not reported (overdue or never)',
    wlChipUtilityDown: 'Utilities down',
    wlChipStops: 'Acute function stops',
    wlChipShifts: 'Unfilled shifts 24 h',
    wlChipSupplies: 'Supplies under the line',
    wlTileFilter: (f) => `Show in the table: ${f}`,
    wlOrderHeld: 'Order held while the pointer is over the table.',
    wlIcFree: (f, o) => `ICU ${f}/${o} free`,
    wlBedsFree: (f, o) => `${f}/${o} free`,
    wlBackupLeft: (h) => `backup ${h} h`,
    wlBackupUnknown: 'backup, ? h',
    wlHoursLeftShort: (h) => `${h} h left`,
    wlHoursUnknown: 'hours unknown',
    wlNotOnBackup: 'no backup power',
    wlShiftsOpen: (n) => `${n} unfilled`,
    wlShiftsCritical: 'critical shortage reported',
    wlNoOpenHelp: 'none open',
    wlMoreHelp: (n) => `+${n}`,
    wlLateSince: (hm) => `overdue since ${hm}`,
    wlAllGood: 'nothing critical',
  },
});

const FEED_MAX = 200;
/** A feed entry of the server this close to one the page saw itself is the same change. */
const FEED_SAME_MS = 5000;
const FLASH_MS = 2000;

// ---------------------------------------------------------------- focus across re-renders

/** Re-renders `container` with `fn`, giving focus back to the control that had it. */
export function keepFocus(container, fn) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focus : null;
  fn();
  if (key) {
    const again = container.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    if (again && again !== document.activeElement) again.focus();
  }
}

/**
 * Puts `nodes` into `parent` in that order, moving only what is out of place and removing
 * what is not among them: nodes that stay keep their identity (focus, hover, animation).
 */
function reconcile(parent, nodes) {
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) { cursor = cursor.nextSibling; continue; }
    parent.insertBefore(node, cursor);
  }
  while (cursor) { const next = cursor.nextSibling; cursor.remove(); cursor = next; }
}

/** A cell whose value changed lights up briefly (an outline instead when motion is reduced). */
function flash(node) {
  node.dataset.changed = 'true';
  if (node.animate && !matchMedia('(prefers-reduced-motion: reduce)').matches) {
    node.animate([{ backgroundColor: '#ffe27a' }, { backgroundColor: 'rgba(255, 226, 122, 0)' }], { duration: FLASH_MS, easing: 'ease-out' });
  }
  setTimeout(() => { if (node.dataset.changed) delete node.dataset.changed; }, FLASH_MS);
}

/** Tracks whether the pointer is over `node`: `onLeave` runs when it leaves. */
function hoverTracker(node, onLeave) {
  const tracker = { over: false };
  node.addEventListener('pointerenter', () => { tracker.over = true; });
  node.addEventListener('pointerleave', () => { tracker.over = false; onLeave(); });
  return tracker;
}

let rerender = () => {};
export function setRerender(fn) { rerender = fn; }

/**
 * Forgets the rows and alerts drawn, so that the next render draws them anew: the page
 * switched between the live picture and a past one, which are no changes to light up, nor
 * an order to hold under the pointer.
 */
export function forgetRows() {
  worklist.rows.clear();
  worklist.groups.clear();
  worklist.order = [];
  worklist.force = true;
  alertList.items.clear();
  alertList.order = [];
}

// ---------------------------------------------------------------- tiles

/** The tiles that filter the table: pressed, the table shows what they count. */
const TILE_FILTERS = {
  'on-backup-power': 'backup',
  'open-help-requests': 'help',
  'not-reporting': 'silent',
  'utilities-down': 'utility_down',
  'acute-function-stops': 'stops',
  'unfilled-shifts-24h': 'shifts',
  'supplies-under-line': 'supplies',
};

/**
 * The headline tiles. With `ages` (the caller sees every location: the worklist) the tiles
 * that count locations are toggle buttons that filter the table to what they count.
 */
export function renderTotals(views, titleKey, ages) {
  const code = state.region;
  $('totals-title').textContent = titleKey ? t(titleKey)
    : code === ALL_REGIONS ? t('totalsNational', views.length) : t('totals');
  const tiles = totalsTiles(views, ages);
  if (ages && !document.body.classList.contains('bigscreen')) {
    for (const tile of tiles) {
      const quick = TILE_FILTERS[tile.dataset.total];
      if (!quick) continue;
      const pressed = filters.quick === quick;
      tile.setAttribute('role', 'button');
      tile.setAttribute('tabindex', '0');
      tile.setAttribute('aria-pressed', String(pressed));
      tile.dataset.filterTile = quick;
      tile.dataset.focus = `tile:${quick}`;
      tile.title = t('wlTileFilter', QUICK[quick].chip());
      const toggle = () => setQuick(pressed ? '' : quick);
      tile.addEventListener('click', toggle);
      tile.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); toggle(); }
      });
    }
  }
  keepFocus($('totals'), () => $('totals').replaceChildren(...tiles));
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
      const old = before && has(before, id) ? before[id] : null;
      // The words of an alert are kept from when it was raised; its value may change.
      seen[id] = { alert: a, what: old ? old.what : alertWhat(view, a, id) };
      if (!old) feed.unshift({ kind: 'raised', at: parseTime(a.since) || now, id, region: code, alert: a, what: seen[id].what });
    }
    for (const [id, old] of Object.entries(before || {})) {
      if (!has(current, id)) feed.unshift({ kind: 'cleared', at: now, id, region: code, alert: old.alert, what: old.what });
    }
    alertsSeen[code] = seen;
    if (!feedAsked.has(code)) loadEarlierFeed(code);
  }
  trimFeed();
}
on('applied', noteAlertChanges);

function trimFeed() {
  feed.sort((a, b) => b.at - a.at);
  feed.length = Math.min(feed.length, FEED_MAX);
}

/** Regions whose feed from before this page opened was asked of the server. */
const feedAsked = new Set();

/** What happened in a region before this page opened, as far as the gateway remembers. */
async function loadEarlierFeed(code) {
  feedAsked.add(code);
  const answer = await api('GET', `/v1/picture/regions/${encodeURIComponent(code)}/alerts`);
  if (!answer.ok || !answer.body) return;
  const view = state.regions[code] || {};
  for (const e of answer.body.feed || []) {
    const at = parseTime(e.at);
    // A change this page saw itself is in the feed already (a clear at its own clock).
    const known = feed.some((f) => f.id === e.id && f.kind === e.change && Math.abs(f.at - at) < FEED_SAME_MS);
    if (!known && at) feed.push({ kind: e.change, at, id: e.id, region: code, alert: e.alert, what: alertWhat(view, e.alert, e.id) });
  }
  trimFeed();
  rerender();
}

on('signedOut', () => {
  feed.length = 0;
  feedAsked.clear();
  for (const k of Object.keys(alertsSeen)) delete alertsSeen[k];
  ackedHere.clear();
});

const acking = new Set();
/** Acknowledgements made on this page (id -> who, when), shown until the server says who and when itself. */
const ackedHere = new Map();

async function acknowledge(code, id, what) {
  acking.add(id);
  showAckStatus(t('acknowledging'));
  // Not reordered while the pointer is on the list: the next alert must not slide under
  // the button just pressed. It moves to "bevestigd" once the pointer leaves.
  renderAlertsNow(false);
  const answer = await postEvent({ source: `/regions/${code}`, type: eventType('alert.acknowledged'), subject: id, data: {} });
  acking.delete(id);
  if (answer.ok) ackedHere.set(id, { by: (state.me && state.me.actor) || '', at: new Date().toISOString() });
  showAckStatus(answer.ok ? t('acknowledgedStored', what, fmtClock(new Date(), true)) : t('acknowledgeFailed', problemText(answer)));
  renderAlertsNow(false);
}

function showAckStatus(text) {
  $('ack-status').textContent = text;
  $('ack-status').hidden = !text;
}

let lastViews = [];
function renderAlertsNow(explicit) { renderAlerts(lastViews, explicit); }

/** Who acknowledged an alert and when: the server's word, else what this page did. */
function acknowledgement(id, a) {
  if (a.acknowledged_by || a.acknowledged_at) return { by: a.acknowledged_by || '', at: a.acknowledged_at || null };
  return ackedHere.get(id) || { by: '', at: null };
}

/** The list of alerts, keyed by id so that an item keeps its place (and node) while it changes. */
const alertList = { items: new Map(), hover: null, order: [] };

function alertItem(entry) {
  const { code, view, id, a } = entry;
  const parts = alertParts(view, a, id);
  const what = `${parts.where} — ${parts.what}`;
  const mayAck = may('acknowledge');
  let ack = null;
  if (a.acknowledged) {
    const { by, at } = acknowledgement(id, a);
    ack = el('div', { class: 'ack' }, `✓ ${t('wlAcknowledgedBy', by, at ? fmtClock(at, true) : null)}`);
  } else if (mayAck && !entry.cleared && !state.past) {
    ack = el('button', { type: 'button', class: 'small', 'data-ack': id, 'data-focus': `ack:${id}`,
      'aria-label': t('acknowledgeAria', what), disabled: acking.has(id) },
    acking.has(id) ? t('acknowledging') : t('acknowledge'));
    ack.addEventListener('click', () => acknowledge(code, id, what));
  }
  const where = a.location && has(view.locations || {}, a.location)
    ? el('button', { type: 'button', class: 'link alert-where', 'data-open': a.location, 'data-focus': `alert-open:${id}`,
      'aria-label': t('wlOpenLocation', parts.where) }, parts.where)
    : el('strong', { class: 'alert-where' }, parts.where);
  if (where.tagName === 'BUTTON') where.addEventListener('click', () => openDetail(a.location, code));
  const since = parseTime(a.since);
  return el('li', { 'data-alert': id, 'data-state': a.state, 'data-acknowledged': String(!!a.acknowledged),
    'data-cleared': entry.cleared ? 'true' : null },
  el('div', { class: 'alert-top' }, badge(a.state), ' ', where),
  el('div', { class: 'alert-what' }, parts.what, parts.value ? [': ', el('span', { class: 'alert-value' }, parts.value)] : null),
  el('div', { class: 'meta' },
    entry.cleared ? `${t('wlAlertCleared')} · ` : null,
    `${t('since')} ${fmtClock(a.since)} `, el('span', { class: 'age inline', 'data-time': since, 'data-oldest': since }),
    parts.rule ? [' · ', el('span', { class: 'alert-rule' }, t('alertThreshold', parts.rule))] : null),
  ack);
}

function alertSignature(entry) {
  const { id, a, view } = entry;
  const loc = a.location && view.locations ? view.locations[a.location] : null;
  const dv = loc && a.dimension ? (loc.dimensions || {})[a.dimension] : null;
  const value = dv && dv.values ? dv.values[a.key || '-'] : null;
  return JSON.stringify([state.lang, a, value && value.data, loc && [loc.name, loc.overdue_since, loc.rejected],
    acking.has(id), ackedHere.get(id) || null, entry.cleared || false, may('acknowledge'), view.thresholds && a.threshold ? view.thresholds[a.threshold] : null,
    !!state.past]);
}

/**
 * The alerts, kritiek first then newest, the acknowledged ones apart in a quieter group with
 * who and when. While the pointer is over the list nothing moves: items change in place, a
 * cleared one stays greyed, new ones wait until the pointer leaves (or the user acts).
 */
export function renderAlerts(views, explicit) {
  lastViews = views;
  const list = $('alerts');
  if (!alertList.hover) alertList.hover = hoverTracker(list, () => renderAlertsNow(false));
  const all = views.flatMap(([code, view]) => Object.entries(view.alerts || {}).map(([id, a]) => ({ code, view, id, a })));
  // The alarm is about now, also while looking back: a critical alert waiting is never missed.
  updateAlarm(state.past ? liveRegions().flatMap(([, view]) => Object.values((view && view.alerts) || {})) : all.map(({ a }) => a));
  if (state.past) $('ack-status').hidden = true;
  const open = all.filter((x) => !x.a.acknowledged);
  const acked = all.filter((x) => x.a.acknowledged);
  const newest = (x, y) => parseTime(y.a.since) - parseTime(x.a.since) || x.id.localeCompare(y.id);
  open.sort((x, y) => severity(y.a.state) - severity(x.a.state) || newest(x, y));
  const ackTime = (x) => parseTime(acknowledgement(x.id, x.a).at) || parseTime(x.a.since) || 0;
  acked.sort((x, y) => ackTime(y) - ackTime(x) || newest(x, y));
  $('alert-count').textContent = `(${t('wlAlertsOpen', open.length)}${acked.length ? ` · ${t('wlAlertsAcked', acked.length)}` : ''})`;

  // The keys in display order: a group heading, then its alerts.
  const wanted = [];
  const groups = [];
  for (const s of statesWorstFirst()) {
    const of = open.filter((x) => x.a.state === s);
    if (of.length) groups.push({ key: `group:${s}`, text: t('wlGroupState', label('State', s), of.length), state: s, entries: of });
  }
  if (acked.length) groups.push({ key: 'group:acked', text: t('wlGroupAcked', acked.length), state: 'acked', entries: acked });
  const byId = new Map(all.map((x) => [x.id, x]));
  const frozen = alertList.hover.over && !explicit && alertList.order.length > 0;
  let held = 0;
  if (frozen) {
    for (const key of alertList.order) wanted.push(key);
    held = all.filter((x) => !alertList.order.includes(`alert:${x.id}`)).length;
  } else {
    for (const g of groups) {
      wanted.push(g.key);
      for (const x of g.entries) wanted.push(`alert:${x.id}`);
    }
  }
  const nodes = [];
  const keep = new Set();
  for (const key of wanted) {
    let item = alertList.items.get(key);
    if (key.startsWith('group:')) {
      const g = groups.find((gr) => gr.key === key);
      const text = g ? g.text : (item ? item.text : '');
      if (!item) { item = { node: el('li', { class: 'alert-group', 'data-group': key.slice(6) }), text: null }; alertList.items.set(key, item); }
      if (item.text !== text) { item.node.textContent = text; item.text = text; }
    } else {
      const id = key.slice(6);
      const entry = byId.get(id) || (item && item.entry ? Object.assign({}, item.entry, { cleared: true }) : null);
      if (!entry) continue;
      const sig = alertSignature(entry);
      if (!item || item.sig !== sig) {
        const node = alertItem(entry);
        if (item && item.node.contains(document.activeElement)) {
          const focusKey = document.activeElement.dataset.focus;
          item.node.replaceWith(node);
          const again = focusKey && node.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`);
          if (again) again.focus();
        }
        item = { node, sig, entry };
        alertList.items.set(key, item);
      } else {
        item.entry = entry;
      }
    }
    keep.add(key);
    nodes.push(item.node);
  }
  for (const key of [...alertList.items.keys()]) if (!keep.has(key)) alertList.items.delete(key);
  alertList.order = wanted.filter((k) => keep.has(k));
  if (!nodes.length) nodes.push(el('li', { class: 'empty' }, t('noAlerts')));
  reconcile(list, nodes);
  const note = $('alerts-held');
  const noteText = held ? t('wlAlertsHeld', held) : '';
  if (note.textContent !== noteText) note.textContent = noteText;

  const shown = new Set(views.map(([c]) => c));
  const until = state.past ? state.past.at : Infinity; // a past picture's feed ends at its moment
  const entries = feed.filter((f) => shown.has(f.region) && f.at <= until).slice(0, 30).map((f) => el('li', { 'data-feed': f.kind, 'data-alert': f.id },
    el('span', { class: `feed-kind ${f.kind}` }, f.kind === 'raised' ? `▲ ${t('raised')}` : `▼ ${t('cleared')}`), ' ',
    el('span', { class: 'meta' }, fmtClock(f.at, true)), ' ', badge(f.alert.state), ' ', f.what));
  $('alert-feed').replaceChildren(...(entries.length ? entries : [el('li', { class: 'empty' }, t('feedEmpty'))]));
}

// ---------------------------------------------------------------- incidents

/**
 * The active incidents, worst GRIP first; for a token that reads a region each with its
 * evaluation (evaluatie.js), and the closed ones folded below (their evaluation is read
 * after the fact). Kept focus survives the redraw of every update.
 */
export function renderIncidents(views) {
  const seen = new Set();
  const all = views.flatMap(([, v]) => Object.entries(v.incidents || {})).filter(([id]) => !seen.has(id) && seen.add(id));
  const incidents = all.filter(([, i]) => i.state !== 'gesloten')
    .sort((a, b) => num(b[1].grip) - num(a[1].grip) || (parseTime(b[1].time) || 0) - (parseTime(a[1].time) || 0));
  const closed = all.filter(([, i]) => i.state === 'gesloten').sort((a, b) => (parseTime(b[1].time) || 0) - (parseTime(a[1].time) || 0));
  const evaluate = mayEvaluate();
  const items = incidents.map(([id, i]) => el('li', { 'data-incident': id, 'data-grip': num(i.grip) },
    el('div', { class: 'incident-name' }, i.name || id),
    el('div', {},
      el('span', { class: 'pill' }, label('IncidentState', i.state)),
      el('span', { class: 'pill' }, t('grip', num(i.grip))),
      i.theme ? el('span', { class: 'meta' }, label('Theme', i.theme)) : null),
    el('div', { class: 'meta' }, `${t('since')} ${fmtClock(i.time)} `, el('span', { class: 'age inline', 'data-time': parseTime(i.time), 'data-oldest': parseTime(i.time) })),
    i.handelingsperspectief ? el('div', { class: 'perspective' }, i.handelingsperspectief) : null,
    evaluate ? evaluationControl(id, i.name || id) : null));
  const folded = closedIncidentsItem(closed, () => rerender());
  keepFocus($('incidents'), () => $('incidents').replaceChildren(...(items.length ? items : [el('li', { class: 'empty' }, t('noIncidents'))]),
    ...(folded ? [folded] : [])));
}

// ---------------------------------------------------------------- locations: filters and sort

// ---------------------------------------------------------------- locations: state, values, filters

/** The worst state over a location's dimensions; `verouderd` when overdue or a value is too old. */
export function locationState(loc, now = pictureNow()) {
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

/** The current (not retracted) values of a dimension: [key, value] with data an object. */
function current(loc, dim) {
  const dv = ((loc && loc.dimensions) || {})[dim];
  return Object.entries((dv && dv.values) || {}).filter(([, v]) => !v.retracted && isObject(v.data));
}

/** Backup power: { hours (or null when not said), value } when the location runs on it, else null. */
function backupOf(loc) {
  const power = current(loc, 'utility').find(([k, v]) => k === 'stroom' && v.data.on_backup);
  if (!power) return null;
  const h = power[1].data.backup_hours_left;
  return { hours: h === undefined || h === null ? null : num(h), value: power[1] };
}

/** Locations in an active incident's area that have not reported since it opened (the
 *  server's `not_reported`); without it, those overdue or never heard of. */
function silentLocations(views) {
  const ids = new Set();
  const incidents = [];
  for (const [, v] of views) {
    for (const [id, inc] of Object.entries(v.incidents || {})) {
      if (inc.state !== 'actief' || !Array.isArray(inc.not_reported)) continue;
      if (!incidents.some((i) => i.id === id)) incidents.push({ id, name: inc.name || id, opened: inc.opened || inc.time });
      for (const l of inc.not_reported) ids.add(l);
    }
  }
  if (!incidents.length) {
    for (const [, v] of views) {
      for (const [id, loc] of Object.entries(v.locations || {})) if (loc.overdue_since || !loc.last_report) ids.add(id);
    }
  }
  return { ids, incidents };
}

/** The quick filters the tiles switch on: what they keep, the column that answers, the order. */
const QUICK = {
  backup: { chip: () => t('wlChipBackup'), match: (loc) => backupOf(loc) !== null, columns: ['backup'], sort: { key: 'val:backup', dir: 1 } },
  help: { chip: () => t('wlChipHelp'), match: (loc) => openHelpRequests(loc).length > 0, columns: ['help_request'], wide: 'help_request', sort: { key: 'val:help_request', dir: -1 } },
  silent: {
    chip: () => {
      const s = quickContext.silent;
      return s && s.incidents.length
        ? t('wlChipSilentIncident', s.incidents.map((i) => `${i.name} (${fmtClock(i.opened)})`).join(', '))
        : t('wlChipSilent');
    },
    match: (loc, id) => !!quickContext.silent && quickContext.silent.ids.has(id),
    columns: ['last_report'],
    sort: { key: 'last_report', dir: 1 },
  },
  utility_down: { chip: () => t('wlChipUtilityDown'), match: (loc) => current(loc, 'utility').some(([, v]) => v.data.status === 'uitgevallen'), columns: ['utility', 'backup'], sort: { key: 'val:utility', dir: 1 } },
  stops: { chip: () => t('wlChipStops'), match: (loc) => current(loc, 'acute_function').some(([, v]) => v.data.status === 'stop'), columns: ['acute_function'], sort: { key: 'dim:acute_function', dir: -1 } },
  shifts: { chip: () => t('wlChipShifts'), match: (loc) => current(loc, 'staffing').some(([, v]) => num(v.data.unfilled_shifts_24h) > 0), columns: ['staffing'], sort: { key: 'val:staffing', dir: -1 } },
  supplies: { chip: () => t('wlChipSupplies'), match: (loc) => ((loc.dimensions || {}).supplies || {}).state === 'kritiek', columns: ['supplies'], sort: { key: 'val:supplies', dir: 1 } },
};
/** What the quick filters are computed against in this render. */
const quickContext = { silent: null };

const filters = { type: '', state: '', disbalance: '', incident: '', quick: '' };
const sort = { key: 'name', dir: 1 };
let sortBeforeQuick = null;

function setQuick(quick) {
  if (quick && !filters.quick) sortBeforeQuick = { ...sort };
  filters.quick = quick;
  if (quick) Object.assign(sort, QUICK[quick].sort);
  else if (sortBeforeQuick) { Object.assign(sort, sortBeforeQuick); sortBeforeQuick = null; }
  worklist.force = true;
  rerender();
}

function matches(id, loc) {
  if (filters.quick && QUICK[filters.quick] && !QUICK[filters.quick].match(loc, id)) return false;
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

// ---------------------------------------------------------------- locations: columns

const COLUMNS_KEY = 'ghor.worklist.columns';
/** The compact default: what the informatiemanager asks first. */
const DEFAULT_COLUMNS = ['state', 'beds', 'utility', 'staffing', 'disbalance', 'help_request', 'last_report'];

function chosenColumns() {
  try {
    const list = JSON.parse(localStorage.getItem(COLUMNS_KEY));
    if (Array.isArray(list) && list.every((c) => typeof c === 'string')) return list;
  } catch (e) { /* unreadable: the default */ }
  return DEFAULT_COLUMNS;
}

function chooseColumns(list) {
  try {
    if (list) localStorage.setItem(COLUMNS_KEY, JSON.stringify(list));
    else localStorage.removeItem(COLUMNS_KEY);
  } catch (e) { /* storage unavailable: this page only */ }
  worklist.force = true;
  rerender();
}

/** A cell line of text or nodes that never wraps (the full text in its title). */
function line(cls, ...content) { return el('div', { class: `cell-line ${cls || ''}`.trim() }, ...content); }

function liveAgeSpan(ms, limit) {
  return Number.isFinite(ms) ? el('span', { class: 'age inline', 'data-time': ms, 'data-oldest': ms, 'data-limit': limit || null }) : null;
}

/** A state badge of a cell: icon and colour, its label for screen readers and on hover
 *  (the state column beside it says it in words). */
function cellBadge(s) {
  const b = badge(s);
  b.classList.add('compact');
  b.title = label('State', s);
  const text = b.lastChild;
  if (text && text.nodeType === Node.TEXT_NODE) b.replaceChild(el('span', { class: 'badge-label' }, text.textContent), text);
  return b;
}

/** The newest time of a dimension's values, with its live age (the value's own line two). */
function dimAge(loc, dv) {
  const times = Object.values((dv && dv.values) || {}).map((v) => parseTime(v.time)).filter(Number.isFinite);
  if (!times.length) return null;
  const limit = num(loc.interval_minutes) * 60000 || null;
  return el('span', { class: 'age inline', 'data-time': Math.max(...times), 'data-oldest': Math.min(...times), 'data-limit': limit });
}

function textOfLines(dim, dv) {
  return summaryLines(dim, dv).map((n) => n.textContent).filter(Boolean);
}

/**
 * Each dimension's cell in two lines: its state and the figure that matters (line one),
 * the rest (line two); and the value it sorts by (`metric`), null when it has none.
 */
const CELL = {
  beds: {
    metric: () => t('wlMetricIcFree'),
    dir: 1,
    value(loc) {
      const vals = current(loc, 'beds');
      if (!vals.length) return null;
      const ic = vals.find(([k]) => k === 'ic');
      const free = (v) => Math.max(0, num(v.data.operational) - num(v.data.occupied));
      // Locations without IC beds after those with, by their free beds.
      return ic ? free(ic[1]) : 1e6 + vals.reduce((a, [, v]) => a + free(v), 0);
    },
    lines(loc) {
      const vals = byOrder('BedType', current(loc, 'beds'));
      const free = (v) => Math.max(0, num(v.data.operational) - num(v.data.occupied));
      const ic = vals.find(([k]) => k === 'ic');
      const others = vals.filter(([k]) => k !== 'ic');
      // IC first (what the region runs out of first); else all beds together.
      const first = ic ? t('wlIcFree', fmtNum(free(ic[1])), fmtNum(ic[1].data.operational))
        : t('wlBedsFree', fmtNum(others.reduce((a, [, v]) => a + free(v), 0)), fmtNum(others.reduce((a, [, v]) => a + num(v.data.operational), 0)));
      const rest = others.map(([k, v]) => `${keyLabel('beds', k)} ${fmtNum(free(v))}/${fmtNum(v.data.operational)}`);
      return [first, rest.join(' · ')];
    },
  },
  utility: {
    metric: () => t('wlMetricBackupHours'),
    dir: 1,
    value(loc) {
      const b = backupOf(loc);
      if (b) return b.hours === null ? -1 : b.hours;
      return current(loc, 'utility').some(([, v]) => v.data.status === 'uitgevallen') ? 1e6 : null;
    },
    lines(loc) {
      const b = backupOf(loc);
      const problems = byOrder('Utility', current(loc, 'utility').filter(([k, v]) => v.data.status !== 'normaal' && !(k === 'stroom' && b)))
        .sort((x, y) => orderIndex('UtilityStatus', y[1].data.status) - orderIndex('UtilityStatus', x[1].data.status))
        .map(([k, v]) => `${keyLabel('utility', k)}: ${label('UtilityStatus', v.data.status)}`);
      const first = b ? (b.hours === null ? t('wlBackupUnknown') : t('wlBackupLeft', fmtNum(b.hours))) : problems.shift() || t('allNormal');
      return [first, problems.join(' · ')];
    },
  },
  backup: {
    head: () => t('wlColBackup'),
    metric: () => t('wlMetricBackupHours'),
    dir: 1,
    value(loc) { const b = backupOf(loc); return b ? (b.hours === null ? -1 : b.hours) : null; },
    state(loc) { const b = backupOf(loc); return b ? b.value.state : null; },
    sig(loc) { const b = backupOf(loc); return b ? [b.hours, b.value.time, b.value.state] : null; },
    lines(loc) {
      const b = backupOf(loc);
      if (!b) return [t('wlNotOnBackup'), ''];
      return [b.hours === null ? t('wlHoursUnknown') : t('wlHoursLeftShort', fmtNum(b.hours)),
        [`${keyLabel('utility', 'stroom')}: ${label('UtilityStatus', b.value.data.status)} · `, liveAgeSpan(parseTime(b.value.time))]];
    },
    empty: (loc) => !backupOf(loc),
  },
  staffing: {
    metric: () => t('wlMetricUnfilled'),
    dir: -1,
    value(loc) { const vals = current(loc, 'staffing'); return vals.length ? vals.reduce((a, [, v]) => a + num(v.data.unfilled_shifts_24h), 0) : null; },
    lines(loc) {
      const vals = byOrder('StaffRole', current(loc, 'staffing'));
      const total = vals.reduce((a, [, v]) => a + num(v.data.unfilled_shifts_24h), 0);
      const rest = vals.filter(([, v]) => num(v.data.unfilled_shifts_24h) > 0 || v.data.critical)
        .map(([k, v]) => `${keyLabel('staffing', k)} ${fmtNum(v.data.unfilled_shifts_24h)}${v.data.critical ? ` (${t('wlShiftsCritical')})` : ''}`);
      return [t('wlShiftsOpen', fmtNum(total)), rest.join(' · ')];
    },
  },
  disbalance: {
    metric: () => t('wlMetricLevel'),
    dir: -1,
    value(loc) { const vals = current(loc, 'disbalance'); return vals.length ? Math.max(...vals.map(([, v]) => orderIndex('DisbalanceLevel', v.data.level))) : null; },
  },
  help_request: {
    metric: () => t('wlMetricUrgency'),
    dir: -1,
    value(loc) {
      const open = openHelpRequests(loc);
      return open.length ? orderIndex('Urgency', open[0].data.urgency) * 1000 + open.length : (current(loc, 'help_request').length ? -1 : null);
    },
    lines(loc) {
      const open = openHelpRequests(loc);
      if (!open.length) return [t('wlNoOpenHelp'), ''];
      const top = open[0];
      return [[el('strong', {}, helpHeading(top.data)), open.length > 1 ? ` ${t('wlMoreHelp', open.length - 1)}` : ''],
        el('span', { class: 'help-text' }, `“${String(top.data.text || '')}”`)];
    },
    title(loc) { return openHelpRequests(loc).map((h) => `${helpHeading(h.data)}: ${h.data.text || ''}`).join('\n'); },
  },
  supplies: {
    metric: () => t('wlMetricDays'),
    dir: 1,
    value(loc) {
      const days = current(loc, 'supplies').map(([, v]) => (num(v.data.daily_use) > 0 ? num(v.data.on_hand) / num(v.data.daily_use) : Infinity));
      return days.length ? Math.min(1e6, ...days) : null;
    },
  },
};

/** Every column the table can show, in order: the location's state, the dimensions, backup power, the last report. */
function availableColumns(locations) {
  const present = new Set();
  for (const loc of locations) for (const d of Object.keys(loc.dimensions || {})) present.add(d);
  const dims = [...present].sort((a, b) => orderIndex('Dimension', a) - orderIndex('Dimension', b) || a.localeCompare(b));
  const cols = ['state', ...dims];
  if (present.has('utility')) cols.splice(cols.indexOf('utility') + 1, 0, 'backup');
  cols.push('last_report');
  return cols;
}

function columnTitle(col) {
  if (col === 'state') return t('wlColState');
  if (col === 'last_report') return t('lastReport');
  if (CELL[col] && CELL[col].head) return CELL[col].head();
  return label('Dimension', col);
}

/** The columns shown: the chosen ones that are there, with the quick filter's in front. */
function shownColumns(available) {
  const chosen = new Set(chosenColumns());
  const quick = filters.quick ? QUICK[filters.quick].columns.filter((c) => available.includes(c)) : [];
  const rest = available.filter((c) => chosen.has(c) && !quick.includes(c) && c !== 'state');
  return [...(chosen.has('state') || quick.length ? ['state'] : []), ...quick, ...rest];
}

// ---------------------------------------------------------------- locations: cells

function stateCell(loc) {
  const s = locationState(loc);
  const bad = byOrder('Dimension', Object.entries(loc.dimensions || {}).filter(([, dv]) => dv.state === 'kritiek'))
    .map(([d]) => label('Dimension', d));
  const text = bad.length ? bad.join(', ') : loc.overdue_since ? t('wlLateSince', fmtClock(loc.overdue_since))
    : !loc.last_report ? t('neverReported') : t('wlAllGood');
  return el('td', { class: 'cell', 'data-col': 'state', 'data-state': s, title: text },
    line('', badge(s)), line('sub', text));
}

function lastReportCell(loc) {
  const ms = parseTime(loc.last_report);
  const limit = num(loc.interval_minutes) * 60000 || null;
  const late = loc.overdue_since
    ? line('sub late', `${ICON.verouderd} ${t('wlLateSince', fmtClock(loc.overdue_since))}`)
    : line('sub', '');
  if (!Number.isFinite(ms)) {
    return el('td', { class: 'cell', 'data-col': 'last_report', 'data-state': loc.overdue_since ? 'verouderd' : 'none' },
      line('', t('neverReported')), late);
  }
  return el('td', { class: 'cell', 'data-col': 'last_report', 'data-state': loc.overdue_since ? 'verouderd' : null,
    title: fmtClock(ms, true) }, line('', `${fmtClock(ms)} `, liveAgeSpan(ms, limit)), late);
}

function dimensionCellFor(col, loc, wide) {
  const spec = CELL[col] || {};
  const dims = loc.dimensions || {};
  const dim = col === 'backup' ? 'utility' : col;
  if (!has(dims, dim) || (spec.empty && spec.empty(loc))) {
    return el('td', { class: 'cell', 'data-col': col, 'data-dimension': col === 'backup' ? null : col, 'data-state': 'none' },
      line('none', '–'), line('sub', ''));
  }
  const dv = dims[dim] || {};
  const s = spec.state ? spec.state(loc) : dv.state;
  let first;
  let second;
  if (current(loc, dim).length && spec.lines) {
    [first, second] = spec.lines(loc);
  } else {
    const lines = textOfLines(dim, dv);
    first = lines[0] || '';
    second = lines.slice(1).join(' · ');
  }
  const title = spec.title ? spec.title(loc) : textOfLines(dim, dv).join('\n');
  const age = col === 'backup' ? null : dimAge(loc, dv);
  return el('td', { class: `cell${wide ? ' wide' : ''}`, 'data-col': col, 'data-dimension': col === 'backup' ? null : col,
    'data-state': s || 'info', title },
  line('', s ? cellBadge(s) : null, s ? ' ' : null, el('span', { class: 'value' }, first)),
  line('sub', second || null, second && age ? ' · ' : null, age));
}

function nameCell(id, loc, code) {
  const typeLine = [label('LocationType', loc.type), loc.municipality].filter(Boolean).join(' · ');
  const open = el('button', { type: 'button', class: 'link loc-name', 'data-open': id, 'data-focus': `open:${id}`,
    'aria-label': t('openDetail', loc.name || id), title: loc.name || id }, loc.name || id);
  open.addEventListener('click', () => openDetail(id, code));
  return el('th', { scope: 'row', class: 'loc' }, line('', open), line('sub loc-type', typeLine));
}

/** What a cell shows depends on: when it changes, the cell is drawn again (and flashes). */
function cellSignature(col, loc, wide) {
  switch (col) {
    case 'name': return [loc.name, loc.type, loc.municipality];
    case 'state': return [locationState(loc), Object.entries(loc.dimensions || {}).map(([d, dv]) => [d, dv.state]), loc.overdue_since, !loc.last_report];
    case 'last_report': return [loc.last_report, loc.overdue_since, loc.interval_minutes];
    case 'backup': return CELL.backup.sig(loc);
    default: {
      const dv = (loc.dimensions || {})[col];
      return [wide, dv || null, loc.interval_minutes];
    }
  }
}

function buildCell(col, id, loc, code, wide) {
  if (col === 'name') return nameCell(id, loc, code);
  if (col === 'state') return stateCell(loc);
  if (col === 'last_report') return lastReportCell(loc);
  return dimensionCellFor(col, loc, wide);
}

// ---------------------------------------------------------------- locations: sorting

function sortValue(key, id, loc) {
  if (key === 'state') return severity(locationState(loc));
  if (key === 'last_report') return parseTime(loc.last_report) || 0;
  if (key.startsWith('dim:')) {
    const dv = (loc.dimensions || {})[key.slice(4)];
    return dv && dv.state ? severity(dv.state) : null;
  }
  if (key.startsWith('val:')) {
    const spec = CELL[key.slice(4)];
    const v = spec && spec.value ? spec.value(loc) : null;
    return v === null || v === undefined || Number.isNaN(v) ? null : v;
  }
  return null;
}

/** Rows in the chosen order: by name within each category, or by a state or value (what has
 *  none last, ties by name). */
function sortRows(rows) {
  const byName = (a, b) => compareText(a[1].name || a[0], b[1].name || b[0]) || a[0].localeCompare(b[0]);
  if (sort.key === 'name') {
    return rows.sort((a, b) => orderIndex('Category', a[1].category) - orderIndex('Category', b[1].category) ||
      String(a[1].category).localeCompare(String(b[1].category)) || sort.dir * byName(a, b));
  }
  const keyed = rows.map((r) => [r, sortValue(sort.key, r[0], r[1])]);
  keyed.sort(([a, va], [b, vb]) => {
    if (va === null && vb === null) return byName(a, b);
    if (va === null) return 1;
    if (vb === null) return -1;
    return sort.dir * (va - vb) || byName(a, b);
  });
  return keyed.map(([r]) => r);
}

function setSort(key, dir) {
  if (sort.key === key) sort.dir = -sort.dir;
  else Object.assign(sort, { key, dir });
  worklist.force = true;
  rerender();
}

function sortButton(key, text, aria, dir, cls) {
  const active = sort.key === key;
  const arrow = active ? (sort.dir > 0 ? ' ▲' : ' ▼') : '';
  const button = el('button', { type: 'button', class: `sort ${cls || ''}`.trim(), 'data-sort': key, 'data-focus': `sort:${key}`,
    'aria-label': aria, 'aria-pressed': active ? 'true' : null }, text, el('span', { 'aria-hidden': 'true' }, arrow));
  button.addEventListener('click', () => setSort(key, dir));
  return button;
}

function headCell(col) {
  const text = col === 'name' ? t('location') : columnTitle(col);
  let main;
  if (col === 'name') main = sortButton('name', text, t('sortBy', text), 1);
  else if (col === 'state') main = sortButton('state', text, t('sortBy', text), -1);
  else if (col === 'last_report') main = sortButton('last_report', text, t('sortBy', text), 1);
  else if (col === 'backup') main = el('span', { class: 'col-title' }, text);
  else main = sortButton(`dim:${col}`, text, t('sortBy', text), -1);
  const spec = CELL[col];
  const metric = spec && spec.metric ? sortButton(`val:${col}`, spec.metric(), t('wlSortByMetric', text, spec.metric()), spec.dir, 'metric') : null;
  const keys = [col === 'name' ? 'name' : col === 'state' ? 'state' : col === 'last_report' ? 'last_report' : `dim:${col}`, `val:${col}`];
  const active = keys.includes(sort.key);
  return el('th', { scope: 'col', class: col === 'name' ? 'loc-head' : null, 'data-col': col,
    'data-dimension': CELL[col] && CELL[col].head ? null : (col === 'name' || col === 'state' || col === 'last_report' ? null : col),
    'aria-sort': active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none' }, main, metric ? el('div', {}, metric) : null);
}

// ---------------------------------------------------------------- locations: filter bar

function filterSelect(key, title, options, allText) {
  const select = el('select', { id: `filter-${key}`, 'data-filter': key, 'data-focus': `filter:${key}` },
    el('option', { value: '' }, allText || t('filterAll')),
    options.map(([value, text]) => el('option', { value }, text)));
  select.value = options.some(([v]) => v === filters[key]) ? filters[key] : '';
  filters[key] = select.value;
  select.addEventListener('change', () => { filters[key] = select.value; worklist.force = true; rerender(); });
  // The label is for screen readers: "Alle soorten" says it on the screen, a chip once chosen.
  return el('div', { class: 'control' }, el('label', { for: `filter-${key}`, class: 'sr-only' }, title), select);
}

/** The column chooser: every column there is, ticked when shown; remembered on this device. */
function columnChooser(available) {
  const chosen = chosenColumns();
  const shown = available.filter((c) => chosen.includes(c)).length;
  const boxes = available.map((c) => {
    const box = el('input', { type: 'checkbox', id: `col-${c}`, 'data-column': c, 'data-focus': `col:${c}`, checked: chosen.includes(c) });
    box.addEventListener('change', () => {
      const now = chosenColumns().filter((x) => x !== c);
      if (box.checked) now.push(c);
      chooseColumns(now);
    });
    return el('label', { class: 'check', for: `col-${c}` }, box, columnTitle(c));
  });
  const reset = el('button', { type: 'button', class: 'small', 'data-focus': 'col:default' }, t('wlColumnsDefault'));
  reset.addEventListener('click', () => chooseColumns(null));
  const details = el('details', { class: 'col-chooser', id: 'col-chooser' },
    el('summary', { 'data-focus': 'col:summary' }, t('wlColumnsShown', shown, available.length)),
    el('div', { class: 'col-panel', role: 'group', 'aria-label': t('wlColumns') }, boxes, reset));
  return details;
}

/** The active filters as chips, each removed by its ✕. */
function chips(views) {
  const list = [];
  const chip = (key, text, remove) => {
    const button = el('button', { type: 'button', class: 'chip-remove', 'data-focus': `chip:${key}`, 'aria-label': t('wlRemoveFilter', text) }, '✕');
    button.addEventListener('click', remove);
    list.push(el('span', { class: 'chip', 'data-chip': key }, el('span', { class: 'chip-text' }, text), button));
  };
  if (filters.quick) chip(filters.quick, QUICK[filters.quick].chip(), () => setQuick(''));
  const select = (key, title) => {
    if (!filters[key]) return;
    const node = $(`filter-${key}`);
    const option = node && [...node.options].find((o) => o.value === filters[key]);
    chip(key, `${title}: ${option ? option.textContent : filters[key]}`, () => { filters[key] = ''; worklist.force = true; rerender(); });
  };
  select('type', t('filterType'));
  select('state', t('filterState'));
  select('disbalance', t('filterDisbalance'));
  select('incident', t('filterIncident'));
  return list;
}

let filterBarSignature = '';

function renderFilters(rows, views, available) {
  const types = [...new Set(rows.map(([, l]) => l.type))].sort((a, b) => compareText(label('LocationType', a), label('LocationType', b)));
  const disbalances = [...new Set(rows.flatMap(([, l]) => Object.keys(((l.dimensions || {}).disbalance || {}).values || {})))];
  const incidents = views.flatMap(([, v]) => Object.entries(v.incidents || {})).filter(([, i]) => i.state === 'actief');
  const signature = JSON.stringify([state.lang, types, disbalances, incidents.map(([id, i]) => [id, i.name, i.grip]), available,
    chosenColumns(), filters, filters.quick ? QUICK[filters.quick].chip() : '']);
  if (signature === filterBarSignature && $('filters').firstChild) return;
  filterBarSignature = signature;
  const wasOpen = $('col-chooser') && $('col-chooser').open;
  keepFocus($('filters'), () => {
    $('filters').replaceChildren(
      filterSelect('type', t('filterType'), types.map((ty) => [ty, label('LocationType', ty)]), t('wlAllTypes')),
      filterSelect('state', t('filterState'), [
        ['kritiek', label('State', 'kritiek')],
        ['aandacht', t('stateAtLeast', label('State', 'aandacht'))],
        ['verouderd', t('staleOrOverdue')],
      ], t('wlAllStates')),
      filterSelect('disbalance', t('filterDisbalance'), [['*', t('anyDisbalance')],
        ...byOrder('Disbalance', disbalances.map((d) => [d])).map(([d]) => [d, label('Disbalance', d)])], t('wlAllDisbalances')),
      filterSelect('incident', t('filterIncident'), [['*', t('inAnyIncident')],
        ...incidents.map(([id, i]) => [id, `${i.name || id} (${t('grip', num(i.grip))})`])], t('wlAllAreas')),
      columnChooser(available),
    );
    $('filter-chips').replaceChildren(...chips(views));
  });
  if (wasOpen) $('col-chooser').open = true;
}

// ---------------------------------------------------------------- locations: the table

/**
 * The table's rows by location id (each with its cells and what they showed), its group
 * rows, and the order shown. Data changes redraw only the cells that changed; the order
 * changes only when the pointer is not over the table, or on the user's own action.
 */
const worklist = { rows: new Map(), groups: new Map(), head: null, headSig: '', order: [], force: false, hover: null, cols: [] };

function groupRow(category, span) {
  let g = worklist.groups.get(category);
  const text = label('Category', category);
  if (!g || g.text !== text || g.span !== span) {
    const node = el('tr', { class: 'group', 'data-category': category },
      el('th', { scope: 'rowgroup', colspan: span }, el('span', { class: 'group-label' }, text)));
    if (g) g.node.replaceWith(node);
    g = { node, text, span };
    worklist.groups.set(category, g);
  }
  return g.node;
}

function rowFor(id, loc, code, cols, wide) {
  let row = worklist.rows.get(id);
  const fresh = !row;
  if (!row) {
    row = { tr: el('tr', { 'data-location': id }), cells: new Map() };
    worklist.rows.set(id, row);
  }
  row.code = code;
  const s = locationState(loc);
  if (row.tr.dataset.state !== s) row.tr.dataset.state = s;
  const overdue = loc.overdue_since ? 'true' : null;
  if ((row.tr.dataset.overdue || null) !== overdue) {
    if (overdue) row.tr.dataset.overdue = overdue; else delete row.tr.dataset.overdue;
  }
  const cells = [];
  for (const col of ['name', ...cols]) {
    const sig = JSON.stringify(cellSignature(col, loc, col === wide));
    const before = row.cells.get(col);
    if (before && before.sig === sig) { cells.push(before.node); continue; }
    const node = buildCell(col, id, loc, code, col === wide);
    if (before) {
      const focusKey = before.node.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
      before.node.replaceWith(node);
      if (focusKey) { const again = node.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`); if (again) again.focus(); }
      if (!fresh) flash(node);
    }
    row.cells.set(col, { node, sig });
    cells.push(node);
  }
  for (const col of [...row.cells.keys()]) if (col !== 'name' && !cols.includes(col)) row.cells.delete(col);
  reconcile(row.tr, cells);
  return row.tr;
}

export function renderLocations(views) {
  const table = $('locations');
  const wrap = table.parentElement;
  if (!worklist.hover) worklist.hover = hoverTracker(wrap, () => rerender());
  quickContext.silent = silentLocations(views);
  const all = views.flatMap(([code, v]) => Object.entries(v.locations || {}).map(([id, loc]) => [id, loc, code]));
  const available = availableColumns(all.map(([, l]) => l));
  renderFilters(all, views, available);
  const cols = shownColumns(available);
  const wide = filters.quick ? QUICK[filters.quick].wide || null : null;

  // The header, drawn again only when the columns, the sort or the language change, or the
  // vocabulary (its labels) arrives (all rows with it: the user changed what the table shows).
  const headSig = JSON.stringify([state.lang, !!state.vocab, cols, sort, wide]);
  if (headSig !== worklist.headSig) {
    worklist.headSig = headSig;
    worklist.rows.clear();
    worklist.groups.clear();
    worklist.force = true;
    const head = el('thead', {}, el('tr', {}, ['name', ...cols].map(headCell)));
    keepFocus(table, () => {
      if (worklist.head) worklist.head.replaceWith(head); else table.prepend(head);
    });
    worklist.head = head;
  }
  let body = table.tBodies[0];
  if (!body) { body = el('tbody', {}); table.append(body); }
  let caption = table.caption;
  if (!caption) { caption = el('caption', { class: 'sr-only' }); table.prepend(caption); }

  const byId = new Map(all.map((r) => [r[0], r]));
  const matching = all.filter(([id, loc]) => matches(id, loc));
  const frozen = worklist.hover.over && !worklist.force && worklist.order.length > 0;
  worklist.force = false;
  let keys;
  if (frozen) {
    // Held still: the same rows in the same places; their cells still change.
    keys = worklist.order.filter((k) => !k.startsWith('l:') || byId.has(k.slice(2)));
  } else {
    keys = [];
    let category;
    for (const [id, loc] of sortRows(matching)) {
      if (sort.key === 'name' && loc.category !== category) { category = loc.category; keys.push(`g:${category}`); }
      keys.push(`l:${id}`);
    }
  }
  const nodes = [];
  for (const key of keys) {
    if (key.startsWith('g:')) nodes.push(groupRow(key.slice(2), cols.length + 1));
    else {
      const [id, loc, code] = byId.get(key.slice(2));
      nodes.push(rowFor(id, loc, code, cols, wide));
    }
  }
  const shown = new Set(keys.filter((k) => k.startsWith('l:')).map((k) => k.slice(2)));
  for (const id of [...worklist.rows.keys()]) if (!shown.has(id)) worklist.rows.delete(id);
  if (!all.length) nodes.push(el('tr', { class: 'empty' }, el('td', { colspan: cols.length + 1 }, t('noLocations'))));
  else if (!nodes.length) nodes.push(el('tr', { class: 'empty' }, el('td', { colspan: cols.length + 1 }, t('noneMatch'))));
  reconcile(body, nodes);
  worklist.order = keys;
  worklist.cols = cols;

  const captionText = t('tableCaption', shown.size);
  if (caption.textContent !== captionText) caption.textContent = captionText;
  $('filter-count').textContent = t('shownOf', shown.size, all.length);
  // Would the order be another now? Then say it is held.
  const pending = frozen && JSON.stringify(keys.filter((k) => k.startsWith('l:'))) !==
    JSON.stringify(sortRows(matching).map(([id]) => `l:${id}`));
  const note = pending ? t('wlOrderHeld') : '';
  if ($('table-note').textContent !== note) $('table-note').textContent = note;
}


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
      el('th', { scope: 'row' }, button, linkDownMark(code)),
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

