/** A photo of a subject as stored: blobs are referenced by content hash, never embedded. */
export interface SubjectPhoto {
  /** SHA-256 of the original file; also its blob key. */
  sha256: string;
  fileName: string;
  mime: string;
  /** As displayed (EXIF orientation applied). */
  width: number;
  height: number;
  /** The centre-square crop at `cropResolution`², PNG. */
  cropSha256: string;
  cropResolution: number;
  thumbnailSha256: string;
  /** Set when the photo had transparent parts, which the crop shows on white (absent in photos saved before). */
  transparent?: boolean;
  /** Set when the file was an animation, of which only the first frame is used. */
  animated?: boolean;
}

/** Someone's dog, mug or plush toy: what the model is personalised to. */
export interface Subject {
  id: string;
  name: string;
  /** What the subject is, e.g. "dog": keeps the class's meaning through prior preservation. */
  classNoun: string;
  /** A rare word that fine-tuning binds to this subject: "a photo of <identifier> <classNoun>". */
  identifier: string;
  photos: SubjectPhoto[];
  createdAt: number;
}

/** The prompt a subject is trained on. */
export const instancePrompt = (subject: Pick<Subject, 'identifier' | 'classNoun'>): string => `a photo of ${subject.identifier} ${subject.classNoun}`;

/** The prompt class images are made for (and prior preservation trains on). */
export const classPrompt = (classNoun: string): string => `a photo of ${classNoun.trim()}`;

/** Every blob hash a subject refers to. */
export function blobHashes(subject: Subject): string[] {
  return subject.photos.flatMap((photo) => [photo.sha256, photo.cropSha256, photo.thumbnailSha256]);
}
