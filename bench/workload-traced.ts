// bench/workload.ts with every task traced (bench/trace.ts), for the benchmark's per-task and per-phase accounting.
import { tracePlaybook } from './trace.js';
import workload from './workload.js';

export default tracePlaybook(workload);
