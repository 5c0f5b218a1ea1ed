// ghor — the report form: changes any dimension of a location in a few clicks (prefilled
// with its current value), or says "niet getroffen" in one click. An institution reports
// for its own organisation's locations (bron: formulier); the informatiemanager uses the
// same form on a location's behalf (bron: telefoon; the server records the IM as actor).
// The form is built from the server's description of each dimension (`/v1/domain`: its
// key, the event types that report it, their fields with kind, limits and labels).
// Refusals show per field in the chosen language, worded from the error catalogue by each
// `errors[]` entry's code and params; what was stored is confirmed with its sequence number.

import {
  $, t, el, has, fmtClock, label, keyType, byOrder, addTexts, state, on, postEvent, postEvents, problemText, isObject, showDialog,
  may, mayClaim, order, dimensionInfo, errorMessage, liveAge,
} from './core.js';
import { uitvragen, deadlineSpan, askedText, answerBadge, missingText, isOver } from './warm.js';

addTexts({
  nl: {
    reportTitle: (n) => `Status melden — ${n}`,
    reportOnBehalfTitle: (n) => `Melden namens ${n} (telefoon)`,
    notAffected: 'Niet getroffen',
    notAffectedHint: 'Eén klik: deze locatie is niet getroffen (antwoord op een uitvraag).',
    dimension: 'Wat wilt u melden?',
    key: 'Welke?',
    helpAction: 'Hulpvraag',
    helpId: 'Kenmerk hulpvraag (kleine letters, cijfers, -)',
    prognose: 'Prognose (optioneel)',
    save: 'Opslaan',
    saving: 'Opslaan…',
    optional: 'optioneel',
    yes: 'ja',
    stored: (what, hm, seq) => `Opgeslagen om ${hm}: ${what} (volgnummer ${seq}).`,
    duplicate: (what, seq) => `Was al opgeslagen: ${what} (volgnummer ${seq}).`,
    refused: 'Niet opgeslagen. Verbeter wat hieronder staat en probeer opnieuw:',
    notOwn: 'U kunt alleen melden voor locaties van uw eigen organisatie. Kies een van uw eigen locaties.',
    notAllowed: 'Uw rol kan geen status melden. Het melden gebeurt door de instelling of de informatiemanager.',
    unknownLocation: 'Deze locatie is onbekend of niet zichtbaar voor uw rol.',
    current: (hm) => `Huidige waarde van ${hm} staat al ingevuld.`,
    noCurrent: 'Nog geen waarde gemeld; vul de velden in.',
    fieldTime: 'Tijdstip',
    fieldSource: 'Locatie',
    fieldSubject: 'Keuze',
  },
  en: {
    reportTitle: (n) => `Report status — ${n}`,
    reportOnBehalfTitle: (n) => `Report on behalf of ${n} (phone)`,
    notAffected: 'Not affected',
    notAffectedHint: 'One click: this location is not affected (answer to an enquiry).',
    dimension: 'What do you report?',
    key: 'Which?',
    helpAction: 'Help request',
    helpId: 'Help request reference (lowercase letters, digits, -)',
    prognose: 'Prognosis (optional)',
    save: 'Save',
    saving: 'Saving…',
    optional: 'optional',
    yes: 'yes',
    stored: (what, hm, seq) => `Stored at ${hm}: ${what} (sequence ${seq}).`,
    duplicate: (what, seq) => `Already stored: ${what} (sequence ${seq}).`,
    refused: 'Not stored. Correct what is listed below and try again:',
    notOwn: "You can only report for your own organisation's locations. Choose one of your own locations.",
    notAllowed: 'Your role cannot report status. The institution or the informatiemanager reports.',
    unknownLocation: 'This location is unknown or not visible to your role.',
    current: (hm) => `The current value of ${hm} is filled in.`,
    noCurrent: 'Nothing reported yet; fill in the fields.',
    fieldTime: 'Time',
    fieldSource: 'Location',
    fieldSubject: 'Choice',
  },
});

/** Whether this token may report for `loc`: on anyone's behalf, or for its own organisation's. */
export function mayReportFor(loc) {
  if (may('report_on_behalf')) return true;
  return may('report') && !!loc && loc.organisation === state.me.organisation;
}

