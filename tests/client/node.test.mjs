// GroupsClient in Node against the API emulator: every method, every error, and each duty of
// SPEC section 7 (validation before sending, token cache and refresh, retries, timeouts,
// tolerant error reading, secrets kept out of messages).
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";

import {
  CLIENT_ID,
  CLIENT_SECRET,
  HOUSEHOLD,
  WORKSPACE,
  admin,
  clearFaults,
  closedPort,
  loadPackage,
  rejection,
  setFault,
  spyOnFetch,
  startEmulator,
  startStub,
} from "./harness.mjs";

const { GroupsClient } = await loadPackage();

let emulator;
let spy;
/** Every ApiError seen, checked at the end for leaked secrets. */
const seenErrors = [];
/** Every bearer token the client sent, and every request. */
const seenTokens = new Set();
const allCalls = [];

function client(options = {}) {
  return new GroupsClient({
    workspaceId: WORKSPACE,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiUrl: emulator.url,
    authUrl: emulator.url,
    ...options,
  });
}

async function apiError(promise) {
  const err = await rejection(promise);
  assert.ok(err instanceof Error, `not an Error: ${err}`);
  assert.equal(err.name, "ApiError", `${err.name}: ${err.message}`);
  seenErrors.push(err);
  return err;
}

/** Deletes every definition of the workspace, so each test starts empty. */
async function emptyWorkspace() {
  const cleaner = client();
  for (const group of await cleaner.list()) {
    await cleaner.delete(group.id);
  }
}

before(async () => {
  emulator = await startEmulator();
});

after(async () => {
  await emulator?.stop();
});

beforeEach(async () => {
  await clearFaults(emulator.url);
  spy?.restore();
  await emptyWorkspace();
  spy = spyOnFetch();
});

afterEach(() => {
  for (const call of spy.calls) {
    allCalls.push(call);
    if (call.authorization) seenTokens.add(call.authorization.replace(/^Bearer /, ""));
  }
  spy.restore();
});

describe("methods", () => {
  test("a CRUD cycle: list, create, get, update, setAttributes, delete", async () => {
    const c = client();
    assert.deepEqual(await c.list(), []);

    const created = await c.create(HOUSEHOLD);
    assert.equal(Object.getPrototypeOf(created), Object.prototype, "a plain object");
    assert.equal(created.id, "household");
    assert.equal(created.source_user_attribute, "$address");
    assert.deepEqual(created.attributes, HOUSEHOLD.attributes);
    assert.match(created.created_on, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(created.created_by, CLIENT_ID);

    const listed = await c.list();
    assert.ok(Array.isArray(listed));
    assert.deepEqual(listed.map((g) => g.id), ["household"]);

    assert.deepEqual(await c.get("household"), created);

    const updated = await c.update("household", {
      description: "same address",
      source_user_attribute: "$address",
      attributes: [
        { id: "has_dog", type: "boolean_or" },
        { id: "ltv", type: "sum" },
      ],
    });
    assert.equal(updated.description, "same address");
    assert.deepEqual(updated.attributes.map((a) => a.id), ["has_dog", "ltv"]);

    const patched = await c.setAttributes("household", [{ id: "country", type: "latest" }]);
    assert.deepEqual(patched.attributes, [{ id: "country", type: "latest" }]);
    assert.equal(patched.description, "same address", "PATCH keeps the other fields");

    assert.equal(await c.delete("household"), undefined);
    assert.deepEqual(await c.list(), []);

    // What went over the wire: the right methods, paths and bodies.
    const sent = spy.apiRequests().map((r) => `${r.method} ${r.path}`);
    const base = `/platform/workspaces/${WORKSPACE}/groups`;
    assert.deepEqual(sent, [
      `GET ${base}`,
      `POST ${base}`,
      `GET ${base}`,
      `GET ${base}/household`,
      `PUT ${base}/household`,
      `PATCH ${base}/household`,
      `DELETE ${base}/household`,
      `GET ${base}`,
    ]);
    const patch = spy.apiRequests().find((r) => r.method === "PATCH");
    assert.deepEqual(JSON.parse(patch.body), { attributes: [{ id: "country", type: "latest" }] });
    assert.equal(spy.tokenRequests(), 1, "one token for the whole cycle");
  });

  test("definitions given as JSON text are sent as JSON", async () => {
    const c = client();
    const created = await c.create(JSON.stringify(HOUSEHOLD));
    assert.equal(created.id, "household");
    // A number no double holds is still JSON: sent as written, not refused with no issue.
    const text = JSON.stringify(HOUSEHOLD).replace(/}$/, ',"note":1e400}');
    spy.reset();
    const updated = await c.update("household", text);
    assert.equal(updated.id, "household");
    assert.match(spy.apiRequests().at(-1).body, /"note":1e400/);
  });

  test("group ids are percent-encoded in paths", async () => {
    const c = client();
    const id = "a/b c?#%é";
    await c.create({ ...HOUSEHOLD, id });
    const got = await c.get(id);
    assert.equal(got.id, id);
    const paths = spy.apiRequests().map((r) => new URL(r.url).pathname);
    assert.ok(
      paths.includes(`/platform/workspaces/${WORKSPACE}/groups/a%2Fb%20c%3F%23%25%C3%A9`),
      paths.join("\n"),
    );
    await c.delete(id);
  });

  test("a workspace id may be a string of digits", async () => {
    const c = client({ workspaceId: String(WORKSPACE) });
    assert.deepEqual(await c.list(), []);
    // -0 is the whole number 0, not a path segment "-0".
    const zero = new GroupsClient({ workspaceId: -0, accessToken: "abcdefgh" });
    assert.equal(JSON.parse(JSON.stringify(zero)).workspaceId, "0");
    // A BigInt, as ids often are.
    const big = new GroupsClient({ workspaceId: 12345678901234567890n, accessToken: "abcdefgh" });
    assert.equal(JSON.parse(JSON.stringify(big)).workspaceId, "12345678901234567890");
    assert.throws(() => new GroupsClient({ workspaceId: -1n, accessToken: "abcdefgh" }), /workspaceId must be/);
  });
});

