// ghor — the beeld (situational report) of a region from the dashboard: for every token
// that reads a region's picture (ROT/VIC, informatiemanager, bestuur, ketenpartner), the
// beeld of the region shown opens as a printable page in a new tab (a download when the
// browser blocks the tab), saves as PDF, or is copied as Markdown to paste into LCMS. It is
// the beeld of now, or in look-back mode (lookback.js) of the moment and clock shown, and
// the control says which. It follows the page's language. The informatiemanager (the
// `ask_and_advise` capability) also issues a beeld: its duiding and incident, of now or of
// the moment looked back to, written as a `beeld.issued` event through /v1/events; the
// issued beeld then opens with its number and the duiding on top. The server renders the
// documents (GET /v1/picture/regions/{region}/beeld) and decides what the caller may see.

import {
  $, t, el, num, addTexts, state, on, may, apiFile, api, saveFile, postEvent, eventType, problemText, errorMessage,
  shownRegions, selectedCode, regionCodes, ALL_REGIONS, bigScreen, fmtClock, fmtMoment, clockWords, isoTime, isObject, label,
} from './core.js';
import { keepFocus } from './dashboard.js';

addTexts({
  nl: {
    beeldToggle: 'Beeld',
    beeldToggleAt: (when) => `Beeld van ${when}`,
    beeldTitle: 'Beeld: het situatierapport van de regio',
    beeldOfNow: (region) => `Beeld van nu — ${region}`,
    beeldOfMoment: (when, clock, region) => `Beeld van ${when} (${clock}) — ${region}`,
    beeldIntro: 'Voor ROT en bestuur, met wat u van de regio mag zien. Zonder uitgifte is het een concept.',
    beeldRegion: 'Regio',
    beeldOpen: 'Beeld openen',
    beeldOpenAria: (what) => `${sentence(what)}: openen in een nieuw tabblad`,
    beeldPdf: 'PDF downloaden',
    beeldPdfAria: (what) => `${sentence(what)}: PDF downloaden`,
    beeldCopy: 'Kopieer voor LCMS',
    beeldCopyAria: (what) => `${sentence(what)}: kopiëren als tekst voor LCMS`,
    beeldWhatNow: 'het beeld van nu',
    beeldWhatAt: (when) => `het beeld van ${when}`,
    beeldBusy: 'Het beeld wordt opgehaald…',
    beeldTabLoading: 'Het beeld wordt opgehaald…',
    beeldPending: 'Het moment waarnaar u terugkijkt wordt nog geladen; even geduld.',
    beeldOpened: (what, hm) => `${sentence(what)} is geopend in een nieuw tabblad (${hm}).`,
    beeldBlocked: (name) => `De browser blokkeerde een nieuw tabblad; het beeld is gedownload als ${name}.`,
    beeldSaved: (name, hm) => `Opgeslagen als ${name} (${hm}).`,
    beeldCopied: (what, hm) => `Gekopieerd om ${hm}: ${what} als tekst. Plak het in LCMS (Ctrl+V).`,
    beeldCopyFallback: (name) => `Kopiëren lukte niet in deze browser; het beeld is gedownload als ${name}. Open het en kopieer de tekst naar LCMS.`,
    beeldFailed: (why) => `Het beeld kon niet worden opgehaald. ${why}`,
    beeldIndexing: 'ghor leest na een herstart het logboek nog in; probeer het over enkele seconden opnieuw.',
    beeldFuture: 'Dit moment ligt na de klok van de server. Controleer de klok van deze computer.',
    // issuing
    beeldIssueTitle: 'Beeld uitgeven',
    beeldIssueNow: 'Van nu: het moment van uitgeven.',
    beeldIssueAt: (when) => `Van ${when}, zoals toen bekend: het moment waarnaar u terugkijkt.`,
    beeldSummary: 'Duiding',
    beeldSummaryHint: (max) => `Wat betekent dit beeld voor ROT en bestuur? Staat bovenaan, boven de cijfers. Optioneel, ten hoogste ${max} tekens.`,
    beeldSummaryCount: (n, max) => `${n} / ${max}`,
    beeldIncident: 'Hoort bij incident (optioneel)',
    beeldNoIncident: '— geen —',
    beeldIssue: 'Beeld uitgeven',
    beeldIssuing: 'Uitgeven…',
    beeldIssueHint: 'Het uitgegeven beeld krijgt een nummer en opent in een nieuw tabblad.',
    beeldIssued: (when, hm) => `Beeld van ${when} uitgegeven om ${hm}.`,
    beeldIssuedWhat: (when) => `het uitgegeven beeld van ${when}`,
    beeldNotFolded: 'Uitgegeven; de server verwerkt het nog. Open het over enkele seconden opnieuw.',
    beeldRefused: 'Niet uitgegeven. Verbeter wat bij de velden staat:',
    beeldTooLong: (max) => `De duiding is te lang: ten hoogste ${max} tekens.`,
  },
  en: {
    beeldToggle: 'Beeld',
    beeldToggleAt: (when) => `Beeld of ${when}`,
    beeldTitle: 'Beeld: the situation report of the region',
    beeldOfNow: (region) => `Beeld of now — ${region}`,
    beeldOfMoment: (when, clock, region) => `Beeld of ${when} (${clock}) — ${region}`,
    beeldIntro: 'For the ROT and the board, with what you may see of the region. Until issued it is a draft.',
    beeldRegion: 'Region',
    beeldOpen: 'Open beeld',
    beeldOpenAria: (what) => `${sentence(what)}: open in a new tab`,
    beeldPdf: 'Download PDF',
    beeldPdfAria: (what) => `${sentence(what)}: download PDF`,
    beeldCopy: 'Copy for LCMS',
    beeldCopyAria: (what) => `${sentence(what)}: copy as text for LCMS`,
    beeldWhatNow: 'the beeld of now',
    beeldWhatAt: (when) => `the beeld of ${when}`,
    beeldBusy: 'Fetching the beeld…',
    beeldTabLoading: 'Fetching the beeld…',
    beeldPending: 'The moment you look back to is still loading; one moment.',
    beeldOpened: (what, hm) => `${sentence(what)} opened in a new tab (${hm}).`,
    beeldBlocked: (name) => `The browser blocked a new tab; the beeld was downloaded as ${name}.`,
    beeldSaved: (name, hm) => `Saved as ${name} (${hm}).`,
    beeldCopied: (what, hm) => `Copied at ${hm}: ${what} as text. Paste it into LCMS (Ctrl+V).`,
    beeldCopyFallback: (name) => `Copying did not work in this browser; the beeld was downloaded as ${name}. Open it and copy the text into LCMS.`,
    beeldFailed: (why) => `The beeld could not be fetched. ${why}`,
    beeldIndexing: 'After a restart ghor is still reading its log; try again in a few seconds.',
    beeldFuture: 'This moment lies after the server\'s clock. Check this computer\'s clock.',
    beeldIssueTitle: 'Issue beeld',
    beeldIssueNow: 'Of now: the moment of issuing.',
    beeldIssueAt: (when) => `Of ${when}, as known then: the moment you look back to.`,
    beeldSummary: 'Assessment (duiding)',
    beeldSummaryHint: (max) => `What does this beeld mean for the ROT and the board? Shown on top, above the figures. Optional, at most ${max} characters.`,
    beeldSummaryCount: (n, max) => `${n} / ${max}`,
    beeldIncident: 'Part of incident (optional)',
    beeldNoIncident: '— none —',
    beeldIssue: 'Issue beeld',
    beeldIssuing: 'Issuing…',
    beeldIssueHint: 'The issued beeld gets a number and opens in a new tab.',
    beeldIssued: (when, hm) => `Beeld of ${when} issued at ${hm}.`,
    beeldIssuedWhat: (when) => `the issued beeld of ${when}`,
    beeldNotFolded: 'Issued; the server is still processing it. Open it again in a few seconds.',
    beeldRefused: 'Not issued. Correct what the fields say:',
    beeldTooLong: (max) => `The assessment is too long: at most ${max} characters.`,
  },
});

