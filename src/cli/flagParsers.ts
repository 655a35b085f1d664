/**
 * commander argument parsers shared by the command lines: the flag's type here; its range is checked by the schema
 * of the settings or request it fills, which names the field.
 */
import { InvalidArgumentError } from 'commander';

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number ≥ 0.');
  return Number(value);
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number.');
  return n;
}
