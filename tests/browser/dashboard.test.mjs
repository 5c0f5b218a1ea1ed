// Real-browser tests of ghor's live page (`/`): headless Debian Chromium driven by
// playwright-core against a `ghor serve` (embedded, SQLite) of each test's own.
// Waits for conditions (Playwright auto-waiting, waitForFunction), never for fixed times.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ghor, event, SCREENSHOTS, DEADLINE_MS, useBrowser, openAs } from './harness.mjs';

const TEST_TIMEOUT_MS = 90000;
const VIEWPORT = { width: 1920, height: 1080 };

const browser = useBrowser();

/**
 * A fresh server with the two locations and a fresh browser context at 1920×1080; both are
 * closed when the test ends, also when it fails. Errors thrown by the page are collected.
 */
async function setup(t) {
  const ghor = await Ghor.start();
  t.after(() => ghor.close());
  await ghor.registerLocations();
  const context = await browser().newContext({ viewport: VIEWPORT });
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  let navigations = 0;
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations++; });
  t.after(() => {
    if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`);
  });
  return { ghor, context, page, pageErrors, navigations: () => navigations };
}

/** Opens the page with the rot token in the fragment and waits until it is live. */
async function openLive(page, ghor) {
  await page.goto(`${ghor.url}/#token=${encodeURIComponent(ghor.tokens.rot)}`);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#locations tr[data-location="umcg"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#locations tr[data-location="martini"]').waitFor({ timeout: DEADLINE_MS });
}

function bedsCell(page, location) {
  return page.locator(`#locations tr[data-location="${location}"] td[data-dimension="beds"]`);
}

/** Waits until a location's beds cell shows `text` (and, when given, `state`). */
async function waitForBeds(page, location, text, state, timeout = DEADLINE_MS) {
  await page.waitForFunction(({ location, text, state }) => {
    const cell = document.querySelector(`#locations tr[data-location="${location}"] td[data-dimension="beds"]`);
    return !!cell && cell.textContent.includes(text) && (!state || cell.dataset.state === state);
  }, { location, text, state }, { timeout });
}

test('the page shows a status reported through the HTTP API within 2 seconds, without a reload', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors, navigations } = await setup(t);
  await openLive(page, ghor);
  await page.evaluate(() => { window.__marker = 1; });
  const navigationsBefore = navigations();

  const started = Date.now();
  await ghor.reportBeds('umcg', 20, 20);
  await page.locator('#locations tr[data-location="umcg"] td[data-dimension="beds"][data-state="kritiek"]')
    .waitFor({ timeout: 2000 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed <= 2000, `shown after ${elapsed} ms`);

  const cell = bedsCell(page, 'umcg');
  assert.equal(await cell.getAttribute('data-state'), 'kritiek');
  const text = await cell.textContent();
  assert.match(text, /\b0\/20\b/, `beds cell text: ${text}`);
  assert.equal(await cell.locator('.badge').getAttribute('data-state'), 'kritiek');
  assert.equal(await page.locator('body').getAttribute('data-alarm'), 'off', 'a wall screen that may not acknowledge stays quiet');
  // martini reported nothing: its beds cell says so.
  assert.equal(await bedsCell(page, 'martini').getAttribute('data-state'), 'none');

  assert.equal(await page.evaluate(() => window.__marker), 1, 'the page reloaded');
  assert.equal(navigations(), navigationsBefore, 'the page navigated');
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 1000 });
  t.diagnostic(`reported status shown after ${elapsed} ms`);

  await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('after the server is killed and restarted the page shows "reconnecting", then catches up without a reload or a gap', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors, navigations } = await setup(t);

  // Every stream message and every hello, as the browser saw them on the wire.
  const sockets = [];
  page.on('websocket', (ws) => {
    const socket = { url: ws.url(), sent: [], received: [] };
    sockets.push(socket);
    ws.on('framesent', ({ payload }) => socket.sent.push(JSON.parse(String(payload))));
    ws.on('framereceived', ({ payload }) => socket.received.push(JSON.parse(String(payload))));
  });

  await openLive(page, ghor);
  await ghor.reportBeds('umcg', 20, 10);
  await waitForBeds(page, 'umcg', '10/20');

  // Record every value the page's state.seq takes from here on.
  await page.evaluate(() => {
    window.__marker = 1;
    const state = window.ghor.state;
    let seq = state.seq;
    window.__seqs = [seq];
    Object.defineProperty(state, 'seq', {
      configurable: true,
      enumerable: true,
      get() { return seq; },
      set(value) { seq = value; window.__seqs.push(value); },
    });
  });
  const navigationsBefore = navigations();
  const seqBefore = await page.evaluate(() => window.ghor.state.seq);
  assert.equal(typeof seqBefore, 'number');

  await ghor.kill('SIGKILL');
  await page.locator('#connection[data-state="reconnecting"], #connection[data-state="stale"]').waitFor({ timeout: DEADLINE_MS });
  const shown = await page.locator('#connection').getAttribute('data-state');
  // While reconnecting the last picture stays on screen.
  assert.ok((await bedsCell(page, 'umcg').textContent()).includes('10/20'));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'reconnecting.png') });
  t.diagnostic(`connection shown as ${shown} ("${(await page.locator('#connection').textContent()).trim()}")`);

  const socketsBeforeRestart = sockets.length;
  await ghor.launch(ghor.listen); // the same port and data dir
  // Two reports right after the restart (the page is likely still backing off: it must
  // get them by resuming), then one more once it is live again.
  await ghor.reportBeds('umcg', 20, 14);
  await ghor.reportBeds('umcg', 18, 14);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await waitForBeds(page, 'umcg', '4/18');
  await ghor.reportBeds('umcg', 20, 20);
  await waitForBeds(page, 'umcg', '0/20', 'kritiek');

  assert.equal(await page.evaluate(() => window.__marker), 1, 'the page reloaded');
  assert.equal(navigations(), navigationsBefore, 'the page navigated');

  // state.seq only moved forward.
  const seqs = await page.evaluate(() => window.__seqs);
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(typeof seqs[i], 'number', `state.seq became ${seqs[i]}: ${JSON.stringify(seqs)}`);
    assert.ok(seqs[i] >= seqs[i - 1], `state.seq went back: ${JSON.stringify(seqs)}`);
  }
  assert.ok(seqs.at(-1) > seqBefore, `state.seq did not move on: ${JSON.stringify(seqs)}`);

  // The page resumed where it was (a hello with its epoch and seq) on a new socket...
  assert.ok(sockets.length > socketsBeforeRestart, 'no new websocket after the restart');
  const resumed = sockets.slice(socketsBeforeRestart).map((s) => s.sent.find((m) => m.type === 'hello')).filter(Boolean);
  assert.ok(resumed.length > 0, 'no hello after the restart');
  for (const hello of resumed) {
    assert.ok(hello.resume, `hello without resume: ${JSON.stringify(hello)}`);
    assert.ok(hello.resume.seq >= seqBefore, `resumed from ${hello.resume.seq}, held ${seqBefore}`);
  }

  // ...and what it received over all its sockets forms one chain without a gap.
  let epoch = null;
  let seq = null;
  for (const [n, socket] of sockets.entries()) {
    for (const m of socket.received) {
      const where = `socket ${n}, message ${JSON.stringify(m).slice(0, 300)}`;
      if (m.type === 'snapshot') {
        if (epoch === m.epoch) assert.ok(m.seq >= seq, `snapshot went back from ${seq}: ${where}`);
        epoch = m.epoch;
        seq = m.seq;
      } else if (m.type === 'delta') {
        assert.equal(m.epoch, epoch, `epoch changed without a snapshot: ${where}`);
        assert.equal(m.from, seq, `gap: the delta does not chain on ${seq}: ${where}`);
        seq = m.to;
      } else if (m.type === 'heartbeat') {
        assert.equal(m.epoch, epoch, `epoch changed without a snapshot: ${where}`);
        assert.ok(m.seq >= seq, `heartbeat went back from ${seq}: ${where}`);
        seq = m.seq;
      } else if (m.type === 'status') {
        // Whether the gateway follows the log: no position, so no link in the chain.
        assert.equal(typeof m.current, 'boolean', `a status without current: ${where}`);
      } else {
        assert.fail(`unexpected stream message: ${where}`);
      }
    }
  }
  const first = sockets.slice(socketsBeforeRestart).flatMap((s) => s.received)[0];
  t.diagnostic(`after the restart: ${sockets.length - socketsBeforeRestart} new socket(s); first message ${first?.type}${first?.reason ? ` (${first.reason})` : ''}`);
  const held = await page.evaluate(() => ({ epoch: window.ghor.state.epoch, seq: window.ghor.state.seq }));
  assert.deepEqual(held, { epoch, seq }, 'the page holds another position than its stream gave it');

  // What the page holds is what a page opened now sees.
  const fresh = await page.context().newPage();
  await openLive(fresh, ghor);
  await waitForBeds(fresh, 'umcg', '0/20', 'kritiek');
  await page.waitForFunction((s) => window.ghor.state.seq >= s, await fresh.evaluate(() => window.ghor.state.seq), { timeout: DEADLINE_MS });
  await fresh.waitForFunction((s) => window.ghor.state.seq >= s, await page.evaluate(() => window.ghor.state.seq), { timeout: DEADLINE_MS });
  const pictureOf = (p) => p.evaluate(() => JSON.parse(JSON.stringify(window.ghor.state.regions)));
  assert.deepEqual(await pictureOf(page), await pictureOf(fresh), 'the resumed picture differs from a fresh one');
  await fresh.close();

  assert.deepEqual(pageErrors.map(String), []);
});

