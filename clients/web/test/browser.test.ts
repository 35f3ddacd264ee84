/**
 * The page end to end in Chromium, against the real services (startStack) and the real
 * server.mjs serving a fresh build, on its own origin, so CORS and the gateway's Origin check
 * are exercised as in `make up`.
 *
 * The steps share one stack and build on each other (Alice and Bob stay logged in), so they
 * run in order. The session is per tab (sessionStorage), so every new tab logs in through the
 * form, and two tabs of one browser can be two users (step 7); what is per user (the saved
 * stream and its cursor, the read marks) is shared by the tabs through localStorage.
 *
 * Steps 13 to 15 are groups: created from the page, live in the members' lists, the members
 * panel by role (owner, admin, member), a removal and a leave.
 *
 * Steps 16 to 18 are issue 14's signals, through the real gateway and Chat: typing, presence
 * (the stack runs with a short PRESENCE_GRACE_MS, so "offline" comes within a second), and
 * unread badges and read receipts, including Bob's other device (its own browser) clearing its
 * badge from the live `read` frame.
 *
 * Skips only when Chromium is not installed, and then says so with a `# browser-skip:` line
 * that tools/summarize-tests.mjs repeats in the summary.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TYPING_SHOW_MS, type ReadFrame } from '@chat/client-core';
import { freePort, metricValue, registerAndLogin, request, startStack, type Stack } from '@chat/testkit';
import { buildPage, startWebServer, webDir, type WebServer } from './web-server.ts';

// The same variable as tools/bootstrap/chromium.sh, which installs it there.
const CHROMIUM = process.env.CHAT_CHROMIUM_PATH || '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed (${CHROMIUM} is missing; run tools/bootstrap/chromium.sh as root)`;
if (skip) console.log(`# browser-skip: ${skip}`);

const PASSWORD = 'correct horse battery';
const STEP = { skip, timeout: 90_000 };
const shots = join(webDir, 'test-results');
// Plain names read well in the screenshots; every stack has its own databases, so no clash.
const alice = 'alice';
const bob = 'bob';
/** The stack's PRESENCE_GRACE_MS (default 5 s): step 17 waits for "offline" after it. */
const GRACE_MS = 500;
const WHILE_DOWN = ['The gateway is restarting right now…', '…but these still go through Chat over HTTP,', "and Bob's tabs catch up from their last cursor:", 'every message exactly once,', 'in the order it was sent. (5/5)'];

let stack: Stack;
let web: WebServer;
let browser: Browser;
let aliceCtx: BrowserContext;
let bobCtx: BrowserContext;
let alicePage: Page;
let bobTab1: Page;
let bobTab2: Page;
/** Uncaught page exceptions and CSP violations, which no step expects. */
const pageProblems: string[] = [];

before(async () => {
  if (skip) return;
  mkdirSync(shots, { recursive: true });
  buildPage();
  // The page's origin must be known before the services start: they allow exactly it.
  const webPort = await freePort();
  const origin = `http://127.0.0.1:${webPort}`;
  // LOGIN_MAX_FAILURES: the rate-limit step reaches the limit in three tries instead of eleven.
  // PRESENCE_GRACE_MS (gateway and Chat, which must agree): step 17's "offline" in half a second.
  stack = await startStack({ env: { CORS_ORIGINS: origin, ALLOWED_ORIGINS: origin, LOGIN_MAX_FAILURES: '2', PRESENCE_GRACE_MS: String(GRACE_MS) } });
  web = await startWebServer({
    PORT: String(webPort),
    AUTH_PUBLIC_URL: stack.auth.url,
    CHAT_PUBLIC_URL: stack.chat.url,
    GATEWAY_PUBLIC_URL: `ws://127.0.0.1:${stack.gateway.port}`,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The background-networking flags keep Chromium from calling home on this closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  aliceCtx = await newContext();
  bobCtx = await newContext();
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await stack?.stop();
});

async function newContext(): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: { width: 820, height: 560 }, deviceScaleFactor: 1 });
  ctx.setDefaultTimeout(20_000);
  ctx.on('page', watch);
  return ctx;
}

function watch(page: Page): void {
  page.on('pageerror', (err) => pageProblems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) pageProblems.push(`csp: ${msg.text()}`);
  });
}

async function open(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(web.url);
  return page;
}

async function waitState(page: Page, state: string, timeout = 30_000): Promise<void> {
  await page.locator(`[data-testid="connection-status"][data-state="${state}"]`).waitFor({ timeout });
}

/** How many messages in the open conversation read exactly `text`. */
function countText(page: Page, text: string): Promise<number> {
  return page.$$eval('[data-testid="message-text"]', (els, t) => els.filter((e) => e.textContent === t).length, text);
}

async function waitForText(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => [...document.querySelectorAll('[data-testid="message-text"]')].some((e) => e.textContent === t), text, { polling: 50, timeout: 30_000 });
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
  await waitForText(page, text);
}

