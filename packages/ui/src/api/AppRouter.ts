/**
 * The daemon's router type: the only thing the screens take from the daemon. A relative,
 * type-only path rather than a package dependency, because the daemon serves this package's
 * build, so a dependency edge from here to the daemon would make the build graph a cycle.
 */
export type { AppRouter } from '../../../../apps/daemon/src/api/appRouter';
