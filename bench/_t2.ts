import { startEdgeProcess, startSippBench } from './support/sipp-run.ts';
import fs from 'node:fs';
const edge = await startEdgeProcess({ BENCH_EXTENSIONS: '5' });
const run = startSippBench({ scenario: 'register-inf.xml', target: `127.0.0.1:${edge.ready.port}`, localPort: 15060, rate: 1, calls: 1, limit: 1, timeoutSeconds: 10, inf: edge.ready.csv, extra: ['-trace_msg', '-message_file', '/tmp/msg.log'] });
await run.done;
console.log(fs.readFileSync('/tmp/msg.log', 'utf8'));
await edge.stop();
