import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** Directories a directory upload leaves out, as `berth deploy` does. */
const skipped = new Set([".git", "node_modules"]);

/**
 * tarDirectory packs dir into an uncompressed POSIX tar (ustar, with a PAX
 * header for long names): sorted entries, fixed times and owners, so the
 * same files always give the same bytes. Symlinks and special files are
 * left out.
 */
export async function tarDirectory(dir: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const walk = async (d: string) => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(d, e.name);
      const name = relative(dir, full).split(sep).join("/");
      if (e.isDirectory()) {
        if (skipped.has(e.name)) continue;
        chunks.push(...entry(name + "/", "5", 0o755, new Uint8Array(0)));
        await walk(full);
      } else if (e.isFile()) {
        const data = await readFile(full);
        const mode = (await stat(full)).mode & 0o111 ? 0o755 : 0o644;
        chunks.push(...entry(name, "0", mode, data));
      }
    }
  };
  await walk(dir);
  chunks.push(new Uint8Array(1024));
  return concat(chunks);
}

function entry(name: string, type: "0" | "5", mode: number, data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const enc = new TextEncoder();
  let short = name;
  let prefix = "";
  if (enc.encode(name).length > 100) {
    // ustar's prefix field holds up to 155 bytes before a slash; a PAX
    // "path" record carries anything longer.
    const cut = name.lastIndexOf("/", name.length - 2);
    if (cut > 0 && enc.encode(name.slice(0, cut)).length <= 155 && enc.encode(name.slice(cut + 1)).length <= 100) {
      prefix = name.slice(0, cut);
      short = name.slice(cut + 1);
    } else {
      const rec = paxRecord("path", name);
      out.push(header("PaxHeader", "x", 0o644, rec.length, ""), rec, pad(rec.length));
      short = name.slice(0, 99);
    }
  }
  out.push(header(short, type, mode, data.length, prefix), data, pad(data.length));
  return out;
}

function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLen = new TextEncoder().encode(body).length;
  let n = bodyLen + 1;
  while (String(n).length + bodyLen !== n) n = String(n).length + bodyLen;
  return new TextEncoder().encode(n + body);
}

function header(name: string, type: string, mode: number, size: number, prefix: string): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number, len: number) => h.set(new TextEncoder().encode(s).subarray(0, len), off);
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, "0") + "\0", off, len);
  put(name, 0, 100);
  oct(mode, 100, 8);
  oct(0, 108, 8); // uid
  oct(0, 116, 8); // gid
  oct(size, 124, 12);
  oct(0, 136, 12); // mtime
  put("        ", 148, 8); // checksum, spaces while summing
  put(type, 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

function pad(n: number): Uint8Array {
  return new Uint8Array((512 - (n % 512)) % 512);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