/** Whether this token reports for its own organisation (not on someone's behalf). */
export function reportsOwn() {
  return may('report') && !may('report_on_behalf');
}

function findLocation(id) {
  for (const [code, view] of Object.entries(state.regions)) {
    if (has(view.locations, id)) return [code, view.locations[id]];
  }
  return [null, null];
}

/** The form's state while the dialog is open. */
const form = { id: null, region: null, dimension: 'beds', key: null, help: 'opened', receipt: null, errors: null, busy: false,
  values: null /* what was last sent, kept in the fields across re-renders */ };

export function openReport(id, region, dimension, key) {
  Object.assign(form, { id, region, uitvraag: null, receipt: null, errors: null, busy: false, values: null, prognose: '' });
  if (dimension) { form.dimension = dimension; form.key = key || null; }
  renderReport();
  const dialog = $('report');
  showDialog(dialog);
  const first = dialog.querySelector('#report-dimension, [data-close]');
  if (first) first.focus();
}

/** The event type the form reports now: the dimension's (for help requests, the chosen action's). */
function currentReport() {
  const dim = dimensionInfo(form.dimension);
  const reports = (dim && dim.reports) || [];
  return reports.find((r) => r.verb === form.help) || reports[0] || null;
}

/** Whether the form's dimension has a key (a vocabulary value, or an identifier such as a help request's). */
function keyed(dimension) {
  const dim = dimensionInfo(dimension);
  return !!(dim && dim.key);
}

function fieldLabel(name) {
  const f = fields().find((x) => x.name === name);
  return f ? f.label[state.lang] || f.label.nl : name;
}

function currentValue(loc) {
  const dv = (loc.dimensions || {})[form.dimension];
  const key = keyed(form.dimension) ? form.key : '-';
  return dv && key && has(dv.values, key) ? dv.values[key] : null;
}

/** The control of one field, labelled from the server's description; `prefix` keeps ids
 *  apart when one form holds several dimensions (the answer to an uitvraag). */
function input(field, value, prefix = 'report-f') {
  const { name, kind, required } = field;
  const id = `${prefix}-${name}`;
  const text = (field.label && (field.label[state.lang] || field.label.nl)) || name;
  const described = `${id}-error`;
  let control;
  if (kind === 'bool') {
    control = el('input', { type: 'checkbox', id, name, checked: value === true });
    return el('div', { class: 'field check', 'data-field': name }, control, el('label', { for: id }, text),
      el('span', { id: described, class: 'field-error' }));
  }
  if (kind === 'count' || kind === 'percent') {
    control = el('input', { type: 'number', id, name, inputmode: 'numeric', step: 1, value: value ?? '', 'aria-describedby': described });
  } else if (kind === 'text' || kind === 'longtext') {
    const attrs = { id, name, maxlength: field.max_length, 'aria-describedby': described };
    control = kind === 'text' ? el('input', Object.assign({ type: 'text', value: value ?? '' }, attrs)) : el('textarea', attrs, value ?? '');
  } else if (kind === 'datetime') {
    control = el('input', { type: 'datetime-local', id, name, value: value ? toLocalInput(value) : '', 'aria-describedby': described });
  } else {
    const options = byOrder(kind, Object.keys(vocabulary(kind)).map((k) => [k])).map(([k]) => el('option', { value: k }, label(kind, k)));
    control = el('select', { id, name, 'aria-describedby': described }, required ? null : el('option', { value: '' }, '—'), options);
    if (value) control.value = value;
  }
  return el('div', { class: 'field', 'data-field': name },
    el('label', { for: id }, text, required ? null : el('span', { class: 'meta' }, ` (${t('optional')})`)),
    control, el('span', { id: described, class: 'field-error' }));
}

function vocabulary(type) {
  const v = state.vocab && state.vocab.vocabularies;
  return (v && v[type]) || {};
}

function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The fields of the event type reported now, without those that do not apply to the chosen key. */
function fields() {
  const report = currentReport();
  return ((report && report.fields) || []).filter((f) => !Array.isArray(f.keys) || f.keys.includes(form.key));
}

