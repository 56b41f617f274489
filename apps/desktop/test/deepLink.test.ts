import { describe, expect, it } from 'vitest';
import { deepLinkFromArgv, parseDeepLink } from '../src/main/deepLinks/deepLink';

describe('warren:// deep links', () => {
  it('open a workspace, optionally on a named deployment and with an action', () => {
    expect(parseDeepLink('warren://open?workspace=dev')).toEqual({
      kind: 'open',
      workspace: { name: 'dev' },
      action: 'show',
    });
    expect(
      parseDeepLink(
        'warren://open?workspace=alice/api&deployment=https%3A%2F%2Fwarren.example.com&action=vscode',
      ),
    ).toEqual({
      kind: 'open',
      workspace: { owner: 'alice', name: 'api' },
      deployment: 'https://warren.example.com',
      action: 'vscode',
    });
    expect(parseDeepLink('warren:open?workspace=dev&action=connect').action).toBe('connect');
  });

  it.each([
    ['https://open?workspace=dev', /must start with warren:\/\//],
    ['not a url', /is not a Warren link/],
    ['warren://delete?workspace=dev', /can only open a workspace, not "delete"/],
    ['warren://open', /does not name a workspace/],
    ['warren://open?workspace=../etc', /letters, digits and dashes/],
    ['warren://open?workspace=a/b/c', /use NAME or OWNER\/NAME/],
    ['warren://open?workspace=dev&workspace=prod', /gives "workspace" twice/],
    ['warren://open?workspace=dev&action=rm', /action/i],
    ['warren://open?workspace=dev&evil=1', /evil/],
  ])('%s is refused with a sentence', (link, message) => {
    expect(() => parseDeepLink(link)).toThrow(message);
  });

  it('is found among the arguments Windows and Linux start the app with', () => {
    expect(deepLinkFromArgv(['/opt/Warren/warren', '--no-sandbox', 'warren://open?workspace=dev'])).toBe(
      'warren://open?workspace=dev',
    );
    expect(deepLinkFromArgv(['/opt/Warren/warren'])).toBeUndefined();
  });
});
