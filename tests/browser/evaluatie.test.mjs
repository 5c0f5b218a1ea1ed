// The evaluation of an incident from the page, in a real browser (headless Debian Chromium
// against a `ghor serve` of each test's own): an incident scripted at set observation times
// (opened 90 minutes ago at GRIP 1, umcg's IC full at 80 raising an alert, a tipping point at
// 70, GRIP 2 at 60, martini's first report at 45, the disbalance back to zelfredzaam at 40,
// closed at 10). The informatiemanager opens its evaluation from Beheer's closed incidents:
// a new tab with "Evaluatie <name>", the locations by name, umcg's first report 10 minutes
// after the opening and two charts; the PDF (its first two pages turned into images with
// poppler's pdftoppm) and the CSV download through the same control. The bestuur opens it
// from the dashboard's closed incidents and it names no location.
// Screenshots: target/screenshots/evaluatie-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, copyFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { event, SCREENSHOTS, DEADLINE_MS, useBrowser, openAs, overflow, startWithPage } from './harness.mjs';

const TEST_TIMEOUT_MS = 180000;
const MINUTE_MS = 60000;
const INCIDENT = 'stroom-noord';
const NAME = 'Stroomuitval Noord';

const run = promisify(execFile);
const browser = useBrowser();

/** A fresh server with umcg and martini, and a Dutch page that may download. */
const setup = (t, viewport = { width: 1920, height: 1080 }) => startWithPage(t, browser, { viewport, acceptDownloads: true });

/** `e` as observed `minutes` before now, posted by `token`. */
async function postAt(ghor, token, minutes, e) {
  e.time = new Date(Date.now() - minutes * MINUTE_MS).toISOString();
  const { status, body } = await ghor.post(token, '/v1/events', e);
  assert.equal(status, 201, JSON.stringify(body));
  return body;
}

function incident(state, grip) {
  return { name: NAME, state, grip, area: { regions: ['VR01'] } };
}

function beds(location, operational, occupied) {
  const e = event(`/locations/${location}`, 'nl.ghor.beds.reported.v1', 'ic', { operational, occupied });
  if (location !== 'umcg') e.bron = 'telefoon'; // taken by phone by the informatiemanager
  return e;
}

function disbalance(level) {
  return event('/locations/umcg', 'nl.ghor.disbalance.reported.v1', 'uitval_nutsvoorzieningen', { level });
}

/** The evaluation of the incident as `token` gets it over the API: { status, text }. */
async function evaluation(ghor, token, format) {
  const res = await fetch(`${ghor.url}/v1/incidents/${INCIDENT}/evaluation?format=${format}`, {
    headers: { Authorization: `Bearer ${ghor.tokens[token]}` },
  });
  return { status: res.status, text: await res.text() };
}

/**
 * The scripted incident: opened 90 minutes ago at GRIP 1; umcg's IC full at 80 (an alert);
 * a tipping point at 70; GRIP 2 at 60; martini's first report at 45; zelfredzaam at 40;
 * closed at 10. Waits until the evaluation holds the closing.
 */
async function scriptIncident(ghor) {
  const region = (type, data) => event('/regions/VR01', type, INCIDENT, data);
  await postAt(ghor, 'im', 90, region('nl.ghor.incident.opened.v1', incident('actief', 1)));
  await postAt(ghor, 'umcg', 80, beds('umcg', 30, 30));
  await ghor.until(async () => {
    const { body } = await ghor.get('im', '/v1/picture/regions/VR01');
    return Object.values(body?.view?.alerts || {}).some((a) => a.location === 'umcg');
  });
  await postAt(ghor, 'umcg', 70, disbalance('kantelpunt'));
  await postAt(ghor, 'im', 60, region('nl.ghor.incident.updated.v1', incident('actief', 2)));
  await postAt(ghor, 'im', 45, beds('martini', 20, 10));
  await postAt(ghor, 'umcg', 40, disbalance('zelfredzaam'));
  await postAt(ghor, 'im', 10, region('nl.ghor.incident.updated.v1', incident('gesloten', 2)));
  await ghor.until(async () => {
    const { status, text } = await evaluation(ghor, 'im', 'csv');
    return status === 200 && text.includes('gesloten');
  });
}

/** Fails in words when poppler's pdftoppm is not installed (CI installs poppler-utils). */
async function needPoppler() {
  try {
    await run('pdftoppm', ['-v']);
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('pdftoppm is missing: install poppler-utils (apt-get install poppler-utils) to turn the evaluation\'s PDF into images');
  }
}

