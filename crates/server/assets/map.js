// ghor — the map (issue 10): a zoomable, pannable map that works offline, drawn with the
// vendored Leaflet (leaflet.js, leaflet.markercluster.js and topojson-client.js are loaded
// by index.html as classic scripts before app.js, as globals `L` and `topojson`). No tile
// server: the base is the outline of the Netherlands (Natural Earth) and the 2025
// safety-region and municipality boundaries (CBS, PDOK), all shipped as assets, drawn as
// vector layers with their names at the zoom levels where they help. Over it: the areas of
// the active incidents with name and GRIP, and every location marked by its state with a
// shape, an icon and a colour (never colour alone), clustered when close together.
// A marker is a button: Enter or a click opens the location's detail panel. The map is
// built once and updated in place, so the user's zoom and pan survive the live updates.

import { $, t, el, num, label, badge, addTexts, statesWorstFirst, worstState, severity, state } from './core.js';
import { locationState } from './dashboard.js';
import { openDetail } from './detail.js';

addTexts({
  nl: {
    map: 'Kaart',
    mapCaption: (n) => `Kaart met ${n} locaties naar toestand en de gebieden van actieve incidenten; pijltjestoetsen verschuiven, plus en min zoomen`,
    mapNoLocations: 'Uw rol ziet geen locaties op de kaart; alleen de regio en de gebieden van actieve incidenten.',
    mapUnavailable: 'De kaart kon niet worden geladen (kaartbibliotheek ontbreekt). Herlaad de pagina; helpt dat niet, meld het aan de beheerder. De tabel met locaties werkt wel.',
    mapBaseFailed: 'De grenzen van regio\'s en gemeenten konden niet worden geladen; de kaart toont alleen locaties en incidentgebieden. Herlaad de pagina om het opnieuw te proberen.',
    incidentArea: 'Incidentgebied',
    legend: 'Legenda',
    cluster: (n, s) => `${n} locaties dicht bij elkaar, ergste toestand: ${s}. Kies om in te zoomen.`,
    clusterLegend: 'Aantal locaties dicht bij elkaar (vorm en kleur: de ergste toestand); zoom in om ze te scheiden',
    zoomIn: 'Inzoomen',
    zoomOut: 'Uitzoomen',
    mapAttribution: 'Grenzen: CBS, PDOK (CC BY 4.0); Natural Earth; Leaflet',
  },
  en: {
    map: 'Map',
    mapCaption: (n) => `Map of ${n} locations by state and the areas of active incidents; arrow keys pan, plus and minus zoom`,
    mapNoLocations: 'Your role sees no locations on the map; only the region and the areas of active incidents.',
    mapUnavailable: 'The map could not be loaded (map library missing). Reload the page; if that does not help, tell the administrator. The table of locations still works.',
    mapBaseFailed: 'The boundaries of regions and municipalities could not be loaded; the map shows only locations and incident areas. Reload the page to try again.',
    incidentArea: 'Incident area',
    legend: 'Legend',
    cluster: (n, s) => `${n} locations close together, worst state: ${s}. Choose to zoom in.`,
    clusterLegend: 'Number of locations close together (shape and colour: the worst state); zoom in to separate them',
    zoomIn: 'Zoom in',
    zoomOut: 'Zoom out',
    mapAttribution: 'Boundaries: CBS, PDOK (CC BY 4.0); Natural Earth; Leaflet',
  },
});

/** From which zoom level on (or below which) each kind of detail is shown. */
const ZOOM = { regionLabelsBelow: 10, municipalityLinesFrom: 8, municipalityLabelsFrom: 9, locationLabelsFrom: 12 };
/** The whole country, shown before anything else is known; panning stops a little beyond it. */
const NL_BOUNDS = [[50.75, 3.36], [53.56, 7.23]];
const MAX_BOUNDS = [[49.8, 1.5], [54.6, 8.9]];
/** Locations closer than this many screen pixels are shown as one cluster. */
const CLUSTER_RADIUS_PX = 40;

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// ---------------------------------------------------------------- state symbols