function keysOf(dimension) {
  const type = keyType(dimension);
  return type ? byOrder(type, Object.keys(vocabulary(type)).map((k) => [k])).map(([k]) => k) : [];
}

export function renderReport() {
  if (!form.id) return;
  renderedFor = `${state.lang}|${!!state.vocab}`;
  if (form.uitvraag) { renderAnswer(); return; }
  const [region, loc] = findLocation(form.id);
  const body = $('report-body');
  if (!loc) {
    $('report-title').textContent = t('reportTitle', form.id);
    body.replaceChildren(el('p', { class: 'error', id: 'report-refused' }, reportsOwn() ? t('notOwn') : t('unknownLocation')));
    return;
  }
  form.region = region;
  const behalf = !reportsOwn();
  $('report-title').textContent = behalf ? t('reportOnBehalfTitle', loc.name) : t('reportTitle', loc.name);
  if (!mayReportFor(loc)) {
    body.replaceChildren(el('p', { class: 'error', id: 'report-refused' }, reportsOwn() ? t('notOwn') : t('notAllowed')));
    return;
  }
  const keys = keysOf(form.dimension);
  if (keys.length && !keys.includes(form.key)) form.key = keys[0];
  if (keyed(form.dimension) && !keys.length && !form.key) form.key = '';
  const current = currentValue(loc);
  const data = form.values || (current && isObject(current.data) && !current.retracted ? current.data : {});

  const dimSelect = el('select', { id: 'report-dimension', name: 'dimension' },
    order('Dimension').filter((d) => d !== 'not_affected').map((d) => el('option', { value: d }, label('Dimension', d))));
  dimSelect.value = form.dimension;
  dimSelect.addEventListener('change', () => { form.dimension = dimSelect.value; form.key = null; form.errors = null; form.values = null; renderReport(); });
  let keyControl = null;
  if (keys.length) {
    const keySelect = el('select', { id: 'report-key', name: 'key' }, keys.map((k) => el('option', { value: k }, label(keyType(form.dimension), k))));
    keySelect.value = form.key;
    keySelect.addEventListener('change', () => { form.key = keySelect.value; form.errors = null; form.values = null; renderReport(); });
    keyControl = el('div', { class: 'field', 'data-field': 'subject' }, el('label', { for: 'report-key' }, t('key')), keySelect,
      el('span', { id: 'report-f-subject-error', class: 'field-error' }));
  } else if (keyed(form.dimension)) {
    // A key named freely (a help request's reference), reported by several event types.
    const reports = dimensionInfo(form.dimension).reports;
    const action = el('select', { id: 'report-help-action' }, reports.map((r) =>
      el('option', { value: r.verb }, r.label[state.lang] || r.label.nl)));
    action.value = currentReport().verb;
    action.addEventListener('change', () => { form.help = action.value; renderReport(); });
    const id = el('input', { type: 'text', id: 'report-key', name: 'key', value: form.key || '', maxlength: 64, 'aria-describedby': 'report-f-subject-error' });
    id.addEventListener('input', () => { form.key = id.value.trim(); });
    keyControl = [el('div', { class: 'field' }, el('label', { for: 'report-help-action' }, t('helpAction')), action),
      el('div', { class: 'field', 'data-field': 'subject' }, el('label', { for: 'report-key' }, t('helpId')), id,
        el('span', { id: 'report-f-subject-error', class: 'field-error' }))];
  }

  const notAffected = el('button', { type: 'button', id: 'report-not-affected', class: 'big', disabled: form.busy }, `✓ ${t('notAffected')}`);
  notAffected.addEventListener('click', async () => {
    form.busy = true; renderReport();
    const answer = await sendNotAffected(form.id);
    form.busy = false; form.receipt = answer.ok ? lastReceipt.text : null; form.errors = answer.ok ? null : answer;
    renderReport();
  });

  const formNode = el('form', { id: 'report-form', novalidate: true },
    el('div', { class: 'field-row' }, el('div', { class: 'field' }, el('label', { for: 'report-dimension' }, t('dimension')), dimSelect), keyControl),
    el('p', { class: 'meta' }, current ? t('current', fmtClock(current.time)) : t('noCurrent')),
    el('div', { class: 'field-grid' }, fields().map((f) => input(f, data[f.name]))),
    el('div', { class: 'field' }, el('label', { for: 'report-prognose' }, t('prognose')),
      el('input', { type: 'text', id: 'report-prognose', name: 'prognose', maxlength: 200, value: form.prognose || '', 'aria-describedby': 'report-f-prognose-error' }),
      el('span', { id: 'report-f-prognose-error', class: 'field-error' })),
    el('div', { id: 'report-errors', role: 'alert' }),
    el('button', { type: 'submit', id: 'report-save', class: 'primary', disabled: form.busy }, form.busy ? t('saving') : t('save')));
  formNode.addEventListener('submit', (e) => { e.preventDefault(); submitForm(loc, formNode); });

  body.replaceChildren(
    el('div', { class: 'one-click' }, notAffected, el('span', { class: 'meta' }, t('notAffectedHint'))),
    el('p', { id: 'report-receipt', class: 'receipt', role: 'status', 'aria-live': 'polite', hidden: !form.receipt }, form.receipt || ''),
    formNode);
  showErrors(formNode);
}

