// The warm phase in the browser (issue 9): the informatiemanager asks an area drawn on the
// map, institutions answer (one through the deep link of a notification, on a phone, one
// with "niet getroffen", one not at all), the desk shows who answered and calls the one
// that did not; then a handelingsperspectief is published, read, and shown as read.
// Asserts on what people see; waits for conditions, never for time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Ghor, event, SCREENSHOTS, DEADLINE_MS, useBrowser, PHONE, openAs, overflow } from './harness.mjs';

const TEST_TIMEOUT_MS = 120000;
const DESKTOP = { width: 1920, height: 1080 };

const browser = useBrowser();

/**
 * Three locations around the centre of Groningen (umcg, martini and the nursing home
 * anker, each its own organisation) and one in Delfzijl, 25 km away; an institution
 * token for each of the three, and 24/7 contacts for anker.
 */
async function setupArea(ghor) {
  await ghor.registerLocations(); // umcg and martini, ziekenhuis, VR01
  const events = [];
  for (const [id, type, lat, lon, municipality] of [['anker', 'verpleeg_verzorgingshuis', 53.205, 6.6, 'Groningen'],
    ['delfzijl', 'verpleeg_verzorgingshuis', 53.33, 6.92, 'Delfzijl']]) {
    events.push(event('/regions/VR01', 'nl.ghor.organisation.registered.v1', id, { name: `Organisatie ${id}` }));
    events.push(event(`/locations/${id}`, 'nl.ghor.location.registered.v1', null, {
      name: `Locatie ${id}`, organisation: id, type, region: 'VR01', municipality, point: { lat, lon },
    }));
  }
  const { status, body } = await ghor.post('netwerk', '/v1/events/batch', events);
  assert.equal(status, 200, JSON.stringify(body));
  for (const r of body.results) assert.notEqual(r.status, 'rejected', JSON.stringify(r));
  await ghor.registered(['anker', 'delfzijl']);
  const contacts = { contacts: [{ role: 'crisiscoordinator', name: 'A. Jansen', phone_24_7: '+31 50 123 4567',
    fallback: 'receptie 050 765 4321', verified_on: '2026-10-01' }] };
  assert.equal((await ghor.put('netwerk', '/v1/registry/locations/anker/contacts', contacts)).status, 200);
  for (const org of ['martini', 'anker']) {
    ghor.tokens[org] = (await ghor.cli('token', 'create', '--role', 'institution', '--name', `Instelling ${org}`,
      '--region', 'VR01', '--organisation', org)).split('\n').pop();
  }
}

/** Draws the circle in the desk's form: a click on the map sets the centre, the fields make it exact. */
async function drawCircle(page, lat, lon, km) {
  const map = page.locator('#ask-map .area-map');
  await map.click();
  await page.waitForFunction(() => document.querySelector('#ask-f-lat').value !== '', null, { timeout: DEADLINE_MS });
  await page.locator('#ask-f-lat').fill(String(lat));
  await page.locator('#ask-f-lon').fill(String(lon));
  await page.locator('#ask-f-radius').fill(String(km));
}

