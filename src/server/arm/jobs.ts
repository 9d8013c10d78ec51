// Work an ARM request starts and does not wait for (a deployment's run), each abortable, all stopped when the server closes.

/** The background work of one server process, by key. */
export interface BackgroundJobs {
  /** Starts `work` under `key` (ids compare case-insensitively); false when one already runs. */
  start(key: string, work: (signal: AbortSignal) => Promise<void>): boolean;
  /** Aborts the work under `key`; false when none runs here. */
  cancel(key: string): boolean;
  /** Whether work under `key` runs in this process. */
  running(key: string): boolean;
  /** Aborts everything and waits for it to settle; nothing starts afterwards. */
  close(): Promise<void>;
}

/**
 * The jobs of one server. A job's failure is reported to `onError` (a job records its own
 * outcome; what reaches here is a fault of the store or a programming error).
 */
export function createBackgroundJobs(onError: (error: unknown) => void): BackgroundJobs {
  const jobs = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let closed = false;
  return {
    start(key, work) {
      const id = key.toLowerCase();
      if (closed || jobs.has(id)) return false;
      const controller = new AbortController();
      const done = work(controller.signal)
        .catch(onError)
        .finally(() => {
          jobs.delete(id);
        });
      jobs.set(id, { controller, done });
      return true;
    },
    cancel(key) {
      const job = jobs.get(key.toLowerCase());
      job?.controller.abort();
      return job !== undefined;
    },
    running: (key) => jobs.has(key.toLowerCase()),
    async close() {
      closed = true;
      const all = [...jobs.values()];
      for (const job of all) job.controller.abort();
      await Promise.all(all.map((job) => job.done));
    },
  };
}
