// The map (issue 10) in the browser, at 1920×1080, 1366×768 and on a phone: zoom by button,
// wheel and keys changes the scale and brings municipality names; five locations close
// together in Groningen are one cluster until zoomed in; a marker opens the detail panel;
// the region's boundary and an incident's area are drawn with its name and GRIP; a live
// update leaves the user's view alone; a ketenpartner sees region and area, not a dot;
// nothing is fetched from anywhere but the server. Waits for conditions, never for time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Ghor, event, SCREENSHOTS, DEADLINE_MS, useBrowser, PHONE, overflow } from './harness.mjs';

const TEST_TIMEOUT_MS = 120000;
const DESKTOP = { viewport: { width: 1920, height: 1080 } };
const LAPTOP = { viewport: { width: 1366, height: 768 } };
/** Five locations within 3 km in the city of Groningen, and three elsewhere in the region. */
const CITY = ['umcg', 'martini', 'anker', 'lentis', 'dignis'];
const LOCATIONS = [
  ['anker', 53.205, 6.600], ['lentis', 53.214, 6.590], ['dignis', 53.231, 6.560],
  ['delfzijl', 53.330, 6.920], ['stadskanaal', 52.990, 6.950], ['winschoten', 53.143, 7.035],
];

const browser = useBrowser();

/** A server with the eight locations and an active incident: a circle of 4 km around the city. */
async function setup(t) {
  const ghor = await Ghor.start();
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  await ghor.registerLocations(); // umcg and martini
  const events = [];
  for (const [id, lat, lon] of LOCATIONS) {
    events.push(event('/regions/VR01', 'nl.ghor.organisation.registered.v1', id, { name: `Organisatie ${id}` }));
    events.push(event(`/locations/${id}`, 'nl.ghor.location.registered.v1', null, {
      name: `Locatie ${id}`, organisation: id, type: 'verpleeg_verzorgingshuis', region: 'VR01', point: { lat, lon },
    }));
  }
  const { status, body } = await ghor.post('netwerk', '/v1/events/batch', events);
  assert.equal(status, 200, JSON.stringify(body));
  for (const r of body.results) assert.notEqual(r.status, 'rejected', JSON.stringify(r));
  const incident = event('/regions/VR01', 'nl.ghor.incident.opened.v1', 'brand-groningen', {
    name: 'Brand Groningen', state: 'actief', grip: 1, theme: 'brand_kwetsbaar_gebouw',
    area: { circle: { center: { lat: 53.215, lon: 6.575 }, radius_km: 4 } },
  });
  const opened = await ghor.post('im', '/v1/events', incident);
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  return ghor;
}

/**
 * A page that records every request and error. The requests must all go to the server's
 * origin: the map works offline (no tiles, fonts or scripts from elsewhere).
 */
async function newPage(t, ghor, options) {
  const context = await browser().newContext(options);
  const page = await context.newPage();
  t.after(async () => {
    if (t.passed === false) await page.screenshot({ path: path.join(SCREENSHOTS, `map-failed-${options.viewport.width}.png`) }).catch(() => {});
    await context.close();
  });
  const errors = [];
  const foreign = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith('data:') && new URL(r.url()).origin !== ghor.url) foreign.push(r.url()); });
  return { page, errors, foreign };
}

async function openAs(page, ghor, token) {
  await page.goto(`${ghor.url}/#token=${encodeURIComponent(ghor.tokens[token])}`);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#map .ghor-map path.land').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#map path.region-boundary.selected').first().waitFor({ timeout: DEADLINE_MS });
}

/** The map's view as it tells it: zoom level, centre and the scale bar's text. */
function view(page) {
  return page.evaluate(() => {
    const map = document.querySelector('#map .ghor-map');
    return { zoom: Number(map.dataset.zoom), center: map.dataset.center, scale: map.querySelector('.leaflet-control-scale-line').textContent };
  });
}

/** The labels of a kind that a user sees now: shown, not given way to another, inside the map. */
function visibleLabels(page, kind) {
  return page.evaluate((k) => {
    const box = document.querySelector('#map .ghor-map').getBoundingClientRect();
    return [...document.querySelectorAll(`#map .${k}`)].filter((n) => {
      const r = n.getBoundingClientRect();
      return r.width > 0 && getComputedStyle(n).visibility !== 'hidden'
        && r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
    }).map((n) => n.textContent);
  }, kind);
}

/** Waits until the map has settled at another zoom than `before`. */
async function zoomedFrom(page, before) {
  await page.waitForFunction((z) => Number(document.querySelector('#map .ghor-map').dataset.zoom) !== z, before, { timeout: DEADLINE_MS });
  await page.waitForFunction(() => !document.querySelector('#map .leaflet-zoom-anim, #map .leaflet-cluster-anim'), null, { timeout: DEADLINE_MS });
  // The labels are placed in the frame after the move ends.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return view(page);
}

