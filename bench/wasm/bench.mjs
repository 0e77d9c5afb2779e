// Preview throughput, in one Node process on the same generated NDJSON files:
// the package's previewGroups (wasm) next to a plain JavaScript implementation, and the
// native figure from criterion's last run when there is one. The native engine is also
// timed here, on one thread as wasm runs (core/examples/time_preview.rs, built by
// `make bench-wasm`). Wasm, JavaScript and native runs are taken in turn, so that all see
// the machine in the same state. Usage:
//   node --expose-gc bench/wasm/bench.mjs definition.json profiles-100000.ndjson [profiles-1000000.ndjson ...]
// (`make bench-wasm` generates the files with the core's seeded generator.)
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { jsPreview } from "./js-preview.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { previewGroups } = createRequire(import.meta.url)(path.join(root, "web/pkg/node/group_identity.js"));

const [definitionFile, ...files] = process.argv.slice(2);
if (!definitionFile || files.length === 0) {
  console.error("usage: bench.mjs definition.json profiles.ndjson...");
  process.exit(2);
}
const definition = JSON.parse(readFileSync(definitionFile, "utf8"));

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Wall time in ms of one call. With `node --expose-gc`, the heap is collected first: each
 * call pays for its own garbage, not for what earlier calls (of any side) left behind.
 */
function elapsedMs(fn) {
  globalThis.gc?.();
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Median wall time in ms of `runs` calls after one warm-up. */
function time(runs, fn) {
  fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    times.push(elapsedMs(fn));
  }
  return median(times);
}

const nativeTimer = path.join(root, "target", "release", "examples", "time_preview");

/**
 * `n` native previews of `file`, in ms, timed by the native timer in its own process,
 * after one run to warm it up (as the wasm runs find their memory already grown).
 */
function nativeRuns(file, n) {
  const out = execFileSync(nativeTimer, [definitionFile, file, String(n + 1)], { encoding: "utf8" });
  return out.trim().split("\n").slice(1).map(Number);
}

/**
 * Medians in ms of wasm, plain JavaScript and native runs taken in turn: each round runs a
 * few wasm calls, one JavaScript call and a few native runs (so that each side runs warm and
 * all see the machine in the same state), after a warm-up of each. Native is left out when
 * its timer is missing.
 */
function timeInTurn(rounds, perRound, wasm, js, file) {
  wasm();
  js();
  const native = existsSync(nativeTimer);
  const wasmTimes = [];
  const jsTimes = [];
  const nativeTimes = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < perRound; i++) {
      wasmTimes.push(elapsedMs(wasm));
    }
    jsTimes.push(elapsedMs(js));
    if (native) {
      nativeTimes.push(...nativeRuns(file, perRound));
    }
  }
  return {
    wasm: median(wasmTimes),
    js: median(jsTimes),
    native: native ? median(nativeTimes) : undefined,
  };
}

/** Criterion results with a throughput, found under target/criterion. */
function criterionResults() {
  const base = path.join(root, "target", "criterion");
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (!statSync(full).isDirectory()) continue;
      const bench = path.join(full, "new", "benchmark.json");
      const estimates = path.join(full, "new", "estimates.json");
      if (existsSync(bench) && existsSync(estimates)) {
        const meta = JSON.parse(readFileSync(bench, "utf8"));
        const ns = JSON.parse(readFileSync(estimates, "utf8")).median.point_estimate;
        found.push({ id: meta.full_id ?? meta.title, throughput: meta.throughput, seconds: ns / 1e9 });
      }
      walk(full);
    }
  };
  if (existsSync(base)) walk(base);
  return found;
}

if (typeof globalThis.gc !== "function") {
  console.log("run with `node --expose-gc` to collect the heap before each timed call, as `make bench-wasm` does");
}
if (!existsSync(nativeTimer)) {
  console.log(`no ${path.relative(root, nativeTimer)}: \`make bench-wasm\` builds it; native is not timed in turn`);
}
const rows = [];
const ratios = [];
const row = (input, impl, ms, bytes, profiles) =>
  rows.push({
    input,
    implementation: impl,
    "ms (median)": ms.toFixed(1),
    "MB/s": (bytes / 1e6 / (ms / 1e3)).toFixed(1),
    "profiles/s": Math.round(profiles / (ms / 1e3)).toLocaleString("en-US"),
  });

for (const file of files) {
  const bytes = readFileSync(file);
  const text = bytes.toString("utf8");
  const name = path.basename(file);
  const reference = previewGroups(definition, bytes, { maxListed: 0 });
  const profiles = reference.stats.profiles + reference.stats.skipped;
  const runs = bytes.length > 100e6 ? 3 : 7;
  // On a shared machine one call can take twice as long as the next; five rounds of three
  // runs each for the smaller file, where they cost seconds, steady its medians.
  const rounds = bytes.length > 100e6 ? 3 : 5;

  const inTurn = timeInTurn(
    rounds,
    Math.ceil(runs / 3),
    () => previewGroups(definition, bytes, { maxListed: 0 }),
    () => jsPreview(definition, bytes.toString("utf8")),
    file,
  );
  row(name, "wasm previewGroups(Uint8Array)", inTurn.wasm, bytes.length, profiles);
  if (inTurn.native !== undefined) {
    row(name, "native preview, one thread (runs in turn with wasm)", inTurn.native, bytes.length, profiles);
  }
  row(name, "JavaScript (JSON.parse per line, in turn with wasm)", inTurn.js, bytes.length, profiles);
  row(name, "wasm previewGroups(string)", time(runs, () => previewGroups(definition, text, { maxListed: 0 })), bytes.length, profiles);
  ratios.push({
    input: name,
    "wasm ÷ JavaScript, in turn (target 5×)": `${(inTurn.js / inTurn.wasm).toFixed(1)}×`,
    "wasm ÷ native, in turn (target 60%)":
      inTurn.native === undefined ? "" : `${((100 * inTurn.native) / inTurn.wasm).toFixed(0)}%`,
  });

  // The baseline must answer the same question to be a fair comparison.
  const js = jsPreview(definition, text);
  const same = ["groups", "groupedProfiles", "oversizedGroups", "singletons", "noKey", "shortKey"].filter(
    (k) => js.stats[k] !== reference.stats[k],
  );
  if (same.length > 0) {
    console.warn(`${name}: the JavaScript baseline differs from the engine in ${same.join(", ")}`);
  }
}

for (const result of criterionResults()) {
  const t = result.throughput ?? {};
  const bytes = t.Bytes ?? t.BytesDecimal;
  // Benchmarks named ".../<profiles>" give profiles/s even when their throughput is bytes.
  const elements = t.Elements ?? Number(/\/(\d+)$/.exec(result.id ?? "")?.[1] ?? NaN);
  rows.push({
    input: "(criterion)",
    implementation: `native ${result.id}`,
    "ms (median)": (result.seconds * 1e3).toFixed(1),
    "MB/s": bytes ? (bytes / 1e6 / result.seconds).toFixed(1) : "",
    "profiles/s": Number.isFinite(elements) ? Math.round(elements / result.seconds).toLocaleString("en-US") : "",
  });
}
if (!rows.some((r) => r.input === "(criterion)")) {
  console.log("no native figures: run `cargo bench -p group-identity` first to add them");
}
console.table(rows);
console.table(ratios);
