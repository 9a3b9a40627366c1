// End-to-end browser tests of `troad idp`, the OpenID Connect provider, in real Chromium.
//
// A real `troad idp` process (TROAD_BINARY) on a free loopback port, a relying party built
// on openid-client (rp.mjs, not troad's code), and Debian's /usr/bin/chromium driven with
// playwright-core. Every person and national id here is synthetic.
//
//   TROAD_BINARY=/path/to/troad node --test idp.test.mjs
//   (KEEP_E2E=1 keeps the temporary directory: idp.toml, data/, idp.log, rp.log.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TROAD = process.env.TROAD_BINARY;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TEST_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------
// Helpers: synthetic national ids, TOTP (RFC 6238), waiting.

// A valid Taiwan national id: letter, 1 (male) or 2 (female), seven digits, check digit.
const LETTER_CODES = 'ABCDEFGHJKLMNPQRSTUVXYWZIO';  // A=10, B=11, … in registry order
function nationalId(letter, body8) {
  const code = LETTER_CODES.indexOf(letter) + 10;
  assert.ok(code >= 10 && /^[12]\d{7}$/.test(body8), `bad national id parts ${letter}${body8}`);
  let sum = Math.floor(code / 10) + (code % 10) * 9;
  for (let i = 0; i < 8; i++) sum += Number(body8[i]) * (8 - i);
  return `${letter}${body8}${(10 - (sum % 10)) % 10}`;
}

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of clean) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

const TOTP_PERIOD_S = 30;
const totpStep = (ms = Date.now()) => Math.floor(ms / 1000 / TOTP_PERIOD_S);

