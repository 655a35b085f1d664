// @ts-check
/**
 * ESLint: the import boundaries of the architecture (README → Architecture), plus typescript-eslint's recommended
 * rules and React's rules of hooks. Nothing here is type-aware, so a full run stays quick on a 2-core machine.
 *
 *   page    src/ui → src/state → src/protocol           (+ src/main.tsx, src/offline, src/worker/studioWorker.ts)
 *   worker  src/worker → src/interop (file formats) → src/generation, src/dreambooth → src/model, src/diffusion, src/text → src/engine
 *   shared  src/protocol, src/batch, src/export, src/storage, src/subjects, src/validation, src/security
 *   Node    src/pretrain (pretraining tools: anything below the worker), src/cli (the command lines: anything below the
 *           page), scripts/, bench/, e2e/ (anything in src)
 *
 * - The page never loads model code: no value import of onnxruntime, src/engine, src/model, src/text, or the
 *   runtime parts of src/generation, src/dreambooth, src/diffusion and src/worker. Type-only imports (`import type`)
 *   are allowed: they vanish from the bundle. What it may import from those folders is the CONTRACTS below.
 * - Contracts and shared modules are what the page imports, so they hold to the same rule.
 * - Each worker-side layer imports only layers below it; src/engine imports nothing from src outside itself.
 * - Nothing in src imports bench/, e2e/ or scripts/, and the app (page and worker) never imports src/pretrain.
 * - Tests (`*.test.ts`, `testing/` folders) may import across layers; only the bench/e2e/scripts rule holds there.
 *
 * Files are classified by folder, so a new file in an existing folder needs no edit here; a new contract (a module
 * the page may import from a worker-side folder) is added to CONTRACTS, its header saying it imports no model code.
 */
import { readdirSync } from 'node:fs';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * Modules in worker-side folders that the page may import: message types, limits and rules with no model code
 * (each says so in its header). Keyed by folder under src/, file names without extension.
 */
const CONTRACTS = {
  generation: ['jobTypes', 'generateLimits', 'batchAdapter', 'backendErrors', 'backendChoice'],
  dreambooth: ['jobTypes', 'trainSettings'],
  diffusion: ['schedulerConfig', 'schedulerConfigSchema'],
  worker: ['studioWorker'], // the page's one connection to the worker; it starts studio.worker.ts by URL
};

/** Every folder under src/ today (so a new top-level folder is covered by "engine imports nothing above it"). */
const SRC_FOLDERS = readdirSync(new URL('./src', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** An import specifier that climbs into `src/<folder>` (`./x/…` from src/main.tsx, `../x/…`, `../../x/…` deeper). */
const into = (folder, except = []) => {
  const rest = except.length ? `(?:$|/(?!(?:${except.join('|')})(?:\\.tsx?)?$))` : '(?:$|/)';
  return `^(?:\\.{1,2}/)+${folder}${rest}`;
};

/** A denied folder (or, with `except`, all of it but those files). Type-only imports pass unless `types: false`. */
const folder = (name, message, { except = [], types = true } = {}) => ({ regex: into(name, except), message, allowTypeImports: types });
const pkg = (name, message, { types = true } = {}) => ({ regex: `^${name}(?:$|/)`, message, allowTypeImports: types });

const HEAVY = 'loads model code; the page reaches it only through the worker (studioWorker().request)';
const onnxruntime = [
  pkg('onnxruntime-(?:web|node)', `onnxruntime ${HEAVY}`),
  pkg('onnx-proto', `the ONNX graph format ${HEAVY}`),
  pkg('webgpu', 'Dawn (npm webgpu) is for Node tools only'),
];
const outsideSrc = folder('(?:bench|e2e|scripts)', 'src never imports bench/, e2e/ or scripts/: they import src, not the other way round', { types: false });
const pretrain = folder('pretrain', 'src/pretrain is the Node pretraining tools; the app (page and worker) never imports it', { types: false });

/** What the page, the contracts and the shared modules may not import by value. */
const pageSafe = ({ diffusionAlso = [] } = {}) => [
  ...onnxruntime,
  pretrain,
  outsideSrc,
  folder('engine', `src/engine ${HEAVY}`),
  folder('model', `src/model ${HEAVY}`),
  folder('text', `src/text (the CLIP tokenizer and its vocabulary) ${HEAVY}; token counts come from the 'promptLength' job`),
  folder('generation', `this part of src/generation ${HEAVY}; the page may import ${CONTRACTS.generation.join(', ')}`, { except: CONTRACTS.generation }),
  folder('dreambooth', `this part of src/dreambooth ${HEAVY}; the page may import ${CONTRACTS.dreambooth.join(', ')}`, { except: CONTRACTS.dreambooth }),
  folder('diffusion', `samplers and noise are worker code; the page may import diffusion/schedulerConfig`, {
    except: [...CONTRACTS.diffusion, ...diffusionAlso],
  }),
  folder('worker', 'the page talks to the worker only through src/worker/studioWorker.ts', { except: CONTRACTS.worker }),
];

/** Below the page: the worker side and Node tools never import it. */
const notThePage = (layer) => folder('(?:ui|state|offline)', `${layer} never imports the page (src/ui, src/state, src/offline)`, { types: false });
const onnxNode = pkg('onnxruntime-node', 'onnxruntime-node is Node only; the engine loads it (loadOrt) for Node tools', { types: false });

const TS = ['**/*.{ts,tsx}'];
const TESTS = ['**/*.test.{ts,tsx}', 'src/testing/**', 'src/*/testing/**'];
const contractFiles = Object.entries(CONTRACTS).flatMap(([dir, names]) => names.map((name) => `src/${dir}/${name}.ts`));

/** One flat-config block of import rules. A file must match exactly one (a later block replaces the rule's options). */
const layer = (files, patterns, { ignores = [], extra = {} } = {}) => ({
  files,
  ignores: [...ignores, ...TESTS],
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }], ...extra },
});

