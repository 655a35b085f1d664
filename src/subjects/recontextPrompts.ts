/**
 * The DreamBooth paper's recontextualization prompts (Ruiz et al. 2023, fig. 1 and the prompt list of its
 * evaluation): the subject placed somewhere new, or with a property changed. Run with the same seeds for every
 * checkpoint, so two checkpoints' grids differ only by the weights.
 */
export const RECONTEXT_SEED = 1234;

export function recontextPrompts(identifier: string, classNoun: string): string[] {
  const subject = `${identifier} ${classNoun}`;
  return [
    `a ${subject} in the jungle`,
    `a ${subject} in the snow`,
    `a ${subject} on the beach`,
    `a ${subject} with a city in the background`,
    `a red ${subject}`,
    `a cube-shaped ${subject}`,
  ];
}
