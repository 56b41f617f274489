import { type ErrorCode, WarrenError } from '../errors/WarrenError';
import type { WireguardDeviceState } from './WireguardDevice';

/**
 * What a UAPI `errno=N` reply means. wireguard-go answers with negative Linux errno values
 * (`-EINVAL`), older implementations and the spec's examples with positive ones, so both signs
 * are read as the same error.
 */
const KNOWN: Record<number, { code: ErrorCode; text: string }> = {
  1: { code: 'FORBIDDEN', text: 'the operation is not permitted' },
  5: { code: 'UPSTREAM', text: 'an I/O error happened inside the WireGuard device' },
  13: { code: 'FORBIDDEN', text: 'permission was denied' },
  22: { code: 'INVALID_INPUT', text: 'a value in the request was invalid' },
  55: { code: 'UPSTREAM', text: 'the device failed for a reason it did not name' },
  71: { code: 'INVALID_INPUT', text: 'the request broke the protocol (an unknown or misplaced key)' },
  98: { code: 'CONFLICT', text: 'the listen port is already in use' },
};

/**
 * A device answered a get or set with a non-zero errno. A set is not transactional: the lines
 * before the failing one took effect. So after a failed set the client reads the device again
 * and puts what it found in `deviceAfter`, for the caller to reconcile from.
 */
export class WireguardUapiError extends WarrenError {
  readonly errno: number;
  readonly operation: 'get' | 'set';
  /** The device as read right after a failed set; undefined for a get or when that read failed too. */
  deviceAfter: WireguardDeviceState | undefined;

  constructor(errno: number, operation: 'get' | 'set', interfaceName: string) {
    const known = KNOWN[Math.abs(errno)];
    const why = known?.text ?? 'the device reported an error';
    const partly = operation === 'set' ? ' Lines before the failing one may have taken effect.' : '';
    super(
      known?.code ?? 'UPSTREAM',
      `WireGuard interface ${interfaceName} refused the ${operation} request: ${why} (errno ${errno}).${partly}`,
    );
    this.errno = errno;
    this.operation = operation;
  }
}