/** The event's `data` from the form; empty optional fields are left out. */
function readData(formNode) {
  return readFields(fields(), formNode, 'report-f');
}

/** The `data` of `list` (fields) as filled in under `root`, the controls named by `prefix`. */
function readFields(list, root, prefix) {
  const data = {};
  for (const { name, kind } of list) {
    const control = root.querySelector(`#${CSS.escape(`${prefix}-${name}`)}`);
    if (!control) continue;
    if (kind === 'bool') { data[name] = control.checked; continue; }
    const raw = control.value.trim();
    if (raw === '') continue;
    if (kind === 'count' || kind === 'percent') data[name] = /^-?\d+$/.test(raw) ? Number(raw) : Number(raw.replace(',', '.'));
    else if (kind === 'datetime') data[name] = new Date(raw).toISOString();
    else data[name] = raw;
  }
  return data;
}

function submitForm(loc, formNode) {
  const d = form.dimension;
  const report = currentReport();
  const what = [label('Dimension', d), form.key && keyType(d) ? label(keyType(d), form.key) : form.key].filter(Boolean).join(' ');
  const prognose = formNode.elements.prognose.value.trim();
  form.values = readData(formNode);
  form.prognose = prognose;
  submit(loc, { type: report.type, subject: keyed(d) ? form.key : undefined,
    data: form.values, prognose: prognose || undefined }, what);
}

/** Posts one report about location `id`; confirms it in `lastReceipt`. Resolves to the answer. */
export async function send(id, event, what) {
  // Who reports on a location's behalf took it by phone; the institution used the form.
  const bron = !reportsOwn() && mayClaim('telefoon') ? 'telefoon' : 'formulier';
  const answer = await postEvent(Object.assign({ source: `/locations/${id}`, bron }, event));
  if (answer.ok) {
    const b = answer.body || {};
    lastReceipt.text = b.status === 'duplicate' ? t('duplicate', what, b.seq) : t('stored', what, fmtClock(new Date(), true), b.seq);
    lastReceipt.location = id;
  }
  for (const hook of receiptHooks) hook(answer);
  return answer;
}

/** "Niet getroffen" in one click. */
/** "Niet getroffen" in one click; as the answer to `uitvraag` when named. */
export function sendNotAffected(id, uitvraag) {
  const report = dimensionInfo('not_affected').reports[0];
  return send(id, { type: report.type, data: uitvraag ? { uitvraag } : {} }, label('Dimension', 'not_affected'));
}

async function submit(loc, event, what) {
  form.busy = true;
  form.errors = null;
  renderReport();
  const id = form.id;
  const answer = await send(id, event, what);
  if (form.id !== id) return;
  form.busy = false;
  form.receipt = answer.ok ? lastReceipt.text : null;
  form.errors = answer.ok ? null : answer;
  renderReport();
}

/** The newest confirmation, also shown on the institution's page after the dialog closes. */
export const lastReceipt = { text: null, location: null };
const receiptHooks = [];
export function onReceipt(fn) { receiptHooks.push(fn); }

