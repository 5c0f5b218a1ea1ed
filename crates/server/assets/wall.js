// ghor — the wall screen ("Groot scherm") for the ROT/VIC: one 1080p screen without
// scrolling, readable from 3 m. A header band with the region, the active incidents with
// their GRIP level and age, a live clock and the state of the connection; the six tiles
// that matter most now (the picture's own tiles, larger); the map (the page's #map-section,
// placed by the stylesheet); the worst alerts with their values; the locations that have
// not reported. A lost stream marks the whole screen. With the national view or
// `?roteer=N` it cycles through the token's regions, pausable. Layout in wall.css;
// app.js calls renderWall instead of drawing the working page while it is on.

import {
  $, t, el, has, num, fmtClock, fmtAge, parseTime, label, keyLabel, badge, addTexts, state, on, ALL_REGIONS,
  regionCodes, selectedCode, severity, connectionSummary, bigScreen, setBigScreen, scheduleRender, renderNow,
  liveAge,
} from './core.js';
import { totalsTiles, alertWhat, summaryLines } from './picture.js';
import { linkDownMark } from './federation.js';

addTexts({
  nl: {
    wallLeave: 'Groot scherm uit',
    wallTiles: 'Kerncijfers',
    wallNoIncident: 'Geen actief incident',
    wallIncidentSince: (hm) => `sinds ${hm}`,
    wallNotReported: 'Niet gemeld: bellen',
    wallAllReported: 'Alle locaties hebben op tijd gemeld.',
    wallSilentSince: (hm) => `geen melding sinds ${hm}`,
    wallOverdueSince: (hm) => `te laat sinds ${hm}`,
    wallLost: (hm) => `VERBINDING VERBROKEN sinds ${hm}`,
    wallBehind: (hm) => `BEELD NIET ACTUEEL sinds ${hm}`,
    wallLostWhat: (hm) => `De cijfers op dit scherm zijn van ${hm} en lopen niet meer mee. Controleer het netwerk; de pagina verbindt zelf opnieuw.`,
    wallBehindWhat: 'De server volgt de meldingen niet bij; de cijfers lopen achter. Meld dit bij de beheerder.',
    wallPicture: (hms) => `beeld van ${hms}`,
    wallRotation: (i, n, s) => `${i}/${n} · elke ${s} s`,
    wallNext: (name, s) => `hierna ${name} over ${s} s`,
    wallPaused: (name) => `Wisselen gepauzeerd · hierna ${name}`,
    wallPause: 'Pauzeer',
    wallResume: 'Hervat',
    wallClock: 'Klok',
  },
  en: {
    wallLeave: 'Leave big screen',
    wallTiles: 'Key figures',
    wallNoIncident: 'No active incident',
    wallIncidentSince: (hm) => `since ${hm}`,
    wallNotReported: 'Not reported: to call',
    wallAllReported: 'Every location has reported on time.',
    wallSilentSince: (hm) => `no report since ${hm}`,
    wallOverdueSince: (hm) => `overdue since ${hm}`,
    wallLost: (hm) => `CONNECTION LOST since ${hm}`,
    wallBehind: (hm) => `PICTURE NOT CURRENT since ${hm}`,
    wallLostWhat: (hm) => `The figures on this screen are from ${hm} and no longer follow. Check the network; the page reconnects by itself.`,
    wallBehindWhat: 'The server does not keep up with the reports; the figures lag behind. Tell the administrator.',
    wallPicture: (hms) => `picture of ${hms}`,
    wallRotation: (i, n, s) => `${i}/${n} · every ${s} s`,
    wallNext: (name, s) => `next ${name} in ${s} s`,
    wallPaused: (name) => `Rotation paused · next ${name}`,
    wallPause: 'Pause',
    wallResume: 'Resume',
    wallClock: 'Clock',
  },
});

/** How many tiles the wall shows: one row, each figure readable from 3 m. */
const TILE_COUNT = 6;
/**
 * The tiles that matter most in a crisis, most important first. The first three always
 * show; the other places go to the tiles that need attention now (a critical one first),
 * then to these in this order. Tiles keep this order on the screen, so a room learns
 * where to look.
 */
const TILE_PRIORITY = [
  'beds-ic', 'acute-function-stops', 'not-reporting',
  'on-backup-power', 'open-help-requests', 'relocation',
  'utilities-down', 'beds-klinisch', 'supplies-under-line', 'unfilled-shifts-24h', 'casualty-t1', 'active-incidents',
];
const ALWAYS_SHOWN = 3;
const ROTATION_DEFAULT_S = 30;
const ROTATION_MIN_S = 5;

