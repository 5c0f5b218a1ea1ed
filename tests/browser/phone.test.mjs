// The institution page and the report form on a phone (issue 10), at 390×844 with touch:
// one location at a time and nothing wider than the screen; the deep link `?melden=` opens
// the checklist form after signing in, and one tap on "Opslaan" stores power cut, backup
// hours and judgement together in ONE request, confirmed beside the button and shown on the
// page once the stream brings it back; a nursing home's form opens on its own dimensions;
// "Niet getroffen" with a critical value asks first and lists it; the wrong token's error
// is Dutch on the Dutch page. Also the page at 1366×768 and 1920×1080.
// Asserts on what people see; waits for conditions, never for time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Ghor, event, SCREENSHOTS, DEADLINE_MS, useBrowser, PHONE, openAs, overflow } from './harness.mjs';

const TEST_TIMEOUT_MS = 120000;

const browser = useBrowser();

/**
 * A fresh server with umcg and martini (hospitals), a second location of umcg (so umcg's
 * page needs its switcher), and the nursing home anker of its own organisation with an
 * institution token; a phone context whose POSTs to /v1/events* are counted.
 */
async function setup(t) {
  const ghor = await Ghor.start();
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  await ghor.registerLocations();
  const events = [
    event('/locations/umcg-beatrix', 'nl.ghor.location.registered.v1', null, {
      name: 'Beatrix Kinderziekenhuis', organisation: 'umcg', type: 'ziekenhuis', region: 'VR01', point: { lat: 53.221, lon: 6.575 } }),
    event('/regions/VR01', 'nl.ghor.organisation.registered.v1', 'anker', { name: 'Zorggroep Anker' }),
    event('/locations/anker', 'nl.ghor.location.registered.v1', null, {
      name: 'De Anker', organisation: 'anker', type: 'verpleeg_verzorgingshuis', region: 'VR01', municipality: 'Groningen', point: { lat: 53.205, lon: 6.6 } }),
  ];
  const { status, body } = await ghor.post('netwerk', '/v1/events/batch', events);
  assert.equal(status, 200, JSON.stringify(body));
  for (const r of body.results) assert.notEqual(r.status, 'rejected', JSON.stringify(r));
  ghor.tokens.anker = (await ghor.cli('token', 'create', '--role', 'institution', '--name', 'Anker coördinator',
    '--region', 'VR01', '--organisation', 'anker')).split('\n').pop();
  const context = await browser().newContext(PHONE);
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/v1/events')) posts.push(r); });
  return { ghor, context, page, pageErrors, posts };
}

/** How far anything in `selector` sticks out of it to the right. */
function overflowIn(page, selector) {
  return page.evaluate((s) => {
    const box = document.querySelector(s);
    return box.scrollWidth - box.clientWidth;
  }, selector);
}

