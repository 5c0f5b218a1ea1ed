// ghor — the report form, phone first: a checklist of what fits the location (its type's
// first dimensions, then whatever it reported before, then anything added), each item
// prefilled with its current value, all ticked items saved together in ONE batch
// (`POST /v1/events/batch`), the confirmation ("Opgeslagen om 14:02") beside the save
// button in a footer that stays in reach. An institution reports for its own
// organisation's locations (bron: formulier); the informatiemanager uses the same form on a
// location's behalf (bron: telefoon; the server records the IM as actor). The answer to an
// uitvraag is the same checklist holding exactly what was asked. Fields come from the
// server's description of each dimension (`/v1/domain`); refusals show next to the field
// they name, worded from the error catalogue in the chosen language. "Niet getroffen" asks
// first when the location reports something critical or worrying now, and says which
// values will be withdrawn (an `observation.retracted` each) or kept.

import {
  $, t, el, has, fmtClock, label, keyLabel, keyType, byOrder, addTexts, state, on, postEvents, problemText, isObject, showDialog,
  may, mayClaim, order, dimensionInfo, eventType, errorMessage, liveAge, badge,
} from './core.js';
import { summaryLines } from './picture.js';
import { uitvragen, deadlineSpan, askedText, answerBadge, missingText, isOver } from './warm.js';

addTexts({
  nl: {
    reportTitle: (n) => `Status melden — ${n}`,
    reportOnBehalfTitle: (n) => `Melden namens ${n} (telefoon)`,
    notAffected: 'Niet getroffen',
    notAffectedHint: 'Deze locatie is niet getroffen (ook als antwoord op een uitvraag).',
    checklistHint: 'Vink aan wat u meldt. De huidige waarde staat al ingevuld; pas aan wat niet klopt. Alles wordt in één keer opgeslagen.',
    addOther: 'Iets anders melden',
    chooseDimension: '— kies wat —',
    key: 'Welke?',
    addItem: 'Toevoegen',
    helpAction: 'Hulpvraag',
    helpId: 'Kenmerk hulpvraag (kleine letters, cijfers, -)',
    prognose: 'Prognose (optioneel)',
    save: 'Opslaan',
    saveN: (n) => (n === 1 ? 'Opslaan (1)' : `Alles opslaan (${n})`),
    saving: 'Opslaan…',
    nothingTicked: 'Vink eerst aan wat u wilt melden.',
    optional: 'optioneel',
    yes: 'ja',
    stored: (hm, what) => `Opgeslagen om ${hm}: ${what}.`,
    duplicate: (what) => `Was al opgeslagen: ${what}.`,
    refused: 'Niet opgeslagen. Verbeter wat bij de velden staat en probeer opnieuw.',
    partly: (what) => `Wel opgeslagen: ${what}. De rest niet: verbeter wat bij de velden staat en probeer opnieuw.`,
    notOwn: 'U kunt alleen melden voor locaties van uw eigen organisatie. Kies een van uw eigen locaties.',
    notAllowed: 'Uw rol kan geen status melden. Het melden gebeurt door de instelling of de informatiemanager.',
    unknownLocation: 'Deze locatie is onbekend of niet zichtbaar voor uw rol.',
    currentAt: (hm) => `Nu: gemeld ${hm}`,
    noCurrent: 'Nog niet gemeld.',
    fieldTime: 'Tijdstip',
    fieldSource: 'Locatie',
    fieldSubject: 'Keuze',
    retractReason: 'Ingetrokken bij melding "niet getroffen"',
    naConfirmTitle: 'Niet getroffen melden?',
    naConfirmLead: (n, count) => (count === 1 ? `${n} meldt nu deze waarde die aandacht vraagt of kritiek is:`
      : `${n} meldt nu deze ${count} waarden die aandacht vragen of kritiek zijn:`),
    naConfirmAsk: 'Wat klopt er niet meer? Kies wat er moet gebeuren:',
    naWithdraw: 'Intrekken en niet getroffen melden',
    naWithdrawSays: (count) => (count === 1 ? 'De waarde hierboven wordt ingetrokken en verdwijnt uit het beeld; de locatie staat daarna als niet getroffen.'
      : `De ${count} waarden hierboven worden ingetrokken en verdwijnen uit het beeld; de locatie staat daarna als niet getroffen.`),
    naKeep: 'Waarden laten staan, alleen niet getroffen melden',
    naKeepSays: 'De waarden blijven in het beeld staan naast "niet getroffen"; de GHOR ziet beide.',
    naStored: (hm) => `Niet getroffen opgeslagen om ${hm}.`,
    naStoredRetracted: (hm, count) => `Niet getroffen opgeslagen om ${hm}; ${count === 1 ? '1 waarde' : `${count} waarden`} ingetrokken.`,
    cancel: 'Annuleren',
  },
  en: {
    reportTitle: (n) => `Report status — ${n}`,
    reportOnBehalfTitle: (n) => `Report on behalf of ${n} (phone)`,
    notAffected: 'Not affected',
    notAffectedHint: 'This location is not affected (also as the answer to an enquiry).',
    checklistHint: 'Tick what you report. The current value is filled in; change what is not right. Everything is saved at once.',
    addOther: 'Report something else',
    chooseDimension: '— choose what —',
    key: 'Which?',
    addItem: 'Add',
    helpAction: 'Help request',
    helpId: 'Help request reference (lowercase letters, digits, -)',
    prognose: 'Prognosis (optional)',
    save: 'Save',
    saveN: (n) => (n === 1 ? 'Save (1)' : `Save all (${n})`),
    saving: 'Saving…',
    nothingTicked: 'First tick what you want to report.',
    optional: 'optional',
    yes: 'yes',
    stored: (hm, what) => `Stored at ${hm}: ${what}.`,
    duplicate: (what) => `Already stored: ${what}.`,
    refused: 'Not stored. Correct what the fields say and try again.',
    partly: (what) => `Stored: ${what}. The rest was not: correct what the fields say and try again.`,
    notOwn: "You can only report for your own organisation's locations. Choose one of your own locations.",
    notAllowed: 'Your role cannot report status. The institution or the informatiemanager reports.',
    unknownLocation: 'This location is unknown or not visible to your role.',
    currentAt: (hm) => `Now: reported ${hm}`,
    noCurrent: 'Not reported yet.',
    fieldTime: 'Time',
    fieldSource: 'Location',
    fieldSubject: 'Choice',
    retractReason: 'Retracted when reporting "not affected"',
    naConfirmTitle: 'Report not affected?',
    naConfirmLead: (n, count) => (count === 1 ? `${n} now reports this value that needs attention or is critical:`
      : `${n} now reports these ${count} values that need attention or are critical:`),
    naConfirmAsk: 'What is no longer right? Choose what should happen:',
    naWithdraw: 'Withdraw them and report not affected',
    naWithdrawSays: (count) => (count === 1 ? 'The value above is withdrawn and leaves the picture; the location then shows as not affected.'
      : `The ${count} values above are withdrawn and leave the picture; the location then shows as not affected.`),
    naKeep: 'Keep the values, only report not affected',
    naKeepSays: 'The values stay in the picture beside "not affected"; the GHOR sees both.',
    naStored: (hm) => `Not affected stored at ${hm}.`,
    naStoredRetracted: (hm, count) => `Not affected stored at ${hm}; ${count === 1 ? '1 value' : `${count} values`} withdrawn.`,
    cancel: 'Cancel',
  },
});

