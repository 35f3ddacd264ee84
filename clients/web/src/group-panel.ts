/**
 * An open group's members and what the user may do about them, under the thread's header.
 * Controls show only where the user's role allows the action (owner and admins rename, add
 * and remove anyone but the owner; only the owner changes roles; anyone leaves), so a plain
 * member is not offered buttons that Chat would refuse; Chat still decides, and a refusal
 * shows in the panel's error line. It only draws; chat-session.ts does the calls.
 */
import type { GroupConversation, GroupMember, GroupRole } from '@chat/client-core';
import { h, showError } from './dom.ts';
import { parseUsernames } from './usernames.ts';

export interface GroupActions {
  /** Each rejects with the words to show. */
  rename(name: string): Promise<void>;
  addMembers(usernames: string[]): Promise<void>;
  removeMember(username: string): Promise<void>;
  setRole(username: string, role: Exclude<GroupRole, 'owner'>): Promise<void>;
  leave(): Promise<void>;
}

const ROLE_ORDER: Record<GroupRole, number> = { owner: 0, admin: 1, member: 2 };

export class GroupPanel {
  readonly element = h('details', { class: 'group-panel', 'data-testid': 'group-panel' });
  private readonly error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'group-error' });

  constructor(
    private readonly me: string,
    private readonly actions: GroupActions,
  ) {}

  render(group: GroupConversation): void {
    const myRole = group.members.find((m) => same(m.username, this.me))?.role;
    const manages = myRole === 'owner' || myRole === 'admin';
    const members = [...group.members].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.username.localeCompare(b.username));
    const count = `${group.members.length} member${group.members.length === 1 ? '' : 's'}`;
    const parts = [
      h('summary', { 'data-testid': 'group-member-count' }, count),
      h('ul', { class: 'members' }, ...members.map((m) => this.memberItem(m, myRole))),
      manages ? this.form('group-rename', 'New name', 'Rename', group.name, (v) => this.actions.rename(v)) : null,
      manages ? this.form('group-add', 'Usernames to add', 'Add', '', (v) => this.actions.addMembers(parseUsernames(v))) : null,
      this.leaveButton(),
      this.error,
    ];
    this.element.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
  }

  showError(message: string | undefined): void {
    showError(this.error, message);
  }

  private memberItem(m: GroupMember, myRole: GroupRole | undefined): HTMLLIElement {
    const self = same(m.username, this.me);
    const canRemove = !self && m.role !== 'owner' && (myRole === 'owner' || myRole === 'admin');
    const canChangeRole = !self && myRole === 'owner';
    const newRole = m.role === 'admin' ? 'member' : 'admin';
    return h(
      'li',
      { 'data-testid': 'member', 'data-username': m.username, 'data-role': m.role },
      h('span', { class: 'name' }, self ? `${m.username} (you)` : m.username),
      h('span', { class: 'role', 'data-testid': 'member-role' }, m.role),
      canChangeRole ? this.button(newRole === 'admin' ? 'Make admin' : 'Make member', 'member-set-role', () => this.actions.setRole(m.username, newRole)) : null,
      canRemove ? this.button('Remove', 'member-remove', () => this.actions.removeMember(m.username)) : null,
    );
  }

  private leaveButton(): HTMLButtonElement {
    const b = this.button('Leave group', 'group-leave', () => this.actions.leave());
    b.classList.add('danger');
    return b;
  }

  private button(label: string, testId: string, run: () => Promise<void>): HTMLButtonElement {
    const b = h('button', { type: 'button', class: 'link', 'data-testid': testId }, label);
    b.addEventListener('click', () => {
      b.disabled = true;
      this.showError(undefined);
      run().then(
        () => (b.disabled = false),
        (err: Error) => {
          b.disabled = false;
          this.showError(err.message);
        },
      );
    });
    return b;
  }

  private form(testId: string, placeholder: string, label: string, value: string, run: (value: string) => Promise<void>): HTMLFormElement {
    const input = h('input', { placeholder, 'aria-label': placeholder, autocomplete: 'off', required: true, 'data-testid': `${testId}-input` });
    input.value = value;
    const submit = h('button', { type: 'submit', 'data-testid': `${testId}-submit` }, label);
    const form = h('form', { class: 'row' }, input, submit);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = input.value.trim();
      if (!v) return;
      submit.disabled = true;
      this.showError(undefined);
      run(v).then(
        () => (submit.disabled = false),
        (err: Error) => {
          submit.disabled = false;
          this.showError(err.message);
        },
      );
    });
    return form;
  }
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