test('the institution page on a phone: one location at a time, open help requests on top, nothing wider than the screen; also at 1366 and 1920', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, context, page, pageErrors } = await setup(t);
  await ghor.reportBeds('umcg', 20, 12);
  await ghor.report('umcg', event('/locations/umcg', 'nl.ghor.help_request.opened.v1', 'hv-aggregaat',
    { category: 'nutsvoorziening', urgency: 'hoog', text: 'Noodaggregaat nodig voor de IC, brandstof voor 6 uur.' }));

  await openAs(page, ghor, 'umcg');
  // One location at a time, with a switcher between the two.
  const card = page.locator('#own-locations article.own-card');
  await card.first().waitFor({ timeout: DEADLINE_MS });
  await page.waitForFunction(() => document.querySelectorAll('#own-locations article.own-card').length === 1, null, { timeout: DEADLINE_MS });
  const switcher = page.locator('#own-location');
  assert.deepEqual((await switcher.locator('option').evaluateAll((o) => o.map((n) => n.value))).sort(), ['umcg', 'umcg-beatrix']);
  await switcher.selectOption('umcg-beatrix');
  await page.locator('#own-locations article[data-location="umcg-beatrix"]').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await card.count(), 1);
  await switcher.selectOption('umcg');
  const umcg = page.locator('#own-locations article[data-location="umcg"]');
  await umcg.locator('tr[data-dimension="beds"]').getByText('8/20').waitFor({ timeout: DEADLINE_MS });

  // The open help request stands above the location.
  const help = page.locator('#own-help article.banner.help[data-help="hv-aggregaat"]');
  await help.getByText('Noodaggregaat nodig').waitFor({ timeout: DEADLINE_MS });
  assert.match(await help.textContent(), /Urgentie: Hoog/);
  assert.ok((await help.boundingBox()).y < (await umcg.boundingBox()).y, 'the help request is above the location');

  // Nothing sticks out, and what is tapped is big enough.
  assert.ok(await overflow(page) <= 0, `the phone page is ${await overflow(page)} px too wide`);
  const small = await page.evaluate(() => [...document.querySelectorAll('#own button, #own select, header.top button')]
    .filter((b) => b.offsetParent !== null && b.getBoundingClientRect().height < 44).map((b) => b.outerHTML.slice(0, 80)));
  assert.deepEqual(small, [], 'touch targets of at least 44 px');
  // The header is one compact band.
  assert.ok((await page.locator('header.top').boundingBox()).height <= 140, 'the header stays compact');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'phone-institution-390.png'), fullPage: true });

  // The help request is updated from its banner: the form opens on it.
  await help.locator('button[data-help-update]').tap();
  const dialog = page.locator('dialog#report');
  await dialog.waitFor({ state: 'visible' });
  const item = dialog.locator('fieldset.report-item[data-dimension="help_request"][data-key="hv-aggregaat"]');
  assert.equal(await item.getAttribute('data-checked'), 'true');
  await dialog.locator('[data-close]').tap();
  await dialog.waitFor({ state: 'hidden' });

  // On a laptop and a desktop screen.
  for (const [width, height] of [[1366, 768], [1920, 1080]]) {
    const wide = await context.browser().newContext({ viewport: { width, height } });
    t.after(() => wide.close());
    const desk = await wide.newPage();
    desk.on('pageerror', (e) => pageErrors.push(e));
    await openAs(desk, ghor, 'umcg');
    await desk.locator('#own-location').selectOption('umcg');
    await desk.locator('#own-locations article[data-location="umcg"] tr[data-dimension="beds"]').waitFor({ timeout: DEADLINE_MS });
    await desk.locator('#own-help article.banner.help').waitFor({ timeout: DEADLINE_MS });
    assert.ok(await overflow(desk) <= 0, `the page is ${await overflow(desk)} px too wide at ${width}`);
    await desk.screenshot({ path: path.join(SCREENSHOTS, `phone-institution-${width}.png`) });
  }
  assert.deepEqual(pageErrors.map(String), []);
});