/** Clicks `button` and returns the tab it opens, once the evaluation is in it. */
async function evaluationTab(page, button) {
  const [tab] = await Promise.all([page.waitForEvent('popup', { timeout: DEADLINE_MS }), button.click()]);
  await tab.waitForURL(/^blob:/, { timeout: DEADLINE_MS });
  await tab.locator('h1').waitFor({ timeout: DEADLINE_MS });
  return tab;
}

/** Clicks `button` and returns the download's file, copied to `target/screenshots/<name>`. */
async function downloaded(page, button, name) {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: DEADLINE_MS }), button.click()]);
  assert.equal(await download.failure(), null);
  const file = path.join(SCREENSHOTS, name);
  await copyFile(await download.path(), file);
  return { file, suggested: download.suggestedFilename() };
}

test('the informatiemanager opens the evaluation of a closed incident from Beheer: the page, its PDF and its CSV', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await needPoppler();
  const { ghor, page, pageErrors } = await setup(t);
  await scriptIncident(ghor);

  await openAs(page, ghor, 'im');
  await page.locator('#admin:not([hidden]) #admin-tab-incidents[aria-selected="true"]').waitFor({ timeout: DEADLINE_MS });
  // Closed: not among the active incidents, but in Beheer's closed ones, unfolded.
  await page.locator('#admin-body button[aria-expanded]').getByText('Afgesloten incidenten (1)').click();
  const item = page.locator(`#admin-closed-incidents li[data-incident="${INCIDENT}"][data-state="gesloten"]`);
  await item.waitFor({ timeout: DEADLINE_MS });
  const control = item.locator(`[data-evaluation="${INCIDENT}"]`);
  assert.equal((await control.locator('.eval-label').innerText()).trim(), 'Evaluatie');
  const open = control.locator('[data-eval-action="html"]');
  assert.equal((await open.innerText()).trim(), 'Openen');
  assert.equal(await open.getAttribute('aria-label'), `Evaluatie van ${NAME}: openen in een nieuw tabblad`);
  await item.scrollIntoViewIfNeeded();
  await page.locator('#admin').screenshot({ path: path.join(SCREENSHOTS, 'evaluatie-beheer-1920.png') });

  // Opened through the control: a new tab with the evaluation.
  const tab = await evaluationTab(page, open);
  const html = await tab.content();
  assert.equal((await tab.locator('h1').innerText()).trim(), `Evaluatie ${NAME}`);
  assert.ok((await tab.title()).includes(NAME), await tab.title());
  const text = await tab.locator('body').innerText();
  for (const name of ['Locatie umcg', 'Locatie martini']) assert.ok(text.includes(name), `${name} is named:\n${text}`);
  // umcg's first report came 10 minutes after the opening.
  // (the row of the table "Locatie · Eerste melding · Na opening" whose first cell is umcg's name)
  const umcgFirst = await tab.evaluate(() => {
    const table = [...document.querySelectorAll('table')].find((tb) => [...tb.querySelectorAll('th')].some((th) => th.textContent.trim() === 'Na opening'));
    const row = table && [...table.querySelectorAll('tr')].find((tr) => tr.querySelector('td')?.textContent.trim() === 'Locatie umcg');
    return row ? row.lastElementChild.textContent.trim() : null;
  });
  assert.equal(umcgFirst, '10 min', `umcg's time to first report:\n${text}`);
  assert.equal(await tab.locator('figure.chart > svg[role="img"]').count(), 2, `two charts (GRIP over time, reporting coverage):\n${html.slice(0, 2000)}`);
  await page.locator(`[data-evaluation="${INCIDENT}"] .eval-status`).filter({ hasText: /^De evaluatie van Stroomuitval Noord is geopend in een nieuw tabblad/ })
    .first().waitFor({ timeout: DEADLINE_MS });

  // The evaluation as a reader sees it: a wide screen (the whole page), a laptop, a phone.
  for (const [name, viewport, fullPage] of [['1920', { width: 1920, height: 1080 }, true], ['1366', { width: 1366, height: 768 }, false],
    ['390', { width: 390, height: 844 }, false]]) {
    await tab.setViewportSize(viewport);
    await tab.evaluate(() => window.scrollTo(0, 0));
    await tab.screenshot({ path: path.join(SCREENSHOTS, `evaluatie-html-${name}.png`), fullPage });
    const sticksOut = await overflow(tab);
    if (sticksOut > 0) t.diagnostic(`the evaluation's HTML sticks out ${sticksOut} px to the right at ${name} px wide`);
  }
  await tab.screenshot({ path: path.join(SCREENSHOTS, 'evaluatie-html-390-full.png'), fullPage: true });
  await tab.close();

  // The PDF, its first two pages as images.
  const pdf = await downloaded(page, control.locator('[data-eval-action="pdf"]'), 'evaluatie.pdf');
  assert.match(pdf.suggested, /^evaluatie-stroom-noord.*\.pdf$/);
  assert.equal((await readFile(pdf.file)).subarray(0, 5).toString('latin1'), '%PDF-');
  for (const old of (await readdir(SCREENSHOTS)).filter((f) => /^evaluatie-pdf-\d+\.png$/.test(f))) await rm(path.join(SCREENSHOTS, old));
  await run('pdftoppm', ['-png', '-r', '80', '-f', '1', '-l', '2', pdf.file, path.join(SCREENSHOTS, 'evaluatie-pdf')]);
  // pdftoppm pads the page number to the width of the last page's ("-01" from ten pages on).
  const pages = (await readdir(SCREENSHOTS)).filter((f) => /^evaluatie-pdf-\d+\.png$/.test(f)).sort();
  assert.equal(pages.length, 2, `pdftoppm made an image of pages 1 and 2: ${pages.join(', ')}`);
  for (const [i, file] of pages.entries()) {
    const want = `evaluatie-pdf-${i + 1}.png`;
    if (file !== want) await copyFile(path.join(SCREENSHOTS, file), path.join(SCREENSHOTS, want)).then(() => rm(path.join(SCREENSHOTS, file)));
    assert.ok((await readFile(path.join(SCREENSHOTS, want))).length > 1000, `${want} is an image`);
  }
  await page.locator(`[data-evaluation="${INCIDENT}"] .eval-status`).filter({ hasText: /^Opgeslagen als evaluatie-stroom-noord.*\.pdf/ })
    .first().waitFor({ timeout: DEADLINE_MS });

  // The CSV: umcg's first report, 10 minutes after the opening.
  const csv = await downloaded(page, control.locator('[data-eval-action="csv"]'), 'evaluatie.csv');
  assert.match(csv.suggested, /^evaluatie-stroom-noord.*\.csv$/);
  const rows = await readFile(csv.file, 'utf8');
  assert.ok(rows.split(/\r?\n/).some((l) => /^first_report,umcg,minutes_after_opening,10(,|$)/.test(l)), rows);

  // The control beside the incident as the page shows it, with what the last action came to.
  await item.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'evaluatie-control-1920.png') });
  for (const [name, viewport] of [['1366', { width: 1366, height: 768 }], ['390', { width: 390, height: 844 }]]) {
    await page.setViewportSize(viewport);
    assert.ok(await overflow(page) <= 0, `the page sticks out sideways at ${name}`);
    await item.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SCREENSHOTS, `evaluatie-control-${name}.png`) });
  }
  assert.deepEqual(pageErrors.map(String), []);
});

