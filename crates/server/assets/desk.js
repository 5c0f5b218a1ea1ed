// ghor — the informatiemanager's desk in the warm phase (DESIGN §3.7), shown only to a
// token that may `ask_and_advise`: open an uitvraag for an area (regions, municipalities,
// location categories and types, a circle or polygon drawn on the map) and follow it —
// counts, the response over time, every addressed location with its answer and calls, the
// call list of those who did not answer (from GET /v1/uitvragen/{id}: the server's order
// and the 24/7 contacts), a call outcome in one click, answering on a location's behalf
// by phone, closing; and publish a handelingsperspectief and see who read it. Everything
// is written as events through /v1/events; whom an area addresses the server decides (the
// preview count here is a courtesy computed the same way).

import {
  $, t, el, has, num, fmtNum, fmtClock, parseTime, label, keyType, addTexts, state, on, api, postEvent, problemText,
  showDialog, order, byOrder, compareText, errorMessage, liveAge, eventType, scheduleRender,
} from './core.js';
import {
  uitvragen, advices, countsOf, answerBadge, askedText, deadlineSpan, isOver, pastDeadline, missingText, urgencies, ANSWER_ICON,
} from './warm.js';
import { areaMap } from './map.js';
import { openAnswer } from './report.js';
import { keepFocus } from './dashboard.js';

addTexts({
  nl: {
    deskTitle: 'Uitvragen en handelingsperspectieven',
    newUitvraag: 'Nieuwe uitvraag',
    newAdvice: 'Handelingsperspectief publiceren',
    deskNone: 'Nog geen uitvragen of handelingsperspectieven.',
    openAsks: 'Open uitvragen',
    closedAsks: (n) => `Gesloten uitvragen (${n})`,
    publishedAdvice: 'Handelingsperspectieven',
    askedBy: (r, hm) => `gevraagd door ${r} om ${hm}`,
    answeredOf: (a, n) => `${a} van ${n} beantwoord`,
    readOf: (a, n) => `${a} van ${n} gelezen`,
    countOpen: 'open', countDeels: 'deels', countBeantwoord: 'beantwoord', countNietGetroffen: 'niet getroffen', countOver: 'over de deadline',
    asOf: (hms) => `stand ${hms}`,
    show: 'Details', hide: 'Verbergen',
    rateTitle: 'Antwoorden in de tijd',
    rateAria: (a, n, pct) => `Antwoorden in de tijd: ${a} van ${n} (${pct}%)`,
    addressedTitle: (n) => `Bevraagde locaties (${n})`,
    colLocation: 'Locatie', colState: 'Antwoord', colAnswered: 'Beantwoord om', colReported: 'Gemeld', colCalls: 'Gebeld', colDelivery: 'Bericht bereikt',
    deliveryUnknown: 'nog niet bekend',
    callsN: (n) => (n === 1 ? '1 keer' : `${n} keer`),
    callListTitle: (n) => `Bellijst: nog niet beantwoord (${n})`,
    callListEmpty: 'Iedereen heeft geantwoord.',
    callListLoading: 'Bellijst laden…',
    callListFailed: (why) => `Bellijst niet te laden: ${why}`,
    callListAsOf: (hms) => `Bellijst van ${hms}`,
    lastReportShort: 'laatste melding',
    noContacts: 'Geen contactpersonen vastgelegd.',
    verifiedShort: (d) => `gecontroleerd ${d}`,
    callNote: 'Notitie bij het gesprek (optioneel)',
    recordCall: (o, n) => `${o}: ${n}`,
    callRecorded: (o, n, hm) => `Vastgelegd om ${hm}: ${o} — ${n}.`,
    answerOnBehalf: 'Beantwoorden namens',
    closeAsk: 'Uitvraag sluiten',
    closeConfirm: (n) => `Sluiten zet de stand vast: wie nu niet geantwoord heeft (${n}), telt als niet beantwoord. Sluiten?`,
    closeYes: 'Ja, sluiten',
    missing: 'Nog niet',
    closedStored: (title, hm) => `Uitvraag "${title}" gesloten om ${hm}.`,
    mapAnswers: 'Kaart: gebied en antwoorden',
    mapAnswersAria: (n) => `Kaart van het gevraagde gebied met ${n} bevraagde locaties naar antwoord`,
    readTitle: (n) => `Gericht aan ${n} locaties`,
    colRead: 'Gelezen',
    notRead: 'nog niet gelezen',
    readBy: (hm, who) => `${hm} · ${who}`,
    // the forms
    askFormTitle: 'Nieuwe uitvraag',
    adviceFormTitle: 'Handelingsperspectief publiceren',
    fTitle: 'Titel',
    fQuestion: 'Vraag (optioneel)',
    fText: 'Tekst',
    fUrgency: 'Urgentie',
    fDimensions: 'Wat moeten zij melden?',
    fKeysHint: 'Geen keuze: elk onderdeel telt als antwoord.',
    fDeadline: 'Deadline',
    fRenotify: 'Herinneren elke (minuten, 5–1440; leeg: niet)',
    fIncident: 'Hoort bij incident (optioneel)',
    noIncident: '— geen —',
    fSource: 'Namens regio',
    areaTitle: 'Gebied',
    areaHint: 'Een getekend gebied (cirkel of veelhoek) gaat vóór gemeenten, gemeenten gaan vóór regio\'s. Soorten en categorieën beperken het verder.',
    fRegions: 'Regio\'s',
    fMunicipalities: 'Gemeenten',
    fCategories: 'Categorieën',
    fTypes: 'Soorten locatie',
    fDrawn: 'Op de kaart',
    pickCentre: 'Klik het middelpunt van de cirkel',
    pickCorner: 'Klik hoekpunten van een veelhoek',
    fLat: 'Middelpunt breedte (lat)',
    fLon: 'Middelpunt lengte (lon)',
    fRadius: 'Straal (km)',
    clearCircle: 'Cirkel wissen',
    clearPolygon: 'Veelhoek wissen',
    corners: (n) => `${n} hoekpunten`,
    preview: (n) => (n === 1 ? '1 locatie wordt bevraagd' : `${n} locaties worden bevraagd`),
    previewAdvice: (n) => (n === 1 ? '1 locatie krijgt dit handelingsperspectief' : `${n} locaties krijgen dit handelingsperspectief`),
    previewNote: 'Telling op deze pagina; de server stelt vast wie bevraagd wordt.',
    previewNames: 'Welke?',
    registryLoading: 'Locaties laden…',
    openAsk: 'Uitvraag versturen',
    publish: 'Publiceren',
    sending: 'Versturen…',
    askOpened: (title, hm) => `Uitvraag "${title}" verstuurd om ${hm}.`,
    advicePublished: (title, hm) => `Handelingsperspectief "${title}" gepubliceerd om ${hm}.`,
    formRefused: 'Niet verstuurd. Verbeter wat bij de velden staat:',
    needTitle: 'Vul een titel in.',
    needDimension: 'Kies ten minste één onderdeel.',
    needText: 'Vul de tekst in.',
  },
  en: {
    deskTitle: 'Enquiries and advice',
    newUitvraag: 'New enquiry',
    newAdvice: 'Publish advice',
    deskNone: 'No enquiries or advice yet.',
    openAsks: 'Open enquiries',
    closedAsks: (n) => `Closed enquiries (${n})`,
    publishedAdvice: 'Advice',
    askedBy: (r, hm) => `asked by ${r} at ${hm}`,
    answeredOf: (a, n) => `${a} of ${n} answered`,
    readOf: (a, n) => `${a} of ${n} read`,
    countOpen: 'open', countDeels: 'partly', countBeantwoord: 'answered', countNietGetroffen: 'not affected', countOver: 'past the deadline',
    asOf: (hms) => `as of ${hms}`,
    show: 'Details', hide: 'Hide',
    rateTitle: 'Answers over time',
    rateAria: (a, n, pct) => `Answers over time: ${a} of ${n} (${pct}%)`,
    addressedTitle: (n) => `Addressed locations (${n})`,
    colLocation: 'Location', colState: 'Answer', colAnswered: 'Answered at', colReported: 'Reported', colCalls: 'Called', colDelivery: 'Message reached',
    deliveryUnknown: 'not known yet',
    callsN: (n) => (n === 1 ? 'once' : `${n} times`),
    callListTitle: (n) => `Call list: not answered yet (${n})`,
    callListEmpty: 'Everyone has answered.',
    callListLoading: 'Loading the call list…',
    callListFailed: (why) => `Call list could not be loaded: ${why}`,
    callListAsOf: (hms) => `Call list as of ${hms}`,
    lastReportShort: 'last report',
    noContacts: 'No contacts recorded.',
    verifiedShort: (d) => `checked ${d}`,
    callNote: 'Note on the call (optional)',
    recordCall: (o, n) => `${o}: ${n}`,
    callRecorded: (o, n, hm) => `Recorded at ${hm}: ${o} — ${n}.`,
    answerOnBehalf: 'Answer on behalf',
    closeAsk: 'Close enquiry',
    closeConfirm: (n) => `Closing freezes the result: whoever has not answered now (${n}) counts as not answered. Close?`,
    closeYes: 'Yes, close',
    missing: 'Still missing',
    closedStored: (title, hm) => `Enquiry "${title}" closed at ${hm}.`,
    mapAnswers: 'Map: area and answers',
    mapAnswersAria: (n) => `Map of the area asked with ${n} addressed locations by answer`,
    readTitle: (n) => `Addressed to ${n} locations`,
    colRead: 'Read',
    notRead: 'not read yet',
    readBy: (hm, who) => `${hm} · ${who}`,
    askFormTitle: 'New enquiry',
    adviceFormTitle: 'Publish advice',
    fTitle: 'Title',
    fQuestion: 'Question (optional)',
    fText: 'Text',
    fUrgency: 'Urgency',
    fDimensions: 'What must they report?',
    fKeysHint: 'None chosen: any of them counts as an answer.',
    fDeadline: 'Deadline',
    fRenotify: 'Remind every (minutes, 5–1440; empty: never)',
    fIncident: 'Part of incident (optional)',
    noIncident: '— none —',
    fSource: 'On behalf of region',
    areaTitle: 'Area',
    areaHint: 'A drawn area (circle or polygon) comes before municipalities, municipalities before regions. Types and categories narrow it further.',
    fRegions: 'Regions',
    fMunicipalities: 'Municipalities',
    fCategories: 'Categories',
    fTypes: 'Location types',
    fDrawn: 'On the map',
    pickCentre: 'Click the centre of the circle',
    pickCorner: 'Click corners of a polygon',
    fLat: 'Centre latitude',
    fLon: 'Centre longitude',
    fRadius: 'Radius (km)',
    clearCircle: 'Clear circle',
    clearPolygon: 'Clear polygon',
    corners: (n) => `${n} corners`,
    preview: (n) => (n === 1 ? '1 location will be asked' : `${n} locations will be asked`),
    previewAdvice: (n) => (n === 1 ? '1 location gets this advice' : `${n} locations get this advice`),
    previewNote: 'Counted on this page; the server decides whom it addresses.',
    previewNames: 'Which?',
    registryLoading: 'Loading locations…',
    openAsk: 'Send enquiry',
    publish: 'Publish',
    sending: 'Sending…',
    askOpened: (title, hm) => `Enquiry "${title}" sent at ${hm}.`,
    advicePublished: (title, hm) => `Advice "${title}" published at ${hm}.`,
    formRefused: 'Not sent. Correct what the fields say:',
    needTitle: 'Enter a title.',
    needDimension: 'Choose at least one item.',
    needText: 'Enter the text.',
  },
});