/** A state's shape in a 24×24 box: the shape tells the state without colour. */
function stateShape(s) {
  switch (s) {
    case 'kritiek': return svg('rect', { class: 'shape', x: 4.5, y: 4.5, width: 15, height: 15, transform: 'rotate(45 12 12)' });
    case 'aandacht': return svg('polygon', { class: 'shape', points: '12,1.5 23,21 1,21' });
    case 'verouderd': return svg('rect', { class: 'shape', x: 3, y: 3, width: 18, height: 18 });
    default: return svg('circle', { class: 'shape', cx: 12, cy: 12, r: 10 });
  }
}

/**
 * A state's icon as drawn lines (the text icons of core.js are for badges; ⌛ has no glyph
 * in Debian's fonts, so the map draws its own).
 */
function stateGlyph(s) {
  const line = (d) => svg('path', { class: 'glyph', d });
  switch (s) {
    case 'goed': return line('M7 12.5l3.3 3.3L17 9');
    case 'aandacht': return svg('g', {}, line('M12 8.5v6'), svg('circle', { class: 'glyph-dot', cx: 12, cy: 17.6, r: 1.4 }));
    case 'kritiek': return line('M8.8 8.8l6.4 6.4M15.2 8.8l-6.4 6.4');
    case 'verouderd': return line('M8 7h8M8 17h8M8.8 7.3c0 3.2 6.4 2.9 6.4 4.7s-6.4 1.5-6.4 4.7M15.2 7.3c0 3.2-6.4 2.9-6.4 4.7s6.4 1.5 6.4 4.7');
    default: return svg('g', {}, line('M9.4 9.6a2.7 2.7 0 1 1 3.9 2.4c-.9.5-1.3 1-1.3 1.9v.5'), svg('circle', { class: 'glyph-dot', cx: 12, cy: 17.4, r: 1.3 }));
  }
}

/** The symbol of a state (shape and icon), `size` px wide; `count` replaces the icon for a cluster. */
function stateSymbol(s, size, count) {
  return svg('svg', { class: 'state-symbol', 'data-state': s, viewBox: '0 0 24 24', width: size, height: size, 'aria-hidden': 'true', focusable: 'false' },
    stateShape(s),
    count === undefined ? stateGlyph(s)
      : svg('text', { class: 'count', x: 12, y: s === 'aandacht' ? 18 : 16, 'text-anchor': 'middle' }, String(count)));
}

/**
 * A marker's icon: a div whose contents are built here (never from HTML text), with the
 * attributes a test or a screen reader looks for.
 */
let ElementIconClass = null;
function elementIcon(options) {
  ElementIconClass = ElementIconClass || L.DivIcon.extend({
    createIcon(old) {
      const div = L.DivIcon.prototype.createIcon.call(this, old);
      for (const [k, v] of Object.entries(this.options.attributes || {})) div.setAttribute(k, v);
      return div;
    },
  });
  return new ElementIconClass(options);
}

/**
 * Whether the vendored libraries are there. Without them (an asset missing from the build)
 * the rest of the page still works, and the map says what is wrong instead.
 */
function librariesLoaded() {
  return typeof window.L === 'object' && typeof L.markerClusterGroup === 'function' && typeof window.topojson === 'object';
}

function unavailable() {
  return el('p', { class: 'map-unavailable', role: 'alert' }, t('mapUnavailable'));
}

function locationIcon(id, s, name) {
  const text = `${name}: ${label('State', s)}`;
  return elementIcon({
    className: 'marker', iconSize: [26, 26], iconAnchor: [13, 13],
    html: el('span', { class: 'marker-body' }, stateSymbol(s, 26), el('span', { class: 'map-label location-label' }, name)),
    attributes: { 'data-location': id, 'data-state': s, role: 'button', 'aria-label': text, title: text },
  });
}

