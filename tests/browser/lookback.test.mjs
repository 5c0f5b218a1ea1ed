// "Terugkijken" in a real browser (headless Debian Chromium against a `ghor serve` of each
// test's own): the time slider takes the whole dashboard to a moment before an incident
// was opened, under a banner that names the moment; nothing that arrives live shows in the
// past picture (a new report, its alert, the feed), while "Terug naar live" shows it at
// once; the detail panel shows a location as it was then; the clock "zoals waargenomen"
// adds a report observed before the moment that arrived after it; a moment ahead is
// refused in words; the slider and play never have more than one request on its way; the
// national view looks back too. Screenshots go to target/screenshots/lookback-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { event, SCREENSHOTS, DEADLINE_MS, useBrowser, openAs, overflow, PHONE, startWithPage } from './harness.mjs';

const TEST_TIMEOUT_MS = 180000;
const MINUTE_MS = 60000;

const browser = useBrowser();

/** A fresh server with nothing registered, and a Dutch page made with `options`. */
const setup = (t, options) => startWithPage(t, browser, { register: false, ...options });

function incidentOpened() {
  return event('/regions/VR01', 'nl.ghor.incident.opened.v1', 'stroomstoring-groningen', {
    name: 'Stroomstoring Groningen', state: 'actief', grip: 2, theme: 'energie',
    area: { regions: ['VR01'], circle: { center: { lat: 53.22, lon: 6.57 }, radius_km: 8 } },
  });
}

/**
 * The next whole minute at least `margin` ms from now, once the clock has passed it: a
 * moment the slider can show (it moves by whole minutes) after everything sent so far.
 */
async function passMinute(ghor, margin = 5000) {
  const minute = Math.ceil((Date.now() + margin) / MINUTE_MS) * MINUTE_MS;
  await ghor.until(async () => Date.now() > minute + 200, 2 * MINUTE_MS);
  return minute;
}

/** Opens the control (when closed) and moves the slider by keyboard to `at` (a whole minute). */
async function sliderTo(page, at) {
  if ((await page.locator('#lookback-toggle').getAttribute('aria-expanded')) !== 'true') await page.locator('#lookback-toggle').click();
  const slider = page.locator('#lookback-slider');
  await slider.focus();
  const minute = at / MINUTE_MS;
  for (let i = 0; i < 300; i++) {
    const value = Number(await slider.inputValue());
    if (value === minute) return;
    await slider.press(value > minute ? 'ArrowLeft' : 'ArrowRight');
  }
  throw new Error(`the slider did not reach ${new Date(at).toISOString()}`);
}

/** Waits until the page shows the picture of `at` by `clock` (the banner says so). */
async function showsPast(page, at, clock = 'known') {
  await page.waitForFunction(({ at, clock }) => {
    const banner = document.querySelector('#lookback-banner');
    return !!banner && !banner.hidden && banner.dataset.at === String(at) && banner.dataset.clock === clock
      && document.body.classList.contains('lookback') && !document.body.classList.contains('lookback-pending');
  }, { at, clock }, { timeout: DEADLINE_MS });
}

/** "14:05" of a moment, by the browser's clock. */
function hhmm(page, at) {
  return page.evaluate((ms) => {
    const d = new Date(ms);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }, at);
}

/** Draws the page now (what the next throttled render would draw), to look at it at once. */
function renderNow(page) {
  return page.evaluate(() => window.ghor.render());
}

function bedsCell(page, location) {
  return page.locator(`#locations tr[data-location="${location}"] td[data-col="beds"]`);
}

/** The value the live state holds for a location's IC beds (the stream keeps it current behind the past). */
function liveIcOccupied(page, location) {
  return page.evaluate((l) => window.ghor.state.regions.VR01?.locations?.[l]?.dimensions?.beds?.values?.ic?.data?.occupied ?? null, location);
}