const KM_RADIUS_DEFAULT = 10;

/** What the desk shows open, what it is doing, and the call list last fetched. */
const desk = {
  open: null,                 // the uitvraag shown in detail
  openAdvice: null,           // the advice whose readers are shown
  closedShown: false,
  closing: null,              // the uitvraag whose closing is being confirmed
  busy: new Set(),            // keys of calls/closings under way
  notes: {},                  // location → the call note being typed
  detail: null,               // { id, body, error, loading, dirty, signature }
};

// ---------------------------------------------------------------- helpers

function status(text, ok = true) {
  const node = $('desk-status');
  node.textContent = text;
  node.classList.toggle('error', !ok);
  node.hidden = !text;
}

/** Every location the token sees, across its regions: id → [location view, region]. */
function knownLocations() {
  const all = {};
  for (const [code, view] of Object.entries(state.regions)) {
    for (const [id, loc] of Object.entries((view && view.locations) || {})) all[id] = [loc, code];
  }
  return all;
}

function locationName(id) {
  const known = knownLocations()[id];
  return (known && known[0].name) || id;
}

/** The region to write a call about `loc` in: its own when the token holds it, else the asking region's. */
function callRegion(u, loc) {
  const known = knownLocations()[loc];
  const regions = (state.me && state.me.regions) || [];
  return known && regions.includes(known[1]) ? known[1] : u.asked_by;
}

/** A counted chip: "3 open". */
function chip(kind, n, text) {
  return el('span', { class: 'count-chip', 'data-count': kind, 'data-zero': n ? null : 'true' },
    el('span', { class: 'icon', 'aria-hidden': 'true' }, ANSWER_ICON[kind] || ''), el('strong', {}, fmtNum(n)), ` ${text}`);
}

// ---------------------------------------------------------------- response over time

