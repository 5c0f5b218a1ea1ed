// ghor — Terugkijken (look back, issue 13): the dashboard at a past moment. A time slider
// over the last 24 hours (a day around an earlier moment chosen with the date-time field),
// steps, play and pause at a chosen pace, and the clock: "zoals toen bekend" (what ghor
// had received then) or "zoals waargenomen" (what had been observed by then, also what
// was reported later). A chosen moment is fetched with `?at=&clock=` (the server applies
// the role's visibility as it does live) and the whole page shows it, under a banner that
// says which moment, with "Terug naar live". The stream stays connected and `state.regions`
// current behind it, so back to live is at once; nothing of it shows in the past picture.
// At most one request is on its way; moments asked for meanwhile give way to the latest.
// Not on the institution's page nor on the wall screen: those are always live.

import {
  $, t, el, isObject, addTexts, state, on, LatestRequest, ALL_REGIONS, selectedCode, bigScreen, renderNow,
  scheduleRender, problemText, errorMessage, fmtAge, fmtClock, fmtMoment, clockWords, isoTime, parseTime,
} from './core.js';
import { forgetRows } from './dashboard.js';

addTexts({
  nl: {
    lbToggle: 'Terugkijken',
    lbTitle: 'Terugkijken: het beeld van een eerder moment',
    lbSlider: 'Moment om naar terug te kijken',
    lbKeys: 'Pijltjes: 1 minuut · Page Up/Down: 1 uur · Home: 24 uur terug · End: live',
    lbLive: 'nu (live)',
    lbLiveShort: 'live',
    lbStepBack: (s) => `− ${s}`,
    lbStepForward: (s) => `+ ${s}`,
    lbStepBackAria: (s) => `${s} terug`,
    lbStepForwardAria: (s) => `${s} verder`,
    lbPlay: 'Afspelen',
    lbPause: 'Pauze',
    lbSpeed: 'Tempo',
    lbPerSecond: (s) => `${s} per seconde`,
    lbJump: 'Ga naar',
    lbJumpButton: 'Toon',
    lbClock: 'Klok',
    lbKnown: 'zoals toen bekend',
    lbObserved: 'zoals waargenomen (met late meldingen)',
    lbBanner: (when, clock) => `Terugkijken — ${when} (${clock})`,
    lbAgo: (a) => `${a} geleden`,
    lbEntering: (when) => `Terugkijken — het beeld van ${when} wordt geladen…`,
    lbLoading: (when) => `laden: ${when}`,
    lbBackLive: 'Terug naar live',
    lbLiveOnly: 'Uitvragen, abonnementen en beheer: alleen live.',
    lbHeldBack: (seq) => `Dit beeld stopt bij gebeurtenis #${seq}: deze versie van ghor kan die nog niet lezen, dus wat daarna kwam ontbreekt. Vraag de beheerder ghor bij te werken.`,
    lbEntered: (when, clock) => `U kijkt terug: het beeld van ${when}, ${clock}.`,
    lbLeft: 'Weer live: het actuele beeld.',
    lbCaughtUp: 'Het afspelen heeft nu ingehaald: weer live.',
    lbJumpEmpty: 'Vul een datum en een tijd in, bijvoorbeeld 1-12-2026 14:00.',
    lbFailed: (when, why) => `Het beeld van ${when} kon niet worden geladen. ${why}`,
    lbNotATimestamp: 'Dit is geen geldig moment. Kies een moment met de schuifbalk, of vul een datum en een tijd in.',
    lbInTheFuture: 'Dit moment ligt in de toekomst. Kies een moment in het verleden, of ga terug naar live.',
    lbUnknownClock: 'Deze klok kent ghor niet. Kies "zoals toen bekend" of "zoals waargenomen".',
    lbIndexing: 'ghor leest na een herstart het logboek nog in om te kunnen terugkijken. Het beeld van dit moment verschijnt vanzelf over enkele seconden.',
  },
  en: {
    lbToggle: 'Look back',
    lbTitle: 'Look back: the picture of an earlier moment',
    lbSlider: 'Moment to look back to',
    lbKeys: 'Arrows: 1 minute · Page Up/Down: 1 hour · Home: 24 hours back · End: live',
    lbLive: 'now (live)',
    lbLiveShort: 'live',
    lbStepBack: (s) => `− ${s}`,
    lbStepForward: (s) => `+ ${s}`,
    lbStepBackAria: (s) => `${s} back`,
    lbStepForwardAria: (s) => `${s} forward`,
    lbPlay: 'Play',
    lbPause: 'Pause',
    lbSpeed: 'Pace',
    lbPerSecond: (s) => `${s} per second`,
    lbJump: 'Go to',
    lbJumpButton: 'Show',
    lbClock: 'Clock',
    lbKnown: 'as known then',
    lbObserved: 'as observed (with late reports)',
    lbBanner: (when, clock) => `Looking back — ${when} (${clock})`,
    lbAgo: (a) => `${a} ago`,
    lbEntering: (when) => `Looking back — loading the picture of ${when}…`,
    lbLoading: (when) => `loading: ${when}`,
    lbBackLive: 'Back to live',
    lbLiveOnly: 'Enquiries, subscriptions and Beheer: live only.',
    lbHeldBack: (seq) => `This picture stops at event #${seq}: this version of ghor cannot read it yet, so what came after it is missing. Ask the administrator to update ghor.`,
    lbEntered: (when, clock) => `You are looking back: the picture of ${when}, ${clock}.`,
    lbLeft: 'Live again: the current picture.',
    lbCaughtUp: 'Playing has caught up with now: live again.',
    lbJumpEmpty: 'Enter a date and a time, for example 1-12-2026 14:00.',
    lbFailed: (when, why) => `The picture of ${when} could not be loaded. ${why}`,
    lbNotATimestamp: 'This is not a valid moment. Choose one with the slider, or enter a date and a time.',
    lbInTheFuture: 'This moment lies in the future. Choose a moment in the past, or go back to live.',
    lbUnknownClock: 'ghor does not know this clock. Choose "as known then" or "as observed".',
    lbIndexing: 'After a restart ghor is still reading its log to be able to look back. The picture of this moment appears by itself in a few seconds.',
  },
});

