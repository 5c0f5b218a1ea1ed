// ghor — how the picture is shown wherever it appears: headline tiles of one region or of
// several summed (national view, the institution's view of the chain), the short summary
// of each dimension with its state badge and live age, and what an alert is about.

import {
  t, el, has, num, isObject, fmtNum, fmtDays, fmtClock, truncate, sum, parseTime, label, keyLabel, byOrder,
  compareText, nowrap, badge, ICON, addTexts, order, orderIndex, worstState,
} from './core.js';

addTexts({
  nl: {
    oldestValue: (a) => `oudste waarde ${a}`, totalsOf: (n) => `Totalen van ${n} regio's`, withheld: 'afgeschermd',
    helpRequest: 'Hulpvraag', helpClosed: 'gesloten', alertThreshold: (r) => `drempel: ${r}`,
    thrFree: (n) => `≤ ${n} vrij`, thrRegionIc: (n) => `≤ ${n} IC-bedden vrij in de regio`, thrDays: (n) => `< ${n} d voorraad`,
    thrBackup: (n) => `< ${n} u noodvoorziening`, thrShifts: (n) => `≥ ${n} open diensten`, thrHours: (n) => `< ${n} u zelfredzaam`,
    thrVisits: (n) => `≥ ${n} bezoeken in gevaar`, regionIc: (f, o) => `${f}/${o} IC-bedden vrij in de regio`,
    intakeRejected: 'Bericht van eigen systeem geweigerd',
  },
  en: {
    oldestValue: (a) => `oldest value ${a}`, totalsOf: (n) => `Totals of ${n} regions`, withheld: 'withheld',
    helpRequest: 'Help request', helpClosed: 'closed', alertThreshold: (r) => `threshold: ${r}`,
    thrFree: (n) => `≤ ${n} free`, thrRegionIc: (n) => `≤ ${n} ICU beds free in the region`, thrDays: (n) => `< ${n} d of supply`,
    thrBackup: (n) => `< ${n} h of backup`, thrShifts: (n) => `≥ ${n} unfilled shifts`, thrHours: (n) => `< ${n} h self-sufficient`,
    thrVisits: (n) => `≥ ${n} visits at risk`, regionIc: (f, o) => `${f}/${o} ICU beds free in the region`,
    intakeRejected: 'Message of its own system refused',
  },
});

/** A figure the server withholds (over too few locations to show without naming them). */
export function withheld(x) { return isObject(x) && x.withheld === true; }

/** A number, or "afgeschermd" when withheld. */
function fmtFigure(x) { return withheld(x) ? t('withheld') : fmtNum(x); }

/** One headline number with its label; a `level` other than goed adds an icon and a coloured border. */
export function tile(id, title, value, sub, level, age) {
  if (level === 'goed') level = null;
  return el('div', { class: 'tile', 'data-total': id, 'data-level': level || null },
    el('div', { class: 'tile-label' },
      level ? el('span', { class: 'icon', 'aria-hidden': 'true' }, ICON[level]) : null, title),
    el('div', { class: 'tile-value', 'data-withheld': value === t('withheld') ? 'true' : null }, value),
    sub ? el('div', { class: 'tile-sub' }, sub) : null,
    age || null);
}

function addCapacity(into, from) {
  for (const [k, c] of Object.entries(from || {})) {
    const a = into[k] || (into[k] = { free: 0, operational: 0, occupied: 0 });
    if (withheld(c)) a.withheld = true;
    a.free += num(c.free); a.operational += num(c.operational); a.occupied += num(c.occupied);
  }
}

function addCounts(into, from) {
  for (const [k, n] of Object.entries(from || {})) {
    into[k] = withheld(n) || withheld(into[k]) ? n : num(into[k]) + num(n);
  }
}

