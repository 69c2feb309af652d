// The package as a user gets it: `npm pack`, installed into a project of
// its own, imported as ESM and type-checked through its declarations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("the packed package imports as ESM and type-checks in a user's project", () => {
  const dir = mkdtempSync(join(tmpdir(), "tssdk-pkg-"));
  try {
    execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: pkg, stdio: "pipe" });
    const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
    const into = join(dir, "app", "node_modules", "@berth", "sdk");
    mkdirSync(into, { recursive: true });
    execFileSync("tar", ["-xzf", join(dir, tgz), "-C", into, "--strip-components=1"]);
    const app = join(dir, "app");
    writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(
      join(app, "main.ts"),
      `import { Berth, BerthError, type Schemas } from "@berth/sdk";
const berth = new Berth({ apiKey: "sk_x", baseUrl: "http://127.0.0.1:1" });
const d: Promise<Schemas["Deployment"]> = berth.deployments.waitReady("dep_1", { timeoutMs: 1 });
void d.catch(() => {});
// @ts-expect-error: templateId is required
void berth.sandboxes.create({ projectId: "prj_1" }).catch(() => {});
console.log(typeof Berth, new BerthError({ status: 422, code: "c", detail: "d", operation: "o" }).code);
`,
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, types: [], lib: ["ES2022", "DOM"], skipLibCheck: false } }),
    );
    execFileSync(process.execPath, [join(pkg, "node_modules/typescript/bin/tsc"), "-p", app], { stdio: "pipe" });
    const out = execFileSync(process.execPath, [join(app, "main.js")], { encoding: "utf8" });
    assert.equal(out, "function c\n");
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    assert.fail(`${e}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