/** A small cumulative line of answers (full or "niet getroffen") from opening to the deadline or now. */
function rateChart(u) {
  const times = Object.values(u.locations || {}).map((e) => parseTime(e.answered)).filter(Number.isFinite).sort((a, b) => a - b);
  const total = Object.keys(u.locations || {}).length;
  const start = parseTime(u.opened);
  const deadline = parseTime(u.deadline);
  const end = Math.max(deadline, u.closed ? parseTime(u.closed) : Date.now(), times.length ? times[times.length - 1] : 0, start + 60000);
  const W = 300, H = 70, P = 4;
  const x = (ms) => P + ((ms - start) / (end - start)) * (W - 2 * P);
  const y = (n) => H - P - (total ? (n / total) * (H - 2 * P) : 0);
  let d = `M${x(start).toFixed(1)},${y(0).toFixed(1)}`;
  times.forEach((ms, i) => { d += ` H${x(ms).toFixed(1)} V${y(i + 1).toFixed(1)}`; });
  d += ` H${x(u.closed ? parseTime(u.closed) : Math.min(Date.now(), end)).toFixed(1)}`;
  const pct = total ? Math.round((times.length / total) * 100) : 0;
  const NS = 'http://www.w3.org/2000/svg';
  const node = (tag, attrs) => { const n = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v)); return n; };
  const chart = node('svg', { viewBox: `0 0 ${W} ${H}`, class: 'rate-chart', role: 'img', 'aria-label': t('rateAria', times.length, total, pct) });
  chart.append(node('rect', { x: 0, y: 0, width: W, height: H, class: 'rate-bg' }),
    node('line', { x1: x(deadline), x2: x(deadline), y1: 0, y2: H, class: 'rate-deadline' }),
    node('path', { d, class: 'rate-line' }));
  return el('figure', { class: 'rate' }, chart,
    el('figcaption', { class: 'meta' }, `${t('rateTitle')}: ${fmtNum(times.length)}/${fmtNum(total)} (${pct}%) · ${t('deadline')} ${fmtClock(new Date(deadline))}`));
}

// ---------------------------------------------------------------- the list of uitvragen

function askCard(id, u) {
  const c = countsOf(u);
  const open = desk.open === id;
  const toggle = el('button', { type: 'button', 'aria-expanded': String(open), 'data-toggle-uitvraag': id, 'data-focus': `toggle:${id}` },
    open ? t('hide') : t('show'));
  toggle.addEventListener('click', () => { desk.open = open ? null : id; desk.closing = null; if (!open) loadDetail(id); redraw(); });
  return el('article', { class: 'ask-card', 'data-uitvraag': id, 'data-closed': u.closed ? 'true' : null },
    el('div', { class: 'ask-card-head' },
      el('h3', {}, u.title),
      el('span', { class: 'answered-of', 'data-answered': c.beantwoord + c.niet_getroffen, 'data-total': c.total },
        t('answeredOf', fmtNum(c.beantwoord + c.niet_getroffen), fmtNum(c.total))),
      toggle),
    el('p', { class: 'meta' }, t('askedBy', u.asked_by, fmtClock(u.opened)), ' · ', `${t('deadline')}: `, deadlineSpan(u)),
    u.question ? el('p', { class: 'question' }, u.question) : null,
    el('p', { class: 'meta' }, `${t('asked')}: ${askedText(u.asked)}`),
    el('div', { class: 'count-chips' },
      chip('open', c.open, t('countOpen')), chip('deels', c.deels, t('countDeels')),
      chip('beantwoord', c.beantwoord, t('countBeantwoord')), chip('niet_getroffen', c.niet_getroffen, t('countNietGetroffen')),
      chip('over', c.over, t('countOver')), el('span', { class: 'meta desk-asof' })),
    open ? askDetail(id, u) : null);
}

// ---------------------------------------------------------------- one uitvraag in detail

function askDetail(id, u) {
  const known = knownLocations();
  const points = Object.entries(u.locations || {}).filter(([loc]) => known[loc] && known[loc][0].point).map(([loc, e]) => {
    const over = isOver(u, e);
    const p = known[loc][0].point;
    return { id: loc, lat: p.lat, lon: p.lon, kind: over ? 'over' : e.state, icon: over ? ANSWER_ICON.over : ANSWER_ICON[e.state],
      name: `${known[loc][0].name || loc}: ${label('AnswerState', e.state)}${over ? ` · ${t('overDeadline')}` : ''}` };
  });
  const present = new Set(points.map((p) => p.kind));
  const legend = el('ul', { class: 'legend' }, ['over', 'open', 'deels', 'beantwoord', 'niet_getroffen'].filter((k) => present.has(k))
    .map((k) => el('li', {}, k === 'over' ? answerBadge('open', true) : answerBadge(k, false))));
  return el('div', { class: 'ask-detail', id: 'ask-detail' },
    el('div', { class: 'ask-detail-top' },
      el('section', { class: 'ask-map' }, el('h4', {}, t('mapAnswers')),
        areaMap({ points, area: u.area, caption: t('mapAnswersAria', points.length), rerender: scheduleRender }), legend),
      el('section', {}, rateChart(u), closeControl(id, u))),
    callList(id, u),
    addressedTable(id, u));
}

function closeControl(id, u) {
  if (u.closed) return el('p', { class: 'meta' }, t('closedAt', fmtClock(u.closed)));
  const c = countsOf(u);
  if (desk.closing === id) {
    const yes = el('button', { type: 'button', class: 'danger', 'data-close-yes': id, 'data-focus': `close-yes:${id}`, disabled: desk.busy.has(`close:${id}`) }, t('closeYes'));
    const no = el('button', { type: 'button', 'data-focus': `close-no:${id}` }, t('cancel'));
    yes.addEventListener('click', () => closeAsk(id, u));
    no.addEventListener('click', () => { desk.closing = null; redraw(); });
    return el('div', { class: 'confirm-box', role: 'alert' }, el('p', {}, t('closeConfirm', fmtNum(c.open + c.deels))), yes, ' ', no);
  }
  const button = el('button', { type: 'button', 'data-close-uitvraag': id, 'data-focus': `close:${id}` }, t('closeAsk'));
  button.addEventListener('click', () => { desk.closing = id; redraw(); const again = document.querySelector(`[data-close-yes="${CSS.escape(id)}"]`); if (again) again.focus(); });
  return button;
}

async function closeAsk(id, u) {
  desk.busy.add(`close:${id}`);
  redraw();
  const answer = await postEvent({ source: `/regions/${u.asked_by}`, type: eventType('uitvraag.closed'), subject: id, data: {} });
  desk.busy.delete(`close:${id}`);
  desk.closing = null;
  status(answer.ok ? t('closedStored', u.title, fmtClock(new Date(), true)) : problemText(answer), answer.ok);
  redraw();
}

