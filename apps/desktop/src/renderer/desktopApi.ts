import type { TRPCClient } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { createContext, useContext } from 'react';
import type { DesktopRouter } from '../main/ipc/desktopRouter';

export type DesktopClient = TRPCClient<DesktopRouter>;
export type DesktopOutputs = inferRouterOutputs<DesktopRouter>;
export type DeploymentView = DesktopOutputs['deployments']['list'][number];
export type TunnelView = DesktopOutputs['tunnels']['status'][number];
export type WireguardSettingView = DesktopOutputs['tunnels']['wireguard'];

/** The main process's own API (deployments, tunnels), over the same port as the daemon's. */
const DesktopApiContext = createContext<DesktopClient | undefined>(undefined);
export const DesktopApiProvider = DesktopApiContext.Provider;

export function useDesktopApi(): DesktopClient {
  const api = useContext(DesktopApiContext);
  if (!api) throw new Error('useDesktopApi() needs a DesktopApiProvider above it.');
  return api;
}