const MINUTE_MS = 60000;
/** The slider's span: the last 24 hours, or a day around an earlier moment. */
const WINDOW_MIN = 24 * 60;
/** Picture time per second of play, in minutes; also the size of a step. */
const PACES = [1, 10, 60];
const PACE_DEFAULT = 10;
const PLAY_EVERY_MS = 1000;
/** Page Up/Down on the slider. */
const PAGE_MIN = 60;

const look = {
  open: false,          // the control shown (always while looking back)
  target: null,         // { at (ms), clock }: the moment asked for; null while live
  clock: 'known',       // the clock chosen, also while live (for the next moment)
  shown: null,          // the last answer: { key, at, clock, regions, seq, heldBack }
  error: null,          // () => text: why a moment could not be shown (in the language chosen when drawn)
  status: null,         // { key, args }: what screen readers are told (entered, left)
  pace: PACE_DEFAULT,
  playing: false,
  playTimer: null,
  retryTimer: null,     // a 503 while the server indexes: asked again after Retry-After
  bound: false,
  paceSignature: '',
};

const fetcher = new LatestRequest(onAnswer);

// ---------------------------------------------------------------- moments and requests

/** What the moment is asked for: the region selected, or every region (the national view). */
function selectionKey() {
  return selectedCode();
}

function urlFor(key, at, clock) {
  const query = `at=${encodeURIComponent(isoTime(at))}&clock=${encodeURIComponent(clock)}`;
  return key === ALL_REGIONS ? `/v1/picture?${query}` : `/v1/picture/regions/${encodeURIComponent(key)}?${query}`;
}

/** Asks for the target moment of the selection, unless it is shown already or a retry waits. */
function request() {
  const key = selectionKey();
  if (!look.target || !key || look.retryTimer) return;
  const s = look.shown;
  if (s && s.key === key && s.at === look.target.at && s.clock === look.target.clock) return;
  fetcher.want(urlFor(key, look.target.at, look.target.clock), { key, at: look.target.at, clock: look.target.clock });
}

/** The region views of an answer: one region's, or each region's of the whole picture. */
function pastOf(job, body) {
  const regions = {};
  if (job.key === ALL_REGIONS) {
    for (const [code, r] of Object.entries(isObject(body.regions) ? body.regions : {})) {
      if (isObject(r) && isObject(r.view)) regions[code] = r.view;
    }
  } else if (isObject(body.view)) {
    regions[job.key] = body.view;
  }
  const at = parseTime(body.at);
  return {
    key: job.key,
    at: Number.isFinite(at) ? at : job.at,
    clock: body.clock === 'observed' ? 'observed' : job.clock,
    regions,
    seq: body.seq,
    heldBack: typeof body.held_back === 'number' ? body.held_back : null,
  };
}

