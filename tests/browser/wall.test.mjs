// Real-browser tests of the wall screen ("Groot scherm", wall.js) of the ROT/VIC: one
// 1920×1080 screen without scrolling, readable from 3 m, following the stream live, marked
// when the stream is lost or the picture behind; rotation through the regions; the
// exercise banner on it; a phone; the README's picture.
// Waits for conditions (Playwright auto-waiting, waitForFunction), never for fixed times.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ghor, event, SCREENSHOTS, DEADLINE_MS, useBrowser, PHONE } from './harness.mjs';

const TEST_TIMEOUT_MS = 150000;
const FULL_HD = { width: 1920, height: 1080 };
/** The page calls a connection lost after 30 s without news (core.js STALE_MS). */
const STALE_DEADLINE_MS = 45000;

const browser = useBrowser();

/**
 * A ghor of the test's own whose overdue check runs every second, so that a location
 * that never reports is listed as not reported at once; tokens as the harness makes them,
 * the ROT and network tokens for `regions`.
 */
async function startGhor(t, regions = ['VR01']) {
  const ghor = new Ghor(await mkdtemp(path.join(tmpdir(), 'ghor-browser-wall-')));
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  const inRegions = regions.flatMap((r) => ['--region', r]);
  ghor.tokens.rot = await ghor.cli('token', 'create', '--role', 'rot', '--name', 'ROT Noord', ...inRegions);
  ghor.tokens.netwerk = await ghor.cli('token', 'create', '--role', 'netwerkfunctionaris', '--name', 'netwerk noord', ...inRegions);
  ghor.tokens.umcg = await ghor.cli('token', 'create', '--role', 'institution', '--name', 'UMCG ZIS', '--region', 'VR01', '--organisation', 'umcg');
  ghor.tokens.im = await ghor.cli('token', 'create', '--role', 'informatiemanager', '--name', 'IM Groningen', '--region', 'VR01');
  ghor.tokens.oto = await ghor.cli('token', 'create', '--role', 'oto', '--name', 'OTO noord', '--scope', 'oefening', '--region', 'VR01');
  ghor.tokens.admin = await ghor.cli('token', 'create', '--role', 'admin', '--name', 'beheer', '--region', 'VR01');
  ghor.tokens.keten = await ghor.cli('token', 'create', '--role', 'ketenpartner', '--name', 'Ketenpartner Noord', '--region', 'VR01');
  await ghor.launch('127.0.0.1:0', '--overdue-every', '1');
  return ghor;
}

/** 20 locations of the organisation umcg around Groningen (so its token reports for them all). */
const LOCATIONS = [
  ['umcg-centrum', 'UMCG Centrum', 'ziekenhuis', 53.222, 6.576],
  ['martini-zuid', 'Martini Ziekenhuis Zuid', 'ziekenhuis', 53.199, 6.552],
  ['ozg-scheemda', 'Ommelander Ziekenhuis Scheemda', 'ziekenhuis', 53.173, 6.969],
  ['refaja-stadskanaal', 'Refaja Stadskanaal', 'ziekenhuis', 52.99, 6.95],
  ['delfzicht', 'Delfzicht Delfzijl', 'ziekenhuis', 53.33, 6.92],
  ['lentis-zuidlaren', 'Lentis Zuidlaren', 'ggz', 53.094, 6.68],
  ['hap-groningen', 'Huisartsenpost Groningen', 'huisartsenpost', 53.21, 6.56],
  ['hap-winschoten', 'Huisartsenpost Winschoten', 'huisartsenpost', 53.14, 7.03],
  ['vvt-hoogezand', 'Woonzorgcentrum Hoogezand', 'verpleeg_verzorgingshuis', 53.16, 6.76],
  ['vvt-haren', 'Zorgcentrum Haren', 'verpleeg_verzorgingshuis', 53.17, 6.6],
  ['vvt-leek', 'Verpleeghuis Leek', 'verpleeg_verzorgingshuis', 53.16, 6.38],
  ['vvt-veendam', 'Woonzorg Veendam', 'verpleeg_verzorgingshuis', 53.1, 6.88],
  ['vvt-appingedam', 'Zorgcentrum Appingedam', 'verpleeg_verzorgingshuis', 53.32, 6.86],
  ['vvt-bedum', 'Verpleeghuis Bedum', 'verpleeg_verzorgingshuis', 53.3, 6.6],
  ['vvt-winsum', 'Woonzorg Winsum', 'verpleeg_verzorgingshuis', 53.33, 6.52],
  ['vvt-zuidhorn', 'Zorgcentrum Zuidhorn', 'verpleeg_verzorgingshuis', 53.25, 6.4],
  ['tz-stad', 'Thuiszorg Stad', 'thuiszorg', 53.23, 6.58],
  ['tz-ommeland', 'Thuiszorg Ommeland', 'thuiszorg', 53.2, 6.7],
  ['ggz-assen-noord', 'GGZ Kliniek Noord', 'ggz', 53.24, 6.5],
  ['ghz-muntendam', 'Gehandicaptenzorg Muntendam', 'gehandicaptenzorg', 53.13, 6.87],
];
/** These never report: the wall lists them as not reported (overdue). */
const SILENT = ['ghz-muntendam', 'tz-ommeland', 'vvt-winsum'];
/** This one reported before the incident began, not since: in its area, so to be called. */
const QUIET = 'vvt-zuidhorn';
const HOSPITALS = LOCATIONS.filter(([, , type]) => type === 'ziekenhuis').map(([id]) => id);

