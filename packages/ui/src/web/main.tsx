import { createRoot } from 'react-dom/client';
import { createApiClient, webLinks } from '../api/client';
import { WarrenApp } from '../WarrenApp';
import '@xterm/xterm/css/xterm.css';
import '../styles/index.css';

/** The browser entry: same-origin HTTP and SSE links, session in the daemon's cookie. */
const root = document.getElementById('root');
if (root) createRoot(root).render(<WarrenApp client={createApiClient(webLinks())} routing="history" />);
