// The console in a real browser (headless Chromium, driven by playwright-core): a support
// engineer signs in with an operator key, creates a workspace, enables SCIM and copies the
// token; an IdP provisions a user with it; the engineer sees the user and the request in the
// console. Then a customer's IT admin opens a setup link and takes a token.
//
//   ROLLCALL_BIN=target/debug/rollcall node tests/e2e/console.test.mjs
//
// CHROMIUM (default /usr/bin/chromium) names the browser. With SCREENSHOTS=DIR the main pages
// are saved there as PNG (scripts/e2e --screenshots writes them to docs/screenshots).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const bin = process.env.ROLLCALL_BIN;
assert.ok(bin, 'set ROLLCALL_BIN to the rollcall binary');
const shots = process.env.SCREENSHOTS;

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(check, what, ms = 20000) {
  const started = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'rollcall-e2e-'));
const env = {
  ...process.env,
  ROLLCALL_DATABASE_URL: `sqlite://${join(dir, 'e2e.db')}`,
  ROLLCALL_SECRET_KEY: '03'.repeat(32),
  RUST_LOG: 'warn',
};
const cli = (...args) => JSON.parse(execFileSync(bin, [...args, '--json'], { env }).toString());
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const key = cli('apikey', 'create', '--label', 'e2e').key;
const server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--no-bootstrap', '--public-url', origin], {
  env,
  stdio: 'ignore',
});
let browser;
try {
  await waitFor(async () => {
    try {
      return (await fetch(`${origin}/healthz`)).ok;
    } catch {
      return false;
    }
  }, 'the server');

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();

  // Signed out, the console sends the browser to the sign-in page.
  await page.goto(`${origin}/console`);
  assert.equal(new URL(page.url()).pathname, '/console/login');
  if (shots) await page.screenshot({ path: join(shots, 'console-sign-in.png') });
  await page.fill('input[name=key]', 'rok_not_a_key');
  await page.click('button:has-text("Sign in")');
  assert.match(await page.content(), /That is not a valid operator API key/);
  await page.fill('input[name=key]', key);
  await page.click('button:has-text("Sign in")');
  assert.equal(new URL(page.url()).pathname, '/console');
  const cookies = await context.cookies();
  assert.equal(cookies.length, 1);
  assert.equal(cookies[0].httpOnly, true);
  assert.equal(cookies[0].sameSite, 'Strict');

  // A new workspace, SCIM enabled, the token copied from the page.
  await page.fill('input[name=name]', 'Initech');
  await page.click('button:has-text("Create")');
  assert.match(new URL(page.url()).pathname, /^\/console\/workspaces\//);
  assert.equal(await page.textContent('#scim-status'), 'off');
  await page.click('button:has-text("Enable SCIM")');
  const token = await page.textContent('#new-token');
  const baseUrl = await page.textContent('#base-url');
  assert.match(token, /^rcs_[0-9a-f]{16}_[0-9a-f]{64}$/);
  assert.equal(await page.textContent('#scim-status'), 'enabled');
  const workspacePath = new URL(baseUrl).pathname.replace('/integrations/scim/', '/console/workspaces/');

  // The IdP provisions a user, and sends one the workspace refuses.
  const scim = (body) =>
    fetch(`${baseUrl}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(body),
    });
  assert.equal((await scim({ userName: 'peter@initech.com', password: 'TPS-report-1' })).status, 201);
  assert.equal((await scim({ userName: 'not-an-email' })).status, 400);

  // The console shows the member and both requests (the failed one marked), and no secret.
  await waitFor(async () => {
    await page.goto(`${origin}${workspacePath}`);
    return (await page.locator('#request-log tr.failed').count()) === 1;
  }, 'the request log');
  const members = await page.textContent('#members');
  assert.match(members, /peter@initech\.com\s*Member\s*active/);
  const log = await page.textContent('#request-log');
  assert.match(log, /POST \/integrations\/scim\/\{workspace\}\/Users\s*201/);
  assert.match(log, /invalidValue userName/);
  const html = await page.content();
  assert.ok(!html.includes('TPS-report-1'), 'a password is on the page');
  assert.ok(!html.includes(token), 'the token is shown again');
  assert.match(await page.textContent('#events'), /user\.created/);
  if (shots) {
    await page.goto(`${origin}/console`);
    await page.screenshot({ path: join(shots, 'console-workspaces.png') });
    await page.goto(`${origin}${workspacePath}`);
    await page.screenshot({ path: join(shots, 'console-workspace.png'), fullPage: true });
  }

  // A customer's IT admin, with no console session, takes a token through a setup link.
  const workspaceId = workspacePath.split('/').pop();
  const link = cli('setup-link', 'create', workspaceId, '--public-url', origin);
  const admin = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  await admin.goto(link.url);
  assert.equal(await admin.textContent('#base-url'), baseUrl);
  if (shots) await admin.screenshot({ path: join(shots, 'console-setup-link.png'), fullPage: true });
  await admin.click('button:has-text("Generate my token")');
  const adminToken = await admin.textContent('#new-token');
  const list = await fetch(`${baseUrl}/Users`, { headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(list.status, 200);
  await admin.goto(link.url);
  assert.match(await admin.content(), /was already used/);

  console.log('e2e: console sign-in, workspace, SCIM token, provisioning, request log and setup link: ok');
} finally {
  if (browser) await browser.close();
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}
