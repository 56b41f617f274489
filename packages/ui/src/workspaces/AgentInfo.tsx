import type { TemplateManifest } from '@warren/core';
import { useEffect } from 'react';
import { useQuery } from '../api/hooks';
import { Badge, DefinitionList, ErrorMessage, LoadingBlock, Section, StatusBadge } from '../design';
import type { Workspace } from './workspaceStore';

const REFRESH_MS = 5000;
const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/**
 * What the agent sees now: apps with their health, listening ports, metadata values and
 * resource use. The agent is asked on each load, so the section refreshes while it is open.
 */
export function AgentInfo({ workspace, manifest }: { workspace: Workspace; manifest: TemplateManifest }) {
  const ref = { owner: workspace.owner, name: workspace.name };
  const info = useQuery(`agentInfo:${workspace.id}`, (api) => api.workspaces.agentInfo.query(ref));
  const { reload } = info;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const data = info.data;
  const health = new Map(data?.apps.map((a) => [a.slug, a.health]) ?? []);
  const values = new Map(data?.metadata.map((m) => [m.key, m]) ?? []);

  return (
    <div className="grid-2">
      <Section title="Apps and ports">
        <ErrorMessage>{info.error}</ErrorMessage>
        {manifest.agent.apps.length === 0 ? <p className="muted">This template declares no apps.</p> : null}
        <ul>
          {manifest.agent.apps.map((app) => (
            <li key={app.slug}>
              {app.displayName ?? app.slug}: {app.port ? `port ${app.port}` : app.url}{' '}
              <StatusBadge status={health.get(app.slug) ?? 'unknown'} />
            </li>
          ))}
        </ul>
        {!data ? (
          <LoadingBlock label="Asking the agent…" />
        ) : data.ports === null ? (
          <p className="muted">The agent is not connected, so its listening ports are not known.</p>
        ) : data.ports.length === 0 ? (
          <p className="muted">Nothing listens on a port in this workspace yet.</p>
        ) : (
          <p>
            Listening:{' '}
            {data.ports.map((p) => (
              <Badge key={`${p.address}:${p.port}`}>
                {p.port}
                {p.process ? ` ${p.process}` : ''}
              </Badge>
            ))}
          </p>
        )}
      </Section>
      <Section title="Metadata and resources">
        <DefinitionList
          items={[
            ...manifest.agent.metadata.map((m): [string, string] => {
              const value = values.get(m.key);
              return [m.displayName ?? m.key, value ? (value.error ?? value.value) : 'not reported yet'];
            }),
            ...(data?.stats
              ? ([
                  ['CPU', `${data.stats.cpuPercent.toFixed(0)}%`],
                  ['Memory', `${gib(data.stats.memoryUsedBytes)} of ${gib(data.stats.memoryTotalBytes)}`],
                  ['Disk', `${gib(data.stats.diskUsedBytes)} of ${gib(data.stats.diskTotalBytes)}`],
                  ['Open tunnels', String(data.openTunnels)],
                ] as [string, string][])
              : []),
          ]}
        />
      </Section>
    </div>
  );
}
