// ghor — the informatiemanager's alarm: while a critical alert waits for acknowledgement the
// page sounds a short signal every few seconds and says so in words, until someone
// acknowledges it (an event in the log, so every desk falls silent) or this user silences
// the page for five minutes. Only for those who may acknowledge: a wall screen stays quiet.
// Browsers play sound only after a click on the page; until then the banner asks for one.
// While the page looks back at a past moment the alarm follows the live alerts still, and
// says it is about now.

import { $, t, el, addTexts, may, fmtClock, state } from './core.js';

addTexts({
  nl: {
    alarmOn: (n) => n === 1 ? 'Geluidssignaal: 1 kritieke melding wacht op bevestiging.'
      : `Geluidssignaal: ${n} kritieke meldingen wachten op bevestiging.`,
    alarmMute: 'Geluid 5 minuten uit',
    alarmMuted: (n, until) => `${n} kritieke ${n === 1 ? 'melding wacht' : 'meldingen wachten'} op bevestiging; geluid uit tot ${until}.`,
    alarmUnmute: 'Geluid weer aan',
    alarmBlocked: 'Geluid toestaan',
    alarmBlockedWhy: 'De browser speelt pas geluid na een klik op de pagina.',
    alarmLive: 'Nu, live:',
  },
  en: {
    alarmOn: (n) => n === 1 ? 'Sound signal: 1 critical alert awaits acknowledgement.'
      : `Sound signal: ${n} critical alerts await acknowledgement.`,
    alarmMute: 'Mute for 5 minutes',
    alarmMuted: (n, until) => `${n} critical ${n === 1 ? 'alert awaits' : 'alerts await'} acknowledgement; sound off until ${until}.`,
    alarmUnmute: 'Sound on again',
    alarmBlocked: 'Allow sound',
    alarmBlockedWhy: 'The browser plays sound only after a click on the page.',
    alarmLive: 'Now, live:',
  },
});

const EVERY_MS = 4000;
const MUTE_MS = 5 * 60000;

/** What the alarm did, for the page's own tests: how many signals it sounded. */
export const alarm = { waiting: 0, signals: 0 };
let audio = null;
let mutedUntil = 0;
let timer = null;

function context() {
  const Audio = window.AudioContext || window.webkitAudioContext;
  if (!audio && Audio) audio = new Audio();
  return audio;
}

/** Two short tones, high then low: heard over a crisis room's noise without startling. */
function signal() {
  const ctx = context();
  if (!ctx || ctx.state !== 'running') return false;
  [[880, 0], [660, 0.18]].forEach(([hz, at]) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.2, ctx.currentTime + at);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + at + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(ctx.currentTime + at);
    osc.stop(ctx.currentTime + at + 0.17);
  });
  alarm.signals += 1;
  return true;
}

function tick() {
  timer = null;
  if (alarm.waiting > 0 && Date.now() >= mutedUntil) signal();
  render();
  if (alarm.waiting > 0) timer = setTimeout(tick, EVERY_MS);
}

function render() {
  const box = $('alarm');
  if (!box) return;
  box.hidden = alarm.waiting === 0;
  document.body.dataset.alarm = alarm.waiting === 0 ? 'off' : Date.now() < mutedUntil ? 'muted' : 'on';
  if (alarm.waiting === 0) return box.replaceChildren();
  const muted = Date.now() < mutedUntil;
  const blocked = !muted && (!context() || context().state !== 'running');
  const button = (text, fn) => {
    const b = el('button', { type: 'button', class: 'small' }, text);
    b.addEventListener('click', fn);
    return b;
  };
  const parts = [el('span', { class: 'alarm-text' },
    state.past ? el('strong', { class: 'alarm-live' }, `${t('alarmLive')} `) : null,
    muted ? t('alarmMuted', alarm.waiting, fmtClock(new Date(mutedUntil))) : t('alarmOn', alarm.waiting))];
  if (blocked) {
    parts.push(el('span', { class: 'meta' }, t('alarmBlockedWhy')),
      button(t('alarmBlocked'), () => context() && context().resume().then(tick)));
  }
  parts.push(muted ? button(t('alarmUnmute'), () => { mutedUntil = 0; tick(); })
    : button(t('alarmMute'), () => { mutedUntil = Date.now() + MUTE_MS; render(); }));
  box.replaceChildren(...parts);
}

/** After every render of the alerts: sound while a critical one is not acknowledged. */
export function updateAlarm(alerts) {
  const before = alarm.waiting;
  alarm.waiting = may('acknowledge') ? alerts.filter((a) => a.state === 'kritiek' && !a.acknowledged).length : 0;
  if (alarm.waiting > 0 && (before === 0 || !timer)) {
    if (timer) clearTimeout(timer);
    tick();
  } else {
    render();
  }
}

// Any click on the page lets the browser play the signal from then on.
document.addEventListener('click', () => { if (audio && audio.state === 'suspended') audio.resume().then(render); }, { capture: true });