/** An event whose time lies `minutesAgo` in the past. */
function eventAt(minutesAgo, ...args) {
  const e = event(...args);
  e.time = new Date(Date.now() - minutesAgo * 60000).toISOString();
  return e;
}

async function batch(ghor, token, events) {
  const { status, body } = await ghor.post(token, '/v1/events/batch', events);
  assert.equal(status, 200, JSON.stringify(body));
  for (const r of body.results) assert.notEqual(r.status, 'rejected', JSON.stringify(r));
}

/**
 * Registers the 20 locations an hour ago, expected to report every 30 minutes, so that the
 * silent ones are overdue at once.
 */
async function registerTwenty(ghor) {
  const events = [eventAt(60, '/regions/VR01', 'nl.ghor.organisation.registered.v1', 'umcg', { name: 'UMCG en partners' })];
  for (const [id, name, type, lat, lon] of LOCATIONS) {
    events.push(eventAt(60, `/locations/${id}`, 'nl.ghor.location.registered.v1', null, {
      name, organisation: 'umcg', type, region: 'VR01', point: { lat, lon },
      report_interval_cold_minutes: 30, report_interval_warm_minutes: 30,
    }));
  }
  await batch(ghor, 'netwerk', events);
}

/** IC beds per hospital: [operational, occupied]. */
const IC = { 'umcg-centrum': [40, 40], 'martini-zuid': [20, 12], 'ozg-scheemda': [8, 8], 'refaja-stadskanaal': [6, 6], delfzicht: [6, 2] };

