// ghor — the report form: changes any dimension of a location in a few clicks (prefilled
// with its current value), or says "niet getroffen" in one click. An institution reports
// for its own organisation's locations (bron: formulier); the informatiemanager uses the
// same form on a location's behalf (bron: telefoon; the server records the IM as actor).
// The form is built from the server's description of each dimension (`/v1/domain`: its
// key, the event types that report it, their fields with kind, limits and labels).
// Refusals show per field in the chosen language, worded from the error catalogue by each
// `errors[]` entry's code and params; what was stored is confirmed with its sequence number.

import {
  $, t, el, has, fmtClock, label, keyType, byOrder, addTexts, state, on, postEvent, problemText, isObject, showDialog,
  may, mayClaim, order, dimensionInfo, errorMessage,
} from './core.js';

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
  Object.assign(form, { id, region, receipt: null, errors: null, busy: false, values: null, prognose: '' });
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

function input(field, value) {
  const { name, kind, required } = field;
  const id = `report-f-${name}`;
  const described = `${id}-error`;
  let control;
  if (kind === 'bool') {
    control = el('input', { type: 'checkbox', id, name, checked: value === true });
    return el('div', { class: 'field check', 'data-field': name }, control, el('label', { for: id }, fieldLabel(name)),
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
    el('label', { for: id }, fieldLabel(name), required ? null : el('span', { class: 'meta' }, ` (${t('optional')})`)),
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
  const data = {};
  for (const { name, kind } of fields()) {
    const control = formNode.elements[name];
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
export function sendNotAffected(id) {
  const report = dimensionInfo('not_affected').reports[0];
  return send(id, { type: report.type, data: {} }, label('Dimension', 'not_affected'));
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
});
on('signedOut', () => { if ($('report').open) $('report').close(); });

export function bindReport() {
  const dialog = $('report');
  dialog.addEventListener('close', () => { form.id = null; });
  dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
}
