// A tiny OpenID Connect relying party for the browser tests of `troad idp`.
//
// It uses openid-client (an independent, certified client library), not troad's code, so
// the tests see the idp as any integrator would. Loopback only.
//
//   node rp.mjs CONFIG.json
//
// It listens on 127.0.0.1 (an ephemeral port) and prints one JSON line {"port": N} on
// stdout. CONFIG.json is read on each /login, so it may be written after the RP starts
// (the redirect URIs registered at the idp need the RP's port first):
//   { "issuer": "http://localhost:4600",
//     "clients": { "rp1": { "auth": "client_secret_basic", "secret": "…" },
//                  "rp2": { "auth": "private_key_jwt", "jwk": { …private EC JWK with kid… } } } }
//
// Routes:
//   GET /login?client=rp1[&acr_values=…][&ui_locales=…][&prompt=…][&scope=…][&lang=…]
//       → 302 to the idp's authorization endpoint (PKCE S256, state, nonce).
//   GET /cb → authorization code grant (client_secret_basic or private_key_jwt); the ID
//       token's iss, aud, exp, nonce and signature (JWKS) are checked; then userinfo.
//       The page shows <pre id="result">{…}</pre>, or <pre id="error">…</pre>.
//   GET /trap… → records the hit (a redirect that must never happen lands here).
//   GET /debug/hits → JSON list of trap hits.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import * as oidc from 'openid-client';

const configFile = process.argv[2];
if (!configFile) {
  console.error('usage: node rp.mjs CONFIG.json');
  process.exit(2);
}

const pending = new Map();   // state → { clientId, verifier, nonce, redirectUri, created }
const configs = new Map();   // clientId → Promise<oidc.Configuration>
const trapHits = [];
let port = 0;

function readConfig() {
  return JSON.parse(fs.readFileSync(configFile, 'utf8'));
}

function redirectUri() {
  return `http://localhost:${port}/cb`;
}

async function clientAuth(entry) {
  if (entry.auth === 'private_key_jwt') {
    const { kid, ...jwk } = entry.jwk;
    const key = await crypto.webcrypto.subtle.importKey(
      'jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    return oidc.PrivateKeyJwt({ key, kid });
  }
  return oidc.ClientSecretBasic(entry.secret);
}

function configFor(clientId) {
  if (!configs.has(clientId)) {
    const p = (async () => {
      const cfg = readConfig();
      const entry = cfg.clients?.[clientId];
      if (!entry) throw new Error(`unknown client ${clientId}`);
      return oidc.discovery(
        new URL(cfg.issuer), clientId,
        { redirect_uris: [redirectUri()], response_types: ['code'],
          id_token_signed_response_alg: 'ES256' },
        await clientAuth(entry),
        // http://localhost issuer in tests; ID token signatures checked against the JWKS.
        { execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
          timeout: 10 });
    })();
    p.catch(() => configs.delete(clientId));
    configs.set(clientId, p);
  }
  return configs.get(clientId);
}

// An independent check of the ID token's ES256 signature against the published JWKS,
// with node:crypto only (openid-client checks it too, with enableNonRepudiationChecks).
async function verifyIdTokenSignature(config, idToken) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const jwksUri = config.serverMetadata().jwks_uri;
  const res = await fetch(jwksUri, { signal: AbortSignal.timeout(10_000) });
  const jwks = await res.json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in the JWKS`);
  if (header.alg !== 'ES256') throw new Error(`unexpected alg ${header.alg}`);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('ID token signature does not verify against the JWKS');
  return { alg: header.alg, kid: header.kid };
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, status, title, id, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1><pre id="${id}">${escapeHtml(body)}</pre></body></html>`);
}

async function login(url, res) {
  const clientId = url.searchParams.get('client') || 'rp1';
  const config = await configFor(clientId);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const params = {
    redirect_uri: redirectUri(),
    scope: url.searchParams.get('scope') || 'openid profile',
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  for (const name of ['acr_values', 'ui_locales', 'prompt', 'max_age']) {
    const v = url.searchParams.get(name);
    if (v) params[name] = v;
  }
  pending.set(state, { clientId, verifier, nonce, created: Date.now() });
  const target = oidc.buildAuthorizationUrl(config, params);
  res.writeHead(302, { location: target.href, 'cache-control': 'no-store' });
  res.end();
}

async function callback(url, res) {
  const state = url.searchParams.get('state');
  const p = state ? pending.get(state) : undefined;
  if (url.searchParams.has('error')) {
    if (state) pending.delete(state);
    return page(res, 400, 'Sign-in failed', 'error', JSON.stringify({
      error: url.searchParams.get('error'),
      error_description: url.searchParams.get('error_description'),
    }));
  }
  if (!p) return page(res, 400, 'Sign-in failed', 'error', 'unknown or missing state');
  pending.delete(state);
  const config = await configFor(p.clientId);
  const current = new URL(url.pathname + url.search, `http://localhost:${port}`);
  const tokens = await oidc.authorizationCodeGrant(config, current, {
    pkceCodeVerifier: p.verifier,
    expectedState: state,
    expectedNonce: p.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const signature = await verifyIdTokenSignature(config, tokens.id_token);
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  page(res, 200, 'Signed in', 'result', JSON.stringify({
    client: p.clientId,
    sub: claims.sub,
    acr: claims.acr,
    amr: claims.amr,
    name: claims.name,
    id_token: claims,
    id_token_signature: signature,
    userinfo,
  }, null, 2));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (req.method !== 'GET') return page(res, 405, 'Method not allowed', 'error', req.method);
    if (url.pathname === '/login') return await login(url, res);
    if (url.pathname === '/cb') return await callback(url, res);
    if (url.pathname.startsWith('/trap')) {
      trapHits.push({ path: url.pathname, query: url.search, at: Date.now() });
      return page(res, 200, 'Trap', 'error', 'this page must never be reached');
    }
    if (url.pathname === '/debug/hits') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(trapHits));
    }
    return page(res, 404, 'Not found', 'error', url.pathname);
  } catch (e) {
    console.error(`rp: ${url.pathname}: ${e?.stack || e}`);
    const detail = { name: e?.name, code: e?.code, message: e?.message, cause: e?.cause?.message };
    if (!res.headersSent) page(res, 500, 'Sign-in failed', 'error', JSON.stringify(detail));
    else res.end();
  }
});
server.requestTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  process.stdout.write(JSON.stringify({ port }) + '\n');
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