// RFC 6238 TOTP with HMAC-SHA1, 30-second steps, 6 digits (RFC 4226 dynamic truncation).
function totp(secretBase32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits until the current TOTP step is at least `minStep` and at least `marginS` seconds of
// it remain, so a code typed now is still the current one when the server checks it.
async function waitForTotpStep(minStep, marginS = 5) {
  const deadline = Date.now() + 70_000;
  for (;;) {
    const now = Date.now();
    const step = totpStep(now);
    const remainingMs = (step + 1) * TOTP_PERIOD_S * 1000 - now;
    if (step >= minStep && remainingMs >= marginS * 1000) return step;
    if (now > deadline) throw new Error(`waited too long for TOTP step ${minStep}`);
    const wait = step < minStep ? minStep * TOTP_PERIOD_S * 1000 - now : remainingMs;
    await sleep(Math.max(50, wait + 50));
  }
}

async function waitUntil(what, fn, timeoutMs = 10_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------
// The processes: troad idp, the relying party, Chromium.

const env = {};  // dir, idpPort, issuer, token, config, rp, rpPort, browser
const children = [];
let anyFailed = false;

function troad(args, timeout = 30_000) {
  const r = spawnSync(TROAD, args, { encoding: 'utf8', timeout });
  assert.equal(r.status, 0,
    `troad ${args.join(' ')} exited ${r.status} (${r.signal ?? ''}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function startChild(name, cmd, args, options) {
  const log = fs.openSync(path.join(env.dir, `${name}.log`), 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', log], ...options });
  child.stdout.on('data', (d) => fs.writeSync(log, d));
  child.on('exit', (code, signal) => {
    child.exited = { code, signal };
  });
  children.push({ name, child });
  return child;
}

async function stopChild({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

// One person for each test, so per-person limits (SMS sends per hour, failed attempts)
// never couple the tests.
const PEOPLE = {
  sms: { id: nationalId('A', '12345678'), name: '測試者', mobile: '0912345678' },
  wrong: { id: nationalId('B', '23456789'), name: '王小明', mobile: '0912000001' },
  totp: { id: nationalId('C', '13572468'), name: '陳大文', mobile: '0912000002' },
  passkey: { id: nationalId('D', '24681357'), name: '林美玲', mobile: '0912000003' },
  mfa: { id: nationalId('E', '11223344'), name: '張志強', mobile: '0912000004' },
  jwt: { id: nationalId('F', '25836914'), name: '李淑芬', mobile: '0912000005' },
  english: { id: nationalId('G', '14725836'), name: 'Alex Lin', mobile: '0912000006' },
  a11y: { id: nationalId('H', '25814736'), name: '黃雅婷', mobile: '0912000007' },
};

before(async () => {
  assert.ok(TROAD, 'TROAD_BINARY must name the troad binary');
  assert.ok(fs.existsSync(TROAD), `TROAD_BINARY ${TROAD} does not exist`);
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  env.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troad-idp-e2e-'));
  env.idpPort = await freePort();
  env.issuer = `http://localhost:${env.idpPort}`;
  const idpDir = path.join(env.dir, 'idp');

  const init = troad(['idp', 'init', '--dir', idpDir, '--issuer', env.issuer,
    '--listen', `127.0.0.1:${env.idpPort}`]);
  env.token = /management token:\s*(\S+)/.exec(init)?.[1];
  assert.ok(env.token, `no management token in:\n${init}`);
  env.config = path.join(idpDir, 'idp.toml');
  env.smsFile = path.join(idpDir, 'data', 'sms.jsonl');

  // The relying party first: its port goes into the registered redirect URIs.
  const rpConfig = path.join(env.dir, 'rp.json');
  const rp = startChild('rp', process.execPath, [path.join(HERE, 'rp.mjs'), rpConfig],
    { cwd: HERE });
  env.rpPort = await new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('rp.mjs did not start in 10 s')), 10_000);
    rp.stdout.on('data', (d) => {
      buf += d;
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    rp.once('exit', (code) => reject(new Error(`rp.mjs exited ${code}`)));
  });
  env.rp = `http://localhost:${env.rpPort}`;
  const redirectUri = `${env.rp}/cb`;

  for (const p of Object.values(PEOPLE)) {
    troad(['idp', 'person', 'add', '-c', env.config, '--national-id', p.id, '--name', p.name,
      '--mobile', p.mobile]);
  }
  const added = troad(['idp', 'client', 'add', '-c', env.config, '--id', 'rp1', '--name',
    'Test RP', '--redirect-uri', redirectUri]);
  const secret = /client_secret:\s*(\S+)/.exec(added)?.[1];
  assert.ok(secret, `no client_secret in:\n${added}`);

  // private_key_jwt: an ES256 key made now; the idp gets only the public JWKS.
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = crypto.randomBytes(8).toString('hex');
  const privJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  const { d: _d, ...pubJwk } = privJwk;
  const jwksFile = path.join(env.dir, 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [pubJwk] }));
  troad(['idp', 'client', 'add', '-c', env.config, '--id', 'rp2', '--name', 'JWT RP',
    '--redirect-uri', redirectUri, '--auth', 'private_key_jwt', '--jwks', jwksFile]);

  fs.writeFileSync(rpConfig, JSON.stringify({
    issuer: env.issuer,
    clients: {
      rp1: { auth: 'client_secret_basic', secret },
      rp2: { auth: 'private_key_jwt', jwk: privJwk },
    },
  }));

  const idp = startChild('idp', TROAD, ['idp', '-c', env.config], { cwd: env.dir });
  await waitUntil('the idp to answer /healthz', async () => {
    if (idp.exited) throw new Error(`troad idp exited: ${JSON.stringify(idp.exited)}\n${idpLog()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${env.idpPort}/healthz`,
        { signal: AbortSignal.timeout(1_000) });
      return r.ok;
    } catch {
      return false;
    }
  }, 15_000);

  env.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await env.browser?.close().catch(() => {});
  for (const c of children.reverse()) await stopChild(c);
  if (anyFailed) {
    console.error(`--- idp.log (last lines) ---\n${idpLog(40)}`);
    console.error(`--- rp.log ---\n${tail(path.join(env.dir, 'rp.log'), 40)}`);
  }
  if (env.dir && !process.env.KEEP_E2E && !anyFailed) {
    fs.rmSync(env.dir, { recursive: true, force: true });
  } else if (env.dir) {
    console.error(`kept ${env.dir}`);
  }
});

function tail(file, n) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}
const idpLog = (n = 20) => tail(path.join(env.dir, 'idp.log'), n);

// A test with a bounded time; a failure keeps the logs and prints their ends.
function e2e(name, fn) {
  test(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      anyFailed = true;
      throw e;
    }
  });
}

