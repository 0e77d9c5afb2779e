// The playground's background reader. It loads the same wasm module as the page (the
// wasm-bindgen `--target web` output that trunk writes next to this file) and reads files
// in slices, so inputs of any size never sit whole in memory and the page keeps responding.
// Cancelling terminates this worker; the page starts a fresh one for the next job.
// A finished preview stays here: the page gets its stats, capped lists and the first page
// of groups, and asks for every other page or search ("page" messages) until it replaces
// this worker, so a file's million groups never cross to the page.
import init, {
  PlaygroundAudience,
  PlaygroundEnrich,
  PlaygroundSession,
} from "./group-identity-web.js";

const CHUNK = 4 << 20; // 4 MiB slices: big enough to be fast, small enough for steady progress.
const PART = 32 << 20; // Download text gathered into a Blob every 32 Mi characters.
const ready = init();
let held = null; // The finished preview whose groups the page pages through.

self.onmessage = async (event) => {
  const job = event.data;
  try {
    await ready;
    if (job.type === "preview") {
      const session = new PlaygroundSession(job.definition, job.options);
      await feed(job, session, (done, total) =>
        self.postMessage({ type: "progress", id: job.id, done, total }),
      );
      const needle = job.needle ?? ""; // A search key: the page normalised it.
      const json = session.finishHeld(needle);
      held = session;
      self.postMessage({ type: "preview", id: job.id, json, needle });
    } else if (job.type === "page") {
      // A search or a page of the preview held; none is asked of one still being read.
      // The page asked may be past the search's last: the answer says the page it is.
      if (held) {
        const json = held.page(job.needle, job.page);
        self.postMessage({ type: "page", id: job.id, query: job.query, json });
      }
    } else if (job.type === "audience") {
      // Two passes over the slices: the groups, then each profile against the conditions.
      const audience = new PlaygroundAudience(job.definition, job.conditions, job.options);
      await feed(job, audience, progress(job, 0));
      audience.secondPass();
      await feed(job, audience, progress(job, 1));
      self.postMessage({ type: "audience", id: job.id, json: audience.finish() });
      audience.free();
    } else if (job.type === "enrich") {
      // Two passes: the groups (and a CSV's columns), then each slice's profiles as text,
      // gathered into Blobs so the download never sits whole in this worker's memory.
      const enrich = new PlaygroundEnrich(job.definition, job.options, job.format);
      await feed(job, enrich, progress(job, 0));
      enrich.secondPass();
      const blobs = [];
      let texts = [];
      let gathered = 0; // Characters in `texts`.
      const keep = (text) => {
        texts.push(text);
        gathered += text.length;
        if (gathered >= PART) {
          blobs.push(new Blob(texts));
          texts = [];
          gathered = 0;
        }
      };
      await feed(job, enrich, progress(job, 1), keep);
      keep(enrich.finish());
      enrich.free();
      const blob = new Blob([...blobs, new Blob(texts)]);
      self.postMessage({ type: "enriched", id: job.id, blob, format: job.format });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    self.postMessage({ type: "error", id: job.id, message });
  }
};

/** Progress of a two-pass job (a count, a download): pass 0 or 1 of both. */
const progress = (job, pass) => (done, total) =>
  self.postMessage({ type: "progress", id: job.id, done: pass * total + done, total: 2 * total });

/** Pushes the job's blob to `session` one slice at a time; `output` gets what each push
 * gives back. */
async function feed(job, session, progress = () => {}, output = () => {}) {
  const total = job.blob.size;
  for (let offset = 0; offset < total; offset += CHUNK) {
    const end = Math.min(offset + CHUNK, total);
    output(session.push(new Uint8Array(await job.blob.slice(offset, end).arrayBuffer())));
    progress(end, total);
  }
}
