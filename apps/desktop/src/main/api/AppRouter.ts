/**
 * The daemon's router type: the only thing the desktop takes from the daemon. A relative,
 * type-only path (as in packages/ui), so no daemon code is bundled into the app.
 */
export type { AppRouter } from '../../../../daemon/src/api/appRouter';