/** The totals of several regions summed (the national view); one region's as they are. */
export function sumTotals(views) {
  if (views.length === 1) return views[0].totals || {};
  const s = { beds: {}, treatment_places: {}, casualty_reception: {}, acute_function_stops: {}, relocation: {}, states: {}, levels: {}, max_grip: 0 };
  for (const v of views) {
    const tot = v.totals || {};
    for (const k of ['locations', 'reporting', 'not_reporting', 'supplies_under_line', 'on_backup_power',
      'utilities_down', 'unfilled_shifts_24h', 'open_help_requests', 'active_incidents']) {
      s[k] = withheld(tot[k]) || withheld(s[k]) ? { withheld: true } : num(s[k]) + num(tot[k]);
    }
    addCapacity(s.beds, tot.beds);
    addCapacity(s.treatment_places, tot.treatment_places);
    addCounts(s.casualty_reception, tot.casualty_reception);
    addCounts(s.acute_function_stops, tot.acute_function_stops);
    for (const [k, r] of Object.entries(tot.relocation || {})) {
      const a = s.relocation[k] || (s.relocation[k] = { need: 0, capacity: 0 });
      if (withheld(r)) a.withheld = true;
      a.need += num(r.need); a.capacity += num(r.capacity);
    }
    for (const [dim, counts] of Object.entries(tot.states || {})) addCounts(s.states[dim] || (s.states[dim] = {}), counts);
    s.max_grip = Math.max(s.max_grip, num(tot.max_grip));
    // Each region's server judged its own figures on its own thresholds; summed figures
    // are not judged again here (a national total against a regional threshold means
    // nothing), so the national level of a tile is the worst of the regions' levels: the
    // tile turns red when any region's does. A level withheld in a region stays unknown.
    for (const [k, level] of Object.entries(tot.levels || {})) s.levels[k] = worstState([s.levels[k], level]);
  }
  return s;
}

/** The oldest observation time of a dimension (and key) over the visible locations, or NaN. */
function oldestTime(views, dim, key) {
  let oldest = NaN;
  for (const v of views) {
    for (const loc of Object.values(v.locations || {})) {
      const dv = (loc.dimensions || {})[dim];
      for (const [k, val] of Object.entries((dv && dv.values) || {})) {
        if (key && k !== key) continue;
        const ms = parseTime(val.time);
        if (Number.isFinite(ms) && !(ms >= oldest)) oldest = ms;
      }
    }
  }
  return oldest;
}

/** "oudste waarde 3 u" under a tile, when the caller sees the locations behind it. */
function oldestAgeOf(views, dim, key) {
  const ms = oldestTime(views, dim, key);
  if (!Number.isFinite(ms)) return null;
  return el('div', { class: 'tile-sub tile-age' }, t('oldestValue', ''), el('span', { class: 'age inline', 'data-time': ms, 'data-oldest': ms }));
}

/**
 * The headline tiles of one region, or of several regions summed. `ages`: show the age of
 * the oldest value behind a tile (only true when the caller sees every location behind it).
 */
export function totalsTiles(views, ages) {
  const oldestAge = ages ? oldestAgeOf : () => null;
  const tot = sumTotals(views);
  const beds = tot.beds || {};
  // Every level is the server's (rules.rs), per region; none is computed here.
  const levels = tot.levels || {};
  const tiles = [];
  const others = byOrder('BedType', Object.keys(beds).filter((k) => k !== 'ic' && k !== 'klinisch').map((k) => [k]));
  for (const type of ['ic', 'klinisch', ...others.map((p) => p[0])]) {
    const c = beds[type];
    const level = levels[`beds/${type}`];
    const value = !c ? '–' : withheld(c) ? t('withheld') : `${fmtNum(c.free)} / ${fmtNum(c.operational)}`;
    tiles.push(tile(`beds-${type}`, t('beds', label('BedType', type)), value, t('freeOfOperational'), level, oldestAge(views, 'beds', type)));
  }
  const stops = tot.acute_function_stops || {};
  const stopsWithheld = Object.values(stops).some(withheld);
  const stopCount = stopsWithheld ? t('withheld') : fmtNum(sum(Object.values(stops)));
  const stopNames = stopsWithheld ? null : byOrder('AcuteFunction', Object.entries(stops).filter(([, n]) => num(n) > 0))
    .map(([k, n]) => `${label('AcuteFunction', k)} ${fmtNum(n)}`).join(' · ');
  tiles.push(tile('acute-function-stops', t('acuteStops'), stopCount, stopNames, levels.acute_function_stops, oldestAge(views, 'acute_function')));
  const reception = tot.casualty_reception || {};
  for (const tri of order('Triage')) {
    tiles.push(tile(`casualty-${tri}`, t('casualty', label('Triage', tri)), fmtFigure(reception[tri]), t('capacityNow'), null, oldestAge(views, 'casualty_reception', tri)));
  }
  tiles.push(tile('on-backup-power', t('backupPower'), fmtFigure(tot.on_backup_power), t('locationsUnit'), levels.on_backup_power));
  tiles.push(tile('utilities-down', t('utilitiesDown'), fmtFigure(tot.utilities_down), t('locationsUnit'), levels.utilities_down));
  tiles.push(tile('unfilled-shifts-24h', t('unfilledShifts'), fmtFigure(tot.unfilled_shifts_24h), null, levels.unfilled_shifts_24h, oldestAge(views, 'staffing')));
  tiles.push(tile('supplies-under-line', t('suppliesUnder'), fmtFigure(tot.supplies_under_line), t('locationsUnit'), levels.supplies_under_line));
  const reloc = Object.values(tot.relocation || {});
  const need = sum(reloc.map((r) => r && r.need));
  const capacity = sum(reloc.map((r) => r && r.capacity));
  const relocValue = reloc.some(withheld) ? t('withheld') : `${fmtNum(need)} / ${fmtNum(capacity)}`;
  tiles.push(tile('relocation', t('relocation'), relocValue, t('relocationSub'), levels.relocation));
  tiles.push(tile('open-help-requests', t('helpRequests'), fmtFigure(tot.open_help_requests), null, levels.open_help_requests));
  tiles.push(tile('not-reporting', t('notReporting'), t('ofN', fmtNum(tot.not_reporting), fmtNum(tot.locations)), t('locationsUnit'), levels.not_reporting));
  tiles.push(tile('active-incidents', t('activeIncidents'), fmtNum(tot.active_incidents), t('maxGrip', num(tot.max_grip)), levels.active_incidents));
  return tiles;
}

