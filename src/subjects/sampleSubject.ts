/**
 * The bundled sample subject for people without photos at hand: one cartoon cat drawn four ways, from Google's
 * Noto emoji as packaged in npm `emoji-datasource-google` (Apache-2.0). The build copies them to `sample/`.
 */
export const SAMPLE_SUBJECT = {
  name: 'Emoji cat (sample)',
  classNoun: 'cat',
  folder: 'sample',
  photos: [
    { fileName: 'cat-face.png', emojiImage: '1f431.png' },
    { fileName: 'cat-grinning.png', emojiImage: '1f638.png' },
    { fileName: 'cat-smiling.png', emojiImage: '1f63a.png' },
    { fileName: 'cat-heart-eyes.png', emojiImage: '1f63b.png' },
  ],
} as const;