/**
 * Which picture the page shows: the past answer when it is of the selection, else live
 * (or, while the first answer is on its way, the page stands still). Set before anything
 * draws, so that every part (also the open detail panel) draws the same picture.
 */
function syncPast() {
  const key = selectionKey();
  const showing = !!look.target && !!look.shown && look.shown.key === key;
  const before = !!state.past;
  state.past = showing ? look.shown : null;
  if (!!state.past !== before) forgetRows();
}

function onAnswer(job, answer, superseded) {
  if (!look.target) return; // live again meanwhile
  if (answer.ok && isObject(answer.body)) {
    const entering = !state.past;
    look.shown = pastOf(job, answer.body);
    look.error = null;
    syncPast();
    if (entering) look.status = { key: 'lbEntered', args: [fmtMoment(look.shown.at), clockWords(look.shown.clock)] };
    renderNow();
    return;
  }
  if (superseded) return; // a newer moment is on its way: its answer speaks
  if (answer.status === 503) {
    look.error = () => t('lbIndexing');
    look.retryTimer = setTimeout(() => { look.retryTimer = null; request(); }, (answer.retryAfter || 2) * 1000);
    renderNow();
    return;
  }
  // Refused or failed: the page keeps the picture it shows (a past one, or live) and says why.
  stopPlay();
  look.error = () => t('lbFailed', fmtMoment(job.at), reason(answer));
  const s = look.shown;
  if (s && s.key === selectionKey()) look.target = { at: s.at, clock: s.clock };
  else reset();
  renderNow();
}

/** What to do about a refused moment, in words. */
function reason(answer) {
  const problem = isObject(answer.body) ? answer.body : {};
  const e = Array.isArray(problem.errors) && problem.errors.length ? problem.errors[0] : null;
  if (answer.status === 400 && e) {
    if (e.code === 'in_the_future') return t('lbInTheFuture');
    if (e.code === 'not_a_timestamp' || (e.field === 'at' && e.code === 'malformed')) return t('lbNotATimestamp');
    if (e.field === 'clock') return t('lbUnknownClock');
    return errorMessage(e) || problemText(answer);
  }
  return problemText(answer);
}

// ---------------------------------------------------------------- moving in time

/** Shows the picture of `at` (ms, taken to the whole second the API speaks); the clock chosen. */
function goTo(at) {
  clearTimeout(look.retryTimer);
  look.retryTimer = null;
  look.error = null;
  look.open = true;
  look.target = { at: Math.floor(at / 1000) * 1000, clock: look.clock };
  request();
  renderControl();
  scheduleRender();
}

/** Forgets the past moment: the live picture again (drawn by the caller). */
function reset() {
  stopPlay();
  clearTimeout(look.retryTimer);
  look.retryTimer = null;
  fetcher.cancel();
  const was = !!look.target;
  look.target = null;
  look.shown = null;
  if (state.past) { state.past = null; forgetRows(); }
  document.body.classList.remove('lookback', 'lookback-pending');
  return was;
}

/** Back to live: the current picture at once (the stream kept it up to date). */
function goLive(statusKey = 'lbLeft') {
  if (reset()) look.status = { key: statusKey, args: [] };
  look.error = null;
  renderNow();
}

function startPlay() {
  if (!look.target || look.playing) return;
  look.playing = true;
  look.playTimer = setInterval(playStep, PLAY_EVERY_MS);
  renderControl();
}

function stopPlay() {
  if (!look.playing) return;
  look.playing = false;
  clearInterval(look.playTimer);
  look.playTimer = null;
  renderControl();
}

/** One second of play: the pace further on; caught up with now, live again. */
function playStep() {
  if (!look.target) { stopPlay(); return; }
  const at = look.target.at + look.pace * MINUTE_MS;
  if (at >= Date.now()) { goLive('lbCaughtUp'); return; }
  goTo(at);
}

