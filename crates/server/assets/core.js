// ghor — shared core of the live page: texts and their NL/EN switch, the vocabulary,
// formatting, DOM helpers, signing in (a token from #token= or the sign-in form, or the
// session cookie of the organisation account, OpenID Connect, with its CSRF header),
// authorised API calls with problem+json errors (and files, a CSV export, saved as a
// download), the live stream (ticket, hello with resume, snapshot + chained JSON Merge
// Patch deltas, heartbeats, reconnect with backoff), and which picture the page shows:
// the live one, or in look-back mode (lookback.js) the one of a past moment, while the
// live one is kept up to date behind it.
// Every other module builds on these helpers; none copies them.

const API = { me: '/v1/me', domain: '/v1/domain', ticket: '/v1/stream/ticket', stream: '/v1/stream', auth: '/v1/auth', logout: '/auth/logout' };
/** The cookie that holds the session's CSRF token (readable by the page, sent back as a header). */
const CSRF_COOKIE = 'ghor_csrf';
const KEYS = { token: 'ghor.token', lang: 'ghor.lang', region: 'ghor.region', font: 'ghor.fontsize', big: 'ghor.bigscreen' };
const STALE_MS = 30000;          // no message for this long: the connection is dead
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
const RENDER_MIN_MS = 250;       // at most ~4 renders per second
const FONT_MIN = 14, FONT_MAX = 40, FONT_DEFAULT = 18;

/** The region selector's value for the national view across all regions of the token. */
export const ALL_REGIONS = '*';
/**
 * Whether this token may do `capability`: the server's policy lists what it allows in
 * `/v1/me` (`may`), so the page never decides by role name (DESIGN §7).
 */
export function may(capability) {
  return !!(state.me && Array.isArray(state.me.may) && state.me.may.includes(capability));
}

/** Whether this token may claim `bron` for what it reports (`/v1/me`'s `bron`). */
export function mayClaim(bron) {
  return !!(state.me && Array.isArray(state.me.bron) && state.me.bron.includes(bron));
}

export const ICON = { goed: '✓', aandacht: '!', kritiek: '✕', onbekend: '?', verouderd: '◷' };
// Order, severity, colours, labels and keys of every wire value come from /v1/domain:
// the page holds none of its own.

