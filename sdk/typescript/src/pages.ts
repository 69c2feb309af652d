import type { Transport, Query } from "./http.js";

/**
 * Paginator iterates over every item of a list endpoint, fetching the next
 * page (`next_cursor`) as it goes: `for await (const p of berth.projects.list())`.
 * Awaiting it gives every item in an array, as toArray does.
 */
export class Paginator<T> implements AsyncIterable<T>, PromiseLike<T[]> {
  constructor(
    private readonly t: Transport,
    private readonly op: string,
    private readonly path: string,
    private readonly query: Query,
    private readonly signal?: AbortSignal,
    private readonly wrap: (item: any) => T = (x) => x,
  ) {}

  /** One page: its items and the cursor of the next, if any. */
  async page(cursor?: string): Promise<{ data: T[]; nextCursor?: string }> {
    const r = await this.t.call<{ data: unknown[]; next_cursor?: string }>({
      op: this.op,
      method: "GET",
      path: this.path,
      query: { ...this.query, cursor },
      signal: this.signal,
    });
    return { data: r.data.map(this.wrap), nextCursor: r.next_cursor };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let cursor: string | undefined;
    do {
      const p = await this.page(cursor);
      yield* p.data;
      cursor = p.nextCursor;
    } while (cursor);
  }

  then<R1 = T[], R2 = never>(onfulfilled?: ((v: T[]) => R1 | PromiseLike<R1>) | null, onrejected?: ((e: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    return this.toArray().then(onfulfilled, onrejected);
  }

  /** toArray collects every item of every page. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const x of this) out.push(x);
    return out;
  }
}
