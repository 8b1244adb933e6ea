// Typed environment reading: each function reads its variables once, in one module, and a missing or bad
// value fails at cold start with the variable's name.

export class ConfigurationError extends Error {
  override name = "ConfigurationError";
}

type Env = Record<string, string | undefined>;

export function requiredEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new ConfigurationError(`environment variable ${name} is required`);
  }
  return value.trim();
}

export function optionalEnv(name: string, fallback: string, env: Env = process.env): string {
  const value = env[name];
  return value === undefined || value.trim() === "" ? fallback : value.trim();
}

export function integerEnv(
  name: string,
  fallback: number,
  range: { min: number; max: number },
  env: Env = process.env,
): number {
  const text = optionalEnv(name, String(fallback), env);
  const value = Number(text);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ConfigurationError(
      `environment variable ${name} must be a whole number from ${range.min} to ${range.max}, got "${text}"`,
    );
  }
  return value;
}

export function booleanEnv(name: string, fallback: boolean, env: Env = process.env): boolean {
  const text = optionalEnv(name, String(fallback), env).toLowerCase();
  if (text === "true") return true;
  if (text === "false") return false;
  throw new ConfigurationError(`environment variable ${name} must be "true" or "false", got "${text}"`);
}

export function oneOfEnv<T extends string>(
  name: string,
  allowed: readonly T[],
  fallback: T,
  env: Env = process.env,
): T {
  const text = optionalEnv(name, fallback, env);
  if (!(allowed as readonly string[]).includes(text)) {
    throw new ConfigurationError(`environment variable ${name} must be one of ${allowed.join(", ")}, got "${text}"`);
  }
  return text as T;
}
