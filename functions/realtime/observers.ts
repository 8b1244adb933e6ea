// Every resource type's live reader (problems/<folder>/observe.ts, its `observe` export): the real-time path reads a
// resource exactly as the remediation that would fix it does. Imported statically, one line per resource type (as the
// build writes a remediation's fix imports): a dynamic import keeps every export of the SDK clients it reaches, and the
// EC2 client alone then weighs 900 KB. test/realtime/observers.test.ts fails when a registered type has no line here.

import type { ObserveModule } from "../../problems/observe.ts";
import { observe as bucket } from "../../problems/s3-public/observe.ts";
import { observe as securityGroup } from "../../problems/sg-open-ingress/observe.ts";

export const OBSERVE_MODULES: readonly ObserveModule[] = [securityGroup, bucket];

export function observeModuleFor(resourceType: string): ObserveModule | undefined {
  return OBSERVE_MODULES.find((module) => module.resourceType === resourceType);
}
