// A real `berth up` for the tests: started as a child process with its
// own data dir and free ports, like e2e/harness_test.go does in process.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import http from "node:http";

export const adminKey = "sk_tssdktestadminkey00000000000000000000";

export interface Platform {
  apiURL: string;
  edgeURL: string;
  dataDir: string;
  stop(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** berthBin is $BERTH_BIN, else the repository's bin/berth (`make build`). */
export function berthBin(): string {
  const bin = process.env.BERTH_BIN ?? resolve(here, "../../../../bin/berth");
  if (!existsSync(bin)) throw new Error(`no berth binary at ${bin}: run \`make build\` or set BERTH_BIN`);
  return bin;
}

/** dockerAnswers says whether `docker info` works; the tests need an engine. */
export function dockerAnswers(): boolean {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** start runs `berth up` until stop, and waits for it to print its URLs. */
export async function start(): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), "berth-tssdk-"));
  const dataDir = join(dir, "data");
  const child: ChildProcess = spawn(
    berthBin(),
    ["up", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0", "--domain", "localhost", "--log-level", "warn"],
    {
      env: { ...process.env, HOME: dir, BERTH_CONFIG: join(dir, "cli.json"), BERTH_BOOTSTRAP_KEY: adminKey },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let errOut = "";
  child.stderr!.on("data", (b) => {
    errOut += b;
    if (process.env.BERTH_TEST_LOG) process.stderr.write(b);
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const urls = await new Promise<{ api: string; edge: string }>((resolveUrls, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth up did not start in 60s; stderr:\n${errOut}`)), 60_000);
    child.stdout!.on("data", (b) => {
      out += b;
      const api = /API:\s+(\S+)/.exec(out);
      const edge = /Apps:\s+(\S+)/.exec(out);
      if (api && edge) {
        clearTimeout(timer);
        resolveUrls({ api: api[1]!, edge: edge[1]! });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`berth up exited (${code}); stderr:\n${errOut}`));
    });
  });
  return {
    apiURL: urls.api,
    edgeURL: urls.edge,
    dataDir,
    async stop() {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(t);
      removeContainers(dataDir);
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** removeContainers removes what this berth left on the engine (as the e2e harness does). */
function removeContainers(dataDir: string) {
  let inst: Buffer;
  try {
    inst = readFileSync(join(dataDir, "instance"));
  } catch {
    return;
  }
  const label = "label=berth.instance=" + inst.toString("hex");
  const ids = (args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).split(/\s+/).filter(Boolean);
  const run = (args: string[]) => {
    try {
      execFileSync("docker", args, { stdio: "ignore" });
    } catch {
      // Best effort: the next run's cleanup or the operator's takes it.
    }
  };
  const c = ids(["ps", "-aq", "--filter", label]);
  if (c.length) run(["rm", "-f", "-v", ...c]);
  const v = ids(["volume", "ls", "-q", "--filter", label]);
  if (v.length) run(["volume", "rm", "-f", ...v]);
  const n = ids(["network", "ls", "-q", "--filter", label]);
  if (n.length) run(["network", "rm", ...n]);
}

/**
 * web sends a request to a URL the API handed out, connecting to the edge on
 * loopback whatever the name: Node resolves no *.localhost names, a browser
 * does. The URL (and so the Host header) is kept as it is.
 */
export function web(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolveRes, reject) => {
    const req = http.request(
      url,
      {
        method: init.method ?? "GET",
        // S3 wants a Content-Length, not a chunked body.
        headers: init.body === undefined ? init.headers : { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) },
        lookup: (_host, opts, cb) => {
          if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
          else cb(null, "127.0.0.1", 4);
        },
        timeout: 10_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolveRes({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on("error", reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/** eventually retries f until it returns a value, or fails after ms. */
export async function eventually<T>(ms: number, what: string, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