/** Logs in through the page's form, or with `register`, creates the account and logs in. */
async function logIn(page: Page, name: string, how: 'login' | 'register' = 'login'): Promise<void> {
  await page.getByTestId('login-username').fill(name);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId(`${how}-submit`).click();
  await page.getByTestId('current-user').filter({ hasText: name }).waitFor();
}

/** Opens (or starts) the conversation with `peer` through the "Start" form. */
async function startConversation(page: Page, peer: string): Promise<void> {
  await page.getByTestId('new-conversation-input').fill(peer);
  await page.getByTestId('new-conversation-submit').click();
  await page.getByTestId('thread-peer').filter({ hasText: peer }).waitFor();
}

/** The user a tab's session (sessionStorage) is for. */
function tabUser(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (JSON.parse(sessionStorage.getItem('chat.session') ?? 'null') as { user: { username: string } } | null)?.user.username);
}

async function openConversation(page: Page, peer: string): Promise<void> {
  await page.locator(`[data-testid="conversation"][data-peer="${peer}"]`).click();
  await page.getByTestId('thread-peer').filter({ hasText: peer }).waitFor();
}

async function shot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(shots, name) });
}

test('1. Alice and Bob register through the page', STEP, async () => {
  for (const [ctx, name] of [[aliceCtx, alice], [bobCtx, bob]] as const) {
    const page = await open(ctx);
    await page.getByTestId('login-username').fill(name);
    await page.getByTestId('login-password').fill(PASSWORD);
    if (name === alice) await shot(page, 'login.png');
    await page.getByTestId('register-submit').click();
    await page.getByTestId('current-user').filter({ hasText: name }).waitFor();
    await waitState(page, 'live');
    if (name === alice) alicePage = page;
    else bobTab1 = page;
  }
  assert.equal(await bobTab1.locator('[data-testid="conversation-list"] .empty').textContent(), 'No conversations yet.');
});

test('2. Alice sends; Bob sees it arrive live', STEP, async () => {
  await alicePage.getByTestId('new-conversation-input').fill('nobody_here');
  await alicePage.getByTestId('new-conversation-submit').click();
  await alicePage.getByTestId('new-conversation-error').filter({ hasText: 'There is no user with that name.' }).waitFor();

  await alicePage.getByTestId('new-conversation-input').fill(bob);
  await alicePage.getByTestId('new-conversation-submit').click();
  await alicePage.getByTestId('thread-peer').filter({ hasText: bob }).waitFor();
  const hello = `Hi ${bob}, are you there?`;
  await send(alicePage, hello);

  // Bob's page has not fetched anything since it loaded: the conversation can only come live.
  const item = bobTab1.locator(`[data-testid="conversation"][data-peer="${alice}"]`);
  await item.filter({ hasText: hello }).waitFor();
  assert.equal(await item.getByTestId('unread-count').textContent(), '1');
  await openConversation(bobTab1, alice);
  assert.equal(await countText(bobTab1, hello), 1);
  await item.getByTestId('unread-count').waitFor({ state: 'detached' });
});

test("3. Bob's second tab sees the conversation too, and both tabs stay in step", STEP, async () => {
  bobTab2 = await open(bobCtx);
  // The session is per tab: a new tab starts at the login form, even in Bob's browser.
  await bobTab2.getByTestId('login-form').waitFor();
  await logIn(bobTab2, bob);
  await waitState(bobTab2, 'live');
  const item = bobTab2.locator(`[data-testid="conversation"][data-peer="${alice}"]`);
  await item.waitFor();
  assert.equal(await item.getByTestId('unread-count').count(), 0, 'read in the first tab, so read here too');
  await openConversation(bobTab2, alice);

  const question = 'Do both of your tabs see this?';
  await send(alicePage, question);
  for (const tab of [bobTab1, bobTab2]) {
    await waitForText(tab, question);
    assert.equal(await countText(tab, question), 1);
  }
  const reply = 'Yes, both of them, live.';
  await send(bobTab2, reply);
  await waitForText(bobTab1, reply); // the sender's other tab gets it from the gateway
  await waitForText(alicePage, reply);
});