// ---------------------------------------------------------------- what a location's form lists first

/**
 * The dimensions (with the key they open on) a location's form lists first, by location
 * type, else by category. The server says which dimensions and keys exist (`/v1/domain`);
 * which of them matter most to a kind of location is the page's choice, declared here once.
 */
const FIRST_BY_TYPE = {
  ziekenhuis: [['beds', 'ic'], ['beds', 'klinisch'], ['acute_function', 'seh'], ['utility', 'stroom'], ['staffing', 'verpleegkundige'], ['judgement']],
  verpleeg_verzorgingshuis: [['judgement'], ['disbalance', 'uitval_nutsvoorzieningen'], ['beds', 'vvt_somatisch'], ['beds', 'vvt_pg'],
    ['utility', 'stroom'], ['self_sufficiency'], ['relocation_need', 'somatisch']],
  gehandicaptenzorg: [['judgement'], ['disbalance', 'uitval_nutsvoorzieningen'], ['utility', 'stroom'], ['self_sufficiency'], ['relocation_need', 'gehandicaptenzorg']],
  ggz: [['judgement'], ['beds', 'ggz_crisis'], ['utility', 'stroom'], ['self_sufficiency'], ['relocation_need', 'ggz']],
  thuiszorg: [['judgement'], ['home_care'], ['utility', 'stroom'], ['staffing', 'verzorgende']],
  huisartsenpost: [['judgement'], ['utility', 'stroom'], ['staffing', 'arts']],
};
const FIRST_BY_CATEGORY = {
  acuut: [['judgement'], ['utility', 'stroom'], ['staffing', 'verpleegkundige']],
  care: [['judgement'], ['disbalance', 'uitval_nutsvoorzieningen'], ['utility', 'stroom'], ['self_sufficiency'], ['relocation_need', 'somatisch']],
  overig: [['judgement'], ['utility', 'stroom']],
};
/** The key a dimension opens on when nothing names one (power, not the first alphabetically). */
const DEFAULT_KEY = { utility: 'stroom' };

/** Whether this token may report for `loc`: on anyone's behalf, or for its own organisation's. */
export function mayReportFor(loc) {
  if (may('report_on_behalf')) return true;
  return may('report') && !!loc && loc.organisation === state.me.organisation;
}

/** Whether this token reports for its own organisation (not on someone's behalf). */
export function reportsOwn() {
  return may('report') && !may('report_on_behalf');
}

/** The bron of what this token reports: who reports on a location's behalf took it by phone. */
function bron() {
  return !reportsOwn() && mayClaim('telefoon') ? 'telefoon' : 'formulier';
}

export function findLocation(id) {
  for (const [code, view] of Object.entries(state.regions)) {
    if (view && has(view.locations, id)) return [code, view.locations[id]];
  }
  return [null, null];
}

function vocabulary(type) {
  const v = state.vocab && state.vocab.vocabularies;
  return (v && v[type]) || {};
}

function keysOf(dimension) {
  const type = keyType(dimension);
  return type ? byOrder(type, Object.keys(vocabulary(type)).map((k) => [k])).map(([k]) => k) : [];
}

