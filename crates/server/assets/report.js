// ghor — the report form: changes any dimension of a location in a few clicks (prefilled
// with its current value), or says "niet getroffen" in one click. An institution reports
// for its own organisation's locations (bron: formulier); the informatiemanager uses the
// same form on a location's behalf (bron: telefoon; the server records the IM as actor).
// Refusals show in Dutch, per field, built from the problem+json `errors[]`; what was
// stored is confirmed with its sequence number.

import {
  $, t, el, has, fmtClock, label, keyType, byOrder, addTexts, state, on, postEvent, problemText, isObject, showDialog,
  may, mayClaim, ORDER,
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
    helpOpen: 'openen',
    helpUpdate: 'bijwerken',
    helpClose: 'sluiten',
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
    reasonRequired: 'is verplicht',
    reasonNegative: 'mag niet negatief zijn (0 of meer)',
    reasonWhole: 'moet een heel getal zijn',
    reasonTooBig: 'is groter dan het maximum',
    reasonMorePhysical: 'is meer dan het aantal fysieke bedden',
    reasonMoreOccupied: 'is meer dan het aantal bezette bedden',
    reasonMoreClients: 'is meer dan het aantal cliënten',
    reasonChoice: 'is geen toegestane keuze',
    reasonTooLong: (n) => `is te lang (maximaal ${n} tekens)`,
    reasonBsn: 'lijkt een burgerservicenummer te bevatten; meld alleen aantallen, nooit patiëntgegevens',
    reasonFuture: 'ligt in de toekomst; controleer de klok van uw computer',
    reasonPercent: 'moet tussen 0 en 100 liggen',
    reasonOther: (r) => `wordt niet geaccepteerd (${r})`,
    fieldTime: 'Tijdstip',
    fieldSource: 'Locatie',
    fieldSubject: 'Keuze',
    f: {
      care_next_24h: 'Kan de locatie de zorg van de komende 24 uur leveren?', reason: 'Toelichting',
      operational: 'Operationeel (bemand)', physical: 'Fysiek aanwezig', occupied: 'Bezet',
      occupied_infectious: 'Bezet door infectieuze patiënten', surge_24h: 'Extra te openen binnen 24 uur',
      in_use: 'In gebruik', capacity: 'Nu op te nemen slachtoffers', status: 'Status', expected_end: 'Verwacht einde',
      on_hand: 'Voorraad', daily_use: 'Verbruik per dag', can_obtain_more: 'Kan meer verkrijgen', reusing: 'Hergebruikt',
      on_backup: 'Op noodvoorziening (bijv. noodaggregaat)', backup_hours_left: 'Uren noodvoorziening over', cause: 'Oorzaak',
      unfilled_shifts_24h: 'Open diensten komende 24 uur', unfilled_shifts_72h: 'Open diensten komende 72 uur',
      absence_percent: 'Uitval (%)', critical: 'Tekort is nu kritiek', level: 'Niveau', note: 'Toelichting',
      hours: 'Uren zelfredzaam', limiting_factor: 'Beperkende factor', clients: 'Cliënten',
      electricity_dependent: 'Waarvan stroomafhankelijk', visits_at_risk: 'Bezoeken in gevaar',
      lopend: 'Lopend', rolstoel: 'Rolstoel', liggend: 'Liggend', needed_by: 'Nodig vóór',
      category: 'Categorie', urgency: 'Urgentie', text: 'Tekst',
    },
  },
  en: {
    reportTitle: (n) => `Report status — ${n}`,
    reportOnBehalfTitle: (n) => `Report on behalf of ${n} (phone)`,
    notAffected: 'Not affected',
    notAffectedHint: 'One click: this location is not affected (answer to an enquiry).',
    dimension: 'What do you report?',
    key: 'Which?',
    helpAction: 'Help request',
    helpOpen: 'open',
    helpUpdate: 'update',
    helpClose: 'close',
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
    reasonOther: (r) => r,
    fieldTime: 'Time',
    fieldSource: 'Location',
    fieldSubject: 'Choice',
    f: {
      care_next_24h: 'Can the location deliver the care of the next 24 hours?', reason: 'Reason',
      operational: 'Operational (staffed)', physical: 'Physically present', occupied: 'Occupied',
      occupied_infectious: 'Occupied by infectious patients', surge_24h: 'Extra within 24 hours',
      in_use: 'In use', capacity: 'Casualties it can take in now', status: 'Status', expected_end: 'Expected end',
      on_hand: 'On hand', daily_use: 'Use per day', can_obtain_more: 'Can obtain more', reusing: 'Reusing',
      on_backup: 'On backup (e.g. generator)', backup_hours_left: 'Backup hours left', cause: 'Cause',
      unfilled_shifts_24h: 'Unfilled shifts next 24 hours', unfilled_shifts_72h: 'Unfilled shifts next 72 hours',
      absence_percent: 'Absence (%)', critical: 'Shortage is critical now', level: 'Level', note: 'Note',
      hours: 'Hours self-sufficient', limiting_factor: 'Limiting factor', clients: 'Clients',
      electricity_dependent: 'Of whom electricity-dependent', visits_at_risk: 'Visits at risk',
      lopend: 'Walking', rolstoel: 'Wheelchair', liggend: 'Lying', needed_by: 'Needed by',
      category: 'Category', urgency: 'Urgency', text: 'Text',
    },
  },
});

