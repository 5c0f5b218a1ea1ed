// The beeld (situational report) from the dashboard, in a real browser (headless Debian
// Chromium against a `ghor serve` of each test's own): the informatiemanager issues a beeld
// with a duiding through the form (a duiding the server refuses first, its message at the
// field); the issued beeld opens in a new tab as "Beeld 1" with the duiding on top and the
// region's IC figure as GET /v1/picture/regions/VR01 has it; its PDF downloads (the first
// page read with pdftotext and turned into an image with pdftoppm) and "Kopieer voor LCMS"
// puts its Markdown on the clipboard. Bestuur and ROT get the Beeld control without the
// issuing form, in English too, and in the national view of the region chosen. Looking
// back, the control names the moment and the beeld fetched is of it.
// Screenshots: target/screenshots/beeld-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { event, SCREENSHOTS, DEADLINE_MS, useBrowser, openAs, overflow, startWithPage } from './harness.mjs';

const TEST_TIMEOUT_MS = 180000;
const MINUTE_MS = 60000;
const DUIDING = 'Stroomstoring Groningen-stad: SEH van het UMCG dicht, IC-capaciteit in de regio krap. Patiëntenstroom via Martini.';

const run = promisify(execFile);
const browser = useBrowser();

/** A fresh server with umcg and martini, and a Dutch page that may use the clipboard. */
async function setup(t, viewport = { width: 1920, height: 1080 }) {
  const clipboard = ['clipboard-read', 'clipboard-write'];
  const started = await startWithPage(t, browser, { viewport, permissions: clipboard });
  await started.context.grantPermissions(clipboard, { origin: started.ghor.url });
  return started;
}

/** IC beds of martini, taken by phone by the informatiemanager (umcg's token reports only umcg). */
function martiniBeds(operational, occupied) {
  const e = event('/locations/martini', 'nl.ghor.beds.reported.v1', 'ic', { operational, occupied });
  e.bron = 'telefoon';
  return e;
}

function incidentOpened() {
  return event('/regions/VR01', 'nl.ghor.incident.opened.v1', 'stroomstoring-groningen', {
    name: 'Stroomstoring Groningen', state: 'actief', grip: 2, theme: 'energie',
    area: { regions: ['VR01'], circle: { center: { lat: 53.22, lon: 6.57 }, radius_km: 8 } },
  });
}

/** The region's free IC beds as the API gives the informatiemanager, once the picture holds `expected`. */
async function icFree(ghor, expected) {
  let free = null;
  await ghor.until(async () => {
    const { body } = await ghor.get('im', '/v1/picture/regions/VR01');
    free = body?.view?.totals?.beds?.ic?.free ?? null;
    return free === expected;
  });
  return free;
}

/** Opens the Beeld panel (when closed). */
async function openPanel(page) {
  const toggle = page.locator('#beeld-toggle');
  await toggle.waitFor({ timeout: DEADLINE_MS });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await page.locator('#beeld:not([hidden])').waitFor({ timeout: DEADLINE_MS });
}

/** Clicks `button` and returns the tab it opens, once the beeld is in it. */
async function beeldTab(page, button) {
  const [tab] = await Promise.all([page.waitForEvent('popup', { timeout: DEADLINE_MS }), button.click()]);
  await tab.waitForURL(/^blob:/, { timeout: DEADLINE_MS });
  await tab.locator('h1').waitFor({ timeout: DEADLINE_MS });
  return tab;
}

/** The beeld's facts about itself ("Moment", "Status", …) as label → value. */
function metaOf(tab) {
  return tab.evaluate(() => Object.fromEntries([...document.querySelectorAll('dl.meta dt')]
    .map((dt) => [dt.textContent.trim(), dt.nextElementSibling ? dt.nextElementSibling.textContent.trim() : ''])));
}

/** The value of the beeld's key figure labelled `label`. */
function figure(tab, label) {
  return tab.evaluate((l) => {
    const f = [...document.querySelectorAll('.figure')].find((n) => n.querySelector('.label')?.textContent.trim() === l);
    return f ? f.querySelector('.value').textContent.trim() : null;
  }, label);
}

