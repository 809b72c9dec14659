/** A method called on an object in the wrong state (closed, not connected); bad arguments throw TypeError. */
export class InvalidStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }
}
