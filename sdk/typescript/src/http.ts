import { randomUUID } from "node:crypto";
import { BerthError } from "./errors.js";

/** Retry policy for 429, 5xx and network errors. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 turns retrying off). */
  maxRetries?: number;
  /** First backoff in ms (default 200); each retry doubles it, with full jitter. */
  baseDelayMs?: number;
  /** Largest single wait in ms, Retry-After included (default 5000). */
  maxDelayMs?: number;
}

export interface TransportOptions {
  baseUrl: string;
  apiKey: string;
  userAgent: string;
  timeoutMs: number;
  retry: Required<RetryOptions>;
  fetch: typeof fetch;
}

/** Query values; undefined ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

export interface Call {
  /** operationId in api/openapi.yaml, named in errors. */
  op: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  /** A JSON body. */
  json?: unknown;
  /** A raw body with its content type (files, tars, pages). */
  raw?: { body: Uint8Array | string; contentType: string };
  /**
   * Send an Idempotency-Key: the caller's string, or one generated for this
   * call (kept across its retries) when true.
   */
  idempotencyKey?: string | true;
  /**
   * The server may see this request twice without harm, so a 5xx or a
   * network error may be retried. GET, PUT, DELETE and calls with an
   * Idempotency-Key are always safe.
   */
  safe?: boolean;
  /** What to read from a 2xx answer (default: JSON, or nothing on 204). */
  as?: "json" | "bytes" | "text" | "response";
  accept?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Transport sends API calls: auth, idempotency keys, retries, problem+json. */
export class Transport {
  readonly opts: TransportOptions;
  private readonly base: string;

  constructor(opts: TransportOptions) {
    this.opts = opts;
    this.base = opts.baseUrl.replace(/\/+$/, "");
  }

  url(path: string, query?: Query): string {
    let u = this.base + path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
      const s = q.toString();
      if (s) u += "?" + s;
    }
    return u;
  }

  async call<T>(c: Call): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.opts.apiKey}`,
      "user-agent": this.opts.userAgent,
      accept: c.accept ?? "application/json",
    };
    let body: Uint8Array | string | undefined;
    if (c.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(c.json);
    } else if (c.raw) {
      headers["content-type"] = c.raw.contentType;
      body = c.raw.body;
    }
    if (c.idempotencyKey !== undefined) {
      headers["idempotency-key"] = c.idempotencyKey === true ? randomUUID() : c.idempotencyKey;
    }
    const safe = c.safe || c.method !== "POST" && c.method !== "PATCH" || c.idempotencyKey !== undefined;
    const url = this.url(c.path, c.query);
    const { maxRetries, baseDelayMs, maxDelayMs } = this.opts.retry;
    for (let attempt = 0; ; attempt++) {
      // A timer of our own, not AbortSignal.timeout: Node 18 can collect
      // that signal while fetch waits on it, and the call then never ends.
      const ms = c.timeoutMs ?? this.opts.timeoutMs;
      const ctl = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ctl.abort(new DOMException(`no answer in ${ms} ms`, "TimeoutError"));
      }, ms);
      const onAbort = () => ctl.abort(c.signal!.reason);
      if (c.signal?.aborted) onAbort();
      else c.signal?.addEventListener("abort", onAbort, { once: true });
      const release = () => {
        clearTimeout(timer);
        c.signal?.removeEventListener("abort", onAbort);
      };
      // Node 18's fetch has been seen not to settle when aborted while it
      // connects: the deadline is kept here too, whatever fetch does.
      const aborted = new Promise<never>((_, reject) => ctl.signal.addEventListener("abort", () => reject(ctl.signal.reason), { once: true }));
      aborted.catch(() => {});
      const failure = (err: unknown) =>
        new BerthError({ status: 0, code: timedOut ? "timeout" : "network_error", detail: timedOut ? `no answer in ${ms} ms` : errMessage(err), operation: c.op, cause: err });
      let res: Response;
      try {
        res = await Promise.race([this.opts.fetch(url, { method: c.method, headers, body: body as BodyInit | undefined, signal: ctl.signal }), aborted]);
      } catch (err) {
        release();
        if (c.signal?.aborted) throw c.signal.reason ?? err;
        // A refused connection never reached the server: safe to send again.
        if (attempt < maxRetries && (safe || networkCode(err) === "ECONNREFUSED")) {
          await sleep(backoff(attempt, baseDelayMs, maxDelayMs), c.signal);
          continue;
        }
        throw failure(err);
      }
      if (res.ok) {
        if (c.as === "response") {
          // A stream has no deadline; the caller's signal still ends it.
          clearTimeout(timer);
          return res as T;
        }
        try {
          return (await Promise.race([read(res, c.as), aborted])) as T;
        } catch (err) {
          if (c.signal?.aborted) throw c.signal.reason ?? err;
          if (err instanceof SyntaxError) throw new BerthError({ status: res.status, code: "invalid_response", detail: `the answer is not JSON: ${err.message}`, operation: c.op, cause: err });
          throw failure(err);
        } finally {
          release();
        }
      }
      release();
      const retryable = res.status === 429 || (res.status >= 500 && safe);
      if (retryable && attempt < maxRetries) {
        await res.body?.cancel().catch(() => {});
        let wait = backoff(attempt, baseDelayMs, maxDelayMs);
        const ra = retryAfterMs(res.headers.get("retry-after"));
        if (ra !== undefined) wait = Math.min(Math.max(wait, ra), maxDelayMs);
        await sleep(wait, c.signal);
        continue;
      }
      throw await problem(res, c.op);
    }
  }
}

async function read(res: Response, as: Call["as"]): Promise<unknown> {
  switch (as) {
    case "response":
      return res;
    case "bytes":
      return new Uint8Array(await res.arrayBuffer());
    case "text":
      return res.text();
  }
  if (res.status === 204) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  const text = await res.text();
  return text === "" ? undefined : JSON.parse(text);
}

/** problem turns an error answer into a BerthError. */
export async function problem(res: Response, op: string): Promise<BerthError> {
  const text = await res.text().catch(() => "");
  let p: Record<string, unknown> = {};
  try {
    p = JSON.parse(text);
  } catch {
    // Not problem+json (a proxy's page, say): keep what it said.
  }
  return new BerthError({
    status: res.status,
    code: typeof p.code === "string" ? p.code : `http_${res.status}`,
    detail: typeof p.detail === "string" ? p.detail : text.slice(0, 500) || res.statusText,
    errors: Array.isArray(p.errors) ? (p.errors as BerthError["errors"]) : [],
    type: typeof p.type === "string" ? p.type : undefined,
    title: typeof p.title === "string" ? p.title : undefined,
    operation: op,
  });
}

/** backoff is exponential with full jitter: a random wait up to base·2^attempt. */
function backoff(attempt: number, base: number, max: number): number {
  return Math.random() * Math.min(max, base * 2 ** attempt);
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(h);
  return Number.isNaN(d) ? undefined : Math.max(0, d - Date.now());
}

function networkCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.cause?.code ?? e?.code ?? "";
}

function errMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return [e?.message, e?.cause?.message].filter(Boolean).join(": ") || String(err);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * anySignal aborts when any of signals does (AbortSignal.any needs Node 20).
 * release takes its listeners off the signals, which may live long.
 */
export function anySignal(signals: AbortSignal[]): { signal: AbortSignal; release: () => void } {
  const ctl = new AbortController();
  const off = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      ctl.abort(s.reason);
      break;
    }
    s.addEventListener("abort", () => ctl.abort(s.reason), { once: true, signal: off.signal });
  }
  return { signal: ctl.signal, release: () => off.abort() };
}
