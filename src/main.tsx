import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startIsolation } from './offline/isolation';
import { logCspViolations } from './security/cspViolations';
import { App } from './ui/App';
import './ui/styles.css';

logCspViolations(document);
// Built app only: the dev server sends the headers itself and has no service worker.
if (import.meta.env.PROD) void startIsolation(`${import.meta.env.BASE_URL}serviceWorker.js`, import.meta.env.BASE_URL);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
