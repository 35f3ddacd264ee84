/** The connection state in the words the header shows (LiveStatus from client-core). */
import type { LiveStatus } from '@chat/client-core';

/** `msLeft`: for `waiting`, the time until the next attempt (it counts down on screen). */
export function statusText(status: LiveStatus, msLeft = status.retryInMs ?? 0): string {
  switch (status.state) {
    case 'connecting':
      return 'Connecting…';
    case 'catching_up':
      return 'Catching up…';
    case 'live':
      return 'Live';
    case 'waiting': {
      // Whole seconds, rounded up: "in 0 s" while an attempt is still pending would look stuck.
      const seconds = Math.max(1, Math.ceil(msLeft / 1000));
      return `Reconnecting in ${seconds} s`;
    }
    case 'stopped':
      return 'Offline';
  }
}
