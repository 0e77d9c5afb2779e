// Type checks of the package's declarations (run by `make test-types`):
//  1. consumer.ts under NodeNext resolution (the `node` + `import` condition),
//  2. consumer-cjs.cts under NodeNext resolution as CommonJS (the `require` condition),
//  3. consumer-web.ts under bundler resolution (the `default` condition, with `init`),
//  4. real outputs of every function written out as TypeScript literals typed with the
//     declared result types: excess-property and missing-property checks prove that the
//     declarations match what the package actually returns.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { makeProfiles } from "../support.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
const gi = require("group-identity");

function run(project) {
  execFileSync(process.execPath, [tsc, "--project", project], { stdio: "inherit", cwd: here });
  console.log(`tsc --noEmit ${path.relative(here, project)}: ok`);
}

run(path.join(here, "tsconfig.json"));
run(path.join(here, "tsconfig.cjs.json"));
run(path.join(here, "tsconfig.bundler.json"));

const definition = {
  id: "household",
  source_user_attribute: "$address",
  attributes: [
    { id: "has_dog", type: "boolean_or" },
    { id: "ltv", type: "sum" },
    { id: "visits", type: "average" },
    { id: "country", type: "latest" },
  ],
};
// Every result field populated: groups, oversized, singletons, short keys, diagnostics of
// each kind (line, mpid, attribute).
const profiles =
  makeProfiles(400, 9) +
  '{"mpid":"1","$address":"abc"}\nnot json\n{"mpid":"1"}\n{"$address":"x"}\n' +
  '{"mpid":"77","$address":"Straße 1, Köln 🌍","ltv":"lots"}\n{"mpid":"78","$address":["a"]}\n' +
  Array.from({ length: 12 }, (_, i) => `{"mpid":"9${i}","$address":"Oversized Street 1"}\n`).join("");
const preview = gi.previewGroups(definition, profiles);
const missing = ["groups", "oversized", "singletons", "shortKeys", "diagnostics"].filter(
  (key) => preview[key].length === 0,
);
if (missing.length > 0) throw new Error(`sample preview has empty ${missing.join(", ")}`);
let definitionIssues;
try {
  gi.previewGroups({ ...definition, id: "x" }, "");
} catch (error) {
  definitionIssues = error.issues;
}
const samples = {
  Validation: [
    gi.validateDefinition(definition),
    gi.validateDefinition({ id: " a:b ", source_user_attribute: 1, atributes: [], created_on: "x" }),
  ],
  Preview: [preview, gi.previewGroups(definition, "mpid,$address\n1,Main Street 1\n2,Main Street 1\n")],
  AudienceResult: [
    gi.previewAudience(definition, profiles, [{ attribute: "household:has_dog", operator: "=", value: true }]),
  ],
  "Issue[]": [definitionIssues],
  SqlQueries: ["duckdb", "snowflake", "bigquery", "spark"].map((dialect) =>
    gi.toSql(definition, {
      dialect,
      table: "analytics.profiles",
      columns: { mpid: "mpid", attributes: "user_attributes", updatedAt: "updated_at", order: "input_order" },
    }),
  ),
};

const dir = path.join(here, ".generated");
mkdirSync(dir, { recursive: true });
let source = 'import type { AudienceResult, Issue, Preview, SqlQueries, Validation } from "group-identity";\n';
let n = 0;
for (const [type, values] of Object.entries(samples)) {
  for (const value of values) {
    source += `export const sample${n++}: ${type} = ${JSON.stringify(value, null, 1)};\n`;
  }
}
writeFileSync(path.join(dir, "samples.ts"), source);
writeFileSync(
  path.join(dir, "tsconfig.json"),
  JSON.stringify({ extends: "../tsconfig.json", files: ["samples.ts"] }, null, 2),
);
run(path.join(dir, "tsconfig.json"));
console.log(`${n} real outputs match their declared types`);
