// ghor — the institution's own pages: each of its locations with every current value
// (state, value, age), one-click "niet getroffen", and a change button per dimension that
// opens the report form; the newest confirmation of what was stored stays visible. The
// chain's picture in aggregate is shown below it by the shared tiles.

import { $, t, el, fmtClock, parseTime, label, byOrder, badge, addTexts, state, problemText } from './core.js';
import { summaryLines } from './picture.js';
import { openReport, sendNotAffected, lastReceipt, onReceipt } from './report.js';
import { keepFocus } from './dashboard.js';

addTexts({
  nl: {
    ownTitle: 'Mijn locaties',
    ownNone: 'Er zijn (nog) geen locaties van uw organisatie geregistreerd in deze regio. De netwerkfunctionaris van de GHOR registreert ze.',
    ownNote: 'U ziet hier de eigen locaties van uw organisatie in detail en de keten in totalen.',
    chainTotals: 'De keten in totaal',
    change: 'Wijzigen',
    changeAria: (d, n) => `${d} van ${n} wijzigen`,
    reportAny: 'Iets anders melden',
    value: 'Waarde',
    notAffectedAria: (n) => `${n}: niet getroffen melden`,
    refusedSeeForm: 'Niet opgeslagen: het formulier geeft aan wat er verbeterd moet worden.',
  },
  en: {
    ownTitle: 'My locations',
    ownNone: "No locations of your organisation are registered in this region (yet). The GHOR's netwerkfunctionaris registers them.",
    ownNote: "Here you see your organisation's own locations in detail and the chain in aggregate.",
    chainTotals: 'The chain in aggregate',
    change: 'Change',
    changeAria: (d, n) => `Change ${d} of ${n}`,
    reportAny: 'Report something else',
    value: 'Value',
    notAffectedAria: (n) => `${n}: report not affected`,
    refusedSeeForm: 'Not stored: the form points out what to correct.',
  },
});

function dimensionRow(id, code, loc, dim, dv) {
  const times = Object.values(dv.values || {}).map((v) => parseTime(v.time)).filter(Number.isFinite);
  const newest = times.length ? Math.max(...times) : NaN;
  const limit = Number(loc.interval_minutes) * 60000 || null;
  const change = el('button', { type: 'button', class: 'small', 'data-change': dim, 'data-focus': `change:${id}:${dim}`,
    'aria-label': t('changeAria', label('Dimension', dim), loc.name || id) }, t('change'));
  change.addEventListener('click', () => openReport(id, code, dim, Object.keys(dv.values || {})[0]));
  return el('tr', { 'data-dimension': dim, 'data-state': dv.state || 'info' },
    el('th', { scope: 'row' }, label('Dimension', dim)),
    el('td', {}, dv.state ? badge(dv.state) : null),
    el('td', { class: 'sum' }, summaryLines(dim, dv)),
    el('td', {}, Number.isFinite(newest) ? [fmtClock(new Date(newest)), ' ',
      el('span', { class: 'age', 'data-time': newest, 'data-oldest': Math.min(...times), 'data-limit': limit })] : '–'),
    el('td', {}, change));
}

function locationCard(id, code, loc) {
  const notAffected = el('button', { type: 'button', class: 'big', 'data-not-affected': id, 'data-focus': `na:${id}`,
    'aria-label': t('notAffectedAria', loc.name || id) }, `✓ ${t('notAffected')}`);
  notAffected.addEventListener('click', () => sendNotAffected(id));
  const any = el('button', { type: 'button', 'data-report': id, 'data-focus': `report:${id}` }, t('reportAny'));
  any.addEventListener('click', () => openReport(id, code));
  const dims = byOrder('Dimension', Object.entries(loc.dimensions || {}));
  return el('article', { class: 'own-card', 'data-location': id },
    el('h3', {}, loc.name || id, ' ', el('span', { class: 'meta' }, label('LocationType', loc.type))),
    el('p', { class: 'meta' }, loc.last_report ? [`${t('lastReport')}: ${fmtClock(loc.last_report)} `,
      el('span', { class: 'age inline', 'data-time': parseTime(loc.last_report), 'data-oldest': parseTime(loc.last_report) })] : t('neverReported')),
    loc.overdue_since ? el('p', { class: 'tag-overdue' }, `⌛ ${t('overdue', fmtClock(loc.overdue_since))}`) : null,
    el('div', { class: 'one-click' }, notAffected, any),
    dims.length ? el('table', { class: 'grid own-values' },
      el('thead', {}, el('tr', {}, [t('dimensionCol'), t('filterState'), t('value'), t('observed'), ''].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, dims.map(([dim, dv]) => dimensionRow(id, code, loc, dim, dv)))) : el('p', { class: 'meta' }, t('noValues')));
}

/** The institution's own locations in the shown regions. */
export function renderOwn(views) {
  const own = views.flatMap(([code, v]) => Object.entries(v.locations || {})
    .filter(([, l]) => l.organisation === state.me.organisation).map(([id, l]) => [id, l, code]))
    .sort((a, b) => String(a[1].name).localeCompare(String(b[1].name)));
  keepFocus($('own-locations'), () => $('own-locations').replaceChildren(...(own.length
    ? own.map(([id, l, code]) => locationCard(id, code, l))
    : [el('p', { class: 'note' }, t('ownNone'))])));
}

onReceipt((answer) => {
  const receipt = $('own-receipt');
  // A refused report is explained per field in the form itself, in the chosen language.
  const refused = answer.status === 400 || answer.status === 422;
  receipt.textContent = answer.ok ? lastReceipt.text : refused ? t('refusedSeeForm') : problemText(answer);
  receipt.classList.toggle('error', !answer.ok);
  receipt.hidden = false;
});