function addressedTable(id, u) {
  const known = knownLocations();
  const rank = (e) => (isOver(u, e) ? 0 : { open: 1, deels: 2, beantwoord: 3, niet_getroffen: 4 }[e.state] ?? 5);
  const rows = Object.entries(u.locations || {}).sort((a, b) => rank(a[1]) - rank(b[1]) ||
    compareText(locationName(a[0]), locationName(b[0])));
  const head = el('thead', {}, el('tr', {}, [t('colLocation'), t('colState'), t('colAnswered'), t('colReported'), t('colCalls'), t('colDelivery')]
    .map((h) => el('th', { scope: 'col' }, h))));
  const body = el('tbody', {}, rows.map(([loc, e]) => {
    const info = known[loc] ? known[loc][0] : {};
    const last = (e.calls || [])[e.calls ? e.calls.length - 1 : 0];
    return el('tr', { 'data-location': loc, 'data-answer': e.state, 'data-over': isOver(u, e) ? 'true' : null },
      el('th', { scope: 'row' }, el('strong', {}, info.name || loc),
        el('div', { class: 'loc-type' }, [label('LocationType', info.type), info.municipality].filter(Boolean).join(' · '))),
      el('td', {}, answerBadge(e.state, isOver(u, e))),
      el('td', {}, e.answered ? [fmtClock(e.answered), liveAge(e.answered)] : '–'),
      el('td', {}, e.state === 'deels' ? `${t('missing')}: ${missingText(u, e)}`
        : (e.dimensions || []).map((d) => label('Dimension', d)).join(', ') || '–'),
      el('td', {}, last ? [t('callsN', e.calls.length), el('div', { class: 'meta' }, `${label('CallOutcome', last.outcome)} · ${fmtClock(last.time)}`)] : '–'),
      // Delivery outcomes of the notifications (email, webhook) come later as events: the column waits for them.
      el('td', { class: 'delivery', 'data-delivery': 'unknown' }, el('span', { class: 'meta' }, t('deliveryUnknown'))));
  }));
  return el('section', { class: 'addressed' }, el('h4', {}, t('addressedTitle', rows.length)),
    el('div', { class: 'table-wrap' }, el('table', { class: 'grid addressed-table' }, head, body)));
}

// ---------------------------------------------------------------- the call list

/** Fetches the uitvraag with its call list; again when what the stream says of it changes. */
async function loadDetail(id) {
  const d = desk.detail && desk.detail.id === id ? desk.detail : (desk.detail = { id, body: null, error: null, loading: false, dirty: false });
  if (d.loading) { d.dirty = true; return; }
  d.loading = true;
  const answer = await api('GET', `/v1/uitvragen/${encodeURIComponent(id)}`);
  d.loading = false;
  if (desk.detail !== d) return;
  d.body = answer.ok ? answer.body : d.body;
  d.error = answer.ok ? null : problemText(answer);
  d.fetchedAt = Date.now();
  if (d.dirty) { d.dirty = false; loadDetail(id); }
  redraw();
}

/** What of an uitvraag changes its call list: states and calls per location. */
function detailSignature(u) {
  return JSON.stringify(Object.entries(u.locations || {}).map(([l, e]) => [l, e.state, (e.calls || []).length]).concat([u.closed || '']));
}

function callList(id, u) {
  const d = desk.detail && desk.detail.id === id ? desk.detail : null;
  let body;
  if (!d || (!d.body && !d.error)) body = el('p', { class: 'meta' }, t('callListLoading'));
  else if (d.error && !d.body) body = el('p', { class: 'error' }, t('callListFailed', d.error));
  else {
    const list = d.body.call_list || [];
    body = list.length ? el('ol', { class: 'call-list' }, list.map((entry) => callItem(id, u, entry)))
      : el('p', { class: 'meta', id: 'call-list-empty' }, t('callListEmpty'));
  }
  const n = d && d.body ? (d.body.call_list || []).length : null;
  return el('section', { class: 'calls', id: 'call-list' },
    el('h4', {}, n === null ? t('callListTitle', '…') : t('callListTitle', fmtNum(n))),
    d && d.body ? el('p', { class: 'meta' }, t('callListAsOf', fmtClock(d.body.now, true)), ' ', liveAge(d.body.now)) : null,
    d && d.error && d.body ? el('p', { class: 'error' }, t('callListFailed', d.error)) : null,
    body);
}

function callItem(id, u, entry) {
  const loc = entry.id;
  const e = (u.locations || {})[loc] || { state: entry.state };
  const note = el('input', { type: 'text', id: `call-note-${loc}`, maxlength: 200, value: desk.notes[loc] || '', 'data-focus': `note:${loc}` });
  note.addEventListener('input', () => { desk.notes[loc] = note.value; });
  const outcomes = byOrder('CallOutcome', order('CallOutcome').map((o) => [o])).map(([o]) => {
    const b = el('button', { type: 'button', class: 'small', 'data-call-outcome': o, 'data-location': loc, 'data-focus': `call:${loc}:${o}`,
      disabled: desk.busy.has(`call:${loc}`), 'aria-label': t('recordCall', label('CallOutcome', o), entry.name || loc) }, label('CallOutcome', o));
    b.addEventListener('click', () => recordCall(id, u, loc, entry.name || loc, o));
    return b;
  });
  const behalf = el('button', { type: 'button', class: 'small', 'data-answer-behalf': loc, 'data-focus': `behalf:${loc}` }, t('answerOnBehalf'));
  behalf.addEventListener('click', () => openAnswer(id, loc));
  const contacts = Array.isArray(entry.contacts)
    ? (entry.contacts.length ? el('ul', { class: 'contacts' }, entry.contacts.map((c) => el('li', { 'data-contact-role': c.role },
      el('strong', {}, label('ContactRole', c.role)), ': ', c.name, ' · ',
      el('a', { href: `tel:${String(c.phone_24_7).replace(/[^+\d]/g, '')}`, class: 'tel' }, c.phone_24_7),
      c.fallback ? ` · ${c.fallback}` : '', c.verified_on ? el('span', { class: 'meta' }, ` · ${t('verifiedShort', c.verified_on)}`) : '')))
      : el('p', { class: 'meta' }, t('noContacts')))
    : null;
  const calls = (entry.calls || e.calls || []);
  return el('li', { class: 'call-item', 'data-location': loc, 'data-answer': entry.state },
    el('div', { class: 'call-who' },
      el('strong', {}, entry.name || loc), ' ', answerBadge(entry.state, isOver(u, e)),
      el('div', { class: 'loc-type' }, [label('LocationType', entry.type), entry.municipality, entry.region].filter(Boolean).join(' · ')),
      el('div', { class: 'meta' }, `${t('lastReportShort')}: `, entry.last_report ? [fmtClock(entry.last_report), ' ', liveAge(entry.last_report)] : t('neverReported'))),
    contacts,
    calls.length ? el('ul', { class: 'calls-made' }, calls.map((c) => el('li', { 'data-call': c.outcome },
      `${fmtClock(c.time)} · ${label('CallOutcome', c.outcome)} · ${c.actor}${c.note ? ` · ${c.note}` : ''}`))) : null,
    el('div', { class: 'field' }, el('label', { for: `call-note-${loc}` }, t('callNote')), note),
    el('div', { class: 'call-actions' }, outcomes, behalf));
}

async function recordCall(id, u, loc, name, outcome) {
  desk.busy.add(`call:${loc}`);
  redraw();
  const data = { location: loc, outcome };
  const note = (desk.notes[loc] || '').trim();
  if (note) data.note = note;
  const answer = await postEvent({ source: `/regions/${callRegion(u, loc)}`, type: eventType('uitvraag_call.recorded'), subject: id, data });
  desk.busy.delete(`call:${loc}`);
  if (answer.ok) delete desk.notes[loc];
  const problem = answer.body && Array.isArray(answer.body.errors) && answer.body.errors[0];
  status(answer.ok ? t('callRecorded', label('CallOutcome', outcome), name, fmtClock(new Date(), true))
    : problem ? `${name}: ${errorMessage(problem)}` : problemText(answer), answer.ok);
  redraw();
}

