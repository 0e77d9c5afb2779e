// The playground's background reader. It loads the same wasm module as the page (the
// wasm-bindgen `--target web` output that trunk writes next to this file) and reads files
// in slices, so inputs of any size never sit whole in memory and the page keeps responding.
// Cancelling terminates this worker; the page starts a fresh one for the next job.
import init, {
  PlaygroundAudience,
  PlaygroundSession,
  playgroundEnrich,
} from "./group-identity-web.js";

const CHUNK = 4 << 20; // 4 MiB slices: big enough to be fast, small enough for steady progress.
const ready = init();

self.onmessage = async (event) => {
  const job = event.data;
  try {
    await ready;
    if (job.type === "preview") {
      const session = new PlaygroundSession(job.definition, job.options);
      await feed(job, session, (done, total) =>
        self.postMessage({ type: "progress", id: job.id, done, total }),
      );
      self.postMessage({ type: "preview", id: job.id, json: session.finish() });
      session.free();
    } else if (job.type === "audience") {
      // Two passes over the slices: the groups, then each profile against the conditions.
      const audience = new PlaygroundAudience(job.definition, job.conditions, job.options);
      await feed(job, audience);
      audience.secondPass();
      await feed(job, audience);
      self.postMessage({ type: "audience", id: job.id, json: audience.finish() });
      audience.free();
    } else if (job.type === "enrich") {
      const bytes = new Uint8Array(await job.blob.arrayBuffer());
      const text = playgroundEnrich(job.definition, bytes, job.options, job.format);
      self.postMessage({ type: "enriched", id: job.id, text, format: job.format });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    self.postMessage({ type: "error", id: job.id, message });
  }
};

/** Pushes the job's blob to `session` one slice at a time. */
async function feed(job, session, progress = () => {}) {
  const total = job.blob.size;
  for (let offset = 0; offset < total; offset += CHUNK) {
    const end = Math.min(offset + CHUNK, total);
    session.push(new Uint8Array(await job.blob.slice(offset, end).arrayBuffer()));
    progress(end, total);
  }
}