/** "Zeer hoog · Personeel": a help request's urgency and category in words (never its id). */
export function helpHeading(data) {
  if (!isObject(data) || !data.category) return t('helpClosed');
  return [data.urgency ? label('Urgency', data.urgency) : null, label('HelpCategory', data.category)].filter(Boolean).join(' · ');
}

/** A location's open help requests (not closed, not retracted), most urgent first, then newest. */
export function openHelpRequests(loc) {
  const values = (((loc && loc.dimensions) || {}).help_request || {}).values || {};
  return Object.entries(values)
    .filter(([, v]) => !v.retracted && isObject(v.data) && v.data.category)
    .map(([key, v]) => ({ key, data: v.data, state: v.state, time: parseTime(v.time) }))
    .sort((a, b) => orderIndex('Urgency', b.data.urgency) - orderIndex('Urgency', a.data.urgency) || b.time - a.time);
}

/** What a key of a dimension is called: its vocabulary label; a help request by its urgency and category. */
export function keyWords(dim, key, value) {
  if (dim === 'help_request') return helpHeading(value && value.data);
  return key && key !== '-' ? keyLabel(dim, key) : '';
}

/** One value as text, as its cell and the detail panel show it ("3/12 vrij", "nog 5 u"). */
export function valueText(dim, key, value) {
  if (!value) return '';
  return summaryLines(dim, { values: { [key]: value } }).map((n) => n.textContent).join(' · ');
}

/** A threshold of the state rules in words ("≤ 2 vrij"), from its key and value. */
export function thresholdText(key, value) {
  const n = fmtNum(value);
  switch (key) {
    case 'beds_free_attention': case 'beds_free_critical': return t('thrFree', n);
    case 'region_ic_free_critical': return t('thrRegionIc', n);
    case 'supply_days_attention': case 'supply_days_critical': return t('thrDays', n);
    case 'backup_hours_critical': return t('thrBackup', n);
    case 'unfilled_shifts_critical': return t('thrShifts', n);
    case 'self_sufficiency_hours_attention': case 'self_sufficiency_hours_critical': return t('thrHours', n);
    case 'visits_at_risk_critical': return t('thrVisits', n);
    default: return `${label('ThresholdKey', key)} ${n}`;
  }
}

/**
 * What an alert is about, in words a crisis team reads: where (the location's name, or the
 * region), what (dimension and key), the value now (as the table shows it) and the rule it
 * broke (when the server names the threshold).
 */
