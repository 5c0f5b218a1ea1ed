// ghor — Beheer: the screens for what was only possible through the API (issue 10).
// Incidents (open, change, close: name, theme, GRIP, state, handelingsperspectief and an
// area from the desk's area picker); a region's thresholds with their defaults; the
// registry of locations and organisations with each location's 24/7 contacts, those not
// checked for longer than the server allows flagged; and, for the OTO in its exercise, the
// one step that copies the live registry into the exercise. Each screen shows only where
// `/v1/me` says the token may do it; everything is written through the API with the
// caller's token (events through /v1/events, contacts through /v1/registry), and what the
// server refuses is shown on the field it names, in the catalogue's words.

import {
  $, t, el, has, num, fmtNum, fmtClock, parseTime, label, addTexts, state, on, api, postEvent, postEvents, problemText,
  showDialog, order, compareText, errorMessage, liveAge, eventType, may, shownRegions, ICON,
} from './core.js';
import { areaPicker, slugBase, slugify } from './desk.js';
import { areaMap } from './map.js';
import { keepFocus } from './dashboard.js';
import { evaluationControl, mayEvaluate } from './evaluatie.js';

addTexts({
  nl: {
    adminTitle: 'Beheer',
    tabIncidents: 'Incidenten',
    tabThresholds: 'Drempels',
    tabRegistry: 'Registratie en 24/7-contacten',
    tabExercise: 'Oefening voorbereiden',
    // incidents
    newIncident: 'Nieuw incident',
    editIncident: 'Wijzigen',
    closeIncident: 'Afsluiten',
    closeIncidentConfirm: (name) => `Incident "${name}" afsluiten? Locaties in het gebied gaan terug naar de koude fase.`,
    closeIncidentYes: 'Ja, afsluiten',
    cancelAction: 'Annuleren',
    noIncidentsAtAll: 'Geen incidenten in deze regio.',
    closedIncidents: (n) => `Afgesloten incidenten (${n})`,
    incidentSince: (hm) => `sinds ${hm}`,
    incidentReportedBy: (r) => `door ${r}`,
    areaRegions: (list) => `regio's ${list}`,
    areaMunicipalities: (list) => `gemeenten ${list}`,
    areaCircle: (km, lat, lon) => `cirkel ${km} km rond ${lat}, ${lon}`,
    areaPolygon: (n) => `veelhoek van ${n} hoekpunten`,
    areaCategories: (list) => `alleen ${list}`,
    incidentFormNew: 'Nieuw incident',
    incidentFormEdit: (name) => `Incident wijzigen: ${name}`,
    fName: 'Naam',
    fTheme: 'Thema',
    noTheme: '— geen —',
    fGrip: 'GRIP',
    fIncidentState: 'Fase',
    fPerspective: 'Handelingsperspectief voor de instellingen (optioneel)',
    fIncidentSource: 'Regio die het incident voert',
    incidentCount: (n) => (n === 1 ? '1 locatie ligt in het gebied (warme fase)' : `${fmtNum(n)} locaties liggen in het gebied (warme fase)`),
    saveIncident: 'Incident opslaan',
    openIncident: 'Incident openen',
    incidentOpened: (name, hm) => `Incident "${name}" geopend om ${hm}.`,
    incidentSaved: (name, hm) => `Incident "${name}" gewijzigd om ${hm}.`,
    incidentClosed: (name, hm) => `Incident "${name}" afgesloten om ${hm}.`,
    needName: 'Vul een naam in.',
    // thresholds
    thresholdsFor: 'Drempels van regio',
    colThreshold: 'Drempel',
    colDefault: 'Standaard',
    colCurrent: 'Nu',
    colNew: 'Nieuwe waarde',
    defaultUnknown: 'onbekend',
    notDefault: 'afwijkend',
    thresholdsNote: 'Een drempel bepaalt wanneer een locatie op aandacht of kritiek springt; de kleuren van het beeld volgen direct. Laat een veld leeg om de drempel te houden.',
    saveThresholds: 'Drempels opslaan',
    nothingChanged: 'Niets gewijzigd: vul een nieuwe waarde in.',
    thresholdsSaved: (list, hm) => `Opgeslagen om ${hm}: ${list}.`,
    thresholdsRefused: 'Niet (alles) opgeslagen. Verbeter wat bij de drempels staat:',
    asOfPicture: (hms) => `stand van het beeld ${hms}`,
    // registry
    addLocation: 'Locatie toevoegen',
    registryLoadingList: 'Registratie laden…',
    registryFailed: (why) => `Registratie niet te laden: ${why}`,
    registryEmpty: 'Nog geen locaties geregistreerd in deze regio.',
    registryCounts: (l, o) => `${l} locaties van ${o} organisaties`,
    registryAsOf: (hms) => `opgehaald ${hms}`,
    colOrganisation: 'Organisatie',
    colType: 'Soort',
    colMunicipality: 'Gemeente',
    colPoint: 'Ligging',
    colContacts: '24/7-contacten',
    colActions: 'Acties',
    verifyRule: (n) => `Contacten moeten elke ${n} dagen gecontroleerd worden; wat langer geleden is, staat gemarkeerd.`,
    staleCount: (n) => (n === 1 ? '1 locatie met contacten die gecontroleerd moeten worden' : `${fmtNum(n)} locaties met contacten die gecontroleerd moeten worden`),
    registryContactsNone: 'geen contacten',
    contactsN: (n) => (n === 1 ? '1 contact' : `${fmtNum(n)} contacten`),
    oldestVerified: (d) => `oudste controle ${d}`,
    needsCheck: 'Controle nodig',
    contactsUnknown: 'niet bekend',
    editLocation: 'Wijzigen',
    editContacts: 'Contacten',
    viewContacts: 'Contacten bekijken',
    locationFormNew: 'Locatie toevoegen',
    locationFormEdit: (name) => `Locatie wijzigen: ${name}`,
    fLocName: 'Naam van de locatie',
    fLocId: 'Code (kleine letters, cijfers en streepjes)',
    fLocIdHint: 'Vast na registratie: systemen melden onder deze code.',
    fOrganisation: 'Organisatie',
    newOrganisation: 'Nieuwe organisatie…',
    fOrgId: 'Code van de nieuwe organisatie',
    fOrgName: 'Naam van de nieuwe organisatie',
    fType: 'Soort locatie',
    fCategory: 'Categorie',
    fRegion: 'Regio',
    fMunicipality: 'Gemeente',
    fAddress: 'Adres (optioneel)',
    fPointLat: 'Breedte (lat)',
    fPointLon: 'Lengte (lon)',
    pointHint: 'Klik op de kaart waar de locatie ligt, of typ de coördinaten.',
    pointMap: 'Kaart: ligging van de locatie',
    saveLocation: 'Locatie opslaan',
    locationSaved: (name, hm) => `Locatie "${name}" opgeslagen om ${hm}.`,
    idTaken: 'Deze code is al in gebruik; kies een andere.',
    needLocName: 'Vul de naam van de locatie in.',
    needPoint: 'Vul breedte en lengte in, of klik op de kaart.',
    needOrgName: 'Vul de naam van de nieuwe organisatie in.',
    locationRefused: 'Niet opgeslagen. Verbeter wat bij de velden staat:',
    // contacts
    contactsTitle: (name) => `24/7-contacten: ${name}`,
    contactsLoading: 'Contacten laden…',
    contactsFailed: (why) => `Contacten niet te laden: ${why}`,
    contactsReadOnly: 'U kunt deze contacten lezen, niet wijzigen.',
    contactN: (n) => `Contact ${n}`,
    fRole: 'Rol',
    fContactName: 'Naam',
    fPhone: 'Telefoon 24/7',
    fFallback: 'Terugvaloptie (optioneel)',
    fEmail: 'E-mail (optioneel)',
    fVerified: 'Laatst gecontroleerd op',
    verifiedToday: 'Vandaag gecontroleerd',
    removeContact: 'Contact verwijderen',
    addContact: 'Contact toevoegen',
    saveContacts: 'Contacten opslaan',
    contactsSaved: (name, hm) => `Contacten van "${name}" opgeslagen om ${hm}.`,
    contactsRefused: 'Niet opgeslagen. Verbeter wat bij de contacten staat:',
    noContactsYet: 'Nog geen contacten. Voeg er een toe.',
    daysAgo: (n) => (n === 1 ? '1 dag geleden' : `${fmtNum(n)} dagen geleden`),
    staleFlag: (limit) => `Controle nodig: langer dan ${limit} dagen geleden`,
    // exercise
    exerciseIntro: 'De oefening heeft een eigen registratie, los van de werkelijkheid; die begint leeg. Neem in één stap de organisaties en locaties van uw regio\'s over uit de werkelijkheid. Wat er al staat, blijft staan: nogmaals drukken neemt alleen nieuwe locaties over. Contacten worden niet overgenomen.',
    exerciseCount: (n) => `De oefening heeft nu ${n} locaties geregistreerd.`,
    prepareExercise: 'Oefening voorbereiden: registratie overnemen uit de werkelijkheid',
    preparing: 'Bezig met overnemen…',
    prepared: (o, l, k, hm) => `Overgenomen om ${hm}: ${o} organisaties en ${l} locaties; ${k} stonden er al.`,
    prepareFailed: (why) => `Niet overgenomen: ${why}`,
    sendingShort: 'Bezig…',
  },
  en: {
    adminTitle: 'Administration',
    tabIncidents: 'Incidents',
    tabThresholds: 'Thresholds',
    tabRegistry: 'Registry and 24/7 contacts',
    tabExercise: 'Prepare the exercise',
    newIncident: 'New incident',
    editIncident: 'Change',
    closeIncident: 'Close',
    closeIncidentConfirm: (name) => `Close incident "${name}"? Locations in its area go back to the cold phase.`,
    closeIncidentYes: 'Yes, close',
    cancelAction: 'Cancel',
    noIncidentsAtAll: 'No incidents in this region.',
    closedIncidents: (n) => `Closed incidents (${n})`,
    incidentSince: (hm) => `since ${hm}`,
    incidentReportedBy: (r) => `by ${r}`,
    areaRegions: (list) => `regions ${list}`,
    areaMunicipalities: (list) => `municipalities ${list}`,
    areaCircle: (km, lat, lon) => `circle of ${km} km around ${lat}, ${lon}`,
    areaPolygon: (n) => `polygon of ${n} corners`,
    areaCategories: (list) => `only ${list}`,
    incidentFormNew: 'New incident',
    incidentFormEdit: (name) => `Change incident: ${name}`,
    fName: 'Name',
    fTheme: 'Theme',
    noTheme: '— none —',
    fGrip: 'GRIP',
    fIncidentState: 'Phase',
    fPerspective: 'Advice to the institutions (optional)',
    fIncidentSource: 'Region running the incident',
    incidentCount: (n) => (n === 1 ? '1 location lies in the area (warm phase)' : `${fmtNum(n)} locations lie in the area (warm phase)`),
    saveIncident: 'Save incident',
    openIncident: 'Open incident',
    incidentOpened: (name, hm) => `Incident "${name}" opened at ${hm}.`,
    incidentSaved: (name, hm) => `Incident "${name}" changed at ${hm}.`,
    incidentClosed: (name, hm) => `Incident "${name}" closed at ${hm}.`,
    needName: 'Enter a name.',
    thresholdsFor: 'Thresholds of region',
    colThreshold: 'Threshold',
    colDefault: 'Default',
    colCurrent: 'Now',
    colNew: 'New value',
    defaultUnknown: 'unknown',
    notDefault: 'changed',
    thresholdsNote: 'A threshold decides when a location turns to attention or critical; the picture\'s colours follow at once. Leave a field empty to keep the threshold.',
    saveThresholds: 'Save thresholds',
    nothingChanged: 'Nothing changed: enter a new value.',
    thresholdsSaved: (list, hm) => `Saved at ${hm}: ${list}.`,
    thresholdsRefused: 'Not (all) saved. Correct what the thresholds say:',
    asOfPicture: (hms) => `picture as of ${hms}`,
    addLocation: 'Add location',
    registryLoadingList: 'Loading the registry…',
    registryFailed: (why) => `The registry could not be loaded: ${why}`,
    registryEmpty: 'No locations registered in this region yet.',
    registryCounts: (l, o) => `${l} locations of ${o} organisations`,
    registryAsOf: (hms) => `fetched ${hms}`,
    colOrganisation: 'Organisation',
    colType: 'Type',
    colMunicipality: 'Municipality',
    colPoint: 'Position',
    colContacts: '24/7 contacts',
    colActions: 'Actions',
    verifyRule: (n) => `Contacts must be checked every ${n} days; those checked longer ago are flagged.`,
    staleCount: (n) => (n === 1 ? '1 location with contacts to check' : `${fmtNum(n)} locations with contacts to check`),
    registryContactsNone: 'no contacts',
    contactsN: (n) => (n === 1 ? '1 contact' : `${fmtNum(n)} contacts`),
    oldestVerified: (d) => `oldest check ${d}`,
    needsCheck: 'Check needed',
    contactsUnknown: 'not known',
    editLocation: 'Change',
    editContacts: 'Contacts',
    viewContacts: 'View contacts',
    locationFormNew: 'Add location',
    locationFormEdit: (name) => `Change location: ${name}`,
    fLocName: 'Name of the location',
    fLocId: 'Code (lowercase letters, digits and hyphens)',
    fLocIdHint: 'Fixed once registered: systems report under this code.',
    fOrganisation: 'Organisation',
    newOrganisation: 'New organisation…',
    fOrgId: 'Code of the new organisation',
    fOrgName: 'Name of the new organisation',
    fType: 'Location type',
    fCategory: 'Category',
    fRegion: 'Region',
    fMunicipality: 'Municipality',
    fAddress: 'Address (optional)',
    fPointLat: 'Latitude',
    fPointLon: 'Longitude',
    pointHint: 'Click the map where the location is, or type the coordinates.',
    pointMap: 'Map: position of the location',
    saveLocation: 'Save location',
    locationSaved: (name, hm) => `Location "${name}" saved at ${hm}.`,
    idTaken: 'This code is taken already; choose another.',
    needLocName: 'Enter the name of the location.',
    needPoint: 'Enter latitude and longitude, or click the map.',
    needOrgName: 'Enter the name of the new organisation.',
    locationRefused: 'Not saved. Correct what the fields say:',
    contactsTitle: (name) => `24/7 contacts: ${name}`,
    contactsLoading: 'Loading contacts…',
    contactsFailed: (why) => `Contacts could not be loaded: ${why}`,
    contactsReadOnly: 'You can read these contacts, not change them.',
    contactN: (n) => `Contact ${n}`,
    fRole: 'Role',
    fContactName: 'Name',
    fPhone: 'Phone 24/7',
    fFallback: 'Fallback (optional)',
    fEmail: 'Email (optional)',
    fVerified: 'Last checked on',
    verifiedToday: 'Checked today',
    removeContact: 'Remove contact',
    addContact: 'Add contact',
    saveContacts: 'Save contacts',
    contactsSaved: (name, hm) => `Contacts of "${name}" saved at ${hm}.`,
    contactsRefused: 'Not saved. Correct what the contacts say:',
    noContactsYet: 'No contacts yet. Add one.',
    daysAgo: (n) => (n === 1 ? '1 day ago' : `${fmtNum(n)} days ago`),
    staleFlag: (limit) => `Check needed: more than ${limit} days ago`,
    exerciseIntro: 'The exercise has a registry of its own, apart from the real one; it starts empty. Copy the organisations and locations of your regions from the real registry in one step. What is there stays: pressing again copies only new locations. Contacts are not copied.',
    exerciseCount: (n) => `The exercise has ${n} locations registered now.`,
    prepareExercise: 'Prepare the exercise: copy the registry from the real one',
    preparing: 'Copying…',
    prepared: (o, l, k, hm) => `Copied at ${hm}: ${o} organisations and ${l} locations; ${k} were there already.`,
    prepareFailed: (why) => `Not copied: ${why}`,
    sendingShort: 'Busy…',
  },
});