test('when the gateway stops following the log the page says the picture is not current, then is live again without a reload or a gap', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors, navigations } = await setup(t);
  const sockets = [];
  page.on('websocket', (ws) => {
    const socket = { received: [] };
    sockets.push(socket);
    ws.on('framereceived', ({ payload }) => socket.received.push(JSON.parse(String(payload))));
  });
  await openLive(page, ghor);
  await ghor.reportBeds('umcg', 20, 10);
  await waitForBeds(page, 'umcg', '10/20');
  const navigationsBefore = navigations();

  const { status, body } = await ghor.post('admin', '/v1/faults/gateway-follower?seconds=3', {});
  assert.equal(status, 202, JSON.stringify(body));
  // Within 5 seconds the page no longer says "Live": it says since when the picture is not current.
  await page.locator('#connection[data-state="behind"]').waitFor({ timeout: 5000 });
  assert.match(await page.locator('#connection-text').textContent(), /^Beeld niet actueel sinds \d\d:\d\d:\d\d$/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'not-current.png') });

  // A report sent meanwhile shows once the follower is back, on the same connection.
  await ghor.reportBeds('umcg', 20, 11);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await waitForBeds(page, 'umcg', '9/20'); // free of operational
  assert.equal(navigations(), navigationsBefore, 'the page was not reloaded');
  assert.equal(sockets.length, 1, 'the page kept its connection');
  const snapshots = sockets[0].received.filter((m) => m.type === 'snapshot');
  assert.equal(snapshots.length, 1, 'no resync: the deltas went on where they stopped');
  assert.deepEqual(pageErrors, []);
});

