import { type DockerResources, WarrenError } from '@warren/core';
import type Dockerode from 'dockerode';
import type { BuildLog, DockerProvisionRequest } from '../Provisioner';
import { agentInitScript } from './agentInitScript';

/** Labels on every container and volume Warren makes, so they can be found without its database. */
export const WARREN_LABELS = {
  managed: 'dev.warren.managed',
  workspaceId: 'dev.warren.workspace-id',
  workspaceName: 'dev.warren.workspace-name',
  ownerId: 'dev.warren.owner-id',
  owner: 'dev.warren.owner',
  buildId: 'dev.warren.build-id',
  /** On volumes: `home` or the template's volume name. */
  volume: 'dev.warren.volume',
} as const;

export const HOME_PATH = '/home';

export interface VolumeSpec {
  name: string;
  path: string;
  role: string;
}

export type Workspace = DockerProvisionRequest['workspace'];

export function homeVolumeName(workspaceId: string): string {
  return `warren-${workspaceId}-home`;
}

/** `warren-<owner>-<workspace>`, with anything Docker rejects in a name replaced by "-". */
export function containerName(workspace: Workspace): string {
  return `warren-${workspace.ownerUsername}-${workspace.name}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** The create options for a workspace's container: image, agent environment, labels, limits, volumes. */
export function containerSpec(
  request: DockerProvisionRequest,
  volumes: VolumeSpec[],
  log: BuildLog,
): Dockerode.ContainerCreateOptions & { name: string } {
  const { workspace, resources, agent } = request;
  const name = containerName(workspace);
  const limits = resourceLimits(resources);
  if (resources.network !== 'host' && isLoopbackUrl(agent.daemonUrl)) {
    log(
      `The agent reaches the daemon at ${agent.daemonUrl}, which on the ${resources.network} network is the container itself; set the daemon's access URL to an address containers can reach.`,
      'warn',
    );
  }
  const env: Record<string, string> = {
    ...resources.env,
    // After the template's env: these are Warren's and a template may not replace them.
    WARREN_AGENT_URL: agent.daemonUrl,
    WARREN_AGENT_BINARY_URL: agent.binaryUrl,
    WARREN_AGENT_TOKEN: agent.token.reveal(),
    WARREN_WORKSPACE_ID: workspace.id,
    WARREN_WORKSPACE_NAME: workspace.name,
    WARREN_WORKSPACE_OWNER: workspace.ownerUsername,
  };
  return {
    name,
    Image: resources.image,
    // Docker rejects a hostname on the host network, where the container shares the host's.
    Hostname: resources.network === 'host' ? undefined : workspace.name,
    Entrypoint: ['sh', '-c', agentInitScript()],
    Cmd: [],
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...workspaceLabels(request), [WARREN_LABELS.buildId]: request.buildId },
    HostConfig: {
      ...limits,
      NetworkMode: resources.network,
      Mounts: volumes.map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.path })),
      // An init as PID 1 forwards stop's SIGTERM to the agent and reaps its terminals' children.
      Init: true,
      // Workspaces come back after the Docker host restarts; stop removes the container instead.
      RestartPolicy: { Name: 'unless-stopped' },
    },
  };
}

export function workspaceLabels({ workspace }: DockerProvisionRequest): Record<string, string> {
  return {
    [WARREN_LABELS.managed]: 'true',
    [WARREN_LABELS.workspaceId]: workspace.id,
    [WARREN_LABELS.workspaceName]: workspace.name,
    [WARREN_LABELS.ownerId]: workspace.ownerId,
    [WARREN_LABELS.owner]: workspace.ownerUsername,
  };
}

export function volumeSpecs(workspaceId: string, resources: DockerResources): VolumeSpec[] {
  const home: VolumeSpec = { name: homeVolumeName(workspaceId), path: HOME_PATH, role: 'home' };
  return [
    home,
    ...resources.volumes.map((v) => {
      if (v.name === 'home') {
        throw new WarrenError(
          'INVALID_INPUT',
          'The volume name "home" is reserved for /home; choose another name.',
        );
      }
      return { name: `warren-${workspaceId}-${v.name}`, path: v.path, role: v.name };
    }),
  ];
}

/** cpus and memoryMiB may arrive as substituted template strings; a blank one means no limit. */
function resourceLimits(resources: DockerResources): { NanoCpus?: number; Memory?: number } {
  const limits: { NanoCpus?: number; Memory?: number } = {};
  if (resources.cpus !== undefined && String(resources.cpus).trim() !== '') {
    const cpus = Number(resources.cpus);
    if (!Number.isFinite(cpus) || cpus <= 0) {
      throw new WarrenError(
        'INVALID_INPUT',
        `The CPU limit "${resources.cpus}" is not a positive number of cores.`,
      );
    }
    limits.NanoCpus = Math.round(cpus * 1e9);
  }
  if (resources.memoryMiB !== undefined && String(resources.memoryMiB).trim() !== '') {
    const mib = Number(resources.memoryMiB);
    if (!Number.isInteger(mib) || mib < 16) {
      throw new WarrenError(
        'INVALID_INPUT',
        `The memory limit "${resources.memoryMiB}" is not a whole number of MiB of at least 16.`,
      );
    }
    limits.Memory = mib * 1_048_576;
  }
  return limits;
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}
