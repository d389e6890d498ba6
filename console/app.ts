import { ApiError, VaultApi } from './api.js';
import { AuditorView } from './auditor.js';
import { byId, onSubmit } from './dom.js';
import { ManagerView } from './manager.js';
import { OfficerView } from './officer.js';
import { forgetToken, storedToken, storeToken } from './session.js';

/**
 * The console's entry point: sign in, switch between the three workspaces,
 * sign out. The vault decides what a token may do (there is no "who am I"
 * route): a workspace the token has no role for shows the vault's 403.
 */
type ViewName = 'officer' | 'manager' | 'auditor';
const VIEWS: readonly ViewName[] = ['officer', 'manager', 'auditor'];

let api: VaultApi | null = null;
const currentApi = (): VaultApi => {
  if (!api) throw new Error('signed out: sign in again');
  return api;
};

const officer = new OfficerView(currentApi);
const manager = new ManagerView(currentApi);
const _auditor = new AuditorView(currentApi);

const signInSection = byId('sign-in', HTMLElement);
const nav = byId('views', HTMLElement);
const signOutButton = byId('sign-out', HTMLButtonElement);

function showView(name: ViewName): void {
  for (const view of VIEWS) byId(view, HTMLElement).hidden = view !== name;
  for (const button of nav.querySelectorAll('button'))
    button.setAttribute('aria-current', String(button.dataset.view === name));
  if (name === 'manager') manager.refresh();
}

function signedIn(token: string): void {
  api = new VaultApi(token);
  signInSection.hidden = true;
  nav.hidden = false;
  signOutButton.hidden = false;
  showView('officer');
}

/** A token is checked with a read every console role may make; only 401 means it is not a token. */
async function signIn(): Promise<void> {
  const field = byId('token', HTMLInputElement);
  const token = field.value.trim();
  field.value = '';
  try {
    await new VaultApi(token).listRequests({ limit: 1 });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401)
      throw new ApiError(401, err.code, 'The vault did not accept this token.');
    if (!(err instanceof ApiError && err.status === 403)) throw err;
  }
  storeToken(token);
  signedIn(token);
}

function signOut(): void {
  officer.stop();
  api = null;
  forgetToken();
  // A fresh page drops every piece of data the console showed, and the URL carries nothing.
  window.location.replace('/console');
}

nav.addEventListener('click', (event) => {
  const target = event.target;
  if (!(target instanceof HTMLButtonElement)) return;
  const view = VIEWS.find((v) => v === target.dataset.view);
  if (view) showView(view);
});
signOutButton.addEventListener('click', signOut);
const signInErrors = byId('sign-in-errors', HTMLDivElement);
onSubmit(byId('sign-in-form', HTMLFormElement), signIn, signInErrors);

// Nothing is ever read from the address; whatever was put there is dropped from it and from history.
if (window.location.search || window.location.hash) window.history.replaceState(null, '', '/console');
const remembered = storedToken();
if (remembered) signedIn(remembered);
