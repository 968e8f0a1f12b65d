// Replays recorded executions on a second ASL interpreter (aws-local-stepfunctions), in ONE process.
//
// stdin: a JSON list of cases {name, definition, input, context, outcomes: {state: [outcome, ...]}}
// where an outcome is {result} or {error, cause}: what the Lambda behind that Task state returned
// (or how it failed) in the moto run, in order. stdout: a JSON list, per case, of what this
// interpreter did: {name, states: [{state, type, input, output}], tasks: [{state, input}], end}.
//
// Task states run a local handler that hands back the recorded outcomes; `Seconds` waits are
// shortened to 0; `TimestampPath` waits are NOT overridden, so the library's own RFC 3339 check
// runs on them (the recorded wake times lie in the past: the moto run's virtual clock starts years
// ago, so they end at once); Retry pauses are 0.
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const RUN_LIMIT_MS = 20000;

function states(definition, type) {
  return Object.entries(definition.States).filter(([, s]) => s.Type === type).map(([name, s]) => [name, s]);
}

// The library validates a definition when it builds a machine (about a second each): build each
// distinct definition once; several cases run the same journey.
const machines = new Map();
function machineFor(definition) {
  const key = JSON.stringify(definition);
  if (!machines.has(key)) machines.set(key, new StateMachine(definition));
  return machines.get(key);
}

async function replay(c) {
  const seen = { name: c.name, states: [], tasks: [], end: null };
  const queues = Object.fromEntries(Object.entries(c.outcomes).map(([k, v]) => [k, [...v]]));
  const taskHandlers = {};
  const retryOverrides = {};
  for (const [name] of states(c.definition, 'Task')) {
    retryOverrides[name] = 0;
    taskHandlers[name] = async (input) => {
      seen.tasks.push({ state: name, input });
      const next = (queues[name] || []).shift();
      if (next === undefined) {
        throw Object.assign(new Error(`no recorded outcome left for Task '${name}'`), { name: 'Fidelity.NoRecordedOutcome' });
      }
      if ('error' in next) {
        throw Object.assign(new Error(next.cause ?? ''), { name: next.error });
      }
      return next.result;
    };
  }
  const waitOverrides = {};
  for (const [name, s] of states(c.definition, 'Wait')) {
    if (s.Seconds !== undefined) waitOverrides[name] = 0;
  }
  let machine;
  try {
    machine = machineFor(c.definition);
  } catch (error) {
    seen.end = { status: 'INVALID', error: error.name, cause: error.message };
    return seen;
  }
  const execution = machine.run(c.input, {
    overrides: { taskResourceLocalHandlers: taskHandlers, waitTimeOverrides: waitOverrides, retryIntervalOverrides: retryOverrides },
    context: c.context,
    noThrowOnAbort: true,
  });
  const timer = setTimeout(() => execution.abort(), RUN_LIMIT_MS);
  const logging = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') {
        seen.states.push({ state: event.state.name, type: event.state.type, input: event.state.input });
      } else if (event.type === 'StateExited') {
        const last = seen.states[seen.states.length - 1];
        if (last && last.state === event.state.name) last.output = event.state.output;
      }
    }
  })();
  try {
    const output = await execution.result;
    seen.end = output === null ? { status: 'ABORTED', cause: `still running after ${RUN_LIMIT_MS} ms` } : { status: 'SUCCEEDED', output };
  } catch (error) {
    const inner = error.cause ?? error;
    seen.end = { status: 'FAILED', error: inner.name, cause: inner.message };
  } finally {
    clearTimeout(timer);
  }
  await logging;
  return seen;
}

const source = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : readFileSync(0, 'utf8');
const results = [];
for (const c of JSON.parse(source)) {
  results.push(await replay(c));  // one after another: a shared machine is never run twice at once
}
process.stdout.write(JSON.stringify(results));