/** Reports of every location but the silent ones; several of them raise alerts. */
async function reportPicture(ghor) {
  const r = (loc, type, subject, data) => event(`/locations/${loc}`, `nl.ghor.${type}.reported.v1`, subject, data);
  const events = [];
  for (const [id] of LOCATIONS) {
    if (SILENT.includes(id)) continue;
    if (id === QUIET) events.push(eventAt(5, `/locations/${id}`, 'nl.ghor.judgement.reported.v1', null, { care_next_24h: 'ja' }));
    else events.push(r(id, 'judgement', null, { care_next_24h: 'ja' }));
  }
  for (const [id, [operational, occupied]] of Object.entries(IC)) if (id !== 'umcg-centrum') events.push(r(id, 'beds', 'ic', { operational, occupied }));
  for (const id of HOSPITALS) events.push(r(id, 'beds', 'klinisch', { operational: 200, occupied: 150 }));
  events.push(r('umcg-centrum', 'acute_function', 'seh', { status: 'stop', reason: 'stroomuitval' }));
  events.push(r('martini-zuid', 'utility', 'stroom', { status: 'uitgevallen', on_backup: true, backup_hours_left: 6 }));
  events.push(r('vvt-hoogezand', 'utility', 'stroom', { status: 'uitgevallen', on_backup: false }));
  events.push(r('vvt-haren', 'utility', 'stroom', { status: 'uitgevallen', on_backup: false }));
  events.push(r('vvt-leek', 'judgement', null, { care_next_24h: 'nee', reason: 'geen stroom, geen verwarming' }));
  for (const id of ['vvt-veendam', 'vvt-appingedam', 'vvt-bedum', 'tz-stad']) {
    events.push(r(id, 'staffing', 'verzorgende', { unfilled_shifts_24h: 6, critical: true }));
  }
  await batch(ghor, 'umcg', events);
  // The newest of the critical alerts, so the first on the wall: UMCG's IC full.
  await ghor.reportBeds('umcg-centrum', 40, 40);
}

/** A power cut around Groningen at GRIP 2, opening now. */
function openingIncident() {
  return event('/regions/VR01', 'nl.ghor.incident.opened.v1', 'stroomstoring-groningen', {
    name: 'Stroomstoring Groningen', state: 'actief', grip: 2, theme: 'energie',
    area: { regions: ['VR01'], circle: { center: { lat: 53.22, lon: 6.57 }, radius_km: 15 } },
    handelingsperspectief: 'Controleer noodstroom en brandstof; meld uitval direct.',
  });
}

