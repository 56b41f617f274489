import { type DockerResources, WarrenError } from '@warren/core';
import Dockerode from 'dockerode';
import type { BuildLog, DockerProvisionRequest, Provisioner, ProvisionerState } from '../Provisioner';
import { INIT_STARTED_LINE } from './agentInitScript';
import {
  containerSpec,
  type VolumeSpec,
  volumeSpecs,
  WARREN_LABELS,
  type Workspace,
  workspaceLabels,
} from './containerSpec';
import { DockerEngine, statusOf } from './DockerEngine';

/** How long start waits for the init script's first line before trusting it is on its way. */
const INIT_CONFIRM_MS = 10_000;

export interface DockerProvisionerOptions {
  /** DOCKER_HOST-style address; default DOCKER_HOST, else unix:///var/run/docker.sock. */
  host?: string;
  /** Seconds the agent gets to run its shutdown script before the container is killed. */
  stopTimeoutSeconds?: number;
}

/** What a build leaves for the next one; stored with the build. */
export interface DockerState extends ProvisionerState {
  containerId: string | null;
  containerName: string | null;
  volumes: string[];
}

/**
 * Workspaces as Docker containers: one container per workspace whose entrypoint downloads the
 * agent from the daemon and runs it, and named volumes (home plus the template's) that outlive
 * the container. Stop removes the container and keeps the volumes; delete removes both.
 */
export class DockerProvisioner implements Provisioner<DockerResources> {
  readonly type = 'docker' as const;
  readonly #engine: DockerEngine;
  readonly #stopTimeoutSeconds: number;

  constructor(dockerOrOptions: Dockerode | DockerProvisionerOptions = {}) {
    const options = dockerOrOptions instanceof Dockerode ? {} : dockerOrOptions;
    this.#engine = new DockerEngine(dockerOrOptions instanceof Dockerode ? dockerOrOptions : options.host);
    this.#stopTimeoutSeconds = options.stopTimeoutSeconds ?? 10;
  }

  async apply(request: DockerProvisionRequest, log: BuildLog, signal: AbortSignal): Promise<DockerState> {
    switch (request.transition) {
      case 'start':
        return this.#start(request, log, signal);
      case 'stop':
        return this.#stop(request, log);
      case 'delete':
        return this.#delete(request, log);
    }
  }

  async #start(request: DockerProvisionRequest, log: BuildLog, signal: AbortSignal): Promise<DockerState> {
    const { workspace, resources } = request;
    const volumes = volumeSpecs(workspace.id, resources);
    const container = containerSpec(request, volumes, log);
    await this.#connect(log);
    throwIfCanceled(signal);
    await this.#checkImage(resources.image, log);
    throwIfCanceled(signal);
    await this.#removeContainers(workspace, log, 'Replacing');
    throwIfCanceled(signal);

    // What this build made, undone if it fails, so a failed start leaves nothing half-made behind.
    const made: { containerId?: string; volumes: string[] } = { volumes: [] };
    try {
      for (const volume of volumes) {
        if (await this.#ensureVolume(request, volume, log)) made.volumes.push(volume.name);
      }
      throwIfCanceled(signal);
      const created = await this.#engine.call('create the container', () =>
        this.#engine.api.createContainer(container),
      );
      made.containerId = created.id;
      log(`Created container ${container.name} (${created.id.slice(0, 12)}).`);
      throwIfCanceled(signal);
      const startedAt = Date.now();
      await this.#engine.call('start the container', () => created.start());
      await this.#confirmInitRuns(created, container.name, resources.image, log);
      log(
        `Started container ${container.name} in ${Date.now() - startedAt} ms; it is downloading the agent from ${request.agent.binaryUrl}.`,
      );
      return { containerId: created.id, containerName: container.name, volumes: volumes.map((v) => v.name) };
    } catch (error) {
      await this.#undo(made, log);
      throw startFailure(error, container.name, resources.image, this.#engine);
    }
  }

