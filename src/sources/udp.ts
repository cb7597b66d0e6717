/**
 * listenUdp(index, options): feeds an index from UDP datagrams that each hold one or
 * more whole log lines (Apache's piped logs through a UDP forwarder, or mod_log_spread's
 * multicast groups). A datagram's last line may lack its "\n".
 *
 * UDP does not resend: a datagram dropped by the network or by a full receive buffer is
 * lost, and stats().datagrams counts only the ones that arrived. Datagrams that arrive
 * in one turn of the event loop are parsed in one native call.
 */

import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { IngestOptions, IngestReport, IngestTarget } from './ingest-target.js';
import { pickIngestOptions } from './ingest-target.js';
import { MessageFeeder } from './message-feeder.js';
import { rangeErrorWith, typeError } from '../errors.js';
import { checkInteger, checkNonEmptyString, checkSourceOptions } from '../validate.js';

const UDP_OPTION_NAMES = ['port', 'host', 'multicast', 'multicastInterface', 'receiveBufferSize'];

export interface UdpSourceOptions extends IngestOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /**
   * Address to bind. Default '127.0.0.1'; with `multicast`, the group address itself
   * (on Linux that receives the group's datagrams and nothing else).
   */
  host?: string;
  /** A multicast group to join, such as '239.255.0.1'. */
  multicast?: string;
  /** Local interface address to join the group on. Default: the one the kernel picks. */
  multicastInterface?: string;
  /** Receive buffer to ask the kernel for, in bytes (capped by net.core.rmem_max). Default 4 MiB. */
  receiveBufferSize?: number;
}

export interface UdpSourceStats {
  datagrams: number;
  bytes: number;
}

export interface UdpSource {
  /** The bound address and port (useful with port 0). */
  readonly address: { address: string; port: number; family: string };
  /** The cumulative report of every line received so far. */
  readonly report: IngestReport;
  stats(): UdpSourceStats;
  /** Stops listening, ingests what was received, resolves with the final report. */
  close(): Promise<IngestReport>;
}

/** Binds the socket (and joins the group); resolves once datagrams are being received. */
export async function listenUdp(index: IngestTarget, options: UdpSourceOptions): Promise<UdpSource> {
  if (options === undefined) throw typeError('options', 'an object with a port', options);
  const given = checkSourceOptions(options, 'listenUdp()', UDP_OPTION_NAMES);
  const port = checkInteger(given.port, 'options.port', 0, 65535);
  const multicast = given.multicast === undefined ? undefined : checkNonEmptyString(given.multicast, 'options.multicast');
  const multicastInterface =
    given.multicastInterface === undefined ? undefined : checkNonEmptyString(given.multicastInterface, 'options.multicastInterface');
  if (multicastInterface !== undefined && multicast === undefined) {
    throw rangeErrorWith('options.multicastInterface', 'options.multicastInterface needs options.multicast');
  }
  if (given.host !== undefined) checkNonEmptyString(given.host, 'options.host');
  if (given.receiveBufferSize !== undefined) checkInteger(given.receiveBufferSize, 'options.receiveBufferSize', 1, 2 ** 31 - 1);
  const host = options.host ?? (multicast !== undefined && process.platform === 'linux' ? multicast : multicast !== undefined ? '0.0.0.0' : '127.0.0.1');
  const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: multicast !== undefined });
  const feeder = new MessageFeeder(index, pickIngestOptions(options));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((error: Error) => {
    socket.close();
    throw error;
  });
  try {
    if (multicast !== undefined) socket.addMembership(multicast, multicastInterface);
    socket.setRecvBufferSize(options.receiveBufferSize ?? 4 << 20);
  } catch (error) {
    socket.close();
    throw error;
  }
  socket.on('message', (message) => feeder.push(message));
  // After bind, errors are rare (ICMP on a connected socket); never let one kill the process.
  socket.on('error', () => undefined);

  let closing: Promise<IngestReport> | null = null;
  const address = socket.address();
  return {
    address,
    get report() {
      return feeder.report;
    },
    stats: () => ({ datagrams: feeder.counts.messages, bytes: feeder.counts.bytes }),
    close() {
      closing ??= (async () => {
        if (multicast !== undefined) {
          try {
            socket.dropMembership(multicast, multicastInterface);
          } catch {
            // already gone with the interface
          }
        }
        await new Promise<void>((resolve) => socket.close(() => resolve()));
        return feeder.end();
      })();
      return closing;
    },
  };
}
