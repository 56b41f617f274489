import { createRoot } from 'react-dom/client';
import '@xterm/xterm/css/xterm.css';
import '@warren/ui/styles.css';
import './desktop.css';
import { connectRenderer } from './connectRenderer';
import { DesktopApp } from './DesktopApp';
import { DesktopApiProvider } from './desktopApi';

/**
 * The desktop window's page: it waits for the IPC port (from the preload, or a test's in-page
 * bridge), then renders the screens over it. The daemon token stays in the main process.
 */
const root = document.getElementById('root');
if (root)
  void connectRenderer().then(({ desktop, daemonLink }) =>
    createRoot(root).render(
      <DesktopApiProvider value={desktop}>
        <DesktopApp daemonLink={daemonLink} />
      </DesktopApiProvider>,
    ),
  );
