import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/** The credential flags every role has (`--kubeconfig`, `--kubecontext`). */
export interface KubeConfigFlags {
  kubeconfig?: string | undefined;
  kubecontext?: string | undefined;
}

/** Where credentials are looked for; the process's own by default (tests point elsewhere). */
export interface KubeConfigPlaces {
  home?: string;
  /** The token file Kubernetes mounts into every pod that has a service account. */
  serviceAccountToken?: string;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * Loads the API credentials: the `--kubeconfig` file (or `KUBECONFIG`, which may list several
 * files separated by `:`) when given, else `~/.kube/config`, else the pod's service account.
 * Unlike client-node's loadFromDefault, there is no silent fallback to http://localhost:8080:
 * with nothing configured, the role fails at start with one line saying so. `--kubecontext`
 * picks a context of the file and must exist there.
 */
export function loadKubeConfig(flags: KubeConfigFlags, places: KubeConfigPlaces = {}): KubeConfig {
  const config = new KubeConfig();
  const files = (flags.kubeconfig ?? "").split(delimiter).filter(Boolean);
  const homeConfig = join(places.home ?? homedir(), ".kube", "config");
  const token = places.serviceAccountToken ?? SERVICE_ACCOUNT_TOKEN;
  if (files.length > 0) loadFiles(config, files);
  else if (existsSync(homeConfig)) config.loadFromFile(homeConfig);
  else if (existsSync(token)) config.loadFromCluster();
  else {
    throw new Error(
      "no Kubernetes API server configured: pass --kubeconfig (or set KUBECONFIG), or run in a pod",
    );
  }

  if (flags.kubecontext) {
    if (!config.getContexts().some((context) => context.name === flags.kubecontext)) {
      const known =
        config
          .getContexts()
          .map((context) => context.name)
          .join(", ") || "none";
      throw new Error(
        `--kubecontext=${JSON.stringify(flags.kubecontext)}: no such context (${known})`,
      );
    }
    config.setCurrentContext(flags.kubecontext);
  }
  if (!config.getCurrentCluster()) {
    throw new Error("the kubeconfig names no current cluster: pass --kubecontext");
  }
  return config;
}

/** Loads the first file and merges the others into it, as kubectl reads a KUBECONFIG list. */
function loadFiles(config: KubeConfig, files: string[]): void {
  for (const [index, file] of files.entries()) {
    if (!existsSync(file)) throw new Error(`--kubeconfig=${JSON.stringify(file)}: no such file`);
    if (index === 0) {
      config.loadFromFile(file);
      continue;
    }
    const more = new KubeConfig();
    more.loadFromFile(file);
    config.mergeConfig(more);
  }
}
