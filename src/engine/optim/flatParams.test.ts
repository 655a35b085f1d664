import { describe, expect, test } from 'vitest';
import { GraphBuilder } from '../graph';
import { makeLayout, paramsFromFlatInput } from './flatParams';

describe('paramsFromFlatInput', () => {
  const graph = () => {
    const g = new GraphBuilder('flat');
    const x = g.input('x', 'float32', [1, 2]);
    g.output(g.matmul(x, g.param('w', [2, 3], new Float32Array(6))), 'y');
    return g;
  };

  test('a parameter in the layout becomes a slice of one flat input; one outside it stays baked in; what it read is reported', () => {
    const read = new Set<string>();
    const layout = makeLayout([
      { name: 'w', shape: [2, 3] },
      { name: 'elsewhere', shape: [4] },
    ]);
    const out = paramsFromFlatInput(graph(), layout, 'values', read);
    expect([...read]).toEqual(['w']);
    expect(out.inputs.map((t) => [t.name, t.shape])).toEqual([
      ['x', [1, 2]],
      ['values', [10]],
    ]);
    expect(out.parameters()).toEqual([]);
    const untouched = paramsFromFlatInput(graph(), makeLayout([{ name: 'v', shape: [6] }]), 'values');
    expect(untouched.inputs.map((t) => t.name)).toEqual(['x']);
    expect(untouched.parameters().map((p) => p.tensor.name)).toEqual(['w']);
  });

  test('values laid out in another shape than the parameter are refused, naming it', () => {
    expect(() => paramsFromFlatInput(graph(), makeLayout([{ name: 'w', shape: [3, 2] }]), 'values')).toThrow(
      "w: the values are laid out as [3, 2], the graph's parameter is [2, 3]",
    );
  });
});
