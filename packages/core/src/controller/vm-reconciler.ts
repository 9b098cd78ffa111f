import type { V1OwnerReference } from "@kubernetes/client-node";
import { isConditionTrue, setCondition } from "../api/conditions.js";
import type { NetworkConfig, VmNetCfg } from "../api/types.js";
import type { Logger } from "../logger.js";
import type { ReconcileDeps } from "./context.js";
import { keyOf, LABEL_VM_NAME, networkKey, normalizeMac } from "./names.js";
import { poolForNetwork } from "./pool-lookup.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "./reconcile-loop.js";
import {
  apiVersionOf,
  resourcePath,
  VIRTUAL_MACHINE,
  type VirtualMachine,
  VM_NET_CFG,
} from "./resources.js";
import { type VmNicProblem, vmNics } from "./vm-nics.js";

/**
 * VirtualMachine reconciler (SPEC section 3): keeps the vmnetcfg of the same name equal to the
 * VM's managed NICs, those on a Multus network whose NAD is linked to a pool. NICs on the pod
 * network or on a network without a pool are left out; a VM without managed NICs has no
 * vmnetcfg. A changed NIC set first marks the vmnetcfg out of sync (`InSynced` False), then
 * updates its spec. The vmnetcfg carries an owner reference to the VM, so the garbage
 * collector deletes it with the VM; where no garbage collector runs, the controller deletes
 * a vmnetcfg whose owning VM is gone.
 */
export class VmReconciler implements Reconciler {
  readonly name = "vm";
  readonly #deps: ReconcileDeps;
  /** Problems last reported per VM, so each is reported once, not on every pass. */
  readonly #reported = new Map<string, string>();

  constructor(deps: ReconcileDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string, { logger }: ReconcileContext): Promise<ReconcileResult | undefined> {
    const vm = this.#deps.caches.vms.get(key);
    const existing = this.#deps.caches.vmnetcfgs.get(key);
    if (!vm) {
      this.#reported.delete(key);
      if (existing && ownerOf(existing)) await this.#delete(existing, logger);
      return undefined;
    }
    if (vm.metadata.deletionTimestamp) return undefined;

    const { nics, problems } = vmNics(vm);
    this.#report(vm, problems, logger);
    const { nads, pools } = this.#deps.caches;
    const managed: NetworkConfig[] = nics
      .filter((nic) => poolForNetwork(nic.networkKey, nads, pools).ok)
      .map((nic) => ({
        networkName: nic.networkKey,
        macAddress: nic.mac,
        ...(nic.ipAddress ? { ipAddress: nic.ipAddress } : {}),
      }));
    if (managed.length === 0) {
      if (existing && ownerOf(existing)?.uid === vm.metadata.uid)
        await this.#delete(existing, logger);
      return undefined;
    }
    if (!existing) {
      await this.#create(vm, managed, logger);
      return undefined;
    }
    await this.#update(vm, existing, managed, logger);
    return undefined;
  }

