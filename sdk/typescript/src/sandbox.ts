import type { components } from "./schema.js";
import type { Transport } from "./http.js";
import { filePath, seg, type CallOptions, type CreateOptions } from "./util.js";
import { tarDirectory } from "./tar.js";

type S = components["schemas"];

/** Options of a one-shot command. */
export interface RunOptions extends CallOptions {
  /** Working directory, relative to /workspace. */
  cwd?: string;
  env?: Record<string, string>;
  /**
   * How long the command may run (default 60 s, at most 600 s); past it the
   * call fails with `exec_timeout` (the command keeps running).
   */
  timeoutMs?: number;
  /**
   * Called with the command's standard output. The API answers when the
   * command ends, so this is called once, with all of it.
   */
  onStdout?: (data: string) => void;
  /** Called once with the command's standard error (see onStdout). */
  onStderr?: (data: string) => void;
}

/** The files of a sandbox, under /workspace; paths are relative to it. */
export class SandboxFiles {
  constructor(private readonly t: Transport, private readonly id: string) {}

  /** write stores data at path, creating parent directories. */
  async write(path: string, data: string | Uint8Array, opts: CallOptions = {}): Promise<void> {
    await this.t.call({ op: "writeFile", method: "PUT", path: `/sandboxes/${seg(this.id)}/files/${filePath(path)}`, raw: { body: data, contentType: "application/octet-stream" }, ...opts });
  }

  /** read returns a file's content as UTF-8 text. */
  async read(path: string, opts: CallOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path, opts));
  }

  /** readBytes returns a file's content. */
  readBytes(path: string, opts: CallOptions = {}): Promise<Uint8Array> {
    return this.t.call({ op: "readFile", method: "GET", path: `/sandboxes/${seg(this.id)}/files/${filePath(path)}`, as: "bytes", accept: "*/*", ...opts });
  }

  /** list returns the entries of a directory (default: the root). */
  async list(path = "", opts: CallOptions = {}): Promise<S["FileEntry"][]> {
    const p = filePath(path);
    const r = p === ""
      ? await this.t.call<S["FileListing"]>({ op: "listRootFiles", method: "GET", path: `/sandboxes/${seg(this.id)}/files`, ...opts })
      : await this.t.call<S["FileListing"]>({ op: "readFile", method: "GET", path: `/sandboxes/${seg(this.id)}/files/${p}`, ...opts });
    return r.entries;
  }

  /** remove deletes a file, or a directory with everything in it. */
  async remove(path: string, opts: CallOptions = {}): Promise<void> {
    await this.t.call({ op: "deleteFile", method: "DELETE", path: `/sandboxes/${seg(this.id)}/files/${filePath(path)}`, ...opts });
  }

  /** uploadTar extracts an uncompressed tar over /workspace (nothing else is deleted). */
  uploadTar(tar: Uint8Array, opts: CallOptions = {}): Promise<S["UploadResult"]> {
    return this.t.call({ op: "uploadFiles", method: "PUT", path: `/sandboxes/${seg(this.id)}/files`, raw: { body: tar, contentType: "application/x-tar" }, ...opts });
  }

  /** uploadDir packs a local directory (without .git and node_modules) and extracts it over /workspace. */
  async uploadDir(dir: string, opts: CallOptions = {}): Promise<S["UploadResult"]> {
    return this.uploadTar(await tarDirectory(dir), opts);
  }
}

/** Commands run in a sandbox with `sh -c`, in /workspace. */
export class SandboxCommands {
  constructor(private readonly t: Transport, private readonly id: string) {}

  /**
   * run runs a command to its end. A non-zero exit is not an error: check
   * `exit_code`. Each stream is capped at 1 MiB (`truncated`).
   */
  async run(command: string, opts: RunOptions = {}): Promise<S["ExecResult"]> {
    const secs = opts.timeoutMs === undefined ? undefined : Math.max(1, Math.ceil(opts.timeoutMs / 1000));
    const r = await this.t.call<S["ExecResult"]>({
      op: "exec",
      method: "POST",
      path: `/sandboxes/${seg(this.id)}/exec`,
      json: { command, cwd: opts.cwd, env: opts.env, timeout_seconds: secs },
      timeoutMs: ((secs ?? 60) + 30) * 1000,
      signal: opts.signal,
    });
    if (r.stdout) opts.onStdout?.(r.stdout);
    if (r.stderr) opts.onStderr?.(r.stderr);
    return r;
  }

