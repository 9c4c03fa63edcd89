// Randomness is injected: the agent passes a seeded source from its host, the simulator one derived
// from --seed, so every random choice of a run can be reproduced. Random is what a consumer that only
// draws needs (the protocol machine takes one); SeededRandom (seeded-random.ts) is the one
// implementation, with the extras a simulation wants.
export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number
  /** An independent stream derived from this one and a label, without consuming this stream. */
  fork(label: string): Random
}
