// The README's operate steps as data: every line of the ```sh blocks under "## How you use it" and under
// "### Use it" in "## Deploy", in README order, parsed the way a POSIX shell would split them (quotes, backslash
// escapes, trailing # comments, &&, ;, > redirects, leading VAR=value assignments). test/e2e/readme-operate.test.ts
// runs the `npx remedy` ones and checks that every other line is of a kind it knows cannot run offline.

/** The sections whose sh blocks are the operate steps: [h2, h3 or undefined for every h3 under it]. */
export const OPERATE_SECTIONS: readonly (readonly [string, string | undefined])[] = [
  ["How you use it", undefined],
  ["Deploy", "Use it"],
];

/** The action id the README uses as its example (Slack shows the real one). */
export const README_EXAMPLE_ACTION_ID = "act-20261120T102819Z-7c1d9e2f";

export interface ReadmeLine {
  /** The heading the block is under ("## How you use it › ### 2. Peek at what would be done"). */
  section: string;
  /** 1-based line number in README.md of the line's first physical line. */
  lineNumber: number;
  /** The line as written (continuations joined with their backslash-newline removed). */
  text: string;
}

/** One simple command of a line: its VAR=value prefixes, its words, and a `> FILE` redirect. */
export interface SimpleCommand {
  env: Record<string, string>;
  words: string[];
  /** Target of `>` (stdout redirected to a file). */
  stdoutTo?: string;
}

export interface ParsedLine {
  /** Simple commands joined by && or ; (empty for a comment-only line). */
  commands: SimpleCommand[];
  /** The trailing comment, without its "#". */
  comment?: string;
  /** Operators the parser does not model (|, ||, <, &, 2>...): such a line is never run. */
  unsupported: string[];
}

export class ReadmeParseError extends Error {
  override name = "ReadmeParseError";
}