describe("errors", () => {
  test("401: wrong client credentials (the token service's error shape)", async () => {
    const err = await apiError(client({ clientSecret: "not-the-secret" }).list());
    assert.equal(err.status, 401);
    assert.equal(err.code, "access_denied");
    assert.match(err.message, /wrong client_secret/);
    assert.equal(err.body.error, "access_denied", "the raw body is kept, parsed");
    assert.equal(typeof err.body.error_description, "string");
    assert.equal(spy.apiRequests().length, 0, "no API call without a token");
  });

  test("401: a pasted token that is not valid is not refreshed", async () => {
    const c = client({ clientId: undefined, clientSecret: undefined, accessToken: "not-a-valid-token" });
    const err = await apiError(c.list());
    assert.equal(err.status, 401);
    assert.equal(err.code, "unauthorized");
    assert.equal(spy.tokenRequests(), 0);
    assert.equal(spy.apiRequests().length, 1);
  });

  test("a pasted access token works", async () => {
    const token = await admin(emulator.url, "POST", "/oauth/token", {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      audience: "https://api.mparticle.com",
      grant_type: "client_credentials",
    });
    const c = new GroupsClient({ workspaceId: WORKSPACE, accessToken: token.access_token, apiUrl: emulator.url });
    assert.deepEqual(await c.list(), []);
    assert.equal(spy.tokenRequests(), 0);
    assert.equal(spy.apiRequests()[0].authorization, `Bearer ${token.access_token}`);
    assert.ok(!JSON.stringify(c).includes(token.access_token));
  });

  test("403: a workspace the client may not use", async () => {
    const err = await apiError(client({ workspaceId: 2000 }).list());
    assert.equal(err.status, 403);
    assert.equal(err.code, "forbidden");
    assert.match(err.message, /2000/);
  });

  test("404: an unknown group (the Platform API's error shape)", async () => {
    const err = await apiError(client().get("no-such-group"));
    assert.equal(err.status, 404);
    assert.equal(err.code, "not_found");
    assert.match(err.message, /no-such-group/);
    assert.equal(err.body.errors[0].code, "NOT_FOUND");
    assert.equal(err.issues, undefined);
  });

  test("422 from local validation: nothing is sent", async () => {
    const c = client();
    await c.list(); // the token is cached; from here on any request would show in the spy
    spy.reset();

    const bad = await apiError(
      c.create({ id: "x", source_user_attribute: "$address", attributes: [{ id: "a", type: "max" }] }),
    );
    assert.equal(bad.status, 422);
    assert.equal(bad.code, "validation_failed");
    assert.deepEqual(
      bad.issues.map((i) => [i.code, i.path]).sort(),
      [
        ["too_short", "/id"],
        ["unknown_aggregation", "/attributes/0/type"],
      ],
    );
    assert.match(bad.message, /^invalid request body, not sent: .*\(and 1 more issue\)$/);

    const mismatch = await apiError(c.update("household", { ...HOUSEHOLD, id: "other-id" }));
    assert.deepEqual(mismatch.issues.map((i) => i.code), ["id_mismatch"]);

    const patch = await apiError(c.setAttributes("household", [{ id: "", type: "sum" }]));
    assert.deepEqual(patch.issues.map((i) => [i.code, i.path]), [["too_short", "/attributes/0/id"]]);

    const notJson = await apiError(c.create("{ not json"));
    assert.equal(notJson.code, "validation_failed");
    assert.equal(notJson.issues[0].code, "invalid_json");

    // JSON.stringify writes a lone surrogate as an escape no JSON reader takes: a 422
    // as for text, not a TypeError.
    const lone = await apiError(c.create({ ...HOUSEHOLD, description: "half \ud800" }));
    assert.equal(lone.status, 422);
    assert.equal(lone.issues[0].code, "invalid_json");
    assert.match(lone.issues[0].message, /surrogate/);

    const emptyId = await apiError(c.get(""));
    assert.equal(emptyId.status, 422);
    assert.equal(emptyId.issues[0].code, "invalid_group_id");
    await apiError(c.delete(".."));

    assert.equal(spy.calls.length, 0, `requests were made: ${JSON.stringify(spy.calls)}`);
  });

  test("422 from the server: its errors with a path become issues", async () => {
    const c = client();
    await c.create(HOUSEHOLD);
    // Valid locally, refused by the server: one definition per workspace.
    const err = await apiError(c.create({ ...HOUSEHOLD, id: "second-group" }));
    assert.equal(err.status, 422);
    assert.equal(err.code, "validation_error");
    assert.match(err.message, /at most 1/);
    assert.ok(Array.isArray(err.issues) && err.issues.length === 1, JSON.stringify(err.issues));
    assert.equal(err.issues[0].path, "");
    assert.equal(err.body.errors[0].code, "VALIDATION_ERROR");
  });

  test("wrong argument types reject with a TypeError", async () => {
    const c = client();
    const err = await rejection(c.get(42));
    assert.ok(err instanceof TypeError);
    assert.match(err.message, /groupId must be a string/);
    const body = await rejection(c.create(undefined));
    assert.ok(body instanceof TypeError);
    assert.equal(spy.calls.length, 0);
  });

  test("the constructor names the option that is wrong, never a secret", () => {
    const cases = [
      [{}, /workspaceId is required/],
      [{ workspaceId: "ws-1", accessToken: "abcdefgh" }, /workspaceId must be digits only/],
      [{ workspaceId: 1, clientId: "a" }, /clientSecret is required/],
      [{ workspaceId: 1 }, /credentials are required/],
      [{ workspaceId: 1, accessToken: "tok-secret-1", clientId: "a", clientSecret: "sec-secret-1" }, /not both/],
      [{ workspaceId: 1, accessToken: "has space" }, /accessToken must be/],
      [{ workspaceId: 1, accessToken: "abcdefgh", timeout: 5 }, /unknown option "timeout"/],
      [{ workspaceId: 1, accessToken: "abcdefgh", apiUrl: "/relative" }, /apiUrl must be an absolute/],
      [{ workspaceId: 1, accessToken: "abcdefgh", timeoutMs: -1 }, /timeoutMs must be/],
      [{ workspaceId: 1, accessToken: "abcdefgh", apiUrl: "https://me:url-secret-1@api.example" }, /must not hold credentials/],
      [{ workspaceId: 1, accessToken: "abcdefgh", maxRetries: 1.5 }, /maxRetries must be/],
    ];
    for (const [options, expected] of cases) {
      assert.throws(
        () => new GroupsClient(options),
        (err) => {
          assert.ok(err instanceof TypeError, `${err}`);
          assert.match(err.message, expected);
          for (const secret of ["tok-secret-1", "sec-secret-1", "has space", "url-secret-1"]) {
            assert.ok(!err.message.includes(secret), err.message);
          }
          return true;
        },
      );
    }
  });
});

