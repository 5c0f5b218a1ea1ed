// Real-browser tests of signing in with the organisation account (OpenID Connect, code flow
// with PKCE) against a real OpenID provider (oidc_provider.mjs: oidc-provider with its
// development login and consent pages): the sign-in form offers the button first and the
// token below it; signed in, the page works on the HttpOnly session cookie with the CSRF
// header on every change (a change without it is refused), the stream included; signing
// out ends the session on the server; an account without ghor's claims, a cancelled
// sign-in and a stale callback come back to the sign-in form with a message in Dutch and
// English. Waits for conditions, never for time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Ghor, SCREENSHOTS, DEADLINE_MS, useBrowser, PHONE, overflow, signInAtProvider } from './harness.mjs';
import { startProvider } from './oidc_provider.mjs';

const TEST_TIMEOUT_MS = 120000;
const LAPTOP = { width: 1366, height: 768 };
const CLIENT_ID = 'ghor-browser-test';

const browser = useBrowser();

/** A port free on loopback now: the redirect URI names it before ghor listens on it. */
async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An OpenID provider and a ghor signing in with it (on a port chosen first), closed when the test ends. */
async function servers(t, ...extra) {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const secret = randomBytes(24).toString('base64url');
  const op = await startProvider({ clientId: CLIENT_ID, clientSecret: secret, redirectUri: `${publicUrl}/auth/callback` });
  t.after(() => op.close());
  const ghor = new Ghor(await mkdtemp(path.join(tmpdir(), 'ghor-browser-oidc-')));
  t.after(() => ghor.close());
  t.after(() => { if (t.passed === false && ghor.stderr) t.diagnostic(`ghor stderr:\n${ghor.stderr}`); });
  await ghor.launch(`127.0.0.1:${port}`, '--public-url', publicUrl,
    '--oidc-issuer', op.issuer, '--oidc-client-id', CLIENT_ID, `--oidc-client-secret=${secret}`, ...extra);
  assert.equal(ghor.url, publicUrl);
  return { ghor, op };
}

/** A page of its own context (closed with the test); its errors and its requests to ghor are collected. */
async function newPage(t, ghor, options) {
  const context = await browser().newContext(options);
  t.after(() => context.close());
  // Nothing leaves the machine (the provider's development pages import a web font).
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const requests = [];
  page.on('request', (r) => { if (r.url().startsWith(`${ghor.url}/`)) requests.push(r); });
  return { context, page, errors, requests };
}


/** The sign-in form as it first shows with the provider configured: the button first, the token below. */
async function signInForm(page) {
  const button = page.locator('#login:not([hidden]) #oidc-login');
  await button.waitFor({ timeout: DEADLINE_MS });
  return button;
}

/** `/v1/me` asked with nothing but this session cookie. */
async function meWithCookie(ghor, cookie) {
  const res = await fetch(`${ghor.url}/v1/me`, { headers: { cookie: `ghor_session=${cookie}` } });
  return res.status;
}

