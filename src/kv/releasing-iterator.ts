/**
 * An async generator that holds a resource (an engine's view) releases it in
 * its `finally`, but only once its body has started: return() before the
 * first next() ends the generator without running any of it. A caller that
 * makes an iterator and then stops before stepping it (a snapshot sender
 * whose peer went away, a bucket export given up) would leave the view open
 * until the engine closes. This wrapper releases it in that case too.
 */
export function releasingIterator<T>(
  generator: AsyncGenerator<T, void, undefined>,
  release: () => Promise<void>,
): AsyncIterableIterator<T> {
  let started = false;
  const iterator: AsyncIterableIterator<T> = {
    next() {
      started = true;
      return generator.next();
    },
    async return() {
      // Started, the generator's own finally releases; not started, nothing of it will run.
      if (!started) {
        started = true;
        await release();
      }
      await generator.return(undefined);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
