/** Rules for a subject's text fields and photo count; each check returns a message naming the field, or null. */

export const SUBJECT_IMAGE_COUNT = { min: 3, max: 5 } as const;

export interface SubjectFields {
  name: string;
  classNoun: string;
  identifier: string;
}

export type FieldProblems = Partial<Record<keyof SubjectFields, string>>;

/** Words a prompt uses around the identifier; an identifier equal to one would overwrite its meaning. */
const COMMON_WORDS = new Set([
  'a',
  'an',
  'the',
  'of',
  'in',
  'on',
  'at',
  'with',
  'and',
  'or',
  'to',
  'by',
  'for',
  'photo',
  'picture',
  'image',
  'painting',
  'drawing',
  'style',
  'dog',
  'cat',
  'man',
  'woman',
  'person',
  'toy',
  'sks',
]);

export function checkName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'Name is empty: give the subject a name, e.g. “Rex”.';
  if (trimmed.length > 40) return `Name is ${trimmed.length} characters long; keep it to 40.`;
  return null;
}

/** The class noun is what the subject is ("dog", "plush toy"); prompts read "a photo of <id> <class noun>". */
export function checkClassNoun(classNoun: string): string | null {
  const trimmed = classNoun.trim();
  if (trimmed.length === 0) return 'Class noun is empty: say what the subject is, e.g. “dog” or “plush toy”.';
  if (trimmed.length > 32) return `Class noun is ${trimmed.length} characters long; keep it to 32.`;
  if (!/^[a-z]+(?:[ -][a-z]+){0,2}$/i.test(trimmed)) {
    return 'Class noun must be one to three plain words of letters, e.g. “dog” or “plush toy” (no digits or symbols).';
  }
  return null;
}

/**
 * The identifier is a new, rare word that the fine-tuning binds to this subject.
 * `otherIdentifiers` are those of the other subjects: each subject needs its own word.
 */
export function checkIdentifier(identifier: string, classNoun: string, otherIdentifiers: readonly string[]): string | null {
  const id = identifier.trim().toLowerCase();
  if (id.length === 0) return 'Identifier is empty: use the suggested word or another rare one.';
  if (!/^[a-z]{3,12}$/.test(id)) return 'Identifier must be 3 to 12 lowercase letters (a–z), no spaces or digits.';
  if (classNoun.trim().toLowerCase().split(/[ -]/).includes(id)) {
    return 'Identifier must differ from the class noun, or the class loses its meaning.';
  }
  if (COMMON_WORDS.has(id)) return `Identifier “${id}” is a common word; pick a rare one so its meaning is free to take.`;
  if (otherIdentifiers.some((other) => other.toLowerCase() === id)) {
    return `Identifier “${id}” already belongs to another subject; each subject needs its own.`;
  }
  return null;
}

export function checkSubjectFields(fields: SubjectFields, otherIdentifiers: readonly string[]): FieldProblems {
  const problems: FieldProblems = {};
  const name = checkName(fields.name);
  const classNoun = checkClassNoun(fields.classNoun);
  const identifier = checkIdentifier(fields.identifier, fields.classNoun, otherIdentifiers);
  if (name) problems.name = name;
  if (classNoun) problems.classNoun = classNoun;
  if (identifier) problems.identifier = identifier;
  return problems;
}

/** Why a subject with `count` photos may not go on to the next step; null when it may. */
export function checkReadyToProceed(count: number): string | null {
  if (count >= SUBJECT_IMAGE_COUNT.min) return null;
  const missing = SUBJECT_IMAGE_COUNT.min - count;
  return `Add ${missing} more photo${missing === 1 ? '' : 's'}: training needs at least ${SUBJECT_IMAGE_COUNT.min} (this subject has ${count}).`;
}

/** Why a photo may not join a subject that already holds the same file (by content) as `existingFileName`. */
export const duplicatePhotoProblem = (fileName: string, existingFileName: string): string =>
  `${fileName} is the same file as ${existingFileName}, already in this subject.`;

/** How many of `incoming` photos fit beside `existing` ones. */
export function photosThatFit(existing: number, incoming: number): number {
  return Math.max(0, Math.min(incoming, SUBJECT_IMAGE_COUNT.max - existing));
}