/** The longest duiding the server takes (a LongText). */
const SUMMARY_MAX = 1000;
/** A 503 while the server indexes, or a moment a second ahead of its clock: asked again this often. */
const RETRIES = 5;
const RETRY_MS = 2000;
/** How long an issued beeld may take to reach the picture the documents are made from. */
const FOLD_WAIT_MS = 10000;
const FOLD_POLL_MS = 300;
/** A tab may be reloaded for a while; then the document's memory is let go. */
const KEEP_TAB_URL_MS = 30 * 60000;
const ACCEPT = { html: 'text/html', pdf: 'application/pdf', md: 'text/markdown' };

const bl = {
  built: false,
  open: false,          // the panel shown
  region: null,         // the region chosen in the national view
  busy: null,           // the action under way ('html', 'pdf', 'md', 'issue'): one at a time
  status: null,         // { text: () => string, ok }: what the last action came to, in the language shown
  issued: null,         // { region, at, time }: the beeld issued last on this page
  errors: [],           // the issuing form's refusals: { field, text: () => string }
  mode: null,           // how app.js shows the picture ('locations', 'aggregate', 'own')
  incidentSig: '',
  issuedSig: '',
  errorsSig: '',
};

// ---------------------------------------------------------------- which beeld

/** The region the beeld is of: the one shown, or in the national view the one chosen in the panel. */
function beeldRegion() {
  const code = selectedCode();
  if (code && code !== ALL_REGIONS) return code;
  const codes = regionCodes();
  if (!codes.includes(bl.region)) bl.region = codes[0] || null;
  return bl.region;
}

