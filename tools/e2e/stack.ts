export { startStack, type Stack } from '@chat/testkit';
