/**
 * "Have I handled this event already?" for asynchronously invoked functions. Lambda's asynchronous invocation may
 * deliver one event more than once, and keeps retrying a throttled one for up to the function's maximum event age
 * (Lambda Developer Guide, "Asynchronous invocation"). A function takes an event by writing a marker object with
 * `If-None-Match: *`: S3 writes it only when no object has that key, and answers 412 Precondition Failed otherwise
 * (S3 User Guide, "Conditional writes"), so of two deliveries exactly one takes it.
 *
 * Pure: the store is a port (an S3 adapter in s3-marker-store.ts; tests use a conditional in-memory store).
 */
import { createHash } from 'node:crypto';

/** Port: an object store with conditional create. */
export interface MarkerStore {
  /** Writes `body` at `key` only if no object is there. true: written (the event is ours); false: one was there. */
  create(key: string, body: string): Promise<boolean>;
  /** The object's text, or undefined when there is none. */
  read(key: string): Promise<string | undefined>;
  /** Overwrites the object (the taker records how it went, for a repeated delivery to follow). */
  write(key: string, body: string): Promise<void>;
}

/** A stable id for an event from the fields that identify it (sha256, 32 hex). */
export function eventId(...parts: readonly (string | undefined)[]): string {
  return createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

export type Taken = { readonly first: true } | { readonly first: false; readonly existing?: string };

/** Takes the event: the first delivery gets `first: true`; a repeat gets `first: false` with the marker's body. */
export async function take(store: MarkerStore, key: string, body: string): Promise<Taken> {
  if (await store.create(key, body)) return { first: true };
  return { first: false, existing: await store.read(key) };
}

/** A minimal in-memory store that honours the conditional create as S3 does (for tests and for callers without S3). */
export function memoryMarkerStore(): MarkerStore & { readonly objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    async create(key, body) {
      if (objects.has(key)) return false;
      objects.set(key, body);
      return true;
    },
    async read(key) {
      return objects.get(key);
    },
    async write(key, body) {
      objects.set(key, body);
    },
  };
}