/** Whether the dimension's key is named freely (a help request's reference). */
function freeKey(dimension) {
  const dim = dimensionInfo(dimension);
  return !!(dim && dim.key && !keyType(dimension));
}

/** The key of a dimension as the view holds it: '-' for none. */
function viewKey(item) { return item.key === null ? '-' : item.key; }

/** A location's current (not retracted) value of an item, or null. */
function currentOf(item, loc) {
  const dv = ((loc && loc.dimensions) || {})[item.dimension];
  const v = dv && has(dv.values, viewKey(item)) ? dv.values[viewKey(item)] : null;
  return v && !v.retracted ? v : null;
}

/** The key an item of `dimension` opens on: the one named, else the dimension's default, else the newest reported, else the first. */
function openingKey(dimension, loc, named) {
  if (!keyType(dimension) && !freeKey(dimension)) return null;
  if (freeKey(dimension)) return named || '';
  const keys = keysOf(dimension);
  if (named && keys.includes(named)) return named;
  if (keys.includes(DEFAULT_KEY[dimension])) return DEFAULT_KEY[dimension];
  const values = Object.entries((((loc && loc.dimensions) || {})[dimension] || {}).values || {}).filter(([, v]) => !v.retracted);
  const newest = values.sort((a, b) => String(b[1].time).localeCompare(String(a[1].time)))[0];
  return newest && keys.includes(newest[0]) ? newest[0] : keys[0];
}

let nextUid = 1;
/** One line of the checklist. `fixed`: its key cannot be changed (asked by an uitvraag). */
function makeItem(dimension, key, extra) {
  const free = freeKey(dimension);
  return Object.assign({ uid: nextUid++, dimension, key, fixed: false, checked: false, values: null, prognose: '',
    verb: free ? (key ? 'updated' : 'opened') : null, errors: [] }, extra);
}

/** The checklist of a location: its type's first dimensions, then what it reported, each once. */
function checklistOf(loc) {
  const items = [];
  const seen = new Set();
  const add = (dimension, key) => {
    if (!dimensionInfo(dimension) || dimension === 'not_affected') return;
    if (key && keyType(dimension) && !keysOf(dimension).includes(key)) return;
    const k = key === undefined || key === null ? openingKey(dimension, loc) : key;
    const id = `${dimension}|${k}`;
    if (seen.has(id)) return;
    seen.add(id);
    items.push(makeItem(dimension, k));
  };
  for (const [dim, key] of FIRST_BY_TYPE[loc.type] || FIRST_BY_CATEGORY[loc.category] || FIRST_BY_CATEGORY.overig) add(dim, key);
  for (const [dim, dv] of byOrder('Dimension', Object.entries(loc.dimensions || {}))) {
    for (const [key, v] of Object.entries(dv.values || {})) {
      if (v.retracted) continue;
      // A help request's value without a category is a closed one.
      if (freeKey(dim) && !(isObject(v.data) && v.data.category)) continue;
      add(dim, key === '-' ? null : key);
    }
  }
  return items;
}

// ---------------------------------------------------------------- the form's state

/** The form while the dialog is open: for which location, in which mode, its checklist. */
const form = { id: null, uitvraag: null, items: [], receipt: null, receiptSeq: null, errors: null, notice: null, busy: false, focusUid: null };

/** Every refusal of the ticked items, named by item and field, for the summary above the save button. */
function errorLines() {
  const names = { time: t('fieldTime'), source: t('fieldSource'), subject: t('fieldSubject'), prognose: t('prognose') };
  return form.items.filter((i) => i.checked).flatMap((item) => item.errors.map((e) => {
    const name = fieldOf(e.field);
    const field = itemFields(item).find((f) => f.name === name);
    const what = field ? fieldText(field) : names[name];
    return el('li', { 'data-error-field': e.field, 'data-uid': item.uid }, el('strong', {}, itemWhat(item)), ' ',
      el('span', {}, what ? `${what}: ${errorMessage(e)}` : errorMessage(e)));
  }));
}

/**
 * Opens the report form of location `id`; with `dimension` (and `key`) that item ticked
 * and in view, so "Wijzigen" beside a value opens on that value.
 */
export function openReport(id, region, dimension, key) {
  Object.assign(form, { id, uitvraag: null, items: null, receipt: null, receiptSeq: null, errors: null, notice: null, busy: false, focusUid: null });
  const [, loc] = findLocation(id);
  if (loc && state.vocab) {
    form.items = checklistOf(loc);
    if (dimension) form.focusUid = tick(loc, dimension, key).uid;
  }
  renderReport();
  showDialog($('report'));
  focusFirst();
}

/**
 * Opens the form that answers uitvraag `uitvraag` for location `id`: exactly the asked
 * dimensions (and keys), each ticked and prefilled with its current value, saved together.
 */
export function openAnswer(uitvraag, id) {
  Object.assign(form, { id, uitvraag, items: null, receipt: null, receiptSeq: null, errors: null, notice: null, busy: false, focusUid: null });
  renderReport();
  showDialog($('report'));
  focusFirst();
}