/** A step of the pace back or forward from the moment shown (from now when live). */
function step(direction) {
  const from = look.target ? look.target.at : Date.now();
  const at = Math.floor((from + direction * look.pace * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
  if (at >= Date.now()) goLive();
  else goTo(at);
}

// ---------------------------------------------------------------- the slider's span

/**
 * The slider's span in whole minutes: the last 24 hours with live one step past the
 * newest minute, or, for an earlier moment, the day around it.
 */
function span(now) {
  const newest = Math.floor(now / MINUTE_MS);
  const at = look.target ? Math.floor(look.target.at / MINUTE_MS) : newest + 1;
  if (at >= newest - WINDOW_MIN) return { min: newest - WINDOW_MIN, max: newest + 1, live: newest + 1 };
  return { min: at - WINDOW_MIN / 2, max: at + WINDOW_MIN / 2, live: null };
}

/** A moment as the date-time field holds it: local time, "2026-12-01T14:00". */
function localInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function paceText(minutes) {
  return minutes >= 60 ? `${minutes / 60} ${t('hourUnit')}` : `${minutes} min`;
}

// ---------------------------------------------------------------- drawing

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

/** A label under the slider, long ("ma 30 nov 14:05") and short for a phone ("14:05"). */
function ends(node, long, short) {
  setText(node.querySelector('.lb-long'), long);
  setText(node.querySelector('.lb-short'), short);
}
function setAttr(node, name, value) { if (node.getAttribute(name) !== String(value)) node.setAttribute(name, String(value)); }

/** The control: slider, steps, play, pace, the date-time field and the clock. */
function renderControl() {
  if (!look.bound) return;
  const now = Date.now();
  const s = span(now);
  const slider = $('lookback-slider');
  setAttr(slider, 'min', s.min);
  setAttr(slider, 'max', s.max);
  const value = look.target ? Math.floor(look.target.at / MINUTE_MS) : s.max;
  if (Number(slider.value) !== value) slider.value = String(value);
  const live = !look.target;
  setAttr(slider, 'aria-valuetext', live ? t('lbLive') : `${fmtMoment(look.target.at)} (${clockWords(look.target.clock)})`);
  ends($('lookback-start'), fmtMoment(s.min * MINUTE_MS), fmtClock(s.min * MINUTE_MS));
  ends($('lookback-end'), s.live ? t('lbLive') : fmtMoment(s.max * MINUTE_MS), s.live ? t('lbLiveShort') : fmtClock(s.max * MINUTE_MS));
  ends($('lookback-moment'), live ? '' : fmtMoment(look.target.at), live ? '' : fmtClock(look.target.at));

  const pace = paceText(look.pace);
  setText($('lookback-back'), t('lbStepBack', pace));
  setAttr($('lookback-back'), 'aria-label', t('lbStepBackAria', pace));
  setText($('lookback-forward'), t('lbStepForward', pace));
  setAttr($('lookback-forward'), 'aria-label', t('lbStepForwardAria', pace));
  $('lookback-forward').disabled = live;
  const play = $('lookback-play');
  play.disabled = live;
  setAttr(play, 'aria-pressed', look.playing);
  setText($('lookback-play-icon'), look.playing ? '❚❚' : '▶');
  setText($('lookback-play-text'), look.playing ? t('lbPause') : t('lbPlay'));

  const select = $('lookback-speed');
  const signature = `${state.lang}|${PACES.join()}`;
  if (signature !== look.paceSignature) {
    look.paceSignature = signature;
    select.replaceChildren(...PACES.map((m) => el('option', { value: m }, t('lbPerSecond', paceText(m)))));
  }
  if (select.value !== String(look.pace)) select.value = String(look.pace);

  const at = $('lookback-at');
  setAttr(at, 'max', localInput(now));
  if (document.activeElement !== at) {
    const shownAt = localInput(look.target ? look.target.at : now);
    if (at.value !== shownAt) at.value = shownAt;
  }
  for (const radio of document.querySelectorAll('input[name="lookback-clock"]')) radio.checked = radio.value === look.clock;

  const error = look.error ? look.error() : '';
  setText($('lookback-error'), error);
  $('lookback-error').hidden = !error;
  const note = look.target ? t('lbLiveOnly') : '';
  setText($('lookback-note'), note);
  $('lookback-note').hidden = !note;
  setText($('lookback-status'), look.status ? t(look.status.key, ...look.status.args) : '');
}

/** The banner over the page while looking back: which moment, by which clock, loading, back to live. */
function renderBanner() {
  const banner = $('lookback-banner');
  banner.hidden = !look.target;
  if (!look.target) return;
  const past = state.past;
  const what = past ? t('lbBanner', fmtMoment(past.at), clockWords(past.clock)) : t('lbEntering', fmtMoment(look.target.at));
  setText($('lookback-what'), what);
  banner.dataset.at = past ? String(past.at) : '';
  banner.dataset.clock = past ? past.clock : '';
  setText($('lookback-ago'), past ? t('lbAgo', fmtAge(Date.now() - past.at)) : '');
  const loading = fetcher.loading || !!look.retryTimer;
  const busy = $('lookback-busy');
  busy.hidden = !loading;
  const other = past && (past.at !== look.target.at || past.clock !== look.target.clock);
  setText($('lookback-busy-text'), other ? t('lbLoading', fmtMoment(look.target.at)) : '…');
  const held = past && past.heldBack !== null ? t('lbHeldBack', past.heldBack) : '';
  setText($('lookback-held'), held);
  $('lookback-held').hidden = !held;
}

/**
 * Draws the control and decides which picture the page shows: called by app.js before it
 * draws the page. Returns false while the first answer of a past moment is on its way
 * (the page stands still, dimmed, meanwhile).
 */
export function renderLookback(mode) {
  bind();
  const offered = (mode === 'locations' || mode === 'aggregate') && !bigScreen();
  if (!offered) {
    reset(); // the wall screen and the institution's page are always live
    look.open = false;
  }
  $('lookback-toggle').hidden = !offered;
  $('lookback').hidden = !offered || !look.open;
  setAttr($('lookback-toggle'), 'aria-expanded', !$('lookback').hidden);

  syncPast();
  request();
  const pending = !!look.target && !state.past;
  document.body.classList.toggle('lookback', !!look.target);
  document.body.classList.toggle('lookback-pending', pending);
  setAttr($('picture'), 'aria-busy', pending);
  renderControl();
  renderBanner();
  return !pending;
}

// ---------------------------------------------------------------- the controls' events

function bind() {
  if (look.bound) return;
  look.bound = true;
  $('lookback-toggle').addEventListener('click', () => {
    look.open = !look.open;
    renderNow();
    if (look.open) $('lookback-slider').focus();
  });
  const slider = $('lookback-slider');
  slider.addEventListener('input', () => {
    const s = span(Date.now());
    const minute = Number(slider.value);
    if (s.live !== null && minute >= s.live) goLive();
    else goTo(minute * MINUTE_MS);
  });
  slider.addEventListener('keydown', (event) => {
    if (event.key !== 'PageUp' && event.key !== 'PageDown') return;
    event.preventDefault();
    const s = span(Date.now());
    const minute = Math.min(s.max, Math.max(s.min, Number(slider.value) + (event.key === 'PageUp' ? PAGE_MIN : -PAGE_MIN)));
    if (s.live !== null && minute >= s.live) goLive();
    else goTo(minute * MINUTE_MS);
  });
  $('lookback-back').addEventListener('click', () => step(-1));
  $('lookback-forward').addEventListener('click', () => step(1));
  $('lookback-play').addEventListener('click', () => (look.playing ? stopPlay() : startPlay()));
  $('lookback-speed').addEventListener('change', (event) => {
    const pace = Number(event.target.value);
    look.pace = PACES.includes(pace) ? pace : PACE_DEFAULT;
    renderControl();
  });
  $('lookback-jump').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('lookback-at').value;
    const at = value ? new Date(value).getTime() : NaN;
    if (!Number.isFinite(at)) {
      look.error = () => t(value ? 'lbNotATimestamp' : 'lbJumpEmpty');
      renderControl();
      return;
    }
    goTo(at); // a moment ahead is the server's to refuse, in words
  });
  for (const radio of document.querySelectorAll('input[name="lookback-clock"]')) {
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      look.clock = radio.value === 'observed' ? 'observed' : 'known';
      if (look.target) goTo(look.target.at);
    });
  }
  $('lookback-live').addEventListener('click', () => {
    look.open = false;
    goLive();
    $('lookback-toggle').focus();
  });
}

on('tick', () => {
  if (!look.bound || $('lookback-toggle').hidden) return;
  renderControl();
  renderBanner();
});

on('signedOut', () => {
  reset();
  look.open = false;
  look.error = null;
  look.status = null;
});
