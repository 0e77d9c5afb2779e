// What the client tests share: the built package, the API emulator on a free port, a fetch
// spy that records every request the client makes, and small HTTP helpers.
import { createServer } from "node:http";
import { once } from "node:events";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "../..");
export const pkgDir = join(root, "web", "pkg");

/** The Node build of the package, as `import` from a user's code resolves it. */
export async function loadPackage() {
  return import(pathToFileURL(join(pkgDir, "node", "index.mjs")).href);
}

export const CLIENT_ID = "local-client";
export const CLIENT_SECRET = "local-secret";
export const WORKSPACE = 1000;

export { startEmulator } from "../support.mjs";

// The real fetch, kept before any spy wraps it: the tests' own admin calls use it, so they
// never show up among the client's requests.
const realFetch = globalThis.fetch;

/** An emulator admin call (`/emulator/...`). */
export async function admin(baseUrl, method, path, body) {
  const response = await realFetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return response.status === 204 ? undefined : response.json();
}

/** Forces the next `count` token or API requests to fail or wait (see the emulator README). */
export function setFault(baseUrl, fault) {
  return admin(baseUrl, "POST", "/emulator/faults", fault);
}

export function clearFaults(baseUrl) {
  return admin(baseUrl, "DELETE", "/emulator/faults");
}

/**
 * Replaces `globalThis.fetch` with a recorder; the client's requests still go out. Each
 * entry: `{ method, url, path, authorization, body }`.
 */
export function spyOnFetch() {
  const calls = [];
  const wrapped = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const body = request.body ? await request.clone().text() : "";
    calls.push({
      method: request.method,
      url: request.url,
      path: new URL(request.url).pathname,
      authorization: request.headers.get("authorization"),
      body,
    });
    return realFetch(input, init);
  };
  globalThis.fetch = wrapped;
  return {
    calls,
    tokenRequests: () => calls.filter((c) => c.path === "/oauth/token").length,
    apiRequests: () => calls.filter((c) => c.path.startsWith("/platform/")),
    reset: () => {
      calls.length = 0;
    },
    restore: () => {
      globalThis.fetch = realFetch;
    },
  };
}

/** A loopback HTTP server answering with `handler(req, body)` → `{ status, headers, body }`. */
export async function startStub(handler) {
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const answer = await handler(req, body);
    if (answer.statusText) res.statusMessage = answer.statusText;
    res.writeHead(answer.status, answer.headers || {});
    res.end(answer.body ?? "");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((r) => server.close(r)),
  };
}

/** A loopback port nothing listens on (bound, then released). */
export { freePort as closedPort } from "../support.mjs";

/** Resolves with the rejection of `promise`; fails if it resolves. */
export async function rejection(promise) {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("expected a rejection")) throw err;
    return err;
  }
}

export const HOUSEHOLD = Object.freeze({
  id: "household",
  description: "users who share the same physical address",
  source_user_attribute: "$address",
  attributes: [{ id: "has_dog", type: "boolean_or" }],
});
