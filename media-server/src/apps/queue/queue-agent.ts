import { spellDigits } from '@carillon/domain';
import type { CallApp } from '../call-handle.ts';
import type { AgentLoginResult, QueueAgents } from './queue-ports.ts';

/**
 * An agent's keypad code (issue 15: "`*` codes to log in and out of one queue or all"): `*45` logs the
 * caller in to all its queues, `*45` + a queue's number to that one, `*46` the same for logging out
 * (routing/dial-plan.ts QUEUE_AGENT_CODES). The call is answered, the change made as the web app's
 * toggle makes it, and a spoken confirmation says what changed; then goodbye. A logged-out agent is
 * not offered the queue's calls from the next offer on.
 */
export function queueAgentApp(agents: QueueAgents): CallApp {
  return async (call, destination) => {
    if (destination.kind !== 'queue_login') return call.reject(480, 'Call Queue Not Available');
    await call.answer();
    const result = await agents.setAccepting(destination.accountId, destination.extensionId, destination.queueNumber, destination.accepting);
    await call.play({ tts: agentConfirmation(result, destination.queueNumber, destination.accepting, call.language) });
    await call.hangup();
  };
}

/** What the agent hears after its code. */
export function agentConfirmation(result: AgentLoginResult, queueNumber: string | null, accepting: boolean, language: 'en' | 'fr'): string {
  const spelled = queueNumber ? spellDigits(queueNumber) : '';
  if (language === 'fr') {
    if (result === 'not_a_member') return `Vous n'êtes pas membre de la file d'attente ${spelled}. Au revoir.`;
    if (result.queues === 0) return "Vous n'êtes membre d'aucune file d'attente. Au revoir.";
    const where = queueNumber ? `de la file d'attente ${spelled}` : 'de toutes vos files d\u2019attente';
    return accepting ? `Vous êtes connecté et recevez les appels ${where}. Au revoir.` : `Vous êtes déconnecté et ne recevez plus les appels ${where}. Au revoir.`;
  }
  if (result === 'not_a_member') return `You are not a member of queue ${spelled}. Goodbye.`;
  if (result.queues === 0) return 'You are not a member of any call queue. Goodbye.';
  const where = queueNumber ? `queue ${spelled}` : 'all your queues';
  return accepting ? `You are logged in to ${where}. Goodbye.` : `You are logged out of ${where}. Goodbye.`;
}