  /**
   * Waits for the init script's first line, which shows that sh and node exist. Docker's start
   * succeeds even when they do not (the init process execs the script after), so a broken image
   * would otherwise pass as a started workspace whose agent never calls.
   */
  async #confirmInitRuns(container: Dockerode.Container, name: string, image: string, log: BuildLog) {
    const deadline = Date.now() + INIT_CONFIRM_MS;
    for (;;) {
      const info = await this.#engine.call('inspect the container', () => container.inspect());
      const output = await this.#engine.tail(container);
      if (output.includes(INIT_STARTED_LINE)) return;
      const { State: state } = info;
      if (!state.Running || state.Restarting || info.RestartCount > 0) {
        const last = output.trim().split('\n').at(-1)?.trim();
        const hint = state.OOMKilled
          ? ' It ran out of memory; raise memoryMiB.'
          : // 127 from sh when node is missing; tini's own message when sh is (its exit code varies).
            state.ExitCode === 127 || /exec sh failed|not found/.test(output)
            ? ` The image ${image} needs sh and node on its PATH for Warren's init script.`
            : '';
        throw new WarrenError(
          'INVALID_INPUT',
          `The container ${name} exited with code ${state.ExitCode} before the agent download began${last ? ` ("${last}")` : ''}.${hint}`,
        );
      }
      if (Date.now() > deadline) {
        log(`The container has written nothing after ${INIT_CONFIRM_MS / 1000} seconds; continuing.`, 'warn');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #stop(request: DockerProvisionRequest, log: BuildLog): Promise<DockerState> {
    await this.#connect(log);
    const removed = await this.#removeContainers(request.workspace, log, 'Stopping');
    if (removed === 0) log('No container exists for this workspace; there is nothing to stop.');
    const volumes = volumeSpecs(request.workspace.id, request.resources).map((v) => v.name);
    log(
      `Kept ${volumes.length === 1 ? 'the volume' : 'the volumes'} ${volumes.join(', ')} for the next start.`,
    );
    return { containerId: null, containerName: null, volumes };
  }

  async #delete(request: DockerProvisionRequest, log: BuildLog): Promise<DockerState> {
    const gone: DockerState = { containerId: null, containerName: null, volumes: [] };
    // An orphan delete forgets what cannot be removed: each failure becomes a warning.
    const attempt = async (step: () => Promise<unknown>): Promise<boolean> => {
      try {
        await step();
        return true;
      } catch (error) {
        const failure = this.#engine.failure(error, 'delete the workspace');
        if (!request.orphan) throw failure;
        log(
          `${failure.message} The workspace is deleted anyway, so this may be left on the Docker host.`,
          'warn',
        );
        return false;
      }
    };
    if (!(await attempt(() => this.#connect(log)))) return gone;
    await attempt(() => this.#removeContainers(request.workspace, log, 'Removing'));
    const names = new Set(volumeSpecs(request.workspace.id, request.resources).map((v) => v.name));
    for (const name of stringList(request.previousState?.volumes)) names.add(name);
    await attempt(async () => {
      const listed = await this.#engine.call('list volumes', () =>
        this.#engine.api.listVolumes({
          filters: { label: [`${WARREN_LABELS.workspaceId}=${request.workspace.id}`] },
        }),
      );
      for (const volume of listed.Volumes ?? []) names.add(volume.Name);
    });
    for (const name of names) {
      await attempt(async () => {
        if (await this.#removeVolume(name)) log(`Removed volume ${name}.`);
      });
    }
    return gone;
  }

  async #connect(log: BuildLog): Promise<void> {
    const version = await this.#engine.version();
    log(`Connected to Docker Engine ${version} at ${this.#engine.address}.`);
  }

  async #checkImage(image: string, log: BuildLog): Promise<void> {
    try {
      const info = await this.#engine.api.getImage(image).inspect();
      log(`Using image ${image} (${info.Id.slice(0, 19)}, ${Math.round(info.Size / 1_048_576)} MiB).`);
    } catch (error) {
      if (statusOf(error) === 404) throw missingImage(image);
      throw this.#engine.failure(error, `look up the image ${image}`);
    }
  }

