import { Link, Page } from '../design';
import { ByokKeys } from './ByokKeys';
import { ProfileSettings } from './ProfileSettings';
import { TokensSettings } from './TokensSettings';

const tabs = [
  { id: 'profile', to: '/settings', label: 'Profile' },
  { id: 'tokens', to: '/settings/tokens', label: 'API tokens' },
  { id: 'keys', to: '/settings/keys', label: 'AI keys' },
] as const;

/** Tabs are links: each has its own address, so reload and back keep the place. */
export default function SettingsScreen({ tab }: { tab: (typeof tabs)[number]['id'] }) {
  return (
    <Page title="Settings">
      <nav className="tabs" aria-label="Settings sections">
        {tabs.map((t) => (
          <Link key={t.id} to={t.to} aria-current={t.id === tab ? 'page' : undefined}>
            {t.label}
          </Link>
        ))}
      </nav>
      {tab === 'profile' ? <ProfileSettings /> : tab === 'tokens' ? <TokensSettings /> : <ByokKeys />}
    </Page>
  );
}