test('a token in the URL fragment leaves the address bar and never appears in a request URL', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t);
  const token = ghor.tokens.rot;
  const urls = [];
  const authorised = [];
  page.on('request', (request) => {
    urls.push(request.url());
    if (request.headers().authorization === `Bearer ${token}`) authorised.push(request.url());
  });
  page.on('websocket', (ws) => urls.push(ws.url()));

  await openLive(page, ghor);
  await ghor.reportBeds('umcg', 20, 5);
  await waitForBeds(page, 'umcg', '15/20');

  assert.equal(await page.evaluate(() => location.hash), '');
  assert.ok(!page.url().includes(token), `address bar: ${page.url()}`);
  assert.ok(!(await page.evaluate(() => location.href)).includes(token));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ghor.token')), token, 'token not kept for the tab');
  // The page did use it: as a bearer header.
  assert.ok(authorised.some((u) => new URL(u).pathname === '/v1/me'), `no authorised /v1/me: ${JSON.stringify(urls)}`);
  assert.ok(urls.some((u) => u.startsWith('ws://')), `no websocket: ${JSON.stringify(urls)}`);

  const encoded = encodeURIComponent(token);
  const initial = `${ghor.url}/#token=${encoded}`;
  for (const [i, url] of urls.entries()) {
    // The fragment of the opening navigation never leaves the browser; everything else must be clean.
    const sent = i === 0 && url === initial ? url.split('#')[0] : url;
    assert.ok(!sent.includes(token) && !sent.includes(encoded), `token in request URL: ${url}`);
  }
  assert.deepEqual(pageErrors.map(String), []);
});

