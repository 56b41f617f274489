import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../api/appRouter';

/** What the API returns, inferred from the router's type: the CLI takes nothing else from the daemon. */
type Outputs = inferRouterOutputs<AppRouter>;
type Yielded<S> = S extends AsyncIterable<infer T> ? T : never;

export type WorkspaceView = Outputs['workspaces']['get'];
export type WorkspaceBuild = Outputs['workspaces']['builds'][number];
/** A line of a build's log, then one final marker with the build's outcome. */
export type BuildLogEvent = Yielded<Outputs['workspaces']['logs']>;
export type AgentLogEvent = Yielded<Outputs['workspaces']['agentLogs']>;
export type TemplateSummary = Outputs['templates']['list'][number];
export type TemplateVersion = Outputs['templates']['versions'][number];
export type ProvisionerKey = Outputs['provisionerKeys']['list'][number];
export type AcquiredJob = NonNullable<Outputs['provisionerd']['acquire']>;
