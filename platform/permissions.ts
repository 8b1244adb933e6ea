// Each function declares, next to its code, the IAM action behind every AWS command it sends. The stack
// grants exactly these, and a test fails when code sends a command that is not declared here.
export type CommandPermissions = Readonly<Record<`${string}Command`, `${string}:${string}`>>;

export function declaredActions(permissions: CommandPermissions): string[] {
  return [...new Set(Object.values(permissions))].sort();
}
