/** Assertions shared by the fuzz targets: typed errors, hangs and byte equality. */
import assert from "node:assert/strict";
import { ErrorCode, SfsError } from "../../src/errors.ts";

/** Every code of the ErrorCode table. */
export const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/**
 * Asserts that `err` is an SfsError whose code is in the ErrorCode table (and in `allowed`, when
 * given) and returns it; anything else is a fuzzing failure.
 */
export function expectSfsError(err: unknown, allowed?: readonly ErrorCode[]): SfsError {
  if (!(err instanceof SfsError)) {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new assert.AssertionError({ message: `Expected an SfsError, got ${what}` });
  }
  assert.ok(ERROR_CODES.has(err.code), `SfsError code "${err.code}" is not in the ErrorCode table`);
  if (allowed && !allowed.includes(err.code)) {
    assert.fail(`Expected an SfsError with code ${allowed.join(" or ")}, got ${err.code}`);
  }
  return err;
}

/** Awaits `promise`, failing the case if it has not settled after `ms` (a hang). */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when `a` and `b` hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** True when `bytes` begins with `prefix`. */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => byte === bytes[i]);
}

/** Fails the case, naming `what`, unless `actual` equals `expected`. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (!equalBytes(actual, expected)) {
    assert.fail(`${what}: got ${actual.length} bytes, expected ${expected.length}, not equal`);
  }
}
