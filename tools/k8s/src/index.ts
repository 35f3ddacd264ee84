export * from './dashboard.ts';
export * from './dockerfile.ts';
export * from './helm.ts';
export * from './metrics-contract.ts';
export * from './skaffold.ts';
export * from './validate.ts';
export * from './values-docs.ts';
export { renderDashboardConfigMap } from './dashboard-configmap.ts';