export function alertParts(view, alert, id) {
  const locations = (view && view.locations) || {};
  const loc = alert.location && has(locations, alert.location) ? locations[alert.location] : null;
  const where = alert.location ? (loc ? loc.name : alert.location) : (view.name || view.region);
  const dim = alert.dimension;
  const key = alert.key && alert.key !== '-' ? alert.key : null;
  const dv = loc && dim ? (loc.dimensions || {})[dim] : null;
  const value = dv && has(dv.values || {}, alert.key || '-') ? dv.values[alert.key || '-'] : null;
  let what;
  let text = '';
  if (!dim) {
    const rejected = id ? /\/intake_rejected$/.test(id) : !!(loc && loc.rejected && !loc.overdue_since);
    what = rejected ? t('intakeRejected') : t('reportOverdue');
    if (rejected && loc && loc.rejected) text = loc.rejected.reason;
    else if (loc && loc.overdue_since) text = t('overdue', fmtClock(loc.overdue_since));
  } else if (dim === 'help_request') {
    what = `${t('helpRequest')}: ${helpHeading(value && value.data)}`;
    text = value && value.data && value.data.text ? truncate(value.data.text, 140) : '';
  } else {
    what = label('Dimension', dim) + (key ? ` ${keyLabel(dim, key)}` : '');
    if (value) {
      text = valueText(dim, alert.key || '-', value);
      // The key is named in `what` already: "Stroom: Uitgevallen" says "Uitgevallen" here.
      const named = key ? keyLabel(dim, key) : null;
      if (named && text.startsWith(`${named}: `)) text = text.slice(named.length + 2);
      else if (named && text.startsWith(`${named} `)) text = text.slice(named.length + 1);
    }
    else if (!alert.location && dim === 'beds' && key) {
      const c = ((view.totals || {}).beds || {})[key];
      if (c && !withheld(c)) text = key === 'ic' ? t('regionIc', fmtNum(c.free), fmtNum(c.operational)) : `${fmtNum(c.free)}/${fmtNum(c.operational)} ${t('free')}`;
    }
  }
  const thresholds = (view && view.thresholds) || {};
  const rule = alert.threshold && has(thresholds, alert.threshold) ? thresholdText(alert.threshold, thresholds[alert.threshold]) : null;
  return { where, what, value: text, rule };
}

/** "Martini — Bedden IC": where and what an alert is about. */
export function alertWhat(view, alert, id) {
  const { where, what } = alertParts(view, alert, id);
  return `${where} — ${what}`;
}

