// The browser half of browser.test.mjs: the web build of the package, `init()` once, then a
// CRUD cycle, an error and a Retry-After against the emulator on another origin.
import init, { GroupsClient } from "/pkg/group_identity.js";

const api = new URLSearchParams(location.search).get("api");

/** An ApiError (or anything thrown) as plain data the test can compare. */
function described(err) {
  return { name: err?.name, status: err?.status, code: err?.code, message: String(err?.message) };
}

async function run() {
  await init();
  const client = new GroupsClient({
    workspaceId: 1000,
    clientId: "local-client",
    clientSecret: "local-secret",
    apiUrl: api,
    authUrl: api,
  });
  const definition = {
    id: "household",
    source_user_attribute: "$address",
    attributes: [{ id: "has_dog", type: "boolean_or" }],
  };
  const steps = {};
  steps.pageOrigin = location.origin;
  steps.listBefore = await client.list();
  steps.created = await client.create(definition);
  steps.got = await client.get("household");
  steps.updated = await client.update("household", {
    source_user_attribute: "$address",
    attributes: [{ id: "ltv", type: "sum" }],
  });
  steps.patched = await client.setAttributes("household", [{ id: "country", type: "latest" }]);
  steps.deleted = await client.delete("household");
  steps.listAfter = await client.list();
  steps.notFound = await client.get("household").then(() => null, described);
  steps.invalid = await client.create({ id: "x" }).then(() => null, described);

  // A 429 with Retry-After: 1 (a header the page may only read because the emulator exposes
  // it to other origins): the retry waits at least a second.
  await fetch(`${api}/emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status: 429, retryAfter: 1, count: 1 }),
  });
  const started = performance.now();
  await client.list();
  steps.retryAfterWaitedMs = performance.now() - started;
  steps.json = JSON.stringify(client);
  return steps;
}

window.crudResult = run().then(
  (steps) => ({ ok: true, steps }),
  (err) => ({ ok: false, error: described(err) }),
);