test('the deep link ?melden= on a phone: signed in, power cut with backup hours and judgement in ONE save, confirmed beside the button', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors, posts } = await setup(t);
  // Opened fresh from a link, without a token: the form comes right after signing in.
  await page.goto(`${ghor.url}/?melden=umcg`);
  await page.locator('#token-input').fill(ghor.tokens.umcg);
  await page.locator('#login-form button[type="submit"]').tap();
  const dialog = page.locator('dialog#report');
  const form = dialog.locator('#report-form');
  await form.waitFor({ timeout: DEADLINE_MS });
  assert.match(await page.locator('#report-title').textContent(), /Status melden — Locatie umcg/);
  // A hospital's checklist: its beds, acute functions and power first.
  const items = await form.locator('fieldset.report-item').evaluateAll((f) => f.map((n) => `${n.dataset.dimension}/${n.dataset.key ?? ''}`));
  assert.deepEqual(items.slice(0, 4), ['beds/ic', 'beds/klinisch', 'acute_function/seh', 'utility/stroom']);
  assert.ok(await overflow(page) <= 0, `the open form is ${await overflow(page)} px too wide`);
  assert.ok(await overflowIn(page, 'dialog#report') <= 0, 'nothing sticks out of the form');

  // Power: cut, on the generator, 6 hours left; and the own judgement.
  const power = form.locator('fieldset.report-item[data-dimension="utility"][data-key="stroom"]');
  await power.locator('.item-head input[type="checkbox"]').tap();
  await power.locator('select[name="status"]').selectOption('uitgevallen');
  await power.locator('input[name="on_backup"]').check();
  await power.locator('input[name="backup_hours_left"]').fill('6');
  const judgement = form.locator('fieldset.report-item[data-dimension="judgement"]');
  await judgement.locator('.item-head input[type="checkbox"]').tap();
  await judgement.locator('select[name="care_next_24h"]').selectOption('met_moeite');
  await judgement.locator('input[name="reason"]').fill('Op noodstroom; brandstof voor 6 uur');
  assert.ok(await overflow(page) <= 0, `the filled form is ${await overflow(page)} px too wide`);

  // The save button stays on the screen wherever the form is scrolled.
  const save = dialog.locator('#report-save');
  assert.match(await save.textContent(), /Alles opslaan \(2\)/);
  const box = await save.boundingBox();
  assert.ok(box.y >= 0 && box.y + box.height <= 844, `the save button is on the screen (y ${box.y})`);
  assert.ok(box.height >= 44, 'the save button is big enough to tap');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'phone-form-390.png') });

  assert.equal(posts.length, 0);
  await save.tap();
  const receipt = dialog.locator('.save-row #report-receipt');
  await receipt.getByText(/^Opgeslagen om \d\d:\d\d: .*Nuts en ICT \(Stroom\)/).waitFor({ timeout: DEADLINE_MS });
  assert.match(await receipt.textContent(), /Eigen oordeel/);
  assert.doesNotMatch(await receipt.textContent(), /volgnummer/);
  assert.equal(posts.length, 1, 'one save is one request');
  assert.equal(new URL(posts[0].url()).pathname, '/v1/events/batch');
  assert.equal(JSON.parse(posts[0].postData()).length, 2);
  // The confirmation is beside the button, on the screen.
  const r = await receipt.boundingBox();
  const s = await save.boundingBox();
  assert.ok(Math.abs(r.y - s.y) < s.height && r.y + r.height <= 844, 'the confirmation stands beside the button');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'phone-form-saved-390.png') });

  // A refusal names its field next to it, in Dutch.
  const domain = await (await fetch(`${ghor.url}/v1/domain`)).json();
  const beds = form.locator('fieldset.report-item[data-dimension="beds"][data-key="ic"]');
  await beds.locator('.item-head input[type="checkbox"]').tap();
  await beds.locator('input[name="operational"]').fill('12');
  await beds.locator('input[name="occupied"]').fill('-3');
  await save.tap();
  await beds.locator('[data-field="occupied"] .field-error').getByText(domain.errors.negative.nl, { exact: true }).waitFor({ timeout: DEADLINE_MS });
  assert.equal(await beds.locator('input[name="occupied"]').getAttribute('aria-invalid'), 'true');
  assert.equal(posts.length, 2);

  // Closed, the page shows what the stream brought back.
  await dialog.locator('[data-close]').tap();
  const row = page.locator('#own-locations article[data-location="umcg"] tr[data-dimension="utility"]');
  await row.getByText('Stroom: Uitgevallen (noodvoorziening, nog 6 u)').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#own-locations article[data-location="umcg"] tr[data-dimension="judgement"]').getByText('Met moeite').waitFor({ timeout: DEADLINE_MS });
  // The page's own confirmation follows the newest save: the refused one, explained in the form.
  assert.match(await page.locator('#own-receipt').textContent(), /Niet opgeslagen: het formulier geeft aan/);
  assert.ok(await overflow(page) <= 0, `the page is ${await overflow(page)} px too wide`);
  assert.deepEqual(pageErrors.map(String), []);
});

