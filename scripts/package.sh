#!/usr/bin/env bash
# Builds the npm package `group-identity` into web/pkg:
#   node/  wasm-bindgen --target nodejs (CommonJS, instantiated at require time) + ESM wrapper
#   web/   wasm-bindgen --target web (ES module; call `init()` once)
# plus package.json and README.md from web/package, and the licence texts from the root.
# Both builds share one .wasm; the `exports` map in package.json picks one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo="${CARGO:-cargo}"
pkg="web/pkg"
# Its own profile (release settings, see Cargo.toml): the playground's build of the same
# crate, with another feature set, must not replace this .wasm.
wasm="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/npm/group_identity_web.wasm"

"$cargo" build -p group-identity-web --profile npm --target wasm32-unknown-unknown

rm -rf "$pkg"
mkdir -p "$pkg"
wasm-bindgen --target nodejs --out-dir "$pkg/node" --out-name group_identity "$wasm"
wasm-bindgen --target web --out-dir "$pkg/web" --out-name group_identity "$wasm"

# The Node build `require`s the crate's inline JavaScript (web/src/groups.rs), which
# wasm-bindgen writes as ES modules; there they become CommonJS (they only declare
# functions, each on a line starting `export function`).
for js in "$pkg"/node/snippets/*/*.js; do
  [ -e "$js" ] || continue
  functions="$(sed -nE 's/^export function ([A-Za-z0-9_$]+).*/\1/p' "$js")"
  sed -i -E 's/^export function /function /' "$js"
  for f in $functions; do
    printf 'module.exports.%s = %s;\n' "$f" "$f" >>"$js"
  done
done

# The classes declare `[Symbol.dispose]`; name the lib that declares it so consumers type-check
# without `skipLibCheck` whatever their `lib` setting.
for dts in "$pkg/node/group_identity.d.ts" "$pkg/web/group_identity.d.ts"; do
  { printf '/// <reference lib="esnext.disposable" />\n'; cat "$dts"; } >"$dts.tmp"
  mv "$dts.tmp" "$dts"
done

# The CommonJS build answers browser-style code too: `init` (the default export) and
# `initSync` are no-ops, and `__esModule` makes TypeScript's and bundlers' interop
# (`import init from "group-identity"` compiled to `require`) take `default` as the
# default export rather than the whole module. The ESM wrapper below re-exports both.
cat >>"$pkg/node/group_identity.js" <<'JS'

// Browser-style code runs unchanged in Node: the module is ready at require time.
Object.defineProperty(exports, "__esModule", { value: true });
/** A no-op in Node: the module is ready at require time. */
exports.initSync = function initSync() {
    return undefined;
};
/** A no-op in Node: the module is ready at require time. */
exports.default = async function init() {
    return undefined;
};
JS
cat >>"$pkg/node/group_identity.d.ts" <<'TS'

/** A no-op in Node: the module is ready at require time. */
export declare function initSync(module?: unknown): void;
/** A no-op in Node: the module is ready at require time. */
export default function init(module?: unknown): Promise<void>;
TS

# Each build directory says how Node should read its .js files.
printf '{ "type": "commonjs" }\n' >"$pkg/node/package.json"
printf '{ "type": "module" }\n' >"$pkg/web/package.json"

# The ESM entry for Node re-exports the CommonJS build, so `import` and `require` in one
# process share one wasm instance, and its `init` and `initSync` no-ops. Its names come from
# the build itself, so every export (the client's `GroupsClient` included) is covered
# without a list kept by hand.
names="$(node -e '
  const m = require(process.argv[1]);
  const hidden = new Set(["default", "__wbg_get_imports", "__wasm", "__wbg_wasm_module", "__wbg_memory"]);
  console.log(Object.keys(m).filter((k) => !hidden.has(k) && !k.startsWith("__")).sort().join(", "));
' "$root/$pkg/node/group_identity.js")"
cat >"$pkg/node/index.mjs" <<JS
// Node ESM entry: the CommonJS build is ready at import time; no init call is needed.
import wasm from "./group_identity.js";

export const { ${names} } = wasm;

// init, a no-op in Node like initSync above: the CommonJS build's own.
export default wasm.default;
JS
cat >"$pkg/node/index.d.mts" <<'TS'
import wasm from "./group_identity.js";

export * from "./group_identity.js";
export default wasm.default;
TS

cp web/package/package.json web/package/README.md LICENSE-MIT LICENSE-APACHE "$pkg/"
# The package version is the crate's version: one fact, kept in web/Cargo.toml.
version="$(awk -F'"' '/^version = /{print $2; exit}' web/Cargo.toml)"
node -e '
  const fs = require("fs");
  const file = process.argv[1];
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  pkg.version = process.argv[2];
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
' "$pkg/package.json" "$version"
# wasm-bindgen writes a .gitignore of "*" into each output directory; npm would then leave
# those files out of the tarball.
rm -f "$pkg/node/.gitignore" "$pkg/web/.gitignore"

echo "package: $pkg ($(du -sh "$pkg/node/group_identity_bg.wasm" | cut -f1) wasm)"