function focusFirst() {
  const dialog = $('report');
  const item = form.focusUid && dialog.querySelector(`fieldset[data-uid="${form.focusUid}"]`);
  // The item's first field, not its key: the key is already the one asked for.
  const target = (item && (item.querySelector('.field-grid input, .field-grid select, .field-grid textarea') || item.querySelector('input, select')))
    || dialog.querySelector('#answer-form .report-item input:not([type="checkbox"]), #answer-form .report-item select')
    || dialog.querySelector('.report-item input[type="checkbox"]') || dialog.querySelector('[data-close]');
  if (target) {
    target.focus();
    if (form.focusUid) target.scrollIntoView({ block: 'center' });
  }
  form.focusUid = null;
}

/** Ticks the item of `dimension` (and `key`), adding it when the checklist lacks it; returns it. */
function tick(loc, dimension, key) {
  const k = openingKey(dimension, loc, key);
  let item = form.items.find((i) => i.dimension === dimension && (k === null || i.key === k || (freeKey(dimension) && !k && !i.key)));
  if (!item) { item = makeItem(dimension, k); form.items.push(item); }
  item.checked = true;
  return item;
}

/** What the asked dimensions of an uitvraag need filled in, all ticked. */
function answerItems(u, loc) {
  const items = [];
  for (const a of u.asked || []) {
    if (!dimensionInfo(a.dimension)) continue;
    if (a.keys && a.keys.length) for (const key of a.keys) items.push(makeItem(a.dimension, key, { fixed: true, checked: true }));
    else items.push(makeItem(a.dimension, openingKey(a.dimension, loc), { fixed: !keyType(a.dimension) && !freeKey(a.dimension), checked: true }));
  }
  return items;
}

// ---------------------------------------------------------------- fields

/** The event type an item reports: the dimension's (for help requests, the chosen action's). */
function reportOf(item) {
  const reports = (dimensionInfo(item.dimension) || {}).reports || [];
  return reports.find((r) => r.verb === item.verb) || reports[0] || null;
}

/** The fields of an item's event type, without those that do not apply to its key. */
function itemFields(item) {
  const report = reportOf(item);
  return ((report && report.fields) || []).filter((f) => !Array.isArray(f.keys) || f.keys.includes(item.key));
}

/** What an item reports, in words as an uitvraag says it: "Nuts en ICT (Stroom)". */
function itemWhat(item) {
  const key = item.key && keyType(item.dimension) ? keyLabel(item.dimension, item.key) : item.key;
  return key ? `${label('Dimension', item.dimension)} (${key})` : label('Dimension', item.dimension);
}

function fieldText(field) {
  return (field.label && (field.label[state.lang] || field.label.nl)) || field.name;
}

/** The control of one field, labelled from the server's description, ids under `prefix`. */
function input(field, value, prefix) {
  const { name, kind, required } = field;
  const id = `${prefix}-${name}`;
  const described = `${id}-error`;
  let control;
  if (kind === 'bool') {
    control = el('input', { type: 'checkbox', id, name, checked: value === true });
    return el('div', { class: 'field check', 'data-field': name }, control, el('label', { for: id }, fieldText(field)),
      el('span', { id: described, class: 'field-error' }));
  }
  if (kind === 'count' || kind === 'percent') {
    control = el('input', { type: 'number', id, name, inputmode: 'numeric', step: 1, min: 0, value: value ?? '', 'aria-describedby': described });
  } else if (kind === 'text' || kind === 'longtext' || kind === 'identifier') {
    const attrs = { id, name, maxlength: field.max_length, 'aria-describedby': described };
    control = kind === 'longtext' ? el('textarea', attrs, value ?? '') : el('input', Object.assign({ type: 'text', value: value ?? '' }, attrs));
  } else if (kind === 'datetime') {
    control = el('input', { type: 'datetime-local', id, name, value: value ? toLocalInput(value) : '', 'aria-describedby': described });
  } else {
    const options = byOrder(kind, Object.keys(vocabulary(kind)).map((k) => [k])).map(([k]) => el('option', { value: k }, label(kind, k)));
    control = el('select', { id, name, 'aria-describedby': described }, required && value ? null : el('option', { value: '' }, '—'), options);
    if (value) control.value = value;
  }
  return el('div', { class: 'field', 'data-field': name },
    el('label', { for: id }, fieldText(field), required ? null : el('span', { class: 'meta' }, ` (${t('optional')})`)),
    control, el('span', { id: described, class: 'field-error' }));
}

function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The `data` of `list` (fields) as filled in under `root`, the controls named by `prefix`; empty optional fields left out. */
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

/** Keeps what was typed across a re-render: key, action, values and prognosis of every open item. */
function capture() {
  const root = $('report-body');
  if (!root || !form.items) return;
  for (const item of form.items) {
    const box = root.querySelector(`[data-uid="${item.uid}"]`);
    if (!box || !item.checked) continue;
    const p = `rep-${item.uid}`;
    const key = box.querySelector(`#${p}-key`);
    if (key && !item.fixed) item.key = key.value.trim();
    const verb = box.querySelector(`#${p}-verb`);
    if (verb) item.verb = verb.value;
    const fields = box.querySelector('.field-grid');
    if (fields) item.values = readFields(itemFields(item), box, p);
    const prognose = box.querySelector(`#${p}-prognose`);
    if (prognose) item.prognose = prognose.value.trim();
  }
}

