// ghor — the institution's own page, phone first: one location at a time (a switcher when
// the organisation has several), and above it first what the GHOR asks and advises now
// (DESIGN §3.7: each open uitvraag that addresses one of its locations as a banner with
// question, deadline and countdown, "Nu beantwoorden" and "Niet getroffen"; each
// handelingsperspectief with "Gelezen") and the open help requests. The location itself:
// every current value (state, value, age), "Status melden" that opens the checklist form,
// "Niet getroffen", and "Wijzigen" per dimension; the newest confirmation of what was
// stored stays visible. The chain's picture in aggregate follows below (shared tiles).

import { $, t, el, ICON, isObject, worstState, fmtClock, parseTime, label, byOrder, badge, addTexts, state, problemText, liveAge } from './core.js';
import { summaryLines } from './picture.js';
import { openReport, openAnswer, lastReceipt, onReceipt, notAffectedControl, answerStateLine } from './report.js';
import { keepFocus } from './dashboard.js';
import { uitvragen, advices, deadlineSpan, askedText, isOver, sendRead, urgencies } from './warm.js';

addTexts({
  nl: {
    askBanner: (title) => `Uitvraag van de GHOR: ${title}`,
    askFor: (n) => `Voor ${n}`,
    answerNow: 'Nu beantwoorden',
    answerAgain: 'Antwoord wijzigen',
    adviceBanner: 'Handelingsperspectief van de GHOR',
    published: (when) => `Gepubliceerd ${when}`,
    markRead: 'Gelezen',
    markReadAria: (title) => `Bevestig dat u dit gelezen heeft: ${title}`,
    readFailed: (why) => `Niet opgeslagen: ${why}`,
    ownTitle: 'Mijn locaties',
    ownNone: 'Er zijn (nog) geen locaties van uw organisatie geregistreerd in deze regio. De netwerkfunctionaris van de GHOR registreert ze.',
    ownNote: 'U ziet hier de eigen locaties van uw organisatie in detail en de keten in totalen.',
    agreedNote: 'Behalve van de locaties in de tabel: daarvan ziet u wat hun instelling met u deelt, zoals met de GHOR afgesproken.',
    chainTotals: 'De keten in totaal',
    change: 'Wijzigen',
    changeAria: (d, n) => `${d} van ${n} wijzigen`,
    reportAny: 'Iets anders melden',
    value: 'Waarde',
    notAffectedAria: (n) => `${n}: niet getroffen melden`,
    refusedSeeForm: 'Niet opgeslagen: het formulier geeft aan wat er verbeterd moet worden.',
    reportStatus: 'Status melden',
    ownSwitch: (n) => `Locatie (${n})`,
    helpTitle: 'Open hulpvragen',
    helpFor: (n) => `van ${n}`,
    helpSince: (hm) => `gemeld ${hm}`,
    helpUpdate: 'Bijwerken of sluiten',
  },
  en: {
    askBanner: (title) => `Enquiry from the GHOR: ${title}`,
    askFor: (n) => `For ${n}`,
    answerNow: 'Answer now',
    answerAgain: 'Change the answer',
    adviceBanner: 'Advice from the GHOR',
    published: (when) => `Published ${when}`,
    markRead: 'Read',
    markReadAria: (title) => `Confirm you have read: ${title}`,
    readFailed: (why) => `Not stored: ${why}`,
    ownTitle: 'My locations',
    ownNone: "No locations of your organisation are registered in this region (yet). The GHOR's netwerkfunctionaris registers them.",
    ownNote: "Here you see your organisation's own locations in detail and the chain in aggregate.",
    agreedNote: 'Except for the locations in the table: of those you see what their institution shares with you, as agreed with the GHOR.',
    chainTotals: 'The chain in aggregate',
    change: 'Change',
    changeAria: (d, n) => `Change ${d} of ${n}`,
    reportAny: 'Report something else',
    value: 'Value',
    notAffectedAria: (n) => `${n}: report not affected`,
    refusedSeeForm: 'Not stored: the form points out what to correct.',
    reportStatus: 'Report status',
    ownSwitch: (n) => `Location (${n})`,
    helpTitle: 'Open help requests',
    helpFor: (n) => `of ${n}`,
    helpSince: (hm) => `reported ${hm}`,
    helpUpdate: 'Update or close',
  },
});