function clusterIcon(cluster) {
  const states = cluster.getAllChildMarkers().map((m) => m.options.state);
  const s = worstState(states) || 'onbekend';
  const n = states.length;
  const text = t('cluster', n, label('State', s));
  return elementIcon({
    className: 'marker-cluster-ghor', iconSize: [38, 38], iconAnchor: [19, 19],
    html: stateSymbol(s, 38, n),
    attributes: { 'data-state': s, 'data-count': String(n), role: 'button', 'aria-label': text, title: text },
  });
}

function textLabel(kind, name, latlng) {
  return L.marker(latlng, {
    pane: 'labels', interactive: false, keyboard: false,
    icon: L.divIcon({ className: 'map-label-anchor', iconSize: [0, 0], html: el('span', { class: `map-label ${kind}` }, name) }),
  });
}

// ---------------------------------------------------------------- the shipped boundaries

let base = null;         // { outline, regions, municipalities } as GeoJSON, once loaded
let baseLoading = null;  // the promise while loading
let baseFailed = false;
const baseWaiting = new Set(); // maps to complete once the boundaries are there

async function fetchJson(file) {
  const res = await fetch(`/assets/${file}`);
  if (!res.ok) throw new Error(`${file}: HTTP ${res.status}`);
  return res.json();
}

/** Loads the boundaries once for every map; a failure is tried again at the next map update. */
function loadBase(map) {
  if (base) { queueMicrotask(() => map.addBase()); return; }
  baseWaiting.add(map);
  if (baseLoading) return;
  baseLoading = Promise.all(['nl-outline.geojson', 'veiligheidsregios-2025.topojson', 'gemeenten-2025.topojson'].map(fetchJson))
    .then(([outline, regions, municipalities]) => {
      const layer = (topo) => topojson.feature(topo, Object.values(topo.objects)[0]);
      base = { outline, regions: layer(regions), municipalities: layer(municipalities) };
      baseFailed = false;
      for (const m of baseWaiting) m.addBase();
      baseWaiting.clear();
    })
    .catch(() => { baseFailed = true; })
    .finally(() => { baseLoading = null; });
}

/** Where a feature's name goes: the centre of its largest ring, and that ring's area (for label priority). */
function labelPoint(feature) {
  const g = feature.geometry;
  const polygons = g.type === 'MultiPolygon' ? g.coordinates : [g.coordinates];
  let best = null;
  for (const rings of polygons) {
    const ring = rings[0];
    let a = 0; let cx = 0; let cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += f; cx += (ring[j][0] + ring[i][0]) * f; cy += (ring[j][1] + ring[i][1]) * f;
    }
    if (a && (!best || Math.abs(a) > best.area)) best = { area: Math.abs(a), latlng: [cy / (3 * a), cx / (3 * a)] };
  }
  return best;
}

function sameName(a, b) {
  return String(a).localeCompare(String(b), 'nl', { sensitivity: 'base' }) === 0;
}

// ---------------------------------------------------------------- one Leaflet map

/**
 * A Leaflet map in its own element, with the shipped boundaries, labels that show by zoom
 * level and give way to each other, a scale bar and the attribution. It follows its
 * element's size, and frames what it is asked to the first time it has a size.
 */