  /**
   * start runs a command in the background, for good: it starts again with
   * the sandbox's container. Its output goes to /tmp/<process id>.log.
   */
  start(command: string, opts: Omit<RunOptions, "timeoutMs" | "onStdout" | "onStderr"> = {}): Promise<S["Process"]> {
    return this.t.call({ op: "exec", method: "POST", path: `/sandboxes/${seg(this.id)}/exec`, json: { command, cwd: opts.cwd, env: opts.env, background: true }, signal: opts.signal });
  }
}

/** A sandbox: the API's fields, with its files, commands, preview and publish. */
export interface Sandbox extends Readonly<S["Sandbox"]> {}
export class Sandbox {
  readonly files: SandboxFiles;
  readonly commands: SandboxCommands;
  readonly #t: Transport;

  constructor(t: Transport, data: S["Sandbox"]) {
    Object.assign(this, data);
    this.#t = t;
    this.files = new SandboxFiles(t, data.id);
    this.commands = new SandboxCommands(t, data.id);
  }

  /**
   * preview points the sandbox's preview URL at port and waits (up to
   * waitSeconds, default 30) until a request through the edge reaches the
   * app there. The URL is the API's; it never changes.
   */
  preview(opts: { port: number; waitSeconds?: number } & CallOptions): Promise<S["Preview"]> {
    return this.#t.call({
      op: "preview",
      method: "POST",
      path: `/sandboxes/${seg(this.id)}/preview`,
      json: { port: opts.port, wait_seconds: opts.waitSeconds },
      safe: true,
      timeoutMs: opts.timeoutMs ?? ((opts.waitSeconds ?? 30) + 30) * 1000,
      signal: opts.signal,
    });
  }

  /** publish freezes the sandbox's files into an immutable release. */
  publish(opts: CreateOptions = {}): Promise<S["Release"]> {
    return this.#t.call({ op: "publish", method: "POST", path: `/sandboxes/${seg(this.id)}/publish`, idempotencyKey: opts.idempotencyKey ?? true, timeoutMs: opts.timeoutMs ?? 300_000, signal: opts.signal });
  }

  /** restart restarts the container; files, background processes and the URL stay. */
  async restart(opts: CallOptions = {}): Promise<Sandbox> {
    return new Sandbox(this.#t, await this.#t.call({ op: "restartSandbox", method: "POST", path: `/sandboxes/${seg(this.id)}/restart`, timeoutMs: opts.timeoutMs ?? 120_000, signal: opts.signal }));
  }

  /** stop stops the container; the files stay and nothing starts it again until start. */
  stop(opts: CallOptions = {}): Promise<Sandbox> {
    return this.#lifecycle("stopSandbox", "stop", opts);
  }

  /** start starts a stopped sandbox with its files and background processes (the dev server). */
  start(opts: CallOptions = {}): Promise<Sandbox> {
    return this.#lifecycle("startSandbox", "start", opts);
  }

  /** pause freezes the sandbox: memory and processes are kept, nothing runs. */
  pause(opts: CallOptions = {}): Promise<Sandbox> {
    return this.#lifecycle("pauseSandbox", "pause", opts);
  }

  /** resume thaws a paused sandbox where it was. */
  resume(opts: CallOptions = {}): Promise<Sandbox> {
    return this.#lifecycle("resumeSandbox", "resume", opts);
  }

  /** delete removes the container, the files and the preview; releases published from it stay. Deleting again succeeds. */
  async delete(opts: CallOptions = {}): Promise<void> {
    await this.#t.call({ op: "deleteSandbox", method: "DELETE", path: `/sandboxes/${seg(this.id)}`, ...opts });
  }

  async #lifecycle(op: string, action: string, opts: CallOptions): Promise<Sandbox> {
    return new Sandbox(this.#t, await this.#t.call({ op, method: "POST", path: `/sandboxes/${seg(this.id)}/${action}`, timeoutMs: opts.timeoutMs ?? 120_000, signal: opts.signal }));
  }

  /** refresh fetches the sandbox again. */
  async refresh(opts: CallOptions = {}): Promise<Sandbox> {
    return new Sandbox(this.#t, await this.#t.call({ op: "getSandbox", method: "GET", path: `/sandboxes/${seg(this.id)}`, ...opts }));
  }

  toJSON(): S["Sandbox"] {
    const { files: _f, commands: _c, ...data } = this as unknown as Record<string, unknown>;
    return data as unknown as S["Sandbox"];
  }
}