/** The centre of a cluster inside the map's view (Leaflet keeps some just outside it), or null. */
function clusterInView(page) {
  return page.evaluate(() => {
    const box = document.querySelector('#map .ghor-map').getBoundingClientRect();
    for (const c of document.querySelectorAll('#map .marker-cluster-ghor')) {
      const r = c.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      if (x > box.left + 50 && x < box.right - 10 && y > box.top + 10 && y < box.bottom - 30) return { x, y };
    }
    return null;
  });
}

test('desktop: boundaries, the incident area, clusters that split when zoomed, a marker opens the detail, live updates keep the view', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await setup(t);
  const { page, errors, foreign } = await newPage(t, ghor, DESKTOP);
  await openAs(page, ghor, 'rot');
  const map = page.locator('#map .ghor-map');

  // The incident's circle with its name and GRIP; the region's boundary emphasised.
  await map.locator('path.incident-area[data-incident="brand-groningen"]').waitFor({ timeout: DEADLINE_MS });
  await map.locator('.area-label').getByText('Brand Groningen · GRIP 1').first().waitFor();
  assert.equal(await map.locator('path.region-boundary.selected').count(), 1);
  assert.ok(await map.locator('path.region-boundary:not(.selected)').count() >= 20, 'the other regions are drawn too');
  assert.match(await map.locator('.leaflet-control-attribution').textContent(), /CBS, PDOK.*Natural Earth.*Leaflet/);
  assert.ok(await map.locator('.leaflet-control-scale-line').isVisible());

  // Framed to the region's locations: the five in the city within clusters, the others apart.
  for (const id of ['delfzijl', 'stadskanaal', 'winschoten']) await map.locator(`.marker[data-location="${id}"]`).waitFor({ timeout: DEADLINE_MS });
  for (const id of CITY) assert.equal(await map.locator(`.marker[data-location="${id}"]`).count(), 0, `${id} is in a cluster`);
  const counts = await map.locator('.marker-cluster-ghor').evaluateAll((nodes) => nodes.map((n) => Number(n.dataset.count)));
  assert.equal(counts.reduce((a, b) => a + b, 0), CITY.length, `clusters of ${counts}`);
  const framed = await view(page);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'map-1920-page.png') });

  // Zoomed out towards the country: one cluster of five, region names, no municipality names.
  for (let now = framed; now.zoom > 8;) {
    await map.locator('.leaflet-control-zoom-out').click();
    now = await zoomedFrom(page, now.zoom);
  }
  const cluster = map.locator('.marker-cluster-ghor[data-count="5"]');
  await cluster.waitFor({ timeout: DEADLINE_MS });
  assert.equal(await cluster.getAttribute('data-state'), 'onbekend');
  assert.match(await cluster.getAttribute('aria-label'), /5 locaties dicht bij elkaar/);
  // A critical report makes the cluster critical: the worst state shows on it.
  await ghor.reportBeds('umcg', 20, 20);
  await map.locator('.marker-cluster-ghor[data-count="5"][data-state="kritiek"]').waitFor({ timeout: DEADLINE_MS });
  const country = await view(page);
  assert.notEqual(country.scale, framed.scale);
  assert.deepEqual(await visibleLabels(page, 'municipality-label'), []);
  const regions = await visibleLabels(page, 'region-label');
  assert.ok(regions.length >= 3, `region names at low zoom: ${regions}`);

  // The wheel over the city zooms in: the scale changes, municipality names appear.
  const box = await cluster.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  let now = country;
  while (now.zoom < 9) {
    await page.mouse.wheel(0, -100);
    now = await zoomedFrom(page, now.zoom);
  }
  assert.notEqual(now.scale, country.scale);
  const names = await visibleLabels(page, 'municipality-label');
  assert.ok(names.length >= 2, `municipality names shown: ${names.join(', ')}`);

  // A click on a cluster zooms in to its locations, until they stand apart.
  for (let clicks = 0, at; (at = await clusterInView(page)); clicks += 1) {
    assert.ok(clicks < 4, 'clusters split when zoomed in');
    const before = (await view(page)).zoom;
    await page.mouse.click(at.x, at.y);
    await zoomedFrom(page, before);
  }
  for (const id of CITY) await map.locator(`.marker[data-location="${id}"]`).waitFor({ timeout: DEADLINE_MS });
  assert.equal(await map.locator('.marker[data-location="umcg"]').getAttribute('data-state'), 'kritiek');
  await page.locator('#map-section').screenshot({ path: path.join(SCREENSHOTS, 'map-1920-zoomed.png') });

  // The marker opens the location's detail panel.
  await map.locator('.marker[data-location="martini"]').click();
  const detail = page.locator('dialog#detail');
  await detail.waitFor({ state: 'visible', timeout: DEADLINE_MS });
  assert.match(await page.locator('#detail-title').textContent(), /Locatie martini/);
  await detail.locator('[data-close]').click();
  await detail.waitFor({ state: 'hidden' });

  // A live update (umcg has beds again) changes its marker and leaves the view where the user put it.
  const mine = await view(page);
  await ghor.reportBeds('umcg', 20, 5);
  await map.locator('.marker[data-location="umcg"]:not([data-state="kritiek"])').waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(await view(page), mine, 'the view did not move');

  await page.locator('#map-section').screenshot({ path: path.join(SCREENSHOTS, 'map-1920.png') });
  assert.deepEqual(foreign, [], 'requests to other origins');
  assert.deepEqual(errors, []);
});