export const TEXT = {
  nl: {
    title: 'ghor — actueel beeld',
    region: 'Regio',
    exercise: 'OEFENING — geen echte situatie',
    logout: 'Afmelden',
    fontSmaller: 'Kleinere tekst',
    fontLarger: 'Grotere tekst',
    langAria: 'Taal: Nederlands / English',
    loginTitle: 'Aanmelden',
    tokenLabel: 'Toegangstoken',
    tokenHint: 'Plak hier uw toegangstoken.',
    login: 'Aanmelden',
    tokenEmpty: 'Vul een toegangstoken in.',
    accessDenied: 'Dit toegangstoken geeft geen toegang tot deze pagina. Vraag de GHOR om de juiste rechten.',
    tokenRefused: 'Dit toegangstoken is onbekend, verlopen of ingetrokken. Controleer of u het hele token heeft geplakt, of vraag de GHOR om een nieuw token.',
    signedOut: 'U bent afgemeld.',
    oidcLogin: 'Aanmelden met uw organisatie-account',
    oidcHint: 'U meldt zich aan bij uw eigen organisatie en komt daarna hier terug.',
    tokenAlternative: 'Of plak een toegangstoken',
    signinDenied: 'Het aanmelden is geweigerd of afgebroken. Probeer het opnieuw; lukt het niet, vraag dan de functioneel beheerder van uw GHOR om hulp.',
    signinExpired: 'Het aanmelden duurde te lang of is onderbroken. Probeer het opnieuw.',
    signinUnavailable: 'De aanmeldservice van uw organisatie is nu niet bereikbaar. Probeer het over enkele minuten opnieuw, of meld u aan met een toegangstoken.',
    signinNoRole: 'Uw account heeft (nog) geen toegang tot ghor. Vraag de functioneel beheerder van uw GHOR om toegang.',
    signinInvalid: 'Het antwoord van de aanmeldservice kon niet worden gecontroleerd. Probeer het opnieuw; blijft dit gebeuren, meld het dan bij de functioneel beheerder van uw GHOR.',
    signinFailed: 'Het aanmelden is niet gelukt. Probeer het opnieuw.',
    sessionRefused: 'Uw sessie is verlopen of beëindigd. Meld u opnieuw aan.',
    sessionDenied: 'Uw account geeft geen toegang tot deze pagina. Vraag de functioneel beheerder van uw GHOR om de juiste rechten.',
    logoutFailed: 'Afmelden is niet gelukt; u bent nog aangemeld. Probeer het opnieuw.',
    connConnecting: 'Verbinden…',
    connLive: 'Live',
    connReconnecting: 'Opnieuw verbinden…',
    connStale: (hm) => `Verbinding verbroken sinds ${hm}`,
    connBehind: (hm) => `Beeld niet actueel sinds ${hm}`,
    lastUpdate: (hms) => `Laatste update ${hms}`,
    noUpdate: 'Nog geen gegevens ontvangen',
    waiting: 'Wachten op het actuele beeld…',
    unreachable: 'Server niet bereikbaar; opnieuw proberen…',
    streamError: (d) => `Fout in de live verbinding: ${d}`,
    totals: 'Totalen regio',
    locations: 'Locaties',
    alerts: 'Actieve meldingen',
    incidents: 'Actieve incidenten',
    location: 'Locatie',
    tableCaption: (n) => `Locaties in de regio (${n}) met hun toestand per dimensie`,
    noLocations: 'Geen locaties in deze regio.',
    noAlerts: 'Geen actieve meldingen.',
    noIncidents: 'Geen actieve incidenten.',
    beds: (l) => `Bedden ${l}`,
    freeOfOperational: 'vrij / operationeel',
    acuteStops: 'Stops acute functies',
    casualty: (l) => `Gewondenspreiding ${l}`,
    capacityNow: 'op te nemen nu',
    backupPower: 'Op noodstroom',
    utilitiesDown: 'Nutsvoorziening uitgevallen',
    locationsUnit: 'locaties',
    unfilledShifts: 'Open diensten 24 u',
    suppliesUnder: 'Voorraad onder de lijn',
    relocation: 'Verplaatsing',
    relocationSub: 'behoefte / opvangcapaciteit',
    helpRequests: 'Open hulpvragen',
    notReporting: 'Niet gemeld',
    ofN: (a, b) => `${a} van ${b}`,
    activeIncidents: 'Actieve incidenten',
    maxGrip: (g) => (g > 0 ? `max. GRIP ${g}` : 'geen GRIP'),
    grip: (g) => (g > 0 ? `GRIP ${g}` : 'geen GRIP'),
    free: 'vrij',
    retracted: 'ingetrokken',
    allNormal: 'alles normaal',
    allOpen: 'alles open',
    onBackup: 'noodvoorziening',
    hoursLeft: (n) => `nog ${n} u`,
    unfilled: (n) => `${n} open diensten 24 u`,
    selfSufficient: (n) => `${n} u zelfredzaam`,
    visitsAtRisk: (n) => `${n} bezoeken in gevaar`,
    receiving: (n) => `${n} cliënten op te vangen`,
    toRelocate: (n) => `${n} te verplaatsen`,
    helpOpen: (n) => `${n} open`,
    noUse: 'geen verbruik',
    more: (n) => `+${n} meer`,
    overdue: (hm) => `Niet gemeld sinds ${hm}`,
    stale: 'verouderd',
    hourUnit: 'u',
    lessThanMinute: '<1 min',
    reportOverdue: 'Melding te laat',
    acknowledged: 'bevestigd',
    since: 'sinds',
    newestValue: 'Tijd nieuwste waarde',
  },
  en: {
    title: 'ghor — live picture',
    region: 'Region',
    exercise: 'EXERCISE — not a real situation',
    logout: 'Sign out',
    fontSmaller: 'Smaller text',
    fontLarger: 'Larger text',
    langAria: 'Language: Nederlands / English',
    loginTitle: 'Sign in',
    tokenLabel: 'Access token',
    tokenHint: 'Paste your access token here.',
    login: 'Sign in',
    tokenEmpty: 'Enter an access token.',
    accessDenied: 'This access token gives no access to this page. Ask the GHOR for the right permissions.',
    tokenRefused: 'This access token is unknown, expired or revoked. Check that you pasted the whole token, or ask the GHOR for a new one.',
    signedOut: 'You are signed out.',
    oidcLogin: 'Sign in with your organisation account',
    oidcHint: 'You sign in at your own organisation and then come back here.',
    tokenAlternative: 'Or paste an access token',
    signinDenied: 'Signing in was refused or cancelled. Try again; if it keeps failing, ask your GHOR\'s application manager for help.',
    signinExpired: 'Signing in took too long or was interrupted. Try again.',
    signinUnavailable: 'Your organisation\'s sign-in service cannot be reached right now. Try again in a few minutes, or sign in with an access token.',
    signinNoRole: 'Your account has no access to ghor (yet). Ask your GHOR\'s application manager (functioneel beheerder) for access.',
    signinInvalid: 'The sign-in service\'s answer could not be verified. Try again; if it keeps happening, report it to your GHOR\'s application manager.',
    signinFailed: 'Signing in did not succeed. Try again.',
    sessionRefused: 'Your session has expired or was ended. Sign in again.',
    sessionDenied: 'Your account gives no access to this page. Ask your GHOR\'s application manager for the right permissions.',
    logoutFailed: 'Signing out did not succeed; you are still signed in. Try again.',
    connConnecting: 'Connecting…',
    connLive: 'Live',
    connReconnecting: 'Reconnecting…',
    connStale: (hm) => `Connection lost since ${hm}`,
    connBehind: (hm) => `Picture not current since ${hm}`,
    lastUpdate: (hms) => `Last update ${hms}`,
    noUpdate: 'No data received yet',
    waiting: 'Waiting for the live picture…',
    unreachable: 'Server unreachable; retrying…',
    streamError: (d) => `Live connection error: ${d}`,
    totals: 'Region totals',
    locations: 'Locations',
    alerts: 'Active alerts',
    incidents: 'Active incidents',
    location: 'Location',
    tableCaption: (n) => `Locations in the region (${n}) with their state per dimension`,
    noLocations: 'No locations in this region.',
    noAlerts: 'No active alerts.',
    noIncidents: 'No active incidents.',
    beds: (l) => `Beds ${l}`,
    freeOfOperational: 'free / operational',
    acuteStops: 'Acute function stops',
    casualty: (l) => `Casualty reception ${l}`,
    capacityNow: 'can take in now',
    backupPower: 'On backup power',
    utilitiesDown: 'Utilities down',
    locationsUnit: 'locations',
    unfilledShifts: 'Unfilled shifts 24 h',
    suppliesUnder: 'Supplies under the line',
    relocation: 'Relocation',
    relocationSub: 'need / receiving capacity',
    helpRequests: 'Open help requests',
    notReporting: 'Not reporting',
    ofN: (a, b) => `${a} of ${b}`,
    activeIncidents: 'Active incidents',
    maxGrip: (g) => (g > 0 ? `max. GRIP ${g}` : 'no GRIP'),
    grip: (g) => (g > 0 ? `GRIP ${g}` : 'no GRIP'),
    free: 'free',
    retracted: 'retracted',
    allNormal: 'all normal',
    allOpen: 'all open',
    onBackup: 'on backup',
    hoursLeft: (n) => `${n} h left`,
    unfilled: (n) => `${n} unfilled shifts 24 h`,
    selfSufficient: (n) => `${n} h self-sufficient`,
    visitsAtRisk: (n) => `${n} visits at risk`,
    receiving: (n) => `${n} clients can be taken in`,
    toRelocate: (n) => `${n} to relocate`,
    helpOpen: (n) => `${n} open`,
    noUse: 'no use',
    more: (n) => `+${n} more`,
    overdue: (hm) => `Not reported since ${hm}`,
    stale: 'stale',
    hourUnit: 'h',
    lessThanMinute: '<1 min',
    reportOverdue: 'Report overdue',
    acknowledged: 'acknowledged',
    since: 'since',
    newestValue: 'Time of newest value',
  },
};


export const state = {
  lang: 'nl',
  token: null,
  session: false,           // signed in by the session cookie (OpenID Connect), not a token
  oidc: undefined,          // GET /v1/auth's `oidc`: { login } when offered, null when not, undefined until known
  me: null,                 // GET /v1/me
  vocab: null,              // GET /v1/domain: vocabularies, dimensions and their fields, error catalogue, levels
  regions: {},              // region code -> RegionView, as the stream says
  region: null,             // selected region code, or ALL_REGIONS
  epoch: null,              // stream epoch of what we hold
  seq: null,                // last seq applied (snapshot seq or delta `to`)
  lastUpdate: null,         // Date the last snapshot/delta was applied
  message: null,            // non-auth problem shown under the header
  // Terugkijken (lookback.js): the picture of a past moment the page shows instead of the
  // live one, { at (ms), clock, key, regions: code -> RegionView, seq, heldBack }; null
  // when live. The stream keeps `regions` current behind it.
  past: null,
  conn: {
    live: false,            // a message arrived on the current socket
    startedAt: Date.now(),  // when we began (re)connecting without ever being live
    lostAt: null,           // when the live connection broke
    lastMessageAt: 0,       // last message on the current socket (or when it was opened)
    lastNewsAt: 0,          // last message on any socket
    attempt: 0,             // backoff step
    everLive: false,
    // The server's word on what it sends: false (with `behindSince`) while its picture
    // does not follow the log; the connection can be fine while the picture is frozen.
    current: true,
    behindSince: null,
  },
};

const net = { ws: null, gen: 0, reconnectTimer: null, meTimer: null, vocabTimer: null };