// ---------------------------------------------------------------- handelingsperspectieven

function adviceCard(id, a) {
  const entries = Object.entries(a.locations || {});
  const read = entries.filter(([, r]) => r).length;
  const open = desk.openAdvice === id;
  const toggle = el('button', { type: 'button', 'aria-expanded': String(open), 'data-toggle-advice': id, 'data-focus': `toggle-advice:${id}` },
    open ? t('hide') : t('show'));
  toggle.addEventListener('click', () => { desk.openAdvice = open ? null : id; redraw(); });
  let readers = null;
  if (open) {
    const rows = entries.sort((x, y) => (x[1] ? 1 : 0) - (y[1] ? 1 : 0) || compareText(locationName(x[0]), locationName(y[0])));
    readers = el('div', { class: 'table-wrap' }, el('table', { class: 'grid read-table' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('colLocation')), el('th', { scope: 'col' }, t('colRead')),
        el('th', { scope: 'col' }, t('colDelivery')))),
      el('tbody', {}, rows.map(([loc, r]) => el('tr', { 'data-location': loc, 'data-read': r ? 'true' : 'false' },
        el('th', { scope: 'row' }, locationName(loc)),
        el('td', {}, r ? [`✓ ${t('readBy', fmtClock(r.time), r.actor)}`, liveAge(r.time)] : el('span', { class: 'meta' }, t('notRead'))),
        el('td', { class: 'delivery', 'data-delivery': 'unknown' }, el('span', { class: 'meta' }, t('deliveryUnknown'))))))));
  }
  return el('article', { class: 'advice-card', 'data-advice': id, 'data-urgency': a.urgency },
    el('div', { class: 'ask-card-head' },
      el('h3', {}, el('span', { class: 'pill urgency', 'data-urgency': a.urgency }, label('Urgency', a.urgency)), ' ', a.title),
      el('span', { class: 'read-of', 'data-read': read, 'data-total': entries.length }, t('readOf', fmtNum(read), fmtNum(entries.length))),
      toggle),
    el('p', { class: 'meta' }, t('askedBy', a.published_by, fmtClock(a.published)), ' ', liveAge(a.published)),
    el('p', { class: 'advice-text' }, a.text),
    readers);
}

// ---------------------------------------------------------------- the desk

let lastSignature = '';

/** Redraws the desk now (after a click), whatever changed. */
function redraw() { lastSignature = ''; renderDesk(); }

/**
 * The desk: drawn again only when what it shows changed (the countdowns and ages tick by
 * themselves), so a note being typed or a confirmation being asked survives the picture's
 * updates. The call list is fetched again when the stream says the uitvraag changed.
 */
export function renderDesk() {
  const section = $('desk');
  const show = !!state.me && (state.me.may || []).includes('ask_and_advise');
  section.hidden = !show;
  if (!show) return;
  const asks = Object.entries(uitvragen()).sort((a, b) => (a[1].closed ? 1 : 0) - (b[1].closed ? 1 : 0) ||
    parseTime(b[1].opened) - parseTime(a[1].opened));
  const advised = Object.entries(advices()).sort((a, b) => parseTime(b[1].published) - parseTime(a[1].published));
  if (desk.open) {
    const u = asks.find(([id]) => id === desk.open);
    const sig = u ? detailSignature(u[1]) : '';
    if (u && desk.detail && desk.detail.id === desk.open && desk.detail.signature !== sig) {
      desk.detail.signature = sig;
      loadDetail(desk.open);
    }
  }
  const signature = JSON.stringify([state.lang, asks, advised, desk.open, desk.openAdvice, desk.closedShown, desk.closing, [...desk.busy],
    desk.detail && [desk.detail.id, desk.detail.body, desk.detail.error], asks.map(([, u]) => pastDeadline(u))]);
  if (signature !== lastSignature) {
    lastSignature = signature;
    const open = asks.filter(([, u]) => !u.closed);
    const closed = asks.filter(([, u]) => u.closed);
    const closedToggle = el('button', { type: 'button', class: 'link', 'aria-expanded': String(desk.closedShown), 'data-focus': 'closed-toggle' },
      t('closedAsks', closed.length));
    closedToggle.addEventListener('click', () => { desk.closedShown = !desk.closedShown; redraw(); });
    keepFocus($('desk-body'), () => $('desk-body').replaceChildren(
      !asks.length && !advised.length ? el('p', { class: 'meta' }, t('deskNone')) : '',
      open.length ? el('div', { class: 'ask-list', id: 'ask-list' }, open.map(([id, u]) => askCard(id, u))) : '',
      closed.length ? el('p', {}, closedToggle) : '',
      closed.length && desk.closedShown ? el('div', { class: 'ask-list closed' }, closed.map(([id, u]) => askCard(id, u))) : '',
      advised.length ? el('h3', { class: 'subsection' }, t('publishedAdvice')) : '',
      advised.length ? el('div', { class: 'advice-list', id: 'advice-list' }, advised.map(([id, a]) => adviceCard(id, a))) : ''));
  }
  // The age of the counts: the picture they come from.
  const asOf = state.lastUpdate ? t('asOf', fmtClock(state.lastUpdate, true)) : '';
  for (const node of document.querySelectorAll('#desk .desk-asof')) if (node.textContent !== asOf) node.textContent = asOf;
}

on('signedOut', () => { Object.assign(desk, { open: null, openAdvice: null, closing: null, detail: null, notes: {} }); lastSignature = ''; });

// ---------------------------------------------------------------- the forms: uitvraag and handelingsperspectief

/** The form's state while the dialog is open. */
const form = { kind: null, picker: null, registry: null, asked: {}, busy: false, errors: [], failure: null };

/** An identifier from a text: lowercase letters, digits and hyphens (what the server takes as a slug). */
export function slugBase(text, fallback) {
  return String(text).toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || fallback;
}

/** A new identifier from a title, made unique by the time it is made. */
export function slugify(text, fallback = 'uitvraag') {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${slugBase(text, fallback)}-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

function localInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function openForm(kind) {
  const regions = (state.me && state.me.regions) || [];
  const selected = regions.includes(state.region) ? state.region : regions[0];
  Object.assign(form, { kind, busy: false, errors: [], failure: null, asked: {} });
  form.picker = areaPicker({
    prefix: 'ask', source: selected, registry: form.registry,
    countText: (n) => (form.kind === 'uitvraag' ? t('preview', n) : t('previewAdvice', n)),
    onPreview: (text) => { const short = $('ask-preview-short'); if (short) short.textContent = text; },
  });
  renderForm();
  showDialog($('ask'));
  $('ask-f-title').focus();
  if (!form.registry) loadRegistry();
}

/** The registry's locations (region, municipality, point, type, category): what the preview counts and the municipalities offered. */
async function loadRegistry() {
  const answer = await api('GET', '/v1/registry/locations');
  if (answer.ok && answer.body && Array.isArray(answer.body.locations)) form.registry = answer.body.locations;
  else {
    // Without the registry, the locations of the picture say the same.
    form.registry = Object.entries(knownLocations()).map(([id, [l, region]]) => Object.assign({ id, region }, l));
  }
  if ($('ask').open && form.picker) form.picker.setRegistry(form.registry);
}

function distanceKm(a, b) {
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.sqrt(h));
}