test('a nursing home\'s form opens on its own dimensions, "Wijzigen" on Nuts en ICT on power; the IM gets the same form by phone from the detail panel', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, context, page, pageErrors, posts } = await setup(t);
  // The fire alarm was reported last: "Wijzigen" still opens on power.
  await ghor.report('anker', event('/locations/anker', 'nl.ghor.utility.reported.v1', 'stroom', { status: 'normaal' }));
  await ghor.report('anker', event('/locations/anker', 'nl.ghor.utility.reported.v1', 'brandmeldinstallatie', { status: 'normaal' }));

  await openAs(page, ghor, 'anker');
  const card = page.locator('#own-locations article[data-location="anker"]');
  await card.locator('tr[data-dimension="utility"]').waitFor({ timeout: DEADLINE_MS });
  await card.locator('button[data-report="anker"]').tap();
  const dialog = page.locator('dialog#report');
  await dialog.waitFor({ state: 'visible' });
  const items = await dialog.locator('fieldset.report-item').evaluateAll((f) => f.map((n) => `${n.dataset.dimension}/${n.dataset.key ?? ''}`));
  assert.deepEqual(items.slice(0, 7), ['judgement/', 'disbalance/uitval_nutsvoorzieningen', 'beds/vvt_somatisch', 'beds/vvt_pg',
    'utility/stroom', 'self_sufficiency/', 'relocation_need/somatisch']);
  assert.ok(!items.includes('beds/ic'), 'a nursing home has no IC');
  assert.ok(items.includes('utility/brandmeldinstallatie'), 'what it reported before is in the list too');
  // "Iets anders melden": Nuts en ICT offers power first; added, it is ticked and open.
  await dialog.locator('#report-dimension').selectOption('utility');
  assert.equal(await dialog.locator('#report-key').inputValue(), 'stroom');
  await dialog.locator('#report-key').selectOption('water');
  const water = dialog.locator('fieldset.report-item[data-dimension="utility"][data-key="water"][data-checked="true"]');
  await water.locator('select[name="status"]').waitFor();
  assert.ok(await water.locator('select[name="status"]').evaluate((n) => n === document.activeElement), 'the added item has the focus');
  await dialog.locator('[data-close]').tap();

  await card.locator('tr[data-dimension="utility"] button[data-change="utility"]').tap();
  await dialog.waitFor({ state: 'visible' });
  assert.deepEqual(await dialog.locator('fieldset.report-item[data-checked="true"]').evaluateAll((f) => f.map((n) => `${n.dataset.dimension}/${n.dataset.key}`)),
    ['utility/stroom']);
  await dialog.locator('[data-close]').tap();

  // The informatiemanager, by phone, from the detail panel: the same checklist, on the nursing home's behalf.
  const im = await context.newPage();
  im.on('pageerror', (e) => pageErrors.push(e));
  await openAs(im, ghor, 'im');
  await im.locator('#locations button[data-open="anker"]').tap();
  const detail = im.locator('dialog#detail');
  await detail.waitFor({ state: 'visible' });
  await detail.locator('tr[data-dimension="utility"]').first().waitFor({ timeout: DEADLINE_MS });
  assert.ok(await overflowIn(im, 'dialog#detail') <= 0, 'the detail panel fits the phone');
  const d = await detail.boundingBox();
  assert.ok(d.x >= 0 && d.x + d.width <= 390, `the detail panel is on the screen (${d.x}, ${d.width})`);
  await im.screenshot({ path: path.join(SCREENSHOTS, 'phone-detail-390.png') });
  await detail.locator('#detail-report').tap();
  const form = im.locator('dialog#report #report-form');
  await form.waitFor({ timeout: DEADLINE_MS });
  assert.match(await im.locator('#report-title').textContent(), /Melden namens De Anker \(telefoon\)/);
  const imItems = await form.locator('fieldset.report-item').evaluateAll((f) => f.map((n) => `${n.dataset.dimension}/${n.dataset.key ?? ''}`));
  assert.deepEqual(imItems.slice(0, 3), ['judgement/', 'disbalance/uitval_nutsvoorzieningen', 'beds/vvt_somatisch']);
  // One phone call: power, hours, judgement and relocation in one save.
  const imPosts = [];
  im.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/v1/events')) imPosts.push(r); });
  const tickItem = async (dimension, key) => {
    const item = form.locator(`fieldset.report-item[data-dimension="${dimension}"]${key ? `[data-key="${key}"]` : ''}`);
    await item.locator('.item-head input[type="checkbox"]').tap();
    return item;
  };
  const power = await tickItem('utility', 'stroom');
  await power.locator('select[name="status"]').selectOption('uitgevallen');
  await power.locator('input[name="on_backup"]').check();
  await power.locator('input[name="backup_hours_left"]').fill('4');
  const hours = await tickItem('self_sufficiency');
  await hours.locator('input[name="hours"]').fill('4');
  const judgement = await tickItem('judgement');
  await judgement.locator('select[name="care_next_24h"]').selectOption('nee');
  const relocation = await tickItem('relocation_need', 'somatisch');
  await relocation.locator('input[name="lopend"]').fill('10');
  await relocation.locator('input[name="rolstoel"]').fill('6');
  await relocation.locator('input[name="liggend"]').fill('3');
  assert.ok(await overflow(im) <= 0, `the IM's form is ${await overflow(im)} px too wide`);
  await im.screenshot({ path: path.join(SCREENSHOTS, 'phone-form-im-390.png') });
  await im.locator('#report-save').tap();
  await im.locator('#report-receipt').getByText(/^Opgeslagen om \d\d:\d\d/).waitFor({ timeout: DEADLINE_MS });
  assert.equal(imPosts.length, 1, 'one phone call, one save');
  const sent = JSON.parse(imPosts[0].postData());
  assert.equal(sent.length, 4);
  assert.ok(sent.every((e) => e.bron === 'telefoon'), 'reported by phone');
  await card.locator('tr[data-dimension="relocation_need"]').getByText('19 te verplaatsen').waitFor({ timeout: DEADLINE_MS });
  assert.equal(posts.length, 0, 'the nursing home itself sent nothing');
  assert.deepEqual(pageErrors.map(String), []);
});

