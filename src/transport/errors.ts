/**
 * Errors of the TCP transport. Every one comes from outside the process (bytes
 * from the network, a peer that went away), so each is a typed value with a
 * reason a caller can switch on, never a crash of the node.
 */

export type FrameErrorReason = 'tooShort' | 'tooLarge' | 'unknownVersion' | 'unknownKind';

/** A frame header that cannot be trusted: the stream it came on is beyond repair and must be closed. */
export class FrameError extends Error {
  readonly code = 'frame';
  constructor(
    readonly reason: FrameErrorReason,
    detail: string,
  ) {
    super(`bad frame (${reason}): ${detail}`);
    this.name = 'FrameError';
  }
}

/** A frame payload that is not a valid message of the kind its frame announced. */
export class MessageDecodeError extends Error {
  readonly code = 'messageDecode';
  constructor(
    /** What the bytes were meant to be: "raft message", "hello", ... */
    readonly what: string,
    readonly problem: string,
  ) {
    super(`${what} bytes do not decode: ${problem}`);
    this.name = 'MessageDecodeError';
  }
}

/**
 * Why a client call did not get an answer. refused: nobody listens there;
 * closed: the connection went away with the call in flight (the outcome is
 * unknown: retry with the same client id and sequence); timeout: no answer in
 * time (same); rejected: the server refused the hello (wrong cluster id);
 * protocol: the server sent something that is not a response; overloaded:
 * too many calls are in flight on this connection already.
 */
export type ConnectionErrorReason = 'refused' | 'closed' | 'timeout' | 'rejected' | 'protocol' | 'overloaded';

export class ConnectionError extends Error {
  readonly code = 'connection';
  constructor(
    readonly reason: ConnectionErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}
