// Whether two lists hold the same objects in the same order (identity, not equality): how the
// planner's caches tell a list they were built from is handed to them again unchanged.

export function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