// A fresh browser profile (no cookies): a person on a new device.
async function newContext(options = {}) {
  const context = await env.browser.newContext({ locale: 'zh-TW', ...options });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return context;
}

async function withPage(options, fn) {
  const context = await newContext(options);
  try {
    const page = await context.newPage();
    return await fn(page, context);
  } catch (e) {
    // Where the browser was, for the failure message.
    const pages = context.pages();
    if (pages.length) {
      const p = pages[pages.length - 1];
      const text = await p.locator('body').innerText({ timeout: 2_000 }).catch(() => '');
      await p.screenshot({ path: path.join(env.dir, `failure-${Date.now()}.png`) }).catch(() => {});
      e.message += `\n  at ${p.url()}\n  page text: ${text.slice(0, 800)}`;
    }
    throw e;
  } finally {
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------
// What a person does, and what the relying party shows.

const idpOrigin = () => `http://localhost:${env.idpPort}`;

async function startAtRp(page, query = '') {
  await page.goto(`${env.rp}/login?${query}`);
  await page.waitForURL((u) => u.origin === idpOrigin() && u.pathname === '/signin');
}

async function identify(page, person) {
  await page.locator('input#national_id').fill(person.id);
  await page.locator('form[action="/signin/identify"] button[type=submit]').click();
  await page.locator('#passkey-signin').waitFor();
}

function smsMessages() {
  if (!fs.existsSync(env.smsFile)) return [];
  return fs.readFileSync(env.smsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// Presses "text me a code" and returns the code the idp sent to the person's mobile.
async function sendSms(page, person) {
  const before = smsMessages().length;
  await page.locator('form[action="/signin/sms/send"] button[type=submit]').click();
  await page.locator('input#sms_code').waitFor();
  const msg = await waitUntil(`an SMS to ${person.mobile}`, () =>
    smsMessages().slice(before).reverse().find((m) => m.to === person.mobile));
  const code = /\b(\d{6})\b/.exec(msg.text)?.[1];
  assert.ok(code, `no 6-digit code in the SMS text ${JSON.stringify(msg.text)}`);
  assert.ok(msg.at, 'the SMS record has a time');
  return code;
}

async function submitSms(page, code) {
  await page.locator('input#sms_code').fill(code);
  await page.locator('form[action="/signin/sms/verify"] button[type=submit]').click();
}

async function submitTotp(page, code) {
  await page.locator('input#totp_code').fill(code);
  await page.locator('form[action="/signin/totp"] button[type=submit]').click();
}

// The relying party's page after the redirect back: the claims it verified.
async function rpResult(page) {
  await page.waitForURL((u) => u.origin === env.rp && u.pathname === '/cb');
  const error = await page.locator('pre#error').textContent({ timeout: 500 }).catch(() => null);
  assert.equal(error, null, `the relying party refused the sign-in: ${error}`);
  const result = JSON.parse(await page.locator('pre#result').textContent());
  // What openid-client checked, stated again: the token is for this RP from this issuer.
  assert.equal(result.id_token.iss, env.issuer);
  assert.equal(result.id_token.aud, result.client);
  assert.equal(result.id_token_signature.alg, 'ES256');
  assert.ok(result.sub && typeof result.sub === 'string', 'sub is present');
  assert.equal(result.userinfo.sub, result.sub, 'userinfo is about the same subject');
  return result;
}

async function signInWithSms(page, person, query = '') {
  await startAtRp(page, query);
  await identify(page, person);
  const code = await sendSms(page, person);
  await submitSms(page, code);
}

async function audit() {
  const r = await fetch(`${idpOrigin()}/api/v1/audit`, {
    headers: { authorization: `Bearer ${env.token}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(r.status, 200, 'the management API answers with the token');
  return (await r.json()).entries;
}

async function alertText(page) {
  const alert = page.getByRole('alert');
  await alert.first().waitFor();
  return (await alert.allTextContents()).join(' ');
}

// Signs in at /account with SMS, then sets up an authenticator app there. Returns the
// secret and the TOTP step whose code confirmed it (that code is then spent).
async function setUpTotp(page, person) {
  await page.goto(`${idpOrigin()}/account`);
  await page.waitForURL((u) => u.pathname === '/signin');
  await identify(page, person);
  await submitSms(page, await sendSms(page, person));
  await page.waitForURL((u) => u.origin === idpOrigin() && u.pathname === '/account');
  await assertVisibleText(page, person.name);
  await assertVisibleText(page, '驗證器 App：未設定');
  await page.locator('form[action="/account/totp/begin"] button[type=submit]').click();
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{16,}=*$/, 'the key is base32');
  assert.equal(await page.locator('.qr svg').count(), 1, 'a QR code is shown');
  const step = await waitForTotpStep(0);
  await page.locator('input#totp_confirm').fill(totp(secret, step));
  await page.locator('form[action="/account/totp/confirm"] button[type=submit]').click();
  await page.getByRole('status').filter({ hasText: '已設定驗證器 App。' }).waitFor();
  await assertVisibleText(page, '驗證器 App：已設定');
  return { secret, step };
}

// The first of several waits to finish; the others' later failures are ignored.
function firstOf(...waits) {
  for (const w of waits) w.catch(() => {});
  return Promise.race(waits);
}

async function assertVisibleText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ state: 'visible' });
}

// ---------------------------------------------------------------------------------------
// The tests.

e2e('a. SMS sign-in on the zh-TW page returns loa:1 claims to the relying party', async () => {
  const person = PEOPLE.sms;
  await withPage({}, async (page) => {
    await startAtRp(page, 'client=rp1');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-TW');
    await assertVisibleText(page, '登入以繼續使用「Test RP」');
    await assertVisibleText(page, '身分證統一編號');
    await identify(page, person);
    const code = await sendSms(page, person);
    await page.getByRole('status').filter({ hasText: '驗證碼已寄出' }).waitFor();
    await submitSms(page, code);
    const r = await rpResult(page);
    assert.equal(r.acr, 'urn:troad:loa:1');
    assert.ok(r.amr.includes('sms'), `amr ${r.amr} includes sms`);
    assert.ok(!r.amr.includes('mfa'), 'one method is not mfa');
    assert.equal(r.name, person.name);
    assert.equal(r.userinfo.name, person.name);
    assert.equal(r.id_token.national_id, undefined, 'no national id without the scope');
    assert.equal(r.userinfo.national_id, undefined);
    assert.ok(r.id_token.auth_time <= r.id_token.iat, 'auth_time is not after iat');

    // Single sign-on: the same browser signing in again sees no page at all.
    await page.goto(`${env.rp}/login?client=rp1`);
    const again = await rpResult(page);
    assert.equal(again.sub, r.sub, 'the same subject for the same person and client');
    assert.equal(again.acr, 'urn:troad:loa:1');
  });
  const entries = await audit();
  assert.ok(entries.some((e) => e.event === 'authorize' && e.outcome === 'ok' && e.client === 'rp1'),
    'the audit records the authorization');
  assert.ok(entries.some((e) => e.event === 'token' && e.outcome === 'ok' && e.client === 'rp1'),
    'the audit records the token');
});

e2e('b. a wrong SMS code is refused on the page and audited', async () => {
  const person = PEOPLE.wrong;
  await withPage({}, async (page) => {
    await startAtRp(page, 'client=rp1');
    await identify(page, person);
    const code = await sendSms(page, person);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await submitSms(page, wrong);
    const text = await alertText(page);
    assert.match(text, /驗證碼不正確/);
    const url = new URL(page.url());
    assert.equal(url.origin, idpOrigin(), 'still at the idp, not sent back to the service');
    assert.ok(await page.locator('input#sms_code').isVisible(), 'the code can be entered again');
    assert.ok(!page.url().includes('code='), 'no authorization code in the URL');

    const refused = (await audit()).find((e) => e.event === 'signin' && e.outcome === 'refused'
      && e.reason === 'wrong SMS code');
    assert.ok(refused, 'the audit has the refused attempt');
    assert.equal(refused.method, 'sms');
    assert.equal(refused.client, 'rp1');

    // The right code still works afterwards.
    await submitSms(page, code);
    const r = await rpResult(page);
    assert.equal(r.acr, 'urn:troad:loa:1');
    assert.equal(r.name, person.name);
  });
});

e2e('c. TOTP: set up on /account, sign in with it alone (loa:2), a reused code is refused',
  async () => {
    const person = PEOPLE.totp;
    const { secret, step: confirmStep } = await withPage({}, (page) => setUpTotp(page, person));

    // A new device: the authenticator app alone, for a service that needs loa:2.
    const step = await waitForTotpStep(confirmStep + 1);
    const code = totp(secret, step);
    await withPage({}, async (page) => {
      await startAtRp(page, `client=rp1&acr_values=${encodeURIComponent('urn:troad:loa:2')}`);
      await identify(page, person);
      await assertVisibleText(page, '此服務需要驗證器 App、通行密鑰或自然人憑證。');
      await submitTotp(page, code);
      const r = await rpResult(page);
      assert.equal(r.acr, 'urn:troad:loa:2');
      assert.ok(r.amr.includes('otp'), `amr ${r.amr} includes otp`);
      assert.ok(!r.amr.includes('sms'), 'no SMS was used');
      assert.equal(r.name, person.name);
    });

    // The same code again on another new device: refused (RFC 6238 §5.2).
    assert.ok(totpStep() <= step + 1, 'still within the code\'s validity window');
    await withPage({}, async (page) => {
      await startAtRp(page, `client=rp1&acr_values=${encodeURIComponent('urn:troad:loa:2')}`);
      await identify(page, person);
      await submitTotp(page, code);
      assert.match(await alertText(page), /此驗證碼已使用過/);
      assert.equal(new URL(page.url()).origin, idpOrigin(), 'not sent back to the service');
    });
    const entries = await audit();
    assert.ok(entries.some((e) => e.outcome === 'refused' && e.method === 'totp'
      && e.reason === 'TOTP code reused'), 'the audit has the reused code');
  });

e2e('d. passkey: register on /account, then sign in with it alone (loa:3, hwk)', async () => {
  const person = PEOPLE.passkey;
  const authenticator = {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
    hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
  };
  const credential = await withPage({}, async (page, context) => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator',
      { options: authenticator });
    await page.goto(`${idpOrigin()}/account`);
    await page.waitForURL((u) => u.pathname === '/signin');
    await assertVisibleText(page, '我的帳號');
    await identify(page, person);
    await submitSms(page, await sendSms(page, person));
    await page.waitForURL((u) => u.pathname === '/account');
    await assertVisibleText(page, '尚未新增通行密鑰。');
    await page.locator('input#passkey_label').fill('E2E 測試金鑰');
    await page.locator('#passkey-register').click();
    // The script reloads the page once the idp accepted the new passkey, or says why not.
    const outcome = await firstOf(
      page.locator('li').filter({ hasText: 'E2E 測試金鑰' }).waitFor().then(() => 'added'),
      page.locator('#passkey-status').filter({ hasText: /\S/ }).waitFor()
        .then(async () => `refused: ${await page.locator('#passkey-status').textContent()}`));
    assert.equal(outcome, 'added', 'the idp accepts the new passkey');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'the authenticator made one credential');
    assert.equal(credentials[0].rpId, 'localhost');
    return credentials[0];
  });
  const added = (await audit()).find((e) => e.event === 'account' && e.method === 'passkey');
  assert.equal(added?.outcome, 'ok', 'the audit has the passkey added');

  // A new browser profile holding the same authenticator credential.
  await withPage({}, async (page, context) => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator',
      { options: authenticator });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    await startAtRp(page, `client=rp1&acr_values=${encodeURIComponent('urn:troad:loa:3')}`);
    await identify(page, person);
    await assertVisibleText(page, '此服務需要通行密鑰或自然人憑證。');
    await page.locator('#passkey-signin').click();
    const outcome = await firstOf(
      page.waitForURL((u) => u.origin === env.rp).then(() => 'signed in'),
      page.locator('#passkey-status').filter({ hasText: /\S/ }).waitFor()
        .then(async () => `refused: ${await page.locator('#passkey-status').textContent()}`));
    assert.equal(outcome, 'signed in', 'the idp accepts the passkey');
    const r = await rpResult(page);
    assert.equal(r.acr, 'urn:troad:loa:3');
    assert.ok(r.amr.includes('hwk'), `amr ${r.amr} includes hwk`);
    assert.ok(!r.amr.includes('sms'), 'no SMS was used');
    assert.equal(r.name, person.name);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(credentials[0].signCount > credential.signCount, 'the authenticator signed');
  });
});

e2e('e. step-up: urn:troad:mfa asks for a second method after SMS, then TOTP', async () => {
  const person = PEOPLE.mfa;
  const { secret, step: confirmStep } = await withPage({}, (page) => setUpTotp(page, person));
  await withPage({}, async (page) => {
    await signInWithSms(page, person, `client=rp1&acr_values=${encodeURIComponent('urn:troad:mfa')}`);
    // Not enough yet: still at the idp, which says what was done and what is needed.
    await page.getByRole('status').filter({ hasText: '已完成：簡訊驗證碼' }).waitFor();
    await assertVisibleText(page, '此服務需要兩種不同的驗證方式。');
    assert.equal(new URL(page.url()).origin, idpOrigin(), 'SMS alone does not go back');
    const step = await waitForTotpStep(confirmStep + 1);
    await submitTotp(page, totp(secret, step));
    const r = await rpResult(page);
    assert.equal(r.acr, 'urn:troad:mfa');
    for (const v of ['sms', 'otp', 'mfa']) assert.ok(r.amr.includes(v), `amr ${r.amr} includes ${v}`);
  });
});

e2e('f. a private_key_jwt client completes the flow; subjects are pairwise', async () => {
  const person = PEOPLE.jwt;
  await withPage({}, async (page) => {
    await startAtRp(page, 'client=rp2');
    await assertVisibleText(page, '登入以繼續使用「JWT RP」');
    await identify(page, person);
    await submitSms(page, await sendSms(page, person));
    const r = await rpResult(page);
    assert.equal(r.client, 'rp2');
    assert.equal(r.id_token.aud, 'rp2');
    assert.equal(r.acr, 'urn:troad:loa:1');
    assert.equal(r.name, person.name);

    // The other client, same person (single sign-on): a different subject.
    await page.goto(`${env.rp}/login?client=rp1`);
    const other = await rpResult(page);
    assert.equal(other.client, 'rp1');
    assert.notEqual(other.sub, r.sub, 'pairwise subjects differ between clients');
  });
  const entries = await audit();
  assert.ok(entries.some((e) => e.event === 'token' && e.outcome === 'ok' && e.client === 'rp2'),
    'the audit has the token issued to rp2');
});

e2e('g. English: ui_locales=en and ?lang=en show the page in English', async () => {
  const person = PEOPLE.english;
  await withPage({}, async (page) => {
    // The browser prefers zh-TW; the service asks for English.
    await startAtRp(page, 'client=rp1&ui_locales=en');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await assertVisibleText(page, 'Sign in to continue to \u201cTest RP\u201d');
    await assertVisibleText(page, 'National ID number');
    // A mistyped id: the error is in English too.
    await page.locator('input#national_id').fill('A123456788');
    await page.locator('form[action="/signin/identify"] button[type=submit]').click();
    assert.match(await alertText(page), /The ID number is not valid/);
    await identify(page, person);
    await assertVisibleText(page, 'Text a code to my registered mobile');
    await submitSms(page, await sendSms(page, person));
    const r = await rpResult(page);
    assert.equal(r.name, person.name);
  });
  await withPage({}, async (page) => {
    await startAtRp(page, 'client=rp1');
    await assertVisibleText(page, '身分證統一編號');
    // The language link in the header: ?lang=en.
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL((u) => u.searchParams.get('lang') === 'en');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await assertVisibleText(page, 'National ID number');
    // The choice sticks for the next page.
    await page.goto(`${idpOrigin()}/account`);
    await page.waitForURL((u) => u.pathname === '/signin');
    await assertVisibleText(page, 'National ID number');
  });
});

e2e('h. a tampered redirect_uri shows an error page and does not redirect', async () => {
  // The RP's real authorization URL, then its redirect_uri changed as an attacker would.
  const res = await fetch(`${env.rp}/login?client=rp1`,
    { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 302);
  const authorize = new URL(res.headers.get('location'));
  assert.equal(authorize.origin, idpOrigin());
  assert.equal(authorize.pathname, '/authorize');

  for (const target of [`${env.rp}/trap`, `${env.rp}/cb/../trap`, 'http://attacker.example/cb']) {
    const tampered = new URL(authorize);
    tampered.searchParams.set('redirect_uri', target);
    await withPage({}, async (page) => {
      const offsite = [];
      await page.route((u) => u.origin !== idpOrigin(), (route) => {
        offsite.push(route.request().url());
        return route.abort();
      });
      const response = await page.goto(tampered.href);
      assert.equal(response.status(), 400, 'the idp refuses the request');
      assert.equal(new URL(page.url()).pathname, '/authorize', 'the browser stays at the idp');
      assert.match(await alertText(page), /redirect_uri/);
      assert.equal(await page.locator('input#national_id').count(), 0, 'no sign-in form');
      await sleep(300);
      assert.deepEqual(offsite, [], 'the browser was sent nowhere else');
    });
  }
  const hits = await (await fetch(`${env.rp}/debug/hits`)).json();
  assert.deepEqual(hits, [], 'the trap URL was never reached');
  const entries = await audit();
  assert.ok(entries.some((e) => e.event === 'authorize' && e.outcome === 'refused'
    && /redirect_uri/.test(e.reason)), 'the audit has the refused request');
});

// axe-core (from npm) checks each page against WCAG 2.0 and 2.1, levels A and AA. The
// pages' Content-Security-Policy allows only troad's own script, so this context
// bypasses it to inject axe; nothing else in it differs from the other tests.
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

async function wcagViolations(page, what) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  // A run that checked nothing would pass vacuously.
  assert.ok(result.passes.length > 10, `${what}: axe checked only ${result.passes.length} rules`);
  return result.violations.map((v) =>
    `${what}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

e2e('i. every page meets WCAG 2.1 AA as axe-core checks it, in both languages and on a phone', async () => {
  const person = PEOPLE.a11y;
  const found = [];
  for (const [lang, query] of [['zh-TW', ''], ['en', '&ui_locales=en']]) {
    await withPage({ bypassCSP: true, viewport: { width: 360, height: 740 }, isMobile: true },
      async (page) => {
        await startAtRp(page, `client=rp1${query}`);
        found.push(...await wcagViolations(page, `${lang} sign-in, national id`));
        await page.locator('input#national_id').fill('A123456788');
        await page.locator('form[action="/signin/identify"] button[type=submit]').click();
        await alertText(page);
        found.push(...await wcagViolations(page, `${lang} sign-in, an invalid id`));
        await identify(page, person);
        found.push(...await wcagViolations(page, `${lang} sign-in, methods`));
        await sendSms(page, person);
        found.push(...await wcagViolations(page, `${lang} sign-in, SMS sent`));
        await submitSms(page, '000000');
        await alertText(page);
        found.push(...await wcagViolations(page, `${lang} sign-in, a wrong code`));
      });
  }
  await withPage({ bypassCSP: true }, async (page) => {
    await page.goto(`${idpOrigin()}/account`);
    await page.waitForURL((u) => u.pathname === '/signin');
    await identify(page, person);
    await submitSms(page, await sendSms(page, person));
    await page.waitForURL((u) => u.origin === idpOrigin() && u.pathname === '/account');
    found.push(...await wcagViolations(page, 'account'));
    await page.locator('form[action="/account/totp/begin"] button[type=submit]').click();
    await page.locator('#totp-secret').waitFor();
    found.push(...await wcagViolations(page, 'account, authenticator app set-up'));
  });
  assert.deepEqual(found, [], `WCAG 2.1 AA violations:\n${found.join('\n')}`);
});

// ---------------------------------------------------------------------------------------
// Dual document needs a T-Road network: `troad demo` builds one (a central; the household
// registry, the NHI and the identity centre as members with their own gateways; grants)
// and runs its own idp on :4600 with [dual_document] pointing at the idp's gateway. A
// second relying party (openid-client again) is registered with that idp.

async function startRelyingParty(name, configFile) {
  const rp = startChild(name, process.execPath, [path.join(HERE, 'rp.mjs'), configFile],
    { cwd: HERE });
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`${name} did not start in 10 s`)), 10_000);
    rp.stdout.on('data', (d) => {
      buf += d;
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(`http://localhost:${m[1]}`);
      }
    });
    rp.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
}

e2e('j. dual document over T-Road: someone new signs in with health-card and household numbers',
  async () => {
    const demoDir = path.join(env.dir, 'demo');
    const demoLog = path.join(env.dir, 'demo.log');
    const demo = startChild('demo', TROAD,
      ['demo', '--dir', demoDir, '--examples', path.join(HERE, '..', '..', 'examples')],
      { cwd: env.dir });
    await waitUntil('the demo network to be up', () => {
      if (demo.exited) throw new Error(`troad demo exited: ${tail(demoLog, 30)}`);
      return fs.existsSync(demoLog) && fs.readFileSync(demoLog, 'utf8').includes('Try it yourself');
    }, 150_000);
    const demoIssuer = 'http://localhost:4600';
    const demoToml = path.join(demoDir, 'idp', 'idp.toml');
    const demoToken = /management token:\s*(\S+)/.exec(fs.readFileSync(demoLog, 'utf8'))?.[1];
    assert.ok(demoToken, 'the demo printed its idp management token');

    const rpConfig = path.join(env.dir, 'rp-demo.json');
    const rp = await startRelyingParty('rp-demo', rpConfig);
    const added = troad(['idp', 'client', 'add', '-c', demoToml, '--id', 'rp-demo', '--name',
      '示範 RP', '--redirect-uri', `${rp}/cb`, '--national-id']);
    const secret = /client_secret:\s*(\S+)/.exec(added)?.[1];
    fs.writeFileSync(rpConfig, JSON.stringify({
      issuer: demoIssuer, clients: { 'rp-demo': { auth: 'client_secret_basic', secret } },
    }));

    // 陳淑芬 (synthetic, examples/moi-household and examples/nhia-cards): unknown to the idp.
    await withPage({}, async (page) => {
      await page.goto(`${rp}/login?client=rp-demo&scope=openid+profile+national_id`);
      await page.waitForURL((u) => u.origin === demoIssuer && u.pathname === '/signin');
      await page.locator('input#national_id').fill('A223456781');
      await page.locator('form[action="/signin/identify"] button[type=submit]').click();
      await page.locator('input#health_card').fill('000012345679');
      await page.locator('input#household_id').fill('H0000001');
      await page.locator('form[action="/signin/dual-document"] button[type=submit]').click();
      await page.waitForURL((u) => u.origin === rp && u.pathname === '/cb');
      const error = await page.locator('pre#error').textContent({ timeout: 500 }).catch(() => null);
      assert.equal(error, null, `the relying party refused the sign-in: ${error}`);
      const r = JSON.parse(await page.locator('pre#result').textContent());
      assert.equal(r.id_token.iss, demoIssuer);
      assert.equal(r.acr, 'urn:troad:loa:1');
      assert.deepEqual(r.amr, ['kba']);
      assert.equal(r.name, '陳淑芬', 'the name comes from the household registry');
      assert.equal(r.id_token.national_id, 'A223456781');
    });

    // 張雅婷's card is reported lost: the right numbers are still refused.
    await withPage({}, async (page) => {
      await page.goto(`${rp}/login?client=rp-demo`);
      await page.waitForURL((u) => u.origin === demoIssuer && u.pathname === '/signin');
      await page.locator('input#national_id').fill('T225863093');
      await page.locator('form[action="/signin/identify"] button[type=submit]').click();
      await page.locator('input#health_card').fill('000098765432');
      await page.locator('input#household_id').fill('H0000002');
      await page.locator('form[action="/signin/dual-document"] button[type=submit]').click();
      assert.match(await alertText(page), /資料與戶政、健保紀錄不符/);
      assert.equal(new URL(page.url()).origin, demoIssuer, 'the browser stays at the idp');
    });
    const r = await fetch(`${demoIssuer}/api/v1/audit`, {
      headers: { authorization: `Bearer ${demoToken}` }, signal: AbortSignal.timeout(10_000) });
    const entries = (await r.json()).entries;
    assert.ok(entries.some((e) => e.outcome === 'refused' && e.method === 'dual_document' &&
      e.reason.includes('reported_lost')), 'the audit says the card was reported lost');
    assert.ok(entries.some((e) => e.outcome === 'ok' && e.method === 'dual_document' &&
      e.reason.includes('account created from the household registry')));
  });
