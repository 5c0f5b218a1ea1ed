// ghor — "Meldingen per e-mail of webhook" (issue 9): a GHOR user's own subscriptions to
// alerts of its regions (`/v1/subscriptions`), shown only to tokens that `may('subscribe')`.
// It lists them, adds one (region, kind — the kinds and their labels come from the server's
// vocabulary — a number for "IC-bedden vrij onder", an email address and/or a webhook with
// its whsec_ secret) and deletes one. A refusal names its field, worded from the catalogue.
// What is sent, and when, the server's notifier decides from the log.

import { $, t, el, api, may, addTexts, label, order, state, problemText, errorMessage } from './core.js';

addTexts({
  nl: {
    subscriptionsTitle: 'Meldingen per e-mail of webhook',
    subscriptionsNone: 'U hebt nog geen abonnementen.',
    subscriptionRegion: 'Regio',
    subscriptionKind: 'Soort melding',
    subscriptionValue: 'Aantal',
    subscriptionEmail: 'E-mailadres',
    subscriptionWebhook: 'Webhook-URL',
    subscriptionSecret: 'Webhook-geheim (whsec_…)',
    subscriptionAdd: 'Abonneren',
    subscriptionDelete: 'Opzeggen',
    subscriptionAdded: 'Abonnement opgeslagen.',
    subscriptionDeleted: 'Abonnement opgezegd.',
    subscriptionBelow: (n) => `onder ${n}`,
  },
  en: {
    subscriptionsTitle: 'Alerts by email or webhook',
    subscriptionsNone: 'You have no subscriptions yet.',
    subscriptionRegion: 'Region',
    subscriptionKind: 'Kind of alert',
    subscriptionValue: 'Number',
    subscriptionEmail: 'Email address',
    subscriptionWebhook: 'Webhook URL',
    subscriptionSecret: 'Webhook secret (whsec_…)',
    subscriptionAdd: 'Subscribe',
    subscriptionDelete: 'Unsubscribe',
    subscriptionAdded: 'Subscription saved.',
    subscriptionDeleted: 'Subscription cancelled.',
    subscriptionBelow: (n) => `below ${n}`,
  },
});

let loaded = false;

function status(text) {
  const p = $('subscription-status');
  p.textContent = text;
  p.hidden = !text;
}

/** One subscription as a line: region, kind (with its number), channels, and a delete button. */
function line(s) {
  const what = s.value == null ? label('SubscriptionKind', s.kind)
    : `${label('SubscriptionKind', s.kind)} ${t('subscriptionBelow', s.value)}`;
  const channels = [s.email, s.webhook && s.webhook.url].filter(Boolean).join(', ');
  const remove = el('button', { type: 'button', 'data-subscription': s.id }, t('subscriptionDelete'));
  remove.addEventListener('click', async () => {
    const answer = await api('DELETE', `/v1/subscriptions/${encodeURIComponent(s.id)}`);
    status(answer.ok ? t('subscriptionDeleted') : problemText(answer));
    await load();
  });
  return el('li', { class: 'subscription' }, `${s.region} — ${what} — ${channels} `, remove);
}

async function load() {
  const answer = await api('GET', '/v1/subscriptions');
  const list = $('subscription-list');
  list.replaceChildren();
  if (!answer.ok) { status(problemText(answer)); return; }
  const mine = answer.body.subscriptions || [];
  if (!mine.length) list.append(el('li', { class: 'note' }, t('subscriptionsNone')));
  for (const s of mine) list.append(line(s));
}

function field(name, labelKey, input) {
  input.id = `subscription-${name}`;
  input.name = name;
  return el('label', { for: input.id }, t(labelKey), ' ', input);
}

/** The form, built once with the token's regions and the server's kinds. */
function form() {
  const region = el('select', {}, ...(state.me.regions || []).map((r) => el('option', { value: r }, r)));
  const kind = el('select', {}, ...order('SubscriptionKind').map((k) => el('option', { value: k }, label('SubscriptionKind', k))));
  const value = el('input', { type: 'number', min: 1, step: 1, inputmode: 'numeric' });
  const email = el('input', { type: 'email', autocomplete: 'email' });
  const url = el('input', { type: 'url' });
  const secret = el('input', { type: 'password', autocomplete: 'off', spellcheck: 'false' });
  const valueField = field('value', 'subscriptionValue', value);
  const showValue = () => { valueField.hidden = kind.value !== 'ic_free_below'; };
  kind.addEventListener('change', showValue);
  showValue();
  const f = el('form', { id: 'subscription-form', novalidate: true },
    field('region', 'subscriptionRegion', region), field('kind', 'subscriptionKind', kind), valueField,
    field('email', 'subscriptionEmail', email), field('webhook-url', 'subscriptionWebhook', url),
    field('webhook-secret', 'subscriptionSecret', secret),
    el('button', { type: 'submit', class: 'primary' }, t('subscriptionAdd')));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { region: region.value, kind: kind.value };
    if (kind.value === 'ic_free_below') body.value = value.value === '' ? null : Number(value.value);
    if (email.value) body.email = email.value;
    if (url.value || secret.value) body.webhook = { url: url.value, secret: secret.value };
    const answer = await api('POST', '/v1/subscriptions', body);
    if (answer.ok) {
      status(t('subscriptionAdded'));
      f.reset();
      showValue();
      await load();
      return;
    }
    const error = answer.body && Array.isArray(answer.body.errors) ? answer.body.errors[0] : null;
    status(error ? `${error.field}: ${errorMessage(error)}` : problemText(answer));
  });
  return f;
}

/** Shows the panel to tokens that may subscribe; loads their subscriptions once. */
export function renderSubscriptions() {
  const section = $('subscriptions');
  section.hidden = !may('subscribe');
  if (section.hidden || loaded) return;
  loaded = true;
  $('subscription-form-slot').replaceChildren(form());
  load();
}

/** Signing out forgets the panel (another token may sign in). */
export function resetSubscriptions() {
  loaded = false;
}
