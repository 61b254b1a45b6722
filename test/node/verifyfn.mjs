// The server under test and what the suites share: startVerifyfn runs the
// real verifyfn binary (VERIFYFN_BIN, built by `make node-test`) on a free
// loopback port with the memory store, the development account and an outbox
// in a temporary directory, and reads the codes it "sent" from that outbox.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

// The documented development account (shared/accounts Dev()), served when no
// accounts file is given.
export const DEV = Object.freeze({
  appId: "200000000001",
  secretId: "AKIDLOCAL0000000000000000000000001",
  secretKey: "local-secret-key",
  smhInstance: "n0v9tdme",
  smhSuperAdmin: "+8618999999999",
  camsSpace: "cams-kei123",
});

// Generous: a loaded 2-core machine may be slow, and nothing here is timed.
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts verifyfn and resolves once it logs the address it listens on.
 * @param {{env?: Record<string, string>}} [opts] extra VERIFYFN_* settings
 */
export async function startVerifyfn({ env = {} } = {}) {
  const bin = process.env.VERIFYFN_BIN;
  if (!bin) {
    throw new Error("VERIFYFN_BIN is not set: run `make node-test`, or build with `go build -o /tmp/verifyfn ./cmd/verifyfn` and set VERIFYFN_BIN=/tmp/verifyfn");
  }
  const dir = await mkdtemp(join(tmpdir(), "verifyfn-node-"));
  const outbox = join(dir, "outbox.jsonl");
  // The caller's own VERIFYFN_* settings (an accounts file, a store) must not
  // leak into the server under test.
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VERIFYFN_")));
  Object.assign(childEnv, {
    VERIFYFN_ADDR: "127.0.0.1:0",
    VERIFYFN_METRICS_ADDR: "127.0.0.1:0",
    VERIFYFN_STORE: "memory",
    VERIFYFN_OUTBOX: outbox,
    VERIFYFN_LOG_LEVEL: "info",
    // The per-account request rate is not under test here; a suite's bursts
    // must not trip it on a fast machine.
    VERIFYFN_RATE_LIMIT: "1000",
    VERIFYFN_CAMS_RATE_LIMIT: "1000",
    ...env,
  });
  const child = spawn(bin, ["serve"], { env: childEnv, stdio: ["ignore", "ignore", "pipe"] });
  const log = [];
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  // Should the test process end without stop() (a crash), take the server along.
  const reap = () => child.kill("SIGKILL");
  process.once("exit", reap);
  exited.then(() => process.off("exit", reap));

  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`verifyfn did not log "listening" within ${STARTUP_TIMEOUT_MS} ms:\n${log.join("\n")}`)), STARTUP_TIMEOUT_MS);
    child.once("error", (err) => { clearTimeout(timer); reject(err); });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`verifyfn exited (${code ?? signal}) before listening:\n${log.join("\n")}`)); });
    // Keep reading stderr for the whole run: a full pipe would block the server.
    createInterface({ input: child.stderr }).on("line", (line) => {
      log.push(line);
      if (!line.startsWith("{")) return;
      try {
        const entry = JSON.parse(line);
        if (entry.msg === "listening" && entry.addr) { clearTimeout(timer); resolve(entry.addr); }
      } catch { /* not a log entry */ }
    });
  }).catch(async (err) => {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw err;
  });

  /** Every message in the outbox, oldest first. */
  async function messages() {
    let text;
    try {
      text = await readFile(outbox, "utf8");
    } catch (err) {
      if (err.code === "ENOENT") return [];
      throw err;
    }
    return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  }

  return {
    /** "127.0.0.1:PORT", as an SDK's endpoint. */
    endpoint: addr,
    outbox,
    messages,
    /** Everything the server logged so far (its stderr lines). */
    log: () => log.join("\n"),
    /**
     * The newest message sent to `to` (E.164 number or email address),
     * optionally by one action; throws when there is none.
     */
    async lastMessage(to, action) {
      const all = (await messages()).filter((m) => m.to === to && (!action || m.action === action));
      if (all.length === 0) throw new Error(`no message to ${to}${action ? ` by ${action}` : ""} in the outbox`);
      return all[all.length - 1];
    },
    async lastCode(to, action) {
      return (await this.lastMessage(to, action)).code;
    },
    /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A RequestId as verifyfn answers it (a UUID; Alibaba's are upper case). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Awaits a call that must fail and returns its error. */
async function failure(promise, expected) {
  let res;
  try {
    res = await promise;
  } catch (err) {
    return err;
  }
  assert.fail(`expected the error ${expected}, the call succeeded: ${JSON.stringify(res)}`);
}

/**
 * Asserts that a Tencent SDK call fails with the documented code in
 * TencentCloudSDKHttpException.code and the envelope's RequestId; returns the
 * error.
 */
export async function tcRejects(promise, code) {
  const err = await failure(promise, code);
  assert.equal(err.code, code, `error code (message: ${err.message})`);
  assert.match(err.requestId, UUID);
  return err;
}

/**
 * Asserts that an Alibaba SDK call fails with the documented code, the HTTP
 * status (400 unless told) and the body's RequestId; returns the error.
 */
export async function acsRejects(promise, code, statusCode = 400) {
  const err = await failure(promise, code);
  assert.equal(err.code, code, `error code (message: ${err.message})`);
  assert.equal(err.statusCode, statusCode, "HTTP status");
  assert.match(err.data?.RequestId ?? "", UUID);
  return err;
}

/** A code of the same length that differs from code in its last digit. */
export function wrongCode(code) {
  return code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);
}

/** Calls a method of a callback-style client (tencentcloud-sdk-nodejs-intl-en). */
export function viaCallback(fn) {
  return new Promise((resolve, reject) => fn((err, resp) => (err ? reject(err) : resolve(resp))));
}
