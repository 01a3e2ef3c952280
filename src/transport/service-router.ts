/**
 * One port, several services: a node hands each request to the service it
 * names (its KV group, the meta group, bucket transfers between shard groups)
 * and answers a service it does not run with 'unsupported', saying what it
 * serves and where to go instead, so a client pointed at the wrong node learns
 * why at once rather than after a deadline of retries.
 */
import type { GroupService, ServiceName, ServiceResult } from './service-protocol.js';
import { SERVICE_NAMES, unsupported } from './service-protocol.js';

/** Where a request for each service belongs, for the message of a node that does not serve it. */
const WHERE_TO_GO: Record<ServiceName, string> = {
  kv: 'point the client at a member of the group that holds the keys',
  meta: 'point the admin client at a meta node',
  shard: 'bucket transfers go to the members of a shard group',
  status: 'every raftkv node answers status; this one was started without it',
  members: 'every raftkv group member answers membership changes; this one was started without it',
};

/** Throws when `services` is empty: a node that serves nothing is a wiring bug. */
export function routeServices(services: Partial<Record<ServiceName, GroupService>>): GroupService {
  const served = SERVICE_NAMES.filter((name) => services[name] !== undefined);
  if (served.length === 0) throw new Error('routeServices: a node serves at least one service');
  return {
    handle: (request) => {
      const service = services[request.service];
      return service === undefined ? Promise.resolve(notServed(request.service, served)) : service.handle(request);
    },
  };
}

/** The answer to a request for `asked` at a node that serves only `served`. */
export function notServed(asked: ServiceName, served: readonly ServiceName[]): ServiceResult {
  return unsupported(`this node serves ${listed(served)}, not ${asked}: ${WHERE_TO_GO[asked]}`);
}

function listed(names: readonly ServiceName[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
