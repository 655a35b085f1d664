import { describe, expect, it } from 'vitest';
import { presetSettings } from '../dreambooth/trainSettings';
import { checkTrainForm, formFromSettings, matchingPreset } from './trainForm';

describe('train form', () => {
  const object = presetSettings('object');

  it('gives back the preset settings unchanged and recognises the preset', () => {
    const form = formFromSettings(object);
    expect(checkTrainForm(form, object)).toEqual({ settings: object });
    expect(matchingPreset(form)).toBe('object');
    expect(matchingPreset({ ...form, steps: '401' })).toBeNull();
  });

  it('names every bad field with the contract’s own message', () => {
    const form = { ...formFromSettings(object), loraRank: '500', learningRate: '0', steps: 'many', seed: '' };
    expect(checkTrainForm(form, object)).toEqual({
      problems: {
        loraRank: '/loraRank must be ≤ 128',
        learningRate: '/learningRate must be > 0',
        steps: '/steps must be a number, not “many”',
        seed: '/seed is empty; it must be a number',
      },
    });
  });

  it('reports the cross-field rules beside the field they name', () => {
    const warm = checkTrainForm({ ...formFromSettings(object), schedule: 'warmup', warmupSteps: '500' }, object);
    expect(warm).toEqual({ problems: { warmupSteps: '/warmupSteps (500) must not exceed /steps (400)' } });
    const noClass = checkTrainForm({ ...formFromSettings(object), classImages: '0' }, object);
    expect(noClass).toEqual({
      problems: { classImages: '/classImages must be ≥ 1 while /priorLossWeight is above 0 (set the weight to 0 to train without class images)' },
    });
    expect(checkTrainForm({ ...formFromSettings(object), classImages: '0', priorLossWeight: '0' }, object)).toMatchObject({ settings: { classImages: 0 } });
  });
});
