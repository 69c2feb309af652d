// The generated types match api/openapi.yaml, and the SDK has a method for
// every operation in it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
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