test('the slider takes the whole dashboard before an incident; nothing live leaks in; the detail shows then; back to live at once', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t, { viewport: { width: 1920, height: 1080 } });
  await ghor.registerLocations();
  await ghor.reportBeds('umcg', 20, 10);
  const before = await passMinute(ghor);
  await ghor.report('im', incidentOpened());

  await openAs(page, ghor, 'im');
  await page.locator('#incidents li[data-incident="stroomstoring-groningen"]').waitFor({ timeout: DEADLINE_MS });
  await bedsCell(page, 'umcg').getByText('IC 10/20 vrij').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await page.locator('#lookback-banner').isHidden(), 'live: no banner');
  assert.equal(await page.locator('#lookback-toggle').getAttribute('aria-expanded'), 'false');

  // The slider, by keyboard, to the minute before the incident.
  await sliderTo(page, before);
  await showsPast(page, before);
  const banner = await page.locator('#lookback-what').innerText();
  assert.match(banner, /^Terugkijken — \S+ \d+ \S+ (\d{4} )?\d\d:\d\d \(zoals toen bekend\)$/, banner);
  assert.ok(banner.includes(await hhmm(page, before)), `the banner names the moment: ${banner}`);
  assert.match(await page.locator('#lookback-slider').getAttribute('aria-valuetext'), new RegExp(await hhmm(page, before)));
  // The whole page is of then: no incident anywhere, the beds as they were.
  await page.locator('#incidents li.empty').waitFor({ timeout: DEADLINE_MS });
  // (The map's label of the area fades out in 200 ms before it leaves the page.)
  await page.waitForFunction(() => document.querySelectorAll('#map [data-incident]').length === 0, null, { timeout: DEADLINE_MS });
  assert.equal(await page.locator('[data-incident]:visible').count(), 0, 'an incident of later shows in the past');
  assert.equal((await page.locator('[data-total="active-incidents"] .tile-value').innerText()).trim(), '0');
  assert.ok((await bedsCell(page, 'umcg').innerText()).includes('IC 10/20 vrij'));
  assert.ok(await page.locator('#lookback-live').isVisible());
  assert.ok(await page.locator('#desk').isHidden(), 'the desk acts on now: not in a past picture');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lookback-past-1920.png') });

  // A new report arrives live: the stream brings it, the past picture does not change.
  const alertsBefore = await page.locator('#alerts').innerText();
  const feedBefore = await page.locator('#alert-feed').innerText();
  await ghor.reportBeds('umcg', 20, 18);
  await page.waitForFunction(() => window.ghor.state.regions.VR01.locations.umcg.dimensions.beds.values.ic.data.occupied === 18, null, { timeout: DEADLINE_MS });
  await renderNow(page);
  assert.ok((await bedsCell(page, 'umcg').innerText()).includes('IC 10/20 vrij'), 'the live report leaked into the past table');
  assert.match(await page.locator('[data-total="beds-ic"] .tile-value').innerText(), /^10 \/ 20$/);
  assert.equal(await page.locator('#alerts').innerText(), alertsBefore, 'the alerts of the past changed');
  assert.equal(await page.locator('#alert-feed').innerText(), feedBefore, 'the feed of the past changed');
  assert.equal(await page.locator('[data-incident]:visible').count(), 0);
  await showsPast(page, before);

  // The detail panel: the value as it was then, and no report form (a report is about now).
  await page.locator('#locations button[data-open="umcg"]').click();
  const detail = page.locator('dialog#detail');
  await detail.locator('#detail-past').waitFor({ timeout: DEADLINE_MS });
  await page.waitForFunction((at) => document.querySelector('#detail-past')?.dataset.at === String(at), before, { timeout: DEADLINE_MS });
  const ic = detail.locator('tr[data-dimension="beds"][data-key="ic"]');
  await ic.waitFor({ timeout: DEADLINE_MS });
  assert.match(await ic.innerText(), /10\/20 vrij/);
  assert.doesNotMatch(await ic.innerText(), /2\/20/);
  assert.match(await detail.locator('#detail-past').innerText(), /Terugkijken/);
  assert.equal(await detail.locator('#detail-report').count(), 0, 'no report form in a past picture');
  await detail.locator('#detail-history li[data-seq]').first().waitFor({ timeout: DEADLINE_MS });
  assert.doesNotMatch(await detail.locator('#detail-history').innerText(), /2\/20/, 'a change after the moment is listed');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lookback-detail-1920.png') });
  await page.keyboard.press('Escape');

  // A report observed before the moment that arrived after it: not as known then, yes as observed.
  const late = event('/locations/martini', 'nl.ghor.beds.reported.v1', 'ic', { operational: 8, occupied: 5 });
  late.time = new Date(before - 2000).toISOString();
  await ghor.report('im', late);
  await page.waitForFunction(() => window.ghor.state.regions.VR01.locations.martini?.dimensions?.beds, null, { timeout: DEADLINE_MS });
  await renderNow(page);
  assert.equal(await bedsCell(page, 'martini').getAttribute('data-state'), 'none', 'as known then, martini had not reported');
  await page.locator('#lookback input[name="lookback-clock"][value="observed"]').check();
  await showsPast(page, before, 'observed');
  await bedsCell(page, 'martini').getByText('IC 3/8 vrij').waitFor({ timeout: DEADLINE_MS });
  assert.match(await page.locator('#lookback-what').innerText(), /\(zoals waargenomen\)$/);
  assert.ok((await bedsCell(page, 'umcg').innerText()).includes('IC 10/20 vrij'), 'observed at the moment, not now');
  // In English too.
  await page.locator('#lang').click();
  await page.locator('#lookback-what').getByText(/^Looking back — .* \(as observed\)$/).waitFor();
  assert.equal((await page.locator('#lookback-live').innerText()).trim(), 'Back to live');
  await page.locator('#lang').click();
  await page.locator('#lookback-what').getByText(/^Terugkijken — /).waitFor();

  // Back to live: the current picture at once, drawn in the same task as the click.
  const atOnce = await page.evaluate(() => {
    document.querySelector('#lookback-live').click();
    const cell = document.querySelector('#locations tr[data-location="umcg"] td[data-col="beds"]');
    return { beds: cell && cell.textContent, incidents: document.querySelectorAll('#incidents li[data-incident]').length,
      banner: document.querySelector('#lookback-banner').hidden, past: document.body.classList.contains('lookback') };
  });
  assert.deepEqual(atOnce, { beds: atOnce.beds, incidents: 1, banner: true, past: false });
  assert.match(atOnce.beds, /IC 2\/20 vrij/, `live at once: ${atOnce.beds}`);
  assert.ok((await bedsCell(page, 'martini').innerText()).includes('IC 3/8 vrij'));
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'lookback-toggle', 'focus back on the control');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lookback-live-1920.png') });

  // At 1366×768: to the moment by the date-time field, then a moment ahead, refused in words.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.locator('#lookback-toggle').click();
  await page.locator('input[name="lookback-clock"][value="known"]').check();
  const local = await page.evaluate((ms) => {
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }, before);
  await page.locator('#lookback-at').fill(local);
  await page.locator('#lookback-at').press('Enter');
  await showsPast(page, before);
  await page.locator('#incidents li.empty').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await overflow(page) <= 0, 'the page scrolls sideways at 1366');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lookback-past-1366.png') });
  const ahead = await page.evaluate(() => {
    const d = new Date(Date.now() + 3 * 3600000);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  });
  await page.locator('#lookback-at').fill(ahead);
  await page.locator('#lookback-jump button[type="submit"]').click();
  await page.locator('#lookback-error').getByText(/ligt in de toekomst\. Kies een moment in het verleden/).waitFor({ timeout: DEADLINE_MS });
  await showsPast(page, before); // the page keeps the picture it showed
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lookback-error-1366.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('slider steps and play keep one request on its way and drop the moments between; a server still indexing is waited for', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t, { viewport: { width: 1366, height: 768 } });
  await ghor.registerLocations();
  await ghor.reportBeds('umcg', 20, 10);
  await openAs(page, ghor, 'rot');

  // Every past request answered 800 ms late; how many at once, and which moments.
  let inFlight = 0;
  let most = 0;
  const asked = [];
  await page.route(/\/v1\/picture\/regions\/VR01\?/, async (route) => {
    inFlight++;
    most = Math.max(most, inFlight);
    asked.push(new URL(route.request().url()).searchParams.get('at'));
    await new Promise((r) => setTimeout(r, 800));
    await route.continue();
    inFlight--;
  });
  await page.locator('#lookback-toggle').click();
  const slider = page.locator('#lookback-slider');
  await slider.focus();
  await slider.press('End');
  for (let i = 0; i < 20; i++) await slider.press('ArrowLeft');
  const target = Number(await slider.inputValue()) * MINUTE_MS;
  await showsPast(page, target);
  t.diagnostic(`20 steps: ${asked.length} requests, at most ${most} at once`);
  assert.equal(most, 1, 'more than one request on its way');
  assert.ok(asked.length <= 4, `the steps between were fetched too: ${asked.length} requests`);
  assert.equal(asked.at(-1), new Date(target).toISOString().replace('.000Z', 'Z'), 'the last moment asked is the one shown');

  // Three hours back (Page Down), then play at 10 min a second: the moment moves on, one request at a time.
  for (let i = 0; i < 3; i++) await slider.press('PageDown');
  const start = Number(await slider.inputValue()) * MINUTE_MS;
  await showsPast(page, start);
  asked.length = 0;
  await page.locator('#lookback-speed').selectOption('10');
  await page.locator('#lookback-play').click();
  assert.equal(await page.locator('#lookback-play').getAttribute('aria-pressed'), 'true');
  await page.locator('#lookback-busy:not([hidden])').waitFor({ timeout: DEADLINE_MS });
  await page.waitForFunction((t0) => Number(document.querySelector('#lookback-banner').dataset.at) >= t0 + 30 * 60000, start, { timeout: DEADLINE_MS });
  await page.locator('#lookback-play').click();
  assert.equal(await page.locator('#lookback-play').getAttribute('aria-pressed'), 'false');
  t.diagnostic(`play: ${asked.length} requests, at most ${most} at once`);
  assert.equal(most, 1, 'more than one request on its way while playing');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lookback-play-1366.png') });

  // A server still reading its log answers 503 with Retry-After: the page says so, and shows the moment once it can.
  await page.unroute(/\/v1\/picture\/regions\/VR01\?/);
  let refused = 0;
  await page.route(/\/v1\/picture\/regions\/VR01\?/, async (route) => {
    if (refused++ === 0) {
      await route.fulfill({ status: 503, headers: { 'Retry-After': '1', 'Content-Type': 'application/problem+json' },
        body: JSON.stringify({ type: 'https://ghor.example/problems/unavailable', title: 'Unavailable', status: 503, detail: 'indexing' }) });
    } else {
      await route.continue();
    }
  });
  await slider.focus();
  await slider.press('PageDown');
  const hourBack = Number(await slider.inputValue()) * MINUTE_MS;
  await page.locator('#lookback-error').getByText(/leest na een herstart het logboek nog in/).waitFor({ timeout: DEADLINE_MS });
  await showsPast(page, hourBack);
  assert.ok(await page.locator('#lookback-error').isHidden(), 'the indexing message stays after the picture came');
  assert.ok(refused >= 2);
  assert.deepEqual(pageErrors.map(String), []);
});

