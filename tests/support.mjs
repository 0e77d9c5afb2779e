// Shared by the Node test packages (tests/client, tests/browser), with no dependencies of
// its own: the API emulator on a free loopback port, and how to launch Debian's Chromium.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A loopback port free now: the system's pick for a listener, closed again at once. */
export async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Starts the emulator binary with `--port 0` and resolves once it printed its address.
 * `log()` is everything it wrote so far (its request log goes to stderr).
 */
export async function startEmulator(extraArgs = []) {
  const target = process.env.CARGO_TARGET_DIR || join(root, "target");
  const binary = process.env.EMULATOR_BIN || join(target, "debug", "group-identity-emulator");
  const child = spawn(binary, ["--port", "0", ...extraArgs], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the emulator did not start in 30 s:\n${output.slice(-2000)}`));
    }, 30_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${binary} (build it with cargo build -p group-identity-emulator): ${err.message}`));
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
  child.removeAllListeners("exit");
  return {
    url,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/**
 * Launch options for Debian's Chromium as root in a closed network: no sandbox, and none of
 * the background connections that would be refused.
 */
export const chromiumOptions = Object.freeze({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