class OfflineMap {
  constructor(className) {
    this.element = el('div', { class: `ghor-map ${className}`, role: 'region' });
    const map = L.map(this.element, {
      minZoom: 6, maxZoom: 17, zoomSnap: 0.5, maxBounds: MAX_BOUNDS, maxBoundsViscosity: 0.8,
      attributionControl: false, zoomControl: false, keyboardPanDelta: 120,
    });
    this.map = map;
    map.createPane('base').style.zIndex = 250;
    map.createPane('labels').style.zIndex = 450;
    this.baseRenderer = L.svg({ pane: 'base', padding: 0.5 });
    this.zoomControl = L.control.zoom({ position: 'topleft' }).addTo(map);
    L.control.scale({ imperial: false, position: 'bottomleft', maxWidth: 140 }).addTo(map);
    this.attribution = L.control.attribution({ prefix: false, position: 'bottomright' }).addTo(map);
    this.attributionText = '';
    this.areaLayer = L.featureGroup().addTo(map);
    this.labelLayer = L.layerGroup().addTo(map);
    this.regionPaths = new Map(); // code → layer
    this.selectedRegions = [];
    this.labels = [];             // label spans in order of priority (municipalities by size, then regions)
    this.frame = null;            // bounds waiting to be framed, and whether it waits for the boundaries
    map.setView([52.15, 5.3], 7); // a view from the start: Leaflet ignores events on a map without one
    map.on('zoomend', () => this.zoomClasses());
    map.on('moveend zoomend', () => this.placeLabelsSoon());
    map.on('moveend', () => {
      const c = map.getCenter();
      this.element.dataset.zoom = String(map.getZoom());
      this.element.dataset.center = `${c.lat.toFixed(4)},${c.lng.toFixed(4)}`;
    });
    new ResizeObserver(() => this.resized()).observe(this.element);
    this.zoomClasses();
    this.texts();
    loadBase(this);
  }

  /** The texts of the controls, in the chosen language (again after a change). */
  texts() {
    const text = t('mapAttribution');
    if (text !== this.attributionText) {
      if (this.attributionText) this.attribution.removeAttribution(this.attributionText);
      this.attribution.addAttribution(text);
      this.attributionText = text;
    }
    const zoomIn = this.element.querySelector('.leaflet-control-zoom-in');
    const zoomOut = this.element.querySelector('.leaflet-control-zoom-out');
    for (const [button, key] of [[zoomIn, 'zoomIn'], [zoomOut, 'zoomOut']]) {
      if (button && button.title !== t(key)) { button.title = t(key); button.setAttribute('aria-label', t(key)); }
    }
    if (!base && baseFailed) loadBase(this);
  }

  hasSize() {
    return this.element.clientWidth > 0 && this.element.clientHeight > 0;
  }

  resized() {
    if (!this.hasSize()) return; // hidden or detached: keep the view for when it shows again
    this.map.invalidateSize();
    this.frameNow();
  }

  /** Frames `bounds` (a LatLngBounds, or null for the selected regions) now or once the map can. */
  frameSoon(bounds) {
    this.frame = { bounds };
    this.frameNow();
  }

  frameNow() {
    if (!this.frame || !this.hasSize()) return;
    let bounds = this.frame.bounds;
    if (!bounds || !bounds.isValid()) {
      bounds = this.regionBounds();
      if (bounds && this.areaLayer.getLayers().length) bounds.extend(this.areaLayer.getBounds());
      if (!bounds) {
        if (base || baseFailed) this.frame = null; // nothing to frame: the country stays
        return;
      }
    }
    this.frame = null;
    this.map.fitBounds(bounds, { padding: [28, 28], maxZoom: 13, animate: false });
  }

  regionBounds() {
    const layers = this.selectedRegions.map((code) => this.regionPaths.get(code)).filter(Boolean);
    return layers.length ? L.featureGroup(layers).getBounds() : null;
  }

