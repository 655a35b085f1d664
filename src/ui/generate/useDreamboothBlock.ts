import { usePriors, useTrain } from '../../state/dreamboothStudio';
import { isActive } from '../../state/trainStore';

/** Why the Generate step cannot run now (training or class images use the worker), or null. */
export function useDreamboothBlock(): string | null {
  const training = useTrain((s) => isActive(s.run));
  const priors = usePriors((s) => s.running !== null);
  if (training) return 'Training is running on step 3. Generate once it is done, or pause it there (it resumes from its checkpoint).';
  if (priors) return 'Class images are being made on step 2. Generate once they are done, or cancel them there.';
  return null;
}
