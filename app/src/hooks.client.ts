import { z } from 'zod';

// Zod compiles object schemas with `new Function` when it may, and probes whether it may by trying it once.
// Our CSP forbids eval, and the browser reports even that caught probe as a violation: in the browser, zod
// runs without compiling (jitless), so nothing is ever tried. The server keeps the compiled fast path.
z.config({ jitless: true });