test('signing in with the organisation account: Rita ROT works on the session cookie with the CSRF header, and signs out', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, op } = await servers(t);
  const auth = await (await fetch(`${ghor.url}/v1/auth`)).json();
  assert.deepEqual(auth, { oidc: { login: '/auth/login' } });
  const { context, page, errors, requests } = await newPage(t, ghor, { viewport: LAPTOP });

  // A fresh tab at an address with a query: the button first, the token form below it.
  await page.goto(`${ghor.url}/?groot=0`);
  const button = await signInForm(page);
  assert.equal((await button.textContent()).trim(), 'Aanmelden met uw organisatie-account');
  assert.equal(await button.getAttribute('href'), `/auth/login?next=${encodeURIComponent('/?groot=0')}`);
  assert.equal((await page.locator('#login-or').textContent()).trim(), 'Of plak een toegangstoken');
  assert.ok(await page.locator('#token-input').isVisible(), 'the token form stays');
  const buttonBox = await button.boundingBox();
  const tokenBox = await page.locator('#token-input').boundingBox();
  assert.ok(buttonBox.y < tokenBox.y, 'the button comes before the token form');

  await button.click();
  await signInAtProvider(page, ghor, op, 'rot-user');

  // Back where the user started, signed in as Rita ROT (rot) over her three regions.
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  await page.locator('#picture:not([hidden])').waitFor({ timeout: DEADLINE_MS });
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/?groot=0');
  assert.equal(new URL(page.url()).hash, '');
  const domain = await (await fetch(`${ghor.url}/v1/domain`)).json();
  const rotLabel = domain.vocabularies.Role.rot.nl;
  await page.waitForFunction(() => document.getElementById('actor').textContent !== '', null, { timeout: DEADLINE_MS });
  assert.equal(await page.locator('#actor').textContent(), `Rita ROT · ${rotLabel}`, 'the name of the `name` claim, and the role');
  assert.deepEqual(await page.locator('#region option').evaluateAll((o) => o.map((n) => n.value).filter((v) => v !== '*')), ['VR01', 'VR02', 'VR03']);
  assert.ok(await page.locator('#login').isHidden());
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ghor.token')), null, 'no token in the page');

  // The session cookie is out of the page's reach; the CSRF cookie is for the page to read.
  const cookies = Object.fromEntries((await context.cookies(ghor.url)).map((c) => [c.name, c]));
  assert.ok(cookies.ghor_session, 'a session cookie');
  assert.equal(cookies.ghor_session.httpOnly, true);
  assert.equal(cookies.ghor_session.sameSite, 'Strict');
  assert.equal(cookies.ghor_session.path, '/');
  assert.ok(cookies.ghor_csrf, 'a CSRF cookie');
  assert.equal(cookies.ghor_csrf.httpOnly, false);
  assert.equal(cookies.ghor_csrf.sameSite, 'Strict');
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('ghor_session'), 'the page cannot read the session cookie');
  const session = cookies.ghor_session.value;
  assert.equal(await meWithCookie(ghor, session), 200);

  // A change sent from the page without the CSRF header is refused; reading needs none.
  const forged = await page.evaluate(async () => {
    const res = await fetch('/v1/tokens', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'rot', name: 'vervalst', regions: ['VR01'] }) });
    return { status: res.status, body: await res.json().catch(() => null) };
  });
  assert.equal(forged.status, 403, JSON.stringify(forged.body));
  assert.match(String(forged.body && forged.body.type), /\/csrf$/, JSON.stringify(forged.body));
  assert.equal(await page.evaluate(() => fetch('/v1/me').then((r) => r.status)), 200);

  // The page's own changes carry it: a subscription added and deleted.
  await page.locator('#subscriptions:not([hidden]) #subscription-list li.note').waitFor({ timeout: DEADLINE_MS });
  await page.selectOption('#subscription-kind', 'seh_stop');
  await page.fill('#subscription-email', 'rita@ghor.test');
  await page.click('#subscription-form button[type="submit"]');
  const line = page.locator('#subscription-list li.subscription');
  await line.getByText(/rita@ghor\.test/).waitFor({ timeout: DEADLINE_MS });
  await line.getByRole('button').click();
  await page.locator('#subscription-list li.note').waitFor({ timeout: DEADLINE_MS });
  const changes = requests.filter((r) => !['GET', 'HEAD'].includes(r.method()) && new URL(r.url()).pathname !== '/v1/tokens'); // not the forged one
  const asked = changes.map((r) => `${r.method()} ${new URL(r.url()).pathname.replace(/\/v1\/subscriptions\/.+$/, '/v1/subscriptions/:id')}`);
  for (const want of ['POST /v1/stream/ticket', 'POST /v1/subscriptions', 'DELETE /v1/subscriptions/:id']) assert.ok(asked.includes(want), `${want} in ${asked}`);
  for (const r of changes) {
    const headers = await r.allHeaders();
    assert.equal(headers['x-csrf-token'], cookies.ghor_csrf.value, `${r.method()} ${r.url()} carries the CSRF token`);
    assert.equal(headers.authorization, undefined, `${r.method()} ${r.url()} sends no token`);
  }

  // Signing out ends the session on the server and shows the sign-in form again.
  await page.locator('#logout').click();
  await page.locator('#login:not([hidden]) #signin-status').getByText('U bent afgemeld.').waitFor({ timeout: DEADLINE_MS });
  await signInForm(page);
  assert.ok(await page.locator('#app').isHidden());
  const logout = requests.find((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/auth/logout');
  assert.ok(logout, 'the page asked the server to end the session');
  assert.equal((await logout.allHeaders())['x-csrf-token'], cookies.ghor_csrf.value);
  assert.equal(await meWithCookie(ghor, session), 401, 'the old session cookie is dead');
  const left = (await context.cookies(ghor.url)).map((c) => c.name);
  assert.ok(!left.includes('ghor_session') && !left.includes('ghor_csrf'), `cookies left: ${left}`);
  // A reload stays signed out.
  await page.reload();
  await signInForm(page);
  assert.ok(await page.locator('#app').isHidden());
  assert.deepEqual(errors.map(String), []);
});

