/**
 * Exports a studio training checkpoint for other tools (docs/interop.md): a LoRA file in peft/diffusers or kohya
 * naming (+ the identifier's textual-inversion file) for a LoRA run, a diffusers folder for a full fine-tune.
 *
 *   npm run export:checkpoint -- <checkpoint.safetensors> --identifier zovy --class dog --out exports/zovy [--naming kohya] [--model models/builtin]
 *
 * `--model` is the base model the run trained on; its scheduler config goes into a full export. A base model with a
 * compact vocabulary is written as one reading CLIP's ids with CLIP's tokenizer (src/interop/clipVocabularyExport.ts),
 * the identifier an added token holding the row the run trained; a LoRA export of such a model also writes that base
 * folder to `<out>/base`, since no other copy of it loads in diffusers.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadGenerationModel } from '../src/generation/generationModel';
import { checkpointExport } from '../src/interop/checkpointExport';
import { diffusersFolderFiles } from '../src/interop/diffusersFolder';
import { modelFolderExtras } from '../src/interop/modelFolderExtras';
import { nodeFolderReader } from '../src/model/nodeFolder';
import type { LoraNaming } from '../src/interop/loraFile';
import { writeFiles } from '../src/pretrain/modelWriter';

const cli = new Command('export:checkpoint')
  .description('export a training checkpoint as a LoRA (peft or kohya) or a diffusers folder')
  .argument('<checkpoint>', 'checkpoint file (a studio checkpoint safetensors)')
  .requiredOption('--identifier <word>', 'the subject identifier the run trained')
  .requiredOption('--class <noun>', 'the class noun the run trained')
  .requiredOption('--out <dir>', 'folder to write the files into')
  .option('--naming <naming>', 'LoRA key naming: peft (diffusers) or kohya (AUTOMATIC1111, ComfyUI)', 'peft')
  .option('--model <dir>', 'the base model folder the run trained on', 'models/builtin')
  .parse();
const [checkpoint] = cli.args as [string];
const o = cli.opts<{ identifier: string; class: string; out: string; naming: string; model: string }>();
if (o.naming !== 'peft' && o.naming !== 'kohya') throw new Error(`--naming must be peft or kohya, got ${o.naming}`);

const read = nodeFolderReader(o.model);
const model = await loadGenerationModel({ id: 'base', revision: 'disk', read });
const info = { identifier: o.identifier, classNoun: o.class };
const out = await checkpointExport(
  new Uint8Array(readFileSync(checkpoint)),
  model.folder,
  info,
  o.naming as LoraNaming,
  modelFolderExtras(model, o.identifier),
);
if (out.kind === 'lora' && model.vocabulary) {
  for (const [path, bytes] of diffusersFolderFiles(model.folder, undefined, modelFolderExtras(model))) {
    out.files.set(`base/${path}`, bytes);
  }
}
writeFiles(o.out, out.files);
console.log(
  JSON.stringify({
    kind: out.kind,
    out: o.out,
    files: Object.fromEntries([...out.files].map(([path, bytes]) => [path, bytes.length])),
    baseModel: out.meta.baseModel,
  }),
);
