/**
 * Time as a TcpServer's connections need it, injected so that a test can
 * run five idle minutes in no time and know exactly when a timer fires.
 */
export interface ServerTimers {
  nowMs(): number;
  /** Calls `callback` after `delayMs`; the function returned cancels it. */
  after(delayMs: number, callback: () => void): () => void;
}

/** Real time; its timers never keep the process alive on their own. */
export const realServerTimers: ServerTimers = {
  nowMs: () => performance.now(),
  after: (delayMs, callback) => {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
