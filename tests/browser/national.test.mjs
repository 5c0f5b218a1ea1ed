// The national level in a real browser: the national NATS server from deploy/nats/national.conf,
// Groningen's (VR01) from deploy/nats/region.conf with its leaf link to it and its own
// `ghor serve`, and `ghor national --regions VR01,VR02` on the national server, each with a
// PostgreSQL database of its own. Fryslân (VR02) has never linked. A national ROT member
// sees the two regions it is fed by (not all 25), Groningen's report, and Fryslân marked
// in the regions' table and in a banner above everything, in Dutch and in English, on a
// laptop, a phone and the wall screen; an informatiemanager is offered nothing to change.
// Screenshots go to target/screenshots/national-*.png.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BIN, childEnv, running, event, SCREENSHOTS, DEADLINE_MS, useBrowser, overflow, PHONE } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEPLOY = path.resolve(HERE, '../../deploy/nats');
const NATS = process.env.GHOR_NATS_SERVER || 'nats-server';
const DATABASE = process.env.GHOR_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const PASSWORD = 'browser-ghor';
const TEST_TIMEOUT_MS = 180000;
const run = promisify(execFile);
const browser = useBrowser();
const cleanup = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function started(child) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  cleanup.push(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await once(child, 'exit'); } });
  return child;
}