// Field kinds: count, percent, text (200), longtext (1000), bool, datetime, or a vocabulary name.
const FIELDS = {
  judgement: [['care_next_24h', 'Judgement', true], ['reason', 'text']],
  beds: [['operational', 'count', true], ['occupied', 'count', true], ['physical', 'count'], ['occupied_infectious', 'count'], ['surge_24h', 'count']],
  treatment_places: [['operational', 'count', true], ['in_use', 'count', true]],
  casualty_reception: [['capacity', 'count', true]],
  acute_function: [['status', 'FunctionStatus', true], ['reason', 'text'], ['expected_end', 'datetime']],
  facility: [['status', 'FacilityStatus', true], ['reason', 'text']],
  supplies: [['on_hand', 'count', true], ['daily_use', 'count', true], ['can_obtain_more', 'bool'], ['reusing', 'bool']],
  utility: [['status', 'UtilityStatus', true], ['on_backup', 'bool'], ['backup_hours_left', 'count'], ['cause', 'IctCause']],
  staffing: [['unfilled_shifts_24h', 'count', true], ['unfilled_shifts_72h', 'count'], ['absence_percent', 'percent'], ['critical', 'bool']],
  disbalance: [['level', 'DisbalanceLevel', true], ['note', 'text']],
  self_sufficiency: [['hours', 'count', true], ['limiting_factor', 'text']],
  home_care: [['clients', 'count', true], ['electricity_dependent', 'count', true], ['visits_at_risk', 'count', true]],
  receiving_capacity: [['clients', 'count', true]],
  relocation_need: [['lopend', 'count', true], ['rolstoel', 'count', true], ['liggend', 'count', true], ['needed_by', 'datetime']],
  help_request: [['category', 'HelpCategory', true], ['urgency', 'Urgency', true], ['text', 'longtext', true]],
  note: [['text', 'longtext', true]],
};
const HELP_CLOSE_FIELDS = [['reason', 'text']];
const ICT = ['ict_zorgsystemen', 'telefonie', 'internet', 'zorgoproep', 'personenalarmering', 'wifi_domotica', 'noodcommunicatie'];

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

function fieldLabel(name) {
  return (t('f') && t('f')[name]) || name;
}

function currentValue(loc) {
  const dv = (loc.dimensions || {})[form.dimension];
  const key = keyType(form.dimension) || form.dimension === 'help_request' ? form.key : '-';
  return dv && key && has(dv.values, key) ? dv.values[key] : null;
}