// A page that resumes after a restart with nothing missed is told so at once (the server
// sends a heartbeat right after the resume), not only at the next 10 s heartbeat.
test('after a restart with nothing new the page is live again soon after it reconnects', {
  timeout: TEST_TIMEOUT_MS,
}, async (t) => {
  const { ghor, page, navigations } = await setup(t);
  await openLive(page, ghor);
  await page.evaluate(() => { window.__marker = 1; });
  const navigationsBefore = navigations();
  await ghor.kill('SIGKILL');
  await page.locator('#connection[data-state="reconnecting"], #connection[data-state="stale"]').waitFor({ timeout: DEADLINE_MS });
  const reconnected = page.waitForEvent('websocket', { timeout: DEADLINE_MS });
  await ghor.launch(ghor.listen);
  await reconnected;
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 3000 });
  assert.equal(await page.evaluate(() => window.__marker), 1, 'the page reloaded');
  assert.equal(navigations(), navigationsBefore, 'the page navigated');
});

// ---- the dashboard's parts, the institution's pages, and what each role sees ----

test('form round trip: an institution changes its IC beds, a ROT dashboard shows it, a bad value gets the catalogue\'s Dutch (and English) message', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, context, page, pageErrors } = await setup(t);
  const rot = await context.newPage();
  await openLive(rot, ghor);

  await openAs(page, ghor, 'umcg');
  const card = page.locator('#own-locations article[data-location="umcg"]');
  await card.waitFor({ timeout: DEADLINE_MS });
  // An institution sees its own locations, not the others' and no locations table.
  assert.equal(await page.locator('#own-locations article[data-location="martini"]').count(), 0);
  assert.ok(await page.locator('#locations-section').isHidden());
  assert.ok(await page.locator('[data-total="beds-ic"]').isVisible(), 'the chain in aggregate is shown');

  // The page words refusals from the server's error catalogue (/v1/domain), by code.
  const domain = await (await fetch(`${ghor.url}/v1/domain`)).json();
  const negative = domain.errors.negative;
  assert.ok(negative && negative.nl && negative.en, `the catalogue has 'negative': ${JSON.stringify(negative)}`);
  const beds = domain.dimensions.find((d) => d.name === 'beds').reports[0].fields;
  const occupied = beds.find((f) => f.name === 'occupied').label;

  // A bad value first: the server refuses a negative count, the form says so in Dutch.
  await card.locator('button[data-report="umcg"]').click();
  const dialog = page.locator('dialog#report');
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('#report-dimension').selectOption('beds');
  await dialog.locator('#report-key').selectOption('ic');
  // The checklist form: IC beds ticked, its fields open.
  const ic = dialog.locator('fieldset.report-item[data-dimension="beds"][data-key="ic"]');
  await ic.locator('input[name="operational"]').fill('12');
  await ic.locator('input[name="occupied"]').fill('-3');
  await dialog.locator('#report-save').click();
  const errors = dialog.locator('#report-errors');
  await errors.getByText(`${occupied.nl}: ${negative.nl}`, { exact: true }).waitFor({ timeout: DEADLINE_MS });
  assert.equal(await ic.locator('input[name="occupied"]').getAttribute('aria-invalid'), 'true');
  assert.equal(await ic.locator('[data-field="occupied"] .field-error').textContent(), negative.nl);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'form-validation.png') });
  // In English the same refusal reads the catalogue's English text (the switch lies behind
  // the open dialog, so it is clicked by script).
  await page.locator('#lang').dispatchEvent('click');
  await errors.getByText(`${occupied.en}: ${negative.en}`, { exact: true }).waitFor({ timeout: DEADLINE_MS });
  assert.equal(await ic.locator('[data-field="occupied"] .field-error').textContent(), negative.en);
  assert.equal(await ic.locator('label[for$="-occupied"]').textContent(), occupied.en);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'form-validation-en.png') });
  await page.locator('#lang').dispatchEvent('click');
  await errors.getByText(`${occupied.nl}: ${negative.nl}`, { exact: true }).waitFor({ timeout: DEADLINE_MS });

  // Then a good one, entered with the keyboard only.
  await ic.locator('input[name="occupied"]').fill('7');
  await ic.locator('input[name="occupied"]').press('Enter');
  const receipt = dialog.locator('#report-receipt');
  await receipt.getByText(/Opgeslagen om \d\d:\d\d: Bedden \(IC\)/).waitFor({ timeout: DEADLINE_MS });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'form.png') });
  await page.keyboard.press('Escape');
  await page.locator('#own-receipt').getByText(/Opgeslagen om \d\d:\d\d/).waitFor();

  // The ROT dashboard (another page, another token) shows it, and so does the card.
  await waitForBeds(rot, 'umcg', '5/12');
  await card.locator('tr[data-dimension="beds"]').getByText('5/12').waitFor({ timeout: DEADLINE_MS });

  // "Niet getroffen" in one click.
  await card.locator('button[data-not-affected="umcg"]').click();
  await page.locator('#own-receipt').getByText(/Niet getroffen opgeslagen om \d\d:\d\d/).waitFor({ timeout: DEADLINE_MS });
  await card.locator('tr[data-dimension="not_affected"]').waitFor({ timeout: DEADLINE_MS });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'institution.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('the informatiemanager reports by phone on behalf of a location, sees contacts and recent changes, and acknowledges an alert', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t);
  const contacts = { contacts: [{ role: 'crisiscoordinator', name: 'J. de Vries', phone_24_7: '+31 50 000 0000', verified_on: '2026-10-01' }] };
  assert.equal((await ghor.put('netwerk', '/v1/registry/locations/martini/contacts', contacts)).status, 200);
  await ghor.reportBeds('umcg', 20, 20); // kritiek: an alert

  await openAs(page, ghor, 'im');
  const alert = page.locator('#alerts li[data-alert="umcg/beds/ic"]');
  await alert.waitFor({ timeout: DEADLINE_MS });
  assert.equal(await alert.getAttribute('data-acknowledged'), 'false');
  // Until someone acknowledges it, the informatiemanager's page sounds, and says so.
  await page.locator('body[data-alarm="on"]').waitFor({ timeout: DEADLINE_MS });
  // Two: umcg's IC beds, and the region's IC capacity with them.
  await page.locator('#alarm').getByText('Geluidssignaal: 2 kritieke meldingen wachten op bevestiging.').waitFor();
  await page.waitForFunction(async () => (await import('/assets/alarm.js')).alarm.signals >= 1, null, { timeout: DEADLINE_MS });
  await page.locator('#alert-feed li[data-feed="raised"][data-alert="umcg/beds/ic"]').waitFor();
  await alert.locator('button[data-ack]').focus();
  await page.keyboard.press('Enter');
  await page.locator('#alerts li[data-alert="umcg/beds/ic"][data-acknowledged="true"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#ack-status').getByText(/Bevestiging opgeslagen/).waitFor();
  await page.locator('#alarm').getByText('Geluidssignaal: 1 kritieke melding wacht op bevestiging.').waitFor({ timeout: DEADLINE_MS });
  // Muted for a while it still says what waits; acknowledged it falls silent.
  await page.locator('#alarm button').getByText('Geluid 5 minuten uit').click();
  await page.locator('body[data-alarm="muted"]').waitFor();
  await page.locator('#alarm').getByText(/1 kritieke melding wacht op bevestiging; geluid uit tot \d\d:\d\d/).waitFor();
  await page.locator('#alerts li[data-alert="VR01/beds/ic"] button[data-ack]').click();
  await page.locator('body[data-alarm="off"]').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator('#alarm').isHidden(), true, 'silent once acknowledged');

  // Detail of martini from the table, by keyboard.
  await page.locator('#locations button[data-open="martini"]').focus();
  await page.keyboard.press('Enter');
  const detail = page.locator('dialog#detail');
  await detail.waitFor({ state: 'visible' });
  await detail.locator('#detail-contacts').getByText('J. de Vries').waitFor({ timeout: DEADLINE_MS });
  await detail.locator('#detail-report').click();
  const form = page.locator('dialog#report');
  await form.waitFor({ state: 'visible' });
  assert.match(await page.locator('#report-title').textContent(), /namens/);
  await form.locator('#report-dimension').selectOption('beds');
  await form.locator('#report-key').selectOption('ic');
  const ic = form.locator('fieldset.report-item[data-dimension="beds"][data-key="ic"]');
  await ic.locator('input[name="operational"]').fill('9');
  await ic.locator('input[name="occupied"]').fill('4');
  await form.locator('#report-save').click();
  await form.locator('#report-receipt').getByText(/Opgeslagen om \d\d:\d\d/).waitFor({ timeout: DEADLINE_MS });
  await page.keyboard.press('Escape');
  await waitForBeds(page, 'martini', '5/9');

  // Reported by phone, the IM as actor, and in the recent changes.
  await page.locator('#locations button[data-open="martini"]').click();
  const row = detail.locator('tr[data-dimension="beds"][data-key="ic"]');
  await row.locator('td[data-bron="telefoon"]').waitFor({ timeout: DEADLINE_MS });
  assert.match(await row.locator('td.actor').textContent(), /IM Groningen/);
  await detail.locator('#detail-history li[data-seq]').first().waitFor({ timeout: DEADLINE_MS });
  assert.match(await detail.locator('#detail-history').textContent(), /Telefoon.*IM Groningen/i);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'detail.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('visibility: an institution cannot open another organisation\'s form, ROT sees no contacts, a ketenpartner no locations, oefening is unmistakable', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, context, page, pageErrors } = await setup(t);
  await ghor.reportBeds('umcg', 20, 12);
  const contacts = { contacts: [{ role: 'crisiscoordinator', name: 'J. de Vries', phone_24_7: '+31 50 000 0000', verified_on: '2026-10-01' }] };
  assert.equal((await ghor.put('netwerk', '/v1/registry/locations/umcg/contacts', contacts)).status, 200);

  // The institution's deep link to martini's form is refused, and no form is shown.
  await openAs(page, ghor, 'umcg', '?melden=martini');
  await page.locator('dialog#report #report-refused').getByText('eigen organisatie').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator('#report-form').count(), 0);
  // Posting for martini anyway is refused by the server.
  const e = { specversion: '1.0', source: '/locations/martini', type: 'nl.ghor.beds.reported.v1', subject: 'ic', data: { operational: 1, occupied: 0 } };
  assert.equal((await ghor.post('umcg', '/v1/events', e)).status, 403);

  // ROT: locations with their detail, never the contacts.
  const rot = await context.newPage();
  const contactRequests = [];
  rot.on('request', (r) => { if (r.url().includes('/contacts')) contactRequests.push(r.url()); });
  await openLive(rot, ghor);
  await rot.locator('#locations button[data-open="umcg"]').click();
  await rot.locator('dialog#detail tr[data-dimension="beds"]').waitFor({ timeout: DEADLINE_MS });
  await rot.locator('dialog#detail #detail-history li[data-seq]').first().waitFor({ timeout: DEADLINE_MS });
  assert.equal(await rot.locator('#detail-contacts').count(), 0);
  assert.ok(!(await rot.locator('dialog#detail').textContent()).includes('J. de Vries'));
  assert.deepEqual(contactRequests, []);
  assert.equal(await rot.locator('#detail-report').count(), 0, 'ROT does not report');

  // Ketenpartner: aggregates, said so, and no location anywhere in what it holds.
  const keten = await context.newPage();
  await openAs(keten, ghor, 'keten');
  await keten.locator('#states-section:not([hidden]) tr[data-dimension="beds"]').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await keten.locator('#locations-section').isHidden());
  assert.match(await keten.locator('#role-note').textContent(), /in totalen/);
  assert.equal(await keten.locator('[data-location]').count(), 0);
  const held = await keten.evaluate(() => Object.values(window.ghor.state.regions).map((v) => Object.keys(v.locations || {}).length));
  assert.deepEqual(held, [0]);
  // One location's beds are no chain total: withheld from those who see no locations.
  assert.match(await keten.locator('[data-total="beds-ic"] .tile-value').textContent(), /afgeschermd/);
  assert.ok(!JSON.stringify(await keten.evaluate(() => window.ghor.state.regions)).includes('umcg'), 'no location named');
  await keten.screenshot({ path: path.join(SCREENSHOTS, 'ketenpartner.png') });

  // OTO in the oefening scope: the banner, and the word in the title.
  const oto = await context.newPage();
  await oto.goto(`${ghor.url}/#token=${encodeURIComponent(ghor.tokens.oto)}`);
  await oto.locator('#exercise-banner:not([hidden])').waitFor({ timeout: DEADLINE_MS });
  assert.match(await oto.locator('#exercise-banner').textContent(), /OEFENING/);
  assert.match(await oto.title(), /OEFENING/);
  assert.deepEqual(pageErrors.map(String), []);
});