  /** Draws the shipped boundaries and their names, once loaded. */
  addBase() {
    const renderer = this.baseRenderer;
    const common = { pane: 'base', renderer, interactive: false };
    L.geoJSON(base.outline, { ...common, className: 'land' }).addTo(this.map);
    L.geoJSON(base.municipalities, { ...common, className: 'municipality-boundary' }).addTo(this.map);
    const regions = L.geoJSON(base.regions, { ...common, className: 'region-boundary' }).addTo(this.map);
    regions.eachLayer((layer) => this.regionPaths.set(layer.feature.properties.statcode, layer));
    const municipalityLabels = base.municipalities.features
      .map((f) => ({ name: f.properties.statnaam, at: labelPoint(f) })).filter((m) => m.at)
      .sort((a, b) => b.at.area - a.at.area);
    for (const m of municipalityLabels) this.addLabel('municipality-label', m.name, m.at.latlng);
    for (const f of base.regions.features) {
      const at = labelPoint(f);
      const code = f.properties.statcode;
      const known = state.regions && state.regions[code];
      if (at) this.addLabel('region-label', (known && known.name) || f.properties.statnaam, at.latlng);
    }
    this.selectRegions(this.selectedRegions);
    this.baseAdded();
    this.frameNow();
    this.placeLabelsSoon();
  }

  /** Called when the boundaries are drawn: what depends on them is drawn again. */
  baseAdded() {}

  addLabel(kind, name, latlng) {
    const marker = textLabel(kind, name, latlng).addTo(this.labelLayer);
    this.labels.push(marker.getElement().firstElementChild);
  }

  /** Emphasises the boundaries of the regions shown. */
  selectRegions(codes) {
    this.selectedRegions = codes;
    for (const [code, layer] of this.regionPaths) {
      const path = layer.getElement();
      if (path) path.classList.toggle('selected', codes.includes(code));
      if (codes.includes(code)) layer.bringToFront();
    }
  }

  zoomClasses() {
    const z = this.map.getZoom();
    const c = this.element.classList;
    c.toggle('show-region-labels', z < ZOOM.regionLabelsBelow);
    c.toggle('show-municipalities', z >= ZOOM.municipalityLinesFrom);
    c.toggle('show-municipality-labels', z >= ZOOM.municipalityLabelsFrom);
    c.toggle('show-location-labels', z >= ZOOM.locationLabelsFrom);
  }

  placeLabelsSoon() {
    if (this.placing) return;
    this.placing = true;
    requestAnimationFrame(() => { this.placing = false; this.placeLabels(); });
  }

  /**
   * Hides the labels that would cover a marker or one drawn before them: incident areas'
   * first, then location names, then municipalities (the larger first), then regions.
   */
  placeLabels() {
    if (!this.hasSize()) return;
    const fixed = [...this.element.querySelectorAll('.area-label, .marker .state-symbol, .marker-cluster-ghor, .spot, .leaflet-control')];
    const candidates = [...this.element.querySelectorAll('.location-label'), ...this.labels];
    for (const node of candidates) node.classList.remove('label-hidden');
    const view = this.element.getBoundingClientRect();
    const rects = candidates.map((node) => node.getBoundingClientRect());
    const taken = fixed.map((node) => node.getBoundingClientRect()).filter((r) => r.width);
    const overlaps = (a, b) => a.left < b.right + 4 && b.left < a.right + 4 && a.top < b.bottom + 2 && b.top < a.bottom + 2;
    candidates.forEach((node, i) => {
      const r = rects[i];
      if (!r.width) return;
      const cut = r.left < view.left || r.right > view.right || r.top < view.top || r.bottom > view.bottom;
      if (cut || taken.some((o) => overlaps(r, o))) node.classList.add('label-hidden');
      else taken.push(r);
    });
  }

  /** The active incidents' areas, drawn again only when they changed. */
  drawAreas(incidents, locationsIn) {
    const signature = JSON.stringify([state.lang, !!base, incidents.map(([id, i]) => [id, i.name, i.grip, i.reported_by, i.area])]);
    if (signature === this.areaSignature) return;
    this.areaSignature = signature;
    this.areaLayer.clearLayers();
    for (const [id, i] of incidents) {
      const shapes = areaShapes(i.area || {}, i.reported_by, { className: 'incident-area', interactive: false }, () => locationsIn(id));
      if (!shapes.length) continue;
      const group = L.featureGroup(shapes).addTo(this.areaLayer);
      const mark = (layer) => {
        if (layer.eachLayer) layer.eachLayer(mark);
        else if (layer.getElement && layer.getElement()) layer.getElement().dataset.incident = id;
      };
      mark(group);
      const bounds = group.getBounds();
      L.tooltip({ permanent: true, direction: 'top', className: 'area-label', interactive: false, opacity: 1 })
        .setLatLng([bounds.getNorth(), bounds.getCenter().lng])
        .setContent(el('span', { 'data-incident': id }, `${i.name || id} · ${t('grip', num(i.grip))}`))
        .addTo(this.areaLayer);
    }
    this.placeLabelsSoon();
  }
}

