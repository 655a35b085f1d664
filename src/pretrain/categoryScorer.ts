/**
 * The evaluation's scorer: which category an image shows, by its nearest real image (cosine similarity of
 * standardized {@link imageFeatures}). Trained only on dataset images; its own accuracy is measured by holding out
 * one artwork at a time (train on the other three styles, classify the fourth), which is harder than a random split.
 */
import { imageFeatures } from './imageFeatures';

export interface LabelledImage {
  readonly label: string;
  /** Artwork the image comes from (the held-out unit). */
  readonly group: string;
  readonly rgb: Uint8Array;
}

export class CategoryScorer {
  private constructor(
    private readonly mean: Float64Array,
    private readonly std: Float64Array,
    private readonly refs: readonly { label: string; f: Float64Array }[],
  ) {}

  static fit(images: readonly LabelledImage[]): CategoryScorer {
    if (images.length === 0) throw new Error('CategoryScorer: no reference images');
    const feats = images.map((im) => imageFeatures(im.rgb));
    const d = feats[0]!.length;
    const mean = new Float64Array(d);
    const std = new Float64Array(d);
    for (const f of feats) for (let i = 0; i < d; i++) mean[i]! += f[i]! / feats.length;
    for (const f of feats) for (let i = 0; i < d; i++) std[i]! += (f[i]! - mean[i]!) ** 2 / feats.length;
    for (let i = 0; i < d; i++) std[i] = Math.sqrt(std[i]!) + 1e-6;
    const s = new CategoryScorer(mean, std, []);
    return new CategoryScorer(
      mean,
      std,
      images.map((im, k) => ({ label: im.label, f: s.standardize(feats[k]!) })),
    );
  }

  /** Unit-length standardized features (cosine similarity is then a dot product). */
  embed(rgb: Uint8Array): Float64Array {
    return this.standardize(imageFeatures(rgb));
  }

  classify(rgb: Uint8Array): string {
    const f = this.embed(rgb);
    let best = -Infinity;
    let label = '';
    for (const r of this.refs) {
      let dot = 0;
      for (let i = 0; i < f.length; i++) dot += f[i]! * r.f[i]!;
      if (dot > best) [best, label] = [dot, r.label];
    }
    return label;
  }

  private standardize(f: Float64Array): Float64Array {
    const out = f.map((v, i) => (v - this.mean[i]!) / this.std[i]!);
    const n = Math.hypot(...out) || 1;
    return out.map((v) => v / n);
  }
}

/** Accuracy of the scorer on each artwork when fitted on the others, and their mean. */
export function heldOutAccuracy(images: readonly LabelledImage[]): { mean: number; byGroup: Record<string, number> } {
  const groups = [...new Set(images.map((im) => im.group))];
  const byGroup: Record<string, number> = {};
  for (const g of groups) {
    const scorer = CategoryScorer.fit(images.filter((im) => im.group !== g));
    const test = images.filter((im) => im.group === g);
    byGroup[g] = test.filter((im) => scorer.classify(im.rgb) === im.label).length / test.length;
  }
  return { mean: Object.values(byGroup).reduce((a, b) => a + b, 0) / groups.length, byGroup };
}

/** Mean pairwise cosine distance between the images' embeddings: 0 when all are the same picture. */
export function diversity(scorer: CategoryScorer, images: readonly Uint8Array[]): number {
  const e = images.map((im) => scorer.embed(im));
  let sum = 0;
  let n = 0;
  for (let a = 0; a < e.length; a++) {
    for (let b = a + 1; b < e.length; b++) {
      let dot = 0;
      for (let i = 0; i < e[a]!.length; i++) dot += e[a]![i]! * e[b]![i]!;
      sum += 1 - dot;
      n++;
    }
  }
  return n ? sum / n : 0;
}