/** The input a problem's field path points at ("data.occupied" → occupied). */
function fieldOf(path) {
  const p = String(path || '');
  if (p.startsWith('data.')) return p.slice(5).split(/[.[]/)[0];
  return p;
}

// ---------------------------------------------------------------- rendering

/** What the location reports now for an item: state, value in words, when, and its age. */
function currentLine(item, loc) {
  const v = currentOf(item, loc);
  if (!v) return [t('noCurrent')];
  const words = summaryLines(item.dimension, { values: { [viewKey(item)]: v } }).map((n) => n.textContent).join(' · ');
  return [v.state ? badge(v.state) : null, ' ', words, ' · ', t('currentAt', fmtClock(v.time)), ' ', liveAge(v.time, Number(loc.interval_minutes) * 60000 || null)];
}

function keyControl(item, p) {
  if (item.fixed) return null;
  if (freeKey(item.dimension)) {
    const reports = dimensionInfo(item.dimension).reports;
    const action = el('select', { id: `${p}-verb` }, reports.map((r) => el('option', { value: r.verb }, r.label[state.lang] || r.label.nl)));
    action.value = reportOf(item).verb;
    // Another action has other fields.
    action.addEventListener('change', () => { capture(); item.verb = action.value; item.values = null; renderReport(); });
    return [el('div', { class: 'field' }, el('label', { for: `${p}-verb` }, t('helpAction')), action),
      el('div', { class: 'field', 'data-field': 'subject' }, el('label', { for: `${p}-key` }, t('helpId')),
        el('input', { type: 'text', id: `${p}-key`, value: item.key || '', maxlength: 64, autocapitalize: 'none', 'aria-describedby': `${p}-subject-error` }),
        el('span', { id: `${p}-subject-error`, class: 'field-error' }))];
  }
  if (!keyType(item.dimension)) return null;
  const select = el('select', { id: `${p}-key`, 'aria-describedby': `${p}-subject-error` },
    keysOf(item.dimension).map((k) => el('option', { value: k }, label(keyType(item.dimension), k))));
  select.value = item.key;
  // Another key has other fields and another current value.
  select.addEventListener('change', () => { capture(); item.key = select.value; item.values = null; item.errors = []; renderReport(); });
  return el('div', { class: 'field', 'data-field': 'subject' }, el('label', { for: `${p}-key` }, t('key')), select,
    el('span', { id: `${p}-subject-error`, class: 'field-error' }));
}

/** One checklist item: a big tick box with what it is and its current value; ticked, its fields. */
function itemNode(item, loc) {
  const p = `rep-${item.uid}`;
  const box = el('input', { type: 'checkbox', id: `${p}-on`, checked: item.checked, 'aria-controls': `${p}-body` });
  box.addEventListener('change', () => {
    capture();
    item.checked = box.checked;
    renderReport();
    const again = $(`${p}-on`);
    if (again) again.focus();
  });
  const current = currentOf(item, loc);
  const values = item.values || (current && isObject(current.data) ? current.data : {});
  let body = null;
  if (item.checked) {
    const named = new Map(item.errors.map((e) => [fieldOf(e.field), e]));
    const controls = itemFields(item).map((f) => {
      const node = input(f, values[f.name], p);
      const e = named.get(f.name);
      if (e) {
        node.querySelector('.field-error').textContent = errorMessage(e);
        const control = node.querySelector('input, select, textarea');
        if (control) control.setAttribute('aria-invalid', 'true');
      }
      return node;
    });
    const keyNode = keyControl(item, p);
    const other = item.errors.filter((e) => !itemFields(item).some((f) => f.name === fieldOf(e.field)) && fieldOf(e.field) !== 'subject' && fieldOf(e.field) !== 'prognose');
    body = el('div', { class: 'item-body', id: `${p}-body` },
      keyNode,
      el('div', { class: 'field-grid' }, controls),
      // Seldom used: folded away, open when it holds something.
      el('details', { class: 'prognose', open: !!item.prognose || item.errors.some((e) => fieldOf(e.field) === 'prognose') },
        el('summary', {}, t('prognose')),
        el('div', { class: 'field', 'data-field': 'prognose' }, el('label', { for: `${p}-prognose`, class: 'sr-only' }, t('prognose')),
          el('input', { type: 'text', id: `${p}-prognose`, maxlength: 200, value: item.prognose || '', 'aria-describedby': `${p}-prognose-error` }),
          el('span', { id: `${p}-prognose-error`, class: 'field-error' }))),
      other.length ? el('p', { class: 'field-error', 'data-item-error': 'true' }, other.map((e) => {
        const names = { time: t('fieldTime'), source: t('fieldSource') };
        const name = names[fieldOf(e.field)];
        return name ? `${name}: ${errorMessage(e)}` : errorMessage(e);
      }).join(' ')) : null);
  }
  const node = el('fieldset', { class: 'report-item answer-item', 'data-uid': item.uid, 'data-dimension': item.dimension,
    'data-key': item.key ?? null, 'data-checked': item.checked ? 'true' : 'false', 'data-state': current && current.state ? current.state : null },
    el('legend', { class: 'sr-only' }, itemWhat(item)),
    el('div', { class: 'item-head' }, box,
      el('label', { for: `${p}-on` }, el('span', { class: 'item-what' }, itemWhat(item)),
        el('span', { class: 'item-now meta', 'data-current': item.uid }, currentLine(item, loc)))),
    body);
  // Subject and prognosis errors have their own slots.
  for (const e of item.errors) {
    const name = fieldOf(e.field);
    if (name !== 'subject' && name !== 'prognose') continue;
    const slot = node.querySelector(`#${CSS.escape(`${p}-${name}-error`)}`);
    if (slot) slot.textContent = errorMessage(e);
    const control = node.querySelector(name === 'subject' ? `#${CSS.escape(`${p}-key`)}` : `#${CSS.escape(`${p}-prognose`)}`);
    if (control) control.setAttribute('aria-invalid', 'true');
  }
  return node;
}

/**
 * The picker that adds any other dimension to the checklist: an unkeyed one at once; a
 * keyed one with its key, preselected as the form would open it (power for "Nuts en ICT").
 */
function addPicker(loc) {
  const dims = order('Dimension').filter((d) => d !== 'not_affected' && dimensionInfo(d));
  const dimSelect = el('select', { id: 'report-dimension', name: 'dimension' }, el('option', { value: '' }, t('chooseDimension')),
    dims.map((d) => el('option', { value: d }, label('Dimension', d))));
  const keySelect = el('select', { id: 'report-key', name: 'key' });
  const addButton = el('button', { type: 'button', id: 'report-add' }, t('addItem'));
  const keyField = el('div', { class: 'field add-key', hidden: true }, el('label', { for: 'report-key' }, t('key')),
    el('div', { class: 'add-key-row' }, keySelect, addButton));
  const add = (dimension, key) => {
    capture();
    const item = tick(loc, dimension, key);
    form.focusUid = item.uid;
    renderReport();
    focusFirst();
  };
  dimSelect.addEventListener('change', () => {
    const d = dimSelect.value;
    keyField.hidden = true;
    if (!d) return;
    if (!keyType(d)) { add(d); return; }
    keySelect.replaceChildren(...keysOf(d).map((k) => el('option', { value: k }, label(keyType(d), k))));
    keySelect.value = openingKey(d, loc);
    keyField.hidden = false;
    keySelect.focus();
  });
  keySelect.addEventListener('change', () => add(dimSelect.value, keySelect.value));
  addButton.addEventListener('click', () => add(dimSelect.value, keySelect.value));
  return el('div', { class: 'add-other' },
    el('div', { class: 'field' }, el('label', { for: 'report-dimension' }, t('addOther')), dimSelect), keyField);
}

export function renderReport() {
  if (!form.id) return;
  renderedFor = `${state.lang}|${!!state.vocab}`;
  const [, loc] = findLocation(form.id);
  const body = $('report-body');
  const u = form.uitvraag ? uitvragen()[form.uitvraag] : null;
  const name = (loc && loc.name) || form.id;
  $('report-title').textContent = form.uitvraag ? t(reportsOwn() ? 'answerTitle' : 'answerOnBehalfTitle', name)
    : t(reportsOwn() ? 'reportTitle' : 'reportOnBehalfTitle', name);
  const refuse = (text) => body.replaceChildren(el('p', { class: 'error', id: 'report-refused' }, text));
  if (!loc) { refuse(reportsOwn() ? t('notOwn') : t('unknownLocation')); return; }
  if (!mayReportFor(loc)) { refuse(reportsOwn() ? t('notOwn') : t('notAllowed')); return; }
  if (!state.vocab) { body.replaceChildren(el('p', { class: 'meta' }, t('waiting'))); return; }
  const entry = u && (u.locations || {})[form.id];
  if (form.uitvraag && !u) { refuse(t('answerUnknown')); return; }
  if (form.uitvraag && !entry) { refuse(t('answerNotAddressed', name)); return; }
  capture();
  if (!form.items) form.items = u ? answerItems(u, loc) : checklistOf(loc);

  const ticked = form.items.filter((i) => i.checked).length;
  const save = el('button', { type: 'submit', id: form.uitvraag ? 'answer-save' : 'report-save', class: 'primary', disabled: form.busy },
    form.busy ? t('saving') : ticked ? t('saveN', ticked) : t('save'));
  const receipt = el('p', { id: 'report-receipt', class: 'receipt', role: 'status', 'aria-live': 'polite', hidden: !form.receipt,
    'data-seq': form.receiptSeq, title: form.receiptSeq ? `#${form.receiptSeq}` : null }, form.receipt || '');
  const notice = form.errors || form.notice;
  const formNode = el('form', { id: form.uitvraag ? 'answer-form' : 'report-form', class: 'checklist', novalidate: true },
    el('p', { class: 'meta' }, t(form.uitvraag ? 'answerHint' : 'checklistHint')),
    form.items.map((item) => itemNode(item, loc)),
    form.uitvraag ? null : addPicker(loc),
    el('div', { class: 'save-bar' },
      el('div', { id: 'report-errors', role: 'alert' }, notice ? el('div', { class: 'error-summary' }, el('p', {}, notice),
        form.errors ? el('ul', {}, errorLines()) : null) : null),
      el('div', { class: 'save-row' }, save, receipt)));
  formNode.addEventListener('submit', (e) => { e.preventDefault(); submit(loc); });

  const notAffected = el('div', { class: 'one-click' },
    notAffectedControl(form.id, loc, form.uitvraag, { id: 'report-not-affected' }, (answer) => {
      form.receipt = answer.ok ? lastReceipt.text : null;
      form.errors = answer.ok ? null : problemText(answer);
      renderReport();
    }),
    form.uitvraag ? null : el('span', { class: 'meta' }, t('notAffectedHint')));
  body.replaceChildren(...[
    u ? el('section', { class: 'ask-head', 'data-uitvraag': form.uitvraag },
      el('h3', {}, u.title),
      u.question ? el('p', { class: 'question' }, u.question) : null,
      el('p', {}, el('strong', {}, `${t('deadline')}: `), deadlineSpan(u)),
      el('p', {}, el('strong', {}, `${t('asked')}: `), askedText(u.asked)),
      u.closed ? el('p', { class: 'note' }, t('answerClosed')) : null,
      el('p', { id: 'answer-state' }, answerStateLine(u, entry))) : null,
    notAffected,
    formNode].filter(Boolean));
}

/** Stream updates refresh what the form shows of the picture, never the fields being typed in. */
function refreshCurrent() {
  const [, loc] = findLocation(form.id);
  if (!loc || !form.items) return;
  for (const item of form.items) {
    const line = document.querySelector(`#report-body [data-current="${item.uid}"]`);
    if (line) line.replaceChildren(...currentLine(item, loc).filter((n) => n !== null));
  }
  const u = form.uitvraag && uitvragen()[form.uitvraag];
  const entry = u && (u.locations || {})[form.id];
  const stateLine = $('answer-state');
  if (stateLine && entry) stateLine.replaceChildren(...answerStateLine(u, entry));
}

// ---------------------------------------------------------------- saving

async function submit(loc) {
  capture();
  const id = form.id;
  const items = form.items.filter((i) => i.checked);
  if (!items.length) { form.notice = t('nothingTicked'); form.errors = null; renderReport(); return; }
  const events = items.map((item) => ({ source: `/locations/${id}`, type: reportOf(item).type,
    subject: item.key === null ? undefined : item.key, data: item.values || {}, prognose: item.prognose || undefined, bron: bron() }));
  for (const item of form.items) item.errors = [];
  Object.assign(form, { busy: true, errors: null, notice: null, receipt: null, receiptSeq: null });
  renderReport();
  const answer = await postEvents(events);
  if (form.id !== id) return;
  form.busy = false;
  let result = answer;
  if (!answer.ok) {
    form.errors = problemText(answer);
  } else {
    const results = (answer.body && answer.body.results) || [];
    const stored = [];
    for (const r of results) {
      const item = items[r.index];
      if (!item) continue;
      if (r.problem) {
        item.errors = r.problem.errors && r.problem.errors.length ? r.problem.errors : [{ field: '', reason: r.problem.detail || r.problem.title }];
      } else {
        stored.push(item);
        if (typeof r.seq === 'number') form.receiptSeq = Math.max(form.receiptSeq || 0, r.seq);
      }
    }
    const what = stored.map(itemWhat).join(', ');
    if (stored.length) {
      form.receipt = t('stored', fmtClock(new Date()), what);
      Object.assign(lastReceipt, { text: form.receipt, location: id, seq: form.receiptSeq });
    }
    if (stored.length < items.length) {
      form.errors = stored.length ? t('partly', what) : t('refused');
      result = { ok: false, status: 422 };
    }
    // Outside an answer, what was stored leaves the checklist's ticks: the next save sends only what is ticked anew.
    if (!form.uitvraag) for (const item of stored) Object.assign(item, { checked: false, values: null, prognose: '' });
  }
  for (const hook of receiptHooks) hook(result);
  renderReport();
  const invalid = $('report-body').querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
  else if (!answer.ok || result.ok === false) $('report-errors').scrollIntoView({ block: 'nearest' });
}

/** The newest confirmation, also shown on the institution's page after the dialog closes. */
export const lastReceipt = { text: null, location: null, seq: null };
const receiptHooks = [];
export function onReceipt(fn) { receiptHooks.push(fn); }

// ---------------------------------------------------------------- "niet getroffen"

/** The location's current values that need attention or are critical: what "niet getroffen" contradicts. */
export function worryingValues(loc) {
  const out = [];
  for (const [dim, dv] of byOrder('Dimension', Object.entries((loc && loc.dimensions) || {}))) {
    if (dim === 'not_affected') continue;
    for (const [key, v] of Object.entries(dv.values || {})) {
      const s = v.state || dv.state;
      if (!v.retracted && (s === 'kritiek' || s === 'aandacht')) out.push({ dimension: dim, key: key === '-' ? null : key, value: v, state: s });
    }
  }
  return out;
}

/**
 * Reports "niet getroffen" for location `id` (as the answer to `uitvraag` when named), in
 * one request with a retraction of each of `withdraw` (values `{value}` of the location).
 */
export async function sendNotAffected(id, uitvraag, withdraw = []) {
  const b = bron();
  const report = dimensionInfo('not_affected').reports[0];
  const events = withdraw.map((w) => ({ source: `/locations/${id}`, type: eventType('observation.retracted'), bron: b,
    data: { event_id: w.value.id, reason: t('retractReason') } }));
  events.push({ source: `/locations/${id}`, type: report.type, data: uitvraag ? { uitvraag } : {}, bron: b });
  const answer = await postEvents(events);
  const results = (answer.ok && answer.body && answer.body.results) || [];
  const refused = results.find((r) => r.problem);
  const result = refused ? { ok: false, status: 422, body: refused.problem } : answer;
  if (result.ok) {
    const hm = fmtClock(new Date());
    const last = results[results.length - 1];
    Object.assign(lastReceipt, { text: withdraw.length ? t('naStoredRetracted', hm, withdraw.length) : t('naStored', hm), location: id,
      seq: last && typeof last.seq === 'number' ? last.seq : null });
  }
  for (const hook of receiptHooks) hook(result);
  return result;
}

/** The confirmation asked before "niet getroffen" contradicts current values; resolves to 'withdraw', 'keep' or null. */
function confirmNotAffected(loc, worrying) {
  const dialog = $('confirm-na');
  const choose = (choice) => { dialog.returnValue = choice; dialog.close(choice); };
  const withdraw = el('button', { type: 'button', class: 'primary', id: 'na-withdraw', 'data-na': 'withdraw' }, t('naWithdraw'));
  const keep = el('button', { type: 'button', id: 'na-keep', 'data-na': 'keep' }, t('naKeep'));
  const cancel = el('button', { type: 'button', id: 'na-cancel' }, t('cancel'));
  withdraw.addEventListener('click', () => choose('withdraw'));
  keep.addEventListener('click', () => choose('keep'));
  cancel.addEventListener('click', () => choose(''));
  $('confirm-na-title').textContent = t('naConfirmTitle');
  $('confirm-na-body').replaceChildren(
    el('p', {}, t('naConfirmLead', loc.name, worrying.length)),
    el('ul', { class: 'worrying' }, worrying.map((w) => el('li', { 'data-dimension': w.dimension, 'data-key': w.key ?? null, 'data-state': w.state },
      badge(w.state), ' ', el('strong', {}, itemWhat(w)), ': ',
      summaryLines(w.dimension, { values: { [w.key ?? '-']: w.value } }).map((n) => n.textContent).join(' · '),
      ' · ', fmtClock(w.value.time)))),
    el('p', {}, t('naConfirmAsk')),
    el('div', { class: 'na-choice' }, withdraw, el('p', { class: 'meta' }, t('naWithdrawSays', worrying.length))),
    el('div', { class: 'na-choice' }, keep, el('p', { class: 'meta' }, t('naKeepSays'))),
    el('div', { class: 'na-choice' }, cancel));
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue || null), { once: true });
    showDialog(dialog);
    withdraw.focus();
  });
}