/**
 * The shapes of an area (§3.2): its circle and polygon when drawn; else the boundaries of
 * the municipalities it names; else those of its regions (the one it is given in, and the
 * ones it lists). Without the boundaries (not loaded, or a name they lack) it is the
 * circle around `fallbackPoints()`, the locations known to be inside.
 */
function areaShapes(area, region, options, fallbackPoints) {
  const shapes = [];
  const c = area.circle;
  if (c) shapes.push(L.circle([num(c.center.lat), num(c.center.lon)], { ...options, radius: num(c.radius_km) * 1000 }));
  const corners = (area.polygon || []).map((p) => [num(p.lat), num(p.lon)]);
  if (corners.length >= 3) shapes.push(L.polygon(corners, options));
  else if (corners.length) shapes.push(L.polyline(corners, options));
  if (shapes.length) return shapes;
  if (base) {
    const features = (area.municipalities || []).length
      ? base.municipalities.features.filter((f) => area.municipalities.some((m) => sameName(m, f.properties.statnaam)))
      : base.regions.features.filter((f) => [region, ...(area.regions || [])].includes(f.properties.statcode));
    for (const f of features) shapes.push(L.geoJSON(f, options));
    if (shapes.length) return shapes;
  }
  const points = fallbackPoints();
  if (points.length) {
    const bounds = L.latLngBounds(points);
    const centre = bounds.getCenter();
    const radius = Math.max(1500, ...points.map((p) => centre.distanceTo(p) + 1000));
    shapes.push(L.circle(centre, { ...options, radius }));
  }
  return shapes;
}

// ---------------------------------------------------------------- the dashboard's map

/** The dashboard's map: one for the page's life, its layers updated in place. */
class DashboardMap extends OfflineMap {
  constructor() {
    super('dashboard-map');
    this.markers = new Map(); // location id → { marker, signature }
    this.clusters = L.markerClusterGroup({
      maxClusterRadius: CLUSTER_RADIUS_PX, showCoverageOnHover: false, spiderfyOnMaxZoom: true,
      disableClusteringAtZoom: 16, iconCreateFunction: clusterIcon,
    }).addTo(this.map);
    this.clusters.on('animationend', () => this.placeLabelsSoon());
    this.regionKey = null;
    this.userMoved = false;
    for (const kind of ['pointerdown', 'wheel', 'keydown']) this.element.addEventListener(kind, () => { this.userMoved = true; }, { capture: true, passive: true });
    this.legend = el('ul', { class: 'legend', 'aria-label': t('legend') });
    this.note = el('p', { class: 'meta map-note' });
  }

  baseAdded() {
    if (this.last) this.update(...this.last);
  }

