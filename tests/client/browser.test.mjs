// GroupsClient in headless Chromium: a page served from one origin imports the web build of
// the package and runs a CRUD cycle against the emulator on another origin, so every call is
// a real cross-origin request with CORS (preflights included: the client sends
// Authorization and a JSON Content-Type).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { chromiumOptions } from "../support.mjs";

import { CLIENT_SECRET, pkgDir, startEmulator, startStub } from "./harness.mjs";

const pageDir = join(dirname(fileURLToPath(import.meta.url)), "page");
const webBuild = join(pkgDir, "web");
const types = {
  ".html": "text/html; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
};

/** `/pkg/*` from the package's web build, everything else from page/. */
function serveFile(req) {
  const path = decodeURIComponent(new URL(req.url, "http://page").pathname);
  const [base, rest] = path.startsWith("/pkg/") ? [webBuild, path.slice(5)] : [pageDir, path.slice(1) || "index.html"];
  const file = normalize(join(base, rest));
  if (!file.startsWith(base + sep)) return { status: 403 };
  try {
    statSync(file);
  } catch {
    return { status: 404, body: "not found" };
  }
  return {
    status: 200,
    headers: { "content-type": types[extname(file)] || "application/octet-stream" },
    body: readFileSync(file),
  };
}

let emulator;
let site;
let browser;
let profileDir;

before(async () => {
  emulator = await startEmulator(["--quiet"]);
  site = await startStub(serveFile);
  profileDir = mkdtempSync(join(tmpdir(), "groups-client-chromium-"));
  browser = await chromium.launchPersistentContext(profileDir, chromiumOptions);
});

after(async () => {
  await browser?.close();
  await site?.stop();
  await emulator?.stop();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

test("a CRUD cycle from another origin, with CORS", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  // Headers are read asynchronously: each read is kept and awaited before the checks, so
  // none is missed and none outlives the browser (an unawaited one fails the run).
  const apiResponses = [];
  page.on("response", (response) => {
    if (!response.url().startsWith(`${emulator.url}/platform/`)) return;
    apiResponses.push(
      Promise.all([response.request().allHeaders(), response.allHeaders()]).then(([sent, received]) => ({
        method: response.request().method(),
        status: response.status(),
        origin: sent.origin,
        allowOrigin: received["access-control-allow-origin"],
      })),
    );
  });

  await page.goto(`${site.url}/index.html?api=${encodeURIComponent(emulator.url)}`);
  const result = await page.evaluate(() => window.crudResult);
  const responses = await Promise.all(apiResponses);
  assert.ok(result.ok, `the page failed: ${JSON.stringify(result.error)}\n${problems.join("\n")}`);
  const { steps } = result;

  assert.equal(steps.pageOrigin, site.url);
  assert.notEqual(new URL(steps.pageOrigin).origin, new URL(emulator.url).origin, "two origins");
  assert.deepEqual(steps.listBefore, []);
  assert.equal(steps.created.id, "household");
  assert.match(steps.created.created_on, /Z$/);
  assert.deepEqual(steps.got, steps.created);
  assert.deepEqual(steps.updated.attributes, [{ id: "ltv", type: "sum" }]);
  assert.deepEqual(steps.patched.attributes, [{ id: "country", type: "latest" }]);
  assert.equal(steps.deleted, undefined);
  assert.deepEqual(steps.listAfter, []);
  assert.deepEqual(
    { ...steps.notFound, message: undefined },
    { name: "ApiError", status: 404, code: "not_found", message: undefined },
  );
  assert.equal(steps.invalid.status, 422);
  assert.equal(steps.invalid.code, "validation_failed");
  assert.ok(steps.retryAfterWaitedMs >= 1000, `Retry-After waited ${steps.retryAfterWaitedMs} ms`);
  assert.ok(!steps.json.includes(CLIENT_SECRET));

  // Every API response was a CORS response to this page's origin.
  const methods = responses.map((r) => r.method);
  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
    assert.ok(methods.includes(method), `no ${method} seen: ${methods.join(", ")}`);
  }
  for (const response of responses) {
    assert.equal(response.origin, site.url, JSON.stringify(response));
    assert.ok(response.allowOrigin === "*" || response.allowOrigin === site.url, JSON.stringify(response));
  }
  assert.deepEqual(problems.filter((p) => !/status of (404|422|429)/.test(p)), []);
  await page.close();
});