describe("inputs and safety", () => {
  test("definitions and attributes as UTF-8 bytes (a Buffer, a Uint8Array) are sent as their JSON", async () => {
    const c = client();
    const created = await c.create(Buffer.from(JSON.stringify(HOUSEHOLD)));
    assert.equal(created.id, "household");
    assert.deepEqual(created.attributes, HOUSEHOLD.attributes);
    const { id: _, ...withoutId } = HOUSEHOLD;
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(JSON.stringify({ ...withoutId, description: "Straße 🏠" }))]);
    const updated = await c.update("household", bom);
    assert.equal(updated.description, "Straße 🏠");
    const attributes = [{ id: "ltv", type: "sum" }];
    const patched = await c.setAttributes("household", new TextEncoder().encode(JSON.stringify(attributes)));
    assert.deepEqual(patched.attributes, attributes);
    assert.deepEqual((await c.setAttributes("household", JSON.stringify(HOUSEHOLD.attributes))).attributes, HOUSEHOLD.attributes);
    for (const request of spy.apiRequests().filter((r) => r.method !== "GET")) {
      assert.ok(!/"0":|"type":"Buffer"/.test(request.body), request.body);
    }

    // Bytes that are not UTF-8: a 422 naming the byte offset, and nothing is sent.
    spy.reset();
    const broken = Buffer.concat([Buffer.from('{"id":"ab'), Buffer.from([0xff]), Buffer.from('c"}')]);
    for (const call of [() => c.create(broken), () => c.update("household", broken), () => c.setAttributes("household", broken)]) {
      const err = await apiError(call());
      assert.equal(err.status, 422);
      assert.equal(err.code, "validation_failed");
      assert.equal(err.issues[0].code, "invalid_json");
      assert.match(err.message, /not UTF-8.*0xFF at byte offset 9\b/);
    }
    const notJson = await apiError(c.setAttributes("household", Buffer.from("[{")));
    assert.equal(notJson.issues[0].code, "invalid_json");
    assert.equal(spy.calls.length, 0, JSON.stringify(spy.calls));
  });

  test("a local validation failure carries the warnings; a missing field names the likely typo", async () => {
    const c = client();
    const { attributes, ...rest } = HOUSEHOLD;
    const err = await apiError(c.create({ ...rest, atributes: attributes }));
    assert.equal(err.status, 422);
    assert.deepEqual(err.issues.map((i) => i.code), ["missing_field"]);
    assert.deepEqual(err.warnings.map((w) => [w.code, w.path]), [["unknown_field", "/atributes"]]);
    assert.match(err.message, /missing required field "attributes".*did you mean "attributes"/);
    const plain = await apiError(c.create({ ...HOUSEHOLD, id: "x" }));
    assert.deepEqual(plain.warnings, []);
    assert.doesNotMatch(plain.message, /warning/);
    assert.equal(spy.calls.length, 0);
  });

  test("setAttributes text is validated as written: a repeated key is warned of, its last value sent", async () => {
    const c = client();
    await c.create(HOUSEHOLD);
    spy.reset();
    const err = await apiError(c.setAttributes("household", '[{"id":"ltv","type":"sum","type":"max"}]'));
    assert.equal(err.status, 422);
    assert.deepEqual(err.issues.map((i) => [i.code, i.path]), [["unknown_aggregation", "/attributes/0/type"]]);
    assert.deepEqual(err.warnings.map((w) => [w.code, w.path]), [["duplicate_field", "/attributes/0/type"]]);
    assert.equal(spy.calls.length, 0, JSON.stringify(spy.calls));
    const bytes = new TextEncoder().encode('[{"id":"ltv","type":"max","type":"sum"}]');
    const patched = await c.setAttributes("household", bytes);
    assert.deepEqual(patched.attributes, [{ id: "ltv", type: "sum" }]);
    const [request] = spy.apiRequests().filter((r) => r.method === "PATCH");
    assert.equal(request.body, '{"attributes":[{"id":"ltv","type":"sum"}]}');
  });

  test("a workspace id is sent in canonical digits", async () => {
    for (const workspaceId of ["01000", "  0001000 ", 1000n]) {
      const c = client({ workspaceId });
      assert.equal(JSON.parse(JSON.stringify(c)).workspaceId, String(WORKSPACE));
      assert.deepEqual(await c.list(), []);
    }
    assert.ok(spy.apiRequests().every((r) => r.path === `/platform/workspaces/${WORKSPACE}/groups`));
    const zero = new GroupsClient({ workspaceId: "000", accessToken: "abcdefgh" });
    assert.equal(JSON.parse(JSON.stringify(zero)).workspaceId, "0");
    assert.throws(() => new GroupsClient({ workspaceId: "+1000", accessToken: "abcdefgh" }), /digits only/);
  });

  test("URL options: plain http only to a loopback host; values that may hold credentials are never echoed", () => {
    const make = (apiUrl, key = "apiUrl") => () => new GroupsClient({ workspaceId: 1, accessToken: "abcdefgh", [key]: apiUrl });
    for (const url of ["http://127.0.0.1:8000", "http://127.9.8.7", "http://localhost:3000/", "http://[::1]:8787", "https://api.example"]) {
      make(url)();
      make(url, "authUrl")();
    }
    for (const key of ["apiUrl", "authUrl"]) {
      for (const url of ["http://api.mparticle.com", "http://10.0.0.1", "http://localhost.example.com", "http://128.0.0.1", "http://[::2]"]) {
        assert.throws(make(url, key), (err) => {
          assert.ok(err instanceof TypeError);
          assert.match(err.message, new RegExp(`${key} must use https://.*loopback`));
          assert.ok(err.message.includes(url), "a value without credentials is named");
          return true;
        });
      }
      for (const url of [
        "https://api.example/?access_token=qs-secret-1",
        "https://api.example/#qs-secret-1",
        "ftp://me:qs-secret-1@api.example",
        "https://me:qs secret-1@api example",
        "http://me@api.example/qs-secret-1",
      ]) {
        assert.throws(make(url, key), (err) => {
          assert.ok(err instanceof TypeError);
          assert.match(err.message, new RegExp(key));
          assert.ok(!err.message.includes("qs-secret-1") && !err.message.includes("qs secret-1"), err.message);
          return true;
        });
      }
    }
    assert.throws(make("ftp://api.example"), /got "ftp:\/\/api\.example"/);
  });

  test("redirects are refused: neither the secret nor the token is sent on", async () => {
    const elsewhere = [];
    const target = await startStub((req, body) => {
      elsewhere.push({ url: req.url, authorization: req.headers.authorization, body });
      return { status: 200, headers: { "content-type": "application/json" }, body: "[]" };
    });
    const redirecting = await startStub((req) => {
      if (req.url === "/oauth/token" && req.method === "POST" && !redirecting.passToken) {
        return { status: 307, headers: { location: `${target.url}/oauth/token` } };
      }
      if (req.url === "/oauth/token") {
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ access_token: "redirect-token-123456789", expires_in: 3600, token_type: "Bearer" }),
        };
      }
      return { status: 308, headers: { location: `${target.url}${req.url}` } };
    });
    try {
      const tokenErr = await apiError(client({ authUrl: redirecting.url, apiUrl: redirecting.url }).list());
      assert.equal(tokenErr.status, 0);
      assert.equal(tokenErr.code, "network_error");
      assert.match(tokenErr.message, /redirect.*refused/);
      redirecting.passToken = true;
      const c = client({ authUrl: redirecting.url, apiUrl: redirecting.url, maxRetries: 2 });
      const apiErr = await apiError(c.list());
      assert.equal(apiErr.status, 0);
      assert.match(apiErr.message, /redirect.*refused/);
      assert.equal(spy.apiRequests().length, 1, "a refused redirect is not retried");
      await apiError(c.create(HOUSEHOLD));
      assert.deepEqual(elsewhere, [], "nothing reached the redirect's target");
    } finally {
      await target.stop();
      await redirecting.stop();
    }
  });
});