test('the page shows what /v1/me says the token may do, not what its role is called', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, context, pageErrors } = await setup(t);
  await ghor.reportBeds('umcg', 20, 12);
  const contacts = { contacts: [{ role: 'crisiscoordinator', name: 'J. de Vries', phone_24_7: '+31 50 000 0000', verified_on: '2026-10-01' }] };
  assert.equal((await ghor.put('netwerk', '/v1/registry/locations/umcg/contacts', contacts)).status, 200);
  /** A page whose /v1/me answer is changed by `edit` on its way in. */
  async function pageWithMe(edit) {
    const page = await context.newPage();
    await page.route('**/v1/me', async (route) => {
      const response = await route.fetch();
      route.fulfill({ response, json: edit(await response.json()) });
    });
    return page;
  }

  // The informatiemanager's capabilities under another role's name: still locations and contacts.
  const renamed = await pageWithMe((me) => Object.assign(me, { role: 'bestuur' }));
  await openAs(renamed, ghor, 'im');
  await renamed.locator('#locations tr[data-location="umcg"]').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await renamed.locator('#states-section').isHidden(), 'not the aggregate view');
  await renamed.locator('#locations button[data-open="umcg"]').click();
  await renamed.locator('#detail-contacts').getByText('J. de Vries').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await renamed.locator('#detail-report').count(), 1, 'it reports on behalf');

  // Its own role's name with only the picture allowed: aggregates, no location, no contacts asked.
  const reduced = await pageWithMe((me) => Object.assign(me, { may: ['read_picture'], bron: [] }));
  const contactRequests = [];
  reduced.on('request', (r) => { if (r.url().includes('/contacts')) contactRequests.push(r.url()); });
  await openAs(reduced, ghor, 'im');
  await reduced.locator('#states-section:not([hidden]) tr[data-dimension="beds"]').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await reduced.locator('#locations-section').isHidden());
  assert.equal(await reduced.locator('#locations [data-location]').count(), 0);
  assert.deepEqual(contactRequests, []);
  assert.deepEqual(pageErrors.map(String), []);
});