/** The tiles for the wall: ALWAYS_SHOWN fixed ones, then the most urgent of the rest. */
function chooseTiles(tiles) {
  const byId = new Map(tiles.map((n) => [n.dataset.total, n]));
  const rank = (id) => {
    const i = TILE_PRIORITY.indexOf(id);
    return i < 0 ? TILE_PRIORITY.length : i;
  };
  const candidates = [...byId.keys()].filter((id) => rank(id) >= ALWAYS_SHOWN)
    .sort((a, b) => severity(byId.get(b).dataset.level) - severity(byId.get(a).dataset.level) || rank(a) - rank(b));
  const fixed = TILE_PRIORITY.slice(0, ALWAYS_SHOWN).filter((id) => byId.has(id));
  const chosen = [...fixed, ...candidates.slice(0, TILE_COUNT - fixed.length)];
  return chosen.sort((a, b) => rank(a) - rank(b)).map((id) => byId.get(id));
}

// ---------------------------------------------------------------- rotation

/** Cycling through the regions: with the national view, or `?roteer=N` (seconds). */
const rotation = { index: 0, nextAt: 0, paused: false };

function rotationSeconds() {
  const asked = new URLSearchParams(location.search).get('roteer');
  if (asked !== null) {
    const s = Number(asked);
    return Number.isFinite(s) && s > 0 ? Math.max(ROTATION_MIN_S, Math.round(s)) : ROTATION_DEFAULT_S;
  }
  return selectedCode() === ALL_REGIONS ? ROTATION_DEFAULT_S : 0;
}

/** The steps of the rotation: the national picture, then each region; none for one region. */
function rotationSteps() {
  const codes = regionCodes();
  return rotationSeconds() && codes.length > 1 ? [ALL_REGIONS, ...codes] : [];
}

function stepName(code) {
  if (code === ALL_REGIONS) return t('allRegions', regionCodes().length);
  const view = state.regions[code];
  return `${(view && view.name) || code} (${code})`;
}

/** [code, view] of the regions the wall shows now: the rotation's step, or what the page shows. */
export function wallRegions(shown) {
  const steps = rotationSteps();
  if (!steps.length) return shown;
  rotation.index %= steps.length;
  if (!rotation.nextAt) rotation.nextAt = Date.now() + rotationSeconds() * 1000;
  const code = steps[rotation.index];
  return code === ALL_REGIONS ? regionCodes().map((c) => [c, state.regions[c]]) : [[code, state.regions[code]]];
}

function advanceRotation(now) {
  const steps = rotationSteps();
  if (!steps.length || rotation.paused || !rotation.nextAt || now < rotation.nextAt) return;
  rotation.index = (rotation.index + 1) % steps.length;
  rotation.nextAt = now + rotationSeconds() * 1000;
  renderNow();
}

function togglePause() {
  rotation.paused = !rotation.paused;
  if (!rotation.paused) rotation.nextAt = Date.now() + rotationSeconds() * 1000;
  renderNow();
}

/** "2/4 · elke 30 s · hierna Fryslân (VR02) over 12 s", or that it is paused. */
function rotationText(steps, now) {
  const next = stepName(steps[(rotation.index + 1) % steps.length]);
  if (rotation.paused) return t('wallPaused', next);
  const left = Math.max(0, Math.ceil((rotation.nextAt - now) / 1000));
  return `${t('wallRotation', rotation.index + 1, steps.length, rotationSeconds())} · ${t('wallNext', next, left)}`;
}

function rotationIndicator(now) {
  const steps = rotationSteps();
  if (!steps.length) return null;
  const button = el('button', { type: 'button', id: 'wall-pause', 'aria-pressed': String(rotation.paused) },
    rotation.paused ? `▶ ${t('wallResume')}` : `❚❚ ${t('wallPause')}`);
  button.addEventListener('click', togglePause);
  return el('div', { class: 'wall-rotation', 'data-paused': String(rotation.paused) },
    el('span', { id: 'wall-rotation-text' }, rotationText(steps, now)), button);
}

/**
 * A live age (core.js refreshes it every second) with its text already in: the lists are
 * measured to fit right after they are drawn, so they must be measured as they will show.
 */
function ageNow(time) {
  const span = liveAge(time);
  if (span) span.textContent = fmtAge(Date.now() - Number(span.dataset.time));
  return span;
}

// ---------------------------------------------------------------- header band

