/**
 * How to open a terminal window running `command` on each OS: Terminal.app through AppleScript
 * on macOS, a new console on Windows, the Debian alternative (or a common emulator) on Linux.
 */
export function terminalCommand(
  platform: NodeJS.Platform,
  command: string,
  available: (binary: string) => boolean = () => true,
): { file: string; args: string[] } {
  if (platform === 'darwin') {
    const script = `tell application "Terminal" to do script "${command.replace(/(["\\])/g, '\\$1')}"`;
    return { file: 'osascript', args: ['-e', script, '-e', 'tell application "Terminal" to activate'] };
  }
  if (platform === 'win32') return { file: 'cmd.exe', args: ['/c', 'start', 'cmd.exe', '/k', command] };
  const words = command.split(' ');
  for (const terminal of ['x-terminal-emulator', 'gnome-terminal', 'konsole', 'xterm']) {
    if (!available(terminal)) continue;
    return terminal === 'gnome-terminal'
      ? { file: terminal, args: ['--', ...words] }
      : { file: terminal, args: ['-e', ...words] };
  }
  return { file: 'xterm', args: ['-e', ...words] };
}
