// Randomness is injected: the agent passes a seeded source from its host, the simulator one derived
// from --seed, so every random choice of a run can be reproduced.
export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number
  /** An independent stream derived from this one and a label, without consuming this stream. */
  fork(label: string): Random
}
