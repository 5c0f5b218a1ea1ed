// ghor — the map: an inline SVG of the shipped outline of the Netherlands (no tile
// server), zoomed to the locations shown, each marked by its state with a shape, an icon
// and a colour (never colour alone), and the areas of active incidents drawn over it.
// A marker is a button: Enter or a click opens the location's detail panel.

import { $, t, el, num, label, badge, addTexts, ICON, statesWorstFirst } from './core.js';
import { locationState } from './dashboard.js';
import { openDetail } from './detail.js';

addTexts({
  nl: {
    map: 'Kaart',
    mapCaption: (n) => `Kaart met ${n} locaties naar toestand en de gebieden van actieve incidenten`,
    mapNoLocations: 'Uw rol ziet geen locaties op de kaart; alleen de gebieden van actieve incidenten.',
    incidentArea: 'Incidentgebied',
    legend: 'Legenda',
  },
  en: {
    map: 'Map',
    mapCaption: (n) => `Map of ${n} locations by state and the areas of active incidents`,
    mapNoLocations: 'Your role sees no locations on the map; only the areas of active incidents.',
    incidentArea: 'Incident area',
    legend: 'Legend',
  },
});

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 800;
const KM_PER_DEG_LAT = 111.2;

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

let outline = null;      // [[lon, lat], ...] rings of the Netherlands, once loaded
let outlineLoading = false;

async function loadOutline(done) {
  if (outline || outlineLoading) return;
  outlineLoading = true;
  try {
    const res = await fetch('/assets/nl-outline.geojson');
    const geo = await res.json();
    outline = geo.features.flatMap((f) => (f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates.flat() : f.geometry.coordinates));
    done();
  } catch (e) {
    outlineLoading = false; // tried again at the next render
  }
}

/** Marker shapes per state: the shape tells the state without colour. */
function marker(s, x, y, r) {
  switch (s) {
    case 'kritiek': return svg('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r, transform: `rotate(45 ${x} ${y})` });
    case 'aandacht': return svg('polygon', { points: `${x},${y - r * 1.3} ${x + r * 1.2},${y + r * 0.9} ${x - r * 1.2},${y + r * 0.9}` });
    case 'verouderd': return svg('rect', { x: x - r * 0.9, y: y - r * 0.9, width: 1.8 * r, height: 1.8 * r });
    default: return svg('circle', { cx: x, cy: y, r });
  }
}

/** The corners that frame an area's drawn shapes (a circle by its bounding box). */
function areaCorners(area) {
  const pts = ((area && area.polygon) || []).map((p) => [num(p.lon), num(p.lat)]);
  const c = area && area.circle;
  if (c) {
    const dLat = num(c.radius_km) / KM_PER_DEG_LAT;
    const dLon = dLat / Math.cos((num(c.center.lat) * Math.PI) / 180);
    pts.push([num(c.center.lon) - dLon, num(c.center.lat) - dLat], [num(c.center.lon) + dLon, num(c.center.lat) + dLat]);
  }
  return pts;
}

/**
 * The projection that frames `pts` ([lon, lat]) in a WIDTH-wide picture, or the whole
 * country when there are none: equirectangular with the longitude scaled by cos(latitude),
 * true enough for one country. `lonLat` turns a picture point back into coordinates.
 */
function projection(pts, minHeight = 200, minPad = 0.15, maxHeight = 900) {
  if (!pts.length) pts = [[3.3, 50.75], [7.25, 53.6]];
  let [minLon, minLat, maxLon, maxLat] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [lon, lat] of pts) {
    minLon = Math.min(minLon, lon); maxLon = Math.max(maxLon, lon);
    minLat = Math.min(minLat, lat); maxLat = Math.max(maxLat, lat);
  }
  const pad = Math.max(minPad, (maxLat - minLat) * 0.12);
  minLat -= pad; maxLat += pad; minLon -= pad * 1.6; maxLon += pad * 1.6;
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const wide = WIDTH / ((maxLon - minLon) * k);
  // A frame taller than maxHeight is shrunk to fit it, centred across (not cut off below).
  const scale = Math.min(wide, maxHeight / (maxLat - minLat));
  const shift = (WIDTH - (maxLon - minLon) * k * scale) / 2;
  const height = Math.max(minHeight, Math.min(maxHeight, (maxLat - minLat) * scale));
  return {
    scale, height,
    x: (lon) => shift + (lon - minLon) * k * scale,
    y: (lat) => (maxLat - lat) * scale,
    lonLat: (px, py) => [minLon + (px - shift) / (k * scale), maxLat - py / scale],
  };
}

