// PreviewSession fed a large NDJSON file through a read stream: wall time and peak RSS when
// 1M and 10M profiles have been pushed, then at finish(). Usage:
//   node bench/wasm/stream.mjs definition.json profiles-10000000.ndjson
import { createReadStream, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { PreviewSession } = createRequire(import.meta.url)(path.join(root, "web/pkg/node/group_identity.js"));

const [definitionFile, file] = process.argv.slice(2);
if (!definitionFile || !file) {
  console.error("usage: stream.mjs definition.json profiles.ndjson");
  process.exit(2);
}
const definition = JSON.parse(readFileSync(definitionFile, "utf8"));

const marks = [1_000_000, 10_000_000];
// maxRSS is in KiB; reported in MB (10^6 bytes), as the MB read beside it.
const rssMB = () => ((process.resourceUsage().maxRSS * 1024) / 1e6).toFixed(0);
const start = process.hrtime.bigint();
const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
const report = (what) =>
  console.log(`${what.padEnd(22)} ${seconds().toFixed(1).padStart(7)} s   peak RSS ${rssMB().padStart(6)} MB`);

console.log(`start                  peak RSS ${rssMB()} MB`);
const session = new PreviewSession(definition, { maxListed: 0, maxDiagnostics: 100 });
let lines = 0;
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
  session.push(chunk);
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
    lines++;
    if (lines === marks[0]) {
      marks.shift();
      report(`${(lines / 1e6).toFixed(0)}M profiles pushed`);
    }
  }
}
const preview = session.finish();
report(`finish (${(lines / 1e6).toFixed(1)}M lines)`);
console.log(
  `${(session.bytesRead / 1e6).toFixed(0)} MB read, ${preview.stats.profiles} profiles, ` +
    `${preview.stats.groups} groups, ${(session.bytesRead / 1e6 / seconds()).toFixed(1)} MB/s`,
);