test('the national view looks back over every region of the token', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t, { viewport: { width: 1920, height: 1080 } });
  ghor.tokens.rotNoord = await ghor.cli('token', 'create', '--role', 'rot', '--name', 'ROT Noord', '--region', 'VR01', '--region', 'VR02');
  await ghor.registerLocations();
  await ghor.reportBeds('umcg', 20, 10);
  const then = await passMinute(ghor);
  const wholePicture = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/picture') wholePicture.push(r.url()); });
  await openAs(page, ghor, 'rotNoord');
  await page.locator('#region').selectOption('*');
  await page.locator('#regions-table tr[data-region="VR02"]').waitFor({ timeout: DEADLINE_MS });
  await sliderTo(page, then);
  await showsPast(page, then);
  await page.locator('#regions-table tr[data-region="VR01"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#regions-table tr[data-region="VR02"]').waitFor({ timeout: DEADLINE_MS });
  assert.ok(wholePicture.length >= 1 && wholePicture.every((u) => /[?&]at=/.test(u) && /[?&]clock=known/.test(u)), JSON.stringify(wholePicture));
  assert.match(await page.locator('#totals-title').innerText(), /2 regio/);
  // One region chosen while looking back: that region's picture of the same moment.
  await page.locator('#region').selectOption('VR01');
  await page.locator('#locations tr[data-location="umcg"]').waitFor({ timeout: DEADLINE_MS });
  await showsPast(page, then);
  assert.ok((await bedsCell(page, 'umcg').innerText()).includes('IC 10/20 vrij'));
  assert.deepEqual(pageErrors.map(String), []);
});