/** The GRIP levels an incident can have: the event schema's bounds (0, no GRIP, to 5). */
const GRIP_LEVELS = [0, 1, 2, 3, 4, 5];
/** How long a contact may go unchecked when the server does not say (the server's default). */
const VERIFY_WITHIN_DAYS_DEFAULT = 365;
const DAY_MS = 86400000;
/** How many contact lists are fetched at once while the server has no summary of them. */

/** What the screens show open, what they are doing, and what they fetched. */
const admin = {
  tab: null,
  status: null,                 // { text, ok } under the tabs
  closing: null,                // the incident whose closing is being confirmed
  closedShown: false,
  busy: new Set(),
  thresholdRegion: null,
  drafts: {},                   // threshold key → value being typed
  thresholdErrors: {},          // threshold key → message
  thresholdFailure: null,
  registry: null,               // { locations, error, loading, fetchedAt, regions }
  contacts: null,               // { verify_within_days, locations: { id: { contacts, oldest_verified_on, stale } } }
  prepare: null,                // { busy, result, error, at }
};

// ---------------------------------------------------------------- small helpers

function setStatus(text, ok = true) {
  admin.status = text ? { text, ok } : null;
  const node = $('admin-status');
  node.textContent = text || '';
  node.classList.toggle('error', !ok);
  node.hidden = !text;
}