async function until(check, what) {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A NATS server from deploy/nats/`config` with `env`; its client port once healthy. */
async function natsFrom(config, name, env) {
  const [port, monitor] = [await freePort(), await freePort()];
  started(spawn(NATS, ['-c', path.join(DEPLOY, config)], {
    env: { ...process.env, NATS_SERVER_NAME: name, NATS_PORT: String(port), NATS_MONITOR_PORT: String(monitor), ...env },
    stdio: 'ignore',
  }));
  await until(async () => (await fetch(`http://127.0.0.1:${monitor}/healthz`)).ok, `${name} healthy`);
  return port;
}

/** A fresh PostgreSQL database of this test's own. */
async function database(name) {
  const db = `ghor_browser_${name}_${process.pid}_${Date.now()}`;
  await run('psql', [DATABASE, '-qAtc', `CREATE DATABASE ${db}`]);
  cleanup.push(() => run('psql', [DATABASE, '-qAtc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]).catch(() => {}));
  const url = new URL(DATABASE);
  url.pathname = `/${db}`;
  return url.toString();
}

/** `ghor ARGS` on a backbone: its tokens made with `tokens`, then the process started; its URL. */
async function ghor(natsPort, name, args, tokens) {
  const dir = await mkdtemp(path.join(tmpdir(), `ghor-${name}-`));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const backbone = ['--data-dir', dir, '--nats', `nats://ghor:${PASSWORD}@127.0.0.1:${natsPort}`, '--database', await database(name)];
  const made = {};
  for (const [token, ...flags] of tokens) {
    made[token] = (await run(BIN, ['token', 'create', ...flags, '--data-dir', dir, '--database', backbone[5]], { env: childEnv() })).stdout.trim();
  }
  const child = started(spawn(BIN, [...args, '--listen', '127.0.0.1:0', ...backbone], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] }));
  const [line] = await once(readline.createInterface({ input: child.stdout }), 'line');
  const url = /^ghor listening on (\S+)$/.exec(line)[1];
  await until(async () => (await fetch(`${url}/readyz`)).ok, `${name} ready`);
  return { url, tokens: made };
}

async function post(server, token, pathname, body) {
  const res = await fetch(`${server.url}${pathname}`, {
    method: 'POST', headers: { Authorization: `Bearer ${server.tokens[token]}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** The whole setup, once for the file: Groningen linked and reporting, Fryslân never. */
let world = null;
async function national() {
  if (world) return world;
  const leaf = await freePort();
  const common = { GHOR_NATS_PASSWORD: PASSWORD, UMCG_NATS_PASSWORD: 'browser-umcg', NATS_LEAF_PASSWORD: 'browser-leaf' };
  const store = await mkdtemp(path.join(tmpdir(), 'ghor-nats-'));
  cleanup.push(() => rm(store, { recursive: true, force: true }));
  const landelijk = await natsFrom('national.conf', 'landelijk', {
    ...common, NATS_LEAF_PORT: String(leaf), NATS_LEAF_ADVERTISE: `127.0.0.1:${leaf}`, NATS_STORE_DIR: path.join(store, 'n'),
  });
  const vr01 = await natsFrom('region.conf', 'vr01', {
    ...common, NATS_DOMAIN: 'vr01', NATS_NATIONAL_URL: `nats-leaf://leaf:browser-leaf@127.0.0.1:${leaf}`, NATS_STORE_DIR: path.join(store, '1'),
  });
  const groningen = await ghor(vr01, 'groningen', ['serve'], [
    ['netwerk', '--role', 'netwerkfunctionaris', '--name', 'netwerk noord', '--region', 'VR01'],
    ['umcg', '--role', 'institution', '--name', 'UMCG ZIS', '--region', 'VR01', '--organisation', 'umcg'],
  ]);
  const registered = await post(groningen, 'netwerk', '/v1/events/batch', [
    event('/regions/VR01', 'nl.ghor.organisation.registered.v1', 'umcg', { name: 'Organisatie umcg' }),
    event('/locations/umcg', 'nl.ghor.location.registered.v1', null, { name: 'Locatie umcg', organisation: 'umcg', type: 'ziekenhuis', region: 'VR01', point: { lat: 53.222, lon: 6.576 } }),
  ]);
  assert.equal(registered.status, 200, JSON.stringify(registered.body));
  const reported = await post(groningen, 'umcg', '/v1/events', event('/locations/umcg', 'nl.ghor.beds.reported.v1', 'ic', { operational: 40, occupied: 27 }));
  assert.equal(reported.status, 201, JSON.stringify(reported.body));
  const land = await ghor(landelijk, 'landelijk', ['national', '--regions', 'VR01,VR02'], [
    ['rot', '--role', 'rot', '--name', 'LCMS', '--national'],
    ['im', '--role', 'informatiemanager', '--name', 'IM landelijk', '--national'],
  ]);
  world = land;
  return land;
}

async function open(t, land, token, options, query = '?groot=0') {
  const context = await browser().newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam', ...options });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${land.url}/${query}#token=${encodeURIComponent(land.tokens[token])}`);
  return { page, errors };
}

for (const [name, options] of [['1920', { viewport: { width: 1920, height: 1080 } }], ['390', PHONE]]) {
  test(`national at ${name}: the regions it is fed by, Groningen's report, Fryslân marked as not linked, in Dutch and English`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const land = await national();
    const { page, errors } = await open(t, land, 'rot', options);
    const banner = page.locator('#links:not([hidden])');
    await banner.getByText('Nog geen verbinding met Fryslân (VR02).').waitFor({ timeout: DEADLINE_MS });
    assert.ok(!(await banner.textContent()).includes('VR01'), 'Groningen is linked');
    assert.ok((await banner.textContent()).includes('nog niets ontvangen'), 'nothing of Fryslân is shown as it was');
    const box = await banner.boundingBox();
    assert.ok(box.y + box.height <= options.viewport.height, 'the banner is in view without scrolling');
    const regions = await page.locator('#region option').allTextContents();
    assert.deepEqual(regions, ["Alle regio's (2) — landelijk beeld", 'VR01 — Groningen', 'VR02 — Fryslân']);
    await page.selectOption('#region', '*');
    const fryslan = page.locator('#regions-table tr[data-region="VR02"]');
    await fryslan.locator('[data-link-down="VR02"]').getByText('nog geen verbinding').waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.locator('#regions-table tr[data-region="VR01"] [data-link-down]').count(), 0);
    await page.locator('#regions-table tr[data-region="VR01"]').getByText('13 / 40').waitFor({ timeout: DEADLINE_MS });
    assert.ok(await overflow(page) <= 0, `the page is ${await overflow(page)} px too wide`);
    await page.screenshot({ path: path.join(SCREENSHOTS, `national-${name}.png`) });

    await page.locator('#lang').click();
    await banner.getByText('No link to Fryslân (VR02) yet.').waitFor({ timeout: DEADLINE_MS });
    await fryslan.getByText('no link yet').waitFor({ timeout: DEADLINE_MS });
    assert.deepEqual(errors.map(String), []);
  });
}

test('national on the wall screen: the banner above everything, large', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const land = await national();
  const { page, errors } = await open(t, land, 'rot', { viewport: { width: 1920, height: 1080 } }, '?groot=1');
  const banner = page.locator('#links:not([hidden])');
  await banner.getByText('Nog geen verbinding met Fryslân (VR02).').waitFor({ timeout: DEADLINE_MS });
  const box = await banner.boundingBox();
  assert.ok(box.y < 5, `the banner is at the top: ${box.y}`);
  const size = await banner.locator('strong').evaluate((b) => parseFloat(getComputedStyle(b).fontSize));
  assert.ok(size >= 36, `which region, since when: readable from three metres (${size} px)`);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'national-wall.png') });
  assert.deepEqual(errors.map(String), []);
});

test('the national informatiemanager is offered nothing to change: no report form, no acknowledging, no uitvraag, no alarm', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const land = await national();
  const { page, errors } = await open(t, land, 'im', { viewport: { width: 1366, height: 768 } });
  await page.locator('#links:not([hidden])').waitFor({ timeout: DEADLINE_MS });
  await page.selectOption('#region', 'VR01');
  await page.getByText('Locatie umcg').first().waitFor({ timeout: DEADLINE_MS });
  const me = await page.evaluate(() => window.ghor.state.me.may);
  assert.ok(me.includes('read_locations') && !me.includes('report_on_behalf') && !me.includes('acknowledge'), JSON.stringify(me));
  for (const offered of ['Melden namens', 'Nieuwe uitvraag', 'Bevestigen']) {
    assert.equal(await page.getByRole('button', { name: offered }).count(), 0, `no "${offered}"`);
  }
  assert.ok(await page.locator('#alarm').isHidden(), 'no alarm for alerts nobody here may acknowledge');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'national-im-1366.png') });
  assert.deepEqual(errors.map(String), []);
});