test('on a phone the control fits, its targets are 44 px, and the past is as clear', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t, PHONE);
  await ghor.registerLocations();
  await ghor.reportBeds('umcg', 20, 10);
  await openAs(page, ghor, 'im');
  await page.locator('#lookback-toggle').click();
  await page.locator('#lookback-back').click();
  await page.waitForFunction(() => document.body.classList.contains('lookback') && !document.body.classList.contains('lookback-pending'), null, { timeout: DEADLINE_MS });
  await page.locator('#lookback-what').getByText(/^Terugkijken — /).waitFor();
  assert.ok(await overflow(page) <= 0, `the page scrolls sideways: ${await overflow(page)} px`);
  for (const selector of ['#lookback-toggle', '#lookback-back', '#lookback-forward', '#lookback-slider', '#lookback-play', '#lookback-speed',
    '#lookback-at', '#lookback-jump button', '#lookback-live', '#lookback label:has(input[value="known"])', '#lookback label:has(input[value="observed"])']) {
    const box = await page.locator(selector).boundingBox();
    assert.ok(box && box.height >= 44 && box.width >= 44, `${selector} is ${box && `${box.width}×${box.height}`}`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lookback-past-390.png') });
  await page.locator('#lookback-live').click();
  await page.locator('#lookback-banner').waitFor({ state: 'hidden' });
  assert.deepEqual(pageErrors.map(String), []);
});

test('the institution\'s page and the wall screen stay live: no control there', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t, { viewport: { width: 1366, height: 768 } });
  await ghor.registerLocations();
  await openAs(page, ghor, 'umcg');
  await page.locator('#own:not([hidden])').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await page.locator('#lookback-toggle').isHidden());
  const wall = await page.context().newPage();
  await wall.goto(`${ghor.url}/?groot=1#token=${encodeURIComponent(ghor.tokens.rot)}`);
  await wall.locator('body.bigscreen #wall-head').waitFor({ timeout: DEADLINE_MS });
  await wall.locator('#wall-connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await wall.locator('#lookback-toggle').isHidden());
  assert.ok(await wall.locator('#lookback').isHidden());
  assert.deepEqual(pageErrors.map(String), []);
});
