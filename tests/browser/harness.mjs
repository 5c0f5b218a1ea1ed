// Shared by the browser tests: a `ghor serve` of a test's own (embedded, SQLite, its own
// data dir, port 0, fault switches on) with the tokens the tests use, and the headless
// Debian Chromium they drive.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.GHOR_BIN ? path.resolve(process.env.GHOR_BIN) : path.resolve(HERE, '../../target/debug/ghor');
export const SCREENSHOTS = path.resolve(HERE, '../../target/screenshots');
const CHROMIUM = process.env.GHOR_CHROMIUM || '/usr/bin/chromium';
/** The longest a server start or a reconnect may take. */
export const DEADLINE_MS = 20000;

const run = promisify(execFile);

/**
 * The child's environment: ours without GHOR_* settings (they would point ghor elsewhere),
 * except GHOR_ASSETS_DIR: a page being worked on, read from disk without a rebuild.
 */
export function childEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('GHOR_') && key !== 'GHOR_ASSETS_DIR') delete env[key];
  return env;
}

/** Every server still running, killed if this process exits early. */
export const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

export function event(source, type, subject, data) {
  const e = { specversion: '1.0', id: randomUUID(), source, type, time: new Date().toISOString(), data };
  if (subject) e.subject = subject;
  return e;
}

/** A `ghor serve` on its own data dir, with the tokens the tests use. */
export class Ghor {
  constructor(dir) {
    this.dir = dir;
    this.tokens = {};
    this.url = null;
    this.child = null;
    this.stderr = '';
  }

  static async start() {
    const ghor = new Ghor(await mkdtemp(path.join(tmpdir(), 'ghor-browser-')));
    ghor.tokens.rot = await ghor.cli('token', 'create', '--role', 'rot', '--name', 'ROT Groningen', '--region', 'VR01');
    ghor.tokens.netwerk = await ghor.cli('token', 'create', '--role', 'netwerkfunctionaris', '--name', 'netwerk noord', '--region', 'VR01');
    ghor.tokens.umcg = await ghor.cli('token', 'create', '--role', 'institution', '--name', 'UMCG ZIS', '--region', 'VR01', '--organisation', 'umcg');
    ghor.tokens.im = await ghor.cli('token', 'create', '--role', 'informatiemanager', '--name', 'IM Groningen', '--region', 'VR01');
    ghor.tokens.keten = await ghor.cli('token', 'create', '--role', 'ketenpartner', '--name', 'Ketenpartner Noord', '--region', 'VR01');
    ghor.tokens.oto = await ghor.cli('token', 'create', '--role', 'oto', '--name', 'OTO noord', '--scope', 'oefening', '--national');
    ghor.tokens.admin = await ghor.cli('token', 'create', '--role', 'admin', '--name', 'beheer', '--region', 'VR01');
    await ghor.launch('127.0.0.1:0');
    return ghor;
  }

  async cli(...args) {
    const { stdout } = await run(BIN, [...args, '--data-dir', this.dir], { env: childEnv() });
    return stdout.trim();
  }

