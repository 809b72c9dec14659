import { createLogger } from '@carillon/config';
import { TransactionLayer, type TimerSettings } from '../../../src/sip/transaction/index.ts';
import { SipTransportLayer, type SipTransportSettings } from '../../../src/sip/transport/index.ts';

// Tests provoke TU errors on purpose; their log lines would only be noise.
export const quietLogger = createLogger('test', 'error', () => {});

/** Short timers keep the RFC's ratios (T2 = 8·T1) so retransmission counts match the RFC's. */
export const FAST_TIMERS: Partial<TimerSettings> = { T1: 50, T2: 400, T4: 250, D: 500 };

/** A real transport layer on loopback with a transaction layer on top: the stack a TU sees. */
export async function startStack(
  timers: Partial<TimerSettings> = FAST_TIMERS,
  transport: Partial<SipTransportSettings> = {},
) {
  const transportLayer = new SipTransportLayer({
    host: '127.0.0.1',
    udpPort: 0,
    tcpPort: 0,
    logger: quietLogger,
    ...transport,
  });
  await transportLayer.start();
  const layer = new TransactionLayer(transportLayer, {
    via: { host: '127.0.0.1', ports: transportLayer.ports },
    timers,
    logger: quietLogger,
  });
  return {
    transport: transportLayer,
    layer,
    ports: transportLayer.ports,
    async stop() {
      layer.close();
      await transportLayer.stop();
    },
  };
}
