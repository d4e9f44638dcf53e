// --step: asks before each task, as ansible-playbook does: (N)o/(y)es/(c)ontinue, once per task for every host.
import { createInterface } from 'node:readline';
import { InputError } from '../errors.js';

/** The question of a run with --step; refused when there is no terminal to answer it. */
export function createStepper(): (id: string, name: string) => Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw new InputError('--step asks before each task: it needs a terminal (stdin and stderr)');
  const answers = new Map<string, Promise<boolean>>();
  let continuing = false;
  let queue: Promise<unknown> = Promise.resolve();
  // Hosts reach a task at different times: the first one asks, the others take its answer.
  return (id, name) => {
    // a task answered already keeps its answer, for a host that reaches it after a later `c`
    let answer = answers.get(id);
    if (!answer && continuing) return Promise.resolve(true);
    if (!answer) {
      answer = queue.then(async () => {
        if (continuing) return true;
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const reply = await new Promise<string>((resolve) => rl.question(`Perform task: TASK: ${name} (N)o/(y)es/(c)ontinue: `, resolve));
        rl.close();
        const r = reply.trim().toLowerCase();
        if (r === 'c' || r === 'continue') continuing = true;
        return continuing || r === 'y' || r === 'yes';
      });
      queue = answer;
      answers.set(id, answer);
    }
    return answer;
  };
}
