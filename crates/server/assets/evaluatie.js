// ghor — the evaluation of an incident (GET /v1/incidents/{id}/evaluation), made by the
// server from the log alone: the GRIP course, time to first report, coverage, time per
// disbalance level, alerts and uitvraag response times. Beside every incident the page
// lists for a token that reads a region (Beheer's list, closed incidents too, and the
// dashboard's incidents tile with the closed ones under it; never on the wall screen):
// "Evaluatie" with open as a printable page in a new tab (a download when the browser
// blocks the tab), PDF and CSV. In the page's language; the server decides what the
// reader sees (locations are named only for roles that see them). One action per incident
// at a time; what it came to is said under the buttons.

import { t, el, addTexts, state, on, may, saveFile, problemText, errorMessage, isObject, fmtClock } from './core.js';
import { openTab, showBlob, fetchFile } from './beeld.js';

addTexts({
  nl: {
    evalLabel: 'Evaluatie',
    evalOpen: 'Openen',
    evalOpenAria: (name) => `Evaluatie van ${name}: openen in een nieuw tabblad`,
    evalPdf: 'PDF',
    evalPdfAria: (name) => `Evaluatie van ${name}: PDF downloaden`,
    evalCsv: 'CSV',
    evalCsvAria: (name) => `Evaluatie van ${name}: cijfers downloaden als CSV`,
    evalGroup: (name) => `Evaluatie van ${name}`,
    evalBusy: 'Ophalen…',
    evalTabLoading: 'De evaluatie wordt opgehaald…',
    evalOpened: (name, hm) => `De evaluatie van ${name} is geopend in een nieuw tabblad (${hm}).`,
    evalBlocked: (file) => `De browser blokkeerde een nieuw tabblad; de evaluatie is gedownload als ${file}.`,
    evalSaved: (file, hm) => `Opgeslagen als ${file} (${hm}).`,
    evalFailed: (why) => `De evaluatie kon niet worden opgehaald. ${why}`,
    evalIndexing: 'ghor leest na een herstart het logboek nog in; probeer het over enkele seconden opnieuw.',
    evalClosed: (n) => `Afgesloten incidenten (${n})`,
    evalClosedSince: (when) => `afgesloten ${when}`,
  },
  en: {
    evalLabel: 'Evaluation',
    evalOpen: 'Open',
    evalOpenAria: (name) => `Evaluation of ${name}: open in a new tab`,
    evalPdf: 'PDF',
    evalPdfAria: (name) => `Evaluation of ${name}: download PDF`,
    evalCsv: 'CSV',
    evalCsvAria: (name) => `Evaluation of ${name}: download the figures as CSV`,
    evalGroup: (name) => `Evaluation of ${name}`,
    evalBusy: 'Fetching…',
    evalTabLoading: 'Fetching the evaluation…',
    evalOpened: (name, hm) => `The evaluation of ${name} opened in a new tab (${hm}).`,
    evalBlocked: (file) => `The browser blocked a new tab; the evaluation was downloaded as ${file}.`,
    evalSaved: (file, hm) => `Saved as ${file} (${hm}).`,
    evalFailed: (why) => `The evaluation could not be fetched. ${why}`,
    evalIndexing: 'After a restart ghor is still reading its log; try again in a few seconds.',
    evalClosed: (n) => `Closed incidents (${n})`,
    evalClosedSince: (when) => `closed ${when}`,
  },
});

const ACCEPT = { html: 'text/html', pdf: 'application/pdf', csv: 'text/csv' };

const ev = {
  busy: new Map(),    // incident → the action under way ('html', 'pdf', 'csv')
  status: new Map(),  // incident → { text: () => string, ok }: what its last action came to
  closedShown: false, // the dashboard's closed incidents unfolded
};

/**
 * Whether this token gets the evaluation: it reads a region's picture and is not an
 * institution's page of its own locations (as the beeld, beeld.js).
 */
export function mayEvaluate() {
  return may('read_picture') && (may('read_locations') || !(may('read_own_locations') && state.me && state.me.organisation));
}

function evaluationUrl(id, format) {
  const query = new URLSearchParams({ lang: state.lang, format });
  return `/v1/incidents/${encodeURIComponent(id)}/evaluation?${query}`;
}

/** Why an evaluation could not be fetched, in words. */
function failure(answer) {
  if (answer.status === 503) return t('evalIndexing');
  const problem = isObject(answer.body) ? answer.body : {};
  const e = Array.isArray(problem.errors) && problem.errors.length ? problem.errors[0] : null;
  if (answer.status === 400 && e) return errorMessage(e) || problemText(answer);
  return problemText(answer);
}

function setStatus(id, text, ok = true) {
  if (text) ev.status.set(id, { text, ok });
  else ev.status.delete(id);
  refresh(id);
}

/** One action of incident `id` at a time, its buttons saying so meanwhile. */
async function busyWith(id, kind, fn) {
  if (ev.busy.has(id)) return;
  ev.busy.set(id, kind);
  setStatus(id, null);
  try {
    await fn();
  } finally {
    ev.busy.delete(id);
    refresh(id);
  }
}