/** A page at `viewport` with its errors collected, closed when the test ends. */
async function newPage(t, viewport, extra = {}) {
  const context = await browser().newContext({ viewport, ...extra });
  const page = await context.newPage();
  // A failed test leaves a picture of the wall as it was.
  t.after(async () => {
    if (t.passed === false) await page.screenshot({ path: path.join(SCREENSHOTS, `wall-failed-${viewport.width}.png`) }).catch(() => {});
    await context.close();
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  return { page, pageErrors };
}

/** Opens the wall with `token` and waits until it is live. */
async function openWall(page, ghor, token, query = '?groot=1') {
  await page.goto(`${ghor.url}/${query}#token=${encodeURIComponent(ghor.tokens[token])}`);
  await page.locator('body.bigscreen #wall-head').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#wall-connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
}

/** What a wall must always be: no scrolling either way, and each part inside the screen. */
async function assertOneScreen(page, parts = ['#wall-head', '#wall-tiles', '#wall-side', '#map-section']) {
  const m = await page.evaluate((parts) => ({
    scrollHeight: document.documentElement.scrollHeight,
    scrollWidth: document.documentElement.scrollWidth,
    innerHeight, innerWidth,
    boxes: Object.fromEntries(parts.map((p) => {
      const r = document.querySelector(p).getBoundingClientRect();
      return [p, { top: r.top, left: r.left, bottom: r.bottom, right: r.right, width: r.width, height: r.height }];
    })),
  }), parts);
  assert.ok(m.scrollHeight <= m.innerHeight, `the wall scrolls: ${m.scrollHeight} px high at ${m.innerHeight}`);
  assert.ok(m.scrollWidth <= m.innerWidth, `the wall overflows sideways: ${m.scrollWidth} px wide at ${m.innerWidth}`);
  for (const [part, b] of Object.entries(m.boxes)) {
    assert.ok(b.width > 0 && b.height > 0, `${part} is not shown`);
    assert.ok(b.top >= 0 && b.left >= 0 && b.bottom <= m.innerHeight + 0.5 && b.right <= m.innerWidth + 0.5,
      `${part} is not inside the screen: ${JSON.stringify(b)}`);
  }
  return m;
}

/** The smallest font size of any text shown in the wall, and where. */
function smallestText(page) {
  return page.evaluate(() => {
    let smallest = { size: Infinity, text: '' };
    const walker = document.createTreeWalker(document.getElementById('wall'), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      if (!n.textContent.trim() || !parent.getClientRects().length) continue;
      const size = parseFloat(getComputedStyle(parent).fontSize);
      if (size < smallest.size) smallest = { size, text: n.textContent.trim().slice(0, 60) };
    }
    return smallest;
  });
}

test('the wall at 1920×1080: incident with GRIP, clock, tiles, map, alerts with values and the not reported on one screen, readable from 3 m, live; also at 1366×768', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await startGhor(t);
  await registerTwenty(ghor);
  assert.equal((await ghor.post('im', '/v1/events', openingIncident())).status, 201);
  // A second, smaller incident: beside the first, which has the higher GRIP level.
  const second = event('/regions/VR01', 'nl.ghor.incident.opened.v1', 'hoogwater-eemshaven', {
    name: 'Hoogwater Eemshaven', state: 'actief', grip: 1, theme: 'extreem_weer',
    area: { regions: ['VR01'], circle: { center: { lat: 53.44, lon: 6.83 }, radius_km: 3 } },
  });
  assert.equal((await ghor.post('im', '/v1/events', second)).status, 201);
  await reportPicture(ghor);
  const { page, pageErrors } = await newPage(t, FULL_HD);
  await openWall(page, ghor, 'rot');

  // The incident, large, with its GRIP level and age.
  const incident = page.locator('#wall-head .wall-incident[data-incident="stroomstoring-groningen"]');
  await incident.waitFor({ timeout: DEADLINE_MS });
  assert.equal(await incident.textContent(), 'GRIP 2Stroomstoring Groningen');
  assert.match(await page.locator('#wall-head .wall-incident-age').textContent(), /^sinds \d\d:\d\d · (<1 min|\d+ min)/);
  const grip = parseFloat(await incident.locator('.wall-grip').evaluate((n) => getComputedStyle(n).fontSize));
  assert.ok(grip >= 32, `the GRIP level is ${grip} px`);
  assert.match(await page.locator('#wall-head .wall-other-incident[data-incident="hoogwater-eemshaven"]').textContent(), /GRIP 1 Hoogwater Eemshaven/);
  // The clock says the time now.
  const clock = await page.locator('#wall-clock').textContent();
  const now = await page.evaluate(() => [0, 60000].map((back) => {
    const d = new Date(Date.now() - back);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }));
  assert.ok(now.includes(clock), `the clock shows ${clock}, the time is ${now[0]}`);
  assert.match(await page.locator('#wall-connection').textContent(), /Live/);

  // The alerts, worst first, each with its value; more than fit: "+N meer".
  await page.locator('#wall-alerts li[data-alert="umcg-centrum/beds/ic"]').waitFor({ timeout: DEADLINE_MS });
  const ic = await page.locator('#wall-alerts li[data-alert="umcg-centrum/beds/ic"]').textContent();
  assert.match(ic, /UMCG Centrum.*Bedden IC: 0\/40 vrij/, ic);
  assert.equal(await page.locator('#wall-alerts li[data-alert]').first().getAttribute('data-alert'), 'umcg-centrum/beds/ic');
  const states = await page.locator('#wall-alerts li[data-alert]').evaluateAll((ns) => ns.map((n) => n.dataset.state));
  const values = await page.locator('#wall-alerts li[data-alert]').evaluateAll((ns) => ns.map((n) => n.querySelector('.wall-value')?.textContent));
  assert.ok(values.every(Boolean), `an alert without its value: ${JSON.stringify(values)}`);
  const rank = { kritiek: 3, aandacht: 2 };
  for (let i = 1; i < states.length; i++) assert.ok((rank[states[i - 1]] || 1) >= (rank[states[i]] || 1), `not worst first: ${states}`);
  const title = await page.locator('#wall-alerts-title').textContent();
  const total = Number(/\((\d+)\)/.exec(title)[1]);
  const shown = states.length;
  assert.ok(total >= 10, `only ${total} alerts`);
  // More than fit: those shown lie wholly inside the list, the rest are counted.
  assert.ok(shown < total, `all ${total} alerts in the list: none left out`);
  assert.equal(await page.locator('#wall-alerts li.wall-more').textContent(), `+${total - shown} meer`);
  const cut = await page.locator('#wall-alerts').evaluate((list) => {
    const box = list.getBoundingClientRect();
    return [...list.children].filter((li) => li.getBoundingClientRect().bottom > box.bottom + 0.5).map((li) => li.textContent);
  });
  assert.deepEqual(cut, [], 'alerts cut off at the bottom of the list');
  t.diagnostic(`${shown} of ${total} alerts shown`);

  // The locations to call: those that never reported (overdue), and the one in the
  // incident's area that has not reported since it began.
  for (const id of [...SILENT, QUIET]) await page.locator(`#wall-missing li[data-location="${id}"]`).waitFor({ timeout: DEADLINE_MS });
  assert.match(await page.locator('#wall-missing li[data-location="ghz-muntendam"]').textContent(), /Gehandicaptenzorg Muntendam.*te laat sinds (\d\d-\d\d )?\d\d:\d\d · \d+ min/);
  assert.match(await page.locator(`#wall-missing li[data-location="${QUIET}"]`).textContent(), /Zorgcentrum Zuidhorn.*geen melding sinds (\d\d-\d\d )?\d\d:\d\d · (<1 min|\d+ min)/);
  assert.equal(await page.locator('#wall-missing li[data-location]').count(), 4, 'only those to call');

  // Six tiles, their figures large; IC beds as the picture sums them.
  assert.equal(await page.locator('#wall-tiles .tile').count(), 6);
  assert.equal(await page.locator('#wall-tiles [data-total="beds-ic"] .tile-value').textContent(), '12 / 80');
  assert.ok(await page.locator('#wall-tiles [data-total="not-reporting"]').count(), 'the not reported tile is shown');

  // One screen, readable from 3 m.
  await assertOneScreen(page);
  const map = await page.locator('#map').boundingBox();
  assert.ok(map.width >= 900 && map.height >= 500, `the map is small: ${JSON.stringify(map)}`);
  const smallest = await smallestText(page);
  assert.ok(smallest.size >= 24, `text of ${smallest.size} px in the wall: "${smallest.text}"`);
  const figures = await page.locator('#wall-tiles .tile-value').evaluateAll((ns) => ns.map((n) => parseFloat(getComputedStyle(n).fontSize)));
  assert.ok(figures.every((s) => s >= 48), `tile figures of ${figures} px`);
  // Nothing of the working page: no table, desk, forms or subscriptions.
  for (const part of ['#locations-section', '#desk', '#subscriptions', 'header.top', '#totals']) {
    assert.ok(await page.locator(part).isHidden(), `${part} shows on the wall`);
  }
  await page.screenshot({ path: path.join(SCREENSHOTS, 'wall-1920.png') });

  // It follows the stream: a report changes a tile and clears an alert.
  await ghor.reportBeds('umcg-centrum', 40, 30);
  await page.locator('#wall-tiles [data-total="beds-ic"] .tile-value').getByText('22 / 80', { exact: true }).waitFor({ timeout: DEADLINE_MS });
  await page.locator('#wall-alerts li[data-alert="umcg-centrum/beds/ic"]').waitFor({ state: 'detached', timeout: DEADLINE_MS });

  // 1366×768: the same on one smaller screen.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.waitForFunction(() => document.documentElement.scrollHeight <= innerHeight, null, { timeout: DEADLINE_MS });
  await assertOneScreen(page);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'wall-1366.png') });

  // The stream lost: unmistakable on the whole screen, with the time it broke.
  await page.setViewportSize(FULL_HD);
  await ghor.kill('SIGKILL');
  const lost = page.locator('#wall-lost');
  await lost.waitFor({ state: 'visible', timeout: STALE_DEADLINE_MS });
  assert.match(await page.locator('#wall-lost-title').textContent(), /^VERBINDING VERBROKEN sinds \d\d:\d\d$/);
  const frame = await lost.boundingBox();
  assert.deepEqual([frame.x, frame.y, frame.width, frame.height], [0, 0, FULL_HD.width, FULL_HD.height], 'the mark covers the whole screen');
  assert.equal(await page.locator('#wall-connection').getAttribute('data-state'), 'stale');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'wall-lost.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('the wall on a phone (390×844), opened by its link, stacks without sideways overflow; "Groot scherm uit" leaves it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await startGhor(t);
  await registerTwenty(ghor);
  await reportPicture(ghor);
  const { page, pageErrors } = await newPage(t, PHONE.viewport, PHONE);
  // A phone's header has no room for the toggle: the wall is reached by its link.
  await page.goto(`${ghor.url}/?groot=1#token=${encodeURIComponent(ghor.tokens.rot)}`);
  await page.locator('#wall-alerts li[data-alert]').first().waitFor({ timeout: DEADLINE_MS });
  const width = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  assert.ok(width[0] <= width[1], `the wall overflows sideways on a phone: ${width}`);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'wall-390.png'), fullPage: true });
  await page.locator('#wall-leave').click();
  await page.locator('#locations tr[data-location="umcg-centrum"]').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await page.locator('#wall').isHidden());
  assert.ok(await page.locator('header.top').isVisible());
  assert.deepEqual(pageErrors.map(String), []);
});

