// The Kubernetes double: a loopback API server (HTTPS, legacy discovery, server-side apply with
// field managers and dry runs) that the real kubectl runs against.

export { startKubernetesDouble } from './double.js';
export { SERVER_VERSION } from './server.js';
export type {
  ApplyOptions,
  GroupDefinition,
  KubeObject,
  KubeconfigOptions,
  KubernetesDouble,
  KubernetesDoubleOptions,
  ObjectRef,
  RecordedRequest,
  ResourceDefinition,
} from './types.js';