describe("retries", () => {
  test("a 503 is retried, honouring Retry-After, then succeeds", async () => {
    const c = client();
    await c.list();
    spy.reset();
    await setFault(emulator.url, { status: 503, retryAfter: 1, count: 1 });
    const started = Date.now();
    assert.deepEqual(await c.list(), []);
    const elapsed = Date.now() - started;
    assert.equal(spy.apiRequests().length, 2);
    assert.ok(elapsed >= 1000, `waited ${elapsed} ms for Retry-After: 1`);
  });

  test("a 429's Retry-After is honoured", async () => {
    const c = client();
    await c.list();
    spy.reset();
    await setFault(emulator.url, { status: 429, retryAfter: 2, count: 1 });
    const started = Date.now();
    await c.list();
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 2000, `waited only ${elapsed} ms for Retry-After: 2`);
    assert.equal(spy.apiRequests().length, 2);
  });

  test("a 500 without Retry-After is retried with backoff, at most maxRetries times", async () => {
    const c = client({ maxRetries: 2 });
    await c.list();
    spy.reset();
    await setFault(emulator.url, { status: 500, count: 5 });
    const err = await apiError(c.list());
    assert.equal(err.status, 500);
    assert.equal(err.code, "internal_server_error", JSON.stringify(err.body));
    assert.equal(spy.apiRequests().length, 3, "one try and two retries");

    await clearFaults(emulator.url);
    spy.reset();
    await setFault(emulator.url, { status: 502, count: 2 });
    assert.deepEqual(await c.list(), []);
    assert.equal(spy.apiRequests().length, 3);
  });

  test("maxRetries 0 means one try", async () => {
    const c = client({ maxRetries: 0 });
    await c.list();
    spy.reset();
    await setFault(emulator.url, { status: 503, retryAfter: 0, count: 1 });
    const err = await apiError(c.list());
    assert.equal(err.status, 503);
    assert.equal(spy.apiRequests().length, 1);
  });

  test("a POST that reached the server is not retried on 503", async () => {
    const c = client();
    await c.list();
    spy.reset();
    await setFault(emulator.url, { status: 503, retryAfter: 0, count: 1 });
    const err = await apiError(c.create(HOUSEHOLD));
    assert.equal(err.status, 503);
    assert.deepEqual(spy.apiRequests().map((r) => r.method), ["POST"]);
  });

  test("a POST is retried on 429", async () => {
    const c = client();
    await c.list();
    spy.reset();
    await setFault(emulator.url, { status: 429, retryAfter: 0, count: 1 });
    const created = await c.create(HOUSEHOLD);
    assert.equal(created.id, "household");
    assert.deepEqual(spy.apiRequests().map((r) => r.method), ["POST", "POST"]);
  });

  test("PUT, PATCH and DELETE are retried on 503", async () => {
    const c = client();
    await c.create(HOUSEHOLD);
    spy.reset();
    await setFault(emulator.url, { status: 503, retryAfter: 0, count: 1 });
    await c.update("household", HOUSEHOLD);
    await setFault(emulator.url, { status: 503, retryAfter: 0, count: 1 });
    await c.setAttributes("household", HOUSEHOLD.attributes);
    await setFault(emulator.url, { status: 503, retryAfter: 0, count: 1 });
    await c.delete("household");
    assert.deepEqual(
      spy.apiRequests().map((r) => r.method),
      ["PUT", "PUT", "PATCH", "PATCH", "DELETE", "DELETE"],
    );
  });

  test("the token request is retried on 503 too (asking for a token changes nothing)", async () => {
    const c = client();
    await setFault(emulator.url, { status: 503, retryAfter: 0, count: 1 });
    assert.deepEqual(await c.list(), []);
    assert.equal(spy.tokenRequests(), 2);
  });
});