function landPath(x, y) {
  return outline ? svg('path', { class: 'land', d: outline.map((ring) =>
    ring.map(([lon, lat], i) => `${i ? 'L' : 'M'}${x(lon).toFixed(1)},${y(lat).toFixed(1)}`).join('') + 'Z').join('') }) : null;
}

/**
 * Draws `views` ([code, RegionView]) into #map.
 */
export function renderMap(views, rerender) {
  loadOutline(rerender);
  const locations = views.flatMap(([code, v]) => Object.entries(v.locations || {}).map(([id, l]) => [id, l, code]));
  const seen = new Set();
  const incidents = views.flatMap(([, v]) => Object.entries(v.incidents || {}))
    .filter(([id, i]) => i.state === 'actief' && !seen.has(id) && seen.add(id));
  // The frame: the locations and the incident shapes, or the whole country.
  const pts = locations.map(([, l]) => [num(l.point.lon), num(l.point.lat)]);
  for (const [, i] of incidents) pts.push(...areaCorners(i.area));
  const { x, y, scale, height } = projection(pts);
  const r = 11;

  const land = landPath(x, y);

  const areas = incidents.map(([id, i]) => {
    const c = i.area && i.area.circle;
    const polygon = i.area && i.area.polygon;
    let shape;
    if (polygon) {
      const corners = polygon.map((p) => [x(num(p.lon)), y(num(p.lat))]);
      shape = svg('polygon', { points: corners.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ') });
    } else if (c) {
      shape = svg('circle', { cx: x(c.center.lon), cy: y(c.center.lat), r: (c.radius_km / KM_PER_DEG_LAT) * scale });
    } else {
      // Regions or municipalities: the circle around the locations inside the area.
      const inside = locations.filter(([, l]) => (l.incidents || []).includes(id)).map(([, l]) => [x(l.point.lon), y(l.point.lat)]);
      if (!inside.length) return null;
      const cx = inside.reduce((a, p) => a + p[0], 0) / inside.length;
      const cy = inside.reduce((a, p) => a + p[1], 0) / inside.length;
      const rr = Math.max(30, ...inside.map((p) => Math.hypot(p[0] - cx, p[1] - cy) + 20));
      shape = svg('circle', { cx, cy, r: rr });
    }
    const box = shape.tagName === 'circle'
      ? [num(shape.getAttribute('cx')), num(shape.getAttribute('cy')) - num(shape.getAttribute('r'))]
      : polygonTop(polygon.map((p) => [x(num(p.lon)), y(num(p.lat))]));
    return svg('g', { class: 'incident-area', 'data-incident': id },
      svg('title', {}, `${t('incidentArea')}: ${i.name || id} (${t('grip', num(i.grip))})`),
      shape,
      svg('text', { x: box[0], y: Math.max(14, box[1] - 4), 'text-anchor': 'middle', class: 'area-label' }, `${i.name || id} · ${t('grip', num(i.grip))}`));
  });

  /** Where a polygon's label goes: above its highest corner, centred on its corners. */
  function polygonTop(corners) {
    return [corners.reduce((a, p) => a + p[0], 0) / corners.length, Math.min(...corners.map((p) => p[1]))];
  }

  const markers = locations.map(([id, l, code]) => {
    const s = locationState(l);
    const px = x(num(l.point.lon));
    const py = y(num(l.point.lat));
    const name = `${l.name || id}: ${label('State', s)}`;
    const g = svg('g', { class: 'marker', 'data-location': id, 'data-state': s, tabindex: 0, role: 'button', 'aria-label': name },
      svg('title', {}, name), marker(s, px, py, r),
      svg('text', { x: px, y: py + 4, 'text-anchor': 'middle', class: 'marker-icon', 'aria-hidden': 'true' }, ICON[s]));
    const open = () => openDetail(id, code);
    g.addEventListener('click', open);
    g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
    return g;
  });
  // The worst on top.
  const worstFirst = statesWorstFirst();
  markers.sort((a, b) => worstFirst.indexOf(b.dataset.state) - worstFirst.indexOf(a.dataset.state));

  const map = svg('svg', { viewBox: `0 0 ${WIDTH} ${height.toFixed(0)}`, role: 'img', 'aria-label': t('mapCaption', locations.length), class: 'map' },
    land, areas, markers);
  const present = new Set(markers.map((m) => m.dataset.state));
  const legend = el('ul', { class: 'legend', 'aria-label': t('legend') },
    statesWorstFirst().filter((s) => present.has(s)).map((s) => el('li', {}, legendShape(s), ' ', badge(s))),
    incidents.length ? el('li', {}, el('span', { class: 'legend-area', 'aria-hidden': 'true' }), ' ', t('incidentArea')) : null);
  const note = locations.length ? null : el('p', { class: 'meta' }, t('mapNoLocations'));
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('#map .marker');
  const focusId = focused ? focused.dataset.location : null;
  $('map').replaceChildren(map, legend, note || '');
  if (focusId) { const again = $('map').querySelector(`.marker[data-location="${CSS.escape(focusId)}"]`); if (again) again.focus(); }
}

function legendShape(s) {
  return svg('svg', { viewBox: '0 0 24 24', width: 22, height: 22, class: 'marker', 'data-state': s, 'aria-hidden': 'true' },
    marker(s, 12, 12, 8), svg('text', { x: 12, y: 16, 'text-anchor': 'middle', class: 'marker-icon' }, ICON[s]));
}

/**
 * A small map of one area (the desk's area picker, an uitvraag's or advice's area): the
 * area's circle and polygon, and `points` ({ id, lat, lon, kind, icon, name }) marked by
 * `kind` (an answer state, or `in`/`out` of the area while picking) with an icon, so the
 * kind never shows by colour alone. With `onPick`, a click or tap on the map gives
 * the coordinates under it (the picker's centre or next corner).
 */
export function areaMap({ points, area, onPick, caption, rerender }) {
  loadOutline(rerender);
  const pts = points.map((p) => [num(p.lon), num(p.lat)]).concat(areaCorners(area));
  // Framed close around the area: this map is about the area, not the country.
  const { x, y, scale, height, lonLat } = projection(pts, 260, 0.03, 420);
  const shapes = [];
  const c = area && area.circle;
  if (c) {
    shapes.push(svg('circle', { cx: x(num(c.center.lon)), cy: y(num(c.center.lat)), r: (num(c.radius_km) / KM_PER_DEG_LAT) * scale }));
    shapes.push(svg('circle', { class: 'centre', cx: x(num(c.center.lon)), cy: y(num(c.center.lat)), r: 4 }));
  }
  const corners = ((area && area.polygon) || []).map((p) => `${x(num(p.lon)).toFixed(1)},${y(num(p.lat)).toFixed(1)}`);
  if (corners.length >= 3) shapes.push(svg('polygon', { points: corners.join(' ') }));
  else if (corners.length) shapes.push(svg('polyline', { points: corners.join(' ') }));
  for (const corner of corners) {
    const [cx, cy] = corner.split(',');
    shapes.push(svg('circle', { class: 'centre', cx, cy, r: 4 }));
  }
  const marks = points.map((p) => svg('g', { class: 'spot', 'data-location': p.id, 'data-kind': p.kind },
    svg('title', {}, p.name),
    svg('circle', { cx: x(num(p.lon)), cy: y(num(p.lat)), r: 9 }),
    svg('text', { x: x(num(p.lon)), y: y(num(p.lat)) + 4, 'text-anchor': 'middle', class: 'marker-icon', 'aria-hidden': 'true' }, p.icon || '')));
  const map = svg('svg', { viewBox: `0 0 ${WIDTH} ${height.toFixed(0)}`, role: 'img', 'aria-label': caption, class: `map area-map${onPick ? ' picking' : ''}` },
    landPath(x, y), svg('g', { class: 'drawn-area' }, shapes), marks);
  if (onPick) {
    map.addEventListener('click', (event) => {
      const m = map.getScreenCTM();
      if (!m) return;
      const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(m.inverse());
      const [lon, lat] = lonLat(p.x, p.y);
      onPick(Math.round(lat * 10000) / 10000, Math.round(lon * 10000) / 10000);
    });
  }
  return map;
}