  update(views) {
    this.last = [views];
    this.texts();
    const locations = views.flatMap(([code, v]) => Object.entries(v.locations || {}).map(([id, l]) => [id, l, code]))
      .filter(([, l]) => l.point);
    const seen = new Set();
    const incidents = views.flatMap(([, v]) => Object.entries(v.incidents || {}))
      .filter(([id, i]) => i.state === 'actief' && !seen.has(id) && seen.add(id));
    const codes = views.map(([code]) => code);
    this.element.setAttribute('aria-label', t('mapCaption', locations.length));

    this.updateMarkers(locations);
    this.drawAreas(incidents, (id) => locations.filter(([, l]) => (l.incidents || []).includes(id))
      .map(([, l]) => [num(l.point.lat), num(l.point.lon)]));

    // Framed when other regions are shown, and as the picture fills in until the user moves
    // the map; after that the view is the user's.
    const regionKey = codes.join(',');
    if (regionKey !== this.regionKey) {
      this.regionKey = regionKey;
      this.userMoved = false;
      this.frameKey = null;
      this.selectRegions(codes);
    }
    const frameKey = `${locations.length}|${this.areaSignature}`;
    if (!this.userMoved && frameKey !== this.frameKey) {
      this.frameKey = frameKey;
      // Without locations (aggregate roles): the regions with the incident areas.
      const bounds = L.latLngBounds(locations.map(([, l]) => [num(l.point.lat), num(l.point.lon)]));
      this.frameSoon(bounds.isValid() ? bounds : null);
    }

    const present = new Set(locations.map(([, l]) => locationState(l)));
    this.legend.setAttribute('aria-label', t('legend'));
    this.legend.replaceChildren(
      ...statesWorstFirst().filter((s) => present.has(s)).map((s) => el('li', {}, stateSymbol(s, 22), ' ', badge(s))),
      locations.length > 1 ? el('li', {}, stateSymbol(worstState([...present]) || 'onbekend', 22, 2), ' ', t('clusterLegend')) : '',
      incidents.length ? el('li', {}, el('span', { class: 'legend-area', 'aria-hidden': 'true' }), ' ', t('incidentArea')) : '');
    const note = [locations.length ? '' : t('mapNoLocations'), baseFailed ? t('mapBaseFailed') : ''].filter(Boolean).join(' ');
    if (this.note.textContent !== note) this.note.textContent = note;
    this.note.hidden = !note;
  }

  /** Adds, changes and removes markers as the locations changed; untouched ones stay as they are. */
  updateMarkers(locations) {
    const added = [];
    const changed = [];
    const removed = [];
    const now = new Set();
    for (const [id, l, code] of locations) {
      now.add(id);
      const s = locationState(l);
      const name = l.name || id;
      const lat = num(l.point.lat);
      const lon = num(l.point.lon);
      const signature = `${state.lang}|${s}|${name}|${code}`;
      const known = this.markers.get(id);
      if (known && (known.lat !== lat || known.lon !== lon)) { removed.push(known.marker); this.markers.delete(id); }
      const entry = this.markers.get(id);
      if (!entry) {
        const marker = L.marker([lat, lon], { icon: locationIcon(id, s, name), keyboard: true, state: s, zIndexOffset: severity(s) * 100, riseOnHover: true });
        marker.on('click', () => openDetail(id, marker.options.region));
        marker.options.region = code;
        this.markers.set(id, { marker, signature, lat, lon });
        added.push(marker);
      } else if (entry.signature !== signature) {
        entry.signature = signature;
        entry.marker.options.state = s;
        entry.marker.options.region = code;
        entry.marker.setZIndexOffset(severity(s) * 100);
        entry.marker.setIcon(locationIcon(id, s, name));
        changed.push(entry.marker);
      }
    }
    for (const [id, entry] of this.markers) if (!now.has(id)) { removed.push(entry.marker); this.markers.delete(id); }
    if (removed.length) this.clusters.removeLayers(removed);
    if (added.length) this.clusters.addLayers(added);
    if (changed.length) this.clusters.refreshClusters(changed);
    if (added.length || changed.length || removed.length) this.placeLabelsSoon();
  }
}

let dashboard = null;

/**
 * Draws `views` ([code, RegionView]) into #map: built the first time, updated in place
 * after that (it is called on every render).
 */
export function renderMap(views) {
  const host = $('map');
  if (!librariesLoaded()) {
    const shown = host.querySelector('.map-unavailable');
    if (!shown) host.replaceChildren(unavailable());
    else if (shown.textContent !== t('mapUnavailable')) shown.textContent = t('mapUnavailable');
    return;
  }
  if (!dashboard || !host.contains(dashboard.element)) {
    dashboard = dashboard || new DashboardMap();
    host.replaceChildren(dashboard.element, dashboard.legend, dashboard.note);
  }
  dashboard.update(views);
}