function insidePolygon(corners, p) {
  let inside = false;
  for (let i = 0, j = corners.length - 1; i < corners.length; j = i++) {
    const a = corners[i], b = corners[j];
    if ((a.lat > p.lat) !== (b.lat > p.lat) && p.lon < ((b.lon - a.lon) * (p.lat - a.lat)) / (b.lat - a.lat) + a.lon) inside = !inside;
  }
  return inside;
}

/**
 * Whether the area holds a registry location, as the server decides it (crates/domain
 * area.rs): drawn shapes first, else municipalities, else regions (the asking one and
 * those named); categories and types narrow. Only for the preview: the server decides.
 */
function holds(area, source, l) {
  if (area.categories && !area.categories.includes(l.category)) return false;
  if (area.types && !area.types.includes(l.type)) return false;
  if (!l.point) return false;
  if (area.circle || area.polygon) {
    return (!!area.circle && distanceKm(area.circle.center, l.point) <= area.circle.radius_km) ||
      (!!area.polygon && insidePolygon(area.polygon, l.point));
  }
  if (area.municipalities) return area.municipalities.includes(l.municipality);
  return l.region === source || (area.regions || []).includes(l.region);
}

function checkboxes(prefix, name, values, chosen, labelOf, onChange, attrs = {}) {
  return values.map((v) => {
    const id = `${prefix}-${name}-${v}`;
    const box = el('input', Object.assign({ type: 'checkbox', id, value: v, checked: chosen.has(v) }, attrs[v] || {}));
    box.addEventListener('change', () => { if (box.checked) chosen.add(v); else chosen.delete(v); onChange(); });
    return el('label', { class: 'check', for: id }, box, ' ', labelOf(v));
  });
}

function fieldError(name) { return el('span', { id: `ask-f-${name}-error`, class: 'field-error' }); }

function renderForm() {
  const isAsk = form.kind === 'uitvraag';
  $('ask-title').textContent = isAsk ? t('askFormTitle') : t('adviceFormTitle');
  const regions = (state.me && state.me.regions) || [];
  const incidents = Object.values(state.regions).flatMap((v) => Object.entries((v && v.incidents) || {}))
    .filter(([, i]) => i.state !== 'gesloten');
  const seen = new Set();
  const incidentSelect = el('select', { id: 'ask-f-incident' }, el('option', { value: '' }, t('noIncident')),
    incidents.filter(([id]) => !seen.has(id) && seen.add(id)).map(([id, i]) => el('option', { value: id }, `${i.name || id} (${t('grip', num(i.grip))})`)));
  const source = el('select', { id: 'ask-f-source' }, regions.map((r) => el('option', { value: r }, (state.regions[r] && state.regions[r].name) ? `${r} — ${state.regions[r].name}` : r)));
  source.value = form.picker.source();
  source.addEventListener('change', () => form.picker.setSource(source.value));

  const what = isAsk ? [
    el('div', { class: 'field' }, el('label', { for: 'ask-f-question' }, t('fQuestion')),
      el('textarea', { id: 'ask-f-question', maxlength: 2000, 'aria-describedby': 'ask-f-question-error' }), fieldError('question')),
    el('fieldset', { class: 'field', id: 'ask-f-asked', 'aria-describedby': 'ask-f-asked-error' }, el('legend', {}, t('fDimensions')),
      el('div', { class: 'dimension-choices' }, order('Dimension').filter((d) => d !== 'not_affected').map((d) => dimensionChoice(d))),
      fieldError('asked')),
    el('div', { class: 'field-row' },
      el('div', { class: 'field' }, el('label', { for: 'ask-f-deadline' }, t('fDeadline')),
        el('input', { type: 'datetime-local', id: 'ask-f-deadline', value: localInput(Date.now() + 3600000), 'aria-describedby': 'ask-f-deadline-error' }),
        fieldError('deadline')),
      el('div', { class: 'field' }, el('label', { for: 'ask-f-renotify' }, t('fRenotify')),
        el('input', { type: 'number', id: 'ask-f-renotify', min: 5, max: 1440, step: 1, value: 30, inputmode: 'numeric', 'aria-describedby': 'ask-f-renotify_minutes-error' }),
        fieldError('renotify_minutes'))),
  ] : [
    el('div', { class: 'field' }, el('label', { for: 'ask-f-text' }, t('fText')),
      el('textarea', { id: 'ask-f-text', maxlength: 2000, required: true, 'aria-describedby': 'ask-f-text-error' }), fieldError('text')),
    el('div', { class: 'field' }, el('label', { for: 'ask-f-urgency' }, t('fUrgency')),
      el('select', { id: 'ask-f-urgency', 'aria-describedby': 'ask-f-urgency-error' }, urgencies().map((u) => el('option', { value: u, selected: u === 'normaal' }, label('Urgency', u)))),
      fieldError('urgency')),
  ];

  const formNode = el('form', { id: 'ask-form', novalidate: true },
    el('div', { class: 'field' }, el('label', { for: 'ask-f-title' }, t('fTitle')),
      el('input', { type: 'text', id: 'ask-f-title', maxlength: 200, required: true, 'aria-describedby': 'ask-f-title-error' }), fieldError('title')),
    what,
    el('div', { class: 'field-row' },
      regions.length > 1 ? el('div', { class: 'field' }, el('label', { for: 'ask-f-source' }, t('fSource')), source) : null,
      el('div', { class: 'field' }, el('label', { for: 'ask-f-incident' }, t('fIncident')), incidentSelect, fieldError('incident'))),
    form.picker.node,
    el('div', { id: 'ask-errors', role: 'alert' }),
    el('div', { class: 'save-row' },
      el('button', { type: 'submit', id: 'ask-submit', class: 'primary' }, isAsk ? t('openAsk') : t('publish')),
      el('span', { id: 'ask-preview-short', class: 'meta' })));
  formNode.addEventListener('submit', (e) => { e.preventDefault(); submitForm(); });
  $('ask-body').replaceChildren(formNode);
  form.picker.refresh();
}

