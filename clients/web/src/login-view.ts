/**
 * The first screen: log in, or create an account (which then logs in). A refusal that says
 * when to come back (Auth's 429s and its busy 503, with Retry-After) is shown with the wait, and
 * pressing the button again before then shows the wait left without asking Auth: a request
 * sooner would be refused again and spend the address's budget.
 */
import { describeError, RetryAfterGate } from '@chat/client-core';
import { h, showError } from './dom.ts';

// One for the page, not per render: logging out and back in must not forget a wait.
const gate = new RetryAfterGate();

export interface LoginActions {
  login(username: string, password: string): Promise<void>;
  register(username: string, password: string): Promise<void>;
}

/** `notice`: why we are here, e.g. the session expired. */
export function renderLogin(root: HTMLElement, actions: LoginActions, notice?: string): void {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, 'data-testid': 'login-username' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const loginButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Log in');
  const registerButton = h('button', { type: 'button', 'data-testid': 'register-submit' }, 'Create account');
  const error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'login-error' });
  const form = h(
    'form',
    { class: 'login card', 'data-testid': 'login-form' },
    h('h1', {}, 'Chat'),
    notice ? h('p', { class: 'notice', 'data-testid': 'login-notice' }, notice) : null,
    h('label', {}, 'Username', username),
    h('label', {}, 'Password', password),
    error,
    h('div', { class: 'actions' }, loginButton, registerButton),
  );

  const run = async (action: (u: string, p: string) => Promise<void>) => {
    if (!form.reportValidity()) return;
    const name = username.value.trim();
    const held = gate.check(name);
    if (held) return showError(error, describeError(held).message);
    showError(error, undefined);
    loginButton.disabled = registerButton.disabled = true;
    try {
      await action(name, password.value);
    } catch (err) {
      gate.refused(err, name);
      showError(error, describeError(err).message);
      password.select();
    } finally {
      loginButton.disabled = registerButton.disabled = false;
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run(actions.login);
  });
  registerButton.addEventListener('click', () => void run(actions.register));

  root.replaceChildren(h('main', { class: 'login-screen' }, form));
  username.focus();
}
