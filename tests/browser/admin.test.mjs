// Real-browser tests of Beheer (admin.js), the screens for what was API-only (issue 10):
// the informatiemanager opens, changes and closes an incident with an area chosen on the
// page and the dashboard follows each step; a threshold changed on the page turns a
// location's state; the netwerkfunctionaris adds a location and keeps its 24/7 contacts,
// one checked 20 months ago flagged; the server's field errors shown in Dutch; a ROT token
// sees none of it; the OTO prepares its exercise. Waits for conditions, never for time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Ghor, SCREENSHOTS, DEADLINE_MS, useBrowser, PHONE, openAs, overflow } from './harness.mjs';

const TEST_TIMEOUT_MS = 120000;
const DESKTOP = { width: 1920, height: 1080 };
const LAPTOP = { width: 1366, height: 768 };

const browser = useBrowser();

/** A fresh server with umcg and martini registered in VR01, closed when the test ends. */
async function server(t) {
  const ghor = await Ghor.start();
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  await ghor.registerLocations();
  return ghor;
}

/** A page of its own context (closed with the test) whose errors are collected. */
async function newPage(t, options) {
  const context = await browser().newContext(options);
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  return { page, errors };
}

/**
 * Sets a location's contacts as the netwerkfunctionaris, once the server's picture holds the
 * location (registering is folded in just after the batch is answered).
 */
async function putContacts(ghor, location, contacts) {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const answer = await ghor.put('netwerk', `/v1/registry/locations/${location}/contacts`, { contacts });
    if (answer.status !== 404 || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The date `months` months before today, as the contacts API writes it. */
function monthsAgo(months) {
  const d = new Date();
  d.setMonth(d.getMonth() - months);
  return d.toISOString().slice(0, 10);
}

test('the informatiemanager opens an incident for an area chosen on the page, raises its GRIP and closes it; the dashboard follows', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await server(t);
  const { page, errors } = await newPage(t, { viewport: DESKTOP });
  await openAs(page, ghor, 'im');
  await page.locator('#admin:not([hidden]) #admin-tab-incidents[aria-selected="true"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#incidents li.empty').waitFor({ timeout: DEADLINE_MS });

  // Open: a circle of 5 km around the centre of Groningen, drawn on the picker's map and made exact.
  await page.locator('#admin-new-incident').click();
  const dialog = page.locator('dialog#admin-dialog');
  await dialog.waitFor({ state: 'visible' });
  await page.locator('#inc-f-name').fill('Stroomstoring Groningen');
  await page.locator('#inc-f-grip').selectOption('2');
  await page.locator('#inc-f-theme').selectOption('energie');
  await page.locator('#inc-f-handelingsperspectief').fill('Controleer de noodstroom en meld uitval.');
  await page.locator('#inc-map .area-map').click();
  await page.waitForFunction(() => document.querySelector('#inc-f-lat').value !== '', null, { timeout: DEADLINE_MS });
  await page.locator('#inc-f-lat').fill('53.21');
  await page.locator('#inc-f-lon').fill('6.57');
  await page.locator('#inc-f-radius').fill('5');
  await dialog.locator('#inc-preview-count[data-count="2"]').getByText('2 locaties liggen in het gebied').waitFor({ timeout: DEADLINE_MS });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-incident-form-1920.png') });
  await page.locator('#inc-submit').click();
  await dialog.waitFor({ state: 'hidden' });

  const onDashboard = page.locator('#incidents li[data-incident]');
  await page.locator('#incidents li[data-incident][data-grip="2"]').getByText('Stroomstoring Groningen').waitFor({ timeout: DEADLINE_MS });
  const id = await onDashboard.first().getAttribute('data-incident');
  const row = page.locator(`#admin-incident-list li[data-incident="${id}"]`);
  await row.getByText('cirkel 5 km rond 53,21, 6,57').waitFor({ timeout: DEADLINE_MS });
  // The event carries the area as drawn.
  const incidents = await (await fetch(`${ghor.url}/v1/incidents`, { headers: { Authorization: `Bearer ${ghor.tokens.im}` } })).json();
  assert.deepEqual(incidents.incidents[id].area.circle, { center: { lat: 53.21, lon: 6.57 }, radius_km: 5 });
  assert.equal(incidents.incidents[id].theme, 'energie');

  // Change: GRIP 3; the name and area stay.
  await row.locator('[data-edit-incident]').click();
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await page.locator('#inc-f-name').inputValue(), 'Stroomstoring Groningen');
  assert.equal(await page.locator('#inc-f-lat').inputValue(), '53.21');
  await page.locator('#inc-f-grip').selectOption('3');
  await page.locator('#inc-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  await page.locator(`#incidents li[data-incident="${id}"][data-grip="3"]`).waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin-status').getByText('gewijzigd').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin').screenshot({ path: path.join(SCREENSHOTS, 'admin-incidents-1920.png') });

  // Close, after confirming: gone from the dashboard's active incidents, listed as closed.
  await row.locator('[data-close-incident]').click();
  await row.locator('[data-close-incident-yes]').click();
  await page.locator(`#incidents li[data-incident="${id}"]`).waitFor({ state: 'detached', timeout: DEADLINE_MS });
  await page.locator('#incidents li.empty').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin-body button[aria-expanded]').getByText('Afgesloten incidenten (1)').click();
  await page.locator(`#admin-closed-incidents li[data-incident="${id}"][data-state="gesloten"]`).waitFor({ timeout: DEADLINE_MS });

  // The same form at 1366×768 fits without sideways scrolling.
  await page.setViewportSize(LAPTOP);
  await page.locator('#admin-new-incident').click();
  await dialog.waitFor({ state: 'visible' });
  assert.ok(await overflow(page) <= 0, 'the incident form overflows at 1366');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-incident-form-1366.png') });
  assert.deepEqual(errors, []);
});