test("4. The gateway is SIGKILLed while Alice sends 5 more, then restarted: each shows exactly once in both of Bob's tabs", STEP, async () => {
  const tabs = [bobTab1, bobTab2];
  // Killed first and restarted after the sends (stack.restart on a dead process only starts
  // it again, on the same port): with kill and start in one call, a quick restart could be
  // back before the first send, and the replay path would go untested.
  await stack.gateway.stop('SIGKILL');
  // Every page notices the drop and shows the countdown to its next attempt.
  await Promise.all([...tabs, alicePage].map((p) => p.waitForFunction(() => {
    const el = document.querySelector('[data-testid="connection-status"]');
    return el?.getAttribute('data-state') === 'waiting' && /^Reconnecting in \d+ s$/.test(el.textContent ?? '');
  }, undefined, { polling: 50, timeout: 15_000 })));
  await shot(bobTab1, 'reconnecting.png');

  // Sends go to Chat over HTTP, so they succeed while the gateway is down.
  for (const text of WHILE_DOWN) await send(alicePage, text);
  for (const tab of tabs) assert.equal(await countText(tab, WHILE_DOWN[0]!), 0, 'nothing can reach Bob while the gateway is down');
  const gateway = await stack.restart('gateway');
  assert.equal(gateway.proc.exitCode, null, 'the new gateway runs');

  for (const tab of tabs) {
    await waitState(tab, 'live');
    for (const text of WHILE_DOWN) await waitForText(tab, text);
  }
  for (const tab of tabs) {
    // Live again means the replay ended (`synced`), so any duplicate would be on screen now.
    for (const text of [...WHILE_DOWN, `Hi ${bob}, are you there?`, 'Yes, both of them, live.']) assert.equal(await countText(tab, text), 1, `"${text}" once`);
    const ids = await tab.$$eval('[data-testid="message"]', (els) => els.map((e) => e.getAttribute('data-id')));
    assert.equal(new Set(ids).size, ids.length, 'no message id twice');
    assert.equal(ids.length, 2 + 1 + WHILE_DOWN.length, 'hello, question, reply and the five');
    const via = await tab.$$eval('[data-testid="message"]', (els) => els.map((e) => e.getAttribute('data-via')));
    assert.deepEqual(via.slice(-WHILE_DOWN.length), WHILE_DOWN.map(() => 'replayed'), "the missed messages came from the gateway's replay");
  }
  await waitState(alicePage, 'live');

  // The README's picture: Bob's two tabs side by side, showing the conversation.
  const [one, two] = [await shot(bobTab1, 'bob-tab1.png'), await shot(bobTab2, 'bob-tab2.png')];
  await shot(alicePage, 'alice.png');
  await sideBySide([
    ['Bob, tab 1', one],
    ['Bob, tab 2', two],
  ], 'bob-two-tabs.png');
});

test('5. a new tab, once logged in, resumes from the cursor saved in localStorage', STEP, async () => {
  await bobTab2.close();
  const saved = await bobTab1.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? 'null') as { cursor: string } | null, `chat.stream.${bob}`);
  assert.ok(saved?.cursor, 'the stream position is stored per user');
  const later = 'Sent while that tab was closed.';
  await send(alicePage, later);
  await waitForText(bobTab1, later);

  const tab = await bobCtx.newPage();
  const sockets: string[] = [];
  const syncs: string[] = [];
  tab.on('websocket', (ws) => sockets.push(ws.url()));
  tab.on('request', (req) => {
    // A sync of one message is the token check after a refused upgrade, not a sync of the stream.
    const url = new URL(req.url());
    if (url.pathname === '/chat/sync' && url.searchParams.get('limit') !== '1') syncs.push(req.url());
  });
  await tab.goto(web.url);
  await tab.getByTestId('login-form').waitFor();
  assert.deepEqual(sockets, [], 'no connection before the login');
  await logIn(tab, bob);
  await waitState(tab, 'live');
  const since = new URL(sockets[0]!).searchParams.get('since');
  const stored = await tab.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? 'null') as { cursor: string } | null, `chat.stream.${bob}`);
  // The first tab kept saving while this one was closed; the new tab starts where it left off.
  assert.ok(since, 'the socket resumes with since=');
  assert.notEqual(since, saved.cursor, 'from the newer position the other tab saved');
  assert.ok(stored?.cursor);
  assert.deepEqual(syncs, [], 'the list came from the saved copy, not from a sync from the start');
  await tab.locator(`[data-testid="conversation"][data-peer="${alice}"]`).filter({ hasText: later }).waitFor();
  await openConversation(tab, alice);
  assert.equal(await countText(tab, later), 1);
  bobTab2 = tab;
});

test('6. a long conversation pages back with "Load older", without gaps or repeats', STEP, async () => {
  const carol = await registerAndLogin(stack.auth.url, 'carol', PASSWORD);
  const texts = Array.from({ length: 35 }, (_, i) => `carol ${i + 1}`);
  for (const text of texts) {
    const res = await request(`${stack.chat.url}/chat/send`, { token: carol.token, body: { to: bob, text } });
    assert.equal(res.status, 201, res.text);
  }
  const item = bobTab2.locator('[data-testid="conversation"][data-peer="carol"]');
  await item.filter({ hasText: 'carol 35' }).waitFor();
  assert.equal(await item.getByTestId('unread-count').textContent(), '35');
  await openConversation(bobTab2, 'carol');
  const shown = () => bobTab2.$$eval('[data-testid="message-text"]', (els) => els.map((e) => e.textContent));
  assert.deepEqual(await shown(), texts.slice(-30), 'the newest page, oldest at the top');
  await bobTab2.getByTestId('load-older').click();
  await bobTab2.getByTestId('load-older').waitFor({ state: 'hidden' });
  assert.deepEqual(await shown(), texts, 'all 35, in order, each once');
});

