// "Verloop" in the detail panel, in a real browser (headless Debian Chromium against a
// `ghor serve` of each test's own): a hospital's IC beds reported three times (one observed
// an hour before it was sent, one withdrawn by its reporter) give a chart of three points,
// the late one hollow and said to be late in its tooltip, the withdrawn one crossed out and
// not joined into the line, each with its state in words; the table under it has the values
// as reported; "CSV downloaden" saves a file whose rows are the same; a new report shows
// live; looking back, the chart ends at the moment. Nothing is fetched before a timeline is
// opened. The CSV also downloads when signed in with the organisation account (session
// cookie). On a phone it fits without sideways scrolling, its targets 44 px. Screenshots go
// to target/screenshots/timeline-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Ghor, event, SCREENSHOTS, DEADLINE_MS, useBrowser, openAs, overflow, PHONE, signInAtProvider } from './harness.mjs';
import { startProvider } from './oidc_provider.mjs';

const TEST_TIMEOUT_MS = 240000;
const MINUTE_MS = 60000;

const browser = useBrowser();

async function setup(t, options) {
  const ghor = await Ghor.start();
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  // A Dutch browser in a Dutch crisis room: times as the page shows them, in Europe/Amsterdam.
  const context = await browser().newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam', ...options });
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  const timelines = [];
  page.on('request', (r) => { if (/\/timeline(\.csv)?\?/.test(r.url())) timelines.push(r.url()); });
  return { ghor, context, page, pageErrors, timelines };
}

/** Posts one event as `token`; answers its id. */
async function post(ghor, token, e) {
  const { status, body } = await ghor.post(token, '/v1/events', e);
  assert.equal(status, 201, JSON.stringify(body));
  return e.id;
}

/** IC (or another bed type's) beds of umcg as its own system reports them, observed `minutesAgo`. */
function beds(operational, occupied, minutesAgo = 0, key = 'ic') {
  const e = event('/locations/umcg', 'nl.ghor.beds.reported.v1', key, { operational, occupied });
  e.time = new Date(Date.now() - minutesAgo * MINUTE_MS).toISOString();
  return e;
}

/** The three IC reports of the story: late, on time, and one withdrawn as mistaken. */
async function threeReports(ghor) {
  const late = await post(ghor, 'umcg', beds(20, 15, 60));
  const onTime = await post(ghor, 'umcg', beds(20, 12, 2));
  const wrong = await post(ghor, 'umcg', beds(20, 2, 0));
  await post(ghor, 'umcg', event('/locations/umcg', 'nl.ghor.observation.retracted.v1', null, { event_id: wrong }));
  return { late, onTime, wrong, reported: { [late]: [20, 15], [onTime]: [20, 12], [wrong]: [20, 2] } };
}

/** Opens umcg's detail panel from the locations table. */
async function openDetail(page) {
  await page.locator('#locations button[data-open="umcg"]').click();
  const detail = page.locator('dialog#detail');
  await detail.locator('#detail-timeline').waitFor({ timeout: DEADLINE_MS });
  return detail;
}

/** Opens the timeline of `dim` and waits until its chart is drawn with `n` points. */
async function openTimeline(detail, dim, n) {
  const toggle = detail.locator(`[data-timeline-toggle="${dim}"]`);
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  const item = detail.locator(`li[data-timeline="${dim}"]`);
  await item.locator('.tl-panel:not([data-loading])').waitFor({ timeout: DEADLINE_MS });
  if (n !== undefined) await waitPoints(item, n);
  return item;
}

async function waitPoints(item, n) {
  await item.page().waitForFunction(({ dim, n }) =>
    document.querySelectorAll(`li[data-timeline="${dim}"] .tl-panel:not([data-loading]) svg.tl-svg g.tl-point`).length === n,
  { dim: await item.getAttribute('data-timeline'), n }, { timeout: DEADLINE_MS });
}

/** The chart's points as drawn: id, x, state, late, withdrawn, and the tooltip. */
function points(item) {
  return item.locator('svg.tl-svg g.tl-point').evaluateAll((gs) => gs.map((g) => ({
    id: g.dataset.id, state: g.dataset.state, late: g.dataset.late === 'true', retracted: g.dataset.retracted === 'true',
    x: g.transform.baseVal.consolidate().matrix.e, title: g.querySelector('title').textContent,
    fill: g.querySelector('.tl-shape').getAttribute('fill'), crossed: !!g.querySelector('.tl-cross'),
  })));
}