/** The moment the page shows: { at, clock } of the past picture, or null for now. */
function shownMoment() {
  return state.past ? { at: state.past.at, clock: state.past.clock } : null;
}

/** The region view the panel speaks of (of the moment shown). */
function regionView(code) {
  const shown = shownRegions().find(([c]) => c === code);
  return (shown && shown[1]) || state.regions[code] || null;
}

function regionName(code) {
  const view = regionView(code);
  return view && view.name ? `${view.name} (${code})` : code;
}

/** "het beeld van nu" / "het beeld van di 1 dec 14:00": which beeld an action is about, to use in a sentence. */
function whatText(moment) {
  return moment ? t('beeldWhatAt', fmtMoment(moment.at)) : t('beeldWhatNow');
}

function beeldUrl(region, moment, format) {
  const query = new URLSearchParams({ lang: state.lang, format });
  if (moment) {
    query.set('at', isoTime(moment.at));
    query.set('clock', moment.clock);
  }
  return `/v1/picture/regions/${encodeURIComponent(region)}/beeld?${query}`;
}

/** A phrase at the start of a sentence: its first letter a capital. */
function sentence(text) { return text.charAt(0).toUpperCase() + text.slice(1); }

function pause(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

function firstError(answer) {
  const problem = isObject(answer.body) ? answer.body : {};
  return Array.isArray(problem.errors) && problem.errors.length ? problem.errors[0] : null;
}

/**
 * A document as a file: { ok, blob, filename } or a refusal. While the server indexes its
 * log after a restart (503), or when `again(answer)` says so, it is asked again a few times.
 * Also the evaluation's (evaluatie.js).
 */
export async function fetchFile(url, accept, again = () => false) {
  for (let attempt = 0; ; attempt++) {
    const answer = await apiFile(url, accept);
    if (answer.ok || !(answer.status === 503 || again(answer)) || attempt >= RETRIES) return answer;
    await pause(RETRY_MS);
  }
}

/**
 * One beeld as a file. A moment a hair ahead of the server's clock (a beeld of "now" just
 * issued) is asked again too.
 */
function fetchBeeld(region, moment, format) {
  return fetchFile(beeldUrl(region, moment, format), ACCEPT[format], (answer) => {
    const e = firstError(answer);
    return !!(answer.status === 400 && e && e.code === 'in_the_future' && moment);
  });
}

/** Why a beeld could not be fetched, in words. */
function failure(answer) {
  const e = firstError(answer);
  if (answer.status === 503) return t('beeldIndexing');
  if (answer.status === 400 && e && e.code === 'in_the_future') return t('beeldFuture');
  if (answer.status === 400 && e) return errorMessage(e) || problemText(answer);
  return problemText(answer);
}

function fileName(answer, region, format) {
  return answer.filename || `beeld-${region}.${format}`;
}

// ---------------------------------------------------------------- the actions

function setStatus(text, ok = true) {
  bl.status = text ? { text, ok } : null;
  renderStatus();
}

/**
 * A new tab for a document (the beeld, an evaluation), opened at once in the click (a tab
 * opened after the answer came would be blocked as a popup), saying `loading` until the
 * document is there; null when the browser blocks it anyway.
 */
export function openTab(loading = t('beeldTabLoading')) {
  let tab = null;
  try { tab = window.open('', '_blank'); } catch (e) { tab = null; }
  if (!tab) return null;
  try {
    tab.opener = null; // the document needs nothing of this page
    tab.document.title = loading;
    const note = tab.document.createElement('p');
    note.textContent = loading;
    note.style.font = '20px system-ui, sans-serif';
    note.style.margin = '2rem';
    tab.document.body.append(note);
  } catch (e) { /* a tab we cannot write to still takes the beeld */ }
  return tab;
}

/**
 * Shows a fetched HTML document in `tab` (from openTab), kept reloadable for a while;
 * false when there is no tab (blocked, or closed meanwhile).
 */
export function showBlob(tab, blob) {
  if (!tab || tab.closed) return false;
  const url = URL.createObjectURL(blob);
  tab.location.replace(url);
  setTimeout(() => URL.revokeObjectURL(url), KEEP_TAB_URL_MS);
  return true;
}

/** Fetches the beeld as HTML and shows it in `tab`, or downloads it when there is no tab. */
async function showIn(tab, region, moment, what) {
  const answer = await fetchBeeld(region, moment, 'html');
  if (!answer.ok) {
    if (tab) tab.close();
    setStatus(() => t('beeldFailed', failure(answer)), false);
    return;
  }
  const name = fileName(answer, region, 'html');
  const at = Date.now();
  if (showBlob(tab, answer.blob)) {
    setStatus(() => t('beeldOpened', what(), fmtClock(at, true)));
  } else {
    saveFile(answer.blob, name);
    setStatus(() => t('beeldBlocked', name));
  }
}

/** Runs one action at a time, with the panel's buttons disabled meanwhile. */
async function busyWith(kind, fn) {
  if (bl.busy) return;
  bl.busy = kind;
  setStatus(() => t('beeldBusy'));
  renderButtons();
  try {
    await fn();
  } finally {
    bl.busy = null;
    renderButtons();
  }
}

function openBeeld(region, moment, what) {
  if (bl.busy) return;
  const tab = openTab();
  busyWith('html', () => showIn(tab, region, moment, what));
}

function downloadPdf(region, moment) {
  busyWith('pdf', async () => {
    const answer = await fetchBeeld(region, moment, 'pdf');
    if (!answer.ok) { setStatus(() => t('beeldFailed', failure(answer)), false); return; }
    const name = fileName(answer, region, 'pdf');
    const at = Date.now();
    saveFile(answer.blob, name);
    setStatus(() => t('beeldSaved', name, fmtClock(at, true)));
  });
}

/**
 * "Kopieer voor LCMS": the beeld as Markdown on the clipboard. The clipboard is asked in
 * the click with the text still on its way (browsers allow it only then); where that is
 * not offered the text is written once it came, and where copying fails the file downloads.
 */
function copyMarkdown(region, moment, what) {
  busyWith('md', async () => {
    const fetched = fetchBeeld(region, moment, 'md');
    let copied = false;
    if (navigator.clipboard && typeof navigator.clipboard.write === 'function' && typeof ClipboardItem === 'function') {
      const text = fetched.then((a) => {
        if (!a.ok) throw new Error('no beeld');
        return a.blob.text().then((s) => new Blob([s], { type: 'text/plain' }));
      });
      text.catch(() => { /* a beeld that did not come is told below */ });
      try {
        await navigator.clipboard.write([new ClipboardItem({ 'text/plain': text })]);
        copied = true;
      } catch (e) { /* written below, or downloaded */ }
    }
    const answer = await fetched;
    if (!answer.ok) { setStatus(() => t('beeldFailed', failure(answer)), false); return; }
    if (!copied && navigator.clipboard && typeof navigator.clipboard.writeText === 'function') {
      try {
        await navigator.clipboard.writeText(await answer.blob.text());
        copied = true;
      } catch (e) { /* downloaded below */ }
    }
    const at = Date.now();
    if (copied) {
      setStatus(() => t('beeldCopied', what(), fmtClock(at)));
    } else {
      const name = fileName(answer, region, 'md');
      saveFile(answer.blob, name);
      setStatus(() => t('beeldCopyFallback', name));
    }
  });
}

// ---------------------------------------------------------------- issuing

/** The moment a beeld is issued of: the one looked back to, or now (a whole second). */
function issueMoment() {
  const past = shownMoment();
  return { at: past ? past.at : Math.floor(Date.now() / 1000) * 1000, clock: 'known' };
}

/** The beeld's id: region, the moment it is of, and when it was issued ("beeld-vr01-202612011400-141203"). */
function beeldId(region, at, issuedAt) {
  const p = (n) => String(n).padStart(2, '0');
  const d = new Date(at);
  const i = new Date(issuedAt);
  return `beeld-${region.toLowerCase()}-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}` +
    `-${p(i.getHours())}${p(i.getMinutes())}${p(i.getSeconds())}`;
}

/** Waits until the server's picture holds event `seq` (the documents are made from it); false when it takes too long. */
async function folded(region, seq) {
  const until = Date.now() + FOLD_WAIT_MS;
  while (Date.now() < until) {
    if (typeof state.seq === 'number' && state.seq >= seq) return true;
    const answer = await api('GET', `/v1/picture/regions/${encodeURIComponent(region)}`);
    if (answer.ok && isObject(answer.body) && num(answer.body.seq) >= seq) return true;
    await pause(FOLD_POLL_MS);
  }
  return false;
}

/** Which field of the form a problem's path belongs to. */
function formField(path) {
  const m = /^data\.(summary|incident)/.exec(String(path || ''));
  return m ? m[1] : 'form';
}

async function issue(event) {
  event.preventDefault();
  if (bl.busy) return;
  const region = beeldRegion();
  if (!region || document.body.classList.contains('lookback-pending')) return;
  const summary = $('beeld-f-summary').value.trim();
  const incident = $('beeld-f-incident').value;
  if (summary.length > SUMMARY_MAX) {
    showErrors([{ field: 'data.summary', text: () => t('beeldTooLong', SUMMARY_MAX) }], true);
    return;
  }
  showErrors([]);
  const moment = issueMoment();
  bl.busy = 'issue';
  setStatus(null);
  renderButtons();
  try {
    const data = { at: isoTime(moment.at) };
    if (summary) data.summary = summary;
    if (incident) data.incident = incident;
    const issuedAt = Date.now();
    const answer = await postEvent({
      source: `/regions/${region}`, type: eventType('beeld.issued'), subject: beeldId(region, moment.at, issuedAt), data,
    });
    if (!answer.ok) {
      const problem = isObject(answer.body) ? answer.body : {};
      const list = Array.isArray(problem.errors) ? problem.errors : [];
      const errors = list.map((e) => ({ field: e.field, text: () => errorMessage(e) || e.reason || '' }));
      if (!errors.length || answer.status === 403 || answer.status >= 500) errors.push({ field: 'form', text: () => problemText(answer) });
      showErrors(errors, true);
      return;
    }
    // The tab is opened once the beeld is issued (a refusal opens none), still within the
    // click's grace for new tabs; a blocked one makes it a download.
    const tab = openTab();
    bl.issued = { region, at: moment.at, time: issuedAt };
    bl.issuedSig = '';
    $('beeld-f-summary').value = '';
    $('beeld-f-incident').value = '';
    renderCount();
    renderIssued();
    const what = () => t('beeldIssuedWhat', fmtMoment(moment.at));
    if (!(await folded(region, num(answer.body && answer.body.seq)))) {
      if (tab) tab.close();
      setStatus(() => t('beeldNotFolded'), false);
      return;
    }
    await showIn(tab, region, moment, what);
  } finally {
    bl.busy = null;
    renderButtons();
  }
}

/** Drops the refusals of a field once it is being corrected. */
function forgetErrors(name) {
  const left = bl.errors.filter((e) => formField(e.field) !== name);
  if (left.length !== bl.errors.length) showErrors(left);
}

/** Shows the form's refusals at their fields and above the button; `focus` moves to the first. */
function showErrors(errors, focus) {
  bl.errors = errors;
  renderErrors();
  if (!focus || !errors.length) return;
  const first = $(`beeld-f-${formField(errors[0].field)}`);
  (first || $('beeld-errors')).focus();
}

function renderErrors() {
  if (!$('beeld-form')) return;
  // Drawn anew only when they change: the summary is an alert, read out when it changes.
  const sig = JSON.stringify([state.lang, bl.errors.map((e) => [e.field, e.text()])]);
  if (sig === bl.errorsSig) return;
  bl.errorsSig = sig;
  const byField = { summary: [], incident: [] };
  for (const e of bl.errors) {
    const name = formField(e.field);
    if (byField[name]) byField[name].push(e.text());
  }
  for (const name of Object.keys(byField)) {
    $(`beeld-f-${name}-error`).textContent = byField[name].join(' ');
    if (byField[name].length) $(`beeld-f-${name}`).setAttribute('aria-invalid', 'true');
    else $(`beeld-f-${name}`).removeAttribute('aria-invalid');
  }
  const lines = bl.errors.map((e) => el('li', { 'data-error-field': e.field || 'form' }, e.text()));
  $('beeld-errors').replaceChildren(lines.length ? el('div', { class: 'error-summary' }, el('p', {}, t('beeldRefused')), el('ul', {}, lines)) : '');
}

// ---------------------------------------------------------------- the control

/** The way in next to "Terugkijken", and the panel under the region's name, made once. */
function build() {
  if (bl.built) return;
  bl.built = true;
  const toggle = el('button', { type: 'button', id: 'beeld-toggle', 'aria-expanded': 'false', 'aria-controls': 'beeld', hidden: true },
    el('span', { class: 'beeld-icon', 'aria-hidden': 'true' }, '▤'), ' ', el('span', { id: 'beeld-toggle-text' }, t('beeldToggle')));
  toggle.addEventListener('click', () => {
    bl.open = !bl.open;
    redraw();
    if (bl.open) $('beeld-open').focus();
  });
  $('lookback-toggle').after(toggle);

  const regionSelect = el('select', { id: 'beeld-region' });
  regionSelect.addEventListener('change', () => { bl.region = regionSelect.value; bl.incidentSig = ''; redraw(); });
  const button = (id, cls) => el('button', { type: 'button', id, class: cls || null, 'data-focus': id });
  const open = button('beeld-open', 'primary');
  const pdf = button('beeld-pdf');
  const copy = button('beeld-copy');
  open.addEventListener('click', () => { const m = shownMoment(); openBeeld(beeldRegion(), m, () => whatText(m)); });
  pdf.addEventListener('click', () => downloadPdf(beeldRegion(), shownMoment()));
  copy.addEventListener('click', () => { const m = shownMoment(); copyMarkdown(beeldRegion(), m, () => whatText(m)); });

  const panel = el('section', { id: 'beeld', 'aria-labelledby': 'beeld-what', hidden: true },
    el('div', { class: 'beeld-read' },
      el('h2', { id: 'beeld-what', class: 'beeld-what' }),
      el('p', { id: 'beeld-intro', class: 'meta' }),
      el('div', { id: 'beeld-region-field', class: 'control', hidden: true }, el('label', { for: 'beeld-region', id: 'beeld-region-label' }), regionSelect),
      el('div', { class: 'beeld-actions' }, open, pdf, copy),
      el('div', { id: 'beeld-issued', hidden: true }),
      el('p', { id: 'beeld-status', role: 'status', 'aria-live': 'polite', hidden: true })),
    el('div', { id: 'beeld-form-slot' }));
  $('lookback').after(panel);
}

/** The issuing form, for a token that may issue; made once, kept while the page is open. */
function issueForm() {
  const summary = el('textarea', { id: 'beeld-f-summary', rows: 3, maxlength: SUMMARY_MAX,
    'aria-describedby': 'beeld-f-summary-hint beeld-f-summary-count beeld-f-summary-error' });
  summary.addEventListener('input', () => { renderCount(); forgetErrors('summary'); });
  const form = el('form', { id: 'beeld-form', novalidate: true, 'aria-labelledby': 'beeld-issue-title' },
    el('h3', { id: 'beeld-issue-title', class: 'subsection' }),
    el('p', { id: 'beeld-issue-moment', class: 'beeld-moment' }),
    el('div', { class: 'field' },
      el('label', { for: 'beeld-f-summary', id: 'beeld-f-summary-label' }),
      summary,
      el('div', { class: 'beeld-hint-row' },
        el('span', { id: 'beeld-f-summary-hint', class: 'meta' }),
        el('span', { id: 'beeld-f-summary-count', class: 'meta', 'aria-live': 'off' })),
      el('span', { id: 'beeld-f-summary-error', class: 'field-error' })),
    el('div', { class: 'field' },
      el('label', { for: 'beeld-f-incident', id: 'beeld-f-incident-label' }),
      el('select', { id: 'beeld-f-incident', 'aria-describedby': 'beeld-f-incident-error' }),
      el('span', { id: 'beeld-f-incident-error', class: 'field-error' })),
    el('div', { id: 'beeld-errors', role: 'alert', tabindex: '-1' }),
    el('div', { class: 'save-row' },
      el('button', { type: 'submit', id: 'beeld-issue', class: 'primary', 'data-focus': 'beeld-issue' }),
      el('span', { id: 'beeld-issue-hint', class: 'meta' })));
  form.addEventListener('submit', issue);
  form.querySelector('#beeld-f-incident').addEventListener('change', () => forgetErrors('incident'));
  return form;
}

function setText(node, text) { if (node && node.textContent !== text) node.textContent = text; }
function setAttr(node, name, value) { if (node.getAttribute(name) !== String(value)) node.setAttribute(name, String(value)); }

function renderCount() {
  const summary = $('beeld-f-summary');
  if (!summary) return;
  setText($('beeld-f-summary-count'), t('beeldSummaryCount', summary.value.length, SUMMARY_MAX));
}

function renderStatus() {
  const node = $('beeld-status');
  if (!node) return;
  const text = bl.status ? bl.status.text() : '';
  setText(node, text);
  node.hidden = !text;
  node.className = bl.status && !bl.status.ok ? 'receipt error' : 'receipt';
}

/** The buttons' texts, and disabled while an action is under way or the moment still loads. */
function renderButtons() {
  if (!bl.built) return;
  const pending = document.body.classList.contains('lookback-pending');
  const m = shownMoment();
  const what = whatText(m);
  const set = (id, text, aria, kind) => {
    const node = $(id);
    setText(node, bl.busy === kind ? t('beeldBusy') : text);
    setAttr(node, 'aria-label', aria);
    node.disabled = !!bl.busy || pending;
  };
  set('beeld-open', t('beeldOpen'), t('beeldOpenAria', what), 'html');
  set('beeld-pdf', t('beeldPdf'), t('beeldPdfAria', what), 'pdf');
  set('beeld-copy', t('beeldCopy'), t('beeldCopyAria', what), 'md');
  const issueButton = $('beeld-issue');
  if (issueButton) {
    setText(issueButton, bl.busy === 'issue' ? t('beeldIssuing') : t('beeldIssue'));
    issueButton.disabled = !!bl.busy || pending;
  }
  for (const node of document.querySelectorAll('#beeld-issued button')) node.disabled = !!bl.busy;
}

/** The beeld issued last (of the region shown): what it is, and open, PDF and copy of exactly it. */
function renderIssued() {
  const box = $('beeld-issued');
  const issued = bl.issued && bl.issued.region === beeldRegion() ? bl.issued : null;
  box.hidden = !issued;
  const sig = JSON.stringify([state.lang, issued]);
  if (sig === bl.issuedSig) return;
  bl.issuedSig = sig;
  if (!issued) { box.replaceChildren(); return; }
  const moment = { at: issued.at, clock: 'known' };
  const what = () => t('beeldIssuedWhat', fmtMoment(issued.at));
  const button = (key, text, aria, fn, cls) => {
    const node = el('button', { type: 'button', class: cls || null, 'data-focus': key, 'aria-label': aria }, text);
    node.addEventListener('click', fn);
    return node;
  };
  keepFocus(box, () => box.replaceChildren(
    el('p', { class: 'beeld-issued-text' }, el('span', { class: 'icon', 'aria-hidden': 'true' }, '✓ '),
      t('beeldIssued', fmtMoment(issued.at), fmtClock(issued.time, true))),
    el('div', { class: 'beeld-actions' },
      button('beeld-issued-open', t('beeldOpen'), t('beeldOpenAria', what()), () => openBeeld(issued.region, moment, what), 'primary'),
      button('beeld-issued-pdf', t('beeldPdf'), t('beeldPdfAria', what()), () => downloadPdf(issued.region, moment)),
      button('beeld-issued-copy', t('beeldCopy'), t('beeldCopyAria', what()), () => copyMarkdown(issued.region, moment, what)))));
}

/** The region's active incidents (of the moment shown) to choose from; the choice kept across renders. */
function renderIncidents(code) {
  const select = $('beeld-f-incident');
  const view = regionView(code);
  const incidents = Object.entries((view && view.incidents) || {}).filter(([, i]) => i.state !== 'gesloten')
    .sort((a, b) => num(b[1].grip) - num(a[1].grip) || String(a[1].name || a[0]).localeCompare(String(b[1].name || b[0])));
  const sig = JSON.stringify([state.lang, code, incidents.map(([id, i]) => [id, i.name, num(i.grip), i.state])]);
  if (sig === bl.incidentSig) return;
  bl.incidentSig = sig;
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, t('beeldNoIncident')),
    ...incidents.map(([id, i]) => el('option', { value: id }, `${i.name || id} (${t('grip', num(i.grip))}, ${label('IncidentState', i.state)})`)));
  select.value = incidents.some(([id]) => id === chosen) ? chosen : '';
}

