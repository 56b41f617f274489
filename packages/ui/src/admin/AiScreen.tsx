import { hasRole, useCurrentUser } from '../api/session';
import { Page } from '../design';
import { ModelsSection } from './ModelsSection';
import { PolicySection } from './PolicySection';
import { ProvidersSection } from './ProvidersSection';

/** AI providers, their central keys and models, and who may use which model for how much. */
export default function AiScreen() {
  const canEdit = hasRole(useCurrentUser());
  return (
    <Page title="AI providers">
      <ProvidersSection canEdit={canEdit} />
      <ModelsSection canEdit={canEdit} />
      <PolicySection canEdit={canEdit} />
    </Page>
  );
}