test('7. two tabs of one browser, two users: Carol in one, Dave in the other, chatting live', STEP, async () => {
  // The README's first steps: one browser, one tab per user.
  const ctx = await newContext();
  const carolTab = await open(ctx);
  await logIn(carolTab, 'carol'); // registered in step 6
  await waitState(carolTab, 'live');
  const daveTab = await open(ctx);
  await daveTab.getByTestId('login-form').waitFor();
  assert.equal(await carolTab.getByTestId('current-user').textContent(), 'carol', "a new tab's login form changes nothing in the other tab");
  await logIn(daveTab, 'dave', 'register');
  await waitState(daveTab, 'live');

  // Carol has the conversation open before Dave writes, so his message can only reach her
  // through her socket.
  await startConversation(carolTab, 'dave');
  await startConversation(daveTab, 'carol');
  const hello = 'Hi Carol, Dave here, from the tab next door.';
  await send(daveTab, hello);
  await waitForText(carolTab, hello);
  assert.equal(await countText(carolTab, hello), 1);
  // Pushed by the gateway, not fetched: `live`, or `replayed` when the broker restarted meanwhile
  // (the RabbitMQ of a test run is shared, and the gateway then replays to every open socket).
  const via = await carolTab.$$eval('[data-testid="message"]', (els) => els.map((e) => e.getAttribute('data-via')));
  assert.equal(via.length, 1);
  assert.ok(via[0] === 'live' || via[0] === 'replayed', `came through the socket, not as history (${via[0]})`);
  const reply = 'Hi Dave! Same browser, two of us.';
  await send(carolTab, reply);
  await waitForText(daveTab, reply);

  // Each tab is still its own user.
  for (const [tab, name] of [[carolTab, 'carol'], [daveTab, 'dave']] as const) {
    assert.equal(await tab.getByTestId('current-user').textContent(), name);
    assert.equal(await tabUser(tab), name);
    await waitState(tab, 'live');
  }
  assert.equal(await carolTab.evaluate(() => localStorage.getItem('chat.session')), null, 'no session in the shared store');

  // The README's picture of the newcomer's "two tabs".
  const [one, two] = [await shot(carolTab, 'carol-tab.png'), await shot(daveTab, 'dave-tab.png')];
  await sideBySide([
    ['Tab 1: Carol', one],
    ['Tab 2: Dave, same browser', two],
  ], 'two-users-one-browser.png');

  // A reload keeps the tab's own session, and a logout in one tab leaves the other logged in.
  await carolTab.reload();
  await carolTab.getByTestId('current-user').filter({ hasText: 'carol' }).waitFor();
  await waitState(carolTab, 'live');
  await daveTab.getByTestId('logout').click();
  await daveTab.getByTestId('login-form').waitFor();
  assert.equal(await tabUser(daveTab), undefined);
  assert.equal(await tabUser(carolTab), 'carol');
  assert.equal(await carolTab.getByTestId('current-user').textContent(), 'carol');
  await waitState(carolTab, 'live');
  await ctx.close();
});

test('8. a wrong password is answered in plain words', STEP, async () => {
  const ctx = await newContext();
  const page = await open(ctx);
  await page.getByTestId('login-username').fill(alice);
  await page.getByTestId('login-password').fill('not the password');
  await page.getByTestId('login-submit').click();
  const error = page.getByTestId('login-error');
  await error.filter({ hasText: 'Wrong username or password.' }).waitFor();
  assert.equal(await error.textContent(), 'Wrong username or password.');
  await shot(page, 'wrong-password.png');
  await ctx.close();
});

test('9. too many failed logins: the page says how long to wait, and does not ask again before then', STEP, async () => {
  const ctx = await newContext();
  const page = await open(ctx);
  const error = page.getByTestId('login-error');
  const attempt = async () => {
    await page.getByTestId('login-username').fill('mallory');
    await page.getByTestId('login-password').fill('guess');
    await page.getByTestId('login-submit').click();
    // The button is disabled from the click until the answer is on screen.
    await page.locator('[data-testid="login-submit"]:enabled').waitFor();
    return error.textContent();
  };
  assert.equal(await attempt(), 'Wrong username or password.');
  assert.equal(await attempt(), 'Wrong username or password.');
  // The wait comes from Retry-After, which the page can read only because CORS exposes it.
  assert.match((await attempt()) ?? '', /^Too many attempts\. Try again in \d+ (seconds?|minutes?)\.$/);
  // Pressed again before the wait is over: the page says the wait left and does not ask Auth.
  const refusedBefore = await metricValue(stack.auth, 'auth_login_attempts_total', { result: 'rate_limited' });
  assert.match((await attempt()) ?? '', /^Too many attempts\. Try again in \d+ (seconds?|minutes?)\.$/);
  assert.equal(await metricValue(stack.auth, 'auth_login_attempts_total', { result: 'rate_limited' }), refusedBefore);
  await ctx.close();
});