// ---------------------------------------------------------------- a map of one area

/** The map of one area, kept per place that draws it (its `rerender`). */
class AreaMap extends OfflineMap {
  constructor() {
    super('area-map');
    this.drawn = L.featureGroup().addTo(this.map);
    this.spots = L.featureGroup().addTo(this.map);
    this.frameKey = null;
    this.onPick = null;
    this.map.on('click', (e) => {
      if (this.onPick) this.onPick(Math.round(e.latlng.lat * 10000) / 10000, Math.round(e.latlng.lng * 10000) / 10000);
    });
  }

  baseAdded() {
    if (this.last) this.update(this.last);
  }

  update(args) {
    this.last = args;
    const { points, area, onPick, caption } = args;
    this.texts();
    this.onPick = onPick || null;
    this.element.classList.toggle('picking', !!onPick);
    this.element.setAttribute('aria-label', caption);
    const a = area || {};
    this.drawn.clearLayers();
    const options = { className: 'drawn-shape', interactive: false };
    // A drawn circle or polygon; else the municipalities or regions it names, once loaded.
    for (const shape of areaShapes(a, null, options, () => [])) shape.addTo(this.drawn);
    const dots = (a.circle ? [a.circle.center] : []).concat(a.polygon || []);
    for (const p of dots) L.circleMarker([num(p.lat), num(p.lon)], { className: 'centre', radius: 4, interactive: false }).addTo(this.drawn);
    this.spots.clearLayers();
    for (const p of points) {
      L.marker([num(p.lat), num(p.lon)], {
        keyboard: false, interactive: !onPick,
        icon: elementIcon({
          className: 'spot', iconSize: [22, 22], iconAnchor: [11, 11],
          html: svg('svg', { viewBox: '0 0 22 22', width: 22, height: 22, 'aria-hidden': 'true' },
            svg('circle', { cx: 11, cy: 11, r: 9.5 }),
            svg('text', { x: 11, y: 15, 'text-anchor': 'middle', class: 'marker-icon' }, p.icon || '')),
          attributes: { 'data-location': p.id, 'data-kind': p.kind, title: p.name },
        }),
      }).addTo(this.spots);
    }
    // Framed again only when other locations (or, when not drawing, another area) are shown,
    // so the map stands still while the user draws on it.
    const key = JSON.stringify([points.map((p) => p.id).sort(), onPick ? null : a]);
    if (key !== this.frameKey) {
      this.frameKey = key;
      const bounds = L.latLngBounds(points.map((p) => [num(p.lat), num(p.lon)]));
      if (this.drawn.getLayers().length) bounds.extend(this.drawn.getBounds());
      this.frameSoon(bounds.isValid() ? bounds : null);
    }
  }
}

const areaMaps = new Map(); // rerender → AreaMap

/**
 * A small map of one area (the desk's area picker, an uitvraag's or advice's area): the
 * area's circle and polygon, and `points` ({ id, lat, lon, kind, icon, name }) marked by
 * `kind` (an answer state, or `in`/`out` of the area while picking) with an icon, so the
 * kind never shows by colour alone. With `onPick`, a click or tap on the map gives the
 * coordinates under it (the picker's centre or next corner). Returns the map's element;
 * the map is kept per `rerender` (one for each place that draws one), so drawing it again
 * keeps the user's zoom and pan.
 */
export function areaMap({ points, area, onPick, caption, rerender }) {
  if (!librariesLoaded()) return unavailable();
  let view = areaMaps.get(rerender);
  if (!view) {
    view = new AreaMap();
    areaMaps.set(rerender, view);
  }
  view.update({ points, area, onPick, caption });
  return view.element;
}
