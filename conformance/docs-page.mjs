// The `docs-page` CI step: loads the service's GET /docs in real headless
// Chromium (Debian's `chromium`), driven over the Chrome DevTools Protocol,
// and fails on any failed request, any HTTP error, any request that leaves
// the service's origin, any console error or uncaught exception, or a
// missing operation. Saves a screenshot.
//
//   node conformance/docs-page.mjs URL SCREENSHOT.png OP_ID...
//
// URL is the page (http://127.0.0.1:PORT/docs); OP_ID... the operationIds
// that must be listed. No npm packages: Node's WebSocket speaks CDP (on
// Node 20 it needs --experimental-websocket: the script re-runs itself so).

if (typeof WebSocket === "undefined") {
  const r = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, screenshot, ...operations] = process.argv.slice(2);
if (!url || !screenshot || operations.length === 0) {
  console.error("usage: docs-page.mjs URL SCREENSHOT.png OP_ID...");
  process.exit(2);
}
const chromiumBin = process.env.CHROMIUM || "chromium";
const origin = new URL(url).origin;
const profile = mkdtempSync(join(tmpdir(), "docs-page-"));
const browser = spawn(
  chromiumBin,
  [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    `--user-data-dir=${profile}`,
    "--remote-debugging-port=0",
    "about:blank",
  ],
  { stdio: ["ignore", "ignore", "pipe"] },
);

const problems = [];
let finished = false;
function finish(code) {
  if (finished) return;
  finished = true;
  browser.kill("SIGKILL");
  try {
    rmSync(profile, { recursive: true, force: true });
  } catch {}
  process.exit(code);
}
setTimeout(() => {
  console.error("FAIL: timed out after 60 s");
  finish(1);
}, 60_000).unref();

// The browser prints its DevTools endpoint on stderr.
const endpoint = await new Promise((resolve, reject) => {
  let buf = "";
  browser.stderr.on("data", (chunk) => {
    buf += chunk;
    const m = buf.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  browser.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${buf}`)));
}).catch((e) => {
  console.error(`FAIL: ${e.message}`);
  finish(1);
});

const port = new URL(endpoint).port;
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const page = targets.find((t) => t.type === "page");
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  ws.onopen = resolve;
  ws.onerror = reject;
});

let nextId = 0;
const pending = new Map();
const listeners = new Map();
ws.onmessage = (msg) => {
  const data = JSON.parse(msg.data);
  if (data.id !== undefined) {
    const p = pending.get(data.id);
    pending.delete(data.id);
    if (data.error) p.reject(new Error(JSON.stringify(data.error)));
    else p.resolve(data.result);
  } else {
    for (const f of listeners.get(data.method) || []) f(data.params);
  }
};
function send(method, params = {}) {
  const id = ++nextId;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function on(method, f) {
  listeners.set(method, [...(listeners.get(method) || []), f]);
}

// What counts as a problem.
const requests = new Map();
on("Network.requestWillBeSent", ({ requestId, request }) => {
  requests.set(requestId, request.url);
  const u = new URL(request.url);
  if (!["data:", "blob:", "about:"].includes(u.protocol) && u.origin !== origin) {
    problems.push(`request leaves the service: ${request.url}`);
  }
});
on("Network.loadingFailed", ({ requestId, errorText, canceled }) => {
  problems.push(`request failed: ${requests.get(requestId)}: ${errorText}${canceled ? " (canceled)" : ""}`);
});
on("Network.responseReceived", ({ response }) => {
  if (response.status >= 400) problems.push(`HTTP ${response.status} for ${response.url}`);
});
on("Runtime.consoleAPICalled", ({ type, args }) => {
  const text = args.map((a) => a.value ?? a.description ?? "").join(" ");
  if (type === "error" || type === "assert") problems.push(`console.${type}: ${text}`);
  else if (type === "warning") console.log(`  (console.warn: ${text.slice(0, 200)})`);
});
on("Runtime.exceptionThrown", ({ exceptionDetails }) => {
  const d = exceptionDetails;
  problems.push(`uncaught exception: ${d.exception?.description ?? d.text}`);
});
on("Log.entryAdded", ({ entry }) => {
  if (entry.level === "error") problems.push(`browser log error: ${entry.text} ${entry.url ?? ""}`);
});

await send("Network.enable");
await send("Runtime.enable");
await send("Log.enable");
await send("Page.enable");
const loaded = new Promise((resolve) => on("Page.loadEventFired", resolve));
const nav = await send("Page.navigate", { url });
if (nav.errorText) problems.push(`navigation failed: ${nav.errorText}`);
await loaded;

// Redoc renders after load: wait until every operation is in the page.
async function evaluate(expression) {
  const r = await send("Runtime.evaluate", { expression, returnByValue: true });
  return r.result.value;
}
const check = `(() => {
  const ops = ${JSON.stringify(operations)};
  return ops.map((op) => {
    const el = document.querySelector('[id="operation/' + op + '"]');
    const heading = el && el.querySelector("h2");
    return { op, found: !!el, heading: heading ? heading.innerText : null };
  });
})()`;
let found = [];
for (let i = 0; i < 100; i++) {
  found = await evaluate(check);
  if (found.every((f) => f.found)) break;
  await new Promise((r) => setTimeout(r, 100));
}
// Let late requests and errors arrive.
await new Promise((r) => setTimeout(r, 1000));
for (const f of found) {
  if (f.found) console.log(`  listed: ${f.op} (${f.heading})`);
  else problems.push(`operation not listed: ${f.op}`);
}
const menu = await evaluate(
  `[...document.querySelectorAll('[role="menuitem"] label, .menu-content li label')].map((l) => l.innerText.replace(/\\s+/g, " ").trim()).filter(Boolean)`,
);
console.log(`  side menu: ${JSON.stringify(menu)}`);
const title = await evaluate("document.title");
console.log(`  title: ${title}`);

const shot = await send("Page.captureScreenshot", { format: "png" });
writeFileSync(screenshot, Buffer.from(shot.data, "base64"));
console.log(`  screenshot: ${screenshot}`);
// A second one at an operation (a users_ one when listed), as a reader
// following the menu sees it.
const shown = operations.find((op) => op.startsWith("users_")) ?? operations[0];
await evaluate(`document.querySelector('[id="operation/${shown}"]')?.scrollIntoView()`);
await new Promise((r) => setTimeout(r, 300));
const opShot = await send("Page.captureScreenshot", { format: "png" });
const opPath = screenshot.replace(/\.png$/, "") + "-operation.png";
writeFileSync(opPath, Buffer.from(opShot.data, "base64"));
console.log(`  screenshot: ${opPath}`);

if (problems.length > 0) {
  for (const p of problems) console.error(`FAIL: ${p}`);
  console.log(`docs-page: ${problems.length} problem(s)`);
  finish(1);
} else {
  console.log(`docs-page: ok (${operations.length} operations listed, no failed request, no console error)`);
  finish(0);
}
