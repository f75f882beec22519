/** Colour on a terminal, never with NO_COLOR (https://no-color.org), always with FORCE_COLOR (but 0). */
export function colorWanted(env: NodeJS.ProcessEnv, interactive: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return interactive;
}