test('a threshold changed on the page turns a location to attention; a negative threshold gets the server\'s Dutch error on its field', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await server(t);
  await ghor.reportBeds('umcg', 20, 17); // 3 free: good while "attention at or below" is 2
  const { page, errors } = await newPage(t, { viewport: LAPTOP });
  await openAs(page, ghor, 'im');
  const beds = page.locator('#locations tr[data-location="umcg"] td[data-dimension="beds"]');
  await page.locator('#locations tr[data-location="umcg"] td[data-dimension="beds"][data-state="goed"]').waitFor({ timeout: DEADLINE_MS });
  const colourBefore = await beds.evaluate((n) => getComputedStyle(n.querySelector('.badge, [data-state]') || n).backgroundColor);

  await page.locator('#admin-tab-thresholds').click();
  const row = page.locator('#admin-thresholds tr[data-threshold="beds_free_attention"]');
  await row.locator('td.current[data-value="2"]').waitFor({ timeout: DEADLINE_MS });

  // A negative value: the server refuses it, its words on the field, nothing changes.
  await page.locator('#thr-beds_free_critical').fill('-1');
  await page.locator('#thr-save').click();
  await page.locator('#thr-beds_free_critical-error').getByText('Mag niet negatief zijn').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator('#thr-beds_free_critical').getAttribute('aria-invalid'), 'true');
  await page.locator('#thr-errors').getByText('Bedden vrij: kritiek bij ten hoogste: Mag niet negatief zijn').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin').screenshot({ path: path.join(SCREENSHOTS, 'admin-thresholds-error-1366.png') });

  // Attention at 4 or fewer free beds: umcg with 3 free turns to attention.
  await page.locator('#thr-beds_free_critical').fill('');
  await page.locator('#thr-beds_free_attention').fill('4');
  await page.locator('#thr-save').click();
  await row.locator('td.current[data-value="4"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#locations tr[data-location="umcg"] td[data-dimension="beds"][data-state="aandacht"]').waitFor({ timeout: DEADLINE_MS });
  const colourAfter = await beds.evaluate((n) => getComputedStyle(n.querySelector('.badge, [data-state]') || n).backgroundColor);
  assert.notEqual(colourAfter, colourBefore, 'the state colour changed');
  await page.locator('#admin-status').getByText('Bedden vrij: aandacht bij ten hoogste 2 → 4').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#thr-beds_free_critical-error:empty').waitFor({ state: 'attached', timeout: DEADLINE_MS });
  await page.locator('#admin').screenshot({ path: path.join(SCREENSHOTS, 'admin-thresholds-1366.png') });
  assert.deepEqual(errors, []);
});

