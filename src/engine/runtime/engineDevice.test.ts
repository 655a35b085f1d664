import { describe, expect, it } from 'vitest';
import { GraphBuilder, serializeGraph } from '../graph';
import { EngineDevice } from './engineDevice';
import { sessionOptions } from './sessionOptions';

describe('EngineDevice', () => {
  it('is opened once per execution provider: every caller in the realm shares it', async () => {
    const [a, b] = await Promise.all([EngineDevice.open({ ep: 'wasm' }), EngineDevice.open({ ep: 'wasm' })]);
    expect(a).toBe(b);
    expect(a.report).toMatchObject({ ep: 'wasm', kind: 'cpu' });
    expect(a.gpu).toBeNull();
  });

  it('runs sessions on its execution provider', async () => {
    const device = await EngineDevice.open({ ep: 'wasm' });
    const g = new GraphBuilder('plus_one');
    g.output(g.add(g.input('x', 'float32', [2]), 1), 'y');
    const session = await device.createSession(serializeGraph(g), sessionOptions('wasm'));
    const { y } = await session.run({ x: new device.ort.Tensor('float32', Float32Array.of(1, 2), [2]) });
    expect(Array.from(y!.data as Float32Array)).toEqual([2, 3]);
    await session.release();
  });

  it('refuses WebGPU where it cannot run, and tries again on the next open instead of keeping the failure', async () => {
    const first = EngineDevice.open({ ep: 'webgpu' });
    await expect(first).rejects.toThrow(/^WebGPU cannot run: navigator\.gpu missing$/);
    const again = EngineDevice.open({ ep: 'webgpu' });
    expect(again).not.toBe(first);
    await expect(again).rejects.toThrow(/navigator\.gpu missing/);
  });
});