/** What the page modules hook in: `render` (the view), `applied` (after each snapshot or
 *  delta), `tick` (once a second), `signedOut`. */
const hooks = { render: [], applied: [], tick: [], signedOut: [] };
export function on(kind, fn) { hooks[kind].push(fn); }

// ---------------------------------------------------------------- small helpers

const storage = {
  get(kind, key) { try { return window[kind].getItem(key); } catch (e) { return null; } },
  set(kind, key, value) { try { window[kind].setItem(key, value); } catch (e) { /* storage unavailable */ } },
  remove(kind, key) { try { window[kind].removeItem(key); } catch (e) { /* storage unavailable */ } },
};

function $(id) { return document.getElementById(id); }

function t(key, ...args) {
  const entry = TEXT[state.lang][key] ?? TEXT.nl[key];
  if (typeof entry === 'function') return entry(...args);
  return entry ?? key;
}

/** Creates an element; text children become text nodes, so nothing is parsed as HTML. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function has(obj, key) { return obj !== null && typeof obj === 'object' && Object.prototype.hasOwnProperty.call(obj, key); }
function num(x) { const n = Number(x); return Number.isFinite(n) ? n : 0; }
function locale() { return state.lang === 'en' ? 'en-GB' : 'nl-NL'; }

const intlCache = {};
/** Number formats and collator of the chosen language, built once (building them is slow). */
function intl() {
  const lang = locale();
  if (!intlCache[lang]) {
    intlCache[lang] = {
      count: new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }),
      days: new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
      collator: new Intl.Collator(lang, { sensitivity: 'base', numeric: true }),
    };
  }
  return intlCache[lang];
}
function fmtNum(n) { return intl().count.format(num(n)); }
function compareText(a, b) { return intl().collator.compare(String(a), String(b)); }
function pad(n) { return String(n).padStart(2, '0'); }
function truncate(s, n) { s = String(s ?? ''); return s.length > n ? s.slice(0, n - 1) + '…' : s; }
function sum(list) { return list.reduce((a, b) => a + num(b), 0); }

/** Milliseconds of an RFC 3339 time (fractions beyond milliseconds dropped); NaN when invalid. */
function parseTime(s) {
  if (typeof s !== 'string') return NaN;
  return Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
}

/** HH:MM (with the day in front when not today); HH:MM:SS with seconds. */
function fmtClock(when, seconds) {
  const d = when instanceof Date ? when : new Date(typeof when === 'string' ? parseTime(when) : when);
  if (Number.isNaN(d.getTime())) return '–';
  let s = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (seconds) s += `:${pad(d.getSeconds())}`;
  if (d.toDateString() !== new Date().toDateString()) s = `${pad(d.getDate())}-${pad(d.getMonth() + 1)} ${s}`;
  return s;
}

function fmtAge(ms) {
  const sec = Math.max(0, Math.floor(ms / 1000));
  if (sec < 60) return t('lessThanMinute');
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 24) return `${hours} ${t('hourUnit')}`;
  return `${Math.floor(hours / 24)} d`;
}

/** A moment in words, "di 1 dec 14:00" (the year too when it is not this year's). */
export function fmtMoment(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '–';
  const options = { weekday: 'short', day: 'numeric', month: 'short' };
  if (d.getFullYear() !== new Date().getFullYear()) options.year = 'numeric';
  const parts = new Intl.DateTimeFormat(locale(), options).formatToParts(d);
  const part = (type) => ((parts.find((p) => p.type === type) || {}).value || '').replace(/\.$/, '');
  const date = ['weekday', 'day', 'month', 'year'].map(part).filter(Boolean).join(' ');
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The day of a moment in words, "di 1 dec" (the year too when it is not this year's). */
export function fmtDay(ms) {
  return fmtMoment(ms).replace(/ \d\d:\d\d$/, '');
}

/** A moment as the API takes it: RFC 3339 in UTC, whole seconds. */
export function isoTime(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Which clock a past picture is read on, in words: "zoals toen bekend" / "zoals waargenomen". */
export function clockWords(clock) {
  return t(clock === 'observed' ? 'clockObserved' : 'clockKnown');
}

function fmtDays(days) {
  const rounded = Math.round(days * 10) / 10;
  return `${intl().days.format(rounded)} d`;
}


/** Adds a module's texts to the dictionary (each module owns the texts it shows). */
export function addTexts(texts) {
  for (const lang of Object.keys(texts)) Object.assign(TEXT[lang], texts[lang]);
}

/** A UUIDv7 (time-ordered), the id the API prefers for idempotent retries. */
export function uuidv7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) { bytes[i] = ms % 256; ms = Math.floor(ms / 256); }
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A clock time with its age: "14:05 (3 min)". */
export function fmtWhen(time) {
  const ms = typeof time === 'number' ? time : parseTime(time);
  if (!Number.isFinite(ms)) return '–';
  return `${fmtClock(new Date(ms))} (${fmtAge(Date.now() - ms)})`;
}

/** A span whose text is the live age of `time` ("3 min"), refreshed every second by tick. */
export function liveAge(time, limitMs) {
  const ms = typeof time === 'number' ? time : parseTime(time);
  if (!Number.isFinite(ms)) return null;
  return el('span', { class: 'age', 'data-time': ms, 'data-oldest': ms, 'data-limit': limitMs || null,
    title: fmtClock(new Date(ms), true) });
}

/**
 * Opens `dialog` modally and, when it closes, gives focus back to the control that opened
 * it, found again by its `data-focus` key (re-renders replace the control itself).
 */
export function showDialog(dialog) {
  if (dialog.open) return;
  const opener = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focus : null;
  if (!dialog.open) dialog.showModal();
  dialog.addEventListener('close', () => {
    const again = opener && document.querySelector(`[data-focus="${CSS.escape(opener)}"]`);
    if (again) again.focus();
  }, { once: true });
}

/**
 * The moment the picture on the page is of, in ms: now, or the past moment shown in
 * look-back mode. Ages, staleness and "te laat" are counted to it.
 */
export function pictureNow() {
  return state.past ? state.past.at : Date.now();
}

/** Refreshes every age on the page, counted to the moment the picture is of. */
function updateAges(now) {
  for (const span of document.querySelectorAll('.age[data-time]')) {
    const age = now - Number(span.dataset.time);
    const limit = Number(span.dataset.limit);
    const old = limit > 0 && now - Number(span.dataset.oldest) > limit;
    const text = old ? `${ICON.verouderd} ${fmtAge(age)} · ${t('stale')}` : fmtAge(age);
    if (span.textContent !== text) span.textContent = text;
    span.classList.toggle('old', old);
  }
}

// ---------------------------------------------------------------- API calls

/** The body of an answer: parsed JSON, or null. */
async function bodyOf(res) {
  try { return await res.json(); } catch (e) { return null; }
}

/**
 * An authorised API call. Resolves to { ok, status, body }; `body` of a refusal is the
 * RFC 9457 problem (with `errors[]`). Network failure resolves to status 0.
 */
export async function api(method, url, body) {
  const headers = authHeaders(method);
  const options = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  try {
    const res = await request(url, options);
    const retryAfter = Number(res.headers.get('Retry-After'));
    return { ok: res.ok, status: res.status, body: await bodyOf(res), retryAfter: retryAfter > 0 ? retryAfter : null };
  } catch (e) {
    return { ok: false, status: 0, body: null };
  }
}

/**
 * An authorised GET of a file (a CSV export), with the token or the session cookie as every
 * call. Resolves to { ok, status, blob, filename } (the name the server gives it in
 * Content-Disposition, or null); a refusal's `body` is its problem, as api() gives it.
 */
export async function apiFile(url, accept) {
  const headers = Object.assign(authHeaders('GET'), { Accept: `${accept}, application/problem+json` });
  try {
    const res = await request(url, { method: 'GET', headers });
    if (!res.ok) return { ok: false, status: res.status, body: await bodyOf(res) };
    const named = /filename="?([^";]+)"?/i.exec(res.headers.get('Content-Disposition') || '');
    return { ok: true, status: res.status, blob: await res.blob(), filename: named ? named[1] : null };
  } catch (e) {
    return { ok: false, status: 0, body: null };
  }
}