describe("tokens", () => {
  test("an expired token is refreshed once, with exactly one new token request", async () => {
    const c = client();
    await c.list();
    assert.equal(spy.tokenRequests(), 1);
    const [first] = spy.apiRequests();
    spy.reset();

    const { expired } = await admin(emulator.url, "POST", "/emulator/expire-tokens");
    assert.ok(expired >= 1);
    assert.deepEqual(await c.list(), []);
    assert.equal(spy.tokenRequests(), 1, "exactly one new token");
    const api = spy.apiRequests();
    assert.equal(api.length, 2, "the refused call and its one retry");
    assert.equal(api[0].authorization, first.authorization, "first with the old token");
    assert.notEqual(api[1].authorization, first.authorization, "then with the new one");

    spy.reset();
    await c.list();
    assert.equal(spy.tokenRequests(), 0, "the new token is cached");
  });

  test("concurrent calls share one token request", async () => {
    const c = client();
    const results = await Promise.all([c.list(), c.list(), c.list(), c.get("nope").catch((e) => e), c.list()]);
    assert.equal(results.length, 5);
    assert.equal(results[3].status, 404);
    assert.equal(spy.tokenRequests(), 1);
    assert.equal(new Set(spy.apiRequests().map((r) => r.authorization)).size, 1);
  });

  test("concurrent calls after an expiry share one refresh", async () => {
    const c = client();
    await c.list();
    spy.reset();
    await admin(emulator.url, "POST", "/emulator/expire-tokens");
    await Promise.all([c.list(), c.list(), c.list()]);
    assert.equal(spy.tokenRequests(), 1);
    assert.equal(spy.apiRequests().length, 6, "three refused calls, three retries");
  });

  test("a failed token request is not cached: the next call asks again", async () => {
    const c = client();
    await setFault(emulator.url, { status: 400, count: 1 });
    const err = await apiError(c.list());
    assert.equal(err.status, 400);
    assert.match(err.message, /^token service: /);
    assert.deepEqual(await c.list(), []);
    assert.equal(spy.tokenRequests(), 2);
  });

  test("a refresh after a 401 does not renew the call's retries", async () => {
    const statuses = [503, 503, 401, 503, 200];
    let tokens = 0;
    const api = [];
    const scripted = await startStub((req) => {
      if (req.url === "/oauth/token") {
        tokens += 1;
        const token = { access_token: `scripted-token-${tokens}-abcdef`, expires_in: 3600, token_type: "Bearer" };
        return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(token) };
      }
      const status = statuses[api.length] ?? 200;
      api.push(status);
      return { status, headers: { "retry-after": "0", "content-type": "application/json" }, body: status === 200 ? "[]" : "" };
    });
    try {
      const c = client({ apiUrl: scripted.url, authUrl: scripted.url, maxRetries: 2 });
      const err = await apiError(c.list());
      assert.equal(err.status, 503);
      assert.deepEqual(api, [503, 503, 401, 503], "two retries in all, and the one try after the refresh");
      assert.equal(tokens, 2);
    } finally {
      await scripted.stop();
    }
  });

  test("a token with less than 60 s left is not reused", async () => {
    const shortLived = await startEmulator(["--token-ttl", "30", "--quiet"]);
    try {
      const c = client({ apiUrl: shortLived.url, authUrl: shortLived.url });
      await c.list();
      await c.list();
      assert.equal(spy.tokenRequests(), 2, "each call fetched its own token");
    } finally {
      await shortLived.stop();
    }
  });
});

