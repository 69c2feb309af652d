// The SDK's overhead per call against raw fetch: GET /sandboxes/{id} on a
// real `berth up`, N calls each, interleaved in the same run so both see
// the same machine. Not a test: `make sdk-ts-bench` prints the figures.
import { performance } from "node:perf_hooks";
import { Berth } from "../src/index.js";
import { start, adminKey } from "../test/harness.js";

const N = Number(process.env.N ?? 1000);

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p90: q(0.9), p99: q(0.99) };
}

const p = await start();
try {
  const berth = new Berth({ apiKey: adminKey, baseUrl: p.apiURL });
  const org = await berth.orgs.create({ name: "Bench" });
  const ws = await berth.workspaces.create({ orgId: org.id, name: "Bench" });
  const prj = await berth.projects.create({ workspaceId: ws.id, name: "Bench" });
  const sbx = await berth.sandboxes.create({ projectId: prj.id, templateId: "static-html" });
  const url = `${p.apiURL.replace(/\/+$/, "")}/api/v1/sandboxes/${sbx.id}`;
  const headers = { authorization: `Bearer ${adminKey}`, accept: "application/json" };

  const raw = async () => {
    const res = await fetch(url, { headers });
    if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
    return res.json();
  };
  const sdk = () => berth.sandboxes.retrieve(sbx.id);

  for (let i = 0; i < 100; i++) await raw(), await sdk(); // warm up connections and the JIT
  const tRaw: number[] = [];
  const tSdk: number[] = [];
  for (let i = 0; i < N; i++) {
    // Alternate which goes first, so neither always follows the other.
    const order = i % 2 === 0 ? [raw, sdk] : [sdk, raw];
    for (const f of order) {
      const t0 = performance.now();
      await f();
      (f === raw ? tRaw : tSdk).push(performance.now() - t0);
    }
  }
  const r = stats(tRaw);
  const s = stats(tSdk);
  const f = (x: number) => `${(x * 1000).toFixed(0)} µs`;
  console.log(`GET /sandboxes/{id}, ${N} calls each, node ${process.versions.node}`);
  console.log(`raw fetch  median ${f(r.median)}  p90 ${f(r.p90)}  p99 ${f(r.p99)}`);
  console.log(`SDK        median ${f(s.median)}  p90 ${f(s.p90)}  p99 ${f(s.p99)}`);
  console.log(`SDK / raw  ${(s.median / r.median).toFixed(3)}× (median)`);
} finally {
  await p.stop();
}