/** The table under the chart: one object per row, by column. */
function tableRows(item) {
  return item.locator('table.tl-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    ...Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.col, td.textContent.trim()])),
    id: tr.dataset.point, late: tr.dataset.late === 'true', retracted: tr.dataset.retracted === 'true',
    badge: tr.querySelector('td[data-col="state"] .badge')?.dataset.state ?? null,
  })));
}

/** RFC 4180 CSV (as the server writes it) into objects by the header row. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else if (c !== '\r') cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  const [head, ...body] = rows;
  return { head, rows: body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]]))) };
}

/** Clicks the CSV button and answers the file it saved: its name and its rows. */
async function downloadCsv(page, item) {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: DEADLINE_MS }), item.locator('button.tl-csv').click()]);
  assert.equal(await download.failure(), null);
  return { name: download.suggestedFilename(), ...parseCsv(await readFile(await download.path(), 'utf8')) };
}

/** The labels of the states, as the server names them. */
async function stateLabels(ghor) {
  const domain = await (await fetch(`${ghor.url}/v1/domain`)).json();
  return Object.fromEntries(Object.entries(domain.vocabularies.State).map(([k, v]) => [k, v]));
}

/**
 * The next whole minute at least `margin` ms from now, once the clock has passed it: a
 * moment the slider can show (it moves by whole minutes) after everything sent so far.
 */
async function passMinute(ghor, margin = 3000) {
  const minute = Math.ceil((Date.now() + margin) / MINUTE_MS) * MINUTE_MS;
  await ghor.until(async () => Date.now() > minute + 200, 2 * MINUTE_MS);
  return minute;
}

/** Opens the look-back control and moves its slider by keyboard to `at` (a whole minute). */
async function lookBackTo(page, at) {
  if ((await page.locator('#lookback-toggle').getAttribute('aria-expanded')) !== 'true') await page.locator('#lookback-toggle').click();
  const slider = page.locator('#lookback-slider');
  await slider.focus();
  for (let i = 0; i < 300; i++) {
    const value = Number(await slider.inputValue());
    if (value === at / MINUTE_MS) break;
    await slider.press(value > at / MINUTE_MS ? 'ArrowLeft' : 'ArrowRight');
  }
  await page.waitForFunction((at) => {
    const banner = document.querySelector('#lookback-banner');
    return !!banner && !banner.hidden && banner.dataset.at === String(at) && !document.body.classList.contains('lookback-pending');
  }, at, { timeout: DEADLINE_MS });
}

/** Scrolls the detail panel so that a timeline starts at its top, under the panel's heading. */
function toTop(item) {
  return item.evaluate((li) => {
    const dialog = li.closest('dialog');
    const head = dialog.querySelector('.dialog-head');
    dialog.scrollTop += li.getBoundingClientRect().top - head.getBoundingClientRect().bottom - 8;
  });
}

function overflowIn(page, selector) {
  return page.evaluate((s) => { const box = document.querySelector(s); return box.scrollWidth - box.clientWidth; }, selector);
}

