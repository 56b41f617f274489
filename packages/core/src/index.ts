export * from './errors/WarrenError';
export * from './secrets/Secret';
export * from './secrets/redact';
export * from './users/schemas';
export * from './auth/schemas';
export * from './audit/schemas';
export * from './templates/manifest';