function dimensionRow(id, code, loc, dim, dv) {
  const times = Object.values(dv.values || {}).map((v) => parseTime(v.time)).filter(Number.isFinite);
  const newest = times.length ? Math.max(...times) : NaN;
  const limit = Number(loc.interval_minutes) * 60000 || null;
  const change = el('button', { type: 'button', class: 'small', 'data-change': dim, 'data-focus': `change:${id}:${dim}`,
    'aria-label': t('changeAria', label('Dimension', dim), loc.name || id) }, t('change'));
  // The form opens on this dimension; its key is the newest reported (power for utilities, not the first alphabetically).
  change.addEventListener('click', () => openReport(id, code, dim));
  return el('tr', { 'data-dimension': dim, 'data-state': dv.state || 'info' },
    el('th', { scope: 'row' }, label('Dimension', dim)),
    el('td', {}, dv.state ? badge(dv.state) : null),
    el('td', { class: 'sum' }, summaryLines(dim, dv)),
    el('td', {}, Number.isFinite(newest) ? [fmtClock(new Date(newest)), ' ',
      el('span', { class: 'age', 'data-time': newest, 'data-oldest': Math.min(...times), 'data-limit': limit })] : '–'),
    el('td', {}, change));
}

function locationCard(id, code, loc) {
  const notAffected = notAffectedControl(id, loc, null, { 'data-not-affected': id, 'data-focus': `na:${id}`,
    'aria-label': t('notAffectedAria', loc.name || id) });
  const any = el('button', { type: 'button', class: 'primary', 'data-report': id, 'data-focus': `report:${id}` }, t('reportStatus'));
  any.addEventListener('click', () => openReport(id, code));
  const dims = byOrder('Dimension', Object.entries(loc.dimensions || {}));
  return el('article', { class: 'own-card', 'data-location': id },
    el('h3', {}, loc.name || id, ' ', el('span', { class: 'meta' }, label('LocationType', loc.type))),
    el('p', { class: 'meta' }, loc.last_report ? [`${t('lastReport')}: ${fmtClock(loc.last_report)} `,
      el('span', { class: 'age inline', 'data-time': parseTime(loc.last_report), 'data-oldest': parseTime(loc.last_report) })] : t('neverReported')),
    loc.overdue_since ? el('p', { class: 'tag-overdue' }, `${ICON.verouderd} ${t('overdue', fmtClock(loc.overdue_since))}`) : null,
    el('div', { class: 'one-click' }, any, notAffected),
    dims.length ? el('table', { class: 'grid own-values' },
      el('thead', {}, el('tr', {}, [t('dimensionCol'), t('filterState'), t('value'), t('observed'), ''].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, dims.map(([dim, dv]) => dimensionRow(id, code, loc, dim, dv)))) : el('p', { class: 'meta' }, t('noValues')));
}

// ---------------------------------------------------------------- what the GHOR asks and advises

/** One banner per open uitvraag and own addressed location: the question, the deadline, and the two answers. */
function askBanner(id, u, locId, loc, several) {
  const entry = u.locations[locId];
  const done = entry.state === 'beantwoord' || entry.state === 'niet_getroffen';
  const answer = el('button', { type: 'button', class: done ? '' : 'primary', 'data-answer-uitvraag': id, 'data-location': locId,
    'data-focus': `answer:${id}:${locId}` }, done ? t('answerAgain') : t('answerNow'));
  answer.addEventListener('click', () => openAnswer(id, locId));
  return el('article', { class: 'banner ask', 'data-uitvraag': id, 'data-location': locId, 'data-answer': entry.state,
    'data-over': isOver(u, entry) ? 'true' : null },
    el('h3', {}, t('askBanner', u.title)),
    several ? el('p', { class: 'for' }, t('askFor', loc.name || locId)) : null,
    u.question ? el('p', { class: 'question' }, u.question) : null,
    el('p', {}, el('strong', {}, `${t('deadline')}: `), deadlineSpan(u)),
    el('p', {}, el('strong', {}, `${t('asked')}: `), askedText(u.asked)),
    el('p', { class: 'answer-line' }, answerStateLine(u, entry)),
    el('div', { class: 'one-click' }, answer,
      done && entry.state === 'niet_getroffen' ? null
        : notAffectedControl(locId, loc, id, { 'data-not-affected-uitvraag': id, 'data-location': locId, 'data-focus': `na-ask:${id}:${locId}` },
          (result) => { if (!result.ok) showReceipt(result); })));
}

const reading = new Set();

/** One card per handelingsperspectief addressing own locations, with "Gelezen" for all of them at once. */
function adviceCard(id, a, own) {
  const mine = Object.entries(a.locations || {}).filter(([loc]) => own.has(loc));
  const unread = mine.filter(([, r]) => !r).map(([loc]) => loc);
  const reads = mine.map(([, r]) => r).filter(Boolean).sort((x, y) => parseTime(x.time) - parseTime(y.time));
  let status;
  if (!unread.length) {
    status = el('p', { class: 'read-at' }, `✓ ${t('readAt', fmtClock(reads[0].time))}`);
  } else {
    const button = el('button', { type: 'button', class: 'primary', 'data-read': id, 'data-focus': `read:${id}`,
      'aria-label': t('markReadAria', a.title), disabled: reading.has(id) }, `✓ ${t('markRead')}`);
    button.addEventListener('click', async () => {
      reading.add(id);
      button.disabled = true;
      const answer = await sendRead(id, unread);
      reading.delete(id);
      const refused = answer.ok && ((answer.body && answer.body.results) || []).find((r) => r.problem);
      if (!answer.ok || refused) showReceipt(answer.ok ? { ok: false, status: 422, body: refused.problem } : answer, t('readFailed', problemText(answer.ok ? { status: 422, body: refused.problem } : answer)));
      lastWarm = '';
      renderWarmNow();
    });
    status = el('div', { class: 'one-click' }, button);
  }
  return el('article', { class: 'banner advice', 'data-advice': id, 'data-urgency': a.urgency },
    el('h3', {}, el('span', { class: 'pill urgency', 'data-urgency': a.urgency }, `${t('urgency')}: ${label('Urgency', a.urgency)}`), ' ', a.title),
    el('p', { class: 'meta' }, t('adviceBanner'), ' · ', t('published', fmtClock(a.published)), ' ', liveAge(a.published)),
    el('p', { class: 'advice-text' }, a.text),
    status);
}

let lastWarm = '';
let warmArgs = null;
function renderWarmNow() { if (warmArgs) renderWarm(...warmArgs); }

/**
 * The banners above the own locations. Drawn again only when what they show changed
 * (the countdowns tick by themselves), so a confirmation being asked is not wiped by the
 * next update of the picture.
 */
function renderWarm(own) {
  warmArgs = [own];
  const ids = new Set(own.map(([id]) => id));
  const names = Object.fromEntries(own.map(([id, l]) => [id, l]));
  const asks = Object.entries(uitvragen()).filter(([, u]) => !u.closed)
    .flatMap(([id, u]) => Object.keys(u.locations || {}).filter((l) => ids.has(l)).map((l) => [id, u, l]));
  const advised = Object.entries(advices()).filter(([, a]) => Object.keys(a.locations || {}).some((l) => ids.has(l)));
  const signature = JSON.stringify([state.lang, asks.map(([id, u, l]) => [id, l, u.title, u.question, u.deadline, u.locations[l], u.asked]),
    advised, [...reading], asks.map(([id, u, l]) => isOver(u, u.locations[l]))]);
  if (signature === lastWarm) return;
  lastWarm = signature;
  const several = own.length > 1;
  const rank = (u, l) => (['open', 'deels'].includes(u.locations[l].state) ? 0 : 1);
  asks.sort((a, b) => rank(a[1], a[2]) - rank(b[1], b[2]) || parseTime(a[1].deadline) - parseTime(b[1].deadline));
  const urgent = urgencies();
  advised.sort((a, b) => urgent.indexOf(b[1].urgency) - urgent.indexOf(a[1].urgency) || parseTime(b[1].published) - parseTime(a[1].published));
  keepFocus($('own-warm'), () => $('own-warm').replaceChildren(
    ...asks.map(([id, u, l]) => askBanner(id, u, l, names[l], several)),
    ...advised.map(([id, a]) => adviceCard(id, a, ids))));
}

function showReceipt(answer, text) {
  const receipt = $('own-receipt');
  receipt.textContent = text || problemText(answer);
  receipt.classList.toggle('error', !answer.ok);
  receipt.hidden = false;
}

/** Open help requests of the own locations: what the institution still waits for, at the top. */
function renderHelp(own) {
  const open = own.flatMap(([id, loc, code]) => Object.entries(((loc.dimensions || {}).help_request || {}).values || {})
    .filter(([, v]) => !v.retracted && isObject(v.data) && v.data.category).map(([key, v]) => ({ id, loc, code, key, v })))
    .sort((a, b) => parseTime(b.v.time) - parseTime(a.v.time));
  const several = own.length > 1;
  keepFocus($('own-help'), () => $('own-help').replaceChildren(...(open.length ? [
    el('h2', { class: 'section' }, t('helpTitle'), ` (${open.length})`),
    ...open.map(({ id, loc, code, key, v }) => {
      const update = el('button', { type: 'button', 'data-help-update': key, 'data-location': id, 'data-focus': `help:${id}:${key}` }, t('helpUpdate'));
      update.addEventListener('click', () => openReport(id, code, 'help_request', key));
      return el('article', { class: 'banner help', 'data-help': key, 'data-location': id, 'data-urgency': v.data.urgency },
        el('h3', {}, el('span', { class: 'pill urgency', 'data-urgency': v.data.urgency }, `${t('urgency')}: ${label('Urgency', v.data.urgency)}`), ' ',
          label('HelpCategory', v.data.category), ' · ', key, several ? el('span', { class: 'meta' }, ` ${t('helpFor', loc.name || id)}`) : null),
        v.data.text ? el('p', { class: 'advice-text' }, v.data.text) : null,
        el('p', { class: 'meta' }, t('helpSince', fmtClock(v.time)), ' ', liveAge(v.time)),
        el('div', { class: 'one-click' }, update));
    })] : [])));
}

/** The own location shown now (one at a time): the one chosen, else the one a deep link names, else the first. */
let shownOwn = null;
const OWN_KEY = 'ghor.ownLocation';

/** Shows own location `id` (the switcher and a deep link call this). */
export function showOwn(id) {
  shownOwn = id;
  try { sessionStorage.setItem(OWN_KEY, id); } catch (e) { /* storage unavailable */ }
}

function chosenOwn(own) {
  const ids = own.map(([id]) => id);
  if (ids.includes(shownOwn)) return shownOwn;
  const query = new URLSearchParams(location.search);
  let remembered = null;
  try { remembered = sessionStorage.getItem(OWN_KEY); } catch (e) { /* storage unavailable */ }
  const pick = [query.get('melden'), query.get('location'), remembered].find((id) => id && ids.includes(id)) || ids[0] || null;
  shownOwn = pick;
  return pick;
}

/** The switcher between own locations, each with its worst state, when there are several. */
function renderSwitch(own, current) {
  const box = $('own-switch');
  if (own.length < 2) { box.replaceChildren(); return; }
  const signature = JSON.stringify([state.lang, current, own.map(([id, l]) => [id, l.name, worstOf(l)])]);
  if (box.dataset.signature === signature) return;
  box.dataset.signature = signature;
  const select = el('select', { id: 'own-location', 'data-focus': 'own-location' }, own.map(([id, l]) => {
    const worst = worstOf(l);
    return el('option', { value: id }, worst ? `${l.name || id} — ${label('State', worst)}` : l.name || id);
  }));
  select.value = current;
  select.addEventListener('change', () => { showOwn(select.value); renderOwn(lastViews); });
  keepFocus(box, () => box.replaceChildren(el('div', { class: 'field own-switch' }, el('label', { for: 'own-location' }, t('ownSwitch', own.length)), select)));
}

/** The worst state among a location's dimensions, by the server's severity order. */
function worstOf(loc) {
  return worstState(Object.values(loc.dimensions || {}).map((dv) => dv.state));
}

let lastViews = [];

/** The institution's own locations in the shown regions: one at a time, with what the GHOR asks first. */
export function renderOwn(views) {
  lastViews = views;
  const own = views.flatMap(([code, v]) => Object.entries(v.locations || {})
    .filter(([, l]) => l.organisation === state.me.organisation).map(([id, l]) => [id, l, code]))
    .sort((a, b) => String(a[1].name).localeCompare(String(b[1].name)));
  const current = chosenOwn(own);
  renderSwitch(own, current);
  renderWarm(own);
  renderHelp(own);
  const shown = own.filter(([id]) => id === current);
  keepFocus($('own-locations'), () => $('own-locations').replaceChildren(...(shown.length
    ? shown.map(([id, l, code]) => locationCard(id, code, l))
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

