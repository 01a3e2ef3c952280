/**
 * The JSON the dashboard reads from the node's HTTP API, as JSDoc types so
 * that `tsc -p src/api/dashboard` checks the page against them. They mirror
 * src/meta/config.ts (ShardConfig), src/node/node-status.ts (NodeStatus) and
 * src/metrics/metrics-source.ts (RecentStats); the page cannot import those
 * TypeScript files because it is served as is, without a build step.
 */

/** @typedef {{ id: number, address: string }} MemberInfo */
/** @typedef {{ gid: number, members: MemberInfo[] }} GroupInfo */

/**
 * One config version: `buckets[i]` is the gid owning bucket i (0: none).
 * @typedef {{ version: number, buckets: number[], groups: GroupInfo[] }} ShardConfig
 */

/** @typedef {'follower' | 'preCandidate' | 'candidate' | 'leader'} Role */
/** @typedef {{ bucket: number, state: string }} BucketInTransit */

/**
 * @typedef {object} NodeStatus
 * @property {number} id
 * @property {number | null} gid
 * @property {Role} role
 * @property {number} term
 * @property {number | null} leaderId
 * @property {number} commitIndex
 * @property {number} appliedIndex
 * @property {number} lastIndex
 * @property {number} snapshotIndex
 * @property {number} snapshotTerm
 * @property {number} logBytes
 * @property {number | null} configVersion
 * @property {BucketInTransit[]} bucketsInTransit
 * @property {number} uptimeSeconds
 */

/**
 * A member as the node serving the page sees it: its status, or why it could not be asked.
 * @typedef {{ id: number, address: string, status: NodeStatus | null, error: string | null }} MemberView
 */

/** gid 0 is the meta group. @typedef {{ gid: number, name: string, members: MemberView[] }} GroupView */

/** A bucket on its way to group `gid`. @typedef {{ bucket: number, gid: number, state: string }} BucketMove */

/** GET /v1/cluster. @typedef {{ config: ShardConfig, groups: GroupView[], moves: BucketMove[] }} ClusterView */

/** @typedef {{ count: number, errors: number, perSecond: number, p50Ms: number, p99Ms: number }} OperationStats */

/** GET /v1/stats: requests this node served recently. @typedef {{ windowSeconds: number, operations: Record<string, OperationStats> }} RecentStats */

/** The body of a refused request. @typedef {{ error: { code: string, message: string } }} ApiError */

export {};