describe("timeouts and network failures", () => {
  test("a slow answer times out: status 0, code timeout", async () => {
    const c = client({ timeoutMs: 500 });
    await c.list();
    spy.reset();
    await setFault(emulator.url, { delayMs: 3000, count: 1 });
    const started = Date.now();
    const err = await apiError(c.list());
    const elapsed = Date.now() - started;
    assert.equal(err.status, 0);
    assert.equal(err.code, "timeout");
    assert.match(err.message, /timed out after 500 ms/);
    assert.ok(elapsed >= 450 && elapsed < 2500, `rejected after ${elapsed} ms`);
    assert.equal(spy.apiRequests().length, 1, "a timeout is not retried");
  });

  test("no server: status 0, code network_error; GET retried, POST not", async () => {
    const port = await closedPort();
    const c = new GroupsClient({
      workspaceId: WORKSPACE,
      accessToken: "some-pasted-token",
      apiUrl: `http://127.0.0.1:${port}`,
      maxRetries: 1,
    });
    const err = await apiError(c.list());
    assert.equal(err.status, 0);
    assert.equal(err.code, "network_error");
    assert.match(err.message, /ECONNREFUSED/);
    assert.equal(spy.calls.length, 2, "GET is retried once");

    spy.reset();
    const post = await apiError(c.create(HOUSEHOLD));
    assert.equal(post.code, "network_error");
    assert.equal(spy.calls.length, 1, "POST is not retried");
  });

  test("the token service unreachable: status 0, code network_error", async () => {
    const port = await closedPort();
    const c = client({ authUrl: `http://127.0.0.1:${port}`, maxRetries: 0 });
    const err = await apiError(c.list());
    assert.equal(err.code, "network_error");
    assert.match(err.message, /^token service: /);
  });
});

