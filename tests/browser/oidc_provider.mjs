// A real OpenID provider for the sign-in tests: panva's oidc-provider on 127.0.0.1 over
// plain http (issuer `http://127.0.0.1:<port>`), with one confidential client (code flow,
// PKCE S256 required), its built-in development login and consent pages (any password),
// and accounts found by the login name typed there. The `ghor` scope releases the claims
// ghor reads (ghor_role, ghor_regions, ghor_national, ghor_organisation), and they are
// put in the ID token itself, which is where ghor reads them.
//
// From a test: `const op = await startProvider({ clientId, clientSecret, redirectUri })`,
// then `op.issuer`, and `await op.close()`. By hand:
//   node oidc_provider.mjs --port 0 --client-id ghor --client-secret geheim \
//     --redirect-uri http://127.0.0.1:8080/auth/callback
// prints `oidc provider listening on <issuer>` once it answers.

import http from 'node:http';
import { once } from 'node:events';
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import Provider from 'oidc-provider';

/** The accounts, by the login name typed on the provider's login page. */
export const ACCOUNTS = {
  'rot-user': { name: 'Rita ROT', ghor_role: 'rot', ghor_regions: ['VR01', 'VR02', 'VR03'] },
  'im-user': { name: 'Ingrid IM', ghor_role: 'informatiemanager', ghor_regions: ['VR01'] },
  'umcg-user': { name: 'Umberto UMCG', ghor_role: 'institution', ghor_regions: ['VR01'], ghor_organisation: 'umcg' },
  'beheer-landelijk': { name: 'Bea Beheer', ghor_role: 'admin', ghor_national: true },
  'geen-rol': { name: 'Gerrit Geenrol' },
  // No ghor claims, but a group ghor maps to rights (--oidc-group).
  'groep-im': { name: 'Greet Groep', groups: ['/GHOR/IM Groningen', 'kantine'] },
};

/** The claims each scope releases (the standard ones and ghor's own). */
const CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'preferred_username'],
  email: ['email', 'email_verified'],
  ghor: ['ghor_role', 'ghor_regions', 'ghor_national', 'ghor_organisation', 'groups'],
};

/**
 * Starts the provider on `host:port` (port 0: a free one) and resolves once it listens.
 * `accounts` maps login names to their claims; a name not in it signs in as an account
 * with no claims beyond `sub` (like `geen-rol`).
 */
export async function startProvider({
  port = 0, host = '127.0.0.1', clientId, clientSecret, redirectUri,
  tokenEndpointAuthMethod = 'client_secret_basic', accounts = ACCOUNTS,
} = {}) {
  if (!clientId || !clientSecret || !redirectUri) throw new Error('startProvider needs clientId, clientSecret and redirectUri');
  // Listen first: with port 0 the issuer (which names the port) is known only then.
  const server = http.createServer();
  server.listen(port, host);
  await once(server, 'listening');
  const issuer = `http://${host}:${server.address().port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test-signing-key' };

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: tokenEndpointAuthMethod,
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true }, // S256 is the only method oidc-provider takes
    scopes: ['openid'],
    claims: CLAIMS,
    // ghor reads the claims from the ID token, not from the userinfo endpoint.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    // Lifetimes in seconds, short as a test needs them.
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    async findAccount(_ctx, sub) {
      const claims = Object.hasOwn(accounts, sub) ? accounts[sub] : {};
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            preferred_username: sub,
            email: `${sub}@ghor.test`,
            email_verified: true,
            ...claims,
          };
        },
      };
    },
    // The development pages and errors stay in English and plain: this is a test double.
    async renderError(ctx, out) {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `${out.error}: ${out.error_description || ''}`;
    },
  });
  // Plain http on loopback, no proxy in front: nothing to trust from X-Forwarded-*.
  provider.proxy = false;
  server.on('request', provider.callback());

  return {
    issuer,
    provider,
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Run by hand: start it and say where it is.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'client-id': { type: 'string', default: 'ghor' },
      'client-secret': { type: 'string', default: 'geheim' },
      'redirect-uri': { type: 'string', default: 'http://127.0.0.1:8080/auth/callback' },
      'token-endpoint-auth-method': { type: 'string', default: 'client_secret_basic' },
    },
  });
  const op = await startProvider({
    port: Number(values.port), clientId: values['client-id'], clientSecret: values['client-secret'],
    redirectUri: values['redirect-uri'], tokenEndpointAuthMethod: values['token-endpoint-auth-method'],
  });
  console.log(`oidc provider listening on ${op.issuer}`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => op.close().then(() => process.exit(0)));
}
