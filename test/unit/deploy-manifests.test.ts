/**
 * The Dockerfile and the Kubernetes manifests under deploy/ cannot be run
 * here (no Docker, no cluster), so this checks what would break them: YAML
 * that does not parse, services that do not select their pods, probes on
 * ports that do not exist, member lists that disagree, and above all flags
 * that the raftkv subcommand does not have. Each container's shell wrapper is
 * really run, with a stand-in `node` that reports the arguments it was given.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HostPort } from '../../src/cli/options.js';
import { membersOption } from '../../src/cli/options.js';
import { buildProgram } from '../../src/cli/program.js';
import type { Invocation } from '../support/cli-invocation.js';
import { readInvocation } from '../support/cli-invocation.js';
import { FakeNode } from '../support/container-command.js';
import type { Job, Manifest, PodDisruptionBudget, Service, StatefulSet } from '../support/k8s-manifests.js';
import {
  DEPLOY_DIR,
  ofKind,
  onlyContainer,
  readDocuments,
  readKustomization,
  readManifests,
  selects,
  yamlFiles,
} from '../support/k8s-manifests.js';

const ROOT = path.resolve(DEPLOY_DIR, '..');
/** Any namespace will do: the manifests name none, and pods read theirs from the downward API. */
const NAMESPACE = 'raftkv-test';
const SCRIPT = 'bin/raftkv.js';

const program = buildProgram();
const manifests = readManifests();
const statefulSets = ofKind<StatefulSet>(manifests, 'StatefulSet');
const services = ofKind<Service>(manifests, 'Service');
const jobs = ofKind<Job>(manifests, 'Job');

/** One pod of a StatefulSet and the raftkv command line its container runs. */
interface Pod {
  readonly set: StatefulSet;
  readonly name: string;
  readonly dnsName: string;
  readonly argv: readonly string[];
  readonly invocation: Invocation;
}

let fakeNode: FakeNode;
before(() => {
  fakeNode = new FakeNode();
});
after(() => fakeNode.remove());

function podsOf(set: StatefulSet): Pod[] {
  const container = onlyContainer(set.spec.template, set.metadata.name);
  return Array.from({ length: set.spec.replicas }, (_, ordinal) => {
    const name = `${set.metadata.name}-${ordinal}`;
    const argv = fakeNode.argumentsOf(container, { POD_NAME: name, POD_NAMESPACE: NAMESPACE });
    const dnsName = `${name}.${set.spec.serviceName}.${NAMESPACE}.svc.cluster.local`;
    return { set, name, dnsName, argv, invocation: readInvocation(program, argv.slice(1)) };
  });
}

function jobArgv(job: Job): string[] {
  return fakeNode.argumentsOf(onlyContainer(job.spec.template, job.metadata.name), { POD_NAMESPACE: NAMESPACE });
}

function flag(invocation: Invocation, name: string): string {
  const value = invocation.flags.get(name);
  assert.equal(typeof value, 'string', `raftkv ${invocation.path.join(' ')} is not given ${name}`);
  return value as string;
}

/** A member list, parsed by the CLI's own parser, as sorted `id=host:port` entries for comparing. */
function memberList(what: string, text: string): string[] {
  return [...membersOption(what)(text)].map(([id, address]) => `${id}=${address.host}:${address.port}`).sort();
}

function members(invocation: Invocation, name: string): Map<number, HostPort> {
  return membersOption(name)(flag(invocation, name));
}

/** The number of a StatefulSet's container port, by name. */
function portOf(set: StatefulSet, name: string): number {
  const port = onlyContainer(set.spec.template, set.metadata.name).ports?.find((candidate) => candidate.name === name);
  assert.ok(port !== undefined, `${set.metadata.name}: its container has no port named ${name}`);
  return port.containerPort;
}

function serversRunning(subcommand: string): Pod[][] {
  return statefulSets.map(podsOf).filter((pods) => pods[0]?.invocation.path[0] === subcommand);
}