describe("tolerant error bodies", () => {
  let stub;
  const answers = new Map();

  before(async () => {
    stub = await startStub((req) => {
      if (req.url === "/oauth/token") {
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ access_token: "stub-token-123456789", expires_in: 3600, token_type: "Bearer" }),
        };
      }
      const id = decodeURIComponent(req.url.split("/").pop());
      return answers.get(id) ?? { status: 500, body: "" };
    });
  });

  after(async () => {
    await stub?.stop();
  });

  function stubClient() {
    return client({ apiUrl: stub.url, authUrl: stub.url, maxRetries: 0 });
  }

  const cases = [
    {
      id: "platform",
      answer: { status: 404, body: JSON.stringify({ errors: [{ code: "NOT_FOUND", message: "gone" }, { code: "X", message: "and more" }] }) },
      expect: { code: "not_found", message: "gone; and more" },
    },
    {
      id: "oauth",
      answer: { status: 403, body: JSON.stringify({ error: "access_denied", error_description: "Unauthorized" }) },
      expect: { code: "access_denied", message: "Unauthorized" },
    },
    {
      id: "message",
      answer: { status: 409, body: JSON.stringify({ message: "conflicting edit" }) },
      expect: { code: "conflict", message: "conflicting edit" },
    },
    {
      id: "error-only",
      answer: { status: 400, body: JSON.stringify({ error: "invalid_request" }) },
      expect: { code: "invalid_request", message: "invalid_request" },
    },
    {
      id: "text",
      answer: { status: 502, body: "upstream connect error" },
      expect: { code: "server_error", message: "upstream connect error", body: "upstream connect error" },
    },
    {
      id: "html",
      answer: { status: 504, statusText: "Gateway Timeout", body: "<html><body>504</body></html>" },
      expect: { code: "server_error", message: "Gateway Timeout" },
    },
    {
      id: "empty",
      answer: { status: 429, statusText: "Slow Down", body: "" },
      expect: { code: "rate_limited", message: "Slow Down", body: undefined },
    },
    {
      id: "echo",
      answer: { status: 401, body: JSON.stringify({ message: `bad token stub-token-123456789 for ${CLIENT_SECRET}` }) },
      expect: { code: "unauthorized", message: "bad token [redacted] for [redacted]" },
    },
    {
      // Every character of the secret as a JSON `\uXXXX` escape, which parsing decodes.
      id: "echo-escaped",
      answer: {
        status: 401,
        body: `{"error":"invalid_client","error_description":"bad secret ${[...CLIENT_SECRET]
          .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
          .join("")}"}`,
      },
      expect: { code: "invalid_client", message: "bad secret [redacted]" },
    },
  ];

  for (const { id, answer, expect } of cases) {
    test(`${id}: ${answer.status} ${answer.body.slice(0, 40)}`, async () => {
      answers.set(id, answer);
      const err = await apiError(stubClient().get(id));
      assert.equal(err.status, answer.status);
      assert.equal(err.code, expect.code);
      assert.equal(err.message, expect.message);
      if ("body" in expect) assert.equal(err.body, expect.body);
    });
  }

  test("a success that is not JSON is an invalid_response, body kept", async () => {
    answers.set("garbage", { status: 200, body: "<html>hello</html>" });
    const err = await apiError(stubClient().get("garbage"));
    assert.equal(err.status, 200);
    assert.equal(err.code, "invalid_response");
    assert.equal(err.body, "<html>hello</html>");
  });

  test("a DELETE answered 2xx with a body that is not JSON still resolves", async () => {
    answers.set("proxied", { status: 200, body: "Deleted" });
    assert.equal(await stubClient().delete("proxied"), undefined);
  });

  test("Retry-After as an HTTP date is honoured", async () => {
    let calls = 0;
    const dated = await startStub(() => {
      calls += 1;
      if (calls === 1) {
        // One second ahead of now, rounded up to the next second (dates have no fraction).
        const at = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000);
        return { status: 503, headers: { "retry-after": at.toUTCString() }, body: "" };
      }
      return { status: 200, headers: { "content-type": "application/json" }, body: "[]" };
    });
    try {
      const c = new GroupsClient({ workspaceId: 1, accessToken: "dated-token", apiUrl: dated.url });
      const started = Date.now();
      assert.deepEqual(await c.list(), []);
      assert.ok(Date.now() - started >= 1000, `waited ${Date.now() - started} ms`);
      assert.equal(calls, 2);
    } finally {
      await dated.stop();
    }
  });
});

