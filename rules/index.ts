// The rule registry: every Remedy rule, by id. A Config rule's name ends with its rule id.
import { s3PublicRule } from "./s3-public.ts";
import { sgOpenIngressRule } from "./sg-open-ingress.ts";

export const RULES = [sgOpenIngressRule, s3PublicRule] as const;