  async #create(vm: VirtualMachine, networkConfigs: NetworkConfig[], logger: Logger) {
    const config: VmNetCfg = {
      apiVersion: apiVersionOf(VM_NET_CFG),
      kind: VM_NET_CFG.kind,
      metadata: {
        name: vm.metadata.name,
        namespace: vm.metadata.namespace,
        labels: { [LABEL_VM_NAME]: vm.metadata.name ?? "" },
        ownerReferences: [ownerReference(vm)],
      },
      spec: { vmName: vm.metadata.name ?? "", networkConfigs },
    };
    await this.#deps.kube.create(resourcePath(VM_NET_CFG, vm.metadata.namespace), config);
    logger.info("vmnetcfg created", { nics: networkConfigs.length });
  }

  async #update(
    vm: VirtualMachine,
    existing: VmNetCfg,
    networkConfigs: NetworkConfig[],
    logger: Logger,
  ) {
    const same = sameNics(existing, networkConfigs);
    const owned = ownerOf(existing)?.uid === vm.metadata.uid;
    const labelled = existing.metadata.labels?.[LABEL_VM_NAME] === vm.metadata.name;
    if (same && owned && labelled) return;
    let resourceVersion = existing.metadata.resourceVersion;
    if (!same && isConditionTrue(existing.status?.conditions, "InSynced")) {
      // The spec write must build on the status write, or it meets a 409 every time: the
      // vmnetcfg reconciler sets InSynced back to True before the next attempt.
      resourceVersion = (await this.#markOutOfSync(existing)).metadata.resourceVersion;
    }
    const { namespace, name } = existing.metadata;
    const others = (existing.metadata.ownerReferences ?? []).filter(
      (ref) => !(ref.kind === VIRTUAL_MACHINE.kind && ref.name === vm.metadata.name),
    );
    const updated: VmNetCfg = {
      ...existing,
      metadata: {
        ...existing.metadata,
        resourceVersion,
        labels: { ...existing.metadata.labels, [LABEL_VM_NAME]: vm.metadata.name ?? "" },
        ownerReferences: [...others, ownerReference(vm)],
      },
      spec: { ...existing.spec, networkConfigs },
    };
    await this.#deps.kube.replace(resourcePath(VM_NET_CFG, namespace, name), updated);
    logger.info("vmnetcfg updated", { nics: networkConfigs.length, nicsChanged: !same });
  }

  /** The NIC set changed: say so before the spec changes, as SPEC section 3 asks. */
  async #markOutOfSync(existing: VmNetCfg): Promise<VmNetCfg> {
    const now = new Date(this.#deps.clock.now());
    const conditions = setCondition(
      existing.status?.conditions,
      {
        type: "InSynced",
        status: "False",
        reason: "NetworkConfigChanged",
        message: "the NICs of the virtual machine have changed",
      },
      now,
    );
    const { namespace, name } = existing.metadata;
    const path = resourcePath(VM_NET_CFG, namespace, name, "status");
    const patch = {
      metadata: { resourceVersion: existing.metadata.resourceVersion },
      status: { conditions },
    };
    return this.#deps.kube.mergePatch<VmNetCfg>(path, patch);
  }

  async #delete(existing: VmNetCfg, logger: Logger): Promise<void> {
    const { namespace, name, uid } = existing.metadata;
    const body = { preconditions: { uid } };
    await this.#deps.kube.delete(resourcePath(VM_NET_CFG, namespace, name), body);
    logger.info("vmnetcfg deleted: its VM is gone or has no managed NIC");
  }

  #report(vm: VirtualMachine, problems: VmNicProblem[], logger: Logger): void {
    const key = keyOf(vm);
    const text = problems.map((p) => `${p.field}: ${p.message}`).join("; ");
    if ((this.#reported.get(key) ?? "") === text) return;
    this.#reported.set(key, text);
    if (!text) return;
    this.#deps.events.emit(vm, "Warning", "InvalidAnnotation", text);
    logger.warn("virtual machine has unusable NIC settings", { problems: text });
  }
}

function ownerReference(vm: VirtualMachine): V1OwnerReference {
  return {
    apiVersion: apiVersionOf(VIRTUAL_MACHINE),
    kind: VIRTUAL_MACHINE.kind,
    name: vm.metadata.name ?? "",
    uid: vm.metadata.uid ?? "",
  };
}

/** The VirtualMachine owner reference of a vmnetcfg, if it has one. */
function ownerOf(config: VmNetCfg): V1OwnerReference | undefined {
  return config.metadata.ownerReferences?.find(
    (ref) => ref.kind === VIRTUAL_MACHINE.kind && ref.name === config.metadata.name,
  );
}

function sameNics(existing: VmNetCfg, wanted: NetworkConfig[]): boolean {
  const namespace = existing.metadata.namespace ?? "default";
  const normal = (list: NetworkConfig[]) =>
    list.map((nc) =>
      [networkKey(nc.networkName, namespace), normalizeMac(nc.macAddress), nc.ipAddress ?? ""].join(
        " ",
      ),
    );
  return (
    JSON.stringify(normal(existing.spec?.networkConfigs ?? [])) === JSON.stringify(normal(wanted))
  );
}
