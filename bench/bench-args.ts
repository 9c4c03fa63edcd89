// Reading a benchmark's own command-line flags (`npm run bench -- <name> --flag value`).

/** The value after `name` in `args`, or undefined when the flag is absent; a flag without a value is an error. */
export function optionOf(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name)
  if (at < 0) return undefined
  const value = args[at + 1]
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`)
  return value
}
