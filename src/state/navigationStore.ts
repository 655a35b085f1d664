import { create } from 'zustand';

export const STEPS = [
  { id: 'subject', title: 'Subject' },
  { id: 'priors', title: 'Class priors' },
  { id: 'train', title: 'Train' },
  { id: 'generate', title: 'Generate' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

const isStep = (value: string): value is StepId => STEPS.some((s) => s.id === value);

/** The current step lives in the URL hash, so reload and the back button keep it. */
const stepFromHash = (): StepId => {
  const hash = globalThis.location?.hash.replace(/^#/, '') ?? '';
  return isStep(hash) ? hash : 'subject';
};

export interface NavigationState {
  step: StepId;
  goTo(step: StepId): void;
}

export const useNavigation = create<NavigationState>()((set) => {
  globalThis.addEventListener?.('hashchange', () => set({ step: stepFromHash() }));
  return {
    step: stepFromHash(),
    goTo(step) {
      if (globalThis.location.hash !== `#${step}`) globalThis.location.hash = step;
      set({ step });
    },
  };
});
