// A real OpenID provider for the tests (node-oidc-provider), on 127.0.0.1 only.
//
// Configured by one JSON file (argv[2]) the test suite writes:
//   port, audience (the API), keys (private JWKs; the first signs, all are published),
//   web {client_id, client_secret, redirect_uris, post_logout_redirect_uris},
//   integration {client_id, client_secret}, accounts {login: {claims}}.
// Rotating keys = the suite rewrites the file and restarts this process.
//
// Test-only endpoints (never in a real provider):
//   GET  /test/stats            -> {jwks: n}  how often the JWKS was fetched
//   POST /test/token {sub, ...} -> {access_token} a JWT access token for that account,
//                                  minted by the provider's own AccessToken model
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const accounts = new Map(Object.entries(config.accounts));
let jwksFetches = 0;

function claimsOf(id) {
  return { sub: id, ...(accounts.get(id)?.claims ?? {}) };
}

const apiServer = {
  scope: 'api',
  audience: config.audience,
  accessTokenFormat: 'jwt',
  accessTokenTTL: config.access_token_ttl ?? 600,
  jwt: { sign: { alg: config.alg ?? 'RS256' } },
};

const provider = new Provider(issuer, {
  clients: [
    {
      ...config.web,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      ...config.integration,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: config.keys },
  // Every claim of an account may be asked for with the scopes below.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'employee_id'],
    groups: ['groups', 'roles'],
  },
  conformIdTokenClaims: false, // the ID token carries the claims itself (no userinfo call)
  scopes: ['openid', 'email', 'profile', 'groups', 'api'],
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => claimsOf(id),
  }),
  // JWT access tokens carry the person's claims, as Okta/Entra/Keycloak can be set up to.
  extraTokenClaims: async (_ctx, token) => {
    if (!token.accountId) return undefined;
    const { sub: _sub, ...claims } = claimsOf(token.accountId);
    return claims;
  },
  features: {
    devInteractions: { enabled: true }, // the login and consent pages the browser test uses
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => apiServer,
    },
  },
  ttl: { IdToken: 600, AccessToken: config.access_token_ttl ?? 600 },
  cookies: { keys: ['test-only-cookie-key-0123456789'] },
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/jwks') jwksFetches += 1;
  if (ctx.path === '/test/stats') {
    ctx.body = { jwks: jwksFetches };
    return;
  }
  if (ctx.path === '/test/token' && ctx.method === 'POST') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const { sub, claims = {} } = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    accounts.set(sub, { claims });
    const client = await provider.Client.find(config.web.client_id);
    const token = new provider.AccessToken({
      accountId: sub,
      client,
      scope: 'api',
      resourceServer: new provider.ResourceServer(config.audience, apiServer),
    });
    ctx.body = { access_token: await token.save() };
    return;
  }
  await next();
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
