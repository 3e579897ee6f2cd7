// A Dockerfile as stages of instructions (continuations joined, comments dropped): what the
// Dockerfile tests check, and what the image build test executes.
import assert from 'node:assert/strict';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into instructions (joining `\` continuations, dropping comments) per stage. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (pending && line.startsWith('#')) return;
    if (!pending) startLine = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full)!;
    const ins = { keyword: m[1]!.toUpperCase(), args: m[2]!, line: startLine };
    if (ins.keyword === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      stages.push({ from: f[1]!, name: f[2], instructions: [] });
    } else {
      assert.ok(stages.length > 0, `line ${ins.line}: ${ins.keyword} before FROM`);
      stages.at(-1)!.instructions.push(ins);
    }
  });
  return stages;
}