/**
 * Draws the control: called by app.js after lookback.js has settled which picture the page
 * shows (`mode` as app.js names it). Offered where the dashboard is, never on the wall
 * screen nor on an institution's own page.
 */
export function renderBeeld(mode) {
  bl.mode = mode;
  build();
  const code = beeldRegion();
  const offered = (mode === 'locations' || mode === 'aggregate') && !bigScreen() && may('read_picture') && !!code;
  const toggle = $('beeld-toggle');
  toggle.hidden = !offered;
  $('beeld').hidden = !offered || !bl.open;
  setAttr(toggle, 'aria-expanded', !$('beeld').hidden);
  const m = shownMoment();
  setText($('beeld-toggle-text'), m ? t('beeldToggleAt', fmtMoment(m.at)) : t('beeldToggle'));
  toggle.classList.toggle('past', !!m);
  if (!offered) return;

  setText($('beeld-what'), m ? t('beeldOfMoment', fmtMoment(m.at), clockWords(m.clock), regionName(code)) : t('beeldOfNow', regionName(code)));
  setText($('beeld-intro'), t('beeldIntro'));
  $('beeld').classList.toggle('past', !!m);

  // The national view shows every region; a beeld is of one, chosen here.
  const national = selectedCode() === ALL_REGIONS;
  $('beeld-region-field').hidden = !national;
  if (national) {
    setText($('beeld-region-label'), t('beeldRegion'));
    const select = $('beeld-region');
    const codes = regionCodes();
    const sig = JSON.stringify([codes, codes.map(regionName)]);
    if (select.dataset.sig !== sig) {
      select.dataset.sig = sig;
      select.replaceChildren(...codes.map((c) => el('option', { value: c }, regionName(c))));
    }
    if (select.value !== code) select.value = code;
  }

  const slot = $('beeld-form-slot');
  const mayIssue = may('ask_and_advise');
  if (mayIssue && !$('beeld-form')) slot.replaceChildren(issueForm());
  if (!mayIssue && slot.firstChild) slot.replaceChildren();
  $('beeld').classList.toggle('with-form', mayIssue);
  if (mayIssue) {
    setText($('beeld-issue-title'), t('beeldIssueTitle'));
    setText($('beeld-issue-moment'), m ? t('beeldIssueAt', fmtMoment(m.at)) : t('beeldIssueNow'));
    setText($('beeld-f-summary-label'), t('beeldSummary'));
    setText($('beeld-f-summary-hint'), t('beeldSummaryHint', SUMMARY_MAX));
    setText($('beeld-f-incident-label'), t('beeldIncident'));
    setText($('beeld-issue-hint'), t('beeldIssueHint'));
    renderCount();
    renderIncidents(code);
    renderErrors();
  }
  renderButtons();
  renderStatus();
  renderIssued();
}

/** Draws the control again at once (a click in it). */
function redraw() {
  if (bl.mode) renderBeeld(bl.mode);
}

on('signedOut', () => {
  Object.assign(bl, { open: false, region: null, status: null, issued: null, errors: [], incidentSig: '', issuedSig: '', errorsSig: '' });
  const form = $('beeld-form');
  if (form) form.remove();
});