test('IC beds over time: three points, the late one hollow, the withdrawn one crossed out; the table and the CSV as reported; live; looking back it ends at the moment', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors, timelines } = await setup(t, { viewport: { width: 1920, height: 1080 } });
  await ghor.registerLocations();
  const { late, onTime, wrong, reported } = await threeReports(ghor);
  const labels = await stateLabels(ghor);

  await openAs(page, ghor, 'rot');
  const detail = await openDetail(page);
  await detail.locator('tr[data-dimension="beds"][data-key="ic"]').waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(timelines, [], 'a timeline fetched before it was opened');
  const toggle = detail.locator('[data-timeline-toggle="beds"]');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  const item = await openTimeline(detail, 'beds', 3);
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.focus), 'tl:beds', 'the focus stays on the toggle');
  assert.equal(timelines.length, 1, `one timeline asked for: ${timelines}`);
  assert.match(timelines[0], /\/v1\/picture\/locations\/umcg\/timeline\?dimension=beds$/);

  // The chart: three points, oldest first, each by its state in words.
  const drawn = await points(item);
  assert.deepEqual(drawn.map((p) => p.id), [late, onTime, wrong]);
  assert.ok(drawn[0].x < drawn[1].x && drawn[1].x < drawn[2].x, 'left to right by when observed');
  for (const p of drawn) assert.ok(p.title.split('\n').includes(labels[p.state].nl), `the state in words: ${p.title}`);
  // Late: hollow, and its tooltip says how late.
  assert.deepEqual(drawn.map((p) => p.late), [true, false, false]);
  assert.match(drawn[0].title, /laat ontvangen: 60 min na waarneming/);
  assert.equal(drawn[0].fill, '#ffffff', 'a late point is hollow');
  assert.notEqual(drawn[1].fill, '#ffffff');
  // Withdrawn: crossed out, and not joined into the line.
  assert.deepEqual(drawn.map((p) => p.retracted), [false, false, true]);
  assert.deepEqual(drawn.map((p) => p.crossed), [false, false, true]);
  assert.match(drawn[2].title, /ingetrokken door de melder/);
  const line = (await item.locator('svg.tl-svg polyline.tl-line').getAttribute('points')).trim().split(/\s+/).map((xy) => Number(xy.split(',')[0]));
  assert.equal(line.length, 2, `the line joins only what stands: ${line}`);
  assert.ok(Math.abs(line[0] - drawn[0].x) < 0.1 && Math.abs(line[1] - drawn[1].x) < 0.1, `the line runs from the first to the second point: ${line}`);
  assert.equal(await item.locator('svg.tl-svg polyline.tl-aux').count(), 1, 'operational as a faint line');
  // The legend says what hollow and crossed out mean; the chart has a name.
  assert.match(await item.locator('ul.tl-legend').innerText(), /open: laat ontvangen[\s\S]*doorgekruist: ingetrokken/);
  assert.match(await item.locator('svg.tl-svg').getAttribute('aria-label'), /Bedden: 3 waarden/);
  assert.match(await item.locator('.tl-summary').innerText(), /^3 waarden, waargenomen van \d\d:\d\d tot \d\d:\d\d · 1 laat ontvangen · 1 ingetrokken/);

  // The table: the values as reported, when observed and received, who and how, late or withdrawn.
  const rows = await tableRows(item);
  assert.deepEqual(rows.map((r) => r.id), [late, onTime, wrong]);
  for (const r of rows) {
    const [operational, occupied] = reported[r.id];
    assert.equal(r.value, `${operational - occupied} vrij van ${operational}Operationeel (bemand): ${operational} · Bezet: ${occupied}`);
    assert.equal(r.who, 'UMCG ZISAPI');
    assert.equal(r.badge, drawn.find((p) => p.id === r.id).state);
    assert.match(r.observed, /^\d\d:\d\d:\d\d$/);
  }
  assert.deepEqual(rows.map((r) => [r.late, r.retracted]), [[true, false], [false, false], [false, true]]);
  assert.equal(rows[0].notes, 'laat ontvangen: 60 min na waarneming');
  assert.equal(rows[1].notes, '–');
  assert.equal(rows[2].notes, 'ingetrokken door de melder');
  await toTop(item);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'timeline-1920.png') });

  // "CSV downloaden": a file with the same rows, fetched with the page's token.
  const csv = await downloadCsv(page, item);
  assert.equal(csv.name, 'umcg-beds.csv');
  assert.deepEqual(csv.head.slice(0, 9), ['key', 'time', 'received', 'delay_seconds', 'late', 'retracted', 'state', 'actor', 'bron']);
  assert.equal(csv.rows.length, 3);
  csv.rows.forEach((r, i) => {
    const [operational, occupied] = reported[rows[i].id];
    assert.deepEqual([r.key, r.operational, r.occupied, r.late, r.retracted, r.state, r.actor, r.bron],
      ['ic', String(operational), String(occupied), String(rows[i].late), String(rows[i].retracted), rows[i].badge, 'UMCG ZIS', 'api'], `CSV row ${i + 1}`);
  });
  await item.locator('.tl-csv-status').getByText('Opgeslagen als umcg-beds.csv.').waitFor();
  const csvAsked = timelines.filter((u) => u.includes('timeline.csv'));
  assert.equal(csvAsked.length, 1);

  // In English: the same, in words of the toggle.
  await page.evaluate(() => document.getElementById('lang').click());
  await item.locator('.tl-summary').getByText(/^3 values, observed from/).waitFor();
  assert.match((await points(item))[0].title, /received late: 60 min after it was observed/);
  assert.equal((await tableRows(item))[2].notes, 'withdrawn by its reporter');
  assert.match(await toggle.innerText(), /Beds$/);
  await page.evaluate(() => document.getElementById('lang').click());
  await item.locator('.tl-summary').getByText(/^3 waarden/).waitFor();

  // A new report shows live, in the open chart.
  const moment = await passMinute(ghor);
  const fourth = await post(ghor, 'umcg', beds(20, 10, 0));
  await waitPoints(item, 4);
  assert.equal((await points(item)).at(-1).id, fourth);
  assert.ok(await toggle.evaluate((b) => b.isConnected), 'the toggle kept its place');
  await page.keyboard.press('Escape');

  // Looking back to a minute before the fourth: the chart ends at the moment, without it.
  await lookBackTo(page, moment);
  const pastDetail = await openDetail(page);
  const pastItem = await openTimeline(pastDetail, 'beds', 3);
  const iso = new Date(moment).toISOString().replace('.000Z', 'Z');
  assert.ok(timelines.some((u) => u.endsWith(`timeline?dimension=beds&to=${encodeURIComponent(iso)}`)), `asked up to the moment: ${timelines.at(-1)}`);
  const svg = pastItem.locator('svg.tl-svg');
  assert.equal(await svg.getAttribute('data-end'), String(moment), 'the chart ends at the moment');
  const endX = Number(await pastItem.locator('svg.tl-svg .tl-endline').getAttribute('x1'));
  const pastPoints = await points(pastItem);
  assert.deepEqual(pastPoints.map((p) => p.id), [late, onTime, wrong]);
  for (const p of pastPoints) assert.ok(p.x <= endX + 0.01, `a point after the end line: ${p.x} > ${endX}`);
  const hhmm = await page.evaluate((ms) => new Date(ms).toTimeString().slice(0, 5), moment);
  assert.equal((await pastItem.locator('svg.tl-svg .tl-endlabel').textContent()), `tot ${hhmm}`);
  assert.match(await pastItem.locator('.tl-past').innerText(), new RegExp(`^Tot .*${hhmm} \\(zoals toen bekend\\)\\.`));
  assert.equal((await tableRows(pastItem)).length, 3);
  await toTop(pastItem);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'timeline-past-1920.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('two kinds of beds and the power supply: a series per key, a categorical band; at 1366 and on a phone it fits, its targets 44 px', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t, { viewport: { width: 1366, height: 768 } });
  await ghor.registerLocations();
  await threeReports(ghor);
  await post(ghor, 'umcg', beds(12, 9, 50, 'ccu'));
  await post(ghor, 'umcg', beds(12, 11, 20, 'ccu'));
  await post(ghor, 'umcg', beds(12, 12, 1, 'ccu'));
  const power = (status, minutesAgo, extra = {}) => {
    const e = event('/locations/umcg', 'nl.ghor.utility.reported.v1', 'stroom', { status, ...extra });
    e.time = new Date(Date.now() - minutesAgo * MINUTE_MS).toISOString();
    return e;
  };
  await post(ghor, 'umcg', power('verstoord', 45));
  await post(ghor, 'umcg', power('uitgevallen', 30, { on_backup: true, backup_hours_left: 6 }));
  await post(ghor, 'umcg', power('normaal', 3));
  await post(ghor, 'umcg', event('/locations/umcg', 'nl.ghor.note.reported.v1', null, { text: 'Aggregaat getest, alles in orde.' }));

  await openAs(page, ghor, 'rot');
  const detail = await openDetail(page);
  await detail.locator('li[data-timeline="note"]').waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(await detail.locator('li[data-timeline]').evaluateAll((l) => l.map((n) => n.dataset.timeline)),
    ['beds', 'utility', 'note'], 'a timeline per dimension the location has');
  await toTop(detail.locator('#detail-timeline'));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'timeline-closed-1366.png') });
  const bedsItem = await openTimeline(detail, 'beds', 6);
  assert.deepEqual(await bedsItem.locator('ul.tl-legend li[data-legend-key]').evaluateAll((l) => l.map((n) => n.dataset.legendKey)), ['ic', 'ccu']);
  assert.equal(await bedsItem.locator('polyline.tl-line').count(), 2, 'a line per kind of bed');
  const power1366 = await openTimeline(detail, 'utility', 3);
  const bands = await power1366.locator('svg.tl-svg rect.tl-band').count();
  assert.equal(bands, 3, 'the band: each status held until the next');
  const ticks = await power1366.locator('svg.tl-svg text.tl-tick').allTextContents();
  for (const want of ['Normaal', 'Verstoord', 'Uitgevallen']) assert.ok(ticks.includes(want), `${want} on the axis: ${ticks}`);
  const powerRows = await tableRows(power1366);
  assert.match(powerRows[1].value, /^UitgevallenStatus: Uitgevallen · .*: ja · .*: 6/);
  // A note has no figure: its moments on a line, the text in the table.
  const note = await openTimeline(detail, 'note', 1);
  assert.match((await tableRows(note))[0].value, /Aggregaat getest, alles in orde\./);
  assert.ok(await overflowIn(page, 'dialog#detail') <= 0, 'the panel scrolls sideways at 1366');
  await toTop(bedsItem);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'timeline-1366.png') });
  await toTop(power1366);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'timeline-power-1366.png') });
  await page.keyboard.press('Escape');

  // On a phone: the same panel, drawn at its width, nothing sideways, 44 px targets.
  const phone = await (await browser().newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam', ...PHONE })).newPage();
  t.after(() => phone.context().close());
  phone.on('pageerror', (e) => pageErrors.push(e));
  await openAs(phone, ghor, 'im');
  await phone.locator('#locations button[data-open="umcg"]').tap();
  const small = phone.locator('dialog#detail');
  await small.locator('#detail-timeline').waitFor({ timeout: DEADLINE_MS });
  const phoneBeds = await openTimeline(small, 'beds', 6);
  const phonePower = await openTimeline(small, 'utility', 3);
  assert.ok(await overflowIn(phone, 'dialog#detail') <= 0, `the panel scrolls sideways on a phone: ${await overflowIn(phone, 'dialog#detail')}`);
  assert.ok(await overflow(phone) <= 0, 'the page scrolls sideways on a phone');
  const dialogWidth = (await small.boundingBox()).width;
  for (const chart of [phoneBeds, phonePower]) {
    const box = await chart.locator('svg.tl-svg').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390 && box.width > dialogWidth * 0.8, `the chart fits the phone's width: ${JSON.stringify(box)}`);
  }
  for (const target of [small.locator('[data-timeline-toggle="beds"]'), small.locator('[data-timeline-toggle="staffing"]').or(small.locator('[data-timeline-toggle="utility"]')).first(),
    phoneBeds.locator('button.tl-csv'), phoneBeds.locator('details.tl-values summary')]) {
    const box = await target.boundingBox();
    assert.ok(box && box.height >= 44 && box.width >= 44, `a target of ${box && `${box.width}×${box.height}`}`);
  }
  await toTop(phoneBeds);
  await phone.screenshot({ path: path.join(SCREENSHOTS, 'timeline-390.png') });
  await toTop(phonePower);
  await phone.screenshot({ path: path.join(SCREENSHOTS, 'timeline-power-390.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

// ---------------------------------------------------------------- signed in with the organisation account

const CLIENT_ID = 'ghor-browser-test';

async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('signed in with the organisation account (session cookie, no token), the CSV downloads too', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  // Hex: a secret starting with "-" would be read as an option of `ghor serve`.
  const secret = randomBytes(24).toString('hex');
  const op = await startProvider({ clientId: CLIENT_ID, clientSecret: secret, redirectUri: `${publicUrl}/auth/callback` });
  t.after(() => op.close());
  const ghor = new Ghor(await mkdtemp(path.join(tmpdir(), 'ghor-browser-timeline-')));
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  ghor.tokens.netwerk = await ghor.cli('token', 'create', '--role', 'netwerkfunctionaris', '--name', 'netwerk noord', '--region', 'VR01');
  ghor.tokens.umcg = await ghor.cli('token', 'create', '--role', 'institution', '--name', 'UMCG ZIS', '--region', 'VR01', '--organisation', 'umcg');
  await ghor.launch(`127.0.0.1:${port}`, '--public-url', publicUrl, '--oidc-issuer', op.issuer, '--oidc-client-id', CLIENT_ID, '--oidc-client-secret', secret);
  await ghor.registerLocations();
  const { reported } = await threeReports(ghor);

  const context = await browser().newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam', viewport: { width: 1366, height: 768 } });
  t.after(() => context.close());
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const csvRequests = [];
  page.on('request', (r) => { if (r.url().includes('/timeline.csv')) csvRequests.push(r); });
  await page.goto(`${ghor.url}/`);
  await page.locator('#login:not([hidden]) #oidc-login').click();
  // The provider's development pages: any password, consent when asked.
  await signInAtProvider(page, ghor, op, 'rot-user');
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#region').selectOption('VR01');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ghor.token')), null, 'no token: the session cookie');

  const detail = await openDetail(page);
  const item = await openTimeline(detail, 'beds', 3);
  const csv = await downloadCsv(page, item);
  assert.equal(csv.name, 'umcg-beds.csv');
  assert.deepEqual(csv.rows.map((r) => [Number(r.operational), Number(r.occupied)]), Object.values(reported), 'the rows as reported, oldest first');
  const headers = await csvRequests[0].allHeaders();
  assert.equal(headers.authorization, undefined, 'no token sent');
  assert.deepEqual(errors.map(String), []);
});
