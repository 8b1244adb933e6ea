// What the contract's schemas are built with, shared by contract/ and by the problems' own contract modules
// (problems/<id>/contract.ts): pure valibot, no AWS SDK, no registry, so a problem's spec can carry its schemas and the
// registry stays data. contract/instruction.ts, report.ts and ledger.ts build their per-kind variants with kindVariant
// from the schemas the registry's problems and resource types carry.
import * as v from "valibot";

/** A JSON object (valibot's record also lets arrays through, which would hash and compare differently). */
export function plainObject(message = "must be an object") {
  return v.pipe(
    v.custom<Record<string, unknown>>(
      (input) => typeof input === "object" && input !== null && !Array.isArray(input),
      message,
    ),
  );
}

/**
 * The schema of one kind of matched entry, change or ledger state: a valibot object whose `kind` is a literal (what
 * the contract's variant dispatches on).
 */
export type KindSchema = v.ObjectSchema<
  { readonly kind: v.LiteralSchema<string, undefined> } & v.ObjectEntries,
  undefined
>;

/** The kind a schema is the schema of: its `kind` literal. */
export function kindOf(schema: KindSchema): string {
  return schema.entries.kind.literal;
}

/**
 * `v.variant("kind", schemas)`, one option per kind, in the order first listed: a schema several problems list (a
 * change their fixes share) is one option. Typed as the variant of the union of the schemas given, so what it parses
 * is exactly the union of what each of them does. Two different schemas of one kind are a registry error.
 */
export function kindVariant<const S extends KindSchema>(
  what: string,
  schemas: readonly S[],
): v.VariantSchema<"kind", readonly [S, ...S[]], undefined> {
  const byKind = new Map<string, S>();
  for (const schema of schemas) {
    const kind = kindOf(schema);
    const known = byKind.get(kind);
    if (known !== undefined && known !== schema) throw new Error(`two different ${what} schemas of kind ${kind}`);
    byKind.set(kind, schema);
  }
  const options = [...byKind.values()];
  if (options.length === 0) throw new Error(`no ${what} schema in the registry`);
  return v.variant("kind", options as [S, ...S[]]);
}
