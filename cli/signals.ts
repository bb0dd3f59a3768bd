// The loop commands (`collect --interval`, `agent`): SIGINT/SIGTERM end the loop after the current round, and wake a
// wait between rounds at once instead of after the interval.

export interface StopSignal {
  readonly stopping: boolean;
  /** Waits `ms`, or less when a signal arrives. */
  sleep(ms: number): Promise<void>;
  /** Stops listening for the signals. */
  release(): void;
}

export function stopOnSignals(): StopSignal {
  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return {
    get stopping() {
      return stopping;
    },
    sleep: (ms) =>
      new Promise<void>((res) => {
        const timer = setTimeout(res, Math.max(0, ms));
        wake = () => {
          clearTimeout(timer);
          res();
        };
      }).finally(() => (wake = undefined)),
    release: () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    },
  };
}
