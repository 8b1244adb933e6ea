// `npm run build`: one esbuild bundle per function in functions/registry.ts → dist/<name>/index.mjs, zipped to
// dist/<name>.zip (the Lambda asset; handler `index.handler`). The zip is byte-for-byte reproducible (fixed
// timestamps), so Terraform's source_code_hash only changes when the code does. Tests that need the bundles without
// touching dist/ pass their own output directory (the layout under it is the same).
import { mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateRawSync } from "node:zlib";
import { build, type Plugin } from "esbuild";
import { FUNCTION_LIST, FUNCTIONS, type FunctionName, type FunctionSpec } from "../functions/registry.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(ROOT, "dist");

export interface BundleResult {
  name: FunctionName;
  /** Absolute path of dist/<name>/index.mjs (<outDir>/<name>/index.mjs). */
  bundlePath: string;
  /** Absolute path of dist/<name>.zip (<outDir>/<name>.zip). */
  zipPath: string;
  bundleBytes: number;
  zipBytes: number;
  budgetBytes: number;
}

export function bundlePath(name: string, outDir: string = DIST): string {
  return join(outDir, name, "index.mjs");
}

export function zipPath(name: string, outDir: string = DIST): string {
  return join(outDir, `${name}.zip`);
}

/**
 * The SDK's generated schema modules (`dist-es/schemas/schemas_0.js`) write trait objects with computed keys
 * (`{ [_xN]: _m }`, `_xN` a string constant of the same module). esbuild cannot prove a computed key free of side
 * effects, so it keeps every schema of the service: the EC2 client alone then bundles to ~550 KB. Writing the
 * constant's value in place of the computed key (`{ "xmlName": _m }`) means exactly the same object, and lets
 * tree shaking drop the schemas no command uses (remediate-sg: 1.1 MB → about 0.5 MB). Only keys naming a
 * `const _x = "..."` of the same module are rewritten.
 */
export function inlineSchemaKeys(source: string): string {
  const constants = new Map<string, string>();
  for (const match of source.matchAll(/^const (_[A-Za-z0-9_]+) = ("(?:[^"\\\n]|\\.)*");$/gm)) {
    constants.set(match[1]!, match[2]!);
  }
  return source.replace(/\[(_[A-Za-z0-9_]+)\]:/g, (whole, id: string) => {
    const value = constants.get(id);
    return value === undefined ? whole : `${value}:`;
  });
}