function activeIncidents(regions) {
  const seen = new Set();
  return regions.flatMap(([, v]) => Object.entries(v.incidents || {}))
    .filter(([id, i]) => i.state !== 'gesloten' && !seen.has(id) && seen.add(id))
    .sort((a, b) => num(b[1].grip) - num(a[1].grip) || incidentStart(a[1]) - incidentStart(b[1]));
}

/** When an incident began: `opened` once the server sends it, else the time of its last event. */
function incidentStart(incident) {
  return parseTime(incident.opened ?? incident.time);
}

/**
 * The incident with the highest GRIP level large, with its age; the others beside its age,
 * smaller, as many as fit the line.
 */
function incidentsBand(incidents) {
  if (!incidents.length) return el('div', { class: 'wall-incidents none' }, t('wallNoIncident'));
  const [[id, first], ...others] = incidents;
  const start = incidentStart(first);
  return el('div', { class: 'wall-incidents' },
    el('div', { class: 'wall-incident', 'data-incident': id, 'data-grip': num(first.grip) },
      el('span', { class: 'wall-grip' }, t('grip', num(first.grip))),
      el('span', { class: 'wall-incident-name' }, first.name || id)),
    el('div', { class: 'wall-incident-age' },
      first.state !== 'actief' ? el('span', { class: 'wall-incident-state' }, label('IncidentState', first.state)) : null,
      t('wallIncidentSince', fmtClock(start)), ' · ', ageNow(start),
      others.map(([otherId, other]) => el('span', { class: 'wall-other-incident', 'data-incident': otherId, 'data-grip': num(other.grip) },
        el('span', { class: 'wall-grip small' }, t('grip', num(other.grip))), ' ', other.name || otherId))));
}

function regionName(regions) {
  if (regions.length > 1) return t('allRegions', regions.length);
  const [code, view] = regions[0];
  return [`${view.name || code} (${code})`, linkDownMark(code)];
}

function header(regions, now) {
  const leave = el('button', { type: 'button', id: 'wall-leave' }, t('wallLeave'));
  leave.addEventListener('click', () => setBigScreen(false));
  return el('header', { id: 'wall-head' },
    el('div', { class: 'wall-where' },
      el('div', { id: 'wall-region' }, regionName(regions)),
      el('div', { id: 'wall-rotation-slot' }, rotationIndicator(now))),
    incidentsBand(activeIncidents(regions)),
    el('div', { class: 'wall-now' },
      el('time', { id: 'wall-clock', 'aria-label': t('wallClock') }, fmtClock(new Date(now))),
      el('div', { class: 'wall-currency' },
        el('div', { id: 'wall-connection' }),
        el('div', { id: 'wall-picture-age' })),
      leave));
}

/** The connection in the band, and the whole screen marked when the stream is lost. */
function renderConnectionState(now) {
  const conn = connectionSummary(now);
  const picture = state.lastUpdate ? t('wallPicture', fmtClock(state.lastUpdate, true)) : t('noUpdate');
  const box = $('wall-connection');
  if (box) {
    if (box.textContent !== conn.text) box.replaceChildren(el('span', { class: 'dot', 'aria-hidden': 'true' }), conn.text);
    box.dataset.state = conn.state;
    if ($('wall-picture-age').textContent !== picture) $('wall-picture-age').textContent = picture;
  }
  const lost = conn.state === 'stale' || conn.state === 'behind';
  const banner = $('wall-lost');
  banner.hidden = !lost;
  if (lost) {
    const since = fmtClock(conn.since);
    const title = conn.state === 'stale' ? t('wallLost', since) : t('wallBehind', since);
    const what = conn.state === 'stale' ? t('wallLostWhat', since) : t('wallBehindWhat');
    if ($('wall-lost-title').textContent !== title) $('wall-lost-title').textContent = title;
    if ($('wall-lost-what').textContent !== what) $('wall-lost-what').textContent = what;
  }
}

// ---------------------------------------------------------------- alerts and not reported

/**
 * The value a region's own alert is about (no location: the region's IC beds), as its
 * tile shows it: "3 / 40 vrij / operationeel".
 */
function regionAlertValue(view, alert) {
  if (!alert.dimension) return null;
  const id = alert.key && alert.key !== '-' ? `${alert.dimension}-${alert.key}` : alert.dimension;
  const tile = totalsTiles([view], false).find((n) => n.dataset.total === id);
  if (!tile) return null;
  const value = tile.querySelector('.tile-value');
  const sub = value.dataset.withheld ? null : tile.querySelector('.tile-sub');
  return [value.textContent, sub ? sub.textContent : null].filter(Boolean).join(' ');
}

