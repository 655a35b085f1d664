/**
 * Reverse-mode differentiation of graphs built with src/engine/graph.
 *
 *   const grads = gradients(g, loss);               // all trainable parameters
 *   const dW = grads.get(w)!;                        // a Tensor in the same graph, shape of w
 *
 * The per-op rules live in one table (rules.ts), each group with its finite-difference test beside it.
 */
export { gradients } from './gradients';
export type { GradientOptions } from './gradients';
export { gradientRules } from './rules';
export type { GradRule, GradThunk, RuleArgs } from './rule';