  async #ensureVolume(request: DockerProvisionRequest, volume: VolumeSpec, log: BuildLog): Promise<boolean> {
    const { api } = this.#engine;
    try {
      const info = await api.getVolume(volume.name).inspect();
      const owner = info.Labels?.[WARREN_LABELS.workspaceId];
      if (owner !== undefined && owner !== request.workspace.id) {
        throw new WarrenError(
          'CONFLICT',
          `The volume ${volume.name} on the Docker host belongs to another workspace.`,
        );
      }
      log(`Reusing volume ${volume.name} for ${volume.path}.`);
      return false;
    } catch (error) {
      if (statusOf(error) !== 404) throw this.#engine.failure(error, `inspect the volume ${volume.name}`);
    }
    await this.#engine.call(`create the volume ${volume.name}`, () =>
      api.createVolume({
        Name: volume.name,
        Labels: { ...workspaceLabels(request), [WARREN_LABELS.volume]: volume.role },
      }),
    );
    log(`Created volume ${volume.name} for ${volume.path}.`);
    return true;
  }

  /** Stops (letting the agent shut down) and removes every container of the workspace. */
  async #removeContainers(workspace: Workspace, log: BuildLog, verb: 'Replacing' | 'Stopping' | 'Removing') {
    const containers = await this.#engine.call('list containers', () =>
      this.#engine.api.listContainers({
        all: true,
        filters: { label: [`${WARREN_LABELS.workspaceId}=${workspace.id}`] },
      }),
    );
    for (const info of containers) {
      const name = info.Names[0]?.replace(/^\//, '') ?? info.Id.slice(0, 12);
      log(`${verb} container ${name} (${info.State}).`);
      await this.#removeContainer(info.Id, info.State === 'running');
      log(`Removed container ${name}.`);
    }
    return containers.length;
  }

  async #removeContainer(id: string, graceful: boolean): Promise<void> {
    const container = this.#engine.api.getContainer(id);
    if (graceful) {
      try {
        await container.stop({ t: this.#stopTimeoutSeconds });
      } catch (error) {
        // 304: already stopped; 404: already gone. Both are what stop wanted.
        const status = statusOf(error);
        if (status !== 304 && status !== 404) throw this.#engine.failure(error, 'stop the container');
      }
    }
    try {
      // v: anonymous volumes from the image's VOLUME lines go with it; named volumes never do.
      await container.remove({ force: true, v: true });
    } catch (error) {
      if (statusOf(error) !== 404) throw this.#engine.failure(error, 'remove the container');
    }
  }

  async #removeVolume(name: string): Promise<boolean> {
    try {
      await this.#engine.api.getVolume(name).remove();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw this.#engine.failure(error, `remove the volume ${name}`);
    }
  }

  async #undo(made: { containerId?: string; volumes: string[] }, log: BuildLog): Promise<void> {
    const steps: [string, () => Promise<unknown>][] = [];
    if (made.containerId)
      steps.push(['the container', () => this.#removeContainer(made.containerId ?? '', false)]);
    for (const name of made.volumes) steps.push([`the volume ${name}`, () => this.#removeVolume(name)]);
    for (const [what, step] of steps) {
      try {
        await step();
        log(`Removed ${what}, which this failed build had created.`, 'warn');
      } catch (error) {
        log(
          `Could not remove ${what} after the failure: ${this.#engine.failure(error, 'clean up').message}`,
          'error',
        );
      }
    }
  }
}

function missingImage(image: string): WarrenError {
  return new WarrenError(
    'INVALID_INPUT',
    `The image ${image} is not on the Docker host; Warren does not pull images, so pull or build it there first (docker pull ${image}).`,
  );
}

/** Refusals at create and start that have a clearer sentence than Docker's. */
function startFailure(error: unknown, name: string, image: string, engine: DockerEngine): WarrenError {
  const status = statusOf(error instanceof WarrenError ? error.cause : error);
  if (status === 409) {
    return new WarrenError(
      'CONFLICT',
      `A container named ${name} already exists on the Docker host and is not this workspace's; remove or rename it.`,
    );
  }
  if (status === 404 && /image/i.test(String((error as Error).message))) return missingImage(image);
  return engine.failure(error, 'start the workspace');
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function throwIfCanceled(signal: AbortSignal): void {
  if (signal.aborted)
    throw new WarrenError('CONFLICT', 'The build was canceled before the workspace started.');
}
