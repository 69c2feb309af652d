/** One server-sent event. */
export interface SSEMessage {
  id?: string;
  event?: string;
  data: string;
}

/** readSSE yields the events of a text/event-stream body until it ends. */
export async function* readSSE(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEMessage> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  let msg: SSEMessage = { data: "" };
  let hasData = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (hasData) yield msg;
          msg = { data: "" };
          hasData = false;
          continue;
        }
        if (line.startsWith(":")) continue; // keep-alive comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") {
          msg.data = hasData ? msg.data + "\n" + value : value;
          hasData = true;
        } else if (field === "id") msg.id = value;
        else if (field === "event") msg.event = value;
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}
