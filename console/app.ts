import { ApiError, VaultApi } from './api.js';
import type { Me, Role } from './api-types.js';
import { AuditorView } from './auditor.js';
import { byId, onSubmit, showError } from './dom.js';
import { ManagerView } from './manager.js';
import { OfficerView } from './officer.js';
import { forgetToken, storedToken, storeToken } from './session.js';
import { Signer } from './signer.js';

/**
 * The console's entry point: sign in, learn who the token is (GET /v1/me),
 * show only the workspaces its roles allow, sign out. A head lands on the
 * sign-off queue, an auditor on the trail, an officer on its requests.
 */
type ViewName = 'officer' | 'manager' | 'auditor';
/** In landing order: the first a person may use is where they start. */
const VIEWS: readonly ViewName[] = ['manager', 'auditor', 'officer'];
const ALLOWED: Record<ViewName, readonly Role[]> = {
  officer: ['dispute_staff'],
  manager: ['department_head', 'security_head'],
  auditor: ['auditor', 'security_head'],
};
const ROLE_NAMES: Record<Role, string> = {
  platform: 'platform',
  beautician: 'beautician',
  dispute_staff: 'dispute officer',
  department_head: 'department head',
  security_head: 'head of security',
  auditor: 'auditor',
  admin: 'administrator',
};

let api: VaultApi | null = null;
let signer: Signer | null = null;
const currentApi = (): VaultApi => {
  if (!api) throw new Error('signed out: sign in again');
  return api;
};
const currentSigner = (): Signer => {
  if (!signer) throw new Error('signed out: sign in again');
  return signer;
};

const officer = new OfficerView(currentApi);
const manager = new ManagerView(currentApi, currentSigner);
// Its form and buttons work from the start; it needs no call when shown.
new AuditorView(currentApi);

const signInSection = byId('sign-in', HTMLElement);
const nav = byId('views', HTMLElement);
const who = byId('who', HTMLParagraphElement);
const signOutButton = byId('sign-out', HTMLButtonElement);
const signInErrors = byId('sign-in-errors', HTMLDivElement);

const allowed = (me: Me): ViewName[] => VIEWS.filter((v) => ALLOWED[v].some((r) => me.roles.includes(r)));

function showView(name: ViewName): void {
  for (const view of VIEWS) byId(view, HTMLElement).hidden = view !== name;
  for (const button of nav.querySelectorAll('button'))
    if (button.dataset.view === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  if (name === 'manager') manager.start();
  if (name === 'officer') officer.start();
}

function signedIn(token: string, me: Me): void {
  api = new VaultApi(token);
  signer = new Signer(currentApi, me);
  signInSection.hidden = true;
  who.hidden = false;
  who.textContent = `${me.name}, ${me.department} (${me.roles.map((r) => ROLE_NAMES[r]).join(', ')})`;
  signOutButton.hidden = false;
  const views = allowed(me);
  for (const button of nav.querySelectorAll('button')) {
    const view = VIEWS.find((v) => v === button.dataset.view);
    button.hidden = view === undefined || !views.includes(view);
  }
  const landing = views[0];
  if (landing === undefined) {
    byId('no-workspace', HTMLElement).hidden = false;
    byId('no-workspace-text', HTMLParagraphElement).textContent =
      `This console is for dispute officers, department heads, the head of security and auditors. You are signed in as ${ROLE_NAMES[me.roles[0] ?? 'admin']}: use the API or the CLI.`;
    return;
  }
  nav.hidden = false;
  if (views.includes('manager') && landing !== 'manager')
    manager.countOnly().catch((err: unknown) => showError(signInErrors, err));
  showView(landing);
}

async function signIn(): Promise<void> {
  const field = byId('token', HTMLInputElement);
  const token = field.value.trim();
  field.value = '';
  let me: Me;
  try {
    me = await new VaultApi(token).me();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401)
      throw new ApiError(401, err.code, 'The vault did not accept this token.');
    throw err;
  }
  storeToken(token);
  signedIn(token, me);
}

function signOut(): void {
  officer.stop();
  api = null;
  signer = null;
  forgetToken();
  // A fresh page drops every piece of data the console showed, and the URL carries nothing.
  window.location.replace('/console');
}

nav.addEventListener('click', (event) => {
  const target = event.target;
  const button = target instanceof Element ? target.closest('button') : null;
  const view = VIEWS.find((v) => v === button?.dataset.view);
  if (view) showView(view);
});
signOutButton.addEventListener('click', signOut);
onSubmit(byId('sign-in-form', HTMLFormElement), signIn, signInErrors);

// The service worker streams audio for this page; it asks the page for the token, request by request.
if (navigator.serviceWorker) {
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<unknown>) => {
    const port = event.ports[0];
    const data = event.data;
    if (!port || typeof data !== 'object' || data === null || !('type' in data) || data.type !== 'visit-vault.token?')
      return;
    if (api) api.answerTokenRequest(port);
    else port.postMessage({});
  });
  navigator.serviceWorker.startMessages();
  navigator.serviceWorker
    .register('/console/sw.js', { scope: '/console' })
    .catch((err: unknown) => showError(signInErrors, err));
}

// Nothing is ever read from the address; whatever was put there is dropped from it and from history.
if (window.location.search || window.location.hash) window.history.replaceState(null, '', '/console');
const remembered = storedToken();
if (remembered) {
  new VaultApi(remembered)
    .me()
    .then((me) => signedIn(remembered, me))
    .catch((err: unknown) => {
      forgetToken();
      showError(signInErrors, err);
    });
}
