// Command handlers of the bank example, bound by name from project.yaml (`handler: { module, export }`).
// A handler gets the current state, the validated body and a context, and returns the events to append.

/**
 * Closes an account: only once it is empty. `ctx.reject` answers 422 MR_ES_REJECTED and stores nothing.
 * @param {{ open: boolean, balance: number }} state
 * @param {{ reason?: string }} input
 * @param {{ aggregateId: string, version: number, reject: (message: string) => never }} ctx
 */
export function close(state, input, ctx) {
  if (!state.open) ctx.reject('account is already closed');
  if (state.balance !== 0) ctx.reject(`account ${ctx.aggregateId} still holds ${state.balance}; withdraw it first`);
  return [{ type: 'Closed', data: {} }];
}