/** The lines of the operate steps' sh blocks, in README order (blank lines left out). */
export function operateLines(markdown: string): ReadmeLine[] {
  const lines = markdown.split(/\r?\n/);
  const result: ReadmeLine[] = [];
  let h2: string | undefined;
  let h3: string | undefined;
  let fence: { marker: string; lang: string } | undefined;
  let pending: { lineNumber: number; text: string } | undefined;
  const wanted = () =>
    h2 !== undefined && OPERATE_SECTIONS.some(([section, sub]) => section === h2 && (sub === undefined || sub === h3));
  lines.forEach((line, index) => {
    if (fence) {
      if (line.trim() === fence.marker) {
        if (pending) throw new ReadmeParseError(`README.md:${pending.lineNumber}: a continuation ends the block`);
        fence = undefined;
        return;
      }
      if (fence.lang !== "sh" || !wanted()) return;
      const continued = /(^|[^\\])(\\\\)*\\$/.test(line);
      const body = continued ? line.slice(0, -1) : line;
      if (pending) pending.text += body;
      else pending = { lineNumber: index + 1, text: body };
      if (continued) return;
      if (pending.text.trim() !== "") {
        result.push({
          section: `## ${h2}${h3 ? ` › ### ${h3}` : ""}`,
          lineNumber: pending.lineNumber,
          text: pending.text.trim(),
        });
      }
      pending = undefined;
      return;
    }
    const open = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (open) {
      fence = { marker: open[1]!, lang: open[2] ?? "" };
      return;
    }
    const heading = /^(#{2,3})\s+(.*?)\s*$/.exec(line);
    if (heading) {
      if (heading[1] === "##") {
        h2 = heading[2];
        h3 = undefined;
      } else {
        h3 = heading[2];
      }
    }
  });
  if (fence) throw new ReadmeParseError("README.md ends inside a code block");
  return result;
}

type Token = { kind: "word"; text: string } | { kind: "op"; text: string };

/**
 * Splits a line as sh does: quotes, backslashes, # comments (only at the start of a word), operators. What it does not
 * model (expansions, globs, unterminated quotes) is returned in `unsupported`, never guessed.
 */
export function shellTokens(line: string): { tokens: Token[]; comment?: string; unsupported: string[] } {
  const tokens: Token[] = [];
  const unsupported: string[] = [];
  let word: string | undefined;
  const end = () => {
    if (word !== undefined) tokens.push({ kind: "word", text: word });
    word = undefined;
  };
  let index = 0;
  while (index < line.length) {
    const char = line[index]!;
    if (char === " " || char === "\t") {
      end();
      index++;
      continue;
    }
    if (char === "#" && word === undefined) {
      return { tokens, comment: line.slice(index + 1).trim(), unsupported };
    }
    if (char === "'") {
      const close = line.indexOf("'", index + 1);
      if (close === -1) {
        unsupported.push("an unterminated '");
        break;
      }
      word = (word ?? "") + line.slice(index + 1, close);
      index = close + 1;
      continue;
    }
    if (char === '"') {
      let text = "";
      index++;
      while (index < line.length && line[index] !== '"') {
        const next = line[index + 1];
        if (line[index] === "\\" && next !== undefined && '"\\$`'.includes(next)) {
          text += next;
          index += 2;
          continue;
        }
        if (line[index] === "$" || line[index] === "`") unsupported.push(`expansion ${line[index]} in double quotes`);
        text += line[index];
        index++;
      }
      if (index >= line.length) {
        unsupported.push('an unterminated "');
        break;
      }
      word = (word ?? "") + text;
      index++;
      continue;
    }
    if (char === "\\") {
      word = (word ?? "") + (line[index + 1] ?? "");
      index += 2;
      continue;
    }
    const operator = /^(&&|\|\||;|\||&|>>|>|<)/.exec(line.slice(index));
    if (operator) {
      end();
      tokens.push({ kind: "op", text: operator[1]! });
      index += operator[1]!.length;
      continue;
    }
    if (char === "$" || char === "`" || char === "*" || char === "?" || (char === "~" && word === undefined)) {
      // Expansions and globs would make "as written" depend on the shell and the files around: not modelled.
      unsupported.push(`shell expansion ${char}`);
    }
    word = (word ?? "") + char;
    index++;
  }
  end();
  return { tokens, unsupported };
}

/** Parses one README line into simple commands (see ParsedLine). */
export function parseLine(line: string): ParsedLine {
  const { tokens, comment, unsupported } = shellTokens(line);
  const commands: SimpleCommand[] = [];
  let current: SimpleCommand = { env: {}, words: [] };
  const finish = () => {
    if (current.words.length > 0 || Object.keys(current.env).length > 0 || current.stdoutTo !== undefined) {
      commands.push(current);
    }
    current = { env: {}, words: [] };
  };
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.kind === "op") {
      if (token.text === "&&" || token.text === ";") {
        finish();
      } else if (token.text === ">" && tokens[index + 1]?.kind === "word") {
        current.stdoutTo = tokens[index + 1]!.text;
        index++;
      } else {
        unsupported.push(`operator ${token.text}`);
      }
      continue;
    }
    // A redirect of another descriptor (2>file) is a word ending in a digit right before ">": not modelled.
    if (/^\d$/.test(token.text) && tokens[index + 1]?.text === ">") unsupported.push(`redirect ${token.text}>`);
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(token.text);
    if (assignment && current.words.length === 0) current.env[assignment[1]!] = assignment[2]!;
    else current.words.push(token.text);
  }
  finish();
  return { commands, ...(comment !== undefined ? { comment } : {}), unsupported };
}

/** What a README line is, for the test: a `remedy` command to run, or one of the kinds that cannot run offline. */
export type LineKind =
  | { kind: "remedy"; argv: string[] }
  | { kind: "comment"; comment: string }
  | { kind: "offline"; commands: SimpleCommand[] }
  | { kind: "unrunnable"; why: string };

/**
 * A line that starts with `npx remedy` is a remedy command (run as written: only `npx remedy` is replaced); it must be
 * that one command alone, with no assignments or redirects. A line without commands is a comment. Anything else is
 * offline (checked by kind in the test), unless it uses operators the parser does not model.
 */
export function classifyLine(line: string): LineKind {
  const parsed = parseLine(line);
  if (parsed.unsupported.length > 0) {
    return { kind: "unrunnable", why: `uses ${parsed.unsupported.join(" ")}, which this test does not model` };
  }
  if (parsed.commands.length === 0) return { kind: "comment", comment: parsed.comment ?? "" };
  const remedy = parsed.commands.findIndex((command) => command.words[0] === "npx" && command.words[1] === "remedy");
  if (remedy === -1) return { kind: "offline", commands: parsed.commands };
  const [only] = parsed.commands;
  if (parsed.commands.length !== 1 || !line.startsWith("npx remedy")) {
    return { kind: "unrunnable", why: "an `npx remedy` command must be a line of its own" };
  }
  if (Object.keys(only!.env).length > 0 || only!.stdoutTo !== undefined) {
    return { kind: "unrunnable", why: "an `npx remedy` line with assignments or redirects is not run as written here" };
  }
  return { kind: "remedy", argv: only!.words.slice(2) };
}