/**
 * The "niet getroffen" button: one click, unless the location reports something that needs
 * attention or is critical now; then it first lists those values and asks whether to
 * withdraw or keep them (both would otherwise stand in the picture side by side).
 */
export function notAffectedControl(id, loc, uitvraag, attrs, done) {
  const box = el('span', { class: 'not-affected-control' });
  const button = el('button', Object.assign({ type: 'button', class: 'big' }, attrs), `✓ ${t('notAffected')}`);
  button.addEventListener('click', async () => {
    const [, now] = findLocation(id);
    const worrying = worryingValues(now || loc);
    let withdraw = [];
    if (worrying.length) {
      const choice = await confirmNotAffected(now || loc, worrying);
      if (!choice) return;
      if (choice === 'withdraw') withdraw = worrying;
    }
    button.disabled = true;
    button.textContent = t('saving');
    const answer = await sendNotAffected(id, uitvraag, withdraw);
    button.disabled = false;
    button.textContent = `✓ ${t('notAffected')}`;
    if (done) done(answer);
  });
  box.append(button);
  return box;
}

// Never re-rendered by stream updates (that would wipe what is being typed); only when
// the language or the vocabulary changes under an open form.
let renderedFor = '';
on('render', () => {
  if (!$('report').open) return;
  const now = `${state.lang}|${!!state.vocab}`;
  if (now !== renderedFor || !form.items) renderReport();
  else refreshCurrent();
});
on('signedOut', () => {
  for (const id of ['confirm-na', 'report']) if ($(id).open) $(id).close();
});