/** Lazy loading of model code would dodge the import rules: the page's dynamic import() follows them too. */
const noHeavyDynamicImport = {
  'no-restricted-syntax': [
    'error',
    {
      selector: String.raw`ImportExpression[source.value=/^(onnxruntime|onnx-proto|webgpu$|(\.{1,2}\u002F)+(engine|model|text|pretrain)(\u002F|$))/]`,
      message: `a dynamic import of this ${HEAVY}`,
    },
  ],
};

export default defineConfig(
  { ignores: ['dist/**', 'data/**', 'checkpoints/**', 'models/**', 'fixtures/**', 'public/**', 'bench/gpu-kit/**', 'test-results/**', 'playwright-report/**'] },
  // ajv's standalone code, written by `npm run validators` (scripts/schemaRegistry.ts).
  { ignores: ['src/validation/validators.generated.js'] },
  {
    files: TS,
    extends: [tseslint.configs.recommended],
    // As tsc's noUnusedLocals: `const { vae: _vae, ...rest } = x` drops a field on purpose.
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }] },
  },
  { files: ['**/*.{js,mjs}'], extends: [tseslint.configs.recommended], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    files: ['src/**/*.tsx', 'src/ui/**/*.ts', 'src/state/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },

  // Any other file in src (a new top-level folder): the rules that hold everywhere.
  layer(['src/**'], [pretrain, outsideSrc]),

  // ── The page ──
  layer(['src/main.tsx', 'src/ui/**', 'src/offline/**', 'src/worker/studioWorker.ts'], pageSafe(), { extra: noHeavyDynamicImport }),
  layer(['src/state/**'], [...pageSafe(), folder('ui', 'src/state sits below src/ui', { types: false })], { extra: noHeavyDynamicImport }),

  // ── Shared by page and worker (the page imports them, so they follow its rule) and the contracts ──
  // diffusion/random (MAX_SEED, the seeded generator: arithmetic on pure-rand, no model code) reaches the page only
  // through generateLimits' and trainSettings' seed range; the page itself still may not import it.
  layer(
    [...['protocol', 'batch', 'export', 'storage', 'subjects', 'validation', 'security'].map((dir) => `src/${dir}/**`), ...contractFiles],
    [...pageSafe({ diffusionAlso: ['random'] }), notThePage('a module the page imports')],
  ),

  // ── The worker side ──
  layer(['src/worker/**'], [pretrain, outsideSrc, notThePage('src/worker'), onnxNode], { ignores: ['src/worker/studioWorker.ts'] }),
  layer(
    ['src/generation/**'],
    [
      pretrain,
      outsideSrc,
      notThePage('src/generation'),
      onnxNode,
      folder('worker', 'src/generation sits below src/worker'),
      folder('dreambooth', 'generation does not depend on training (src/dreambooth may use src/generation)'),
    ],
    { ignores: contractFiles },
  ),
  layer(['src/dreambooth/**'], [pretrain, outsideSrc, notThePage('src/dreambooth'), onnxNode, folder('worker', 'src/dreambooth sits below src/worker')], {
    ignores: contractFiles,
  }),
  // File formats for other tools: pure functions the worker and Node tools both call.
  layer(['src/interop/**'], [pretrain, outsideSrc, notThePage('src/interop'), onnxNode, folder('worker', 'src/interop sits below src/worker')]),
  layer(
    ['src/model/**', 'src/diffusion/**', 'src/text/**'],
    [
      pretrain,
      outsideSrc,
      notThePage('model, diffusion and text'),
      folder(
        '(?:worker|generation|dreambooth|protocol)',
        'src/model, src/diffusion and src/text sit below the worker, generation, training and the job protocol',
      ),
    ],
    { ignores: contractFiles },
  ),
  layer(
    ['src/engine/**'],
    SRC_FOLDERS.filter((name) => name !== 'engine').map((name) =>
      folder(name, `src/engine imports nothing from src outside itself (src/${name} sits above it)`, { types: false }),
    ),
  ),

  // ── Node tools ──
  layer(['src/pretrain/**'], [outsideSrc, notThePage('src/pretrain'), folder('worker', 'src/pretrain drives the engine directly, not the studio worker')]),
  // The command lines run the studio worker's own services in Node: anything below the page, nothing of it.
  layer(['src/cli/**'], [outsideSrc, notThePage('src/cli')]),

  // ── Tests may cross layers ──
  { files: TESTS, rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [outsideSrc] }] } },
);