/** Hands `blob` to the browser as a download called `name`. */
export function saveFile(blob, name) {
  const href = URL.createObjectURL(blob);
  const link = el('a', { href, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the file once the click is handled; the URL is let go later.
  setTimeout(() => URL.revokeObjectURL(href), 60000);
}

/**
 * GETs with at most one request on its way, the latest asked for next: a slider or a
 * player asks for moment after moment, and of those asked for while one is on its way only
 * the last is fetched after it (latest wins; the ones between are dropped).
 * `onAnswer(job, answer, superseded)` gets each answer; `superseded` when a newer one waits.
 */
export class LatestRequest {
  constructor(onAnswer) {
    this.onAnswer = onAnswer;
    this.busy = null;  // the URL on its way
    this.next = null;  // { url, job } to fetch after it
    this.gen = 0;      // answers of an older generation are dropped (cancel)
  }

  /** Asks for `url`; `job` says what its answer is for. */
  want(url, job) {
    if (this.busy === url) { this.next = null; return; }
    this.next = { url, job };
    if (!this.busy) this.run();
  }

  /** Drops what waits, and ignores the answer on its way. */
  cancel() {
    this.next = null;
    this.gen++;
  }

  /** Whether a request is on its way or waiting. */
  get loading() {
    return !!(this.busy || this.next);
  }

  async run() {
    while (this.next) {
      const { url, job } = this.next;
      this.next = null;
      this.busy = url;
      const gen = this.gen;
      const answer = await api('GET', url);
      this.busy = null;
      if (gen === this.gen) this.onAnswer(job, answer, !!this.next);
    }
  }
}

/** One CloudEvent about `source` (a location or region path), observed now. */
export function cloudEvent({ source, type, subject, data, bron, prognose }) {
  const event = { specversion: '1.0', id: uuidv7(), source, type, time: new Date().toISOString(), data: data || {} };
  if (subject) event.subject = subject;
  if (bron) event.bron = bron;
  if (prognose) event.prognose = prognose;
  return event;
}

/** Posts one CloudEvent to /v1/events. */
export function postEvent(fields) {
  return api('POST', '/v1/events', cloudEvent(fields));
}

/** Posts several CloudEvents in one request (stored or refused each on its own): the
 *  answer's `body.results[i]` says what became of the i-th. */
export function postEvents(list) {
  return api('POST', '/v1/events/batch', list.map(cloudEvent));
}

/** What to tell the user about a refused or failed call, in the chosen language. */
export function problemText(answer) {
  if (answer.status === 0) return t('networkDown');
  if (answer.status === 401) return t(state.session ? 'needSignInSession' : 'needSignIn');
  if (answer.status === 403) return t(state.session ? 'forbiddenActionSession' : 'forbiddenAction');
  if (answer.status === 429) return t('tooMany');
  if (answer.status >= 500) return t('serverFault');
  const p = answer.body || {};
  return p.detail || p.title || `HTTP ${answer.status}`;
}

function vocabEntry(type, wire) {
  const vocabularies = state.vocab && state.vocab.vocabularies;
  if (has(vocabularies, type) && has(vocabularies[type], wire)) return vocabularies[type][wire];
  return null;
}

/** Every value of a vocabulary, in its display order. */
export function order(type) {
  const vocabularies = state.vocab && state.vocab.vocabularies;
  const values = has(vocabularies, type) ? vocabularies[type] : {};
  return Object.keys(values).sort((a, b) => num(values[a].rank) - num(values[b].rank));
}

/** How bad a state is (higher is worse), as the server ranks it; -1 when unknown. */
export function severity(s) {
  const levels = state.vocab && state.vocab.levels;
  return has(levels, s) ? num(levels[s].severity) : -1;
}

/** The states, worst first (ties: the later in display order first). */
export function statesWorstFirst() {
  return order('State').reverse().sort((a, b) => severity(b) - severity(a));
}

/** The worst of several states (null for none). */
export function worstState(states) {
  let worst = null;
  for (const s of states) if (s && (worst === null || severity(s) > severity(worst))) worst = s;
  return worst;
}

/** A dimension as the server describes it: its key, and the event types that report it with their fields. */
export function dimensionInfo(dim) {
  const dims = state.vocab && Array.isArray(state.vocab.dimensions) ? state.vocab.dimensions : [];
  return dims.find((d) => d.name === dim) || null;
}

/** The wire `type` of an event type by its stem (`alert.acknowledged`). */
export function eventType(stem) {
  const types = state.vocab && state.vocab.event_types;
  return has(types, stem) ? types[stem] : null;
}

/** A field error in the chosen language: the catalogue's message for its code, its params filled in. */
export function errorMessage(error) {
  const catalogue = state.vocab && state.vocab.errors;
  const entry = error && has(catalogue, error.code) ? catalogue[error.code] : null;
  if (!entry) return String((error && error.reason) || '');
  const params = isObject(error.params) ? error.params : {};
  return String(entry[state.lang] || entry.nl).replace(/\{(\w+)\}/g, (m, name) => {
    if (!has(params, name)) return m;
    const v = params[name];
    return Array.isArray(v) ? v.join(', ') : typeof v === 'number' ? fmtNum(v) : String(v);
  });
}

/** The label of a wire value in the chosen language; the wire name when unknown. */
function label(type, wire) {
  const entry = vocabEntry(type, wire);
  return (entry && (entry[state.lang] || entry.nl)) || String(wire);
}

function stateColour(s) {
  const entry = vocabEntry('State', s);
  return entry && entry.colour ? entry.colour : null;
}

function keyType(dim) {
  const keys = state.vocab && state.vocab.dimension_keys;
  return (has(keys, dim) && keys[dim]) || null;
}

function keyLabel(dim, key) {
  const type = keyType(dim);
  return type ? label(type, key) : String(key);
}

function orderIndex(type, wire) {
  const entry = vocabEntry(type, wire);
  return entry && Number.isFinite(entry.rank) ? entry.rank : 1e6;
}

/** Sorts [key, value] pairs by the type's display order, then by label. */
function byOrder(type, pairs) {
  return pairs.slice().sort((a, b) => orderIndex(type, a[0]) - orderIndex(type, b[0]) ||
    compareText(label(type, a[0]), label(type, b[0])));
}

// ---------------------------------------------------------------- JSON Merge Patch (RFC 7396)

function isObject(x) { return x !== null && typeof x === 'object' && !Array.isArray(x); }

function setOwn(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies `patch` to `target` (mutating it when both are objects) and returns the result. */
function mergePatch(target, patch) {
  if (!isObject(patch)) return patch;
  const result = isObject(target) ? target : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete result[key];
    } else {
      const current = has(result, key) ? result[key] : undefined;
      setOwn(result, key, mergePatch(current, value));
    }
  }
  return result;
}

/** What the server's `#signin-error=<code>` (a failed sign-in with the organisation account) says, as text keys. */
const SIGNIN_ERRORS = {
  denied: 'signinDenied', expired: 'signinExpired', unavailable: 'signinUnavailable', 'no-role': 'signinNoRole', invalid: 'signinInvalid',
};

/**
 * Moves `#token=…` into sessionStorage and drops the fragment; true when a token was taken.
 * `#signin-error=<code>` is dropped the same way, its text key kept for the sign-in form.
 */
function takeTokenFromHash() {
  if (!location.hash || location.hash.length < 2) return false;
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has('signin-error')) {
    const code = params.get('signin-error');
    history.replaceState(history.state, '', location.pathname + location.search);
    signinError = Object.hasOwn(SIGNIN_ERRORS, code) ? SIGNIN_ERRORS[code] : 'signinFailed';
    return false;
  }
  if (!params.has('token')) return false;
  const token = params.get('token');
  history.replaceState(history.state, '', location.pathname + location.search);
  if (!token) return false;
  storage.set('sessionStorage', KEYS.token, token);
  return true;
}

