/** RESP2 replies, as bytes ready to write. */

export type RespReply =
  | { readonly kind: 'simple'; readonly text: string }
  | { readonly kind: 'error'; readonly text: string }
  | { readonly kind: 'integer'; readonly value: number | bigint }
  | { readonly kind: 'bulk'; readonly value: Uint8Array | null }
  | { readonly kind: 'array'; readonly items: readonly RespReply[] | null };

export const OK: RespReply = { kind: 'simple', text: 'OK' };
export const NULL_BULK: RespReply = { kind: 'bulk', value: null };

/** The replies of nearly every write and every miss, encoded once: writes never change a Buffer they were given. */
const OK_BYTES = Buffer.from('+OK\r\n');
const NULL_BULK_BYTES = Buffer.from('$-1\r\n');
/** Up to this size a bulk reply is one buffer (one copy of the value); above, its value is written uncopied. */
const BULK_COPY_BYTES_MAX = 4096;
const CRLF_BYTES = Buffer.from('\r\n');

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
  if (reply === OK) {
    out.push(OK_BYTES);
    return;
  }
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
        out.push(NULL_BULK_BYTES);
        return;
      }
      out.push(...bulkPieces(reply.value));
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

function bulkPieces(value: Uint8Array): Buffer[] {
  const header = `$${value.byteLength}\r\n`;
  const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value.byteLength > BULK_COPY_BYTES_MAX) return [Buffer.from(header, 'latin1'), view, CRLF_BYTES];
  const encoded = Buffer.allocUnsafe(header.length + value.byteLength + 2);
  const valueStart = encoded.write(header, 'latin1');
  view.copy(encoded, valueStart);
  encoded[valueStart + value.byteLength] = 0x0d;
  encoded[valueStart + value.byteLength + 1] = 0x0a;
  return [encoded];
}

/** Simple strings and errors cannot hold line breaks. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
