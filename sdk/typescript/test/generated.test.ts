// The generated types match api/openapi.yaml, and the SDK has a method for
// every operation in it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const spec = resolve(pkg, "../../api/openapi.yaml");

test("src/schema.ts is what `make sdk-ts-gen` makes of api/openapi.yaml", () => {
  const dir = mkdtempSync(join(tmpdir(), "tssdk-gen-"));
  try {
    const out = join(dir, "schema.ts");
    execFileSync(process.execPath, [join(pkg, "node_modules/openapi-typescript/bin/cli.js"), spec, "--default-non-nullable", "false", "-o", out], { stdio: "pipe" });
    const fresh = readFileSync(out, "utf8");
    const committed = readFileSync(join(pkg, "src/schema.ts"), "utf8");
    assert.ok(fresh === committed, "src/schema.ts is stale: run `make sdk-ts-gen` and commit it");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every operation of the API has an SDK method", () => {
  const ops = [...readFileSync(spec, "utf8").matchAll(/^\s+operationId:\s*(\S+)/gm)].map((m) => m[1]!);
  assert.ok(ops.length > 50, `found ${ops.length} operations`);
  const src = readdirSync(join(pkg, "src"))
    .filter((f) => f.endsWith(".ts") && f !== "schema.ts")
    .map((f) => readFileSync(join(pkg, "src", f), "utf8"))
    .join("\n");
  const missing = ops.filter((op) => !src.includes(`"${op}"`));
  assert.deepEqual(missing, [], "operations without an SDK method");
});

test("the TypeScript of docs/sdk.md type-checks against the SDK", () => {
  const md = readFileSync(resolve(pkg, "../../docs/sdk.md"), "utf8");
  const code = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).join("\n");
  const body = code.split("\n").filter((l) => !l.startsWith("import "));
  const dir = mkdtempSync(join(pkg, ".doccheck-"));
  try {
    writeFileSync(join(dir, "main.ts"), `import { Berth, BerthError } from "../src/index.js";\nexport async function main() {\n${body.join("\n")}\n}\n`);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "../tsconfig.json", compilerOptions: { noEmit: true, rootDir: ".." }, include: ["main.ts"] }));
    try {
      execFileSync(process.execPath, [join(pkg, "node_modules/typescript/bin/tsc"), "-p", dir], { stdio: "pipe" });
    } catch (e) {
      assert.fail(`docs/sdk.md does not type-check:\n${(e as { stdout?: Buffer }).stdout ?? e}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
