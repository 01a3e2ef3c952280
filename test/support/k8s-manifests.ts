/**
 * The Kubernetes manifests under deploy/, read as plain data: the few fields
 * the deploy tests look at, typed, and the label matching Kubernetes does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Labels = Readonly<Record<string, string>>;

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
}

export interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: string | number };
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly ports?: readonly ContainerPort[];
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly resources?: { readonly requests?: Labels; readonly limits?: Labels };
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
}

export interface PodTemplate {
  readonly metadata: { readonly labels: Labels };
  readonly spec: { readonly containers: readonly Container[] };
}

export interface Manifest {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Labels };
}

export interface StatefulSet extends Manifest {
  readonly spec: {
    readonly serviceName: string;
    readonly replicas: number;
    readonly podManagementPolicy?: string;
    readonly selector: { readonly matchLabels: Labels };
    readonly template: PodTemplate;
    readonly volumeClaimTemplates?: readonly { readonly metadata: { readonly name: string } }[];
  };
}

export interface Service extends Manifest {
  readonly spec: {
    readonly clusterIP?: string;
    readonly publishNotReadyAddresses?: boolean;
    readonly selector: Labels;
    readonly ports: readonly { readonly name: string; readonly port: number; readonly targetPort: string | number }[];
  };
}

export interface Job extends Manifest {
  readonly spec: { readonly template: PodTemplate };
}

export interface PodDisruptionBudget extends Manifest {
  readonly spec: { readonly selector: { readonly matchLabels: Labels } };
}

export interface Kustomization {
  readonly resources: readonly string[];
  readonly images?: readonly { readonly name: string }[];
}

export const DEPLOY_DIR = path.resolve(import.meta.dirname, '../../deploy');

export function yamlFiles(): string[] {
  return readdirSync(DEPLOY_DIR)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort();
}

/** Every document of one file; throws with the file name and the parser's message on bad YAML. */
export function readDocuments(file: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(path.join(DEPLOY_DIR, file), 'utf8'));
  if (!Array.isArray(documents)) throw new Error(`${file}: not a YAML stream`);
  return documents.map((document, index) => {
    const problem = document.errors[0];
    if (problem !== undefined) throw new Error(`${file}, document ${index + 1}: ${problem.message}`);
    return document.toJS() as unknown;
  });
}

/** The Kubernetes objects of deploy/ (every file except kustomization.yaml), each with its file name. */
export function readManifests(): Manifest[] {
  return yamlFiles()
    .filter((file) => file !== 'kustomization.yaml')
    .flatMap((file) => readDocuments(file).map((document) => ({ ...(document as Omit<Manifest, 'file'>), file })));
}

export function readKustomization(): Kustomization {
  return readDocuments('kustomization.yaml')[0] as Kustomization;
}

export function ofKind<T extends Manifest>(manifests: readonly Manifest[], kind: string): T[] {
  return manifests.filter((manifest) => manifest.kind === kind) as T[];
}

/** True when every label the selector asks for is on the pod: how Services, StatefulSets and PDBs select. */
export function selects(selector: Labels, podLabels: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => podLabels[key] === value);
}

export function onlyContainer(template: PodTemplate, owner: string): Container {
  const [container, ...more] = template.spec.containers;
  if (container === undefined || more.length > 0) throw new Error(`${owner}: expected exactly one container`);
  return container;
}
