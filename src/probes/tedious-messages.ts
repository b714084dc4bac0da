// tedious writes some protocol notes straight to console.error ("Tedious > Unsupported
// ENVCHANGE type 21"). They are evidence about the server's answer, not output for
// the user: while a login runs, lines that start with "Tedious > " go to that login
// (found through the async context its sockets were created in), never to stderr.
//
// API: captureTediousMessages(onMessage, run) -> run()'s result
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';

type Sink = (line: string) => void;

const sinks = new AsyncLocalStorage<Sink>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = console.error.bind(console);
  console.error = (...args: unknown[]): void => {
    const line = format(...args);
    const sink = line.startsWith('Tedious > ') ? sinks.getStore() : undefined;
    if (sink) sink(line.slice('Tedious > '.length));
    else original(...args);
  };
}

/** Runs `run` (which drives a tedious connection); tedious' console notes made on its behalf go to `onMessage`. */
export function captureTediousMessages<T>(onMessage: Sink, run: () => Promise<T>): Promise<T> {
  install();
  return sinks.run(onMessage, run);
}
