// ghor — the warm phase as every page shows it (DESIGN §3.7): uitvragen and
// handelingsperspectieven gathered from the region views (a drawn area crosses region
// borders: each region's view holds its own part), where a location stands with an
// uitvraag (with "over de deadline", which the server leaves to the reader's clock), the
// live countdown to a deadline, and the "gelezen" receipt. The desk (desk.js), the
// institution's banners (institution.js) and the answer form (report.js) build on these.

import {
  t, el, has, parseTime, fmtClock, fmtAge, label, keyLabel, keyType, addTexts, state, on, postEvents, order, eventType,
} from './core.js';

addTexts({
  nl: {
    deadline: 'Deadline',
    deadlineIn: (hm, left) => `vóór ${hm} (nog ${left})`,
    deadlinePassed: (hm, ago) => `${hm} — over de deadline sinds ${ago}`,
    overDeadline: 'over de deadline',
    closedAt: (hm) => `gesloten om ${hm}`,
    asked: 'Gevraagd',
    allKeys: 'alle',
    answeredAt: (hm) => `Beantwoord om ${hm}`,
    notAffectedAt: (hm) => `Niet getroffen gemeld om ${hm}`,
    partlyAnswered: (missing) => `Nog te melden: ${missing}`,
    readAt: (hm) => `Gelezen om ${hm}`,
    urgency: 'Urgentie',
  },
  en: {
    deadline: 'Deadline',
    deadlineIn: (hm, left) => `by ${hm} (${left} left)`,
    deadlinePassed: (hm, ago) => `${hm} — past the deadline for ${ago}`,
    overDeadline: 'past the deadline',
    closedAt: (hm) => `closed at ${hm}`,
    asked: 'Asked',
    allKeys: 'all',
    answeredAt: (hm) => `Answered at ${hm}`,
    notAffectedAt: (hm) => `Reported not affected at ${hm}`,
    partlyAnswered: (missing) => `Still to report: ${missing}`,
    readAt: (hm) => `Read at ${hm}`,
    urgency: 'Urgency',
  },
});

/** The icon of each answer state (and of "over the deadline"), so no state shows by colour alone. */
export const ANSWER_ICON = { open: '?', deels: '½', beantwoord: '✓', niet_getroffen: '–', over: '!' };

/** Gathers `kind` (`uitvragen` or `handelingsperspectieven`) from every region view: id → the
 *  entry with the addressed locations of all regions together. */
function gather(kind) {
  const all = {};
  for (const view of Object.values(state.regions)) {
    for (const [id, entry] of Object.entries((view && view[kind]) || {})) {
      if (!has(all, id)) all[id] = Object.assign({}, entry, { locations: {} });
      Object.assign(all[id].locations, entry.locations || {});
    }
  }
  return all;
}

export function uitvragen() { return gather('uitvragen'); }

/** Handelingsperspectieven, each addressed location with its first "gelezen" (`{time, actor, bron}`) or null. */
export function advices() {
  const all = gather('handelingsperspectieven');
  for (const a of Object.values(all)) {
    for (const loc of Object.keys(a.locations)) a.locations[loc] = (a.locations[loc] && a.locations[loc].read) || null;
  }
  return all;
}

/** Whether the deadline of an open uitvraag has passed by the page's clock. */
export function pastDeadline(u, now = Date.now()) {
  return !u.closed && now > parseTime(u.deadline);
}

/** Whether a location's answer is overdue: not (fully) answered while the deadline has passed. */
export function isOver(u, entry, now = Date.now()) {
  return !!entry && (entry.state === 'open' || entry.state === 'deels') && pastDeadline(u, now);
}

/** Addressed locations per state, and how many of the unanswered are over the deadline. */
export function countsOf(u, now = Date.now()) {
  const counts = { open: 0, deels: 0, beantwoord: 0, niet_getroffen: 0, over: 0, total: 0 };
  for (const entry of Object.values(u.locations || {})) {
    counts[entry.state] = (counts[entry.state] || 0) + 1;
    counts.total++;
    if (isOver(u, entry, now)) counts.over++;
  }
  return counts;
}

/** A badge of an answer state (with "over de deadline" when so), icon + label + colour. */
export function answerBadge(s, over) {
  return el('span', { class: 'badge answer', 'data-answer': over ? 'over' : s },
    el('span', { class: 'icon', 'aria-hidden': 'true' }, over ? ANSWER_ICON.over : ANSWER_ICON[s] || '?'),
    over ? `${label('AnswerState', s)} · ${t('overDeadline')}` : label('AnswerState', s));
}

/** What an uitvraag asks, in words: "Bedden (IC), Nutsvoorziening (alle)". */
export function askedText(asked) {
  return (asked || []).map((a) => {
    const keys = a.keys && a.keys.length ? a.keys.map((k) => keyLabel(a.dimension, k)).join(', ')
      : keyType(a.dimension) ? t('allKeys') : null;
    return keys ? `${label('Dimension', a.dimension)} (${keys})` : label('Dimension', a.dimension);
  }).join(', ');
}

/** The asked dimensions a location has not reported yet, in words. */
export function missingText(u, entry) {
  const done = new Set((entry && entry.dimensions) || []);
  return askedText((u.asked || []).filter((a) => !done.has(a.dimension)));
}

/** The deadline with its live countdown (or since when it passed); refreshed by the tick. */
export function deadlineSpan(u) {
  return el('span', { class: 'countdown', 'data-deadline': parseTime(u.deadline), 'data-closed': u.closed ? parseTime(u.closed) : null },
    deadlineText(parseTime(u.deadline), u.closed ? parseTime(u.closed) : null, Date.now()));
}

function deadlineText(deadline, closed, now) {
  if (closed) return `${fmtClock(new Date(deadline))} · ${t('closedAt', fmtClock(new Date(closed)))}`;
  return now > deadline ? t('deadlinePassed', fmtClock(new Date(deadline)), fmtAge(now - deadline))
    : t('deadlineIn', fmtClock(new Date(deadline)), fmtAge(deadline - now));
}

on('tick', (now) => {
  for (const span of document.querySelectorAll('.countdown[data-deadline]')) {
    const deadline = Number(span.dataset.deadline);
    const closed = span.dataset.closed ? Number(span.dataset.closed) : null;
    const text = deadlineText(deadline, closed, now);
    if (span.textContent !== text) span.textContent = text;
    span.classList.toggle('over', !closed && now > deadline);
  }
});

/** The urgencies from least to most urgent, as the server orders them. */
export function urgencies() { return order('Urgency'); }

/** Sends "gelezen" of advice `id` for each of `locations` (read on the page: bron formulier), in one request. */
export function sendRead(id, locations) {
  const type = eventType('handelingsperspectief.read');
  return postEvents(locations.map((loc) => ({ source: `/locations/${loc}`, type, subject: id, bron: 'formulier', data: {} })));
}
