/**
 * The signed-in token lives in this tab's sessionStorage only: never in a URL,
 * a cookie or localStorage. Closing the tab or signing out forgets it.
 */
const KEY = 'visit-vault.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.clear();
}
