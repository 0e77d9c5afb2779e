// Processes and helpers the browser tests share: the API emulator, a static server for the
// built page (`www/dist`), `trunk serve` with its proxy to the emulator, and Chromium.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdirSync, readFileSync, statSync, writeFileSync, createWriteStream } from "node:fs";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { once } from "node:events";
import { chromium } from "playwright-core";

import { chromiumOptions, freePort, startEmulator as startSharedEmulator } from "../support.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "../..");
export const dist = process.env.WWW_DIST ? resolve(process.env.WWW_DIST) : join(root, "www", "dist");
export const artifacts = join(here, "artifacts");
mkdirSync(artifacts, { recursive: true });

const children = [];

/** Starts a process and resolves with it once `ready` matches its output. */
function startProcess(command, args, options, ready, timeoutMs) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${command} did not start in ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(ready);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, match, output: () => output });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
}

/** The emulator on a free loopback port; resolves with its base URL. */
export async function startEmulator() {
  const emulator = await startSharedEmulator(["--quiet"]);
  children.push({ kill: () => emulator.stop() });
  return emulator.url;
}

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** Serves `www/dist` on a free loopback port; resolves with its base URL. */
export async function startStatic() {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = normalize(join(dist, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(dist + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      statSync(file);
      res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream" });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  children.push({ kill: () => server.close() });
  return `http://127.0.0.1:${server.address().port}`;
}

/** `trunk serve --offline` with `[[proxy]]` backends to the emulator, as `make play` runs it. */
export async function startTrunkServe(emulatorUrl) {
  const port = await freePort();
  const config = join(artifacts, "Trunk.proxy.toml");
  const proxies = ["platform", "oauth", "emulator"]
    .map((p) => `[[proxy]]\nbackend = "${emulatorUrl}/${p}"\n`)
    .join("\n");
  writeFileSync(
    config,
    `[build]\ntarget = ${JSON.stringify(join(root, "www", "index.html"))}\n` +
      `dist = ${JSON.stringify(join(artifacts, "trunk-dist"))}\nfilehash = false\n\n` +
      `[tools]\nwasm_bindgen = ${JSON.stringify(wasmBindgenVersion())}\n\n` +
      `[serve]\naddresses = ["127.0.0.1"]\nport = ${port}\nopen = false\nno_autoreload = true\n\n${proxies}`,
  );
  await startProcess(
    "trunk",
    ["serve", "--offline", "--release", "--config", config],
    { cwd: join(root, "www") },
    /(server listening at|Serving on|📡)/i,
    600_000,
  );
  // Trunk prints its address before the first build is served; wait until the page answers.
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${url}/index.html`);
      if (res.ok && (await res.text()).includes("group-identity-web")) return url;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("trunk serve did not serve the page");
}

function wasmBindgenVersion() {
  const toml = readFileSync(join(root, "www", "Trunk.toml"), "utf8");
  return toml.match(/wasm_bindgen\s*=\s*"([^"]+)"/)[1];
}

export async function launchBrowser() {
  const browser = await chromium.launch(chromiumOptions);
  children.push({ kill: () => browser.close() });
  return browser;
}

export function stopAll() {
  for (const child of children.reverse()) {
    try {
      child.kill();
    } catch {}
  }
}

/**
 * Writes `count` NDJSON profiles in blocks of 10 whose result is known by construction:
 * per block a group of 4 (one has a dog), a group of 3, a singleton, a profile without the
 * key and one with a short key; then 15 profiles sharing one oversized key.
 */
export async function writeBigProfiles(path, blocks) {
  try {
    if (statSync(path).size > 0 && readFileSync(`${path}.blocks`, "utf8") === String(blocks)) return;
  } catch {}
  const out = createWriteStream(path);
  let mpid = 1;
  let buffer = "";
  const line = (attrs) => {
    buffer += JSON.stringify({ mpid: String(mpid++), ...attrs }) + "\n";
  };
  for (let b = 0; b < blocks; b++) {
    line({ $address: `${b} Four Street`, has_dog: true });
    for (let i = 0; i < 3; i++) line({ $address: `${b} Four Street`, has_dog: false });
    for (let i = 0; i < 3; i++) line({ $address: `${b} Three Road`, has_dog: "false" });
    line({ $address: `${b} Lonely Lane`, has_dog: true });
    line({ has_dog: true });
    line({ $address: "x1" });
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, "drain");
      buffer = "";
    }
  }
  for (let i = 0; i < 15; i++) line({ $address: "1 Tower Plaza" });
  out.end(buffer);
  await once(out, "finish");
  writeFileSync(`${path}.blocks`, String(blocks));
}
