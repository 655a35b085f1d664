import { STEPS, type StepId } from '../state/navigationStore';

const WHAT_IT_WILL_DO: Record<Exclude<StepId, 'subject' | 'generate'>, string> = {
  priors:
    'Generate images of the class (e.g. “a photo of a dog”) with the base model. Training on them alongside your ' +
    'photos keeps the model from forgetting what the class looks like in general (prior preservation).',
  train: 'Fine-tune the model on your photos and the class priors in this browser, with a loss chart and preview samples.',
};

/** An honest placeholder: the step exists in the flow but is not built yet. */
export function UnavailableStep({ step }: { step: Exclude<StepId, 'subject' | 'generate'> }) {
  const title = STEPS.find((s) => s.id === step)!.title;
  return (
    <section aria-labelledby="step-heading" className="step unavailable" data-testid={`step-${step}`}>
      <h2 id="step-heading">{title}</h2>
      <p className="state-tag">Not available yet</p>
      <p>This step is not built in this version of the studio, so nothing here runs.</p>
      <p>What it will do: {WHAT_IT_WILL_DO[step]}</p>
      <p>Your subjects and photos are saved in this browser and will be used here once it exists.</p>
    </section>
  );
}
