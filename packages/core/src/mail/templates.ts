import type { Language } from '@carillon/db';

/** The e-mails the platform sends, in the recipient's language. */
const texts = {
  en: {
    activationSubject: (company: string) => `Activate your ${company} phone system account`,
    activationBody: (name: string, company: string, link: string, hours: number, mainNumber: string) =>
      `Hello ${name},\n\nWelcome to Carillon. Your company ${company} (main number ${mainNumber}) is ready.\n\nActivate your account within ${hours} hours:\n${link}\n\nYou will then:\n1. set your password, PIN and security question,\n2. register your emergency address,\n3. configure your account.\n`,
    inviteSubject: (company: string) => `${company} invites you to its Carillon phone system`,
    inviteBody: (name: string, company: string, extension: string, link: string, hours: number) =>
      `Hello ${name},\n\n${company} created your Carillon account (extension ${extension}).\n\nActivate it within ${hours} hours:\n${link}\n\nYou will set your password, PIN and security question.\n`,
    resetSubject: 'Reset your Carillon password',
    resetBody: (name: string, link: string, minutes: number) =>
      `Hello ${name},\n\nSomeone asked to reset the password of your Carillon account. Use this link within ${minutes} minutes:\n${link}\n\nIf it was not you, ignore this message: your password stays as it is.\n`,
  },
  fr: {
    activationSubject: (company: string) => `Activez votre compte de téléphonie ${company}`,
    activationBody: (name: string, company: string, link: string, hours: number, mainNumber: string) =>
      `Bonjour ${name},\n\nBienvenue dans Carillon. Votre entreprise ${company} (numéro principal ${mainNumber}) est prête.\n\nActivez votre compte dans les ${hours} heures :\n${link}\n\nVous pourrez ensuite :\n1. définir votre mot de passe, votre code PIN et votre question de sécurité,\n2. enregistrer votre adresse d'urgence,\n3. configurer votre compte.\n`,
    inviteSubject: (company: string) => `${company} vous invite sur son système de téléphonie Carillon`,
    inviteBody: (name: string, company: string, extension: string, link: string, hours: number) =>
      `Bonjour ${name},\n\n${company} a créé votre compte Carillon (extension ${extension}).\n\nActivez-le dans les ${hours} heures :\n${link}\n\nVous définirez votre mot de passe, votre code PIN et votre question de sécurité.\n`,
    resetSubject: 'Réinitialisez votre mot de passe Carillon',
    resetBody: (name: string, link: string, minutes: number) =>
      `Bonjour ${name},\n\nUne réinitialisation du mot de passe de votre compte Carillon a été demandée. Utilisez ce lien dans les ${minutes} minutes :\n${link}\n\nSi ce n'était pas vous, ignorez ce message : votre mot de passe ne change pas.\n`,
  },
} as const;

export const mailTexts = (lang: Language) => texts[lang] ?? texts.en;
