/** Call queues (issue 15): the agent's log-in page, My Extension › Call Queues (unreleased). */
export const en = {
  'callQueues.agent.link': 'Call Queues',
  'callQueues.agent.title': 'Call Queues',
  'callQueues.agent.intro': 'Choose the queues whose calls you take. From a phone: *45 logs you in to all your queues, *45 followed by a queue’s number to that one; *46 logs you out the same way.',
  'callQueues.agent.none': 'You are not a member of any call queue.',
  'callQueues.agent.accept': 'Accept calls of {name} (ext. {number})',
  'callQueues.agent.loginAll': 'Log in to all',
  'callQueues.agent.logoutAll': 'Log out of all',
  'callQueues.agent.error': 'Not saved: {reason}',
};

export const fr: typeof en = {
  'callQueues.agent.link': 'Files d’attente',
  'callQueues.agent.title': 'Files d’attente',
  'callQueues.agent.intro': 'Choisissez les files d’attente dont vous prenez les appels. Depuis un téléphone : *45 vous connecte à toutes vos files, *45 suivi du numéro d’une file à celle-ci ; *46 vous déconnecte de la même façon.',
  'callQueues.agent.none': 'Vous n’êtes membre d’aucune file d’attente.',
  'callQueues.agent.accept': 'Prendre les appels de {name} (poste {number})',
  'callQueues.agent.loginAll': 'Me connecter à toutes',
  'callQueues.agent.logoutAll': 'Me déconnecter de toutes',
  'callQueues.agent.error': 'Non enregistré : {reason}',
};