export function bindReport() {
  const dialog = $('report');
  dialog.addEventListener('close', () => { form.id = null; form.items = null; });
  dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
  const confirm = $('confirm-na');
  confirm.querySelector('[data-close]').addEventListener('click', () => confirm.close(''));
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
  },
  en: {
    answerTitle: (n) => `Answer the enquiry — ${n}`,
    answerOnBehalfTitle: (n) => `Answer on behalf of ${n} (phone)`,
    answerUnknown: 'This enquiry was not found, or it does not address a location you see.',
    answerNotAddressed: (n) => `This enquiry does not address ${n}.`,
    answerClosed: 'This enquiry is closed; what you report now goes into the picture but no longer counts as an answer.',
    answerHint: 'The current values are filled in. Change what is not right and save everything at once.',
  },
});

/** Where the location stands with the uitvraag: its state badge and when it answered. */
export function answerStateLine(u, entry) {
  const text = entry.state === 'beantwoord' ? t('answeredAt', fmtClock(entry.answered))
    : entry.state === 'niet_getroffen' ? t('notAffectedAt', fmtClock(entry.answered))
      : entry.state === 'deels' ? t('partlyAnswered', missingText(u, entry)) : null;
  return [answerBadge(entry.state, isOver(u, entry)), text ? ` ${text}` : ''];
}