test('the bestuur opens the evaluation from the dashboard\'s closed incidents, and it names no location', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, page, pageErrors } = await setup(t, { width: 1366, height: 768 });
  ghor.tokens.bestuur = await ghor.cli('token', 'create', '--role', 'bestuur', '--name', 'Bestuur Groningen', '--region', 'VR01');
  await scriptIncident(ghor);

  await openAs(page, ghor, 'bestuur');
  assert.ok(await page.locator('#admin').isHidden(), 'the bestuur has no Beheer');
  const toggle = page.locator('#closed-incidents-toggle');
  await toggle.filter({ hasText: 'Afgesloten incidenten (1)' }).waitFor({ timeout: DEADLINE_MS });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  const item = page.locator(`#closed-incidents li[data-incident="${INCIDENT}"]`);
  await item.waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator('#closed-incidents-toggle').getAttribute('aria-expanded'), 'true');
  await item.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'evaluatie-bestuur-control-1366.png') });

  const tab = await evaluationTab(page, item.locator('[data-eval-action="html"]'));
  assert.equal((await tab.locator('h1').innerText()).trim(), `Evaluatie ${NAME}`);
  const text = await tab.locator('body').innerText();
  for (const name of ['umcg', 'martini', 'Locatie umcg', 'Organisatie']) assert.ok(!text.includes(name), `the bestuur's evaluation names ${name}:\n${text}`);
  assert.equal(await tab.locator('figure.chart > svg[role="img"]').count(), 2, 'the charts are there');
  await tab.screenshot({ path: path.join(SCREENSHOTS, 'evaluatie-html-bestuur-1366.png'), fullPage: true });
  await tab.close();

  // Its CSV names none either.
  const csv = await downloaded(page, item.locator('[data-eval-action="csv"]'), 'evaluatie-bestuur.csv');
  const rows = await readFile(csv.file, 'utf8');
  assert.ok(!rows.includes('umcg') && !rows.includes('martini') && rows.includes('grip'), rows);
  assert.deepEqual(pageErrors.map(String), []);
});
