import type { AuthenticatedSession } from '@carillon/core';
import type { Lang, Translate } from '#lib/i18n/index.ts';

declare global {
  namespace App {
    interface Locals {
      auth: AuthenticatedSession | null;
      lang: Lang;
      t: Translate;
      ip: string | null;
    }
    interface Error {
      message: string;
      code?: string;
    }
  }
}

export {};