/** Short summaries of one dimension's current (not retracted) values: lines of text (or text and nodes). */
const SUMMARY = {
  beds: (vals) => byOrder('BedType', vals).map(([k, v]) => {
    const op = num(v.data.operational);
    return [keyLabel('beds', k), ' ', nowrap(`${fmtNum(Math.max(0, op - num(v.data.occupied)))}/${fmtNum(op)} ${t('free')}`)];
  }),
  treatment_places: (vals) => byOrder('TreatmentPlace', vals).map(([k, v]) => {
    const op = num(v.data.operational);
    return [keyLabel('treatment_places', k), ' ', nowrap(`${fmtNum(Math.max(0, op - num(v.data.in_use)))}/${fmtNum(op)} ${t('free')}`)];
  }),
  casualty_reception: (vals) => [byOrder('Triage', vals)
    .map(([k, v]) => `${keyLabel('casualty_reception', k)} ${fmtNum(v.data.capacity)}`).join(' · ')],
  acute_function: (vals) => {
    const lines = byOrder('AcuteFunction', vals.filter(([, v]) => v.data.status === 'stop' || v.data.status === 'gepland'))
      .map(([k, v]) => `${keyLabel('acute_function', k)}: ${label('FunctionStatus', v.data.status)}`);
    return lines.length ? lines : [t('allOpen')];
  },
  facility: (vals) => vals.map(([, v]) => label('FacilityStatus', v.data.status)),
  supplies: (vals) => {
    // The shortest supply always, then the other ones not "goed", shortest first.
    const rows = vals.map(([k, v]) => {
      const use = num(v.data.daily_use);
      return { k, state: v.state, days: use > 0 ? num(v.data.on_hand) / use : Infinity };
    }).sort((a, b) => a.days - b.days || a.k.localeCompare(b.k));
    const shown = rows.filter((r, i) => i === 0 || (r.state && r.state !== 'goed'));
    const lines = shown.slice(0, 3).map((r) => [keyLabel('supplies', r.k), ' ', nowrap(Number.isFinite(r.days) ? fmtDays(r.days) : t('noUse'))]);
    if (shown.length > 3) lines.push(t('more', shown.length - 3));
    return lines;
  },
  utility: (vals) => {
    const lines = vals.filter(([, v]) => v.data.status !== 'normaal' || v.data.on_backup)
      .sort((a, b) => compareText(keyLabel('utility', a[0]), keyLabel('utility', b[0])))
      .map(([k, v]) => {
        let line = `${keyLabel('utility', k)}: ${label('UtilityStatus', v.data.status)}`;
        if (v.data.on_backup) {
          line += ` (${t('onBackup')}${v.data.backup_hours_left !== undefined ? ', ' + t('hoursLeft', fmtNum(v.data.backup_hours_left)) : ''})`;
        }
        if (v.data.cause) line += ` · ${label('IctCause', v.data.cause)}`;
        return line;
      });
    return lines.length ? lines : [t('allNormal')];
  },
  staffing: (vals) => [t('unfilled', fmtNum(sum(vals.map(([, v]) => v.data.unfilled_shifts_24h))))],
  disbalance: (vals) => {
    const rank = (v) => orderIndex('DisbalanceLevel', v.data.level);
    const top = Math.max(...vals.map(([, v]) => rank(v)));
    const atTop = vals.filter(([, v]) => rank(v) === top);
    const level = atTop[0][1].data.level;
    const lines = [label('DisbalanceLevel', level)];
    if (level !== 'niet_getroffen') lines.push(atTop.map(([k]) => keyLabel('disbalance', k)).join(', '));
    return lines;
  },
  judgement: (vals) => vals.flatMap(([, v]) => [label('Judgement', v.data.care_next_24h), v.data.reason ? truncate(v.data.reason, 80) : null]),
  self_sufficiency: (vals) => vals.map(([, v]) => t('selfSufficient', fmtNum(v.data.hours))),
  home_care: (vals) => vals.map(([, v]) => t('visitsAtRisk', fmtNum(v.data.visits_at_risk))),
  receiving_capacity: (vals) => [t('receiving', fmtNum(sum(vals.map(([, v]) => v.data.clients))))],
  relocation_need: (vals) => [t('toRelocate', fmtNum(sum(vals.map(([, v]) => num(v.data.lopend) + num(v.data.rolstoel) + num(v.data.liggend)))))],
  // Each request by its urgency and category, then its whole text; never its id.
  help_request: (vals) => vals.flatMap(([, v]) => (v.data.category
    ? [el('strong', {}, helpHeading(v.data)), v.data.text ? String(v.data.text) : null]
    : [t('helpClosed')])),
  note: (vals) => vals.map(([, v]) => truncate(v.data.text, 80)),
  not_affected: () => [label('Dimension', 'not_affected')],
};

export function summaryLines(dim, dv) {
  const entries = Object.entries(dv.values || {}).map(([k, v]) => [k, Object.assign({}, v, { data: isObject(v.data) ? v.data : {} })]);
  const current = entries.filter(([, v]) => !v.retracted);
  let lines = [];
  if (current.length) {
    lines = SUMMARY[dim] ? SUMMARY[dim](current) : (dv.state ? [label('State', dv.state)] : []);
  }
  const lineNodes = lines.filter((l) => l !== null && l !== undefined && l !== '').map((line) => el('div', {}, line));
  for (const [k] of entries.filter(([, v]) => v.retracted)) {
    const what = k === '-' ? t('retracted') : `${keyLabel(dim, k)} ${t('retracted')}`;
    lineNodes.push(el('div', { class: 'retracted', 'data-retracted': 'true' }, what));
  }
  return lineNodes;
}

export function ageSpan(dv, intervalMinutes) {
  const times = Object.values(dv.values || {}).map((v) => parseTime(v.time)).filter(Number.isFinite);
  if (!times.length) return null;
  const newest = Math.max(...times);
  return el('span', {
    class: 'age',
    'data-time': newest,
    'data-oldest': Math.min(...times),
    'data-limit': intervalMinutes ? num(intervalMinutes) * 60000 : null,
    title: `${t('newestValue')}: ${fmtClock(new Date(newest), true)}`,
  });
}

export function dimensionCell(dim, loc) {
  const dims = loc.dimensions || {};
  if (!has(dims, dim)) return el('td', { class: 'dim', 'data-dimension': dim, 'data-state': 'none' }, '–');
  const dv = dims[dim] || {};
  return el('td', { class: 'dim', 'data-dimension': dim, 'data-state': dv.state || 'info' },
    dv.state ? badge(dv.state) : null,
    el('div', { class: 'sum' }, summaryLines(dim, dv)),
    ageSpan(dv, loc.interval_minutes));
}

