import { afterEach, describe, expect, it } from 'vitest';
import { JobClient } from './client';
import { JobError, type Endpoint, type JobSpec } from './jobs';
import { RestartingJobClient } from './restartingClient';
import { serveJobs, type JobHandlers } from './server';

type TestJobs = {
  echo: JobSpec<{ text: string }, string>;
  count: JobSpec<{ to: number }, number, number>;
  wait: JobSpec<undefined, string>;
  reject: JobSpec<{ kind: 'bad-input' | 'crash' }, never>;
  take: JobSpec<{ buffer: ArrayBuffer }, ArrayBuffer>;
};

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

/** A client and a server joined by a real MessageChannel, so every message is structured-cloned. */
function connect(handlers: JobHandlers<TestJobs>) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  serveJobs<TestJobs>(port2 as unknown as Endpoint, handlers);
  const client = new JobClient<TestJobs>(port1 as unknown as Endpoint);
  port1.start();
  port2.start();
  return client;
}

const waitAborted = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

function handlers(overrides: Partial<JobHandlers<TestJobs>> = {}): JobHandlers<TestJobs> {
  return {
    echo: ({ text }) => text.toUpperCase(),
    count: async ({ to }, { progress }) => {
      for (let i = 1; i <= to; i++) progress(i);
      return to * 10;
    },
    wait: async (_, { signal }) => {
      await waitAborted(signal);
      return 'finished after cancel';
    },
    reject: ({ kind }) => {
      if (kind === 'bad-input') throw new JobError('bad-input', 'width is negative', 'width');
      throw new TypeError('boom');
    },
    take: ({ buffer }, { transfer }) => {
      const doubled = new Uint8Array(buffer).map((b) => b * 2).buffer;
      transfer(doubled);
      return doubled;
    },
    ...overrides,
  };
}

