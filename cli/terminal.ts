// Terminal text. Resource names, descriptions, tags, policy Sids, pause reasons and AWS error messages are written
// by whoever can name a resource or call an API: shown raw, an escape sequence in one could rewrite the operator's
// screen (hide a line, fake a prompt) and a line break could forge a line of output. Every such string the CLI
// prints goes through terminalText; JSON output through terminalJson.

/**
 * C0 and C1 controls, DEL, and the invisible characters that reorder or split text (bidirectional overrides and
 * isolates, line and paragraph separators).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters it exists to find.
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw of UNSAFE_TEXT (it escapes C0 itself, and its own line breaks are structure). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character shown as a visible escape (`\n`, `\x1b`, `\u202e`): one line, inert. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE_TEXT, (character) => {
    const named = NAMED_ESCAPES[character];
    if (named) return named;
    const code = character.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * JSON.stringify(value, null, 2), with the characters JSON leaves raw (DEL, C1 controls, bidirectional and line
 * separators) written as \u escapes too: the same JSON value, nothing a terminal would act on.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    UNSAFE_IN_JSON,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