test('the netwerkfunctionaris adds a location and keeps its 24/7 contacts; a contact checked 20 months ago is flagged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await server(t);
  const old = monthsAgo(20);
  const put = await putContacts(ghor, 'umcg', [
    { role: 'crisiscoordinator', name: 'J. de Vries', phone_24_7: '050 361 0000', verified_on: old },
  ]);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const { page, errors } = await newPage(t, { viewport: DESKTOP });
  await openAs(page, ghor, 'netwerk');

  // The netwerkfunctionaris runs no incidents and sets no thresholds: the registry is its screen.
  await page.locator('#admin-tab-registry[aria-selected="true"]').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator('#admin-tab-incidents').count(), 0);
  assert.equal(await page.locator('#admin-tab-thresholds').count(), 0);
  const umcg = page.locator('#admin-registry tr[data-location="umcg"]');
  await umcg.locator('td.contacts-cell[data-stale="true"]').getByText('Controle nodig').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin-registry tr[data-location="martini"] td.contacts-cell[data-contacts="0"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('.stale-count[data-stale="1"]').waitFor({ timeout: DEADLINE_MS });

  // Add a location of a new organisation, its point picked on the map and typed exact.
  await page.locator('#admin-new-location').click();
  const dialog = page.locator('dialog#admin-dialog');
  await dialog.waitFor({ state: 'visible' });
  await page.locator('#loc-f-name').fill('Verpleeghuis De Linde');
  assert.equal(await page.locator('#loc-f-id').inputValue(), 'verpleeghuis-de-linde');
  await page.locator('#loc-f-organisation').selectOption('');
  await page.locator('#loc-f-org-name').fill('Zorggroep De Linde');
  await page.locator('#loc-f-type').selectOption('verpleeg_verzorgingshuis');
  await page.locator('#loc-f-municipality').fill('Groningen');
  await page.locator('#loc-map .area-map').click();
  await page.waitForFunction(() => document.querySelector('#loc-f-lat').value !== '', null, { timeout: DEADLINE_MS });
  await page.locator('#loc-f-lat').fill('53.2');
  await page.locator('#loc-f-lon').fill('6.6');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-location-form-1920.png') });
  await page.locator('#loc-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  const linde = page.locator('#admin-registry tr[data-location="verpleeghuis-de-linde"]');
  await linde.getByText('Zorggroep De Linde').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#locations tr[data-location="verpleeghuis-de-linde"]').waitFor({ timeout: DEADLINE_MS });
  const registry = await (await fetch(`${ghor.url}/v1/registry/locations`, { headers: { Authorization: `Bearer ${ghor.tokens.netwerk}` } })).json();
  const added = registry.locations.find((l) => l.id === 'verpleeghuis-de-linde');
  assert.deepEqual({ org: added.organisation, type: added.type, municipality: added.municipality, point: added.point },
    { org: 'zorggroep-de-linde', type: 'verpleeg_verzorgingshuis', municipality: 'Groningen', point: { lat: 53.2, lon: 6.6 } });

  // Its contacts: a bad email first (the server's Dutch words on that field), then saved; checked 20 months ago, so flagged.
  await linde.locator('[data-edit-contacts]').click();
  await dialog.waitFor({ state: 'visible' });
  await page.locator('#ct-add').click();
  await page.locator('#ct-0-name').fill('A. Bakker');
  await page.locator('#ct-0-phone_24_7').fill('050 123 4567');
  await page.locator('#ct-0-email').fill('a.bakker at linde');
  await page.locator('#ct-0-verified_on').fill(old);
  await page.locator('#ct-save').click();
  await page.locator('#ct-0-email-error').getByText('Is geen e-mailadres zoals naam@instelling.nl').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#ct-errors').getByText('Contact 1, E-mail (optioneel): Is geen e-mailadres').waitFor({ timeout: DEADLINE_MS });
  await page.locator('fieldset.contact-row[data-stale="true"] .stale-flag').waitFor({ timeout: DEADLINE_MS });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-contacts-error-1920.png') });
  await page.locator('#ct-0-email').fill('a.bakker@linde.example');
  await page.locator('#ct-save').click();
  await dialog.waitFor({ state: 'hidden' });
  await linde.locator('td.contacts-cell[data-stale="true"][data-contacts="1"]').getByText('Controle nodig').waitFor({ timeout: DEADLINE_MS });
  const stored = await (await fetch(`${ghor.url}/v1/registry/locations/verpleeghuis-de-linde/contacts`, { headers: { Authorization: `Bearer ${ghor.tokens.netwerk}` } })).json();
  assert.deepEqual(stored.contacts.map((c) => [c.role, c.name, c.email, c.verified_on]), [['crisiscoordinator', 'A. Bakker', 'a.bakker@linde.example', old]]);
  await page.locator('.stale-count[data-stale="2"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin').screenshot({ path: path.join(SCREENSHOTS, 'admin-registry-1920.png') });

  // Checked today: the flag goes.
  await umcg.locator('[data-edit-contacts]').click();
  await dialog.waitFor({ state: 'visible' });
  await page.locator('[data-verified-today="0"]').click();
  await page.locator('#ct-save').click();
  await dialog.waitFor({ state: 'hidden' });
  await umcg.locator('td.contacts-cell:not([data-stale])[data-contacts="1"]').waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(errors, []);
});