/** A token link opened in a tab that already shows the page: switch to that token. */
function onHashChange() {
  const previous = state.token;
  if (!takeTokenFromHash()) {
    if (signinError && !state.me) showLogin('');
    return;
  }
  const token = storage.get('sessionStorage', KEYS.token);
  if (token === previous) return;
  signOut('');
  storage.set('sessionStorage', KEYS.token, token);
  start();
}

/** The sign-in form's error as a text key, so that it follows the language switch. */
let loginError = '';
/** A failed sign-in with the organisation account (`#signin-error=`), for the next sign-in form. */
let signinError = '';
/** The errors about a pasted token, shown beside it; the others go above the whole form. */
const TOKEN_ERRORS = new Set(['tokenEmpty', 'tokenRefused', 'accessDenied']);

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

/** The sign-in form: its messages, and the button of the organisation account when the server offers it. */
function renderLoginError() {
  const tokenError = TOKEN_ERRORS.has(loginError);
  setText($('login-error'), loginError && tokenError ? t(loginError) : '');
  const status = $('signin-status');
  setText(status, loginError && !tokenError ? t(loginError) : '');
  status.hidden = !loginError || tokenError;
  status.dataset.kind = loginError === 'signedOut' ? 'info' : 'error';
  const oidc = isObject(state.oidc) && typeof state.oidc.login === 'string' ? state.oidc : null;
  $('oidc').hidden = !oidc;
  if (oidc) {
    // Back to this address (a deep link's query included) once signed in.
    const href = `${oidc.login}${oidc.login.includes('?') ? '&' : '?'}next=${encodeURIComponent(location.pathname + location.search)}`;
    if ($('oidc-login').getAttribute('href') !== href) $('oidc-login').setAttribute('href', href);
  }
}

/** Asks the server (once) whether it offers signing in with the organisation account. */
let authInfoLoading = false;
async function loadAuthInfo() {
  if (state.oidc !== undefined || authInfoLoading) return;
  authInfoLoading = true;
  try {
    const res = await request(API.auth, { headers: { Accept: 'application/json' } });
    const body = res.ok ? await bodyOf(res) : null;
    state.oidc = isObject(body) && isObject(body.oidc) ? body.oidc : null;
  } catch (e) {
    authInfoLoading = false;
    setTimeout(loadAuthInfo, 5000); // server unreachable: the token form works meanwhile
    return;
  }
  authInfoLoading = false;
  renderLoginError();
  // The button is the way in now: focus it unless the user already started on the token.
  const input = $('token-input');
  if (!$('login').hidden && !$('oidc').hidden && document.activeElement === input && !input.value) $('oidc-login').focus();
}

/** Shows the sign-in form, with the error of text key `errorKey` (none when empty; else a pending `#signin-error`). */
function showLogin(errorKey) {
  state.token = null;
  state.session = false;
  state.me = null;
  document.body.classList.add('logged-out');
  document.body.classList.remove('oefening');
  $('exercise-banner').hidden = true;
  $('app').hidden = true;
  $('login').hidden = false;
  loginError = errorKey || signinError;
  signinError = '';
  loadAuthInfo();
  renderLoginError();
  setMessage(null);
  const input = $('token-input');
  input.value = '';
  ($('oidc').hidden ? input : $('oidc-login')).focus();
}

function onLoginSubmit(event) {
  event.preventDefault();
  const token = $('token-input').value.trim();
  if (!token) {
    loginError = 'tokenEmpty';
    renderLoginError();
    return;
  }
  storage.set('sessionStorage', KEYS.token, token);
  $('token-input').value = '';
  start();
}

/** Forgets the token and everything seen with it; `errorKey` says why on the sign-in form. */
function signOut(errorKey) {
  storage.remove('sessionStorage', KEYS.token);
  stopStream();
  clearTimeout(net.meTimer);
  state.regions = {};
  state.past = null;
  state.epoch = null;
  state.seq = null;
  state.lastUpdate = null;
  Object.assign(state.conn, { live: false, lostAt: null, lastMessageAt: 0, lastNewsAt: 0, attempt: 0, everLive: false });
  for (const hook of hooks.signedOut) hook();
  showLogin(errorKey);
}

/** Why a token (or the session) was refused, as a text key: unknown, expired or revoked (401), or not allowed here (403). */
function refusalKey(status) {
  if (state.session) return status === 401 ? 'sessionRefused' : 'sessionDenied';
  return status === 401 ? 'tokenRefused' : 'accessDenied';
}

/** Signing out: a session is ended on the server first (its cookies cleared there); a token is just forgotten. */
async function onLogout() {
  if (state.session) {
    const answer = await api('POST', API.logout);
    if (answer.status === 0 || answer.status >= 500 || answer.status === 403) { setMessage('logoutFailed'); return; }
  }
  signOut('signedOut');
}

/** Whether the page is signed in, by a token or by the session cookie. */
function signedIn() {
  return !!(state.token || state.session);
}