function regionName(code) {
  const view = state.regions[code];
  return view && view.name ? `${code} — ${view.name}` : code;
}

/** The token's regions whose picture is shown now. */
function shownCodes() {
  const mine = (state.me && state.me.regions) || [];
  return shownRegions().map(([code]) => code).filter((c) => !mine.length || mine.includes(c));
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Whole days from a date (YYYY-MM-DD) to today; NaN when it is no date. */
function daysSince(date) {
  const ms = Date.parse(`${date}T00:00:00`);
  if (!Number.isFinite(ms)) return NaN;
  return Math.floor((Date.parse(`${today()}T00:00:00`) - ms) / DAY_MS);
}

function fmtDate(date) {
  const ms = Date.parse(`${date}T00:00:00`);
  if (!Number.isFinite(ms)) return String(date || '–');
  return new Date(ms).toLocaleDateString(state.lang === 'en' ? 'en-GB' : 'nl-NL', { day: 'numeric', month: 'short', year: 'numeric' });
}

function verifyWithinDays() {
  return num(admin.contacts && admin.contacts.verify_within_days) || VERIFY_WITHIN_DAYS_DEFAULT;
}

/** A number typed in a field: a number when it is one, else the text as typed, so the server names what is wrong. */
function typedNumber(text) {
  const s = String(text).trim().replace(',', '.');
  return s !== '' && Number.isFinite(Number(s)) ? Number(s) : s;
}

function fieldError(id) { return el('span', { id: `${id}-error`, class: 'field-error' }); }

function field(id, labelText, control, hint) {
  control.id = id;
  control.setAttribute('aria-describedby', `${id}-error`);
  return el('div', { class: 'field' }, el('label', { for: id }, labelText), control, hint ? el('span', { class: 'meta' }, hint) : null, fieldError(id));
}

/**
 * Shows a refusal on a form: each error on the field it names (`fieldOf(path)` gives the
 * control's id, `labelOf(id)` its label) and all of them in a summary that names the field,
 * focusing the first. `errors` are the problem's `errors[]` or our own ({ field, text }).
 */
function showErrors(form, summaryId, intro, errors, { fieldOf, labelOf, failure }) {
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
  const lines = [];
  let first = null;
  for (const e of errors) {
    const id = fieldOf(String(e.field || ''));
    const text = e.text || errorMessage(e);
    const slot = id && $(`${id}-error`);
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
    const control = id && $(id);
    if (control) { control.setAttribute('aria-invalid', 'true'); first = first || control; }
    const name = id && labelOf(id);
    lines.push(el('li', { 'data-error-field': e.field }, name ? `${name}: ${text}` : text));
  }
  if (failure) lines.push(el('li', {}, failure));
  $(summaryId).replaceChildren(lines.length ? el('div', { class: 'error-summary' }, el('p', {}, intro), el('ul', {}, lines)) : '');
  if (first) first.focus();
}

/** The label of a form control, for naming it in the error summary. */
function labelFor(id) {
  const node = document.querySelector(`label[for="${CSS.escape(id)}"]`);
  return node ? node.textContent.trim() : null;
}

/** The errors of a refused answer; none when it failed otherwise (then `problemText` says why). */
function problemErrors(answer) {
  const problem = answer.body || {};
  return Array.isArray(problem.errors) ? problem.errors : [];
}

function submitBusy(button, busy, text) {
  button.disabled = busy;
  button.textContent = busy ? t('sendingShort') : text;
}

// ---------------------------------------------------------------- the dialog

function openDialog(title, body) {
  $('admin-dialog-title').textContent = title;
  $('admin-dialog-body').replaceChildren(body);
  showDialog($('admin-dialog'));
}

function closeDialog() {
  if ($('admin-dialog').open) $('admin-dialog').close();
}

// ---------------------------------------------------------------- incidents

/** Every incident of the shown regions (once each): active first, worst GRIP first, then the closed ones. */
function incidents() {
  const seen = new Set();
  return shownRegions().flatMap(([, v]) => Object.entries((v && v.incidents) || {}))
    .filter(([id]) => !seen.has(id) && seen.add(id))
    .sort((a, b) => (a[1].state === 'gesloten' ? 1 : 0) - (b[1].state === 'gesloten' ? 1 : 0) ||
      num(b[1].grip) - num(a[1].grip) || parseTime(b[1].time) - parseTime(a[1].time));
}

function fmtCoord(x) { return num(x).toLocaleString(state.lang === 'en' ? 'en-GB' : 'nl-NL', { maximumFractionDigits: 4 }); }

/** An area in words: "regio's VR01 · gemeenten Eemsdelta · cirkel 25 km rond 53,33, 6,92". */
function areaText(area) {
  const a = area || {};
  const parts = [];
  if (a.regions && a.regions.length) parts.push(t('areaRegions', a.regions.join(', ')));
  if (a.municipalities && a.municipalities.length) parts.push(t('areaMunicipalities', a.municipalities.join(', ')));
  if (a.circle) parts.push(t('areaCircle', fmtCoord(a.circle.radius_km), fmtCoord(a.circle.center.lat), fmtCoord(a.circle.center.lon)));
  if (a.polygon && a.polygon.length) parts.push(t('areaPolygon', a.polygon.length));
  const only = [...(a.categories || []).map((c) => label('Category', c)), ...(a.types || []).map((x) => label('LocationType', x))];
  if (only.length) parts.push(t('areaCategories', only.join(', ')));
  return parts.join(' · ');
}

function incidentItem(id, i) {
  const closed = i.state === 'gesloten';
  const edit = el('button', { type: 'button', class: 'small', 'data-edit-incident': id, 'data-focus': `edit-incident:${id}` }, t('editIncident'));
  edit.addEventListener('click', () => openIncidentForm(id, i));
  let closeControl = null;
  if (!closed && admin.closing === id) {
    const yes = el('button', { type: 'button', class: 'small danger', 'data-close-incident-yes': id, 'data-focus': `close-incident-yes:${id}`,
      disabled: admin.busy.has(`close:${id}`) }, t('closeIncidentYes'));
    yes.addEventListener('click', () => closeIncident(id, i));
    const no = el('button', { type: 'button', class: 'small', 'data-focus': `close-incident-no:${id}` }, t('cancelAction'));
    no.addEventListener('click', () => { admin.closing = null; redraw(); });
    closeControl = el('div', { class: 'confirm-box', role: 'alert' }, el('p', {}, t('closeIncidentConfirm', i.name || id)), yes, ' ', no);
  } else if (!closed) {
    const close = el('button', { type: 'button', class: 'small', 'data-close-incident': id, 'data-focus': `close-incident:${id}` }, t('closeIncident'));
    close.addEventListener('click', () => {
      admin.closing = id;
      redraw();
      const yes = document.querySelector(`[data-close-incident-yes="${CSS.escape(id)}"]`);
      if (yes) yes.focus();
    });
    closeControl = close;
  }
  return el('li', { class: 'admin-incident', 'data-incident': id, 'data-state': i.state, 'data-grip': num(i.grip) },
    el('div', { class: 'admin-incident-head' },
      el('strong', { class: 'incident-name' }, i.name || id),
      el('span', {}, el('span', { class: 'pill' }, label('IncidentState', i.state)), el('span', { class: 'pill grip' }, t('grip', num(i.grip))),
        i.theme ? el('span', { class: 'meta' }, label('Theme', i.theme)) : null)),
    el('div', { class: 'meta' }, t('incidentSince', fmtClock(i.time)), ' ', liveAge(i.time), i.reported_by ? ` · ${t('incidentReportedBy', i.reported_by)}` : ''),
    el('div', { class: 'meta area-text' }, areaText(i.area)),
    i.handelingsperspectief ? el('div', { class: 'perspective' }, i.handelingsperspectief) : null,
    el('div', { class: 'one-click' }, edit, closeControl),
    mayEvaluate() ? evaluationControl(id, i.name || id) : null);
}

function incidentsScreen() {
  const all = incidents();
  const active = all.filter(([, i]) => i.state !== 'gesloten');
  const closed = all.filter(([, i]) => i.state === 'gesloten');
  const add = el('button', { type: 'button', class: 'primary', id: 'admin-new-incident', 'data-focus': 'admin-new-incident' }, t('newIncident'));
  add.addEventListener('click', () => openIncidentForm(null, null));
  const toggle = el('button', { type: 'button', class: 'link', 'aria-expanded': String(admin.closedShown), 'data-focus': 'closed-incidents' },
    t('closedIncidents', closed.length));
  toggle.addEventListener('click', () => { admin.closedShown = !admin.closedShown; redraw(); });
  return [
    el('div', { class: 'admin-head' }, add),
    all.length ? null : el('p', { class: 'meta' }, t('noIncidentsAtAll')),
    active.length ? el('ul', { class: 'list admin-incidents', id: 'admin-incident-list' }, active.map(([id, i]) => incidentItem(id, i))) : null,
    closed.length ? el('p', {}, toggle) : null,
    closed.length && admin.closedShown ? el('ul', { class: 'list admin-incidents closed', id: 'admin-closed-incidents' },
      closed.map(([id, i]) => incidentItem(id, i))) : null,
  ];
}

/** The region an incident is written in: the one that runs it, when the token holds it. */
function incidentRegion(i) {
  const mine = (state.me && state.me.regions) || [];
  if (i && mine.includes(i.reported_by)) return i.reported_by;
  return mine.includes(state.region) ? state.region : shownCodes()[0] || mine[0];
}

/** The incident's data as the event carries it, from a view (to close it unchanged otherwise). */
function incidentData(i, changes) {
  const data = { name: i.name, state: i.state, grip: num(i.grip), area: i.area };
  if (i.theme) data.theme = i.theme;
  if (i.handelingsperspectief) data.handelingsperspectief = i.handelingsperspectief;
  return Object.assign(data, changes);
}

async function closeIncident(id, i) {
  admin.busy.add(`close:${id}`);
  redraw();
  const answer = await postEvent({ source: `/regions/${incidentRegion(i)}`, type: eventType('incident.updated'), subject: id,
    data: incidentData(i, { state: 'gesloten' }) });
  admin.busy.delete(`close:${id}`);
  admin.closing = null;
  const problem = problemErrors(answer)[0];
  setStatus(answer.ok ? t('incidentClosed', i.name || id, fmtClock(new Date(), true))
    : problem ? errorMessage(problem) : problemText(answer), answer.ok);
  redraw();
}

/** The incident form: new (`id` null) or changing one. */
function openIncidentForm(id, incident) {
  const i = incident || { state: 'actief', grip: 1, area: null };
  const mine = (state.me && state.me.regions) || [];
  const picker = areaPicker({ prefix: 'inc', source: incidentRegion(incident), area: i.area,
    registry: admin.registry && admin.registry.locations, countText: (n) => t('incidentCount', n) });
  if (!admin.registry || !admin.registry.locations) loadRegistry().then(() => { if (admin.registry.locations) picker.setRegistry(admin.registry.locations); });

  const name = el('input', { type: 'text', maxlength: 200, required: true, value: i.name || '' });
  const theme = el('select', {}, el('option', { value: '' }, t('noTheme')),
    order('Theme').map((x) => el('option', { value: x, selected: x === i.theme }, label('Theme', x))));
  const grip = el('select', {}, GRIP_LEVELS.map((g) => el('option', { value: g, selected: g === num(i.grip) }, t('grip', g))));
  const phase = el('select', {}, order('IncidentState').map((s) => el('option', { value: s, selected: s === i.state }, label('IncidentState', s))));
  const perspective = el('textarea', { maxlength: 1000 });
  perspective.value = i.handelingsperspectief || '';
  const source = el('select', { disabled: !!id }, mine.map((r) => el('option', { value: r }, regionName(r))));
  source.value = picker.source();
  source.addEventListener('change', () => picker.setSource(source.value));
  const submit = el('button', { type: 'submit', class: 'primary', id: 'inc-submit' }, id ? t('saveIncident') : t('openIncident'));
  const form = el('form', { id: 'inc-form', class: 'admin-form', novalidate: true },
    field('inc-f-name', t('fName'), name),
    el('div', { class: 'field-row' },
      field('inc-f-state', t('fIncidentState'), phase),
      field('inc-f-grip', t('fGrip'), grip),
      field('inc-f-theme', t('fTheme'), theme),
      mine.length > 1 ? field('inc-f-source', t('fIncidentSource'), source) : null),
    field('inc-f-handelingsperspectief', t('fPerspective'), perspective),
    picker.node,
    el('div', { id: 'inc-errors', role: 'alert' }),
    el('div', { class: 'save-row' }, submit));
  const labelOf = (fid) => (fid === 'inc-f-area' ? t('areaTitle') : labelFor(fid));
  const fieldOf = (path) => {
    if (path === 'subject') return 'inc-f-name';
    const m = /^data\.([a-z_]+)/.exec(path);
    return m ? `inc-f-${m[1]}` : null;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const title = name.value.trim();
    if (!title) { showErrors(form, 'inc-errors', t('locationRefused'), [{ field: 'data.name', text: t('needName') }], { fieldOf, labelOf }); return; }
    const data = { name: title, state: phase.value, grip: Number(grip.value), area: picker.value() };
    if (theme.value) data.theme = theme.value;
    if (perspective.value.trim()) data.handelingsperspectief = perspective.value.trim();
    submitBusy(submit, true);
    const subject = id || slugify(title, 'incident');
    const answer = await postEvent({ source: `/regions/${id ? incidentRegion(incident) : picker.source()}`,
      type: eventType(id ? 'incident.updated' : 'incident.opened'), subject, data });
    submitBusy(submit, false, id ? t('saveIncident') : t('openIncident'));
    if (!answer.ok) {
      const errors = problemErrors(answer);
      showErrors(form, 'inc-errors', t('locationRefused'), errors, { fieldOf, labelOf, failure: errors.length ? null : problemText(answer) });
      return;
    }
    closeDialog();
    setStatus(t(id ? 'incidentSaved' : 'incidentOpened', title, fmtClock(new Date(), true)));
    redraw();
  });
  openDialog(id ? t('incidentFormEdit', i.name || id) : t('incidentFormNew'), form);
  name.focus();
}