/** A dimension to ask, with its keys to narrow it to (none: any key answers). */
function dimensionChoice(d) {
  const keyed = keyType(d);
  const keys = keyed ? order(keyed) : [];
  const box = el('input', { type: 'checkbox', id: `ask-dim-${d}`, value: d, checked: has(form.asked, d) });
  const keyBox = el('div', { class: 'keys', hidden: !has(form.asked, d) || !keys.length },
    el('span', { class: 'meta' }, t('fKeysHint')),
    keys.map((k) => {
      const kb = el('input', { type: 'checkbox', id: `ask-key-${d}-${k}`, value: k });
      kb.addEventListener('change', () => { if (kb.checked) form.asked[d].add(k); else form.asked[d].delete(k); });
      return el('label', { class: 'check', for: `ask-key-${d}-${k}` }, kb, ' ', label(keyed, k));
    }));
  box.addEventListener('change', () => {
    if (box.checked) form.asked[d] = new Set(); else delete form.asked[d];
    keyBox.hidden = !box.checked || !keys.length;
  });
  return el('div', { class: 'dimension-choice', 'data-dimension': d }, el('label', { class: 'check', for: `ask-dim-${d}` }, box, ' ', label('Dimension', d)), keyBox);
}

/** The picker's state of an area as an event carries it (the source region always among the regions). */
function pickedArea(area, source) {
  const a = area || {};
  return {
    source, regions: new Set([source, ...(a.regions || [])]), municipalities: new Set(a.municipalities || []),
    categories: new Set(a.categories || []), types: new Set(a.types || []),
    circle: a.circle ? { lat: num(a.circle.center.lat), lon: num(a.circle.center.lon), radius: num(a.circle.radius_km) } : null,
    polygon: (a.polygon || []).map((p) => [num(p.lat), num(p.lon)]), mode: 'centre',
  };
}

/**
 * The area picker of the desk's forms, also the incident form's (admin.js): regions (the
 * source region always in), municipalities of those regions, categories and types, a
 * circle or polygon drawn on the map (or the circle typed), and a live count of the
 * registry locations it holds (`countText(n)`, also given to `onPreview`). Its elements
 * are named by `prefix` (`ask-f-lat`, `ask-map`, `ask-preview-count`, …); `area` is an
 * area to start from (an incident being changed). Returns { node, value(), source(),
 * setSource(region), setRegistry(list), refresh() }; until the registry is given it says it is loading.
 */
export function areaPicker({ prefix, source, area, registry, countText, onPreview }) {
  const a = pickedArea(area, source);
  let locations = registry || null;
  const id = (name) => `${prefix}-${name}`;
  const number = (name, labelText, value, attrs) => {
    const input = el('input', Object.assign({ type: 'number', id: id(`f-${name}`), step: 'any', value: value ?? '', inputmode: 'decimal' }, attrs));
    return [input, el('div', { class: 'field' }, el('label', { for: id(`f-${name}`) }, labelText), input)];
  };
  const [lat, latField] = number('lat', t('fLat'), a.circle && a.circle.lat, { min: 50, max: 54 });
  const [lon, lonField] = number('lon', t('fLon'), a.circle && a.circle.lon, { min: 3, max: 8 });
  const [radius, radiusField] = number('radius', t('fRadius'), a.circle ? a.circle.radius : KM_RADIUS_DEFAULT, { min: 0.1, max: 200, step: 0.1 });
  const regionsBox = el('div', { id: id('regions') });
  const municipalitiesBox = el('div', { id: id('municipalities'), class: 'scroll-box' });
  const mapBox = el('div', { id: id('map') });
  const cornersNote = el('span', { id: id('corners'), class: 'meta' });
  const previewBox = el('div', { class: 'preview', id: id('preview'), role: 'status', 'aria-live': 'polite' });

  const value = () => {
    const area = { regions: [...a.regions] };
    if (a.municipalities.size) area.municipalities = [...a.municipalities];
    if (a.categories.size) area.categories = [...a.categories];
    if (a.types.size) area.types = [...a.types];
    if (a.circle) area.circle = { center: { lat: a.circle.lat, lon: a.circle.lon }, radius_km: a.circle.radius };
    if (a.polygon.length >= 3) area.polygon = a.polygon.map(([la, lo]) => ({ lat: la, lon: lo }));
    return area;
  };

  const renderPreview = () => {
    const area = value();
    const all = locations || [];
    const inside = all.filter((l) => holds(area, a.source, l));
    const insideIds = new Set(inside.map((l) => l.id));
    // The picker's map frames the locations of the chosen regions, so it does not jump while drawing.
    const frame = all.filter((l) => l.point && (a.regions.has(l.region) || insideIds.has(l.id)));
    const points = frame.map((l) => ({ id: l.id, lat: l.point.lat, lon: l.point.lon, kind: insideIds.has(l.id) ? 'in' : 'out',
      icon: insideIds.has(l.id) ? '✓' : '', name: l.name || l.id }));
    const drawnArea = Object.assign({}, area, a.polygon.length && a.polygon.length < 3 ? { polygon: a.polygon.map(([la, lo]) => ({ lat: la, lon: lo })) } : {});
    const map = areaMap({ points, area: drawnArea, caption: t('fDrawn'), rerender: renderPreview, onPick: (la, lo) => {
      if (a.mode === 'polygon') a.polygon.push([la, lo]);
      else {
        a.circle = { lat: la, lon: lo, radius: a.circle ? a.circle.radius : num(parseFloat(radius.value)) || KM_RADIUS_DEFAULT };
        lat.value = la;
        lon.value = lo;
      }
      renderPreview();
    } });
    mapBox.replaceChildren(map);
    cornersNote.textContent = a.polygon.length ? t('corners', a.polygon.length) : '';
    const text = locations ? countText(inside.length) : t('registryLoading');
    previewBox.replaceChildren(
      el('strong', { id: id('preview-count'), 'data-count': inside.length }, text), ' ', el('span', { class: 'meta' }, t('previewNote')),
      inside.length ? el('details', {}, el('summary', {}, t('previewNames')),
        el('ul', { class: 'compact-names' }, inside.map((l) => el('li', {}, `${l.name || l.id} (${label('LocationType', l.type)}, ${l.municipality || l.region})`)))) : '');
    if (onPreview) onPreview(locations ? text : '');
  };

  const renderMunicipalities = () => {
    if (!locations) { municipalitiesBox.replaceChildren(el('p', { class: 'meta' }, t('registryLoading'))); return; }
    const names = [...new Set(locations.filter((l) => a.regions.has(l.region) && l.municipality).map((l) => l.municipality))]
      .sort(compareText);
    for (const m of [...a.municipalities]) if (!names.includes(m)) a.municipalities.delete(m);
    municipalitiesBox.replaceChildren(...checkboxes(prefix, 'municipality', names, a.municipalities, (m) => m, renderPreview));
  };

  const renderRegions = () => {
    const regions = (state.me && state.me.regions) || [];
    const attrs = { [a.source]: { disabled: true } };
    regionsBox.replaceChildren(...checkboxes(prefix, 'region', regions, a.regions,
      (r) => (state.regions[r] && state.regions[r].name ? `${r} — ${state.regions[r].name}` : r),
      () => { renderMunicipalities(); renderPreview(); }, attrs));
  };

  const fromInputs = () => {
    const la = parseFloat(lat.value.replace(',', '.'));
    const lo = parseFloat(lon.value.replace(',', '.'));
    const r = parseFloat(radius.value.replace(',', '.'));
    a.circle = Number.isFinite(la) && Number.isFinite(lo) ? { lat: la, lon: lo, radius: Number.isFinite(r) ? r : KM_RADIUS_DEFAULT } : null;
    renderPreview();
  };
  for (const input of [lat, lon, radius]) input.addEventListener('input', fromInputs);
  const mode = (v, text) => {
    const radio = el('input', { type: 'radio', name: id('mode'), id: id(`mode-${v}`), value: v, checked: a.mode === v });
    radio.addEventListener('change', () => { a.mode = v; });
    return el('label', { class: 'check', for: id(`mode-${v}`) }, radio, ' ', text);
  };
  const clearCircle = el('button', { type: 'button', class: 'small', id: id('clear-circle') }, t('clearCircle'));
  clearCircle.addEventListener('click', () => { a.circle = null; lat.value = ''; lon.value = ''; renderPreview(); });
  const clearPolygon = el('button', { type: 'button', class: 'small', id: id('clear-polygon') }, t('clearPolygon'));
  clearPolygon.addEventListener('click', () => { a.polygon = []; renderPreview(); });
  const node = el('fieldset', { class: 'area-picker', id: id('f-area'), 'aria-describedby': id('f-area-error') },
    el('legend', {}, t('areaTitle')),
    el('p', { class: 'meta' }, t('areaHint')),
    el('div', { class: 'area-grid' },
      el('div', { class: 'area-filters' },
        el('fieldset', { class: 'choices' }, el('legend', {}, t('fRegions')), regionsBox),
        el('fieldset', { class: 'choices' }, el('legend', {}, t('fMunicipalities')), municipalitiesBox),
        el('fieldset', { class: 'choices' }, el('legend', {}, t('fCategories')),
          checkboxes(prefix, 'category', order('Category'), a.categories, (c) => label('Category', c), renderPreview)),
        el('fieldset', { class: 'choices' }, el('legend', {}, t('fTypes')), el('div', { class: 'scroll-box' },
          checkboxes(prefix, 'type', byOrder('LocationType', order('LocationType').map((x) => [x])).map(([x]) => x), a.types, (x) => label('LocationType', x), renderPreview)))),
      el('div', { class: 'area-drawn' },
        el('fieldset', { class: 'choices' }, el('legend', {}, t('fDrawn')), mode('centre', t('pickCentre')), mode('polygon', t('pickCorner'))),
        mapBox,
        el('div', { class: 'field-row' }, latField, lonField, radiusField),
        el('div', { class: 'one-click' }, clearCircle, clearPolygon, cornersNote))),
    el('span', { id: id('f-area-error'), class: 'field-error' }),
    previewBox);
  renderRegions(); renderMunicipalities(); renderPreview();
  return {
    node,
    value,
    source: () => a.source,
    setSource(region) {
      a.regions.delete(a.source);
      a.source = region;
      a.regions.add(region);
      renderRegions(); renderMunicipalities(); renderPreview();
    },
    setRegistry(list) { locations = list; renderMunicipalities(); renderPreview(); },
    /** Draws the preview again (and tells `onPreview`), e.g. once the form around it is in the page. */
    refresh: renderPreview,
  };
}