/** The session's CSRF token, from the cookie the server set for the page to read. */
function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === CSRF_COOKIE) return part.slice(eq + 1).trim();
  }
  return '';
}

async function problemDetail(res) {
  try {
    const body = await res.json();
    return body.detail || body.title || `HTTP ${res.status}`;
  } catch (e) {
    return `HTTP ${res.status}`;
  }
}

/** fetch that gives up after 10 s, so a hanging request cannot stall reconnecting. */
function request(url, options) {
  const timeout = typeof AbortSignal !== 'undefined' && AbortSignal.timeout ? AbortSignal.timeout(10000) : undefined;
  return fetch(url, Object.assign({ signal: timeout, credentials: 'same-origin', cache: 'no-store' }, options));
}

/**
 * The headers that say who calls: the token; or, signed in by the session cookie (sent by
 * the browser itself), the CSRF token on every call that changes something.
 */
function authHeaders(method = 'GET') {
  if (state.token) return { Authorization: `Bearer ${state.token}`, Accept: 'application/json' };
  const headers = { Accept: 'application/json' };
  if (state.session && !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase())) headers['X-CSRF-Token'] = csrfToken();
  return headers;
}

/** Shows (or with null hides) a problem under the header; kept as key + args to follow the language. */
function setMessage(key, ...args) {
  state.message = key ? { key, args } : null;
  renderMessage();
}

function renderMessage() {
  const text = state.message ? t(state.message.key, ...state.message.args) : '';
  if ($('message').textContent !== text) $('message').textContent = text;
  $('message').hidden = !text;
}

async function loadVocabulary() {
  clearTimeout(net.vocabTimer);
  try {
    const res = await request(API.domain, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    if (!isObject(body) || !isObject(body.vocabularies)) throw new Error('no vocabularies');
    state.vocab = body;
    scheduleRender();
  } catch (e) {
    net.vocabTimer = setTimeout(loadVocabulary, 5000);
  }
}

/**
 * Reads the token, asks who we are, then opens the stream. Without a token it asks with
 * the session cookie (if any): signed in as that session, or the sign-in form.
 */
let startGen = 0;
async function start() {
  clearTimeout(net.meTimer);
  const gen = ++startGen;
  const token = storage.get('sessionStorage', KEYS.token);
  state.token = token || null;
  state.session = !token;
  let res;
  try {
    res = await request(API.me, { headers: authHeaders() });
  } catch (e) {
    if (gen === startGen) retryStart();
    return;
  }
  if (gen !== startGen) return;
  if (!token && res.status === 401) { showLogin(''); return; } // no session: sign in
  if (res.status === 401 || res.status === 403) { signOut(refusalKey(res.status)); return; }
  if (!res.ok) { retryStart(); return; }
  const me = await res.json().catch(() => null);
  if (!isObject(me)) { retryStart(); return; }
  setMessage(null);
  state.me = me;
  state.conn.attempt = 0;
  showApp();
  connect();
}

function retryStart() {
  setMessage('unreachable');
  net.meTimer = setTimeout(start, backoffDelay(state.conn.attempt++));
}

function showApp() {
  const exercise = state.me && state.me.scope === 'oefening';
  document.body.classList.remove('logged-out');
  document.body.classList.toggle('oefening', !!exercise);
  $('exercise-banner').hidden = !exercise;
  $('login').hidden = true;
  $('app').hidden = false;
  state.conn.startedAt = Date.now();
  renderNow();
}

// ---------------------------------------------------------------- live stream

function backoffDelay(attempt) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.5 + Math.random() * 0.5)); // jitter: 50–100 % of the step
}