test('rotation: with ?roteer=5 and a token of two regions the wall cycles national → VR01 → VR02, says what comes next, and pauses', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await startGhor(t, ['VR01', 'VR02']);
  await registerTwenty(ghor);
  await batch(ghor, 'netwerk', [
    event('/regions/VR02', 'nl.ghor.organisation.registered.v1', 'mcl', { name: 'MCL' }),
    event('/locations/mcl', 'nl.ghor.location.registered.v1', null, {
      name: 'Medisch Centrum Leeuwarden', organisation: 'mcl', type: 'ziekenhuis', region: 'VR02', point: { lat: 53.19, lon: 5.8 },
    }),
  ]);
  const { page, pageErrors } = await newPage(t, FULL_HD);
  await openWall(page, ghor, 'rot', '?roteer=5');
  const region = page.locator('#wall-region');
  const showing = (text) => page.locator('#wall-region', { hasText: text }).waitFor({ timeout: 8000 });
  await page.locator('#wall-region', { hasText: /Alle regio's \(2\)/ }).waitFor({ timeout: DEADLINE_MS });
  assert.match(await page.locator('#wall-rotation-text').textContent(), /1\/3 · elke 5 s · hierna .*\(VR01\) over \d s/);
  await showing('(VR01)');
  await showing('(VR02)');
  assert.match(await page.locator('#wall-rotation-text').textContent(), /3\/3 .* hierna Alle regio's/);
  await assertOneScreen(page, ['#wall-head', '#wall-tiles', '#wall-side']);

  // Paused: it stays past the time the next step was due.
  await page.locator('#wall-pause').click();
  await page.locator('#wall-pause[aria-pressed="true"]').waitFor();
  assert.match(await page.locator('#wall-rotation-text').textContent(), /gepauzeerd/);
  const pausedAt = await page.evaluate(() => Date.now());
  await page.waitForFunction((since) => Date.now() > since + 6000, pausedAt, { timeout: 10000, polling: 500 });
  assert.match(await region.textContent(), /\(VR02\)/);
  await page.locator('#wall-pause').click();
  await showing(/Alle regio's/);
  assert.deepEqual(pageErrors.map(String), []);
});

test('a picture that does not follow the log marks the wall "BEELD NIET ACTUEEL" until it does again', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await startGhor(t);
  await registerTwenty(ghor);
  const { page, pageErrors } = await newPage(t, FULL_HD);
  await openWall(page, ghor, 'rot');
  const { status, body } = await ghor.post('admin', '/v1/faults/gateway-follower?seconds=3', {});
  assert.equal(status, 202, JSON.stringify(body));
  await page.locator('#wall-lost').waitFor({ state: 'visible', timeout: 5000 });
  assert.match(await page.locator('#wall-lost-title').textContent(), /^BEELD NIET ACTUEEL sinds \d\d:\d\d$/);
  assert.equal(await page.locator('#wall-connection').getAttribute('data-state'), 'behind');
  await page.locator('#wall-lost').waitFor({ state: 'hidden', timeout: DEADLINE_MS });
  await page.locator('#wall-connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(pageErrors.map(String), []);
});

test("a ketenpartner's wall: the region's figures and alerts, never a location's name, and no list of who to call", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await startGhor(t);
  await registerTwenty(ghor);
  await reportPicture(ghor);
  const { page, pageErrors } = await newPage(t, FULL_HD);
  await openWall(page, ghor, 'keten');
  await page.locator('#wall-tiles [data-total="not-reporting"]').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator('#wall-missing').count(), 0, 'a list of locations for a role that may not see them');
  const text = await page.locator('#wall').innerText();
  const named = LOCATIONS.map(([, name]) => name).filter((name) => text.includes(name));
  assert.deepEqual(named, [], 'locations named on an aggregate wall');
  await assertOneScreen(page, ['#wall-head', '#wall-tiles', '#wall-side']);
  assert.deepEqual(pageErrors.map(String), []);
});

test('an exercise: the OEFENING banner stays on the wall, inside the one screen', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await startGhor(t);
  const { page, pageErrors } = await newPage(t, FULL_HD);
  await page.goto(`${ghor.url}/?groot=1#token=${encodeURIComponent(ghor.tokens.oto)}`);
  await page.locator('body.bigscreen #wall-head').waitFor({ timeout: DEADLINE_MS });
  const banner = page.locator('#exercise-banner');
  await banner.waitFor({ state: 'visible', timeout: DEADLINE_MS });
  assert.match(await banner.textContent(), /OEFENING/);
  await assertOneScreen(page, ['#exercise-banner', '#wall-head', '#wall-tiles', '#wall-side']);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'wall-oefening.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('README picture: the wall with demo data (wall-readme.png)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = new Ghor(await mkdtemp(path.join(tmpdir(), 'ghor-browser-wall-demo-')));
  t.after(() => ghor.close());
  await ghor.launch('127.0.0.1:0', '--demo', '--sim-rate', '5');
  const [, link] = await ghor.stdoutLine(/^open the live picture: (\S+)$/);
  const [, im] = await ghor.stdoutLine(/^informatiemanager token \(VR01-VR03\): (\S+)$/);
  ghor.tokens.im = im;
  assert.equal((await ghor.post('im', '/v1/events', openingIncident())).status, 201);
  // What the informatiemanager hears by phone from the hospitals in the area.
  const byPhone = (loc, type, subject, data) => Object.assign(event(`/locations/${loc}`, `nl.ghor.${type}.reported.v1`, subject, data), { bron: 'telefoon' });
  await batch(ghor, 'im', [
    byPhone('umcg', 'utility', 'stroom', { status: 'uitgevallen', on_backup: true, backup_hours_left: 8 }),
    byPhone('martini', 'acute_function', 'seh', { status: 'stop', reason: 'stroomstoring' }),
  ]);
  const { page, pageErrors } = await newPage(t, FULL_HD);
  await page.goto(link.replace('/#', '/?groot=1#'));
  await page.locator('#wall-connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#wall-head .wall-incident[data-incident="stroomstoring-groningen"]').waitFor({ timeout: DEADLINE_MS });
  // Some alerts raised by the simulator (it keeps about four in VR01).
  await page.waitForFunction(() => document.querySelectorAll('#wall-alerts li[data-alert]').length >= 4, null, { timeout: 2 * DEADLINE_MS });
  // The map's markers, whether drawn in SVG or by Leaflet.
  await page.waitForFunction(() => document.querySelectorAll('#map [data-location], #map .leaflet-marker-icon').length >= 8, null, { timeout: DEADLINE_MS });
  await assertOneScreen(page);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'wall-readme.png') });
  assert.deepEqual(pageErrors.map(String), []);
});
