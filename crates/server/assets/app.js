// ghor — starts the live page and shows what the token's capabilities allow (DESIGN §7;
// `/v1/me`'s `may`, from the server's policy): location level for whoever reads every
// location (with a national view for tokens of several regions); for a token that reads
// its own organisation's locations those with the report form, and the chain in
// aggregate; aggregates with the reason why for everyone else. With "Groot scherm" on,
// the wall screen (wall.js) instead of the working page. Looking back (lookback.js), the
// picture of the moment chosen instead of the live one, and none of what acts on now.
// The beeld (beeld.js) of the region shown, of the same moment, beside them.

import { $, t, state, on, init, shownRegions, renderNow, may, ALL_REGIONS, bigScreen } from './core.js';
import {
  renderTotals, renderAlerts, renderIncidents, renderLocations, renderRegionsTable, renderStatesTable,
  aggregateNote, setRerender,
} from './dashboard.js';
import { renderMap } from './map.js';
import { bindDetail } from './detail.js';
import { bindReport, openReport, openAnswer } from './report.js';
import { renderOwn } from './institution.js';
import { renderDesk, bindDesk } from './desk.js';
import { uitvragen } from './warm.js';
import { renderSubscriptions, resetSubscriptions } from './subscriptions.js';
import { renderAdmin } from './admin.js';
import { renderWall, wallRegions } from './wall.js';
import { renderLookback } from './lookback.js';
import { renderBeeld } from './beeld.js';
import './federation.js';

/** How this token sees the picture, as its capabilities say. */
function mode() {
  if (may('read_locations')) return 'locations';
  if (may('read_own_locations') && state.me.organisation) return 'own';
  return 'aggregate';
}

function show(id, visible) { $(id).hidden = !visible; }

/**
 * For those who see aggregates or their own organisation: the locations of other
 * organisations that agreed to share some of their dimensions with this token's audience
 * (`/v1/me` names it; the server sends only those dimensions), per region.
 */
function sharedByAgreement(regions) {
  const audience = state.me.audience;
  const other = ([, l]) => l.organisation !== state.me.organisation && (l.shared?.[audience] || []).length > 0;
  return regions
    .map(([code, v]) => [code, { ...v, locations: Object.fromEntries(Object.entries(v.locations || {}).filter(other)) }])
    .filter(([, v]) => Object.keys(v.locations).length > 0);
}

function renderPage() {
  const m = mode();
  // Which picture: live, or a past moment's (the page stands still until it is there).
  const settled = renderLookback(m);
  // The beeld is of the moment shown; its buttons wait while a past one loads.
  renderBeeld(m);
  if (!settled) return;
  const past = !!state.past;
  const regions = shownRegions();
  const views = regions.map(([, v]) => v);
  $('waiting').hidden = regions.length > 0;
  $('picture').hidden = regions.length === 0;
  if (!regions.length) return;
  const national = state.region === ALL_REGIONS;
  const [code, view] = regions[0];
  $('region-title').textContent = national ? t('allRegions', regions.length) : `${view.name || code} (${code})`;
  document.body.dataset.mode = m;

  if (bigScreen()) {
    renderWallPage(regions, m);
    openDeepLink();
    return;
  }

  const agreed = m === 'locations' ? [] : sharedByAgreement(regions);
  show('own', m === 'own');
  show('role-note', m !== 'locations');
  $('role-note').textContent = [m === 'aggregate' ? aggregateNote() : m === 'own' ? t('ownNote') : '',
    agreed.length ? t('agreedNote') : ''].filter(Boolean).join(' ');
  if (m === 'own') renderOwn(regions);

  renderTotals(views, m === 'own' ? 'chainTotals' : null, m === 'locations');
  renderAlerts(regions);
  renderIncidents(regions);

  show('map-section', m !== 'aggregate' || agreed.length > 0 || regions.some(([, v]) => Object.keys(v.incidents || {}).length));
  if (!$('map-section').hidden) renderMap(regions, renderNow);
  show('regions-section', national);
  if (national) renderRegionsTable(regions);
  // The desk, subscriptions and Beheer act on now: not in a past picture.
  if (m === 'locations' && !past) renderDesk();
  else $('desk').hidden = true;
  show('locations-section', m === 'locations' || agreed.length > 0);
  if (m === 'locations') renderLocations(regions);
  else if (agreed.length) renderLocations(agreed);
  show('states-section', m === 'aggregate');
  if (m === 'aggregate') renderStatesTable(regions);
  if (past) {
    $('subscriptions').hidden = true;
    $('admin').hidden = true;
  } else {
    renderSubscriptions();
    renderAdmin();
  }

  openDeepLink();
}

/**
 * The wall screen (wall.js) instead of the working page: its band, tiles and lists, and the
 * page's own map in its layout. The alerts list is kept too: it drives the alarm.
 */
function renderWallPage(regions, m) {
  const shown = wallRegions(regions);
  renderWall(shown, m === 'locations');
  show('map-section', m !== 'aggregate' || shown.some(([, v]) => Object.keys(v.incidents || {}).length));
  if (!$('map-section').hidden) renderMap(shown, renderNow);
  renderAlerts(regions);
}

/**
 * Deep links, opened once the picture is there: `?melden=<location>` opens the report form
 * for that location; `?uitvraag=<id>&location=<location>` (the link in every notification of
 * an uitvraag) the form that answers it for that location. Such a link may be opened in a
 * fresh tab without a token: the sign-in form comes first and the query stays, so the form
 * opens right after signing in.
 */
let deepLinkDone = false;
function openDeepLink() {
  if (deepLinkDone) return;
  deepLinkDone = true;
  const query = new URLSearchParams(location.search);
  const uitvraag = query.get('uitvraag');
  if (uitvraag) { openAnswer(uitvraag, query.get('location') || ownLocationFor(uitvraag)); return; }
  const id = query.get('melden');
  if (id) openReport(id, null);
}

/** Without `location=`, the first own location the uitvraag addresses. */
function ownLocationFor(id) {
  const u = uitvragen()[id];
  return u ? Object.keys(u.locations || {})[0] || null : null;
}

on('render', renderPage);
on('signedOut', () => { deepLinkDone = false; resetSubscriptions(); });
setRerender(renderNow);
bindDetail();
bindReport();
bindDesk();
init();