function open(id, name) {
  if (ev.busy.has(id)) return;
  const tab = openTab(t('evalTabLoading'));
  busyWith(id, 'html', async () => {
    const answer = await fetchFile(evaluationUrl(id, 'html'), ACCEPT.html);
    if (!answer.ok) {
      if (tab) tab.close();
      setStatus(id, () => t('evalFailed', failure(answer)), false);
      return;
    }
    const at = Date.now();
    if (showBlob(tab, answer.blob)) {
      setStatus(id, () => t('evalOpened', name, fmtClock(at, true)));
    } else {
      const file = answer.filename || `evaluatie-${id}.html`;
      saveFile(answer.blob, file);
      setStatus(id, () => t('evalBlocked', file));
    }
  });
}

function download(id, format) {
  busyWith(id, format, async () => {
    const answer = await fetchFile(evaluationUrl(id, format), ACCEPT[format]);
    if (!answer.ok) { setStatus(id, () => t('evalFailed', failure(answer)), false); return; }
    const file = answer.filename || `evaluatie-${id}.${format}`;
    const at = Date.now();
    saveFile(answer.blob, file);
    setStatus(id, () => t('evalSaved', file, fmtClock(at, true)));
  });
}

/** The buttons' texts and state, and the status line, of every control of incident `id` on the page. */
function fill(box) {
  const id = box.dataset.evaluation;
  const name = box.dataset.name;
  const busy = ev.busy.get(id) || null;
  const set = (kind, text, aria) => {
    const node = box.querySelector(`[data-eval-action="${kind}"]`);
    const shown = busy === kind ? t('evalBusy') : text;
    if (node.textContent !== shown) node.textContent = shown;
    if (node.getAttribute('aria-label') !== aria) node.setAttribute('aria-label', aria);
    node.disabled = !!busy;
  };
  set('html', t('evalOpen'), t('evalOpenAria', name));
  set('pdf', t('evalPdf'), t('evalPdfAria', name));
  set('csv', t('evalCsv'), t('evalCsvAria', name));
  const status = ev.status.get(id);
  const line = box.querySelector('.eval-status');
  const text = status ? status.text() : '';
  if (line.textContent !== text) line.textContent = text;
  line.hidden = !text;
  line.className = status && !status.ok ? 'eval-status receipt error' : 'eval-status receipt';
}

function refresh(id) {
  for (const box of document.querySelectorAll(`[data-evaluation="${CSS.escape(id)}"]`)) fill(box);
}

/**
 * "Evaluatie: Openen · PDF · CSV" for incident `id` (called `name`), with what the last
 * action came to below. Made anew with every render of its list; the buttons carry
 * `data-focus` keys so keepFocus (dashboard.js) keeps the focus on them.
 */
export function evaluationControl(id, name) {
  const button = (kind, cls, fn) => {
    const node = el('button', { type: 'button', class: cls, 'data-eval-action': kind, 'data-focus': `eval-${kind}:${id}` });
    node.addEventListener('click', fn);
    return node;
  };
  const box = el('div', { class: 'eval-control', 'data-evaluation': id, 'data-name': name },
    el('div', { class: 'eval-actions', role: 'group', 'aria-label': t('evalGroup', name) },
      el('span', { class: 'eval-label', 'aria-hidden': 'true' }, t('evalLabel')),
      button('html', 'small primary', () => open(id, name)),
      button('pdf', 'small', () => download(id, 'pdf')),
      button('csv', 'small', () => download(id, 'csv'))),
    el('p', { class: 'eval-status receipt', role: 'status', 'aria-live': 'polite', hidden: true }));
  fill(box);
  return box;
}

/**
 * For the dashboard's incidents tile: the closed incidents of the regions shown, folded
 * under a button, each with its evaluation. Null when there are none (or no evaluation).
 * `incidents` are [id, incident] pairs, each once.
 */
export function closedIncidentsItem(incidents, toggled) {
  if (!mayEvaluate() || !incidents.length) return null;
  const toggle = el('button', { type: 'button', class: 'link', id: 'closed-incidents-toggle', 'aria-expanded': String(ev.closedShown),
    'aria-controls': 'closed-incidents', 'data-focus': 'closed-incidents-toggle' }, t('evalClosed', incidents.length));
  toggle.addEventListener('click', () => { ev.closedShown = !ev.closedShown; toggled(); });
  return el('li', { class: 'closed-incidents' }, toggle,
    ev.closedShown ? el('ul', { class: 'list', id: 'closed-incidents' }, incidents.map(([id, i]) => el('li', { 'data-incident': id, 'data-state': i.state },
      el('div', { class: 'incident-name' }, i.name || id),
      el('div', { class: 'meta' }, t('evalClosedSince', fmtClock(i.time))),
      evaluationControl(id, i.name || id)))) : null);
}

on('signedOut', () => {
  ev.status.clear();
  ev.closedShown = false;
});
