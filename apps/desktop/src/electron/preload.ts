/**
 * The preload: opens a MessageChannel, gives one end to the main process (which serves tRPC on
 * it) and the other to the page, which builds its tRPC client over it (src/renderer/ipcLink.ts).
 * Nothing else is exposed: no Node, no ipcRenderer, no token.
 */
import { ipcRenderer } from 'electron';

const API_PORT_CHANNEL = 'warren:api-port';

const { port1, port2 } = new MessageChannel();
ipcRenderer.postMessage(API_PORT_CHANNEL, null, [port2]);
// The page listens for this message before it renders (see connectRenderer).
window.addEventListener('DOMContentLoaded', () =>
  window.postMessage(API_PORT_CHANNEL, window.location.origin === 'null' ? '*' : window.location.origin, [
    port1,
  ]),
);