test('"Niet getroffen" with a critical value asks first, lists it, and withdraws it on request', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors, posts } = await setup(t);
  await ghor.reportBeds('umcg', 20, 20); // no free IC bed: kritiek
  await openAs(page, ghor, 'umcg', '?location=umcg');
  const card = page.locator('#own-locations article[data-location="umcg"]');
  await card.locator('tr[data-dimension="beds"][data-state="kritiek"]').waitFor({ timeout: DEADLINE_MS });

  // Asked first, with the critical value named; cancelling sends nothing.
  await card.locator('button[data-not-affected="umcg"]').tap();
  const confirm = page.locator('dialog#confirm-na');
  await confirm.waitFor({ state: 'visible' });
  const listed = confirm.locator('ul.worrying li[data-dimension="beds"][data-key="ic"]');
  assert.match(await listed.textContent(), /Kritiek.*Bedden \(IC\)/);
  assert.match(await confirm.textContent(), /wordt ingetrokken/);
  assert.match(await confirm.textContent(), /blijven in het beeld staan/);
  assert.ok(await overflowIn(page, 'dialog#confirm-na') <= 0, 'the question fits the phone');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'phone-not-affected-390.png') });
  await confirm.locator('#na-cancel').tap();
  await confirm.waitFor({ state: 'hidden' });
  assert.equal(posts.length, 0, 'cancelled: nothing sent');

  // Withdrawn: one request holds the retraction and "niet getroffen".
  await card.locator('button[data-not-affected="umcg"]').tap();
  await confirm.waitFor({ state: 'visible' });
  await confirm.locator('#na-withdraw').tap();
  await page.locator('#own-receipt').getByText(/Niet getroffen opgeslagen om \d\d:\d\d; 1 waarde ingetrokken/).waitFor({ timeout: DEADLINE_MS });
  assert.equal(posts.length, 1);
  const sent = JSON.parse(posts[0].postData());
  assert.deepEqual(sent.map((e) => e.type), ['nl.ghor.observation.retracted.v1', 'nl.ghor.not_affected.reported.v1']);
  await card.locator('tr[data-dimension="not_affected"]').waitFor({ timeout: DEADLINE_MS });
  await card.locator('tr[data-dimension="beds"] [data-retracted="true"]').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await card.locator('tr[data-state="kritiek"]').count(), 0, 'no longer critical beside not affected');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'phone-not-affected-done-390.png'), fullPage: true });
  assert.deepEqual(pageErrors.map(String), []);
});

test('a wrong token is refused in the page\'s language', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t);
  await page.goto(`${ghor.url}/?melden=umcg`);
  await page.locator('#token-input').fill('ghor_0000000000000000000000000000000000000000000000000000000000000000');
  await page.locator('#login-form button[type="submit"]').tap();
  const error = page.locator('#login-error');
  await error.getByText(/toegangstoken is onbekend, verlopen of ingetrokken/).waitFor({ timeout: DEADLINE_MS });
  assert.doesNotMatch(await error.textContent(), /token is not known|Check that/);
  assert.ok(await overflow(page) <= 0, `the sign-in page is ${await overflow(page)} px too wide`);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'phone-login-error-390.png') });
  // The switch to English words it again.
  await page.locator('#lang').tap();
  await error.getByText(/access token is unknown, expired or revoked/).waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(pageErrors.map(String), []);
});
