import { KubeConfig } from "@kubernetes/client-node";

export interface KubeConfigFlags {
  kubeconfig?: string | undefined;
  kubecontext?: string | undefined;
}

/**
 * Loads the API credentials: the `--kubeconfig` file (or `KUBECONFIG`) when given, else the
 * pod's service account, else `~/.kube/config`. `--kubecontext` picks a context of the file.
 */
export function loadKubeConfig(flags: KubeConfigFlags): KubeConfig {
  const config = new KubeConfig();
  if (flags.kubeconfig) config.loadFromFile(flags.kubeconfig);
  else config.loadFromDefault();
  if (flags.kubecontext) config.setCurrentContext(flags.kubecontext);
  if (!config.getCurrentCluster()) {
    throw new Error("no Kubernetes API server configured: pass --kubeconfig or run in a pod");
  }
  return config;
}
