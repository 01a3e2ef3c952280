/** RESP2 replies, as bytes ready to write. */

export type RespReply =
  | { readonly kind: 'simple'; readonly text: string }
  | { readonly kind: 'error'; readonly text: string }
  | { readonly kind: 'integer'; readonly value: number | bigint }
  | { readonly kind: 'bulk'; readonly value: Uint8Array | null }
  | { readonly kind: 'array'; readonly items: readonly RespReply[] | null };

export const OK: RespReply = { kind: 'simple', text: 'OK' };
export const NULL_BULK: RespReply = { kind: 'bulk', value: null };

export function simple(text: string): RespReply {
  return { kind: 'simple', text };
}

/** An error reply; `text` starts with its code, as Redis's do ("ERR ...", "WRONGTYPE ..."). */
export function error(text: string): RespReply {
  return { kind: 'error', text };
}

export function integer(value: number | bigint): RespReply {
  return { kind: 'integer', value };
}

export function bulk(value: Uint8Array | string | null): RespReply {
  return { kind: 'bulk', value: typeof value === 'string' ? Buffer.from(value) : value };
}

export function array(items: readonly RespReply[] | null): RespReply {
  return { kind: 'array', items };
}

/** Appends the encoding of `reply` to `out` (a list of buffers written with one writev). */
export function encodeReply(reply: RespReply, out: Buffer[]): void {
  switch (reply.kind) {
    case 'simple':
      out.push(Buffer.from(`+${oneLine(reply.text)}\r\n`));
      return;
    case 'error':
      out.push(Buffer.from(`-${oneLine(reply.text)}\r\n`));
      return;
    case 'integer':
      out.push(Buffer.from(`:${reply.value}\r\n`));
      return;
    case 'bulk':
      if (reply.value === null) {
        out.push(Buffer.from('$-1\r\n'));
        return;
      }
      out.push(Buffer.from(`$${reply.value.byteLength}\r\n`));
      out.push(Buffer.from(reply.value.buffer, reply.value.byteOffset, reply.value.byteLength));
      out.push(Buffer.from('\r\n'));
      return;
    case 'array':
      if (reply.items === null) {
        out.push(Buffer.from('*-1\r\n'));
        return;
      }
      out.push(Buffer.from(`*${reply.items.length}\r\n`));
      for (const item of reply.items) encodeReply(item, out);
      return;
  }
}

/** Simple strings and errors cannot hold line breaks. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