test('on a phone the registry and the contacts fit the screen', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await server(t);
  const put = await putContacts(ghor, 'umcg', [
    { role: 'crisiscoordinator', name: 'J. de Vries', phone_24_7: '050 361 0000', fallback: 'portier 050 361 1111', verified_on: monthsAgo(20) },
  ]);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const { page, errors } = await newPage(t, PHONE);
  await openAs(page, ghor, 'netwerk');
  const umcg = page.locator('#admin-registry tr[data-location="umcg"]');
  await umcg.locator('td.contacts-cell[data-stale="true"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin').scrollIntoViewIfNeeded();
  assert.ok(await overflow(page) <= 0, 'the registry overflows at 390');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-registry-390.png') });
  await umcg.locator('[data-edit-contacts]').click();
  await page.locator('#ct-0-name').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await overflow(page) <= 0, 'the contacts form overflows at 390');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-contacts-390.png') });
  assert.deepEqual(errors, []);
});

test('a ROT token sees none of the Beheer screens and asks for none of their data', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await server(t);
  const { page, errors } = await newPage(t, { viewport: DESKTOP });
  const asked = [];
  page.on('request', (r) => { if (/\/v1\/(registry|oefening)/.test(r.url())) asked.push(r.url()); });
  await openAs(page, ghor, 'rot');
  await page.locator('#locations tr[data-location="umcg"]').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator('#admin').isHidden(), true);
  assert.equal(await page.locator('#admin-tabs [role="tab"]').count(), 0);
  assert.deepEqual(asked, []);
  assert.deepEqual(errors, []);
});

test('the OTO prepares its exercise from the live registry in one step', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await server(t);
  const { page, errors } = await newPage(t, { viewport: LAPTOP });
  await openAs(page, ghor, 'oto');
  await page.locator('#exercise-banner:not([hidden])').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin-tab-exercise').click();
  await page.locator('#oto-count').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#oto-prepare').click();
  const result = page.locator('#oto-result');
  await result.waitFor({ timeout: DEADLINE_MS });
  // Copied: the exercise now holds the live locations, and a second press copies nothing new.
  await page.locator('#oto-count[data-count="2"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#oto-prepare').click();
  await result.getByText(/stonden er al/).waitFor({ timeout: DEADLINE_MS });
  await page.locator('#admin').screenshot({ path: path.join(SCREENSHOTS, 'admin-exercise-1366.png') });
  assert.deepEqual(errors, []);
});
