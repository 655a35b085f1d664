import { describe, expect, it } from 'vitest';
import { parseBatchJsonl } from './batchRequests';

describe('parseBatchJsonl', () => {
  it('returns every valid request with its line number', () => {
    const text = [
      '{"custom_id": "dog-beach", "prompt": "a photo of sks dog on the beach", "steps": 25, "seed": 7}',
      '{"custom_id": "dog-snow", "prompt": "a photo of sks dog in the snow", "negative_prompt": "blurry", "guidance_scale": 7.5, "sampler": "euler_a", "num_images": 4, "width": 64, "height": 64}',
      '',
      '{"custom_id": "plain", "prompt": ""}',
    ].join('\n');
    const { entries, errors } = parseBatchJsonl(text);
    expect(errors).toEqual([]);
    expect(entries.map((e) => [e.line, e.request.custom_id])).toEqual([
      [1, 'dog-beach'],
      [2, 'dog-snow'],
      [4, 'plain'],
    ]);
    expect(entries[1].request).toEqual({
      custom_id: 'dog-snow',
      prompt: 'a photo of sks dog in the snow',
      negative_prompt: 'blurry',
      guidance_scale: 7.5,
      sampler: 'euler_a',
      num_images: 4,
      width: 64,
      height: 64,
    });
  });

  it('reports each bad field by line number and field, and still returns the valid lines', () => {
    const text = [
      '{"custom_id": "ok-1", "prompt": "a dog"}',
      '{"custom_id": "bad-steps", "prompt": "a dog", "steps": 0}',
      '{"custom_id": "bad-many", "prompt": "a dog", "steps": 2.5, "sampler": "plms", "seed": -1, "width": 4, "stepz": 3}',
      '{"prompt": "no id"}',
      '{"custom_id": "ok-2", "prompt": "a cat"}',
    ].join('\n');
    const { entries, errors } = parseBatchJsonl(text);
    expect(entries.map((e) => e.request.custom_id)).toEqual(['ok-1', 'ok-2']);
    expect(errors.map((e) => e.message)).toEqual([
      'line 2: /steps must be ≥ 1',
      'line 3: /stepz is not a known field',
      'line 3: /steps must be an integer',
      'line 3: /sampler must be one of DDIM, Euler a, DPM++ 2M (or ddim, euler_a, dpmpp_2m; any case)',
      'line 3: /seed must be ≥ 0',
      'line 3: /width must be ≥ 8',
      'line 4: /custom_id is required',
    ]);
    expect(errors.map((e) => [e.line, e.field])).toContainEqual([3, '/sampler']);
  });

  it('reports invalid JSON and non-object lines by line number', () => {
    const { entries, errors } = parseBatchJsonl('{"custom_id": "a", "prompt": "x"}\n{"custom_id": "b", prompt: x}\n[1, 2]\n');
    expect(entries).toHaveLength(1);
    expect(errors[0].line).toBe(2);
    // The column within the line, never a "line 1" that is not the file's line.
    expect(errors[0].message).toBe(
      `line 2: invalid JSON at column 20: ${(() => {
        try {
          JSON.parse('{"custom_id": "b", prompt: x}');
        } catch (e) {
          return (e as Error).message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/\s*in JSON at position \d+/, '');
        }
      })()}`,
    );
    expect(errors[0].message).not.toMatch(/line 1|position/);
    expect(errors[1]).toEqual({ line: 3, field: undefined, message: 'line 3: the request must be a JSON object' });
  });

  it('takes the sampler names the form shows, in any case, as well as the ids', () => {
    const names = ['DDIM', 'euler A', 'dpm++ 2m', 'DPMPP_2M', ' Euler a '];
    const text = names.map((sampler, i) => JSON.stringify({ custom_id: `s${i}`, prompt: 'x', sampler })).join('\n');
    const { entries, errors } = parseBatchJsonl(text);
    expect(errors).toEqual([]);
    expect(entries.map((e) => e.request.sampler)).toEqual(['ddim', 'euler_a', 'dpmpp_2m', 'dpmpp_2m', 'euler_a']);
  });

  it('gives the column of a JSON error as the browser reports it', () => {
    // Chromium's V8 adds "(line 1 column N)"; Node 20's says only the position.
    const { errors } = parseBatchJsonl('\n\n\n{"custom_id": "a", "prompt": "x" "steps": 2}');
    expect(errors[0]!.message).toMatch(/^line 4: invalid JSON at column 34: /);
  });

  it('rejects a repeated custom_id, naming the first line, and keeps the first request', () => {
    const text = '{"custom_id": "x", "prompt": "first"}\n{"custom_id": "y", "prompt": "other"}\n{"custom_id": "x", "prompt": "second"}';
    const { entries, errors } = parseBatchJsonl(text);
    expect(entries.map((e) => e.request.prompt)).toEqual(['first', 'other']);
    expect(errors).toEqual([{ line: 3, field: '/custom_id', message: 'line 3: /custom_id "x" is already used on line 1' }]);
  });

  it('accepts CRLF line ends and a byte-order mark', () => {
    const { entries, errors } = parseBatchJsonl('\uFEFF{"custom_id": "a", "prompt": "x"}\r\n{"custom_id": "b", "prompt": "y"}\r\n');
    expect(errors).toEqual([]);
    expect(entries.map((e) => e.line)).toEqual([1, 2]);
  });
});