describe('deploy/ manifests', () => {
  it('every file parses as YAML, names no namespace, and kustomization.yaml lists exactly the others', () => {
    const files = yamlFiles();
    for (const file of files) assert.ok(readDocuments(file).length > 0, `${file} holds no document`);
    for (const manifest of manifests) {
      assert.ok(manifest.apiVersion && manifest.metadata.name, `${manifest.file}: a document lacks apiVersion or name`);
      assert.equal(
        manifest.metadata.namespace,
        undefined,
        `${manifest.file}: ${manifest.metadata.name} names a namespace`,
      );
    }
    const listed = [...readKustomization().resources].sort();
    assert.deepEqual(
      listed,
      files.filter((file) => file !== 'kustomization.yaml'),
      'kustomization.yaml must list every other file of deploy/, and only those',
    );
  });

  it('holds the meta group, two shard groups, their services, the client service, budgets and the join job', () => {
    const kinds = manifests.map((manifest: Manifest) => `${manifest.kind}/${manifest.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'Job/raftkv-join',
      'PodDisruptionBudget/raftkv-group-1',
      'PodDisruptionBudget/raftkv-group-2',
      'PodDisruptionBudget/raftkv-meta',
      'Service/raftkv',
      'Service/raftkv-group-1',
      'Service/raftkv-group-2',
      'Service/raftkv-meta',
      'StatefulSet/raftkv-group-1',
      'StatefulSet/raftkv-group-2',
      'StatefulSet/raftkv-meta',
    ]);
    for (const set of statefulSets) {
      assert.equal(set.spec.replicas, 3, `${set.metadata.name}: replicas`);
      assert.equal(set.spec.podManagementPolicy, 'Parallel', `${set.metadata.name}: a majority must start together`);
    }
  });

  it("every StatefulSet's serviceName is a headless Service that publishes not-ready peers and selects only its pods", () => {
    for (const set of statefulSets) {
      const podLabels = set.spec.template.metadata.labels;
      assert.ok(selects(set.spec.selector.matchLabels, podLabels), `${set.metadata.name}: selector misses its pods`);
      const service = services.find((candidate) => candidate.metadata.name === set.spec.serviceName);
      assert.ok(service !== undefined, `${set.metadata.name}: no Service named ${set.spec.serviceName}`);
      assert.equal(service.spec.clusterIP, 'None', `${service.metadata.name} must be headless`);
      assert.equal(service.spec.publishNotReadyAddresses, true, `${service.metadata.name}: peers resolve before ready`);
      const selected = statefulSets.filter((other) =>
        selects(service.spec.selector, other.spec.template.metadata.labels),
      );
      assert.deepEqual(
        selected.map((other) => other.metadata.name),
        [set.metadata.name],
      );
    }
  });

  it('every Service and PodDisruptionBudget selects pods, and every Service port targets a port those pods have', () => {
    for (const service of services) {
      const selected = statefulSets.filter((set) => selects(service.spec.selector, set.spec.template.metadata.labels));
      assert.ok(selected.length > 0, `Service ${service.metadata.name} selects no pods`);
      for (const set of selected) {
        for (const port of service.spec.ports) {
          const target = typeof port.targetPort === 'string' ? portOf(set, port.targetPort) : port.targetPort;
          assert.equal(target, port.port, `Service ${service.metadata.name} port ${port.name} on ${set.metadata.name}`);
        }
      }
    }
    const budgets = ofKind<PodDisruptionBudget>(manifests, 'PodDisruptionBudget');
    for (const set of statefulSets) {
      const covering = budgets.filter((budget) =>
        selects(budget.spec.selector.matchLabels, set.spec.template.metadata.labels),
      );
      assert.equal(covering.length, 1, `${set.metadata.name}: one PodDisruptionBudget should cover the group`);
    }
  });

  it('probes ask /v1/health on a named container port, and every container has resource requests and limits', () => {
    for (const set of statefulSets) {
      const container = onlyContainer(set.spec.template, set.metadata.name);
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        assert.equal(probe?.httpGet?.path, '/v1/health', `${set.metadata.name}: probe path`);
        const port = probe.httpGet.port;
        assert.ok(typeof port === 'string', `${set.metadata.name}: probes name their port`);
        assert.equal(portOf(set, port), portOf(set, 'http'), `${set.metadata.name}: probes ask the HTTP port`);
      }
    }
    const templates = [...statefulSets, ...jobs].map((owner) =>
      onlyContainer(owner.spec.template, owner.metadata.name),
    );
    for (const container of templates) {
      assert.ok(container.resources?.requests?.memory && container.resources.limits?.memory, container.name);
      assert.ok(container.resources.requests.cpu && container.resources.limits.cpu, container.name);
    }
  });

  it('volume mounts are the claim templates, and --dir is the mounted data volume', () => {
    for (const pods of statefulSets.map(podsOf)) {
      const set = pods[0]!.set;
      const claims = (set.spec.volumeClaimTemplates ?? []).map((claim) => claim.metadata.name);
      const mounts = onlyContainer(set.spec.template, set.metadata.name).volumeMounts ?? [];
      assert.deepEqual(
        mounts.map((mount) => mount.name),
        claims,
        `${set.metadata.name}: mounts vs claims`,
      );
      for (const pod of pods) {
        assert.ok(
          mounts.some((mount) => mount.mountPath === flag(pod.invocation, '--dir')),
          `${pod.name}: --dir is not on a volume`,
        );
      }
    }
  });

  it('every --flag in a container command is a flag of that raftkv subcommand, and no required one is missing', () => {
    const invocations = [
      ...statefulSets.flatMap((set) => podsOf(set).map((pod) => ({ file: set.file, argv: pod.argv }))),
      ...jobs.map((job) => ({ file: job.file, argv: jobArgv(job) })),
    ];
    const unknown = new Map<string, Set<string>>();
    for (const { file, argv } of invocations) {
      assert.equal(argv[0], SCRIPT, `${file}: the container must run node ${SCRIPT}`);
      const invocation = readInvocation(program, argv.slice(1));
      assert.deepEqual(invocation.missingFlags, [], `${file}: required flags left out`);
      for (const name of invocation.unknownFlags) unknown.set(name, (unknown.get(name) ?? new Set()).add(file));
    }
    if (unknown.size > 0) {
      const list = [...unknown].map(([name, files]) => `raftkv ${name} (${[...files].join(', ')})`).join('; ');
      assert.fail(`deploy/ uses flags that raftkv does not have: ${list}`);
    }
  });

  it("each pod runs as the member its own DNS name is in --members, and every member's id is unique", () => {
    const allIds: number[] = [];
    for (const pods of statefulSets.map(podsOf)) {
      const set = pods[0]!.set;
      const list = flag(pods[0]!.invocation, '--members');
      const expected = pods.map((pod) => `${pod.dnsName}:${portOf(set, 'peer')}`);
      const named = [...members(pods[0]!.invocation, '--members').values()].map((at) => `${at.host}:${at.port}`);
      assert.deepEqual(named.sort(), expected.sort(), `${set.metadata.name}: --members names each replica once`);
      for (const pod of pods) {
        assert.equal(flag(pod.invocation, '--members'), list, `${pod.name}: --members differs between replicas`);
        const id = Number(flag(pod.invocation, '--id'));
        assert.equal(members(pod.invocation, '--members').get(id)?.host, pod.dnsName, `${pod.name}: --id ${id}`);
        allIds.push(id);
      }
    }
    assert.deepEqual([...new Set(allIds)], allIds, `member ids repeat: ${allIds.join(',')}`);
    assert.equal(allIds.length, 9);
  });

  it('shard members name the meta group as the meta StatefulSet runs it, and serve RESP and HTTP on their ports', () => {
    const [metaPods, ...more] = serversRunning('meta');
    assert.ok(metaPods !== undefined && more.length === 0, 'one meta StatefulSet');
    const metaList = memberList('--members', flag(metaPods[0]!.invocation, '--members'));
    const shardGroups = serversRunning('shard');
    assert.equal(shardGroups.length, 2);
    const gids = shardGroups.map((pods) => Number(flag(pods[0]!.invocation, '--gid')));
    assert.deepEqual([...new Set(gids)], gids, 'every shard group has its own --gid');
    for (const pods of shardGroups) {
      for (const pod of pods) assert.equal(Number(flag(pod.invocation, '--gid')), gids[shardGroups.indexOf(pods)]);
    }
    for (const pod of [...metaPods, ...shardGroups.flat()]) {
      assert.equal(flag(pod.invocation, '--http'), `0.0.0.0:${portOf(pod.set, 'http')}`, `${pod.name}: --http`);
      if (pod.invocation.path[0] !== 'shard') continue;
      assert.deepEqual(memberList('--meta', flag(pod.invocation, '--meta')), metaList, `${pod.name}: --meta`);
      assert.equal(flag(pod.invocation, '--resp'), `0.0.0.0:${portOf(pod.set, 'resp')}`, `${pod.name}: --resp`);
    }
  });

  it('the join job joins every shard group with the members its StatefulSet runs, through the meta members', () => {
    const [job] = jobs;
    assert.ok(job !== undefined);
    const invocation = readInvocation(program, jobArgv(job).slice(1));
    assert.deepEqual(invocation.path, ['admin', 'join']);
    const metaPods = serversRunning('meta')[0]!;
    assert.deepEqual(
      memberList('--meta', flag(invocation, '--meta')),
      memberList('--members', flag(metaPods[0]!.invocation, '--members')),
      `${job.file}: admin --meta is not the meta group's --members`,
    );
    const joined = new Map<number, string[]>();
    for (let index = 0; index < invocation.positionals.length; index += 2) {
      const gid = Number(invocation.positionals[index]);
      joined.set(gid, memberList(`group ${gid}`, invocation.positionals[index + 1] ?? ''));
    }
    const running = new Map(
      serversRunning('shard').map((pods) => [
        Number(flag(pods[0]!.invocation, '--gid')),
        memberList('--members', flag(pods[0]!.invocation, '--members')),
      ]),
    );
    assert.deepEqual(joined, running, `${job.file}: the groups it joins are not the shard groups that run`);
  });
});