test('10. a message over the length limit is refused in words, and the text is kept', STEP, async () => {
  const long = 'x'.repeat(4001);
  await alicePage.getByTestId('composer-input').fill(long);
  await alicePage.getByTestId('composer-input').press('Enter');
  await alicePage.getByTestId('send-error').filter({ hasText: 'That message is too long (at most 4,000 characters).' }).waitFor();
  assert.equal(await alicePage.getByTestId('composer-input').inputValue(), long);
  assert.equal(await countText(alicePage, long), 0);
  await alicePage.getByTestId('composer-input').fill('');
});

test('11. a session the services no longer accept goes back to the login, saying why', STEP, async () => {
  const ctx = await newContext();
  const page = await open(ctx);
  await page.getByTestId('login-form').waitFor();
  await page.evaluate((username) => sessionStorage.setItem('chat.session', JSON.stringify({ token: 'revoked.or.forged', user: { id: 'x', username }, expiresAt: Date.now() + 3_600_000 })), alice);
  await page.reload();
  await page.getByTestId('login-notice').filter({ hasText: 'Your session has expired. Please log in again.' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('chat.session')), null, 'the dead session is forgotten');
  await ctx.close();
});

test('12. message text is shown as text, never as markup', STEP, async () => {
  const hostile = '<img src=x onerror="window.__pwned=1"><b>bold?</b>';
  await send(alicePage, hostile);
  await waitForText(bobTab1, hostile);
  assert.equal(await countText(bobTab1, hostile), 1);
  assert.equal(await bobTab1.locator('[data-testid="messages"] img, [data-testid="messages"] b').count(), 0);
  assert.equal(await bobTab1.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.deepEqual(pageProblems, []);
});

/** A group's entry in a page's conversation list. */
const groupItem = (page: Page, name: string) => page.locator(`[data-testid="conversation"][data-group="${name}"]`);

async function openGroup(page: Page, name: string): Promise<void> {
  await groupItem(page, name).click();
  await page.getByTestId('thread-peer').filter({ hasText: name }).waitFor();
  await page.locator('[data-testid="group-member-count"]').waitFor();
}

/** Opens the members panel of the open group (a <details>) if it is closed. */
async function membersPanel(page: Page) {
  const panel = page.getByTestId('group-panel');
  if (!(await panel.evaluate((el) => (el as HTMLDetailsElement).open))) await page.getByTestId('group-member-count').click();
  return panel;
}

const memberCount = (page: Page, n: number) => page.getByTestId('group-member-count').filter({ hasText: new RegExp(`^${n} members$`) }).waitFor();

let carolTab: Page;

test('13. Alice creates a group with Bob and Carol: it appears live in their lists, and messages go to everyone with the sender named', STEP, async () => {
  const ctx = await newContext();
  carolTab = await open(ctx);
  await logIn(carolTab, 'carol');
  await waitState(carolTab, 'live');

  await alicePage.getByTestId('new-group-toggle').click();
  await alicePage.getByTestId('new-group-name').fill('Weekend');
  await alicePage.getByTestId('new-group-members').fill('bob, carol');
  await alicePage.getByTestId('new-group-submit').click();
  await alicePage.getByTestId('thread-peer').filter({ hasText: 'Weekend' }).waitFor();
  await memberCount(alicePage, 3);
  await alicePage.locator('[data-testid="message"][data-kind="system"][data-event="created"]').waitFor();
  const plans = 'Plans for Saturday?';
  await send(alicePage, plans);

  // Bob's and Carol's pages fetched nothing for it: the group can only come through their sockets.
  for (const page of [bobTab1, carolTab]) {
    const item = groupItem(page, 'Weekend');
    await item.filter({ hasText: `alice: ${plans}` }).waitFor();
    assert.equal(await item.getByTestId('unread-count').textContent(), '2', 'the created notice and the message');
  }
  await openGroup(bobTab1, 'Weekend');
  assert.equal(await countText(bobTab1, plans), 1);
  assert.equal(await bobTab1.locator('[data-testid="message"][data-from="alice"] [data-testid="message-sender"]').first().textContent(), 'alice');
  assert.match((await bobTab1.getByTestId('system-text').first().textContent()) ?? '', /alice/);
  await groupItem(bobTab1, 'Weekend').getByTestId('unread-count').waitFor({ state: 'detached' });

  const reply = 'Count me in!';
  await send(bobTab1, reply);
  await openGroup(carolTab, 'Weekend');
  for (const page of [alicePage, carolTab]) {
    await waitForText(page, reply);
    assert.equal(await countText(page, reply), 1);
  }
  assert.equal(await alicePage.locator('[data-testid="message"][data-from="bob"] [data-testid="message-sender"]').textContent(), 'bob');
  // 1:1 conversations are still there beside the group.
  await bobTab1.locator(`[data-testid="conversation"][data-peer="${alice}"]`).waitFor();
  await shot(bobTab1, 'group.png');
});

test('14. the members panel: a member is offered nothing but leaving; the owner makes Bob admin, who renames, adds Dave and removes Carol; Carol\'s page says she is out', STEP, async () => {
  const bobPanel = await membersPanel(bobTab1);
  assert.equal(await bobPanel.getByTestId('group-rename-input').count(), 0);
  assert.equal(await bobPanel.getByTestId('member-remove').count(), 0);
  assert.equal(await bobPanel.getByTestId('group-leave').count(), 1);

  const alicePanel = await membersPanel(alicePage);
  await alicePanel.locator('[data-testid="member"][data-username="bob"] [data-testid="member-set-role"]').click();
  await alicePanel.locator('[data-testid="member"][data-username="bob"][data-role="admin"]').waitFor();
  // Bob's page learns of it from the role_changed message and now offers the admin's controls.
  await bobPanel.getByTestId('group-rename-input').waitFor();
  assert.equal(await bobPanel.getByTestId('member-set-role').count(), 0, 'only the owner changes roles');
  assert.equal(await bobPanel.locator('[data-testid="member"][data-username="alice"] [data-testid="member-remove"]').count(), 0, 'nobody removes the owner');

  await bobPanel.getByTestId('group-rename-input').fill('Weekend trip');
  await bobPanel.getByTestId('group-rename-submit').click();
  for (const page of [bobTab1, alicePage, carolTab]) {
    await page.getByTestId('thread-peer').filter({ hasText: /^Weekend trip$/ }).waitFor();
    await groupItem(page, 'Weekend trip').waitFor();
  }
  await bobPanel.getByTestId('group-add-input').fill('dave');
  await bobPanel.getByTestId('group-add-submit').click();
  await memberCount(bobTab1, 4);
  await memberCount(alicePage, 4);
  await bobPanel.locator('[data-testid="member"][data-username="carol"] [data-testid="member-remove"]').click();
  await memberCount(bobTab1, 3);
  await memberCount(alicePage, 3);
  for (const event of ['role_changed', 'renamed', 'member_added', 'member_removed']) {
    await alicePage.locator(`[data-testid="message"][data-kind="system"][data-event="${event}"]`).waitFor();
  }

  // Carol's page either hears of her removal or finds out at her next send; either way it says so.
  const notice = carolTab.getByTestId('thread-notice');
  const told = await notice.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false);
  if (!told) {
    await carolTab.getByTestId('composer-input').fill('Am I still here?');
    await carolTab.getByTestId('composer-input').press('Enter');
    await carolTab.getByTestId('send-error').filter({ hasText: 'There is no such conversation, or you are not in it.' }).waitFor();
    await notice.waitFor({ state: 'visible' });
  }
  assert.equal(await notice.textContent(), 'You are no longer a member of this group.');
  await bobTab1.getByTestId('group-error').waitFor({ state: 'hidden' });
  await carolTab.context().close();
});

