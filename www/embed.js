// Live examples for documentation pages. Include this script as a module next to the
// playground's build output:
//   <script type="module" src="embed.js"></script>
// and write each example as
//   <div data-group-identity-example>
//     <script type="application/json" data-definition>{ ...definition... }</script>
//     <script type="application/json" data-profiles>[ ...profiles... ]</script>
//   </div>
// (`<pre data-profiles>` works too, for CSV or NDJSON). Add `data-normalize-keys` to the
// div to preview with normalizeKeys. Both boxes become editable; the preview follows.
// Examples added later (a single-page docs site) are mounted by calling the exported
// `mountExamples()` again; mounted ones are skipped.
const base = new URL(".", import.meta.url);
let engine = null;
try {
  const module = await import(new URL("group-identity-web.js", base).href);
  await module.default({ module_or_path: new URL("group-identity-web_bg.wasm", base) });
  engine = module;
} catch (error) {
  console.error("group-identity examples:", error);
  showUnavailable();
}

/** Mounts every example not mounted yet, and says how many it mounted. */
export function mountExamples() {
  if (engine === null) {
    showUnavailable();
    return 0;
  }
  const mounted = engine.mountExamples();
  const all = document.querySelectorAll("[data-group-identity-example][data-mounted]").length;
  document.documentElement.dataset.groupIdentityExamples = String(all);
  return mounted;
}

mountExamples();

/** Without the engine, each example still shows its definition and profiles, as text. */
function showUnavailable() {
  document.documentElement.dataset.groupIdentityExamples = "unavailable";
  for (const example of document.querySelectorAll("[data-group-identity-example]")) {
    if (example.querySelector(".gik-unavailable")) continue;
    // Only the example's own sources, as the engine reads them: a code sample nested
    // deeper stays as it is.
    for (const source of example.querySelectorAll(':scope > script[type="application/json"]')) {
      const pre = document.createElement("pre");
      pre.textContent = source.textContent.trim();
      source.replaceWith(pre);
    }
    const note = document.createElement("p");
    note.className = "gik-unavailable";
    note.textContent = "The live preview could not be loaded here; the example is shown as text.";
    example.append(note);
  }
}