describe("secrets", () => {
  test("JSON.stringify, String and inspect of a client show no secret", () => {
    const c = client();
    const shown = [JSON.stringify(c), String(c), inspect(c, { depth: 5, showHidden: true })];
    for (const text of shown) {
      assert.ok(!text.includes(CLIENT_SECRET), text);
    }
    assert.deepEqual(JSON.parse(shown[0]), {
      workspaceId: String(WORKSPACE),
      apiUrl: emulator.url,
      authUrl: emulator.url,
      timeoutMs: 30000,
      maxRetries: 2,
      auth: "clientCredentials",
      clientId: CLIENT_ID,
    });
    const pasted = new GroupsClient({ workspaceId: 1, accessToken: "pasted-token-value" });
    assert.ok(!JSON.stringify(pasted).includes("pasted-token-value"));
    assert.ok(!String(pasted).includes("pasted-token-value"));
  });

  test("no error message, code or body seen in these tests holds a secret or a token", () => {
    assert.ok(seenErrors.length >= 20, `only ${seenErrors.length} errors seen`);
    assert.ok(seenTokens.size >= 2, "tokens were recorded");
    const secrets = [CLIENT_SECRET, ...seenTokens];
    for (const err of seenErrors) {
      const text = [err.message, err.code, JSON.stringify(err.body ?? null), JSON.stringify(err.issues ?? null), err.stack].join("\n");
      for (const secret of secrets) {
        assert.ok(!text.includes(secret), `${err.message} holds ${secret.slice(0, 6)}…`);
      }
    }
  });

  test("the secret travels only in the token request's body, never in a URL", () => {
    assert.ok(allCalls.length > 50, `only ${allCalls.length} requests recorded`);
    const tokens = [...seenTokens];
    for (const call of allCalls) {
      for (const secret of [CLIENT_SECRET, ...tokens]) {
        assert.ok(!call.url.includes(secret), `${call.method} ${call.url}`);
      }
      if (call.body.includes(CLIENT_SECRET)) {
        assert.equal(call.path, "/oauth/token", `the secret was sent to ${call.path}`);
        assert.equal(call.method, "POST");
        assert.equal(call.authorization, null);
      }
    }
    const tokenCall = allCalls.find((c) => c.path === "/oauth/token" && c.body.includes(CLIENT_SECRET));
    assert.deepEqual(JSON.parse(tokenCall.body), {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      audience: "https://api.mparticle.com",
      grant_type: "client_credentials",
    });
  });
});
