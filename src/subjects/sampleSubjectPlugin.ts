import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';
import { SAMPLE_SUBJECT } from './sampleSubject.ts';

/** Serves (dev) and emits (build) the sample subject's images from the emoji package, so none are committed. */
export function sampleSubjectPlugin(): Plugin {
  const require = createRequire(import.meta.url);
  const emojiDir = join(dirname(require.resolve('emoji-datasource-google/package.json')), 'img/google/64');
  const files = new Map<string, string>(SAMPLE_SUBJECT.photos.map((p) => [`${SAMPLE_SUBJECT.folder}/${p.fileName}`, join(emojiDir, p.emojiImage)]));

  return {
    name: 'studio-sample-subject',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const source = files.get((req.url ?? '').split('?')[0]!.replace(/^\//, ''));
        if (!source) return next();
        res.setHeader('Content-Type', 'image/png');
        res.end(readFileSync(source));
      });
    },
    generateBundle() {
      for (const [fileName, source] of files) {
        this.emitFile({ type: 'asset', fileName, source: readFileSync(source) });
      }
    },
  };
}