  /** Starts `ghor serve` (with `extra` arguments) and waits for its "ghor listening on URL" line. */
  async launch(listen, ...extra) {
    // The fault switches are on, so a test can break a part on purpose.
    const child = spawn(BIN, ['serve', '--listen', listen, '--data-dir', this.dir, '--fault-injection', ...extra], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { this.stderr = (this.stderr + chunk).slice(-20000); });
    const lines = readline.createInterface({ input: child.stdout });
    this.child = child;
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => line),
      once(child, 'exit').then(([code, signal]) => {
        throw new Error(`ghor serve exited (${code ?? signal}) before listening:\n${this.stderr}`);
      }),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`ghor serve did not start in time:\n${this.stderr}`)), DEADLINE_MS).unref()),
    ]);
    const match = /^ghor listening on (\S+)$/.exec(first);
    assert.ok(match, `unexpected first line of ghor serve: ${first}`);
    this.url = match[1].replace(/\/$/, '');
    this.lines = [];
    this.lineWaiters = [];
    lines.on('line', (line) => { // keep reading stdout so the pipe never fills
      this.lines.push(line);
      for (const w of this.lineWaiters.splice(0)) w();
    });
  }

  /** Waits for a line of stdout matching `re`; resolves to its match. */
  async stdoutLine(re, timeout = DEADLINE_MS) {
    const deadline = Date.now() + timeout;
    for (;;) {
      for (const line of this.lines) { const m = re.exec(line); if (m) return m; }
      if (Date.now() > deadline) throw new Error(`no stdout line matching ${re}:\n${this.lines.join('\n')}\n${this.stderr}`);
      await new Promise((resolve) => { this.lineWaiters.push(resolve); setTimeout(resolve, 500).unref(); });
    }
  }

  get listen() {
    return new URL(this.url).host;
  }

  /** Kills the server (SIGKILL: no goodbye to the page) and waits for it to be gone. */
  async kill(signal = 'SIGKILL') {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = once(child, 'exit');
    child.kill(signal);
    await gone;
  }

  async close() {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  async post(token, pathname, body) {
    const res = await fetch(`${this.url}${pathname}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.tokens[token]}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: json ?? text };
  }

  /** Posts one event as `token` and insists it was accepted; returns the receipt. */
  async report(token, e) {
    const { status, body } = await this.post(token, '/v1/events', e);
    assert.equal(status, 201, JSON.stringify(body));
    return body;
  }

  /** Registers umcg and martini (ziekenhuis, VR01) as the netwerkfunctionaris. */
  async registerLocations() {
    const events = [];
    for (const [id, lat, lon] of [['umcg', 53.222, 6.576], ['martini', 53.199, 6.552]]) {
      events.push(event('/regions/VR01', 'nl.ghor.organisation.registered.v1', id, { name: `Organisatie ${id}` }));
      events.push(event(`/locations/${id}`, 'nl.ghor.location.registered.v1', null, {
        name: `Locatie ${id}`, organisation: id, type: 'ziekenhuis', region: 'VR01', point: { lat, lon },
      }));
    }
    const { status, body } = await this.post('netwerk', '/v1/events/batch', events);
    assert.equal(status, 200, JSON.stringify(body));
    for (const r of body.results) assert.notEqual(r.status, 'rejected', JSON.stringify(r));
    await this.registered(['umcg', 'martini']);
  }

  /** Waits until the picture holds these locations' registrations (a 200 means stored, not yet folded). */
  async registered(ids) {
    await this.until(async () => {
      const { body } = await this.get('netwerk', '/v1/registry/locations');
      return ids.every((id) => (body?.locations || []).some((l) => l.id === id));
    });
  }

  async get(token, pathname) {
    const res = await fetch(`${this.url}${pathname}`, { headers: { Authorization: `Bearer ${this.tokens[token]}` } });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  /** Waits, up to the deadline, until `check` (async) holds. */
  async until(check, timeout = DEADLINE_MS) {
    const deadline = Date.now() + timeout;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`condition not reached in time: ${check}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async put(token, pathname, body) {
    const res = await fetch(`${this.url}${pathname}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${this.tokens[token]}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  /** Reports IC beds for a location as the institution token of umcg. */
  async reportBeds(location, operational, occupied) {
    const e = event(`/locations/${location}`, 'nl.ghor.beds.reported.v1', 'ic', { operational, occupied });
    const { status, body } = await this.post('umcg', '/v1/events', e);
    assert.equal(status, 201, JSON.stringify(body));
    return body;
  }
}

/** Headless Debian Chromium, as every browser test drives it. */
function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** The phone every view is tried on: 390×844, with touch (mobile emulation). */
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/**
 * One headless Chromium for a test file: launched before its tests (with the screenshot
 * folder made), closed after them. Returns how to reach it from a test.
 */
export function useBrowser() {
  let browser = null;
  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await launchBrowser();
  });
  after(async () => { await browser?.close(); });
  return () => browser;
}

/**
 * A fresh server (umcg and martini registered unless `register` is false) and a page in a
 * Dutch browser context made with `contextOptions`, as in a Dutch crisis room (a date-time
 * field follows the browser's locale), collecting the page's errors; all closed when the
 * test ends, with the server's log shown when it failed.
 */
export async function startWithPage(t, browser, { register = true, ...contextOptions } = {}) {
  const ghor = await Ghor.start();
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  if (register) await ghor.registerLocations();
  const context = await browser().newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam', ...contextOptions });
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  return { ghor, context, page, pageErrors };
}

/** Opens the page with one of the server's tokens (and `query`) and waits until it is live. */
export async function openAs(page, ghor, token, query = '') {
  await page.goto(`${ghor.url}/${query}#token=${encodeURIComponent(ghor.tokens[token])}`);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#picture:not([hidden])').waitFor({ timeout: DEADLINE_MS });
}

/** How far the page sticks out to the right of the screen (0 or less: not at all). */
export function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/**
 * Signs in at the provider's development pages as `login` (any password), consenting when
 * asked, and waits until the browser is back at ghor.
 */
export async function signInAtProvider(page, ghor, op, login) {
  await page.waitForURL((u) => u.href.startsWith(`${op.issuer}/interaction/`), { timeout: DEADLINE_MS });
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('welkom01');
  let at = page.url();
  await page.locator('button[type="submit"]').click();
  for (let step = 0; step < 3; step++) {
    const from = at;
    await page.waitForURL((u) => u.href !== from && (u.href.startsWith(`${ghor.url}/`) || u.href.startsWith(`${op.issuer}/interaction/`)),
      { timeout: DEADLINE_MS });
    if (page.url().startsWith(`${ghor.url}/`)) return;
    at = page.url();
    await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: 'attached', timeout: DEADLINE_MS });
    await page.locator('button[type="submit"]').click();
  }
  throw new Error(`not back at ghor: ${page.url()}`);
}
