import type { DockerResources, LocalResources, Secret } from '@warren/core';

export type Transition = 'start' | 'stop' | 'delete';

/** One build's instructions for a provisioner. Template strings are already substituted. */
export interface ProvisionRequest<R> {
  workspace: { id: string; name: string; ownerUsername: string; ownerId: string };
  buildId: string;
  transition: Transition;
  resources: R;
  /** How the agent reaches the daemon; the token is this build's agent token. */
  agent: { token: Secret; daemonUrl: string; binaryUrl: string };
  /** What the previous build left (container id, volume names, process id...), or null. */
  previousState: ProvisionerState | null;
  /** Delete only: forget resources that cannot be removed instead of failing. */
  orphan: boolean;
}

/** JSON-serialisable record of what exists for a workspace, stored with its build. */
export type ProvisionerState = Record<string, unknown>;

/** Build log sink: lines are persisted in order and streamed to watchers. */
export type BuildLog = (line: string, level?: 'info' | 'warn' | 'error') => void;

export interface Provisioner<R> {
  readonly type: 'local' | 'docker';
  /**
   * Makes the workspace match the transition. Idempotent: a start after a crash mid-start, or
   * a stop of a workspace already gone, succeeds. Throws a WarrenError with a sentence on failure
   * and leaves nothing half-made registered. Honors `signal` (cancellation) between steps.
   */
  apply(request: ProvisionRequest<R>, log: BuildLog, signal: AbortSignal): Promise<ProvisionerState>;
}

export type DockerProvisionRequest = ProvisionRequest<DockerResources>;
export type LocalProvisionRequest = ProvisionRequest<LocalResources>;
