/**
 * Suggests identifier words for subjects. DreamBooth binds the subject to a word the model has (almost) never seen,
 * so "a photo of <id> dog" teaches the new word without overwriting what "dog" means. Rare syllables,
 * joined in pairs, make such words; "sks" is the well-known one and is avoided because everyone uses it.
 */

const RARE_SYLLABLES = ['zo', 'vy', 'qu', 'xa', 'ky', 'jho', 'wex', 'zib', 'vok', 'pyx', 'olk', 'yth', 'dwu', 'khe', 'zeq', 'vru'] as const;

/** A new identifier unlike any in `taken`; `random` is injectable for tests. */
export function suggestIdentifier(taken: readonly string[], random: () => number = Math.random): string {
  const used = new Set(taken.map((t) => t.toLowerCase()));
  const pick = () => RARE_SYLLABLES[Math.floor(random() * RARE_SYLLABLES.length)]!;
  for (let attempt = 0; attempt < 64; attempt++) {
    const [first, second] = [pick(), pick()];
    if (first !== second && !used.has(first + second)) return first + second;
  }
  // Dozens of subjects exhaust lucky draws: walk the pairs in order instead.
  for (const first of RARE_SYLLABLES) {
    for (const second of RARE_SYLLABLES) {
      if (first !== second && !used.has(first + second)) return first + second;
    }
  }
  throw new Error('Every suggested identifier is taken; type one yourself.');
}