test('an uitvraag for a circle: answered through the deep link on a phone, "niet getroffen", one called; a handelingsperspectief read', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await Ghor.start();
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  await setupArea(ghor);
  const desktop = await browser().newContext({ viewport: DESKTOP });
  t.after(() => desktop.close());
  const pageErrors = [];
  const im = await desktop.newPage();
  im.on('pageerror', (e) => pageErrors.push(e));

  // The informatiemanager asks the area within 5 km of the centre of Groningen.
  await openAs(im, ghor, 'im');
  await im.locator('#desk:not([hidden]) #new-uitvraag').click();
  const form = im.locator('dialog#ask');
  await form.waitFor({ state: 'visible' });
  await im.locator('#ask-f-title').fill('Stroomstoring Groningen');
  await im.locator('#ask-f-question').fill('Draait u op noodstroom, en hoeveel IC-bedden zijn vrij?');
  await im.locator('#ask-dim-beds').check();
  await im.locator('#ask-key-beds-ic').check();
  await im.locator('#ask-dim-utility').check();
  await im.locator('#ask-key-utility-stroom').check();
  await drawCircle(im, 53.21, 6.57, 5);
  // Delfzijl lies outside: three locations are asked.
  await form.locator('#ask-preview-count[data-count="3"]').getByText('3 locaties worden bevraagd').waitFor({ timeout: DEADLINE_MS });
  await im.screenshot({ path: path.join(SCREENSHOTS, 'uitvraag-form-1920.png') });
  await im.locator('#ask-submit').click();
  await form.waitFor({ state: 'hidden' });
  const card = im.locator('#ask-list .ask-card').filter({ hasText: 'Stroomstoring Groningen' });
  await card.locator('.answered-of').getByText('0 van 3 beantwoord').waitFor({ timeout: DEADLINE_MS });
  const id = await card.getAttribute('data-uitvraag');
  assert.deepEqual((await card.locator('.addressed-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.location))).sort(),
    ['anker', 'martini', 'umcg']);

  // umcg answers from the link in its notification, opened fresh on a phone without a token.
  const phone = await browser().newContext(PHONE);
  t.after(() => phone.close());
  const umcg = await phone.newPage();
  umcg.on('pageerror', (e) => pageErrors.push(e));
  await umcg.goto(`${ghor.url}/?uitvraag=${id}&location=umcg`);
  await umcg.locator('#token-input').fill(ghor.tokens.umcg);
  await umcg.locator('#login-form button[type="submit"]').click();
  const answer = umcg.locator('dialog#report #answer-form');
  await answer.waitFor({ timeout: DEADLINE_MS });
  assert.match(await umcg.locator('#report-title').textContent(), /Uitvraag beantwoorden/);
  // Exactly what was asked: IC beds and power, nothing else.
  assert.deepEqual(await answer.locator('fieldset.answer-item').evaluateAll((f) => f.map((n) => `${n.dataset.dimension}/${n.dataset.key}`)),
    ['beds/ic', 'utility/stroom']);
  await answer.locator('fieldset[data-dimension="beds"] input[id$="-operational"]').fill('20');
  await answer.locator('fieldset[data-dimension="beds"] input[id$="-occupied"]').fill('12');
  await answer.locator('fieldset[data-dimension="utility"] select[id$="-status"]').selectOption('uitgevallen');
  await answer.locator('fieldset[data-dimension="utility"] input[id$="-on_backup"]').check();
  assert.ok(await overflow(umcg) <= 0, `the phone page is ${await overflow(umcg)} px too wide`);
  await umcg.screenshot({ path: path.join(SCREENSHOTS, 'uitvraag-answer-390.png') });
  await answer.locator('#answer-save').click();
  await umcg.locator('#answer-state').getByText(/Beantwoord om \d\d:\d\d/).waitFor({ timeout: DEADLINE_MS });
  assert.match(await umcg.locator('#report-receipt').textContent(), /Opgeslagen om/);
  await umcg.locator('dialog#report [data-close]').click();
  await umcg.locator(`#own-warm .banner.ask[data-uitvraag="${id}"]`).getByText(/Beantwoord om \d\d:\d\d/).waitFor({ timeout: DEADLINE_MS });
  assert.ok(await overflow(umcg) <= 0, `the phone page is ${await overflow(umcg)} px too wide`);
  await umcg.screenshot({ path: path.join(SCREENSHOTS, 'uitvraag-institution-390.png'), fullPage: true });

  // martini says it is not affected from the banner, in one click.
  const martini = await desktop.newPage();
  martini.on('pageerror', (e) => pageErrors.push(e));
  await openAs(martini, ghor, 'martini');
  const banner = martini.locator(`#own-warm .banner.ask[data-uitvraag="${id}"]`);
  await banner.getByText('Stroomstoring Groningen').waitFor({ timeout: DEADLINE_MS });
  assert.match(await banner.textContent(), /Draait u op noodstroom/);
  assert.match(await banner.textContent(), /Bedden \(IC\)/);
  await banner.locator('button[data-not-affected-uitvraag]').click();
  await banner.getByText(/Niet getroffen gemeld om \d\d:\d\d/).waitFor({ timeout: DEADLINE_MS });

  // anker does nothing. The desk: 2 of 3 answered, anker alone in the call list, with its contact.
  await card.locator('.answered-of').getByText('2 van 3 beantwoord').waitFor({ timeout: DEADLINE_MS });
  assert.match(await card.locator('[data-count="beantwoord"]').textContent(), /1/);
  assert.match(await card.locator('[data-count="niet_getroffen"]').textContent(), /1/);
  const calls = card.locator('#call-list');
  await calls.locator('li.call-item[data-location="anker"]').waitFor({ timeout: DEADLINE_MS });
  await im.waitForFunction(() => document.querySelectorAll('#call-list li.call-item').length === 1, null, { timeout: DEADLINE_MS });
  const anker = calls.locator('li.call-item[data-location="anker"]');
  assert.match(await anker.textContent(), /Crisiscoördinator: A\. Jansen/);
  assert.equal(await anker.locator('a.tel').getAttribute('href'), 'tel:+31501234567');
  assert.match(await anker.textContent(), /receptie 050 765 4321/);
  await card.locator('tr[data-location="umcg"][data-answer="beantwoord"]').waitFor();
  await card.locator('tr[data-location="martini"][data-answer="niet_getroffen"]').waitFor();

  // The informatiemanager calls anker: nobody answers.
  await anker.locator('input[id="call-note-anker"]').fill('Receptie ook niet bereikt');
  await anker.locator('button[data-call-outcome="geen_gehoor"]').click();
  await im.locator('#desk-status').getByText(/Vastgelegd om .*Gebeld, geen gehoor/).waitFor({ timeout: DEADLINE_MS });
  await calls.locator('li.call-item[data-location="anker"] ul.calls-made').getByText(/Gebeld, geen gehoor · IM Groningen · Receptie ook niet bereikt/)
    .waitFor({ timeout: DEADLINE_MS });
  await card.locator('tr[data-location="anker"]').getByText('1 keer').waitFor({ timeout: DEADLINE_MS });
  await im.screenshot({ path: path.join(SCREENSHOTS, 'uitvraag-desk-1920.png'), fullPage: true });

  // A handelingsperspectief for the same circle; martini reads it.
  await im.locator('#new-advice').click();
  await form.waitFor({ state: 'visible' });
  await im.locator('#ask-f-title').fill('Controleer uw noodstroom');
  await im.locator('#ask-f-text').fill('Test het noodaggregaat en controleer de brandstof. Meld uitval direct.');
  await im.locator('#ask-f-urgency').selectOption('hoog');
  await drawCircle(im, 53.21, 6.57, 5);
  await form.locator('#ask-preview-count').getByText('3 locaties krijgen dit handelingsperspectief').waitFor({ timeout: DEADLINE_MS });
  await im.locator('#ask-submit').click();
  await form.waitFor({ state: 'hidden' });
  const advice = im.locator('#advice-list .advice-card').filter({ hasText: 'Controleer uw noodstroom' });
  await advice.locator('.read-of').getByText('0 van 3 gelezen').waitFor({ timeout: DEADLINE_MS });

  const adviceBanner = martini.locator('#own-warm .banner.advice').filter({ hasText: 'Controleer uw noodstroom' });
  await adviceBanner.waitFor({ timeout: DEADLINE_MS });
  assert.match(await adviceBanner.textContent(), /Urgentie: Hoog/);
  await adviceBanner.locator('button[data-read]').click();
  await adviceBanner.locator('.read-at').getByText(/Gelezen om \d\d:\d\d/).waitFor({ timeout: DEADLINE_MS });
  await martini.screenshot({ path: path.join(SCREENSHOTS, 'uitvraag-institution-1920.png'), fullPage: true });

  await advice.locator('.read-of').getByText('1 van 3 gelezen').waitFor({ timeout: DEADLINE_MS });
  const read = advice.locator('tr[data-location="martini"][data-read="true"]');
  await read.waitFor({ timeout: DEADLINE_MS });
  assert.match(await read.textContent(), /✓ \d\d:\d\d · Instelling martini/);
  assert.equal(await advice.locator('tr[data-read="false"]').count(), 2);

  // The desk on a laptop screen: nothing sticks out.
  await im.setViewportSize({ width: 1366, height: 768 });
  await card.scrollIntoViewIfNeeded();
  assert.ok(await overflow(im) <= 0, `the desk is ${await overflow(im)} px too wide at 1366`);
  await im.screenshot({ path: path.join(SCREENSHOTS, 'uitvraag-desk-1366.png') });
  assert.deepEqual(pageErrors.map(String), []);
});
