// Keeps the agent's compiled bytecode for the life of the process. V8 discards the bytecode of a
// function that has not run through five major collections, and compiles it again from source the
// next time it runs. An agent's rare paths are exactly the ones that must be quick: a partition heals
// or a host dies after minutes of quiet, and the code that reconnects, merges the views and stops
// the doubled slots has been discarded meanwhile (an idle agent still collects: the young generation
// trim, V8's memory reducer). Ten agents healing a partition each recompiled it at once, on two
// cores: the first heal of a cluster took 0.4–1 s longer than the next, for the same messages. With
// the bytecode kept, the first heal is as quick as the others (BENCHMARKS.md, *Partition heal:
// reunions open with the full digest*). What it costs: the bytecode of code that ran once stays.
//
// V8 reads the flag at each collection, so it is set as the agent starts, not on node's command line.

import { setFlagsFromString } from 'node:v8'

/** From now on, V8 keeps the bytecode of every function it compiled. */
export function keepBytecode(): void {
  setFlagsFromString('--no-flush-bytecode')
}