function streamUrl() {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${API.stream}`;
}

/** Closes the current socket without triggering its handlers. */
function stopStream() {
  net.gen++;
  clearTimeout(net.reconnectTimer);
  net.reconnectTimer = null;
  if (net.ws) {
    const ws = net.ws;
    net.ws = null;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(1000); } catch (e) { /* already closed */ }
  }
  markLost(Date.now());
}

function markLost(at) {
  if (state.conn.live) state.conn.lostAt = at;
  state.conn.live = false;
  renderConnection();
}

function scheduleReconnect() {
  if (!signedIn() || net.reconnectTimer) return;
  const delay = backoffDelay(state.conn.attempt++);
  net.reconnectTimer = setTimeout(() => { net.reconnectTimer = null; connect(); }, delay);
}

/** Drops the socket (broken chain, silence, server error) and reconnects with backoff. */
function reconnect(lostAt) {
  const wasLive = state.conn.live;
  stopStream();
  if (wasLive && lostAt) state.conn.lostAt = lostAt;
  scheduleReconnect();
}

async function connect() {
  stopStream();
  if (!signedIn() || !state.me) return;
  const gen = net.gen;
  let ticket;
  try {
    const res = await request(API.ticket, { method: 'POST', headers: authHeaders('POST') });
    if (gen !== net.gen) return;
    if (res.status === 401 || res.status === 403) { signOut(refusalKey(res.status)); return; }
    if (!res.ok) throw new Error(await problemDetail(res));
    ticket = (await res.json()).ticket;
    if (!ticket) throw new Error('no ticket');
  } catch (e) {
    if (gen !== net.gen) return;
    scheduleReconnect();
    return;
  }
  if (gen !== net.gen) return;
  openSocket(ticket, gen);
}

function openSocket(ticket, gen) {
  let ws;
  try {
    ws = new WebSocket(streamUrl());
  } catch (e) {
    scheduleReconnect();
    return;
  }
  net.ws = ws;
  ws.binaryType = 'blob';
  state.conn.lastMessageAt = Date.now(); // the silence watchdog also covers a hanging connect
  ws.onopen = () => {
    if (gen !== net.gen) return;
    ws.send(JSON.stringify(helloMessage(ticket)));
  };
  // Large messages (snapshots, a catch-up) come gzip-compressed as binary frames; they are
  // unpacked in order, so a delta never overtakes the snapshot it chains on.
  let inOrder = Promise.resolve();
  ws.onmessage = (event) => {
    if (gen !== net.gen) return;
    const text = typeof event.data === 'string' ? event.data : gunzip(event.data);
    inOrder = inOrder.then(() => text).then((t) => { if (gen === net.gen) onStreamMessage(t); }, () => {
      if (gen === net.gen) ws.close(); // unreadable: start over, the resume gets us what we miss
    });
  };
  ws.onclose = () => {
    if (gen !== net.gen) return;
    net.ws = null;
    reconnect(Date.now());
  };
  ws.onerror = () => { /* onclose follows */ };
}

function gunzip(blob) {
  return new Response(blob.stream().pipeThrough(new DecompressionStream('gzip'))).text();
}

function helloMessage(ticket) {
  const hello = { type: 'hello', ticket, regions: (state.me && state.me.regions) || [] };
  if (typeof DecompressionStream === 'function') hello.encoding = 'gzip';
  if (state.epoch !== null && state.seq !== null) hello.resume = { epoch: state.epoch, seq: state.seq };
  return hello;
}

function onStreamMessage(data) {
  let msg;
  try { msg = JSON.parse(data); } catch (e) { return; }
  if (!isObject(msg)) return;
  state.conn.lastMessageAt = state.conn.lastNewsAt = Date.now();
  switch (msg.type) {
    case 'snapshot': applySnapshot(msg); break;
    case 'delta': applyDelta(msg); break;
    case 'heartbeat': onHeartbeat(msg); break;
    case 'status': onStatus(msg); break;
    case 'error': onStreamError(msg); break;
    default: break;
  }
}

function markLive() {
  const c = state.conn;
  c.live = true;
  c.everLive = true;
  c.lostAt = null;
  c.attempt = 0;
  setMessage(null);
  renderConnection();
}

function applySnapshot(msg) {
  state.regions = isObject(msg.regions) ? msg.regions : {};
  state.epoch = msg.epoch ?? null;
  state.seq = typeof msg.seq === 'number' ? msg.seq : null;
  applied();
}

function applyDelta(msg) {
  if (state.seq === null || msg.epoch !== state.epoch || msg.from !== state.seq) {
    reconnect(Date.now()); // chain broken: resume from what we hold
    return;
  }
  const changes = isObject(msg.changes) ? msg.changes : {};
  for (const code of Object.keys(changes)) {
    const patch = changes[code];
    if (patch === null) { delete state.regions[code]; continue; }
    const current = has(state.regions, code) ? state.regions[code] : {};
    setOwn(state.regions, code, mergePatch(current, patch));
  }
  state.seq = msg.to;
  applied();
}

function applied() {
  state.lastUpdate = new Date();
  markLive();
  for (const hook of hooks.applied) hook();
  scheduleRender();
}

function onHeartbeat(msg) {
  if (state.epoch !== null && msg.epoch && msg.epoch !== state.epoch) {
    reconnect(Date.now()); // the server restarted its sequence: resume gets us a snapshot
    return;
  }
  // The heartbeat carries the chain on: we are complete up to its seq (deltas that held
  // nothing for our regions were skipped), and the next delta starts there.
  if (state.seq !== null && typeof msg.seq === 'number' && msg.seq > state.seq) state.seq = msg.seq;
  markLive();
}

function onStatus(msg) {
  state.conn.current = msg.current !== false;
  state.conn.behindSince = state.conn.current ? null : parseTime(String(msg.since)) || Date.now();
  renderConnection();
}

function onStreamError(msg) {
  const detail = msg.detail || msg.title || `HTTP ${msg.status}`;
  if (msg.status === 401 || msg.status === 403) { signOut(refusalKey(msg.status)); return; }
  setMessage('streamError', detail);
  // the server closes next; onclose reconnects with backoff
}

/** Once a second: the silence watchdog. */
function checkSilence(now) {
  const c = state.conn;
  if (net.ws && now - c.lastMessageAt >= STALE_MS) reconnect(c.lastMessageAt || now);
}

/**
 * live: the current socket delivered a message less than 30 s ago;
 * reconnecting: not live, but the last news is less than 30 s old;
 * stale: 30 s or more without news ("since" = when the connection broke).
 */
function connectionStatus(now) {
  const c = state.conn;
  if (c.live && now - c.lastMessageAt < STALE_MS) return { state: 'live' };
  const lastNews = c.lastNewsAt || c.startedAt;
  return { state: now - lastNews >= STALE_MS ? 'stale' : 'reconnecting', since: c.lostAt ?? lastNews };
}


// ---------------------------------------------------------------- rendering

let renderPending = false;
let lastRenderAt = 0;

export function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  const wait = Math.max(0, RENDER_MIN_MS - (performance.now() - lastRenderAt));
  setTimeout(() => requestAnimationFrame(renderNow), wait);
}

export function renderNow() {
  renderPending = false;
  lastRenderAt = performance.now();
  render();
}

/** Re-renders everything from `state`. */
function render() {
  applyStaticTexts();
  renderConnection();
  renderHeader();
  if (!state.me) return;
  for (const hook of hooks.render) hook();
  updateAges(pictureNow());
}

function applyStaticTexts() {
  document.documentElement.lang = state.lang;
  const exercise = state.me && state.me.scope === 'oefening';
  document.title = exercise ? `${t('exerciseShort')} — ${t('title')}` : t('title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
  renderLoginError();
  for (const node of $('lang').querySelectorAll('[data-lang]')) node.className = node.dataset.lang === state.lang ? 'on' : 'off';
  $('lang').setAttribute('aria-pressed', String(state.lang === 'en'));
  $('bigscreen').setAttribute('aria-pressed', String(bigScreen()));
  renderMessage();
}

/**
 * The connection as the page shows it: `live`; `behind` (live, but the server's picture
 * does not follow its log); `reconnecting`; `stale` (30 s or more without news). With its
 * text and, when not live, since when (ms). The header and the wall screen both show it.
 */
export function connectionSummary(now = Date.now()) {
  const status = connectionStatus(now);
  if (status.state === 'live' && !state.conn.current) {
    return { state: 'behind', since: state.conn.behindSince, text: t('connBehind', fmtClock(state.conn.behindSince, true)) };
  }
  if (status.state === 'live') return { state: 'live', since: null, text: t('connLive') };
  if (status.state === 'stale') return { state: 'stale', since: status.since, text: t('connStale', fmtClock(status.since)) };
  return { state: 'reconnecting', since: status.since, text: state.conn.everLive ? t('connReconnecting') : t('connConnecting') };
}

function renderConnection() {
  const node = $('connection');
  const { state: s, text } = connectionSummary();
  if (node.dataset.state !== s) node.dataset.state = s;
  const textNode = $('connection-text');
  if (textNode.textContent !== text) textNode.textContent = text;
}


function renderHeader() {
  $('last-update').textContent = state.lastUpdate ? t('lastUpdate', fmtClock(state.lastUpdate, true)) : t('noUpdate');
  $('actor').textContent = state.me ? `${state.me.actor || ''}${state.me.role ? ' · ' + label('Role', state.me.role) : ''}` : '';
  renderRegionSelect();
}

export function regionCodes() {
  return Object.keys(state.regions).sort();
}

/** True for tokens that see more than one region: they get the national view. */
export function seesSeveralRegions() {
  return regionCodes().length > 1;
}

/** The selected region's code (or ALL_REGIONS), settled against what the stream holds. */
export function selectedCode() {
  const codes = regionCodes();
  if (codes.length === 0) return null;
  const valid = (c) => codes.includes(c) || (c === ALL_REGIONS && codes.length > 1);
  if (!valid(state.region)) {
    const remembered = storage.get('localStorage', KEYS.region);
    state.region = valid(remembered) ? remembered : codes[0];
  }
  return state.region;
}

/**
 * [code, view] of every region shown now: the selected one, or all in the national view;
 * of the past moment in look-back mode (lookback.js fetched them for this selection).
 */
export function shownRegions() {
  const source = state.past ? state.past.regions : state.regions;
  const code = selectedCode();
  if (!code) return [];
  if (code === ALL_REGIONS) return regionCodes().filter((c) => has(source, c)).map((c) => [c, source[c]]);
  return has(source, code) ? [[code, source[code]]] : [];
}

/** [code, view] of the regions selected, live, also in look-back mode (the alarm follows them). */
export function liveRegions() {
  const code = selectedCode();
  if (!code) return [];
  if (code === ALL_REGIONS) return regionCodes().map((c) => [c, state.regions[c]]);
  return [[code, state.regions[code]]];
}

export function selectRegion(code) {
  state.region = code;
  storage.set('localStorage', KEYS.region, code);
  renderNow();
}

let regionSelectSignature = '';

function renderRegionSelect() {
  const select = $('region');
  const current = selectedCode();
  const codes = regionCodes();
  const signature = state.lang + codes.map((c) => `${c}=${(state.regions[c] && state.regions[c].name) || ''}`).join('|');
  if (signature !== regionSelectSignature) {
    regionSelectSignature = signature;
    const options = codes.map((c) => {
      const name = state.regions[c] && state.regions[c].name;
      return el('option', { value: c }, name ? `${c} — ${name}` : c);
    });
    if (codes.length > 1) options.unshift(el('option', { value: ALL_REGIONS }, t('allRegions', codes.length)));
    select.replaceChildren(...options);
  }
  if (current && select.value !== current) select.value = current;
  select.disabled = codes.length < 2;
}

export function badge(s) {
  const node = el('span', { class: 'badge', 'data-state': s },
    el('span', { class: 'icon', 'aria-hidden': 'true' }, ICON[s] || '?'), label('State', s));
  const colour = stateColour(s);
  if (colour) node.style.backgroundColor = colour;
  return node;
}


/** A piece of text that is never broken over two lines ("3/12 vrij", "3,5 d"). */
function nowrap(text) { return el('span', { class: 'nw' }, text); }

// ---------------------------------------------------------------- user controls

function setLang(lang) {
  state.lang = lang === 'en' ? 'en' : 'nl';
  storage.set('localStorage', KEYS.lang, state.lang);
  renderNow();
}

function setFontSize(px) {
  const size = Math.min(FONT_MAX, Math.max(FONT_MIN, Math.round(px)));
  document.documentElement.style.fontSize = `${size}px`;
  storage.set('localStorage', KEYS.font, String(size));
}

function currentFontSize() {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) || FONT_DEFAULT;
}

/** Whether the page is the wall screen ("Groot scherm", wall.js): one screen for a room watching from 3 m. */
export function bigScreen() {
  return document.body.classList.contains('bigscreen');
}

/** Turns the wall screen on or off, remembered in this browser. */
export function setBigScreen(on) {
  document.body.classList.toggle('bigscreen', on);
  storage.set('localStorage', KEYS.big, on ? '1' : '0');
  renderNow();
  // The map and the wall's lists fit themselves to the new layout on a resize.
  requestAnimationFrame(() => window.dispatchEvent(new Event('resize')));
}

function bindControls() {
  window.addEventListener('hashchange', onHashChange);
  $('login-form').addEventListener('submit', onLoginSubmit);
  $('logout').addEventListener('click', onLogout);
  $('lang').addEventListener('click', () => setLang(state.lang === 'nl' ? 'en' : 'nl'));
  $('font-smaller').addEventListener('click', () => setFontSize(currentFontSize() - 2));
  $('font-larger').addEventListener('click', () => setFontSize(currentFontSize() + 2));
  $('bigscreen').addEventListener('click', () => setBigScreen(!bigScreen()));
  $('region').addEventListener('change', (event) => selectRegion(event.target.value));
}

function tick() {
  const now = Date.now();
  if (signedIn() && state.me) {
    checkSilence(now);
    renderConnection();
    updateAges(pictureNow());
    for (const hook of hooks.tick) hook(now);
  }
}

/** Starts the page: call once, after the modules registered their hooks. */
export function init() {
  takeTokenFromHash();
  state.lang = storage.get('localStorage', KEYS.lang) === 'en' ? 'en' : 'nl';
  state.region = storage.get('localStorage', KEYS.region);
  const font = Number(storage.get('localStorage', KEYS.font));
  if (font) setFontSize(font);
  // `?groot=1` (or `?roteer=N`, rotation being a wall feature) opens the wall screen,
  // `?groot=0` the ordinary page; without either the browser's last choice holds.
  const query = new URLSearchParams(location.search);
  const big = query.get('groot');
  document.body.classList.toggle('bigscreen', big === '1' ||
    (big === null && (query.has('roteer') || storage.get('localStorage', KEYS.big) === '1')));
  bindControls();
  applyStaticTexts();
  loadVocabulary();
  setInterval(tick, 1000);
  start();
  window.ghor = { state, mergePatch, render: renderNow };
}

export {
  $, t, el, has, num, isObject, fmtNum, fmtClock, fmtAge, fmtDays, compareText, truncate, sum, parseTime,
  label, keyLabel, keyType, byOrder, orderIndex, stateColour, nowrap,
};

addTexts({
  nl: {
    exerciseShort: 'OEFENING',
    allRegions: (n) => `Alle regio's (${n}) — landelijk beeld`,
    networkDown: 'De server is niet bereikbaar. Controleer de verbinding en probeer het opnieuw.',
    needSignIn: 'Uw toegangstoken is niet (meer) geldig. Meld u opnieuw aan.',
    needSignInSession: 'Uw sessie is verlopen of beëindigd. Meld u opnieuw aan.',
    forbiddenAction: 'Dit mag uw toegangstoken niet. Vraag de GHOR om de juiste rechten.',
    forbiddenActionSession: 'Dit mag uw account niet. Vraag de functioneel beheerder van uw GHOR om de juiste rechten.',
    tooMany: 'Te veel verzoeken achter elkaar. Wacht enkele seconden en probeer het opnieuw.',
    serverFault: 'Er ging iets mis op de server. Probeer het opnieuw; er gaat niets dubbel.',
    bigscreen: 'Groot scherm',
    clockKnown: 'zoals toen bekend',
    clockObserved: 'zoals waargenomen',
  },
  en: {
    exerciseShort: 'EXERCISE',
    allRegions: (n) => `All regions (${n}) — national picture`,
    networkDown: 'The server cannot be reached. Check the connection and try again.',
    needSignIn: 'Your access token is not (or no longer) valid. Sign in again.',
    needSignInSession: 'Your session has expired or was ended. Sign in again.',
    forbiddenAction: 'Your access token may not do this. Ask the GHOR for the right permissions.',
    forbiddenActionSession: 'Your account may not do this. Ask your GHOR\'s application manager for the right permissions.',
    tooMany: 'Too many requests in a row. Wait a few seconds and try again.',
    serverFault: 'Something went wrong on the server. Try again; nothing is stored twice.',
    bigscreen: 'Big screen',
    clockKnown: 'as known then',
    clockObserved: 'as observed',
  },
});
