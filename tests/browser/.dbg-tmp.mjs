import { Ghor, event, DEADLINE_MS, openAs } from './harness.mjs';
import { chromium } from 'playwright-core';
const ghor = await Ghor.start();
try {
  await ghor.registerLocations();
  await ghor.reportBeds('umcg', 20, 10);
  const minute = Math.ceil((Date.now() + 5000) / 60000) * 60000;
  await ghor.until(async () => Date.now() > minute + 200, 120000);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'nl-NL' })).newPage();
  page.on('pageerror', (e) => console.log('pageerror', e));
  await openAs(page, ghor, 'im');
  await page.waitForTimeout(1500);
  const info = () => page.evaluate(() => { const m = document.querySelector('#map .ghor-map'); return { markers: document.querySelectorAll('#map .marker').length, land: document.querySelectorAll('#map path.land').length, zoom: m?.dataset.zoom, center: m?.dataset.center, size: m && [m.clientWidth, m.clientHeight], pts: Object.values(window.ghor.state.past?.regions?.VR01?.locations || {}).map((l) => l.point) }; });
  console.log('live', await info());
  await page.locator('#lookback-toggle').click();
  await page.evaluate((m) => { const s = document.querySelector('#lookback-slider'); s.value = String(m / 60000); s.dispatchEvent(new Event('input')); }, minute);
  await page.waitForTimeout(2500);
  console.log('past', await info());
  await page.locator('#map-section').screenshot({ path: '/tmp/map-past.png' });
  await browser.close();
} finally { await ghor.close(); }
