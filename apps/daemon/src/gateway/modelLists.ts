import type { DirectorySnapshot, GatewayModel } from './DirectorySnapshot';
import type { Family } from './providerErrors';

/** One model in the family's own list format (GET /v1/models). */
function listing(family: Family, snapshot: DirectorySnapshot, model: GatewayModel) {
  const id = snapshot.publicId(model);
  if (family === 'anthropic') {
    return {
      type: 'model',
      id,
      display_name: model.displayName ?? model.name,
      created_at: new Date(model.createdAt).toISOString(),
    };
  }
  return { id, object: 'model', created: Math.floor(model.createdAt / 1000), owned_by: model.provider.name };
}

/** The models `roles` may use, as the provider's list endpoint would answer. */
export function modelList(family: Family, snapshot: DirectorySnapshot, roles: readonly string[]): string {
  const data = snapshot.listAllowed(family, roles).map((model) => listing(family, snapshot, model));
  if (family === 'anthropic') {
    return JSON.stringify({
      data,
      has_more: false,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
    });
  }
  return JSON.stringify({ object: 'list', data });
}

/** One model (GET /v1/models/{id}), or undefined when it is unknown or not allowed. */
export function modelEntry(
  family: Family,
  snapshot: DirectorySnapshot,
  roles: readonly string[],
  id: string,
): string | undefined {
  const model = snapshot.resolve(family, id);
  if (!model || !snapshot.isAllowed(roles, model)) return undefined;
  return JSON.stringify(listing(family, snapshot, model));
}
