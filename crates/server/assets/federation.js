// ghor — the national level's links to the regions. While a region's link is down, the
// national picture holds that region as it was when the link dropped: the page says so
// above everything (on the wall screen too), naming the region and since when, until the
// region is back and caught up. A region's own ghor has no links and shows nothing here.

import { $, t, el, addTexts, api, on, fmtClock, state, renderNow } from './core.js';

addTexts({
  nl: {
    linkDown: (region, since) => `Geen verbinding met ${region} sinds ${since}.`,
    linkDownNever: (region) => `Nog geen verbinding met ${region}.`,
    linkDownWhat: 'Het landelijk beeld toont deze regio zoals die toen was; de regio werkt zelf door en vult aan zodra de verbinding terug is.',
    linkNeverWhat: 'Het landelijk beeld heeft van deze regio nog niets ontvangen; wat de regio meldt komt binnen zodra de verbinding er is.',
    linkCatchingUp: (region, n) => `${region} vult aan: nog ${n} ${n === 1 ? 'bericht' : 'berichten'}.`,
    linkDownShort: (since) => since ? `geen verbinding sinds ${since}` : 'nog geen verbinding',
  },
  en: {
    linkDown: (region, since) => `No link to ${region} since ${since}.`,
    linkDownNever: (region) => `No link to ${region} yet.`,
    linkDownWhat: 'The national picture shows this region as it was then; the region works on and catches up once the link is back.',
    linkNeverWhat: 'The national picture has received nothing from this region yet; what the region reports comes in once the link is there.',
    linkCatchingUp: (region, n) => `${region} is catching up: ${n} ${n === 1 ? 'message' : 'messages'} to go.`,
    linkDownShort: (since) => since ? `no link since ${since}` : 'no link yet',
  },
});

/** How often the page asks; the server counts a link down after 10 s of silence. */
const EVERY_MS = 5000;

/** The links as last answered: region → { link, last_contact, lag }; empty on a region's ghor. */
export const links = { level: null, regions: [] };
let asked = 0;
let asking = false;

async function ask() {
  if (asking || links.level === 'region') return;
  asking = true;
  asked = Date.now();
  const answer = await api('GET', '/v1/federation');
  asking = false;
  if (!answer.ok || !answer.body) return;
  const before = downSignature();
  links.level = answer.body.level;
  links.regions = Array.isArray(answer.body.regions) ? answer.body.regions : [];
  // The regions' rows and the wall mark a region whose link is down: draw them anew.
  if (downSignature() !== before) renderNow(); else render();
}

function downSignature() {
  return links.regions.filter((l) => l.link === 'down').map((l) => l.region).join(',');
}

/**
 * A marker for a region whose link to the national level is down ("geen verbinding sinds
 * 03:31"), for the regions' rows and the wall; null while it is up (or on a region's ghor).
 */
export function linkDownMark(code) {
  const link = links.regions.find((l) => l.region === code && l.link === 'down');
  if (!link) return null;
  const since = link.last_contact ? fmtClock(new Date(link.last_contact)) : null;
  return el('span', { class: 'link-down', 'data-link-down': code }, `◷ ${t('linkDownShort', since)}`);
}

function regionLabel(code) {
  const name = state.regions && state.regions[code] && state.regions[code].name;
  return name ? `${name} (${code})` : code;
}

function render() {
  const box = $('links');
  if (!box) return;
  const lines = [];
  for (const link of links.regions) {
    if (link.link === 'down') {
      const since = link.last_contact ? fmtClock(new Date(link.last_contact)) : null;
      lines.push(el('span', { class: 'links-line' },
        el('strong', {}, since ? t('linkDown', regionLabel(link.region), since) : t('linkDownNever', regionLabel(link.region))),
        ' ', t(since ? 'linkDownWhat' : 'linkNeverWhat')));
    } else if (link.lag > 0) {
      lines.push(el('span', { class: 'links-line' }, t('linkCatchingUp', regionLabel(link.region), link.lag)));
    }
  }
  box.hidden = lines.length === 0;
  box.replaceChildren(...lines);
}

on('tick', (now) => { if (now - asked >= EVERY_MS) ask(); });
on('render', render);
on('signedOut', () => { links.level = null; links.regions = []; render(); });
