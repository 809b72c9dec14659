import { DEFAULT_IVR_SETTINGS, type IvrConfig } from '@carillon/domain';

/**
 * The sample configurations behind "Download Sample IVR XML Files" (IVR-20): `xml/samples/*.xml` are
 * these, exported (a test keeps the files equal to them), and the app serves the same export.
 */
export const IVR_SAMPLES: Record<'single-level' | 'multi-level', IvrConfig> = {
  'single-level': {
    settings: { ...DEFAULT_IVR_SETTINGS, mode: 'single', businessHoursMenu: '1001', operatorExtension: '101' },
    menus: [
      {
        number: '1001',
        name: 'Main menu',
        language: 'en',
        prompt: { mode: 'tts', text: 'Thank you for calling. For sales, press 1. For support, press 2. For the company directory, press 9. For the operator, press 0.' },
        keys: { '1': { type: 'connect', extension: '102' }, '2': { type: 'connect', extension: '103' }, '9': { type: 'directory' } },
        genericKeys: null,
      },
    ],
  },
  'multi-level': {
    settings: {
      ...DEFAULT_IVR_SETTINGS,
      mode: 'multi',
      businessHoursMenu: '1001',
      afterHoursMenu: '1003',
      operatorExtension: '101',
      faxSmsRecipient: '101',
      noInput: { type: 'extension', extension: '101' },
    },
    menus: [
      {
        number: '1001',
        name: 'Main menu',
        language: 'en',
        prompt: { mode: 'tts', text: 'Thank you for calling. For English, press 1. Pour le français, appuyez sur le 2. For the directory, press 9.' },
        keys: { '1': { type: 'connect', extension: '1004' }, '2': { type: 'connect', extension: '1002' }, '9': { type: 'directory' } },
        genericKeys: null,
      },
      {
        number: '1002',
        name: 'Menu français',
        language: 'fr',
        prompt: { mode: 'tts', text: 'Pour les ventes, appuyez sur le 1. Pour laisser un message, appuyez sur le 2. Pour revenir au menu précédent, appuyez sur étoile.' },
        keys: { '1': { type: 'connect', extension: '102' }, '2': { type: 'voicemail', extension: '101' } },
        genericKeys: null,
      },
      {
        number: '1003',
        name: 'After hours',
        language: 'en',
        prompt: { mode: 'tts', text: 'We are closed. To leave a message, press 1. For emergencies, press 2.' },
        keys: { '1': { type: 'voicemail', extension: '101' }, '2': { type: 'external', number: '+14155550100' } },
        genericKeys: { hash: 'repeat', star: 'repeat' },
      },
      {
        number: '1004',
        name: 'English menu',
        language: 'en',
        prompt: { mode: 'tts', text: 'For sales, press 1. For support, press 2. To go back, press star.' },
        keys: { '1': { type: 'connect', extension: '102' }, '2': { type: 'connect', extension: '103' } },
        genericKeys: null,
      },
    ],
  },
};
