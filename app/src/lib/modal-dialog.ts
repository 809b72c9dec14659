/**
 * Keyboard behaviour of every modal <dialog> of the portal (WAI-ARIA APG "Dialog (Modal)"):
 * open it with `openModal`, which remembers what had the focus, and give the element
 * `use:modalFocus`. While open, Tab and Shift+Tab cycle through the dialog's controls (a native
 * modal dialog lets the focus leave to the browser's toolbar); Escape closes it (the dialog's own
 * cancel); on close the focus returns to the control that opened it, or to the page's heading
 * when that control is gone or disabled, never to nowhere.
 */
const openers = new WeakMap<HTMLDialogElement, HTMLElement>();

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
}

export function openModal(dialog: HTMLDialogElement | undefined): void {
  if (!dialog || dialog.open) return;
  const active = document.activeElement;
  if (active instanceof HTMLElement && active !== document.body && !dialog.contains(active)) openers.set(dialog, active);
  dialog.showModal();
}

function returnFocus(dialog: HTMLDialogElement): void {
  const opener = openers.get(dialog);
  openers.delete(dialog);
  if (opener?.isConnected && !(opener as HTMLButtonElement).disabled && opener.getClientRects().length > 0) {
    opener.focus();
    return;
  }
  const heading = document.querySelector<HTMLElement>('main h1') ?? document.querySelector<HTMLElement>('h1');
  if (heading) {
    if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

export function modalFocus(dialog: HTMLDialogElement): { destroy(): void } {
  const onKeydown = (e: KeyboardEvent) => {
    if (e.key !== 'Tab') return;
    const items = focusables(dialog);
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) {
      e.preventDefault();
      return;
    }
    const active = document.activeElement;
    if (e.shiftKey && (active === first || !dialog.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !dialog.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  };
  const onClose = () => returnFocus(dialog);
  dialog.addEventListener('keydown', onKeydown);
  dialog.addEventListener('close', onClose);
  return {
    destroy() {
      dialog.removeEventListener('keydown', onKeydown);
      dialog.removeEventListener('close', onClose);
    },
  };
}