function input(name, kind, required, value) {
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
    const attrs = { id, name, maxlength: kind === 'text' ? 200 : 1000, 'aria-describedby': described };
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

function fields() {
  if (form.dimension === 'help_request' && form.help === 'closed') return HELP_CLOSE_FIELDS;
  let list = FIELDS[form.dimension] || [];
  if (form.dimension === 'utility' && !ICT.includes(form.key)) list = list.filter(([n]) => n !== 'cause');
  return list;
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
  if (form.dimension === 'help_request' && !form.key) form.key = '';
  const current = currentValue(loc);
  const data = form.values || (current && isObject(current.data) && !current.retracted ? current.data : {});

  const dimSelect = el('select', { id: 'report-dimension', name: 'dimension' },
    ORDER.Dimension.filter((d) => d !== 'not_affected').map((d) => el('option', { value: d }, label('Dimension', d))));
  dimSelect.value = form.dimension;
  dimSelect.addEventListener('change', () => { form.dimension = dimSelect.value; form.key = null; form.errors = null; form.values = null; renderReport(); });
  let keyControl = null;
  if (keys.length) {
    const keySelect = el('select', { id: 'report-key', name: 'key' }, keys.map((k) => el('option', { value: k }, label(keyType(form.dimension), k))));
    keySelect.value = form.key;
    keySelect.addEventListener('change', () => { form.key = keySelect.value; form.errors = null; form.values = null; renderReport(); });
    keyControl = el('div', { class: 'field', 'data-field': 'subject' }, el('label', { for: 'report-key' }, t('key')), keySelect,
      el('span', { id: 'report-f-subject-error', class: 'field-error' }));
  } else if (form.dimension === 'help_request') {
    const action = el('select', { id: 'report-help-action' }, ['opened', 'updated', 'closed'].map((a) =>
      el('option', { value: a }, t({ opened: 'helpOpen', updated: 'helpUpdate', closed: 'helpClose' }[a]))));
    action.value = form.help;
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
    el('div', { class: 'field-grid' }, fields().map(([name, kind, required]) => input(name, kind, required, data[name]))),
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
  for (const [name, kind] of fields()) {
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
  const verb = d === 'help_request' ? form.help : 'reported';
  const what = [label('Dimension', d), form.key && keyType(d) ? label(keyType(d), form.key) : form.key].filter(Boolean).join(' ');
  const prognose = formNode.elements.prognose.value.trim();
  form.values = readData(formNode);
  form.prognose = prognose;
  submit(loc, { type: `nl.ghor.${d}.${verb}.v1`, subject: keyType(d) || d === 'help_request' ? form.key : undefined,
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
  return send(id, { type: 'nl.ghor.not_affected.reported.v1', data: {} }, label('Dimension', 'not_affected'));
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

/** A server reason in the chosen language: Dutch for the refusals the API gives. */
function reasonText(reason) {
  if (state.lang === 'en') return reason;
  const r = String(reason || '');
  const rules = [
    [/is required|missing field/, () => t('reasonRequired')],
    [/is negative|counts are 0 or more/, () => t('reasonNegative')],
    [/not a whole number|invalid type: floating/, () => t('reasonWhole')],
    [/more than the largest accepted/, () => t('reasonTooBig')],
    [/more than the physical beds/, () => t('reasonMorePhysical')],
    [/more than the occupied beds/, () => t('reasonMoreOccupied')],
    [/more than the number of clients/, () => t('reasonMoreClients')],
    [/unknown variant|must be one of/, () => t('reasonChoice')],
    [/at most (\d+) are accepted/, (m) => t('reasonTooLong', m[1])],
    [/BSN|citizen service number/, () => t('reasonBsn')],
    [/future/, () => t('reasonFuture')],
    [/percent|0 to 100|between 0 and 100/, () => t('reasonPercent')],
  ];
  for (const [re, text] of rules) {
    const m = re.exec(r);
    if (m) return text(m);
  }
  return t('reasonOther', r);
}

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
    const text = `${names[name] || fieldLabel(name)}: ${reasonText(e.reason)}`;
    lines.push(el('li', { 'data-error-field': e.field }, text));
    const slot = formNode.querySelector(`#report-f-${CSS.escape(name)}-error`);
    const control = formNode.elements[name] || (name === 'subject' ? formNode.querySelector('#report-key') : null);
    if (slot) slot.textContent = reasonText(e.reason);
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
