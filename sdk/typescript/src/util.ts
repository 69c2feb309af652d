/** CamelKey turns `project_id` into `projectId` at the type level. */
export type CamelKey<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelKey<T>>}` : S;

/**
 * Camel is an API request body with camelCase keys at its top level;
 * nested maps (env, metadata, targets) keep the API's own keys.
 */
export type Camel<T> = { [K in keyof T as K extends string ? CamelKey<K> : K]: T[K] };

/** Call options every operation takes. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
}

/** Options of operations that create: the Idempotency-Key to send (default: a fresh one). */
export interface CreateOptions extends CallOptions {
  idempotencyKey?: string;
}

/** snake turns the top-level camelCase keys of an input into the API's snake_case. */
export function snake(input: object | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!input) return out;
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    out[k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())] = v;
  }
  return out;
}

/** seg escapes one path segment. */
export function seg(s: string): string {
  return encodeURIComponent(s);
}

/** filePath escapes a sandbox file path segment by segment, keeping its slashes. */
export function filePath(p: string): string {
  return p.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
}
