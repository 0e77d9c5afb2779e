// End-to-end tests of the playground and the docs embed in headless Chromium, against the
// trunk-built page (`www/dist`) and the API emulator.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  artifacts,
  dist,
  launchBrowser,
  startEmulator,
  startStatic,
  startTrunkServe,
  stopAll,
  writeBigProfiles,
} from "./harness.mjs";

let browser;
let emulator;
let site;

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });

/** Waits for the playground on `page` to have started (after a load or a reload). */
const loaded = (page) =>
  page.waitForFunction(() => !document.getElementById("playground").hasAttribute("data-loading"));

/** A fresh page with the playground loaded, failing the test on any page error.
 * `prepare(context)`, if given, runs on the new browser context before the page opens
 * (an init script, a route). */
async function openPlayground(url = `${site}/index.html`, contextOptions = {}, prepare = null) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...contextOptions });
  if (prepare) await prepare(context);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    d.dismiss();
  });
  await page.goto(url);
  await loaded(page);
  page.problems = problems;
  return page;
}

/** An init script: logs each message the page posts to a worker and gets from one, with
 * the length of the JSON text it carries, in `window.__workerLog`. */
function logWorkerMessages() {
  const log = (window.__workerLog = { sent: [], received: [] });
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, ...rest) {
    const { type, needle, page } = message ?? {};
    log.sent.push({ type, needle, page });
    return post.call(this, message, ...rest);
  };
  const handler = Object.getOwnPropertyDescriptor(Worker.prototype, "onmessage");
  Object.defineProperty(Worker.prototype, "onmessage", {
    configurable: true,
    get() {
      return handler.get.call(this);
    },
    set(listener) {
      const logged = listener && function (event) {
        const json = event.data?.json;
        log.received.push({ type: event.data?.type, chars: typeof json === "string" ? json.length : 0 });
        return listener.call(this, event);
      };
      handler.set.call(this, logged);
    },
  });
}

async function setText(page, selector, text) {
  await page.fill(selector, text);
}

const stat = (page, name) => page.textContent(`[data-stat=${name}]`);

const HOUSEHOLDS = [
  "mpid,$address,has_dog,country",
  "1,123 Main St,true,US",
  "2,123 Main St,,US",
  "3,9 Elm Road,false,CA",
  "4,9 Elm Road,false,CA",
  "5,Alone Avenue 1,true,GB",
].join("\n");

before(async () => {
  emulator = await startEmulator();
  site = await startStatic();
  browser = await launchBrowser();
});

after(() => stopAll());