test('15. Bob leaves: the group goes from his list, and the others see that he left', STEP, async () => {
  await (await membersPanel(bobTab1)).getByTestId('group-leave').click();
  await groupItem(bobTab1, 'Weekend trip').waitFor({ state: 'detached' });
  await bobTab1.getByTestId('thread-peer').waitFor({ state: 'detached' });
  await alicePage.locator('[data-testid="message"][data-kind="system"][data-event="member_left"]').waitFor();
  await memberCount(alicePage, 2);
  // Bob's 1:1 with Alice is untouched.
  await openConversation(bobTab1, alice);
  assert.equal(await countText(bobTab1, `Hi ${bob}, are you there?`), 1);
  assert.deepEqual(pageProblems, []);
});

/** Who a page shows as typing in its open conversation (data-typing: usernames), or nobody. */
const typingIn = (page: Page, who?: string) => page.locator(who === undefined ? '[data-testid="typing-indicator"][data-typing]' : `[data-testid="typing-indicator"][data-typing="${who}"]`);
/** The presence dot beside a 1:1 in a page's list, with this status. */
const dot = (page: Page, peer: string, status: 'online' | 'offline') => page.locator(`[data-testid="conversation"][data-peer="${peer}"] [data-testid="presence"][data-status="${status}"]`);
/** The open 1:1's header line, with this status. */
const headerPresence = (page: Page, status: 'online' | 'offline') => page.locator(`[data-testid="thread-presence"][data-status="${status}"]`);

/** Polls `check` every 50 ms until it holds, for at most `timeout` ms. */
async function until(check: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Makes the page report itself hidden (or visible again) and fires `visibilitychange`, as a
 * browser does when the tab goes behind another; headless Chromium keeps every page visible.
 */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    // A value, not a getter: a function here would be renamed by tsx (`__name`), which the page lacks.
    if (h) Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'hidden' });
    else delete (document as { visibilityState?: unknown }).visibilityState; // the prototype's getter again
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
  assert.equal(await page.evaluate(() => document.visibilityState), hidden ? 'hidden' : 'visible');
}