test('laptop: zoomed in by the wheel a location shows its name; the map is reached and moved by keys and follows its container', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await setup(t);
  const { page, errors, foreign } = await newPage(t, ghor, LAPTOP);
  await openAs(page, ghor, 'rot');
  const map = page.locator('#map .ghor-map');
  await map.locator('.marker-cluster-ghor').first().waitFor({ timeout: DEADLINE_MS });
  const marker = map.locator('.marker[data-location="delfzijl"]');

  // Close in on Delfzijl with the wheel: its name beside its marker.
  await map.scrollIntoViewIfNeeded();
  for (let now = await view(page); now.zoom < 12;) {
    const b = await marker.boundingBox();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
    await page.mouse.wheel(0, -300);
    now = await zoomedFrom(page, now.zoom);
  }
  assert.deepEqual(await visibleLabels(page, 'location-label'), ['Locatie delfzijl']);

  // Keys: + zooms in, an arrow pans.
  await map.focus();
  const start = await view(page);
  await page.keyboard.press('+');
  const zoomed = await zoomedFrom(page, start.zoom);
  assert.ok(zoomed.zoom > start.zoom);
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((c) => document.querySelector('#map .ghor-map').dataset.center !== c, zoomed.center, { timeout: DEADLINE_MS });
  // Markers are buttons in the tab order.
  assert.equal(await marker.getAttribute('tabindex'), '0');
  assert.equal(await marker.getAttribute('role'), 'button');

  // The map follows its container (as in big-screen mode): wider container, wider map.
  const width = (await map.boundingBox()).width;
  await page.setViewportSize({ width: 1100, height: 768 });
  await page.waitForFunction((w) => document.querySelector('#map .ghor-map').getBoundingClientRect().width !== w, width, { timeout: DEADLINE_MS });
  await page.setViewportSize(LAPTOP.viewport);
  // Leaflet was told: its drawing (half a map's margin each side) spans the new width.
  await page.waitForFunction(() => {
    const m = document.querySelector('#map .ghor-map');
    const drawing = m.querySelector('.leaflet-base-pane svg');
    return drawing && Math.abs(drawing.getBoundingClientRect().width - 2 * m.clientWidth) < 4;
  }, null, { timeout: DEADLINE_MS });
  assert.ok(await overflow(page) <= 0, `the page is ${await overflow(page)} px too wide at 1366`);

  await page.screenshot({ path: path.join(SCREENSHOTS, 'map-1366.png') });
  assert.deepEqual(foreign, [], 'requests to other origins');
  assert.deepEqual(errors, []);
});

test('phone: the map fits the screen; a ketenpartner sees the region and the incident area, not a dot', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ghor = await setup(t);
  const { page, errors, foreign } = await newPage(t, ghor, PHONE);
  await openAs(page, ghor, 'rot');
  await page.locator('#map .marker-cluster-ghor').first().waitFor({ timeout: DEADLINE_MS });
  await page.locator('#map-section').scrollIntoViewIfNeeded();
  assert.ok(await overflow(page) <= 0, `the phone page is ${await overflow(page)} px too wide`);
  const box = await page.locator('#map .ghor-map').boundingBox();
  assert.ok(box.width <= 390 && box.height >= 250, `map of ${box.width}×${box.height}`);
  await page.locator('#map-section').screenshot({ path: path.join(SCREENSHOTS, 'map-390.png') });

  const keten = await newPage(t, ghor, PHONE);
  await openAs(keten.page, ghor, 'keten');
  const map = keten.page.locator('#map .ghor-map');
  await map.locator('path.incident-area[data-incident="brand-groningen"]').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await map.locator('.marker, .marker-cluster-ghor').count(), 0, 'no locations for a ketenpartner');
  // Framed to the region: closer than the whole country, and the region's name is on it.
  await keten.page.waitForFunction(() => Number(document.querySelector('#map .ghor-map').dataset.zoom) >= 7.5, null, { timeout: DEADLINE_MS });
  await map.locator('.area-label').getByText('Brand Groningen · GRIP 1').first().waitFor();
  assert.match(await keten.page.locator('#map .map-note').textContent(), /geen locaties/);
  await keten.page.locator('#map-section').scrollIntoViewIfNeeded();
  assert.ok(await overflow(keten.page) <= 0, `the phone page is ${await overflow(keten.page)} px too wide`);
  await keten.page.locator('#map-section').screenshot({ path: path.join(SCREENSHOTS, 'map-keten-390.png') });
  assert.deepEqual([...foreign, ...keten.foreign], [], 'requests to other origins');
  assert.deepEqual([...errors, ...keten.errors], []);
});
