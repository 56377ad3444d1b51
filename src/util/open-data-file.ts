import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { UserError } from './user-error.ts';

/** The one-line error for a user's file that cannot be opened or read. */
export function cannotRead(file: string, e: unknown): UserError {
  return new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
}

/**
 * Open a user's data file for reading. Non-blocking, so a FIFO named as a data file cannot hang
 * the open (a blocking open waits for a writer for ever), and refused unless it is a regular
 * file (a FIFO, device or directory has no size to check against the memory budget).
 */
export function openDataFile(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw cannotRead(file, e);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new UserError(`${file}: expected a regular file, found something else (a FIFO, device or directory)`);
  }
  return fd;
}
