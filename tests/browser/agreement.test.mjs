// A ketenpartner's page and an institution's agreement (issue 12): before umcg agreed to
// share anything it shows the chain in aggregate alone; once the netwerkfunctionaris has
// recorded that umcg shares its beds with ketenpartners, the open page lists umcg (not
// martini) with its beds and without its staffing, says why, and fits 1366×768 and a phone.
// Withdrawn, the list goes again. Waits for conditions, never for time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Ghor, event, SCREENSHOTS, DEADLINE_MS, useBrowser, PHONE, openAs, overflow } from './harness.mjs';

const browser = useBrowser();

async function agree(ghor, locationLevel) {
  const e = event('/regions/VR01', 'nl.ghor.agreement.recorded.v1', 'umcg', { location_level: locationLevel, reference: 'Convenant 2026' });
  const { status, body } = await ghor.post('netwerk', '/v1/events', e);
  assert.equal(status, 201, JSON.stringify(body));
}

test('a ketenpartner sees what umcg agreed to share, and only that', { timeout: 120000 }, async (t) => {
  const ghor = await Ghor.start();
  t.after(() => ghor.close());
  await ghor.registerLocations();
  await ghor.reportBeds('umcg', 20, 15);
  const martini = event('/locations/martini', 'nl.ghor.beds.reported.v1', 'ic', { operational: 10, occupied: 9 });
  assert.equal((await ghor.post('im', '/v1/events', martini)).status, 201);
  const staffing = event('/locations/umcg', 'nl.ghor.staffing.reported.v1', 'verpleegkundige', { unfilled_shifts_24h: 7, critical: true });
  assert.equal((await ghor.post('umcg', '/v1/events', staffing)).status, 201);

  for (const [name, options] of [['1366', { viewport: { width: 1366, height: 768 } }], ['phone', PHONE]]) {
    const context = await browser().newContext(options);
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await openAs(page, ghor, 'keten');
    assert.ok(await page.locator('#locations-section').isHidden(), `${name}: no locations before any agreement`);

    await agree(ghor, { ketenpartner: ['beds'] });
    const umcg = page.locator('#locations tr[data-location="umcg"]');
    await umcg.waitFor({ timeout: DEADLINE_MS });
    await umcg.locator('td[data-col="beds"]').getByText('IC 5/20 vrij').waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.locator('#locations tr[data-location="martini"]').count(), 0, `${name}: martini agreed nothing`);
    assert.equal(await page.locator('#locations td[data-col="staffing"]').count(), 0, `${name}: no staffing column`);
    assert.match(await page.locator('#role-note').innerText(), /wat hun instelling met u deelt/, `${name}: the page says why`);
    assert.ok(await overflow(page) <= 0, `${name}: nothing wider than the screen`);
    await page.screenshot({ path: path.join(SCREENSHOTS, `agreement-keten-${name}.png`), fullPage: true });

    await agree(ghor, {});
    await page.locator('#locations-section').waitFor({ state: 'hidden', timeout: DEADLINE_MS });
    assert.deepEqual(errors, [], `${name}: no page errors`);
  }
});
