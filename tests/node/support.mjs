// Installs the packed package into a fresh directory, as a user would, and loads it both ways.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const pkgDir = path.join(root, "web", "pkg");

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** `npm pack` of web/pkg, installed into an empty directory; returns both module flavours. */
export async function installPackage() {
  const dir = mkdtempSync(path.join(tmpdir(), "group-identity-consumer-"));
  const packed = execFileSync(npm, ["pack", pkgDir, "--json", "--pack-destination", dir], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [{ filename, files }] = JSON.parse(packed);
  writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
  );
  execFileSync(
    npm,
    ["install", "--no-audit", "--no-fund", "--ignore-scripts", path.join(dir, path.basename(filename))],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  // An ES module inside the consumer, so `import` resolves through the package's exports map.
  writeFileSync(
    path.join(dir, "esm.mjs"),
    'export * from "group-identity";\nexport { default } from "group-identity";\n',
  );
  const esm = await import(pathToFileURL(path.join(dir, "esm.mjs")).href);
  const cjs = createRequire(path.join(dir, "package.json"))("group-identity");
  return {
    dir,
    esm,
    cjs,
    files: files.map((f) => f.path),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A small seeded PRNG (mulberry32), so random chunkings are reproducible. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STREETS = ["Straße", "Rue de l'Église", "Ōdōri", "Главная улица", "街道", "🏠 Lane", "Main St"];

/**
 * NDJSON profiles with multi-byte characters in keys and values, households of 1 to 4,
 * a few oversized addresses, 64-bit mpids (some as JSON numbers beyond 2^53).
 */
export function makeProfiles(count, seed) {
  const random = prng(seed);
  const lines = [];
  let household = 0;
  let left = 0;
  let address = "";
  for (let i = 0; i < count; i++) {
    if (left === 0) {
      household++;
      left = 1 + Math.floor(random() * 4);
      const street = STREETS[household % STREETS.length];
      address = household % 97 === 0 ? "Shared 🏢 Tower 1" : `${street} ${household}, Köln 🌍`;
    }
    left--;
    // Every third mpid is a bare JSON number above 2^53: exact only if never a JS number.
    const big = 9007199254740993n + BigInt(i);
    const mpid = i % 3 === 0 ? big.toString() : JSON.stringify(`-${big}`);
    const attrs = [`"$address":${JSON.stringify(address)}`];
    if (random() < 0.6) attrs.push(`"has_dog":${random() < 0.5 ? "true" : '"False"'}`);
    if (random() < 0.7) attrs.push(`"ltv":${(random() * 100).toFixed(2)}`);
    if (random() < 0.5) attrs.push(`"visits":${Math.floor(random() * 20)}`);
    if (random() < 0.5) attrs.push(`"country":${JSON.stringify(random() < 0.5 ? "DE 🇩🇪" : "Österreich")}`);
    lines.push(`{"mpid":${mpid},${attrs.join(",")}}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Splits SQL text of `dialect` into what is quoted and what is not, the way the dialect's
 * lexer reads it: string literals ('...'), quoted identifiers ("..." or `...`). Returns the
 * decoded literals and identifiers, and the bare text with every quoted token removed, so a
 * test can prove a hostile name never reaches the SQL outside quotes.
 */
export function splitSql(sql, dialect) {
  const backslashLiterals = dialect !== "duckdb";
  const identifierQuote = dialect === "duckdb" || dialect === "snowflake" ? '"' : "`";
  const literals = [];
  const identifiers = [];
  let bare = "";
  let i = 0;
  // Reads a token closed by `quote`; a doubled quote is one quote character, and (where
  // `backslash`) a backslash escapes the next character.
  const token = (quote, backslash) => {
    let out = "";
    i++;
    for (;;) {
      if (i >= sql.length) throw new Error(`unterminated ${quote} token in:\n${sql}`);
      const c = sql[i];
      if (backslash && c === "\\") {
        out += sql[i + 1];
        i += 2;
      } else if (c === quote && sql[i + 1] === quote && !backslash) {
        out += quote;
        i += 2;
      } else if (c === quote) {
        i++;
        return out;
      } else {
        out += c;
        i++;
      }
    }
  };
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'") {
      literals.push(token("'", backslashLiterals));
    } else if (c === identifierQuote) {
      // BigQuery quoted identifiers take backslash escapes; Spark doubles the backtick.
      identifiers.push(token(c, dialect === "bigquery"));
    } else {
      bare += c;
      i++;
    }
  }
  return { literals, identifiers, bare };
}