/** "14:05" of a moment, by the browser's clock. */
function hhmm(page, at) {
  return page.evaluate((ms) => {
    const d = new Date(ms);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }, at);
}

/** Fails in words when poppler's pdftoppm or pdftotext is not installed (CI installs poppler-utils). */
async function needPoppler() {
  for (const tool of ['pdftoppm', 'pdftotext']) {
    try {
      await run(tool, ['-v']);
    } catch (e) {
      if (e.code === 'ENOENT') throw new Error(`${tool} is missing: install poppler-utils (apt-get install poppler-utils) to read the beeld's PDF`);
    }
  }
}

test('the informatiemanager issues a beeld with a duiding: it opens as Beeld 1 with the duiding and the region\'s IC figure; PDF and LCMS copy', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await needPoppler();
  const { ghor, context, page, pageErrors } = await setup(t);
  await ghor.reportBeds('umcg', 20, 17);
  await ghor.report('im', martiniBeds(10, 9));
  await ghor.report('umcg', event('/locations/umcg', 'nl.ghor.acute_function.reported.v1', 'seh', { status: 'stop', reason: 'stroomuitval' }));
  await ghor.report('im', incidentOpened());
  const free = await icFree(ghor, 4);

  await openAs(page, ghor, 'im');
  await page.locator('#incidents li[data-incident="stroomstoring-groningen"]').waitFor({ timeout: DEADLINE_MS });
  await openPanel(page);
  assert.equal((await page.locator('#beeld-what').innerText()).trim(), 'Beeld van nu — Groningen (VR01)');
  assert.equal(await page.locator('#beeld-toggle-text').innerText(), 'Beeld');
  for (const [id, text] of [['#beeld-open', 'Beeld openen'], ['#beeld-pdf', 'PDF downloaden'], ['#beeld-copy', 'Kopieer voor LCMS']]) {
    assert.equal((await page.locator(id).innerText()).trim(), text);
  }
  const form = page.locator('#beeld-form');
  assert.ok(await form.isVisible(), 'the informatiemanager gets the issuing form');
  assert.match(await page.locator('#beeld-issue-moment').innerText(), /^Van nu/);
  // The incident to choose from is the region's active one.
  await page.locator('#beeld-f-incident option[value="stroomstoring-groningen"]').waitFor({ state: 'attached', timeout: DEADLINE_MS });

  // A duiding the server refuses (it looks like it holds a BSN): its message at the field, nothing opens.
  let tabs = 0;
  page.on('popup', () => { tabs++; });
  await page.locator('#beeld-f-summary').fill('Patiënt met BSN 123456782 overgeplaatst.');
  await page.locator('#beeld-issue').click();
  const fieldError = page.locator('#beeld-f-summary-error');
  await fieldError.filter({ hasText: /\S/ }).waitFor({ timeout: DEADLINE_MS });
  assert.match(await fieldError.innerText(), /BSN/);
  assert.equal(await page.locator('#beeld-f-summary').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#beeld-errors').innerText(), /Niet uitgegeven/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'beeld-f-summary', 'focus on the field to correct');
  assert.equal(tabs, 0, 'a refused beeld opens no tab');

  await page.locator('#beeld-f-summary').fill(DUIDING);
  assert.equal(await fieldError.innerText(), '', 'the refusal goes once the duiding is corrected');
  assert.equal(await page.locator('#beeld-f-summary').getAttribute('aria-invalid'), null);
  await page.locator('#beeld-f-incident').selectOption('stroomstoring-groningen');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'beeld-dashboard-form-1920.png') });

  // Issued: the tab opens with the issued beeld.
  const tab = await beeldTab(page, page.locator('#beeld-issue'));
  const meta = await metaOf(tab);
  assert.equal(meta.Status, 'Beeld 1 — uitgegeven door IM Groningen', JSON.stringify(meta));
  assert.equal(meta.Klok, 'zoals toen bekend');
  const body = await tab.locator('body').innerText();
  assert.ok(body.includes(DUIDING), 'the duiding is in the beeld');
  assert.equal(await figure(tab, 'IC-bedden vrij'), String(free), 'the IC figure of the region\'s picture');
  assert.equal(await figure(tab, 'Acute functies gestopt'), '1');
  assert.ok(body.includes('Stroomstoring Groningen'), 'the incident is in the beeld');
  // The duiding comes first in the summary, above the figures.
  assert.ok(await tab.evaluate((d) => {
    const p = [...document.querySelectorAll('section p')].find((n) => n.textContent === d);
    const figures = document.querySelector('.figures');
    return !!p && !!figures && !!(p.compareDocumentPosition(figures) & Node.DOCUMENT_POSITION_FOLLOWING);
  }, DUIDING), 'the duiding stands above the figures');
  // The page says so, and the form is empty for the next one.
  const issued = page.locator('#beeld-issued');
  await issued.waitFor({ timeout: DEADLINE_MS });
  assert.match(await issued.innerText(), /Beeld van .* uitgegeven om \d\d:\d\d:\d\d/);
  await page.locator('#beeld-status').filter({ hasText: 'geopend in een nieuw tabblad' }).waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator('#beeld-f-summary').inputValue(), '');

  // The beeld as a reader sees it: a wide screen, a laptop, a phone.
  for (const [name, viewport] of [['1920', { width: 1920, height: 1080 }], ['1366', { width: 1366, height: 768 }], ['390', { width: 390, height: 844 }]]) {
    await tab.setViewportSize(viewport);
    await tab.evaluate(() => window.scrollTo(0, 0));
    await tab.screenshot({ path: path.join(SCREENSHOTS, `beeld-html-${name}.png`) });
    const sticksOut = await overflow(tab);
    if (sticksOut > 0) t.diagnostic(`the beeld's HTML sticks out ${sticksOut} px to the right at ${name} px wide`);
  }
  await tab.screenshot({ path: path.join(SCREENSHOTS, 'beeld-html-390-full.png'), fullPage: true });
  await tab.setViewportSize({ width: 1366, height: 768 });
  await tab.screenshot({ path: path.join(SCREENSHOTS, 'beeld-html-1366-full.png'), fullPage: true });
  await tab.close();

  // The PDF of exactly that beeld, its first page as an image.
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: DEADLINE_MS }), issued.locator('button', { hasText: 'PDF downloaden' }).click()]);
  assert.equal(await download.failure(), null);
  assert.match(download.suggestedFilename(), /^beeld-VR01-\d{8}-\d{4}\.pdf$/);
  const pdf = path.join(SCREENSHOTS, 'beeld.pdf');
  await copyFile(await download.path(), pdf);
  assert.equal((await readFile(pdf)).subarray(0, 5).toString('latin1'), '%PDF-');
  await run('pdftoppm', ['-png', '-r', '80', '-f', '1', '-l', '1', '-singlefile', pdf, path.join(SCREENSHOTS, 'beeld-pdf-1')]);
  assert.ok((await readFile(path.join(SCREENSHOTS, 'beeld-pdf-1.png'))).length > 1000, 'pdftoppm made an image of page 1');
  const pdfText = (await run('pdftotext', ['-l', '1', pdf, '-'])).stdout.replace(/\s+/g, ' ');
  assert.ok(pdfText.includes('Beeld 1 — uitgegeven door IM Groningen'), pdfText.slice(0, 400));
  assert.ok(pdfText.includes(DUIDING), 'the duiding is in the PDF');
  await page.locator('#beeld-status').filter({ hasText: 'Opgeslagen als beeld-VR01-' }).waitFor({ timeout: DEADLINE_MS });

  // "Kopieer voor LCMS": the Markdown of that beeld on the clipboard, and the page says so.
  await issued.locator('button', { hasText: 'Kopieer voor LCMS' }).click();
  await page.locator('#beeld-status').filter({ hasText: /^Gekopieerd om \d\d:\d\d: het uitgegeven beeld van / }).waitFor({ timeout: DEADLINE_MS });
  const markdown = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(markdown, /^# Beeld Groningen \(VR01\)\n/);
  assert.ok(markdown.includes('Beeld 1 — uitgegeven door IM Groningen'), markdown.slice(0, 400));
  assert.ok(markdown.includes(DUIDING));

  // The dashboard with the control, the receipt and the form, at 1366 and on a phone: nothing sticks out.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'beeld-dashboard-issued-1920.png') });
  for (const [name, viewport] of [['1366', { width: 1366, height: 768 }], ['390', { width: 390, height: 844 }]]) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => window.scrollTo(0, 0));
    assert.ok(await overflow(page) <= 0, `the dashboard sticks out sideways at ${name}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, `beeld-dashboard-${name}.png`) });
  }
  await page.locator('#beeld-form').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'beeld-dashboard-form-390.png') });
  assert.deepEqual(pageErrors.map(String), []);
});

test('bestuur and ROT get the Beeld control but no issuing form; the beeld follows the page\'s language', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, context, page, pageErrors } = await setup(t, { width: 1366, height: 768 });
  ghor.tokens.bestuur = await ghor.cli('token', 'create', '--role', 'bestuur', '--name', 'Bestuur Groningen', '--region', 'VR01');
  await ghor.reportBeds('umcg', 20, 17);

  await openAs(page, ghor, 'bestuur');
  await openPanel(page);
  assert.equal(await page.locator('#beeld-form').count(), 0, 'bestuur may not issue a beeld');
  assert.equal(await page.locator('#beeld-issue').count(), 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'beeld-bestuur-1366.png') });
  const tab = await beeldTab(page, page.locator('#beeld-open'));
  const meta = await metaOf(tab);
  assert.equal(meta.Status, 'Concept: niet uitgegeven');
  assert.equal(await tab.evaluate(() => document.documentElement.lang), 'nl');
  await tab.screenshot({ path: path.join(SCREENSHOTS, 'beeld-html-bestuur-1366.png'), fullPage: true });
  await tab.close();

  // In English: the control's words and the beeld itself.
  await page.locator('#lang').click();
  await page.locator('#beeld-open').filter({ hasText: 'Open beeld' }).waitFor({ timeout: DEADLINE_MS });
  assert.equal((await page.locator('#beeld-copy').innerText()).trim(), 'Copy for LCMS');
  const english = await beeldTab(page, page.locator('#beeld-open'));
  assert.equal(await english.evaluate(() => document.documentElement.lang), 'en');
  assert.match(await english.locator('h1').innerText(), /^Situation report Groningen \(VR01\)$/);
  assert.equal((await metaOf(english)).Status, 'Draft: not issued');
  await english.close();
  await page.locator('#lang').click(); // back to Dutch (the browser remembers the choice for the next page)
  await page.locator('#beeld-open').filter({ hasText: 'Beeld openen' }).waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(pageErrors.map(String), []);

  // ROT: the same control, no form. Of two regions, in the national view, the beeld is of the region chosen in the panel.
  ghor.tokens.rot2 = await ghor.cli('token', 'create', '--role', 'rot', '--name', 'ROT Noord', '--region', 'VR01', '--region', 'VR02');
  const rot = await context.newPage();
  await openAs(rot, ghor, 'rot2');
  await openPanel(rot);
  assert.equal(await rot.locator('#beeld-form').count(), 0, 'ROT may not issue a beeld');
  assert.ok(await rot.locator('#beeld-open').isVisible());
  assert.ok(await rot.locator('#beeld-region').isHidden(), 'one region shown: no region to choose');
  await rot.locator('#region').selectOption('*');
  await rot.locator('#beeld-region').waitFor({ timeout: DEADLINE_MS });
  await rot.locator('#beeld-region').selectOption('VR02');
  await rot.locator('#beeld-what').filter({ hasText: /^Beeld van nu — .*\(VR02\)$/ }).waitFor({ timeout: DEADLINE_MS });
  assert.ok(await overflow(rot) <= 0, 'the national view sticks out sideways');
  await rot.evaluate(() => window.scrollTo(0, 0));
  await rot.screenshot({ path: path.join(SCREENSHOTS, 'beeld-national-1366.png') });
  const vr02 = await beeldTab(rot, rot.locator('#beeld-open'));
  assert.match(await vr02.locator('h1').innerText(), /\(VR02\)$/);
  await vr02.close();
  await rot.close();
});

test('looking back, the Beeld control names the moment, the beeld fetched is of it, and one issued then is of it too', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t, { width: 1366, height: 768 });
  await ghor.reportBeds('umcg', 20, 10);
  await icFree(ghor, 10);
  // The next whole minute after the report, once it has passed: a moment the slider can show.
  const before = Math.ceil((Date.now() + 5000) / MINUTE_MS) * MINUTE_MS;
  await ghor.until(async () => Date.now() > before + 200, 2 * MINUTE_MS);
  await ghor.reportBeds('umcg', 20, 18);
  await icFree(ghor, 2);

  await openAs(page, ghor, 'im');
  await page.locator('#lookback-toggle').click();
  const slider = page.locator('#lookback-slider');
  await slider.focus();
  for (let i = 0; i < 300 && Number(await slider.inputValue()) !== before / MINUTE_MS; i++) {
    await slider.press(Number(await slider.inputValue()) > before / MINUTE_MS ? 'ArrowLeft' : 'ArrowRight');
  }
  await page.waitForFunction((at) => document.querySelector('#lookback-banner')?.dataset.at === String(at)
    && !document.body.classList.contains('lookback-pending'), before, { timeout: DEADLINE_MS });

  const when = await hhmm(page, before);
  const toggleText = await page.locator('#beeld-toggle-text').innerText();
  assert.match(toggleText, /^Beeld van \S+ \d+ \S+ (\d{4} )?\d\d:\d\d$/, toggleText);
  assert.ok(toggleText.endsWith(when), `the control names the moment: ${toggleText}`);
  await openPanel(page);
  const what = await page.locator('#beeld-what').innerText();
  assert.ok(what.includes(when) && what.includes('(zoals toen bekend)'), what);
  assert.ok((await page.locator('#beeld-issue-moment').innerText()).includes(when), 'issuing would be of that moment');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'beeld-lookback-1366.png') });

  // The beeld asked for is of that moment and clock, and says so; its IC figure is of then.
  const [request, tab] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('/beeld?'), { timeout: DEADLINE_MS }),
    beeldTab(page, page.locator('#beeld-open')),
  ]);
  const query = new URL(request.url()).searchParams;
  assert.equal(Date.parse(query.get('at')), before);
  assert.equal(query.get('clock'), 'known');
  assert.equal(query.get('format'), 'html');
  const meta = await metaOf(tab);
  assert.ok(meta.Moment.endsWith(when), `the beeld's moment: ${meta.Moment}`);
  assert.ok(meta.Moment.includes(` ${new Date(before).toLocaleString('nl-NL', { day: 'numeric', timeZone: 'Europe/Amsterdam' })} `), meta.Moment);
  assert.equal(meta.Klok, 'zoals toen bekend');
  assert.equal(meta.Status, 'Concept: niet uitgegeven');
  assert.equal(await figure(tab, 'IC-bedden vrij'), '10', 'the IC figure of then, not of now (2)');
  await tab.close();

  // Issued while looking back, the beeld is of that moment.
  await page.locator('#beeld-f-summary').fill('Terugblik: zo stond het er toen voor.');
  const issuedTab = await beeldTab(page, page.locator('#beeld-issue'));
  const issuedMeta = await metaOf(issuedTab);
  assert.equal(issuedMeta.Status, 'Beeld 1 — uitgegeven door IM Groningen', JSON.stringify(issuedMeta));
  assert.equal(issuedMeta.Moment, meta.Moment);
  assert.equal(await figure(issuedTab, 'IC-bedden vrij'), '10');
  await issuedTab.close();
  assert.ok((await page.locator('#beeld-issued').innerText()).includes(`${when} uitgegeven om`));

  // On a phone the control and the panel fit.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  assert.ok(await overflow(page) <= 0, 'the page sticks out sideways on a phone while looking back');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'beeld-lookback-390.png') });
  assert.deepEqual(pageErrors.map(String), []);
});