/** The value an alert is about, as the picture summarises it: "IC 0/20 vrij", "Stroom: uitgevallen". */
function alertValue(view, alert) {
  if (!alert.location) return regionAlertValue(view, alert);
  const loc = has(view.locations, alert.location) ? view.locations[alert.location] : null;
  if (!loc) return null;
  if (!alert.dimension) return loc.overdue_since ? t('overdue', fmtClock(loc.overdue_since)) : null;
  const dv = (loc.dimensions || {})[alert.dimension];
  const key = alert.key || '-';
  const values = (dv && dv.values) || {};
  const one = has(values, key) ? { [key]: values[key] } : values;
  const text = summaryLines(alert.dimension, { values: one }).map((n) => n.textContent).join(' · ');
  // The line before it already names the key ("Bedden IC: 0/26 vrij", not "… IC: IC 0/26 vrij").
  const named = key !== '-' ? keyLabel(alert.dimension, key) : null;
  const unnamed = named && (text.startsWith(`${named}: `) || text.startsWith(`${named} `)) ? text.slice(named.length).replace(/^:? /, '') : text;
  return unnamed || null;
}

/**
 * Where and what an alert is about, apart: the wall shows the place on one line and what
 * with its value on the next. picture.js's alertWhat says both ("Martini — Bedden IC").
 */
function alertWhereWhat(view, alert) {
  const whole = alertWhat(view, alert);
  const where = alert.location && has(view.locations, alert.location) ? view.locations[alert.location].name : null;
  const prefix = where ? `${where} — ` : null;
  return prefix && whole.startsWith(prefix) ? [where, whole.slice(prefix.length)] : [whole, null];
}

function alertItems(regions) {
  return regions.flatMap(([, view]) => Object.entries(view.alerts || {}).map(([id, a]) => ({ view, id, a })))
    .sort((x, y) => severity(y.a.state) - severity(x.a.state) || parseTime(y.a.since) - parseTime(x.a.since) || x.id.localeCompare(y.id))
    .map(({ view, id, a }) => {
      const since = parseTime(a.since);
      const [where, what] = alertWhereWhat(view, a);
      const value = alertValue(view, a);
      return el('li', { 'data-alert': id, 'data-state': a.state },
        el('div', { class: 'wall-line' }, badge(a.state), el('span', { class: 'wall-what' }, where)),
        el('div', { class: 'wall-line wall-detail' },
          el('span', {}, what ? `${what}: ` : null, value ? el('span', { class: 'wall-value' }, value) : null),
          el('span', { class: 'wall-since' }, `${t('since')} ${fmtClock(since)} · `, ageNow(since))));
    });
}

/**
 * The locations to call: those in an active incident's area that have not reported since
 * it began (the server's `not_reported` of each incident), and every overdue one. Never
 * reported first, then the longest silent.
 */
function notReported(regions) {
  // Per location in an incident's not_reported: since when (the earliest such incident began).
  const silentSince = new Map();
  for (const [, i] of activeIncidents(regions)) {
    const since = incidentStart(i);
    for (const id of Array.isArray(i.not_reported) ? i.not_reported : []) {
      if (!silentSince.has(id) || since < silentSince.get(id)) silentSince.set(id, since);
    }
  }
  const rows = [];
  const seen = new Set();
  for (const [, view] of regions) {
    for (const [id, loc] of Object.entries(view.locations || {})) {
      if ((silentSince.has(id) || loc.overdue_since) && !seen.has(id)) { seen.add(id); rows.push({ id, loc, since: silentSince.get(id) }); }
    }
  }
  const last = (r) => parseTime(r.loc.last_report) || 0;
  return rows.sort((a, b) => last(a) - last(b) || String(a.loc.name).localeCompare(String(b.loc.name)));
}

/** A location to call, with how long: overdue since, or nothing since its incident began. */
function notReportedItem({ id, loc, since }) {
  const when = loc.overdue_since
    ? [t('wallOverdueSince', fmtClock(loc.overdue_since)), ' · ', ageNow(loc.overdue_since)]
    : [t('wallSilentSince', fmtClock(since)), ' · ', ageNow(since)];
  return el('li', { 'data-location': id },
    el('span', { class: 'wall-name' }, loc.name || id),
    el('span', { class: 'wall-since' }, when));
}

/**
 * Shows each list's `items`, as many as fit its box, and "+N meer" for the rest: the wall
 * never scrolls. All lists are filled first, since they share the column; then the one
 * that overflows gives up its last item, until none does.
 */