test('an account without ghor\'s claims comes back to the sign-in form told to ask for access, in Dutch and in English; on a phone', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, op } = await servers(t);
  const { context, page, errors } = await newPage(t, ghor, PHONE);

  await page.goto(`${ghor.url}/`);
  const button = await signInForm(page);
  const box = await button.boundingBox();
  assert.ok(box.height >= 44, `the button is ${box.height} px high`);
  assert.ok(await overflow(page) <= 0, `the sign-in page is ${await overflow(page)} px too wide`);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'oidc-signin-390.png') });

  await button.tap();
  await signInAtProvider(page, ghor, op, 'geen-rol');
  const status = page.locator('#login:not([hidden]) #signin-status');
  await status.getByText('Uw account heeft (nog) geen toegang tot ghor. Vraag de functioneel beheerder van uw GHOR om toegang.').waitFor({ timeout: DEADLINE_MS });
  assert.ok(await status.isVisible());
  assert.equal(new URL(page.url()).hash, '', 'the error code left the address bar');
  // The way to try again is right there (the button comes once the page has asked the server whether it offers it).
  await signInForm(page);
  assert.ok(!(await context.cookies(ghor.url)).some((c) => c.name === 'ghor_session'), 'no session');
  assert.ok(await overflow(page) <= 0, `the sign-in page is ${await overflow(page)} px too wide`);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'oidc-no-role-390.png') });

  await page.locator('#lang').tap();
  await status.getByText('Your account has no access to ghor (yet).', { exact: false }).waitFor({ timeout: DEADLINE_MS });
  assert.equal((await button.textContent()).trim(), 'Sign in with your organisation account');
  assert.equal((await page.locator('#login-or').textContent()).trim(), 'Or paste an access token');
  assert.deepEqual(errors.map(String), []);
});

test('a sign-in cancelled at the provider, or a callback without its login, comes back with what to do', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, op } = await servers(t);
  const { page, errors } = await newPage(t, ghor, { viewport: LAPTOP });

  await page.goto(`${ghor.url}/`);
  await (await signInForm(page)).click();
  await page.waitForURL((u) => u.href.startsWith(`${op.issuer}/interaction/`), { timeout: DEADLINE_MS });
  await page.getByText('[ Cancel ]').click();
  const status = page.locator('#login:not([hidden]) #signin-status');
  await status.getByText(/^Het aanmelden is geweigerd of afgebroken\. Probeer het opnieuw/).waitFor({ timeout: DEADLINE_MS });
  assert.equal(new URL(page.url()).hash, '');

  // A callback the server holds no login for (an old tab, a second click): start again.
  await page.goto(`${ghor.url}/auth/callback?code=oud&state=oud`);
  await status.getByText('Het aanmelden duurde te lang of is onderbroken. Probeer het opnieuw.').waitFor({ timeout: DEADLINE_MS });
  assert.equal(new URL(page.url()).hash, '');
  assert.deepEqual(errors.map(String), []);
});

test('a group the provider names signs in with the rights ghor maps it to, and the session cookie goes to no other site', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { ghor, op } = await servers(t, '--oidc-group', '/GHOR/IM Groningen=informatiemanager:VR01');
  const { context, page, errors } = await newPage(t, ghor, { viewport: LAPTOP });

  await page.goto(`${ghor.url}/`);
  await (await signInForm(page)).click();
  await signInAtProvider(page, ghor, op, 'groep-im');
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: DEADLINE_MS });
  const me = await page.evaluate(() => fetch('/v1/me').then((r) => r.json()));
  assert.equal(me.actor, 'Greet Groep');
  assert.equal(me.role, 'informatiemanager');
  assert.deepEqual(me.regions, ['VR01']);
  // Exactly what the mapped role allows: its region, not the next one; no tokens to mint.
  const read = (p) => page.evaluate((p) => fetch(p).then((r) => r.status), p);
  assert.equal(await read('/v1/picture/regions/VR01'), 200);
  assert.equal(await read('/v1/picture/regions/VR02'), 403);
  assert.equal(await read('/v1/tokens'), 403);
  const domain = await (await fetch(`${ghor.url}/v1/domain`)).json();
  assert.equal(await page.locator('#actor').textContent(), `Greet Groep · ${domain.vocabularies.Role.informatiemanager.nl}`);

  // Another site's page posts a form to ghor: the browser does not send the session cookie
  // (SameSite=Strict), so ghor sees no one at all.
  const other = await context.newPage();
  await other.setContent(`<form method="post" action="${ghor.url}/v1/stream/ticket"><button>go</button></form>`);
  const [answer] = await Promise.all([
    other.waitForResponse((r) => r.url() === `${ghor.url}/v1/stream/ticket`, { timeout: DEADLINE_MS }),
    other.locator('button').click(),
  ]);
  assert.equal(answer.status(), 401, 'the session cookie did not go with another site\'s request');
  assert.equal(await read('/v1/me'), 200, 'while the page itself stays signed in');
  assert.deepEqual(errors.map(String), []);
});