describe('Dockerfile', () => {
  const instructions = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.trim().split(/\s+/);
      return { keyword: keyword.toUpperCase(), rest };
    });

  it('runs node bin/raftkv.js from the sources it copies in, which .dockerignore lets through', () => {
    const entrypoints = instructions.filter((instruction) => instruction.keyword === 'ENTRYPOINT');
    assert.equal(entrypoints.length, 1);
    assert.deepEqual(JSON.parse(entrypoints[0]!.rest.join(' ')), ['node', SCRIPT]);
    const kept = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).trim());
    const copied = instructions
      .filter((instruction) => instruction.keyword === 'COPY')
      .flatMap((copy) => copy.rest.slice(0, -1));
    assert.ok(copied.includes('bin') && copied.includes('src'), 'the image needs bin/ and src/');
    for (const source of copied) {
      assert.ok(existsSync(path.join(ROOT, source)), `COPY ${source}: no such file`);
      assert.ok(kept.includes(source), `COPY ${source}: .dockerignore leaves it out of the build context`);
    }
  });

  it('EXPOSEs exactly the container ports the manifests use', () => {
    const exposed = instructions
      .filter((instruction) => instruction.keyword === 'EXPOSE')
      .flatMap((expose) => expose.rest.map(Number))
      .sort();
    const used = statefulSets.flatMap((set) =>
      (onlyContainer(set.spec.template, set.metadata.name).ports ?? []).map((port) => port.containerPort),
    );
    assert.deepEqual(exposed, [...new Set(used)].sort());
  });
});