function fitLists(lists) {
  for (const f of lists) {
    f.list.replaceChildren(...(f.items.length ? f.items : [el('li', { class: 'empty' }, f.empty)]));
    f.hidden = 0;
    f.more = el('li', { class: 'wall-more' });
  }
  const overflowing = (f) => f.list.scrollHeight > f.list.clientHeight + 1 && f.hidden < f.items.length;
  for (let over = lists.filter(overflowing); over.length; over = lists.filter(overflowing)) {
    for (const f of over) {
      f.items[f.items.length - 1 - f.hidden].remove();
      f.hidden++;
      f.more.textContent = t('more', f.hidden);
      if (!f.more.isConnected) f.list.append(f.more);
    }
  }
}

/** The other incidents beside the first one's age: as many as fit the line, then "+N meer". */
function fitOtherIncidents() {
  const line = document.querySelector('#wall-head .wall-incident-age');
  if (!line) return;
  const others = [...line.querySelectorAll('.wall-other-incident')];
  const more = el('span', { class: 'wall-other-incident wall-more' });
  let hidden = 0;
  while (line.scrollWidth > line.clientWidth + 1 && hidden < others.length) {
    others[others.length - 1 - hidden].remove();
    hidden++;
    more.textContent = t('more', hidden);
    if (!more.isConnected) line.append(more);
  }
}

// ---------------------------------------------------------------- the wall

function sideSection(id, title, count) {
  return el('section', { id: `${id}-section`, class: 'wall-section', 'aria-labelledby': `${id}-title` },
    el('h2', { id: `${id}-title`, class: 'wall-title' }, `${title} (${count})`),
    el('ul', { id, class: 'wall-list' }));
}

/**
 * Draws the wall for `regions` ([code, view]): the band, the tiles, alerts, and for whoever
 * sees every location (`seesLocations`) the ones to call and the age of the oldest value
 * behind each tile. Others see how many have not reported on its tile, never which.
 */
export function renderWall(regions, seesLocations) {
  const now = Date.now();
  const views = regions.map(([, v]) => v);
  const alerts = alertItems(regions);
  const missing = seesLocations ? notReported(regions) : [];
  const alertsSection = sideSection('wall-alerts', t('alerts'), alerts.length);
  const missingSection = seesLocations ? sideSection('wall-missing', t('wallNotReported'), missing.length) : null;
  $('wall').replaceChildren(
    header(regions, now),
    el('section', { id: 'wall-tiles', 'aria-label': t('wallTiles') }, chooseTiles(totalsTiles(views, seesLocations))),
    el('div', { id: 'wall-side' }, alertsSection, missingSection));
  // The band's connection text first: its width decides what fits beside it.
  renderConnectionState(now);
  fitOtherIncidents();
  fitLists([
    { list: $('wall-alerts'), items: alerts, empty: t('noAlerts') },
    missingSection ? { list: $('wall-missing'), items: missing.map(notReportedItem), empty: t('wallAllReported') } : null,
  ].filter(Boolean));
}

/** Once a second: the clock, the connection, the rotation. */
function tick(now) {
  if (!bigScreen() || !$('wall-head')) return;
  const clock = fmtClock(new Date(now));
  if ($('wall-clock').textContent !== clock) $('wall-clock').textContent = clock;
  renderConnectionState(now);
  advanceRotation(now);
  // An age grew a character and an item a line: draw again, so nothing is cut off.
  // (A list already down to its "+N meer" alone cannot do better: no new drawing for it.)
  const cut = (list) => list.scrollHeight > list.clientHeight + 1 && list.querySelector('li[data-alert], li[data-location]');
  if ([...document.querySelectorAll('#wall .wall-list')].some(cut)) scheduleRender();
  // The countdown each second; the button stays (and keeps its focus) until it changes.
  const steps = rotationSteps();
  const text = $('wall-rotation-text');
  if (steps.length && text && $('wall-pause').getAttribute('aria-pressed') === String(rotation.paused)) {
    const fresh = rotationText(steps, now);
    if (text.textContent !== fresh) text.textContent = fresh;
  } else if (steps.length || text) {
    $('wall-rotation-slot').replaceChildren(rotationIndicator(now) || '');
  }
}

on('tick', tick);
on('signedOut', () => { rotation.index = 0; rotation.nextAt = 0; rotation.paused = false; });
// A new window size: the lists fit again.
window.addEventListener('resize', () => { if (bigScreen()) scheduleRender(); });