/** The input a problem's field path points at ("data.occupied" → occupied). */
function fieldOf(path) {
  const p = String(path || '');
  if (p.startsWith('data.')) return p.slice(5).split(/[.[]/)[0];
  return p;
}

function showErrors(formNode) {
  const box = formNode.querySelector('#report-errors');
  if (!form.errors) { box.replaceChildren(); return; }
  const problem = form.errors.body || {};
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  const lines = [];
  let first = null;
  for (const e of errors) {
    const name = fieldOf(e.field);
    const names = { time: t('fieldTime'), source: t('fieldSource'), subject: t('fieldSubject'), prognose: t('prognose') };
    const text = `${names[name] || fieldLabel(name)}: ${errorMessage(e)}`;
    lines.push(el('li', { 'data-error-field': e.field }, text));
    const slot = formNode.querySelector(`#report-f-${CSS.escape(name)}-error`);
    const control = formNode.elements[name] || (name === 'subject' ? formNode.querySelector('#report-key') : null);
    if (slot) slot.textContent = errorMessage(e);
    if (control) { control.setAttribute('aria-invalid', 'true'); first = first || control; }
  }
  if (!errors.length) lines.push(el('li', {}, problemText(form.errors)));
  box.replaceChildren(el('div', { class: 'error-summary' }, el('p', {}, t('refused')), el('ul', {}, lines)));
  if (first) first.focus();
}

// Never re-rendered by stream updates (that would wipe what is being typed); only when
// the language or the vocabulary changes under an open form.
let renderedFor = '';
on('render', () => {
  const now = `${state.lang}|${!!state.vocab}`;
  if ($('report').open && now !== renderedFor) renderReport();
  else if ($('report').open && form.uitvraag) refreshAnswerState();
});
on('signedOut', () => { if ($('report').open) $('report').close(); });

export function bindReport() {
  const dialog = $('report');
  dialog.addEventListener('close', () => { form.id = null; });
  dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
}

// ---------------------------------------------------------------- the answer to an uitvraag

addTexts({
  nl: {
    answerTitle: (n) => `Uitvraag beantwoorden — ${n}`,
    answerOnBehalfTitle: (n) => `Beantwoorden namens ${n} (telefoon)`,
    answerUnknown: 'Deze uitvraag is niet gevonden, of niet gericht aan een locatie die u ziet.',
    answerNotAddressed: (n) => `Deze uitvraag is niet aan ${n} gericht.`,
    answerClosed: 'Deze uitvraag is gesloten; wat u nu meldt, komt wel in het beeld maar telt niet meer als antwoord.',
    answerHint: 'De huidige waarden staan al ingevuld. Pas aan wat niet klopt en sla alles in één keer op.',
    answerSave: (n) => (n === 1 ? 'Opslaan' : `Alles opslaan (${n})`),
    answerStored: (hm, what) => `Opgeslagen om ${hm}: ${what}.`,
    answerPartly: 'Niet alles is opgeslagen; verbeter wat bij de velden staat en probeer opnieuw.',
    answerCurrent: (hm) => `Huidige waarde van ${hm}`,
    criticalNow: (dims) => `Deze locatie meldt nu "kritiek" voor: ${dims}. Die meldingen blijven staan. Toch "niet getroffen" melden?`,
    confirmNotAffected: 'Ja, niet getroffen',
    cancel: 'Annuleren',
  },
  en: {
    answerTitle: (n) => `Answer the enquiry — ${n}`,
    answerOnBehalfTitle: (n) => `Answer on behalf of ${n} (phone)`,
    answerUnknown: 'This enquiry was not found, or it does not address a location you see.',
    answerNotAddressed: (n) => `This enquiry does not address ${n}.`,
    answerClosed: 'This enquiry is closed; what you report now goes into the picture but no longer counts as an answer.',
    answerHint: 'The current values are filled in. Change what is not right and save everything at once.',
    answerSave: (n) => (n === 1 ? 'Save' : `Save all (${n})`),
    answerStored: (hm, what) => `Stored at ${hm}: ${what}.`,
    answerPartly: 'Not everything was stored; correct what the fields say and try again.',
    answerCurrent: (hm) => `Current value of ${hm}`,
    criticalNow: (dims) => `This location now reports "critical" for: ${dims}. Those reports stay. Report "not affected" anyway?`,
    confirmNotAffected: 'Yes, not affected',
    cancel: 'Cancel',
  },
});

/**
 * Opens the form that answers uitvraag `uitvraag` for location `id`: exactly the asked
 * dimensions (and keys), each prefilled with its current value, saved together.
 */
export function openAnswer(uitvraag, id) {
  Object.assign(form, { id, region: null, uitvraag, items: null, itemValues: {}, itemErrors: {}, receipt: null, errors: null, busy: false });
  renderReport();
  const dialog = $('report');
  showDialog(dialog);
  const first = dialog.querySelector('#answer-form input, #answer-form select') || dialog.querySelector('[data-close]');
  if (first) first.focus();
}

/** What one asked dimension needs filled in: its key (fixed when the uitvraag names it). */
function answerItems(u, loc) {
  const items = [];
  for (const a of u.asked || []) {
    const dim = dimensionInfo(a.dimension);
    if (!dim) continue;
    if (a.keys && a.keys.length) for (const key of a.keys) items.push({ dimension: a.dimension, key, fixed: true });
    else if (keyType(a.dimension)) items.push({ dimension: a.dimension, key: defaultKey(a.dimension, loc), fixed: false });
    else if (dim.key) items.push({ dimension: a.dimension, key: '', fixed: false, free: true });
    else items.push({ dimension: a.dimension, key: null, fixed: true });
  }
  return items;
}

/** The key a location last reported for `dimension`, else the first of the dimension. */
function defaultKey(dimension, loc) {
  const values = ((loc.dimensions || {})[dimension] || {}).values || {};
  const newest = Object.entries(values).sort((a, b) => String(b[1].time).localeCompare(String(a[1].time)))[0];
  return newest ? newest[0] : keysOf(dimension)[0];
}

function itemFields(item) {
  const dim = dimensionInfo(item.dimension);
  const report = dim && dim.reports && dim.reports[0];
  return ((report && report.fields) || []).filter((f) => !Array.isArray(f.keys) || f.keys.includes(item.key));
}

function itemWhat(item) {
  return [label('Dimension', item.dimension), item.key && keyType(item.dimension) ? label(keyType(item.dimension), item.key) : item.key]
    .filter(Boolean).join(' ');
}

function itemCurrent(item, loc) {
  const dv = (loc.dimensions || {})[item.dimension];
  const key = item.key === null ? '-' : item.key;
  const v = dv && has(dv.values, key) ? dv.values[key] : null;
  return v && !v.retracted ? v : null;
}

/** Keeps what was typed in the answer form across a re-render. */
function captureAnswer() {
  const root = $('answer-form');
  if (!root || !form.items) return;
  form.items.forEach((item, i) => {
    const key = root.querySelector(`#ans-${i}-key`);
    if (key && !item.fixed) item.key = key.value.trim();
    form.itemValues[i] = readFields(itemFields(item), root, `ans-${i}`);
  });
}

/** The dimensions a location reports as critical now, in words (asked about before "niet getroffen"). */
export function criticalDimensions(loc) {
  return Object.entries((loc && loc.dimensions) || {}).filter(([, dv]) => dv.state === 'kritiek').map(([d]) => label('Dimension', d));
}

/** The "niet getroffen" buttons now asking for confirmation (by location and uitvraag),
 *  kept here so that a re-render of the page does not drop the question. */
const confirming = new Set();

/**
 * The "niet getroffen" button: one click, unless the location reports something critical
 * now; then it first says what and asks (both would stand in the picture side by side).
 */
export function notAffectedControl(id, loc, uitvraag, attrs, done) {
  const key = `${id}|${uitvraag || ''}`;
  const box = el('span', { class: 'not-affected-control' });
  const send = async () => {
    confirming.delete(key);
    box.replaceChildren(el('span', { class: 'meta' }, t('saving')));
    const answer = await sendNotAffected(id, uitvraag);
    if (done) done(answer);
  };
  const button = el('button', Object.assign({ type: 'button', class: 'big' }, attrs), `✓ ${t('notAffected')}`);
  const ask = () => {
    const yes = el('button', { type: 'button', class: 'big', 'data-confirm-not-affected': id, 'data-focus': `confirm-na:${key}` }, t('confirmNotAffected'));
    const no = el('button', { type: 'button', 'data-focus': `cancel-na:${key}` }, t('cancel'));
    yes.addEventListener('click', send);
    no.addEventListener('click', () => { confirming.delete(key); box.replaceChildren(button); button.focus(); });
    box.replaceChildren(el('span', { class: 'confirm', role: 'alert' }, t('criticalNow', criticalDimensions(loc).join(', '))), yes, no);
    return yes;
  };
  button.addEventListener('click', () => {
    if (!criticalDimensions(loc).length) { send(); return; }
    confirming.add(key);
    ask().focus();
  });
  if (confirming.has(key) && criticalDimensions(loc).length) ask();
  else box.append(button);
  return box;
}

function renderAnswer() {
  const body = $('report-body');
  const [, loc] = findLocation(form.id);
  const u = uitvragen()[form.uitvraag];
  const refuse = (text) => body.replaceChildren(el('p', { class: 'error', id: 'report-refused' }, text));
  $('report-title').textContent = t(reportsOwn() ? 'answerTitle' : 'answerOnBehalfTitle', (loc && loc.name) || form.id);
  if (!loc) { refuse(reportsOwn() ? t('notOwn') : t('unknownLocation')); return; }
  if (!mayReportFor(loc)) { refuse(reportsOwn() ? t('notOwn') : t('notAllowed')); return; }
  if (!u) { refuse(t('answerUnknown')); return; }
  const entry = (u.locations || {})[form.id];
  if (!entry) { refuse(t('answerNotAddressed', loc.name || form.id)); return; }
  captureAnswer();
  if (!form.items) form.items = answerItems(u, loc);

  const fieldsets = form.items.map((item, i) => answerFieldset(item, i, loc));
  const save = el('button', { type: 'submit', id: 'answer-save', class: 'primary', disabled: form.busy },
    form.busy ? t('saving') : t('answerSave', form.items.length));
  const formNode = el('form', { id: 'answer-form', novalidate: true },
    el('p', { class: 'meta' }, t('answerHint')),
    fieldsets,
    el('div', { id: 'report-errors', role: 'alert' }, form.errors ? el('div', { class: 'error-summary' }, form.errors) : null),
    el('div', { class: 'save-row' }, save,
      el('p', { id: 'report-receipt', class: 'receipt', role: 'status', 'aria-live': 'polite', hidden: !form.receipt }, form.receipt || '')));
  formNode.addEventListener('submit', (e) => { e.preventDefault(); submitAnswer(u, loc); });

  body.replaceChildren(
    el('section', { class: 'ask-head', 'data-uitvraag': form.uitvraag },
      el('h3', {}, u.title),
      u.question ? el('p', { class: 'question' }, u.question) : null,
      el('p', {}, el('strong', {}, `${t('deadline')}: `), deadlineSpan(u)),
      el('p', {}, el('strong', {}, `${t('asked')}: `), askedText(u.asked)),
      u.closed ? el('p', { class: 'note' }, t('answerClosed')) : null,
      el('p', { id: 'answer-state' }, answerStateLine(u, entry))),
    el('div', { class: 'one-click' }, notAffectedControl(form.id, loc, form.uitvraag, { id: 'report-not-affected' }, (answer) => {
      form.receipt = answer.ok ? lastReceipt.text : null;
      form.errors = answer.ok ? null : problemText(answer);
      renderReport();
    })),
    formNode);
}

/** Where the location stands with the uitvraag: its state badge and when it answered. */
export function answerStateLine(u, entry) {
  const text = entry.state === 'beantwoord' ? t('answeredAt', fmtClock(entry.answered))
    : entry.state === 'niet_getroffen' ? t('notAffectedAt', fmtClock(entry.answered))
      : entry.state === 'deels' ? t('partlyAnswered', missingText(u, entry)) : null;
  return [answerBadge(entry.state, isOver(u, entry)), text ? ` ${text}` : ''];
}

/** Stream updates change only the answer's state line: re-rendering the fields would wipe what is being typed. */
function refreshAnswerState() {
  const line = $('answer-state');
  const u = form.uitvraag && uitvragen()[form.uitvraag];
  const entry = u && (u.locations || {})[form.id];
  if (line && entry) line.replaceChildren(...answerStateLine(u, entry));
}

function answerFieldset(item, i, loc) {
  const current = itemCurrent(item, loc);
  const values = form.itemValues[i] || (current && isObject(current.data) ? current.data : {});
  let keyControl = null;
  if (!item.fixed && item.free) {
    keyControl = el('div', { class: 'field' }, el('label', { for: `ans-${i}-key` }, t('helpId')),
      el('input', { type: 'text', id: `ans-${i}-key`, maxlength: 64, value: item.key || '' }));
  } else if (!item.fixed) {
    const select = el('select', { id: `ans-${i}-key` }, keysOf(item.dimension).map((k) => el('option', { value: k }, label(keyType(item.dimension), k))));
    select.value = item.key;
    // Another key has other fields and another current value.
    select.addEventListener('change', () => { captureAnswer(); item.key = select.value; delete form.itemValues[i]; renderReport(); });
    keyControl = el('div', { class: 'field' }, el('label', { for: `ans-${i}-key` }, t('key')), select);
  }
  const errors = form.itemErrors[i] || [];
  const slot = (name) => errors.filter((e) => fieldOf(e.field) === name).map((e) => errorMessage(e)).join(' ');
  const controls = itemFields(item).map((f) => {
    const node = input(f, values[f.name], `ans-${i}`);
    const message = slot(f.name);
    if (message) {
      node.querySelector('.field-error').textContent = message;
      const control = node.querySelector('input, select, textarea');
      if (control) control.setAttribute('aria-invalid', 'true');
    }
    return node;
  });
  const other = errors.filter((e) => !itemFields(item).some((f) => f.name === fieldOf(e.field)));
  return el('fieldset', { class: 'answer-item', 'data-dimension': item.dimension, 'data-key': item.key ?? null },
    el('legend', {}, item.fixed ? itemWhat(item) : label('Dimension', item.dimension)),
    keyControl,
    el('p', { class: 'meta' }, current ? [t('answerCurrent', fmtClock(current.time)), ' ', liveAge(current.time)] : t('noCurrent')),
    el('div', { class: 'field-grid' }, controls),
    other.length ? el('p', { class: 'field-error' }, other.map((e) => errorMessage(e)).join(' ')) : null);
}

async function submitAnswer(u, loc) {
  captureAnswer();
  const id = form.id;
  const items = form.items;
  const bron = !reportsOwn() && mayClaim('telefoon') ? 'telefoon' : 'formulier';
  const events = items.map((item, i) => {
    const report = dimensionInfo(item.dimension).reports[0];
    return { source: `/locations/${id}`, type: report.type, subject: item.key === null ? undefined : item.key, data: form.itemValues[i], bron };
  });
  Object.assign(form, { busy: true, errors: null, receipt: null, itemErrors: {} });
  renderReport();
  const answer = await postEvents(events);
  if (form.id !== id) return;
  form.busy = false;
  if (!answer.ok) {
    form.errors = problemText(answer);
  } else {
    const results = (answer.body && answer.body.results) || [];
    const refused = results.filter((r) => r.problem);
    for (const r of refused) form.itemErrors[r.index] = (r.problem.errors && r.problem.errors.length) ? r.problem.errors : [{ field: '', reason: r.problem.detail }];
    const stored = results.filter((r) => !r.problem).map((r) => itemWhat(items[r.index]));
    if (refused.length) form.errors = t('answerPartly');
    if (stored.length) {
      form.receipt = t('answerStored', fmtClock(new Date()), stored.join(', '));
      lastReceipt.text = form.receipt;
      lastReceipt.location = id;
    }
  }
  for (const hook of receiptHooks) hook(answer.ok && form.errors ? { ok: false, status: 422 } : answer);
  renderReport();
  const invalid = $('answer-form') && $('answer-form').querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
}