test('16. typing: Alice types to Bob; his page says so until it runs out, and again until her message arrives', STEP, async (t) => {
  // Bob's first tab has the 1:1 with Alice open (step 15), his second tab Carol's.
  await openConversation(alicePage, bob);
  const listTyping = bobTab2.locator(`[data-testid="conversation"][data-peer="${alice}"] [data-testid="list-typing"][data-typing="${alice}"]`);
  assert.equal(await typingIn(bobTab1).count(), 0, 'nobody typing yet');

  const typedAt = Date.now();
  await alicePage.getByTestId('composer-input').pressSequentially('Typing, ');
  await typingIn(bobTab1, alice).waitFor({ timeout: 5_000 });
  assert.equal(await typingIn(bobTab1).textContent(), `${alice} is typing…`);
  // The other tab shows it in the list, in place of the last message.
  await listTyping.waitFor({ timeout: 5_000 });
  assert.equal(await typingIn(alicePage).count(), 0, 'the typist does not see herself typing');
  await shot(bobTab1, 'typing.png');

  // No more keystrokes, so no more frames: it runs out TYPING_SHOW_MS after the one frame.
  await typingIn(bobTab1).waitFor({ state: 'detached', timeout: TYPING_SHOW_MS + 5_000 });
  const shownFor = Date.now() - typedAt;
  assert.ok(shownFor >= TYPING_SHOW_MS - 100, `shown until it ran out, not less (${shownFor} ms)`);
  t.diagnostic(`typing shown for ${shownFor} ms after the first keystroke`);
  await listTyping.waitFor({ state: 'detached', timeout: 2_000 });

  // Typing again (well past the 3 s between frames) shows it again; her message ends it at once.
  await alicePage.getByTestId('composer-input').pressSequentially('then sending.');
  await typingIn(bobTab1, alice).waitFor({ timeout: 5_000 });
  await listTyping.waitFor({ timeout: 5_000 });
  const shownAgainAt = Date.now();
  await alicePage.getByTestId('composer-input').press('Enter');
  const text = 'Typing, then sending.';
  await waitForText(alicePage, text);
  await waitForText(bobTab1, text);
  assert.equal(await typingIn(bobTab1).count(), 0, 'gone the moment her message is on screen');
  await bobTab2.locator(`[data-testid="conversation"][data-peer="${alice}"]`).filter({ hasText: text }).waitFor({ timeout: 5_000 });
  assert.equal(await listTyping.count(), 0, "the list shows her message instead");
  const after = Date.now() - shownAgainAt;
  assert.ok(after < TYPING_SHOW_MS, `cleared by the message, not by running out (${after} ms)`);
  t.diagnostic(`typing cleared by the message ${after} ms after it showed again`);
  assert.deepEqual(pageProblems, []);
});

test('17. presence: Bob sees Alice online; when her only tab closes, offline with "last seen" once the grace has passed', STEP, async (t) => {
  // Both of Bob's tabs: the dot in the list; the open 1:1's header says it in words.
  for (const tab of [bobTab1, bobTab2]) await dot(tab, alice, 'online').waitFor({ timeout: 10_000 });
  await headerPresence(bobTab1, 'online').waitFor({ timeout: 10_000 });
  assert.equal(await bobTab1.getByTestId('thread-presence').textContent(), 'online');
  assert.equal(await bobTab1.getByTestId('thread-presence').getAttribute('data-last-seen'), null);
  // And the other way round.
  await headerPresence(alicePage, 'online').waitFor({ timeout: 10_000 });
  await shot(bobTab1, 'presence-online.png');

  // alicePage is Alice's only tab (the others that logged in as her are closed): closing it
  // closes her last socket.
  const closedAt = Date.now();
  await alicePage.close();
  await headerPresence(bobTab1, 'offline').waitFor({ timeout: GRACE_MS + 10_000 });
  const offlineAfter = Date.now() - closedAt;
  // The grace runs from the socket's close, which is after closedAt (50 ms of timer slack).
  assert.ok(offlineAfter >= GRACE_MS - 50, `not before PRESENCE_GRACE_MS (${offlineAfter} ms)`);
  t.diagnostic(`offline on Bob's page ${offlineAfter} ms after Alice's tab closed (grace ${GRACE_MS} ms)`);
  const header = bobTab1.getByTestId('thread-presence');
  assert.match((await header.textContent()) ?? '', /^last seen /);
  const lastSeen = Date.parse((await header.getAttribute('data-last-seen')) ?? '');
  assert.ok(lastSeen >= closedAt - 2_000 && lastSeen <= Date.now() + 1_000, `last seen about when her tab closed (${new Date(lastSeen).toISOString()})`);
  for (const tab of [bobTab1, bobTab2]) {
    await dot(tab, alice, 'offline').waitFor({ timeout: 5_000 });
    assert.match((await dot(tab, alice, 'offline').getAttribute('title')) ?? '', /^last seen /);
  }
  await shot(bobTab1, 'presence-offline.png');
});