test('demo data: the dashboard, its map, table sort and filters, the national view and big-screen mode', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = new Ghor(await mkdtemp(path.join(tmpdir(), 'ghor-browser-demo-')));
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  await ghor.launch('127.0.0.1:0', '--demo', '--sim-rate', '5');
  const [, link] = await ghor.stdoutLine(/^open the live picture: (\S+)$/);
  // An incident around Groningen, opened by the demo's informatiemanager: its area is drawn.
  const [, im] = await ghor.stdoutLine(/^informatiemanager token \(VR01-VR03\): (\S+)$/);
  ghor.tokens.im = im;
  const incident = event('/regions/VR01', 'nl.ghor.incident.opened.v1', 'stroomstoring-groningen', {
    name: 'Stroomstoring Groningen', state: 'actief', grip: 2, theme: 'energie',
    area: { regions: ['VR01'], circle: { center: { lat: 53.22, lon: 6.57 }, radius_km: 8 } },
    handelingsperspectief: 'Controleer noodstroom en brandstof; meld uitval direct.',
  });
  assert.equal((await ghor.post('im', '/v1/events', incident)).status, 201);
  const context = await browser().newContext({ viewport: VIEWPORT });
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  await page.goto(link);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await page.waitForFunction(() => document.querySelectorAll('#locations tr[data-location]').length >= 10, null, { timeout: DEADLINE_MS });
  // Every location on the map: a marker of its own, or counted in a cluster of locations close together.
  await page.waitForFunction(() => document.querySelectorAll('#map .marker[data-location]').length
    + [...document.querySelectorAll('#map .marker-cluster-ghor')].reduce((n, c) => n + Number(c.dataset.count), 0) >= 10, null, { timeout: DEADLINE_MS });
  await page.locator('#map path.land').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#map .incident-area[data-incident="stroomstoring-groningen"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#incidents li[data-incident="stroomstoring-groningen"][data-grip="2"]').waitFor();
  // Grouped by category, every cell with a label beside its colour.
  assert.ok(await page.locator('#locations tr.group').count() >= 2);
  const badges = await page.locator('#locations .badge').allTextContents();
  assert.ok(badges.length > 0 && badges.every((b) => /Goed|Aandacht|Kritiek|Onbekend|Verouderd/.test(b)), badges.slice(0, 5).join('|'));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-demo.png') });
  await page.locator('#map-section').screenshot({ path: path.join(SCREENSHOTS, 'map.png') });

  // Sort by beds, worst first, by keyboard; then filter by type.
  const sortBeds = page.locator('#locations thead button[data-sort="dim:beds"]');
  await sortBeds.focus();
  await page.keyboard.press('Enter');
  await page.locator('#locations thead th[aria-sort="descending"] button[data-sort="dim:beds"]').waitFor();
  await page.locator('#filter-type').selectOption('ziekenhuis');
  await page.waitForFunction(() => [...document.querySelectorAll('#locations tr[data-location] .loc-type')]
    .every((n) => /Ziekenhuis/i.test(n.textContent)), null, { timeout: DEADLINE_MS });
  assert.match(await page.locator('#filter-count').textContent(), /van \d+ locaties getoond/);
  await page.locator('#filter-incident').selectOption('stroomstoring-groningen');
  await page.waitForFunction(() => document.querySelectorAll('#locations tr[data-location]').length > 0, null, { timeout: DEADLINE_MS });
  await page.locator('#filter-incident').selectOption('');
  await page.locator('#filter-type').selectOption('');

  // English for everything, and back.
  await page.locator('#lang').click();
  await page.locator('[data-total="beds-ic"] .tile-label').getByText('Beds IC').waitFor();
  assert.match(await page.locator('#locations thead').textContent(), /Location.*Last report/);
  assert.match(await page.locator('#filter-count').textContent(), /of \d+ locations shown/);
  await page.locator('#lang').click();
  await page.locator('[data-total="beds-ic"] .tile-label').getByText('Bedden IC').waitFor();

  // National view over the token's three regions.
  await page.locator('#region').selectOption('*');
  await page.locator('#regions-table tr[data-region="VR02"]').waitFor({ timeout: DEADLINE_MS });
  assert.match(await page.locator('#totals-title').textContent(), /3 regio/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'national.png') });

  // Big-screen mode, and back to one region.
  await page.locator('#regions-table button[data-region="VR01"]').click();
  await page.locator('#bigscreen').click();
  await page.locator('body.bigscreen').waitFor();
  assert.ok(await page.locator('#filters').isHidden());
  // The tiles are drawn again for the chosen region: wait for the ones on the page.
  const bigTiles = await page.waitForFunction(() => {
    const n = document.querySelector('[data-total="beds-ic"] .tile-value');
    const size = n && n.isConnected ? parseFloat(getComputedStyle(n).fontSize) : 0;
    return size >= 60 && size;
  }, null, { timeout: DEADLINE_MS }).catch(() => null);
  assert.ok(bigTiles, 'tile numbers reach 60px or more in big-screen mode');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'bigscreen.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('Meldingen per e-mail of webhook: the ROT adds a subscription (a bad email refused on its field), sees and deletes it; an institution gets no panel', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, context, page, pageErrors } = await setup(t);
  const mine = async (token) => {
    const res = await fetch(`${ghor.url}/v1/subscriptions`, { headers: { authorization: `Bearer ${ghor.tokens[token]}` } });
    assert.equal(res.status, 200);
    return (await res.json()).subscriptions;
  };
  await openLive(page, ghor);
  await page.locator('#subscriptions:not([hidden]) #subscription-list li.note').waitFor({ timeout: DEADLINE_MS });
  await page.selectOption('#subscription-kind', 'seh_stop');
  assert.ok(await page.locator('#subscription-value').isHidden(), 'only ic_free_below asks for a number');
  await page.selectOption('#subscription-kind', 'ic_free_below');
  assert.ok(await page.locator('#subscription-value').isVisible());
  await page.fill('#subscription-value', '5');
  await page.fill('#subscription-email', 'rot at ghor');
  await page.click('#subscription-form button[type="submit"]');
  await page.locator('#subscription-status').getByText(/^email: .*e-mailadres/).waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(await mine('rot'), [], 'nothing kept of a refused one');

  await page.fill('#subscription-email', 'rot@ghor.test');
  await page.click('#subscription-form button[type="submit"]');
  const line = page.locator('#subscription-list li.subscription');
  await line.waitFor({ timeout: DEADLINE_MS });
  const text = await line.textContent();
  assert.ok(text.includes('VR01') && text.includes('rot@ghor.test') && text.includes('onder 5'), text);
  const kept = await mine('rot');
  assert.equal(kept.length, 1);
  assert.equal(kept[0].kind, 'ic_free_below');
  assert.equal(kept[0].value, 5);

  await line.getByRole('button').click();
  await page.locator('#subscription-list li.note').waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(await mine('rot'), []);

  const institution = await context.newPage();
  const asked = [];
  institution.on('request', (r) => { if (r.url().includes('/v1/subscriptions')) asked.push(r.url()); });
  await openAs(institution, ghor, 'umcg');
  assert.ok(await institution.locator('#subscriptions').isHidden(), 'an institution may not subscribe');
  assert.deepEqual(asked, [], 'and its page does not ask');
  assert.deepEqual(pageErrors.map(String), []);
});
