import type { components } from "./schema.js";

/** One field's complaint in a problem's `errors`. */
export type FieldError = components["schemas"]["FieldError"];

/**
 * An error answer of the API (application/problem+json, RFC 9457), or a
 * request that never got one (network failure, timeout: status 0).
 * Branch on `code`, which is stable; `detail` is written for a person.
 */
export class BerthError extends Error {
  /** HTTP status, or 0 when no answer came. */
  readonly status: number;
  /** Stable machine-readable code, e.g. `port_not_exposed`. */
  readonly code: string;
  /** What went wrong and what to do, for a person. */
  readonly detail: string;
  /** Per-field complaints, when the API lists several. */
  readonly errors: FieldError[];
  /** The problem's `type` and `title`, as the API sent them. */
  readonly type: string;
  readonly title: string;
  /** The API operation (operationId in api/openapi.yaml) that failed. */
  readonly operation: string;

  constructor(init: {
    status: number;
    code: string;
    detail: string;
    errors?: FieldError[];
    type?: string;
    title?: string;
    operation: string;
    cause?: unknown;
  }) {
    super(`${init.operation}: ${init.detail} (${init.status} ${init.code})`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "BerthError";
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.type = init.type ?? "about:blank";
    this.title = init.title ?? "";
    this.operation = init.operation;
  }
}