describe("definition editor", () => {
  test("the form writes the JSON and the JSON fills the form", async () => {
    const page = await openPlayground();
    await page.fill("#f-id", "family");
    await page.fill("#f-source", "$zip");
    await page.click("#attr-add");
    await page.fill("#attr-id-1", "ltv");
    await page.selectOption("#attr-type-1", "sum");
    let json = JSON.parse(await page.inputValue("#def-json"));
    assert.equal(json.id, "family");
    assert.equal(json.source_user_attribute, "$zip");
    assert.deepEqual(json.attributes, [
      { id: "has_dog", type: "boolean_or" },
      { id: "ltv", type: "sum" },
    ]);
    await shot(page, "01-form-to-json");

    await setText(
      page,
      "#def-json",
      JSON.stringify({
        id: "house",
        source_user_attribute: "$address",
        attributes: [
          { id: "a", type: "latest" },
          { id: "b", type: "average" },
          { id: "c", type: "boolean_or" },
        ],
      }),
    );
    assert.equal(await page.inputValue("#f-id"), "house");
    assert.equal(await page.inputValue("#f-source"), "$address");
    assert.equal(await page.locator("#attr-rows .attr-row").count(), 3);
    assert.equal(await page.inputValue("#attr-type-1"), "average");
    // Removing a row by keyboard follows into the JSON.
    await page.focus("button[data-remove='0']");
    await page.keyboard.press("Enter");
    json = JSON.parse(await page.inputValue("#def-json"));
    assert.deepEqual(json.attributes.map((a) => a.id), ["b", "c"]);
    await shot(page, "02-json-to-form");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("an invalid id shows its error next to the field", async () => {
    const page = await openPlayground();
    await page.fill("#f-id", "ab");
    await page.waitForSelector("#issues-id li.error");
    const text = await page.textContent("#issues-id");
    assert.match(text, /too_short/);
    assert.equal(await page.getAttribute("#issues-id li.error", "data-code"), "too_short");
    // An unknown aggregation typed in the JSON shows by its type picker.
    const body = JSON.parse(await page.inputValue("#def-json"));
    body.attributes[0].type = "LATEST";
    await setText(page, "#def-json", JSON.stringify(body, null, 2));
    await page.waitForSelector("#issues-attr-0-type li.error");
    assert.match(await page.textContent("#issues-attr-0-type"), /unknown_aggregation/);
    assert.match(await page.textContent("#def-status"), /error/);
    // Broken JSON is one invalid_json issue; the form keeps its last values.
    await setText(page, "#def-json", '{"id": "household",');
    assert.match(await page.textContent("#issues-root"), /invalid_json/);
    assert.equal(await page.inputValue("#f-id"), "ab");
    await shot(page, "03-invalid-id");
    await page.context().close();
  });

  test("while the JSON has a syntax error the form is paused and never writes over it", async () => {
    const page = await openPlayground();
    const broken = '{"id": "household", "source_user_attribute": "$addr';
    await setText(page, "#def-json", broken);
    assert.ok(await page.isVisible("#form-paused"));
    assert.match(await page.textContent("#form-paused"), /syntax error.*follows the JSON again once it is fixed/);
    assert.ok(await page.isDisabled("#f-description"));
    assert.ok(await page.isDisabled("#attr-id-0"));
    assert.ok(await page.isDisabled("#attr-add"));
    // Even an edit that reaches the form (a script, an extension) leaves the text alone.
    await page.evaluate(() => {
      const field = document.getElementById("f-description");
      field.value = "stale form";
      field.dispatchEvent(new Event("input", { bubbles: true }));
    });
    assert.equal(await page.inputValue("#def-json"), broken);
    // Fixed: the form follows the JSON again, and writes it again.
    await setText(page, "#def-json", `${broken}ess", "attributes": []}`);
    assert.ok(await page.isHidden("#form-paused"));
    assert.ok(await page.isEnabled("#f-description"));
    assert.equal(await page.inputValue("#f-source"), "$address");
    await page.fill("#f-description", "typed");
    assert.equal(JSON.parse(await page.inputValue("#def-json")).description, "typed");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("a valid definition that cannot run says what it lacks", async () => {
    const page = await openPlayground();
    await page.fill("#profiles-text", HOUSEHOLDS);
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    // Update with the id left to the path, and the path's field empty.
    await page.check("input[name=mode][value=update]");
    const attributes = [{ id: "has_dog", type: "boolean_or" }];
    await setText(page, "#def-json", JSON.stringify({ source_user_attribute: "$address", attributes }));
    await page.waitForFunction(() => /path has no group id/.test(document.getElementById("results-status").textContent));
    assert.match(await page.textContent("#def-status"), /^Valid/);
    assert.match(await page.textContent("#sql-status"), /path has no group id/);
    await page.click("#audience-run");
    assert.match(await page.textContent("#audience-result"), /path has no group id/);
    await page.click("#dl-ndjson");
    assert.match(await page.textContent("#dl-status"), /path has no group id/);
    await page.fill("#path-group-id", "household");
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    assert.match(await page.textContent("#sql-status"), /^DuckDB SQL/);
    // Set attributes: valid, and the SQL says it needs a whole definition.
    await page.check("input[name=mode][value=patch]");
    await setText(page, "#def-json", JSON.stringify({ attributes }));
    assert.match(await page.textContent("#def-status"), /^Valid/);
    assert.match(await page.textContent("#sql-status"), /SQL needs a whole definition.*create or update/);
    assert.doesNotMatch(await page.textContent("#sql-status"), /Fix the definition's errors/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("issues come from the JSON text in the chosen mode", async () => {
    const page = await openPlayground();
    const issues = () => page.$$eval("ul.issues li", (lis) => lis.map((li) => li.dataset.code));
    const body = JSON.parse(await page.inputValue("#def-json"));
    // A repeated key: the text has it, a parsed value would not.
    const text = JSON.stringify(body, null, 2).replace(/\n}$/, ',\n  "note": 1,\n  "note": 2\n}');
    await setText(page, "#def-json", text);
    await page.waitForFunction(() => document.querySelector("ul.issues li[data-code=duplicate_field]"));
    assert.deepEqual((await issues()).sort(), ["duplicate_field", "unknown_field"]);
    // A number past a double's range is a number: valid, with a note where the preview was.
    await setText(page, "#def-json", JSON.stringify(body).replace(/}$/, ',"note":1e400}'));
    await page.waitForFunction(() => /no double/.test(document.getElementById("results-status").textContent));
    assert.deepEqual(await issues(), ["unknown_field"]);
    // In update mode with no path id, the id comes from that text too: no id_mismatch.
    await page.check("input[name=mode][value=update]");
    await page.waitForTimeout(300);
    assert.deepEqual(await issues(), ["unknown_field"]);
    assert.match(await page.textContent("#results-status"), /no double/);
    // Set attributes: the attributes alone are valid, and the preview says what it lacks.
    await page.check("input[name=mode][value=patch]");
    await setText(page, "#def-json", JSON.stringify({ attributes: body.attributes }));
    await page.waitForFunction(() => /Set attributes sends only/.test(document.getElementById("results-status").textContent));
    assert.deepEqual(await issues(), []);
    assert.match(await page.textContent("#def-status"), /Valid/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe("preview", () => {
  test("pasted profiles show the right groups, inherited values and audience", async () => {
    const page = await openPlayground();
    await page.click("#attr-add");
    await page.fill("#attr-id-1", "country");
    await page.selectOption("#attr-type-1", "latest");
    await page.fill("#profiles-text", HOUSEHOLDS);
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    assert.equal(await page.textContent("#format-detected"), "CSV");
    assert.equal(await stat(page, "profiles"), "5");
    assert.equal(await stat(page, "groups"), "2");
    assert.equal(await stat(page, "singletons"), "1");
    const rows = await page.$$eval("#groups-body tr", (trs) =>
      trs.map((tr) => [...tr.cells].map((td) => td.textContent)),
    );
    assert.deepEqual(rows[0], ["123 Main St", "1, 2", "household:has_dog = true\nhousehold:country = US"]);
    assert.deepEqual(rows[1], ["9 Elm Road", "3, 4", "household:has_dog = false\nhousehold:country = CA"]);
    assert.match(await page.textContent("#singleton-list"), /Alone Avenue 1/);
    assert.ok(await page.locator("#chart svg rect").count() >= 10);

    await page.fill("#cond-attr-0", "household:has_dog");
    await page.selectOption("#cond-op-0", "=");
    await page.fill("#cond-value-0", "true");
    await page.click("#audience-run");
    await page.waitForFunction(() => /match/.test(document.getElementById("audience-result").textContent));
    assert.equal(await page.textContent("#audience-result"), "2 of 5 profiles match.");
    assert.match(await page.textContent("#audience-members"), /mpid 1.*mpid 2/s);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#dl-ndjson")]);
    const lines = (await (await download.createReadStream()).toArray()).join("").trim().split("\n");
    assert.equal(JSON.parse(lines[1])["household:has_dog"], true);
    await page.locator("#results").scrollIntoViewIfNeeded();
    await shot(page, "04-preview");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("answers go when the state they were for changes", async () => {
    const page = await openPlayground();
    await page.fill("#profiles-text", HOUSEHOLDS);
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    await page.fill("#cond-attr-0", "household:has_dog");
    await page.fill("#cond-value-0", "true");
    await page.click("#audience-run");
    await page.waitForFunction(() => /match/.test(document.getElementById("audience-result").textContent));
    assert.ok((await page.locator("#audience-members li").count()) > 0);
    // An edit of the definition: the count was for the old one.
    await page.fill("#f-description", "changed");
    await page.waitForFunction(() => document.getElementById("audience-result").textContent === "");
    assert.equal(await page.locator("#audience-members li").count(), 0);
    // A condition that cannot run says so, with no members of an earlier count beside it.
    await page.click("#audience-run");
    await page.waitForFunction(() => /match/.test(document.getElementById("audience-result").textContent));
    await page.fill("#cond-attr-0", "");
    await page.click("#audience-run");
    await page.waitForFunction(() => !/match/.test(document.getElementById("audience-result").textContent));
    assert.equal(await page.locator("#audience-members li").count(), 0);
    // The preview follows the chosen mode: a whole definition sent as set attributes has
    // errors, and the groups of the create body go with the message.
    await page.check("input[name=mode][value=patch]");
    await page.waitForFunction(() => /Fix the definition/.test(document.getElementById("results-status").textContent));
    assert.equal(await page.locator("#groups-body tr").count(), 0);
    assert.equal(await page.locator("[data-stat=profiles]").count(), 0);
    assert.ok(await page.isDisabled("#page-next"));
    // Back in create mode the groups come back.
    await page.check("input[name=mode][value=create]");
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    // Downloading with no profiles saves nothing and says why.
    await page.fill("#profiles-text", "");
    await page.click("#dl-ndjson");
    assert.match(await page.textContent("#dl-status"), /No profiles/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("an audience answer goes when its conditions change", async () => {
    const page = await openPlayground();
    await page.fill("#profiles-text", HOUSEHOLDS);
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    const count = async () => {
      await page.click("#audience-run");
      await page.waitForFunction(() => /match\.$/.test(document.getElementById("audience-result").textContent));
    };
    const gone = async (what) => {
      assert.equal(await page.textContent("#audience-result"), "", what);
      assert.equal(await page.locator("#audience-members li").count(), 0, what);
    };
    await page.fill("#cond-attr-0", "household:has_dog");
    await page.fill("#cond-value-0", "true");
    await count();
    await page.fill("#cond-value-0", "false");
    await gone("a value edit");
    await count();
    await page.selectOption("#cond-op-0", "!=");
    await gone("an operator change");
    await count();
    await page.click("#cond-add");
    await gone("a row added");
    await page.click("button[data-cond-remove='1']");
    await count();
    await page.click("button[data-cond-remove='0']");
    await gone("a row removed");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("the group search waits for a pause in typing; Enter searches at once", async () => {
    const page = await openPlayground();
    await page.click("#sample");
    await page.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "200");
    const rows = () => page.evaluate(() => document.querySelectorAll("#groups-body tr").length);
    const all = await rows();
    assert.ok(all > 0);
    await page.fill("#group-search", "no-such-group-anywhere");
    assert.equal(await rows(), all, "a keystroke does not filter every group at once");
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 0);
    await page.fill("#group-search", "");
    await page.press("#group-search", "Enter");
    assert.equal(await rows(), all, "Enter searches at once");
    // A paging button pages the search as typed.
    await page.fill("#group-search", "no-such-group-anywhere");
    assert.ok(await page.isEnabled("#page-next"));
    await page.click("#page-next");
    assert.equal(await rows(), 0);
    assert.match(await page.textContent("#page-info"), /Page 1 of 1 \(0 groups\)/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("a UTF-16 file is decoded when small and named when large", async () => {
    const page = await openPlayground();
    const utf16 = (text) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    // Excel's "Unicode Text": UTF-16 little-endian with a byte order mark.
    await page.setInputFiles("#profiles-file", { name: "unicode.csv", mimeType: "text/csv", buffer: utf16(HOUSEHOLDS) });
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    assert.equal(await page.inputValue("#profiles-text"), HOUSEHOLDS);
    assert.equal(await page.textContent("#format-detected"), "CSV");
    // Too large to hold as text: not read as UTF-8 garbage, but named.
    const lines = ["mpid,$address"];
    for (let i = 1; lines.join("\n").length < 200_000; i++) lines.push(`${i},${i % 1000} Main Street`);
    await page.setInputFiles("#profiles-file", { name: "big.csv", mimeType: "text/csv", buffer: utf16(lines.join("\n")) });
    await page.waitForFunction(() => /UTF-16 \(byte order mark FF FE\).*save it as UTF-8/i.test(document.getElementById("results-status").textContent));
    assert.equal(await page.locator("#groups-body tr").count(), 0);
    assert.equal(await page.locator("#diag-body tr").count(), 0);
    assert.ok(await page.isHidden("#file-info"));
    assert.notEqual(await page.textContent("#format-detected"), "reading...");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("keyboard paging keeps the focus on a paging control", async () => {
    const page = await openPlayground();
    await page.selectOption("#sample-size", "200");
    await page.click("#sample");
    await page.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "200");
    assert.ok(Number(await stat(page, "groups")) > 25, "more than one page of groups");
    await page.focus("#page-next");
    for (let i = 0; i < 10 && !(await page.isDisabled("#page-next")); i++) {
      await page.keyboard.press("Enter");
    }
    assert.ok(await page.isDisabled("#page-next"));
    assert.equal(await page.evaluate(() => document.activeElement.id), "page-prev");
    await page.context().close();
  });

  test("a small file that is not UTF-8 is read as a file, its bad cells reported", async () => {
    const page = await openPlayground();
    await page.fill("#profiles-text", HOUSEHOLDS);
    await page.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "5");
    // Latin-1: as text its bytes would silently become U+FFFD and form a false group.
    const latin1 = Buffer.from("mpid,$address\n1,M\xfcller 1\n2,M\xe4ller 1\n3,Main Street 1\n", "latin1");
    await page.setInputFiles("#profiles-file", { name: "latin1.csv", mimeType: "text/csv", buffer: latin1 });
    await page.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "1");
    assert.equal(await stat(page, "skipped"), "2");
    assert.equal(await stat(page, "groups"), "0");
    assert.match(await page.textContent("#diag-body"), /invalid_utf8/);
    assert.ok(await page.isVisible("#file-info"));
    // Back to the text box: focus follows, not lost with the hidden button.
    await page.click("#file-clear");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "profiles-text");
    // Removing an audience condition leaves the focus on "Add condition".
    await page.click("#cond-add");
    await page.click("button[data-cond-remove='1']");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "cond-add");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("sample data fills in generated profiles", async () => {
    const page = await openPlayground();
    await page.selectOption("#sample-size", "200");
    await page.click("#sample");
    await page.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "200");
    assert.ok(Number(await stat(page, "groups")) > 10);
    assert.equal(await page.textContent("#format-detected"), "NDJSON");
    await page.context().close();
  });

  test("profile values that look like HTML stay text and run nothing", async () => {
    const page = await openPlayground();
    const messages = [];
    page.on("console", (m) => messages.push(m.text()));
    const img = "<img src=x onerror=\"window.__xss=1;alert(1)\">";
    const script = "<script>window.__xss=2;alert(2)</script>";
    const profiles = [
      { mpid: "1", $address: img, has_dog: script },
      { mpid: "2", $address: img, has_dog: true },
      { mpid: "3", $address: script, has_dog: img },
      { mpid: "4", $address: script },
      { mpid: "5", $address: "<b>bold</b> lane", has_dog: "<i>x</i>" },
    ];
    await page.fill("#profiles-text", JSON.stringify(profiles));
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator("#results img, #results script, #results b, #results i").count(), 0);
    const keys = await page.$$eval("#groups-body td.key", (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(keys, [img, script]);
    assert.ok(await page.getByText(img, { exact: true }).first().isVisible());
    assert.match(await page.textContent("#singleton-list"), /<b>bold<\/b> lane/);
    assert.match(await page.textContent("#diag-body"), /uncoercible_value|<i>x<\/i>|not usable/);
    assert.ok(!messages.some((m) => /xss/i.test(m)));
    await shot(page, "05-html-as-text");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe("large files", () => {
  const BLOCKS = 100_000; // 1,000,000 profiles + 15 oversized
  const file = join(artifacts, "profiles-1m.ndjson");

  before(async () => {
    await writeBigProfiles(file, BLOCKS);
  });

  test("a 1M-profile file is read in a worker with progress, the page answering", async () => {
    const page = await openPlayground(undefined, {}, (context) => context.addInitScript(logWorkerMessages));
    await page.setInputFiles("#profiles-file", file);
    await page.waitForSelector("#progress-box:not([hidden])");
    await page.waitForFunction(() => Number(document.getElementById("progress").value) > 0.05);
    // While the worker reads, the page must answer a click at once.
    const progressBefore = Number(await page.getAttribute("#progress", "value") ?? 0);
    const started = Date.now();
    await page.click("#help summary");
    assert.equal(await page.getAttribute("#help", "open"), "");
    const latency = Date.now() - started;
    assert.ok(latency < 1000, `a click took ${latency} ms while reading`);
    assert.ok(await page.isVisible("#progress-box"), "the click landed while the file was read");
    await shot(page, "06-progress");
    const progress = await page.$eval("#progress", (p) => p.value);
    assert.ok(progress < 1, `progress ${progress} (was ${progressBefore})`);

    await page.waitForFunction(
      () => /Preview of 1,000,015 profiles/.test(document.getElementById("results-status").textContent),
      null,
      { timeout: 300_000 },
    );
    assert.equal(await stat(page, "profiles"), "1,000,015");
    assert.equal(await stat(page, "groups"), "200,000");
    assert.equal(await stat(page, "groupedProfiles"), "700,000");
    assert.equal(await stat(page, "singletons"), "100,000");
    assert.equal(await stat(page, "noKey"), "100,000");
    assert.equal(await stat(page, "shortKey"), "100,000");
    assert.equal(await stat(page, "oversizedGroups"), "1");
    assert.equal(await stat(page, "oversizedProfiles"), "15");
    assert.equal(await page.textContent("#format-detected"), "NDJSON");
    assert.match(await page.textContent("#page-info"), /Page 1 of 8,000 \(200,000 groups\)/);
    assert.equal(await page.locator("#groups-body tr").count(), 25);
    // The 200k groups stayed in the worker: the page got the stats, the capped lists and
    // one page of rows, not every group.
    const preview = await page.evaluate(() => window.__workerLog.received.filter((m) => m.type === "preview"));
    assert.equal(preview.length, 1);
    assert.ok(preview[0].chars < 200_000, `the preview message held ${preview[0].chars} characters`);
    // Search and paging over 200k groups stay quick, each asked of the worker.
    await page.fill("#group-search", "99999 Four Street");
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 1);
    assert.match(await page.textContent("#groups-body"), /household:has_dog = true/);
    assert.match(await page.textContent("#page-info"), /Page 1 of 1 \(1 groups\)/);
    await page.fill("#group-search", "");
    await page.click("#page-next");
    await page.waitForFunction(() => /Page 2 of 8,000/.test(document.getElementById("page-info").textContent));
    assert.equal(await page.locator("#groups-body tr").count(), 25);
    const log = await page.evaluate(() => window.__workerLog);
    const asked = log.sent.filter((m) => m.type === "page");
    assert.ok(asked.some((m) => m.needle === "99999 four street"), "the search was asked of the worker");
    assert.ok(asked.some((m) => m.needle === "" && m.page === 1), "the next page was asked of the worker");
    const pages = log.received.filter((m) => m.type === "page");
    assert.ok(pages.length >= 2);
    assert.ok(pages.every((m) => m.chars < 50_000), "each answer holds one page of rows");
    // Back to the first page, by keyboard: the focus stays on a paging control.
    await page.focus("#page-prev");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => /Page 1 of 8,000/.test(document.getElementById("page-info").textContent));
    assert.ok(await page.isDisabled("#page-prev"));
    assert.equal(await page.evaluate(() => document.activeElement.id), "page-next");
    // A search, then Next before its answer has come: the new search's second page, not
    // the old search's page plus one.
    await page.click("#page-next");
    await page.click("#page-next");
    await page.waitForFunction(() => /Page 3 of 8,000/.test(document.getElementById("page-info").textContent));
    await page.evaluate(() => {
      const search = document.getElementById("group-search");
      search.value = "four street";
      search.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      document.getElementById("page-next").click();
    });
    await page.waitForFunction(() => /^Page 2 of /.test(document.getElementById("page-info").textContent));
    await page.waitForTimeout(300);
    assert.match(await page.textContent("#page-info"), /^Page 2 of [\d,]+ \([\d,]+ groups\)/);
    await page.fill("#group-search", "");
    await page.press("#group-search", "Enter");
    await page.waitForFunction(() => /Page 1 of 8,000/.test(document.getElementById("page-info").textContent));
    // An edit starts a new read: the groups still shown cannot be paged until it ends.
    await page.fill("#f-description", "read again");
    await page.waitForFunction(() => /Reading the new input/.test(document.getElementById("page-info").textContent));
    assert.ok(await page.isDisabled("#page-next"));
    await page.waitForFunction(
      () => /Page 1 of 8,000/.test(document.getElementById("page-info").textContent),
      null,
      { timeout: 300_000 },
    );
    assert.ok(await page.isEnabled("#page-next"));
    assert.match(await page.textContent("#oversized-list"), /1 Tower Plaza \(15 profiles\)/);
    await shot(page, "07-million-done");
    // A count over the file stops when the definition changes under it: its answer would
    // be shown beside a definition it was not counted for.
    await page.fill("#cond-attr-0", "household:has_dog");
    await page.fill("#cond-value-0", "true");
    await page.click("#audience-run");
    await page.fill("#f-description", "changed while counting");
    assert.match(await page.textContent("#audience-result"), /^Stopped: the definition or the options changed/);
    await page.waitForTimeout(1500);
    assert.match(await page.textContent("#audience-result"), /^Stopped/);
    // And when its conditions change.
    await page.click("#audience-run");
    await page.fill("#cond-value-0", "false");
    assert.match(await page.textContent("#audience-result"), /^Stopped: the conditions changed/);
    await page.waitForTimeout(1500);
    assert.match(await page.textContent("#audience-result"), /^Stopped/);
    // A count and a download over the file show their progress and can be cancelled; the
    // focus goes back to the button that started them.
    assert.ok(await page.isHidden("#audience-cancel"));
    await page.click("#audience-run");
    await page.waitForFunction(() => /^Counting in the background: \d+%/.test(document.getElementById("audience-result").textContent));
    await page.focus("#audience-cancel");
    await page.keyboard.press("Enter");
    assert.equal(await page.textContent("#audience-result"), "Cancelled: the count was stopped.");
    assert.ok(await page.isHidden("#audience-cancel"));
    assert.equal(await page.evaluate(() => document.activeElement?.id), "audience-run");
    let downloads = 0;
    page.on("download", () => downloads++);
    await page.click("#dl-csv");
    await page.waitForSelector("#dl-cancel:not([hidden])");
    await page.click("#dl-cancel");
    assert.match(await page.textContent("#dl-status"), /^Cancelled: .*nothing was saved/);
    assert.ok(await page.isHidden("#dl-cancel"));
    await page.waitForTimeout(2000);
    assert.match(await page.textContent("#audience-result"), /^Cancelled/);
    assert.match(await page.textContent("#dl-status"), /^Cancelled/);
    assert.equal(downloads, 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("a paste over 2 MiB is read in the worker, and an edit locks its paging until read again", async () => {
    const page = await openPlayground(undefined, {}, (context) => context.addInitScript(logWorkerMessages));
    // 10,000 households, past the size previewed on the page's thread.
    const lines = [];
    for (let i = 0, size = 0; size <= 2.5 * 2 ** 20 || i < 20_000; i += 1) {
      const line = `{"mpid":${i},"$address":"${i % 10_000} Main Street","has_dog":${i % 2 === 0}}`;
      lines.push(line);
      size += line.length + 1;
    }
    await page.evaluate((text) => {
      const box = document.getElementById("profiles-text");
      box.value = text;
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }, lines.join("\n") + "\n");
    await page.waitForFunction(() => /^Page 1 of 400 \(10,000 groups\)/.test(document.getElementById("page-info").textContent));
    assert.equal(await stat(page, "profiles"), lines.length.toLocaleString("en-US"));
    const read = (type) => page.evaluate((t) => window.__workerLog.sent.filter((m) => m.type === t), type);
    assert.equal((await read("preview")).length, 1);
    // The search goes to the worker as a search key, the one a new read starts with.
    await page.fill("#group-search", "  917 MAIN ");
    await page.waitForFunction(() => /^Page 1 of 1 \(10 groups\)/.test(document.getElementById("page-info").textContent));
    await page.evaluate(() => {
      const info = document.getElementById("page-info");
      window.__pageInfo = [];
      new MutationObserver(() => window.__pageInfo.push(info.textContent)).observe(info, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await page.fill("#f-description", "read again");
    await page.waitForFunction(() => window.__workerLog.received.filter((m) => m.type === "preview").length === 2);
    await page.waitForFunction(() => /^Page 1 of 1 \(10 groups\)/.test(document.getElementById("page-info").textContent));
    const seen = await page.evaluate(() => window.__pageInfo);
    assert.ok(seen.some((t) => /Reading the new input/.test(t)), `page-info was ${JSON.stringify(seen)}`);
    const previews = await read("preview");
    assert.equal(previews.length, 2);
    assert.equal(previews[1].needle, "917 main");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("cancel stops reading the file", async () => {
    const page = await openPlayground();
    // Results of the text before stay on screen only until the file replaces them.
    await page.fill("#profiles-text", HOUSEHOLDS);
    await page.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "5");
    await page.setInputFiles("#profiles-file", file);
    await page.waitForSelector("#progress-box:not([hidden])");
    assert.equal(await page.textContent("#format-detected"), "reading...");
    await page.click("#cancel");
    assert.ok(await page.isHidden("#progress-box"));
    assert.match(await page.textContent("#results-status"), /Cancelled/);
    assert.equal(await page.textContent("#format-detected"), "not read");
    await page.waitForTimeout(3000);
    assert.match(await page.textContent("#results-status"), /Cancelled/);
    assert.equal(await page.locator("[data-stat=profiles]").count(), 0);
    assert.equal(await page.locator("#groups-body tr").count(), 0);
    await shot(page, "08-cancelled");
    // A definition made invalid while the file is read stops the reading, and "Detected"
    // with it.
    await page.click("#file-clear");
    await page.setInputFiles("#profiles-file", file);
    await page.waitForSelector("#progress-box:not([hidden])");
    await page.fill("#f-id", "ab");
    await page.waitForFunction(() => /Fix the definition/.test(document.getElementById("results-status").textContent));
    assert.ok(await page.isHidden("#progress-box"));
    assert.equal(await page.textContent("#format-detected"), "not read");
    await page.context().close();
  });
});

describe("live API", () => {
  test("create, list, get, update, set attributes and delete through the trunk proxy", async () => {
    const served = await startTrunkServe(emulator);
    const page = await openPlayground(`${served}/index.html`);
    // Under `make play` the page targets its own origin, which proxies to the emulator.
    assert.equal(await page.inputValue("#api-url"), served);
    const call = async (button, expect) => {
      await page.evaluate(() => (document.getElementById("api-output").textContent = ""));
      await page.click(button);
      await page.waitForFunction(() =>
        /\n(succeeded|failed|not sent)/.test(document.getElementById("api-output").textContent),
      );
      const text = await page.textContent("#api-output");
      assert.match(text, expect, text);
      return text;
    };
    await call("#api-list", /^GET \/platform\/workspaces\/1000\/groups\nsucceeded\n\n\[\]/);
    const created = await call("#api-create", /^POST .*\nsucceeded[\s\S]*"created_on"/);
    assert.match(created, /"id": "household"/);
    await call("#api-list", /"source_user_attribute": "\$address"/);
    await page.fill("#f-description", "everyone at one address");
    await call("#api-update", /^PUT .*\/groups\/household\nsucceeded[\s\S]*everyone at one address/);
    await page.click("#attr-add");
    await page.fill("#attr-id-1", "country");
    await call("#api-patch", /^PATCH .*\nsucceeded[\s\S]*"country"/);
    await call("#api-get", /^GET .*\/groups\/household\nsucceeded[\s\S]*"last_modified_on"/);
    await shot(page, "09-live-api");
    // Answers can come back in any order: a slow older call does not overwrite a newer one.
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await page.route(/\/groups$/, async (route) => {
      await held;
      await route.continue();
    });
    await page.click("#api-list");
    await call("#api-get", /^GET .*\/groups\/household\nsucceeded/);
    const listed = page.waitForResponse(/\/groups$/);
    release();
    await listed;
    await page.waitForTimeout(300);
    assert.match(await page.textContent("#api-output"), /^GET .*\/groups\/household\n/);
    await page.unroute(/\/groups$/);
    // A second create is refused by the API (one definition per workspace), shown in full.
    await call("#api-create", /failed: status 422[\s\S]*body:/);
    await call("#api-delete", /^DELETE .*\nsucceeded \(no content\)/);
    await call("#api-get", /failed: status 404, code not_found/);
    // An invalid body is never sent.
    await page.fill("#f-id", "ab");
    await call("#api-create", /failed: status 422, code validation_failed[\s\S]*\/id \(too_short\)/);
    // No credential or token reaches storage or the URL.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + location.href);
    assert.ok(!stored.includes("local-secret"));
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe("warehouse SQL", () => {
  const sqlText = (page, id) => page.$eval(`#${id}`, (el) => el.textContent);

  test("each dialect writes both queries over the table, following the form", async () => {
    const page = await openPlayground();
    await page.waitForFunction(() => document.getElementById("sql-groups").textContent.length > 0);
    // The defaults name a typical export table.
    for (const [id, value] of [
      ["sql-dialect", "duckdb"],
      ["sql-table", "profiles"],
      ["sql-mpid", "mpid"],
      ["sql-attributes", "user_attributes"],
      ["sql-timestamps", "user_attribute_timestamps"],
      ["sql-updated-at", "updated_at"],
      ["sql-order", "input_order"],
    ]) {
      assert.equal(await page.inputValue(`#${id}`), value, id);
    }
    assert.match(await sqlText(page, "sql-groups"), /FROM "profiles"/);
    assert.match(await sqlText(page, "sql-groups"), /"household:has_dog"/);
    const seen = new Set([await sqlText(page, "sql-groups")]);

    await page.fill("#sql-table", "analytics.crm_profiles");
    await page.fill("#sql-order", "row_no");
    for (const [dialect, table, status] of [
      ["snowflake", '"analytics"."crm_profiles"', /^Snowflake SQL/],
      ["bigquery", "`analytics`.`crm_profiles`", /^BigQuery SQL/],
      ["spark", "`analytics`.`crm_profiles`", /^Spark SQL/],
      ["duckdb", '"analytics"."crm_profiles"', /^DuckDB SQL/],
    ]) {
      const before = await sqlText(page, "sql-groups");
      await page.selectOption("#sql-dialect", dialect);
      await page.waitForFunction((b) => document.getElementById("sql-groups").textContent !== b, before);
      const groups = await sqlText(page, "sql-groups");
      const oversized = await sqlText(page, "sql-oversized");
      assert.ok(groups.includes(`FROM ${table}`), `${dialect}:\n${groups}`);
      assert.ok(oversized.includes(`FROM ${table}`), `${dialect}:\n${oversized}`);
      assert.ok(groups.includes("row_no") && groups.includes("household:has_dog"), dialect);
      assert.match(oversized, /group_key/);
      assert.match(await page.textContent("#sql-status"), status);
      seen.add(groups);
    }
    assert.equal(seen.size, 5, "every dialect (and the new table) changed the query");

    // The definition drives the query: a new group id and attribute appear at once.
    await page.fill("#f-id", "family");
    await page.click("#attr-add");
    await page.fill("#attr-id-1", "ltv");
    await page.selectOption("#attr-type-1", "sum");
    await page.waitForFunction(() => document.getElementById("sql-groups").textContent.includes('"family:ltv"'));
    assert.match(await sqlText(page, "sql-groups"), /SUM\("x1"\) OVER/);
    // A definition that cannot run, or a name SQL cannot carry, empties the output.
    await page.fill("#f-id", "ab");
    await page.waitForFunction(() => document.getElementById("sql-groups").textContent === "");
    assert.match(await page.textContent("#sql-status"), /Fix the definition/);
    assert.ok(await page.isDisabled("#sql-copy-groups"));
    await page.fill("#f-id", "family");
    await page.fill("#sql-table", "analytics..crm");
    await page.waitForFunction(() => document.getElementById("sql-groups").textContent === "");
    assert.match(await page.textContent("#sql-status"), /cannot be written: table name part is empty/);
    await page.fill("#sql-table", "crm");
    await page.waitForFunction(() => document.getElementById("sql-groups").textContent.includes('FROM "crm"'));
    assert.ok(await page.isEnabled("#sql-copy-groups"));
    await page.locator("#sql").scrollIntoViewIfNeeded();
    await shot(page, "13-sql");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("copy puts each query on the clipboard, by mouse and by keyboard", async () => {
    const page = await openPlayground(undefined, { permissions: ["clipboard-read", "clipboard-write"] });
    await page.selectOption("#sql-dialect", "bigquery");
    await page.waitForFunction(() => document.getElementById("sql-groups").textContent.includes("`profiles`"));
    await page.click("#sql-copy-groups");
    await page.waitForFunction(() => /Copied/.test(document.getElementById("sql-copy-status").textContent));
    assert.match(await page.textContent("#sql-copy-status"), /^Copied the groups query \(\d+ lines\)\.$/);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await sqlText(page, "sql-groups"));

    await page.focus("#sql-copy-oversized");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => /oversized/.test(document.getElementById("sql-copy-status").textContent));
    assert.match(await page.textContent("#sql-copy-status"), /^Copied the oversized keys query/);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await sqlText(page, "sql-oversized"));
    // The dialect picker works from the keyboard too.
    await page.focus("#sql-dialect");
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction(() => /^Spark SQL/.test(document.getElementById("sql-status").textContent));
    assert.equal(await page.textContent("#sql-copy-status"), "", "a new query clears the stale status");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("without a clipboard the query is selected and the status says how to copy it", async () => {
    const page = await openPlayground();
    await page.evaluate(() => Object.defineProperty(Navigator.prototype, "clipboard", { get: () => undefined }));
    await page.click("#sql-copy-groups");
    assert.match(await page.textContent("#sql-copy-status"), /clipboard is not available.*Ctrl\+C/);
    const selected = await page.evaluate(() => ({
      text: String(getSelection()),
      inside: getSelection().containsNode(document.getElementById("sql-groups"), true),
    }));
    assert.ok(selected.inside, "the query is selected");
    assert.match(selected.text, /^WITH "rows" AS[\s\S]*FROM "profiles"/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe("sharing and layout", () => {
  test("a share link restores the definition and profiles", async () => {
    const page = await openPlayground();
    await page.fill("#f-id", "shared-home");
    await page.fill("#profiles-text", HOUSEHOLDS);
    await page.check("#normalize");
    await page.click("#share");
    const url = await page.inputValue("#share-url");
    assert.match(url, /#s=[A-Za-z0-9_-]+$/);
    await page.context().close();

    const fresh = await openPlayground(url);
    await fresh.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    assert.equal(await fresh.inputValue("#f-id"), "shared-home");
    assert.equal(await fresh.inputValue("#profiles-text"), HOUSEHOLDS);
    assert.ok(await fresh.isChecked("#normalize"));
    assert.match(await fresh.textContent("#groups-body"), /shared-home:has_dog = true/);
    await shot(fresh, "10-shared");
    // The link in the address bar follows every edit, of the definition and of the
    // profiles: a reload keeps them all.
    assert.equal(fresh.url(), url);
    const moved = (from) => fresh.waitForFunction((from) => location.href !== from, from);
    // The address follows a pause in the edits, at most once every 350 ms (browsers limit
    // how often a page may rewrite it).
    await fresh.fill("#f-id", "edited-home");
    await moved(url);
    const afterId = fresh.url();
    const edited = `${HOUSEHOLDS}\n6,Alone Avenue 1,false,GB`;
    await fresh.fill("#profiles-text", edited);
    await fresh.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "6");
    await moved(afterId);
    assert.match(fresh.url(), /#s=/);
    await fresh.reload();
    await loaded(fresh);
    assert.equal(await fresh.inputValue("#f-id"), "edited-home");
    assert.equal(await fresh.inputValue("#profiles-text"), edited);
    assert.ok(await fresh.isChecked("#normalize"));
    await fresh.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "6");
    // A profile edit alone is kept too.
    const beforeProfiles = fresh.url();
    await fresh.fill("#profiles-text", HOUSEHOLDS);
    await fresh.waitForFunction(() => document.querySelector("[data-stat=profiles]")?.textContent === "5");
    await moved(beforeProfiles);
    await fresh.reload();
    await loaded(fresh);
    assert.equal(await fresh.inputValue("#profiles-text"), HOUSEHOLDS);
    // Profiles too large for a link: it leaves the address bar, and a reload keeps the
    // definition (saved in this browser, as every edit is).
    await fresh.click("#sample");
    await fresh.waitForFunction(() => !/#s=/.test(location.href));
    await fresh.reload();
    await loaded(fresh);
    assert.equal(await fresh.inputValue("#f-id"), "edited-home");
    // A share link pasted into an open page is read at once.
    await fresh.goto(url);
    await fresh.waitForFunction(() => document.getElementById("f-id").value === "shared-home");
    // Every shared setting is an edit too: the mode, the format, normalizeKeys.
    assert.equal(fresh.url(), url);
    await fresh.check("input[name=mode][value=update]");
    await moved(url);
    await fresh.reload();
    await loaded(fresh);
    assert.ok(await fresh.isChecked("input[name=mode][value=update]"));
    await fresh.goto(url);
    await fresh.waitForFunction(() => document.getElementById("f-id").value === "shared-home");
    await fresh.selectOption("#format", "csv");
    await moved(url);
    await fresh.reload();
    await loaded(fresh);
    assert.equal(await fresh.inputValue("#format"), "csv");
    // A damaged link typed into the open page says so, as a fresh load does.
    await fresh.evaluate(() => (location.hash = "s=AAAA!!"));
    await fresh.waitForFunction(() => /could not be read/.test(document.getElementById("share-status").textContent));
    assert.equal(await fresh.inputValue("#f-id"), "shared-home");
    assert.deepEqual(fresh.problems, []);
    await fresh.context().close();
  });

  test("a copied share link goes stale at the next edit; a file's note says why it is left out", async () => {
    const page = await openPlayground();
    await page.click("#share");
    await page.waitForFunction(() => /Link ready/.test(document.getElementById("share-status").textContent));
    assert.match(await page.inputValue("#share-url"), /#s=/);
    await page.fill("#f-description", "edited after sharing");
    assert.equal(await page.inputValue("#share-url"), "");
    assert.match(await page.textContent("#share-status"), /changed since the link was made/);
    // Sample data replaces the profiles: a change like any other.
    await page.click("#share");
    await page.waitForFunction(() => /Link ready/.test(document.getElementById("share-status").textContent));
    await page.click("#sample");
    assert.equal(await page.inputValue("#share-url"), "");
    assert.match(await page.textContent("#share-status"), /changed since the link was made/);
    // So does another link put in the address bar.
    await page.click("#share");
    await page.waitForFunction(() => /Link ready/.test(document.getElementById("share-status").textContent));
    const other = await page.inputValue("#share-url");
    await page.fill("#f-description", "another state");
    await page.click("#share");
    await page.waitForFunction(() => /Link ready/.test(document.getElementById("share-status").textContent));
    await page.evaluate((url) => { location.hash = new URL(url).hash; }, other);
    await page.waitForFunction(() => document.getElementById("share-url").value === "");
    assert.match(await page.textContent("#share-status"), /changed since the link was made/);
    // A small file held as a file is not UTF-8 text: not "too large".
    const latin1 = Buffer.from("mpid,$address\n1,M\xfcller 1\n2,M\xfcller 1\n", "latin1");
    await page.setInputFiles("#profiles-file", { name: "latin1.csv", mimeType: "text/csv", buffer: latin1 });
    await page.waitForSelector("#file-info:not([hidden])");
    await page.click("#share");
    await page.waitForFunction(() => /Link ready/.test(document.getElementById("share-status").textContent));
    assert.match(await page.textContent("#share-status"), /not UTF-8 text/);
    assert.doesNotMatch(await page.textContent("#share-status"), /too large/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("the examples link works on a sub-path opened without its final slash", async () => {
    // The root build's page, opened as `/sub/path`: `examples.html` beside the address
    // would be `/sub/examples.html`.
    const page = await openPlayground(`${site}/sub/path`, {}, (context) =>
      context.route(`${site}/sub/path`, (route) =>
        route.fulfill({ path: join(dist, "index.html"), contentType: "text/html; charset=utf-8" }),
      ),
    );
    assert.equal(await page.$eval("footer a", (a) => a.href), `${site}/examples.html`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("without a clipboard the share link is selected in its box", async () => {
    const page = await openPlayground();
    await page.evaluate(() => Object.defineProperty(Navigator.prototype, "clipboard", { get: () => undefined }));
    await page.click("#share");
    assert.match(await page.textContent("#share-status"), /Link ready.*Copy it from the box/);
    const selected = await page.evaluate(() => {
      const input = document.getElementById("share-url");
      return document.activeElement === input && input.selectionEnd - input.selectionStart === input.value.length;
    });
    assert.ok(selected, "the link is focused and selected");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("a download over a file goes on while edits preview again, and keeps formulas as text", async () => {
    const page = await openPlayground();
    // Over the size kept as editable text, so it stays a file read in the background.
    const lines = ['{"mpid":1,"$address":"=HYPERLINK(\\"http://x/\\")","has_dog":true}'];
    for (let i = 2; lines.join("\n").length < 400_000; i += 1) {
      lines.push(`{"mpid":${i},"$address":"${i % 5000} Main Street","has_dog":${i % 2 === 0}}`);
    }
    lines.push('{"mpid":0,"$address":"=HYPERLINK(\\"http://x/\\")"}');
    await page.setInputFiles("#profiles-file", {
      name: "profiles.ndjson",
      mimeType: "application/x-ndjson",
      buffer: Buffer.from(lines.join("\n") + "\n"),
    });
    await page.waitForFunction(() => /Preview of/.test(document.getElementById("results-status").textContent));
    const saved = page.waitForEvent("download");
    await page.click("#dl-csv");
    // Edits start new previews; the download's own worker carries on.
    for (const description of ["a", "ab", "abc"]) {
      await page.fill("#f-description", description);
      await page.waitForTimeout(200);
    }
    const download = await saved;
    const chunks = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk);
    const csv = Buffer.concat(chunks).toString("utf8");
    assert.match(csv, /^mpid,\$address,has_dog,household:has_dog\r\n/);
    assert.match(csv, /\r\n1,"'=HYPERLINK\(""http:\/\/x\/""\)",true,true\r\n/);
    await page.waitForFunction(() => /^Saved /.test(document.getElementById("dl-status").textContent));
    await page.waitForFunction(() => /Preview of/.test(document.getElementById("results-status").textContent));
    // An audience over the file, read twice in slices by its own worker: every profile
    // is counted, and the groups with a dog match.
    const expected = lines.length;
    await page.fill("#cond-attr-0", "household:has_dog");
    await page.selectOption("#cond-op-0", "=");
    await page.fill("#cond-value-0", "true");
    await page.click("#audience-run");
    await page.waitForFunction(() => /match\.$/.test(document.getElementById("audience-result").textContent));
    const counted = await page.textContent("#audience-result");
    const [, matched, total] = counted.match(/^([\d,]+) of ([\d,]+) profiles match\.$/) ?? [];
    assert.equal(Number(total.replaceAll(",", "")), expected, counted);
    assert.ok(Number(matched.replaceAll(",", "")) > 0, counted);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("the last definition comes back from localStorage", async () => {
    const page = await openPlayground();
    await page.fill("#f-id", "remembered");
    await page.reload();
    await loaded(page);
    assert.equal(await page.inputValue("#f-id"), "remembered");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("every control is labelled and the page fits 360 px", async () => {
    const page = await openPlayground(undefined, { viewport: { width: 360, height: 740 } });
    await page.fill("#profiles-text", HOUSEHOLDS);
    await page.waitForFunction(() => document.querySelectorAll("#groups-body tr").length === 2);
    const unlabelled = await page.$$eval("input, select, textarea, button", (els) =>
      els
        .filter((el) => el.type !== "hidden" && !el.closest("[hidden]"))
        .filter((el) => {
          if (el.tagName === "BUTTON") return !(el.textContent.trim() || el.getAttribute("aria-label"));
          return !(el.labels && el.labels.length && [...el.labels].some((l) => l.textContent.trim()));
        })
        .map((el) => el.id || el.outerHTML.slice(0, 60)),
    );
    assert.deepEqual(unlabelled, []);
    // Scrolling boxes take the keyboard's focus, and say what they hold.
    const unnamed = await page.$$eval("[tabindex='0']", (els) =>
      els.filter((el) => !(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby"))).map((el) => el.id),
    );
    assert.deepEqual(unnamed, []);
    assert.equal(await page.locator(".chart-box[tabindex='0']").count(), 1);
    // The chart's label reads out every bar, as its parts are not read.
    assert.match(await page.getAttribute("#chart svg", "aria-label"), /1: 1; 2: 2; 3: 0;.*51\+: 0\./);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the page is ${width} px wide at a 360 px viewport`);
    await shot(page, "11-narrow");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe("documentation embed", () => {
  test("the examples page renders three working examples", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    await page.goto(`${site}/examples.html`);
    await page.waitForFunction(() => document.documentElement.dataset.groupIdentityExamples === "3");
    assert.equal(await page.locator(".gik-example").count(), 3);
    const household = page.locator("#example-household .gik-output");
    assert.match(await household.textContent(), /household:has_dog = true/);
    assert.match(await household.textContent(), /household:has_dog = false/);
    const oversized = page.locator("#example-oversized .gik-output");
    assert.match(await oversized.textContent(), /1 Tower Plaza" is held by 12 profiles/);
    assert.match(await oversized.textContent(), /household:ltv = 42.5/);
    assert.match(await page.locator("#example-latest .gik-output").textContent(), /household:country = CA/);
    // Each box's name says which example it belongs to.
    const names = await page.$$eval(".gik-example textarea", (areas) => areas.map((a) => a.labels[0].textContent));
    assert.equal(new Set(names).size, names.length, names.join(" | "));
    assert.equal(
      await page.getByRole("textbox", { name: "Group definition (JSON) in example 2: An oversized key forms no group" }).count(),
      1,
    );
    // Editing the profiles updates the preview as the reader types.
    const profiles = page.locator("#example-household textarea").nth(1);
    const text = (await profiles.inputValue()).replace("1001,123 Main St,true", "1001,123 Main St,false");
    await profiles.fill(text);
    await page.waitForFunction(
      () => !/has_dog = true/.test(document.querySelector("#example-household .gik-output").textContent),
    );
    // And editing the definition too.
    const definition = page.locator("#example-household textarea").first();
    await definition.fill((await definition.inputValue()).replace('"household"', '"home"'));
    await page.waitForFunction(() =>
      /home:has_dog = false/.test(document.querySelector("#example-household .gik-output").textContent),
    );
    await page.screenshot({ path: join(artifacts, "12-embed.png"), fullPage: true });
    // Past 20 groups and 5 diagnostics a line says how many more; the cells carry the
    // embed's own class names, which a host page's `.key` rules do not reach.
    const many = Array.from({ length: 25 }, (_, i) => `${2 * i + 1},${i} Many Street\n${2 * i + 2},${i} Many Street`);
    const unkeyed = Array.from({ length: 7 }, () => ",No Mpid Street");
    await profiles.fill(["mpid,$address", ...many, ...unkeyed].join("\n"));
    await page.waitForFunction(() =>
      /and 5 more group\(s\)/.test(document.querySelector("#example-household .gik-output").textContent),
    );
    assert.match(await household.textContent(), /and 2 more diagnostic\(s\)/);
    assert.equal(await page.locator("#example-household td.gik-key").count(), 20);
    assert.equal(await page.locator("#example-household td.key").count(), 0);
    // An example added later (a single-page docs site) mounts when asked, once.
    const mounted = await page.evaluate(async () => {
      const example = document.createElement("div");
      example.dataset.groupIdentityExample = "";
      example.id = "example-later";
      const definition = document.createElement("script");
      definition.type = "application/json";
      definition.dataset.definition = "";
      definition.textContent = '{"id":"later","source_user_attribute":"$address","attributes":[]}';
      const profiles = document.createElement("pre");
      profiles.dataset.profiles = "";
      profiles.textContent = "mpid,$address\n1,9 Late Lane\n2,9 Late Lane\n";
      example.append(definition, profiles);
      document.querySelector("main").append(example);
      const embed = await import("./embed.js");
      return [embed.mountExamples(), embed.mountExamples()];
    });
    assert.deepEqual(mounted, [1, 0]);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.groupIdentityExamples), "4");
    assert.match(await page.locator("#example-later .gik-output").textContent(), /9 Late Lane/);
    // Only the example's own children are its sources, the marked one wherever it stands;
    // a code sample nested inside stays on the page.
    await page.evaluate(async () => {
      const example = document.createElement("div");
      example.dataset.groupIdentityExample = "";
      example.id = "example-own";
      // As a docs page writes it (a script element put in by innerHTML never runs).
      example.innerHTML = [
        "<pre>mpid,$address\n1,7 Own Road\n2,7 Own Road\n</pre>",
        '<script type="application/json" data-definition>',
        '{"id":"own","source_user_attribute":"$address","attributes":[]}</script>',
        '<div><pre id="kept-sample">curl https://example.com</pre></div>',
      ].join("");
      document.querySelector("main").append(example);
      (await import("./embed.js")).mountExamples();
    });
    assert.match(await page.locator("#example-own .gik-output").textContent(), /1 group\(s\) with 2 members in all/);
    assert.match(await page.locator("#example-own .gik-output").textContent(), /7 Own Road/);
    assert.equal(await page.textContent("#kept-sample"), "curl https://example.com");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("without the engine, examples show as text and the host page keeps its look", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    await page.route(/group-identity-web_bg\.wasm$/, (route) => route.abort());
    await page.goto(`${site}/examples.html`);
    await page.waitForFunction(() => document.documentElement.dataset.groupIdentityExamples === "unavailable");
    const household = page.locator("#example-household");
    assert.match(await household.textContent(), /"household"/);
    assert.match(await household.locator(".gik-unavailable").textContent(), /could not be loaded/);
    assert.equal(await household.locator('script[type="application/json"]').count(), 0);
    await context.close();
  });
});