test("18. unread and receipts: Bob's badges count Alice's new messages; opening them on a visible page clears every badge (his other tab, his other device by the live read frame) and Alice sees \"Seen\"", STEP, async () => {
  // Alice comes back in a new tab (the session is per tab), and Bob sees her online again.
  alicePage = await open(aliceCtx);
  await logIn(alicePage, alice);
  await waitState(alicePage, 'live');
  await headerPresence(bobTab1, 'online').waitFor({ timeout: 10_000 });
  await dot(bobTab2, alice, 'online').waitFor({ timeout: 10_000 });

  // Bob's phone: another browser, with its own storage, so only Chat and the live `read`
  // frame can tell it what Bob read elsewhere.
  const phoneCtx = await newContext();
  const phone = await open(phoneCtx);
  const readFrames: ReadFrame[] = [];
  phone.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as ReadFrame | { type: string };
      if (frame.type === 'read') readFrames.push(frame as ReadFrame);
    }),
  );
  await logIn(phone, bob);
  await waitState(phone, 'live');

  // Nothing of Bob's shows the 1:1 with Alice while she writes (his second tab has Carol's open).
  await openConversation(bobTab1, 'carol');

  // Alice's new tab learns from Chat that Bob read her last message (step 16): "Seen" under it.
  await openConversation(alicePage, bob);
  const aliceSeen = alicePage.getByTestId('seen');
  await aliceSeen.waitFor({ timeout: 10_000 });
  assert.equal(await alicePage.locator('[data-testid="message"]').filter({ has: aliceSeen }).getByTestId('message-text').textContent(), 'Typing, then sending.');

  const texts = ['Are you there, Bob?', 'Two unread, I suppose.'];
  for (const text of texts) await send(alicePage, text);
  assert.equal(await aliceSeen.count(), 0, 'her newest is not seen yet');

  const item = (page: Page) => page.locator(`[data-testid="conversation"][data-peer="${alice}"]`);
  for (const tab of [bobTab1, bobTab2, phone]) {
    await item(tab).filter({ hasText: texts[1] }).waitFor();
    await item(tab).getByTestId('unread-count').filter({ hasText: /^2$/ }).waitFor({ timeout: 5_000 });
  }
  await shot(bobTab1, 'unread.png');

  // Opened while the page is hidden (the tab behind another): nothing is read yet.
  await setHidden(bobTab1, true);
  await openConversation(bobTab1, alice);
  await waitForText(bobTab1, texts[1]!);
  assert.equal(await item(bobTab1).getByTestId('unread-count').textContent(), '2', 'hidden: still unread');
  const ids = new Set(await bobTab1.$$eval('[data-testid="message"]', (els) => els.map((e) => e.getAttribute('data-id'))));
  assert.ok(!readFrames.some((f) => ids.has(f.readUpTo)), 'no read of this conversation yet');

  // The page shows again: read up to Alice's newest.
  await setHidden(bobTab1, false);
  await item(bobTab1).getByTestId('unread-count').waitFor({ state: 'detached', timeout: 5_000 });
  // His other tab of this browser follows the shared read marks,
  await item(bobTab2).getByTestId('unread-count').waitFor({ state: 'detached', timeout: 5_000 });
  // his phone the live `read` frame,
  await item(phone).getByTestId('unread-count').waitFor({ state: 'detached', timeout: 10_000 });
  // and Alice's page puts "Seen" under her newest message.
  const newest = alicePage.locator(`[data-testid="message"][data-from="${alice}"]`).last();
  await newest.getByTestId('seen').waitFor({ timeout: 10_000 });
  assert.equal(await newest.getByTestId('message-text').textContent(), texts[1]);
  assert.equal(await aliceSeen.count(), 1, 'under her newest message only');
  const newestId = await newest.getAttribute('data-id');
  await until(() => readFrames.some((f) => f.user.username === bob && f.readUpTo === newestId), "the phone's read frame");
  assert.equal(await bobTab1.title(), 'Chat', 'no unread left in the tab title');
  await shot(alicePage, 'seen.png');
  await phoneCtx.close();
  assert.deepEqual(pageProblems, []);
});

/** One picture of several screenshots in a row, each with a caption. */
async function sideBySide(parts: [string, Buffer][], name: string): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 820 * parts.length + 24 * (parts.length + 1), height: 640 } });
  const figures = parts
    .map(([caption, png]) => `<figure><figcaption>${caption}</figcaption><img src="data:image/png;base64,${png.toString('base64')}"></figure>`)
    .join('');
  await page.setContent(`<style>
    body { margin: 0; padding: 16px 24px 24px; display: flex; gap: 24px; background: #d9dce3; font: 600 14px system-ui, sans-serif; color: #374151; }
    figure { margin: 0; } figcaption { margin-bottom: 8px; }
    img { display: block; border-radius: 8px; box-shadow: 0 2px 10px rgba(0,0,0,.18); }
  </style>${figures}`);
  const buf = await page.screenshot({ fullPage: true });
  writeFileSync(join(shots, name), buf);
  await page.close();
}