const inlineSchemaKeysPlugin: Plugin = {
  name: "remedy-inline-schema-keys",
  setup(builder) {
    builder.onLoad({ filter: /[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ }, async (args) => ({
      contents: inlineSchemaKeys(await readFile(args.path, "utf8")),
      loader: "js",
    }));
  },
};

/**
 * A remediation function's entry, written from the registry: the one handler (functions/remediation/handler.ts)
 * with the fix module of each problem the function fixes, and nothing else, so a bundle carries only its problems'
 * code (and SDK clients).
 */
export function remediationEntrySource(spec: FunctionSpec): string {
  const fixes = spec.fixes ?? [];
  return [
    `import { remediationHandler } from "./${spec.entry}";`,
    ...fixes.map((problem, index) => `import { fix as fix${index} } from "./problems/${problem}/fix.ts";`),
    `export const handler = remediationHandler(${JSON.stringify(spec.name)}, [${fixes.map((_, index) => `fix${index}`).join(", ")}]);`,
    "",
  ].join("\n");
}

/**
 * A module that loads one export of each of some registry folders with dynamic imports, as bundled: the same list
 * imported statically. A dynamic import keeps every export of the SDK clients it reaches (the EC2 client alone then
 * weighs 900 KB); the module's source keeps the loader, which tests and the CLI run unbundled.
 */
interface RegistryModuleList {
  /** The module the build writes again (its path, relative to the repository root). */
  path: string;
  /** The function whose live reads it loads (its `liveReads`: the folders, in the registry's order, and the file). */
  functionName: "realtime" | "config-rule" | "interactions-worker";
  /** Where the folders are from the module (default "../../problems/"). */
  importPrefix?: string;
  exportName: string;
  /** The list's name and the check it passes through, from `checkFrom`. */
  listName: string;
  check: string;
  checkFrom: string;
  /** The lookup by resource type the module exports beside the list, if any. */
  lookupName?: string;
}

const REGISTRY_MODULE_LISTS: readonly RegistryModuleList[] = [
  {
    path: "functions/realtime/observers.ts",
    functionName: "realtime",
    exportName: "observe",
    listName: "OBSERVE_MODULES",
    check: "checkedObserveModules",
    checkFrom: "./observer-check.ts",
    lookupName: "observeModuleFor",
  },
  {
    path: "functions/config-rule/inventories.ts",
    functionName: "config-rule",
    exportName: "inventory",
    listName: "INVENTORY_MODULES",
    check: "checkedInventoryModules",
    checkFrom: "../../problems/inventory.ts",
    lookupName: "inventoryModuleFor",
  },
  {
    path: "problems/undo-modules.ts",
    functionName: "interactions-worker",
    exportName: "undo",
    listName: "UNDO_MODULES",
    check: "checkedUndoModules",
    checkFrom: "./undo-check.ts",
    importPrefix: "./",
  },
];

/** A registry module list as bundled (REGISTRY_MODULE_LISTS): one static import per folder. */
export function registryModuleListSource(path: string): string {
  const list = REGISTRY_MODULE_LISTS.find((candidate) => candidate.path === path);
  if (!list) throw new Error(`${path} is no registry module list`);
  const liveReads = FUNCTIONS[list.functionName].liveReads;
  if (!liveReads) throw new Error(`${list.functionName} has no live reads to load`);
  const folders = liveReads.resources.map((resource) => resource.folder);
  return [
    `import { ${list.check} } from "${list.checkFrom}";`,
    ...folders.map(
      (folder, index) =>
        `import { ${list.exportName} as m${index} } from "${list.importPrefix ?? "../../problems/"}${folder}/${liveReads.module}";`,
    ),
    `export const ${list.listName} = ${list.check}([${folders.map((_, index) => `m${index}`).join(", ")}]);`,
    ...(list.lookupName
      ? [
          `export function ${list.lookupName}(resourceType) { return ${list.listName}.find((module) => module.resourceType === resourceType); }`,
        ]
      : []),
    "",
  ].join("\n");
}

const staticRegistryListsPlugin: Plugin = {
  name: "remedy-static-registry-lists",
  setup(builder) {
    for (const list of REGISTRY_MODULE_LISTS) {
      const filter = new RegExp(
        `[\\\\/]${list.path
          .split("/")
          .map((part) => part.replaceAll(".", "\\."))
          .join("[\\\\/]")}$`,
      );
      builder.onLoad({ filter }, () => ({ contents: registryModuleListSource(list.path), loader: "ts" }));
    }
  },
};

/**
 * Bundles one function (STACK.md's flags: the SDK's ESM builds, `require` defined for CommonJS dependencies) into
 * `outDir` (default dist/).
 */
export async function buildFunction(spec: FunctionSpec, outDir: string = DIST): Promise<BundleResult> {
  const result = await build({
    ...(spec.fixes
      ? {
          stdin: {
            contents: remediationEntrySource(spec),
            resolveDir: ROOT,
            sourcefile: `${spec.name}.ts`,
            loader: "ts",
          },
        }
      : { entryPoints: [join(ROOT, spec.entry)] }),
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    mainFields: ["module", "main"],
    banner: {
      js: "import { createRequire as __remedyCreateRequire } from 'node:module'; const require = __remedyCreateRequire(import.meta.url);",
    },
    minify: true,
    treeShaking: true,
    legalComments: "none",
    plugins: [inlineSchemaKeysPlugin, staticRegistryListsPlugin],
    write: false,
    logLevel: "warning",
  });
  const code = result.outputFiles[0]!.contents;
  const out = bundlePath(spec.name, outDir);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
  const zip = zipFiles([{ name: "index.mjs", data: code }]);
  writeFileSync(zipPath(spec.name, outDir), zip);
  return {
    name: spec.name,
    bundlePath: out,
    zipPath: zipPath(spec.name, outDir),
    bundleBytes: code.byteLength,
    zipBytes: zip.byteLength,
    budgetBytes: spec.bundleBudgetBytes,
  };
}

/** Builds every function in the registry into `outDir` (default dist/); fails when a bundle is over its budget. */
export async function buildAll(
  specs: readonly FunctionSpec[] = FUNCTION_LIST,
  outDir: string = DIST,
): Promise<BundleResult[]> {
  const results = await Promise.all(specs.map((spec) => buildFunction(spec, outDir)));
  const over = results.filter((r) => r.bundleBytes > r.budgetBytes);
  if (over.length > 0) {
    throw new Error(
      `bundle over budget: ${over.map((r) => `${r.name} ${kb(r.bundleBytes)} > ${kb(r.budgetBytes)}`).join(", ")}`,
    );
  }
  return results;
}

// -- A minimal zip writer (deflate, one central directory, no extras) ------------------------------------------

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** 1980-01-01 00:00 in DOS time/date: a fixed timestamp keeps the archive reproducible. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export function zipFiles(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // flags: UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.byteLength, 18);
    local.writeUInt32LE(entry.data.byteLength, 22);
    local.writeUInt16LE(name.byteLength, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.byteLength, 20);
    central.writeUInt32LE(entry.data.byteLength, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(((0o100644 << 16) >>> 0) as number, 38); // -rw-r--r--
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.byteLength + name.byteLength + compressed.byteLength;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export function printSizes(results: readonly BundleResult[]): void {
  console.table(
    Object.fromEntries(
      results.map((r) => [
        r.name,
        { bundle: kb(r.bundleBytes), zip: kb(r.zipBytes), budget: kb(r.budgetBytes), path: `dist/${r.name}.zip` },
      ]),
    ),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const results = await buildAll();
  printSizes(results);
  console.log(`built ${results.length} functions in ${Math.round(performance.now() - started)} ms`);
}
