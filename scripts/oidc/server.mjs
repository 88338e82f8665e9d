// A real OAuth 2.0 authorization server (oidc-provider) for secinfo's
// device-flow tests (RFC 8628). One process per test: it listens on
// 127.0.0.1:$PORT (0 = any free port) and prints one JSON line,
// {"issuer": "...", "pid": N}, when it is ready. Warnings go to stderr.
//
// Settings (environment): PORT, CLIENT_ID (tui-client), DEVICE_TTL (600 s),
// INTERVAL (advertised poll interval, 5 s), SLOW_DOWN_STEP (5 s, RFC 8628 §3.5),
// ACCESS_TTL (3600 s).
//
// oidc-provider sends no `interval` and never answers `slow_down`; both are
// added below as a server that enforces its interval would (per device code,
// poll to poll). Everything else is the library's own device grant, refresh
// rotation and reuse detection.
//
// Test-only endpoint, so a test needs no HTML: POST /__test/device?user_code=X&action=approve|deny
// walks the provider's own /device pages (a cookie jar, the xsrf field) the
// way a browser would, and answers {"ok":true,"claims":...} or 409.
import http from 'node:http';
import Provider from 'oidc-provider';

// The library's notices go to stdout; stdout is kept for the ready line.
console.info = console.error;
console.log = console.error;

const env = (k, d) => (process.env[k] === undefined ? d : process.env[k]);
const PORT = Number(env('PORT', '0'));
const CLIENT_ID = env('CLIENT_ID', 'tui-client');
const DEVICE_TTL = Number(env('DEVICE_TTL', '600'));
const INTERVAL = Number(env('INTERVAL', '5'));
const SLOW_DOWN_STEP = Number(env('SLOW_DOWN_STEP', '5'));
const ACCESS_TTL = Number(env('ACCESS_TTL', '3600'));
const SCOPES = ['openid', 'offline_access', 'methods.readwrite', 'sessions.revoke'];

const server = http.createServer();
await new Promise((ok) => server.listen(PORT, '127.0.0.1', ok));
const issuer = `http://127.0.0.1:${server.address().port}`;

// The claims asked for at the last approved interaction, for the test to see.
let lastClaims = null;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_name: 'secinfo tests',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
    scope: SCOPES.join(' '),
  }],
  scopes: SCOPES,
  cookies: { keys: ['secinfo-test-cookie-key'] },
  features: {
    deviceFlow: { enabled: true },
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    claimsParameter: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    DeviceCode: DEVICE_TTL,
    AccessToken: ACCESS_TTL,
    RefreshToken: 86400,
    Grant: 86400,
    Session: 86400,
    Interaction: 600,
  },
  // Public clients get a refresh token whenever the client may refresh (rotated on each use).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
});

// Per device code: when it may be polled next, and its interval (grows on slow_down).
const pace = new Map();
provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/device/auth' && ctx.status === 200 && ctx.body) {
    ctx.body = { ...ctx.body, interval: INTERVAL };
    pace.set(ctx.body.device_code, { interval: INTERVAL, last: null });
  }
  const code = ctx.oidc?.params?.device_code;
  if (ctx.method === 'POST' && ctx.path === '/token' && code && ctx.body?.error === 'authorization_pending') {
    const p = pace.get(code) || { interval: INTERVAL, last: null };
    const now = Date.now();
    if (p.last !== null && now - p.last < p.interval * 1000) {
      p.interval += SLOW_DOWN_STEP;
      ctx.body = { error: 'slow_down', error_description: `polling too fast, interval is now ${p.interval}s` };
    }
    p.last = now;
    pace.set(code, p);
  }
});

// The interaction a device confirmation leads to: log in the test user and grant what was asked.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params } = details;
  lastClaims = params.claims ? JSON.parse(params.claims) : null;
  const grant = new provider.Grant({ accountId: 'test-user', clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId: 'test-user' },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

// A browser, in a few lines: cookies carried across requests, redirects followed by hand.
async function walkDevicePages(userCode, action) {
  const jar = new Map();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (r) => {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  let r = await fetch(`${issuer}/device`, { headers: { cookie: cookie() } });
  keep(r);
  const page = await r.text();
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
  if (!xsrf) return { ok: false, why: 'no xsrf field on /device' };
  const form = new URLSearchParams({ xsrf, user_code: userCode });
  form.set(action === 'approve' ? 'confirm' : 'abort', 'yes');
  r = await fetch(`${issuer}/device`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  keep(r);
  for (let hops = 0; hops < 5 && r.status >= 300 && r.status < 400; hops += 1) {
    r = await fetch(new URL(r.headers.get('location'), issuer), { redirect: 'manual', headers: { cookie: cookie() } });
    keep(r);
  }
  const text = await r.text();
  if (action === 'approve') return { ok: text.includes('Sign-in Success'), why: r.status };
  return { ok: text.includes('interrupted'), why: r.status };
}

server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (req.method === 'POST' && url.pathname === '/__test/device') {
      const outcome = await walkDevicePages(url.searchParams.get('user_code') || '', url.searchParams.get('action'));
      res.writeHead(outcome.ok ? 200 : 409, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...outcome, claims: lastClaims }));
      return;
    }
    if (url.pathname.startsWith('/interaction/')) {
      await interaction(req, res);
      return;
    }
  } catch (e) {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: false, why: String(e) }));
    return;
  }
  provider.callback()(req, res);
});

process.stdout.write(`${JSON.stringify({ issuer, pid: process.pid })}\n`);