describe('job protocol', () => {
  it('answers each request with its own handler result', async () => {
    const client = connect(handlers());
    const [a, b] = await Promise.all([client.request('echo', { text: 'a' }), client.request('echo', { text: 'b' })]);
    expect([a, b]).toEqual(['A', 'B']);
    expect(client.inFlight).toBe(0);
  });

  it('delivers progress events in order before the result', async () => {
    const client = connect(handlers());
    const seen: number[] = [];
    const result = await client.request('count', { to: 4 }, { onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(result).toBe(40);
  });

  it('keeps the code and field of a JobError, and reports other throws as failed', async () => {
    const client = connect(handlers());
    const bad = await client.request('reject', { kind: 'bad-input' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(JobError);
    expect(bad).toMatchObject({ code: 'bad-input', message: 'width is negative', field: 'width' });
    const crash = await client.request('reject', { kind: 'crash' }).catch((e: unknown) => e);
    expect(crash).toMatchObject({ code: 'failed', message: 'boom' });
  });

  it('names a job type the worker does not know', async () => {
    const client = connect(handlers());
    const unknown = client as unknown as JobClient<{ nope: JobSpec<undefined, never> }>;
    await expect(unknown.request('nope', undefined)).rejects.toMatchObject({ code: 'unknown-job', message: expect.stringContaining('"nope"') });
  });

  it('cancels: the handler sees its signal abort, the caller gets `cancelled` and no late result', async () => {
    let handlerSawAbort!: () => void;
    const aborted = new Promise<void>((resolve) => (handlerSawAbort = resolve));
    const client = connect(
      handlers({
        wait: async (_, { signal }) => {
          await waitAborted(signal);
          handlerSawAbort();
          return 'finished after cancel';
        },
      }),
    );
    const controller = new AbortController();
    const pending = client.request('wait', undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10)); // let the request reach the handler
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    await aborted;
    expect(client.inFlight).toBe(0);
    // The connection still works after a cancel.
    await expect(client.request('echo', { text: 'still here' })).resolves.toBe('STILL HERE');
  });

  it('does not start a request whose signal is already aborted', async () => {
    let started = false;
    const client = connect(handlers({ echo: () => ((started = true), 'ran') }));
    const controller = new AbortController();
    controller.abort();
    await expect(client.request('echo', { text: 'x' }, { signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
    await client.request('count', { to: 1 }); // a later round trip: the echo would have arrived by now
    expect(started).toBe(false);
  });

  it('moves transferred buffers instead of copying them, both ways', async () => {
    const client = connect(handlers());
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    const result = await client.request('take', { buffer }, { transfer: [buffer] });
    expect(buffer.byteLength).toBe(0); // detached: it was moved to the worker
    expect([...new Uint8Array(result)]).toEqual([2, 4, 6]);
  });

  it('rejects every pending job as failed when the worker dies, and refuses new ones instead of hanging', async () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    serveJobs<TestJobs>(port2 as unknown as Endpoint, handlers());
    const stops: JobError[] = [];
    const client = new JobClient<TestJobs>(port1 as unknown as Endpoint, (error) => stops.push(error));
    port1.start();
    port2.start();
    const first = client.request('wait', undefined);
    const second = client.request('wait', undefined);
    await new Promise((r) => setTimeout(r, 10)); // both requests are with the worker
    // What a Worker fires when it runs out of memory; Node has no ErrorEvent, so an Event with its message.
    port1.dispatchEvent(Object.assign(new Event('error'), { message: 'RangeError: Array buffer allocation failed' }));
    for (const pending of [first, second]) {
      await expect(pending).rejects.toMatchObject({
        code: 'failed',
        message: 'The studio worker stopped (RangeError: Array buffer allocation failed). Try again: the studio starts a fresh worker (saved work is kept).',
      });
    }
    expect(client.inFlight).toBe(0);
    expect(stops).toHaveLength(1);
    await expect(client.request('echo', { text: 'x' })).rejects.toMatchObject({ code: 'failed' });
  });

  it('treats a messageerror (an answer that cannot be read) the same way', async () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    serveJobs<TestJobs>(port2 as unknown as Endpoint, handlers());
    const client = new JobClient<TestJobs>(port1 as unknown as Endpoint);
    port1.start();
    port2.start();
    const pending = client.request('wait', undefined);
    port1.dispatchEvent(new Event('messageerror'));
    await expect(pending).rejects.toMatchObject({ code: 'failed', message: expect.stringMatching(/^The studio worker stopped\. Try again/) });
    expect(client.inFlight).toBe(0);
  });

  it('a device-lost answer rejects that job with its message, fails the others and stops the worker', async () => {
    class DeviceGone extends Error {}
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    serveJobs<TestJobs>(
      port2 as unknown as Endpoint,
      handlers({
        reject: () => {
          throw new DeviceGone('the GPU device was lost (destroyed)');
        },
      }),
      { codeOf: (cause) => (cause instanceof DeviceGone ? 'device-lost' : undefined) },
    );
    const stops: JobError[] = [];
    const client = new JobClient<TestJobs>(port1 as unknown as Endpoint, (error) => stops.push(error));
    port1.start();
    port2.start();
    const waiting = client.request('wait', undefined);
    await expect(client.request('reject', { kind: 'crash' })).rejects.toMatchObject({ code: 'device-lost', message: 'the GPU device was lost (destroyed)' });
    await expect(waiting).rejects.toMatchObject({ code: 'failed', message: expect.stringMatching(/lost its GPU device\. Try again/) });
    expect(stops).toHaveLength(1);
    expect(client.inFlight).toBe(0);
  });

  it('an error the handler threw keeps the default code when codeOf does not name one', async () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    serveJobs<TestJobs>(port2 as unknown as Endpoint, handlers(), { codeOf: () => undefined });
    const client = new JobClient<TestJobs>(port1 as unknown as Endpoint);
    port1.start();
    port2.start();
    await expect(client.request('reject', { kind: 'crash' })).rejects.toMatchObject({ code: 'failed', message: 'boom' });
  });
});

describe('RestartingJobClient', () => {
  /** Each start serves a fresh set of handlers; `devices` says whether that worker's GPU is still there. */
  function restarting() {
    const terminated: number[] = [];
    let n = 0;
    const client = new RestartingJobClient<TestJobs>(() => {
      const worker = ++n;
      const { port1, port2 } = new MessageChannel();
      ports.push(port1, port2);
      let lost = false;
      serveJobs<TestJobs>(
        port2 as unknown as Endpoint,
        handlers({
          echo: ({ text }) => {
            if (lost) throw new Error('unreachable: a lost worker must not be asked again');
            return `${text} from worker ${worker}`;
          },
          reject: () => {
            lost = true;
            throw new JobError('device-lost', 'the GPU device was lost');
          },
        }),
      );
      port1.start();
      port2.start();
      return { endpoint: port1 as unknown as Endpoint, terminate: () => (terminated.push(worker), port1.close(), port2.close()) };
    });
    return { client, terminated };
  }

  it('starts its worker on the first request and keeps it while it works', async () => {
    const { client, terminated } = restarting();
    expect(client.workersStarted).toBe(0);
    expect(await client.request('echo', { text: 'a' })).toBe('a from worker 1');
    expect(await client.request('echo', { text: 'b' })).toBe('b from worker 1');
    expect(client.workersStarted).toBe(1);
    expect(terminated).toEqual([]);
  });

  it('after a device loss, ends that worker, says so, and answers the next request from a fresh one', async () => {
    const { client, terminated } = restarting();
    const ended: number[] = [];
    client.onWorkerEnded(() => ended.push(client.workersStarted));
    await client.request('echo', { text: 'a' });
    await expect(client.request('reject', { kind: 'crash' })).rejects.toMatchObject({ code: 'device-lost' });
    expect(terminated).toEqual([1]);
    expect(ended).toEqual([1]);
    expect(await client.request('echo', { text: 'again' })).toBe('again from worker 2');
    expect(client.workersStarted).toBe(2);
  });
});
