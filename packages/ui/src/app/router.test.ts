import { expect, test } from 'vitest';
import { matchRoute, queryParam } from './router';

test('a deep link names its workspace, decoded, and other paths do not match', () => {
  expect(matchRoute('/workspaces/:owner/:name', '/workspaces/ada/first-box?tab=logs')).toEqual({
    owner: 'ada',
    name: 'first-box',
  });
  expect(matchRoute('/workspaces/:owner/:name', '/workspaces/ada%20b/x')).toEqual({
    owner: 'ada b',
    name: 'x',
  });
  expect(matchRoute('/workspaces/:owner/:name', '/workspaces/new')).toBeUndefined();
  expect(matchRoute('/workspaces/new', '/workspaces/new/')).toEqual({});
  expect(queryParam('/workspaces/new?template=local', 'template')).toBe('local');
});

test('an address with broken percent-encoding matches no route instead of throwing', () => {
  expect(matchRoute('/chat/:id', '/chat/%E0%A4%A')).toBeUndefined();
  expect(matchRoute('/chat/:id', '/chat/%ZZ')).toBeUndefined();
  expect(matchRoute('/chat', '/chat')).toEqual({});
});
