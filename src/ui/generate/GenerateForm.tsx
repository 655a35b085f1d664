import { useId, type FormEvent, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { useBatch, useGenerate } from '../../state/generateStudio';
import { NumberField, SamplerField } from '../FormFields';
import { ModelPicker } from './ModelPicker';
import { PromptLengthNote } from './PromptLengthNote';
import { useDreamboothBlock } from './useDreamboothBlock';
import { GENERATE_LIMITS, type GenerateField } from '../../state/generateForm';

const { steps, guidanceScale, numImages } = GENERATE_LIMITS;

/** Prompt and sampling settings; every field labelled and checked, problems shown beside the field. */
export function GenerateForm({ promptRef }: { promptRef: RefObject<HTMLTextAreaElement | null> }) {
  const { form, problems, running, lastSeed, model, setField, rollSeed, reuseLastSeed, generate } = useGenerate();
  const batchRunning = useBatch((s) => s.running);
  const id = useId();
  // While the model is being prepared a run would only wait behind it, unseen: the button waits visibly instead.
  const preparing = model.status === 'loading';
  // One activity at a time: training or class images hold the worker's device.
  const blockedBy = useDreamboothBlock();
  const busy = running !== null || batchRunning || preparing || blockedBy !== null;

  // A fixed seed needs a number: the last one used, else a fresh one.
  function fixSeed() {
    if (form.seed.trim() !== '') setField('seedMode', 'fixed');
    else if (lastSeed !== null) reuseLastSeed();
    else rollSeed();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!busy) void generate();
  }
  // Ctrl/⌘+Enter in a prompt generates, as in other SD tools.
  function submitOnModEnter(event: KeyboardEvent) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit(event);
  }

  const describedBy = (field: GenerateField, hint: boolean) =>
    [hint ? `${id}-${field}-hint` : '', problems[field] ? `${id}-${field}-error` : ''].filter(Boolean).join(' ') || undefined;
  const error = (field: GenerateField) =>
    problems[field] && (
      <p id={`${id}-${field}-error`} className="field-error" role="alert">
        {problems[field]}
      </p>
    );
  const numberField = (field: 'steps' | 'guidanceScale' | 'numImages', label: string, hint: string, decimal = false): ReactNode => (
    <NumberField
      id={`${id}-${field}`}
      name={field}
      label={label}
      hint={hint}
      value={form[field]}
      problem={problems[field]}
      decimal={decimal}
      onChange={(value) => setField(field, value)}
    />
  );

  return (
    <form className="generate-form panel" onSubmit={submit} noValidate aria-label="Generate settings">
      <ModelPicker />
      <div className="field">
        <label htmlFor={`${id}-prompt`}>Prompt</label>
        <textarea
          ref={promptRef}
          id={`${id}-prompt`}
          name="prompt"
          rows={3}
          value={form.prompt}
          aria-invalid={problems.prompt ? true : undefined}
          aria-describedby={`${describedBy('prompt', true)} ${id}-prompt-tokens`}
          onChange={(e) => setField('prompt', e.target.value)}
          onKeyDown={submitOnModEnter}
        />
        <p id={`${id}-prompt-hint`} className="hint">
          What the picture shows. Ctrl+Enter generates.
        </p>
        <PromptLengthNote text={form.prompt} id={`${id}-prompt-tokens`} />
        {error('prompt')}
      </div>
      <div className="field">
        <label htmlFor={`${id}-negativePrompt`}>Negative prompt</label>
        <textarea
          id={`${id}-negativePrompt`}
          name="negativePrompt"
          rows={2}
          value={form.negativePrompt}
          aria-invalid={problems.negativePrompt ? true : undefined}
          aria-describedby={`${describedBy('negativePrompt', true)} ${id}-negativePrompt-tokens`}
          onChange={(e) => setField('negativePrompt', e.target.value)}
          onKeyDown={submitOnModEnter}
        />
        <p id={`${id}-negativePrompt-hint`} className="hint">
          What to steer away from, e.g. “blurry”. Optional.
        </p>
        <PromptLengthNote text={form.negativePrompt} id={`${id}-negativePrompt-tokens`} />
        {error('negativePrompt')}
      </div>

      <div className="field-grid">
        <SamplerField id={`${id}-sampler`} value={form.sampler} onChange={(value) => setField('sampler', value)} />
        {numberField('steps', 'Steps', `${steps.min}–${steps.max}. Typical: 20–30.`)}
        {numberField('guidanceScale', 'Guidance scale', `${guidanceScale.min}–${guidanceScale.max}; higher follows the prompt more. Typical: 7.5.`, true)}
        {numberField('numImages', 'Number of images', `${numImages.min}–${numImages.max}, made together.`)}
      </div>

      <fieldset className="field seed-field">
        <legend>Seed</legend>
        <div className="seed-row">
          <label className="choice">
            <input type="radio" name={`${id}-seedMode`} checked={form.seedMode === 'random'} onChange={() => setField('seedMode', 'random')} />
            Random each time
          </label>
          <label className="choice">
            <input type="radio" name={`${id}-seedMode`} checked={form.seedMode === 'fixed'} onChange={fixSeed} />
            Fixed:
          </label>
          <input
            className="seed-input"
            name="seed"
            aria-label="Seed number"
            inputMode="numeric"
            autoComplete="off"
            placeholder={form.seedMode === 'random' ? 'drawn at each run' : '0–4294967295'}
            value={form.seedMode === 'random' ? '' : form.seed}
            aria-invalid={problems.seed ? true : undefined}
            aria-describedby={describedBy('seed', true)}
            onChange={(e) => {
              setField('seedMode', 'fixed');
              setField('seed', e.target.value);
            }}
          />
          <button type="button" className="secondary icon-button" onClick={rollSeed} title="Roll a new random seed and keep it fixed">
            <span aria-hidden="true" className="glyph">
              ⚄
            </span>{' '}
            New seed
          </button>
          <button
            type="button"
            className="secondary icon-button"
            onClick={reuseLastSeed}
            disabled={lastSeed === null}
            title="Use the seed of the last image again"
          >
            <span aria-hidden="true" className="glyph">
              ♻
            </span>{' '}
            Reuse last{lastSeed !== null ? ` (${lastSeed})` : ''}
          </button>
        </div>
        <p id={`${id}-seed-hint`} className="hint">
          The same seed and settings make the same picture. Image <i>n</i> of a run uses seed + <i>n</i>.
        </p>
        {error('seed')}
      </fieldset>

      <div className="actions">
        <button type="submit" disabled={busy} data-testid="generate-button">
          {running
            ? 'Generating…'
            : batchRunning
              ? 'A batch is running'
              : blockedBy
                ? 'Waiting: the worker is busy'
                : preparing
                  ? 'Preparing the model…'
                  : 'Generate'}
        </button>
      </div>
      {blockedBy && !running && (
        <p className="hint" role="status" data-testid="generate-blocked">
          {blockedBy}
        </p>
      )}
    </form>
  );
}
