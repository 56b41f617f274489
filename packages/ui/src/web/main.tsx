import { createRoot } from 'react-dom/client';
import { WarrenApp } from '../WarrenApp';
import { createApiClient, webLinks } from '../api/client';
import '../styles/index.css';

/** The browser entry: same-origin HTTP and SSE links, session in the daemon's cookie. */
const root = document.getElementById('root');
if (root) createRoot(root).render(<WarrenApp client={createApiClient(webLinks())} routing="history" />);
