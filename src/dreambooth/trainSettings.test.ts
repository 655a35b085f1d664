import { describe, expect, it } from 'vitest';
import { PRESETS, checkTrainSettings, presetSettings } from './trainSettings';
import { TRAIN_SETTINGS_SCHEMA } from './trainSettingsSchema';

describe('training settings', () => {
  it('the schema requires exactly the settings every preset has, in their order', () => {
    for (const preset of PRESETS) expect(TRAIN_SETTINGS_SCHEMA.required, preset.id).toEqual(Object.keys(preset.settings));
  });

  it('every preset passes the check', () => {
    for (const preset of PRESETS) expect(checkTrainSettings(presetSettings(preset.id))).toEqual(preset.settings);
  });

  it('names the exact field of a bad value, under the path it came from', () => {
    expect(() => checkTrainSettings({ ...presetSettings('object'), loraRank: 500 })).toThrow('/loraRank must be ≤ 128');
    expect(() => checkTrainSettings({ ...presetSettings('object'), loraRank: 500 }, '/settings')).toThrow('/settings/loraRank must be ≤ 128');
    const { steps: _, ...missing } = presetSettings('quick');
    expect(() => checkTrainSettings(missing)).toThrow(/steps/);
    expect(() => checkTrainSettings({ ...presetSettings('pet'), warmupSteps: 700 })).toThrow('/warmupSteps (700) must not exceed /steps (600)');
  });
});
