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
const base = new URL(".", import.meta.url);
const module = await import(new URL("group-identity-web.js", base).href);
await module.default({ module_or_path: new URL("group-identity-web_bg.wasm", base) });
const mounted = module.mountExamples();
document.documentElement.dataset.groupIdentityExamples = String(mounted);
