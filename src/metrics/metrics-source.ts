/**
 * What the HTTP server needs of a process's metrics: the Prometheus text for
 * /metrics, a short recent window of request rates and latencies for the
 * dashboard, and a place to record each client request it serves. Kept apart
 * from the implementation (prom-client, HDR histograms) so that servers and
 * tests depend on this shape only.
 */

/** Records one client request (RESP, HTTP or the TypeScript client's calls served here). */
export interface RequestObserver {
  /** `operation` is the store's operation (get, put, append, delete, incr, ...), lower case. */
  observeRequest(operation: string, durationMs: number, ok: boolean): void;
}

/** One operation over the recent window. */
export interface OperationStats {
  readonly count: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Requests served by this process over the last `windowSeconds`. */
export interface RecentStats {
  readonly windowSeconds: number;
  readonly operations: Readonly<Record<string, OperationStats>>;
}

export interface MetricsSource extends RequestObserver {
  /** The Content-Type header of `prometheusText`'s answer. */
  readonly contentType: string;
  prometheusText(): Promise<string>;
  recentStats(): RecentStats;
}