// ---------------------------------------------------------------- thresholds

function thresholdRegion() {
  const codes = shownCodes();
  if (!codes.includes(admin.thresholdRegion)) admin.thresholdRegion = codes[0] || null;
  return admin.thresholdRegion;
}

/** A threshold's default: what the server's vocabulary says of the key (none said: unknown). */
function thresholdDefault(key) {
  const entry = state.vocab && state.vocab.vocabularies && state.vocab.vocabularies.ThresholdKey
    && state.vocab.vocabularies.ThresholdKey[key];
  return entry && Number.isFinite(entry.default) ? entry.default : null;
}

function thresholdsScreen() {
  const code = thresholdRegion();
  if (!code) return [];
  const current = (state.regions[code] && state.regions[code].thresholds) || {};
  const codes = shownCodes();
  const select = el('select', { id: 'thr-region', 'data-focus': 'thr-region' }, codes.map((c) => el('option', { value: c, selected: c === code }, regionName(c))));
  select.addEventListener('change', () => { admin.thresholdRegion = select.value; admin.drafts = {}; admin.thresholdErrors = {}; redraw(); });
  const rows = order('ThresholdKey').map((key) => {
    const now = has(current, key) ? current[key] : null;
    const input = el('input', { type: 'number', id: `thr-${key}`, min: 0, step: 1, inputmode: 'numeric', value: admin.drafts[key] ?? '',
      placeholder: now === null ? null : String(now),
      'data-focus': `thr-${key}`, 'aria-describedby': `thr-${key}-error`, 'aria-invalid': admin.thresholdErrors[key] ? 'true' : null });
    input.addEventListener('input', () => { admin.drafts[key] = input.value; });
    const def = thresholdDefault(key);
    return el('tr', { 'data-threshold': key, 'data-changed': def !== null && now !== null && now !== def ? 'true' : null },
      el('th', { scope: 'row' }, el('label', { for: `thr-${key}` }, label('ThresholdKey', key))),
      el('td', { class: 'num' }, def === null ? el('span', { class: 'meta' }, t('defaultUnknown')) : fmtNum(def)),
      el('td', { class: 'num current', 'data-value': now ?? '' }, now === null ? '–' : fmtNum(now),
        def !== null && now !== null && now !== def ? el('span', { class: 'meta' }, ` (${t('notDefault')})`) : null),
      el('td', {}, input, el('span', { id: `thr-${key}-error`, class: 'field-error' }, admin.thresholdErrors[key] || '')));
  });
  const save = el('button', { type: 'submit', class: 'primary', id: 'thr-save', disabled: admin.busy.has('thresholds') },
    admin.busy.has('thresholds') ? t('sendingShort') : t('saveThresholds'));
  const form = el('form', { id: 'thr-form', novalidate: true },
    el('div', { class: 'table-wrap' }, el('table', { class: 'grid admin-thresholds', id: 'admin-thresholds' },
      el('thead', {}, el('tr', {}, [t('colThreshold'), t('colDefault'), t('colCurrent'), t('colNew')].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))),
    el('div', { id: 'thr-errors', role: 'alert' }, admin.thresholdFailure
      ? el('div', { class: 'error-summary' }, el('p', {}, t('thresholdsRefused')), el('ul', {}, admin.thresholdFailure.map((line) => el('li', {}, line)))) : ''),
    el('div', { class: 'save-row' }, save, el('span', { class: 'meta admin-asof' })));
  form.addEventListener('submit', (event) => { event.preventDefault(); saveThresholds(code); });
  return [
    el('div', { class: 'admin-head' }, codes.length > 1 ? el('div', { class: 'field' }, el('label', { for: 'thr-region' }, t('thresholdsFor')), select)
      : el('p', {}, `${t('thresholdsFor')} ${regionName(code)}`)),
    el('p', { class: 'meta' }, t('thresholdsNote')),
    form,
  ];
}

async function saveThresholds(code) {
  // A copy: the stream changes the view's thresholds while the answer is on its way.
  const current = Object.assign({}, state.regions[code] && state.regions[code].thresholds);
  const changed = Object.entries(admin.drafts).filter(([key, v]) => String(v).trim() !== '' && typedNumber(v) !== current[key]);
  admin.thresholdErrors = {};
  admin.thresholdFailure = null;
  if (!changed.length) { setStatus(t('nothingChanged'), false); redraw(); return; }
  admin.busy.add('thresholds');
  redraw();
  const answer = await postEvents(changed.map(([key, v]) => ({ source: `/regions/${code}`, type: eventType('threshold.set'), subject: key,
    data: { value: typedNumber(v) } })));
  admin.busy.delete('thresholds');
  const saved = [];
  const failures = [];
  if (!answer.ok) {
    failures.push(problemText(answer));
  } else {
    for (const result of answer.body.results || []) {
      const [key, v] = changed[result.index];
      if (result.status === 'rejected') {
        const errors = (result.problem && result.problem.errors) || [];
        const text = errors.length ? errors.map(errorMessage).join(' ') : (result.problem && (result.problem.detail || result.problem.title)) || '';
        admin.thresholdErrors[key] = text;
        failures.push(`${label('ThresholdKey', key)}: ${text}`);
      } else {
        saved.push(`${label('ThresholdKey', key)} ${has(current, key) ? fmtNum(current[key]) : '–'} → ${fmtNum(typedNumber(v))}`);
        delete admin.drafts[key];
      }
    }
  }
  admin.thresholdFailure = failures.length ? failures : null;
  setStatus(saved.length ? t('thresholdsSaved', saved.join('; '), fmtClock(new Date(), true)) : '', true);
  redraw();
  const firstBad = Object.keys(admin.thresholdErrors)[0];
  if (firstBad && $(`thr-${firstBad}`)) $(`thr-${firstBad}`).focus();
}

// ---------------------------------------------------------------- registry and contacts

/** Fetches the registry (and the contacts' summary): when the screen opens, after a change, and when the picture's locations change. */
async function loadRegistry() {
  const r = admin.registry || (admin.registry = { locations: null, error: null, loading: null, fetchedAt: 0 });
  if (r.loading) return r.loading;
  r.loading = (async () => {
    const answer = await api('GET', '/v1/registry/locations');
    if (answer.ok && answer.body && Array.isArray(answer.body.locations)) {
      r.locations = answer.body.locations;
      r.error = null;
      r.fetchedAt = Date.now();
    } else {
      r.error = problemText(answer);
    }
    r.loading = null;
    redraw();
    if (r.locations && (may('read_contacts') || may('write_contacts'))) loadContactsSummary();
  })();
  return r.loading;
}

/** Whether each location's contacts need checking, as the server judges it: one call per region. */
async function loadContactsSummary() {
  const locations = (admin.registry && admin.registry.locations) || [];
  const regions = [...new Set(locations.map((l) => l.region))].filter((r) => ((state.me && state.me.regions) || []).includes(r) || state.me.national);
  const summary = { verify_within_days: null, locations: {} };
  for (const region of regions) {
    const answer = await api('GET', `/v1/registry/contacts?region=${encodeURIComponent(region)}`);
    if (!answer.ok || !answer.body) continue;
    summary.verify_within_days = num(answer.body.verify_within_days) || summary.verify_within_days;
    Object.assign(summary.locations, answer.body.locations || {});
  }
  admin.contacts = summary;
  redraw();
}

function isStale(date) { return !!date && daysSince(date) > verifyWithinDays(); }

/** The organisations' names, from the picture (the registry lists their codes). */
function organisationNames() {
  const names = {};
  for (const view of Object.values(state.regions)) {
    for (const loc of Object.values((view && view.locations) || {})) if (loc.organisation && loc.organisation_name) names[loc.organisation] = loc.organisation_name;
  }
  for (const [code, name] of Object.entries(admin.newOrganisations || {})) names[code] ??= name;
  return names;
}

function registryRows() {
  const codes = new Set(shownCodes());
  return ((admin.registry && admin.registry.locations) || []).filter((l) => codes.has(l.region));
}

function contactsCell(l) {
  const s = admin.contacts && admin.contacts.locations[l.id];
  if (!s) return el('td', { class: 'contacts-cell', 'data-contacts': 'unknown' }, el('span', { class: 'meta' }, admin.contacts ? t('contactsLoading') : t('contactsUnknown')));
  const stale = s.stale || isStale(s.oldest_verified_on);
  return el('td', { class: 'contacts-cell', 'data-contacts': num(s.contacts), 'data-stale': stale ? 'true' : null },
    s.contacts ? t('contactsN', num(s.contacts)) : el('span', { class: 'meta' }, t('registryContactsNone')),
    s.oldest_verified_on ? el('div', { class: 'meta' }, t('oldestVerified', fmtDate(s.oldest_verified_on)), ` (${t('daysAgo', daysSince(s.oldest_verified_on))})`) : null,
    stale ? el('div', {}, staleFlag()) : null);
}

function staleFlag() {
  return el('span', { class: 'stale-flag', title: t('staleFlag', fmtNum(verifyWithinDays())) },
    el('span', { class: 'icon', 'aria-hidden': 'true' }, ICON.aandacht), ' ', t('needsCheck'));
}

function registryScreen() {
  const r = admin.registry;
  const head = el('div', { class: 'admin-head' });
  if (may('register')) {
    const add = el('button', { type: 'button', class: 'primary', id: 'admin-new-location', 'data-focus': 'admin-new-location' }, t('addLocation'));
    add.addEventListener('click', () => openLocationForm(null));
    head.append(add);
  }
  if (!r || (!r.locations && !r.error)) return [head, el('p', { class: 'meta' }, t('registryLoadingList'))];
  if (!r.locations) return [head, el('p', { class: 'error' }, t('registryFailed', r.error))];
  const names = organisationNames();
  const rows = registryRows().sort((a, b) => compareText(names[a.organisation] || a.organisation, names[b.organisation] || b.organisation) ||
    compareText(a.name, b.name));
  const organisations = new Set(rows.map((l) => l.organisation));
  const stale = rows.filter((l) => { const s = admin.contacts && admin.contacts.locations[l.id]; return s && (s.stale || isStale(s.oldest_verified_on)); });
  const showContacts = may('read_contacts') || may('write_contacts');
  head.append(el('span', { class: 'meta' }, t('registryCounts', fmtNum(rows.length), fmtNum(organisations.size)), ' · ',
    t('registryAsOf', fmtClock(r.fetchedAt, true)), ' ', liveAge(r.fetchedAt)));
  const body = rows.map((l) => {
    const actions = [];
    if (may('register')) {
      const edit = el('button', { type: 'button', class: 'small', 'data-edit-location': l.id, 'data-focus': `edit-location:${l.id}` }, t('editLocation'));
      edit.addEventListener('click', () => openLocationForm(l));
      actions.push(edit);
    }
    if (showContacts) {
      const contacts = el('button', { type: 'button', class: 'small', 'data-edit-contacts': l.id, 'data-focus': `contacts:${l.id}` },
        may('write_contacts') ? t('editContacts') : t('viewContacts'));
      contacts.addEventListener('click', () => openContacts(l));
      actions.push(contacts);
    }
    const s = admin.contacts && admin.contacts.locations[l.id];
    return el('tr', { 'data-location': l.id, 'data-stale': s && (s.stale || isStale(s.oldest_verified_on)) ? 'true' : null },
      el('th', { scope: 'row' }, el('strong', {}, l.name || l.id), el('div', { class: 'meta' }, l.id)),
      el('td', {}, names[l.organisation] || l.organisation, names[l.organisation] ? el('div', { class: 'meta' }, l.organisation) : null),
      el('td', {}, label('LocationType', l.type), el('div', { class: 'meta' }, label('Category', l.category))),
      el('td', {}, l.municipality || '–', el('div', { class: 'meta' }, l.region)),
      el('td', { class: 'nw' }, l.point ? `${fmtCoord(l.point.lat)}, ${fmtCoord(l.point.lon)}` : '–'),
      showContacts ? contactsCell(l) : null,
      el('td', {}, el('div', { class: 'row-actions' }, actions)));
  });
  return [
    head,
    showContacts ? el('p', { class: 'meta' }, t('verifyRule', fmtNum(verifyWithinDays())),
      stale.length ? [' ', el('strong', { class: 'stale-count', 'data-stale': stale.length }, t('staleCount', stale.length))] : null) : null,
    rows.length ? el('div', { class: 'table-wrap' }, el('table', { class: 'grid admin-registry', id: 'admin-registry' },
      el('thead', {}, el('tr', {}, [t('colLocation'), t('colOrganisation'), t('colType'), t('colMunicipality'), t('colPoint'),
        showContacts ? t('colContacts') : null, t('colActions')].filter(Boolean).map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, body))) : el('p', { class: 'meta' }, t('registryEmpty')),
  ];
}

/** The category a location type falls in: the vocabulary's word, else what the registry shows for that type. */
function categoryOf(type) {
  const entry = state.vocab && state.vocab.vocabularies.LocationType && state.vocab.vocabularies.LocationType[type];
  if (entry && entry.category) return entry.category;
  const known = ((admin.registry && admin.registry.locations) || []).find((l) => l.type === type && l.category);
  return known ? known.category : null;
}

/** The location types for a select, grouped by category where the category is known. */
function typeOptions(selected) {
  const groups = {};
  const loose = [];
  for (const type of order('LocationType')) {
    const cat = categoryOf(type);
    const option = el('option', { value: type, selected: type === selected }, label('LocationType', type));
    if (cat) (groups[cat] ||= []).push(option); else loose.push(option);
  }
  return [...order('Category').filter((c) => groups[c]).map((c) => el('optgroup', { label: label('Category', c) }, groups[c])), ...loose];
}

/** The location form: new (`l` null) or changing a registered one (its code stays). */
function openLocationForm(l) {
  const loc = l || {};
  const mine = (state.me && state.me.regions) || [];
  const names = organisationNames();
  const known = [...new Set(((admin.registry && admin.registry.locations) || []).map((x) => x.organisation))]
    .sort((a, b) => compareText(names[a] || a, names[b] || b));
  const NEW_ORG = '';
  const name = el('input', { type: 'text', maxlength: 200, required: true, value: loc.name || '' });
  const code = el('input', { type: 'text', maxlength: 64, value: loc.id || '', readonly: !!l, spellcheck: 'false', autocapitalize: 'off' });
  let codeTyped = !!l;
  code.addEventListener('input', () => { codeTyped = true; });
  name.addEventListener('input', () => { if (!codeTyped) code.value = slugBase(name.value, ''); });
  const organisation = el('select', {}, known.map((o) => el('option', { value: o, selected: o === loc.organisation }, names[o] ? `${names[o]} (${o})` : o)),
    el('option', { value: NEW_ORG, selected: !l && !known.length }, t('newOrganisation')));
  const orgCode = el('input', { type: 'text', maxlength: 64, spellcheck: 'false', autocapitalize: 'off' });
  const orgName = el('input', { type: 'text', maxlength: 200 });
  const newOrg = el('div', { class: 'field-row new-org' }, field('loc-f-org-name', t('fOrgName'), orgName), field('loc-f-org-id', t('fOrgId'), orgCode));
  let orgCodeTyped = false;
  orgCode.addEventListener('input', () => { orgCodeTyped = true; });
  orgName.addEventListener('input', () => { if (!orgCodeTyped) orgCode.value = slugBase(orgName.value, ''); });
  const showNewOrg = () => { newOrg.hidden = organisation.value !== NEW_ORG; };
  organisation.addEventListener('change', showNewOrg);
  if (!l && known.length) organisation.value = known[0];
  showNewOrg();
  const type = el('select', {}, typeOptions(loc.type || 'ziekenhuis'));
  const category = el('span', { id: 'loc-category', class: 'meta' });
  const showCategory = () => { const c = categoryOf(type.value); category.textContent = c ? `${t('fCategory')}: ${label('Category', c)}` : ''; };
  type.addEventListener('change', showCategory);
  showCategory();
  const region = el('select', { disabled: !!l }, mine.map((r) => el('option', { value: r, selected: r === (loc.region || shownCodes()[0]) }, regionName(r))));
  const municipalities = [...new Set(((admin.registry && admin.registry.locations) || []).map((x) => x.municipality).filter(Boolean))].sort(compareText);
  const municipality = el('input', { type: 'text', maxlength: 200, list: 'loc-municipalities', value: loc.municipality || '' });
  const address = el('input', { type: 'text', maxlength: 200, value: loc.address || '' });
  const lat = el('input', { type: 'number', step: 'any', min: 50, max: 54, inputmode: 'decimal', value: loc.point ? loc.point.lat : '' });
  const lon = el('input', { type: 'number', step: 'any', min: 3, max: 8, inputmode: 'decimal', value: loc.point ? loc.point.lon : '' });
  const mapBox = el('div', { id: 'loc-map' });
  const drawMap = () => {
    const la = typedNumber(lat.value);
    const lo = typedNumber(lon.value);
    const chosen = typeof la === 'number' && typeof lo === 'number' ? [{ id: loc.id || 'nieuw', lat: la, lon: lo, kind: 'in', icon: '✓', name: name.value || t('fLocName') }] : [];
    const others = ((admin.registry && admin.registry.locations) || []).filter((x) => x.point && x.id !== loc.id && x.region === region.value)
      .map((x) => ({ id: x.id, lat: x.point.lat, lon: x.point.lon, kind: 'out', icon: '', name: x.name || x.id }));
    mapBox.replaceChildren(areaMap({ points: others.concat(chosen), area: null, caption: t('pointMap'), rerender: drawMap,
      onPick: (pla, plo) => { lat.value = pla; lon.value = plo; drawMap(); } }));
  };
  for (const input of [lat, lon]) input.addEventListener('input', drawMap);
  region.addEventListener('change', drawMap);
  const submit = el('button', { type: 'submit', class: 'primary', id: 'loc-submit' }, t('saveLocation'));
  const form = el('form', { id: 'loc-form', class: 'admin-form', novalidate: true },
    el('div', { class: 'field-row' }, field('loc-f-name', t('fLocName'), name), field('loc-f-id', t('fLocId'), code, t('fLocIdHint'))),
    el('div', { class: 'field-row' }, field('loc-f-organisation', t('fOrganisation'), organisation)),
    newOrg,
    el('div', { class: 'field-row' }, el('div', {}, field('loc-f-type', t('fType'), type), category), field('loc-f-region', t('fRegion'), region)),
    el('div', { class: 'field-row' }, field('loc-f-municipality', t('fMunicipality'), municipality), field('loc-f-address', t('fAddress'), address)),
    el('datalist', { id: 'loc-municipalities' }, municipalities.map((m) => el('option', { value: m }))),
    el('fieldset', { class: 'choices point-picker' }, el('legend', {}, t('colPoint')),
      el('p', { class: 'meta' }, t('pointHint')),
      mapBox,
      el('div', { class: 'field-row' }, field('loc-f-lat', t('fPointLat'), lat), field('loc-f-lon', t('fPointLon'), lon))),
    el('div', { id: 'loc-errors', role: 'alert' }),
    el('div', { class: 'save-row' }, submit));
  drawMap();
  const labelOf = (fid) => labelFor(fid);
  /** Field paths of the location's event (index 1 of the batch when a new organisation goes first). */
  const fieldOf = (path, isOrg) => {
    if (isOrg) return path === 'subject' ? 'loc-f-org-id' : 'loc-f-org-name';
    if (path === 'source') return 'loc-f-id';
    if (path.startsWith('data.point')) return /lon/.test(path) ? 'loc-f-lon' : 'loc-f-lat';
    const m = /^data\.([a-z_]+)/.exec(path);
    return m ? `loc-f-${m[1]}` : null;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const mineErrors = [];
    const id = code.value.trim();
    if (!name.value.trim()) mineErrors.push({ field: 'data.name', text: t('needLocName') });
    if (!l && ((admin.registry && admin.registry.locations) || []).some((x) => x.id === id)) mineErrors.push({ field: 'source', text: t('idTaken') });
    if (lat.value.trim() === '' || lon.value.trim() === '') mineErrors.push({ field: 'data.point.lat', text: t('needPoint') });
    const isNewOrg = organisation.value === NEW_ORG;
    if (isNewOrg && !orgName.value.trim()) mineErrors.push({ field: 'org', text: t('needOrgName') });
    if (mineErrors.length) {
      showErrors(form, 'loc-errors', t('locationRefused'), mineErrors, { fieldOf: (p) => (p === 'org' ? 'loc-f-org-name' : fieldOf(p)), labelOf });
      return;
    }
    const orgId = isNewOrg ? orgCode.value.trim() : organisation.value;
    // A change keeps what the form does not show (ROAZ, report intervals) as registered.
    const data = Object.assign({}, l ? pick(l, ['roaz', 'report_interval_cold_minutes', 'report_interval_warm_minutes']) : {}, {
      name: name.value.trim(), organisation: orgId, type: type.value, region: region.value,
      point: { lat: typedNumber(lat.value), lon: typedNumber(lon.value) },
    });
    if (municipality.value.trim()) data.municipality = municipality.value.trim();
    if (address.value.trim()) data.address = address.value.trim();
    const events = [];
    if (isNewOrg) events.push({ source: `/regions/${region.value}`, type: eventType('organisation.registered'), subject: orgId, data: { name: orgName.value.trim() } });
    events.push({ source: `/locations/${id}`, type: eventType('location.registered'), data });
    submitBusy(submit, true);
    const answer = await postEvents(events);
    submitBusy(submit, false, t('saveLocation'));
    const results = answer.ok && answer.body && Array.isArray(answer.body.results) ? answer.body.results : [];
    const rejected = results.filter((r) => r.status === 'rejected');
    if (!answer.ok || rejected.length) {
      const errors = [];
      const problems = [];
      for (const r of rejected) {
        const isOrg = isNewOrg && r.index === 0;
        const list = (r.problem && r.problem.errors) || [];
        for (const e of list) errors.push(Object.assign({}, e, { field: isOrg ? `org:${e.field}` : e.field }));
        if (!list.length) problems.push((r.problem && (r.problem.detail || r.problem.title)) || '');
      }
      showErrors(form, 'loc-errors', t('locationRefused'), errors, {
        fieldOf: (p) => (p.startsWith('org:') ? fieldOf(p.slice(4), true) : fieldOf(p)), labelOf,
        failure: !answer.ok ? problemText(answer) : problems.filter(Boolean).join(' ') || null });
      return;
    }
    if (isNewOrg) (admin.newOrganisations ||= {})[orgId] = orgName.value.trim();
    closeDialog();
    setStatus(t('locationSaved', data.name, fmtClock(new Date(), true)));
    loadRegistry();
  });
  openDialog(l ? t('locationFormEdit', l.name || l.id) : t('locationFormNew'), form);
  name.focus();
}

function pick(obj, keys) {
  const out = {};
  for (const k of keys) if (has(obj, k) && obj[k] !== null && obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** A location's 24/7 contacts: editable for who may keep them, read-only for who may read them. */
async function openContacts(l) {
  const body = el('div', { id: 'ct-body' }, el('p', { class: 'meta' }, t('contactsLoading')));
  openDialog(t('contactsTitle', l.name || l.id), body);
  const answer = await api('GET', `/v1/registry/locations/${encodeURIComponent(l.id)}/contacts`);
  if (!answer.ok) { body.replaceChildren(el('p', { class: 'error' }, t('contactsFailed', problemText(answer)))); return; }
  if (num(answer.body.verify_within_days) && admin.contacts) admin.contacts.verify_within_days = num(answer.body.verify_within_days);
  const contacts = (answer.body.contacts || []).map((c) => Object.assign({}, c));
  if (may('write_contacts')) renderContactsForm(l, body, contacts);
  else body.replaceChildren(el('p', { class: 'meta' }, t('contactsReadOnly')), contactsList(contacts));
}

function verifiedNote(date) {
  if (!date) return null;
  const days = daysSince(date);
  return el('span', { class: 'verified-note', 'data-stale': isStale(date) ? 'true' : null },
    Number.isFinite(days) ? t('daysAgo', days) : '', isStale(date) ? [' ', staleFlag()] : null);
}

function contactsList(contacts) {
  if (!contacts.length) return el('p', { class: 'meta' }, t('registryContactsNone'));
  return el('ul', { class: 'contacts list' }, contacts.map((c) => el('li', { 'data-contact-role': c.role, 'data-stale': isStale(c.verified_on) ? 'true' : null },
    el('strong', {}, label('ContactRole', c.role)), ': ', c.name, ' · ', el('a', { href: `tel:${String(c.phone_24_7).replace(/[^+\d]/g, '')}`, class: 'tel' }, c.phone_24_7),
    c.fallback ? ` · ${c.fallback}` : '', c.email ? ` · ${c.email}` : '',
    el('div', { class: 'meta' }, `${t('fVerified')} ${fmtDate(c.verified_on)} `, verifiedNote(c.verified_on)))));
}

function renderContactsForm(l, body, contacts) {
  const fields = ['name', 'phone_24_7', 'fallback', 'email'];
  const labels = { name: t('fContactName'), phone_24_7: t('fPhone'), fallback: t('fFallback'), email: t('fEmail') };
  const rows = contacts.map((c, i) => {
    const role = el('select', {}, order('ContactRole').map((r) => el('option', { value: r, selected: r === c.role }, label('ContactRole', r))));
    role.addEventListener('change', () => { c.role = role.value; });
    const inputs = fields.map((f) => {
      const input = el('input', { type: f === 'email' ? 'email' : f === 'phone_24_7' ? 'tel' : 'text', value: c[f] || '',
        maxlength: { name: 100, phone_24_7: 40, fallback: 200, email: 254 }[f], autocomplete: 'off' });
      input.addEventListener('input', () => { c[f] = input.value; });
      return field(`ct-${i}-${f}`, labels[f], input);
    });
    const verified = el('input', { type: 'date', value: c.verified_on || '', max: today() });
    const note = el('span', { class: 'verified-slot' }, verifiedNote(c.verified_on));
    const row = el('fieldset', { class: 'contact-row', 'data-contact-index': i });
    const showVerified = () => {
      note.replaceChildren(verifiedNote(c.verified_on) || '');
      if (isStale(c.verified_on)) row.dataset.stale = 'true'; else delete row.dataset.stale;
    };
    showVerified();
    verified.addEventListener('input', () => { c.verified_on = verified.value; showVerified(); });
    const checked = el('button', { type: 'button', class: 'small', 'data-verified-today': i }, t('verifiedToday'));
    checked.addEventListener('click', () => { c.verified_on = verified.value = today(); showVerified(); });
    const remove = el('button', { type: 'button', class: 'small', 'data-remove-contact': i }, t('removeContact'));
    remove.addEventListener('click', () => { contacts.splice(i, 1); renderContactsForm(l, body, contacts); });
    row.append(
      el('legend', {}, t('contactN', i + 1)),
      el('div', { class: 'field-grid' }, field(`ct-${i}-role`, t('fRole'), role), inputs,
        el('div', {}, field(`ct-${i}-verified_on`, t('fVerified'), verified), el('div', { class: 'one-click' }, checked, note))),
      el('div', { class: 'one-click' }, remove));
    return row;
  });
  const add = el('button', { type: 'button', id: 'ct-add' }, t('addContact'));
  add.addEventListener('click', () => {
    const used = new Set(contacts.map((c) => c.role));
    contacts.push({ role: order('ContactRole').find((r) => !used.has(r)) || order('ContactRole')[0], name: '', phone_24_7: '', verified_on: today() });
    renderContactsForm(l, body, contacts);
    const focus = $(`ct-${contacts.length - 1}-name`);
    if (focus) focus.focus();
  });
  const submit = el('button', { type: 'submit', class: 'primary', id: 'ct-save' }, t('saveContacts'));
  const form = el('form', { id: 'ct-form', class: 'admin-form', novalidate: true },
    el('p', { class: 'meta' }, t('verifyRule', fmtNum(verifyWithinDays()))),
    rows.length ? rows : el('p', { class: 'meta' }, t('noContactsYet')),
    el('div', { class: 'one-click' }, add),
    el('div', { id: 'ct-errors', role: 'alert' }),
    el('div', { class: 'save-row' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const list = contacts.map((c) => {
      const out = { role: c.role, name: (c.name || '').trim(), phone_24_7: (c.phone_24_7 || '').trim(), verified_on: c.verified_on || '' };
      if ((c.fallback || '').trim()) out.fallback = c.fallback.trim();
      if ((c.email || '').trim()) out.email = c.email.trim();
      return out;
    });
    submitBusy(submit, true);
    const answer = await api('PUT', `/v1/registry/locations/${encodeURIComponent(l.id)}/contacts`, { contacts: list });
    submitBusy(submit, false, t('saveContacts'));
    if (!answer.ok) {
      const errors = problemErrors(answer);
      showErrors(form, 'ct-errors', t('contactsRefused'), errors, {
        fieldOf: (p) => { const m = /^contacts\[(\d+)\]\.([a-z_0-9]+)/.exec(p); return m ? `ct-${m[1]}-${m[2]}` : null; },
        labelOf: (fid) => { const m = /^ct-(\d+)-/.exec(fid); const own = labelFor(fid); return m && own ? `${t('contactN', Number(m[1]) + 1)}, ${own}` : own; },
        failure: errors.length ? null : problemText(answer) });
      return;
    }
    closeDialog();
    setStatus(t('contactsSaved', l.name || l.id, fmtClock(new Date(), true)));
    redraw();
    loadContactsSummary();
  });
  keepFocus(body, () => body.replaceChildren(form));
}

// ---------------------------------------------------------------- the exercise

function exerciseScreen() {
  const p = admin.prepare || {};
  const button = el('button', { type: 'button', class: 'primary', id: 'oto-prepare', 'data-focus': 'oto-prepare', disabled: !!p.busy },
    p.busy ? t('preparing') : t('prepareExercise'));
  button.addEventListener('click', prepareExercise);
  const count = admin.registry && admin.registry.locations ? admin.registry.locations.length : null;
  let result = null;
  if (p.result) result = el('p', { class: 'receipt', id: 'oto-result', 'data-locations': num(p.result.locations) },
    t('prepared', fmtNum(p.result.organisations), fmtNum(p.result.locations), fmtNum(p.result.already), fmtClock(p.at, true)));
  else if (p.error) result = el('p', { class: 'receipt error', id: 'oto-result' }, t('prepareFailed', p.error));
  return [
    el('p', {}, t('exerciseIntro')),
    count === null ? null : el('p', { class: 'meta', id: 'oto-count', 'data-count': count }, t('exerciseCount', fmtNum(count))),
    el('div', { class: 'save-row' }, button),
    result,
  ];
}

async function prepareExercise() {
  admin.prepare = { busy: true };
  redraw();
  const answer = await api('POST', '/v1/oefening/prepare');
  admin.prepare = { busy: false, at: Date.now() };
  if (answer.ok && answer.body) admin.prepare.result = answer.body;
  else admin.prepare.error = problemText(answer);
  redraw();
  if (answer.ok) loadRegistry();
}

// ---------------------------------------------------------------- the section

/** The screens this token may use, in the order of the tabs. */
function screens() {
  const list = [];
  if (may('manage_incidents')) list.push(['incidents', 'tabIncidents', incidentsScreen]);
  if (may('set_thresholds')) list.push(['thresholds', 'tabThresholds', thresholdsScreen]);
  if (may('register') || may('write_contacts')) list.push(['registry', 'tabRegistry', registryScreen]);
  if (state.me && state.me.scope === 'oefening' && may('register')) list.push(['exercise', 'tabExercise', exerciseScreen]);
  return list;
}

function selectTab(id) {
  admin.tab = id;
  if ((id === 'registry' || id === 'exercise') && !(admin.registry && admin.registry.locations)) loadRegistry();
  redraw();
  const tab = $(`admin-tab-${id}`);
  if (tab) tab.focus();
}

let lastSignature = '';
let lastLocations = '';

function redraw() { lastSignature = ''; renderAdmin(); }

/**
 * The Beheer section: drawn again only when what it shows changed (ages tick by themselves),
 * so a value being typed or a confirmation being asked survives the picture's updates.
 */
export function renderAdmin() {
  const section = $('admin');
  const list = state.me ? screens() : [];
  section.hidden = !list.length;
  if (!list.length) return;
  if (!list.some(([id]) => id === admin.tab)) admin.tab = list[0][0];
  if ((admin.tab === 'registry' || admin.tab === 'exercise') && !admin.registry) loadRegistry();
  // A location registered or changed elsewhere shows in the picture first: fetch the registry again.
  const locations = JSON.stringify(Object.values(state.regions).map((v) => Object.keys((v && v.locations) || {}).length));
  if (admin.registry && admin.registry.locations && locations !== lastLocations && lastLocations) loadRegistry();
  lastLocations = locations;
  const regions = shownRegions();
  const tabData = admin.tab === 'incidents' ? regions.map(([c, v]) => [c, v && v.incidents])
    : admin.tab === 'thresholds' ? regions.map(([c, v]) => [c, v && v.thresholds])
      : regions.map(([c, v]) => [c, Object.entries((v && v.locations) || {}).map(([id, l]) => [id, l.organisation_name])]);
  const signature = JSON.stringify([state.lang, admin.tab, list.map(([id]) => id), tabData, admin.closing, admin.closedShown, [...admin.busy],
    admin.thresholdRegion, admin.thresholdErrors, admin.thresholdFailure, admin.registry && [admin.registry.fetchedAt, admin.registry.error],
    admin.contacts, admin.prepare, state.vocab ? 1 : 0]);
  if (signature !== lastSignature) {
    lastSignature = signature;
    const tabs = list.map(([id, key]) => {
      const tab = el('button', { type: 'button', role: 'tab', id: `admin-tab-${id}`, 'aria-selected': String(admin.tab === id),
        'aria-controls': 'admin-body', tabindex: admin.tab === id ? '0' : '-1', 'data-tab': id, 'data-focus': `admin-tab-${id}` }, t(key));
      tab.addEventListener('click', () => selectTab(id));
      tab.addEventListener('keydown', (event) => {
        const at = list.findIndex(([x]) => x === id);
        const next = event.key === 'ArrowRight' ? list[(at + 1) % list.length] : event.key === 'ArrowLeft' ? list[(at - 1 + list.length) % list.length] : null;
        if (next) { event.preventDefault(); selectTab(next[0]); }
      });
      return tab;
    });
    $('admin-tabs').replaceChildren(...tabs);
    $('admin-body').setAttribute('aria-labelledby', `admin-tab-${admin.tab}`);
    $('admin-body').dataset.screen = admin.tab;
    const draw = list.find(([id]) => id === admin.tab)[2];
    keepFocus(section, () => $('admin-body').replaceChildren(...draw().filter(Boolean)));
  }
  const asOf = state.lastUpdate ? t('asOfPicture', fmtClock(state.lastUpdate, true)) : '';
  for (const node of document.querySelectorAll('#admin .admin-asof')) if (node.textContent !== asOf) node.textContent = asOf;
}

$('admin-dialog').querySelector('[data-close]').addEventListener('click', closeDialog);

on('signedOut', () => {
  Object.assign(admin, { tab: null, status: null, closing: null, drafts: {}, thresholdErrors: {}, thresholdFailure: null, registry: null,
    contacts: null, prepare: null, newOrganisations: null });
  admin.busy.clear();
  lastSignature = '';
  lastLocations = '';
  closeDialog();
  setStatus('');
});