/** Which input a problem's field path belongs to ("data.asked[0].keys[1]" → asked). */
function formField(path) {
  const p = String(path || '');
  if (p === 'subject') return 'title';
  const m = /^data\.([a-z_]+)/.exec(p);
  return m ? m[1] : 'form';
}

function showFormErrors(errors, failure) {
  for (const slot of document.querySelectorAll('#ask-form .field-error')) slot.textContent = '';
  for (const node of document.querySelectorAll('#ask-form [aria-invalid]')) node.removeAttribute('aria-invalid');
  const lines = [];
  let first = null;
  for (const e of errors) {
    const name = formField(e.field);
    const text = e.text || errorMessage(e);
    const slot = $(`ask-f-${name}-error`);
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
    const control = $(`ask-f-${name}`);
    if (control) { control.setAttribute('aria-invalid', 'true'); first = first || control; }
    lines.push(el('li', { 'data-error-field': e.field }, text));
  }
  if (failure) lines.push(el('li', {}, failure));
  $('ask-errors').replaceChildren(lines.length ? el('div', { class: 'error-summary' }, el('p', {}, t('formRefused')), el('ul', {}, lines)) : '');
  if (first) first.focus();
}

async function submitForm() {
  if (form.busy) return;
  const isAsk = form.kind === 'uitvraag';
  const title = $('ask-f-title').value.trim();
  const data = { title, area: form.picker.value() };
  const errors = [];
  if (!title) errors.push({ field: 'data.title', text: t('needTitle') });
  if (isAsk) {
    const question = $('ask-f-question').value.trim();
    if (question) data.question = question;
    data.asked = Object.entries(form.asked).map(([dimension, keys]) => (keys.size ? { dimension, keys: [...keys] } : { dimension }));
    if (!data.asked.length) errors.push({ field: 'data.asked', text: t('needDimension') });
    const deadline = new Date($('ask-f-deadline').value);
    data.deadline = Number.isNaN(deadline.getTime()) ? $('ask-f-deadline').value : deadline.toISOString();
    const renotify = $('ask-f-renotify').value.trim();
    if (renotify) data.renotify_minutes = /^\d+$/.test(renotify) ? Number(renotify) : renotify;
  } else {
    data.text = $('ask-f-text').value.trim();
    data.urgency = $('ask-f-urgency').value;
    if (!data.text) errors.push({ field: 'data.text', text: t('needText') });
  }
  const incident = $('ask-f-incident').value;
  if (incident) data.incident = incident;
  if (errors.length) { showFormErrors(errors); return; }
  form.busy = true;
  $('ask-submit').disabled = true;
  $('ask-submit').textContent = t('sending');
  const id = slugify(title);
  const answer = await postEvent({ source: `/regions/${form.picker.source()}`, type: eventType(isAsk ? 'uitvraag.opened' : 'handelingsperspectief.published'), subject: id, data });
  form.busy = false;
  $('ask-submit').disabled = false;
  $('ask-submit').textContent = isAsk ? t('openAsk') : t('publish');
  if (!answer.ok) {
    const problem = answer.body || {};
    const list = Array.isArray(problem.errors) ? problem.errors : [];
    showFormErrors(list, list.length ? null : problemText(answer));
    return;
  }
  $('ask').close();
  if (isAsk) { desk.open = id; desk.detail = null; loadDetail(id); } else desk.openAdvice = id;
  status(isAsk ? t('askOpened', title, fmtClock(new Date(), true)) : t('advicePublished', title, fmtClock(new Date(), true)));
  redraw();
}

export function bindDesk() {
  $('new-uitvraag').addEventListener('click', () => openForm('uitvraag'));
  $('new-advice').addEventListener('click', () => openForm('advice'));
  const dialog = $('ask');
  dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => { form.kind = null; });
}
