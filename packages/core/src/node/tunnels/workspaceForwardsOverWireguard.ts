import type net from 'node:net';
import { WarrenError } from '../../errors/WarrenError';
import { Secret } from '../../secrets/Secret';
import {
  decodeForwardAnswer,
  encodeForwardRequest,
  type ForwardAnswerStatus,
} from '../../wireguard/forwardHeader';
import type { OpenedWireguardTunnel } from '../../wireguard/wireguardTunnel';
import type { ForwardConnection, PortForward } from './ForwardConnection';
import { readHeader } from './readHeader';
import { spliceSockets } from './spliceChannel';
import type { WireguardClientDevice } from './WireguardClientDevice';

/** The agent answers once it dialled the port in the workspace, which is local to it. */
const ANSWER_TIMEOUT_MS = 15_000;
/** A ticket is renewed this long before it runs out (at most half its life). */
const RENEW_MARGIN_MS = 60_000;

/** How the agent's answer is said to the user: the agent's sentence, under the right code. */
const answerCodes: Record<Exclude<ForwardAnswerStatus, 'ok'>, WarrenError['code']> = {
  forbidden: 'FORBIDDEN',
  refused: 'UPSTREAM',
  unreachable: 'UPSTREAM',
  invalid: 'UPSTREAM',
};

interface Ticketed {
  opened: OpenedWireguardTunnel;
  port: number;
  ticket: Secret;
  renewAt: number;
}

/**
 * Port forwards into a workspace over WireGuard from `device`, as plain TCP: WireGuard already
 * encrypts and authenticates both ends, so each forwarded connection is a TCP connection of its
 * own to the agent's forward port, opened with the ticket the daemon granted this device (see
 * wireguard/forwardHeader), and then just carries bytes. The daemon only coordinates. Resolves
 * once the first ticket is in hand, with the same refusals a relay connection gives.
 */
export async function connectWorkspaceForwardsOverWireguard(
  device: WireguardClientDevice,
  workspace: string,
): Promise<ForwardConnection> {
  const forwards = new WireguardForwards(device, workspace);
  await forwards.renew();
  return forwards;
}

class WireguardForwards implements ForwardConnection {
  #current: Ticketed | undefined;
  #renewing: Promise<Ticketed> | undefined;
  #closed: string | undefined;
  readonly #listeners: ((reason: string) => void)[] = [];

  constructor(
    private readonly device: WireguardClientDevice,
    private readonly workspace: string,
  ) {}

  /** A fresh ticket (and map) from the daemon; this re-checks that the user may reach the workspace. */
  renew(): Promise<Ticketed> {
    this.#renewing ??= this.#openTunnel().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async carry(socket: net.Socket, forward: PortForward): Promise<void> {
    if (forward.remoteHost && forward.remoteHost !== '127.0.0.1' && forward.remoteHost !== 'localhost')
      throw new WarrenError(
        'INVALID_INPUT',
        `Forwards over WireGuard reach ports on the workspace's own 127.0.0.1, not on ${forward.remoteHost}.`,
      );
    const current = await this.#ticketed();
    const remote = await this.device
      .connect(current.opened, current.port, { allowHalfOpen: true })
      .catch((error: Error) => {
        this.#drop(error.message);
        throw error;
      });
    // A reset before the answer is read ends in 'close', which the read below turns into an error.
    remote.on('error', () => remote.destroy());
    remote.write(
      encodeForwardRequest({
        ticket: Buffer.from(current.ticket.reveal(), 'base64url'),
        port: forward.remotePort,
      }),
    );
    const answer = await readHeader(remote, decodeForwardAnswer, ANSWER_TIMEOUT_MS).catch((error: Error) => {
      remote.destroy();
      this.#drop(`the agent did not answer a forward (${error.message})`);
      throw new WarrenError(
        'UPSTREAM',
        `The agent of "${current.opened.workspace.name}" did not answer the forward to port ${forward.remotePort} (${error.message}).`,
      );
    });
    if (answer.status !== 'ok') {
      remote.destroy();
      // The agent lost the ticket (it restarted, say): a new connection brings a new one.
      if (answer.status === 'forbidden') this.#drop('the agent no longer accepts this device’s ticket');
      throw new WarrenError(answerCodes[answer.status], answer.message);
    }
    spliceSockets(socket, remote);
  }

  onClose(listener: (reason: string) => void): void {
    if (this.#closed !== undefined) listener(this.#closed);
    else this.#listeners.push(listener);
  }

  close(): void {
    this.#drop('closed');
  }

  /** The current ticket, renewed first when it runs out soon; a refused renewal ends this connection. */
  async #ticketed(): Promise<Ticketed> {
    if (this.#closed !== undefined)
      throw new WarrenError('UNAVAILABLE', `The forward connection is gone (${this.#closed}).`);
    const current = this.#current;
    if (current && Date.now() < current.renewAt) return current;
    return this.renew().catch((error: Error) => {
      this.#drop(error.message);
      throw error;
    });
  }

  async #openTunnel(): Promise<Ticketed> {
    const asked = Date.now();
    const opened = await this.device.openTunnel(this.workspace);
    if (!opened.forward)
      throw new WarrenError(
        'UPSTREAM',
        'The server did not grant a port forward ticket; is it older than this CLI?',
      );
    const lifeMs = opened.forward.seconds * 1000;
    this.#current = {
      opened,
      port: opened.forward.port,
      ticket: new Secret(opened.forward.ticket),
      renewAt: asked + lifeMs - Math.min(RENEW_MARGIN_MS, lifeMs / 2),
    };
    return this.#current;
  }

  #drop(reason: string): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    for (const listener of this.#listeners.splice(0)) listener(reason);
  }
}
